//! # whippet-monitor-bench: monitor evaluation throughput, lag and alert latency
//!
//! One command starts `whippet serve` on a fresh data directory, feeds it a
//! `whippet-fleetgen` fleet that keeps reporting every 10 s, creates 1 000,
//! then 10 000, then 100 000 metric monitors through the API, watches the
//! server's own round counters, then times alerts end to end through a
//! webhook, and writes `bench/results/<date>-monitors[-quick].{json,md}`.
//! It measures the issue's targets; it asserts nothing.
//!
//! ```text
//! cargo build --release -p whippet -p whippet-monitor-bench
//! target/release/whippet-monitor-bench --quick      # 10k series, 100 and 1 000 monitors, 10 s cadence: under 2 minutes
//! target/release/whippet-monitor-bench              # 100k series, 1k/10k/100k monitors, 60 s cadence: 20-30 minutes
//! ```
//!
//! The steps (each module says what it owns; `bench/README.md` has the
//! section for this bench):
//! 1. generate the fleet ([`fleet`]): values for `--horizon-mins`, played
//!    back and forth; timestamps from `--backfill-mins` ago;
//! 2. start `whippet serve` ([`server`]) with `--interval` as its monitor
//!    cadence; send the backfill, then keep sending every new tick;
//! 3. for each count: create the monitors it adds ([`create`], the mix of
//!    [`mix`]), wait for the first round that evaluates all of them, then
//!    read `--rounds` more rounds from the server's counters ([`rounds`]);
//! 4. with the largest count in place, create a webhook to a receiver in
//!    the bench and a probe monitor, send probe points and time the
//!    webhooks ([`alert`]);
//! 5. write the report ([`report`]).
//!
//! Dependencies: `whippet-intake-bench` for its HTTP client, senders,
//! payload encoder, `/proc` readings and result files;
//! `whippet-fleetgen`, `clap`, `serde`/`serde_json`, `tempfile`, `anyhow`.

mod alert;
mod create;
mod fleet;
mod mix;
mod report;
mod rounds;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use whippet_intake_bench::http::Conn;
use whippet_intake_bench::progress::{Start, write_results_and_say};
use whippet_intake_bench::server::{Keys, Server};
use whippet_intake_bench::sys::{self, clock_ticks_per_sec, load_avg_1m, utc_date};

use crate::report::{Alert, CountRun, Results, Settings};
use crate::rounds::{Round, Watch};

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "whippet-monitor-bench",
    about = "Monitor evaluation throughput, lag and alert latency of whippet serve"
)]
struct Args {
    /// Development preset: 10 000 series, counts 100,1000, 10 s cadence, 2
    /// rounds, 4 probes (under 2 minutes). Explicit options still win.
    #[arg(long)]
    quick: bool,
    /// Series in the fleet [default: 100000; quick 10000].
    #[arg(long)]
    series: Option<usize>,
    /// Monitor counts, ascending, comma-separated [default:
    /// 1000,10000,100000; quick 100,1000].
    #[arg(long, value_delimiter = ',')]
    counts: Option<Vec<usize>>,
    /// Monitor cadence, seconds (`WHIPPET_MONITOR_INTERVAL_SECS`) [default:
    /// 60, Datadog's; quick 10].
    #[arg(long)]
    interval: Option<u64>,
    /// Rounds measured per count [default: 3; quick 2].
    #[arg(long)]
    rounds: Option<usize>,
    /// Longest wait per count for its rounds, seconds [default: 10 cadences].
    #[arg(long)]
    max_measure_secs: Option<u64>,
    /// Minutes of data sent before the first monitor: the longest monitor
    /// window is 15 minutes.
    #[arg(long, default_value_t = 16)]
    backfill_mins: u64,
    /// Minutes of distinct values per series, played back and forth for as
    /// long as the run lasts (memory: series × 6 × minutes × 8 bytes).
    #[arg(long, default_value_t = 30)]
    horizon_mins: u64,
    /// Concurrent connections creating monitors (Terraform's default
    /// parallelism is 10).
    #[arg(long, default_value_t = 8)]
    create_conns: usize,
    /// Concurrent connections of the backfill.
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// Alert probes [default: 6; quick 4]; 0 skips the alert latency.
    #[arg(long)]
    probes: Option<usize>,
    /// Directory of the result files [default: bench/results].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The whippet binary [default: target/release/whippet].
    #[arg(long)]
    whippet_bin: Option<PathBuf>,
}

