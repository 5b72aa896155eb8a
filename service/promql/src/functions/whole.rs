//! The whole-range forms of the functions: resolved once per call, then
//! applied by the evaluator to each series' window at each step without
//! building [`super::FnArg`]s.
//!
//! ## What it owns
//! [`RangeFn`] (the range-vector functions whose answer for a series is
//! one value from its window's samples and scalar parameters) and
//! [`element_wise`] (the functions that map each sample's value alone).
//! Each computes with the very functions [`super::call`] uses, so the two
//! paths cannot differ; the golden corpus runs both (a call with other
//! argument shapes goes through [`super::call`]).
//!
//! ## What it must never do
//! Decide labels beyond "keep or drop `__name__`" ([`RangeFn::keeps_name`]),
//! or see a window without samples (the evaluator skips those, as it does
//! for [`super::call`]).

use super::{CallCtx, math, range, rate};
use crate::error::Result;
use crate::value::Sample;

#[derive(Debug, Clone, Copy)]
enum Kind {
    OverTime(fn(&[Sample]) -> Option<f64>),
    Quantile,
    Extrapolated { counter: bool, per_second: bool },
    Instant { per_second: bool },
    Deriv,
    PredictLinear,
    Resets,
    Changes,
    HoltWinters,
}

/// A range-vector function of one series' window.
#[derive(Debug, Clone, Copy)]
pub struct RangeFn {
    kind: Kind,
    keep_name: bool,
}

impl RangeFn {
    /// The whole-range form of function `name`, if it has one. Its scalar
    /// parameters are the call's other arguments, in order.
    pub fn of(name: &str) -> Option<RangeFn> {
        if let Some(f) = range::over_time(name) {
            return Some(RangeFn {
                kind: Kind::OverTime(f),
                keep_name: name == "last_over_time",
            });
        }
        let kind = match name {
            "quantile_over_time" => Kind::Quantile,
            "rate" => Kind::Extrapolated {
                counter: true,
                per_second: true,
            },
            "increase" => Kind::Extrapolated {
                counter: true,
                per_second: false,
            },
            "delta" => Kind::Extrapolated {
                counter: false,
                per_second: false,
            },
            "irate" => Kind::Instant { per_second: true },
            "idelta" => Kind::Instant { per_second: false },
            "deriv" => Kind::Deriv,
            "predict_linear" => Kind::PredictLinear,
            "resets" => Kind::Resets,
            "changes" => Kind::Changes,
            "holt_winters" | "double_exponential_smoothing" => Kind::HoltWinters,
            _ => return None,
        };
        Some(RangeFn {
            kind,
            keep_name: false,
        })
    }

    /// How many scalar parameters the function takes besides its range
    /// vector.
    pub fn params(&self) -> usize {
        match self.kind {
            Kind::Quantile | Kind::PredictLinear => 1,
            Kind::HoltWinters => 2,
            _ => 0,
        }
    }

    /// True when the answer keeps the series' `__name__`
    /// (`last_over_time`); every other one drops it.
    pub fn keeps_name(&self) -> bool {
        self.keep_name
    }

    /// True when [`RangeFn::apply_columns`] answers this function (`rate`,
    /// `increase`, `delta`).
    pub fn has_columns(&self) -> bool {
        matches!(self.kind, Kind::Extrapolated { .. })
    }

    /// [`RangeFn::apply`] over a window held as columns (times `ts`, values
    /// `vs`), with no copy into samples, for the functions
    /// [`RangeFn::has_columns`] accepts (no parameters); `None` for the
    /// others.
    pub fn apply_columns(&self, ts: &[i64], vs: &[f64], ctx: CallCtx) -> Option<Option<f64>> {
        match self.kind {
            Kind::Extrapolated {
                counter,
                per_second,
            } => Some(rate::extrapolated_columns(ts, vs, ctx, counter, per_second)),
            _ => None,
        }
    }

