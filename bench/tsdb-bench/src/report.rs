//! The result of a run: what is measured (serialised as the JSON file) and
//! its Markdown rendering, with the targets each figure is held to.

use std::fmt::Write as _;

use serde::{Serialize, Serializer};

use crate::sys::{Machine, Mem};

/// Targets from the storage engine's issue; the Markdown marks each figure
/// PASS or FAIL against them.
pub mod targets {
    /// Most bytes of part files per point after merges.
    pub const BYTES_PER_POINT: f64 = 1.0;
    /// Fewest points ingested per second per core (process CPU time).
    pub const INGEST_POINTS_PER_CORE_SEC: f64 = 3.0e6;
    /// Most bytes of memory per active series ("1.5 KB": 1 000 000 series in
    /// about 1.5 GB, as the engine's configuration documents it).
    pub const BYTES_PER_ACTIVE_SERIES: f64 = 1_500.0;
    /// Fewest points aggregated per second on one core.
    pub const AGG_POINTS_PER_CORE_SEC: f64 = 100.0e6;
}

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct Results {
    /// UTC date of the run.
    pub date: String,
    /// `small` or `full`.
    pub preset: String,
    /// How to reproduce the run.
    pub command: String,
    /// Where the engine's files were.
    pub data_dir: String,
    /// The file system type there (tmpfs makes syncs free).
    pub data_fs: String,
    /// The machine and build, under this bench's own field names (see
    /// [`machine_fields`]).
    #[serde(serialize_with = "machine_fields")]
    pub machine: Machine,
    /// The data set.
    pub dataset: Dataset,
    /// Bulk ingest into a fresh engine.
    pub ingest: Ingest,
    /// Size on disk after flush and after merge.
    pub storage: Storage,
    /// Memory of a separate engine fed like live agents.
    pub memory: Memory,
    /// Reads over the merged data.
    pub reads: Reads,
    /// Each headline figure against its target.
    pub checks: Vec<Check>,
}

/// Writes the shared [`Machine`] as this bench's result files always have:
/// the build as `build` and no clock-tick rate (CPU times here use
/// [`crate::sys::TICKS_PER_SEC`]), so that files from before and after the
/// machine description was shared read alike.
fn machine_fields<S: Serializer>(m: &Machine, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Fields<'a> {
        nproc: usize,
        cpu_model: &'a str,
        mem_total_bytes: u64,
        kernel: &'a str,
        git_commit: Option<&'a str>,
        build: &'static str,
    }
    Fields {
        nproc: m.nproc,
        cpu_model: &m.cpu_model,
        mem_total_bytes: m.mem_total_bytes,
        kernel: &m.kernel,
        git_commit: m.git_commit.as_deref(),
        build: m.bench_build,
    }
    .serialize(s)
}

/// The fleet data set used.
#[derive(Debug, Serialize)]
pub struct Dataset {
    /// Series.
    pub series: usize,
    /// Hosts (20 series each).
    pub hosts: usize,
    /// Ticks per series.
    pub points_per_series: usize,
    /// Interval between ticks.
    pub interval_ms: i64,
    /// First tick.
    pub start_ms: i64,
    /// Generator seed.
    pub seed: u64,
    /// Points, gaps excluded.
    pub total_points: u64,
    /// Series that miss runs of points.
    pub series_with_gaps: usize,
    /// Time to generate the points (not part of any measurement).
    pub generate_secs: f64,
}

