//! # whippet-intake-bench: Datadog series intake, Whippet vs VictoriaMetrics
//!
//! One command runs `whippet serve` and VictoriaMetrics single-node side by
//! side (one after the other, in the same run) on the same Datadog
//! `/api/v1/series` JSON bodies from `whippet-fleetgen`'s fleet, and writes a
//! dated pair of result files, `<out>/<YYYY-MM-DD>-intake-<preset>.json` and
//! `.md`, with the machine, both versions, each system's figures, the ratios
//! and the verdicts against the targets (Whippet at least 2× the points per
//! second, at most half the CPU seconds per point).
//!
//! With `--remote-write` both systems get the same Prometheus remote write
//! 1.0 bodies instead, at their `/api/v1/write` (issue 8's target: Whippet
//! at least 2× VictoriaMetrics' points per second on the same payloads),
//! and the result pair is `<date>-intake-<preset>-remote-write`.
//!
//! ```text
//! cargo build --release -p whippet
//! cargo run --release -p whippet-intake-bench -- [--preset small|full] [--senders N] [--out DIR]
//! cargo run --release -p whippet-intake-bench -- --remote-write [--preset small|full]
//! ```
//!
//! The steps, in order (each described in `bench/README.md`):
//! 1. find the servers: `target/release/whippet` (or `--whippet-bin`), and
//!    `victoria-metrics` (installed with `apt-get` when missing);
//! 2. generate every request body in memory ([`payload`]);
//! 3. for each system: start it on a free port with a fresh data directory
//!    ([`server`]), send every body over keep-alive connections while
//!    sampling its CPU and memory from `/proc` ([`send`]), let it settle,
//!    read everything back through its export API ([`verify`]), stop it;
//! 4. write the report ([`report`]).
//!
//! Dependencies: `whippet-fleetgen` (the data), `clap`, `serde`/`serde_json`
//! (the JSON file and reading exports back), `flate2` (the `--gzip`
//! variant), `tempfile`, `anyhow`. The HTTP client is a small hand-written
//! HTTP/1.1 one over `std::net` ([`http`]): the bench needs keep-alive and
//! Content-Length framing only, and an HTTP crate would cost more to build
//! than to write. No libc: CPU time and memory come from `/proc`, signals
//! go through `kill(1)`. The modules live in the crate's library
//! (`src/lib.rs`), which `whippet-bench` and `whippet-tsdb-bench` share.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use whippet_fleetgen::FleetSpec;
use whippet_intake_bench::payload::{Cut, DataSet, Encoding, Format};
use whippet_intake_bench::progress::{Log, Start, write_results_and_say};
use whippet_intake_bench::report::{Dataset, Results, SystemRun};
use whippet_intake_bench::send::Target;
use whippet_intake_bench::server::{Keys, Server};
use whippet_intake_bench::verify::Expect;
use whippet_intake_bench::{payload, report, send, server, sys, verify};

/// Which data set to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// 10 000 series × 180 points (1.8 M points): seconds per system.
    Small,
    /// 100 000 series × 360 points (36 M points, 1.2 GiB of JSON held in
    /// memory): one hour of a 5 000-host fleet, enough for Whippet's heads
    /// and VictoriaMetrics' parts to go through flushes and merges; about a
    /// minute per system on two cores.
    Full,
}

impl Preset {
    fn name(self) -> &'static str {
        match self {
            Preset::Small => "small",
            Preset::Full => "full",
        }
    }
    /// (series, points per series).
    fn size(self) -> (usize, usize) {
        match self {
            Preset::Small => (10_000, 180),
            Preset::Full => (100_000, 360),
        }
    }
}