/// The keys the server's org is created with.
fn keys() -> Keys {
    Keys {
        api: "monitorbenchapikey00000000000001".into(),
        app: "monitorbenchappkey0000000000000000000001".into(),
    }
}

fn main() -> Result<()> {
    let a = Args::parse();
    let q = a.quick;
    let series = a.series.unwrap_or(if q { 10_000 } else { 100_000 });
    let mut counts = a.counts.clone().unwrap_or_else(|| {
        if q {
            vec![100, 1_000]
        } else {
            vec![1_000, 10_000, 100_000]
        }
    });
    counts.sort_unstable();
    counts.dedup();
    let interval = a.interval.unwrap_or(if q { 10 } else { 60 });
    let settings = Settings {
        preset: if q { "quick" } else { "full" },
        series,
        hosts: series.div_ceil(whippet_fleetgen::METRICS_PER_HOST),
        backfill_mins: a.backfill_mins,
        interval_secs: interval,
        counts: counts.clone(),
        rounds: a.rounds.unwrap_or(if q { 2 } else { 3 }).max(1),
        max_measure_secs: a.max_measure_secs.unwrap_or(10 * interval),
        create_conns: a.create_conns.max(1),
        probes: a.probes.unwrap_or(if q { 4 } else { 6 }),
    };
    if interval == 0 || counts.is_empty() || counts[0] == 0 {
        bail!("--interval and every count must be positive");
    }

    let start = Start::new(
        a.out.as_deref(),
        "warning: a debug build of the bench; build it with --release",
    );
    let log = &start.log;
    let bin = a
        .whippet_bin
        .clone()
        .unwrap_or_else(|| start.root.join("target/release/whippet"));
    if !bin.is_file() {
        bail!(
            "{} is missing: run `cargo build --release -p whippet` first",
            bin.display()
        );
    }
    let whippet_version = whippet_intake_bench::server::version(&bin, "--version");
    let mut loads = vec![("start".to_owned(), load_avg_1m())];

    log.say(format!(
        "generating {series} series × {} min of values",
        a.horizon_mins
    ));
    let fleet = Arc::new(fleet::Fleet::generate(
        series,
        (a.horizon_mins * 6).max(1) as usize,
        (a.backfill_mins * 60) as i64,
    )?);
    let mix = mix::Mix::new(&fleet.hosts);

    let k = keys();
    let mut srv = server::start(&bin, &k, interval)?;
    log.say(format!(
        "whippet serve on {} (pid {}), cadence {interval} s",
        srv.addr,
        srv.pid()
    ));
    let target = fleet::target(srv.addr, &k.api);
    let (backfill, next_tick) = fleet::backfill(&fleet, &target, a.senders.max(1))?;
    log.say(format!(
        "backfill: {} points in {:.1} s ({} errors{})",
        backfill.points,
        backfill.wall_secs,
        backfill.errors,
        backfill
            .first_error
            .as_ref()
            .map(|e| format!(", first: {e}"))
            .unwrap_or_default()
    ));
    let feed = fleet::LiveFeed::start(fleet.clone(), target, next_tick);
    loads.push(("after backfill".into(), load_avg_1m()));

    let hz = clock_ticks_per_sec();
    let mut watch = Watch::new(srv.addr, &srv.pid(), hz);
    let max_measure = Duration::from_secs(settings.max_measure_secs);
    let mut runs = Vec::new();
    let mut created = 0;
    for &n in &counts {
        log.say(format!("creating monitors {created}..{n}"));
        let c = create::create(srv.addr, &k, &mix, created, n, settings.create_conns);
        log.say(format!(
            "created {} in {:.1} s ({:.0}/s, {} errors{})",
            c.ok,
            c.wall_secs,
            c.per_sec,
            c.errors,
            c.first_error
                .as_ref()
                .map(|e| format!(", first: {e}"))
                .unwrap_or_default()
        ));
        created = n;
        let total = n as u64;
        let run = measure_count(&mut watch, &srv, &mix, n, c, total, &settings, max_measure)?;
        log.say(format!(
            "{n} monitors: rounds {:?} s; {:.0} evaluated/min, capacity {:.0}/min, {:.2} cores in rounds",
            run.rounds.iter().map(|r| (r.secs * 100.0).round() / 100.0).collect::<Vec<_>>(),
            run.evaluated_per_min,
            run.capacity_per_min,
            run.round_cpu_cores
        ));
        loads.push((format!("after {n} monitors"), run.load_1m));
        runs.push(run);
    }

    let alert = if settings.probes > 0 {
        let total = created + 1;
        log.say(format!(
            "alert latency: {} probes over {interval} s with {total} monitors",
            settings.probes
        ));
        let a = measure_alerts(&mut watch, &srv, &k, total, &settings)?;
        log.say(format!(
            "alert latency: median {:.2} s, max {:.2} s ({:?})",
            a.median_secs, a.max_secs, a.latencies_secs
        ));
        loads.push(("after the probes".into(), load_avg_1m()));
        Some(a)
    } else {
        None
    };

    let live = feed.stop();
    let server_warnings: Vec<String> = srv
        .log()
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .take(20)
        .map(str::to_owned)
        .collect();
    let (_, stop_secs) = srv.stop()?;
    log.say(format!("whippet stopped in {stop_secs:.1} s"));

    let mut results = Results {
        date: utc_date(),
        machine: start.machine.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        whippet_version,
        settings,
        backfill,
        live,
        counts: runs,
        alert,
        load_samples: loads,
        server_warnings,
        verdicts: Vec::new(),
    };
    results.verdicts = report::verdicts(&results);
    for (t, m, v) in &results.verdicts {
        log.say(format!("{v}: {t}: {m}"));
    }
    let stem = format!("{}-monitors{}", results.date, if q { "-quick" } else { "" });
    let json = serde_json::to_string_pretty(&results).context("serialising the results")?;
    write_results_and_say(
        log,
        &start.out_dir,
        &stem,
        &json,
        &report::markdown(&results),
    )
}

