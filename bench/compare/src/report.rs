//! The result file (every figure, as JSON), its Markdown rendering, and
//! the verdicts against the targets of the benchmark (issue 5): Whippet
//! against VictoriaMetrics, measured in the same run. Prometheus' figures
//! are reported beside them, without targets. Issue 8 adds one verdict per
//! query: Whippet's median in PromQL at most VictoriaMetrics' ([`PROMQL_MEDIAN_RATIO`]).

use std::fmt::Write as _;

use serde::Serialize;
use whippet_intake_bench::report::{bytes, si};
use whippet_intake_bench::sys::Machine;

use crate::ingest::IngestRun;
use crate::query::{QueryResult, WHIPPET_PROMQL};
use crate::systems::{Binaries, Disk, System};

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct Results {
    /// UTC date of the run.
    pub date: String,
    /// `small` or `full`.
    pub preset: String,
    /// The command that reproduces it.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// The servers.
    pub binaries: Binaries,
    /// Flags beyond data directory, address and retention.
    pub vm_flags: Vec<String>,
    /// The data set.
    pub dataset: Dataset,
    /// Every ingest run, in order.
    pub ingest: Vec<IngestRun>,
    /// Bytes on disk after flush and merge.
    pub disk: Vec<Disk>,
    /// Unmeasured runs per query and system.
    pub warmup_runs: u32,
    /// Measured runs per query and system.
    pub measured_runs: u32,
    /// 1-minute load average before and after the query phase.
    pub query_load_avg: (f64, f64),
    /// The query suite.
    pub queries: Vec<QueryResult>,
    /// The verdicts.
    pub checks: Vec<Check>,
    /// Wall seconds of the whole run.
    pub total_secs: f64,
}

/// The data set.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    /// Series.
    pub series: usize,
    /// Hosts.
    pub hosts: usize,
    /// Points per series before gaps.
    pub points_per_series: usize,
    /// Seconds between points.
    pub interval_secs: i64,
    /// Points after gaps.
    pub total_points: u64,
    /// The generator's seed.
    pub seed: u64,
    /// Checksum of every point, hex.
    pub checksum: String,
    /// First timestamp, seconds.
    pub first_ts: i64,
    /// Last timestamp, seconds.
    pub last_ts: i64,
    /// Bodies per format: (format, requests, bytes on the wire).
    pub bodies: Vec<(String, usize, u64)>,
    /// Seconds spent generating every body (not measured).
    pub generate_secs: f64,
}

/// One verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What is checked.
    pub what: String,
    /// The measured figure.
    pub measured: String,
    /// The target.
    pub target: String,
    /// Met or not.
    pub pass: bool,
    /// The figure as Whippet's advantage (greater than 1: Whippet leads),
    /// and the advantage the target asks for, for the chart; `None` for
    /// checks that are not ratios.
    pub advantage: Option<(f64, f64)>,
}

/// The ingest run of `system` with `format`.
pub fn ingest_run<'a>(r: &'a [IngestRun], system: System, format: &str) -> Option<&'a IngestRun> {
    r.iter().find(|i| i.system == system && i.format == format)
}

/// The disk figure of `system`.
pub fn disk_of(d: &[Disk], system: System) -> Option<&Disk> {
    d.iter().find(|x| x.system == system)
}

/// Names of the formats, as `Format::name` spells them.
pub const JSON: &str = "Datadog v1 JSON";
/// Datadog v2 protobuf.
pub const V2: &str = "Datadog v2 protobuf";
/// Remote write.
pub const RW: &str = "Prometheus remote write";

/// Dashboard aggregations must answer under this, median.
pub const DASHBOARD_MS: f64 = 25.0;

/// Issue 8: each query's median through Whippet's PromQL at most this
/// times VictoriaMetrics' median for the same PromQL on the same data.
pub const PROMQL_MEDIAN_RATIO: f64 = 1.0;

/// A ratio verdict: Whippet's `w` against the peer's `v`, `higher_is_better`
/// or not, against `goal` (a ratio).
fn ratio_check(what: &str, w: f64, v: f64, higher_is_better: bool, goal: f64, unit: &str) -> Check {
    let ratio = w / v;
    let (pass, target, advantage) = if higher_is_better {
        (ratio >= goal, format!("≥ {goal}×"), (ratio, goal))
    } else {
        (
            ratio <= goal,
            format!("≤ {goal:.2}×"),
            (1.0 / ratio, 1.0 / goal),
        )
    };
    Check {
        what: what.into(),
        measured: format!("{ratio:.2}× ({} vs {} {unit})", fmt(w), fmt(v)),
        target,
        pass,
        advantage: Some(advantage),
    }
}

