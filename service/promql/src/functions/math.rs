//! Element-wise arithmetic on an instant vector: `abs`, `ceil`, `floor`,
//! `exp`, `ln`, `log2`, `log10`, `sqrt`, `sgn`, the trigonometric and
//! hyperbolic functions, `deg`, `rad`, `round`, `clamp`, `clamp_min`,
//! `clamp_max`.
//!
//! Every one of them drops `__name__` (the value is no longer the metric's)
//! and keeps every other label. It must never change the number or order
//! of samples, except `clamp` with `min > max`, which answers nothing as
//! Prometheus does.

use crate::value::InstantSample;

/// The function of `x` an element-wise function `name` computes, if it is
/// one.
pub(super) fn element_wise(name: &str) -> Option<fn(f64) -> f64> {
    let f: fn(f64) -> f64 = match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sqrt" => f64::sqrt,
        "sgn" => sgn,
        "acos" => f64::acos,
        "acosh" => f64::acosh,
        "asin" => f64::asin,
        "asinh" => f64::asinh,
        "atan" => f64::atan,
        "atanh" => f64::atanh,
        "cos" => f64::cos,
        "cosh" => f64::cosh,
        "sin" => f64::sin,
        "sinh" => f64::sinh,
        "tan" => f64::tan,
        "tanh" => f64::tanh,
        "deg" => |x| x * 180.0 / std::f64::consts::PI,
        "rad" => |x| x * std::f64::consts::PI / 180.0,
        _ => return None,
    };
    Some(f)
}

/// -1, 1, or the value itself for zero (either sign) and NaN.
fn sgn(x: f64) -> f64 {
    if x < 0.0 {
        -1.0
    } else if x > 0.0 {
        1.0
    } else {
        x
    }
}

/// Applies `f` to each sample's value, dropping `__name__`, at time `t`.
pub(super) fn map(v: Vec<InstantSample>, t: i64, f: impl Fn(f64) -> f64) -> Vec<InstantSample> {
    v.into_iter()
        .map(|s| InstantSample {
            labels: s.labels.without_name(),
            t,
            v: f(s.v),
        })
        .collect()
}

/// `round(v, to_nearest)`: halves round up (towards +Inf), as
/// `floor(x / to_nearest + 0.5) * to_nearest`, computed through the
/// inverse of `to_nearest` as Prometheus does (it is exact more often for
/// the usual `0.1`, `0.01`...).
pub(super) fn round(v: Vec<InstantSample>, t: i64, to_nearest: f64) -> Vec<InstantSample> {
    let inverse = 1.0 / to_nearest;
    map(v, t, |x| (x * inverse + 0.5).floor() / inverse)
}

/// `clamp(v, lo, hi)`: nothing when `hi < lo`; NaN stays NaN, and a NaN
/// bound makes every value NaN (Go's `math.Max`/`math.Min`).
pub(super) fn clamp(v: Vec<InstantSample>, t: i64, lo: f64, hi: f64) -> Vec<InstantSample> {
    if hi < lo {
        return Vec::new();
    }
    map(v, t, |x| go_max(lo, go_min(hi, x)))
}

/// `clamp_min(v, lo)`.
pub(super) fn clamp_min(v: Vec<InstantSample>, t: i64, lo: f64) -> Vec<InstantSample> {
    map(v, t, |x| go_max(lo, x))
}

/// `clamp_max(v, hi)`.
pub(super) fn clamp_max(v: Vec<InstantSample>, t: i64, hi: f64) -> Vec<InstantSample> {
    map(v, t, |x| go_min(hi, x))
}

