//! What the parsers return: rows, and the series they skipped.

use whippet_tsdb::{MetricType, Sketch};

/// One float series of a request: gauge, count or rate points.
///
/// * `metric` is normalised ([`normalize::metric_name`](crate::normalize::metric_name)).
/// * `tags` are normalised ([`normalize::tag`](crate::normalize::tag)), in
///   the order sent, empty ones dropped, duplicates kept (the storage
///   engine's `TagSet` sorts and de-duplicates). The host is the tag
///   `host:<name>`, v1's `device` field the tag `device:<name>`, and each
///   v2 resource `{type, name}` the tag `<type>:<name>`; these come after
///   the sent tags.
/// * `mtype` carries the interval for counts and rates
///   (`interval_secs: 0` when none was sent).
/// * `points` are `(timestamp in milliseconds, value)` in the order sent,
///   every value finite; timestamps are whole seconds × 1000 (fractions of a
///   second are truncated toward zero). No time window is applied here.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Normalised metric name.
    pub metric: String,
    /// Normalised tags, host included.
    pub tags: Vec<String>,
    /// Gauge, or count/rate with their interval.
    pub mtype: MetricType,
    /// `(timestamp_ms, value)` pairs.
    pub points: Vec<(i64, f64)>,
}

/// One distribution series: a sketch per point.
///
/// `metric` and `tags` follow the [`MetricRow`] rules. `points` are
/// `(timestamp in milliseconds, sketch)`; for `/api/v1/distribution_points`
/// each sketch holds the raw values of that point, for `/api/beta/sketches`
/// it is the Agent's sketch as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SketchRow {
    /// Normalised metric name.
    pub metric: String,
    /// Normalised tags, host included.
    pub tags: Vec<String>,
    /// `(timestamp_ms, sketch)` pairs.
    pub points: Vec<(i64, Sketch)>,
}

/// The result of parsing a body that was acceptable as a whole.
///
/// The request is answered 202 even when `rejected` is not empty: these are
/// series Datadog would skip. The HTTP layer should count them (per
/// [`RejectCode`], from [`Parsed::rejected_counts`]) and MAY report the
/// details (e.g. in v2's `errors` array).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// The accepted rows, in the order they appeared in the body.
    pub rows: Vec<T>,
    /// The first [`Parsed::MAX_REJECTED_DETAILS`] skipped series, with why.
    /// Bounded so a body of millions of bad series cannot make us allocate a
    /// message for each.
    pub rejected: Vec<Rejected>,
    /// How many series were skipped, per code, including those beyond the
    /// detail cap.
    pub rejected_counts: RejectCounts,
}

impl<T> Parsed<T> {
    /// At most this many [`Rejected`] details are kept per request; the
    /// counts stay exact. 100 is enough to diagnose a client and small
    /// enough to put in a response body.
    pub const MAX_REJECTED_DETAILS: usize = 100;

    pub(crate) fn new() -> Self {
        Parsed {
            rows: Vec::new(),
            rejected: Vec::new(),
            rejected_counts: RejectCounts::default(),
        }
    }

    /// Records a skipped series; `detail` is only built while under the cap.
    pub(crate) fn reject(&mut self, reason: RejectCode, detail: impl FnOnce() -> String) {
        self.rejected_counts.bump(reason);
        if self.rejected.len() < Self::MAX_REJECTED_DETAILS {
            self.rejected.push(Rejected {
                reason,
                detail: detail(),
            });
        }
    }

    /// Total number of skipped series.
    pub fn rejected_total(&self) -> u64 {
        self.rejected_counts.total()
    }
}

/// A skipped series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Why, as a bounded code.
    pub reason: RejectCode,
    /// Where and what, for a human: `series[3] "dp.gauge": points[1]: expected
    /// [timestamp, value], found a string`. At most a few hundred bytes.
    pub detail: String,
}

