//! The result of a run: every figure (serialised as the JSON file), the
//! verdicts against the targets, and the Markdown rendering.

use std::fmt::Write as _;

use serde::Serialize;
use whippet_intake_bench::report::{bytes, si};
use whippet_intake_bench::sys::Machine;
use whippet_intake_bench::verify::Stored;

use whippet_query_bench::answer::Comparison;
use whippet_query_bench::stats::Summary;
use whippet_query_bench::suite::{Count, Step};

/// Targets from the query issue.
pub mod targets {
    /// Most of VictoriaMetrics' median latency Whippet's may be, per query.
    pub const MEDIAN_RATIO: f64 = 0.5;
    /// Most of VictoriaMetrics' p99 latency Whippet's may be, per query.
    pub const P99_RATIO: f64 = 1.0;
    /// Largest median latency of a dashboard query (an aggregation over
    /// every series of a metric), milliseconds, exclusive.
    pub const DASHBOARD_MEDIAN_MS: f64 = 25.0;
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
    /// The machine.
    pub machine: Machine,
    /// The servers, Whippet first.
    pub servers: Vec<ServerInfo>,
    /// The data set and the queried range.
    pub dataset: Dataset,
    /// How each system was loaded and what it stored, Whippet first.
    pub loads: Vec<Load>,
    /// The metric names VictoriaMetrics stored (from
    /// `/api/v1/label/__name__/values`), the first few.
    pub vm_metric_names: Vec<String>,
    /// Unmeasured runs per system before the measured ones.
    pub warmup_runs: usize,
    /// Measured runs per system.
    pub measured_runs: usize,
    /// 1-minute load average before and after the query phase.
    pub load_avg: (f64, f64),
    /// One entry per query, in suite order.
    pub queries: Vec<QueryResult>,
    /// Each target with its verdict.
    pub checks: Vec<Check>,
}

/// One server under test.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// `whippet` or `victoria-metrics`.
    pub name: String,
    /// The binary.
    pub binary: String,
    /// Its version line.
    pub version: String,
    /// The flags or settings it ran with, beyond its data directory and
    /// listen address.
    pub flags: Vec<String>,
}

/// The data set and the range every query covers.
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
    /// Points, gaps excluded.
    pub total_points: u64,
    /// Generator seed.
    pub seed: u64,
    /// Checksum of every point (see `whippet_intake_bench::payload::Checksum`), hex.
    pub checksum: String,
    /// First point (Unix seconds), the `from`/`start` of every query.
    pub first_ts: i64,
    /// Last point (Unix seconds).
    pub last_ts: i64,
    /// `to`/`end` of every query: the last point + one interval.
    pub query_to: i64,
}

/// Loading one system.
#[derive(Debug, Serialize)]
pub struct Load {
    /// `whippet` or `victoria-metrics`.
    pub name: String,
    /// The intake path.
    pub path: String,
    /// Wall seconds of the send loop.
    pub wall_secs: f64,
    /// Points / wall seconds.
    pub points_per_sec: f64,
    /// Bodies that failed (non-2xx after retries, I/O errors).
    pub errors: u64,
    /// 429/503 answers retried.
    pub retries: u64,
    /// The first error, if any.
    pub first_error: Option<String>,
    /// Seconds until the server's CPU use fell below 3 % of a core after
    /// the load (at most 120).
    pub settle_secs: f64,
    /// What the export API read back.
    pub stored: Stored,
    /// Resident set before the query phase.
    pub rss_before_queries: u64,
    /// Peak resident set (`VmHWM`) at the end of the run.
    pub peak_rss: u64,
}

/// One system's runs of one query.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SideResult {
    /// Latency summary of the measured runs.
    pub summary: Summary,
    /// Every measured run, milliseconds, in order (NaN: failed).
    pub runs_ms: Vec<f64>,
    /// Measured runs that failed (non-200 or I/O error).
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Bytes of the answer's body.
    pub response_bytes: usize,
    /// Latency of the first request of this query (the answer check, before
    /// any warm-up), milliseconds: for Whippet, with the decoded-chunk cache
    /// cold for what no earlier query of the suite read.
    pub first_ms: f64,
    /// Server CPU (user + system, all threads) per measured run,
    /// milliseconds, from `/proc/<pid>/stat` around each request (10 ms
    /// ticks: ±0.5 ms over 20 runs).
    pub server_cpu_ms_per_query: f64,
}

