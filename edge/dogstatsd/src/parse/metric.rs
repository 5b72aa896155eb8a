//! Metric messages: `name:value[:value…]|type[|@rate][|#tags][|c:…][|e:…][|card:…][|T<ts>]`.

use super::{ParseErrorCode, find_byte, next_field, parse_f64, parse_i64};
use crate::normalize::is_valid_metric_name;

/// The type of a metric message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// `g`: last value wins.
    Gauge,
    /// `c`: summed, scaled by `1 / sample_rate`.
    Count,
    /// `h`: several aggregates (max, median, …) per bucket.
    Histogram,
    /// `ms`: a histogram (the Agent treats timers as histograms).
    Timing,
    /// `d`: a distribution sketch.
    Distribution,
    /// `s`: distinct values per bucket.
    Set,
}

impl MetricKind {
    /// The type field's spelling.
    #[inline]
    pub fn from_symbol(symbol: &[u8]) -> Option<Self> {
        Some(match symbol {
            b"g" => MetricKind::Gauge,
            b"c" => MetricKind::Count,
            b"h" => MetricKind::Histogram,
            b"ms" => MetricKind::Timing,
            b"d" => MetricKind::Distribution,
            b"s" => MetricKind::Set,
            _ => return None,
        })
    }

    /// The symbol that spells this type on the wire.
    pub fn symbol(self) -> &'static str {
        match self {
            MetricKind::Gauge => "g",
            MetricKind::Count => "c",
            MetricKind::Histogram => "h",
            MetricKind::Timing => "ms",
            MetricKind::Distribution => "d",
            MetricKind::Set => "s",
        }
    }
}

/// The value part of a metric message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleValue<'a> {
    /// One or more finite numbers (protocol 1.1 packs several, `:`-separated).
    /// `first` is parsed; `rest` holds the others still as text (already
    /// checked by the parser; empty elements are skipped) and is read by
    /// [`MetricSample::values`].
    Numbers {
        /// The first value.
        first: f64,
        /// The other values, `:`-separated (often empty).
        rest: &'a [u8],
    },
    /// A set member: opaque bytes (everything after the first `:`).
    Set(&'a [u8]),
}

/// One metric message, borrowing the datagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSample<'a> {
    /// The raw name (not normalised; has at least one ASCII letter).
    pub name: &'a [u8],
    /// The type.
    pub kind: MetricKind,
    /// The value(s).
    pub value: SampleValue<'a>,
    /// Client-side sample rate, always in `(0, 1]`: a rate that is not a
    /// number in `(0, 1]` (`@0`, `@-1`, `@2`) is taken as 1, as the Agent
    /// does for histograms and distributions (for counts the Agent would
    /// divide by it and produce infinities).
    pub sample_rate: f64,
    /// The raw tag list after `#` (comma-separated, not normalised; empty
    /// when absent). When a message has several `#` fields the last one
    /// wins, as in the Agent.
    pub tags: &'a [u8],
    /// Protocol 1.3 timestamp (`T`), unix seconds, at least 1.
    pub timestamp: Option<i64>,
    /// Protocol 1.2 origin (`c:`): the container id field as sent.
    pub container_id: Option<&'a [u8]>,
    /// Origin detection external data (`e:`), as sent.
    pub external_data: Option<&'a [u8]>,
    /// Requested tag cardinality (`card:`), as sent.
    pub cardinality: Option<&'a [u8]>,
}

impl<'a> MetricSample<'a> {
    /// The numeric values, in order (nothing for a set).
    #[inline]
    pub fn values(&self) -> Values<'a> {
        match self.value {
            SampleValue::Numbers { first, rest } => Values {
                first: Some(first),
                rest,
            },
            SampleValue::Set(_) => Values {
                first: None,
                rest: b"",
            },
        }
    }

    /// How many samples this message carries (1 for a set).
    pub fn value_count(&self) -> usize {
        match self.value {
            SampleValue::Set(_) => 1,
            SampleValue::Numbers { .. } => self.values().count(),
        }
    }
}

/// Iterator over a message's numeric values.
#[derive(Debug, Clone)]
pub struct Values<'a> {
    first: Option<f64>,
    rest: &'a [u8],
}