/// Why a series (or a check run) was skipped. A small, fixed set, usable as a
/// counter label ([`RejectCode::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// `metric` (or `check`) is absent, null or empty.
    MissingMetricName,
    /// The metric name does not start with a letter (Datadog drops those).
    InvalidMetricName,
    /// `points` (or `dogsketches`) is absent, null or empty.
    NoPoints,
    /// A point is not `[timestamp, value]` (v1), `{timestamp, value}` (v2) or
    /// `[timestamp, [values...]]` (distribution points), or its timestamp is
    /// not a number of seconds that fits in milliseconds as `i64`.
    BadPoint,
    /// A point's value is NaN or infinite (protobuf only: JSON cannot say it).
    NonFiniteValue,
    /// The metric type is not one Datadog knows (`"gauge"`, `"count"`,
    /// `"rate"`, `""` in v1; 0–3 in v2).
    BadType,
    /// A field has the wrong JSON type (`tags` not an array of strings, `host`
    /// not a string, `interval` not a non-negative number that fits `u32`,
    /// a resource without `type`/`name`, a series that is not an object...).
    BadField,
    /// An Agent sketch is inconsistent (count differs from its bins, `k` and
    /// `n` of different lengths, a key out of range, min above max...).
    BadSketch,
    /// A check run's `status` is absent or not 0, 1, 2 or 3.
    BadStatus,
}

impl RejectCode {
    /// Every code, in declaration order (the order of [`RejectCounts`]).
    pub const ALL: [RejectCode; 9] = [
        RejectCode::MissingMetricName,
        RejectCode::InvalidMetricName,
        RejectCode::NoPoints,
        RejectCode::BadPoint,
        RejectCode::NonFiniteValue,
        RejectCode::BadType,
        RejectCode::BadField,
        RejectCode::BadSketch,
        RejectCode::BadStatus,
    ];

    /// The code as a snake_case label, for counters and logs.
    pub fn code(&self) -> &'static str {
        match self {
            RejectCode::MissingMetricName => "missing_metric_name",
            RejectCode::InvalidMetricName => "invalid_metric_name",
            RejectCode::NoPoints => "no_points",
            RejectCode::BadPoint => "bad_point",
            RejectCode::NonFiniteValue => "non_finite_value",
            RejectCode::BadType => "bad_type",
            RejectCode::BadField => "bad_field",
            RejectCode::BadSketch => "bad_sketch",
            RejectCode::BadStatus => "bad_status",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Skipped-series counts per [`RejectCode`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RejectCounts([u64; RejectCode::ALL.len()]);

impl RejectCounts {
    /// How many series were skipped with `code`.
    pub fn get(&self, code: RejectCode) -> u64 {
        self.0[code.index()]
    }

    /// How many series were skipped in all.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The codes with a non-zero count, in [`RejectCode::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (RejectCode, u64)> + '_ {
        RejectCode::ALL
            .iter()
            .map(|&c| (c, self.get(c)))
            .filter(|&(_, n)| n > 0)
    }

    fn bump(&mut self, code: RejectCode) {
        self.0[code.index()] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_indexed_in_order() {
        for (i, c) in RejectCode::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        let mut names: Vec<_> = RejectCode::ALL.iter().map(|c| c.code()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RejectCode::ALL.len());
    }

    #[test]
    fn details_are_capped_counts_are_not() {
        let mut p: Parsed<()> = Parsed::new();
        let cap = Parsed::<()>::MAX_REJECTED_DETAILS;
        let mut built = 0;
        for _ in 0..cap + 50 {
            p.reject(RejectCode::NoPoints, || {
                built += 1;
                "x".to_string()
            });
        }
        p.reject(RejectCode::BadPoint, || unreachable!("over the cap"));
        assert_eq!(p.rejected.len(), cap);
        assert_eq!(built, cap);
        assert_eq!(p.rejected_counts.get(RejectCode::NoPoints), cap as u64 + 50);
        assert_eq!(p.rejected_total(), cap as u64 + 51);
        assert_eq!(
            p.rejected_counts.iter().collect::<Vec<_>>(),
            vec![
                (RejectCode::NoPoints, cap as u64 + 50),
                (RejectCode::BadPoint, 1)
            ]
        );
    }
}