/// Benchmark the Datadog series intake of Whippet against VictoriaMetrics
/// on the same payloads, and write dated results.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Data set size.
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    preset: Preset,
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
    /// Series per request body.
    #[arg(long, default_value_t = 1_000)]
    series_per_body: usize,
    /// Points per series per request body (ticks of 10 s).
    #[arg(long, default_value_t = 10)]
    points_per_body: usize,
    /// Send gzip-compressed bodies (`Content-Encoding: gzip`).
    #[arg(long, conflicts_with_all = ["protobuf", "remote_write"])]
    gzip: bool,
    /// Protobuf instead of JSON: Datadog v2 series (`MetricPayload`, zstd)
    /// to Whippet's `/api/v2/series`, Prometheus remote write to
    /// VictoriaMetrics' `/api/v1/write`.
    #[arg(long, conflicts_with = "remote_write")]
    protobuf: bool,
    /// Prometheus remote write 1.0 (snappy protobuf) to both systems'
    /// `/api/v1/write`: the same bytes to Whippet's remote write receiver
    /// and to VictoriaMetrics.
    #[arg(long)]
    remote_write: bool,
    /// Override the preset's number of series.
    #[arg(long)]
    series: Option<usize>,
    /// Override the preset's points per series.
    #[arg(long)]
    points: Option<usize>,
    /// Attach `perf record -e cpu-clock -g` to each server during intake and
    /// write `<DIR>/<system>.perf.data` (the figures then include perf's
    /// overhead, and the report says so).
    #[arg(long)]
    perf: Option<PathBuf>,
}

/// The keys Whippet's org is created with (any printable ASCII will do).
fn keys() -> Keys {
    Keys {
        api: "intakebenchapikey0000000000000001".into(),
        app: "intakebenchappkey00000000000000000000001".into(),
    }
}

/// One of the two systems under test.
#[derive(Clone, Copy)]
enum System {
    Whippet,
    VictoriaMetrics,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let Start {
        log,
        root,
        out_dir,
        machine,
    } = Start::new(
        args.out.as_deref(),
        "WARNING: debug build of the bench; run with --release (the senders share the cores with the server)",
    );

    // 1. The servers.
    let whippet_bin = args
        .whippet_bin
        .clone()
        .unwrap_or_else(|| root.join("target/release/whippet"));
    if !whippet_bin.is_file() {
        bail!(
            "no whippet binary at {}; build it first with\n    cargo build --release -p whippet\n\
             (or pass --whippet-bin PATH)",
            whippet_bin.display()
        );
    }
    let whippet_version = server::version(&whippet_bin, "--version");
    let vm_bin = server::find_or_install_vm(args.vm_bin.as_deref(), |m| log.say(m))?;
    let vm_version = server::vm_version(&vm_bin);
    log.say(format!(
        "whippet: {} ({}); victoria-metrics: {} ({}){}",
        whippet_version,
        whippet_bin.display(),
        vm_version,
        vm_bin.display(),
        if server::has_flag(&vm_bin, "datadog.sanitizeMetricName") {
            "; it sanitizes Datadog metric names"
        } else {
            ""
        }
    ));

    // 2. The data set, with timestamps ending two minutes ago.
    let (mut series, mut points) = args.preset.size();
    series = args.series.unwrap_or(series);
    points = args.points.unwrap_or(points);
    let custom = args.series.is_some() || args.points.is_some();
    let base = FleetSpec::full();
    let interval_secs = base.interval_ms / 1000;
    let last = (sys::unix_secs() - 120).div_euclid(interval_secs) * interval_secs;
    let spec = FleetSpec {
        series,
        points_per_series: points,
        start_ms: (last - (points as i64 - 1) * interval_secs) * 1000,
        ..base
    };
    let (cut, vm_cut) = cuts(&args);
    log.say(format!(
        "generating {} series × {} points, {} series × {} points per request, {}{} (commit {}, {} × {})",
        spec.series,
        spec.points_per_series,
        cut.series_per_body,
        cut.ticks_per_body,
        cut.format.name(),
        if args.gzip { ", gzip" } else { "" },
        machine.git_commit.as_deref().unwrap_or("unknown"),
        machine.nproc,
        machine.cpu_model
    ));
    let t = Instant::now();
    let ds = payload::generate(spec, cut, machine.nproc)?;
    let vm_ds = if args.protobuf {
        Some(payload::generate(spec, vm_cut, machine.nproc)?)
    } else {
        None
    };
    let generate_secs = t.elapsed().as_secs_f64();
    log.say(format!(
        "generated {} requests, {} points, {} of {} ({} on the wire) in {generate_secs:.1} s",
        ds.bodies.len(),
        ds.total_points,
        report::bytes(ds.raw_bytes),
        ds.cut.format.name(),
        report::bytes(ds.wire_bytes)
    ));
    if let Some(dir) = &args.perf {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }

