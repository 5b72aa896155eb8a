//! A bounded cache of decoded float chunks, for aggregations.
//!
//! Decoding is most of the cost of an aggregation over merged data (the
//! pco decoder's set-up and entropy decoding, about 4 ns a point), and
//! dashboards ask the same questions again and again: every widget of a
//! board refreshes every minute over the same recent range, and several
//! widgets read the same metric. The cache keeps the *decoded columns* of
//! recently aggregated part chunks (timestamps as first and step when
//! regular, values as integer mantissas when decimal), so a repeated read
//! goes straight to the bucket loop. It is a cache of storage, not of
//! answers: every query is evaluated in full, only the decompression is
//! skipped, and a new or merged part is never stale (entries are keyed by
//! the identity of the part object, which is never reused).
//!
//! Eviction is CLOCK (second chance) over insertion order, by bytes: cheap
//! to maintain, close to LRU for this scan-heavy use. A hit takes the lock
//! shared and marks the entry with an atomic flag, so the threads of one
//! aggregation (and concurrent queries) look chunks up side by side; only
//! inserts and evictions take it exclusively. (One mutex made two threads
//! of a 5 000-series aggregation wait on each other: 3 % of its CPU in the
//! lock's slow path.)
//!
//! It must never hold head data (heads change) and never be consulted for
//! reads that merge overlapping sources (those decode as before).
//!
//! Lock: `state` is a leaf lock, taken with no engine lock held and never
//! held across a decode.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hashbrown::HashMap;
use parking_lot::RwLock;

use crate::codec::floats::Values;
use crate::codec::timestamps::Decoded;

use super::regular::Column as Regular;

/// A chunk: the unique id of the part object it is in and its offset.
pub(super) type Key = (u64, u64);

/// The decoded columns of one float chunk.
#[derive(Debug)]
pub(super) struct Column {
    /// Timestamps; when `Explicit`, they are in `ts`.
    pub decoded: Decoded,
    pub ts: Vec<i64>,
    /// Values: `Decimal` in `mantissas`, `Floats` in `floats`.
    pub values: Values,
    pub mantissas: Mantissas,
    pub floats: Vec<f64>,
}

/// Decimal mantissas, kept in 32 bits when every one fits (gauges with a
/// few decimals and most counters do): half the memory, so twice the
/// chunks in the same budget, and half the memory traffic of the bucket
/// loop, which is bound by it once decoding is gone.
#[derive(Debug)]
pub(super) enum Mantissas {
    Wide(Vec<i64>),
    Narrow(Vec<i32>),
}

impl Column {
    /// The columns a decode produced (`mantissas` as decoded).
    pub fn new(
        decoded: Decoded,
        ts: Vec<i64>,
        values: Values,
        mantissas: Vec<i64>,
        floats: Vec<f64>,
    ) -> Self {
        let mantissas = if mantissas.iter().all(|&m| i32::try_from(m).is_ok()) {
            Mantissas::Narrow(mantissas.iter().map(|&m| m as i32).collect())
        } else {
            Mantissas::Wide(mantissas)
        };
        Column {
            decoded,
            ts,
            values,
            mantissas,
            floats,
        }
    }

    /// The values as the bucket loop reads them.
    pub fn view(&self) -> Regular<'_> {
        match (self.values, &self.mantissas) {
            (Values::Const(c), _) => Regular::Const(c),
            (Values::Decimal { exp }, Mantissas::Wide(m)) => Regular::Decimal { mantissas: m, exp },
            (Values::Decimal { exp }, Mantissas::Narrow(m)) => {
                Regular::Decimal32 { mantissas: m, exp }
            }
            (Values::Floats, _) => Regular::Floats(&self.floats),
        }
    }

    /// Bytes of memory the entry holds, with a fixed allowance for the
    /// entry itself and its map and queue slots.
    fn bytes(&self) -> usize {
        const OVERHEAD: usize = 160;
        let m = match &self.mantissas {
            Mantissas::Wide(m) => 8 * m.len(),
            Mantissas::Narrow(m) => 4 * m.len(),
        };
        OVERHEAD + 8 * (self.ts.len() + self.floats.len()) + m
    }
}

struct Slot {
    col: Arc<Column>,
    /// Read since the clock hand last passed: spared once. Set under the
    /// shared lock by hits, cleared under the exclusive one by the hand.
    referenced: AtomicBool,
}

#[derive(Default)]
struct State {
    map: HashMap<Key, Slot>,
    /// Keys in insertion order; the clock hand is the front.
    order: VecDeque<Key>,
    bytes: usize,
}

