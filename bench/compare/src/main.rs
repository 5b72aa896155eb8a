//! # whippet-bench: Whippet against VictoriaMetrics and Prometheus
//!
//! The one command that compares Whippet with the best open peers on the
//! same data, on the user's own machine (`bench/run` builds and runs it):
//!
//! ```text
//! bench/run                     # the default preset: 100k series × 720 points
//! bench/run --preset small      # 10k series × 360 points, under two minutes
//! bench/run --scaling 10000,100000,300000   # the query suite at three sizes
//! ```
//!
//! The steps of a preset run, in order (each described in
//! `bench/README.md`):
//! 1. find the servers: `target/release/whippet`, VictoriaMetrics 1.79 and
//!    Prometheus 2.42 (Debian packages, installed with apt-get when
//!    missing);
//! 2. generate the `whippet-fleetgen` fleet as Datadog v1 JSON bodies;
//! 3. ingest them into a fresh Whippet, then a fresh VictoriaMetrics
//!    (`/datadog/api/v1/series`), reading every point back after each;
//! 4. generate the same fleet as Datadog v2 protobuf (zstd) and remote
//!    write bodies, and ingest them into a fresh Whippet (`/api/v2/series`),
//!    VictoriaMetrics and Prometheus (`/api/v1/write`), reading back
//!    after each; these three stay up;
//! 5. run the query suite on those three ([`query`]), and on Whippet once
//!    more in PromQL, through its Prometheus API;
//! 6. make each system's data final on disk and measure it
//!    ([`systems::disk`]);
//! 7. write `bench/results/<date>-compare-<preset>.{json,md,svg,png}`.
//!
//! `--scaling` runs the query suite at several sizes instead ([`scaling`]).

mod chart;
mod ingest;
mod query;
mod report;
mod scaling;
mod systems;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Parser, ValueEnum};
use whippet_fleetgen::FleetSpec;
use whippet_intake_bench::payload::{self, Cut, DataSet, Encoding, Format};
use whippet_intake_bench::progress::{Log, workspace_root, write_results};
use whippet_intake_bench::verify::Expect;
use whippet_intake_bench::{server, sys};
use whippet_query_bench::suite;

use crate::query::{Plan, Range, Side};
use crate::report::{Dataset, Results};
use crate::systems::{Binaries, System};

/// Which data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// 10 000 series × 360 points (3.6 M points, one hour): under two
    /// minutes.
    Small,
    /// 100 000 series × 720 points (71.7 M points, two hours): about fifteen
    /// minutes and 6 GB of memory.
    Full,
}

impl Preset {
    fn name(self) -> &'static str {
        match self {
            Preset::Small => "small",
            Preset::Full => "full",
        }
    }
    fn spec(self) -> FleetSpec {
        match self {
            Preset::Small => FleetSpec::small(),
            Preset::Full => FleetSpec::full(),
        }
    }
}

