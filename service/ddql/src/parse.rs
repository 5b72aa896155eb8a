//! The parser (placeholder: being written).

use crate::ast::{Expr, MetricQuery, Request};
use crate::error::ParseError;

/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Deepest nesting of parentheses and function calls accepted.
pub const MAX_DEPTH: usize = 64;

/// Parses a `GET /api/v1/query` query: comma-separated expressions.
pub fn parse_request(_src: &str) -> Result<Request, ParseError> {
    Err(ParseError {
        position: 0,
        message: "not implemented".into(),
    })
}

/// Parses one metric query (a v2 `queries[].query`).
pub fn parse_metric_query(_src: &str) -> Result<MetricQuery, ParseError> {
    Err(ParseError {
        position: 0,
        message: "not implemented".into(),
    })
}

/// Parses a v2 formula, whose leaves are query names (`a / b * 100`).
pub fn parse_formula(_src: &str) -> Result<Expr, ParseError> {
    Err(ParseError {
        position: 0,
        message: "not implemented".into(),
    })
}
