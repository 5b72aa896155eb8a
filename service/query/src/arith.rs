//! Arithmetic between expressions: per bucket, joined on group tags.

use whippet_ddql::BinOp;

use crate::series::{Series, SeriesSet, Value};

/// `a op b` on one pair of values; NaN (null) in, null out; `x / 0` is null.
#[inline]
pub(crate) fn op(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                f64::NAN
            } else {
                a / b
            }
        }
    }
}

/// `lhs op rhs`.
///
/// * number ∘ number → number;
/// * number ∘ series (or series ∘ number) → the number applied to every
///   bucket of every series;
/// * ungrouped (one series without group tags) ∘ grouped → the ungrouped
///   series broadcast to each group, and the other way round;
/// * grouped ∘ grouped → one output per group tag set present on both
///   sides (in the left side's order); a group on one side only gives
///   nothing.
///
/// The result's metadata comes from the left operand when it has a metric,
/// else from the right.
pub(crate) fn binary(o: BinOp, lhs: Value, rhs: Value) -> Value {
    match (lhs, rhs) {
        (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(op(o, a, b)),
        (Value::Set(mut s), Value::Scalar(b)) => {
            for x in &mut s.series {
                x.values.iter_mut().for_each(|v| *v = op(o, *v, b));
                // Counts scaled by a number are still counts.
                x.counts &= matches!(o, BinOp::Mul | BinOp::Div);
            }
            Value::Set(s)
        }
        (Value::Scalar(a), Value::Set(mut s)) => {
            for x in &mut s.series {
                x.values.iter_mut().for_each(|v| *v = op(o, a, *v));
                x.counts &= o == BinOp::Mul;
            }
            Value::Set(s)
        }
        (Value::Set(a), Value::Set(b)) => Value::Set(sets(o, a, b)),
    }
}

fn sets(o: BinOp, a: SeriesSet, b: SeriesSet) -> SeriesSet {
    let meta = if a.meta.metric.is_empty() {
        b.meta.clone()
    } else {
        a.meta.clone()
    };
    let combine = |x: &Series, y: &Series, tags: &[String]| Series {
        tags: tags.to_vec(),
        values: x
            .values
            .iter()
            .zip(&y.values)
            .map(|(&p, &q)| op(o, p, q))
            .collect(),
        dense: x.dense && y.dense,
        // Sums and differences of counts are counts.
        counts: x.counts && y.counts && matches!(o, BinOp::Add | BinOp::Sub),
    };
    let series = if a.is_ungrouped() && !b.is_ungrouped() {
        let x = &a.series[0];
        b.series.iter().map(|y| combine(x, y, &y.tags)).collect()
    } else if b.is_ungrouped() {
        let y = &b.series[0];
        a.series.iter().map(|x| combine(x, y, &x.tags)).collect()
    } else {
        let index: std::collections::HashMap<&[String], &Series> =
            b.series.iter().map(|y| (y.tags.as_slice(), y)).collect();
        a.series
            .iter()
            .filter_map(|x| index.get(x.tags.as_slice()).map(|y| combine(x, y, &x.tags)))
            .collect()
    };
    SeriesSet { meta, series }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Meta;

    fn s(tags: &[&str], v: &[f64]) -> Series {
        Series {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            values: v.to_vec(),
            dense: false,
            counts: false,
        }
    }

    fn set(series: Vec<Series>) -> Value {
        Value::Set(SeriesSet {
            meta: Meta::default(),
            series,
        })
    }

    fn values(v: Value) -> Vec<(Vec<String>, Vec<f64>)> {
        match v {
            Value::Set(s) => s.series.into_iter().map(|x| (x.tags, x.values)).collect(),
            Value::Scalar(_) => panic!("scalar"),
        }
    }

    #[test]
    fn joins_and_broadcasts() {
        let g = || set(vec![s(&["h:a"], &[1.0, 2.0]), s(&["h:b"], &[3.0, 4.0])]);
        let r = values(binary(
            BinOp::Add,
            g(),
            set(vec![s(&["h:b"], &[10.0, 10.0])]),
        ));
        assert_eq!(r, vec![(vec!["h:b".to_string()], vec![13.0, 14.0])]);
        let r = values(binary(BinOp::Mul, set(vec![s(&[], &[2.0, 0.0])]), g()));
        assert_eq!(r[1].1, vec![6.0, 0.0]);
        let r = values(binary(BinOp::Div, g(), Value::Scalar(0.0)));
        assert!(r[0].1.iter().all(|v| v.is_nan()));
        let r = values(binary(BinOp::Sub, Value::Scalar(10.0), g()));
        assert_eq!(r[0].1, vec![9.0, 8.0]);
        assert_eq!(
            binary(BinOp::Div, Value::Scalar(1.0), Value::Scalar(4.0)),
            Value::Scalar(0.25)
        );
    }
}
