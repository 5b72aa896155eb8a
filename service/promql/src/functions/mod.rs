//! PromQL's functions, called by the evaluator once per evaluation step
//! ([`call`]) or, for the common shapes, once per series over all steps
//! ([`whole`], computing with the same code).
//!
//! The evaluator evaluates a call's arguments at one step and hands them
//! here as [`FnArg`]s; this module owns what each function computes from
//! them (`rate`'s extrapolation, `histogram_quantile`'s interpolation,
//! `label_replace`'s regex, ...), with Prometheus 2.42's semantics.
//!
//! ## The contract with the evaluator
//! - A range-vector argument ([`FnArg::Matrix`]) holds, per series, the
//!   samples in the window `[t - offset - range, t - offset]` of the
//!   step's time `t` (both ends included, as in Prometheus 2.x), oldest
//!   first, with staleness
//!   markers already removed; [`CallCtx::range_ms`] is the window's length
//!   and [`CallCtx::offset_ms`] the selector's `offset` (with `@ t0`, the
//!   evaluator passes `t = t0`, as Prometheus does).
//! - An instant-vector argument ([`FnArg::Vector`]) holds the step's
//!   samples; each sample's `t` is the time of the sample the selector
//!   found (for `timestamp()`) when the argument is a plain selector, and
//!   the step's time otherwise.
//! - Functions that the evaluator handles itself because they need the
//!   syntax tree rather than values: `absent`, `absent_over_time` (the
//!   labels of the argument's equality matchers). Everything else is here.
//! - What a function answers follows Prometheus 2.42: most drop
//!   `__name__` (`rate`, `abs`, `clamp`, ...), a few keep it (`sort`,
//!   `label_replace`, `last_over_time`, ...). Each function's doc says
//!   which.
//! - A range-vector function answers nothing for a series without samples
//!   in the window (the evaluator may skip calling it for such a series),
//!   and the instant vector it answers has one sample per series it had
//!   enough samples for; `rate` and its kin need two.
//! - Errors are [`PromError::Execution`] with Prometheus' wording
//!   (`invalid regular expression in label_replace(): ...`).
//! - Duplicate label sets in an answer (two series that only differed by
//!   `__name__`, once dropped) are the evaluator's to refuse, as Prometheus
//!   does after the call ("vector cannot contain metrics with the same
//!   labelset").
//!
//! ## Files
//! `math.rs` (element-wise arithmetic: `abs`, `round`, `clamp`, trig...),
//! `time.rs` (`time`, `timestamp`, the calendar functions), `range.rs` (the
//! `*_over_time` family), `rate.rs` (`rate`, `increase`, `delta`, `irate`,
//! `idelta`, `deriv`, `predict_linear`, `resets`, `changes`,
//! `holt_winters`), `histogram.rs` (`histogram_quantile`), `labels.rs`
//! (`label_replace`, `label_join`), `sort.rs` (`sort`, `sort_desc`),
//! `types.rs` (`scalar`, `vector`), [`whole`] (the same functions resolved
//! once per call for the evaluator's whole-range path: per series over all
//! steps, no [`FnArg`] per step); [`goregex`] reads regexes as Go (and so
//! Prometheus) does, for `label_replace` and for the evaluator's `=~`.
//!
//! ## Tests
//! Each file unit-tests its functions through [`call`]; the golden corpus
//! `testdata/functions*.test` runs them through the evaluator, with
//! expectations answered by Prometheus 2.42 (`promtool test rules`) except
//! where a file says it worked them out by hand.

pub mod goregex;
mod histogram;
mod labels;
mod math;
mod range;
mod rate;
mod sort;
mod time;
mod types;
pub mod whole;

use crate::error::{PromError, Result};
use crate::value::{InstantSample, Labels, Series};

/// One evaluated argument of a call.
#[derive(Debug, Clone)]
pub enum FnArg {
    /// A scalar (a number literal or a scalar expression).
    Scalar(f64),
    /// A string literal.
    String(String),
    /// An instant vector at this step.
    Vector(Vec<InstantSample>),
    /// A range vector: each series' samples in this step's window.
    Matrix(Vec<Series>),
}

/// What the evaluator knows of the step a call is evaluated at.
#[derive(Debug, Clone, Copy)]
pub struct CallCtx {
    /// The step's time (ms since the epoch).
    pub t: i64,
    /// The window of a range-vector argument (ms), 0 without one.
    pub range_ms: i64,
    /// The range-vector argument's `offset` (ms, 0 without one): its window
    /// is `[t - offset_ms - range_ms, t - offset_ms]`. `rate` and its kin
    /// extrapolate to the window's edges, so they need to know where they
    /// are.
    pub offset_ms: i64,
}

