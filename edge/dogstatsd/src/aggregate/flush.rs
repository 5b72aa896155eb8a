//! What a flush hands out: float rows and sketch rows.

use whippet_tsdb::{MetricType, Sketch};

/// One float point of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushedMetric {
    /// Normalised metric name, with the histogram suffix (`.max`, …) if any.
    pub metric: String,
    /// Normalised tags, sorted and de-duplicated, the host included as
    /// `host:<h>`.
    pub tags: Vec<String>,
    /// `Count { interval_secs: 10 }` for counters, histogram `.count`s and
    /// timestamped counts; `Gauge` for everything else.
    pub mtype: MetricType,
    /// Bucket start (or the sample's own timestamp for `T` samples), in
    /// milliseconds since the epoch.
    pub ts_ms: i64,
    /// The value; always finite.
    pub value: f64,
}

/// One distribution point of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushedSketch {
    /// Normalised metric name.
    pub metric: String,
    /// Normalised tags, sorted and de-duplicated, host included.
    pub tags: Vec<String>,
    /// Bucket start, in milliseconds since the epoch.
    pub ts_ms: i64,
    /// Every sample of the bucket, each weighted `trunc(1 / sample_rate)`.
    pub sketch: Sketch,
}

/// Everything one flush produced, in no particular order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flush {
    /// Gauges and counts.
    pub metrics: Vec<FlushedMetric>,
    /// Distributions.
    pub sketches: Vec<FlushedSketch>,
}

impl Flush {
    /// True when there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty() && self.sketches.is_empty()
    }

    /// Number of rows (float and sketch).
    pub fn len(&self) -> usize {
        self.metrics.len() + self.sketches.len()
    }
}
