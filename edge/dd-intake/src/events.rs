//! Events: `POST /api/v1/events` (spec §5.1) and `POST /api/v2/events`
//! (spec §5.3).
//!
//! A request carries one event, so every problem is a 400 for the request;
//! there is nothing to skip. Field types are checked strictly (a number
//! where a string belongs is a 400 naming the field and position).
//!
//! # v1 limits: truncated, not refused
//!
//! Datadog documents `title` ≤ 100 and `text` ≤ 4000 characters, but does
//! *not* answer 400 above them: its own client test "Post an event with a
//! long title returns OK" (datadog-api-client BDD suite, `events.feature`)
//! expects 202 for a 100+ character title, and the API truncates long text
//! ("only the 4000 first characters are displayed"). So [`parse_event_v1`]
//! cuts `title` to [`V1_MAX_TITLE_CHARS`] and `text` to
//! [`V1_MAX_TEXT_CHARS`] characters and accepts the event. The one 400
//! Datadog documents with its exact body is a too old `date_happened`:
//! `{"errors":["Event too far in the past"]}`; that needs the clock, so it is
//! [`check_event_time`], for the caller to run.
//!
//! v1 400s: invalid JSON; not an object; `title` or `text` absent or null;
//! `title` empty; a field of the wrong type; `priority` not `normal`/`low`;
//! `alert_type` not one of Datadog's seven; `date_happened` out of range.
//!
//! # v2: validated like Datadog's schema
//!
//! The v2 intake validates against its published schema, so [`parse_event_v2`]
//! refuses what the schema refuses: `data` / `data.attributes` absent;
//! `data.type` not `event`; `category` not `change`/`alert`; `title` absent,
//! empty or above 500 characters; `message` above 4000; `aggregation_key`
//! above 100; `host` above 255; more than 100 tags; a `timestamp` that is not
//! ISO 8601; custom `attributes` absent or not an object; a `change` without
//! `changed_resource` `{name, type}`; an `alert` without a `status` of
//! `warn`/`error`/`ok`, or with a `priority` other than `"1"`–`"5"`.
//! The 400 messages are ours (Datadog's exact v2 wording is not recorded in
//! any fixture).

use serde::Deserialize;

use crate::IntakeError;
use crate::json::Num;
use crate::normalize;

/// An event from either API version, as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventIn {
    /// Title (v1: cut to [`V1_MAX_TITLE_CHARS`] characters).
    pub title: String,
    /// Body: v1 `text` (cut to [`V1_MAX_TEXT_CHARS`]), v2 `message` (`""` when
    /// absent).
    pub text: String,
    /// v1 `date_happened` (seconds) or v2 `timestamp` (ISO 8601), in
    /// milliseconds; `None` means "now" (the caller's clock).
    pub date_happened_ms: Option<i64>,
    /// v1: `normal` or `low`. v2 alerts: `"1"`–`"5"`.
    pub priority: Option<String>,
    /// Host name, as sent.
    pub host: Option<String>,
    /// Normalised tags (metric tag rules).
    pub tags: Vec<String>,
    /// v1 `alert_type`. v2 alerts: `status` mapped `error` → `error`,
    /// `warn` → `warning`, `ok` → `success`. `None` for v2 changes.
    pub alert_type: Option<String>,
    /// Aggregation key.
    pub aggregation_key: Option<String>,
    /// v1 `source_type_name`; v2 `integration_id`.
    pub source_type_name: Option<String>,
    /// v1 `related_event_id`.
    pub related_event_id: Option<i64>,
    /// v1 `device_name`.
    pub device_name: Option<String>,
    /// v2 `category`: `change` or `alert`.
    pub category: Option<String>,
    /// v2 category-specific `attributes` object, as sent.
    pub attributes: Option<serde_json::Value>,
}

