//! `POST /api/v1/check_run` (spec §4): service check results.
//!
//! The body is one JSON object (datadogpy) or an array of them
//! (datadog-api-client, the Agent). Any other top-level JSON type is a 400.
//! Each object is checked on its own; a bad one is skipped
//! ([`Parsed::rejected`], detail `check_runs[i]: ...`):
//!
//! | field | accepted | otherwise |
//! |---|---|---|
//! | `check` | non-empty string | [`RejectCode::MissingMetricName`] (absent, null, `""`), [`RejectCode::BadField`] |
//! | `status` | integer 0–3 (`3.0` too) | [`RejectCode::BadStatus`] (absent included) |
//! | `host_name` | string, null, absent (`""` → none) | [`RejectCode::BadField`] |
//! | `timestamp` | number of seconds (fraction truncated), null, absent | [`RejectCode::BadField`] |
//! | `message` | string, null, absent (→ `""`) | [`RejectCode::BadField`] |
//! | `tags` | array of strings (normalised like metric tags), null, absent | [`RejectCode::BadField`] |
//!
//! The check name is kept as sent (not normalised); the host is not added
//! to `tags`, it has its own field.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

use crate::json::{
    Array, Field, Key, Kind, ListState, MapVisit, Object, Shaped, TagsVisit, Val, opt_num, opt_str,
    other_scalars,
};
use crate::{IntakeError, Parsed, RejectCode};

/// One service check result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// Check name, as sent (e.g. `app.ok`).
    pub check: String,
    /// `host_name`, if a non-empty one was sent.
    pub host: Option<String>,
    /// 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub status: u8,
    /// `timestamp` in milliseconds (whole seconds × 1000); `None` when not
    /// sent, in which case the receive time applies (the caller's choice).
    pub timestamp_ms: Option<i64>,
    /// Free text; `""` when not sent.
    pub message: String,
    /// Normalised tags.
    pub tags: Vec<String>,
}

/// Parses a `POST /api/v1/check_run` body (object or array of objects).
///
/// Errors (400): invalid JSON; a top level that is neither an object nor an
/// array. Per-object problems are skipped (module doc).
pub fn parse_check_runs(body: &[u8]) -> Result<Parsed<CheckRun>, IntakeError> {
    let mut sink = CheckSink { out: Parsed::new() };
    let mut de = serde_json::Deserializer::from_slice(body);
    let top = Top { sink: &mut sink }
        .deserialize(&mut de)
        .map_err(IntakeError::from_json)?;
    de.end().map_err(IntakeError::from_json)?;
    if let Some(kind) = top {
        return Err(IntakeError::BadRequest(format!(
            "expected a JSON object or an array of objects, found {kind}"
        )));
    }
    Ok(sink.out)
}

/// The top level: one object, or an array handed to the sink. Answers the
/// kind found when it is neither.
struct Top<'s> {
    sink: &'s mut CheckSink,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Option<Kind>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Kind>, D::Error> {
        d.deserialize_any(self)
    }
}

fn none_kind(k: Kind) -> Option<Kind> {
    Some(k)
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Option<Kind>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a check run object or an array of them")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Kind>, A::Error> {
        let raw = CheckVisit.visit(map)?;
        self.sink.finish(Shaped::Ok(raw), 0);
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Kind>, A::Error> {
        let mut index = 0;
        while let Some(raw) = seq.next_element_seed(Object(CheckVisit))? {
            self.sink.finish(raw, index);
            index += 1;
        }
        Ok(None)
    }
    other_scalars!(none_kind);
}

/// A check run as read.
#[derive(Default)]
struct RawCheck<'de> {
    check: Field<'de>,
    host_name: Field<'de>,
    status: Field<'de>,
    timestamp: Field<'de>,
    message: Field<'de>,
    tags: Vec<String>,
    tags_state: ListState<Kind>,
}

struct CheckVisit;

