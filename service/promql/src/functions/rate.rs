//! Functions of a series' change over the window: `rate`, `increase`,
//! `delta` (extrapolated to the window's edges), `irate`, `idelta` (the
//! last two samples), `deriv`, `predict_linear` (least squares),
//! `resets`, `changes`, and `holt_winters`.
//!
//! All drop `__name__` (the dispatcher does the labels) and answer nothing
//! for a series with fewer samples than they need. They must never assume
//! evenly spaced samples: the extrapolation below is Prometheus 2.42's,
//! step for step, because dashboards compare the two to the digit.

use super::CallCtx;
use super::range::kahan_inc;
use crate::error::{PromError, Result};
use crate::value::Sample;

/// How far past the average interval between samples the first (last)
/// sample may sit from the window's start (end) and still be extrapolated
/// to it: 10% of slack for scrape jitter. Farther, the series is taken to
/// start (end) inside the window, half an interval beyond its sample.
const EXTRAPOLATION_SLACK: f64 = 1.1;

/// `rate` (`counter`, `per_second`), `increase` (`counter`) and `delta`:
/// the change over the window, corrected for counter resets (a drop means
/// the counter restarted from zero), extrapolated to the window's edges,
/// and never extrapolated below zero for a counter.
pub(super) fn extrapolated(
    s: &[Sample],
    ctx: CallCtx,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    extrapolated_by(s.len(), |i| s[i].t, |i| s[i].v, ctx, counter, per_second)
}

/// [`extrapolated`] over a window held as columns (times `ts`, values
/// `vs`, as long as each other), with no copy into samples.
pub fn extrapolated_columns(
    ts: &[i64],
    vs: &[f64],
    ctx: CallCtx,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    extrapolated_by(ts.len(), |i| ts[i], |i| vs[i], ctx, counter, per_second)
}

