//! # whippet-query-bench as a library: the query suite and its arithmetic
//!
//! The binary (`src/main.rs`) is the Whippet-against-VictoriaMetrics query
//! bench; these modules are shared with `whippet-bench`, the one-command
//! side-by-side benchmark that also runs Prometheus:
//!
//! - [`suite`]: the queries, each in Datadog's language and in PromQL, with
//!   host filters chosen from the generated fleet;
//! - [`answer`]: parsing both answers and comparing their values;
//! - [`stats`]: medians, nearest-rank percentiles and ratios.

pub mod answer;
pub mod stats;
pub mod suite;
