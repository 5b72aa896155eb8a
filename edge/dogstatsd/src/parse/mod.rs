//! The DogStatsD datagram parser: pure, and allocation-free for metric lines.
//!
//! A datagram holds one or more messages separated by `\n`; empty lines are
//! skipped. Each message is a metric sample ([`MetricSample`], borrowing the
//! datagram's bytes), an event (`_e{…}`, [`Event`]) or a service check
//! (`_sc|…`, [`ServiceCheck`]); the last two are rare and owned. A malformed
//! message yields a [`ParseErrorCode`] and parsing goes on with the next line:
//! one bad line never costs the rest of the datagram.
//!
//! What is *not* done here: metric names and tags are returned raw (the
//! aggregator normalises them once per context, see [`crate::normalize`]);
//! event and service-check tags are normalised here since those messages
//! are owned anyway.
//!
//! The grammar and the choices made where the Agent is silent are those of
//! the spec, §3.2–3.4; each parser's doc says where it differs from the
//! Agent's.

mod event;
mod metric;
mod service_check;

pub use event::{Event, EventAlertType, EventPriority};
pub use metric::{MetricKind, MetricSample, SampleValue, Values};
pub use service_check::{ServiceCheck, ServiceCheckStatus};

/// Why a message was rejected. A small fixed set, so servers can keep one
/// counter per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ParseErrorCode {
    /// A metric message without any `|` (no type).
    #[error("metric message has no '|' type separator")]
    MissingType,
    /// A metric's first field is not `name:value`, or the name or the value
    /// is empty.
    #[error("metric message is not name:value")]
    InvalidNameValue,
    /// The metric name has no ASCII letter, so no valid name can be made of it.
    #[error("metric name has no ASCII letter")]
    InvalidName,
    /// The type is not one of `g c h d s ms`.
    #[error("unknown metric type")]
    UnknownType,
    /// A value is not a finite decimal number (or a multi-value list holds
    /// none).
    #[error("metric value is not a finite number")]
    InvalidValue,
    /// The `@` field is not a number.
    #[error("sample rate is not a number")]
    InvalidSampleRate,
    /// The `T` field is not an integer of at least 1 (or does not fit in
    /// milliseconds).
    #[error("timestamp is not a positive integer")]
    InvalidTimestamp,
    /// An event header is not `_e{<title len>,<text len>}:`.
    #[error("event header is not _e{{title_len,text_len}}:")]
    InvalidEventHeader,
    /// An event with a zero title length.
    #[error("event title is empty")]
    EmptyEventTitle,
    /// An event shorter than its header's lengths.
    #[error("event is shorter than its declared lengths")]
    EventTooShort,
    /// A service check without a status field.
    #[error("service check has no status")]
    InvalidServiceCheck,
    /// A service check with an empty name.
    #[error("service check name is empty")]
    EmptyServiceCheckName,
    /// A service check status other than `0`–`3`.
    #[error("service check status is not 0, 1, 2 or 3")]
    InvalidServiceCheckStatus,
}

impl ParseErrorCode {
    /// Number of codes; `code as usize` is below it.
    pub const COUNT: usize = 13;

    /// Every code, in declaration order (`ALL[c as usize] == c`).
    pub const ALL: [ParseErrorCode; Self::COUNT] = [
        ParseErrorCode::MissingType,
        ParseErrorCode::InvalidNameValue,
        ParseErrorCode::InvalidName,
        ParseErrorCode::UnknownType,
        ParseErrorCode::InvalidValue,
        ParseErrorCode::InvalidSampleRate,
        ParseErrorCode::InvalidTimestamp,
        ParseErrorCode::InvalidEventHeader,
        ParseErrorCode::EmptyEventTitle,
        ParseErrorCode::EventTooShort,
        ParseErrorCode::InvalidServiceCheck,
        ParseErrorCode::EmptyServiceCheckName,
        ParseErrorCode::InvalidServiceCheckStatus,
    ];

    /// A stable snake_case name, used as the `code:` tag of the malformed
    /// counter.
    pub fn as_str(self) -> &'static str {
        match self {
            ParseErrorCode::MissingType => "missing_type",
            ParseErrorCode::InvalidNameValue => "invalid_name_value",
            ParseErrorCode::InvalidName => "invalid_name",
            ParseErrorCode::UnknownType => "unknown_type",
            ParseErrorCode::InvalidValue => "invalid_value",
            ParseErrorCode::InvalidSampleRate => "invalid_sample_rate",
            ParseErrorCode::InvalidTimestamp => "invalid_timestamp",
            ParseErrorCode::InvalidEventHeader => "invalid_event_header",
            ParseErrorCode::EmptyEventTitle => "empty_event_title",
            ParseErrorCode::EventTooShort => "event_too_short",
            ParseErrorCode::InvalidServiceCheck => "invalid_service_check",
            ParseErrorCode::EmptyServiceCheckName => "empty_service_check_name",
            ParseErrorCode::InvalidServiceCheckStatus => "invalid_service_check_status",
        }
    }
}