/// Compare Whippet with VictoriaMetrics and Prometheus on the same data:
/// ingest (Datadog JSON, protobuf), memory, disk and a query suite; write
/// dated results and a chart.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    /// Data set size.
    #[arg(long, value_enum, default_value_t = Preset::Full)]
    preset: Preset,
    /// Instead of a preset run: the query suite at each of these series
    /// counts (comma-separated, e.g. 10000,100000,300000), 720 points each.
    #[arg(long, value_delimiter = ',')]
    scaling: Vec<usize>,
    /// Also load Prometheus in the scaling runs (slow at 300k series).
    #[arg(long)]
    scaling_prometheus: bool,
    /// Measured runs per query and system.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    runs: u32,
    /// Unmeasured runs per query and system before the measured ones.
    #[arg(long, default_value_t = 3)]
    warmups: u32,
    /// Concurrent sender connections.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    senders: u16,
    /// Directory of the result files [default: bench/results in the
    /// workspace].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The whippet binary [default: target/release/whippet in the workspace].
    #[arg(long)]
    whippet_bin: Option<PathBuf>,
    /// The VictoriaMetrics binary [default: `victoria-metrics` on the PATH,
    /// installed with apt-get when missing].
    #[arg(long)]
    vm_bin: Option<PathBuf>,
    /// The Prometheus binary [default: `prometheus` on the PATH, installed
    /// with apt-get when missing].
    #[arg(long)]
    prometheus_bin: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let log = Log::start();
    let started = Instant::now();
    let root = workspace_root();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("bench/results"));
    let machine = sys::Machine::detect(&root);
    if machine.bench_build == "debug" {
        log.say("WARNING: debug build of the bench; run with --release");
    }
    let bins = binaries(&args, &root, &log)?;
    if !args.scaling.is_empty() {
        return scaling::run(&args, &bins, machine, &out_dir, &log);
    }
    let hz = machine.clock_ticks_per_sec;
    let senders = usize::from(args.senders);

    // The data set: the first point on a multiple of 60 s (so that every
    // step of the suite starts its first bucket there), the last at most two
    // minutes before now.
    let spec = aligned(args.preset.spec());
    let interval_secs = spec.interval_ms / 1000;
    let first = spec.start_ms / 1000;
    let last = spec.end_ms() / 1000 - interval_secs;
    log.say(format!(
        "{} series × {} points (commit {}, {} × {})",
        spec.series,
        spec.points_per_series,
        machine.git_commit.as_deref().unwrap_or("unknown"),
        machine.nproc,
        machine.cpu_model
    ));

    // Datadog JSON into Whippet and VictoriaMetrics.
    let mut gen_secs = 0.0;
    let mut bodies = Vec::new();
    let json = generate(
        spec,
        Format::DatadogJson,
        Encoding::Identity,
        &machine,
        &mut gen_secs,
        &log,
    )?;
    bodies.push(body_row(&json));
    let metrics = json.metrics.clone();
    let expect = Expect {
        metrics: &metrics,
        from_secs: first,
        to_secs: last,
        series: spec.series as u64,
        points: json.total_points,
        checksum: json.checksum,
    };
    let mut ingest = Vec::new();
    for system in [System::Whippet, System::VictoriaMetrics] {
        let mut srv = systems::start(system, &bins, &log)?;
        ingest.push(ingest::run(&srv, &json, &expect, senders, hz, &log)?);
        srv.server.stop()?;
    }
    drop(json);

    // Protobuf into all three, which then stay up for the queries.
    let (v2, rw) = generate_protobuf(spec, &machine, &mut gen_secs, &log)?;
    bodies.push(body_row(&v2));
    bodies.push(body_row(&rw));
    for ds in [&v2, &rw] {
        if ds.checksum != expect.checksum || ds.total_points != expect.points {
            bail!(
                "the {} bodies do not hold the JSON bodies' points",
                ds.cut.format.name()
            );
        }
    }
    let mut running = Vec::new();
    for (system, ds) in [
        (System::Whippet, &v2),
        (System::VictoriaMetrics, &rw),
        (System::Prometheus, &rw),
    ] {
        let srv = systems::start(system, &bins, &log)?;
        ingest.push(ingest::run(&srv, ds, &expect, senders, hz, &log)?);
        let t = sys::settle(&srv.server.pid(), hz, std::time::Duration::from_secs(60));
        log.say(format!("{}: quiet after {t:.1} s", system.name()));
        running.push(srv);
    }
    drop((v2, rw));

    // The queries.
    let (queries, query_load_avg) = run_suite(&spec, &running, &args, hz, &log)?;

    // Disk.
    let mut disk = Vec::new();
    for srv in running {
        disk.push(systems::disk(srv, expect.points, &bins, hz, &log)?);
    }

    // The report.
    let mut command = format!("bench/run --preset {}", args.preset.name());
    if args.runs != 20 {
        command.push_str(&format!(" --runs {}", args.runs));
    }
    if args.warmups != 3 {
        command.push_str(&format!(" --warmups {}", args.warmups));
    }
    if args.senders != 4 {
        command.push_str(&format!(" --senders {}", args.senders));
    }
    let checks = report::checks(&ingest, &disk, &queries);
    let results = Results {
        date: sys::utc_date(),
        preset: args.preset.name().into(),
        command,
        machine,
        binaries: bins,
        vm_flags: systems::VM_FLAGS.iter().map(|s| (*s).to_owned()).collect(),
        dataset: Dataset {
            series: spec.series,
            hosts: spec.hosts(),
            points_per_series: spec.points_per_series,
            interval_secs,
            total_points: expect.points,
            seed: spec.seed,
            checksum: format!("{:016x}", expect.checksum.0),
            first_ts: first,
            last_ts: last,
            bodies,
            generate_secs: gen_secs,
        },
        ingest,
        disk,
        warmup_runs: args.warmups,
        measured_runs: args.runs,
        query_load_avg,
        queries,
        checks,
        total_secs: started.elapsed().as_secs_f64(),
    };
    let stem = format!("{}-compare-{}", results.date, results.preset);
    let png = write_chart(&results, &out_dir, &stem, &log);
    let (json_path, md_path) = write_results(
        &out_dir,
        &stem,
        &serde_json::to_string_pretty(&results)?,
        &report::markdown(&results, png.as_deref()),
    )?;
    log.say(format!(
        "wrote {} and {}",
        json_path.display(),
        md_path.display()
    ));
    println!("\n{}", report::summary_table(&results.checks));
    println!("{}", report::latency_table(&results.queries));
    let failed = results.checks.iter().filter(|c| !c.pass).count();
    log.say(format!(
        "{} of {} checks pass",
        results.checks.len() - failed,
        results.checks.len()
    ));
    Ok(())
}

