//! Service check messages: `_sc|<name>|<status>[|d:…][|h:…][|#…][|m:<message>]`.

use super::{ParseErrorCode, next_field, owned_tags, parse_i64, text};

/// A service check status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceCheckStatus {
    /// `0`.
    Ok = 0,
    /// `1`.
    Warning = 1,
    /// `2`.
    Critical = 2,
    /// `3`.
    Unknown = 3,
}

impl ServiceCheckStatus {
    /// The status from its wire digit.
    pub fn from_code(code: &[u8]) -> Option<Self> {
        Some(match code {
            b"0" => ServiceCheckStatus::Ok,
            b"1" => ServiceCheckStatus::Warning,
            b"2" => ServiceCheckStatus::Critical,
            b"3" => ServiceCheckStatus::Unknown,
            _ => return None,
        })
    }

    /// The numeric status, as `/api/v1/check_run` takes it.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A DogStatsD service check.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCheck {
    /// Check name, as sent (not normalised).
    pub name: String,
    /// Status.
    pub status: ServiceCheckStatus,
    /// `d:` timestamp, unix seconds.
    pub timestamp: Option<i64>,
    /// `h:` host name. The server fills in its default host when absent.
    pub host: Option<String>,
    /// `#` tags, normalised, sorted and de-duplicated.
    pub tags: Vec<String>,
    /// `m:` message, with `\n` turned into newlines and `m\:` into `m:`.
    pub message: Option<String>,
    /// `c:` origin (container id field) as sent.
    pub container_id: Option<String>,
}

/// Undoes datadogpy's escapes in a service check message.
fn unescape_message(b: &[u8]) -> String {
    let s = text(b);
    if s.contains('\\') {
        s.replace("\\n", "\n").replace("m\\:", "m:")
    } else {
        s
    }
}

/// Parses one service check message.
///
/// Server choice (spec §3.4): once a field starts with `m:`, the rest of the
/// message, `|` included, is the message text (datadogpy does not escape
/// `|`; the Agent would cut the text at the first one). An invalid optional
/// field (a bad `d:`) is ignored, as in the Agent.
pub(super) fn parse(line: &[u8]) -> Result<ServiceCheck, ParseErrorCode> {
    let rest = &line[b"_sc|".len()..];
    let (name, rest) = next_field(rest);
    if name.is_empty() {
        return Err(ParseErrorCode::EmptyServiceCheckName);
    }
    let rest = rest.ok_or(ParseErrorCode::InvalidServiceCheck)?;
    let (status, mut fields) = next_field(rest);
    let status =
        ServiceCheckStatus::from_code(status).ok_or(ParseErrorCode::InvalidServiceCheckStatus)?;
    let mut check = ServiceCheck {
        name: text(name),
        status,
        timestamp: None,
        host: None,
        tags: Vec::new(),
        message: None,
        container_id: None,
    };
    while let Some(remaining) = fields {
        if let Some(message) = remaining.strip_prefix(b"m:") {
            check.message = Some(unescape_message(message));
            break;
        }
        let (field, next) = next_field(remaining);
        fields = next;
        if let Some(v) = field.strip_prefix(b"d:") {
            if let Some(ts) = parse_i64(v) {
                check.timestamp = Some(ts);
            }
        } else if let Some(v) = field.strip_prefix(b"h:") {
            check.host = Some(text(v));
        } else if let Some(v) = field.strip_prefix(b"#") {
            check.tags = owned_tags(v);
        } else if let Some(v) = field.strip_prefix(b"c:") {
            check.container_id = Some(text(v));
        }
    }
    Ok(check)
}
