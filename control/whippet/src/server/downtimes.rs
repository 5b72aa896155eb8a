//! Downtimes (`/api/v1/downtime`) and monitor muting
//! (`/api/v1/monitor/{id}/mute`, `/unmute`), as `datadog-api-client`'s
//! `DowntimesApi` (v1) and Datadog's older clients call them.
//!
//! # What it owns
//! - The wire shape of a v1 downtime: which fields a client may write,
//!   their defaults, how they are stored (the normalised definition of
//!   [`normalise`]), and the read-only fields computed on every answer
//!   (`active`, `canceled`, `disabled`, `downtime_type`, ...).
//! - Muting: `mute` writes `options.silenced[scope] = end` (`null`: until
//!   unmuted) into the monitor definition, `unmute` removes a scope or all
//!   of them; the scheduler reads `options.silenced` itself.
//!
//! # What it must never do
//! Decide what a downtime covers or when it is in effect: that is
//! `alerting::downtime`, which also validates every definition before it
//! is stored, so the scheduler never meets one it cannot read.
//!
//! Every call needs both keys, of the same org. A canceled downtime stays
//! readable (`canceled` set, `active` false) and can no longer be updated.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use whippet_meta::{DowntimeRecord, MonitorRecord, OrgId};

use super::AppState;
use super::error::{ApiError, json};
use super::extract::{AppOrg, JsonBody};
use crate::alerting::downtime::{Downtime, monitor_tags};

/// The fields of a v1 downtime a client writes, and their defaults on
/// create (Datadog's: every monitor, starting now, no end, no recurrence,
/// notify when it ends on any alerting state, whether canceled or expired).
/// Everything else in a body (`id`, `active`, `creator_id`, ...) is
/// read-only and ignored, as Datadog does.
fn defaults(now_s: i64) -> Value {
    json!({
        "scope": ["*"],
        "monitor_id": null,
        "monitor_tags": ["*"],
        "start": now_s,
        "end": null,
        "recurrence": null,
        "message": null,
        "timezone": "UTC",
        "mute_first_recovery_notification": false,
        "notify_end_states": ["alert", "no data", "warn"],
        "notify_end_types": ["canceled", "expired"],
    })
}

/// The values `notify_end_states` takes (Datadog's `NotifyEndState`).
const END_STATES: [&str; 3] = ["alert", "no data", "warn"];

/// The values `notify_end_types` takes (Datadog's `NotifyEndType`).
const END_TYPES: [&str; 2] = ["canceled", "expired"];

/// The keys of a `recurrence` object that are stored and echoed.
const RECURRENCE_KEYS: [&str; 6] = [
    "type",
    "period",
    "week_days",
    "until_date",
    "until_occurrences",
    "rrule",
];

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Datadog's body for an unknown downtime.
fn downtime_not_found() -> ApiError {
    ApiError::not_found("Downtime not found")
}

/// Datadog's body for an unknown monitor.
fn monitor_not_found() -> ApiError {
    ApiError::not_found("Monitor not found")
}

fn parse_id(id: &str, missing: fn() -> ApiError) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| missing())
}

/// A list of allowed strings.
fn check_enum_list(def: &Value, key: &str, allowed: &[&str]) -> Result<(), String> {
    let ok = def.get(key).and_then(Value::as_array).is_some_and(|a| {
        a.iter()
            .all(|v| v.as_str().is_some_and(|s| allowed.contains(&s)))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("{key} must be a list of {}", allowed.join(", ")))
    }
}

