//! Keys on requests: the API key (`DD-API-KEY` header, or the `api_key` /
//! `dd-api-key` query parameter) and the application key
//! (`DD-APPLICATION-KEY` header, or `application_key`). Header names match
//! case-insensitively (the HTTP library does that).
//!
//! A read or manage request ([`app_org`]) may instead carry the web UI's
//! session cookie: when it has **no API key** and a `whippet_session`
//! cookie, the cookie's live session names the org (the signed-in user's).
//! A request with an API key is judged by its keys alone, cookie or not,
//! exactly as before sessions existed. What a cookie-signed request may
//! change (roles, the CSRF header) is enforced by the router's layer
//! `users_api::session::guard`, which uses the same [`has_api_key`] test.

use std::collections::HashMap;

use axum::http::HeaderMap;
use whippet_meta::{KeyKind, MetaStore};
use whippet_tsdb::OrgId;

use super::error::ApiError;
use super::users_api::session;

fn find<'a>(
    headers: &'a HeaderMap,
    query: &'a HashMap<String, String>,
    header: &str,
    params: &[&str],
) -> Option<&'a str> {
    let present = |v: &'a str| Some(v.trim()).filter(|v| !v.is_empty());
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .and_then(present)
        .or_else(|| {
            params
                .iter()
                .find_map(|p| query.get(*p).and_then(|v| present(v)))
        })
}

/// Whether the request carries an API key (header or query parameter),
/// valid or not: such a request is authenticated by its keys, never by the
/// session cookie.
pub fn has_api_key(headers: &HeaderMap, query: &HashMap<String, String>) -> bool {
    find(headers, query, "dd-api-key", &["api_key", "dd-api-key"]).is_some()
}

/// The org of the request's API key. Missing key: 403 "API key required";
/// unknown or revoked key: 403 "Forbidden".
pub async fn api_org(
    meta: &MetaStore,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<OrgId, ApiError> {
    let key = find(headers, query, "dd-api-key", &["api_key", "dd-api-key"])
        .ok_or_else(ApiError::api_key_required)?;
    match meta.verify_key(KeyKind::Api, key).await {
        Ok(Some(org)) => Ok(org),
        Ok(None) => Err(ApiError::forbidden()),
        Err(e) => Err(ApiError::internal("verifying an API key", e)),
    }
}

/// The org of a read or admin request, which needs both keys, of the same
/// org (any key missing, unknown or of another org: 403), or, without an
/// API key, the session cookie of a signed-in user (a cookie naming no
/// live session: 401 `Not signed in`).
pub async fn app_org(
    meta: &MetaStore,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<OrgId, ApiError> {
    if !has_api_key(headers, query)
        && let Some(token) = session::token(headers)
    {
        return match session::lookup(meta, token).await? {
            Some(who) => Ok(who.user.org),
            None => Err(session::not_signed_in()),
        };
    }
    let org = api_org(meta, headers, query).await?;
    let key = find(headers, query, "dd-application-key", &["application_key"])
        .ok_or_else(ApiError::forbidden)?;
    match meta.verify_key(KeyKind::App, key).await {
        Ok(Some(o)) if o == org => Ok(org),
        Ok(_) => Err(ApiError::forbidden()),
        Err(e) => Err(ApiError::internal("verifying an application key", e)),
    }
}