/// Bulk ingest figures.
#[derive(Debug, Serialize)]
pub struct Ingest {
    /// Time to resolve (create) every series.
    pub resolve_secs: f64,
    /// Series resolved per second.
    pub series_per_sec: f64,
    /// Points per `append_floats` call.
    pub batch_points: usize,
    /// Wall time of the append loop (one writer thread).
    pub wall_secs: f64,
    /// Points per second of wall time.
    pub points_per_sec_wall: f64,
    /// CPU time of the whole process during the loop (writer and
    /// background threads).
    pub cpu_process_secs: f64,
    /// CPU time of the writer thread alone.
    pub cpu_writer_secs: f64,
    /// Points per second of process CPU time: the per-core figure.
    pub points_per_cpu_sec: f64,
    /// Process CPU seconds per million points.
    pub cpu_secs_per_million_points: f64,
    /// Writer-thread CPU seconds per million points.
    pub writer_cpu_secs_per_million_points: f64,
    /// Points the engine rejected (should be 0).
    pub rejected: u64,
    /// Times the writer waited for the background flush or merges.
    pub backpressure_waits: u64,
    /// Head cuts during the loop (the head is cut at `head_max_bytes`).
    pub head_cuts: u64,
    /// Parts written by the background flusher during the loop.
    pub parts_flushed: u64,
    /// Background merges during the loop.
    pub merges: u64,
    /// WAL bytes on disk at the end of the loop.
    pub wal_bytes_at_end: u64,
    /// Points in the active and frozen heads at the end of the loop.
    pub head_points_at_end: u64,
    /// Approximate bytes of the heads at the end of the loop.
    pub head_bytes_at_end: u64,
    /// Time of the final `flush()` (cut and write every head as parts).
    pub flush_secs: f64,
    /// Process CPU time of that flush (all threads: background merges
    /// that run meanwhile count too).
    pub flush_cpu_secs: f64,
    /// Points per second of process CPU from the first append to the end
    /// of the final flush: every point acknowledged and written to a part.
    pub end_to_end_points_per_cpu_sec: f64,
    /// Resident memory just before the engine was opened (includes the
    /// pre-generated points the loop reads).
    pub rss_before: u64,
    /// Peak resident memory from then to the end of the flush.
    pub peak_rss: u64,
    /// `peak_rss - rss_before`: what the engine added at its peak.
    pub peak_growth: u64,
    /// Heap held just before the engine was opened.
    pub heap_before: u64,
    /// Most heap the engine held at once, above `heap_before`, from then to
    /// the end of the flush.
    pub peak_heap_growth: u64,
    /// Whether the peak could be reset before this phase (else `peak_rss`
    /// may come from an earlier phase).
    pub peak_was_reset: bool,
}

/// Part files at one moment.
#[derive(Debug, Serialize)]
pub struct PartsSnapshot {
    /// Number of parts.
    pub parts: u64,
    /// Points in parts.
    pub part_points: u64,
    /// Bytes of part files.
    pub part_bytes: u64,
    /// `part_bytes / data set points`.
    pub bytes_per_point: f64,
}

/// Storage figures.
#[derive(Debug, Serialize)]
pub struct Storage {
    /// After the final flush, before any forced merge (background merges
    /// may have run during ingest).
    pub after_flush: PartsSnapshot,
    /// Time of `compact()`.
    pub compact_secs: f64,
    /// Merges `compact()` did.
    pub compact_merges: usize,
    /// After `compact()`: one part per partition.
    pub after_merge: PartsSnapshot,
    /// After `compact()`, chunk bytes by value shape, and the bytes every
    /// series shares (the series table: 40 bytes per chunk).
    pub by_shape: Vec<ShapeBytes>,
}

/// Chunk bytes of the series of one value shape.
#[derive(Debug, Serialize)]
pub struct ShapeBytes {
    /// The shape (or the shared overhead row).
    pub shape: String,
    /// Series of that shape.
    pub series: usize,
    /// Their points.
    pub points: u64,
    /// Bytes of their chunks (CRC, kind, timestamps, values).
    pub chunk_bytes: u64,
    /// `chunk_bytes / points`.
    pub chunk_bytes_per_point: f64,
}

/// One memory reading of the live-ingest engine.
#[derive(Debug, Serialize)]
pub struct MemSample {
    /// What had just happened.
    pub at: String,
    /// The process' memory.
    pub mem: Mem,
    /// `(rss - rss before open) / series`.
    pub bytes_per_series: f64,
    /// `(heap - heap before open) / series`: what the engine holds, without
    /// the allocator's slack and without mapped files.
    pub heap_bytes_per_series: f64,
    /// The engine's own estimate of its heads' size.
    pub head_bytes: u64,
    /// Parts on disk (each is memory-mapped).
    pub parts: u64,
    /// Bytes of those parts.
    pub part_bytes: u64,
}

