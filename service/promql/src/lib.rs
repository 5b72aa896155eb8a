//! # whippet-promql: PromQL over the storage engine (service plane)
//!
//! ## What it owns
//! The evaluation of PromQL (instant and range queries) over
//! [`whippet_tsdb`], with Prometheus 2.42's semantics: selectors and their
//! matchers, lookback and staleness, range vectors, `offset` and `@`,
//! subqueries, aggregation operators, binary operators with vector
//! matching, and the function set. It also answers the metadata questions of
//! Prometheus' HTTP API (series, label names, label values) through the same
//! name mapping ([`names`]: how Datadog names and tags show as Prometheus
//! names and labels). Its semantics are pinned by the golden corpus in
//! `testdata/` (format: `testdata/README.md`), run by `tests/golden.rs`.
//!
//! ## What it must never do
//! Write to storage, format HTTP responses (the server turns
//! [`QueryValue`]s into Prometheus' JSON), or read more samples than
//! [`EvalOptions::max_samples`] allows.
//!
//! ## The parser
//! Parsing is `promql-parser` (GreptimeDB's): a port of Prometheus' own yacc
//! grammar with its lexer, operator precedence, type checks (function
//! signatures, "expected type range vector") and error wording, kept in step
//! with Prometheus releases and used in production by GreptimeDB. Writing a
//! parser by hand would re-derive all of that; what the crate lacks is the
//! position of an error, and Prometheus 2.42's strictness where a later
//! Prometheus accepts more (`foo[5]`, `1 + 5m`): [`errpos`] supplies both
//! with its own lexer and recogniser of 2.42's grammar, and answers
//! `1:15: parse error: ...` as Prometheus does. Parsed queries are kept
//! by their text ([`compiled`]), so that second reading costs once per
//! distinct query.
//!
//! ## Dependencies
//! `whippet-tsdb` (storage), `promql-parser` (the reason above), `regex`
//! (`=~` matchers and `label_replace`, with Prometheus' anchoring),
//! `thiserror`, `tracing`.

pub mod aggregate;
pub mod average;
pub mod binary;
pub mod compiled;
pub mod engine;
pub mod error;
pub mod errpos;
pub mod eval;
pub mod functions;
pub mod label_memo;
pub mod names;
pub mod parallel;
pub mod pushdown;
pub mod select;
pub mod stream;
pub mod value;

pub use engine::{EvalOptions, PromEngine};
pub use error::{PromError, Result};
pub use value::{InstantSample, Labels, QueryValue, Sample, Series};
