//! The intake's series cache: which series id (and metric type) the bytes a
//! client sent for a series' identity resolved to last time.
//!
//! An Agent sends the same series every flush, byte for byte. Resolving it
//! the long way means normalising its name and tags into owned strings,
//! building a key, and looking the key up in the catalog; that, with its
//! allocations, was about a fifth of the server's CPU on the side-by-side
//! protobuf ingest (`whippet-intake-bench --protobuf`, perf, 2026-11-26).
//! With the cache a known series costs one digest of its identity bytes
//! and one probe here (see `whippet_dd_intake::SeriesIdent`).
//!
//! # Why a cached id stays right
//! A series id names the same key for as long as the data directory lives
//! (the catalog never drops an entry nor reuses an id; see
//! `Engine::ensure_types`), and the digest stands for the bytes the key was
//! built from, so an entry never goes stale. The metric type is metadata
//! that another intake path may change: the writer checks it against the
//! catalog for every known series of a request (`Engine::ensure_types`).
//!
//! # What it must never do
//! Hold anything the engine does not already know: an entry is added only
//! after the engine resolved the series. It is not persisted; a restart
//! starts empty and refills in one flush interval.

use hashbrown::HashTable;
use parking_lot::{RwLock, RwLockReadGuard};
use whippet_dd_intake::SeriesIdent;
use whippet_tsdb::{MetricType, OrgId, SeriesId};

/// Most entries before the cache is emptied and starts over. An entry takes
/// about 48 bytes, so the cache stays under ~60 MiB (with the table's
/// spare capacity) even for millions of series; emptying it costs one
/// normal resolve per series, spread over the next flush of each client.
const MAX_ENTRIES: usize = 1 << 20;

/// One remembered series.
#[derive(Clone, Copy)]
struct Entry {
    org: OrgId,
    ident: SeriesIdent,
    series: SeriesId,
    mtype: MetricType,
}

/// Series ids by (org, identity digest). Lock rule: taken for reading for
/// the length of one request's parse, for writing only to add the series
/// a request had to resolve; never held while calling the engine.
#[derive(Default)]
pub struct SeriesCache {
    table: RwLock<HashTable<Entry>>,
}

/// The digest is already uniformly distributed: its low bits are the hash.
fn hash_of(org: OrgId, ident: SeriesIdent) -> u64 {
    (ident as u64) ^ u64::from(org.0).rotate_left(32)
}

impl SeriesCache {
    /// A read view for one request.
    pub fn reader(&self) -> Reader<'_> {
        Reader(self.table.read())
    }

    /// Remembers what `(org, ident)` resolved to.
    pub fn insert(
        &self,
        items: impl IntoIterator<Item = (OrgId, SeriesIdent, SeriesId, MetricType)>,
    ) {
        let mut table = self.table.write();
        for (org, ident, series, mtype) in items {
            if table.len() >= MAX_ENTRIES {
                *table = HashTable::new();
            }
            let h = hash_of(org, ident);
            let e = Entry {
                org,
                ident,
                series,
                mtype,
            };
            match table.find_mut(h, |x| x.org == org && x.ident == ident) {
                Some(x) => *x = e,
                None => {
                    table.insert_unique(h, e, |x| hash_of(x.org, x.ident));
                }
            }
        }
    }

    /// Number of entries.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.read().len()
    }
}

/// A read lock on the cache.
pub struct Reader<'a>(RwLockReadGuard<'a, HashTable<Entry>>);

impl Reader<'_> {
    /// The series and type `(org, ident)` resolved to, if remembered.
    pub fn get(&self, org: OrgId, ident: SeriesIdent) -> Option<(SeriesId, MetricType)> {
        self.0
            .find(hash_of(org, ident), |x| x.org == org && x.ident == ident)
            .map(|x| (x.series, x.mtype))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_org_and_replaces() {
        let c = SeriesCache::default();
        let gauge = MetricType::Gauge;
        let count = MetricType::Count { interval_secs: 10 };
        c.insert([
            (OrgId(1), 7, SeriesId(3), gauge),
            (OrgId(2), 7, SeriesId(4), gauge),
        ]);
        let r = c.reader();
        assert_eq!(r.get(OrgId(1), 7), Some((SeriesId(3), gauge)));
        assert_eq!(r.get(OrgId(2), 7), Some((SeriesId(4), gauge)));
        assert_eq!(r.get(OrgId(3), 7), None);
        assert_eq!(r.get(OrgId(1), 8), None);
        drop(r);
        c.insert([(OrgId(1), 7, SeriesId(3), count)]);
        assert_eq!(c.reader().get(OrgId(1), 7), Some((SeriesId(3), count)));
        assert_eq!(c.len(), 2);
    }
}
