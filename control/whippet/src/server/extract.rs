//! Extractors for the Datadog API handlers that read and change an org's
//! objects (monitors, downtimes, webhooks): the org of the request's keys
//! and the JSON body.
//!
//! A handler that takes [`AppOrg`] runs only for a request with both keys
//! of one org, or with the session cookie of a signed-in user of the org
//! (see `auth::app_org`); axum runs it before the body is read, so an
//! unauthorised request never has its body read. Whether a cookie-signed
//! request may *change* something (role, CSRF header) was already decided
//! by the router's layer `users_api::session::guard` before any extractor
//! runs. A handler that takes [`JsonBody`]
//! gets the body parsed within the v1 body limit.
//!
//! # What it must never do
//! Decide what a handler does with a missing or odd body: `JsonBody`
//! only parses; each handler says what it needs ([`JsonBody::required`]).

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use whippet_tsdb::OrgId;

use super::AppState;
use super::auth::app_org;
use super::error::ApiError;
use super::intake::{V1_LIMITS, read_body};

/// The org of a request that needs both keys or a session
/// (`auth::app_org`); its rejection is that function's 403 (keys) or 401
/// (a cookie naming no live session), see [`Refused`].
pub struct AppOrg(pub OrgId);

impl FromRequestParts<AppState> for AppOrg {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Refused> {
        // A query string that does not parse carries no key.
        let q = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .unwrap_or_default();
        app_org(&s.meta, &parts.headers, &q)
            .await
            .map(AppOrg)
            .map_err(Refused)
    }
}

/// An [`AppOrg`] refusal, answered with `Connection: close`: the body of
/// the refused request is never read, so the server cannot reuse the
/// connection, and a client that is told so opens a new one instead of
/// sending its next request into a closing socket (Python's `requests`
/// then failed with "RemoteDisconnected" now and then).
pub struct Refused(pub ApiError);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut r = self.0.into_response();
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    }
}

/// The request body as JSON; `None` when it is empty (or only white
/// space). A body over the v1 limit is a 413, one that is not JSON a 400
/// "Invalid JSON in the request body: ...".
pub struct JsonBody(pub Option<Value>);

impl JsonBody {
    /// The body, or a 400 saying the request needs one.
    pub fn required(self) -> Result<Value, ApiError> {
        self.0.ok_or_else(|| {
            ApiError::bad_request("Invalid JSON in the request body: the body is empty")
        })
    }
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let raw = read_body(&parts.headers, body, V1_LIMITS.body).await?;
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        serde_json::from_slice(&raw)
            .map(|v| JsonBody(Some(v)))
            .map_err(|e| ApiError::bad_request(format!("Invalid JSON in the request body: {e}")))
    }
}
