//! The read path: select series, take a consistent snapshot, stream each
//! series' points, and aggregate them into time buckets without keeping
//! every raw point.

use std::borrow::Cow;
use std::sync::Arc;

use super::chunk_cache::{ChunkCache, Column};
use super::regular;
use super::{Engine, FrozenHead};
use crate::block::ChunkRef;
use crate::block::Part;
use crate::codec::timestamps::{Decoded, fill_regular};
use crate::error::{Error, Result};
use crate::head::{FloatHead, HeadSeries, IdMap};
use crate::ids::{OrgId, SeriesId};
use crate::index::{GroupLimits, Selector, TagGroup};
use crate::runs::merge_runs;
use crate::series::{MetricType, SeriesKey, ValueKind};
use crate::sketch::Sketch;
use crate::time::PartitionId;

/// Most buckets one aggregation may produce per series. A graph needs a few
/// hundred; a million (8 MB per series row) means the step was forgotten.
pub const MAX_BUCKETS: usize = 1 << 20;

/// Fewest points (estimated at one per 10 s per series) worth a thread of
/// their own in [`ReadView::aggregate`]: about a millisecond of decoding and
/// aggregating, against the 30-60 µs of spawning and joining a thread. A
/// 100-series graph of two hours stays on one thread; 5 000 series of two
/// hours use every core.
const MIN_POINTS_PER_THREAD: u64 = 100_000;

/// A selected series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesMeta {
    /// Its id.
    pub id: SeriesId,
    /// Its identity (metric, tags).
    pub key: SeriesKey,
    /// Its metric type.
    pub mtype: MetricType,
}

/// How points in one time bucket are reduced to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    /// Mean of the values.
    Avg,
    /// Sum of the values.
    Sum,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Number of values.
    Count,
    /// The value with the latest timestamp.
    Last,
}

impl Agg {
    /// Every aggregation, for callers (and tests) that go through all.
    pub const ALL: [Agg; 6] = [
        Agg::Avg,
        Agg::Sum,
        Agg::Min,
        Agg::Max,
        Agg::Count,
        Agg::Last,
    ];
}

/// A consistent snapshot of the selected series over `[start, end)`.
///
/// Taken under the engine's locks in one go: later writes, cuts, flushes and
/// merges do not change what it returns. Holding it keeps the parts it uses
/// alive (even if merged away or expired meanwhile), so drop it when done.
pub struct ReadView {
    series: Vec<SeriesMeta>,
    /// Parts of the org's partitions that overlap the range, oldest
    /// sequence first within each partition.
    parts: Vec<Arc<Part>>,
    frozen: Vec<Arc<FrozenHead>>,
    /// Copies of the active head's data for the selected series.
    active: IdMap<HeadSeries>,
    start: i64,
    end: i64,
    /// The engine's decoded-chunk cache.
    cache: Arc<ChunkCache>,
}

/// Reusable buffers for reading; one per thread.
#[derive(Default)]
pub struct ReadBuffers {
    ts: Vec<i64>,
    sk: Vec<Sketch>,
    runs_ts: Vec<Vec<i64>>,
    runs_f: Vec<Vec<f64>>,
    runs_sk: Vec<Vec<Sketch>>,
    out_ts: Vec<i64>,
    out_f: Vec<f64>,
    out_sk: Vec<Sketch>,
    scratch: Vec<i64>,
    /// Per part of the view, where the last search of its series table
    /// ended (see [`Part::chunks_from`]): series are read in id order, so
    /// each search starts where the previous one left off.
    cursors: Vec<usize>,
}

impl Engine {
    /// Series of `org` matching `sel`, sorted by id.
    pub fn select(&self, org: OrgId, sel: &Selector) -> Vec<SeriesId> {
        let reg = self.inner.registry.read();
        match reg.index.org(org) {
            Some(oi) => oi.select(sel, &reg.catalog).iter().map(SeriesId).collect(),
            None => Vec::new(),
        }
    }