/// [`extrapolated`] of the `n` samples whose times and values `t` and `v`
/// give by index, oldest first.
#[inline(always)]
fn extrapolated_by(
    n: usize,
    t: impl Fn(usize) -> i64,
    v: impl Fn(usize) -> f64,
    ctx: CallCtx,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let range_end = ctx.t - ctx.offset_ms;
    let range_start = range_end - ctx.range_ms;
    let (first_t, first_v) = (t(0), v(0));
    let (last_t, last_v) = (t(n - 1), v(n - 1));
    let mut result = last_v - first_v;
    if counter {
        let mut prev = first_v;
        for i in 1..n {
            let cur = v(i);
            if cur < prev {
                result += prev;
            }
            prev = cur;
        }
    }
    let mut to_start = (first_t - range_start) as f64 / 1000.0;
    let to_end = (range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg_interval = sampled / (n - 1) as f64;
    if counter && result > 0.0 && first_v >= 0.0 {
        // Where a straight line through the samples meets zero: a counter
        // does not go below it.
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg_interval * EXTRAPOLATION_SLACK;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        avg_interval / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        avg_interval / 2.0
    };
    let mut factor = interval / sampled;
    if per_second {
        factor /= ctx.range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` (`per_second`) and `idelta`: from the last two samples only; for
/// `irate` a drop is a counter reset (the last value is the increase).
pub(super) fn instant(s: &[Sample], per_second: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (prev, last) = (s[s.len() - 2], s[s.len() - 1]);
    let mut v = if per_second && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    if per_second {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

/// The least-squares line through the samples, with time in seconds
/// measured from `origin_ms`: `(slope, intercept)`. A constant series is
/// exactly flat (no rounding noise), and NaN when its constant is infinite.
fn linear_regression(s: &[Sample], origin_ms: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = s[0].v;
    let mut const_y = true;
    for (i, p) in s.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - origin_ms) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(p.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov_xy = sxy - sx * sy / n;
    let var_x = sx2 - sx * sx / n;
    let slope = cov_xy / var_x;
    (slope, sy / n - slope * sx / n)
}

/// `deriv`: the slope per second of the least-squares line.
pub(super) fn deriv(s: &[Sample]) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    // Measured from the first sample, which keeps x small.
    Some(linear_regression(s, s[0].t).0)
}

/// `predict_linear(v, secs)`: the least-squares line's value `secs` after
/// the step's time `t_ms`.
pub(super) fn predict_linear(s: &[Sample], t_ms: i64, secs: f64) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(s, t_ms);
    Some(slope * secs + intercept)
}

/// `resets`: how many times the value dropped.
pub(super) fn resets(s: &[Sample]) -> Option<f64> {
    Some(s.windows(2).filter(|w| w[1].v < w[0].v).count() as f64)
}

/// `changes`: how many times the value changed (NaN to NaN is no change).
pub(super) fn changes(s: &[Sample]) -> Option<f64> {
    let n = s
        .windows(2)
        .filter(|w| w[1].v != w[0].v && !(w[1].v.is_nan() && w[0].v.is_nan()))
        .count();
    Some(n as f64)
}

/// Go's `%f`: six decimals, and `+Inf`/`-Inf` for infinities.
fn go_fixed(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v:.6}")
    }
}

/// `holt_winters(v, sf, tf)`: double exponential smoothing with smoothing
/// factor `sf` and trend factor `tf`, both strictly between 0 and 1 (else
/// an error, worded as Prometheus words it); nothing under two samples.
pub(super) fn holt_winters(s: &[Sample], sf: f64, tf: f64) -> Result<Option<f64>> {
    if sf <= 0.0 || sf >= 1.0 {
        return Err(PromError::Execution(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
            go_fixed(sf)
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(PromError::Execution(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {}",
            go_fixed(tf)
        )));
    }
    if s.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1) = (0.0, s[0].v);
    let mut b = s[1].v - s[0].v;
    for (i, p) in s.iter().enumerate().skip(1) {
        let x = sf * p.v;
        // The trend: the first one is the first difference.
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Ok(Some(s1))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, err_of, series, vec_of};
    use super::super::{CallCtx, FnArg, FnValue, call};

    fn run(name: &str, pts: &[(i64, f64)], c: CallCtx) -> Option<f64> {
        let m = vec![series(&[("__name__", "m"), ("i", "0")], pts)];
        let out = vec_of(name, vec![FnArg::Matrix(m)], c);
        assert!(out.len() <= 1);
        out.first().map(|(l, v)| {
            assert_eq!(l, "{i=\"0\"}", "{name} drops __name__");
            *v
        })
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn rate_extrapolates_to_both_edges() {
        // Samples every 15s from 15s to 285s, +1 each: window [0, 300].
        let pts: Vec<(i64, f64)> = (1..=19).map(|i| (i * 15, 100.0 + i as f64)).collect();
        // Change 18 over 270s, extended by 15s each side: 18 * 300/270.
        let inc = run("increase", &pts, ctx(300, 300)).unwrap();
        assert!(close(inc, 20.0), "{inc}");
        let r = run("rate", &pts, ctx(300, 300)).unwrap();
        assert!(close(r, 20.0 / 300.0), "{r}");
        let d = run("delta", &pts, ctx(300, 300)).unwrap();
        assert!(close(d, 20.0), "{d}");
    }

    #[test]
    fn rate_extends_half_an_interval_past_a_far_edge() {
        // Samples at 100..200 every 10s in [0, 300]: 100s from each edge.
        let pts: Vec<(i64, f64)> = (10..=20).map(|i| (i * 10, i as f64 * 10.0)).collect();
        // 100 over 100s, extended by 5s each side: 110.
        let inc = run("increase", &pts, ctx(300, 300)).unwrap();
        assert!(close(inc, 110.0), "{inc}");
    }

    #[test]
    fn rate_never_extrapolates_a_counter_below_zero() {
        // 2 at 10s, 12 at 20s, 22 at 30s in [0, 30]: the line meets 0 at 8s,
        // 2s before the first sample (the edge is 10s away).
        let inc = run(
            "increase",
            &[(10, 2.0), (20, 12.0), (30, 22.0)],
            ctx(30, 30),
        )
        .unwrap();
        assert!(close(inc, 22.0), "{inc}");
        // delta is no counter: it extrapolates all the way (20 * 30/20).
        let d = run("delta", &[(10, 2.0), (20, 12.0), (30, 22.0)], ctx(30, 30)).unwrap();
        assert!(close(d, 30.0), "{d}");
    }

    #[test]
    fn rate_counts_counter_resets() {
        // 0 10 20 | 5 15: resets once, increase 20 + 15 = 35 over 40s.
        let pts = [(0, 0.0), (10, 10.0), (20, 20.0), (30, 5.0), (40, 15.0)];
        let inc = run("increase", &pts, ctx(40, 40)).unwrap();
        assert!(close(inc, 35.0), "{inc}");
        assert_eq!(run("resets", &pts, ctx(40, 40)), Some(1.0));
        // delta sees the plain difference.
        assert_eq!(run("delta", &pts, ctx(40, 40)), Some(15.0));
    }

    #[test]
    fn rate_uses_the_offset_window() {
        // Window [0, 30]: 10s to each edge, within 1.1 intervals: 10 * 3.
        let m = vec![series(&[("__name__", "m")], &[(10, 10.0), (20, 20.0)])];
        let c = CallCtx {
            t: 40_000,
            range_ms: 30_000,
            offset_ms: 10_000,
        };
        let out = call("increase", vec![FnArg::Matrix(m.clone())], c);
        assert!(matches!(out, Ok(FnValue::Vector(v)) if v[0].v == 30.0 && v[0].t == 40_000));
        // Without the offset the window is [10, 40]: 20s past the last
        // sample is too far, the series is taken to end 5s after it.
        let c = CallCtx { offset_ms: 0, ..c };
        let out = call("increase", vec![FnArg::Matrix(m)], c);
        assert!(matches!(out, Ok(FnValue::Vector(v)) if v[0].v == 15.0));
    }

    #[test]
    fn one_sample_is_not_enough() {
        for f in ["rate", "increase", "delta", "irate", "idelta", "deriv"] {
            assert_eq!(run(f, &[(10, 1.0)], ctx(20, 20)), None, "{f}");
        }
        assert_eq!(run("changes", &[(10, 1.0)], ctx(20, 20)), Some(0.0));
        assert_eq!(run("resets", &[(10, 1.0)], ctx(20, 20)), Some(0.0));
    }

    #[test]
    fn irate_and_idelta() {
        let pts = [(0, 1.0), (10, 5.0), (15, 8.0)];
        assert_eq!(run("irate", &pts, ctx(15, 60)), Some(0.6));
        assert_eq!(run("idelta", &pts, ctx(15, 60)), Some(3.0));
        let reset = [(0, 1.0), (10, 5.0), (15, 2.0)];
        assert_eq!(run("irate", &reset, ctx(15, 60)), Some(0.4));
        assert_eq!(run("idelta", &reset, ctx(15, 60)), Some(-3.0));
    }

    #[test]
    fn deriv_and_predict_linear() {
        let pts = [(0, 1.0), (10, 3.0), (20, 5.0)];
        assert!(close(run("deriv", &pts, ctx(20, 60)).unwrap(), 0.2));
        let m = vec![series(&[("__name__", "m")], &pts)];
        let out = vec_of(
            "predict_linear",
            vec![FnArg::Matrix(m), FnArg::Scalar(100.0)],
            ctx(20, 60),
        );
        assert!(close(out[0].1, 25.0), "{out:?}");
        assert_eq!(run("deriv", &[(0, 4.0), (10, 4.0)], ctx(20, 60)), Some(0.0));
        assert!(
            run(
                "deriv",
                &[(0, f64::INFINITY), (10, f64::INFINITY)],
                ctx(20, 60)
            )
            .unwrap()
            .is_nan()
        );
    }

    #[test]
    fn changes_ignores_nan_to_nan() {
        let pts = [
            (0, 1.0),
            (1, 1.0),
            (2, 2.0),
            (3, f64::NAN),
            (4, f64::NAN),
            (5, 2.0),
        ];
        assert_eq!(run("changes", &pts, ctx(5, 10)), Some(3.0));
    }

    #[test]
    fn holt_winters_smooths() {
        // A straight line is its own smoothing.
        let line = [(0, 0.0), (10, 10.0), (20, 20.0), (30, 30.0)];
        let m = vec![series(&[("__name__", "m")], &line)];
        let out = vec_of(
            "holt_winters",
            vec![FnArg::Matrix(m), FnArg::Scalar(0.5), FnArg::Scalar(0.5)],
            ctx(30, 60),
        );
        assert!(close(out[0].1, 30.0), "{out:?}");
        // 0, 10, 0 with sf = tf = 0.5: s = 5 + 0.5*(0+10) = 10 after the
        // second, then b = 0.5*10 + 0.5*10 = 10, s = 0 + 0.5*(10+10) = 10.
        let bump = [(0, 0.0), (10, 10.0), (20, 0.0)];
        let m = vec![series(&[("__name__", "m")], &bump)];
        let out = vec_of(
            "holt_winters",
            vec![FnArg::Matrix(m), FnArg::Scalar(0.5), FnArg::Scalar(0.5)],
            ctx(30, 60),
        );
        assert!(close(out[0].1, 10.0), "{out:?}");
    }

    #[test]
    fn holt_winters_checks_its_factors() {
        let m = vec![series(&[("__name__", "m")], &[(0, 1.0)])];
        let e = err_of(
            "holt_winters",
            vec![
                FnArg::Matrix(m.clone()),
                FnArg::Scalar(1.0),
                FnArg::Scalar(0.5),
            ],
            ctx(0, 60),
        );
        assert_eq!(
            e,
            "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000"
        );
        let e = err_of(
            "holt_winters",
            vec![FnArg::Matrix(m), FnArg::Scalar(0.5), FnArg::Scalar(0.0)],
            ctx(0, 60),
        );
        assert_eq!(
            e,
            "invalid trend factor. Expected: 0 < tf < 1, got: 0.000000"
        );
        assert_eq!(super::go_fixed(f64::INFINITY), "+Inf");
        assert_eq!(super::go_fixed(-0.25), "-0.250000");
    }
}
