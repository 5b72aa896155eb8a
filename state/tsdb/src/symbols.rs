//! String interning for metric names and tags.
//!
//! A fleet repeats the same few thousand strings (`env:prod`, `region:eu-1`)
//! across millions of series. The catalog and the tag index store a `u32`
//! symbol per string instead of the string, which is most of what keeps the
//! memory of an active series low.

use hashbrown::HashMap;

/// A symbol: the index of an interned string. Only meaningful for the
/// [`Symbols`] table that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

/// An append-only string table. Symbols are never freed: the set of metric
/// names and tags grows slowly, and a symbol must stay valid for as long as
/// any series refers to it.
#[derive(Debug, Default)]
pub struct Symbols {
    /// hashbrown's default hasher (foldhash, seeded per process), not std's
    /// SipHash: every tag of every series of every intake request is looked
    /// up here, and SipHash was a visible share of the protobuf ingest
    /// profile (2026-11-26).
    by_str: HashMap<Box<str>, Sym>,
    strs: Vec<Box<str>>,
}

impl Symbols {
    /// The symbol of `s`, interning it on first use.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.by_str.get(s) {
            return sym;
        }
        let sym = Sym(u32::try_from(self.strs.len()).expect("fewer than 2^32 distinct strings"));
        self.strs.push(s.into());
        self.by_str.insert(s.into(), sym);
        sym
    }

    /// The symbol of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.by_str.get(s).copied()
    }

    /// The string of `sym`.
    ///
    /// # Panics
    /// When `sym` was not issued by this table (a bug, not bad input).
    pub fn resolve(&self, sym: Sym) -> &str {
        &self.strs[sym.0 as usize]
    }

    /// Number of interned strings.
    pub fn len(&self) -> usize {
        self.strs.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.strs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable() {
        let mut s = Symbols::default();
        let a = s.intern("env:prod");
        let b = s.intern("host:a");
        assert_eq!(s.intern("env:prod"), a);
        assert_ne!(a, b);
        assert_eq!(s.resolve(b), "host:a");
        assert_eq!(s.get("nope"), None);
        assert_eq!(s.len(), 2);
    }
}
