//! Datadog `/api/v2/series` protobuf bodies: a `MetricPayload` (the
//! Agent's message, from `whippet-dd-intake`'s hand-written prost types),
//! one `MetricSeries` per series with the host as a `host` resource (as
//! the Agent sends it), the other tags as tags, type `GAUGE`, timestamps in
//! whole seconds.

use anyhow::Result;
use prost::Message as _;
use whippet_dd_intake::proto::{MetricPayload, MetricPoint, MetricSeries, MetricType, Resource};

use super::{BodyEncoder, SeriesRef};

/// Builds one `MetricPayload`.
#[derive(Default)]
pub struct Encoder {
    payload: MetricPayload,
}

impl BodyEncoder for Encoder {
    fn series(&mut self, s: &SeriesRef<'_>) -> Result<()> {
        self.payload.series.push(MetricSeries {
            resources: vec![Resource {
                r#type: b"host".to_vec(),
                name: s.host.as_bytes().to_vec(),
            }],
            metric: s.metric.as_bytes().to_vec(),
            tags: s.tags.iter().map(|t| t.as_bytes().to_vec()).collect(),
            points: s
                .ts_ms
                .iter()
                .zip(s.vals)
                .map(|(&ts, &value)| MetricPoint {
                    value,
                    timestamp: ts / 1000,
                })
                .collect(),
            r#type: MetricType::Gauge as i32,
            ..Default::default()
        });
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Vec<u8>> {
        Ok(self.payload.encode_to_vec())
    }
}
