//! Criterion benchmarks of the storage engine on the host-fleet data set
//! (`whippet-fleetgen`): the column codecs per value shape, appends into a
//! fresh engine, and aggregation over a compacted part.
//!
//! Quick by design (each group runs in well under 20 s); the full-size
//! figures come from `cargo run --release -p whippet-tsdb-bench`, which
//! writes dated results under `bench/results/`. Smoke test:
//! `cargo bench -p whippet-tsdb --bench engine -- --test`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use whippet_fleetgen::{FleetSpec, Shape, describe, points};
use whippet_tsdb::codec::varint::Reader;
use whippet_tsdb::codec::{Effort, floats, timestamps};
use whippet_tsdb::{
    Agg, Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, ReadBuffers, Selector,
    SeriesId, SeriesKey, TagSet,
};

const ORG: OrgId = OrgId(1);

/// The first series of each shape in the full fleet (720 points, the length
/// of a two-hour chunk).
fn one_series_per_shape(spec: &FleetSpec) -> Vec<(Shape, usize)> {
    let mut out: Vec<(Shape, usize)> = Vec::new();
    for i in 0..whippet_fleetgen::METRICS_PER_HOST {
        let s = describe(spec, i).shape;
        if !out.iter().any(|(x, _)| *x == s) {
            out.push((s, i));
        }
    }
    out
}

fn codec_floats(c: &mut Criterion) {
    let spec = FleetSpec::full();
    let mut g = c.benchmark_group("codec_floats");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    let (mut out, mut scratch, mut back) = (Vec::new(), Vec::new(), Vec::new());
    for (shape, i) in one_series_per_shape(&spec) {
        points(&spec, i, &mut ts, &mut vals);
        let n = vals.len();
        g.throughput(Throughput::Elements(n as u64));
        for effort in [Effort::Fast, Effort::Best] {
            g.bench_function(format!("encode/{shape:?}/{effort:?}"), |b| {
                b.iter(|| {
                    out.clear();
                    floats::encode(black_box(&vals), &mut out, &mut scratch, effort);
                })
            });
        }
        let mut enc = Vec::new();
        floats::encode(&vals, &mut enc, &mut scratch, Effort::Best);
        g.bench_function(format!("decode/{shape:?}/Best"), |b| {
            b.iter(|| {
                let mut r = Reader::new(black_box(&enc));
                floats::decode(&mut r, n, &mut back, &mut scratch).expect("decodes");
            })
        });
    }
    g.finish();
}

fn codec_timestamps(c: &mut Criterion) {
    let spec = FleetSpec::full();
    let mut g = c.benchmark_group("codec_timestamps");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    let regular = 0;
    let gapped = (0..spec.series)
        .find(|&i| describe(&spec, i).has_gaps)
        .expect("the full fleet has series with gaps");
    let (mut out, mut back) = (Vec::new(), Vec::new());
    for (name, i) in [("regular", regular), ("with_gaps", gapped)] {
        points(&spec, i, &mut ts, &mut vals);
        let n = ts.len();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| {
                out.clear();
                timestamps::encode(black_box(&ts), &mut out, Effort::Best);
            })
        });
        let mut enc = Vec::new();
        timestamps::encode(&ts, &mut enc, Effort::Best);
        g.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| {
                let mut r = Reader::new(black_box(&enc));
                timestamps::decode(&mut r, n, &mut back).expect("decodes");
            })
        });
    }
    g.finish();
}

/// A small fleet: 100 hosts (2 000 series).
fn small_fleet(points_per_series: usize) -> FleetSpec {
    FleetSpec {
        series: 2_000,
        points_per_series,
        ..FleetSpec::small()
    }
}

fn open_engine(dir: &std::path::Path, spec: &FleetSpec) -> Engine {
    let config = EngineConfig {
        background_tasks: false,
        clock: Clock::manual(spec.end_ms()),
        ..EngineConfig::default()
    };
    Engine::open(dir, config).expect("open engine").0
}

fn resolve(engine: &Engine, spec: &FleetSpec) -> Vec<SeriesId> {
    (0..spec.series)
        .map(|i| {
            let d = describe(spec, i);
            let key = SeriesKey::float(ORG, d.metric, TagSet::new(d.tags));
            engine.resolve(&key, MetricType::Gauge).expect("resolve")
        })
        .collect()
}

/// Every point of `spec`, time-major (each tick, every series), as an
/// intake would batch live agents' payloads.
fn time_major(spec: &FleetSpec, ids: &[SeriesId]) -> Vec<FloatPoint> {
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    let mut all = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        points(spec, i, &mut ts, &mut vals);
        all.extend(ts.iter().zip(&vals).map(|(&t, &v)| FloatPoint {
            series: id,
            ts: t,
            value: v,
        }));
    }
    all.sort_by_key(|p| (p.ts, p.series));
    all
}

/// Points per `append_floats` call (one intake request's worth).
const BATCH_POINTS: usize = 10_000;

fn append(c: &mut Criterion) {
    let spec = small_fleet(60);
    let mut g = c.benchmark_group("append");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    // Series ids are assigned from 1 in resolve order, so the same points
    // fit every fresh engine.
    let probe = tempfile::tempdir().expect("temp dir");
    let ids = resolve(&open_engine(probe.path(), &spec), &spec);
    let batch = time_major(&spec, &ids);
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("fleet_2000_series_x_60_ticks", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temp dir");
                let engine = open_engine(dir.path(), &spec);
                let fresh = resolve(&engine, &spec);
                assert_eq!(fresh, ids, "ids are assigned in resolve order");
                (dir, engine)
            },
            |(dir, engine)| {
                for chunk in batch.chunks(BATCH_POINTS) {
                    let out = engine.append_floats(chunk).expect("append");
                    debug_assert!(out.rejected.is_empty());
                }
                (dir, engine)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn aggregate(c: &mut Criterion) {
    let spec = small_fleet(360);
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = open_engine(dir.path(), &spec);
    let ids = resolve(&engine, &spec);
    for chunk in time_major(&spec, &ids).chunks(BATCH_POINTS) {
        engine.append_floats(chunk).expect("append");
    }
    engine.flush().expect("flush");
    engine.compact().expect("compact");
    let view = engine
        .read(ORG, &Selector::All, spec.start_ms, spec.end_ms())
        .expect("read");
    let total = spec.total_points();

    let mut g = c.benchmark_group("read");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(total));
    g.bench_function("aggregate_avg_60s_1_thread", |b| {
        b.iter(|| black_box(view.aggregate(60_000, Agg::Avg, 1).expect("aggregate")))
    });
    let mut buf = ReadBuffers::default();
    g.bench_function("raw_floats", |b| {
        b.iter(|| {
            let mut n = 0;
            for i in 0..view.series().len() {
                n += view.floats(i, &mut buf).expect("floats").0.len();
            }
            assert_eq!(n as u64, total);
        })
    });
    g.finish();
}

criterion_group!(benches, codec_floats, codec_timestamps, append, aggregate);
criterion_main!(benches);
