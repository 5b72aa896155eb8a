//! The data model of a series: its metric name, its tag set, its metric type
//! and the kind of values it stores.

use crate::ids::OrgId;

/// How the values of a metric are to be read (Datadog's metric types).
///
/// The type is metadata of the series, not part of its identity: a later
/// write with another type updates it ("last write wins"), as in Datadog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// The value of something at that moment.
    #[default]
    Gauge,
    /// Number of events during `interval_secs` seconds.
    Count {
        /// The interval the count covers, in seconds (0 = unknown).
        interval_secs: u32,
    },
    /// Events per second, measured over `interval_secs` seconds.
    Rate {
        /// The interval the rate was measured over, in seconds (0 = unknown).
        interval_secs: u32,
    },
    /// A distribution: each point is a quantile sketch.
    Distribution,
}

impl MetricType {
    /// The kind of value this type stores.
    pub fn value_kind(self) -> ValueKind {
        match self {
            MetricType::Distribution => ValueKind::Sketch,
            _ => ValueKind::Float,
        }
    }

    /// Encodes as (code, interval) for the catalog and the WAL.
    pub(crate) fn to_code(self) -> (u8, u32) {
        match self {
            MetricType::Gauge => (0, 0),
            MetricType::Count { interval_secs } => (1, interval_secs),
            MetricType::Rate { interval_secs } => (2, interval_secs),
            MetricType::Distribution => (3, 0),
        }
    }

    /// Inverse of [`MetricType::to_code`].
    pub(crate) fn from_code(code: u8, interval_secs: u32) -> Option<Self> {
        Some(match code {
            0 => MetricType::Gauge,
            1 => MetricType::Count { interval_secs },
            2 => MetricType::Rate { interval_secs },
            3 => MetricType::Distribution,
            _ => return None,
        })
    }

    /// A short lower-case name: `gauge`, `count`, `rate`, `distribution`.
    pub fn name(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Count { .. } => "count",
            MetricType::Rate { .. } => "rate",
            MetricType::Distribution => "distribution",
        }
    }
}

/// What one point of a series holds. Part of the series identity: a float
/// series and a sketch series never share an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueKind {
    /// An `f64` per point (gauge, count, rate).
    Float,
    /// A quantile sketch per point (distribution).
    Sketch,
}

impl ValueKind {
    pub(crate) fn code(self) -> u8 {
        match self {
            ValueKind::Float => 0,
            ValueKind::Sketch => 1,
        }
    }
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(ValueKind::Float),
            1 => Some(ValueKind::Sketch),
            _ => None,
        }
    }
}

/// A set of tags: sorted, without duplicates, so that order never matters.
///
/// A tag is `key:value` (split at the first `:`) or a bare tag (`canary`).
/// The engine stores tags as given; normalisation (lower-casing, replacing
/// characters) is the intake's job, done before the engine sees them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TagSet(Vec<String>);

impl TagSet {
    /// Builds a set from tags in any order; duplicates and empty tags are dropped.
    pub fn new<I, S>(tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut v: Vec<String> = tags
            .into_iter()
            .map(Into::into)
            .filter(|t| !t.is_empty())
            .collect();
        v.sort_unstable();
        v.dedup();
        TagSet(v)
    }

    /// The tags, sorted.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the first tag with key `key` (`host` finds `host:web-1`).
    pub fn value_of(&self, key: &str) -> Option<&str> {
        self.0.iter().find_map(|t| match split_tag(t) {
            (k, Some(v)) if k == key => Some(v),
            _ => None,
        })
    }
}

/// Splits a tag into key and value at the first `:`; a bare tag has no value.
pub fn split_tag(tag: &str) -> (&str, Option<&str>) {
    match tag.find(':') {
        Some(i) => (&tag[..i], Some(&tag[i + 1..])),
        None => (tag, None),
    }
}

/// The identity of a series.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    /// The org that owns the series.
    pub org: OrgId,
    /// The metric name, e.g. `system.cpu.user`.
    pub metric: String,
    /// The tags, host included as `host:<name>`.
    pub tags: TagSet,
    /// Float or sketch values.
    pub kind: ValueKind,
}

impl SeriesKey {
    /// A float series key.
    pub fn float(org: OrgId, metric: impl Into<String>, tags: TagSet) -> Self {
        SeriesKey {
            org,
            metric: metric.into(),
            tags,
            kind: ValueKind::Float,
        }
    }
    /// A sketch (distribution) series key.
    pub fn sketch(org: OrgId, metric: impl Into<String>, tags: TagSet) -> Self {
        SeriesKey {
            org,
            metric: metric.into(),
            tags,
            kind: ValueKind::Sketch,
        }
    }
}

/// Longest metric name the engine accepts, in bytes. Datadog caps names at
/// 200 characters; the engine allows more so that intake can report the
/// Datadog error itself, but bounds it to keep WAL records sane.
pub const MAX_METRIC_BYTES: usize = 1024;
/// Longest tag the engine accepts, in bytes (Datadog: 200 characters).
pub const MAX_TAG_BYTES: usize = 1024;
/// Most tags on one series. Datadog has no hard cap; beyond a few hundred tags
/// a series is a mistake (a value used as a tag key), and the index would grow
/// with it.
pub const MAX_TAGS: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_sets_ignore_order_and_duplicates() {
        let a = TagSet::new(["env:prod", "host:web-1", "canary", "env:prod"]);
        let b = TagSet::new(["canary", "host:web-1", "env:prod", ""]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert_eq!(a.value_of("host"), Some("web-1"));
        assert_eq!(a.value_of("canary"), None);
    }

    #[test]
    fn tags_split_at_first_colon() {
        assert_eq!(split_tag("url:http://x"), ("url", Some("http://x")));
        assert_eq!(split_tag("canary"), ("canary", None));
        assert_eq!(split_tag("empty:"), ("empty", Some("")));
    }

    #[test]
    fn metric_type_codes_round_trip() {
        for t in [
            MetricType::Gauge,
            MetricType::Count { interval_secs: 10 },
            MetricType::Rate { interval_secs: 15 },
            MetricType::Distribution,
        ] {
            let (c, i) = t.to_code();
            assert_eq!(MetricType::from_code(c, i), Some(t));
        }
        assert_eq!(MetricType::from_code(9, 0), None);
    }
}