/// Memory per active series.
#[derive(Debug, Serialize)]
pub struct Memory {
    /// Active series.
    pub series: usize,
    /// Ticks written (one point per series per tick).
    pub ticks: usize,
    /// `flush()` after every this many ticks (the 60 s head cut).
    pub flush_every_ticks: usize,
    /// Memory before the engine was opened.
    pub before: Mem,
    /// Readings after resolving and after each flush boundary.
    pub samples: Vec<MemSample>,
    /// Largest `bytes_per_series` of the samples: the headline figure.
    pub peak_bytes_per_series: f64,
    /// Largest `heap_bytes_per_series` of the samples.
    pub peak_heap_bytes_per_series: f64,
    /// Most heap held at any moment of the phase, per series: includes the
    /// transient buffers of flushes and merges, which the samples (taken
    /// between them) miss.
    pub transient_heap_bytes_per_series: f64,
    /// `bytes_per_series` right after resolving (catalog and index only).
    pub catalog_bytes_per_series: f64,
}

/// Repeated timings of one read.
#[derive(Debug, Serialize)]
pub struct Timing {
    /// Threads used.
    pub threads: usize,
    /// Seconds of each run.
    pub runs_secs: Vec<f64>,
    /// Fastest run.
    pub best_secs: f64,
    /// Median run.
    pub median_secs: f64,
    /// Points per second of the fastest run.
    pub best_points_per_sec: f64,
    /// Points per second of the median run.
    pub median_points_per_sec: f64,
    /// Median points per second divided by the threads.
    pub median_points_per_sec_per_thread: f64,
}

impl Timing {
    /// Summarises runs over `points` points.
    pub fn new(threads: usize, runs_secs: Vec<f64>, points: u64) -> Timing {
        let mut s = runs_secs.clone();
        s.sort_by(f64::total_cmp);
        let best = s[0];
        let median = if s.len() % 2 == 1 {
            s[s.len() / 2]
        } else {
            (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
        };
        let p = points as f64;
        Timing {
            threads,
            runs_secs,
            best_secs: best,
            median_secs: median,
            best_points_per_sec: p / best,
            median_points_per_sec: p / median,
            median_points_per_sec_per_thread: p / median / threads as f64,
        }
    }
}

/// Read figures.
#[derive(Debug, Serialize)]
pub struct Reads {
    /// Time of `engine.read(org, &Selector::All, start, end)`: selecting
    /// every series and taking the snapshot.
    pub snapshot_secs: f64,
    /// Series in the view.
    pub series: usize,
    /// Points in the view.
    pub points: u64,
    /// `aggregate(60 s, Avg, 1)`.
    pub aggregate_1_thread: Timing,
    /// `aggregate(60 s, Avg, available_parallelism)`.
    pub aggregate_n_threads: Timing,
    /// `view.floats(i)` over every series, one thread.
    pub raw_decode: Timing,
}

/// One figure against its target.
#[derive(Debug, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Measured value.
    pub measured: f64,
    /// Target value.
    pub target: f64,
    /// `≤` or `≥`.
    pub op: &'static str,
    /// Unit of both.
    pub unit: &'static str,
    /// Whether the target is met.
    pub pass: bool,
}

impl Check {
    fn at_most(name: &str, measured: f64, target: f64, unit: &'static str) -> Check {
        Check {
            name: name.into(),
            measured,
            target,
            op: "≤",
            unit,
            pass: measured <= target,
        }
    }
    fn at_least(name: &str, measured: f64, target: f64, unit: &'static str) -> Check {
        Check {
            name: name.into(),
            measured,
            target,
            op: "≥",
            unit,
            pass: measured >= target,
        }
    }
}