/// One query's result.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    /// Suite name.
    pub name: String,
    /// Held to the dashboard target.
    pub dashboard: bool,
    /// Datadog text sent to Whippet.
    pub datadog: String,
    /// PromQL text sent to VictoriaMetrics.
    pub promql: String,
    /// Where the step came from.
    pub step_rule: Step,
    /// The step / rollup interval, seconds (0 when the query failed
    /// before it was known).
    pub step_secs: u32,
    /// Hosts the query's host filter selects (0: no host filter).
    pub hosts_selected: usize,
    /// How the series counts relate.
    pub count_rule: Count,
    /// About the pair.
    pub note: String,
    /// The answers side by side (from the first, unmeasured run).
    pub comparison: Comparison,
    /// Set when the series counts differ beyond what `count_rule` allows.
    pub warning: Option<String>,
    /// Set when the query could not be run (the others still are).
    pub failure: Option<String>,
    /// Whippet's runs.
    pub whippet: SideResult,
    /// VictoriaMetrics' runs.
    pub vm: SideResult,
    /// Whippet median / VictoriaMetrics median.
    pub median_ratio: f64,
    /// Whippet p99 / VictoriaMetrics p99.
    pub p99_ratio: f64,
}

/// One verdict.
#[derive(Debug, Clone, Serialize)]
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

/// The targets for every query (a failed query fails them all).
pub fn checks(queries: &[QueryResult]) -> Vec<Check> {
    let mut out = Vec::new();
    for q in queries {
        let ok = q.failure.is_none() && q.whippet.errors == 0 && q.vm.errors == 0;
        out.push(Check {
            what: format!("{}: median, Whippet / VM", q.name),
            measured: format!("{:.2}×", q.median_ratio),
            target: format!("≤ {:.1}×", targets::MEDIAN_RATIO),
            pass: ok && q.median_ratio <= targets::MEDIAN_RATIO,
        });
        out.push(Check {
            what: format!("{}: p99 (max of the runs), Whippet / VM", q.name),
            measured: format!("{:.2}×", q.p99_ratio),
            target: format!("≤ {:.1}×", targets::P99_RATIO),
            pass: ok && q.p99_ratio <= targets::P99_RATIO,
        });
        if q.dashboard {
            out.push(Check {
                what: format!("{}: Whippet median (dashboard query)", q.name),
                measured: format!("{:.1} ms", q.whippet.summary.median_ms),
                target: format!("< {:.0} ms", targets::DASHBOARD_MEDIAN_MS),
                pass: ok && q.whippet.summary.median_ms < targets::DASHBOARD_MEDIAN_MS,
            });
        }
        if !ok {
            out.push(Check {
                what: format!("{}: ran without errors", q.name),
                measured: q
                    .failure
                    .clone()
                    .or_else(|| q.whippet.first_error.clone())
                    .or_else(|| q.vm.first_error.clone())
                    .unwrap_or_default(),
                target: "no error".into(),
                pass: false,
            });
        }
    }
    out
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

fn ms(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x < 10.0 {
        format!("{x:.2} ms")
    } else {
        format!("{x:.1} ms")
    }
}

fn x(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.2}×")
    } else {
        "–".into()
    }
}

/// The latency table: one row per query, with the verdicts.
pub fn latency_table(queries: &[QueryResult]) -> String {
    let mut s = String::from(
        "| Query | Whippet median | Whippet p99 (max) | Whippet min | VM median | VM p99 (max) | VM min \
         | Median W/VM | p99 W/VM | Verdicts |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for q in queries {
        let (w, v) = (&q.whippet.summary, &q.vm.summary);
        let mut verdicts = vec![
            format!(
                "median {}",
                verdict(q.failure.is_none() && q.median_ratio <= targets::MEDIAN_RATIO)
            ),
            format!(
                "p99 {}",
                verdict(q.failure.is_none() && q.p99_ratio <= targets::P99_RATIO)
            ),
        ];
        if q.dashboard {
            verdicts.push(format!(
                "<{:.0} ms {}",
                targets::DASHBOARD_MEDIAN_MS,
                verdict(q.failure.is_none() && w.median_ms < targets::DASHBOARD_MEDIAN_MS)
            ));
        }
        if let Some(f) = &q.failure {
            verdicts = vec![format!("FAILED: {}", f.replace('|', "\\|"))];
        }
        let _ = writeln!(
            s,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            q.name,
            if q.dashboard { " (dashboard)" } else { "" },
            ms(w.median_ms),
            ms(w.p99_ms),
            ms(w.min_ms),
            ms(v.median_ms),
            ms(v.p99_ms),
            ms(v.min_ms),
            x(q.median_ratio),
            x(q.p99_ratio),
            verdicts.join(", ")
        );
    }
    s
}