/// Waits for the first round that evaluates `total` monitors, then
/// measures `settings.rounds` rounds.
#[allow(clippy::too_many_arguments)]
fn measure_count(
    watch: &mut Watch,
    srv: &Server,
    mix: &mix::Mix,
    n: usize,
    created: create::Created,
    total: u64,
    settings: &Settings,
    max_measure: Duration,
) -> Result<CountRun> {
    let after_create = watch.now();
    let (_, settled) = watch.until(max_measure, |r| r.monitors >= total, |_| Ok(false))?;
    let settle_end = watch.now();
    let cpu0 = watch.cpu_now();
    let mut rounds: Vec<Round> = Vec::new();
    if settled {
        let (want, mut full) = (settings.rounds, 0);
        let (seen, _) = watch.until(
            max_measure,
            |r| {
                full += usize::from(r.monitors >= total);
                full >= want
            },
            |_| Ok(false),
        )?;
        rounds = seen.into_iter().filter(|r| r.monitors >= total).collect();
    }
    let end = watch.now();
    let cpu1 = watch.cpu_now();
    let sum_monitors: u64 = rounds.iter().map(|r| r.monitors).sum();
    let round_secs: f64 = rounds.iter().map(|r| r.secs).sum();
    let round_cpu: f64 = rounds.iter().map(|r| r.cpu_secs).sum();
    let mut secs: Vec<f64> = rounds.iter().map(|r| r.secs).collect();
    secs.sort_by(f64::total_cmp);
    let median = secs.get(secs.len() / 2).copied().unwrap_or(0.0);
    let max = secs.last().copied().unwrap_or(0.0);
    // The rate between round starts (a round starts on the cadence's tick;
    // its end moves with its length, and between two ends a round that ran
    // longer than the one before made two rounds of 100k monitors look like
    // 94k a minute): the monitors of every measured round but the last,
    // over the time from the first one's start to the last one's. With one
    // round, from the settling round's end to its end.
    let (counted, wall) = match rounds.as_slice() {
        [first, .., last] => (
            sum_monitors - last.monitors,
            (last.ended_at_secs - last.secs) - (first.ended_at_secs - first.secs),
        ),
        [only] => (only.monitors, only.ended_at_secs - settle_end),
        [] => (0, 0.0),
    };
    let idle_wall = (end - settle_end - round_secs).max(0.0);
    let server_evaluations = server::logged_rounds(&srv.log())
        .into_iter()
        .rev()
        .find(|&(m, _)| m == total)
        .map(|(_, e)| e);
    Ok(CountRun {
        mix: mix.summary(n),
        created,
        settle_secs: settle_end - after_create,
        server_evaluations,
        evaluated_per_min: if wall > 0.0 {
            counted as f64 / wall * 60.0
        } else {
            0.0
        },
        capacity_per_min: if median > 0.0 {
            total as f64 / median * 60.0
        } else {
            0.0
        },
        round_secs_median: median,
        round_secs_max: max,
        round_cpu_cores: if round_secs > 0.0 {
            round_cpu / round_secs
        } else {
            0.0
        },
        cpu_ms_per_1k: if sum_monitors > 0 {
            round_cpu * 1000.0 / (sum_monitors as f64 / 1000.0)
        } else {
            0.0
        },
        idle_cpu_cores: if idle_wall > 1.0 {
            ((cpu1 - cpu0) - round_cpu).max(0.0) / idle_wall
        } else {
            0.0
        },
        rss_bytes: sys::mem(&srv.pid()).rss,
        load_1m: load_avg_1m(),
        lag_ok: !rounds.is_empty() && max < settings.interval_secs as f64,
        rounds_missing: settings.rounds.saturating_sub(rounds.len()),
        rounds,
    })
}