    // 3. Each system in turn.
    let keys = keys();
    let expect = Expect {
        metrics: &ds.metrics,
        from_secs: spec.start_ms / 1000,
        to_secs: last,
        series: spec.series as u64,
        points: ds.total_points,
        checksum: ds.checksum,
    };
    let mut runs = Vec::new();
    let mut data_dirs = String::new();
    let mut data_fs = String::new();
    for system in [System::Whippet, System::VictoriaMetrics] {
        let (bin, version) = match system {
            System::Whippet => (&whippet_bin, &whippet_version),
            System::VictoriaMetrics => (&vm_bin, &vm_version),
        };
        let mut srv = match system {
            System::Whippet => server::start_whippet(bin, &keys)?,
            System::VictoriaMetrics => server::start_vm(bin)?,
        };
        if data_dirs.is_empty() {
            let d = srv.data_dir();
            let parent = d.parent().and_then(Path::parent).unwrap_or(&d);
            data_dirs = parent.display().to_string();
            data_fs = sys::fs_type(&d).unwrap_or_else(|| "unknown".into());
        }
        log.say(format!(
            "{} is up on {} (pid {})",
            srv.name,
            srv.addr,
            srv.pid()
        ));
        let data = match system {
            System::Whippet => &ds,
            System::VictoriaMetrics => vm_ds.as_ref().unwrap_or(&ds),
        };
        let mut run = match measure(
            system, &mut srv, data, &keys, &expect, &args, &machine, &log,
        ) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{} log tail:\n{}", srv.name, srv.log_tail(20));
                return Err(e);
            }
        };
        let (status, stop_secs) = srv.stop()?;
        run.stop_secs = stop_secs;
        run.exit_status = status.to_string();
        run.data_bytes = server::dir_bytes(&srv.data_dir());
        run.binary = bin.display().to_string();
        run.version = version.clone();
        log.say(format!(
            "{} stopped in {stop_secs:.1} s ({status}); {} of data",
            srv.name,
            report::bytes(run.data_bytes)
        ));
        drop(srv);
        runs.push(run);
    }

    // 4. The report.
    let mut command = String::from("cargo run --release -p whippet-intake-bench --");
    if custom {
        command.push_str(&format!(" --series {series} --points {points}"));
    } else {
        command.push_str(&format!(" --preset {}", args.preset.name()));
    }
    if args.senders != 4 {
        command.push_str(&format!(" --senders {}", args.senders));
    }
    if args.series_per_body != 1_000 {
        command.push_str(&format!(" --series-per-body {}", args.series_per_body));
    }
    if args.points_per_body != 10 {
        command.push_str(&format!(" --points-per-body {}", args.points_per_body));
    }
    if args.protobuf {
        command.push_str(" --protobuf");
    }
    if args.remote_write {
        command.push_str(" --remote-write");
    }
    if args.gzip {
        command.push_str(" --gzip");
    }
    if let Some(p) = &args.perf {
        command.push_str(&format!(" --perf {}", p.display()));
    }
    let dataset = Dataset {
        series: spec.series,
        hosts: spec.hosts(),
        points_per_series: spec.points_per_series,
        interval_secs,
        first_ts: spec.start_ms / 1000,
        last_ts: last,
        seed: spec.seed,
        total_points: ds.total_points,
        bodies: ds.bodies.len(),
        series_per_body: cut.series_per_body,
        ticks_per_body: cut.ticks_per_body,
        gzip: args.gzip,
        format: cut.format,
        json_bytes: ds.raw_bytes,
        wire_bytes: ds.wire_bytes,
        checksum: format!("{:016x}", ds.checksum.0),
        generate_secs,
    };
    let ratios = report::ratios(&runs[0], &runs[1]);
    let checks = report::checks(&ratios, &runs, &dataset);
    let mut preset = if custom {
        "custom".to_owned()
    } else {
        args.preset.name().to_owned()
    };
    if args.protobuf {
        preset.push_str("-protobuf");
    }
    if args.remote_write {
        preset.push_str("-remote-write");
    }
    if args.gzip {
        preset.push_str("-gzip");
    }
    let results = Results {
        date: sys::utc_date(),
        preset,
        command,
        machine,
        data_dirs,
        data_fs,
        senders: usize::from(args.senders),
        profiled: args.perf.is_some(),
        dataset,
        systems: runs,
        ratios,
        checks,
    };
    let stem = format!("{}-intake-{}", results.date, results.preset);
    write_results_and_say(
        &log,
        &out_dir,
        &stem,
        &serde_json::to_string_pretty(&results)?,
        &report::markdown(&results),
    )?;
    println!("\n{}", report::systems_table(&results));
    println!("{}", report::summary_table(&results.checks));
    Ok(())
}

