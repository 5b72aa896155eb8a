//! # whippet-query-bench: metric queries, Whippet vs VictoriaMetrics
//!
//! One command loads the same `whippet-fleetgen` fleet into `whippet serve`
//! and VictoriaMetrics single-node, then times a suite of queries on both,
//! each in its own language — Datadog's for Whippet (`GET /api/v1/query`),
//! PromQL for VictoriaMetrics (`GET /api/v1/query_range`) — over the whole
//! data range with the same step, and writes a dated pair of result files,
//! `<out>/<YYYY-MM-DD>-query-<preset>.json` and `.md`.
//!
//! ```text
//! cargo build --release -p whippet
//! cargo run --release -p whippet-query-bench -- [--preset small|full] [--out DIR]
//! ```
//!
//! The steps, in order (each described in `bench/README.md`):
//! 1. find the servers (as `whippet-intake-bench` does);
//! 2. generate the fleet as Datadog `/api/v1/series` bodies, its last point
//!    two minutes before the run;
//! 3. start Whippet, send everything; start VictoriaMetrics (with
//!    `-search.disableCache -search.latencyOffset=0s`), send everything;
//!    let both settle, then read everything back through their export APIs
//!    (every point, checksummed);
//! 4. for each query of [`suite`]: one run on each side to check and compare
//!    the answers ([`answer`]), warm-up runs, then measured runs alternating
//!    the systems;
//! 5. write the report ([`report`]).
//!
//! The loading, the servers, the HTTP client and `/proc` readings are
//! `whippet-intake-bench`'s library. Other dependencies: `whippet-fleetgen`,
//! `clap`, `serde`/`serde_json`, `anyhow`.

mod report;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use whippet_intake_bench::progress::{Log, workspace_root, write_results};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use whippet_fleetgen::FleetSpec;
use whippet_intake_bench::http::{Conn, Response, encode_query};
use whippet_intake_bench::payload::{Cut, DataSet, Encoding, Format};
use whippet_intake_bench::send::Target;
use whippet_intake_bench::server::{Keys, Server};
use whippet_intake_bench::verify::Expect;
use whippet_intake_bench::{payload, send, server, sys, verify};

use crate::report::{Dataset, Load, QueryResult, Results, ServerInfo, SideResult};
use whippet_query_bench::answer::{compare, parse_vm, parse_whippet};
use whippet_query_bench::suite::{Count, Query, Step};
use whippet_query_bench::{stats, suite};

/// Which data set to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// `FleetSpec::small()`: 10 000 series × 360 points (3.6 M points, one
    /// hour); about a minute to load both systems.
    Small,
    /// `FleetSpec::full()`: 100 000 series × 720 points (71.7 M points, two
    /// hours; 2.4 GiB of JSON held in memory while loading); a few minutes
    /// to load.
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

/// Benchmark Whippet's metric queries against VictoriaMetrics' PromQL on
/// the same data, and write dated results.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Data set size.
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    preset: Preset,
    /// Measured runs per query and system.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    runs: u32,
    /// Unmeasured runs per query and system before the measured ones.
    #[arg(long, default_value_t = 3)]
    warmups: u32,
    /// Concurrent sender connections while loading.
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
}

/// VictoriaMetrics' flags beyond the data directory, the listen address and
/// the retention that `whippet-intake-bench` sets.
const VM_FLAGS: [&str; 2] = [
    // Whippet has no result cache: with VictoriaMetrics' on, every run after
    // the first would time a cache lookup against an engine.
    "-search.disableCache",
    // The default 30 s hides the newest points; the data set ends two
    // minutes before the run, and nothing may be hidden from one side only.
    "-search.latencyOffset=0s",
];

