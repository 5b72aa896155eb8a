//! Recently compiled query texts and regexes, kept by their text.
//!
//! ## What it owns
//! A bounded map from a text to what was compiled from it ([`Compiled`]),
//! used for parsed queries ([`crate::errpos::parse_shared`]) and for
//! anchored Go regexes ([`crate::functions::goregex::anchored`]).
//! Dashboards ask the same few queries again at every refresh, and
//! compiling was most of a small query's time: `avg by (host)
//! (avg_over_time(m{host=~"i-04d.*"}[19999ms]))` over 5 series spent about
//! a fifth of its server CPU building the regex's DFA (twice: once in the
//! parser, once anchored), measured with `perf` on 2026-11-27.
//!
//! ## What it must never do
//! Change an answer: an entry is what compiling its text gives, nothing
//! is cached on failure, and what it holds is immutable (regexes and
//! expressions are only read once built).
//!
//! Written here rather than taken from a cache crate: all it needs is a
//! map under a mutex that is emptied when full, a dozen lines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Texts longer than this are compiled every time and never kept: a
/// generated query of many kilobytes is rarely asked twice, and keeping
/// them would let a few clients fill the memory bound below with text.
pub const MAX_TEXT_BYTES: usize = 4096;

/// A bounded map from text to a compiled value.
pub struct Compiled<V> {
    /// Lock rule: held only to look up, insert or clear, never while
    /// compiling (two threads may compile the same text at once; the
    /// second insert replaces the first with an equal value).
    map: Mutex<HashMap<Arc<str>, V>>,
    /// Entries kept before the map is emptied. Emptying everything is
    /// cruder than dropping the least recently used entry, but a
    /// dashboard's working set is far below any bound used here, so it
    /// happens only when many distinct texts arrive (generated queries),
    /// where nothing would be reused anyway.
    capacity: usize,
}

impl<V: Clone> Compiled<V> {
    /// An empty map that keeps at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Compiled {
            map: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The value compiled from `text`: the kept one, or `compile(text)`
    /// (kept when it succeeds and the text is short enough).
    pub fn get_or_compile<E>(
        &self,
        text: &str,
        compile: impl FnOnce(&str) -> Result<V, E>,
    ) -> Result<V, E> {
        if text.len() > MAX_TEXT_BYTES {
            return compile(text);
        }
        if let Some(v) = self.lock().get(text) {
            return Ok(v.clone());
        }
        let v = compile(text)?;
        let mut map = self.lock();
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(Arc::from(text), v.clone());
        Ok(v)
    }

    /// Entries kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, V>> {
        // A panic while holding the lock cannot leave the map half
        // changed (each operation is one call on it): keep using it.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn compiles_once_per_text_and_never_keeps_failures() {
        let c: Compiled<usize> = Compiled::new(8);
        let calls = Cell::new(0);
        let len = |t: &str| -> Result<usize, ()> {
            calls.set(calls.get() + 1);
            if t == "bad" { Err(()) } else { Ok(t.len()) }
        };
        assert_eq!(c.get_or_compile("abc", len), Ok(3));
        assert_eq!(c.get_or_compile("abc", len), Ok(3));
        assert_eq!(calls.get(), 1);
        assert_eq!(c.get_or_compile("bad", len), Err(()));
        assert_eq!(c.get_or_compile("bad", len), Err(()));
        assert_eq!(calls.get(), 3);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn stays_within_its_capacity_and_skips_long_texts() {
        let c: Compiled<usize> = Compiled::new(4);
        for i in 0..10 {
            let t = format!("q{i}");
            assert_eq!(c.get_or_compile(&t, |t| Ok::<_, ()>(t.len())), Ok(t.len()));
            assert!(c.len() <= 4);
        }
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        let before = c.len();
        assert_eq!(
            c.get_or_compile(&long, |t| Ok::<_, ()>(t.len())),
            Ok(long.len())
        );
        assert_eq!(c.len(), before);
    }
}
