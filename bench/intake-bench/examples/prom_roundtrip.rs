//! Remote write end to end, into Prometheus and VictoriaMetrics, and back:
//! the check that [`remote_write`], [`server::start_prometheus`],
//! [`server::prometheus_snapshot`] and [`verify::prometheus`] fit together
//! before a benchmark relies on them.
//!
//! ```sh
//! cargo run --release -p whippet-intake-bench --example prom_roundtrip
//! cargo run --release -p whippet-intake-bench --example prom_roundtrip -- --series 10000 --points 180
//! ```
//!
//! It generates a small fleet (`whippet-fleetgen`, 600 series × 60 points
//! by default, the last point two minutes before now), cuts it into remote
//! write bodies of `--series-per-body` series × 10 points sent window by
//! window (time-major), then, for Prometheus and then VictoriaMetrics: starts
//! it with a fresh data directory, POSTs every body to `/api/v1/write` over
//! `--senders` connections, one window at a time (each window's bodies are
//! all answered before the next window's go out: Prometheus refuses a
//! sample older than its series' last one, and with a shared queue of
//! bodies a sender descheduled between taking a body and sending it lets
//! the next window of the same series overtake it), reads everything back (Prometheus through its
//! query API, VictoriaMetrics through its export API) and fails unless
//! both hold exactly the data set's series, points and checksum. It prints
//! the points per second of each load (a small run on a shared machine: an
//! indication, not a benchmark), Prometheus' snapshot size and the
//! VictoriaMetrics data directory's size after stop.
//!
//! Needs `prometheus` and `victoria-metrics` (installed with apt-get when
//! missing); not run by CI.

use anyhow::{Result, bail, ensure};
use clap::Parser;
use whippet_fleetgen::{FleetSpec, METRICS_PER_HOST, describe, points};
use whippet_intake_bench::payload::{Body, Checksum};
use whippet_intake_bench::progress::Log;
use whippet_intake_bench::remote_write::{self, Builder, RwSeries};
use whippet_intake_bench::send::{self, Target};
use whippet_intake_bench::server::{self, Server};
use whippet_intake_bench::verify::{self, Expect, Stored};
use whippet_intake_bench::{report, sys};

#[derive(Parser)]
struct Args {
    /// Series of the fleet (20 per host).
    #[arg(long, default_value_t = 600)]
    series: usize,
    /// Points per series, 10 s apart.
    #[arg(long, default_value_t = 60)]
    points: usize,
    /// Series per body.
    #[arg(long, default_value_t = 100)]
    series_per_body: usize,
    /// Points per series per body.
    #[arg(long, default_value_t = 10)]
    points_per_body: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 2)]
    senders: usize,
}

/// The data set as remote write bodies.
struct Data {
    /// In sending order.
    bodies: Vec<Body>,
    /// Where each window's bodies end in `bodies`.
    window_ends: Vec<usize>,
    metrics: Vec<String>,
    first_secs: i64,
    last_secs: i64,
    points: u64,
    proto_bytes: u64,
    wire_bytes: u64,
    checksum: Checksum,
}

