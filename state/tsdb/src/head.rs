//! The head: points written since the last cut, held in memory per series.
//!
//! Each float series keeps an in-order run: sealed, compressed chunks of
//! [`SEAL_POINTS`] points (the same column codecs as the on-disk blocks) and a
//! short raw tail. A point older than or equal to the series' newest point
//! (a backfill, an import, a duplicate) goes to an out-of-order buffer
//! instead: the slower path, sorted when the head is read or cut. Sketch
//! series keep their points as given.
//!
//! The engine cuts the head when it is old or large enough: the head is
//! frozen (read-only, still visible to readers) and written as parts, one per
//! (org, day partition) it touches, and a fresh head takes the writes.
//!
//! Thread safety: a `Head` is plain data. The engine keeps the active head
//! behind its write lock and frozen heads behind `Arc` (never mutated again).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::codec::varint::Reader;
use crate::codec::{CodecError, Effort, floats, timestamps};
use crate::ids::SeriesId;
use crate::runs::{merge_runs, sort_dedup_last};
use crate::sketch::Sketch;

/// Points per sealed in-memory chunk. 120 points is 20 minutes at a 10 s
/// interval: long enough that the codecs compress well (about 1 byte per
/// point instead of 16), short enough that the raw tail stays small.
pub const SEAL_POINTS: usize = 120;

/// Bytes a raw point costs in memory (timestamp and value).
const RAW_POINT_BYTES: usize = 16;

/// Bytes a series costs in a head before its points: its map entry (key and
/// `HeadSeries`, about 104 bytes) plus the map's spare capacity (hashbrown
/// keeps the table at most 7/8 full and doubles it, so about a quarter more
/// on average). Measured with a counting allocator: 265 bytes for a series
/// holding 6 points, of which 128 are the points' buffer.
const SERIES_OVERHEAD_BYTES: usize = 136;

/// A hasher for series ids, which are already well spread: identity.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Multiply by a large odd constant so that dense ids spread over the
        // table's high bits, which hashbrown uses for its control bytes.
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A map keyed by series id.
pub type IdMap<V> = HashMap<SeriesId, V, BuildHasherDefault<IdHasher>>;

/// A sealed, compressed run of in-order points.
#[derive(Debug, Clone)]
pub struct SealedChunk {
    /// First timestamp.
    pub min_ts: i64,
    /// Last timestamp.
    pub max_ts: i64,
    /// Number of points.
    pub n: u32,
    /// Timestamp column then value column, as in a block chunk.
    pub data: Arc<[u8]>,
}

impl SealedChunk {
    fn encode(ts: &[i64], vals: &[f64], scratch: &mut Vec<i64>) -> Self {
        let mut data = Vec::with_capacity(ts.len() * 2);
        timestamps::encode(ts, &mut data, Effort::Fast);
        floats::encode(vals, &mut data, scratch, Effort::Fast);
        SealedChunk {
            min_ts: ts[0],
            max_ts: *ts.last().expect("non-empty"),
            n: ts.len() as u32,
            data: data.into(),
        }
    }

    /// Decodes the chunk into `ts`/`vals` (cleared first).
    pub fn decode(
        &self,
        ts: &mut Vec<i64>,
        vals: &mut Vec<f64>,
        scratch: &mut Vec<i64>,
    ) -> Result<(), CodecError> {
        let mut r = Reader::new(&self.data);
        timestamps::decode(&mut r, self.n as usize, ts)?;
        floats::decode(&mut r, self.n as usize, vals, scratch)
    }
}

/// The head data of one float series.
#[derive(Debug, Clone, Default)]
pub struct FloatHead {
    /// Sealed in-order chunks, oldest first; each chunk's points are newer
    /// than the previous chunk's.
    pub chunks: Vec<SealedChunk>,
    /// In-order raw points after the last chunk. Timestamp and value side by
    /// side: one cache line per append, not two.
    pub tail: Vec<(i64, f64)>,
    /// Points that arrived out of order, in arrival order. Newer than the
    /// in-order run for equal timestamps (see [`FloatHead::push`]).
    pub ooo: Vec<(i64, f64)>,
}