    /// Takes a snapshot of the series of `org` matching `sel` over
    /// `[start, end)` (milliseconds). Points older than the org's retention
    /// are never returned, even before retention has removed them.
    pub fn read(&self, org: OrgId, sel: &Selector, start: i64, end: i64) -> Result<ReadView> {
        let inner = &self.inner;
        let oldest = inner
            .config
            .clock
            .now_ms()
            .saturating_sub(inner.config.retention_for(org));
        let start = start.max(oldest);
        let series: Vec<SeriesMeta> = {
            let reg = inner.registry.read();
            match reg.index.org(org) {
                Some(oi) => oi
                    .select(sel, &reg.catalog)
                    .iter()
                    .filter_map(|id| {
                        let id = SeriesId(id);
                        let (_, mtype) = reg.catalog.get(id)?;
                        Some(SeriesMeta {
                            id,
                            key: reg.catalog.key(id)?,
                            mtype,
                        })
                    })
                    .collect(),
                None => Vec::new(),
            }
        };
        let w = inner.write.lock();
        // The parts' read guard is held while the frozen heads are copied: a
        // flush moves a frozen head into parts under the parts' write lock,
        // so copying the two under separate guards could see the head in
        // neither (gone from `frozen`, not yet in the older `parts` copy).
        let (part_map, frozen) = {
            let parts = inner.parts.read();
            let frozen = inner.frozen.read().clone();
            (parts.clone(), frozen)
        };
        let mut active = IdMap::default();
        if w.head_range.is_some_and(|(lo, hi)| hi >= start && lo < end) {
            for s in &series {
                if let Some(h) = w.head.get(s.id) {
                    active.insert(s.id, h.clone());
                }
            }
        }
        drop(w);
        let mut parts = Vec::new();
        if start < end {
            let (p0, p1) = (PartitionId::of(start), PartitionId::of(end - 1));
            for (_, list) in part_map.range((org, p0)..=(org, p1)) {
                parts.extend(
                    list.iter()
                        .filter(|p| p.meta().max_ts >= start && p.meta().min_ts < end)
                        .cloned(),
                );
            }
        }
        Ok(ReadView {
            series,
            parts,
            frozen,
            active,
            start,
            end,
            cache: inner.chunk_cache.clone(),
        })
    }

    /// Metric names of `org`, sorted; with a pattern, only those matching it
    /// (`*` wildcards).
    pub fn metric_names(&self, org: OrgId, pattern: Option<&str>) -> Vec<String> {
        let reg = self.inner.registry.read();
        reg.index
            .org(org)
            .map(|oi| oi.metrics(reg.catalog.symbols(), pattern))
            .unwrap_or_default()
    }

    /// Tag keys of `org`'s series, sorted; with a selector, only of the
    /// series it matches.
    pub fn tag_keys(&self, org: OrgId, within: Option<&Selector>) -> Vec<String> {
        let reg = self.inner.registry.read();
        let sy = reg.catalog.symbols();
        reg.index
            .org(org)
            .map(|oi| {
                let w = within.map(|s| oi.select(s, &reg.catalog));
                oi.tag_keys(sy, w.as_ref())
            })
            .unwrap_or_default()
    }

    /// Values of tag `key` in `org`, sorted; with a selector, only of the
    /// series it matches.
    pub fn tag_values(&self, org: OrgId, key: &str, within: Option<&Selector>) -> Vec<String> {
        let reg = self.inner.registry.read();
        let sy = reg.catalog.symbols();
        reg.index
            .org(org)
            .map(|oi| {
                let w = within.map(|s| oi.select(s, &reg.catalog));
                oi.tag_values(sy, key, w.as_ref())
            })
            .unwrap_or_default()
    }

    /// The series of `org` grouped by the values of tag key `key` (for
    /// `host`: one group per host, with the host's other tags and metric
    /// names), sorted by value; see [`OrgIndex::groups`]. Holds the
    /// registry's read lock while it runs, as a selector does.
    ///
    /// [`OrgIndex::groups`]: crate::index::OrgIndex::groups
    pub fn tag_groups(&self, org: OrgId, key: &str, limits: GroupLimits) -> Vec<TagGroup> {
        let reg = self.inner.registry.read();
        reg.index
            .org(org)
            .map(|oi| oi.groups(&reg.catalog, key, limits))
            .unwrap_or_default()
    }

    /// Every tag of the series `sel` matches in `org`, sorted.
    pub fn tags(&self, org: OrgId, sel: &Selector) -> Vec<String> {
        let reg = self.inner.registry.read();
        let sy = reg.catalog.symbols();
        reg.index
            .org(org)
            .map(|oi| oi.tags_of(sy, &oi.select(sel, &reg.catalog)))
            .unwrap_or_default()
    }
}

impl ReadView {
    /// The selected series, sorted by id.
    pub fn series(&self) -> &[SeriesMeta] {
        &self.series
    }

    /// Start of the range (after applying retention).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// End of the range (exclusive).
    pub fn end(&self) -> i64 {
        self.end
    }