/// The cache; capacity 0 turns it off.
pub(crate) struct ChunkCache {
    capacity: usize,
    state: RwLock<State>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ChunkCache {
    /// A cache holding at most `capacity` bytes of decoded columns.
    pub(super) fn new(capacity: usize) -> Self {
        ChunkCache {
            capacity,
            state: RwLock::new(State::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Whether the cache keeps anything.
    pub(super) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The columns of chunk `key`, if cached.
    pub(super) fn get(&self, key: Key) -> Option<Arc<Column>> {
        if !self.enabled() {
            return None;
        }
        let st = self.state.read();
        let Some(slot) = st.map.get(&key) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        // Read before writing: a hot entry's flag is already set, and a
        // store would bounce its cache line between the readers' cores.
        if !slot.referenced.load(Ordering::Relaxed) {
            slot.referenced.store(true, Ordering::Relaxed);
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(slot.col.clone())
    }

    /// Caches `col` as chunk `key` (replacing nothing: a chunk never
    /// changes) and returns it shared. A column larger than the whole cache
    /// is returned without being kept.
    pub(super) fn insert(&self, key: Key, col: Column) -> Arc<Column> {
        let col = Arc::new(col);
        let size = col.bytes();
        if !self.enabled() || size > self.capacity {
            return col;
        }
        let mut st = self.state.write();
        if let Some(slot) = st.map.get(&key) {
            return slot.col.clone();
        }
        while st.bytes + size > self.capacity {
            let Some(k) = st.order.pop_front() else { break };
            let spare = match st.map.get_mut(&k) {
                Some(slot) if slot.referenced.load(Ordering::Relaxed) => {
                    *slot.referenced.get_mut() = false;
                    true
                }
                _ => false,
            };
            if spare {
                st.order.push_back(k);
            } else if let Some(old) = st.map.remove(&k) {
                st.bytes -= old.col.bytes();
            }
        }
        st.bytes += size;
        st.order.push_back(key);
        st.map.insert(
            key,
            Slot {
                col: col.clone(),
                referenced: AtomicBool::new(false),
            },
        );
        col
    }

    /// Bytes held, hits and misses so far.
    pub(super) fn counters(&self) -> (u64, u64, u64) {
        let bytes = self.state.read().bytes as u64;
        (
            bytes,
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Bytes held and entries.
    #[cfg(test)]
    pub fn usage(&self) -> (usize, usize) {
        let st = self.state.read();
        (st.bytes, st.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(n: usize) -> Column {
        // Mantissas past 32 bits: kept wide, 8 bytes each.
        Column::new(
            Decoded::Regular { first: 0, step: 10 },
            Vec::new(),
            Values::Decimal { exp: 0 },
            vec![1 << 40; n],
            Vec::new(),
        )
    }

    #[test]
    fn keeps_what_fits_and_evicts_the_unreferenced_first() {
        // Each entry of 100 mantissas is 960 bytes; room for three.
        let c = ChunkCache::new(3 * 960);
        for k in 0..3 {
            c.insert((1, k), col(100));
        }
        assert_eq!(c.usage(), (3 * 960, 3));
        // Reading 0 spares it once; inserting 3 evicts 1, the oldest unread.
        assert!(c.get((1, 0)).is_some());
        c.insert((1, 3), col(100));
        assert!(c.get((1, 0)).is_some());
        assert!(c.get((1, 1)).is_none());
        assert!(c.get((1, 2)).is_some() && c.get((1, 3)).is_some());
        assert_eq!(c.usage(), (3 * 960, 3));
        assert!(matches!(&c.get((1, 3)).unwrap().mantissas, Mantissas::Wide(m) if m.len() == 100));
        // Hits: 0, 0, 2, 3, 3; misses: 1.
        let (bytes, hits, misses) = c.counters();
        assert_eq!((bytes, hits, misses), (3 * 960, 5, 1));
    }

    #[test]
    fn off_and_oversized_entries_are_not_kept() {
        let off = ChunkCache::new(0);
        let got = off.insert((1, 1), col(10));
        assert!(matches!(&got.mantissas, Mantissas::Wide(m) if m.len() == 10));
        assert!(off.get((1, 1)).is_none());
        let small = ChunkCache::new(500);
        small.insert((1, 1), col(100));
        assert_eq!(small.usage(), (0, 0));
    }

    #[test]
    fn small_mantissas_are_kept_in_32_bits_and_read_the_same() {
        let m = vec![i64::from(i32::MIN), -5, 0, 7, i64::from(i32::MAX)];
        let narrow = Column::new(
            Decoded::Explicit,
            vec![1, 2, 3, 4, 5],
            Values::Decimal { exp: 2 },
            m.clone(),
            Vec::new(),
        );
        assert!(matches!(narrow.mantissas, Mantissas::Narrow(_)));
        assert_eq!(narrow.bytes(), 160 + 8 * 5 + 4 * 5);
        let wide = Regular::Decimal {
            mantissas: &m,
            exp: 2,
        };
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        assert_eq!(
            bits(narrow.view().materialize(5)),
            bits(wide.materialize(5))
        );
        let big = Column::new(
            Decoded::Explicit,
            Vec::new(),
            Values::Decimal { exp: 0 },
            vec![1 << 31],
            Vec::new(),
        );
        assert!(matches!(big.mantissas, Mantissas::Wide(_)));
    }

    #[test]
    fn a_second_insert_of_a_key_shares_the_first() {
        let c = ChunkCache::new(10_000);
        let a = c.insert((2, 5), col(10));
        let b = c.insert((2, 5), col(10));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(c.usage().1, 1);
    }
}