/// What a call answers at one step.
#[derive(Debug, Clone, PartialEq)]
pub enum FnValue {
    /// A scalar (`scalar()`, `time()`, `pi()`...).
    Scalar(f64),
    /// An instant vector; each sample's `t` is the step's time.
    Vector(Vec<InstantSample>),
}

/// Every function of Prometheus 2.42, by the name a query uses.
///
/// `promql-parser` knows a later Prometheus' set: it lacks `holt_winters`
/// (renamed `double_exponential_smoothing` in Prometheus 3) and accepts
/// functions 2.42 did not have (`sort_by_label`, `mad_over_time`...). The
/// query path can check a call against this list to answer 2.42's `unknown
/// function with name "..."` for the latter; [`call`] answers
/// `double_exponential_smoothing` as `holt_winters`.
pub const PROMETHEUS_2_42_FUNCTIONS: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "deg",
    "delta",
    "deriv",
    "exp",
    "floor",
    "histogram_count",
    "histogram_fraction",
    "histogram_quantile",
    "histogram_sum",
    "holt_winters",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "last_over_time",
    "ln",
    "log10",
    "log2",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_desc",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "vector",
    "year",
];

/// True when `name` is a function of Prometheus 2.42.
pub fn is_prometheus_2_42_function(name: &str) -> bool {
    PROMETHEUS_2_42_FUNCTIONS.contains(&name)
}

/// Calls function `name` (already type-checked by the parser) with its
/// evaluated arguments.
///
/// An argument of the wrong type, or a name this module does not know,
/// is an evaluator bug, answered as an [`PromError::Execution`] naming it
/// rather than a panic.
pub fn call(name: &str, args: Vec<FnArg>, ctx: CallCtx) -> Result<FnValue> {
    let mut a = Args::new(name, args);
    if let Some(f) = math::element_wise(name) {
        return Ok(FnValue::Vector(math::map(a.vector(0)?, ctx.t, f)));
    }
    if let Some(f) = time::calendar(name) {
        return time::call_calendar(&mut a, ctx, f).map(FnValue::Vector);
    }
    if let Some(f) = range::over_time(name) {
        let keep_name = name == "last_over_time";
        return Ok(FnValue::Vector(per_series(a.matrix(0)?, ctx, keep_name, f)));
    }
    match name {
        "pi" => Ok(FnValue::Scalar(std::f64::consts::PI)),
        "round" => {
            let to_nearest = if a.len() > 1 { a.scalar(1)? } else { 1.0 };
            Ok(FnValue::Vector(math::round(
                a.vector(0)?,
                ctx.t,
                to_nearest,
            )))
        }
        "clamp" => {
            let (lo, hi) = (a.scalar(1)?, a.scalar(2)?);
            Ok(FnValue::Vector(math::clamp(a.vector(0)?, ctx.t, lo, hi)))
        }
        "clamp_min" => {
            let lo = a.scalar(1)?;
            Ok(FnValue::Vector(math::clamp_min(a.vector(0)?, ctx.t, lo)))
        }
        "clamp_max" => {
            let hi = a.scalar(1)?;
            Ok(FnValue::Vector(math::clamp_max(a.vector(0)?, ctx.t, hi)))
        }
        "time" => Ok(FnValue::Scalar(ctx.t as f64 / 1000.0)),
        "timestamp" => Ok(FnValue::Vector(time::timestamp(a.vector(0)?, ctx.t))),
        "quantile_over_time" => {
            let q = a.scalar(0)?;
            let m = a.matrix(1)?;
            Ok(FnValue::Vector(per_series(m, ctx, false, |s| {
                range::quantile_over_time(q, s)
            })))
        }
        "rate" | "increase" | "delta" => {
            let (counter, per_second) = match name {
                "rate" => (true, true),
                "increase" => (true, false),
                _ => (false, false),
            };
            let m = a.matrix(0)?;
            Ok(FnValue::Vector(per_series(m, ctx, false, |s| {
                rate::extrapolated(s, ctx, counter, per_second)
            })))
        }
        "irate" | "idelta" => {
            let per_second = name == "irate";
            let m = a.matrix(0)?;
            Ok(FnValue::Vector(per_series(m, ctx, false, |s| {
                rate::instant(s, per_second)
            })))
        }
        "deriv" => Ok(FnValue::Vector(per_series(
            a.matrix(0)?,
            ctx,
            false,
            rate::deriv,
        ))),
        "predict_linear" => {
            let secs = a.scalar(1)?;
            let m = a.matrix(0)?;
            Ok(FnValue::Vector(per_series(m, ctx, false, |s| {
                rate::predict_linear(s, ctx.t, secs)
            })))
        }
        "resets" => Ok(FnValue::Vector(per_series(
            a.matrix(0)?,
            ctx,
            false,
            rate::resets,
        ))),
        "changes" => Ok(FnValue::Vector(per_series(
            a.matrix(0)?,
            ctx,
            false,
            rate::changes,
        ))),
        // Prometheus 3 renamed holt_winters; both names compute the same.
        "holt_winters" | "double_exponential_smoothing" => {
            let (sf, tf) = (a.scalar(1)?, a.scalar(2)?);
            let m = a.matrix(0)?;
            let mut out = Vec::with_capacity(m.len());
            for s in m {
                if s.samples.is_empty() {
                    continue;
                }
                if let Some(v) = rate::holt_winters(&s.samples, sf, tf)? {
                    out.push(sample(s.labels.without_name(), ctx.t, v));
                }
            }
            Ok(FnValue::Vector(out))
        }
        "histogram_quantile" => {
            let q = a.scalar(0)?;
            Ok(FnValue::Vector(histogram::quantile(q, a.vector(1)?, ctx.t)))
        }
        // Native histograms only: Whippet's float series have none, and
        // Prometheus skips float samples in these.
        "histogram_count" | "histogram_sum" | "histogram_fraction" => {
            Ok(FnValue::Vector(Vec::new()))
        }
        "label_replace" => {
            let v = a.vector(0)?;
            let (dst, repl, src, re) = (a.string(1)?, a.string(2)?, a.string(3)?, a.string(4)?);
            labels::replace(v, &dst, &repl, &src, &re).map(FnValue::Vector)
        }
        "label_join" => {
            let v = a.vector(0)?;
            let (dst, sep) = (a.string(1)?, a.string(2)?);
            let mut srcs = Vec::new();
            for i in 3..a.len() {
                srcs.push(a.string(i)?);
            }
            labels::join(v, &dst, &sep, &srcs).map(FnValue::Vector)
        }
        "sort" => Ok(FnValue::Vector(sort::ascending(a.vector(0)?))),
        "sort_desc" => Ok(FnValue::Vector(sort::descending(a.vector(0)?))),
        "scalar" => Ok(FnValue::Scalar(types::scalar(&a.vector(0)?))),
        "vector" => Ok(FnValue::Vector(types::vector(a.scalar(0)?, ctx.t))),
        _ => Err(PromError::Execution(format!(
            "function {name}() is not supported"
        ))),
    }
}

