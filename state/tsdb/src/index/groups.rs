//! Series grouped by the values of one tag key: for each value of `host`,
//! the series that carry it, the other tags they carry and their metric
//! names. What a hosts list or a tag explorer needs, computed on symbols
//! under one look at the index instead of one selector per value.
//!
//! # What it must never do
//! Return strings without a bound: a value whose series carry thousands of
//! distinct tags (a container id per series) or metric names gives the
//! first [`GroupLimits`] of them, in string order, and says how many there
//! were.

use crate::catalog::Catalog;
use crate::ids::SeriesId;
use crate::series::split_tag;
use crate::symbols::{Sym, Symbols};

use super::OrgIndex;

/// How much of each group [`OrgIndex::groups`] spells out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLimits {
    /// Most tags listed per group ([`TagGroup::tags`]).
    pub max_tags: usize,
    /// Most metric names listed per group ([`TagGroup::metrics`]).
    pub max_metrics: usize,
}

/// The series that carry one value of a tag key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagGroup {
    /// The value (`web-1` for the tag `host:web-1`).
    pub value: String,
    /// The series carrying `key:value`, sorted by id.
    pub series: Vec<SeriesId>,
    /// The union of those series' tags without the tags of the grouping
    /// key itself, sorted, at most [`GroupLimits::max_tags`] of them.
    pub tags: Vec<String>,
    /// How many distinct tags there were before the cut.
    pub tag_count: usize,
    /// Metric names of those series, sorted, at most
    /// [`GroupLimits::max_metrics`] of them.
    pub metrics: Vec<String>,
    /// How many distinct metric names there were before the cut.
    pub metric_count: usize,
}

impl OrgIndex {
    /// One group per value of tag key `key` in the org, sorted by value. A
    /// series carrying two values of the key (`host:a` and `host:b`) is in
    /// both groups.
    ///
    /// Cost: one pass over the catalog entries of the series that carry the
    /// key, on symbols; strings are only made for each group's distinct
    /// tags and metrics (100 000 series of 5 000 hosts: a few tens of
    /// milliseconds).
    pub fn groups(&self, catalog: &Catalog, key: &str, limits: GroupLimits) -> Vec<TagGroup> {
        let sy = catalog.symbols();
        let Some(key_tags) = sy.get(key).and_then(|k| self.tags_by_key.get(&k)) else {
            return Vec::new();
        };
        // Reused between groups.
        let (mut tag_buf, mut metric_buf): (Vec<Sym>, Vec<Sym>) = (Vec::new(), Vec::new());
        let mut groups: Vec<TagGroup> = key_tags
            .iter()
            .filter_map(|t| {
                let value = split_tag(sy.resolve(*t)).1?.to_owned();
                let postings = self.by_tag.get(t)?;
                let mut series = Vec::with_capacity(postings.len() as usize);
                tag_buf.clear();
                metric_buf.clear();
                for id in postings.iter().map(SeriesId) {
                    series.push(id);
                    if let Some((e, _)) = catalog.get(id) {
                        metric_buf.push(e.metric);
                        tag_buf.extend_from_slice(&e.tags);
                    }
                }
                let (tags, tag_count) = spell(
                    sy,
                    &mut tag_buf,
                    limits.max_tags,
                    |t| !matches!(split_tag(t), (k, Some(_)) if k == key),
                );
                let (metrics, metric_count) =
                    spell(sy, &mut metric_buf, limits.max_metrics, |_| true);
                Some(TagGroup {
                    value,
                    series,
                    tags,
                    tag_count,
                    metrics,
                    metric_count,
                })
            })
            .collect();
        groups.sort_unstable_by(|a, b| a.value.cmp(&b.value));
        groups
    }
}

/// The strings of the distinct symbols of `syms` that `keep` accepts,
/// sorted, cut to `max`; and how many there were before the cut. `syms` is
/// sorted and deduplicated in place (a buffer the caller reuses).
fn spell(
    sy: &Symbols,
    syms: &mut Vec<Sym>,
    max: usize,
    keep: impl Fn(&str) -> bool,
) -> (Vec<String>, usize) {
    syms.sort_unstable();
    syms.dedup();
    let mut out: Vec<&str> = syms
        .iter()
        .map(|&s| sy.resolve(s))
        .filter(|s| keep(s))
        .collect();
    let n = out.len();
    out.sort_unstable();
    out.truncate(max);
    (out.into_iter().map(str::to_owned).collect(), n)
}