/// The answers table: series, points, agreement, cost.
pub fn answers_table(queries: &[QueryResult]) -> String {
    let mut s = String::from(
        "| Query | Step | Series W / VM | Points W / VM | Compared points | Median / max rel. diff \
         | Within 1 % | Server CPU per run W / VM | First run W / VM | Answer bytes W / VM |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for q in queries {
        let c = &q.comparison;
        let _ = writeln!(
            s,
            "| {} | {} s | {} / {}{} | {} / {} | {} | {:.1e} / {:.1e} | {:.1} % | {:.1} / {:.1} ms | {:.2} / {:.2} ms | {} / {} |",
            q.name,
            q.step_secs,
            c.whippet_series,
            c.vm_series,
            if q.warning.is_some() { " ⚠" } else { "" },
            c.whippet_points,
            c.vm_points,
            c.compared_points,
            c.median_rel_diff,
            c.max_rel_diff,
            100.0 * c.within_1pct,
            q.whippet.server_cpu_ms_per_query,
            q.vm.server_cpu_ms_per_query,
            q.whippet.first_ms,
            q.vm.first_ms,
            bytes(q.whippet.response_bytes as u64),
            bytes(q.vm.response_bytes as u64),
        );
    }
    s
}

/// The summary table of the checks.
pub fn summary_table(checks: &[Check]) -> String {
    let mut s = String::from("| Check | Measured | Target | Verdict |\n|---|---|---|---|\n");
    for c in checks {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.what,
            c.measured.replace('|', "\\|"),
            c.target,
            verdict(c.pass)
        );
    }
    s
}