/// An answer's sample at the step's time.
fn sample(labels: Labels, t: i64, v: f64) -> InstantSample {
    InstantSample { labels, t, v }
}

/// Applies a range-vector function to each series with samples: one answer
/// per series for which `f` has one, at the step's time, `__name__`
/// dropped unless `keep_name`.
fn per_series<F>(m: Vec<Series>, ctx: CallCtx, keep_name: bool, mut f: F) -> Vec<InstantSample>
where
    F: FnMut(&[crate::value::Sample]) -> Option<f64>,
{
    let mut out = Vec::with_capacity(m.len());
    for s in m {
        if s.samples.is_empty() {
            continue;
        }
        if let Some(v) = f(&s.samples) {
            let labels = if keep_name {
                s.labels
            } else {
                s.labels.without_name()
            };
            out.push(sample(labels, ctx.t, v));
        }
    }
    out
}

/// A call's arguments, taken out by position and type.
struct Args {
    name: String,
    args: Vec<Option<FnArg>>,
}

impl Args {
    fn new(name: &str, args: Vec<FnArg>) -> Args {
        Args {
            name: name.to_owned(),
            args: args.into_iter().map(Some).collect(),
        }
    }

    fn len(&self) -> usize {
        self.args.len()
    }

    /// The evaluator handed something the parser's signature forbids.
    fn bug(&self, i: usize, want: &str) -> PromError {
        PromError::Execution(format!(
            "function {}(): argument {} is not {want}",
            self.name,
            i + 1
        ))
    }

    fn take(&mut self, i: usize) -> Option<FnArg> {
        self.args.get_mut(i).and_then(Option::take)
    }

    fn scalar(&mut self, i: usize) -> Result<f64> {
        match self.args.get(i) {
            Some(Some(FnArg::Scalar(v))) => Ok(*v),
            _ => Err(self.bug(i, "a scalar")),
        }
    }

    fn string(&mut self, i: usize) -> Result<String> {
        match self.take(i) {
            Some(FnArg::String(s)) => Ok(s),
            _ => Err(self.bug(i, "a string")),
        }
    }

