//! Aggregator configuration. Each field's doc comment is its reference
//! documentation; [`AggregatorConfig::default`] is the one place that holds
//! the defaults, and [`AggregatorConfig::validate`] checks a configuration
//! without side effects.

use std::str::FromStr;

use crate::error::Error;

/// One per-bucket aggregate of a histogram (`h`, `ms`), emitted as the
/// series `<name>.<suffix>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistogramAggregate {
    /// `.min`: the smallest sample (gauge).
    Min,
    /// `.max`: the largest sample (gauge).
    Max,
    /// `.median`: the weighted nearest-rank median (gauge).
    Median,
    /// `.avg`: the weighted mean (gauge).
    Avg,
    /// `.sum`: the weighted sum (gauge, as in the Agent).
    Sum,
    /// `.count`: the sum of the weights, a count with interval 10 (server
    /// choice, spec §3.6; the Agent sends a rate).
    Count,
}

impl HistogramAggregate {
    /// The series name suffix, without the dot.
    pub fn suffix(self) -> &'static str {
        match self {
            HistogramAggregate::Min => "min",
            HistogramAggregate::Max => "max",
            HistogramAggregate::Median => "median",
            HistogramAggregate::Avg => "avg",
            HistogramAggregate::Sum => "sum",
            HistogramAggregate::Count => "count",
        }
    }
}

impl FromStr for HistogramAggregate {
    type Err = String;
    /// The Agent's `histogram_aggregates` spellings: `min`, `max`, `median`,
    /// `avg`, `sum`, `count`.
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "min" => HistogramAggregate::Min,
            "max" => HistogramAggregate::Max,
            "median" => HistogramAggregate::Median,
            "avg" => HistogramAggregate::Avg,
            "sum" => HistogramAggregate::Sum,
            "count" => HistogramAggregate::Count,
            other => return Err(format!("unknown histogram aggregate {other:?}")),
        })
    }
}

/// How DogStatsD samples are aggregated into 10-second points.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatorConfig {
    /// Aggregates emitted for each histogram (`h`) and timer (`ms`) context
    /// and bucket, in this order. Default: `max, median, avg, count` (the
    /// Agent's `histogram_aggregates`).
    pub histogram_aggregates: Vec<HistogramAggregate>,
    /// Percentiles emitted for each histogram and timer, as fractions in
    /// `(0, 1]`; `0.95` gives `<name>.95percentile`. Each must be a whole
    /// percent (`0.999` is rejected: the suffix could not name it). Default:
    /// `[0.95]` (the Agent's `histogram_percentiles`).
    pub histogram_percentiles: Vec<f64>,
    /// How long, in seconds, a counter (`c`) keeps emitting `0` for buckets
    /// without samples after its last sample, so `as_count()` graphs and sum
    /// monitors see zeros rather than gaps. Default: 300 (the Agent's
    /// `dogstatsd_expiry_seconds`). `0` turns zero-fill off.
    pub counter_expiry_secs: u64,
    /// Most live contexts (metric name, tags, host and type class). A sample
    /// that would create one more is dropped and counted
    /// ([`super::DropReason::ContextLimit`]). A context lives while it has an
    /// open bucket or is a counter still zero-filling, so this bounds the
    /// distinct series of one flush interval plus the counters of the last
    /// `counter_expiry_secs`. Default: 500 000, which is about 150–250 MB
    /// of context state at ~300–500 bytes a context (name, tags, map
    /// entries); the Agent has no limit.
    pub max_contexts: usize,
    /// Most timestamped (`T`) points held between two flushes (points with
    /// the same context and timestamp are merged first). More are dropped and
    /// counted ([`super::DropReason::TimestampedLimit`]). Default: 500 000
    /// (about 40 MB: each holds a context reference, a timestamp and a value).
    pub max_timestamped_points: usize,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        AggregatorConfig {
            histogram_aggregates: vec![
                HistogramAggregate::Max,
                HistogramAggregate::Median,
                HistogramAggregate::Avg,
                HistogramAggregate::Count,
            ],
            histogram_percentiles: vec![0.95],
            counter_expiry_secs: 300,
            max_contexts: 500_000,
            max_timestamped_points: 500_000,
        }
    }
}

impl AggregatorConfig {
    /// Checks every field; touches nothing.
    pub fn validate(&self) -> Result<(), Error> {
        for &p in &self.histogram_percentiles {
            percent(p)?;
        }
        if self.max_contexts == 0 {
            return Err(Error::InvalidConfig {
                field: "max_contexts",
                reason: "must be at least 1".into(),
            });
        }
        if self.counter_expiry_secs > i64::MAX as u64 / 1000 {
            return Err(Error::InvalidConfig {
                field: "counter_expiry_secs",
                reason: "too large".into(),
            });
        }
        Ok(())
    }
}

/// A percentile fraction as a whole percent `1..=100`.
pub(crate) fn percent(p: f64) -> Result<u32, Error> {
    let pct = (p * 100.0).round();
    if !(p > 0.0 && p <= 1.0) || (p * 100.0 - pct).abs() > 1e-9 {
        return Err(Error::InvalidConfig {
            field: "histogram_percentiles",
            reason: format!("{p} is not a whole percent in (0, 1]"),
        });
    }
    Ok(pct as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        AggregatorConfig::default().validate().unwrap();
    }

    #[test]
    fn percentiles_must_be_whole_percents() {
        assert_eq!(percent(0.95).unwrap(), 95);
        assert_eq!(percent(0.29).unwrap(), 29);
        assert_eq!(percent(1.0).unwrap(), 100);
        for bad in [0.0, -0.5, 1.5, 0.999, f64::NAN] {
            assert!(percent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aggregates_parse() {
        for a in ["min", "max", "median", "avg", "sum", "count"] {
            assert_eq!(a.parse::<HistogramAggregate>().unwrap().suffix(), a);
        }
        assert!("p99".parse::<HistogramAggregate>().is_err());
    }
}