/// Sets up the webhook and the probe monitor, waits for a round with every
/// monitor, then sends the probes spread over one cadence and waits for
/// their webhooks.
fn measure_alerts(
    watch: &mut Watch,
    srv: &Server,
    keys: &Keys,
    total: usize,
    settings: &Settings,
) -> Result<Alert> {
    let cadence = settings.interval_secs as f64;
    let rx = alert::Receiver::start()?;
    alert::set_up(srv.addr, keys, rx.addr)?;
    let max_measure = Duration::from_secs(settings.max_measure_secs);
    let (_, settled) = watch.until(max_measure, |r| r.monitors >= total as u64, |_| Ok(false))?;
    if !settled {
        bail!("no round evaluated the probe monitor within {max_measure:?}");
    }
    let run = sys::unix_secs();
    let n = settings.probes;
    let spacing = cadence / n as f64;
    let t0 = Instant::now();
    let mut sent: Vec<Option<Instant>> = vec![None; n];
    let mut arrived: Vec<Option<Instant>> = vec![None; n];
    let mut conn = Conn::new(srv.addr);
    let mut error = None;
    // The last probe goes out at most a cadence after the first; its
    // webhook may take a cadence plus the longest round, and then some.
    let longest = watch.rounds.iter().map(|r| r.secs).fold(0.0, f64::max);
    let deadline = Duration::from_secs_f64(2.0 * cadence + 3.0 * longest + 60.0);
    let group = |i: usize| format!("p{run}-{i}");
    let (rounds, _) = watch.until(
        deadline,
        |_| false,
        |_| {
            for i in 0..n {
                if sent[i].is_none() && t0.elapsed().as_secs_f64() >= i as f64 * spacing {
                    match alert::send_probe(&mut conn, keys, &group(i)) {
                        Ok(t) => sent[i] = Some(t),
                        Err(e) => {
                            error = Some(e);
                            return Ok(true);
                        }
                    }
                }
                if arrived[i].is_none() && sent[i].is_some() {
                    arrived[i] = rx.arrived(&group(i));
                }
            }
            Ok(arrived.iter().all(Option::is_some))
        },
    )?;
    if let Some(e) = error {
        return Err(e);
    }
    let latencies: Vec<Option<f64>> = sent
        .iter()
        .zip(&arrived)
        .map(|(s, a)| Some(a.as_ref()?.saturating_duration_since((*s)?).as_secs_f64()))
        .collect();
    let mut got: Vec<f64> = latencies.iter().flatten().copied().collect();
    got.sort_by(f64::total_cmp);
    Ok(Alert {
        monitors: total,
        interval_secs: settings.interval_secs,
        median_secs: got.get(got.len() / 2).copied().unwrap_or(0.0),
        max_secs: got.last().copied().unwrap_or(0.0),
        latencies_secs: latencies,
        rounds,
        deliveries: rx.count(),
    })
}