/// `base` (the stored definition, or the defaults on create) with the
/// writable fields of `body` applied, checked. A `null` `start` keeps the
/// base's; a string scope becomes a one-entry list; an empty
/// `monitor_tags` means every monitor (`["*"]`).
pub fn normalise(base: &Value, body: &Value) -> Result<Value, String> {
    let Some(given) = body.as_object() else {
        return Err("the request body must be a JSON object".into());
    };
    let mut def = base.as_object().cloned().unwrap_or_default();
    for key in defaults(0).as_object().into_iter().flat_map(Map::keys) {
        let Some(v) = given.get(key) else { continue };
        let v = match (key.as_str(), v) {
            ("start", Value::Null) => continue,
            ("scope" | "monitor_tags", Value::String(s)) => json!([s]),
            ("monitor_tags", Value::Array(a)) if a.is_empty() => json!(["*"]),
            ("recurrence", Value::Object(r)) => Value::Object(
                r.iter()
                    .filter(|(k, _)| RECURRENCE_KEYS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => v.clone(),
        };
        def.insert(key.clone(), v);
    }
    let def = Value::Object(def);
    if def
        .get("scope")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err(
            "scope must be a non-empty list of tags, such as [\"*\"] or [\"env:prod\"]".into(),
        );
    }
    Downtime::parse(&def)?;
    if !matches!(def.get("message"), Some(Value::Null | Value::String(_))) {
        return Err("message must be a string".into());
    }
    if !def.get("timezone").is_some_and(Value::is_string) {
        return Err("timezone must be a string".into());
    }
    if !def
        .get("mute_first_recovery_notification")
        .is_some_and(Value::is_boolean)
    {
        return Err("mute_first_recovery_notification must be true or false".into());
    }
    check_enum_list(&def, "notify_end_states", &END_STATES)?;
    check_enum_list(&def, "notify_end_types", &END_TYPES)?;
    Ok(def)
}

/// `downtime_type`: 0 for `*`, 1 when every scope tag is a `host:` tag, 2
/// otherwise.
fn downtime_type(d: &Downtime) -> i64 {
    if d.scope_tags.is_empty() {
        0
    } else if d.scope_tags.iter().all(|t| t.starts_with("host:")) {
        1
    } else {
        2
    }
}

/// A downtime as the API returns it, at `now_s`.
fn downtime_json(r: &DowntimeRecord, now_s: i64) -> Value {
    let mut out = r.definition.as_object().cloned().unwrap_or_default();
    let parsed = Downtime::parse(&r.definition).ok();
    let active = r.canceled_at.is_none() && parsed.as_ref().is_some_and(|d| d.active_at(now_s));
    out.insert("id".into(), json!(r.id));
    out.insert("active".into(), json!(active));
    out.insert(
        "canceled".into(),
        r.canceled_at
            .map_or(Value::Null, |ms| json!(ms.div_euclid(1000))),
    );
    out.insert("disabled".into(), json!(r.canceled_at.is_some()));
    out.insert("creator_id".into(), json!(1));
    out.insert("updater_id".into(), Value::Null);
    out.insert("parent_id".into(), Value::Null);
    out.insert(
        "downtime_type".into(),
        json!(parsed.as_ref().map_or(0, downtime_type)),
    );
    Value::Object(out)
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name).is_some_and(|v| v == "true" || v == "1")
}

/// Checks that `def`'s `monitor_id`, if any, names a monitor of `org`.
async fn check_monitor(s: &AppState, org: OrgId, def: &Value) -> Result<(), ApiError> {
    let Some(id) = def.get("monitor_id").and_then(Value::as_i64) else {
        return Ok(());
    };
    match s.meta.get_monitor(org, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_request(format!(
            "monitor_id {id} does not name a monitor"
        ))),
    }
}

/// `POST /api/v1/downtime`.
pub async fn create(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = body.ok_or_else(|| ApiError::bad_request("a downtime needs a JSON body"))?;
    if body.get("scope").is_none_or(Value::is_null) {
        return Err(ApiError::bad_request(
            "scope is required, such as [\"*\"] or [\"env:prod\"]",
        ));
    }
    let now = now_s();
    let def = normalise(&defaults(now), &body).map_err(ApiError::bad_request)?;
    check_monitor(&s, org, &def).await?;
    let r = s.meta.create_downtime(org, &def).await?;
    tracing::info!(org = org.0, downtime = r.id, "downtime created");
    Ok(json(StatusCode::OK, downtime_json(&r, now)))
}

/// `GET /api/v1/downtime`: every downtime of the org, canceled ones
/// included, or only those in effect now with `current_only=true`.
pub async fn list(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let current_only = flag(&q, "current_only");
    let now = now_s();
    let all = s.meta.list_downtimes(Some(org), !current_only).await?;
    let out: Vec<Value> = all
        .iter()
        .map(|r| downtime_json(r, now))
        .filter(|d| !current_only || d["active"] == json!(true))
        .collect();
    Ok(json(StatusCode::OK, Value::Array(out)))
}

/// `GET /api/v1/downtime/{id}`.
pub async fn get_one(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, downtime_not_found)?;
    let r = s
        .meta
        .get_downtime(org, id)
        .await?
        .ok_or_else(downtime_not_found)?;
    Ok(json(StatusCode::OK, downtime_json(&r, now_s())))
}

/// `PUT /api/v1/downtime/{id}`: the fields given replace the stored ones.
pub async fn update(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, downtime_not_found)?;
    let stored = s
        .meta
        .get_downtime(org, id)
        .await?
        .ok_or_else(downtime_not_found)?;
    if stored.canceled_at.is_some() {
        return Err(ApiError::bad_request(
            "the downtime is canceled and can no longer be updated",
        ));
    }
    let body = body.unwrap_or_else(|| json!({}));
    let def = normalise(&stored.definition, &body).map_err(ApiError::bad_request)?;
    check_monitor(&s, org, &def).await?;
    let r = s
        .meta
        .update_downtime(org, id, &def)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request("the downtime is canceled and can no longer be updated")
        })?;
    Ok(json(StatusCode::OK, downtime_json(&r, now_s())))
}

