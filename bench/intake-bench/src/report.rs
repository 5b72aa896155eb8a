//! The result of a run: every figure (serialised as the JSON file), the
//! ratios Whippet / VictoriaMetrics, the verdicts against the targets, and
//! the Markdown rendering.

use std::fmt::Write as _;

use serde::Serialize;

use crate::payload::Format;
use crate::send::Sent;
use crate::sys::Machine;
use crate::verify::Stored;

/// Targets from the intake issue.
pub mod targets {
    /// Fewest times VictoriaMetrics' points per second Whippet must ingest.
    pub const THROUGHPUT_RATIO: f64 = 2.0;
    /// Most of VictoriaMetrics' CPU seconds per million points Whippet may
    /// spend.
    pub const CPU_RATIO: f64 = 0.5;
}

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct Results {
    /// UTC date of the run.
    pub date: String,
    /// `small`, `full` or `custom`.
    pub preset: String,
    /// How to reproduce the run.
    pub command: String,
    /// The machine.
    pub machine: Machine,
    /// Where the servers' data directories were, and its file system.
    pub data_dirs: String,
    /// File system type there.
    pub data_fs: String,
    /// Concurrent sender connections.
    pub senders: usize,
    /// `perf record` was attached to the servers during intake (figures
    /// then include its overhead).
    pub profiled: bool,
    /// The data set and how it was cut into requests.
    pub dataset: Dataset,
    /// One entry per system, in the order they ran.
    pub systems: Vec<SystemRun>,
    /// Whippet / VictoriaMetrics.
    pub ratios: Ratios,
    /// Each target and invariant with its verdict.
    pub checks: Vec<Check>,
}

/// The data set.
#[derive(Debug, Serialize)]
pub struct Dataset {
    /// Series.
    pub series: usize,
    /// Hosts.
    pub hosts: usize,
    /// Ticks per series.
    pub points_per_series: usize,
    /// Seconds between ticks.
    pub interval_secs: i64,
    /// First timestamp (Unix seconds).
    pub first_ts: i64,
    /// Last timestamp (Unix seconds).
    pub last_ts: i64,
    /// Generator seed.
    pub seed: u64,
    /// Points, gaps excluded.
    pub total_points: u64,
    /// Requests.
    pub bodies: usize,
    /// Series per request.
    pub series_per_body: usize,
    /// Points per series per request.
    pub ticks_per_body: usize,
    /// Bodies gzip-compressed.
    pub gzip: bool,
    /// The wire format of the bodies (both systems get the same one, except
    /// with `--protobuf`, where this is Whippet's and VictoriaMetrics gets
    /// remote write).
    pub format: Format,
    /// Bytes of the encoded bodies before compression (JSON, or the
    /// protobuf messages).
    pub json_bytes: u64,
    /// Bytes sent.
    pub wire_bytes: u64,
    /// Checksum of every point (see `payload::Checksum`), hex.
    pub checksum: String,
    /// Time to generate the bodies (not measured against anything).
    pub generate_secs: f64,
}

/// One system's figures.
#[derive(Debug, Serialize)]
pub struct SystemRun {
    /// `whippet` or `victoria-metrics`.
    pub name: String,
    /// The binary.
    pub binary: String,
    /// Its version line.
    pub version: String,
    /// The intake path used.
    pub path: String,
    /// What the senders saw.
    pub sent: Sent,
    /// Points of the data set / wall seconds of the loop.
    pub points_per_sec: f64,
    /// Server CPU seconds (user + system, all threads) during the loop.
    pub cpu_secs: f64,
    /// `cpu_secs` per million points.
    pub cpu_secs_per_m_points: f64,
    /// `cpu_secs` / wall seconds: cores the server kept busy.
    pub cores_busy: f64,
    /// Seconds after the loop until the server's CPU use fell below 3 % of
    /// a core (background flushes and merges finishing), at most 60.
    pub settle_secs: f64,
    /// Server CPU seconds from the loop's start to the end of the settling.
    pub cpu_secs_with_settle: f64,
    /// `cpu_secs_with_settle` per million points.
    pub cpu_secs_per_m_points_with_settle: f64,
    /// Peak resident set of the server process (`VmHWM`) after settling.
    pub peak_rss_bytes: u64,
    /// Resident set after settling.
    pub rss_after_bytes: u64,
    /// CPU seconds of the bench process (senders) during the loop: it
    /// shares the machine's cores with the server.
    pub client_cpu_secs: f64,
    /// 1-minute load average before the loop.
    pub load_before: f64,
    /// 1-minute load average after the loop.
    pub load_after: f64,
    /// What was read back.
    pub stored: Stored,
    /// Seconds from SIGTERM to exit.
    pub stop_secs: f64,
    /// Exit status after SIGTERM.
    pub exit_status: String,
    /// Bytes of the data directory after the server stopped.
    pub data_bytes: u64,
}

