//! Ad-hoc timing of the evaluator over the storage engine's pushdown:
//! `cargo run --release -p whippet-query --example query_speed [series] [hours] [repeats]`.
//! `repeats` (default 1) repeats the bare aggregation and each query (the
//! median is printed), for profiling; `QUERY_SPEED_ONLY=<text>` runs only
//! the queries containing the text.
//!
//! Loads `series` gauges (10 s points, 50 hosts) for `hours`, merges them
//! into parts, then times a few queries over the whole range and, for
//! comparison, the bare `ReadView::aggregate` they are built on.

use std::time::Instant;

use whippet_query::{QueryEngine, QueryLimits};
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{
    Agg, Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, Selector, SeriesKey, TagSet,
};

/// The allocator `whippet serve` runs with, so the figures match.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BASE: i64 = 1_795_651_200_000;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let series = args.first().copied().unwrap_or(2_000);
    let hours = args.get(1).copied().unwrap_or(6) as i64;
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        clock: Clock::manual(BASE + hours * 3_600_000 + DAY_MS),
        background_tasks: false,
        ..EngineConfig::default()
    };
    let (engine, _) = Engine::open(dir.path(), config).unwrap();
    let n = (hours * 360) as usize;
    let t = Instant::now();
    let ids: Vec<_> = (0..series)
        .map(|i| {
            let tags = TagSet::new([format!("host:h{}", i % 50), format!("dev:d{i}")]);
            engine
                .resolve(&SeriesKey::float(OrgId(1), "m", tags), MetricType::Gauge)
                .unwrap()
        })
        .collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(360) {
        let mut pts = Vec::with_capacity(chunk.len() * series);
        for &k in chunk {
            for (i, &id) in ids.iter().enumerate() {
                pts.push(FloatPoint {
                    series: id,
                    ts: BASE + k as i64 * 10_000,
                    value: ((k * 7 + i) % 100) as f64,
                });
            }
        }
        engine.append_floats(&pts).unwrap();
    }
    engine.flush().unwrap();
    engine.compact().unwrap();
    let points = series * n;
    println!(
        "loaded {series} series × {n} points = {points} points in {:.2?}",
        t.elapsed()
    );

    let (from, to) = (BASE, BASE + hours * 3_600_000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sel = Selector::And(vec![Selector::Metric("m".into())]);
    let repeats = args.get(2).copied().unwrap_or(1).max(1);
    for _ in 1..repeats {
        let view = engine.read(OrgId(1), &sel, from, to).unwrap();
        std::hint::black_box(view.aggregate(60_000, Agg::Avg, threads).unwrap());
    }
    let t = Instant::now();
    let view = engine.read(OrgId(1), &sel, from, to).unwrap();
    let rows = view.aggregate(60_000, Agg::Avg, threads).unwrap();
    let bare = t.elapsed();
    println!(
        "bare read + aggregate: {bare:.2?} ({:.0} M points/s, {} rows)",
        points as f64 / bare.as_secs_f64() / 1e6,
        rows.len()
    );
    drop((view, rows));

    let qe = QueryEngine::new(engine, QueryLimits::default());
    for src in [
        "avg:m{*}",
        "avg:m{*} by {host}",
        "top(avg:m{*} by {dev}, 10, 'mean', 'desc')",
        "sum:m{host:h1} by {dev}.rollup(max, 600)",
        "top(avg:m{*} by {host}, 10, 'mean', 'desc')",
        "avg:m{*} by {host} - hour_before(avg:m{*} by {host})",
    ] {
        if std::env::var("QUERY_SPEED_ONLY").is_ok_and(|only| !src.contains(&only)) {
            continue;
        }
        let req = whippet_ddql::parse_request(src).unwrap();
        let mut times = Vec::new();
        let mut out = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            out = qe.query(OrgId(1), src, &req, from, to).unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        let d = times[times.len() / 2];
        println!(
            "{src:55} {d:>10.2?}  {:>6.0} M points/s  {} series × {} points",
            points as f64 / d.as_secs_f64() / 1e6,
            out.len(),
            out.first().map_or(0, |s| s.points.len())
        );
    }
}
