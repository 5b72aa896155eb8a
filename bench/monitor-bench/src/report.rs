//! The result files: every figure in `<date>-monitors[-quick].json`, and
//! the same as tables with the verdicts in `.md`.
//!
//! # What it must never do
//! Compute a figure: everything here is measured in `main.rs` and only
//! formatted (and compared with its target) here.

use serde::Serialize;
use whippet_intake_bench::sys::Machine;

use crate::create::Created;
use crate::fleet::{Backfill, Live};
use crate::mix::MixSummary;
use crate::rounds::Round;

/// The issue's throughput target: monitors evaluated per minute.
pub const TARGET_PER_MIN: f64 = 100_000.0;
/// The issue's alert latency allowance beyond one cadence, seconds.
pub const LATENCY_SLACK_SECS: f64 = 5.0;

/// The settings of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// `quick` or `full`.
    pub preset: &'static str,
    /// Series in the fleet.
    pub series: usize,
    /// Hosts in the fleet.
    pub hosts: usize,
    /// Minutes of data before the first monitor.
    pub backfill_mins: u64,
    /// The monitor cadence, `WHIPPET_MONITOR_INTERVAL_SECS`.
    pub interval_secs: u64,
    /// Monitor counts, ascending.
    pub counts: Vec<usize>,
    /// Rounds measured per count.
    pub rounds: usize,
    /// Longest wait for those rounds per count, seconds.
    pub max_measure_secs: u64,
    /// Concurrent connections creating monitors.
    pub create_conns: usize,
    /// Alert probes.
    pub probes: usize,
}

/// The figures of one monitor count.
#[derive(Debug, Clone, Serialize)]
pub struct CountRun {
    /// The mix of the first `n` monitors.
    pub mix: MixSummary,
    /// Creating the monitors added for this count.
    pub created: Created,
    /// Seconds from the last creation to the end of the first round that
    /// evaluated every monitor.
    pub settle_secs: f64,
    /// The measured rounds (every monitor in each).
    pub rounds: Vec<Round>,
    /// Distinct metric evaluations per round as the server logged them.
    pub server_evaluations: Option<u64>,
    /// Monitors evaluated per minute of wall time over the measured rounds
    /// (from the first one's start to the last one's).
    pub evaluated_per_min: f64,
    /// Monitors one round evaluates per second of round, × 60: how many
    /// per minute the server could evaluate if rounds ran back to back.
    pub capacity_per_min: f64,
    /// Median round duration (the evaluation lag), seconds.
    pub round_secs_median: f64,
    /// Longest round, seconds.
    pub round_secs_max: f64,
    /// Server CPU during rounds, in cores (CPU seconds / round seconds).
    pub round_cpu_cores: f64,
    /// Server CPU per 1 000 monitor evaluations, milliseconds.
    pub cpu_ms_per_1k: f64,
    /// Server CPU outside rounds (the live intake), in cores.
    pub idle_cpu_cores: f64,
    /// Server resident memory after the rounds, bytes.
    pub rss_bytes: u64,
    /// 1-minute load average after the rounds.
    pub load_1m: f64,
    /// Every round fit in the cadence.
    pub lag_ok: bool,
    /// Rounds still missing when the wait ended (0: all measured).
    pub rounds_missing: usize,
}

/// The alert latency figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Alert {
    /// Monitors (the probe included) during the probes.
    pub monitors: usize,
    /// The cadence, seconds.
    pub interval_secs: u64,
    /// Latency of each probe, seconds (`None`: no webhook before the
    /// deadline).
    pub latencies_secs: Vec<Option<f64>>,
    /// Median of the probes that arrived.
    pub median_secs: f64,
    /// Slowest that arrived.
    pub max_secs: f64,
    /// Rounds seen during the probes.
    pub rounds: Vec<Round>,
    /// Deliveries the receiver got in all.
    pub deliveries: usize,
}

/// Everything the run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// UTC date.
    pub date: String,
    /// The machine and commit.
    pub machine: Machine,
    /// The command line.
    pub command: String,
    /// `whippet --version`.
    pub whippet_version: String,
    /// The settings.
    pub settings: Settings,
    /// The backfill.
    pub backfill: Backfill,
    /// The live feed over the whole run.
    pub live: Live,
    /// One entry per count.
    pub counts: Vec<CountRun>,
    /// Alert latency.
    pub alert: Option<Alert>,
    /// 1-minute load averages sampled at each step.
    pub load_samples: Vec<(String, f64)>,
    /// Server log lines at WARN or ERROR (at most 20).
    pub server_warnings: Vec<String>,
    /// The verdicts: (target, figure, verdict).
    pub verdicts: Vec<(String, String, String)>,
}

