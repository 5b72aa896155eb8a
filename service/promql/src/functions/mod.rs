//! PromQL's functions, called by the evaluator once per evaluation step.
//!
//! The evaluator evaluates a call's arguments at one step and hands them
//! here as [`FnArg`]s; this module owns what each function computes from
//! them (`rate`'s extrapolation, `histogram_quantile`'s interpolation,
//! `label_replace`'s regex, ...), with Prometheus 2.42's semantics.
//!
//! ## The contract with the evaluator
//! - A range-vector argument ([`FnArg::Matrix`]) holds, per series, the
//!   samples in the window `[t - offset - range, t - offset]` of the step's time `t` (both
//!   ends included, as in Prometheus 2.x), oldest first, with staleness
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

use crate::error::Result;
use crate::value::{InstantSample, Series};

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

/// Calls function `name` (already type-checked by the parser) with its
/// evaluated arguments.
pub fn call(name: &str, args: Vec<FnArg>, ctx: CallCtx) -> Result<FnValue> {
    let _ = (args, ctx);
    Err(crate::error::PromError::Execution(format!(
        "function {name} is not built yet"
    )))
}