/// Go's `math.Max`: +Inf wins over NaN, NaN wins over numbers, +0 over -0
/// (Rust's `f64::max` ignores a NaN instead).
pub(super) fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: -Inf wins over NaN, NaN wins over numbers, -0 over +0.
pub(super) fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::super::FnArg;
    use super::super::tests::{ctx, inst, vec_of};

    fn one(name: &str, x: f64) -> f64 {
        let v = vec![inst(&[("__name__", "m"), ("job", "a")], x)];
        let out = vec_of(name, vec![FnArg::Vector(v)], ctx(0, 0));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, "{job=\"a\"}", "{name} drops __name__");
        out[0].1
    }

    fn with(name: &str, x: f64, extra: &[f64]) -> Vec<f64> {
        let v = vec![inst(&[("__name__", "m")], x)];
        let mut args = vec![FnArg::Vector(v)];
        args.extend(extra.iter().map(|&e| FnArg::Scalar(e)));
        vec_of(name, args, ctx(0, 0))
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    #[test]
    fn simple_functions() {
        assert_eq!(one("abs", -2.5), 2.5);
        assert_eq!(one("ceil", 1.2), 2.0);
        assert_eq!(one("floor", -1.2), -2.0);
        assert_eq!(one("exp", 0.0), 1.0);
        assert_eq!(one("ln", 1.0), 0.0);
        assert_eq!(one("ln", 0.0), f64::NEG_INFINITY);
        assert!(one("ln", -1.0).is_nan());
        assert_eq!(one("log2", 8.0), 3.0);
        assert_eq!(one("log10", 1000.0), 3.0);
        assert_eq!(one("sqrt", 9.0), 3.0);
        assert!(one("sqrt", -1.0).is_nan());
        assert_eq!(one("deg", std::f64::consts::PI), 180.0);
        assert_eq!(one("rad", 180.0), std::f64::consts::PI);
        assert_eq!(one("cos", 0.0), 1.0);
        assert_eq!(one("tanh", 0.0), 0.0);
        assert!(one("acos", 2.0).is_nan());
        assert_eq!(one("atanh", 1.0), f64::INFINITY);
    }

    #[test]
    fn sgn_keeps_zero_and_nan() {
        assert_eq!(one("sgn", -3.0), -1.0);
        assert_eq!(one("sgn", 0.5), 1.0);
        assert_eq!(one("sgn", 0.0), 0.0);
        assert!(one("sgn", f64::NAN).is_nan());
        assert_eq!(one("sgn", f64::NEG_INFINITY), -1.0);
    }

    #[test]
    fn round_halves_up_and_to_nearest() {
        assert_eq!(with("round", 2.5, &[]), vec![3.0]);
        assert_eq!(with("round", -2.5, &[]), vec![-2.0]);
        assert_eq!(with("round", 1.234, &[0.1]), vec![1.2]);
        assert_eq!(with("round", 17.0, &[5.0]), vec![15.0]);
        assert_eq!(with("round", 17.5, &[5.0]), vec![20.0]);
        assert!(with("round", f64::NAN, &[]).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn clamp_bounds_and_nan() {
        assert_eq!(with("clamp", 5.0, &[0.0, 3.0]), vec![3.0]);
        assert_eq!(with("clamp", -5.0, &[0.0, 3.0]), vec![0.0]);
        assert_eq!(with("clamp", 2.0, &[0.0, 3.0]), vec![2.0]);
        assert!(
            with("clamp", 2.0, &[3.0, 0.0]).is_empty(),
            "min > max answers nothing"
        );
        assert!(with("clamp", f64::NAN, &[0.0, 3.0])[0].is_nan());
        assert!(with("clamp", 2.0, &[f64::NAN, 3.0])[0].is_nan());
        assert_eq!(with("clamp_min", -1.0, &[0.0]), vec![0.0]);
        assert_eq!(with("clamp_min", 4.0, &[0.0]), vec![4.0]);
        assert_eq!(with("clamp_max", 4.0, &[1.0]), vec![1.0]);
        assert!(with("clamp_max", f64::NAN, &[1.0])[0].is_nan());
    }

    #[test]
    fn go_max_min_rules() {
        use super::{go_max, go_min};
        assert_eq!(go_max(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert!(go_max(f64::NAN, 1.0).is_nan());
        assert!(go_max(0.0, -0.0).is_sign_positive());
        assert_eq!(go_min(f64::NAN, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(go_min(0.0, -0.0).is_sign_negative());
    }
}
