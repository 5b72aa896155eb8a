//! # whippet-prom-write: Prometheus remote write 1.0 (edge plane)
//!
//! Owns the receiving side of Prometheus remote write 1.0 as a pure
//! library: bytes in, series and samples out. [`decode::decompress`] reads
//! the snappy block, [`decode::decode`] the `WriteRequest` protobuf without
//! copying (labels are slices of the decompressed bytes, each series has a
//! digest of its label bytes), [`validate::validate`] checks a series'
//! labels against Prometheus' rules and the [`Limits`] and gives its
//! storage name and tags (the rule of `service/promql/src/names.rs`:
//! metric = `__name__`, tag `name:value` per other label, verbatim), and
//! [`order::SeriesOrder`] judges out-of-order and duplicate samples as
//! Prometheus' receiver does. Metadata, exemplars and native histograms
//! are skipped and counted ([`decode::Ignored`]).
//!
//! The HTTP glue (keys, body limits, the series cache, the storage
//! engine, the answers: 204, 400 with the reason, 413, 403, 429/503) is
//! `control/whippet/src/server/prom_write.rs`.
//!
//! # What it must never do
//! Panic or allocate without bound on any input (fuzzed by
//! `fuzz/fuzz_targets/prom_write_decode.rs`; allocations are bounded by
//! [`Limits`], see [`decode`]'s module doc), touch storage or the network,
//! or accept a series whose labels cannot be stored and read back
//! unambiguously.
//!
//! Dependencies: `snap` (the snappy block format), `xxhash-rust` (series
//! digests, as the Datadog intake's cache uses), `whippet-tsdb` only for
//! the engine's name and tag length limits, which [`Limits::check`] keeps
//! the limits under.

pub mod decode;
pub mod encode;
mod error;
mod limits;
pub mod order;
pub mod validate;

pub use decode::{Ignored, RawLabel, Request, Sample, Series, SeriesIdent, decode, decompress};
pub use error::Error;
pub use limits::{Limits, MetricNames};
pub use order::{Conflict, Newest, SeriesOrder, Verdict};
pub use validate::{ValidSeries, validate};