/// Finds the three servers and their versions.
fn binaries(args: &Args, root: &std::path::Path, log: &Log) -> Result<Binaries> {
    let whippet = args
        .whippet_bin
        .clone()
        .unwrap_or_else(|| root.join("target/release/whippet"));
    if !whippet.is_file() {
        bail!(
            "no whippet binary at {}; build it first with\n    cargo build --release -p whippet\n\
             (bench/run does), or pass --whippet-bin PATH",
            whippet.display()
        );
    }
    let vm = server::find_or_install_vm(args.vm_bin.as_deref(), |m| log.say(m))?;
    let prometheus =
        server::find_or_install_prometheus(args.prometheus_bin.as_deref(), |m| log.say(m))?;
    let b = Binaries {
        whippet_version: server::version(&whippet, "--version"),
        vm_version: server::vm_version(&vm),
        prometheus_version: server::prometheus_version(&prometheus),
        whippet,
        vm,
        prometheus,
    };
    log.say(format!(
        "whippet: {}; victoria-metrics: {}; prometheus: {}",
        b.whippet_version, b.vm_version, b.prometheus_version
    ));
    Ok(b)
}

/// `base` moved in time: the first point on a multiple of 60 s, the last at
/// most two minutes before now.
pub fn aligned(base: FleetSpec) -> FleetSpec {
    let interval_secs = base.interval_ms / 1000;
    let n = base.points_per_series as i64;
    let first = (sys::unix_secs() - 120 - (n - 1) * interval_secs).div_euclid(60) * 60;
    FleetSpec {
        start_ms: first * 1000,
        ..base
    }
}

/// Generates every body of `spec` in `format`, adding the seconds it took
/// to `secs`.
fn generate(
    spec: FleetSpec,
    format: Format,
    encoding: Encoding,
    machine: &sys::Machine,
    secs: &mut f64,
    log: &Log,
) -> Result<DataSet> {
    let t = Instant::now();
    let ds = payload::generate(spec, Cut::agents(format, encoding), machine.nproc)?;
    let took = t.elapsed().as_secs_f64();
    *secs += took;
    log.say(format!(
        "generated {} {} bodies, {} points, {} on the wire, in {took:.1} s",
        ds.bodies.len(),
        format.name(),
        ds.total_points,
        whippet_intake_bench::report::bytes(ds.wire_bytes)
    ));
    Ok(ds)
}

/// The bodies the systems that answer the queries are loaded with: Datadog
/// v2 protobuf (zstd, as newer Agents send it) for Whippet, remote write
/// for VictoriaMetrics and Prometheus.
pub fn generate_protobuf(
    spec: FleetSpec,
    machine: &sys::Machine,
    secs: &mut f64,
    log: &Log,
) -> Result<(DataSet, DataSet)> {
    let v2 = generate(
        spec,
        Format::DatadogProtobuf,
        Encoding::Zstd,
        machine,
        secs,
        log,
    )?;
    let rw = generate(
        spec,
        Format::RemoteWrite,
        Encoding::Identity,
        machine,
        secs,
        log,
    )?;
    Ok((v2, rw))
}

