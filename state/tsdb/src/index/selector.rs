//! Series selectors: the boolean language over metric names and tags that
//! every query engine lowers its filters to.

use roaring::RoaringTreemap;

use super::{OrgIndex, glob_match};
use crate::series::split_tag;
use crate::symbols::Symbols;

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

pub(super) fn eval(idx: &OrgIndex, sel: &Selector, sy: &Symbols) -> RoaringTreemap {
    match sel {
        Selector::All => idx.all.clone(),
        Selector::Metric(m) => sy
            .get(m)
            .and_then(|s| idx.by_metric.get(&s))
            .cloned()
            .unwrap_or_default(),
        Selector::MetricGlob(p) => {
            let mut out = RoaringTreemap::new();
            for (m, bm) in &idx.by_metric {
                if glob_match(p, sy.resolve(*m)) {
                    out |= bm;
                }
            }
            out
        }
        Selector::Tag(t) => sy
            .get(t)
            .and_then(|s| idx.by_tag.get(&s))
            .cloned()
            .unwrap_or_default(),
        Selector::TagGlob(p) => {
            let mut out = RoaringTreemap::new();
            match split_tag(p) {
                (key, Some(_)) if !key.contains('*') => {
                    if let Some(tags) = sy.get(key).and_then(|k| idx.tags_by_key.get(&k)) {
                        for t in tags {
                            if glob_match(p, sy.resolve(*t)) {
                                out |= &idx.by_tag[t];
                            }
                        }
                    }
                }
                _ => {
                    for (t, bm) in &idx.by_tag {
                        if glob_match(p, sy.resolve(*t)) {
                            out |= bm;
                        }
                    }
                }
            }
            out
        }
        Selector::HasKey(k) => {
            let mut out = RoaringTreemap::new();
            if let Some(tags) = sy.get(k).and_then(|k| idx.tags_by_key.get(&k)) {
                for t in tags {
                    out |= &idx.by_tag[t];
                }
            }
            out
        }
        Selector::Not(inner) => {
            let mut out = idx.all.clone();
            out -= eval(idx, inner, sy);
            out
        }
        Selector::And(parts) => {
            // Evaluate positive terms first and intersect; subtract negations.
            let mut acc: Option<RoaringTreemap> = None;
            let mut negs = Vec::new();
            for p in parts {
                if let Selector::Not(inner) = p {
                    negs.push(inner.as_ref());
                    continue;
                }
                let bm = eval(idx, p, sy);
                acc = Some(match acc {
                    None => bm,
                    Some(a) => a & bm,
                });
                if acc.as_ref().is_some_and(RoaringTreemap::is_empty) {
                    return RoaringTreemap::new();
                }
            }
            let mut acc = acc.unwrap_or_else(|| idx.all.clone());
            for n in negs {
                acc -= eval(idx, n, sy);
            }
            acc
        }
        Selector::Or(parts) => {
            let mut out = RoaringTreemap::new();
            for p in parts {
                out |= eval(idx, p, sy);
            }
            out
        }
    }
}