/// A count with thin-space thousands: `100 000`.
pub fn int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The verdicts against the issue's targets.
pub fn verdicts(r: &Results) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    let cadence = r.settings.interval_secs as f64;
    if let Some(c) = r.counts.last() {
        let reachable = c.mix.monitors as f64 * 60.0 / cadence >= TARGET_PER_MIN;
        let verdict = if c.rounds.is_empty() {
            "FAIL (no complete round)"
        } else if !reachable {
            "n/a (the largest count cannot reach it at this cadence)"
        } else if c.evaluated_per_min >= TARGET_PER_MIN * 0.99 && c.lag_ok {
            "PASS"
        } else {
            "FAIL"
        };
        v.push((
            format!(
                "≥ {} monitors evaluated per minute, lag under one cadence ({cadence} s)",
                int(TARGET_PER_MIN as u64)
            ),
            format!(
                "{} monitors: {} per minute, rounds {:.1} s median / {:.1} s max",
                int(c.mix.monitors as u64),
                int(c.evaluated_per_min.round() as u64),
                c.round_secs_median,
                c.round_secs_max
            ),
            verdict.into(),
        ));
    }
    for c in &r.counts {
        v.push((
            format!(
                "Evaluation lag under one cadence at {} monitors",
                int(c.mix.monitors as u64)
            ),
            format!("longest round {:.2} s of {cadence} s", c.round_secs_max),
            if c.rounds.is_empty() {
                "FAIL (no complete round)".into()
            } else if c.lag_ok {
                "PASS".into()
            } else {
                "FAIL".into()
            },
        ));
    }
    if let Some(a) = &r.alert {
        let limit = cadence + LATENCY_SLACK_SECS;
        let lost = a.latencies_secs.iter().filter(|l| l.is_none()).count();
        v.push((
            format!("Alert latency ≤ cadence + 5 s ({limit} s)"),
            format!(
                "median {:.1} s, max {:.1} s over {} probes{}",
                a.median_secs,
                a.max_secs,
                a.latencies_secs.len(),
                if lost > 0 {
                    format!(", {lost} never arrived")
                } else {
                    String::new()
                }
            ),
            if lost == 0 && a.max_secs <= limit {
                "PASS".into()
            } else {
                "FAIL".into()
            },
        ));
    }
    v
}