/// Whippet / VictoriaMetrics.
#[derive(Debug, Default, Serialize)]
pub struct Ratios {
    /// Points per second (higher is better for Whippet).
    pub throughput: f64,
    /// CPU seconds per million points during the loop (lower is better).
    pub cpu_per_point: f64,
    /// The same including the settling after the loop.
    pub cpu_per_point_with_settle: f64,
    /// Peak RSS.
    pub peak_rss: f64,
}

/// One verdict.
#[derive(Debug, Serialize)]
pub struct Check {
    /// What is checked.
    pub what: String,
    /// The measured value, readable.
    pub measured: String,
    /// The target, readable.
    pub target: String,
    /// Whether it holds.
    pub pass: bool,
}

/// Computes the ratios (`w` Whippet, `v` VictoriaMetrics).
pub fn ratios(w: &SystemRun, v: &SystemRun) -> Ratios {
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    Ratios {
        throughput: div(w.points_per_sec, v.points_per_sec),
        cpu_per_point: div(w.cpu_secs_per_m_points, v.cpu_secs_per_m_points),
        cpu_per_point_with_settle: div(
            w.cpu_secs_per_m_points_with_settle,
            v.cpu_secs_per_m_points_with_settle,
        ),
        peak_rss: div(w.peak_rss_bytes as f64, v.peak_rss_bytes as f64),
    }
}

/// The targets and the invariants of a valid run.
pub fn checks(r: &Ratios, systems: &[SystemRun], ds: &Dataset) -> Vec<Check> {
    let mut out = vec![
        Check {
            what: "Throughput, Whippet / VictoriaMetrics (points/s)".into(),
            measured: format!("{:.2}×", r.throughput),
            target: format!("≥ {:.1}×", targets::THROUGHPUT_RATIO),
            pass: r.throughput >= targets::THROUGHPUT_RATIO,
        },
        Check {
            what: "CPU per point, Whippet / VictoriaMetrics (server CPU s per M points, during intake)"
                .into(),
            measured: format!("{:.2}×", r.cpu_per_point),
            target: format!("≤ {:.1}×", targets::CPU_RATIO),
            pass: r.cpu_per_point <= targets::CPU_RATIO,
        },
    ];
    for s in systems {
        out.push(Check {
            what: format!("{}: non-2xx answers and I/O errors", s.name),
            measured: s.sent.errors.to_string(),
            target: "0".into(),
            pass: s.sent.errors == 0,
        });
        out.push(Check {
            what: format!("{}: series / points read back", s.name),
            measured: format!("{} / {}", s.stored.series, s.stored.points),
            target: format!("{} / {}", ds.series, ds.total_points),
            pass: s.stored.series == ds.series as u64 && s.stored.points == ds.total_points,
        });
    }
    out
}

/// `1234567` → `1.23 M`.
pub fn si(x: f64) -> String {
    let (v, unit) = if x.abs() >= 1e9 {
        (x / 1e9, " G")
    } else if x.abs() >= 1e6 {
        (x / 1e6, " M")
    } else if x.abs() >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, " ")
    };
    format!("{v:.2}{unit}")
}

/// Bytes, readable.
pub fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", b / 1024.0)
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

