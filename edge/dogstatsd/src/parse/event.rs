//! Event messages: `_e{<title len>,<text len>}:<title>|<text>[|d:…][|h:…][|k:…][|p:…][|s:…][|t:…][|#…]`.

use super::{ParseErrorCode, next_field, owned_tags, parse_i64, text};

/// An event's priority (`p:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventPriority {
    /// `normal` (the default).
    #[default]
    Normal,
    /// `low`.
    Low,
}

impl EventPriority {
    /// The wire and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventPriority::Normal => "normal",
            EventPriority::Low => "low",
        }
    }
}

/// An event's alert type (`t:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventAlertType {
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `info` (the default).
    #[default]
    Info,
    /// `success`.
    Success,
}

impl EventAlertType {
    /// The wire and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventAlertType::Error => "error",
            EventAlertType::Warning => "warning",
            EventAlertType::Info => "info",
            EventAlertType::Success => "success",
        }
    }
}

/// A DogStatsD event, with `\n` escapes in title and text turned back into
/// newlines and tags normalised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    /// Title (never empty).
    pub title: String,
    /// Text (may be empty).
    pub text: String,
    /// `d:` date happened, unix seconds.
    pub timestamp: Option<i64>,
    /// `h:` host name. The server fills in its default host when absent.
    pub host: Option<String>,
    /// `k:` aggregation key.
    pub aggregation_key: Option<String>,
    /// `p:` priority.
    pub priority: EventPriority,
    /// `s:` source type name.
    pub source_type_name: Option<String>,
    /// `t:` alert type.
    pub alert_type: EventAlertType,
    /// `#` tags, normalised, sorted and de-duplicated.
    pub tags: Vec<String>,
    /// `c:` origin (container id field) as sent.
    pub container_id: Option<String>,
}

/// Replaces the two characters `\` `n` by a newline.
pub(super) fn unescape_newlines(b: &[u8]) -> String {
    let s = text(b);
    if s.contains("\\n") {
        s.replace("\\n", "\n")
    } else {
        s
    }
}

/// Parses `<digits>` as a length (no sign, no spaces).
fn length(b: &[u8]) -> Option<usize> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Parses one event message.
///
/// As the Agent (`parseEvent`): the header runs to the first `:`; the title
/// is exactly `title len` bytes after it, one byte (the `|`) is skipped, the
/// text is exactly `text len` bytes, so `|` may appear inside both; the
/// remaining `|`-separated fields are recognised by prefix, and an invalid
/// optional field (a bad `d:`, an unknown `p:` or `t:`) is ignored while the
/// event is kept.
pub(super) fn parse(line: &[u8]) -> Result<Event, ParseErrorCode> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(ParseErrorCode::InvalidEventHeader)?;
    let (header, body) = (&line[..colon], &line[colon + 1..]);
    let lengths = header
        .strip_prefix(b"_e{")
        .and_then(|h| h.strip_suffix(b"}"))
        .ok_or(ParseErrorCode::InvalidEventHeader)?;
    let comma = lengths
        .iter()
        .position(|&b| b == b',')
        .ok_or(ParseErrorCode::InvalidEventHeader)?;
    let title_len = length(&lengths[..comma]).ok_or(ParseErrorCode::InvalidEventHeader)?;
    let text_len = length(&lengths[comma + 1..]).ok_or(ParseErrorCode::InvalidEventHeader)?;
    if title_len == 0 {
        return Err(ParseErrorCode::EmptyEventTitle);
    }
    let text_start = title_len
        .checked_add(1)
        .ok_or(ParseErrorCode::EventTooShort)?;
    let end = text_start
        .checked_add(text_len)
        .ok_or(ParseErrorCode::EventTooShort)?;
    if body.len() < end {
        return Err(ParseErrorCode::EventTooShort);
    }
    let mut event = Event {
        title: unescape_newlines(&body[..title_len]),
        text: unescape_newlines(&body[text_start..end]),
        ..Event::default()
    };
    let mut fields = Some(&body[end..]);
    while let Some(remaining) = fields {
        let (field, next) = next_field(remaining);
        fields = next;
        if let Some(v) = field.strip_prefix(b"d:") {
            if let Some(ts) = parse_i64(v) {
                event.timestamp = Some(ts);
            }
        } else if let Some(v) = field.strip_prefix(b"h:") {
            event.host = Some(text(v));
        } else if let Some(v) = field.strip_prefix(b"k:") {
            event.aggregation_key = Some(text(v));
        } else if let Some(v) = field.strip_prefix(b"p:") {
            match v {
                b"normal" => event.priority = EventPriority::Normal,
                b"low" => event.priority = EventPriority::Low,
                _ => {}
            }
        } else if let Some(v) = field.strip_prefix(b"s:") {
            event.source_type_name = Some(text(v));
        } else if let Some(v) = field.strip_prefix(b"t:") {
            match v {
                b"error" => event.alert_type = EventAlertType::Error,
                b"warning" => event.alert_type = EventAlertType::Warning,
                b"info" => event.alert_type = EventAlertType::Info,
                b"success" => event.alert_type = EventAlertType::Success,
                _ => {}
            }
        } else if let Some(v) = field.strip_prefix(b"#") {
            event.tags = owned_tags(v);
        } else if let Some(v) = field.strip_prefix(b"c:") {
            event.container_id = Some(text(v));
        }
    }
    Ok(event)
}