    /// The function's value for one series' window `s` (not empty, oldest
    /// first, no staleness markers) with scalar parameters `p` (as many as
    /// [`RangeFn::params`]) at the step `ctx` describes; `None` when the
    /// window has too few samples (e.g. one for `rate`).
    pub fn apply(&self, s: &[Sample], p: &[f64], ctx: CallCtx) -> Result<Option<f64>> {
        Ok(match self.kind {
            Kind::OverTime(f) => f(s),
            Kind::Quantile => range::quantile_over_time(p[0], s),
            Kind::Extrapolated {
                counter,
                per_second,
            } => rate::extrapolated(s, ctx, counter, per_second),
            Kind::Instant { per_second } => rate::instant(s, per_second),
            Kind::Deriv => rate::deriv(s),
            Kind::PredictLinear => rate::predict_linear(s, ctx.t, p[0]),
            Kind::Resets => rate::resets(s),
            Kind::Changes => rate::changes(s),
            Kind::HoltWinters => rate::holt_winters(s, p[0], p[1])?,
        })
    }
}

/// The function of a value an element-wise function `name` (one instant
/// vector argument, `__name__` dropped) computes, if it is one.
pub fn element_wise(name: &str) -> Option<fn(f64) -> f64> {
    math::element_wise(name)
}

#[cfg(test)]
mod tests {
    use super::super::{FnArg, FnValue, call, tests::series};
    use super::*;

    /// The whole-range form answers what `call` answers, for every
    /// function that has one, over windows with a reset, a NaN and one
    /// sample.
    #[test]
    fn same_answers_as_call() {
        let windows: &[&[(i64, f64)]] = &[
            &[(10_000, 5.0), (20_000, 1.0), (30_000, 4.0), (40_000, 9.0)],
            &[(10_000, 2.0), (20_000, f64::NAN), (30_000, 3.0)],
            &[(25_000, 7.0)],
        ];
        let ctx = CallCtx {
            t: 45_000,
            range_ms: 40_000,
            offset_ms: 0,
        };
        let names = [
            "avg_over_time",
            "sum_over_time",
            "min_over_time",
            "max_over_time",
            "count_over_time",
            "stddev_over_time",
            "stdvar_over_time",
            "last_over_time",
            "present_over_time",
            "quantile_over_time",
            "rate",
            "increase",
            "delta",
            "irate",
            "idelta",
            "deriv",
            "predict_linear",
            "resets",
            "changes",
            "holt_winters",
        ];
        for name in names {
            let f = RangeFn::of(name).expect(name);
            let p: Vec<f64> = [0.3, 0.6][..f.params()].to_vec();
            for w in windows {
                let s = series(&[("__name__", "m"), ("a", "1")], w);
                let mut args = vec![FnArg::Matrix(vec![s.clone()])];
                let scalars = p.iter().map(|&x| FnArg::Scalar(x));
                if name == "quantile_over_time" {
                    args = scalars.chain(args).collect();
                } else {
                    args.extend(scalars);
                }
                let want = match call(name, args, ctx).expect(name) {
                    FnValue::Vector(v) => v.first().map(|x| (x.labels.clone(), x.v)),
                    FnValue::Scalar(_) => panic!("{name} answered a scalar"),
                };
                let got = f.apply(&s.samples, &p, ctx).expect(name);
                match (want, got) {
                    (None, None) => {}
                    (Some((labels, a)), Some(b)) => {
                        assert!(a.to_bits() == b.to_bits(), "{name} {w:?}: {a} vs {b}");
                        let shown = if f.keeps_name() {
                            s.labels.clone()
                        } else {
                            s.labels.without_name()
                        };
                        assert_eq!(labels, shown, "{name}");
                    }
                    (a, b) => panic!("{name} {w:?}: call {a:?}, whole-range {b:?}"),
                }
            }
        }
        assert!(RangeFn::of("abs").is_none());
        assert!(element_wise("abs").is_some());
        assert!(element_wise("rate").is_none());
    }
}