/// The verdicts against the targets.
pub fn checks(ingest: &[IngestRun], disk: &[Disk], queries: &[QueryResult]) -> Vec<Check> {
    let mut c = Vec::new();
    let wj = ingest_run(ingest, System::Whippet, JSON);
    let vj = ingest_run(ingest, System::VictoriaMetrics, JSON);
    let wp = ingest_run(ingest, System::Whippet, V2);
    let vp = ingest_run(ingest, System::VictoriaMetrics, RW);
    if let (Some(w), Some(v)) = (wj, vj) {
        c.push(ratio_check(
            "Ingest, Datadog JSON: points/s vs VictoriaMetrics",
            w.points_per_sec,
            v.points_per_sec,
            true,
            2.0,
            "points/s",
        ));
        c.push(ratio_check(
            "Ingest, Datadog JSON: server CPU s per M points vs VictoriaMetrics",
            w.cpu_secs_per_mpoint,
            v.cpu_secs_per_mpoint,
            false,
            0.5,
            "CPU s/M points",
        ));
    }
    if let (Some(w), Some(v)) = (wp, vp) {
        c.push(ratio_check(
            "Ingest, protobuf: Whippet v2 points/s vs VictoriaMetrics remote write",
            w.points_per_sec,
            v.points_per_sec,
            true,
            2.0,
            "points/s",
        ));
    }
    for (format, w, v) in [("Datadog JSON", wj, vj), ("protobuf", wp, vp)] {
        if let (Some(w), Some(v)) = (w, v) {
            c.push(ratio_check(
                &format!("Peak RSS while ingesting ({format}) vs VictoriaMetrics"),
                w.peak_rss_bytes as f64 / MIB,
                v.peak_rss_bytes as f64 / MIB,
                false,
                0.5,
                "MiB",
            ));
        }
    }
    if let Some(w) = disk_of(disk, System::Whippet) {
        c.push(Check {
            what: "Disk: bytes per point after flush and merge".into(),
            measured: format!("{:.3}", w.bytes_per_point),
            target: "≤ 1.0".into(),
            pass: w.bytes_per_point <= 1.0,
            advantage: None,
        });
        if let Some(v) = disk_of(disk, System::VictoriaMetrics) {
            c.push(ratio_check(
                "Disk: bytes per point vs VictoriaMetrics",
                w.bytes_per_point,
                v.bytes_per_point,
                false,
                2.0 / 3.0,
                "bytes/point",
            ));
        }
    }
    for r in ingest {
        let ok = r.stored.series > 0 && r.stored.points == r.points && r.stored.values_identical;
        c.push(Check {
            what: format!(
                "{} ({}): stored series / points, values bit-identical",
                r.system.name(),
                r.format
            ),
            measured: format!(
                "{} / {}, {}",
                r.stored.series,
                r.stored.points,
                if r.stored.values_identical {
                    "identical"
                } else {
                    "DIFFER"
                }
            ),
            target: format!("the data set's, identical ({} points)", r.points),
            pass: ok,
            advantage: None,
        });
    }
    for q in queries {
        let (Some(w), Some(v)) = (q.side(System::Whippet), q.side(System::VictoriaMetrics)) else {
            continue;
        };
        if let Some(f) = &q.failure {
            c.push(Check {
                what: format!("Query `{}`", q.name),
                measured: format!("failed: {f}"),
                target: "answers".into(),
                pass: false,
                advantage: None,
            });
            continue;
        }
        let m = w.summary.median_ms / v.summary.median_ms;
        c.push(Check {
            what: format!("Query `{}`: median vs VictoriaMetrics", q.name),
            measured: format!(
                "{m:.2}× ({:.2} vs {:.2} ms)",
                w.summary.median_ms, v.summary.median_ms
            ),
            target: "≤ 0.5×".into(),
            pass: m <= 0.5,
            advantage: Some((1.0 / m, 2.0)),
        });
        let p = w.summary.p99_ms / v.summary.p99_ms;
        c.push(Check {
            what: format!("Query `{}`: p99 vs VictoriaMetrics", q.name),
            measured: format!(
                "{p:.2}× ({:.2} vs {:.2} ms)",
                w.summary.p99_ms, v.summary.p99_ms
            ),
            target: "≤ 1×".into(),
            pass: p <= 1.0,
            advantage: None,
        });
        if q.dashboard {
            c.push(Check {
                what: format!("Query `{}`: Whippet's median", q.name),
                measured: format!("{:.2} ms", w.summary.median_ms),
                target: format!("< {DASHBOARD_MS} ms"),
                pass: w.summary.median_ms < DASHBOARD_MS,
                advantage: None,
            });
        }
    }
    for q in queries {
        if q.failure.is_some() {
            continue;
        }
        let (Some(w), Some(v)) = (
            q.side_named(WHIPPET_PROMQL),
            q.side(System::VictoriaMetrics),
        ) else {
            continue;
        };
        let m = w.summary.median_ms / v.summary.median_ms;
        c.push(Check {
            what: format!(
                "Query `{}` in PromQL: Whippet's median vs VictoriaMetrics'",
                q.name
            ),
            measured: format!(
                "{m:.2}× ({:.2} vs {:.2} ms)",
                w.summary.median_ms, v.summary.median_ms
            ),
            target: format!("≤ {PROMQL_MEDIAN_RATIO}×"),
            pass: m <= PROMQL_MEDIAN_RATIO,
            advantage: Some((1.0 / m, 1.0 / PROMQL_MEDIAN_RATIO)),
        });
    }
    c
}