/// Sends the data set to a running server and measures it; then reads
/// everything back.
#[allow(clippy::too_many_arguments)]
fn measure(
    system: System,
    srv: &mut Server,
    ds: &DataSet,
    keys: &Keys,
    expect: &Expect<'_>,
    args: &Args,
    machine: &sys::Machine,
    log: &Log,
) -> Result<SystemRun> {
    let hz = machine.clock_ticks_per_sec;
    let pid = srv.pid();
    let mut headers = ds.cut.headers();
    let path = match (system, ds.cut.format) {
        (System::Whippet, format) => {
            headers.push(("DD-API-KEY".into(), keys.api.clone()));
            match format {
                Format::DatadogJson => "/api/v1/series",
                Format::DatadogProtobuf => "/api/v2/series",
                Format::RemoteWrite => "/api/v1/write",
            }
        }
        (System::VictoriaMetrics, Format::RemoteWrite) => "/api/v1/write",
        (System::VictoriaMetrics, _) => "/datadog/api/v1/series",
    };
    let target = Target {
        addr: srv.addr,
        path: path.into(),
        headers,
    };
    let perf = match &args.perf {
        Some(dir) => Some(start_perf(dir, srv.name, &pid)?),
        None => None,
    };
    let load_before = sys::load_avg_1m();
    let cpu0 = sys::cpu_secs(&pid, hz).context("the server's /proc/<pid>/stat")?;
    let client0 = sys::cpu_secs("self", hz).unwrap_or(0.0);
    log.say(format!(
        "{}: sending {} requests over {} connections to {path}",
        srv.name,
        ds.bodies.len(),
        args.senders
    ));
    let sent = send::send_all(&target, &ds.bodies, usize::from(args.senders));
    let cpu1 = sys::cpu_secs(&pid, hz).context("the server exited during intake")?;
    let client_cpu_secs = sys::cpu_secs("self", hz).unwrap_or(0.0) - client0;
    let load_after = sys::load_avg_1m();
    if let Some(p) = perf {
        stop_perf(p, log)?;
    }
    let mpoints = ds.total_points as f64 / 1e6;
    let cpu_secs = cpu1 - cpu0;
    let points_per_sec = ds.total_points as f64 / sent.wall_secs;
    log.say(format!(
        "{}: {:.2} s, {}points/s, {cpu_secs:.2} server CPU s ({:.3} s per M points), {} errors, {} retries",
        srv.name,
        sent.wall_secs,
        report::si(points_per_sec),
        cpu_secs / mpoints,
        sent.errors,
        sent.retries
    ));

    // Let deferred work finish: until a second passes with under 3 % of a
    // core used, at most a minute.
    let t = Instant::now();
    let mut prev = cpu1;
    let mut last_busy = Duration::ZERO;
    while t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_secs(1));
        let now = sys::cpu_secs(&pid, hz).context("the server exited after intake")?;
        if now - prev < 0.03 {
            break;
        }
        last_busy = t.elapsed();
        prev = now;
    }
    let settled_cpu = sys::cpu_secs(&pid, hz).unwrap_or(prev);
    let mem = sys::mem(&pid);
    log.say(format!(
        "{}: settled after {:.1} s (+{:.2} CPU s); peak RSS {}",
        srv.name,
        last_busy.as_secs_f64(),
        settled_cpu - cpu1,
        report::bytes(mem.peak)
    ));

    let stored = match system {
        System::Whippet => verify::whippet(srv.addr, &keys.api, &keys.app, expect)?,
        System::VictoriaMetrics => verify::victoria_metrics(srv.addr, expect)?,
    };
    log.say(format!(
        "{}: read back {} series, {} points (expected {} / {}){}; values {}",
        srv.name,
        stored.series,
        stored.points,
        expect.series,
        expect.points,
        if stored.passes > 1 {
            format!(" after {} passes", stored.passes)
        } else {
            String::new()
        },
        if stored.values_identical {
            "bit-identical"
        } else {
            "DIFFER"
        }
    ));
    Ok(SystemRun {
        name: srv.name.into(),
        binary: String::new(),
        version: String::new(),
        path: path.into(),
        points_per_sec,
        cpu_secs,
        cpu_secs_per_m_points: cpu_secs / mpoints,
        cores_busy: cpu_secs / sent.wall_secs,
        settle_secs: last_busy.as_secs_f64(),
        cpu_secs_with_settle: settled_cpu - cpu0,
        cpu_secs_per_m_points_with_settle: (settled_cpu - cpu0) / mpoints,
        peak_rss_bytes: mem.peak,
        rss_after_bytes: mem.rss,
        client_cpu_secs,
        load_before,
        load_after,
        sent,
        stored,
        stop_secs: 0.0,
        exit_status: String::new(),
        data_bytes: 0,
    })
}

