//! One context's samples within one 10-second bucket, and how a closed
//! bucket is reduced to rows (spec §3.6, table of per-type reductions).

use std::collections::HashSet;

use whippet_tsdb::{MetricType, Sketch};

use super::config::HistogramAggregate;
use super::context::{Class, ContextKey};
use super::flush::{Flush, FlushedMetric, FlushedSketch};
use super::{BUCKET_SECS, DropReason};
use crate::hash::U64Build;

/// The type every count row carries.
pub(crate) const COUNT_TYPE: MetricType = MetricType::Count {
    interval_secs: BUCKET_SECS as u32,
};

/// The weight of a histogram or distribution sample: `trunc(1 / rate)`, as
/// the Agent computes it (`int64(1 / rate)` for histograms, `uint(1 /
/// rate)` for sketches). `rate` is in `(0, 1]`, so the weight is at least 1.
#[inline]
pub(crate) fn weight(rate: f64) -> u64 {
    ((1.0 / rate) as u64).max(1)
}

/// One open bucket of one context.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) start_ms: i64,
    pub(crate) acc: Acc,
}

/// What a bucket accumulates, by class.
#[derive(Debug)]
pub(crate) enum Acc {
    /// Last value received.
    Gauge(f64),
    /// Σ value / sample_rate.
    Count(f64),
    /// Hashes of the distinct members.
    Set(HashSet<u64, U64Build>),
    /// Every weighted sample.
    Histogram(Histogram),
    /// A sketch of every weighted sample.
    Distribution(Box<Sketch>),
}

impl Acc {
    pub(crate) fn new(class: Class) -> Acc {
        match class {
            Class::Gauge => Acc::Gauge(0.0),
            Class::Count => Acc::Count(0.0),
            Class::Set => Acc::Set(HashSet::default()),
            Class::Histogram => Acc::Histogram(Histogram::default()),
            Class::Distribution => Acc::Distribution(Box::default()),
        }
    }
}

/// Samples of a histogram or timer in one bucket.
///
/// Server choice: the sum uses the same integer weight as the count, so
/// `.avg` is an exact weighted mean; the Agent adds `value / rate` to the
/// sum but `trunc(1 / rate)` to the count, so its `.avg` drifts when
/// `1 / rate` is not a whole number.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    samples: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

impl Histogram {
    #[inline]
    pub(crate) fn add(&mut self, v: f64, w: u64) {
        self.samples.push((v, w));
        self.sum += v * w as f64;
        self.count = self.count.saturating_add(w);
    }

    /// The first sample (in value order) whose cumulative weight exceeds
    /// `target`: the Agent's weighted nearest rank.
    fn rank(&self, target: u128) -> f64 {
        let mut cum: u128 = 0;
        for &(v, w) in &self.samples {
            cum += w as u128;
            if cum > target {
                return v;
            }
        }
        self.samples.last().map_or(0.0, |s| s.0)
    }
}

/// The histogram settings a flush needs.
pub(crate) struct Reduction<'a> {
    pub(crate) aggregates: &'a [HistogramAggregate],
    /// (whole percent, name suffix such as `.95percentile`).
    pub(crate) percentiles: &'a [(u32, String)],
}

/// Collects rows, skipping (and counting) non-finite values.
pub(crate) struct Emitter<'a> {
    pub(crate) out: &'a mut Flush,
    pub(crate) dropped: &'a mut [u64; DropReason::COUNT],
}

impl Emitter<'_> {
    pub(crate) fn metric(
        &mut self,
        key: &ContextKey,
        suffix: &str,
        mtype: MetricType,
        ts_ms: i64,
        value: f64,
    ) {
        if !value.is_finite() {
            self.dropped[DropReason::NonFinite as usize] += 1;
            return;
        }
        let metric = if suffix.is_empty() {
            key.name.to_string()
        } else {
            format!("{}{suffix}", key.name)
        };
        self.out.metrics.push(FlushedMetric {
            metric,
            tags: key.tags_vec(),
            mtype,
            ts_ms,
            value,
        });
    }

    /// Reduces one closed bucket to its rows.
    pub(crate) fn bucket(&mut self, key: &ContextKey, bucket: Bucket, red: &Reduction<'_>) {
        let ts = bucket.start_ms;
        match bucket.acc {
            Acc::Gauge(v) => self.metric(key, "", MetricType::Gauge, ts, v),
            Acc::Count(v) => self.metric(key, "", COUNT_TYPE, ts, v),
            Acc::Set(set) => self.metric(key, "", MetricType::Gauge, ts, set.len() as f64),
            Acc::Distribution(sketch) => {
                if sketch.count() > 0 {
                    self.out.sketches.push(FlushedSketch {
                        metric: key.name.to_string(),
                        tags: key.tags_vec(),
                        ts_ms: ts,
                        sketch: *sketch,
                    });
                }
            }
            Acc::Histogram(mut h) => {
                if h.samples.is_empty() {
                    return;
                }
                h.samples.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                let count = h.count;
                for &agg in red.aggregates {
                    let (mtype, value) = match agg {
                        HistogramAggregate::Min => (MetricType::Gauge, h.samples[0].0),
                        HistogramAggregate::Max => {
                            (MetricType::Gauge, h.samples[h.samples.len() - 1].0)
                        }
                        HistogramAggregate::Median => {
                            (MetricType::Gauge, h.rank((count as u128 - 1) / 2))
                        }
                        HistogramAggregate::Avg => (MetricType::Gauge, h.sum / count as f64),
                        HistogramAggregate::Sum => (MetricType::Gauge, h.sum),
                        HistogramAggregate::Count => (COUNT_TYPE, count as f64),
                    };
                    let suffix = match agg {
                        HistogramAggregate::Min => ".min",
                        HistogramAggregate::Max => ".max",
                        HistogramAggregate::Median => ".median",
                        HistogramAggregate::Avg => ".avg",
                        HistogramAggregate::Sum => ".sum",
                        HistogramAggregate::Count => ".count",
                    };
                    self.metric(key, suffix, mtype, ts, value);
                }
                for (pct, suffix) in red.percentiles {
                    // The Agent's target rank: (p · count − 1) / 100.
                    let target = (*pct as u128 * count as u128 - 1) / 100;
                    self.metric(key, suffix, MetricType::Gauge, ts, h.rank(target));
                }
            }
        }
    }
}