impl FloatHead {
    fn newest(&self) -> Option<i64> {
        self.tail
            .last()
            .map(|p| p.0)
            .or_else(|| self.chunks.last().map(|c| c.max_ts))
    }

    /// Heap bytes held by the raw buffers (by capacity, as the allocator
    /// sees them).
    fn raw_bytes(&self) -> usize {
        (self.tail.capacity() + self.ooo.capacity()) * RAW_POINT_BYTES
    }

    /// Appends a point; returns the change in memory use.
    ///
    /// A point goes to the in-order run only when it is newer than the run's
    /// newest point, so a point with a timestamp already in the run always
    /// lands in `ooo`, which is therefore the newer source for that timestamp.
    fn push(&mut self, ts: i64, v: f64, s: &mut SealScratch) -> isize {
        let before = self.raw_bytes() as isize;
        if self.newest().is_none_or(|n| ts > n) {
            self.tail.push((ts, v));
            if self.tail.len() >= SEAL_POINTS {
                s.ts.clear();
                s.vals.clear();
                s.ts.extend(self.tail.iter().map(|p| p.0));
                s.vals.extend(self.tail.iter().map(|p| p.1));
                let c = SealedChunk::encode(&s.ts, &s.vals, &mut s.ints);
                let chunk_bytes = c.data.len() as isize;
                self.chunks.push(c);
                // Give the buffer back: a series that sealed once is fast or
                // backfilling, and its next tail grows again as needed.
                self.tail = Vec::new();
                return self.raw_bytes() as isize - before + chunk_bytes;
            }
        } else {
            self.ooo.push((ts, v));
        }
        self.raw_bytes() as isize - before
    }

    /// Every point, sorted by timestamp, one per timestamp (the last written).
    pub fn materialize(
        &self,
        ts: &mut Vec<i64>,
        vals: &mut Vec<f64>,
        scratch: &mut Vec<i64>,
    ) -> Result<(), CodecError> {
        ts.clear();
        vals.clear();
        let (mut cts, mut cvals) = (Vec::new(), Vec::new());
        for c in &self.chunks {
            c.decode(&mut cts, &mut cvals, scratch)?;
            ts.extend_from_slice(&cts);
            vals.extend_from_slice(&cvals);
        }
        ts.extend(self.tail.iter().map(|p| p.0));
        vals.extend(self.tail.iter().map(|p| p.1));
        if self.ooo.is_empty() {
            return Ok(());
        }
        let mut ooo = self.ooo.clone();
        sort_dedup_last(&mut ooo);
        let (ots, ovals): (Vec<i64>, Vec<f64>) = ooo.into_iter().unzip();
        let main_ts = std::mem::take(ts);
        let main_vals = std::mem::take(vals);
        merge_runs(&[(&main_ts, &main_vals), (&ots, &ovals)], ts, vals);
        Ok(())
    }

    /// Smallest and largest timestamp held.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        if let Some(c) = self.chunks.first() {
            lo = lo.min(c.min_ts);
        }
        if let Some(n) = self.newest() {
            hi = hi.max(n);
        }
        if let Some(p) = self.tail.first() {
            lo = lo.min(p.0);
        }
        for &(t, _) in &self.ooo {
            lo = lo.min(t);
            hi = hi.max(t);
        }
        (lo <= hi).then_some((lo, hi))
    }
}

/// Buffers reused when sealing chunks.
#[derive(Default)]
struct SealScratch {
    ts: Vec<i64>,
    vals: Vec<f64>,
    ints: Vec<i64>,
}

/// The head data of one sketch series: points in arrival order.
#[derive(Debug, Clone, Default)]
pub struct SketchHead {
    /// (timestamp, sketch) in arrival order.
    pub points: Vec<(i64, Sketch)>,
}