    /// The points of float series `i` (an index into [`ReadView::series`])
    /// inside the range, sorted, one per timestamp. The slices borrow `buf`.
    pub fn floats<'b>(&self, i: usize, buf: &'b mut ReadBuffers) -> Result<(&'b [i64], &'b [f64])> {
        let id = self.series[i].id;
        if self.series[i].key.kind != ValueKind::Float {
            return Err(Error::InvalidSeries(format!(
                "series {id} is a distribution, not a float series"
            )));
        }
        // Each chunk is a run of its own: chunks of one part are disjoint
        // and in time order, so a single source needs no copy at all and
        // several are concatenated by the merge's fast path.
        let mut n = 0;
        for p in &self.parts {
            for c in p.chunks_for(id, self.start, self.end) {
                next_run(&mut buf.runs_ts, &mut buf.runs_f, n);
                p.read_floats(
                    &c,
                    &mut buf.runs_ts[n],
                    &mut buf.runs_f[n],
                    &mut buf.scratch,
                )?;
                n += 1;
            }
        }
        let heads = self
            .frozen
            .iter()
            .map(|f| f.head.get(id))
            .chain(std::iter::once(self.active.get(&id)));
        for h in heads.flatten() {
            if let HeadSeries::Float(fh) = h
                && fh
                    .time_range()
                    .is_some_and(|(lo, hi)| hi >= self.start && lo < self.end)
            {
                next_run(&mut buf.runs_ts, &mut buf.runs_f, n);
                n += 1;
                fh.materialize(&mut buf.runs_ts[n - 1], &mut buf.runs_f[n - 1])
                    .map_err(|e| {
                        Error::Internal(format!("head of series {id} does not decode: {e}"))
                    })?;
            }
        }
        if n == 1 {
            let (a, b) = trim(&buf.runs_ts[0], self.start, self.end);
            return Ok((&buf.runs_ts[0][a..b], &buf.runs_f[0][a..b]));
        }
        let runs: Vec<(&[i64], &[f64])> = buf.runs_ts[..n]
            .iter()
            .zip(&buf.runs_f[..n])
            .map(|(t, v)| (&t[..], &v[..]))
            .collect();
        merge_runs(&runs, &mut buf.out_ts, &mut buf.out_f);
        let (a, b) = trim(&buf.out_ts, self.start, self.end);
        Ok((&buf.out_ts[a..b], &buf.out_f[a..b]))
    }

    /// The points of sketch series `i` inside the range; see [`ReadView::floats`].
    pub fn sketches<'b>(
        &self,
        i: usize,
        buf: &'b mut ReadBuffers,
    ) -> Result<(&'b [i64], &'b [Sketch])> {
        let id = self.series[i].id;
        if self.series[i].key.kind != ValueKind::Sketch {
            return Err(Error::InvalidSeries(format!(
                "series {id} is not a distribution"
            )));
        }
        let mut n = 0;
        for p in &self.parts {
            let mut run_started = false;
            for c in p.chunks_for(id, self.start, self.end) {
                p.read_sketches(&c, &mut buf.ts, &mut buf.sk)?;
                if !run_started {
                    next_run(&mut buf.runs_ts, &mut buf.runs_sk, n);
                    n += 1;
                    run_started = true;
                }
                buf.runs_ts[n - 1].extend_from_slice(&buf.ts);
                buf.runs_sk[n - 1].append(&mut buf.sk);
            }
        }
        let heads = self
            .frozen
            .iter()
            .map(|f| f.head.get(id))
            .chain(std::iter::once(self.active.get(&id)));
        for h in heads.flatten() {
            if let HeadSeries::Sketch(sh) = h {
                let (t, v) = sh.materialize();
                next_run(&mut buf.runs_ts, &mut buf.runs_sk, n);
                n += 1;
                buf.runs_ts[n - 1] = t;
                buf.runs_sk[n - 1] = v;
            }
        }
        let runs: Vec<(&[i64], &[Sketch])> = buf.runs_ts[..n]
            .iter()
            .zip(&buf.runs_sk[..n])
            .map(|(t, v)| (&t[..], &v[..]))
            .collect();
        merge_runs(&runs, &mut buf.out_ts, &mut buf.out_sk);
        let (a, b) = trim(&buf.out_ts, self.start, self.end);
        Ok((&buf.out_ts[a..b], &buf.out_sk[a..b]))
    }

    /// Number of buckets of `step_ms` covering the range.
    pub fn bucket_count(&self, step_ms: i64) -> usize {
        if self.end <= self.start || step_ms <= 0 {
            return 0;
        }
        let n = (i128::from(self.end) - i128::from(self.start) + i128::from(step_ms) - 1)
            / i128::from(step_ms);
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    fn checked_buckets(&self, step_ms: i64) -> Result<usize> {
        if step_ms <= 0 {
            return Err(Error::Config(format!(
                "bucket step must be positive, got {step_ms} ms"
            )));
        }
        let n = self.bucket_count(step_ms);
        if n > MAX_BUCKETS {
            return Err(Error::Config(format!(
                "{n} buckets of {step_ms} ms over the range is more than the {MAX_BUCKETS} allowed; use a larger step"
            )));
        }
        Ok(n)
    }

    /// Reduces every selected series to buckets of `step_ms` starting at the
    /// range's start: row `i` belongs to `series()[i]`, bucket `b` covers
    /// `[start + b·step, start + (b+1)·step)`. Empty buckets are NaN, and NaN
    /// values are skipped. Distribution series are reduced over their
    /// sketches' summaries (sum, count, min, max; `Last` takes the last
    /// sketch's average). Series are split over `threads` threads.
    pub fn aggregate(&self, step_ms: i64, agg: Agg, threads: usize) -> Result<Vec<Vec<f64>>> {
        // One set of accumulators per thread, reset for each series; each
        // row is one exact-size copy (no zeroed count vector per series).
        let rows = self.aggregate_fold(step_ms, agg, threads, Vec::new, |rows, _, row| {
            rows.push(row.to_vec())
        })?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// [`ReadView::aggregate`] without keeping the rows: each series' row
    /// is handed to `fold(acc, i, row)` on the thread that computed it, with
    /// one accumulator per thread (made by `init`), and the accumulators are
    /// returned for the caller to combine. A space aggregation over many
    /// series into few groups then holds one row per group and thread
    /// instead of one per series. Rows are given in series order within a
    /// thread; `row` is only valid during the call.
    pub fn aggregate_fold<A: Send>(
        &self,
        step_ms: i64,
        agg: Agg,
        threads: usize,
        init: impl Fn() -> A + Sync,
        fold: impl Fn(&mut A, usize, &[f64]) + Sync,
    ) -> Result<Vec<A>> {
        self.aggregate_fold_checked(step_ms, agg, threads, init, |acc, i, row, _, _| {
            fold(acc, i, row)
        })
    }

    /// [`ReadView::aggregate_fold`] for callers whose semantics differ from
    /// the buckets' on NaN and infinities (PromQL counts a NaN sample, the
    /// buckets skip it): `fold(acc, i, row, counts, non_finite)` also gets
    /// the number of values in each bucket and whether series `i` had a
    /// NaN or infinite value the row may have skipped or absorbed. The flag
    /// is never false when such a value was in the range; it may be true
    /// for one just outside it (a float chunk with regular timestamps is
    /// checked whole, not only its part in the range), so a caller that
    /// falls back to another path on `true` stays exact. Decimal chunks
    /// cannot hold such values, so reading them never sets it.
    pub fn aggregate_fold_checked<A: Send>(
        &self,
        step_ms: i64,
        agg: Agg,
        threads: usize,
        init: impl Fn() -> A + Sync,
        fold: impl Fn(&mut A, usize, &[f64], &[u64], bool) + Sync,
    ) -> Result<Vec<A>> {
        let nb = self.checked_buckets(step_ms)?;
        self.split(threads, |range, buf| {
            let mut acc = init();
            let mut row = Buckets::new(nb, agg);
            for i in range {
                row.reset();
                self.aggregate_one(i, buf, &mut row, step_ms)?;
                let non_finite = row.non_finite;
                let counts = std::mem::take(&mut row.count);
                fold(
                    &mut acc,
                    i,
                    row.finish_in_place_with(&counts),
                    &counts,
                    non_finite,
                );
                row.count = counts;
            }
            Ok(acc)
        })
    }

    /// Aggregates series `i` into fresh buckets.
    fn aggregate_one(
        &self,
        i: usize,
        buf: &mut ReadBuffers,
        acc: &mut Buckets,
        step_ms: i64,
    ) -> Result<()> {
        match self.series[i].key.kind {
            ValueKind::Float => {
                if !self.aggregate_disjoint(i, buf, acc, step_ms)? {
                    let (ts, vals) = self.floats(i, buf)?;
                    acc.note_non_finite(vals);
                    acc.add_floats(ts, vals, self.start, step_ms);
                }
            }
            ValueKind::Sketch => {
                let (ts, sk) = self.sketches(i, buf)?;
                acc.add_sketches(ts, sk, self.start, step_ms);
            }
        }
        Ok(())
    }

    /// The fast path of [`ReadView::aggregate`]: when the sources of series
    /// `i` (its chunks in the parts, its frozen and active heads) cover
    /// disjoint time ranges, as they do unless points were backfilled or
    /// rewritten, no point can shadow another, so each source is aggregated
    /// into the buckets on its own, oldest first, with no merge of the
    /// points. A chunk with regular timestamps goes through
    /// [`regular::aggregate`] (positions, integer mantissas); anything else
    /// is decoded and scanned. Returns false (having done nothing) when two
    /// sources overlap in time; the caller then merges.
    fn aggregate_disjoint(
        &self,
        i: usize,
        buf: &mut ReadBuffers,
        acc: &mut Buckets,
        step_ms: i64,
    ) -> Result<bool> {
        let id = self.series[i].id;
        let mut sources: Vec<(i64, i64, Source)> = Vec::new();
        buf.cursors.resize(self.parts.len(), 0);
        for ((pi, p), cursor) in self.parts.iter().enumerate().zip(&mut buf.cursors) {
            for c in p.chunks_from(id, self.start, self.end, cursor) {
                sources.push((c.min_ts, c.max_ts, Source::Chunk(pi, c)));
            }
        }
        let heads = self
            .frozen
            .iter()
            .map(|f| f.head.get(id))
            .chain(std::iter::once(self.active.get(&id)));
        for h in heads.flatten() {
            if let HeadSeries::Float(fh) = h
                && let Some((lo, hi)) = fh.time_range()
                && hi >= self.start
                && lo < self.end
            {
                sources.push((lo, hi, Source::Head(fh)));
            }
        }
        sources.sort_by_key(|s| s.0);
        if sources.windows(2).any(|w| w[1].0 <= w[0].1) {
            return Ok(false);
        }
        for (_, _, src) in sources {
            next_run(&mut buf.runs_ts, &mut buf.runs_f, 0);
            match src {
                Source::Chunk(pi, c) => {
                    self.aggregate_chunk(&self.parts[pi], &c, buf, acc, step_ms)?;
                }
                Source::Head(fh) => {
                    let (ts, vals) = (&mut buf.runs_ts[0], &mut buf.runs_f[0]);
                    fh.materialize(ts, vals).map_err(|e| {
                        Error::Internal(format!("head of series {id} does not decode: {e}"))
                    })?;
                    let (a, b) = trim(ts, self.start, self.end);
                    acc.note_non_finite(&vals[a..b]);
                    acc.add_floats(&ts[a..b], &vals[a..b], self.start, step_ms);
                }
            }
        }
        Ok(true)
    }

    /// Aggregates one part chunk into `acc`: from the decoded-chunk cache
    /// when it is on (decoding and caching it on a miss), else decoded into
    /// `buf`.
    fn aggregate_chunk(
        &self,
        part: &Part,
        c: &ChunkRef,
        buf: &mut ReadBuffers,
        acc: &mut Buckets,
        step_ms: i64,
    ) -> Result<()> {
        if self.cache.enabled() {
            let key = (part.uid(), c.offset);
            let col = match self.cache.get(key) {
                Some(col) => col,
                None => {
                    let (mut ts, mut vals, mut m) = (Vec::new(), Vec::new(), Vec::new());
                    let (decoded, values) =
                        part.read_float_columns(c, &mut ts, &mut vals, &mut m)?;
                    self.cache
                        .insert(key, Column::new(decoded, ts, values, m, vals))
                }
            };
            self.aggregate_columns(
                col.decoded,
                col.view(),
                &col.ts,
                c.count as usize,
                acc,
                step_ms,
            );
            return Ok(());
        }
        let (ts, vals) = (&mut buf.runs_ts[0], &mut buf.runs_f[0]);
        let (t, v) = part.read_float_columns(c, ts, vals, &mut buf.scratch)?;
        let col = regular::Column::of(v, vals, &buf.scratch);
        self.aggregate_columns(t, col, ts, c.count as usize, acc, step_ms);
        Ok(())
    }

    /// Aggregates a chunk's decoded columns (`n` points; `explicit_ts` holds
    /// the timestamps when they are not regular) into `acc`.
    fn aggregate_columns(
        &self,
        t: Decoded,
        col: regular::Column<'_>,
        explicit_ts: &[i64],
        n: usize,
        acc: &mut Buckets,
        step_ms: i64,
    ) {
        match t {
            Decoded::Regular { first, step } if step > 0 => {
                match col {
                    regular::Column::Const(c) => acc.non_finite |= !c.is_finite(),
                    regular::Column::Floats(v) => acc.note_non_finite(&v[..n.min(v.len())]),
                    regular::Column::Decimal { .. } | regular::Column::Decimal32 { .. } => {}
                }
                let at = regular::Layout {
                    n,
                    first,
                    step,
                    start: self.start,
                    end: self.end,
                    bucket_ms: step_ms,
                };
                regular::aggregate(col, at, acc.agg, &mut acc.val, &mut acc.count);
            }
            _ => {
                // One point (step 0) or explicit timestamps: the general
                // scan over materialised columns.
                let ts: Cow<'_, [i64]> = match t {
                    Decoded::Regular { first, step } => {
                        let mut v = Vec::with_capacity(n);
                        fill_regular(first, step, n, &mut v);
                        Cow::Owned(v)
                    }
                    Decoded::Explicit => Cow::Borrowed(explicit_ts),
                };
                let vals = col.materialize(n);
                let (a, b) = trim(&ts, self.start, self.end);
                acc.note_non_finite(&vals[a..b]);
                acc.add_floats(&ts[a..b], &vals[a..b], self.start, step_ms);
            }
        }
    }

    /// Merges the sketches of every distribution series into buckets of
    /// `step_ms` (`None` where a bucket is empty, and for float series).
    pub fn aggregate_sketches(
        &self,
        step_ms: i64,
        threads: usize,
    ) -> Result<Vec<Vec<Option<Sketch>>>> {
        let nb = self.checked_buckets(step_ms)?;
        self.parallel(threads, |i, buf| {
            let mut row: Vec<Option<Sketch>> = vec![None; nb];
            if self.series[i].key.kind == ValueKind::Sketch {
                let (ts, sk) = self.sketches(i, buf)?;
                for (t, s) in ts.iter().zip(sk) {
                    let b = ((t - self.start) / step_ms) as usize;
                    match &mut row[b] {
                        Some(acc) => acc.merge(s),
                        slot @ None => *slot = Some(s.clone()),
                    }
                }
            }
            Ok(row)
        })
    }

    fn parallel<T: Send>(
        &self,
        threads: usize,
        f: impl Fn(usize, &mut ReadBuffers) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let parts = self.split(threads, |range, buf| {
            range.map(|i| f(i, buf)).collect::<Result<Vec<T>>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Splits the series into contiguous ranges, one per thread (as many as
    /// the read is worth, at most `threads`), runs `f` on each with its own
    /// buffers, and returns the results in range order.
    fn split<R: Send>(
        &self,
        threads: usize,
        f: impl Fn(std::ops::Range<usize>, &mut ReadBuffers) -> Result<R> + Sync,
    ) -> Result<Vec<R>> {
        let n = self.series.len();
        // Points the read may cover, assuming 10 s points: small reads stay
        // on the caller's thread, where a spawn would cost more than it saves.
        let span = u64::try_from((self.end - self.start) / 10_000)
            .unwrap_or(0)
            .max(1);
        let points = (n as u64).saturating_mul(span);
        let worth = usize::try_from(points / MIN_POINTS_PER_THREAD).unwrap_or(usize::MAX);
        let threads = threads.min(worth).clamp(1, n.max(1));
        if threads == 1 {
            let mut buf = ReadBuffers::default();
            return Ok(vec![f(0..n, &mut buf)?]);
        }
        let per = n.div_ceil(threads);
        let f = &f;
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        let mut buf = ReadBuffers::default();
                        f(t * per..((t + 1) * per).min(n), &mut buf)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("read thread panicked"))
                .collect()
        })
    }
}

/// One source of a series' points in a read, for [`ReadView::aggregate`].
enum Source<'a> {
    /// A chunk of `parts[index]`.
    Chunk(usize, ChunkRef),
    /// A frozen or the active head.
    Head(&'a FloatHead),
}

/// Makes run `n` available and empty.
fn next_run<V>(ts: &mut Vec<Vec<i64>>, vals: &mut Vec<Vec<V>>, n: usize) {
    if ts.len() <= n {
        ts.push(Vec::new());
    }
    if vals.len() <= n {
        vals.push(Vec::new());
    }
    ts[n].clear();
    vals[n].clear();
}

/// Index range of `ts` inside `[start, end)`.
fn trim(ts: &[i64], start: i64, end: i64) -> (usize, usize) {
    (
        ts.partition_point(|&t| t < start),
        ts.partition_point(|&t| t < end),
    )
}

/// Per-bucket accumulators for one series.
struct Buckets {
    agg: Agg,
    val: Vec<f64>,
    count: Vec<u64>,
    /// A NaN or infinite value was met (see
    /// [`ReadView::aggregate_fold_checked`]).
    non_finite: bool,
}

impl Buckets {
    fn new(n: usize, agg: Agg) -> Self {
        Buckets {
            agg,
            val: vec![Self::init(agg); n],
            count: vec![0; n],
            non_finite: false,
        }
    }

    /// Records whether `vals` holds a NaN or an infinity.
    fn note_non_finite(&mut self, vals: &[f64]) {
        self.non_finite |= vals.iter().any(|v| !v.is_finite());
    }

    /// Adds sorted points; every timestamp is inside the range.
    fn add_floats(&mut self, ts: &[i64], vals: &[f64], start: i64, step: i64) {
        let n = ts.len().min(vals.len());
        self.add_by(|k| ts[k], &vals[..n], start, step);
    }

    /// Adds points whose `k`-th timestamp is `ts_at(k)` (sorted, inside the
    /// range).
    #[inline(always)]
    fn add_by(&mut self, ts_at: impl Fn(usize) -> i64, vals: &[f64], start: i64, step: i64) {
        let t = &ts_at;
        match self.agg {
            Agg::Avg | Agg::Sum => {
                self.scan(t, vals, (start, step), 0.0, |a, v| a + v, |s, a| *s += a)
            }
            Agg::Count => self.scan(t, vals, (start, step), 0.0, |a, _| a + 1.0, |s, a| *s += a),
            Agg::Min => self.scan(t, vals, (start, step), f64::INFINITY, f64::min, |s, a| {
                *s = s.min(a)
            }),
            Agg::Max => self.scan(
                t,
                vals,
                (start, step),
                f64::NEG_INFINITY,
                f64::max,
                |s, a| *s = s.max(a),
            ),
            Agg::Last => self.scan(t, vals, (start, step), f64::NAN, |_, v| v, |s, a| *s = a),
        }
    }

    /// One pass over the points: each bucket's points are reduced in a
    /// register (`fold`), and the result is stored into the bucket's slot
    /// (`store`) once, when the bucket ends. The bucket of the next point is
    /// found by stepping, not dividing, except after a gap.
    #[inline(always)]
    fn scan(
        &mut self,
        ts: &impl Fn(usize) -> i64,
        vals: &[f64],
        (start, step): (i64, i64),
        init: f64,
        fold: impl Fn(f64, f64) -> f64,
        store: impl Fn(&mut f64, f64),
    ) {
        let n = vals.len();
        if n == 0 {
            return;
        }
        let bucket_of = |t: i64| ((t - start) / step) as usize;
        let end_of = |b: usize| start.saturating_add((b as i64 + 1).saturating_mul(step));
        let mut i = 0;
        let mut b = bucket_of(ts(0));
        let mut bend = end_of(b);
        loop {
            let mut acc = init;
            let mut c = 0u64;
            while i < n && ts(i) < bend {
                let v = vals[i];
                if !v.is_nan() {
                    acc = fold(acc, v);
                    c += 1;
                }
                i += 1;
            }
            if c > 0 {
                store(&mut self.val[b], acc);
                self.count[b] += c;
            }
            if i == n {
                return;
            }
            if ts(i) < bend.saturating_add(step) {
                b += 1;
                bend = bend.saturating_add(step);
            } else {
                b = bucket_of(ts(i));
                bend = end_of(b);
            }
        }
    }

    fn add_sketches(&mut self, ts: &[i64], sk: &[Sketch], start: i64, step: i64) {
        for (&t, s) in ts.iter().zip(sk) {
            if s.is_empty() {
                continue;
            }
            let b = ((t - start) / step) as usize;
            let a = &mut self.val[b];
            match self.agg {
                Agg::Avg | Agg::Sum => {
                    *a += s.sum();
                    self.count[b] += s.count();
                    continue;
                }
                Agg::Count => *a += s.count() as f64,
                Agg::Min => *a = a.min(s.min()),
                Agg::Max => *a = a.max(s.max()),
                Agg::Last => *a = s.avg(),
            }
            self.count[b] += 1;
        }
    }

    /// Turns the accumulators into the row (NaN where empty, means for
    /// `Avg`) and returns it; [`Buckets::reset`] before reuse.
    /// The counts are passed in, taken out of `self`, so the caller can
    /// lend them along with the row.
    fn finish_in_place_with(&mut self, count: &[u64]) -> &[f64] {
        // Two branch-free loops the compiler vectorises (this ran once per
        // series and bucket, 7 % of a dashboard aggregation, as one loop
        // with a branch per bucket). An `Avg` bucket with no value still
        // holds its initial 0.0, and 0.0 / 0 is the NaN an empty bucket is.
        if self.agg == Agg::Avg {
            for (v, &c) in self.val.iter_mut().zip(count) {
                *v /= c as f64;
            }
        } else {
            for (v, &c) in self.val.iter_mut().zip(count) {
                *v = if c == 0 { f64::NAN } else { *v };
            }
        }
        &self.val
    }

    /// Empties every bucket, as [`Buckets::new`] made them.
    fn reset(&mut self) {
        self.val.fill(Self::init(self.agg));
        self.count.fill(0);
        self.non_finite = false;
    }

    fn init(agg: Agg) -> f64 {
        match agg {
            Agg::Min => f64::INFINITY,
            Agg::Max => f64::NEG_INFINITY,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, EngineConfig, FloatPoint, MetricType, OrgId, Selector, SeriesKey, TagSet};

    const NOW: i64 = 1_795_651_200_000;
    const ORG: OrgId = OrgId(1);

    /// Rows, counts and the non-finite flag of every series, one thread.
    fn checked(view: &ReadView, step: i64, agg: Agg) -> Vec<(Vec<f64>, Vec<u64>, bool)> {
        let rows = view
            .aggregate_fold_checked(step, agg, 1, Vec::new, |acc, _, row, counts, nf| {
                acc.push((row.to_vec(), counts.to_vec(), nf))
            })
            .unwrap();
        rows.into_iter().flatten().collect()
    }

    #[test]
    fn checked_fold_flags_non_finite_values_in_head_and_parts() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = EngineConfig {
            clock: Clock::manual(NOW),
            background_tasks: false,
            ..EngineConfig::default()
        };
        let (e, _) = Engine::open(dir.path(), cfg).unwrap();
        let id = |tag: &str| {
            let key = SeriesKey::float(ORG, "m", TagSet::new([tag]));
            e.resolve(&key, MetricType::Gauge).unwrap()
        };
        let (dec, nan, inf) = (id("s:dec"), id("s:nan"), id("s:inf"));
        let start = NOW - 3_600_000;
        let pt = |series, i: i64, value| FloatPoint {
            series,
            ts: start + i * 10_000,
            value,
        };
        // Decimals in a part and in the head; a NaN in the part of `nan`
        // and an infinity in the head of `inf`.
        let mut first = Vec::new();
        let mut second = Vec::new();
        for i in 0..6 {
            first.push(pt(dec, i, i as f64 * 0.5));
            first.push(pt(nan, i, if i == 2 { f64::NAN } else { 1.25 }));
            first.push(pt(inf, i, 2.0));
        }
        for i in 6..12 {
            second.push(pt(dec, i, i as f64 * 0.5));
            second.push(pt(nan, i, 1.25));
            second.push(pt(inf, i, if i == 9 { f64::INFINITY } else { 2.0 }));
        }
        e.append_floats(&first).unwrap();
        e.flush().unwrap();
        e.append_floats(&second).unwrap();
        let view = e
            .read(ORG, &Selector::Metric("m".into()), start, start + 120_000)
            .unwrap();
        let ids: Vec<_> = view.series().iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![dec, nan, inf]);
        let rows = checked(&view, 30_000, Agg::Sum);
        // dec: buckets of 3 points (0, 0.5, 1), (1.5, 2, 2.5), ...
        assert_eq!(rows[0].0, vec![1.5, 6.0, 10.5, 15.0]);
        assert_eq!(rows[0].1, vec![3, 3, 3, 3]);
        assert!(!rows[0].2, "decimals are finite");
        // nan: the NaN is skipped by the row but flagged.
        assert_eq!(rows[1].1, vec![2, 3, 3, 3]);
        assert!(rows[1].2, "a NaN in a part is flagged");
        assert!(rows[2].2, "an infinity in the head is flagged");
        // The plain fold sees the same rows.
        let plain = view.aggregate(30_000, Agg::Sum, 1).unwrap();
        for (p, c) in plain.iter().zip(&rows) {
            assert_eq!(p[..2], c.0[..2]);
        }
        // A range without the NaN and the infinity is not flagged, for
        // every aggregation.
        let view = e
            .read(
                ORG,
                &Selector::Metric("m".into()),
                start + 30_000,
                start + 60_000,
            )
            .unwrap();
        for agg in Agg::ALL {
            let rows = checked(&view, 10_000, agg);
            assert!(!rows[0].2, "{agg:?}");
            assert!(!rows[2].2, "{agg:?}");
            assert_eq!(rows[0].1, vec![1, 1, 1], "{agg:?}");
        }
    }
}
