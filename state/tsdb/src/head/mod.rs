//! The head: points written since the last cut, held in memory per series.
//!
//! Each float series keeps an in-order run, encoded as it is appended (about
//! two bytes per point instead of sixteen; see [`float_run`]). A point older
//! than or equal to the series' newest point (a backfill, an import, a
//! duplicate) goes to an out-of-order buffer instead: the slower path, sorted
//! when the head is read or cut. Sketch series keep their points as given.
//!
//! The engine cuts the head when it is old or large enough: the head is
//! frozen (read-only, still visible to readers) and written as parts, one per
//! (org, day partition) it touches, and a fresh head takes the writes.
//!
//! Thread safety: a `Head` is plain data. The engine keeps the active head
//! behind its write lock and frozen heads behind `Arc` (never mutated again).

pub mod float_run;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

use crate::codec::CodecError;
use crate::ids::SeriesId;
use crate::runs::{merge_runs, sort_dedup_last};
use crate::sketch::Sketch;

use float_run::FloatRun;

/// Bytes an out-of-order point costs in memory (timestamp and value).
const RAW_POINT_BYTES: usize = 16;

/// Bytes the series map spends per entry it has room for: the entry itself
/// and hashbrown's control byte, over its load factor (a table of `b`
/// buckets holds at most `7b/8` entries, which is what `capacity()` reports).
fn map_bytes(capacity: usize) -> usize {
    capacity * 8 / 7 * (std::mem::size_of::<(SeriesId, HeadSeries)>() + 1)
}

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

/// The head data of one float series.
#[derive(Debug, Clone, Default)]
pub struct FloatHead {
    /// In-order points: each newer than the one before.
    pub run: FloatRun,
    /// Points that arrived out of order, in arrival order. Newer than the
    /// in-order run for equal timestamps (see [`FloatHead::push`]).
    pub ooo: Vec<(i64, f64)>,
}

impl FloatHead {
    /// Heap bytes held (by capacity, as the allocator sees them).
    fn heap_bytes(&self) -> usize {
        self.run.heap_bytes() + self.ooo.capacity() * RAW_POINT_BYTES
    }

    /// Appends a point; returns the change in memory use.
    ///
    /// A point goes to the in-order run only when it is newer than the run's
    /// newest point, so a point with a timestamp already in the run always
    /// lands in `ooo`, which is therefore the newer source for that timestamp.
    fn push(&mut self, ts: i64, v: f64) -> isize {
        let before = self.heap_bytes() as isize;
        if self.run.newest().is_none_or(|n| ts > n) {
            self.run.push(ts, v);
        } else {
            self.ooo.push((ts, v));
        }
        self.heap_bytes() as isize - before
    }

    /// Every point, sorted by timestamp, one per timestamp (the last written).
    pub fn materialize(&self, ts: &mut Vec<i64>, vals: &mut Vec<f64>) -> Result<(), CodecError> {
        ts.clear();
        vals.clear();
        self.run.decode_into(ts, vals)?;
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
        let mut lo = self.run.oldest().unwrap_or(i64::MAX);
        let mut hi = self.run.newest().unwrap_or(i64::MIN);
        for &(t, _) in &self.ooo {
            lo = lo.min(t);
            hi = hi.max(t);
        }
        (lo <= hi).then_some((lo, hi))
    }
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

impl HeadSeries {
    /// The timestamp of the newest point held, if any. Cheap for float
    /// series (the run keeps its last timestamp; only out-of-order points
    /// are scanned), linear in the points of a sketch series.
    pub fn newest(&self) -> Option<i64> {
        match self {
            HeadSeries::Float(f) => {
                let run = f.run.newest();
                let ooo = f.ooo.iter().map(|&(t, _)| t).max();
                run.max(ooo)
            }
            HeadSeries::Sketch(s) => s.points.iter().map(|&(t, _)| t).max(),
        }
    }
}

/// The points written since the last cut.
#[derive(Default)]
pub struct Head {
    series: IdMap<HeadSeries>,
    /// Approximate bytes held by the series' data (runs and out-of-order
    /// buffers by capacity, sketches at their encoded size); the map itself
    /// is added by [`Head::bytes`].
    data_bytes: usize,
    points: u64,
}

impl Head {
    /// An empty head.
    pub fn new() -> Self {
        Head::default()
    }

    /// An empty head whose series map already has room for `series` series,
    /// so that filling it does not rehash (each doubling briefly holds the
    /// old and the new table: 1.5 times the map's memory at the moment of
    /// the largest one).
    pub fn with_capacity(series: usize) -> Self {
        Head {
            series: IdMap::with_capacity_and_hasher(series, Default::default()),
            ..Head::default()
        }
    }

