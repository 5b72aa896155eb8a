//! # whippet-query-bench: the metric query suite and its arithmetic
//!
//! A library of `whippet-bench` (`bench/compare`, run by `bench/run`), the
//! side-by-side benchmark that asks Whippet, VictoriaMetrics and Prometheus
//! the same questions on the same data. It owns what the questions are and
//! how their answers are judged; `whippet-bench` owns the servers, the HTTP
//! runs and the report:
//!
//! - [`suite`]: the queries, each in Datadog's language and in PromQL, with
//!   host filters chosen from the generated fleet;
//! - [`answer`]: parsing both answers and comparing their values;
//! - [`stats`]: medians, nearest-rank percentiles and ratios.
//!
//! It was also a binary (Whippet against VictoriaMetrics only) until
//! `whippet-bench` did the same and more; its dated results
//! (`bench/results/*-query-*`) are kept as records.

pub mod answer;
pub mod stats;
pub mod suite;
