//! What one evaluation saw for one group.
//!
//! Owns nothing but the shape of the evaluator's answer; it never computes
//! values (the server runs the query) and never interprets them (that is
//! [`super::step()`]).

/// The result of evaluating a monitor's query for one group at one time.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The window aggregated to `value`. `full_window` is false when the
    /// window was only partly covered by data (read only when the rules
    /// `require_full_window`). A NaN or infinite value (a division by zero,
    /// say) is treated as [`Observation::NoData`]: it has no side of a
    /// threshold, and a JSON state cannot hold it.
    Value {
        /// The aggregated value.
        value: f64,
        /// True when data covered the whole window.
        full_window: bool,
    },
    /// The window held no points for this group.
    NoData,
    /// The query could not be evaluated; `reason` says why, in words a user
    /// can act on, and is kept in the group's state until an evaluation
    /// succeeds.
    QueryError {
        /// Why the evaluation failed.
        reason: String,
    },
}

impl Observation {
    /// A value from a full window.
    pub fn value(value: f64) -> Observation {
        Observation::Value {
            value,
            full_window: true,
        }
    }

    /// A query error with `reason`.
    pub fn error(reason: impl Into<String>) -> Observation {
        Observation::QueryError {
            reason: reason.into(),
        }
    }
}