/// Generates the fleet and cuts it into bodies: groups of `series_per_body`
/// consecutive series × windows of `points_per_body` ticks, window by
/// window.
fn generate(spec: FleetSpec, args: &Args) -> Result<Data> {
    let mut checksum = Checksum::default();
    let mut series = Vec::with_capacity(spec.series);
    for i in 0..spec.series {
        let desc = describe(&spec, i);
        let (mut ts, mut vals) = (Vec::new(), Vec::new());
        points(&spec, i, &mut ts, &mut vals);
        let host = desc
            .tags
            .iter()
            .find_map(|t| t.strip_prefix("host:"))
            .unwrap_or_default()
            .to_owned();
        let seed = Checksum::series_seed(&desc.metric, &host);
        for (t, v) in ts.iter().zip(&vals) {
            checksum.add(seed, t / 1000, *v);
        }
        let tags: Vec<String> = desc
            .tags
            .into_iter()
            .filter(|t| !t.starts_with("host:"))
            .collect();
        series.push((desc.metric, host, tags, ts, vals));
    }
    let windows = spec.points_per_series.div_ceil(args.points_per_body);
    let mut builder = Builder::new();
    let mut bodies = Vec::new();
    let mut window_ends = Vec::with_capacity(windows);
    let mut proto_bytes = 0;
    for w in 0..windows {
        let start_ms = spec.tick_ms(w * args.points_per_body);
        let end_ms = spec.tick_ms(((w + 1) * args.points_per_body).min(spec.points_per_series));
        for group in series.chunks(args.series_per_body) {
            for (metric, host, tags, ts, vals) in group {
                let from = ts.partition_point(|&t| t < start_ms);
                let to = ts.partition_point(|&t| t < end_ms);
                if from == to {
                    continue; // a gap
                }
                let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
                builder.push(&RwSeries {
                    metric,
                    host,
                    tags: &tags,
                    ts_ms: &ts[from..to],
                    vals: &vals[from..to],
                })?;
            }
            if builder.series() == 0 {
                continue;
            }
            let points = builder.points();
            let mut bytes = Vec::new();
            proto_bytes += builder.finish(&mut bytes)? as u64;
            bodies.push(Body { bytes, points });
        }
        window_ends.push(bodies.len());
    }
    let total: u64 = bodies.iter().map(|b| b.points).sum();
    ensure!(
        total == spec.total_points(),
        "the bodies hold {total} points, the fleet {}",
        spec.total_points()
    );
    Ok(Data {
        wire_bytes: bodies.iter().map(|b| b.bytes.len() as u64).sum(),
        bodies,
        window_ends,
        metrics: (0..spec.series.min(METRICS_PER_HOST))
            .map(|i| describe(&spec, i).metric)
            .collect(),
        first_secs: spec.start_ms / 1000,
        last_secs: spec.tick_ms(spec.points_per_series - 1) / 1000,
        points: total,
        proto_bytes,
        checksum,
    })
}

/// Sends every body to `srv`, window by window; prints the points per wall
/// second and the server's CPU seconds per million points.
fn load(srv: &Server, data: &Data, senders: usize, hz: f64, log: &Log) -> Result<()> {
    let target = Target {
        addr: srv.addr,
        path: remote_write::PATH.into(),
        headers: remote_write::headers(),
    };
    let cpu0 = sys::cpu_secs(&srv.pid(), hz).unwrap_or(0.0);
    let (mut wall, mut ok, mut retries, mut slowest_ms) = (0.0, 0, 0, 0.0f64);
    let mut start = 0;
    for &end in &data.window_ends {
        let sent = send::send_all(&target, &data.bodies[start..end], senders);
        if sent.errors > 0 {
            bail!(
                "{}: {} of the {} bodies of a window failed (statuses {:?}), first: {}; its log \
                 ends with:\n{}",
                srv.name,
                sent.errors,
                end - start,
                sent.statuses,
                sent.first_error.unwrap_or_default(),
                srv.log_tail(20)
            );
        }
        wall += sent.wall_secs;
        ok += sent.ok;
        retries += sent.retries;
        slowest_ms = slowest_ms.max(sent.latency_max_ms);
        start = end;
    }
    let cpu = sys::cpu_secs(&srv.pid(), hz).unwrap_or(0.0) - cpu0;
    log.say(format!(
        "{}: {ok} bodies, {} points in {wall:.2} s: {} points/s, {:.2} server CPU s per M \
         points, slowest request {slowest_ms:.1} ms, {retries} retries",
        srv.name,
        data.points,
        report::si(data.points as f64 / wall),
        cpu / (data.points as f64 / 1e6),
    ));
    Ok(())
}