const MIB: f64 = 1024.0 * 1024.0;

/// A figure with three significant digits or so.
fn fmt(x: f64) -> String {
    if x >= 1e5 {
        si(x)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn pass(p: bool) -> &'static str {
    if p { "PASS" } else { "FAIL" }
}

/// The verdicts as a table.
pub fn summary_table(checks: &[Check]) -> String {
    let mut s = String::from("| Check | Measured | Target | Verdict |\n|---|---|---|---|\n");
    for c in checks {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.what,
            c.measured,
            c.target,
            pass(c.pass)
        );
    }
    s
}

/// The ingest runs as a table, one column per run.
pub fn ingest_table(runs: &[IngestRun]) -> String {
    let mut s = String::from("| Figure |");
    for r in runs {
        let _ = write!(s, " {} ← {} |", r.system.name(), r.format);
    }
    s.push_str("\n|---|");
    for _ in runs {
        s.push_str("---|");
    }
    s.push('\n');
    let mut row = |name: &str, f: &dyn Fn(&IngestRun) -> String| {
        let _ = write!(s, "| {name} |");
        for r in runs {
            let _ = write!(s, " {} |", f(r));
        }
        s.push('\n');
    };
    row("Path", &|r| {
        format!(
            "`{}`{}",
            r.path,
            r.encoding.map(|e| format!(", {e}")).unwrap_or_default()
        )
    });
    row("Points/s (wall)", &|r| {
        format!("{}points/s", si(r.points_per_sec))
    });
    row("Server CPU s per M points (loop)", &|r| {
        format!("{:.3}", r.cpu_secs_per_mpoint)
    });
    row("Server CPU s per M points (incl. settling)", &|r| {
        format!("{:.3}", r.cpu_secs_per_mpoint_settled)
    });
    row("Peak RSS (VmHWM)", &|r| bytes(r.peak_rss_bytes));
    row("Wall time of the loop", &|r| {
        format!("{:.2} s", r.wall_secs)
    });
    row("Server CPU during the loop", &|r| {
        format!(
            "{:.2} s ({:.2} cores)",
            r.server_cpu_secs,
            r.server_cpu_secs / r.wall_secs
        )
    });
    row("Settling (extra CPU)", &|r| {
        format!("{:.1} s (+{:.2} s)", r.settle_secs, r.settle_cpu_secs)
    });
    row("Bench (senders) CPU", &|r| {
        format!("{:.2} s", r.bench_cpu_secs)
    });
    row("Bytes on the wire", &|r| bytes(r.wire_bytes));
    row("Request latency p50 / p99 / max", &|r| {
        format!(
            "{:.1} / {:.1} / {:.1} ms",
            r.latency_ms[0], r.latency_ms[1], r.latency_ms[2]
        )
    });
    row("Requests 2xx / errors / retries", &|r| {
        format!("{} / {} / {}", r.ok, r.errors, r.retries)
    });
    row("Stored series / points (read back)", &|r| {
        format!("{} / {}", r.stored.series, r.stored.points)
    });
    row("Stored values bit-identical", &|r| {
        (if r.stored.values_identical {
            "yes"
        } else {
            "NO"
        })
        .to_owned()
    });
    row("Load average before / after", &|r| {
        format!("{:.2} / {:.2}", r.load_avg.0, r.load_avg.1)
    });
    s
}

