//! `--scaling N1,N2,...`: the query suite at several fleet sizes, to show
//! how the cost of a query grows with the series and points it touches.
//!
//! For each size: a fleet of N series × 720 points (the full preset's two
//! hours), loaded as Datadog v2 protobuf into a fresh Whippet and as remote
//! write into a fresh VictoriaMetrics (and Prometheus with
//! `--scaling-prometheus`); every request must be acknowledged (the data is
//! not read back: at 300k series that alone would take minutes, and the
//! preset run checks the same loading path point by point). Then the suite,
//! with the preset run's warm-ups and runs.
//!
//! **Points touched** by a query is the number of raw points it must read:
//! the series its filter selects × 720 (one raw series; every host of the
//! gauge or counter metric; the hosts of a host filter). The growth factor
//! between two sizes is (median latency ratio) / (points touched ratio):
//! 1 means the cost grows exactly in proportion to the data touched, below
//! 1 better than linear. The factors between consecutive sizes are
//! reported; the verdict uses the factor between the smallest and the
//! largest size (a 30× range for 10k → 300k), where a sub-millisecond
//! query's run-to-run noise weighs least, and allows 1.25 for that noise.
//! With a single size there is no growth to judge: no factor, no verdict.
//! The model counts points, not index work: `raw_one` and `raw_100` read
//! about the same points at every size, while their filters are evaluated
//! over a tag index that grows with the fleet.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Serialize;
use whippet_fleetgen::FleetSpec;
use whippet_intake_bench::progress::{Log, write_results};
use whippet_intake_bench::send;
use whippet_intake_bench::sys::{self, Machine};

use crate::query::QueryResult;
use crate::systems::{self, Binaries, System};
use crate::{Args, aligned, generate_protobuf, run_suite};

/// Allowed growth factor between consecutive sizes (see the module doc).
const LINEAR_SLACK: f64 = 1.25;

/// One size's results.
#[derive(Debug, Serialize)]
pub struct Size {
    /// Series.
    pub series: usize,
    /// Hosts.
    pub hosts: usize,
    /// Points loaded.
    pub points: u64,
    /// Load rate per system (points/s), for the record.
    pub load_points_per_sec: Vec<(String, f64)>,
    /// The suite.
    pub queries: Vec<QueryResult>,
}

/// The whole study.
#[derive(Debug, Serialize)]
pub struct Scaling {
    /// UTC date.
    pub date: String,
    /// The command.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// The servers.
    pub binaries: Binaries,
    /// Measured runs per query and system.
    pub runs: u32,
    /// Warm-up runs.
    pub warmups: u32,
    /// Each size, smallest first.
    pub sizes: Vec<Size>,
    /// Per query: (name, growth factors between consecutive sizes followed
    /// by the smallest → largest factor, verdict on the latter). With one
    /// size there is no factor and no verdict (`None`).
    pub growth: Vec<(String, Vec<f64>, Option<bool>)>,
}

/// Points a query of the suite touches on a fleet of `hosts` hosts.
fn touched(q: &QueryResult, hosts: usize, points_per_series: usize) -> f64 {
    let series = if q.hosts_selected > 0 {
        q.hosts_selected
    } else {
        hosts
    };
    (series * points_per_series) as f64
}

