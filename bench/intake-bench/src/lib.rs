//! # whippet-intake-bench as a library: the machinery of the side-by-side benches
//!
//! The binary (`src/main.rs`) is the intake benchmark; these modules are
//! what it is made of, shared with `whippet-bench` (`bench/compare`, the
//! side-by-side run of `bench/run`) and `whippet-tsdb-bench`:
//!
//! - [`http`]: a small HTTP/1.1 keep-alive client over `std::net`;
//! - [`payload`]: the fleet of `whippet-fleetgen` as Datadog
//!   `/api/v1/series` JSON bodies, with its totals and [`payload::Checksum`];
//! - [`progress`]: progress lines, the workspace root, the result files;
//! - [`remote_write`]: Prometheus remote write 1.0 bodies (the messages,
//!   labels from Datadog-style tags, snappy) and their headers;
//! - [`send`]: POST every body over concurrent keep-alive connections;
//! - [`server`]: start `whippet serve`, VictoriaMetrics and Prometheus on a
//!   free local port with a fresh data directory, and stop them;
//! - [`sys`]: CPU time and memory from `/proc`, the date, the machine;
//! - [`verify`]: read everything back through each system's export or
//!   query API;
//! - [`report`]: the intake bench's result file and its Markdown (with
//!   [`report::si`] and [`report::bytes`], the number formats both benches
//!   use).

pub mod http;
pub mod payload;
pub mod progress;
pub mod remote_write;
pub mod report;
pub mod send;
pub mod server;
pub mod sys;
pub mod verify;