/// The keys Whippet's org is created with (any printable ASCII will do).
fn keys() -> Keys {
    Keys {
        api: "querybenchapikey00000000000000001".into(),
        app: "querybenchappkey000000000000000000000001".into(),
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let log = Log::start();
    let root = workspace_root();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("bench/results"));
    let machine = sys::Machine::detect(&root);
    if machine.bench_build == "debug" {
        log.say("WARNING: debug build of the bench; run with --release");
    }
    let hz = machine.clock_ticks_per_sec;

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
        "whippet: {whippet_version} ({}); victoria-metrics: {vm_version} ({})",
        whippet_bin.display(),
        vm_bin.display()
    ));

    // 2. The data set: the first point a multiple of 60 s (so that every
    // step of the suite starts its first bucket there), the last at most two
    // minutes before now.
    let base = args.preset.spec();
    let interval_secs = base.interval_ms / 1000;
    let n = base.points_per_series as i64;
    let first = (sys::unix_secs() - 120 - (n - 1) * interval_secs).div_euclid(60) * 60;
    let last = first + (n - 1) * interval_secs;
    let spec = FleetSpec {
        start_ms: first * 1000,
        ..base
    };
    let cut = Cut::agents(Format::DatadogJson, Encoding::Identity);
    log.say(format!(
        "generating {} series × {} points (commit {}, {} × {})",
        spec.series,
        spec.points_per_series,
        machine.git_commit.as_deref().unwrap_or("unknown"),
        machine.nproc,
        machine.cpu_model
    ));
    let ds = payload::generate(spec, cut, machine.nproc)?;
    log.say(format!(
        "generated {} requests, {} points, {} of JSON",
        ds.bodies.len(),
        ds.total_points,
        whippet_intake_bench::report::bytes(ds.raw_bytes)
    ));

    // 3. Load both.
    let keys = keys();
    let mut wsrv = server::start_whippet(&whippet_bin, &keys)?;
    log.say(format!(
        "whippet is up on {} (pid {})",
        wsrv.addr,
        wsrv.pid()
    ));
    check_query_api(wsrv.addr, &keys)?;
    let mut loads = Vec::new();
    loads.push(load(&wsrv, &ds, &keys, true, args.senders, hz, &log)?);
    let mut vsrv = server::start_vm_with(&vm_bin, &VM_FLAGS)?;
    log.say(format!(
        "victoria-metrics is up on {} (pid {})",
        vsrv.addr,
        vsrv.pid()
    ));
    loads.push(load(&vsrv, &ds, &keys, false, args.senders, hz, &log)?);
    let DataSet {
        bodies,
        metrics,
        total_points,
        checksum,
        ..
    } = ds;
    drop(bodies);

    let expect = Expect {
        metrics: &metrics,
        from_secs: first,
        to_secs: last,
        series: spec.series as u64,
        points: total_points,
        checksum,
    };
    for (i, srv) in [&wsrv, &vsrv].into_iter().enumerate() {
        let stored = match i {
            0 => verify::whippet(srv.addr, &keys.api, &keys.app, &expect),
            _ => verify::victoria_metrics(srv.addr, &expect),
        };
        let stored = match stored {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{} log tail:\n{}", srv.name, srv.log_tail(20));
                return Err(e);
            }
        };
        log.say(format!(
            "{}: read back {} series, {} points (expected {} / {}) in {:.1} s; values {}",
            srv.name,
            stored.series,
            stored.points,
            expect.series,
            expect.points,
            stored.read_secs,
            if stored.values_identical {
                "bit-identical"
            } else {
                "DIFFER"
            }
        ));
        if stored.series != expect.series || stored.points != expect.points {
            bail!(
                "{} holds {} series / {} points, the data set {} / {}: the queries would not \
                 compare like with like",
                srv.name,
                stored.series,
                stored.points,
                expect.series,
                expect.points
            );
        }
        loads[i].stored = stored;
    }
    // The export reads are over; let both servers go quiet again.
    for (i, srv) in [&wsrv, &vsrv].into_iter().enumerate() {
        let t = sys::settle(&srv.pid(), hz, Duration::from_secs(60));
        loads[i].rss_before_queries = sys::mem(&srv.pid()).rss;
        log.say(format!("{}: quiet after {t:.1} s", srv.name));
    }

    // 4. The queries.
    let vm_names = label_values(vsrv.addr)?;
    let vm_name = |m: &str| -> String {
        let sanitized: String = m
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if vm_names.iter().any(|n| n == m) {
            m.to_owned()
        } else {
            sanitized
        }
    };
    let hosts = suite::hosts(&spec);
    let queries = suite::suite(&hosts, vm_name);
    let range = Range {
        from: first,
        to: last + interval_secs,
        native_secs: interval_secs,
    };
    let mut w = Side::new("whippet", wsrv.addr, wsrv.pid(), &keys, true);
    let mut v = Side::new("victoria-metrics", vsrv.addr, vsrv.pid(), &keys, false);
    let load_before = sys::load_avg_1m();
    let mut results = Vec::new();
    for q in &queries {
        log.say(format!(
            "{}: {}  |  {}",
            q.name, q.datadog, q.promql_template
        ));
        let r = run_query(q, &mut w, &mut v, &range, &args, hz);
        match &r.failure {
            Some(f) => log.say(format!("{}: FAILED: {f}", q.name)),
            None => log.say(format!(
                "{}: whippet median {:.2} ms, p99 {:.2} ms; victoria-metrics median {:.2} ms, p99 {:.2} ms; \
                 ratios {:.2}× / {:.2}×; series {} / {}{}",
                q.name,
                r.whippet.summary.median_ms,
                r.whippet.summary.p99_ms,
                r.vm.summary.median_ms,
                r.vm.summary.p99_ms,
                r.median_ratio,
                r.p99_ratio,
                r.comparison.whippet_series,
                r.comparison.vm_series,
                r.warning
                    .as_ref()
                    .map(|w| format!(" — WARNING: {w}"))
                    .unwrap_or_default()
            )),
        }
        results.push(r);
    }
    let load_after = sys::load_avg_1m();
    for (i, srv) in [&wsrv, &vsrv].into_iter().enumerate() {
        loads[i].peak_rss = sys::mem(&srv.pid()).peak;
    }

    // Stop both.
    for srv in [&mut wsrv, &mut vsrv] {
        let (status, secs) = srv.stop()?;
        log.say(format!("{} stopped in {secs:.1} s ({status})", srv.name));
    }

    // 5. The report.
    let mut command = format!(
        "cargo run --release -p whippet-query-bench -- --preset {}",
        args.preset.name()
    );
    if args.runs != 20 {
        command.push_str(&format!(" --runs {}", args.runs));
    }
    if args.warmups != 3 {
        command.push_str(&format!(" --warmups {}", args.warmups));
    }
    if args.senders != 4 {
        command.push_str(&format!(" --senders {}", args.senders));
    }
    if let Some(p) = &args.whippet_bin {
        command.push_str(&format!(" --whippet-bin {}", p.display()));
    }
    let checks = report::checks(&results);
    let results = Results {
        date: sys::utc_date(),
        preset: args.preset.name().into(),
        command,
        machine,
        servers: vec![
            ServerInfo {
                name: "whippet".into(),
                binary: whippet_bin.display().to_string(),
                version: whippet_version,
                // What `start_whippet` sets beyond the data directory, the
                // listen address and the keys; everything else is default.
                flags: vec![
                    "WHIPPET_DOGSTATSD_ADDR=".into(),
                    "WHIPPET_SELF_MONITORING_INTERVAL_SECS=0".into(),
                ],
            },
            ServerInfo {
                name: "victoria-metrics".into(),
                binary: vm_bin.display().to_string(),
                version: vm_version,
                flags: std::iter::once("-retentionPeriod=100y")
                    .chain(VM_FLAGS)
                    .map(String::from)
                    .collect(),
            },
        ],
        dataset: Dataset {
            series: spec.series,
            hosts: spec.hosts(),
            points_per_series: spec.points_per_series,
            interval_secs,
            total_points,
            seed: spec.seed,
            checksum: format!("{:016x}", checksum.0),
            first_ts: first,
            last_ts: last,
            query_to: range.to,
        },
        loads,
        vm_metric_names: vm_names
            .iter()
            .filter(|n| n.starts_with("system"))
            .take(3)
            .cloned()
            .collect(),
        warmup_runs: args.warmups as usize,
        measured_runs: args.runs as usize,
        load_avg: (load_before, load_after),
        queries: results,
        checks,
    };
    let stem = format!("{}-query-{}", results.date, results.preset);
    let (json_path, md_path) = write_results(
        &out_dir,
        &stem,
        &serde_json::to_string_pretty(&results)?,
        &report::markdown(&results),
    )?;
    log.say(format!(
        "wrote {} and {}",
        json_path.display(),
        md_path.display()
    ));
    println!("\n{}", report::latency_table(&results.queries));
    println!("{}", report::answers_table(&results.queries));
    println!("{}", report::summary_table(&results.checks));
    Ok(())
}

