//! Parsing with Prometheus' error form: `<line>:<col>: parse error: <msg>`.
//!
//! Skeleton (issue 8): the position is not yet recovered; see the crate doc.

use promql_parser::parser::Expr;

use crate::error::PromError;

/// Parses `query`; a failure is a [`PromError::Parse`] in Prometheus' form.
pub fn parse(query: &str) -> Result<Expr, PromError> {
    promql_parser::parser::parse(query).map_err(|msg| PromError::Parse {
        position: 0,
        message: format!("1:1: parse error: {msg}"),
    })
}
