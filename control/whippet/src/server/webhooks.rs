//! Datadog's webhooks integration API
//! (`/api/v1/integration/webhooks/configuration/webhooks`), as
//! `datadog-api-client`'s `WebhooksIntegrationApi` calls it: create, get,
//! update (partial, renaming included) and delete the webhooks that
//! `@webhook-NAME` mentions in monitor messages send to.
//!
//! # What it owns
//! Reading the request bodies, Datadog's defaults (`encode_as` `"json"`,
//! `payload` and `custom_headers` `null`) and answers: the webhook object
//! (`name`, `url`, `payload`, `custom_headers`, `encode_as`) with 201 on
//! create, 200 on get and update; 200 and no body on delete; 404
//! `{"errors": ["Webhook NAME not found"]}` for an unknown name; 400 with
//! the reason for a body that is not a webhook. Every call needs both keys
//! of the same org (the webhook belongs to that org).
//!
//! # What it must never do
//! Send anything: delivery is `crate::alerting::deliver`, which reads the
//! stored webhook when a notification is due (so an edit applies to the
//! notifications still pending). Name, URL scheme and encoding are
//! validated by the metadata store; this module checks types and that the
//! custom headers are what the deliverer can send
//! ([`parse_custom_headers`]).
//!
//! # Status codes Datadog's specification leaves open
//! Creating a name that exists: Datadog documents only 400 for a bad
//! create; Whippet answers 409 Conflict with `{"errors": ["..."]}`, which
//! the client raises as an `ApiException` all the same. A rename onto a
//! name that exists is the same 409.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use whippet_meta::Webhook;

use super::AppState;
use super::error::{ApiError, json};
use super::extract::{AppOrg, JsonBody};
use crate::alerting::deliver::parse_custom_headers;

/// The encoding of a webhook created without `encode_as` (Datadog's
/// documented default).
const DEFAULT_ENCODING: &str = "json";

/// Datadog's body for an unknown webhook.
fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Webhook {name} not found"))
}

/// A webhook as the API returns it.
fn webhook_json(w: &Webhook) -> Value {
    json!({
        "name": w.name,
        "url": w.url,
        "payload": w.payload,
        "custom_headers": w.custom_headers,
        "encode_as": w.encode_as,
    })
}

/// A webhook body: a JSON object.
fn body_object(body: JsonBody) -> Result<Map<String, Value>, ApiError> {
    match body.required()? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request(
            "The request body must be a JSON object (a webhook).",
        )),
    }
}

/// Field `key` of `body` when it is a string: `Ok(None)` when absent,
/// 400 when of another type (or null, unless `nullable`).
fn string_field(
    body: &Map<String, Value>,
    key: &str,
    nullable: bool,
) -> Result<Option<Option<String>>, ApiError> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(Value::Null) if nullable => Ok(Some(None)),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid webhook: '{key}' must be a string{}, not {other}",
            if nullable { " or null" } else { "" }
        ))),
    }
}

/// The webhook's fields once `body` is applied on `base` (create: an empty
/// webhook; update: the stored one). Only the fields present change.
fn apply(base: Webhook, body: &Map<String, Value>) -> Result<Webhook, ApiError> {
    let mut w = base;
    if let Some(name) = string_field(body, "name", false)? {
        w.name = name.unwrap_or_default();
    }
    if let Some(url) = string_field(body, "url", false)? {
        w.url = url.unwrap_or_default();
    }
    if let Some(payload) = string_field(body, "payload", true)? {
        w.payload = payload;
    }
    if let Some(headers) = string_field(body, "custom_headers", true)? {
        w.custom_headers = headers;
    }
    if let Some(encoding) = string_field(body, "encode_as", false)? {
        w.encode_as = encoding.unwrap_or_default();
    }
    if let Some(h) = &w.custom_headers {
        parse_custom_headers(h)
            .map_err(|e| ApiError::bad_request(format!("Invalid webhook: 'custom_headers' {e}")))?;
    }
    Ok(w)
}

/// `POST /api/v1/integration/webhooks/configuration/webhooks`.
pub async fn create(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let body = body_object(body)?;
    for required in ["name", "url"] {
        if !body.contains_key(required) {
            return Err(ApiError::bad_request(format!(
                "Invalid webhook: '{required}' is required"
            )));
        }
    }
    let empty = Webhook {
        name: String::new(),
        url: String::new(),
        payload: None,
        custom_headers: None,
        encode_as: DEFAULT_ENCODING.to_owned(),
    };
    let w = apply(empty, &body)?;
    s.meta.put_webhook(org, &w, false).await?;
    tracing::info!(org = org.0, webhook = %w.name, "webhook created");
    Ok(json(StatusCode::CREATED, webhook_json(&w)))
}

/// `GET /api/v1/integration/webhooks/configuration/webhooks/{webhook_name}`.
pub async fn get_one(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let w = s
        .meta
        .get_webhook(org, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(json(StatusCode::OK, webhook_json(&w)))
}

/// `PUT /api/v1/integration/webhooks/configuration/webhooks/{webhook_name}`:
/// the fields given replace the stored ones; `payload` or
/// `custom_headers` `null` go back to the default. A new `name` renames
/// the webhook: the new one is created (409 if taken), then the old one
/// deleted; notifications already queued for `@webhook-OLD` then find no
/// webhook and wait until one of that name exists again.
pub async fn update(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let stored = s
        .meta
        .get_webhook(org, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    let body = body_object(body)?;
    let w = apply(stored, &body)?;
    if w.name == name {
        s.meta.put_webhook(org, &w, true).await?;
    } else {
        s.meta.put_webhook(org, &w, false).await?;
        s.meta.delete_webhook(org, &name).await?;
        tracing::info!(org = org.0, from = %name, to = %w.name, "webhook renamed");
    }
    Ok(json(StatusCode::OK, webhook_json(&w)))
}

/// `DELETE /api/v1/integration/webhooks/configuration/webhooks/{webhook_name}`.
pub async fn delete(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if !s.meta.delete_webhook(org, &name).await? {
        return Err(not_found(&name));
    }
    tracing::info!(org = org.0, webhook = %name, "webhook deleted");
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Webhook {
        Webhook {
            name: "ops".into(),
            url: "http://a/".into(),
            payload: Some("{}".into()),
            custom_headers: None,
            encode_as: "json".into(),
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn apply_changes_only_the_fields_given() {
        let w = apply(
            base(),
            &obj(
                json!({"url": "http://b/", "payload": null, "custom_headers": "{\"X-A\": \"1\"}"}),
            ),
        )
        .unwrap();
        assert_eq!(w.name, "ops");
        assert_eq!(w.url, "http://b/");
        assert_eq!(w.payload, None);
        assert_eq!(w.custom_headers.as_deref(), Some("{\"X-A\": \"1\"}"));
        assert_eq!(w.encode_as, "json");
    }

    #[test]
    fn apply_rejects_wrong_types_and_bad_headers() {
        for body in [
            json!({"url": 5}),
            json!({"name": null}),
            json!({"encode_as": ["json"]}),
            json!({"custom_headers": "not json"}),
            json!({"custom_headers": "[1]"}),
        ] {
            let e = apply(base(), &obj(body.clone())).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(e.messages[0].starts_with("Invalid webhook: "), "{body}");
        }
    }
}
