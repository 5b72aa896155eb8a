//! The measurements: generating the fleet, live ingest for memory, bulk
//! ingest, flush and merge for speed and size, and reads.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use whippet_fleetgen::{FleetSpec, METRICS_PER_HOST, Shape, describe, points};
use whippet_intake_bench::progress::Log;
use whippet_tsdb::{
    Agg, Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, ReadBuffers, Selector,
    SeriesId, SeriesKey, StorageStats, TagSet,
};

use crate::report::{
    Ingest, MemSample, Memory, PartsSnapshot, Reads, ShapeBytes, Storage, Timing, bytes, si,
};
use crate::sys::{self, Cpu};

/// The org every series belongs to.
const ORG: OrgId = OrgId(1);

/// Points per `append_floats` call: about what one intake request carries
/// (a Datadog Agent payload holds a few thousand series).
pub const BATCH_POINTS: usize = 10_000;

/// Default ticks of the live-ingest memory phase: four minutes at 10 s,
/// enough for the head to go through several cut cycles.
pub const LIVE_TICKS: usize = 24;

/// The live phase flushes every this many ticks: the engine's default 60 s
/// head cut at a 10 s interval.
pub const LIVE_FLUSH_EVERY: usize = 6;

/// Bucket of the aggregation reads: one minute, a typical dashboard step.
const AGG_STEP_MS: i64 = 60_000;

/// The data set, generated once and kept in memory so that generation does
/// not count in any measurement.
pub struct Fleet {
    /// Its spec.
    pub spec: FleetSpec,
    /// Series keys, by series index.
    pub keys: Vec<SeriesKey>,
    /// Metric type of each series.
    pub types: Vec<MetricType>,
    /// Value shape of each series.
    pub shapes: Vec<Shape>,
    /// Tick-major values: `vals[k * series + i]` is series `i` at tick `k`,
    /// NaN where the series has a gap (fleetgen never produces NaN).
    pub vals: Vec<f64>,
    /// Points, gaps excluded.
    pub total_points: u64,
    /// Series with gaps.
    pub series_with_gaps: usize,
}

impl Fleet {
    /// Generates the data set for `spec`.
    pub fn generate(spec: FleetSpec, log: &Log) -> Result<Fleet> {
        spec.validate().map_err(anyhow::Error::msg)?;
        let n = spec.series;
        let ticks = spec.points_per_series;
        let mut keys = Vec::with_capacity(n);
        let mut types = Vec::with_capacity(n);
        let mut shapes = Vec::with_capacity(n);
        let mut series_with_gaps = 0;
        let mut vals = vec![f64::NAN; n * ticks];
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        let mut total = 0u64;
        let mut last_report = Instant::now();
        for i in 0..n {
            let d = describe(&spec, i);
            series_with_gaps += usize::from(d.has_gaps);
            shapes.push(d.shape);
            keys.push(SeriesKey::float(ORG, d.metric, TagSet::new(d.tags)));
            // A cumulative counter is stored as its raw values: the metric
            // type is metadata to the engine and does not change storage.
            types.push(MetricType::Gauge);
            points(&spec, i, &mut ts, &mut vs);
            for (&t, &v) in ts.iter().zip(&vs) {
                let k = ((t - spec.start_ms) / spec.interval_ms) as usize;
                vals[k * n + i] = v;
            }
            total += ts.len() as u64;
            if last_report.elapsed().as_secs_f64() > 2.0 {
                log.say(format!("generating: {} / {n} series", i + 1));
                last_report = Instant::now();
            }
        }
        ensure!(
            total == spec.total_points(),
            "fleetgen's total_points() ({}) disagrees with its points ({total})",
            spec.total_points()
        );
        Ok(Fleet {
            spec,
            keys,
            types,
            shapes,
            vals,
            total_points: total,
            series_with_gaps,
        })
    }

    /// The values of tick `k`, by series index.
    fn tick(&self, k: usize) -> &[f64] {
        let n = self.spec.series;
        &self.vals[k * n..(k + 1) * n]
    }

    /// Hosts in the data set.
    pub fn hosts(&self) -> usize {
        self.spec.series.div_ceil(METRICS_PER_HOST)
    }
}

fn config(now_ms: i64) -> EngineConfig {
    EngineConfig {
        clock: Clock::manual(now_ms),
        ..EngineConfig::default()
    }
}