/// How the data set is cut and encoded for Whippet and for
/// VictoriaMetrics: the same Datadog JSON by default (gzip with
/// `--gzip`), the same remote write bodies with `--remote-write`, and with
/// `--protobuf` each its own protobuf (Datadog v2 with zstd for Whippet,
/// remote write for VictoriaMetrics; see `measure` for the paths).
fn cuts(args: &Args) -> (Cut, Cut) {
    let json = Cut {
        series_per_body: args.series_per_body,
        ticks_per_body: args.points_per_body,
        format: Format::DatadogJson,
        encoding: if args.gzip {
            Encoding::Gzip
        } else {
            Encoding::Identity
        },
    };
    let rw = Cut {
        format: Format::RemoteWrite,
        encoding: Encoding::Identity,
        ..json
    };
    if args.remote_write {
        (rw, rw)
    } else if args.protobuf {
        let v2 = Cut {
            format: Format::DatadogProtobuf,
            encoding: Encoding::Zstd,
            ..json
        };
        (v2, rw)
    } else {
        (json, json)
    }
}

/// Starts `perf record` on `pid`, writing `<dir>/<name>.perf.data`.
fn start_perf(dir: &Path, name: &str, pid: &str) -> Result<std::process::Child> {
    let out = dir.join(format!("{name}.perf.data"));
    let log = std::fs::File::create(dir.join(format!("{name}.perf.log")))?;
    let child = std::process::Command::new("perf")
        .args(["record", "-e", "cpu-clock", "-g", "-p", pid, "-o"])
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting perf record (is perf installed?)")?;
    // perf needs a moment to attach to every thread.
    std::thread::sleep(Duration::from_millis(500));
    Ok(child)
}

/// Stops `perf record` with SIGINT (it then writes its file) and waits.
fn stop_perf(mut child: std::process::Child, log: &Log) -> Result<()> {
    server::signal(child.id(), "INT")?;
    let status = child.wait()?;
    log.say(format!("perf record stopped ({status})"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("whippet-intake-bench").chain(extra.iter().copied()))
    }

    fn formats(extra: &[&str]) -> (Format, Encoding, Format, Encoding) {
        let (w, v) = cuts(&parse(extra).unwrap());
        (w.format, w.encoding, v.format, v.encoding)
    }

    #[test]
    fn each_mode_sends_its_formats() {
        use Encoding::*;
        use Format::*;
        assert_eq!(formats(&[]), (DatadogJson, Identity, DatadogJson, Identity));
        assert_eq!(formats(&["--gzip"]), (DatadogJson, Gzip, DatadogJson, Gzip));
        assert_eq!(
            formats(&["--protobuf"]),
            (DatadogProtobuf, Zstd, RemoteWrite, Identity)
        );
        // The same remote write bodies to both systems.
        assert_eq!(
            formats(&["--remote-write"]),
            (RemoteWrite, Identity, RemoteWrite, Identity)
        );
        let (w, _) = cuts(&parse(&["--remote-write", "--series-per-body", "7"]).unwrap());
        assert_eq!(w.series_per_body, 7);
    }

    #[test]
    fn the_wire_modes_exclude_each_other() {
        for bad in [
            &["--remote-write", "--protobuf"][..],
            &["--remote-write", "--gzip"],
            &["--protobuf", "--gzip"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