impl SketchHead {
    /// Every point, sorted by timestamp, one per timestamp (the last written).
    pub fn materialize(&self) -> (Vec<i64>, Vec<Sketch>) {
        let mut p = self.points.clone();
        sort_dedup_last(&mut p);
        p.into_iter().unzip()
    }
}

/// One series in the head.
#[derive(Debug, Clone)]
pub enum HeadSeries {
    /// Gauge, count or rate.
    Float(FloatHead),
    /// Distribution.
    Sketch(SketchHead),
}

/// The points written since the last cut.
#[derive(Default)]
pub struct Head {
    series: IdMap<HeadSeries>,
    /// Approximate bytes held (raw points at 16 bytes, sealed chunks at their
    /// encoded size, sketches at their encoded size).
    bytes: usize,
    points: u64,
    scratch: SealScratch,
}

impl Head {
    /// An empty head.
    pub fn new() -> Self {
        Head::default()
    }

    /// Adds a float point.
    pub fn push_float(&mut self, id: SeriesId, ts: i64, v: f64) {
        let s = match self.series.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                self.bytes += SERIES_OVERHEAD_BYTES;
                v.insert(HeadSeries::Float(FloatHead::default()))
            }
        };
        if let HeadSeries::Float(f) = s {
            let d = f.push(ts, v, &mut self.scratch);
            self.bytes = (self.bytes as isize + d).max(0) as usize;
            self.points += 1;
        }
    }

    /// Adds a sketch point.
    pub fn push_sketch(&mut self, id: SeriesId, ts: i64, sk: &Sketch) {
        let s = match self.series.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                self.bytes += SERIES_OVERHEAD_BYTES;
                v.insert(HeadSeries::Sketch(SketchHead::default()))
            }
        };
        if let HeadSeries::Sketch(h) = s {
            self.bytes += 48 + sk.bins().len() * 12;
            h.points.push((ts, sk.clone()));
            self.points += 1;
        }
    }

    /// The data of one series.
    pub fn get(&self, id: SeriesId) -> Option<&HeadSeries> {
        self.series.get(&id)
    }

    /// Every series, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (SeriesId, &HeadSeries)> {
        self.series.iter().map(|(k, v)| (*k, v))
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Points written (duplicates included).
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Number of series with points.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_points_seal_and_out_of_order_points_win_ties() {
        let mut h = Head::new();
        let id = SeriesId(1);
        for i in 0..300 {
            h.push_float(id, i * 10, i as f64 * 0.5);
        }
        h.push_float(id, 50, 99.0); // duplicate timestamp: last write wins
        h.push_float(id, -10, 1.0); // older than everything
        let HeadSeries::Float(f) = h.get(id).unwrap() else {
            panic!()
        };
        assert_eq!(f.chunks.len(), 2);
        assert_eq!(f.tail.len(), 60);
        assert_eq!(f.ooo.len(), 2);
        assert!(
            h.bytes() < 300 * RAW_POINT_BYTES,
            "sealed chunks are compressed: {}",
            h.bytes()
        );
        let (mut ts, mut vals, mut s) = (Vec::new(), Vec::new(), Vec::new());
        f.materialize(&mut ts, &mut vals, &mut s).unwrap();
        assert_eq!(ts.len(), 301);
        assert_eq!(ts[0], -10);
        assert_eq!(vals[ts.iter().position(|&t| t == 50).unwrap()], 99.0);
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(f.time_range(), Some((-10, 2990)));
    }

    #[test]
    fn sketch_points_dedup_by_last_arrival() {
        let mut h = Head::new();
        let mut a = Sketch::new();
        a.insert(1.0);
        let mut b = Sketch::new();
        b.insert(2.0);
        h.push_sketch(SeriesId(2), 10, &a);
        h.push_sketch(SeriesId(2), 10, &b);
        h.push_sketch(SeriesId(2), 0, &a);
        let HeadSeries::Sketch(s) = h.get(SeriesId(2)).unwrap() else {
            panic!()
        };
        let (ts, sk) = s.materialize();
        assert_eq!(ts, [0, 10]);
        assert_eq!(sk[1], b);
    }
}