fn body_row(ds: &DataSet) -> (String, usize, u64) {
    let mut name = ds.cut.format.name().to_owned();
    if let Some(e) = ds.cut.encoding.header() {
        name.push_str(&format!(" ({e})"));
    }
    (name, ds.bodies.len(), ds.wire_bytes)
}

/// Runs the suite on `running` (Whippet first), loaded with `spec`, over
/// its whole range with the warm-ups and runs of `args`; the results and
/// the load average before and after.
pub fn run_suite(
    spec: &FleetSpec,
    running: &[systems::Running],
    args: &Args,
    hz: f64,
    log: &Log,
) -> Result<(Vec<query::QueryResult>, (f64, f64))> {
    let range = Range::of(spec);
    let plan = Plan {
        warmups: args.warmups,
        runs: args.runs,
        hz,
    };
    // VictoriaMetrics 1.79 and Prometheus keep the dotted names as sent.
    let hosts = suite::hosts(spec);
    let queries = suite::suite(&hosts, str::to_owned);
    // Whippet in Datadog's language first (its answer sets the step), then
    // in PromQL, then the peers.
    let mut sides: Vec<Side> = Vec::new();
    for srv in running {
        sides.push(Side::new(srv));
        sides.extend(Side::whippet_promql(srv));
    }
    let load_before = sys::load_avg_1m();
    let mut results = Vec::new();
    for q in &queries {
        log.say(format!(
            "{}: {}  |  {}",
            q.name, q.datadog, q.promql_template
        ));
        let r = query::run(q, &mut sides, &range, &plan);
        match &r.failure {
            Some(f) => log.say(format!("{}: FAILED: {f}", q.name)),
            None => {
                let parts: Vec<String> = r
                    .sides
                    .iter()
                    .map(|s| {
                        let ratio = if s.system == System::Whippet.name() {
                            String::new()
                        } else {
                            format!(" ({:.2}×)", s.median_ratio)
                        };
                        format!(
                            "{} {:.2}/{:.2} ms{ratio}",
                            s.system, s.summary.median_ms, s.summary.p99_ms
                        )
                    })
                    .collect();
                log.say(format!("{}: median/p99 {}", q.name, parts.join(", ")));
                if let (Some(wp), Some(vm)) = (
                    r.side_named(query::WHIPPET_PROMQL),
                    r.side(System::VictoriaMetrics),
                ) {
                    log.say(format!(
                        "{}: whippet PromQL median / victoria-metrics median = {:.2}×",
                        q.name,
                        wp.summary.median_ms / vm.summary.median_ms
                    ));
                }
                for s in &r.sides {
                    if let Some(w) = &s.warning {
                        log.say(format!("{}: WARNING: {w}", q.name));
                    }
                }
            }
        }
        results.push(r);
    }
    Ok((results, (load_before, sys::load_avg_1m())))
}

/// Writes the chart as SVG and PNG; the PNG's file name for the Markdown,
/// or `None` (with a warning) when it could not be made.
fn write_chart(r: &Results, dir: &std::path::Path, stem: &str, log: &Log) -> Option<String> {
    let rows = chart_rows(r);
    let title = format!(
        "Whippet vs VictoriaMetrics and Prometheus, {} series, {} ({})",
        r.dataset.series, r.date, r.preset
    );
    let svg = chart::svg(&title, &rows);
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&svg_path, svg)) {
        log.say(format!("WARNING: could not write the chart: {e}"));
        return None;
    }
    match chart::png(&svg_path, &png_path, |m| log.say(m)) {
        Ok(()) => Some(format!("{stem}.png")),
        Err(e) => {
            log.say(format!("WARNING: no PNG chart: {e:#}"));
            Some(format!("{stem}.svg"))
        }
    }
}