/// v1 title limit, in characters (longer titles are cut).
pub const V1_MAX_TITLE_CHARS: usize = 100;
/// v1 text limit, in characters (longer texts are cut).
pub const V1_MAX_TEXT_CHARS: usize = 4000;
/// v2 `title` limit, in characters (longer is a 400).
pub const V2_MAX_TITLE_CHARS: usize = 500;
/// v2 `message` limit, in characters (longer is a 400).
pub const V2_MAX_MESSAGE_CHARS: usize = 4000;
/// v2 `aggregation_key` limit, in characters.
pub const V2_MAX_AGGREGATION_KEY_CHARS: usize = 100;
/// v2 `host` limit, in characters.
pub const V2_MAX_HOST_CHARS: usize = 255;
/// v2 most tags per event.
pub const V2_MAX_TAGS: usize = 100;
/// Oldest event Datadog takes: 18 hours (API reference, `date_happened`:
/// "limited to events up to 18 hours in the past and two hours in the
/// future").
pub const MAX_EVENT_AGE_MS: i64 = 18 * 3600 * 1000;
/// Furthest into the future Datadog takes an event: 2 hours.
pub const MAX_EVENT_FUTURE_MS: i64 = 2 * 3600 * 1000;

/// v1 `alert_type` values.
const ALERT_TYPES: [&str; 7] = [
    "error",
    "warning",
    "info",
    "success",
    "user_update",
    "recommendation",
    "snapshot",
];