/// The summary table printed at the end of a run and in the Markdown.
pub fn summary_table(checks: &[Check]) -> String {
    let mut s = String::from("| Check | Measured | Target | Verdict |\n|---|---|---|---|\n");
    for c in checks {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.what,
            c.measured,
            c.target,
            verdict(c.pass)
        );
    }
    s
}

/// The per-system table.
pub fn systems_table(r: &Results) -> String {
    let mut s = String::from("| Figure |");
    for sys in &r.systems {
        let _ = write!(s, " {} |", sys.name);
    }
    s.push_str(" Whippet / VM |\n|---|");
    for _ in &r.systems {
        s.push_str("---|");
    }
    s.push_str("---|\n");
    let mut row = |name: &str, f: &dyn Fn(&SystemRun) -> String, ratio: String| {
        let _ = write!(s, "| {name} |");
        for sys in &r.systems {
            let _ = write!(s, " {} |", f(sys));
        }
        let _ = writeln!(s, " {ratio} |");
    };
    let x = |v: f64| format!("{v:.2}×");
    row(
        "Intake, points/s (wall)",
        &|s| format!("{}points/s", si(s.points_per_sec)),
        x(r.ratios.throughput),
    );
    row(
        "Server CPU s per M points, during intake",
        &|s| format!("{:.3}", s.cpu_secs_per_m_points),
        x(r.ratios.cpu_per_point),
    );
    row(
        "Server CPU s per M points, incl. settling",
        &|s| format!("{:.3}", s.cpu_secs_per_m_points_with_settle),
        x(r.ratios.cpu_per_point_with_settle),
    );
    row(
        "Wall time of the loop",
        &|s| format!("{:.2} s", s.sent.wall_secs),
        String::new(),
    );
    row(
        "Server CPU during the loop (cores busy)",
        &|s| format!("{:.2} s ({:.2})", s.cpu_secs, s.cores_busy),
        String::new(),
    );
    row(
        "Settling after the loop (extra CPU)",
        &|s| {
            format!(
                "{:.1} s (+{:.2} s)",
                s.settle_secs,
                s.cpu_secs_with_settle - s.cpu_secs
            )
        },
        String::new(),
    );
    row(
        "Peak RSS (VmHWM)",
        &|s| bytes(s.peak_rss_bytes),
        x(r.ratios.peak_rss),
    );
    row(
        "Bench (client) CPU during the loop",
        &|s| format!("{:.2} s", s.client_cpu_secs),
        String::new(),
    );
    row(
        "Request latency p50 / p99 / max",
        &|s| {
            format!(
                "{:.1} / {:.1} / {:.1} ms",
                s.sent.latency_p50_ms, s.sent.latency_p99_ms, s.sent.latency_max_ms
            )
        },
        String::new(),
    );
    row(
        "Requests 2xx / errors / 429-503 retries",
        &|s| format!("{} / {} / {}", s.sent.ok, s.sent.errors, s.sent.retries),
        String::new(),
    );
    row(
        "Stored series / points (read back)",
        &|s| format!("{} / {}", s.stored.series, s.stored.points),
        String::new(),
    );
    row(
        "Stored values bit-identical (checksum)",
        &|s| {
            if s.stored.values_identical {
                "yes".into()
            } else {
                format!("no ({})", s.stored.checksum)
            }
        },
        String::new(),
    );
    row(
        "Metric names as stored",
        &|s| {
            format!(
                "`{}`",
                s.stored.stored_names.first().map_or("", String::as_str)
            )
        },
        String::new(),
    );
    row(
        "Data directory after stop",
        &|s| bytes(s.data_bytes),
        String::new(),
    );
    row(
        "Stop after SIGTERM",
        &|s| format!("{:.1} s, {}", s.stop_secs, s.exit_status),
        String::new(),
    );
    row(
        "Load average (1 min) before / after",
        &|s| format!("{:.2} / {:.2}", s.load_before, s.load_after),
        String::new(),
    );
    s
}

