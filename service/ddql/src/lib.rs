//! # whippet-ddql: the Datadog metric query language (service plane)
//!
//! ## What it owns
//! The syntax of Datadog metric queries ([`ast`]) and the parser that turns
//! query text into it ([`parse_request`], [`parse_metric_query`],
//! [`parse_formula`]), with errors that give the byte position and say what
//! was expected there ([`ParseError`]).
//!
//! ## What it must never do
//! Evaluate anything, read storage, or do I/O: it is a pure function of the
//! text. It never panics on any input (it is fuzzed), and its work and memory
//! are bounded by the length of the input (nesting depth is capped).

pub mod ast;
mod error;
mod parse;

pub use ast::*;
pub use error::ParseError;
pub use parse::{MAX_DEPTH, MAX_QUERY_BYTES, parse_formula, parse_metric_query, parse_request};