fn resolve_all(engine: &Engine, fleet: &Fleet, ids: &mut Vec<SeriesId>) -> Result<()> {
    ids.clear();
    for (k, t) in fleet.keys.iter().zip(&fleet.types) {
        ids.push(engine.resolve(k, *t)?);
    }
    Ok(())
}

/// Appends `batch` and clears it; returns the points rejected.
fn send(engine: &Engine, batch: &mut Vec<FloatPoint>) -> Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let out = engine.append_floats(batch)?;
    batch.clear();
    Ok(out.rejected.len() as u64)
}

/// Memory per active series: a fresh engine fed the first `ticks` ticks
/// one at a time, flushed every [`LIVE_FLUSH_EVERY`] ticks.
pub fn live_memory(fleet: &Fleet, ticks: usize, dir: &Path, log: &Log) -> Result<Memory> {
    let spec = &fleet.spec;
    let n = spec.series;
    let ticks = ticks.clamp(1, spec.points_per_series);
    // Everything the loop needs is allocated before the baseline.
    let mut ids: Vec<SeriesId> = Vec::with_capacity(n);
    let mut batch: Vec<FloatPoint> = Vec::with_capacity(BATCH_POINTS);
    let mut samples: Vec<MemSample> = Vec::with_capacity(2 * ticks + 2);
    let watch = sys::HeapWatch::start();
    let before = sys::mem();
    let per_series = |m: &sys::Mem| (m.rss as f64 - before.rss as f64) / n as f64;
    let heap_per_series = |m: &sys::Mem| (m.heap as f64 - before.heap as f64) / n as f64;

    let clock = Clock::manual(spec.start_ms);
    let (engine, _) = Engine::open(
        dir,
        EngineConfig {
            clock: clock.clone(),
            ..EngineConfig::default()
        },
    )
    .with_context(|| format!("open the live-ingest engine in {}", dir.display()))?;
    resolve_all(&engine, fleet, &mut ids)?;
    let sample = |at: String, samples: &mut Vec<MemSample>| {
        let m = sys::mem();
        let st = engine.storage_stats();
        samples.push(MemSample {
            at,
            bytes_per_series: per_series(&m),
            heap_bytes_per_series: heap_per_series(&m),
            head_bytes: st.head_bytes,
            parts: st.parts,
            part_bytes: st.part_bytes,
            mem: m,
        });
    };
    sample("resolving every series".into(), &mut samples);
    log.say(format!(
        "live ingest: {n} series resolved, {:.0} bytes/series so far",
        samples[0].bytes_per_series
    ));
    let mut rejected = 0;
    for k in 0..ticks {
        let ts = spec.tick_ms(k);
        // The agents' points arrive just after their timestamp.
        clock.set_ms(ts + 1_000);
        for (i, &v) in fleet.tick(k).iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            batch.push(FloatPoint {
                series: ids[i],
                ts,
                value: v,
            });
            if batch.len() == BATCH_POINTS {
                rejected += send(&engine, &mut batch)?;
            }
        }
        rejected += send(&engine, &mut batch)?;
        if (k + 1) % LIVE_FLUSH_EVERY == 0 || k + 1 == ticks {
            sample(format!("tick {}, before flush", k + 1), &mut samples);
            engine.flush()?;
            // The loop runs far faster than real time; give the merge policy
            // the chance to converge it has between two 60 s cuts.
            while engine.merge_step()? > 0 {}
            sample(format!("tick {}, after flush", k + 1), &mut samples);
            log.say(format!(
                "live ingest: tick {}/{ticks}, {:.0} bytes/series before the \
                 flush, {:.0} after",
                k + 1,
                samples[samples.len() - 2].bytes_per_series,
                samples[samples.len() - 1].bytes_per_series,
            ));
        }
    }
    ensure!(rejected == 0, "the live engine rejected {rejected} points");
    let transient_heap = (watch.peak() as f64 - before.heap as f64) / n as f64;
    drop(watch);
    engine.close()?;
    drop(engine);
    let peak = samples
        .iter()
        .map(|s| s.bytes_per_series)
        .fold(f64::MIN, f64::max);
    let heap_peak = samples
        .iter()
        .map(|s| s.heap_bytes_per_series)
        .fold(f64::MIN, f64::max);
    Ok(Memory {
        series: n,
        ticks,
        flush_every_ticks: LIVE_FLUSH_EVERY,
        before,
        catalog_bytes_per_series: samples[0].bytes_per_series,
        samples,
        peak_bytes_per_series: peak,
        peak_heap_bytes_per_series: heap_peak,
        transient_heap_bytes_per_series: transient_heap,
    })
}