/// One chart row per ratio figure: Whippet's advantage over each peer.
fn chart_rows(r: &Results) -> Vec<chart::Row> {
    use report::disk_of;
    let adv_lo = |w: f64, p: f64| p / w;
    let mut rows = ingest_rows(&r.ingest);
    if let Some(w) = disk_of(&r.disk, System::Whippet) {
        let mut bars = Vec::new();
        for (name, s) in [
            ("victoria-metrics", System::VictoriaMetrics),
            ("prometheus", System::Prometheus),
        ] {
            if let Some(p) = disk_of(&r.disk, s) {
                bars.push((name, adv_lo(w.bytes_per_point, p.bytes_per_point)));
            }
        }
        rows.push(chart::Row {
            label: "Disk bytes per point".into(),
            bars,
            target: Some(1.5),
        });
    }
    for q in &r.queries {
        if q.failure.is_some() {
            continue;
        }
        let Some(w) = q.side(System::Whippet) else {
            continue;
        };
        let bars = q
            .sides
            .iter()
            .filter(|s| s.system != System::Whippet.name() && s.system != query::WHIPPET_PROMQL)
            .map(|s| {
                let name = if s.system == System::Prometheus.name() {
                    "prometheus"
                } else {
                    "victoria-metrics"
                };
                (name, adv_lo(w.summary.median_ms, s.summary.median_ms))
            })
            .collect();
        rows.push(chart::Row {
            label: format!("Query median, {}", q.name),
            bars,
            target: Some(2.0),
        });
    }
    // Whippet's PromQL against VictoriaMetrics' (issue 8: at most its
    // median, an advantage of at least 1).
    for q in &r.queries {
        if q.failure.is_some() {
            continue;
        }
        let (Some(w), Some(v)) = (
            q.side_named(query::WHIPPET_PROMQL),
            q.side(System::VictoriaMetrics),
        ) else {
            continue;
        };
        rows.push(chart::Row {
            label: format!("PromQL query median, {}", q.name),
            bars: vec![(
                "victoria-metrics",
                adv_lo(w.summary.median_ms, v.summary.median_ms),
            )],
            target: Some(1.0),
        });
    }
    rows
}

/// Whippet's advantage on one figure of two ingest runs, Whippet's first
/// (greater than 1: Whippet leads).
type Advantage = fn(&ingest::IngestRun, &ingest::IngestRun) -> f64;

/// The chart rows of the ingest figures: per format, Whippet's run against
/// the peers' runs of the same data.
fn ingest_rows(runs: &[ingest::IngestRun]) -> Vec<chart::Row> {
    use report::{JSON, RW, V2, ingest_run};
    let points_per_sec: Advantage = |w, p| w.points_per_sec / p.points_per_sec;
    let cpu: Advantage = |w, p| p.cpu_secs_per_mpoint / w.cpu_secs_per_mpoint;
    let peak_rss: Advantage = |w, p| p.peak_rss_bytes as f64 / w.peak_rss_bytes as f64;
    // (the format in the label, Whippet's format, the peers' format, the peers)
    let json = ("Datadog JSON", JSON, JSON, &[System::VictoriaMetrics][..]);
    let protobuf = (
        "protobuf",
        V2,
        RW,
        &[System::VictoriaMetrics, System::Prometheus][..],
    );
    [
        ("Ingest points/s", json, points_per_sec, Some(2.0)),
        ("Ingest CPU per point", json, cpu, Some(2.0)),
        ("Ingest points/s", protobuf, points_per_sec, Some(2.0)),
        ("Ingest CPU per point", protobuf, cpu, None),
        ("Peak RSS while ingesting", protobuf, peak_rss, Some(2.0)),
    ]
    .into_iter()
    .map(
        |(figure, (label, w_format, p_format, peers), advantage, target)| {
            let bars = match ingest_run(runs, System::Whippet, w_format) {
                Some(w) => peers
                    .iter()
                    .filter_map(|&s| {
                        ingest_run(runs, s, p_format).map(|p| (s.name(), advantage(w, p)))
                    })
                    .collect(),
                None => Vec::new(),
            };
            chart::Row {
                label: format!("{figure}, {label}"),
                bars,
                target,
            }
        },
    )
    .collect()
}
