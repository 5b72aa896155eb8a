//! Criterion benchmarks of PromQL evaluation over the small host fleet of
//! `whippet-fleetgen` (10 000 series × 360 points at 10 s, flushed and
//! compacted into parts): the PromQL forms of the `bench/run` query suite
//! (range queries over the hour, step 20 s or 10 s, windows `[step - 1ms]`)
//! and a few plain shapes (a selector, `rate`, `abs`) that show where the
//! evaluator's time goes.
//!
//! Run: `cargo bench -p whippet-promql --bench eval` (a release build; the
//! setup loads 3.6 M points, about 10 s). Smoke test:
//! `cargo bench -p whippet-promql --bench eval -- --test`. Figures before
//! and after each change are kept in `bench/results/2026-11-27-promql-eval.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use whippet_fleetgen::{FleetSpec, describe, points};
use whippet_promql::{EvalOptions, PromEngine, QueryValue};
use whippet_tsdb::{Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesKey, TagSet};

const ORG: OrgId = OrgId(1);

/// Points per `append_floats` call (one intake request's worth).
const BATCH_POINTS: usize = 10_000;

fn load(dir: &std::path::Path, spec: &FleetSpec) -> Engine {
    let config = EngineConfig {
        background_tasks: false,
        clock: Clock::manual(spec.end_ms()),
        ..EngineConfig::default()
    };
    let engine = Engine::open(dir, config).expect("open engine").0;
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    let mut batch = Vec::with_capacity(BATCH_POINTS);
    for i in 0..spec.series {
        let d = describe(spec, i);
        let key = SeriesKey::float(ORG, d.metric, TagSet::new(d.tags));
        let id = engine.resolve(&key, MetricType::Gauge).expect("resolve");
        points(spec, i, &mut ts, &mut vals);
        for (&t, &v) in ts.iter().zip(&vals) {
            batch.push(FloatPoint {
                series: id,
                ts: t,
                value: v,
            });
            if batch.len() == BATCH_POINTS {
                engine.append_floats(&batch).expect("append");
                batch.clear();
            }
        }
    }
    engine.append_floats(&batch).expect("append");
    engine.flush().expect("flush");
    engine.compact().expect("compact");
    engine
}

/// The suite's PromQL forms as Whippet receives them, with their steps (s).
const QUERIES: &[(&str, &str, i64)] = &[
    (
        "one_host_avg_over_time",
        r#"avg_over_time(system_cpu_user{host="i-0457e5fde7b0524dc"}[19999ms])"#,
        20,
    ),
    (
        "avg_by_region",
        "avg by (region) (avg_over_time(system_cpu_user[19999ms]))",
        20,
    ),
    (
        "sum_rate_by_service",
        "sum by (service) (rate(system_net_bytes_rcvd[19999ms]))",
        20,
    ),
    (
        "topk_hosts",
        "topk(10, avg by (host) (avg_over_time(system_cpu_user[19999ms])))",
        20,
    ),
    (
        "regex_hosts",
        r#"avg by (host) (avg_over_time(system_cpu_user{host=~"i-04d.*"}[19999ms]))"#,
        20,
    ),
    (
        "regex_and_service",
        r#"avg by (host) (avg_over_time(system_cpu_user{host=~"i-0.*",service="web"}[9999ms]))"#,
        10,
    ),
    ("plain_selector", "system_cpu_user", 20),
    ("rate", "rate(system_net_bytes_rcvd[1m])", 20),
    ("abs", "abs(system_cpu_user)", 20),
];

fn suite(c: &mut Criterion) {
    let spec = FleetSpec::small();
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = load(dir.path(), &spec);
    let prom = PromEngine::new(engine, EvalOptions::default());
    let mut g = c.benchmark_group("promql_small_fleet");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for &(name, q, step_s) in QUERIES {
        let (start, end) = (spec.start_ms, spec.end_ms());
        let step = step_s * 1000;
        // Every query must answer something: a benchmark of an empty
        // answer measures nothing.
        match prom.range_query(ORG, q, start, end, step).expect(q) {
            QueryValue::Matrix(m) => assert!(!m.is_empty(), "{q} answered no series"),
            other => panic!("{q}: not a matrix: {other:?}"),
        }
        g.bench_function(name, |b| {
            b.iter(|| black_box(prom.range_query(ORG, q, start, end, step).expect(q)))
        });
    }
    g.finish();
}

criterion_group!(benches, suite);
criterion_main!(benches);
