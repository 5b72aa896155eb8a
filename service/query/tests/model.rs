//! Property tests: the default interval's invariants, and the evaluator
//! against a naive model (every point bucketed one by one, no storage
//! pushdown) on random data, windows and queries.

use std::collections::BTreeMap;

use proptest::prelude::*;
use whippet_query::{
    LADDER_SECS, MAX_DEFAULT_POINTS, QueryEngine, QueryLimits, default_interval_secs,
};
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesKey, TagSet};

/// 2026-11-26T00:00:00Z.
const BASE: i64 = 1_795_651_200_000;
const ORG: OrgId = OrgId(1);

/// Aligned buckets of `secs` in `[from, to]`: first multiple ≥ from to
/// last multiple ≤ to.
fn buckets(from: i64, to: i64, secs: u32) -> i64 {
    let step = i64::from(secs) * 1000;
    let first = (from + step - 1).div_euclid(step);
    let last = to.div_euclid(step);
    (last - first + 1).max(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The default interval is allowed (a ladder step or whole days, never
    /// below the native resolution), gives at most 300 buckets, and no
    /// smaller allowed step would.
    #[test]
    fn default_interval_is_the_smallest_that_fits(
        from in -1_000_000_000_000i64..3_000_000_000_000,
        len in 1i64..(400 * DAY_MS),
        native in prop::sample::select(vec![1u32, 2, 10, 15, 60, 3600, 100_000]),
    ) {
        let to = from + len;
        let i = default_interval_secs(from, to, native);
        prop_assert!(i >= native);
        prop_assert!(LADDER_SECS.contains(&i) || i.is_multiple_of(86_400), "{i}");
        let n = buckets(from, to, i);
        prop_assert!(n <= MAX_DEFAULT_POINTS as i64, "{n} buckets of {i} s");
        for &l in LADDER_SECS.iter().filter(|&&l| l >= native && l < i) {
            prop_assert!(buckets(from, to, l) > MAX_DEFAULT_POINTS as i64);
        }
    }
}

#[test]
fn bucket_helper_counts_aligned_buckets() {
    assert_eq!(buckets(0, 60_000, 10), 7);
    assert_eq!(buckets(5_000, 65_000, 10), 6);
    assert_eq!(buckets(1_000, 9_000, 10), 0);
    assert_eq!(buckets(-15_000, 15_000, 10), 3);
}

#[derive(Debug, Clone)]
struct Case {
    /// Per series: host index and points (offset seconds from BASE, value).
    series: Vec<(u8, Vec<(i64, i32)>)>,
    space: &'static str,
    by_host: bool,
    rollup: Option<(&'static str, u32)>,
    from_s: i64,
    len_s: i64,
}

fn case() -> impl Strategy<Value = Case> {
    let series = prop::collection::vec(
        (
            0u8..3,
            prop::collection::btree_map(0i64..900, -50i32..50, 0..40),
        ),
        1..6,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(h, m)| (h, m.into_iter().collect()))
            .collect()
    });
    (
        series,
        prop::sample::select(vec!["avg", "sum", "min", "max", "count"]),
        any::<bool>(),
        prop::option::of((
            prop::sample::select(vec!["avg", "sum", "min", "max", "count", "last"]),
            prop::sample::select(vec![5u32, 10, 20, 30, 60, 120]),
        )),
        0i64..600,
        1i64..900,
    )
        .prop_map(|(series, space, by_host, rollup, from_s, len_s)| Case {
            series,
            space,
            by_host,
            rollup,
            from_s,
            len_s,
        })
}

/// An expected series: group tags and points.
type Expected = (Vec<String>, Vec<(i64, Option<f64>)>);

/// What the evaluator must answer, computed point by point.
fn model(c: &Case) -> Vec<Expected> {
    let from = BASE + c.from_s * 1000;
    let to = from + c.len_s * 1000;
    let secs = match c.rollup {
        Some((_, s)) => s.max(10),
        None => default_interval_secs(from, to, 10),
    };
    let step = i64::from(secs) * 1000;
    let first = (from + step - 1).div_euclid(step) * step;
    let n = ((to.div_euclid(step) * step - first) / step + 1).max(0) as usize;
    let tagg = c.rollup.map_or("avg", |r| r.0);
    // Per series: per bucket, the time aggregate.
    let mut groups: BTreeMap<Vec<String>, Vec<Vec<f64>>> = BTreeMap::new();
    for (host, pts) in &c.series {
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); n];
        for &(off, v) in pts {
            let t = BASE + off * 1000;
            if t >= first && t < first + n as i64 * step {
                per[((t - first) / step) as usize].push(f64::from(v));
            }
        }
        let row: Vec<f64> = per
            .iter()
            .map(|b| {
                if b.is_empty() {
                    return f64::NAN;
                }
                match tagg {
                    "avg" => b.iter().sum::<f64>() / b.len() as f64,
                    "sum" => b.iter().sum(),
                    "min" => b.iter().copied().fold(f64::INFINITY, f64::min),
                    "max" => b.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    "count" => b.len() as f64,
                    _ => *b.last().unwrap(),
                }
            })
            .collect();
        if row.iter().all(|v| v.is_nan()) {
            continue;
        }
        let key = if c.by_host {
            vec![format!("host:h{host}")]
        } else {
            vec![]
        };
        groups.entry(key).or_default().push(row);
    }
    groups
        .into_iter()
        .map(|(tags, rows)| {
            let vals: Vec<f64> = (0..n)
                .map(|b| {
                    let vs: Vec<f64> = rows.iter().map(|r| r[b]).filter(|v| !v.is_nan()).collect();
                    if vs.is_empty() {
                        return f64::NAN;
                    }
                    match c.space {
                        "avg" => vs.iter().sum::<f64>() / vs.len() as f64,
                        "sum" => vs.iter().sum(),
                        "min" => vs.iter().copied().fold(f64::INFINITY, f64::min),
                        "max" => vs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                        _ => vs.len() as f64,
                    }
                })
                .collect();
            let a = vals.iter().position(|v| !v.is_nan()).unwrap();
            let z = vals.iter().rposition(|v| !v.is_nan()).unwrap() + 1;
            let pts = (a..z)
                .map(|i| {
                    (
                        first + i as i64 * step,
                        Some(vals[i]).filter(|v| !v.is_nan()),
                    )
                })
                .collect();
            (tags, pts)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Time then space aggregation over the storage engine (pushed down,
    /// several threads) equals the point-by-point model.
    #[test]
    fn evaluation_matches_the_model(c in case()) {
        let dir = tempfile::tempdir().unwrap();
        let config = EngineConfig {
            clock: Clock::manual(BASE + DAY_MS),
            background_tasks: false,
            ..EngineConfig::default()
        };
        let (engine, _) = Engine::open(dir.path(), config).unwrap();
        for (i, (host, pts)) in c.series.iter().enumerate() {
            let key = SeriesKey::float(ORG, "m", TagSet::new([format!("host:h{host}"), format!("n:{i}")]));
            let id = engine.resolve(&key, MetricType::Gauge).unwrap();
            let points: Vec<FloatPoint> = pts
                .iter()
                .map(|&(off, v)| FloatPoint { series: id, ts: BASE + off * 1000, value: f64::from(v) })
                .collect();
            engine.append_floats(&points).unwrap();
        }
        let mut src = format!("{}:m{{*}}", c.space);
        if c.by_host {
            src.push_str(" by {host}");
        }
        if let Some((agg, secs)) = c.rollup {
            src.push_str(&format!(".rollup({agg}, {secs})"));
        }
        let req = whippet_ddql::parse_request(&src).unwrap();
        let qe = QueryEngine::new(engine, QueryLimits::default());
        let from = BASE + c.from_s * 1000;
        let got = qe.query(ORG, &src, &req, from, from + c.len_s * 1000).unwrap();
        let want = model(&c);
        prop_assert_eq!(got.len(), want.len(), "{}", src);
        for (g, (tags, pts)) in got.iter().zip(&want) {
            prop_assert_eq!(&g.tag_set, tags);
            prop_assert_eq!(g.points.len(), pts.len(), "{} {:?}", src, g.tag_set);
            for (a, b) in g.points.iter().zip(pts) {
                prop_assert_eq!(a.0, b.0);
                match (a.1, b.1) {
                    (Some(x), Some(y)) => prop_assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{} {} vs {}", src, x, y),
                    (x, y) => prop_assert_eq!(x, y),
                }
            }
        }
    }
}