/// Fails early, before minutes of loading, when the Whippet binary has no
/// query API (a build older than the query commits).
fn check_query_api(addr: SocketAddr, keys: &Keys) -> Result<()> {
    let mut c = Conn::new(addr);
    let r = c.request(
        "GET",
        &format!(
            "/api/v1/query?from=0&to=60&query={}",
            encode_query("avg:system.cpu.user{*}")
        ),
        &[("DD-API-KEY", &keys.api), ("DD-APPLICATION-KEY", &keys.app)],
        b"",
    )?;
    if r.status == 404 || r.status == 405 {
        bail!(
            "this whippet binary answers GET /api/v1/query with {}: it predates the query API; \
             rebuild it with `cargo build --release -p whippet`",
            r.status
        );
    }
    Ok(())
}

/// Sends every body to a running server; the loop's figures.
fn load(
    srv: &Server,
    ds: &DataSet,
    keys: &Keys,
    whippet: bool,
    senders: u16,
    hz: f64,
    log: &Log,
) -> Result<Load> {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let path = if whippet {
        headers.push(("DD-API-KEY".into(), keys.api.clone()));
        "/api/v1/series"
    } else {
        "/datadog/api/v1/series"
    };
    let target = Target {
        addr: srv.addr,
        path: path.into(),
        headers,
    };
    log.say(format!(
        "{}: sending {} requests over {senders} connections to {path}",
        srv.name,
        ds.bodies.len()
    ));
    let sent = send::send_all(&target, &ds.bodies, usize::from(senders));
    let points_per_sec = ds.total_points as f64 / sent.wall_secs;
    log.say(format!(
        "{}: loaded in {:.1} s ({}points/s), {} errors, {} retries",
        srv.name,
        sent.wall_secs,
        whippet_intake_bench::report::si(points_per_sec),
        sent.errors,
        sent.retries
    ));
    if sent.errors > 0 {
        bail!(
            "{}: {} requests failed while loading (first: {})",
            srv.name,
            sent.errors,
            sent.first_error.unwrap_or_default()
        );
    }
    let settle_secs = sys::settle(&srv.pid(), hz, Duration::from_secs(120));
    log.say(format!("{}: settled after {settle_secs:.1} s", srv.name));
    Ok(Load {
        name: srv.name.into(),
        path: path.into(),
        wall_secs: sent.wall_secs,
        points_per_sec,
        errors: sent.errors,
        retries: sent.retries,
        first_error: sent.first_error,
        settle_secs,
        stored: Default::default(),
        rss_before_queries: 0,
        peak_rss: 0,
    })
}