/// How a series of the data set travels in `format`, for the report.
fn series_shape(format: Format) -> &'static str {
    match format {
        Format::DatadogJson => {
            "Host in the `host` field, the other four tags as tags, type `gauge`."
        }
        Format::DatadogProtobuf => {
            "Datadog v2 protobuf (zstd) to Whippet: host as the `host` resource, the other \
             four tags as tags, type gauge; remote write to VictoriaMetrics."
        }
        Format::RemoteWrite => {
            "Prometheus remote write 1.0 (snappy-compressed `WriteRequest`), the same bytes \
             to both systems: labels `__name__` (the dotted Datadog name, as sent), `host`, \
             `env`, `region`, `az`, `service`."
        }
    }
}

/// The Markdown report.
pub fn markdown(r: &Results) -> String {
    let m = &r.machine;
    let d = &r.dataset;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Intake benchmark, Whippet vs VictoriaMetrics: `{}` preset, {}\n",
        r.preset, r.date
    );
    let _ = writeln!(s, "Command: `{}`\n", r.command);
    let _ = writeln!(
        s,
        "Machine: {}; bench {} build; {} clock ticks/s. \
         Data directories under `{}` ({}). **The machine is shared with other work: wall-clock \
         figures are noisy (see the load averages); the CPU-time figures vary less.**{}\n",
        m.summary(),
        m.bench_build,
        m.clock_ticks_per_sec,
        r.data_dirs,
        r.data_fs,
        if r.profiled {
            " `perf record` was attached to the servers during intake: the figures include its overhead."
        } else {
            ""
        }
    );
    for sys in &r.systems {
        let _ = writeln!(
            s,
            "- {}: `{}` ({}), `POST {}`",
            sys.name, sys.version, sys.binary, sys.path
        );
    }
    let _ = writeln!(s, "\n## Summary\n\n{}", summary_table(&r.checks));
    let _ = writeln!(
        s,
        "## Per system\n\n{} senders, each on its own keep-alive connection, POST every body once; \
         the systems run one after the other, never both at once (other work on a shared machine may run meanwhile: see the load averages).\n\n{}",
        r.senders,
        systems_table(r)
    );
    for sys in &r.systems {
        if let Some(e) = &sys.sent.first_error {
            let _ = writeln!(s, "First error from {}: `{e}`\n", sys.name);
        }
    }
    let _ = writeln!(
        s,
        "## Data set\n\n{} series ({} hosts × 20 metrics, `whippet-fleetgen`, seed {:#x}) × {} points \
         every {} s, {} points after gaps, timestamps {} to {} (the last {:.1} hours before the run). \
         Cut into {} requests of {} series × {} points per series ({} of {}{}; {} on the wire), sent \
         window by window. {} Checksum of every point: `{}`. Generated in {:.1} s before anything \
         was timed.\n",
        d.series,
        d.hosts,
        d.seed,
        d.points_per_series,
        d.interval_secs,
        d.total_points,
        d.first_ts,
        d.last_ts,
        (d.last_ts - d.first_ts) as f64 / 3600.0,
        d.bodies,
        d.series_per_body,
        d.ticks_per_body,
        bytes(d.json_bytes),
        d.format.name(),
        if d.gzip { ", gzip" } else { "" },
        bytes(d.wire_bytes),
        series_shape(d.format),
        d.checksum,
        d.generate_secs
    );
    s.push_str(
        "## How the figures are computed\n\n\
         - **Points/s**: points of the data set / wall seconds from the moment every sender is \
         connected to the last response.\n\
         - **CPU s per M points**: the server process' `utime + stime` (all threads, \
         `/proc/<pid>/stat`) over the loop, per million points. \"Incl. settling\" adds the CPU \
         spent after the loop until the server's use fell below 3 % of a core for a second \
         (deferred flushes and merges), at most 60 s.\n\
         - **Peak RSS**: `VmHWM` of the server process after settling.\n\
         - **Stored**: read back through each system's export API metric by metric; series are \
         distinct label sets, and the checksum covers (metric, host, timestamp, value bits) of \
         every point.\n\
         - Both servers run with their defaults (Whippet: WAL synced every second; \
         VictoriaMetrics: `-retentionPeriod=100y`), data in fresh temporary directories.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(si(1_234_567.0), "1.23 M");
        assert_eq!(si(999.0), "999.00 ");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(verdict(true), "PASS");
    }
}