/// The headline checks of a run.
pub fn checks(ingest: &Ingest, storage: &Storage, memory: &Memory, reads: &Reads) -> Vec<Check> {
    vec![
        Check::at_most(
            "Bytes per point after merge",
            storage.after_merge.bytes_per_point,
            targets::BYTES_PER_POINT,
            "B/point",
        ),
        Check::at_least(
            "Ingest per core (append loop, process CPU)",
            ingest.points_per_cpu_sec,
            targets::INGEST_POINTS_PER_CORE_SEC,
            "points/s",
        ),
        Check::at_least(
            "Ingest per core, end to end (appends + flush to parts)",
            ingest.end_to_end_points_per_cpu_sec,
            targets::INGEST_POINTS_PER_CORE_SEC,
            "points/s",
        ),
        Check::at_most(
            "Memory per active series (peak)",
            memory.peak_bytes_per_series,
            targets::BYTES_PER_ACTIVE_SERIES,
            "B/series",
        ),
        Check::at_least(
            "Aggregation, 1 thread (median)",
            reads.aggregate_1_thread.median_points_per_sec,
            targets::AGG_POINTS_PER_CORE_SEC,
            "points/s",
        ),
    ]
}

/// `1234567.0` → `1.23 M`.
pub fn si(x: f64) -> String {
    let (v, suffix) = match x.abs() {
        a if a >= 1e9 => (x / 1e9, " G"),
        a if a >= 1e6 => (x / 1e6, " M"),
        a if a >= 1e3 => (x / 1e3, " k"),
        _ => (x, " "),
    };
    format!("{v:.2}{suffix}")
}

/// Bytes with a binary unit.
pub fn bytes(b: f64) -> String {
    let (v, unit) = match b.abs() {
        a if a >= (1u64 << 30) as f64 => (b / (1u64 << 30) as f64, "GiB"),
        a if a >= (1u64 << 20) as f64 => (b / (1u64 << 20) as f64, "MiB"),
        a if a >= 1024.0 => (b / 1024.0, "KiB"),
        _ => (b, "B"),
    };
    format!("{v:.1} {unit}")
}

fn fmt_measure(c: &Check) -> String {
    match c.unit {
        "points/s" => format!("{}points/s", si(c.measured)),
        "B/series" => format!("{:.0} B/series", c.measured),
        _ => format!("{:.3} {}", c.measured, c.unit),
    }
}

fn fmt_target(c: &Check) -> String {
    match c.unit {
        "points/s" => format!("{} {}points/s", c.op, si(c.target)),
        "B/series" => format!("{} {:.0} B/series", c.op, c.target),
        _ => format!("{} {} {}", c.op, c.target, c.unit),
    }
}

/// The headline table, also printed at the end of a run.
pub fn summary_table(checks: &[Check]) -> String {
    let mut s = String::new();
    s.push_str("| Figure | Measured | Target | Verdict |\n|---|---|---|---|\n");
    for c in checks {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.name,
            fmt_measure(c),
            fmt_target(c),
            if c.pass { "PASS" } else { "FAIL" }
        );
    }
    s
}

fn timing_row(s: &mut String, name: &str, t: &Timing) {
    let runs: Vec<String> = t.runs_secs.iter().map(|x| format!("{x:.3}")).collect();
    let _ = writeln!(
        s,
        "| {name} | {} | {}points/s | {}points/s | {}points/s | {} |",
        t.threads,
        si(t.best_points_per_sec),
        si(t.median_points_per_sec),
        si(t.median_points_per_sec_per_thread),
        runs.join(", "),
    );
}

