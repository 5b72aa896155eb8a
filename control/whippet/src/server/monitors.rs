//! The monitor API (`/api/v1/monitor`, spec §7.1), as
//! `datadog-api-client`'s `MonitorsApi` calls it: create, get (with
//! `group_states`), list with filters, update, delete, validate.
//!
//! Definitions are checked by `whippet_monitors::definition` and kept in the
//! metadata store; group states come from the store as the evaluator wrote
//! them. Every call needs both keys, of the same org.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use whippet_meta::{DowntimeRecord, MonitorRecord, OrgId};
use whippet_monitors::definition::{self, EVALUATED_TYPES};
use whippet_monitors::state::{GroupState, Status, overall};

use super::AppState;
use super::composites::{check_delete, check_members};
use super::downtimes::{in_effect_for, matching_json};
use super::error::{ApiError, json};
use super::extract::{AppOrg, JsonBody};

/// Most monitors one list page returns (Datadog's cap on `page_size`).
pub const MAX_PAGE_SIZE: usize = 1000;

/// Datadog's body for an unknown monitor.
fn not_found() -> ApiError {
    ApiError::not_found("Monitor not found")
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, as Datadog writes monitor times.
pub(super) fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = whippet_tsdb::time::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms.rem_euclid(1000) * 1000
    )
}

/// Which group states a `group_states` parameter asks for.
#[derive(Default)]
struct GroupFilter {
    all: bool,
    statuses: Vec<Status>,
}

impl GroupFilter {
    fn parse(q: &HashMap<String, String>) -> Result<Option<GroupFilter>, ApiError> {
        let Some(text) = q.get("group_states") else {
            return Ok(None);
        };
        let mut f = GroupFilter::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "all" => f.all = true,
                "alert" => f.statuses.push(Status::Alert),
                "warn" => f.statuses.push(Status::Warn),
                "no data" => f.statuses.push(Status::NoData),
                "ok" => f.statuses.push(Status::Ok),
                _ => return Err(ApiError::bad_request("Invalid group_state filters.")),
            }
        }
        Ok(Some(f))
    }

    fn wants(&self, s: Status) -> bool {
        self.all || self.statuses.contains(&s)
    }
}

/// The group states of a monitor, parsed (unreadable ones skipped).
async fn groups_of(s: &AppState, id: i64) -> Result<Vec<(String, GroupState)>, ApiError> {
    let rows = s.meta.monitor_groups(id).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(g, v)| Some((g, serde_json::from_value::<GroupState>(v).ok()?)))
        .collect())
}

/// A monitor as the API returns it.
fn monitor_json(
    m: &MonitorRecord,
    groups: &[(String, GroupState)],
    filter: Option<&GroupFilter>,
    matching_downtimes: Option<Vec<Value>>,
) -> Value {
    let mut out = m.definition.as_object().cloned().unwrap_or_default();
    let ty = out.get("type").and_then(Value::as_str).unwrap_or("");
    let overall_state = if !EVALUATED_TYPES.contains(&ty) {
        Status::Unknown
    } else {
        overall(groups.iter().map(|(_, g)| g.status))
    };
    let changed = groups
        .iter()
        .map(|(_, g)| g.status_changed_ts)
        .max()
        .filter(|&t| t > 0);
    let multi = definition::is_multi(&m.definition);
    out.insert("id".into(), json!(m.id));
    out.insert("org_id".into(), json!(m.org.0));
    out.insert("created".into(), json!(iso(m.created_at)));
    out.insert("modified".into(), json!(iso(m.modified_at)));
    out.insert("created_at".into(), json!(m.created_at));
    out.insert(
        "creator".into(),
        json!({"id": 1, "handle": "whippet", "email": "whippet@localhost", "name": null}),
    );
    out.insert("deleted".into(), Value::Null);
    out.insert("multi".into(), json!(multi));
    out.insert("overall_state".into(), json!(overall_state.as_str()));
    out.insert(
        "overall_state_modified".into(),
        changed.map_or(Value::Null, |t| json!(iso(t * 1000))),
    );
    if let Some(f) = filter {
        let mut gs = Map::new();
        for (name, g) in groups.iter().filter(|(_, g)| f.wants(g.status)) {
            let mut gj = json!({
                "name": name,
                "status": g.status.as_str(),
                "last_triggered_ts": g.last_triggered_ts,
                "last_notified_ts": g.last_notified_ts,
                "last_resolved_ts": g.last_resolved_ts,
                "last_nodata_ts": g.last_nodata_ts,
            });
            if let Some(e) = &g.error {
                gj["message"] = json!(e);
            }
            gs.insert(name.clone(), gj);
        }
        out.insert("state".into(), json!({"groups": gs}));
    }
    if let Some(d) = matching_downtimes {
        out.insert("matching_downtimes".into(), Value::Array(d));
    }
    Value::Object(out)
}

