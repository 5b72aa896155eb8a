//! Prometheus remote write bodies, through [`crate::remote_write::Builder`]:
//! one snappy-compressed `WriteRequest` per body, a `TimeSeries` per series
//! with the labels `__name__` (the Datadog name as given, dots and all:
//! Prometheus' and VictoriaMetrics' receivers store it as sent), `host`,
//! and each other tag split at its first `:` (`env:prod` → `env="prod"`).
//! The body's bytes are already compressed (snappy is the protocol's), so
//! a data set's `raw_bytes` are the compressed sizes too.

use anyhow::Result;

use super::{BodyEncoder, SeriesRef};
use crate::remote_write::{Builder, RwSeries};

pub use crate::remote_write::HEADERS;

/// Builds one body.
#[derive(Default)]
pub struct Encoder {
    builder: Builder,
}

impl BodyEncoder for Encoder {
    fn series(&mut self, s: &SeriesRef<'_>) -> Result<()> {
        self.builder.push(&RwSeries {
            metric: s.metric,
            host: s.host,
            tags: s.tags,
            ts_ms: s.ts_ms,
            vals: s.vals,
        })
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.builder.finish(&mut out)?;
        Ok(out)
    }
}
