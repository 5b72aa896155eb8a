//! The references between composite monitors and their members, as the
//! monitor API enforces them: a composite names existing monitors of its
//! org that are not composites themselves; a monitor that a composite
//! names is not deleted without `force=true`; and
//! `GET /api/v1/monitor/can_delete` says which monitors may be.
//!
//! # What it must never do
//! Evaluate composites (the scheduler does), or change a composite when a
//! member goes: a force-deleted member counts as OK in the composites
//! that still name it.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use whippet_meta::{MonitorRecord, OrgId};
use whippet_monitors::query::{self, MonitorQuery};

use super::AppState;
use super::error::{ApiError, json};
use super::extract::AppOrg;

/// The member ids of `def` when it is a composite whose query parses.
fn members(def: &Value) -> Option<Vec<i64>> {
    if def.get("type").and_then(Value::as_str) != Some("composite") {
        return None;
    }
    match query::parse("composite", def.get("query")?.as_str()?) {
        Ok(MonitorQuery::Composite(c)) => Some(c.ids().into_iter().map(|id| id as i64).collect()),
        _ => None,
    }
}

/// Checks a composite definition's members against `org`'s monitors
/// (`own_id`: the composite's id, on update): each must exist and not be
/// a composite. Other definitions pass. 400 with Datadog's text otherwise.
pub(super) async fn check_members(
    s: &AppState,
    org: OrgId,
    def: &Value,
    own_id: Option<i64>,
) -> Result<(), ApiError> {
    let Some(ids) = members(def) else {
        return Ok(());
    };
    for id in ids {
        let member = match own_id {
            Some(own) if own == id => None,
            _ => s.meta.get_monitor(org, id).await?,
        };
        match member {
            None => return Err(ApiError::bad_request("Some monitor IDs are invalid")),
            Some(m) if members(&m.definition).is_some() => {
                return Err(ApiError::bad_request(format!(
                    "Monitor {id} is a composite monitor: a composite monitor cannot \
                     contain another one"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// For each of `ids`, the composites among `all` that name it, as
/// `[ID,NAME]` labels.
fn referencing(all: &[MonitorRecord], ids: &[i64]) -> BTreeMap<i64, Vec<String>> {
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for m in all {
        let Some(member_ids) = members(&m.definition) else {
            continue;
        };
        for id in member_ids.into_iter().filter(|id| ids.contains(id)) {
            let name = m
                .definition
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("");
            out.entry(id)
                .or_default()
                .push(format!("[{},{name}]", m.id));
        }
    }
    out
}

/// Refuses to delete monitor `id` of `org` while composites name it (400
/// listing them), unless `force`.
pub(super) async fn check_delete(
    s: &AppState,
    org: OrgId,
    id: i64,
    force: bool,
) -> Result<(), ApiError> {
    if force {
        return Ok(());
    }
    let all = s.meta.list_monitors(Some(org)).await?;
    match referencing(&all, &[id]).remove(&id) {
        None => Ok(()),
        Some(by) => Err(ApiError::bad_request(format!(
            "Monitor {id} is referenced in composite monitors {}; remove it from them first, \
             or delete it with force=true",
            by.join(", ")
        ))),
    }
}

/// `GET /api/v1/monitor/can_delete?monitor_ids=1,2`: 200
/// `{"data": {"ok": [1, 2]}, "errors": null}` when every one may be
/// deleted; otherwise 409 with the ones that may in `data.ok` and, by id,
/// why the others may not in `errors`. Unknown ids are not referenced by
/// anything, so they are "ok" (deleting them is a 404 of its own).
pub async fn can_delete(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let raw = q.get("monitor_ids").map(String::as_str).unwrap_or("");
    let ids: Vec<i64> = raw
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse()
                .map_err(|_| ApiError::bad_request(format!("Invalid monitor id: {t:?}")))
        })
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "monitor_ids is required: a comma-separated list of monitor ids",
        ));
    }
    let all = s.meta.list_monitors(Some(org)).await?;
    let blocked = referencing(&all, &ids);
    let ok: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !blocked.contains_key(id))
        .collect();
    if blocked.is_empty() {
        return Ok(json(
            StatusCode::OK,
            json!({"data": {"ok": ok}, "errors": null}),
        ));
    }
    let errors: serde_json::Map<String, Value> = blocked
        .into_iter()
        .map(|(id, by)| {
            (
                id.to_string(),
                json!([format!(
                    "monitor {id} is referenced in composite monitors {}",
                    by.join(", ")
                )]),
            )
        })
        .collect();
    Ok(json(
        StatusCode::CONFLICT,
        json!({"data": {"ok": ok}, "errors": errors}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, def: Value) -> MonitorRecord {
        MonitorRecord {
            id,
            org: OrgId(1),
            definition: def,
            created_at: 0,
            modified_at: 0,
            version: 1,
        }
    }

    #[test]
    fn composites_name_their_members() {
        let c = json!({"type": "composite", "name": "both", "query": "1 && !(2 || 1)"});
        assert_eq!(members(&c), Some(vec![1, 2]));
        assert_eq!(
            members(&json!({"type": "metric alert", "query": "1"})),
            None
        );
        let all = [
            record(
                1,
                json!({"type": "metric alert", "query": "avg(last_5m):avg:m{*} > 1"}),
            ),
            record(3, c),
            record(4, json!({"type": "composite", "name": "one", "query": "2"})),
        ];
        let by = referencing(&all, &[1, 2, 9]);
        assert_eq!(by[&1], ["[3,both]"]);
        assert_eq!(by[&2], ["[3,both]", "[4,one]"]);
        assert!(!by.contains_key(&9));
    }
}