fn check(body: &Value) -> Result<Value, ApiError> {
    definition::check(body).map_err(|e| ApiError::bad_request(e.0))
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| not_found())
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name).is_some_and(|v| v == "true" || v == "1")
}

/// The org's downtimes (not canceled) when `with_downtimes=true` asks for
/// monitors' `matching_downtimes`; read once per request.
async fn downtimes_if_asked(
    s: &AppState,
    org: OrgId,
    q: &HashMap<String, String>,
) -> Result<Option<Vec<DowntimeRecord>>, ApiError> {
    if !flag(q, "with_downtimes") {
        return Ok(None);
    }
    Ok(Some(s.meta.list_downtimes(Some(org), false).await?))
}

/// Monitor `m`'s `matching_downtimes`: those of `all` in effect now that
/// cover it; `None` when not asked for.
fn matching(all: Option<&[DowntimeRecord]>, m: &MonitorRecord) -> Option<Vec<Value>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    all.map(|all| in_effect_for(all, m, now).map(matching_json).collect())
}

/// `POST /api/v1/monitor`.
pub async fn create(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let def = check(&body.required()?)?;
    check_members(&s, org, &def, None).await?;
    let m = s.meta.create_monitor(org, &def).await?;
    tracing::info!(org = org.0, monitor = m.id, "monitor created");
    s.monitors_changed();
    Ok(json(StatusCode::OK, monitor_json(&m, &[], None, None)))
}

/// `POST /api/v1/monitor/validate`.
pub async fn validate(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let def = check(&body.required()?)?;
    check_members(&s, org, &def, None).await?;
    Ok(json(StatusCode::OK, json!({})))
}

/// `POST /api/v1/monitor/{id}/validate`: the body as an update of monitor
/// `id`.
pub async fn validate_existing(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let m = s.meta.get_monitor(org, id).await?.ok_or_else(not_found)?;
    let patch = body.required()?;
    let def =
        definition::merge_update(&m.definition, &patch).map_err(|e| ApiError::bad_request(e.0))?;
    check_members(&s, org, &def, Some(id)).await?;
    Ok(json(StatusCode::OK, json!({})))
}

/// `GET /api/v1/monitor/{id}`.
pub async fn get_one(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let filter = GroupFilter::parse(&q)?;
    let id = parse_id(&id)?;
    let m = s.meta.get_monitor(org, id).await?.ok_or_else(not_found)?;
    let groups = groups_of(&s, m.id).await?;
    Ok(json(
        StatusCode::OK,
        monitor_json(
            &m,
            &groups,
            filter.as_ref(),
            matching(downtimes_if_asked(&s, org, &q).await?.as_deref(), &m),
        ),
    ))
}

