//! # whippet-golden: the golden-corpus harness shared by the query engines
//!
//! ## What it owns
//! What every plain-text golden corpus of Whippet reads the same way: the
//! files of a `testdata/` directory and their run (each file twice, once
//! with its data in the storage engine's head and once flushed to parts;
//! `GOLDEN=<part of a name>` runs only matching files; every failure
//! collected and reported together), the cutting of a file into directive
//! blocks (a line at column 0 and the indented lines after it), comments,
//! and durations. The Datadog query corpus (`service/query/testdata`) and the
//! PromQL corpus (`service/promql/testdata`) use it; each keeps its own
//! directives, value syntax and comparisons, in its `tests/golden.rs`.
//!
//! ## What it must never do
//! Know a query language or the storage engine: it is text in, callbacks
//! out. It is a dev-dependency only.

mod blocks;
mod duration;
mod run;

pub use blocks::{Block, blocks, strip_comment};
pub use duration::parse_duration_ms;
pub use run::{Mode, run_corpus};
