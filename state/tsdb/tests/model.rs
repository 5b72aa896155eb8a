//! Property test: random writes (out of order, duplicates, several day
//! partitions, special values), cuts, flushes, merges and restarts, read back
//! and compared with a plain in-memory model after every step.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::*;
use proptest::prelude::*;
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{Agg, Engine, Selector, SeriesId};

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<(usize, i64, f64)>),
    Cut,
    Flush,
    MergeStep,
    Compact,
    Restart,
}

const SERIES: usize = 4;

fn ts_strategy() -> impl Strategy<Value = i64> {
    // Three day partitions, 40 distinct seconds in each: plenty of
    // duplicates and out-of-order arrivals.
    (0i64..3, 0i64..40).prop_map(|(day, s)| NOW - day * DAY_MS - s * 1000)
}

fn value_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i64..1000).prop_map(|m| m as f64 / 10.0),
        (0i64..1_000_000).prop_map(|m| m as f64),
        any::<f64>(),
        Just(f64::NAN),
        Just(-0.0),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => proptest::collection::vec((0..SERIES, ts_strategy(), value_strategy()), 1..40).prop_map(Op::Write),
        1 => Just(Op::Cut),
        2 => Just(Op::Flush),
        1 => Just(Op::MergeStep),
        1 => Just(Op::Compact),
        1 => Just(Op::Restart),
    ]
}

type Model = HashMap<usize, BTreeMap<i64, f64>>;

fn check(e: &Engine, ids: &[SeriesId], model: &Model) -> Result<(), TestCaseError> {
    for (i, id) in ids.iter().enumerate() {
        let got = points_of(e, *id, 0, i64::MAX);
        let want: Vec<(i64, f64)> = model
            .get(&i)
            .map(|m| m.iter().map(|(t, v)| (*t, *v)).collect())
            .unwrap_or_default();
        let bits = |v: &[(i64, f64)]| v.iter().map(|(t, x)| (*t, x.to_bits())).collect::<Vec<_>>();
        prop_assert_eq!(bits(&got), bits(&want), "series {}", i);
    }
    // The aggregated read path agrees with the model too (sum per 10 s,
    // NaN skipped).
    let start = NOW - 3 * DAY_MS;
    let end = NOW + 1;
    let view = e
        .read(ORG, &Selector::Metric("m".into()), start, end)
        .unwrap();
    let rows = view.aggregate(10_000, Agg::Sum, 2).unwrap();
    for (row, meta) in rows.iter().zip(view.series()) {
        let i = ids.iter().position(|x| *x == meta.id).unwrap();
        let mut want: BTreeMap<usize, f64> = BTreeMap::new();
        for (t, v) in model.get(&i).into_iter().flatten() {
            if !v.is_nan() {
                *want.entry(((t - start) / 10_000) as usize).or_default() += v;
            }
        }
        for (b, got) in row.iter().enumerate() {
            match want.get(&b) {
                None => prop_assert!(
                    got.is_nan(),
                    "bucket {} of series {} should be empty: {}",
                    b,
                    i,
                    got
                ),
                Some(w) => prop_assert!(
                    got == w
                        || (got.is_nan() && w.is_nan())
                        || (got - w).abs() <= 1e-9 * w.abs().max(1.0),
                    "bucket {} of series {}: {} vs {}",
                    b,
                    i,
                    got,
                    w
                ),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_a_simple_model(ops in proptest::collection::vec(op_strategy(), 1..25)) {
        let dir = tempfile::tempdir().unwrap();
        let mut e = open(dir.path());
        let ids: Vec<SeriesId> = (0..SERIES).map(|i| gauge(&e, "m", &[&format!("host:h{i}")])).collect();
        let mut model: Model = HashMap::new();
        for op in ops {
            match op {
                Op::Write(points) => {
                    let batch: Vec<_> = points.iter().map(|&(s, t, v)| pt(ids[s], t, v)).collect();
                    let out = e.append_floats(&batch).unwrap();
                    prop_assert_eq!(out.accepted, batch.len());
                    for (s, t, v) in points {
                        model.entry(s).or_default().insert(t, v);
                    }
                }
                Op::Cut => { e.cut_head().unwrap(); }
                Op::Flush => e.flush().unwrap(),
                Op::MergeStep => { e.merge_step().unwrap(); }
                Op::Compact => { e.compact().unwrap(); }
                Op::Restart => {
                    e.close().unwrap();
                    drop(e);
                    e = open(dir.path());
                }
            }
            check(&e, &ids, &model)?;
        }
        // Everything is still there once fully flushed and compacted.
        e.flush().unwrap();
        e.compact().unwrap();
        check(&e, &ids, &model)?;
        prop_assert!(e.verify().errors.is_empty());
    }
}