/// Datadog's time window for events, for the HTTP layer (which has the
/// clock): more than [`MAX_EVENT_AGE_MS`] before `now_ms` is
/// `400 {"errors":["Event too far in the past"]}` (Datadog's exact message),
/// more than [`MAX_EVENT_FUTURE_MS`] after it is `Event too far in the
/// future` (our wording). Self-hosted users may want a wider window; this is
/// the SaaS one.
pub fn check_event_time(date_happened_ms: i64, now_ms: i64) -> Result<(), IntakeError> {
    if date_happened_ms < now_ms.saturating_sub(MAX_EVENT_AGE_MS) {
        return Err(IntakeError::BadRequest(
            "Event too far in the past".to_owned(),
        ));
    }
    if date_happened_ms > now_ms.saturating_add(MAX_EVENT_FUTURE_MS) {
        return Err(IntakeError::BadRequest(
            "Event too far in the future".to_owned(),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(expecting = "an event object")]
struct V1Body {
    title: Option<String>,
    text: Option<String>,
    date_happened: Option<serde_json::Number>,
    priority: Option<String>,
    host: Option<String>,
    tags: Option<Vec<String>>,
    alert_type: Option<String>,
    aggregation_key: Option<String>,
    source_type_name: Option<String>,
    related_event_id: Option<i64>,
    device_name: Option<String>,
}

fn bad(msg: impl Into<String>) -> IntakeError {
    IntakeError::BadRequest(msg.into())
}

/// Deserialises an event body; a body that is JSON but not an object is
/// named as such (serde's own message for `[]` would be "invalid length 0").
fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, IntakeError> {
    serde_json::from_slice(body).map_err(|e| {
        let data_error = e.classify() == serde_json::error::Category::Data;
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(&b) if data_error && b != b'{' => {
                let found = match b {
                    b'[' => "an array",
                    b'"' => "a string",
                    b't' | b'f' => "a boolean",
                    b'n' => "null",
                    _ => "a number",
                };
                bad(format!("expected a JSON object, found {found}"))
            }
            _ => IntakeError::from_json(e),
        }
    })
}

fn cut(mut s: String, max_chars: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max_chars) {
        s.truncate(i);
    }
    s
}

fn tags_of(tags: Option<Vec<String>>) -> Vec<String> {
    tags.unwrap_or_default()
        .into_iter()
        .filter_map(normalize::tag_owned)
        .collect()
}

/// Shows a client string in a message, bounded.
fn shown(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Parses a `POST /api/v1/events` body (rules in the module doc).
pub fn parse_event_v1(body: &[u8]) -> Result<EventIn, IntakeError> {
    let b: V1Body = parse_json(body)?;
    let title = b
        .title
        .ok_or_else(|| bad("missing required field `title`"))?;
    if title.is_empty() {
        return Err(bad("`title` must not be empty"));
    }
    let text = b.text.ok_or_else(|| bad("missing required field `text`"))?;
    let date_happened_ms = match b.date_happened {
        None => None,
        Some(n) => Some(
            num_of(&n)
                .secs_to_ms()
                .ok_or_else(|| bad(format!("`date_happened` {n} is out of range")))?,
        ),
    };
    let priority = match b.priority.map(|p| p.to_ascii_lowercase()) {
        Some(p) if p != "normal" && p != "low" => {
            return Err(bad(format!(
                "invalid `priority` \"{}\": expected \"normal\" or \"low\"",
                shown(&p)
            )));
        }
        p => p,
    };
    let alert_type = match b.alert_type.map(|a| a.to_ascii_lowercase()) {
        Some(a) if !ALERT_TYPES.contains(&a.as_str()) => {
            return Err(bad(format!(
                "invalid `alert_type` \"{}\": expected one of {}",
                shown(&a),
                ALERT_TYPES.join(", ")
            )));
        }
        a => a,
    };
    Ok(EventIn {
        title: cut(title, V1_MAX_TITLE_CHARS),
        text: cut(text, V1_MAX_TEXT_CHARS),
        date_happened_ms,
        priority,
        host: b.host.filter(|h| !h.is_empty()),
        tags: tags_of(b.tags),
        alert_type,
        aggregation_key: b.aggregation_key,
        source_type_name: b.source_type_name,
        related_event_id: b.related_event_id,
        device_name: b.device_name,
        category: None,
        attributes: None,
    })
}

fn num_of(n: &serde_json::Number) -> Num {
    if let Some(u) = n.as_u64() {
        Num::U(u)
    } else if let Some(i) = n.as_i64() {
        Num::I(i)
    } else {
        Num::F(n.as_f64().unwrap_or(f64::NAN))
    }
}

#[derive(Deserialize)]
#[serde(expecting = "an object with a `data` event")]
struct V2Body {
    data: Option<V2Data>,
}

#[derive(Deserialize)]
struct V2Data {
    #[serde(rename = "type")]
    kind: Option<String>,
    attributes: Option<V2Attributes>,
}

#[derive(Deserialize)]
struct V2Attributes {
    category: Option<String>,
    title: Option<String>,
    message: Option<String>,
    tags: Option<Vec<String>>,
    aggregation_key: Option<String>,
    host: Option<String>,
    timestamp: Option<String>,
    integration_id: Option<String>,
    attributes: Option<serde_json::Value>,
}

const A: &str = "data.attributes";

/// Checks an optional v2 string field: not longer than `max` characters,
/// and not empty unless `empty_ok`.
fn check_len(field: &str, v: Option<&str>, max: usize, empty_ok: bool) -> Result<(), IntakeError> {
    match v {
        Some("") if !empty_ok => Err(bad(format!("`{A}.{field}` must not be empty"))),
        Some(s) if s.chars().count() > max => {
            Err(bad(format!("`{A}.{field}` is limited to {max} characters")))
        }
        _ => Ok(()),
    }
}

/// Parses a `POST /api/v2/events` body (rules in the module doc).
pub fn parse_event_v2(body: &[u8]) -> Result<EventIn, IntakeError> {
    let b: V2Body = parse_json(body)?;
    let data = b.data.ok_or_else(|| bad("missing required field `data`"))?;
    match data.kind.as_deref() {
        Some("event") => {}
        Some(other) => {
            return Err(bad(format!(
                "`data.type` must be \"event\", found \"{}\"",
                shown(other)
            )));
        }
        None => return Err(bad("missing required field `data.type`")),
    }
    let a = data
        .attributes
        .ok_or_else(|| bad("missing required field `data.attributes`"))?;
    let category = a
        .category
        .ok_or_else(|| bad(format!("missing required field `{A}.category`")))?;
    let title = a
        .title
        .ok_or_else(|| bad(format!("missing required field `{A}.title`")))?;
    check_len("title", Some(&title), V2_MAX_TITLE_CHARS, false)?;
    check_len("message", a.message.as_deref(), V2_MAX_MESSAGE_CHARS, true)?;
    check_len(
        "aggregation_key",
        a.aggregation_key.as_deref(),
        V2_MAX_AGGREGATION_KEY_CHARS,
        false,
    )?;
    check_len("host", a.host.as_deref(), V2_MAX_HOST_CHARS, false)?;
    if a.tags.as_ref().is_some_and(|t| t.len() > V2_MAX_TAGS) {
        return Err(bad(format!("`{A}.tags` is limited to {V2_MAX_TAGS} tags")));
    }
    let date_happened_ms = match &a.timestamp {
        None => None,
        Some(ts) => Some(parse_rfc3339_ms(ts).ok_or_else(|| {
            bad(format!(
                "`{A}.timestamp` \"{}\" is not an ISO 8601 date-time (e.g. 2017-01-15T01:30:15.010000Z)",
                shown(ts)
            ))
        })?),
    };
    let custom = match a.attributes {
        Some(v @ serde_json::Value::Object(_)) => v,
        Some(_) => return Err(bad(format!("`{A}.attributes` must be an object"))),
        None => return Err(bad(format!("missing required field `{A}.attributes`"))),
    };
    let (priority, alert_type) = match category.as_str() {
        "change" => {
            let ok = custom.get("changed_resource").is_some_and(|r| {
                r.get("name").is_some_and(|v| v.is_string())
                    && r.get("type").is_some_and(|v| v.is_string())
            });
            if !ok {
                return Err(bad(format!(
                    "`{A}.attributes.changed_resource` with string `name` and `type` is required for a change event"
                )));
            }
            (None, None)
        }
        "alert" => {
            let alert_type = match custom.get("status").and_then(|s| s.as_str()) {
                Some("error") => "error",
                Some("warn") => "warning",
                Some("ok") => "success",
                _ => {
                    return Err(bad(format!(
                        "`{A}.attributes.status` must be \"warn\", \"error\" or \"ok\" for an alert event"
                    )));
                }
            };
            let priority = match custom.get("priority") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(p))
                    if matches!(p.as_str(), "1" | "2" | "3" | "4" | "5") =>
                {
                    Some(p.clone())
                }
                Some(_) => {
                    return Err(bad(format!(
                        "`{A}.attributes.priority` must be one of \"1\", \"2\", \"3\", \"4\", \"5\""
                    )));
                }
            };
            (priority, Some(alert_type.to_owned()))
        }
        other => {
            return Err(bad(format!(
                "`{A}.category` must be \"change\" or \"alert\", found \"{}\"",
                shown(other)
            )));
        }
    };
    Ok(EventIn {
        title,
        text: a.message.unwrap_or_default(),
        date_happened_ms,
        priority,
        host: a.host,
        tags: tags_of(a.tags),
        alert_type,
        aggregation_key: a.aggregation_key,
        source_type_name: a.integration_id,
        related_event_id: None,
        device_name: None,
        category: Some(category),
        attributes: Some(custom),
    })
}

