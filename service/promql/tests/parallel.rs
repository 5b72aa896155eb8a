//! The evaluator's multi-threaded paths (storage reads and range functions
//! split over threads once a query reads more than
//! `whippet_promql::parallel::MIN_SAMPLES_PER_THREAD` samples per thread)
//! answer what single-threaded evaluation does: a range query over enough
//! series to be split is compared, step by step, with instant queries at
//! its steps, which read too little to be split. The golden corpus's
//! series are far too few to reach these paths.

use whippet_promql::parallel::MIN_SAMPLES_PER_THREAD;
use whippet_promql::{EvalOptions, PromEngine, QueryValue};
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesKey, TagSet};

const ORG: OrgId = OrgId(1);
const ORIGIN_MS: i64 = 1_793_491_200_000;
const STEP_MS: i64 = 10_000;
const POINTS: usize = 360;
/// Enough series for four threads' worth of samples.
const SERIES: usize = 4 * MIN_SAMPLES_PER_THREAD / POINTS + 1;
const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

fn engine(dir: &std::path::Path) -> Engine {
    let config = EngineConfig {
        clock: Clock::manual(ORIGIN_MS + DAY_MS),
        background_tasks: false,
        ..EngineConfig::default()
    };
    let engine = Engine::open(dir, config).expect("open").0;
    for i in 0..SERIES {
        let key = SeriesKey::float(
            ORG,
            "m".to_owned(),
            TagSet::new(vec![format!("i:{i}"), format!("g:{}", i % 7)]),
        );
        let id = engine.resolve(&key, MetricType::Gauge).expect("resolve");
        // Counters with resets, a NaN, a staleness marker and a gap, each
        // at a place that depends on the series.
        let points: Vec<FloatPoint> = (0..POINTS)
            .filter(|k| (k + i) % 97 != 0)
            .map(|k| {
                let value = match (k * 31 + i) % 211 {
                    0 => f64::NAN,
                    1 => f64::from_bits(STALE_NAN_BITS),
                    _ => ((k + i) % 50) as f64 * 1.5 + (i % 3) as f64,
                };
                FloatPoint {
                    series: id,
                    ts: ORIGIN_MS + k as i64 * STEP_MS,
                    value,
                }
            })
            .collect();
        engine.append_floats(&points).expect("append");
    }
    engine
}

/// `(labels, value)` of an instant query, sorted.
fn instant(p: &PromEngine, q: &str, t: i64) -> Vec<(String, u64)> {
    let QueryValue::Vector(v) = p.instant_query(ORG, q, t).expect(q) else {
        panic!("{q}: not a vector");
    };
    let mut out: Vec<(String, u64)> = v
        .into_iter()
        .map(|s| (s.labels.to_string(), s.v.to_bits()))
        .collect();
    out.sort();
    out
}

#[test]
fn split_range_queries_answer_what_instant_queries_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = PromEngine::new(engine(dir.path()), EvalOptions::default());
    let (start, end, step) = (ORIGIN_MS, ORIGIN_MS + (POINTS as i64 - 1) * STEP_MS, 20_000);
    for q in [
        "m",
        "rate(m[1m])",
        "avg_over_time(m[19999ms])",
        "max_over_time(m[45s] offset 30s)",
        "sum by (g) (increase(m[1m]))",
        "abs(m)",
    ] {
        let QueryValue::Matrix(m) = p.range_query(ORG, q, start, end, step).expect(q) else {
            panic!("{q}: not a matrix");
        };
        assert!(!m.is_empty(), "{q}: no answer");
        // Every 7th step keeps the test quick; the split is by series, so
        // any step sees every thread's series.
        let mut t = start;
        while t <= end {
            let mut want: Vec<(String, u64)> = m
                .iter()
                .filter_map(|s| {
                    s.samples
                        .iter()
                        .find(|x| x.t == t)
                        .map(|x| (s.labels.to_string(), x.v.to_bits()))
                })
                .collect();
            want.sort();
            assert_eq!(instant(&p, q, t), want, "{q} at {t}");
            t += 7 * step;
        }
    }
}

#[test]
fn a_split_range_function_still_refuses_equal_label_sets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(dir.path());
    // The same labels under a second name, in the last series only: the
    // duplicate is found whichever thread reads it. Two points: `rate`
    // needs two samples in a window to answer.
    let key = SeriesKey::float(
        ORG,
        "n".to_owned(),
        TagSet::new(vec![
            format!("i:{}", SERIES - 1),
            format!("g:{}", (SERIES - 1) % 7),
        ]),
    );
    let id = engine.resolve(&key, MetricType::Gauge).expect("resolve");
    let points: Vec<FloatPoint> = [100, 101]
        .iter()
        .map(|&k| FloatPoint {
            series: id,
            ts: ORIGIN_MS + k * STEP_MS,
            value: 1.0,
        })
        .collect();
    engine.append_floats(&points).expect("append");
    let p = PromEngine::new(engine, EvalOptions::default());
    let end = ORIGIN_MS + (POINTS as i64 - 1) * STEP_MS;
    let q = |q: &str| p.range_query(ORG, q, ORIGIN_MS, end, 20_000);
    assert!(
        q(r#"last_over_time({__name__=~"m|n"}[1m])"#).is_ok(),
        "last_over_time keeps the names, so no clash"
    );
    let Err(err) = q(r#"rate({__name__=~"m|n"}[1m])"#) else {
        panic!("two series with the same labels once the name is dropped");
    };
    assert!(
        err.to_string().contains("same labelset"),
        "unexpected error: {err}"
    );
}