/// Bytes on disk as a table.
pub fn disk_table(disk: &[Disk]) -> String {
    let mut s = String::from(
        "| System | Bytes | Bytes per point | How | Not counted |\n|---|---|---|---|---|\n",
    );
    for d in disk {
        let nc: Vec<String> = d
            .not_counted
            .iter()
            .map(|(n, b)| format!("{n} {}", bytes(*b)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {} | {} |",
            d.system.name(),
            bytes(d.bytes),
            d.bytes_per_point,
            d.method,
            if nc.is_empty() {
                "—".into()
            } else {
                nc.join(", ")
            }
        );
    }
    s
}

/// Query latencies: one row per query, each system's median / p99, and
/// Whippet's ratio to each peer.
pub fn latency_table(queries: &[QueryResult]) -> String {
    let Some(first) = queries.iter().find(|q| q.failure.is_none()) else {
        return "No query could be measured.\n".into();
    };
    // Whippet's PromQL side has a table of its own (`promql_table`).
    let shown = |side: &&crate::query::SideResult| side.system != WHIPPET_PROMQL;
    let mut s = String::from("| Query |");
    for side in first.sides.iter().filter(shown) {
        let _ = write!(s, " {} median / p99 |", side.system);
        if side.system != System::Whippet.name() {
            let _ = write!(s, " Whippet / {} (median, p99) |", side.system);
        }
    }
    s.push_str("\n|---|");
    for side in first.sides.iter().filter(shown) {
        s.push_str("---|");
        if side.system != System::Whippet.name() {
            s.push_str("---|");
        }
    }
    s.push('\n');
    for q in queries {
        let _ = write!(s, "| `{}` |", q.name);
        if let Some(f) = &q.failure {
            let _ = writeln!(s, " FAILED: {f} |");
            continue;
        }
        for side in q.sides.iter().filter(shown) {
            let _ = write!(
                s,
                " {:.2} / {:.2} ms |",
                side.summary.median_ms, side.summary.p99_ms
            );
            if side.system != System::Whippet.name() {
                let _ = write!(s, " {:.2}× / {:.2}× |", side.median_ratio, side.p99_ratio);
            }
        }
        s.push('\n');
    }
    s
}

/// The PromQL forms (issue 8): per query, the median / p99 of Whippet
/// asked in PromQL, Whippet asked in Datadog's language, VictoriaMetrics
/// and Prometheus, and the verdict Whippet's PromQL median ≤
/// VictoriaMetrics'.
pub fn promql_table(queries: &[QueryResult]) -> String {
    let mut s = String::from(
        "| Query | Whippet PromQL median / p99 | Whippet Datadog median / p99 | VictoriaMetrics median / p99 | Prometheus median / p99 | Whippet PromQL / VictoriaMetrics (median) | Verdict (≤ 1×) |\n|---|---|---|---|---|---|---|\n",
    );
    let cell = |side: Option<&crate::query::SideResult>| {
        side.map_or("—".to_owned(), |x| {
            format!("{:.2} / {:.2} ms", x.summary.median_ms, x.summary.p99_ms)
        })
    };
    for q in queries {
        if let Some(f) = &q.failure {
            let _ = writeln!(s, "| `{}` | FAILED: {f} | | | | | FAIL |", q.name);
            continue;
        }
        let wp = q.side_named(WHIPPET_PROMQL);
        let vm = q.side(System::VictoriaMetrics);
        let (ratio, verdict) = match (wp, vm) {
            (Some(w), Some(v)) => {
                let m = w.summary.median_ms / v.summary.median_ms;
                (format!("{m:.2}×"), pass(m <= PROMQL_MEDIAN_RATIO))
            }
            _ => ("—".to_owned(), "—"),
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {ratio} | {verdict} |",
            q.name,
            cell(wp),
            cell(q.side(System::Whippet)),
            cell(vm),
            cell(q.side(System::Prometheus)),
        );
    }
    s
}

/// The queries' texts, first runs, answer sizes and agreement.
pub fn answers_table(queries: &[QueryResult]) -> String {
    let mut s = String::from(
        "| Query | System | Text | First run | Server CPU per run | Series / points | Agreement with Whippet |\n|---|---|---|---|---|---|---|\n",
    );
    for q in queries {
        for side in &q.sides {
            let agreement = match &side.comparison {
                None => "—".to_owned(),
                Some(c) => format!(
                    "{} series paired, {} points compared, median rel. diff {:.1e}, {:.0} % within 1 %{}{}",
                    c.paired_series,
                    c.compared_points,
                    c.median_rel_diff,
                    c.within_1pct * 100.0,
                    side.peer_comparisons
                        .iter()
                        .map(|(peer, c)| format!(
                            "; against {peer} (same PromQL, same grid): {} of {} / {} series paired, {} points compared, max rel. diff {:.1e}, median {:.1e}",
                            c.paired_series,
                            c.whippet_series,
                            c.vm_series,
                            c.compared_points,
                            c.max_rel_diff,
                            c.median_rel_diff
                        ))
                        .collect::<String>(),
                    side.warning
                        .as_ref()
                        .map(|w| format!("; {w}"))
                        .unwrap_or_default()
                ),
            };
            let _ = writeln!(
                s,
                "| `{}` | {} | `{}` | {:.1} ms | {:.1} ms | {} / {} | {} |",
                q.name,
                side.system,
                side.text.replace('|', "\\|"),
                side.first_ms,
                side.server_cpu_ms_per_query,
                side.series,
                side.points,
                agreement
            );
        }
    }
    s
}

/// The whole report.
pub fn markdown(r: &Results, chart: Option<&str>) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(
        s,
        "# Whippet vs VictoriaMetrics vs Prometheus: `{}` preset, {}\n",
        r.preset, r.date
    );
    let _ = writeln!(s, "Command: `{}` ({:.0} s)\n", r.command, r.total_secs);
    let _ = writeln!(
        s,
        "Machine: {} × {}, {}, Linux {}; commit `{}`; bench {} build. **Shared 2-core machines are noisy: compare CPU figures, and rerun before trusting a close verdict.**\n",
        m.nproc,
        m.cpu_model,
        bytes(m.mem_total_bytes),
        m.kernel,
        m.git_commit.as_deref().unwrap_or("unknown"),
        m.bench_build
    );
    let b = &r.binaries;
    let _ = writeln!(
        s,
        "- whippet: `{}` ({})",
        b.whippet_version,
        b.whippet.display()
    );
    let _ = writeln!(
        s,
        "- victoria-metrics: `{}` ({}), flags `-retentionPeriod=100y {}`",
        b.vm_version,
        b.vm.display(),
        r.vm_flags.join(" ")
    );
    let _ = writeln!(
        s,
        "- prometheus: `{}` ({})\n",
        b.prometheus_version,
        b.prometheus.display()
    );
    if let Some(png) = chart {
        let _ = writeln!(
            s,
            "![Whippet's advantage over each peer, per figure]({png})\n"
        );
    }
    let _ = writeln!(s, "## Summary (targets: Whippet against VictoriaMetrics)\n");
    s.push_str(&summary_table(&r.checks));
    let d = &r.dataset;
    let _ = writeln!(
        s,
        "\n## Data set\n\n{} series ({} hosts × 20 metrics, `whippet-fleetgen`, seed {:#x}) × {} points every {} s, {} points after gaps, timestamps {} to {}; checksum of every point `{}`. Generated in {:.1} s before anything was timed.\n",
        d.series,
        d.hosts,
        d.seed,
        d.points_per_series,
        d.interval_secs,
        d.total_points,
        d.first_ts,
        d.last_ts,
        d.checksum,
        d.generate_secs
    );
    s.push_str("| Format | Requests | On the wire |\n|---|---|---|\n");
    for (f, n, w) in &d.bodies {
        let _ = writeln!(s, "| {f} | {n} | {} |", bytes(*w));
    }
    let _ = writeln!(
        s,
        "\n## Ingest\n\nEach run starts a fresh server; the runs go one after the other, never two at once. 4 senders on keep-alive connections POST every body once (1 000 series × 10 points per body, time-major).\n"
    );
    s.push_str(&ingest_table(&r.ingest));
    let _ = writeln!(s, "\n## Disk after flush and merge\n");
    s.push_str(&disk_table(&r.disk));
    let _ = writeln!(
        s,
        "\n## Queries\n\nOn the servers loaded through protobuf, {} warm-up and {} measured runs per query and system, each system's runs back to back (not interleaved: see `bench/README.md`), which system goes first rotating from query to query; load average {:.2} before, {:.2} after. Every query covers the whole data set.\n",
        r.warmup_runs, r.measured_runs, r.query_load_avg.0, r.query_load_avg.1
    );
    s.push_str(&latency_table(&r.queries));
    let _ = writeln!(
        s,
        "\n### The PromQL forms (issue 8)\n\nWhippet asked the suite's PromQL through its Prometheus API (`/prometheus/api/v1/query_range`, metric names by Whippet's rule: `system_cpu_user`), on the same server and data as the Datadog queries, against VictoriaMetrics' and Prometheus' answers to the same PromQL. Target: Whippet's PromQL median at most VictoriaMetrics' ({PROMQL_MEDIAN_RATIO}×).\n"
    );
    s.push_str(&promql_table(&r.queries));
    s.push('\n');
    s.push_str(&answers_table(&r.queries));
    let _ = writeln!(
        s,
        "\n## How the figures are computed\n\nSee `bench/README.md` (section `whippet-bench`): points/s are points over the wall time of the loop; CPU is the server's `utime + stime` from `/proc/<pid>/stat`; peak RSS is `VmHWM` after the server settled and before anything was read back; disk is measured after each system's own flush and merge; latencies are timed from writing the request to reading the whole answer; the p99 of 20 runs is the slowest run."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use whippet_intake_bench::verify::Stored;

    /// An ingest run with the figures the checks read; the data set is
    /// 1 000 points, stored whole.
    fn run(system: System, format: &'static str, points_per_sec: f64, rss_mib: u64) -> IngestRun {
        IngestRun {
            system,
            format,
            path: "/".into(),
            encoding: None,
            requests: 1,
            wire_bytes: 1,
            points: 1000,
            wall_secs: 1.0,
            points_per_sec,
            server_cpu_secs: 1.0,
            cpu_secs_per_mpoint: 1e6 / points_per_sec,
            settle_secs: 0.0,
            settle_cpu_secs: 0.0,
            cpu_secs_per_mpoint_settled: 0.0,
            bench_cpu_secs: 0.0,
            peak_rss_bytes: rss_mib << 20,
            rss_after_bytes: 0,
            ok: 1,
            errors: 0,
            retries: 0,
            first_error: None,
            latency_ms: [0.0; 3],
            load_avg: (0.0, 0.0),
            stored: Stored {
                series: 1,
                points: 1000,
                values_identical: true,
                ..Stored::default()
            },
        }
    }

    fn disk(system: System, bytes_per_point: f64) -> Disk {
        Disk {
            system,
            method: String::new(),
            bytes: 0,
            points: 1000,
            bytes_per_point,
            not_counted: Vec::new(),
        }
    }

    fn side(name: &str, median_ms: f64) -> crate::query::SideResult {
        crate::query::SideResult {
            system: name.into(),
            summary: whippet_query_bench::stats::Summary {
                median_ms,
                p99_ms: median_ms * 2.0,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn query(name: &str, sides: Vec<crate::query::SideResult>) -> QueryResult {
        QueryResult {
            name: name.into(),
            dashboard: false,
            step_secs: 20,
            hosts_selected: 1,
            step_rule: whippet_query_bench::suite::Step::Whippet,
            count_rule: whippet_query_bench::suite::Count::Same,
            note: String::new(),
            sides,
            failure: None,
        }
    }

    #[test]
    fn whippet_promql_is_judged_against_victoria_metrics_median() {
        let queries = [
            query(
                "fast",
                vec![
                    side("whippet", 1.0),
                    side(WHIPPET_PROMQL, 3.0),
                    side("victoria-metrics", 4.0),
                    side("prometheus", 8.0),
                ],
            ),
            query(
                "slow",
                vec![
                    side("whippet", 1.0),
                    side(WHIPPET_PROMQL, 5.0),
                    side("victoria-metrics", 4.0),
                ],
            ),
            // Without Whippet's PromQL side (a scaling run before issue 8):
            // no PromQL verdict.
            query(
                "none",
                vec![side("whippet", 1.0), side("victoria-metrics", 4.0)],
            ),
        ];
        let c = checks(&[], &[], &queries);
        let promql: Vec<(&str, &str, bool)> = c
            .iter()
            .filter(|c| c.what.contains("in PromQL"))
            .map(|c| (c.what.as_str(), c.measured.as_str(), c.pass))
            .collect();
        assert_eq!(
            promql,
            [
                (
                    "Query `fast` in PromQL: Whippet's median vs VictoriaMetrics'",
                    "0.75× (3.00 vs 4.00 ms)",
                    true
                ),
                (
                    "Query `slow` in PromQL: Whippet's median vs VictoriaMetrics'",
                    "1.25× (5.00 vs 4.00 ms)",
                    false
                ),
            ]
        );
        // The Datadog verdicts still compare Whippet's Datadog side.
        assert!(
            c.iter()
                .any(|c| c.what == "Query `fast`: median vs VictoriaMetrics"
                    && c.measured.starts_with("0.25×"))
        );
        let t = promql_table(&queries);
        assert!(
            t.contains("| `fast` | 3.00 / 6.00 ms | 1.00 / 2.00 ms | 4.00 / 8.00 ms | 8.00 / 16.00 ms | 0.75× | PASS |"),
            "{t}"
        );
        assert!(
            t.contains(
                "| `slow` | 5.00 / 10.00 ms | 1.00 / 2.00 ms | 4.00 / 8.00 ms | — | 1.25× | FAIL |"
            ),
            "{t}"
        );
        // The Datadog latency table leaves Whippet's PromQL side out.
        let l = latency_table(&queries);
        assert!(!l.contains(WHIPPET_PROMQL), "{l}");
    }

    #[test]
    fn checks_cover_every_target_in_order() {
        let ingest = [
            run(System::Whippet, JSON, 4e6, 100),
            run(System::VictoriaMetrics, JSON, 1e6, 300),
            run(System::Whippet, V2, 3e6, 150),
            run(System::VictoriaMetrics, RW, 2e6, 200),
            run(System::Prometheus, RW, 1e6, 400),
        ];
        let disk = [
            disk(System::Whippet, 0.9),
            disk(System::VictoriaMetrics, 1.2),
        ];
        let c = checks(&ingest, &disk, &[]);
        let rows: Vec<(&str, &str, &str, bool)> = c
            .iter()
            .map(|c| {
                (
                    c.what.as_str(),
                    c.measured.as_str(),
                    c.target.as_str(),
                    c.pass,
                )
            })
            .collect();
        let expected = [
            (
                "Ingest, Datadog JSON: points/s vs VictoriaMetrics",
                "4.00× (4.00 M vs 1.00 M points/s)",
                "≥ 2×",
                true,
            ),
            (
                "Ingest, Datadog JSON: server CPU s per M points vs VictoriaMetrics",
                "0.25× (0.250 vs 1.00 CPU s/M points)",
                "≤ 0.50×",
                true,
            ),
            (
                "Ingest, protobuf: Whippet v2 points/s vs VictoriaMetrics remote write",
                "1.50× (3.00 M vs 2.00 M points/s)",
                "≥ 2×",
                false,
            ),
            (
                "Peak RSS while ingesting (Datadog JSON) vs VictoriaMetrics",
                "0.33× (100 vs 300 MiB)",
                "≤ 0.50×",
                true,
            ),
            (
                "Peak RSS while ingesting (protobuf) vs VictoriaMetrics",
                "0.75× (150 vs 200 MiB)",
                "≤ 0.50×",
                false,
            ),
            (
                "Disk: bytes per point after flush and merge",
                "0.900",
                "≤ 1.0",
                true,
            ),
            (
                "Disk: bytes per point vs VictoriaMetrics",
                "0.75× (0.900 vs 1.20 bytes/point)",
                "≤ 0.67×",
                false,
            ),
        ];
        assert_eq!(rows[..expected.len()], expected);
        // Then one stored-data check per ingest run.
        assert_eq!(c.len(), expected.len() + ingest.len());
        assert!(c[expected.len()..].iter().all(|c| c.pass));
        assert_eq!(
            c[expected.len() + 4].what,
            "prometheus (Prometheus remote write): stored series / points, values bit-identical"
        );
    }
}
