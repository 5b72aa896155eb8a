//! `sort` and `sort_desc`: an instant vector ordered by value, labels
//! (`__name__` included) unchanged.
//!
//! NaNs go last in both orders, as in Prometheus; equal values keep their
//! input order. Only an instant query's answer shows the order: a range
//! query's series are ordered by the evaluator, which this must never
//! try to influence.

use std::cmp::Ordering;

use crate::value::InstantSample;

/// Compares two values with NaN after every number, `cmp` for numbers.
fn nan_last(a: f64, b: f64, cmp: impl Fn(f64, f64) -> Ordering) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => cmp(a, b),
    }
}

/// `sort`: ascending.
pub(super) fn ascending(mut v: Vec<InstantSample>) -> Vec<InstantSample> {
    v.sort_by(|a, b| nan_last(a.v, b.v, |x, y| x.total_cmp(&y)));
    v
}

/// `sort_desc`: descending.
pub(super) fn descending(mut v: Vec<InstantSample>) -> Vec<InstantSample> {
    v.sort_by(|a, b| nan_last(a.v, b.v, |x, y| y.total_cmp(&x)));
    v
}

#[cfg(test)]
mod tests {
    use super::super::FnArg;
    use super::super::tests::{ctx, inst, vec_of};

    fn sorted(name: &str, values: &[f64]) -> Vec<(String, f64)> {
        let v = values
            .iter()
            .enumerate()
            .map(|(i, &x)| inst(&[("__name__", "m"), ("i", &i.to_string())], x))
            .collect();
        vec_of(name, vec![FnArg::Vector(v)], ctx(0, 0))
    }

    fn order(out: &[(String, f64)]) -> Vec<String> {
        out.iter().map(|(l, _)| l.clone()).collect()
    }

    #[test]
    fn sort_orders_with_nan_last_and_keeps_names() {
        let out = sorted("sort", &[3.0, f64::NAN, 1.0, 2.0]);
        assert_eq!(
            order(&out),
            ["m{i=\"2\"}", "m{i=\"3\"}", "m{i=\"0\"}", "m{i=\"1\"}"]
        );
        let out = sorted("sort_desc", &[3.0, f64::NAN, 1.0, 2.0]);
        assert_eq!(
            order(&out),
            ["m{i=\"0\"}", "m{i=\"3\"}", "m{i=\"2\"}", "m{i=\"1\"}"]
        );
    }

    #[test]
    fn infinities_sort_as_numbers() {
        let out = sorted("sort", &[f64::INFINITY, f64::NEG_INFINITY, 0.0]);
        let values: Vec<f64> = out.iter().map(|x| x.1).collect();
        assert_eq!(values, [f64::NEG_INFINITY, 0.0, f64::INFINITY]);
    }
}
