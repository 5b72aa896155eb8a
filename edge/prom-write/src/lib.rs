//! # whippet-prom-write: Prometheus remote write 1.0 (edge plane)
//!
//! Skeleton: the decoder and its validation are being written (issue 8).
