//! The PromQL labels of stored series, kept by series id.
//!
//! ## What it owns
//! [`LabelMemo`]: the answer of [`names::labels_of`] for series already
//! seen, and the same labels without `__name__` (what functions and
//! aggregations answer), shared by every query of one
//! [`crate::PromEngine`]. Building a
//! series' labels (the name rule, sorting, one string per name and value)
//! was the largest cost of a query over many series after reading them:
//! 15 % of `avg by (region) (avg_over_time(m[19999ms]))` over 500 series
//! (`perf`, 2026-11-27). Labels are shared by reference count, so a kept
//! entry costs nothing to hand out.
//!
//! ## Why an id is enough
//! A series id names the same key for as long as the data directory
//! lives (the catalog never reuses an id nor changes its key), and a memo
//! belongs to one engine, so an entry never goes stale.
//!
//! ## What it must never do
//! Answer other labels than [`names::labels_of`] would, or grow without
//! bound.

use std::collections::HashMap;
use std::sync::RwLock;

use whippet_tsdb::{SeriesId, SeriesKey};

use crate::names;
use crate::value::Labels;

/// Series whose labels are kept. A series' two label sets take about a
/// kilobyte (seven labels of short names and values, twice), so the memo
/// stays under about 40 MiB; that covers every series of a 5 000-host
/// fleet's busiest metrics, and queries over more series than this spend
/// far longer reading points than building labels.
pub const KEPT_SERIES: usize = 32_768;

/// A series' labels as PromQL shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// With `__name__` ([`names::labels_of`]).
    pub full: Labels,
    /// Without it ([`Labels::without_name`] of `full`).
    pub bare: Labels,
}

impl Shown {
    fn of(key: &SeriesKey) -> Shown {
        let full = names::labels_of(key);
        Shown {
            bare: full.without_name(),
            full,
        }
    }
}

/// The labels of series already seen. See the module doc.
#[derive(Default)]
pub struct LabelMemo {
    /// Lock rule: read to look up, written only to insert a batch of
    /// labels built without it; emptied when [`KEPT_SERIES`] would be
    /// exceeded (cruder than evicting one at a time, and only reached by
    /// queries over more series than are kept, whose labels would evict
    /// each other anyway).
    map: RwLock<HashMap<SeriesId, Shown>>,
}

impl LabelMemo {
    /// An empty memo.
    pub fn new() -> LabelMemo {
        LabelMemo::default()
    }

    /// The labels of each series, in order: kept ones, and the others
    /// built with [`names::labels_of`] (and kept).
    pub fn labels_of<'k>(
        &self,
        series: impl ExactSizeIterator<Item = (SeriesId, &'k SeriesKey)>,
    ) -> Vec<Shown> {
        let mut out: Vec<Option<Shown>> = Vec::with_capacity(series.len());
        let mut missing: Vec<(usize, SeriesId, &'k SeriesKey)> = Vec::new();
        {
            let map = self.map.read().unwrap_or_else(|p| p.into_inner());
            for (i, (id, key)) in series.enumerate() {
                let kept = map.get(&id).cloned();
                if kept.is_none() {
                    missing.push((i, id, key));
                }
                out.push(kept);
            }
        }
        if !missing.is_empty() {
            let built: Vec<(SeriesId, Shown)> = missing
                .iter()
                .map(|&(i, id, key)| {
                    let l = Shown::of(key);
                    out[i] = Some(l.clone());
                    (id, l)
                })
                .collect();
            let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
            if map.len() + built.len() > KEPT_SERIES {
                map.clear();
            }
            if built.len() <= KEPT_SERIES {
                map.extend(built);
            }
        }
        out.into_iter()
            .map(|l| l.expect("every series has labels"))
            .collect()
    }

    /// Series whose labels are kept now.
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when no series' labels are kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whippet_tsdb::{OrgId, TagSet};

    fn key(metric: &str, tags: &[&str]) -> SeriesKey {
        SeriesKey::float(OrgId(1), metric, TagSet::new(tags.iter().copied()))
    }

    #[test]
    fn answers_what_the_name_rule_builds_and_keeps_it() {
        let memo = LabelMemo::new();
        let a = key("system.cpu.user", &["host:web-1", "role:db", "role:cache"]);
        let b = key("b", &["x:1"]);
        let first = memo.labels_of([(SeriesId(1), &a), (SeriesId(2), &b)].into_iter());
        assert_eq!(first[0].full, names::labels_of(&a));
        assert_eq!(first[1].full, names::labels_of(&b));
        assert_eq!(first[0].bare, names::labels_of(&a).without_name());
        assert_eq!(first[0].bare.get(crate::value::METRIC_NAME), None);
        assert_eq!(memo.len(), 2);
        // A kept entry is handed out as is: the same shared labels.
        let again = memo.labels_of([(SeriesId(2), &b), (SeriesId(1), &a)].into_iter());
        assert_eq!(again, vec![first[1].clone(), first[0].clone()]);
        assert!(std::ptr::eq(again[1].full.pairs(), first[0].full.pairs()));
    }

    #[test]
    fn stays_within_its_bound() {
        let memo = LabelMemo::new();
        let keys: Vec<SeriesKey> = (0..3).map(|i| key("m", &[&format!("i:{i}")])).collect();
        for round in 0..(KEPT_SERIES / 3 + 2) {
            let base = (round * 3) as u64;
            let batch = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (SeriesId(base + i as u64 + 1), k));
            assert_eq!(memo.labels_of(batch).len(), 3);
            assert!(memo.len() <= KEPT_SERIES);
        }
    }
}
