//! Series selectors: the boolean language over metric names and tags that
//! every query engine lowers its filters to.

use roaring::{MultiOps, RoaringTreemap};

use super::{OrgIndex, glob_match};
use crate::catalog::Catalog;
use crate::ids::SeriesId;
use crate::series::split_tag;
use crate::symbols::Sym;

/// Which series to read. Evaluated per org; never crosses orgs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every series of the org (Datadog's `*` scope).
    All,
    /// Series of this metric.
    Metric(String),
    /// Series whose metric matches a wildcard (`system.cpu.*`).
    MetricGlob(String),
    /// Series with this exact tag: `key:value` or a bare tag.
    Tag(String),
    /// Series with a tag matching a wildcard: `host:web-*`. When the key part
    /// has no `*`, only tags of that key are scanned.
    TagGlob(String),
    /// Series that have some value for this tag key (`host:*`).
    HasKey(String),
    /// Series not matched by the inner selector.
    Not(Box<Selector>),
    /// Series matched by every inner selector (none: all series).
    And(Vec<Selector>),
    /// Series matched by any inner selector (none: no series).
    Or(Vec<Selector>),
}

impl Selector {
    /// `metric{tags...}` with every tag required.
    pub fn metric_with_tags<S: AsRef<str>>(metric: &str, tags: &[S]) -> Self {
        let mut v = vec![Selector::Metric(metric.to_owned())];
        v.extend(tags.iter().map(|t| Selector::Tag(t.as_ref().to_owned())));
        Selector::And(v)
    }
}

pub(super) fn eval(idx: &OrgIndex, sel: &Selector, catalog: &Catalog) -> RoaringTreemap {
    eval_within(idx, sel, catalog, None)
}

/// True for selectors whose evaluation scans many postings lists (one per
/// matching metric or tag): [`Selector::And`] evaluates them last, within
/// what the other terms already selected.
fn is_scan(sel: &Selector) -> bool {
    matches!(
        sel,
        Selector::MetricGlob(_) | Selector::TagGlob(_) | Selector::HasKey(_)
    )
}

/// The series matching `sel`, or, when `within` is given, only those of
/// them inside `within` (the result is then `eval(sel) ∩ within`, computed
/// without building `eval(sel)` for the scanning selectors).
///
/// Unions of many postings lists go through roaring's multi-way union,
/// which merges them in one pass; or-ing them in one at a time re-copies
/// the growing result each time and was most of the cost of a query like
/// `{host:i-0*}` over 5 000 hosts (`MultiOps` instead: 2026-11-26).
///
/// A tag glob within fewer series than it has candidate tags is checked
/// series by series instead, against each one's tags in the catalog: a
/// query like `system.cpu.user{service:media,host:i-0*}` then reads the
/// tags of its 250 series rather than matching 5 000 host names and
/// intersecting 5 000 postings lists with them (scattered memory that a
/// busy machine has evicted between queries).
fn eval_within(
    idx: &OrgIndex,
    sel: &Selector,
    catalog: &Catalog,
    within: Option<&RoaringTreemap>,
) -> RoaringTreemap {
    let sy = catalog.symbols();
    let restrict = |bm: RoaringTreemap| match within {
        Some(w) => bm & w,
        None => bm,
    };
    // Union of the given postings, each first cut to `within`.
    let union = |lists: Vec<&RoaringTreemap>| -> RoaringTreemap {
        match within {
            None => lists.into_iter().union(),
            Some(w) => lists.into_iter().map(|bm| bm & w).union(),
        }
    };
    match sel {
        Selector::All => restrict(idx.all.clone()),
        Selector::Metric(m) => match sy.get(m).and_then(|s| idx.by_metric.get(&s)) {
            Some(bm) => match within {
                Some(w) => bm & w,
                None => bm.clone(),
            },
            None => RoaringTreemap::new(),
        },
        Selector::MetricGlob(p) => union(
            idx.by_metric
                .iter()
                .filter(|(m, _)| glob_match(p, sy.resolve(**m)))
                .map(|(_, bm)| bm)
                .collect(),
        ),
        Selector::Tag(t) => match sy.get(t).and_then(|s| idx.by_tag.get(&s)) {
            Some(bm) => match within {
                Some(w) => bm & w,
                None => bm.clone(),
            },
            None => RoaringTreemap::new(),
        },
        Selector::TagGlob(p) => {
            // The tags a scan would match `p` against: the values of its
            // key, or every tag when the key has a wildcard too.
            let candidates: Box<dyn ExactSizeIterator<Item = &Sym>> = match split_tag(p) {
                (key, Some(_)) if !key.contains('*') => {
                    match sy.get(key).and_then(|k| idx.tags_by_key.get(&k)) {
                        Some(tags) => Box::new(tags.iter()),
                        None => Box::new([].iter()),
                    }
                }
                _ => Box::new(idx.by_tag.keys()),
            };
            match within {
                Some(w) if w.len() < candidates.len() as u64 => {
                    let matches = |id: u64| {
                        catalog.get(SeriesId(id)).is_some_and(|(e, _)| {
                            e.tags.iter().any(|t| glob_match(p, sy.resolve(*t)))
                        })
                    };
                    RoaringTreemap::from_sorted_iter(w.iter().filter(|&id| matches(id)))
                        .expect("a treemap iterates in order")
                }
                _ => union(
                    candidates
                        .filter(|t| glob_match(p, sy.resolve(**t)))
                        .map(|t| &idx.by_tag[t])
                        .collect(),
                ),
            }
        }
        Selector::HasKey(k) => match sy.get(k).and_then(|k| idx.tags_by_key.get(&k)) {
            Some(tags) => union(tags.iter().map(|t| &idx.by_tag[t]).collect()),
            None => RoaringTreemap::new(),
        },
        Selector::Not(inner) => {
            let mut out = restrict(idx.all.clone());
            out -= eval_within(idx, inner, catalog, within);
            out
        }
        Selector::And(parts) => {
            // Direct postings first, intersected; then the scanning terms,
            // each only within what is left; negations are subtracted last.
            let mut acc: Option<RoaringTreemap> = within.cloned();
            let mut negs = Vec::new();
            let ordered = parts
                .iter()
                .filter(|p| !is_scan(p))
                .chain(parts.iter().filter(|p| is_scan(p)));
            for p in ordered {
                if let Selector::Not(inner) = p {
                    negs.push(inner.as_ref());
                    continue;
                }
                acc = Some(eval_within(idx, p, catalog, acc.as_ref()));
                if acc.as_ref().is_some_and(RoaringTreemap::is_empty) {
                    return RoaringTreemap::new();
                }
            }
            let mut acc = acc.unwrap_or_else(|| idx.all.clone());
            for n in negs {
                acc -= eval_within(idx, n, catalog, Some(&acc));
            }
            acc
        }
        Selector::Or(parts) => parts
            .iter()
            .map(|p| eval_within(idx, p, catalog, within))
            .union(),
    }
}