/// Renders the Markdown report.
pub fn markdown(r: &Results) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let d = &r.dataset;
    let _ = writeln!(
        s,
        "# whippet-tsdb benchmark: `{}` preset, {}\n",
        r.preset, r.date
    );
    let _ = writeln!(s, "Command: `{}`\n", r.command);
    let _ = writeln!(
        s,
        "Machine: {}; {} build. Engine files under `{}` ({}).\n",
        m.summary(),
        m.bench_build,
        r.data_dir,
        r.data_fs,
    );
    s.push_str("## Summary\n\n");
    if r.preset != "full" {
        s.push_str(
            "The targets are set for the `full` preset. This smaller preset has shorter \
             series (shorter chunks compress and decode less well), so it is a quick \
             check, not the measure of the targets.\n\n",
        );
    }
    s.push_str(&summary_table(&r.checks));
    let _ = writeln!(
        s,
        "\nData set: {} series ({} hosts × 20 metrics) × {} points every {} s, \
         {} points after gaps ({} series with gaps), seed {:#x} \
         (`whippet-fleetgen`; see `bench/README.md`).\n",
        d.series,
        d.hosts,
        d.points_per_series,
        d.interval_ms / 1000,
        d.total_points,
        d.series_with_gaps,
        d.seed,
    );

    let i = &r.ingest;
    s.push_str("## Ingest (one writer thread, time-major batches)\n\n");
    s.push_str("| Figure | Value |\n|---|---|\n");
    let rows: Vec<(&str, String)> = vec![
        (
            "Resolve every series",
            format!("{:.2} s, {}series/s", i.resolve_secs, si(i.series_per_sec)),
        ),
        (
            "Append loop, wall",
            format!(
                "{:.2} s, {}points/s",
                i.wall_secs,
                si(i.points_per_sec_wall)
            ),
        ),
        (
            "Append loop, process CPU (all threads)",
            format!(
                "{:.2} s, {}points/s per core, {:.3} CPU s per million points",
                i.cpu_process_secs,
                si(i.points_per_cpu_sec),
                i.cpu_secs_per_million_points
            ),
        ),
        (
            "Append loop, writer thread CPU",
            format!(
                "{:.2} s, {:.3} CPU s per million points",
                i.cpu_writer_secs, i.writer_cpu_secs_per_million_points
            ),
        ),
        ("Batch size", format!("{} points", i.batch_points)),
        ("Rejected points", i.rejected.to_string()),
        (
            "Head cuts / parts flushed / merges during the loop",
            format!("{} / {} / {}", i.head_cuts, i.parts_flushed, i.merges),
        ),
        ("Backpressure waits", i.backpressure_waits.to_string()),
        (
            "At the end of the loop: WAL on disk, heads",
            format!(
                "{}, {} points in heads ({} by the engine's estimate)",
                bytes(i.wal_bytes_at_end as f64),
                i.head_points_at_end,
                bytes(i.head_bytes_at_end as f64)
            ),
        ),
        (
            "Final flush (cut + write parts)",
            format!("{:.2} s wall, {:.2} s CPU", i.flush_secs, i.flush_cpu_secs),
        ),
        (
            "End to end (append loop + final flush), process CPU",
            format!("{}points/s per core", si(i.end_to_end_points_per_cpu_sec)),
        ),
        (
            "Peak RSS, ingest + flush",
            format!(
                "{} ({} above the {} before opening, which includes the \
                 pre-generated points; peak heap held by the engine: {}){}",
                bytes(i.peak_rss as f64),
                bytes(i.peak_growth as f64),
                bytes(i.rss_before as f64),
                bytes(i.peak_heap_growth as f64),
                if i.peak_was_reset {
                    ""
                } else {
                    "; peak could not be reset, it may come from an earlier phase"
                }
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "| {k} | {v} |");
    }

    let st = &r.storage;
    s.push_str("\n## Storage\n\n| Moment | Parts | Points in parts | Bytes | Bytes/point |\n|---|---|---|---|---|\n");
    for (name, p) in [
        ("After flush", &st.after_flush),
        ("After compact", &st.after_merge),
    ] {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {:.3} |",
            p.parts,
            p.part_points,
            bytes(p.part_bytes as f64),
            p.bytes_per_point
        );
    }
    let _ = writeln!(
        s,
        "\n`compact()` took {:.2} s ({} merges). After it, by value shape \
         (see `whippet-fleetgen` for what each shape is):\n",
        st.compact_secs, st.compact_merges
    );
    s.push_str("| Shape | Series | Points | Bytes | Bytes/point |\n|---|---|---|---|---|\n");
    for b in &st.by_shape {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.3} |",
            b.shape,
            b.series,
            b.points,
            bytes(b.chunk_bytes as f64),
            b.chunk_bytes_per_point
        );
    }
    s.push('\n');

    let mem = &r.memory;
    let _ = writeln!(
        s,
        "## Memory per active series (separate engine, live ingest)\n\n\
         {} series resolved, then {} ticks of one point per series, `flush()` \
         every {} ticks. RSS before opening: {}.\n",
        mem.series,
        mem.ticks,
        mem.flush_every_ticks,
        bytes(mem.before.rss as f64)
    );
    s.push_str(
        "| After | RSS | anon | file | RSS/series | Heap/series | Head (engine estimate) | Parts |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for smp in &mem.samples {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.0} B | {:.0} B | {} | {} ({}) |",
            smp.at,
            bytes(smp.mem.rss as f64),
            bytes(smp.mem.anon as f64),
            bytes(smp.mem.file as f64),
            smp.bytes_per_series,
            smp.heap_bytes_per_series,
            bytes(smp.head_bytes as f64),
            smp.parts,
            bytes(smp.part_bytes as f64),
        );
    }
    let _ = writeln!(
        s,
        "\nPeak: {:.0} bytes of RSS per series ({:.0} of live heap at the \
         samples, {:.0} at the heap's high-water mark, sampled every 2 ms, \
         reached inside a flush or merge); catalog and index alone (after resolve): {:.0}. RSS/series is the process' \
         resident memory above the baseline: the catalog (keys, symbols), the \
         tag index, the heads, the pages of memory-mapped parts that flushes \
         and merges touched (\"file\"), thread stacks, and what the allocator \
         keeps after frees (per-thread arenas). Heap/series counts only the \
         bytes the process holds allocated (a counting global allocator). \
         The bench's own buffers were allocated before the baseline. After \
         each flush the bench runs the merge policy to completion \
         (`merge_step`), as the background merger would between two real \
         60 s cuts.\n",
        mem.peak_bytes_per_series,
        mem.peak_heap_bytes_per_series,
        mem.transient_heap_bytes_per_series,
        mem.catalog_bytes_per_series
    );

    let rd = &r.reads;
    let _ = writeln!(
        s,
        "## Reads (after compact)\n\n`read(org, All, start, end)` snapshot of {} \
         series: {:.3} s. Points per second count every stored point in the \
         range ({}).\n",
        rd.series, rd.snapshot_secs, rd.points
    );
    s.push_str("| Pass | Threads | Best | Median | Median per thread | Runs (s) |\n|---|---|---|---|---|---|\n");
    timing_row(&mut s, "aggregate(60 s, Avg)", &rd.aggregate_1_thread);
    timing_row(&mut s, "aggregate(60 s, Avg)", &rd.aggregate_n_threads);
    timing_row(&mut s, "raw decode (`view.floats`)", &rd.raw_decode);

    s.push_str(
        "\n## Notes\n\n\
         - Timings are wall clock on a machine that may be shared; CPU times \
         come from `/proc/self/stat` at 10 ms resolution.\n\
         - Ingest CPU counts every thread of the process during the append \
         loop: the writer plus the engine's background flusher, merger and \
         WAL syncer. The final flush is reported separately.\n\
         - The ingest engine runs with default settings except a manual \
         clock set just after the data set's last timestamp.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_keeps_this_benchs_field_names() {
        let m = Machine::detect(std::path::Path::new("."));
        let mut json = Vec::new();
        machine_fields(&m, &mut serde_json::Serializer::new(&mut json)).unwrap();
        let json = String::from_utf8(json).unwrap();
        let at: Vec<usize> = [
            "nproc",
            "cpu_model",
            "mem_total_bytes",
            "kernel",
            "git_commit",
            "build",
        ]
        .iter()
        .map(|k| {
            json.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} in {json}"))
        })
        .collect();
        assert!(at.is_sorted(), "{json}");
        assert_eq!(json.matches("\":").count(), 6, "{json}");
    }
}