/// Fails unless `stored` is exactly the data set.
fn check(name: &str, stored: &Stored, exp: &Expect<'_>, log: &Log) -> Result<()> {
    log.say(format!(
        "{name}: read back {} series, {} points (expected {} / {}) in {:.2} s, {} pass(es); \
         checksum {} ({}); names {:?}",
        stored.series,
        stored.points,
        exp.series,
        exp.points,
        stored.read_secs,
        stored.passes,
        stored.checksum,
        if stored.values_identical {
            "bit-identical"
        } else {
            "DIFFERS"
        },
        stored.stored_names
    ));
    ensure!(
        stored.series == exp.series && stored.points == exp.points && stored.values_identical,
        "{name} holds {} series / {} points (checksum {}), the data set {} / {} ({:016x})",
        stored.series,
        stored.points,
        stored.checksum,
        exp.series,
        exp.points,
        exp.checksum.0
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(
        args.series > 0 && args.points > 0 && args.series_per_body > 0 && args.points_per_body > 0,
        "sizes must be positive"
    );
    let log = Log::start();
    let hz = sys::clock_ticks_per_sec();
    let base = FleetSpec {
        series: args.series,
        points_per_series: args.points,
        ..FleetSpec::small()
    };
    // The last point two minutes before now, whole seconds, as the benches
    // do: Prometheus refuses samples more than 10 minutes in the future.
    let interval_secs = base.interval_ms / 1000;
    let first = (sys::unix_secs() - 120 - (args.points as i64 - 1) * interval_secs)
        .div_euclid(interval_secs)
        * interval_secs;
    let spec = FleetSpec {
        start_ms: first * 1000,
        ..base
    };
    let data = generate(spec, &args)?;
    log.say(format!(
        "{} series × {} points: {} points in {} bodies, {} of protobuf, {} snappy on the wire \
         ({:.2} B per point)",
        spec.series,
        spec.points_per_series,
        data.points,
        data.bodies.len(),
        report::bytes(data.proto_bytes),
        report::bytes(data.wire_bytes),
        data.wire_bytes as f64 / data.points as f64
    ));
    let exp = Expect {
        metrics: &data.metrics,
        from_secs: data.first_secs,
        to_secs: data.last_secs,
        series: spec.series as u64,
        points: data.points,
        checksum: data.checksum,
    };

    let prom_bin = server::find_or_install_prometheus(None, |m| log.say(m))?;
    let mut prom = server::start_prometheus(&prom_bin, &[])?;
    log.say(format!(
        "{} is up on {} (pid {})",
        server::prometheus_version(&prom_bin),
        prom.addr,
        prom.pid()
    ));
    load(&prom, &data, args.senders, hz, &log)?;
    let stored = verify::prometheus(prom.addr, &exp)?;
    check("prometheus", &stored, &exp, &log)?;
    let (snapshot, bytes) = server::prometheus_snapshot(&prom)?;
    let blocks = std::fs::read_dir(&snapshot)?
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count();
    log.say(format!(
        "prometheus: snapshot {} holds {} in {blocks} block(s) ({:.3} B per point)",
        snapshot.display(),
        report::bytes(bytes),
        bytes as f64 / data.points as f64
    ));
    // The snapshot is a block like any other: read everything again, now
    // that the head has been written out (it stays in memory too).
    let again = verify::prometheus(prom.addr, &exp)?;
    check("prometheus after the snapshot", &again, &exp, &log)?;
    let (status, secs) = prom.stop()?;
    log.say(format!("prometheus stopped ({status}) in {secs:.1} s"));

    let vm_bin = server::find_or_install_vm(None, |m| log.say(m))?;
    let mut vm = server::start_vm(&vm_bin)?;
    log.say(format!(
        "{} is up on {} (pid {})",
        server::vm_version(&vm_bin),
        vm.addr,
        vm.pid()
    ));
    load(&vm, &data, args.senders, hz, &log)?;
    let stored = verify::victoria_metrics(vm.addr, &exp)?;
    check("victoria-metrics", &stored, &exp, &log)?;
    let (status, secs) = vm.stop()?;
    let vm_bytes = server::dir_bytes(&vm.data_dir());
    log.say(format!(
        "victoria-metrics stopped ({status}) in {secs:.1} s; data directory {} ({:.3} B per \
         point, indexes and logs included)",
        report::bytes(vm_bytes),
        vm_bytes as f64 / data.points as f64
    ));
    log.say("both systems hold the data set exactly");
    Ok(())
}