impl<'de> MapVisit<'de> for CheckVisit {
    type Out = RawCheck<'de>;
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<RawCheck<'de>, A::Error> {
        let mut r = RawCheck::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "check" => r.check = Some(map.next_value::<Val<'de>>()?),
                "host_name" => r.host_name = Some(map.next_value::<Val<'de>>()?),
                "status" => r.status = Some(map.next_value::<Val<'de>>()?),
                "timestamp" => r.timestamp = Some(map.next_value::<Val<'de>>()?),
                "message" => r.message = Some(map.next_value::<Val<'de>>()?),
                "tags" => {
                    r.tags.clear();
                    let s = map.next_value_seed(Array(TagsVisit(&mut r.tags)))?;
                    r.tags_state = ListState::from_shaped(s);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

struct CheckSink {
    out: Parsed<CheckRun>,
}

type Skip = (RejectCode, String);

fn bad_type(field: &str, want: &str, k: Kind) -> Skip {
    (
        RejectCode::BadField,
        format!("`{field}` must be {want}, found {k}"),
    )
}

impl CheckSink {
    fn finish(&mut self, raw: Shaped<RawCheck<'_>>, index: usize) {
        match raw {
            Shaped::Other(k) => self.out.reject(RejectCode::BadField, || {
                format!("check_runs[{index}]: expected an object, found {k}")
            }),
            Shaped::Ok(raw) => match check_run(raw) {
                Ok(run) => self.out.rows.push(run),
                Err((code, msg)) => self
                    .out
                    .reject(code, || format!("check_runs[{index}]: {msg}")),
            },
        }
    }
}

/// The checks, in order: check, status, host_name, timestamp, message, tags.
fn check_run(raw: RawCheck<'_>) -> Result<CheckRun, Skip> {
    let check = match opt_str(&raw.check) {
        Err(k) => return Err(bad_type("check", "a string", k)),
        Ok(None | Some("")) => {
            return Err((
                RejectCode::MissingMetricName,
                "missing check name".to_owned(),
            ));
        }
        Ok(Some(c)) => c.to_owned(),
    };
    let status = match opt_num(&raw.status) {
        Err(k) => {
            return Err((
                RejectCode::BadStatus,
                format!("`status` must be 0, 1, 2 or 3, found {k}"),
            ));
        }
        Ok(None) => return Err((RejectCode::BadStatus, "missing `status`".to_owned())),
        Ok(Some(n)) => match n.as_exact_i64() {
            Some(s @ 0..=3) => s as u8,
            _ => {
                return Err((
                    RejectCode::BadStatus,
                    format!("`status` must be 0, 1, 2 or 3, found {}", n.as_f64()),
                ));
            }
        },
    };
    let host = opt_str(&raw.host_name)
        .map_err(|k| bad_type("host_name", "a string", k))?
        .filter(|h| !h.is_empty())
        .map(str::to_owned);
    let timestamp_ms = match opt_num(&raw.timestamp) {
        Err(k) => return Err(bad_type("timestamp", "a number of seconds", k)),
        Ok(None) => None,
        Ok(Some(n)) => Some(
            n.secs_to_ms()
                .ok_or_else(|| (RejectCode::BadField, "`timestamp` out of range".to_owned()))?,
        ),
    };
    let message = opt_str(&raw.message)
        .map_err(|k| bad_type("message", "a string", k))?
        .unwrap_or("")
        .to_owned();
    match raw.tags_state {
        ListState::NotArray(Kind::Null) | ListState::Absent | ListState::Array(None) => {}
        ListState::NotArray(k) => return Err(bad_type("tags", "an array of strings", k)),
        ListState::Array(Some((i, k))) => {
            return Err((
                RejectCode::BadField,
                format!("tags[{i}] must be a string, found {k}"),
            ));
        }
    }
    Ok(CheckRun {
        check,
        host,
        status,
        timestamp_ms,
        message,
        tags: raw.tags,
    })
}
