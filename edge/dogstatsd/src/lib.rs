//! # whippet-dogstatsd: DogStatsD intake (edge plane)
//!
//! ## What it owns
//! - [`parse`]: a pure parser of DogStatsD datagrams (bytes in, messages out;
//!   no allocation for metric lines) covering metrics (protocol 1.0–1.3:
//!   multi-value packets, container id, timestamps), events and service
//!   checks, with a bounded error code per malformed line
//!   ([`ParseErrorCode`]).
//! - [`normalize`]: Datadog's backend rules for metric names and tags
//!   (spec §2.1), applied once per new context.
//! - [`aggregate`]: the Agent's DogStatsD time sampler: 10-second buckets by
//!   arrival time, per-type reduction, counter zero-fill, timestamped
//!   samples that bypass buckets, and a cap on live contexts.
//! - [`server`]: the UDP and Unix datagram sockets, the receive loops, the
//!   flush tick, and the [`Sink`] that receives what comes out.
//!
//! ## What it must never do
//! - Store anything: flushed rows, events and service checks go to a
//!   [`Sink`], which decides where they live.
//! - Panic on any input bytes (fuzzed: `fuzz/`, target `datagram`), or drop a
//!   whole datagram because one of its lines is malformed.
//! - Grow without bound: live contexts, timestamped points and the raw-key
//!   cache are capped ([`AggregatorConfig`]); what is refused is counted.
//! - Block the async runtime: the sink's `metrics` call runs on the blocking
//!   pool, and no lock is held across an `.await`.
//!
//! ## Dependencies
//! `tokio` (sockets, tasks, timers), `socket2` (only to set `SO_RCVBUF`;
//! already compiled as a dependency of tokio's `net` feature), `thiserror`,
//! `tracing`, and `whippet-tsdb` for the metric types and the DDSketch that
//! distributions are aggregated into.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod error;
mod hash;
pub mod normalize;
pub mod parse;
pub mod server;

pub use aggregate::{
    Aggregator, AggregatorConfig, DropReason, Flush, FlushedMetric, FlushedSketch,
    HistogramAggregate,
};
pub use error::Error;
pub use parse::{
    Event, EventAlertType, EventPriority, Message, MetricKind, MetricSample, ParseErrorCode,
    ServiceCheck, ServiceCheckStatus, parse_datagram, parse_message,
};
pub use server::{Server, ServerConfig, ServerHandle, Sink, Stats, StatsSnapshot};