fn snapshot(s: &StorageStats, total_points: u64) -> PartsSnapshot {
    PartsSnapshot {
        parts: s.parts,
        part_points: s.part_points,
        part_bytes: s.part_bytes,
        bytes_per_point: s.part_bytes as f64 / total_points as f64,
    }
}

/// Bulk ingest, flush, compaction and reads on one engine in `dir`.
pub fn bulk(fleet: &Fleet, dir: &Path, runs: usize, log: &Log) -> Result<(Ingest, Storage, Reads)> {
    let spec = &fleet.spec;
    let n = spec.series;
    let total = fleet.total_points;
    let peak_was_reset = sys::reset_peak();
    let mut ids: Vec<SeriesId> = Vec::with_capacity(n);
    let mut batch: Vec<FloatPoint> = Vec::with_capacity(BATCH_POINTS);
    let mem_before = sys::mem();
    let watch = sys::HeapWatch::start();

    // The clock stands just after the last tick: nothing is too old or too
    // far in the future, and no head is old enough to be cut on time.
    let (engine, _) = Engine::open(dir, config(spec.end_ms()))
        .with_context(|| format!("open the bulk engine in {}", dir.display()))?;

    let t = Instant::now();
    resolve_all(&engine, fleet, &mut ids)?;
    let resolve_secs = t.elapsed().as_secs_f64();
    log.say(format!(
        "bulk ingest: resolved {n} series in {resolve_secs:.2} s ({}series/s)",
        si(n as f64 / resolve_secs)
    ));

    let stats = engine.stats();
    let cuts0 = stats.head_cuts.load(Ordering::Relaxed);
    let flushed0 = stats.parts_flushed.load(Ordering::Relaxed);
    let merges0 = stats.merges.load(Ordering::Relaxed);
    let waits0 = stats.backpressure_waits.load(Ordering::Relaxed);
    let mut rejected = 0u64;
    let mut sent = 0u64;
    let mut last_report = Instant::now();
    let cpu0 = Cpu::now();
    let t = Instant::now();
    for k in 0..spec.points_per_series {
        let ts = spec.tick_ms(k);
        for (i, &v) in fleet.tick(k).iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            batch.push(FloatPoint {
                series: ids[i],
                ts,
                value: v,
            });
            if batch.len() == BATCH_POINTS {
                sent += batch.len() as u64;
                rejected += send(&engine, &mut batch)?;
            }
        }
        if last_report.elapsed().as_secs_f64() >= 2.0 {
            let secs = t.elapsed().as_secs_f64();
            log.say(format!(
                "bulk ingest: {sent} / {total} points ({:.0} %), {}points/s",
                100.0 * sent as f64 / total as f64,
                si(sent as f64 / secs)
            ));
            last_report = Instant::now();
        }
    }
    sent += batch.len() as u64;
    rejected += send(&engine, &mut batch)?;
    let wall_secs = t.elapsed().as_secs_f64();
    let cpu = Cpu::since(cpu0);
    ensure!(sent == total, "sent {sent} points, expected {total}");
    if rejected > 0 {
        bail!("the engine rejected {rejected} of {total} points");
    }
    let at_end = engine.storage_stats();
    let cpu_ps = cpu.process.max(1.0 / sys::TICKS_PER_SEC);
    let ingest_partial = (
        wall_secs,
        cpu,
        stats.head_cuts.load(Ordering::Relaxed) - cuts0,
        stats.parts_flushed.load(Ordering::Relaxed) - flushed0,
        stats.merges.load(Ordering::Relaxed) - merges0,
        stats.backpressure_waits.load(Ordering::Relaxed) - waits0,
    );
    log.say(format!(
        "bulk ingest: {total} points in {wall_secs:.2} s: {}points/s wall, \
         {}points per CPU second (process), {:.2} CPU s",
        si(total as f64 / wall_secs),
        si(total as f64 / cpu_ps),
        cpu.process
    ));

    let cpu0 = Cpu::now();
    let t = Instant::now();
    engine.flush()?;
    let flush_secs = t.elapsed().as_secs_f64();
    let flush_cpu = Cpu::since(cpu0).process;
    let peak_rss = sys::mem().peak;
    let peak_heap = watch.peak();
    drop(watch);
    let after_flush = snapshot(&engine.storage_stats(), total);
    log.say(format!(
        "flush: {flush_secs:.2} s; {} parts, {} ({:.3} bytes/point); peak RSS {}",
        after_flush.parts,
        bytes(after_flush.part_bytes as f64),
        after_flush.bytes_per_point,
        bytes(peak_rss as f64)
    ));

    let t = Instant::now();
    let compact_merges = engine.compact()?;
    let compact_secs = t.elapsed().as_secs_f64();
    let after_merge = snapshot(&engine.storage_stats(), total);
    log.say(format!(
        "compact: {compact_secs:.2} s, {compact_merges} merges; {} parts, {} \
         ({:.3} bytes/point)",
        after_merge.parts,
        bytes(after_merge.part_bytes as f64),
        after_merge.bytes_per_point
    ));
    if after_merge.part_points != total {
        log.say(format!(
            "WARNING: parts hold {} points, the data set has {total}",
            after_merge.part_points
        ));
    }

    let by_shape = bytes_by_shape(dir, fleet, &ids)?;
    let shapes: Vec<String> = by_shape
        .iter()
        .map(|s| format!("{} {:.3}", s.shape, s.chunk_bytes_per_point))
        .collect();
    log.say(format!(
        "compact: bytes/point by shape: {}",
        shapes.join(", ")
    ));

    let reads = reads(&engine, fleet, &ids, runs, log)?;
    engine.close()?;

    let (wall_secs, cpu, head_cuts, parts_flushed, merges, backpressure_waits) = ingest_partial;
    let ingest = Ingest {
        resolve_secs,
        series_per_sec: n as f64 / resolve_secs,
        batch_points: BATCH_POINTS,
        wall_secs,
        points_per_sec_wall: total as f64 / wall_secs,
        cpu_process_secs: cpu.process,
        cpu_writer_secs: cpu.thread,
        points_per_cpu_sec: total as f64 / cpu_ps,
        cpu_secs_per_million_points: cpu.process / (total as f64 / 1e6),
        writer_cpu_secs_per_million_points: cpu.thread / (total as f64 / 1e6),
        rejected,
        backpressure_waits,
        head_cuts,
        parts_flushed,
        merges,
        wal_bytes_at_end: at_end.wal_bytes,
        head_points_at_end: at_end.head_points,
        head_bytes_at_end: at_end.head_bytes,
        flush_secs,
        flush_cpu_secs: flush_cpu,
        end_to_end_points_per_cpu_sec: total as f64
            / (cpu.process + flush_cpu).max(1.0 / sys::TICKS_PER_SEC),
        rss_before: mem_before.rss,
        peak_rss,
        peak_growth: peak_rss.saturating_sub(mem_before.rss),
        heap_before: mem_before.heap,
        peak_heap_growth: peak_heap.saturating_sub(mem_before.heap),
        peak_was_reset,
    };
    let storage = Storage {
        after_flush,
        compact_secs,
        compact_merges,
        after_merge,
        by_shape,
    };
    Ok((ingest, storage, reads))
}