/// The Markdown report.
pub fn markdown(r: &Results) -> String {
    let m = &r.machine;
    let d = &r.dataset;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Query benchmark, Whippet vs VictoriaMetrics: `{}` preset, {}\n",
        r.preset, r.date
    );
    let _ = writeln!(s, "Command: `{}`\n", r.command);
    let _ = writeln!(
        s,
        "Machine: {} × {}, {:.1} GiB RAM, Linux {}; commit `{}`; bench {} build; {} clock ticks/s; \
         1-minute load average {:.2} before the queries, {:.2} after. **The machine is shared with \
         other work: latencies are noisy; the p99 of 20 runs is their maximum and moves the most.**\n",
        m.nproc,
        m.cpu_model,
        m.mem_total_bytes as f64 / (1u64 << 30) as f64,
        m.kernel,
        m.git_commit.as_deref().unwrap_or("unknown"),
        m.bench_build,
        m.clock_ticks_per_sec,
        r.load_avg.0,
        r.load_avg.1,
    );
    for sv in &r.servers {
        let _ = writeln!(
            s,
            "- {}: `{}` ({}), with {}",
            sv.name,
            sv.version,
            sv.binary,
            sv.flags
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    s.push_str(
        "\nEvery other setting at its default. \
         VictoriaMetrics runs with `-search.disableCache`: Whippet has no result cache, and \
         with VictoriaMetrics' cache on, the repeated runs would compare a cache of answers with \
         an engine. Whippet keeps its decoded-chunk cache (256 MiB by default: decompressed \
         storage, not answers; every run evaluates the whole query), so its repeated runs skip \
         decompression; the answers table gives each query's first run, before any warm-up. \
         `-search.latencyOffset=0s` makes the most recent points visible at once.\n",
    );
    let _ = writeln!(s, "\n## Latency\n\n{}", latency_table(&r.queries));
    let _ = writeln!(
        s,
        "Per query and system: {} warm-up runs, then {} measured runs, the systems alternating \
         run by run (the first of each pair alternates too), each a `GET` over a keep-alive \
         connection opened beforehand, timed from writing the request to reading the whole \
         answer. The p99 is the nearest-rank 99th percentile: with {} runs, the slowest run.\n",
        r.warmup_runs, r.measured_runs, r.measured_runs
    );
    let _ = writeln!(s, "## Summary\n\n{}", summary_table(&r.checks));
    let _ = writeln!(s, "## Answers\n\n{}", answers_table(&r.queries));
    s.push_str(
        "Series and points are those of the timed queries. Values are compared where both \
         answers aggregate the same raw points: Whippet's bucket `[t, t + step)` against \
         VictoriaMetrics' point at `t + step − 10 s`, whose window `(t − 10 s, t + step − 10 s]` \
         holds the same points of the 10 s grid. Those points come from one more \
         VictoriaMetrics query, not timed, with `start` and `end` moved by `step − 10 s` (the \
         timed ones start at the first point, on Whippet's bucket grid). Relative difference: \
         |w − v| / max(|w|, |v|).\n\n",
    );
    for q in &r.queries {
        if let Some(w) = &q.warning {
            let _ = writeln!(s, "**Warning, {}:** {w}\n", q.name);
        }
    }
    s.push_str("## The queries\n\n");
    for q in &r.queries {
        let _ = writeln!(
            s,
            "### `{}`{}\n\n- Datadog (Whippet `GET /api/v1/query`): `{}`\n- PromQL \
             (VictoriaMetrics `GET /api/v1/query_range`, step {} s): `{}`\n- {}\n",
            q.name,
            if q.dashboard { " (dashboard)" } else { "" },
            q.datadog,
            q.step_secs,
            q.promql,
            q.note
        );
        if let Some(f) = &q.failure {
            let _ = writeln!(s, "Failed: `{f}`\n");
        }
    }
    s.push_str("## Loading\n\n| System | Intake wall time | Points/s | Errors / retries | Settled after | Read back (series / points) | Bit-identical | RSS before queries | Peak RSS |\n|---|---|---|---|---|---|---|---|---|\n");
    for l in &r.loads {
        let _ = writeln!(
            s,
            "| {} (`POST {}`) | {:.1} s | {}points/s | {} / {} | {:.1} s | {} / {} | {} | {} | {} |",
            l.name,
            l.path,
            l.wall_secs,
            si(l.points_per_sec),
            l.errors,
            l.retries,
            l.settle_secs,
            l.stored.series,
            l.stored.points,
            if l.stored.values_identical {
                "yes"
            } else {
                "no"
            },
            bytes(l.rss_before_queries),
            bytes(l.peak_rss),
        );
    }
    let _ = writeln!(
        s,
        "\nVictoriaMetrics stored the metric names as `{}`.\n",
        r.vm_metric_names.join("`, `")
    );
    let _ = writeln!(
        s,
        "## Data set\n\n{} series ({} hosts × 20 metrics, `whippet-fleetgen`, seed {:#x}) × {} \
         points every {} s, {} points after gaps, timestamps {} to {} (ending shortly before the \
         run, the first one a multiple of 60 s). Checksum of every point: `{}`. Every query covers \
         `from`/`start` = {} to `to`/`end` = {} (the last point + {} s).",
        d.series,
        d.hosts,
        d.seed,
        d.points_per_series,
        d.interval_secs,
        d.total_points,
        d.first_ts,
        d.last_ts,
        d.checksum,
        d.first_ts,
        d.query_to,
        d.interval_secs,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(median: f64, p99: f64) -> SideResult {
        SideResult {
            summary: Summary {
                runs: 20,
                median_ms: median,
                p99_ms: p99,
                min_ms: median / 2.0,
                max_ms: p99,
                mean_ms: median,
            },
            ..SideResult::default()
        }
    }

    fn query(name: &str, dashboard: bool, w: SideResult, v: SideResult) -> QueryResult {
        QueryResult {
            name: name.into(),
            dashboard,
            datadog: "avg:m{*} by {region}".into(),
            promql: "avg by (region) (avg_over_time(m[30s]))".into(),
            step_rule: Step::Whippet,
            step_secs: 30,
            hosts_selected: 0,
            count_rule: Count::Same,
            note: "n".into(),
            comparison: Comparison::default(),
            warning: None,
            failure: None,
            median_ratio: whippet_query_bench::stats::ratio(
                w.summary.median_ms,
                v.summary.median_ms,
            ),
            p99_ratio: whippet_query_bench::stats::ratio(w.summary.p99_ms, v.summary.p99_ms),
            whippet: w,
            vm: v,
        }
    }

    #[test]
    fn verdicts_follow_the_targets() {
        let qs = vec![
            // Fast and far ahead: every check passes.
            query("a", true, side(4.0, 9.0), side(10.0, 20.0)),
            // Half of VM exactly passes; a p99 above VM's fails.
            query("b", false, side(5.0, 21.0), side(10.0, 20.0)),
            // A dashboard query over 25 ms fails even when far ahead.
            query("c", true, side(30.0, 40.0), side(100.0, 200.0)),
        ];
        let c = checks(&qs);
        let get = |what: &str| c.iter().find(|x| x.what == what).unwrap().pass;
        assert!(get("a: median, Whippet / VM"));
        assert!(get("a: p99 (max of the runs), Whippet / VM"));
        assert!(get("a: Whippet median (dashboard query)"));
        assert!(get("b: median, Whippet / VM"));
        assert!(!get("b: p99 (max of the runs), Whippet / VM"));
        assert!(
            !c.iter()
                .any(|x| x.what == "b: Whippet median (dashboard query)")
        );
        assert!(get("c: median, Whippet / VM"));
        assert!(!get("c: Whippet median (dashboard query)"));
        assert_eq!(c.len(), 3 + 2 + 3);

        let mut failed = query("d", false, SideResult::default(), side(1.0, 1.0));
        failed.failure = Some("HTTP 400: bad | query".into());
        let c = checks(&[failed.clone()]);
        assert!(c.iter().all(|x| !x.pass));
        let t = latency_table(&[failed]);
        assert!(t.contains("FAILED: HTTP 400: bad \\| query"), "{t}");
    }

    #[test]
    fn tables_render_every_query() {
        let qs = vec![
            query("avg_by_region", true, side(4.0, 9.0), side(10.0, 20.0)),
            query("raw_one", false, side(1.234, 2.0), side(1.0, 1.5)),
        ];
        let t = latency_table(&qs);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert_eq!(
            lines[2],
            "| avg_by_region (dashboard) | 4.00 ms | 9.00 ms | 2.00 ms | 10.0 ms | 20.0 ms | 5.00 ms \
             | 0.40× | 0.45× | median PASS, p99 PASS, <25 ms PASS |"
        );
        assert!(
            lines[3].starts_with("| raw_one | 1.23 ms |"),
            "{}",
            lines[3]
        );
        assert!(
            lines[3].ends_with("| 1.23× | 1.33× | median FAIL, p99 FAIL |"),
            "{}",
            lines[3]
        );
        // Every row has as many cells as the header.
        let cells = |l: &str| l.matches('|').count();
        assert!(lines.iter().all(|l| cells(l) == cells(lines[0])), "{t}");
        let a = answers_table(&qs);
        assert_eq!(a.lines().count(), 4);
        let a_lines: Vec<&str> = a.lines().collect();
        assert!(a_lines.iter().all(|l| cells(l) == cells(a_lines[0])), "{a}");

        let r = Results {
            date: "2026-11-26".into(),
            preset: "small".into(),
            command: "cargo run".into(),
            machine: Machine::detect(std::path::Path::new(".")),
            servers: vec![ServerInfo {
                name: "victoria-metrics".into(),
                binary: "/usr/bin/victoria-metrics".into(),
                version: "1.79".into(),
                flags: vec!["-search.disableCache".into()],
            }],
            dataset: Dataset {
                series: 10,
                hosts: 1,
                points_per_series: 3,
                interval_secs: 10,
                total_points: 30,
                seed: 1,
                checksum: "00".into(),
                first_ts: 60,
                last_ts: 80,
                query_to: 90,
            },
            loads: vec![],
            vm_metric_names: vec!["system.cpu.user".into()],
            warmup_runs: 3,
            measured_runs: 20,
            load_avg: (1.0, 2.0),
            checks: checks(&qs),
            queries: qs,
        };
        let md = markdown(&r);
        for needle in [
            "# Query benchmark, Whippet vs VictoriaMetrics: `small` preset, 2026-11-26",
            "`-search.disableCache`",
            "| avg_by_region (dashboard) | 4.00 ms",
            "### `raw_one`",
            "- PromQL (VictoriaMetrics `GET /api/v1/query_range`, step 30 s): `avg by (region) (avg_over_time(m[30s]))`",
            "with 20 runs, the slowest run",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["queries"][0]["whippet"]["summary"]["median_ms"], 4.0);
        assert_eq!(json["queries"][0]["step_rule"], "Whippet");
    }
}