/// One parsed DogStatsD message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<'a> {
    /// A metric sample (borrowing the datagram).
    Metric(MetricSample<'a>),
    /// An event.
    Event(Event),
    /// A service check.
    ServiceCheck(ServiceCheck),
}

/// The non-empty `\n`-separated lines of a datagram.
#[inline]
pub fn lines(datagram: &[u8]) -> impl Iterator<Item = &[u8]> {
    Lines { rest: datagram }.filter(|line| !line.is_empty())
}

/// Splits at `\n` with [`find_byte`] (the standard `split` tests one byte
/// at a time).
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        match find_byte(self.rest, b'\n') {
            Some(i) => {
                let line = &self.rest[..i];
                self.rest = &self.rest[i + 1..];
                Some(line)
            }
            None => Some(std::mem::take(&mut self.rest)),
        }
    }
}

/// Index of the first `needle` in `hay`, eight bytes at a time (SWAR:
/// a byte of `x ^ needle·0x01…01` is zero exactly where `needle` is; the
/// classic "has zero byte" test finds the first such byte, since borrows
/// only propagate upward from a zero byte, the lowest flagged byte is
/// exact). Metric lines are scanned for `\n`, `|` and `:`, which this
/// makes about four times faster than a byte loop.
#[inline]
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO.wrapping_mul(needle as u64);
    let mut chunks = hay.chunks_exact(8);
    let mut offset = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w) ^ pattern;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| offset + i)
}

/// Parses every non-empty line of a datagram, in order.
pub fn parse_datagram(
    datagram: &[u8],
) -> impl Iterator<Item = Result<Message<'_>, ParseErrorCode>> {
    lines(datagram).map(parse_message)
}

/// Parses one message (one line, without its `\n`).
///
/// `_e{` starts an event, `_sc|` a service check, anything else is a metric.
/// (The Agent treats every line starting with `_sc` as a service check;
/// a metric cannot start with `_` after normalisation anyway, so only the
/// error code differs.)
#[inline]
pub fn parse_message(line: &[u8]) -> Result<Message<'_>, ParseErrorCode> {
    if line.starts_with(b"_e{") {
        event::parse(line).map(Message::Event)
    } else if line.starts_with(b"_sc|") {
        service_check::parse(line).map(Message::ServiceCheck)
    } else {
        metric::parse(line).map(Message::Metric)
    }
}

/// Splits at the first `|`: the field before it and what follows (`None`
/// when there is no `|`), like the Agent's `nextField`.
#[inline]
pub(crate) fn next_field(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    match find_byte(s, b'|') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// Parses a decimal float (sign, exponent, `inf`/`nan` spellings included;
/// the callers reject what is not finite where it matters).
#[inline]
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Parses a decimal integer with an optional sign.
#[inline]
pub(crate) fn parse_i64(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Text from bytes, invalid UTF-8 replaced by U+FFFD.
#[inline]
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Normalised, sorted, de-duplicated tags of an event or service check.
pub(crate) fn owned_tags(raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    crate::normalize::tags_into(raw, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_listed_in_order() {
        for (i, c) in ParseErrorCode::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        let names: std::collections::HashSet<_> =
            ParseErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ParseErrorCode::COUNT);
    }

    #[test]
    fn find_byte_matches_a_byte_loop() {
        let hay: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
        for start in 0..20 {
            for end in start..hay.len() {
                let h = &hay[start..end];
                for needle in [0u8, 7, 14, 128, 250, 255, b'|'] {
                    assert_eq!(find_byte(h, needle), h.iter().position(|&b| b == needle));
                }
            }
        }
        assert_eq!(find_byte(b"\x80\x81|", b'|'), Some(2));
        assert_eq!(
            find_byte(b"\x01\x00\x01\x01\x01\x01\x01\x01\x00", 0),
            Some(1)
        );
    }

    #[test]
    fn lines_skip_empty() {
        let got: Vec<&[u8]> = lines(b"\na:1|c\n\nb:2|g\n").collect();
        assert_eq!(got, [&b"a:1|c"[..], &b"b:2|g"[..]]);
    }
}