/// Runs `f` `runs` times and returns the seconds of each.
fn repeat(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f()?;
            Ok(t.elapsed().as_secs_f64())
        })
        .collect()
}

fn reads(
    engine: &Engine,
    fleet: &Fleet,
    ids: &[SeriesId],
    runs: usize,
    log: &Log,
) -> Result<Reads> {
    let spec = &fleet.spec;
    let total = fleet.total_points;
    let t = Instant::now();
    let view = engine.read(ORG, &Selector::All, spec.start_ms, spec.end_ms())?;
    let snapshot_secs = t.elapsed().as_secs_f64();
    ensure!(
        view.series().len() == spec.series,
        "the view has {} series, expected {}",
        view.series().len(),
        spec.series
    );

    // Raw decode, also a completeness check.
    let mut buf = ReadBuffers::default();
    let mut decoded = 0u64;
    let raw = repeat(runs, || {
        decoded = 0;
        let mut sum = 0.0;
        for i in 0..view.series().len() {
            let (ts, vals) = view.floats(i, &mut buf)?;
            decoded += ts.len() as u64;
            sum += vals.first().copied().unwrap_or(0.0);
        }
        std::hint::black_box(sum);
        Ok(())
    })?;
    ensure!(
        decoded == total,
        "the view decodes {decoded} points, the data set has {total}"
    );
    let raw_decode = Timing::new(1, raw, total);
    log.say(format!(
        "reads: raw decode {}points/s (median of {runs})",
        si(raw_decode.median_points_per_sec)
    ));

    let mut rows = Vec::new();
    let one = repeat(runs, || {
        rows = view.aggregate(AGG_STEP_MS, Agg::Avg, 1)?;
        Ok(())
    })?;
    check_aggregate(fleet, ids, view.series(), &rows)?;
    let aggregate_1_thread = Timing::new(1, one, total);
    log.say(format!(
        "reads: aggregate on 1 thread {}points/s (median of {runs})",
        si(aggregate_1_thread.median_points_per_sec)
    ));

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let many = repeat(runs, || {
        std::hint::black_box(view.aggregate(AGG_STEP_MS, Agg::Avg, threads)?);
        Ok(())
    })?;
    let aggregate_n_threads = Timing::new(threads, many, total);
    log.say(format!(
        "reads: aggregate on {threads} threads {}points/s (median of {runs})",
        si(aggregate_n_threads.median_points_per_sec)
    ));
    Ok(Reads {
        snapshot_secs,
        series: view.series().len(),
        points: total,
        aggregate_1_thread,
        aggregate_n_threads,
        raw_decode,
    })
}

