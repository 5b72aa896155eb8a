//! The tag index: per org, postings lists from metric names and tags to
//! series ids, and the selectors evaluated over them.
//!
//! Postings are roaring bitmaps (`RoaringTreemap`, for 64-bit ids): series
//! ids are dense and assigned in order, so the bitmaps stay compact and
//! intersections and unions over millions of series take microseconds to
//! milliseconds. The index lives in memory and is rebuilt from the catalog on
//! open; it never touches disk itself.

mod glob;
mod groups;
mod selector;

pub use glob::glob_match;
pub use groups::{GroupLimits, TagGroup};
pub use selector::Selector;

use std::collections::HashMap;

use roaring::RoaringTreemap;

use crate::catalog::Catalog;
use crate::ids::{OrgId, SeriesId};
use crate::series::split_tag;
use crate::symbols::{Sym, Symbols};

/// The postings of one org.
#[derive(Default)]
pub struct OrgIndex {
    /// Every series of the org.
    all: RoaringTreemap,
    /// Metric name → series.
    by_metric: HashMap<Sym, RoaringTreemap>,
    /// Full tag (`host:web-1`, `canary`) → series.
    by_tag: HashMap<Sym, RoaringTreemap>,
    /// Tag key (`host`) → the full `key:value` tags with that key.
    tags_by_key: HashMap<Sym, Vec<Sym>>,
    /// Bare tags (no `:`).
    bare: Vec<Sym>,
}

/// The index of every org.
#[derive(Default)]
pub struct Index {
    orgs: HashMap<OrgId, OrgIndex>,
}

impl Index {
    /// Builds the index of every series in `catalog`.
    pub fn build(catalog: &mut Catalog) -> Self {
        let mut idx = Index::default();
        let series: Vec<(SeriesId, OrgId, Sym, Box<[Sym]>)> = catalog
            .iter()
            .map(|(id, e, _)| (id, e.org, e.metric, e.tags.clone()))
            .collect();
        for (id, org, metric, tags) in series {
            idx.add(catalog, id, org, metric, &tags);
        }
        idx
    }

    /// Adds a series. Tag keys are interned through `catalog`.
    pub fn add(
        &mut self,
        catalog: &mut Catalog,
        id: SeriesId,
        org: OrgId,
        metric: Sym,
        tags: &[Sym],
    ) {
        let oi = self.orgs.entry(org).or_default();
        oi.all.insert(id.0);
        oi.by_metric.entry(metric).or_default().insert(id.0);
        for &t in tags {
            let bm = oi.by_tag.entry(t).or_default();
            let new_tag = bm.is_empty();
            bm.insert(id.0);
            if new_tag {
                let tag = catalog.symbols().resolve(t).to_owned();
                match split_tag(&tag) {
                    (k, Some(_)) => {
                        let ks = catalog.intern(k);
                        oi.tags_by_key.entry(ks).or_default().push(t);
                    }
                    (_, None) => oi.bare.push(t),
                }
            }
        }
    }

    /// The index of `org`, if it has any series.
    pub fn org(&self, org: OrgId) -> Option<&OrgIndex> {
        self.orgs.get(&org)
    }

    /// Orgs that have series.
    pub fn orgs(&self) -> impl Iterator<Item = OrgId> + '_ {
        self.orgs.keys().copied()
    }
}

impl OrgIndex {
    /// Series matching `sel`.
    pub fn select(&self, sel: &Selector, catalog: &Catalog) -> RoaringTreemap {
        selector::eval(self, sel, catalog)
    }

    /// Metric names, sorted, optionally only those matching a glob.
    pub fn metrics(&self, symbols: &Symbols, pattern: Option<&str>) -> Vec<String> {
        let mut v: Vec<String> = self
            .by_metric
            .keys()
            .map(|s| symbols.resolve(*s))
            .filter(|m| pattern.is_none_or(|p| glob_match(p, m)))
            .map(str::to_owned)
            .collect();
        v.sort_unstable();
        v
    }

    /// Tag keys in use, sorted; with `within`, only keys of those series.
    pub fn tag_keys(&self, symbols: &Symbols, within: Option<&RoaringTreemap>) -> Vec<String> {
        let mut v: Vec<String> = self
            .tags_by_key
            .iter()
            .filter(|(_, tags)| match within {
                None => true,
                Some(w) => tags.iter().any(|t| self.by_tag[t].intersection_len(w) > 0),
            })
            .map(|(k, _)| symbols.resolve(*k).to_owned())
            .collect();
        v.sort_unstable();
        v
    }

    /// Values of tag key `key`, sorted; with `within`, only values of those series.
    pub fn tag_values(
        &self,
        symbols: &Symbols,
        key: &str,
        within: Option<&RoaringTreemap>,
    ) -> Vec<String> {
        let Some(tags) = symbols.get(key).and_then(|k| self.tags_by_key.get(&k)) else {
            return Vec::new();
        };
        let mut v: Vec<String> = tags
            .iter()
            .filter(|t| within.is_none_or(|w| self.by_tag[*t].intersection_len(w) > 0))
            .filter_map(|t| split_tag(symbols.resolve(*t)).1.map(str::to_owned))
            .collect();
        v.sort_unstable();
        v
    }

    /// Every full tag (`key:value` and bare) of the given series, sorted.
    pub fn tags_of(&self, symbols: &Symbols, within: &RoaringTreemap) -> Vec<String> {
        let mut v: Vec<String> = self
            .by_tag
            .iter()
            .filter(|(_, bm)| bm.intersection_len(within) > 0)
            .map(|(t, _)| symbols.resolve(*t).to_owned())
            .collect();
        v.sort_unstable();
        v
    }

    /// Number of series in the org.
    pub fn series_count(&self) -> u64 {
        self.all.len()
    }
}