/// `DELETE /api/v1/downtime/{id}`: cancels it (204, no body; again on a
/// canceled one).
pub async fn cancel(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, downtime_not_found)?;
    s.meta
        .cancel_downtime(org, id)
        .await?
        .ok_or_else(downtime_not_found)?;
    tracing::info!(org = org.0, downtime = id, "downtime canceled");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/downtime/cancel/by_scope` with `{"scope": "env:prod"}`:
/// cancels every downtime not yet canceled whose scope is exactly these
/// tags (in any order); `{"cancelled_ids": [...]}`, or 404 when none.
pub async fn cancel_by_scope(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = body.unwrap_or_else(|| json!({}));
    let Some(scope) = body.get("scope").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(
            "scope is required: the scope of the downtimes to cancel, such as \"env:prod\"",
        ));
    };
    let wanted = Downtime::parse(&json!({"scope": [scope], "start": 0}))
        .map_err(ApiError::bad_request)?
        .scope_tags;
    let same =
        |tags: &[String]| tags.len() == wanted.len() && tags.iter().all(|t| wanted.contains(t));
    let mut cancelled = Vec::new();
    for r in s.meta.list_downtimes(Some(org), false).await? {
        if Downtime::parse(&r.definition).is_ok_and(|d| same(&d.scope_tags))
            && s.meta.cancel_downtime(org, r.id).await?.is_some()
        {
            cancelled.push(r.id);
        }
    }
    if cancelled.is_empty() {
        return Err(ApiError::not_found(format!(
            "No downtime with scope {scope:?} to cancel"
        )));
    }
    Ok(json(StatusCode::OK, json!({"cancelled_ids": cancelled})))
}

/// `GET /api/v1/monitor/{id}/downtimes`: the downtimes in effect now that
/// cover the monitor (any of its groups).
pub async fn of_monitor(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, monitor_not_found)?;
    let m = s
        .meta
        .get_monitor(org, id)
        .await?
        .ok_or_else(monitor_not_found)?;
    let now = now_s();
    let all = s.meta.list_downtimes(Some(org), false).await?;
    let out: Vec<Value> = in_effect_for(&all, &m, now)
        .map(|r| downtime_json(r, now))
        .collect();
    Ok(json(StatusCode::OK, Value::Array(out)))
}

/// The downtimes of `all` (not canceled) in effect at `now_s` that cover
/// monitor `m`, any of its groups.
pub(super) fn in_effect_for<'a>(
    all: &'a [DowntimeRecord],
    m: &MonitorRecord,
    now_s: i64,
) -> impl Iterator<Item = &'a DowntimeRecord> {
    let tags = monitor_tags(&m.definition);
    let id = m.id;
    all.iter().filter(move |r| {
        Downtime::parse(&r.definition)
            .is_ok_and(|d| d.covers_monitor(id, &tags) && d.active_at(now_s))
    })
}

/// A downtime as a monitor's `matching_downtimes` lists it (Datadog's
/// `MatchingDowntime`: `id`, `start`, `end`, `scope`).
pub(super) fn matching_json(r: &DowntimeRecord) -> Value {
    let field = |k: &str| r.definition.get(k).cloned().unwrap_or(Value::Null);
    json!({"id": r.id, "start": field("start"), "end": field("end"), "scope": field("scope")})
}

/// A mute or unmute parameter from the JSON body, else the query string.
fn param(body: &Option<Value>, q: &HashMap<String, String>, key: &str) -> Option<Value> {
    match body.as_ref().and_then(|b| b.get(key)) {
        Some(v) => Some(v.clone()),
        None => q.get(key).map(|v| match v.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(v),
        }),
    }
}

/// A mute scope: `*` or comma-separated tags, without white space.
fn mute_scope(v: Option<Value>) -> Result<String, ApiError> {
    let scope = match v {
        None | Some(Value::Null) => return Ok("*".into()),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => return Err(ApiError::bad_request("scope must be a string")),
    };
    if scope.is_empty() || scope.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request(
            "scope must be \"*\" or tags such as \"host:web-1\", without spaces",
        ));
    }
    Ok(scope)
}

/// Applies `edit` to the monitor's `options.silenced`, stores it, and
/// answers with the monitor as `GET /api/v1/monitor/{id}` shows it.
async fn edit_silenced(
    s: AppState,
    org: OrgId,
    id: i64,
    q: HashMap<String, String>,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> Result<Response, ApiError> {
    let m = s
        .meta
        .get_monitor(org, id)
        .await?
        .ok_or_else(monitor_not_found)?;
    let mut def = m.definition;
    let Some(obj) = def.as_object_mut() else {
        return Err(ApiError::internal(
            "muting a monitor",
            format!("monitor {id}'s definition is not an object"),
        ));
    };
    let options = obj.entry("options").or_insert_with(|| json!({}));
    if !options.is_object() {
        *options = json!({});
    }
    let silenced = options
        .as_object_mut()
        .map(|o| o.entry("silenced").or_insert_with(|| json!({})))
        .expect("options is an object");
    if !silenced.is_object() {
        *silenced = json!({});
    }
    edit(silenced.as_object_mut().expect("silenced is an object"));
    s.meta
        .update_monitor(org, id, &def)
        .await?
        .ok_or_else(monitor_not_found)?;
    s.monitors_changed();
    super::monitors::get_one(State(s), AppOrg(org), Path(id.to_string()), Query(q)).await
}

/// `POST /api/v1/monitor/{id}/mute`: `scope` (default `*`: every group)
/// and `end` (epoch seconds, in the future; absent or `null`: until
/// unmuted), in a JSON body or the query string.
pub async fn mute(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, monitor_not_found)?;
    let scope = mute_scope(param(&body, &q, "scope"))?;
    let end = match param(&body, &q, "end") {
        None | Some(Value::Null) => Value::Null,
        Some(v) => match v.as_i64() {
            Some(end) if end > now_s() => json!(end),
            Some(end) => {
                return Err(ApiError::bad_request(format!(
                    "end ({end}) must be in the future (epoch seconds)"
                )));
            }
            None => {
                return Err(ApiError::bad_request(
                    "end must be an integer (epoch seconds) or null",
                ));
            }
        },
    };
    tracing::info!(org = org.0, monitor = id, %scope, "monitor muted");
    edit_silenced(s, org, id, q, move |silenced| {
        silenced.insert(scope, end);
    })
    .await
}

/// `POST /api/v1/monitor/{id}/unmute`: `all_scopes=true` clears every
/// mute; otherwise `scope` (default `*`) is removed. Unmuting a scope that
/// was not muted succeeds and changes nothing.
pub async fn unmute(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, monitor_not_found)?;
    let all = match param(&body, &q, "all_scopes") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        Some(_) => return Err(ApiError::bad_request("all_scopes must be true or false")),
    };
    let scope = mute_scope(param(&body, &q, "scope"))?;
    tracing::info!(org = org.0, monitor = id, %scope, all, "monitor unmuted");
    edit_silenced(s, org, id, q, move |silenced| {
        if all {
            silenced.clear();
        } else {
            silenced.remove(&scope);
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_fills_defaults_and_keeps_only_writable_fields() {
        let def = normalise(
            &defaults(100),
            &json!({"scope": "env:prod", "id": 5, "active": true, "monitor_tags": [],
                    "end": 200, "recurrence": {"type": "days", "period": 1, "junk": 1}}),
        )
        .unwrap();
        assert_eq!(def["scope"], json!(["env:prod"]));
        assert_eq!(def["monitor_tags"], json!(["*"]));
        assert_eq!(
            (def["start"].as_i64(), def["end"].as_i64()),
            (Some(100), Some(200))
        );
        assert_eq!(def["recurrence"], json!({"type": "days", "period": 1}));
        assert!(def.get("id").is_none() && def.get("active").is_none());
    }

    #[test]
    fn normalise_updates_over_the_stored_definition() {
        let stored = normalise(&defaults(100), &json!({"scope": ["host:a"], "end": 300})).unwrap();
        let def = normalise(
            &stored,
            &json!({"message": "m", "start": null, "end": null}),
        )
        .unwrap();
        assert_eq!(def["scope"], json!(["host:a"]));
        assert_eq!(def["start"], json!(100));
        assert_eq!(def["end"], Value::Null);
        assert_eq!(def["message"], json!("m"));
    }

    #[test]
    fn normalise_rejects_bad_fields() {
        let bad = |b: Value| normalise(&defaults(100), &b).unwrap_err();
        assert!(bad(json!({"scope": []})).contains("scope"));
        assert!(bad(json!({"scope": ["*"], "end": 50})).contains("after start"));
        assert!(bad(json!({"scope": ["*"], "message": 3})).contains("message"));
        assert!(
            bad(json!({"scope": ["*"], "notify_end_states": ["ok"]})).contains("notify_end_states")
        );
        assert!(
            bad(json!({"scope": ["*"], "notify_end_types": ["x"]})).contains("notify_end_types")
        );
        assert!(bad(json!([1])).contains("JSON object"));
    }

    #[test]
    fn downtime_types() {
        let t = |scope: Value| {
            downtime_type(&Downtime::parse(&json!({"scope": scope, "start": 0})).unwrap())
        };
        assert_eq!(t(json!(["*"])), 0);
        assert_eq!(t(json!(["host:a", "host:b"])), 1);
        assert_eq!(t(json!(["host:a,env:prod"])), 2);
    }
}