/// The Markdown report.
pub fn markdown(r: &Results) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Monitor evaluation ({}, {})\n",
        r.settings.preset, r.date
    );
    let _ = writeln!(
        s,
        "Machine: {}; bench build {}, clock ticks {}/s.  \nServer: `{}`.  \nCommand: `{}`\n",
        r.machine.summary(),
        r.machine.bench_build,
        r.machine.clock_ticks_per_sec,
        r.whippet_version,
        r.command
    );
    let st = &r.settings;
    let _ = writeln!(
        s,
        "Fleet: {} series ({} hosts × 20 metrics, `whippet-fleetgen`), {} min of 10 s points before the first monitor, then every 10 s tick live ({} ticks, {} points, {} errors, {} late ticks, slowest tick {:.2} s). Cadence {} s. Monitors created over {} connections. Rounds measured per count: {} (at most {} s of waiting).\n",
        int(st.series as u64),
        int(st.hosts as u64),
        st.backfill_mins,
        r.live.ticks,
        int(r.live.points),
        r.live.errors,
        r.live.late_ticks,
        r.live.max_send_secs,
        st.interval_secs,
        st.create_conns,
        st.rounds,
        st.max_measure_secs
    );
    let _ = writeln!(
        s,
        "Backfill: {} points in {:.1} s ({} errors).\n",
        int(r.backfill.points),
        r.backfill.wall_secs,
        r.backfill.errors
    );
    let _ = writeln!(
        s,
        "## Verdicts\n\n| Target | Measured | Verdict |\n|---|---|---|"
    );
    for (t, m, v) in &r.verdicts {
        let _ = writeln!(s, "| {t} | {m} | {v} |");
    }
    let _ = writeln!(
        s,
        "\n## Throughput and lag per count\n\n\
         | Monitors | fleet / shared / service / host | Distinct evaluations (bench / server log) | Group states per round | Created per s (p50 latency) | Rounds | Round s median / max | Evaluated per min | Capacity per min | Server cores in rounds | CPU ms per 1k monitors | Cores between rounds | RSS | Load 1m |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for c in &r.counts {
        let k = |name: &str| c.mix.by_kind.get(name).copied().unwrap_or(0) as u64;
        let _ = writeln!(
            s,
            "| {} | {} / {} / {} / {} | {} / {} | {} | {:.0} ({:.1} ms) | {}{} | {:.2} / {:.2} | {} | {} | {:.2} | {:.1} | {:.2} | {} MiB | {:.2} |",
            int(c.mix.monitors as u64),
            int(k("fleet")),
            int(k("shared")),
            int(k("service")),
            int(k("host")),
            int(c.mix.distinct_evaluations as u64),
            c.server_evaluations.map_or_else(|| "—".into(), int),
            int(c.mix.group_states),
            c.created.per_sec,
            c.created.latency_p50_ms,
            c.rounds.len(),
            if c.rounds_missing > 0 {
                format!(" ({} missing)", c.rounds_missing)
            } else {
                String::new()
            },
            c.round_secs_median,
            c.round_secs_max,
            int(c.evaluated_per_min.round() as u64),
            int(c.capacity_per_min.round() as u64),
            c.round_cpu_cores,
            c.cpu_ms_per_1k,
            c.idle_cpu_cores,
            c.rss_bytes >> 20,
            c.load_1m
        );
    }
    let _ = writeln!(
        s,
        "\n\"Evaluated per min\" is what the counters show from the first measured round's start to the last one's (at most the count × 60 / cadence: the scheduler waits for the next tick). \"Capacity per min\" is the count × 60 / median round seconds: the rate if rounds ran back to back. Creation errors: {}.\n",
        r.counts
            .iter()
            .map(|c| format!(
                "{} ({} retries{})",
                c.created.errors,
                c.created.retries,
                c.created
                    .first_error
                    .as_ref()
                    .map(|e| format!(", first: {e}"))
                    .unwrap_or_default()
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let _ = writeln!(
        s,
        "### Rounds\n\n| Monitors | Round | Ended at s | Seconds | Monitors evaluated | Server CPU s |\n|---|---|---|---|---|---|"
    );
    for c in &r.counts {
        for (i, rd) in c.rounds.iter().enumerate() {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} | {:.2} | {} | {:.2} |",
                int(c.mix.monitors as u64),
                i + 1,
                rd.ended_at_secs,
                rd.secs,
                int(rd.monitors),
                rd.cpu_secs
            );
        }
    }
    if let Some(a) = &r.alert {
        let _ = writeln!(
            s,
            "\n## Alert latency\n\n{} monitors (the probe last), cadence {} s; {} probes spread over one cadence; {} webhook deliveries received.\n\n| Probe | Latency s |\n|---|---|",
            int(a.monitors as u64),
            a.interval_secs,
            a.latencies_secs.len(),
            a.deliveries
        );
        for (i, l) in a.latencies_secs.iter().enumerate() {
            let _ = writeln!(
                s,
                "| {} | {} |",
                i + 1,
                l.map_or_else(|| "never arrived".into(), |x| format!("{x:.2}"))
            );
        }
        let _ = writeln!(
            s,
            "\nMedian {:.2} s, max {:.2} s. Rounds during the probes: {}.",
            a.median_secs,
            a.max_secs,
            a.rounds
                .iter()
                .map(|r| format!("{:.2} s", r.secs))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        s,
        "\n## Load\n\n{}\n",
        r.load_samples
            .iter()
            .map(|(w, l)| format!("{w}: {l:.2}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if !r.server_warnings.is_empty() {
        let _ = writeln!(s, "## Server warnings\n\n```text");
        for l in &r.server_warnings {
            let _ = writeln!(s, "{l}");
        }
        let _ = writeln!(s, "```\n");
    }
    let _ = writeln!(
        s,
        "## Caveats\n\n\
         - The bench (live feed, counter polling) runs on the same cores as the server; on a shared 2-core machine the load averages above say how busy it was.\n\
         - A round's CPU is the whole process' CPU during it: the live intake (one tick of every series every 10 s) falls partly inside rounds; \"cores between rounds\" is that intake alone.\n\
         - CPU times have the 10 ms resolution of clock ticks.\n\
         - Monitor creation wakes the scheduler, so rounds run during creation; the measured rounds start after the first round that evaluated every monitor."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_000), "1 000");
        assert_eq!(int(100_000), "100 000");
        assert_eq!(int(1_234_567), "1 234 567");
    }
}