/// Checks the first minute of a few series against the generator.
fn check_aggregate(
    fleet: &Fleet,
    ids: &[SeriesId],
    series: &[whippet_tsdb::SeriesMeta],
    rows: &[Vec<f64>],
) -> Result<()> {
    let spec = &fleet.spec;
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for i in [0, spec.series / 2, spec.series - 1] {
        let row = series
            .iter()
            .position(|m| m.id == ids[i])
            .context("a resolved series is missing from the view")?;
        points(spec, i, &mut ts, &mut vs);
        let first: Vec<f64> = ts
            .iter()
            .zip(&vs)
            .filter(|(t, _)| **t < spec.start_ms + AGG_STEP_MS)
            .map(|(_, v)| *v)
            .collect();
        let got = rows[row][0];
        if first.is_empty() {
            ensure!(got.is_nan(), "series {i}: empty bucket gave {got}");
            continue;
        }
        let want = first.iter().sum::<f64>() / first.len() as f64;
        ensure!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "series {i}: first bucket averages {got}, expected {want}"
        );
    }
    Ok(())
}

/// Bytes of the part files under `dir`, split by the value shape of each
/// chunk's series; the series table, header and footer are shared and
/// reported as one more row.
fn bytes_by_shape(dir: &Path, fleet: &Fleet, ids: &[SeriesId]) -> Result<Vec<ShapeBytes>> {
    use std::collections::HashMap;
    let index: HashMap<SeriesId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let order = [
        Shape::NoisyGauge1,
        Shape::NoisyGauge2,
        Shape::Counter,
        Shape::NearConstant,
    ];
    let mut rows: Vec<ShapeBytes> = order
        .iter()
        .map(|s| ShapeBytes {
            shape: format!("{s:?}"),
            series: fleet.shapes.iter().filter(|x| *x == s).count(),
            points: 0,
            chunk_bytes: 0,
            chunk_bytes_per_point: 0.0,
        })
        .collect();
    let mut shared = 0u64;
    let mut files = Vec::new();
    find_parts(&dir.join("blocks"), &mut files)?;
    for f in files {
        let part = whippet_tsdb::block::Part::open(&f)?;
        let mut chunks = 0u64;
        for e in 0..part.entry_count() {
            let c = part.entry(e);
            let i = *index
                .get(&c.series)
                .with_context(|| format!("unknown series {} in {}", c.series, f.display()))?;
            let row = order
                .iter()
                .position(|s| *s == fleet.shapes[i])
                .expect("every shape has a row");
            rows[row].points += u64::from(c.count);
            rows[row].chunk_bytes += u64::from(c.len);
            chunks += u64::from(c.len);
        }
        shared += part.meta().file_bytes - chunks;
    }
    let total_points: u64 = rows.iter().map(|r| r.points).sum();
    for r in &mut rows {
        r.chunk_bytes_per_point = r.chunk_bytes as f64 / r.points.max(1) as f64;
    }
    rows.push(ShapeBytes {
        shape: "shared (series table, header, footer)".into(),
        series: fleet.spec.series,
        points: total_points,
        chunk_bytes: shared,
        chunk_bytes_per_point: shared as f64 / total_points.max(1) as f64,
    });
    Ok(rows)
}

fn find_parts(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("list {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir() {
            find_parts(&p, out)?;
        } else if p
            .extension()
            .is_some_and(|x| x == whippet_tsdb::block::PART_EXT)
        {
            out.push(p);
        }
    }
    Ok(())
}