impl Iterator for Values<'_> {
    type Item = f64;
    #[inline]
    fn next(&mut self) -> Option<f64> {
        if let Some(v) = self.first.take() {
            return Some(v);
        }
        while !self.rest.is_empty() {
            let (piece, rest) = split_colon(self.rest);
            self.rest = rest;
            if piece.is_empty() {
                continue;
            }
            if let Some(v) = parse_f64(piece).filter(|v| v.is_finite()) {
                return Some(v);
            }
        }
        None
    }
}

/// Splits at the first `:`; the rest is empty when there is none.
#[inline]
fn split_colon(s: &[u8]) -> (&[u8], &[u8]) {
    match find_byte(s, b':') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, b""),
    }
}

#[inline]
fn finite(b: &[u8]) -> Result<f64, ParseErrorCode> {
    parse_f64(b)
        .filter(|v| v.is_finite())
        .ok_or(ParseErrorCode::InvalidValue)
}

/// Parses `1.5` or `1.5:2::3` (empty elements skipped, every other element a
/// finite number, at least one element).
#[inline]
fn numbers(raw: &[u8]) -> Result<SampleValue<'_>, ParseErrorCode> {
    if find_byte(raw, b':').is_none() {
        return Ok(SampleValue::Numbers {
            first: finite(raw)?,
            rest: b"",
        });
    }
    let mut s = raw;
    while let [b':', tail @ ..] = s {
        s = tail;
    }
    if s.is_empty() {
        return Err(ParseErrorCode::InvalidValue);
    }
    let (head, rest) = split_colon(s);
    let first = finite(head)?;
    for piece in rest.split(|&b| b == b':').filter(|p| !p.is_empty()) {
        finite(piece)?;
    }
    Ok(SampleValue::Numbers { first, rest })
}

/// Parses one metric message.
///
/// Follows the Agent (`parseMetricSample`): the first field is split at its
/// first `:` into a non-empty name and value; the type is exact; the other
/// fields are recognised by prefix in any order and unknown ones ignored. A
/// `@` or `T` field that does not parse rejects the message, as in the Agent.
/// Differences: non-finite values (`nan`, `inf`) are rejected here (the
/// Agent's aggregator drops them later), a name with no ASCII letter is
/// rejected here (it could not be normalised), and a sample rate outside
/// `(0, 1]` becomes 1 (see [`MetricSample::sample_rate`]).
#[inline]
pub(super) fn parse(line: &[u8]) -> Result<MetricSample<'_>, ParseErrorCode> {
    let (first, rest) = next_field(line);
    let rest = rest.ok_or(ParseErrorCode::MissingType)?;
    let colon = find_byte(first, b':').ok_or(ParseErrorCode::InvalidNameValue)?;
    let (name, raw_value) = (&first[..colon], &first[colon + 1..]);
    if name.is_empty() || raw_value.is_empty() {
        return Err(ParseErrorCode::InvalidNameValue);
    }
    if !is_valid_metric_name(name) {
        return Err(ParseErrorCode::InvalidName);
    }
    let (symbol, mut fields) = next_field(rest);
    let kind = MetricKind::from_symbol(symbol).ok_or(ParseErrorCode::UnknownType)?;
    let value = match kind {
        MetricKind::Set => SampleValue::Set(raw_value),
        _ => numbers(raw_value)?,
    };
    let mut sample = MetricSample {
        name,
        kind,
        value,
        sample_rate: 1.0,
        tags: b"",
        timestamp: None,
        container_id: None,
        external_data: None,
        cardinality: None,
    };
    while let Some(remaining) = fields {
        let (field, next) = next_field(remaining);
        fields = next;
        match field.first() {
            Some(b'#') => sample.tags = &field[1..],
            Some(b'@') => {
                let rate = parse_f64(&field[1..]).ok_or(ParseErrorCode::InvalidSampleRate)?;
                sample.sample_rate = if rate > 0.0 && rate <= 1.0 { rate } else { 1.0 };
            }
            Some(b'T') => {
                let ts = parse_i64(&field[1..])
                    .filter(|&ts| ts >= 1 && ts.checked_mul(1000).is_some())
                    .ok_or(ParseErrorCode::InvalidTimestamp)?;
                sample.timestamp = Some(ts);
            }
            _ => {
                if let Some(v) = field.strip_prefix(b"c:") {
                    sample.container_id = Some(v);
                } else if let Some(v) = field.strip_prefix(b"e:") {
                    sample.external_data = Some(v);
                } else if let Some(v) = field.strip_prefix(b"card:") {
                    sample.cardinality = Some(v);
                }
                // Anything else: ignored (forward compatibility).
            }
        }
    }
    Ok(sample)
}