/// VictoriaMetrics' metric names (`/api/v1/label/__name__/values`): 1.79
/// keeps Datadog's dotted names, later versions sanitise them.
fn label_values(addr: SocketAddr) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Values {
        data: Vec<String>,
    }
    let r = Conn::new(addr).request("GET", "/api/v1/label/__name__/values", &[], b"")?;
    if r.status != 200 {
        bail!(
            "victoria-metrics: GET /api/v1/label/__name__/values: HTTP {}: {}",
            r.status,
            r.body_snippet()
        );
    }
    Ok(serde_json::from_slice::<Values>(&r.body)
        .context("victoria-metrics' label values")?
        .data)
}

/// The range every query covers, seconds.
struct Range {
    from: i64,
    to: i64,
    native_secs: i64,
}

/// One system's query endpoint and connection.
struct Side {
    name: &'static str,
    pid: String,
    whippet: bool,
    headers: Vec<(String, String)>,
    conn: Conn,
}

impl Side {
    fn new(name: &'static str, addr: SocketAddr, pid: String, keys: &Keys, whippet: bool) -> Side {
        let headers = if whippet {
            vec![
                ("DD-API-KEY".to_owned(), keys.api.clone()),
                ("DD-APPLICATION-KEY".to_owned(), keys.app.clone()),
            ]
        } else {
            Vec::new()
        };
        Side {
            name,
            pid,
            whippet,
            headers,
            conn: Conn::new(addr),
        }
    }

    /// The request path of `text` over `range` with `step_secs` (PromQL
    /// only; Whippet chooses or is told its interval in the text).
    fn path(&self, text: &str, range: &Range, step_secs: u32) -> String {
        if self.whippet {
            format!(
                "/api/v1/query?from={}&to={}&query={}",
                range.from,
                range.to,
                encode_query(text)
            )
        } else {
            format!(
                "/api/v1/query_range?query={}&start={}&end={}&step={step_secs}",
                encode_query(text),
                range.from,
                range.to
            )
        }
    }

    /// One timed `GET`: milliseconds from writing the request to having
    /// read the whole answer, and the answer. A non-200 answer is an error.
    fn get(&mut self, path: &str) -> Result<(f64, Response)> {
        self.conn.connect()?;
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let t = Instant::now();
        let r = self.conn.request("GET", path, &headers, b"")?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if r.status != 200 {
            bail!("{}: HTTP {}: {}", self.name, r.status, r.body_snippet());
        }
        Ok((ms, r))
    }
}

/// Checks one query's answers, then times it; a failure is recorded in the
/// result rather than ending the run.
fn run_query(
    q: &Query,
    w: &mut Side,
    v: &mut Side,
    range: &Range,
    args: &Args,
    hz: f64,
) -> QueryResult {
    let mut r = QueryResult {
        name: q.name.into(),
        dashboard: q.dashboard,
        datadog: q.datadog.clone(),
        promql: q.promql_template.clone(),
        step_rule: q.step,
        step_secs: 0,
        hosts_selected: q.hosts_selected,
        count_rule: q.count,
        note: q.note.clone(),
        comparison: Default::default(),
        warning: None,
        failure: None,
        whippet: SideResult::default(),
        vm: SideResult::default(),
        median_ratio: f64::NAN,
        p99_ratio: f64::NAN,
    };
    if let Err(e) = check_and_time(q, w, v, range, args, hz, &mut r) {
        r.failure = Some(format!("{e:#}"));
    }
    r
}