    /// Adds a float point.
    pub fn push_float(&mut self, id: SeriesId, ts: i64, v: f64) {
        self.push_floats(id, [(ts, v)]);
    }

    /// Adds float points of one series, in the order given: what
    /// [`Head::push_float`] does for each, with one lookup of the series
    /// instead of one per point. A write batch holds each series' points
    /// together (a request's series one after the other), and the lookup,
    /// a cache miss in a map of every active series, was most of the cost
    /// of pushing a point.
    pub fn push_floats(&mut self, id: SeriesId, points: impl IntoIterator<Item = (i64, f64)>) {
        let s = match self.series.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(HeadSeries::Float(FloatHead::default())),
        };
        if let HeadSeries::Float(f) = s {
            for (ts, v) in points {
                let d = f.push(ts, v);
                self.data_bytes = (self.data_bytes as isize + d).max(0) as usize;
                self.points += 1;
            }
        }
    }

    /// Adds a sketch point.
    pub fn push_sketch(&mut self, id: SeriesId, ts: i64, sk: &Sketch) {
        let s = match self.series.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(HeadSeries::Sketch(SketchHead::default())),
        };
        if let HeadSeries::Sketch(h) = s {
            self.data_bytes += 48 + sk.bins().len() * 12;
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

    /// Approximate bytes held by the points (runs, out-of-order buffers,
    /// sketches), without the series map.
    pub fn point_bytes(&self) -> usize {
        self.data_bytes
    }

    /// Approximate bytes held: the series map and the series' data.
    pub fn bytes(&self) -> usize {
        map_bytes(self.series.capacity()) + self.data_bytes
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
    fn in_order_points_are_compact_and_out_of_order_points_win_ties() {
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
        assert_eq!(f.run.len(), 300);
        assert_eq!(f.ooo.len(), 2);
        assert!(
            h.bytes() < 300 * 4 + map_bytes(h.series.capacity()) + 4 * RAW_POINT_BYTES,
            "the run is encoded: {}",
            h.bytes()
        );
        let (mut ts, mut vals) = (Vec::new(), Vec::new());
        f.materialize(&mut ts, &mut vals).unwrap();
        assert_eq!(ts.len(), 301);
        assert_eq!(ts[0], -10);
        assert_eq!(vals[ts.iter().position(|&t| t == 50).unwrap()], 99.0);
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(f.time_range(), Some((-10, 2990)));
    }

    #[test]
    fn a_run_of_points_is_stored_as_point_by_point() {
        // In order, a duplicate, an older point, a decimal change and a
        // second series: the batch path and the per-point path agree.
        let pts: Vec<(u64, i64, f64)> = (0..40)
            .map(|i| (1, i * 10, f64::from(i as i32) * 0.1))
            .chain([(1, 50, 7.0), (1, -5, 3.25), (2, 0, 1e300), (2, 10, -0.0)])
            .collect();
        let (mut one, mut batch) = (Head::new(), Head::new());
        for &(id, t, v) in &pts {
            one.push_float(SeriesId(id), t, v);
        }
        for run in pts.chunk_by(|a, b| a.0 == b.0) {
            batch.push_floats(SeriesId(run[0].0), run.iter().map(|&(_, t, v)| (t, v)));
        }
        assert_eq!(
            (one.points(), one.point_bytes(), one.series_count()),
            (batch.points(), batch.point_bytes(), batch.series_count())
        );
        for id in [1, 2] {
            let (HeadSeries::Float(a), HeadSeries::Float(b)) = (
                one.get(SeriesId(id)).unwrap(),
                batch.get(SeriesId(id)).unwrap(),
            ) else {
                panic!()
            };
            let read = |f: &FloatHead| {
                let (mut ts, mut vals) = (Vec::new(), Vec::new());
                f.materialize(&mut ts, &mut vals).unwrap();
                (ts, vals.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            };
            assert_eq!(read(a), read(b));
        }
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

    #[test]
    fn newest_sees_the_run_out_of_order_points_and_sketches() {
        let mut h = Head::new();
        h.push_float(SeriesId(1), 100, 1.0);
        h.push_float(SeriesId(1), 50, 2.0); // older: out of order
        assert_eq!(h.get(SeriesId(1)).unwrap().newest(), Some(100));
        h.push_float(SeriesId(1), 100, 3.0); // a duplicate of the newest
        assert_eq!(h.get(SeriesId(1)).unwrap().newest(), Some(100));
        let sk = Sketch::new();
        h.push_sketch(SeriesId(2), 30, &sk);
        h.push_sketch(SeriesId(2), 10, &sk);
        assert_eq!(h.get(SeriesId(2)).unwrap().newest(), Some(30));
        assert_eq!(HeadSeries::Float(FloatHead::default()).newest(), None);
    }
}