    fn vector(&mut self, i: usize) -> Result<Vec<InstantSample>> {
        match self.take(i) {
            Some(FnArg::Vector(v)) => Ok(v),
            _ => Err(self.bug(i, "an instant vector")),
        }
    }

    fn matrix(&mut self, i: usize) -> Result<Vec<Series>> {
        match self.take(i) {
            Some(FnArg::Matrix(m)) => Ok(m),
            _ => Err(self.bug(i, "a range vector")),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::value::Sample;

    /// A series from a metric name, label pairs and `(seconds, value)`
    /// samples.
    pub(crate) fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Series {
        Series {
            labels: Labels::new(labels.iter().copied()),
            samples: samples
                .iter()
                .map(|&(s, v)| Sample { t: s * 1000, v })
                .collect(),
        }
    }

    /// An instant sample at time 0.
    pub(crate) fn inst(labels: &[(&str, &str)], v: f64) -> InstantSample {
        InstantSample {
            labels: Labels::new(labels.iter().copied()),
            t: 0,
            v,
        }
    }

    pub(crate) fn ctx(t_secs: i64, range_secs: i64) -> CallCtx {
        CallCtx {
            t: t_secs * 1000,
            range_ms: range_secs * 1000,
            offset_ms: 0,
        }
    }

    /// Calls `name` and answers the vector's values by their labels'
    /// display form, in answer order.
    pub(crate) fn vec_of(name: &str, args: Vec<FnArg>, c: CallCtx) -> Vec<(String, f64)> {
        match call(name, args, c).expect("call") {
            FnValue::Vector(v) => v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect(),
            other => panic!("{name}: not a vector: {other:?}"),
        }
    }

    pub(crate) fn scalar_of(name: &str, args: Vec<FnArg>, c: CallCtx) -> f64 {
        match call(name, args, c).expect("call") {
            FnValue::Scalar(v) => v,
            other => panic!("{name}: not a scalar: {other:?}"),
        }
    }

    pub(crate) fn err_of(name: &str, args: Vec<FnArg>, c: CallCtx) -> String {
        match call(name, args, c) {
            Err(PromError::Execution(m)) => m,
            other => panic!("{name}: expected an execution error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_argument_types_are_errors_not_panics() {
        let m = err_of("abs", vec![FnArg::Scalar(1.0)], ctx(0, 0));
        assert_eq!(m, "function abs(): argument 1 is not an instant vector");
        let m = err_of("rate", vec![], ctx(0, 0));
        assert!(m.contains("range vector"), "{m}");
        let m = err_of("no_such_fn", vec![], ctx(0, 0));
        assert!(m.contains("not supported"), "{m}");
    }

    #[test]
    fn series_without_samples_answer_nothing() {
        let m = vec![series(&[("__name__", "x")], &[])];
        assert!(vec_of("sum_over_time", vec![FnArg::Matrix(m)], ctx(60, 60)).is_empty());
    }

    #[test]
    fn time_and_pi_are_scalars() {
        assert_eq!(scalar_of("time", vec![], ctx(1500, 0)), 1500.0);
        let c = CallCtx {
            t: 1_234,
            range_ms: 0,
            offset_ms: 0,
        };
        assert_eq!(scalar_of("time", vec![], c), 1.234);
        assert_eq!(scalar_of("pi", vec![], c), std::f64::consts::PI);
    }

    #[test]
    fn every_2_42_function_but_absent_is_answered() {
        for &f in PROMETHEUS_2_42_FUNCTIONS {
            if f.starts_with("absent") {
                continue;
            }
            // Wrong arguments: a function this module knows complains about
            // them, not about its name.
            match call(f, vec![FnArg::String(String::new())], ctx(0, 0)) {
                Err(PromError::Execution(m)) => assert!(!m.contains("not supported"), "{f}: {m}"),
                Ok(_) => {}
                Err(e) => panic!("{f}: {e}"),
            }
        }
        assert!(is_prometheus_2_42_function("holt_winters"));
        assert!(!is_prometheus_2_42_function("sort_by_label"));
        assert!(!is_prometheus_2_42_function("double_exponential_smoothing"));
    }

    #[test]
    fn native_histogram_functions_skip_float_samples() {
        for f in ["histogram_count", "histogram_sum"] {
            let v = vec![inst(&[("__name__", "h")], 3.0)];
            assert!(
                vec_of(f, vec![FnArg::Vector(v)], ctx(0, 0)).is_empty(),
                "{f}"
            );
        }
    }
}