/// `GET /api/v1/monitor`: `name` (substring, any case), `tags` (scope
/// tags: every one must appear in the query), `monitor_tags` (every one
/// must be among the monitor's tags), `id_offset`, `page`, `page_size`.
pub async fn list(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let filter = GroupFilter::parse(&q)?;
    let name = q.get("name").map(|n| n.to_lowercase());
    let split = |k: &str| -> Vec<String> {
        q.get(k)
            .map(|v| {
                v.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let scope_tags = split("tags");
    let monitor_tags = split("monitor_tags");
    let id_offset: i64 = q.get("id_offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let page_size = match q.get("page_size") {
        None => MAX_PAGE_SIZE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "page_size must be an integer from 1 to {MAX_PAGE_SIZE}"
                )));
            }
        },
    };
    let page: usize = match q.get("page") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::bad_request("page must be a non-negative integer"))?,
    };
    let all = s.meta.list_monitors(Some(org)).await?;
    let downtimes = downtimes_if_asked(&s, org, &q).await?;
    let mut out = Vec::new();
    let selected = all.iter().filter(|m| {
        let d = &m.definition;
        let text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
        let tags: Vec<&str> = d
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        m.id > id_offset
            && name
                .as_ref()
                .is_none_or(|n| text("name").to_lowercase().contains(n))
            && scope_tags
                .iter()
                .all(|t| text("query").contains(t.as_str()))
            && monitor_tags.iter().all(|t| tags.contains(&t.as_str()))
    });
    for m in selected
        .skip(page.saturating_mul(page_size))
        .take(page_size)
    {
        let groups = groups_of(&s, m.id).await?;
        out.push(monitor_json(
            m,
            &groups,
            filter.as_ref(),
            matching(downtimes.as_deref(), m),
        ));
    }
    Ok(json(StatusCode::OK, Value::Array(out)))
}

/// `PUT /api/v1/monitor/{id}`: the fields given replace the stored ones.
pub async fn update(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let m = s.meta.get_monitor(org, id).await?.ok_or_else(not_found)?;
    let patch = body.required()?;
    let def =
        definition::merge_update(&m.definition, &patch).map_err(|e| ApiError::bad_request(e.0))?;
    check_members(&s, org, &def, Some(id)).await?;
    let m = s
        .meta
        .update_monitor(org, id, &def)
        .await?
        .ok_or_else(not_found)?;
    s.monitors_changed();
    let groups = groups_of(&s, m.id).await?;
    Ok(json(StatusCode::OK, monitor_json(&m, &groups, None, None)))
}

/// How far back `history` looks by default: a week, the UI's longest
/// quick range.
const HISTORY_DEFAULT_SECS: i64 = 7 * 86_400;
/// The most transitions `history` returns: a timeline shows no more.
const HISTORY_MAX: i64 = 5_000;

/// `GET /api/ui/monitors/{id}/history?from=<epoch s>` (Whippet's own, for
/// the UI's state timeline): the monitor's transitions since `from`
/// (default a week ago), oldest first, at most [`HISTORY_MAX`]:
/// `{"monitor_id", "from", "transitions": [{"group", "from", "to",
/// "value", "at"}]}` with `at` in ms.
pub async fn history(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    s.meta.get_monitor(org, id).await?.ok_or_else(not_found)?;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let from_s = match q.get("from") {
        None => now_s - HISTORY_DEFAULT_SECS,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("from must be epoch seconds"))?,
    };
    let list = s
        .meta
        .transitions(org, id, from_s.saturating_mul(1000), HISTORY_MAX)
        .await?;
    let transitions: Vec<Value> = list
        .iter()
        .map(
            |t| json!({"group": t.group, "from": t.from, "to": t.to, "value": t.value, "at": t.at}),
        )
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({"monitor_id": id, "from": from_s, "transitions": transitions}),
    ))
}

/// `DELETE /api/v1/monitor/{id}`: refused (400) while composites name the
/// monitor, unless `force=true`.
pub async fn delete(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    check_delete(&s, org, id, flag(&q, "force")).await?;
    if !s.meta.delete_monitor(org, id).await? {
        return Err(not_found());
    }
    s.monitors_changed();
    Ok(json(StatusCode::OK, json!({"deleted_monitor_id": id})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_look_like_datadogs() {
        assert_eq!(iso(1_728_578_340_138), "2024-10-10T16:39:00.138000+00:00");
        assert_eq!(iso(0), "1970-01-01T00:00:00.000000+00:00");
    }
}