/// Runs the study and writes `<date>-scaling.{json,md}`.
pub fn run(args: &Args, bins: &Binaries, machine: Machine, out: &Path, log: &Log) -> Result<()> {
    let hz = machine.clock_ticks_per_sec;
    let mut sizes_asked = args.scaling.clone();
    sizes_asked.sort_unstable();
    sizes_asked.dedup();
    if sizes_asked.iter().any(|&n| n < 20 || n % 20 != 0) {
        bail!("--scaling sizes must be multiples of 20 series (20 metrics per host)");
    }
    let mut sizes = Vec::new();
    for &n in &sizes_asked {
        let spec = aligned(FleetSpec {
            series: n,
            ..FleetSpec::full()
        });
        log.say(format!(
            "scaling: {n} series × {} points",
            spec.points_per_series
        ));
        let mut gen_secs = 0.0;
        let (v2, rw) = generate_protobuf(spec, &machine, &mut gen_secs, log)?;
        let mut order = vec![(System::Whippet, &v2), (System::VictoriaMetrics, &rw)];
        if args.scaling_prometheus {
            order.push((System::Prometheus, &rw));
        }
        let mut running = Vec::new();
        let mut rates = Vec::new();
        for (system, ds) in order {
            let srv = systems::start(system, bins, log)?;
            let target = srv.intake(&ds.cut)?;
            let sent = send::send_all(&target, &ds.bodies, usize::from(args.senders));
            if sent.errors > 0 || sent.points_acked != ds.total_points {
                bail!(
                    "{}: {} requests failed, {} of {} points acknowledged (first error: {})",
                    system.name(),
                    sent.errors,
                    sent.points_acked,
                    ds.total_points,
                    sent.first_error.unwrap_or_default()
                );
            }
            let rate = ds.total_points as f64 / sent.wall_secs;
            log.say(format!(
                "{}: loaded {} points in {:.1} s",
                system.name(),
                ds.total_points,
                sent.wall_secs
            ));
            sys::settle(&srv.server.pid(), hz, Duration::from_secs(120));
            rates.push((system.name().to_owned(), rate));
            running.push(srv);
        }
        let points = v2.total_points;
        drop((v2, rw));
        let (queries, _) = run_suite(&spec, &running, args, hz, log)?;
        for mut srv in running {
            srv.server.stop()?;
        }
        sizes.push(Size {
            series: n,
            hosts: spec.hosts(),
            points,
            load_points_per_sec: rates,
            queries,
        });
    }
    let growth = growth(&sizes);
    let mut command = format!(
        "bench/run --scaling {}",
        sizes_asked
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    if args.scaling_prometheus {
        command.push_str(" --scaling-prometheus");
    }
    if args.runs != 20 {
        command.push_str(&format!(" --runs {}", args.runs));
    }
    let s = Scaling {
        date: sys::utc_date(),
        command,
        machine,
        binaries: bins.clone(),
        runs: args.runs,
        warmups: args.warmups,
        sizes,
        growth,
    };
    let md = markdown(&s);
    let (j, m) = write_results(
        out,
        &format!("{}-scaling", s.date),
        &serde_json::to_string_pretty(&s)?,
        &md,
    )?;
    log.say(format!("wrote {} and {}", j.display(), m.display()));
    println!("\n{md}");
    Ok(())
}

/// Whippet's growth factor per query between two sizes (see the module
/// doc); NaN when either failed.
fn factor(a: &Size, b: &Size, qi: usize) -> f64 {
    let (Some(qa), Some(qb)) = (a.queries.get(qi), b.queries.get(qi)) else {
        return f64::NAN;
    };
    let (Some(sa), Some(sb)) = (qa.side(System::Whippet), qb.side(System::Whippet)) else {
        return f64::NAN;
    };
    if qa.failure.is_some() || qb.failure.is_some() {
        return f64::NAN;
    }
    let t = sb.summary.median_ms / sa.summary.median_ms;
    let p = touched(qb, b.hosts, 720) / touched(qa, a.hosts, 720);
    t / p
}

/// Per query: the factors between consecutive sizes, then the factor from
/// the smallest to the largest size, and the verdict on the latter (a
/// failed query's factor is NaN, which fails). With a single size there is
/// no growth to judge: no factors and no verdict, rather than a factor of
/// 1 between the size and itself.
fn growth(sizes: &[Size]) -> Vec<(String, Vec<f64>, Option<bool>)> {
    let (Some(first), Some(last)) = (sizes.first(), sizes.last()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (qi, q) in first.queries.iter().enumerate() {
        if sizes.len() < 2 {
            out.push((q.name.clone(), Vec::new(), None));
            continue;
        }
        let mut factors: Vec<f64> = sizes.windows(2).map(|w| factor(&w[0], &w[1], qi)).collect();
        let overall = factor(first, last, qi);
        factors.push(overall);
        out.push((q.name.clone(), factors, Some(overall <= LINEAR_SLACK)));
    }
    out
}

fn markdown(s: &Scaling) -> String {
    use std::fmt::Write as _;
    let mut md = String::new();
    let _ = writeln!(md, "# Query cost against data size, {}\n", s.date);
    let _ = writeln!(md, "Command: `{}`\n", s.command);
    let m = &s.machine;
    let _ = writeln!(
        md,
        "Machine: {} × {}, commit `{}`. {} warm-up and {} measured runs per query and system, each system's runs back to back. Whippet: `{}`; VictoriaMetrics: `{}`.\n",
        m.nproc,
        m.cpu_model,
        m.git_commit.as_deref().unwrap_or("unknown"),
        s.warmups,
        s.runs,
        s.binaries.whippet_version,
        s.binaries.vm_version
    );
    md.push_str(
        "| Query | Series | Points touched | Whippet median / p99 | Whippet ns per point touched |",
    );
    let peers: Vec<String> = s
        .sizes
        .first()
        .and_then(|z| z.queries.first())
        .map(|q| q.sides.iter().skip(1).map(|x| x.system.clone()).collect())
        .unwrap_or_default();
    for p in &peers {
        let _ = write!(md, " {p} median / p99 | Whippet / {p} |");
    }
    md.push_str("\n|---|---|---|---|---|");
    for _ in &peers {
        md.push_str("---|---|");
    }
    md.push('\n');
    let names: Vec<String> = s
        .sizes
        .first()
        .map(|z| z.queries.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    for (qi, name) in names.iter().enumerate() {
        for z in &s.sizes {
            let Some(q) = z.queries.get(qi) else { continue };
            let _ = write!(md, "| `{name}` | {} |", z.series);
            if let Some(f) = &q.failure {
                let _ = writeln!(md, " FAILED: {f} |");
                continue;
            }
            let t = touched(q, z.hosts, 720);
            let w = &q.sides[0].summary;
            let _ = write!(
                md,
                " {} | {:.2} / {:.2} ms | {:.1} |",
                t,
                w.median_ms,
                w.p99_ms,
                w.median_ms * 1e6 / t
            );
            for p in q.sides.iter().skip(1) {
                let _ = write!(
                    md,
                    " {:.2} / {:.2} ms | {:.2}× |",
                    p.summary.median_ms, p.summary.p99_ms, p.median_ratio
                );
            }
            md.push('\n');
        }
    }
    let _ = writeln!(
        md,
        "\n## Growth of Whippet's median per unit of data touched\n\n(median latency ratio) / (points touched ratio): 1.00 = cost grows exactly in proportion to the points touched; below 1 better than linear. The verdict is on the smallest → largest factor, target ≤ {LINEAR_SLACK} (linear within the noise of a shared machine).\n"
    );
    md.push_str(
        "| Query | Between consecutive sizes | Smallest → largest | Verdict |\n|---|---|---|---|\n",
    );
    for (name, f, pass) in &s.growth {
        let Some(pass) = pass else {
            let _ = writeln!(md, "| `{name}` | — | — | n/a: one size |");
            continue;
        };
        let (overall, steps) = f
            .split_last()
            .map_or((f64::NAN, &[][..]), |(o, st)| (*o, st));
        let fs: Vec<String> = steps.iter().map(|x| format!("{x:.2}")).collect();
        let _ = writeln!(
            md,
            "| `{name}` | {} | {overall:.2} | {} |",
            fs.join(", "),
            if *pass { "PASS" } else { "FAIL" }
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::SideResult;
    use whippet_query_bench::stats::Summary;
    use whippet_query_bench::suite::{Count, Step};

    /// A size of `hosts` hosts whose one query, over every host, took
    /// Whippet `median_ms`.
    fn size(hosts: usize, median_ms: f64) -> Size {
        let whippet = SideResult {
            system: System::Whippet.name().into(),
            summary: Summary {
                median_ms,
                p99_ms: median_ms,
                ..Summary::default()
            },
            ..SideResult::default()
        };
        Size {
            series: hosts * 20,
            hosts,
            points: (hosts * 20 * 720) as u64,
            load_points_per_sec: Vec::new(),
            queries: vec![QueryResult {
                name: "avg_by_region".into(),
                dashboard: true,
                step_secs: 30,
                hosts_selected: 0,
                step_rule: Step::Whippet,
                count_rule: Count::Same,
                note: String::new(),
                sides: vec![whippet],
                failure: None,
            }],
        }
    }

    fn study(sizes: Vec<Size>) -> Scaling {
        Scaling {
            date: "2026-11-27".into(),
            command: "bench/run --scaling …".into(),
            machine: Machine::detect(Path::new(".")),
            binaries: Binaries {
                whippet: "whippet".into(),
                whippet_version: "w".into(),
                vm: "victoria-metrics".into(),
                vm_version: "v".into(),
                prometheus: "prometheus".into(),
                prometheus_version: "p".into(),
            },
            runs: 20,
            warmups: 3,
            growth: growth(&sizes),
            sizes,
        }
    }

    #[test]
    fn one_size_has_no_verdict() {
        let s = study(vec![size(500, 10.0)]);
        assert_eq!(s.growth, vec![("avg_by_region".into(), vec![], None)]);
        let md = markdown(&s);
        assert!(
            md.contains("| `avg_by_region` | — | — | n/a: one size |"),
            "{md}"
        );
        assert!(!md.contains("FAIL") && !md.contains("PASS"), "{md}");
    }

    #[test]
    fn growth_is_judged_from_the_smallest_to_the_largest_size() {
        // 10× the data each step. 8× then 12× the time: factors 0.8 and
        // 1.2, 0.96 overall, within the slack.
        let s = study(vec![size(50, 1.0), size(500, 8.0), size(5000, 96.0)]);
        let (name, f, pass) = &s.growth[0];
        assert_eq!(name, "avg_by_region");
        assert_eq!(f.len(), 3);
        for (got, want) in f.iter().zip([0.8, 1.2, 0.96]) {
            assert!((got - want).abs() < 1e-9, "{f:?}");
        }
        assert_eq!(*pass, Some(true));
        assert!(markdown(&s).contains("| `avg_by_region` | 0.80, 1.20 | 0.96 | PASS |"));

        // Twice the time per point touched across the range fails.
        let s = study(vec![size(50, 1.0), size(500, 20.0)]);
        assert_eq!(s.growth[0].2, Some(false));
        assert!(markdown(&s).contains("| `avg_by_region` | 2.00 | 2.00 | FAIL |"));

        // A query that failed at one size has a NaN factor, which fails.
        let mut broken = size(500, 5.0);
        broken.queries[0].failure = Some("HTTP 500".into());
        let s = study(vec![size(50, 1.0), broken]);
        assert!(s.growth[0].1[0].is_nan());
        assert_eq!(s.growth[0].2, Some(false));
    }
}
