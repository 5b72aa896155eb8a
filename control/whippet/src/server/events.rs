//! Events: `POST /api/v1/events`, `POST /api/v2/events`, `GET
//! /api/v1/events` and `GET /api/v1/events/{id}` (spec §5), stored in the
//! metadata store and scoped to the key's org.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use whippet_dd_intake::{self as dd, EventIn};
use whippet_meta::{Event, EventQuery, NewEvent};

use super::AppState;
use super::auth::{api_org, app_org};
use super::error::{ApiError, json};
use super::intake::{V1_LIMITS, now_ms, read_body};
use super::selfmon::names;

/// The event as the v1 API shows it.
pub fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id,
        "id_str": e.id.to_string(),
        "title": e.title,
        "text": e.text,
        "date_happened": e.date_happened / 1000,
        "handle": null,
        "priority": e.priority,
        "related_event_id": e.related_event_id,
        "tags": e.tags,
        "alert_type": e.alert_type.as_deref().unwrap_or("info"),
        "host": e.host,
        "source_type_name": e.source_type_name,
        "device_name": e.device_name,
        "aggregation_key": e.aggregation_key,
        "url": format!("/event/event?id={}", e.id),
        "payload": "{}",
    })
}

fn new_event(e: EventIn, now: i64) -> NewEvent {
    NewEvent {
        title: e.title,
        text: e.text,
        date_happened: e.date_happened_ms.unwrap_or(now),
        priority: e.priority,
        host: e.host,
        tags: e.tags,
        alert_type: e.alert_type,
        aggregation_key: e.aggregation_key,
        source_type_name: e.source_type_name,
        related_event_id: e.related_event_id,
        device_name: e.device_name,
        extra: match (e.category, e.attributes) {
            (None, None) => Value::Null,
            (c, a) => json!({"category": c, "attributes": a}),
        },
    }
}

async fn store(
    s: &AppState,
    org: whippet_tsdb::OrgId,
    e: EventIn,
    source: &str,
) -> Result<Event, ApiError> {
    let ev = s
        .meta
        .insert_event(org, &new_event(e, now_ms()))
        .await
        .map_err(ApiError::from)?;
    s.selfmon.add(names::EVENTS, &[("source", source)], 1.0);
    Ok(ev)
}

/// `POST /api/v1/events`.
pub async fn create_v1(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let run = async {
        let org = api_org(&s.meta, &headers, &q).await?;
        let raw = read_body(&headers, body, V1_LIMITS.body).await?;
        let bytes = dd::body::decode_body(
            super::intake_encoding(&headers),
            &raw,
            V1_LIMITS.decompressed,
        )
        .map_err(super::intake_err)?;
        let e = dd::parse_event_v1(&bytes).map_err(super::intake_err)?;
        let ev = store(&s, org, e, "api").await?;
        Ok::<_, ApiError>(json(
            StatusCode::ACCEPTED,
            json!({"status": "ok", "event": event_json(&ev)}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /api/v2/events` (api-client sends both keys; the API key decides
/// the org).
pub async fn create_v2(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let run = async {
        let org = api_org(&s.meta, &headers, &q).await?;
        let raw = read_body(&headers, body, V1_LIMITS.body).await?;
        let bytes = dd::body::decode_body(
            super::intake_encoding(&headers),
            &raw,
            V1_LIMITS.decompressed,
        )
        .map_err(super::intake_err)?;
        let e = dd::parse_event_v2(&bytes).map_err(super::intake_err)?;
        let ev = store(&s, org, e, "api").await?;
        Ok::<_, ApiError>(json(
            StatusCode::ACCEPTED,
            json!({
                "data": {"id": "_", "type": "event", "attributes": {"attributes": {"evt": {"id": ev.id.to_string(), "uid": ev.id.to_string()}}}},
                "links": {"self": format!("/event/event?id={}", ev.id)}
            }),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

fn csv(v: Option<&String>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

fn truthy(v: Option<&String>) -> bool {
    v.is_some_and(|v| v == "true" || v == "1")
}

/// `GET /api/v1/events?start=&end=`: both keys.
pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        let org = app_org(&s.meta, &headers, &q).await?;
        let secs = |name: &str| -> Result<i64, ApiError> {
            let v = q
                .get(name)
                .ok_or_else(|| ApiError::bad_request(format!("Missing parameter: {name}")))?;
            v.parse::<f64>().map(|x| (x * 1000.0) as i64).map_err(|_| {
                ApiError::bad_request(format!(
                    "Parameter {name} must be a Unix timestamp in seconds, got `{v}`"
                ))
            })
        };
        let query = EventQuery {
            start_ms: secs("start")?,
            end_ms: secs("end")?,
            priority: q.get("priority").cloned(),
            sources: csv(q.get("sources")),
            tags: csv(q.get("tags")),
            unaggregated: truthy(q.get("unaggregated")),
            limit: 1000,
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        };
        let events = s
            .meta
            .list_events(org, &query)
            .await
            .map_err(ApiError::from)?;
        Ok::<_, ApiError>(json(
            StatusCode::OK,
            json!({"events": events.iter().map(event_json).collect::<Vec<_>>()}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /api/v1/events/{id}`: both keys.
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        let org = app_org(&s.meta, &headers, &q).await?;
        let id: i64 = id
            .parse()
            .map_err(|_| ApiError::not_found("Event not found"))?;
        match s.meta.get_event(org, id).await.map_err(ApiError::from)? {
            Some(e) => Ok(json(StatusCode::OK, json!({"event": event_json(&e)}))),
            None => Err(ApiError::not_found("Event not found")),
        }
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