/// Parses an ISO 8601 / RFC 3339 date-time to milliseconds since the epoch.
///
/// Accepted: `YYYY-MM-DD`, then optionally `T` (or `t` or a space)
/// `HH:MM[:SS[.fraction]]`, then optionally `Z`/`z` or an offset `±HH:MM`,
/// `±HHMM`, `±HH`. No offset means UTC. Fractions beyond milliseconds are
/// truncated; a leap second (`:60`) counts as `:59`.
fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let year = num(0, 4)?;
    (b.get(4) == Some(&b'-')).then_some(())?;
    let month = num(5, 2)?;
    (b.get(7) == Some(&b'-')).then_some(())?;
    let day = num(8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut i = 10;
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    if matches!(b.get(i), Some(b'T' | b't' | b' ')) {
        hour = num(i + 1, 2)?;
        (b.get(i + 3) == Some(&b':')).then_some(())?;
        minute = num(i + 4, 2)?;
        i += 6;
        if b.get(i) == Some(&b':') {
            second = num(i + 1, 2)?;
            i += 3;
            if matches!(b.get(i), Some(b'.' | b',')) {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    if i - start < 3 {
                        millis = millis * 10 + i64::from(b[i] - b'0');
                    }
                    i += 1;
                }
                if i == start {
                    return None;
                }
                for _ in (i - start)..3 {
                    millis *= 10;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        second = second.min(59);
    }
    let offset_secs = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(i + 1, 2)?;
            let om = match b.len() - (i + 3) {
                0 => 0,
                2 => num(i + 3, 2)?,
                3 if b[i + 3] == b':' => num(i + 4, 2)?,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1000 + millis)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2017-01-15T01:30:15.010000Z", Some(1_484_443_815_010)),
            ("2017-01-15T01:30:15.01Z", Some(1_484_443_815_010)),
            ("2017-01-15T01:30:15.0109Z", Some(1_484_443_815_010)),
            ("2025-01-01T00:00:00Z", Some(1_735_689_600_000)),
            ("2025-01-01T00:00:00+00:00", Some(1_735_689_600_000)),
            ("2025-01-01T01:00:00+01:00", Some(1_735_689_600_000)),
            ("2024-12-31T23:00:00-01:00", Some(1_735_689_600_000)),
            ("2025-01-01T01:00:00+0100", Some(1_735_689_600_000)),
            ("2025-01-01T01:00:00+01", Some(1_735_689_600_000)),
            ("2025-01-01 00:00:00", Some(1_735_689_600_000)),
            ("2025-01-01T00:00", Some(1_735_689_600_000)),
            ("2025-01-01", Some(1_735_689_600_000)),
            ("2024-02-29T12:00:00Z", Some(1_709_208_000_000)),
            ("2016-12-31T23:59:60Z", Some(1_483_228_799_000)),
            ("2023-02-29T00:00:00Z", None),
            ("2025-13-01T00:00:00Z", None),
            ("2025-01-01T24:00:00Z", None),
            ("2025-01-01T00:00:00.Z", None),
            ("2025-01-01T00:00:00Zx", None),
            ("2025-01-01T00:00:00+1", None),
            ("1795644497", None),
            ("", None),
            ("2025-1-01", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_rfc3339_ms(s), *want, "{s}");
        }
    }

    #[test]
    fn event_time_window() {
        let now = 1_795_644_497_000;
        assert!(check_event_time(now, now).is_ok());
        assert!(check_event_time(now - MAX_EVENT_AGE_MS, now).is_ok());
        let e = check_event_time(now - MAX_EVENT_AGE_MS - 1, now).unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(e.message(), "Event too far in the past");
        assert!(check_event_time(now + MAX_EVENT_FUTURE_MS, now).is_ok());
        assert_eq!(
            check_event_time(now + MAX_EVENT_FUTURE_MS + 1, now)
                .unwrap_err()
                .message(),
            "Event too far in the future"
        );
        assert!(check_event_time(1000, now).is_err());
    }

    #[test]
    fn cut_counts_characters() {
        assert_eq!(cut("h\u{e9}llo".to_owned(), 2), "h\u{e9}");
        assert_eq!(cut("abc".to_owned(), 3), "abc");
        assert_eq!(cut("abc".to_owned(), 5), "abc");
    }
}
