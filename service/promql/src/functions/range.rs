//! The `*_over_time` family: `avg`, `min`, `max`, `sum`, `count`,
//! `quantile`, `stddev`, `stdvar`, `last` and `present` over each series'
//! samples in the window.
//!
//! Each answers one value per series with samples; all drop `__name__`
//! except `last_over_time`, which acts like an `offset` and keeps it (the
//! dispatcher does the labels). Sums use Kahan's compensated summation as
//! Prometheus 2.42 does, so that long windows of large values agree with
//! it to the last digit. Nothing here may look at the window's edges: that
//! is `rate`'s business.

use crate::value::Sample;

/// The `*_over_time` function `name` computes from a series' samples
/// (never empty), if it is one (`quantile_over_time`, which takes a
/// parameter, is [`quantile_over_time`]).
#[allow(clippy::type_complexity)]
pub(super) fn over_time(name: &str) -> Option<fn(&[Sample]) -> Option<f64>> {
    let f: fn(&[Sample]) -> Option<f64> = match name {
        "avg_over_time" => |s| Some(avg(s)),
        "min_over_time" => |s| Some(min(s)),
        "max_over_time" => |s| Some(max(s)),
        "sum_over_time" => |s| Some(sum(s)),
        "count_over_time" => |s| Some(s.len() as f64),
        "stddev_over_time" => |s| Some(stdvar(s).sqrt()),
        "stdvar_over_time" => |s| Some(stdvar(s)),
        "last_over_time" => |s| s.last().map(|p| p.v),
        "present_over_time" => |_| Some(1.0),
        _ => return None,
    };
    Some(f)
}

/// One step of Kahan's compensated sum: adds `x` to `sum` with the
/// running compensation `c`, answers both.
pub(super) fn kahan_inc(x: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + x;
    // Neumaier's variant: the larger of the two terms loses the digits.
    let c = if sum.abs() >= x.abs() {
        c + ((sum - t) + x)
    } else {
        c + ((x - t) + sum)
    };
    (t, c)
}

fn sum(s: &[Sample]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for p in s {
        (sum, c) = kahan_inc(p.v, sum, c);
    }
    if sum.is_infinite() { sum } else { sum + c }
}

/// The mean, computed incrementally (no overflow for large values), and
/// kept as is once infinite unless an infinity of the other sign or a NaN
/// comes.
fn avg(s: &[Sample]) -> f64 {
    let (mut mean, mut c, mut count) = (0.0f64, 0.0, 0.0);
    for p in s {
        count += 1.0;
        if mean.is_infinite() {
            if p.v.is_infinite() && (mean > 0.0) == (p.v > 0.0) {
                continue;
            }
            if !p.v.is_infinite() && !p.v.is_nan() {
                continue;
            }
        }
        (mean, c) = kahan_inc(p.v / count - mean / count, mean, c);
    }
    if mean.is_infinite() { mean } else { mean + c }
}

/// The smallest value; NaNs only when every value is NaN.
fn min(s: &[Sample]) -> f64 {
    let mut m = s[0].v;
    for p in s {
        if p.v < m || m.is_nan() {
            m = p.v;
        }
    }
    m
}

/// The largest value; NaNs only when every value is NaN.
fn max(s: &[Sample]) -> f64 {
    let mut m = s[0].v;
    for p in s {
        if p.v > m || m.is_nan() {
            m = p.v;
        }
    }
    m
}

/// The population variance (Welford's algorithm with compensated sums).
fn stdvar(s: &[Sample]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in s {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// `quantile_over_time(q, ...)`: the `q`-quantile of the values,
/// interpolated between the two nearest ranks; -Inf below 0, +Inf above 1,
/// NaN for a NaN `q`.
pub(super) fn quantile_over_time(q: f64, s: &[Sample]) -> Option<f64> {
    let mut values: Vec<f64> = s.iter().map(|p| p.v).collect();
    Some(crate::aggregate::quantile(q, &mut values))
}

#[cfg(test)]
mod tests {
    use super::super::FnArg;
    use super::super::tests::{ctx, series, vec_of};

    fn over(name: &str, values: &[f64]) -> f64 {
        let pts: Vec<(i64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64 * 10, v))
            .collect();
        let m = vec![series(&[("__name__", "m"), ("j", "x")], &pts)];
        let out = vec_of(name, vec![FnArg::Matrix(m)], ctx(100, 100));
        assert_eq!(out.len(), 1);
        let want = if name == "last_over_time" {
            "m{j=\"x\"}"
        } else {
            "{j=\"x\"}"
        };
        assert_eq!(out[0].0, want, "{name}'s labels");
        out[0].1
    }

    fn q(qv: f64, values: &[f64]) -> f64 {
        let pts: Vec<(i64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64, v))
            .collect();
        let m = vec![series(&[("__name__", "m")], &pts)];
        let out = vec_of(
            "quantile_over_time",
            vec![FnArg::Scalar(qv), FnArg::Matrix(m)],
            ctx(10, 10),
        );
        out[0].1
    }

    #[test]
    fn aggregates() {
        let v = [1.0, 4.0, 2.0, 5.0];
        assert_eq!(over("avg_over_time", &v), 3.0);
        assert_eq!(over("min_over_time", &v), 1.0);
        assert_eq!(over("max_over_time", &v), 5.0);
        assert_eq!(over("sum_over_time", &v), 12.0);
        assert_eq!(over("count_over_time", &v), 4.0);
        assert_eq!(over("stdvar_over_time", &v), 2.5);
        assert_eq!(over("stddev_over_time", &v), 2.5f64.sqrt());
        assert_eq!(over("last_over_time", &v), 5.0);
        assert_eq!(over("present_over_time", &v), 1.0);
    }

    #[test]
    fn nan_and_inf() {
        assert_eq!(over("max_over_time", &[f64::NAN, 1.0, f64::NAN]), 1.0);
        assert_eq!(over("min_over_time", &[f64::NAN, 2.0, 1.0]), 1.0);
        assert!(over("max_over_time", &[f64::NAN, f64::NAN]).is_nan());
        assert!(over("sum_over_time", &[1.0, f64::NAN]).is_nan());
        assert_eq!(
            over("avg_over_time", &[1.0, f64::INFINITY, 3.0]),
            f64::INFINITY
        );
        assert!(over("avg_over_time", &[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(over("sum_over_time", &[f64::INFINITY, 1.0]), f64::INFINITY);
        assert_eq!(
            over("avg_over_time", &[f64::MAX, f64::MAX]),
            f64::MAX,
            "no overflow"
        );
    }

    #[test]
    fn compensated_sum_keeps_small_terms() {
        // 1e100 + 1 - 1e100 is 0 in plain f64 arithmetic.
        assert_eq!(over("sum_over_time", &[1e100, 1.0, -1e100]), 1.0);
        assert_eq!(over("stdvar_over_time", &[7.0, 7.0, 7.0]), 0.0);
    }

    #[test]
    fn quantiles() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(q(0.0, &v), 1.0);
        assert_eq!(q(1.0, &v), 4.0);
        assert_eq!(q(0.5, &v), 2.5);
        assert_eq!(q(0.25, &v), 1.75);
        assert_eq!(q(-0.1, &v), f64::NEG_INFINITY);
        assert_eq!(q(1.1, &v), f64::INFINITY);
        assert!(q(f64::NAN, &v).is_nan());
        assert_eq!(q(0.5, &[7.0]), 7.0);
        // NaN sorts first.
        assert!(q(0.0, &[1.0, f64::NAN]).is_nan());
        assert_eq!(q(1.0, &[1.0, f64::NAN]), 1.0);
    }
}
