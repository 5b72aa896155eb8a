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
//!
//! ## Printing
//! Every tree prints back to query text with `Display` (`expr.to_string()`),
//! in a canonical spelling that parses to the same tree; the evaluator uses
//! it to echo sub-expressions. `without_spans()` compares trees regardless
//! of where their nodes were in the text.
//!
//! ## Grammar decisions
//! The module docs of `expr`, `query` and `scope` (in the source) give the
//! grammar of each part. In short: `*` and `/` bind tighter than `+` and
//! `-`, all left-associative, unary minus tightest (`-a * b` is `(-a) * b`);
//! in a scope `NOT`/`!` bind tightest, then `AND`, then `OR`, then the comma
//! (an AND at the loosest level); scope keywords match in any case, function
//! names only in lower case.

pub mod ast;
mod cursor;
mod display;
mod error;
mod expr;
mod funcs;
mod params;
mod parse;
mod query;
mod scope;
mod spans;
mod suggest;

pub use ast::*;
pub use error::ParseError;
pub use parse::{MAX_DEPTH, MAX_QUERY_BYTES, parse_formula, parse_metric_query, parse_request};