fn check_and_time(
    q: &Query,
    w: &mut Side,
    v: &mut Side,
    range: &Range,
    args: &Args,
    hz: f64,
    r: &mut QueryResult,
) -> Result<()> {
    // The answers, once each: non-empty, the same series, close values.
    let wpath = w.path(&q.datadog, range, 0);
    let (first_ms, resp) = w.get(&wpath)?;
    r.whippet.first_ms = first_ms;
    r.whippet.response_bytes = resp.body.len();
    let wa = parse_whippet(&resp.body)?;
    if wa.series.is_empty() {
        bail!("whippet returned no series for `{}`", q.datadog);
    }
    let interval = wa
        .interval_secs
        .context("whippet's answer has no interval")?;
    let step = match q.step {
        Step::Whippet => interval,
        Step::Fixed(s) => {
            if interval != s {
                bail!("whippet answered with a {interval} s interval, the query asks for {s} s");
            }
            s
        }
    };
    r.step_secs = step;
    r.promql = q.promql(step);
    let vpath = v.path(&r.promql, range, step);
    let (first_ms, resp) = v.get(&vpath)?;
    r.vm.first_ms = first_ms;
    r.vm.response_bytes = resp.body.len();
    let va = parse_vm(&resp.body)?;
    if va.series.is_empty() {
        bail!("victoria-metrics returned no series for `{}`", r.promql);
    }
    // PromQL's window at t is (t - step, t], Datadog's bucket at t is
    // [t, t + step): for the values, ask VictoriaMetrics once more (not
    // timed) with its grid moved by step - 10 s, so that each of its windows
    // holds exactly the raw points of one of Whippet's buckets.
    let shift = i64::from(step) - range.native_secs;
    let va_cmp = if shift == 0 {
        va.clone()
    } else {
        let moved = Range {
            from: range.from + shift,
            to: range.to + shift,
            native_secs: range.native_secs,
        };
        let (_, resp) = v.get(&v.path(&r.promql, &moved, step))?;
        parse_vm(&resp.body)?
    };
    r.comparison = compare(
        &wa,
        &va_cmp,
        i64::from(step) * 1000,
        range.native_secs * 1000,
    );
    r.comparison.vm_series = va.series.len();
    r.comparison.vm_points = va.points();
    let (ws, vs) = (wa.series.len(), va.series.len());
    r.warning = match q.count {
        Count::Same if ws != vs => Some(format!(
            "whippet returned {ws} series, victoria-metrics {vs}"
        )),
        Count::TopkPerStep if vs < ws => Some(format!(
            "victoria-metrics' per-step topk returned {vs} series, fewer than whippet's {ws}"
        )),
        _ => None,
    };

    // Warm-ups, then the measured runs: the systems alternate, and which
    // goes first alternates from one pair to the next.
    for _ in 0..args.warmups {
        w.get(&wpath)?;
        v.get(&vpath)?;
    }
    let mut cpu = [0.0f64; 2];
    for run in 0..args.runs {
        for k in 0..2 {
            let first_w = run % 2 == 0;
            let use_w = (k == 0) == first_w;
            let (side, path, out, slot) = if use_w {
                (&mut *w, &wpath, &mut r.whippet, 0)
            } else {
                (&mut *v, &vpath, &mut r.vm, 1)
            };
            let c0 = sys::cpu_secs(&side.pid, hz).unwrap_or(0.0);
            match side.get(path) {
                Ok((ms, _)) => out.runs_ms.push(ms),
                Err(e) => {
                    out.runs_ms.push(f64::NAN);
                    out.errors += 1;
                    out.first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
            cpu[slot] += sys::cpu_secs(&side.pid, hz).unwrap_or(0.0) - c0;
        }
    }
    for (out, c) in [(&mut r.whippet, cpu[0]), (&mut r.vm, cpu[1])] {
        out.summary = stats::summarize(&out.runs_ms);
        out.server_cpu_ms_per_query = c * 1000.0 / f64::from(args.runs);
    }
    r.median_ratio = stats::ratio(r.whippet.summary.median_ms, r.vm.summary.median_ms);
    r.p99_ratio = stats::ratio(r.whippet.summary.p99_ms, r.vm.summary.p99_ms);
    Ok(())
}
