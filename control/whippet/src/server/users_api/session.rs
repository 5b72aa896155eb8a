//! The sign-in cookie, and what a request authenticated by it may do.
//!
//! # What it owns
//! - The cookie: `whippet_session=<64 hex characters>; Path=/; HttpOnly;
//!   SameSite=Strict; Max-Age=<SESSION_LIFETIME.absolute>`, plus `Secure`
//!   when the request came over HTTPS (`X-Forwarded-Proto: https` from a
//!   proxy that terminates TLS). `HttpOnly` keeps scripts (an injected one
//!   included) from reading it; `SameSite=Strict` keeps other sites'
//!   pages from sending it.
//! - How long a session lives ([`SESSION_LIFETIME`]): 7 days without use,
//!   and 30 days at most after sign-in, whatever the use.
//! - [`guard`], the one place that enforces roles and the CSRF header for
//!   requests authenticated by the cookie. It is a layer on the whole
//!   router (`server::router`), so every route, the Datadog API's and the
//!   admin API's alike, is covered without each handler remembering to
//!   check. What it enforces, for a request that carries the cookie and
//!   no API key, whose method is not `GET` or `HEAD`:
//!   1. the header `X-Whippet-UI: 1`, else 403. A page of another site can
//!      make a browser send a form or a simple `fetch`, but not a custom
//!      header without CORS's permission (which Whippet never gives), so
//!      this header proves the request came from Whippet's own UI. It
//!      backs up `SameSite=Strict`, which older browsers ignore.
//!   2. a live session, else 401 `Not signed in`;
//!   3. on the admin API (`/api/ui/users...`, `/api/ui/keys...`, which
//!      takes no keys: there the cookie is checked even beside an API key,
//!      and its absence is a 401), the role `admin`, else 403;
//!   4. elsewhere the role `admin` or `standard`, else 403 for
//!      `read_only`, except on the few `POST`s that only read
//!      ([`reads_only`]: the v2 query endpoints, monitor validation and
//!      Prometheus' read API).
//!
//!   `POST /api/ui/login` and `POST /api/ui/logout` pass untouched: signing
//!   in needs no session, and signing out must work for every role. The
//!   admin API's handlers check the role again, for reads too ([`Admin`]).
//!   A rejected request's body is read (up to [`DRAIN_LIMIT`]) before the
//!   answer, so that the connection stays usable.
//!   Requests with a Datadog API key are not the cookie's business: the
//!   key decides, exactly as before sessions existed (`auth::app_org` uses
//!   the same [`has_api_key`](crate::server::auth::has_api_key) test, so
//!   the two can never disagree about which credential a request uses).
//!
//! # What it must never do
//! Log a token, or tell a client why a cookie was refused (expired,
//! unknown, disabled user: all are `Not signed in`).

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use whippet_meta::{MetaStore, Role, SessionLifetime, SessionUser};

use crate::server::AppState;
use crate::server::auth::has_api_key;
use crate::server::error::ApiError;

/// The cookie's name.
pub const COOKIE: &str = "whippet_session";

/// The header that marks a request as coming from Whippet's UI (see the
/// module doc), and its one accepted value.
pub const UI_HEADER: &str = "x-whippet-ui";

/// How long a session lives. Idle 7 days: someone who looks at dashboards
/// every working day stays signed in across weekends, while a session
/// left on a machine nobody uses ends within a week. Absolute 30 days:
/// even a session in daily use signs in again monthly, bounding what a
/// stolen cookie is worth (the cookie's `Max-Age` is the same).
pub const SESSION_LIFETIME: SessionLifetime = SessionLifetime {
    idle: Duration::from_secs(7 * 86_400),
    absolute: Duration::from_secs(30 * 86_400),
};

/// 401 `Not signed in`: no session cookie, or one that names no live
/// session. The UI then shows its sign-in page.
pub fn not_signed_in() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "Not signed in")
}

/// 403 for a read-only user's change.
pub fn read_only() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden: a read-only user cannot change anything",
    )
}

/// The session token of the request's cookie, if it sent one.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// Whether the client reached Whippet over HTTPS, as a TLS-terminating
/// proxy reports it (`X-Forwarded-Proto: https`; the first value when a
/// chain of proxies appended theirs).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

fn attributes(secure: bool) -> &'static str {
    if secure {
        "Path=/; HttpOnly; SameSite=Strict; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Strict"
    }
}

/// The `Set-Cookie` value that signs the browser in with `token`.
pub fn set_cookie(token: &str, secure: bool) -> Result<HeaderValue, ApiError> {
    let max_age = SESSION_LIFETIME.absolute.as_secs();
    HeaderValue::try_from(format!(
        "{COOKIE}={token}; {}; Max-Age={max_age}",
        attributes(secure)
    ))
    .map_err(|e| ApiError::internal("building the session cookie", e))
}

/// The `Set-Cookie` value that makes the browser forget the cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    // Only fixed ASCII text: always a valid header value.
    HeaderValue::try_from(format!("{COOKIE}=; {}; Max-Age=0", attributes(secure)))
        .unwrap_or_else(|_| HeaderValue::from_static("whippet_session=; Path=/; Max-Age=0"))
}

/// The live session a token names, if any; the store slides its expiry.
pub async fn lookup(meta: &MetaStore, token: &str) -> Result<Option<SessionUser>, ApiError> {
    meta.session_user(token, SESSION_LIFETIME)
        .await
        .map_err(|e| ApiError::internal("looking up a session", e))
}

/// The signed-in user of the request: a live session from the cookie.
/// Rejection: 401 `Not signed in`.
pub struct SignedIn(pub SessionUser);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let token = token(&parts.headers).ok_or_else(not_signed_in)?;
        lookup(&s.meta, token)
            .await?
            .map(SignedIn)
            .ok_or_else(not_signed_in)
    }
}

/// A signed-in admin. Rejections: 401 `Not signed in`, 403 for another
/// role.
pub struct Admin(pub SessionUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let SignedIn(who) = SignedIn::from_request_parts(parts, s).await?;
        if who.user.role != Role::Admin {
            return Err(admins_only());
        }
        Ok(Admin(who))
    }
}

/// Routes the guard lets through untouched (see the module doc).
const UNGUARDED: &[&str] = &["/api/ui/login", "/api/ui/logout"];

/// A rejected request's body is read this far before answering, so that
/// the connection can carry the client's next request: a server that
/// answers before the body has arrived must close the connection, and a
/// client that already reused it sees "connection closed without
/// response". Legitimate bodies are not rejected here (they carry the
/// header); 256 KiB covers any form or JSON a stray page would send.
/// Past it, the answer says `Connection: close`.
const DRAIN_LIMIT: usize = 256 * 1024;

/// 403 for a change to users or keys by someone else than an admin.
pub fn admins_only() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden: only an admin can manage users and keys",
    )
}

/// Whether `path` is the admin API (`/api/ui/users...`, `/api/ui/keys...`),
/// which only a signed-in admin may use, with the cookie alone.
pub fn is_admin_api(path: &str) -> bool {
    ["/api/ui/users", "/api/ui/keys"].iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Whether a request that is not `GET` or `HEAD` only reads: the v2
/// metric queries (`POST` by Datadog's design, to carry a large body) and
/// monitor validation, which checks a definition without storing it.
pub fn reads_only(method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    if matches!(
        path,
        "/api/v2/query/timeseries"
            | "/api/v2/query/scalar"
            | "/api/v1/monitor/validate"
            // Prometheus' read API, which Grafana posts by default.
            | "/prometheus/api/v1/query"
            | "/prometheus/api/v1/query_range"
            | "/prometheus/api/v1/series"
            | "/prometheus/api/v1/labels"
            | "/prometheus/api/v1/query_exemplars"
    ) {
        return true;
    }
    // /api/v1/monitor/{id}/validate
    path.strip_prefix("/api/v1/monitor/")
        .and_then(|rest| rest.strip_suffix("/validate"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Answers `e` after reading the request's body (see [`DRAIN_LIMIT`]).
async fn reject(req: Request, e: ApiError) -> Response {
    let drained = axum::body::to_bytes(req.into_body(), DRAIN_LIMIT)
        .await
        .is_ok();
    let mut r = e.into_response();
    if !drained {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// The layer that enforces roles and the CSRF header on cookie-signed
/// changes (see the module doc).
pub async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if matches!(*req.method(), Method::GET | Method::HEAD) || UNGUARDED.contains(&path) {
        return next.run(req).await;
    }
    let admin_api = is_admin_api(path);
    let Some(token) = token(req.headers()) else {
        if admin_api {
            return reject(req, not_signed_in()).await;
        }
        return next.run(req).await;
    };
    let query = Query::<HashMap<String, String>>::try_from_uri(req.uri())
        .map(|Query(q)| q)
        .unwrap_or_default();
    // The admin API takes no keys: the cookie decides there, keys or not.
    if !admin_api && has_api_key(req.headers(), &query) {
        return next.run(req).await;
    }
    let from_ui = req
        .headers()
        .get(UI_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1");
    if !from_ui {
        let e = ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden: a change signed by the session cookie needs the header X-Whippet-UI: 1",
        );
        return reject(req, e).await;
    }
    let who = match lookup(&s.meta, token).await {
        Ok(Some(who)) => who,
        Ok(None) => return reject(req, not_signed_in()).await,
        Err(e) => return reject(req, e).await,
    };
    if admin_api && who.user.role != Role::Admin {
        return reject(req, admins_only()).await;
    }
    if who.user.role == Role::ReadOnly && !reads_only(req.method(), path) {
        return reject(req, read_only()).await;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        assert_eq!(token(&headers(&[])), None);
        assert_eq!(
            token(&headers(&[("cookie", "a=1; whippet_session=abc; b=2")])),
            Some("abc")
        );
        assert_eq!(
            token(&headers(&[
                ("cookie", "a=1"),
                ("cookie", "whippet_session=\"q\"")
            ])),
            Some("q")
        );
        assert_eq!(token(&headers(&[("cookie", "xwhippet_session=abc")])), None);
        assert_eq!(token(&headers(&[("cookie", "whippet_session=")])), None);
    }

    #[test]
    fn cookies_carry_the_attributes() {
        let c = set_cookie("t0k", false).unwrap();
        assert_eq!(
            c.to_str().unwrap(),
            "whippet_session=t0k; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
        );
        let c = set_cookie("t0k", true).unwrap();
        assert!(c.to_str().unwrap().contains("; Secure;"));
        assert_eq!(
            clear_cookie(false).to_str().unwrap(),
            "whippet_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }

    #[test]
    fn https_is_what_the_proxy_says() {
        assert!(!is_https(&headers(&[])));
        assert!(is_https(&headers(&[("x-forwarded-proto", "HTTPS")])));
        assert!(is_https(&headers(&[("x-forwarded-proto", "https, http")])));
        assert!(!is_https(&headers(&[("x-forwarded-proto", "http")])));
    }

    #[test]
    fn the_admin_api_is_recognised() {
        for p in [
            "/api/ui/users",
            "/api/ui/users/3",
            "/api/ui/keys",
            "/api/ui/keys/9",
        ] {
            assert!(is_admin_api(p), "{p}");
        }
        for p in [
            "/api/ui/me",
            "/api/ui/usersx",
            "/api/ui/login",
            "/api/v1/users",
        ] {
            assert!(!is_admin_api(p), "{p}");
        }
    }

    #[test]
    fn only_the_reading_posts_are_open_to_read_only_users() {
        for p in [
            "/api/v2/query/timeseries",
            "/api/v2/query/scalar",
            "/api/v1/monitor/validate",
            "/api/v1/monitor/12/validate",
            "/prometheus/api/v1/query",
            "/prometheus/api/v1/query_range",
            "/prometheus/api/v1/series",
        ] {
            assert!(reads_only(&Method::POST, p), "{p}");
            assert!(!reads_only(&Method::PUT, p), "{p}");
        }
        for p in [
            "/api/v1/monitor",
            "/api/v1/monitor/12",
            "/api/v1/monitor/12/mute",
            "/api/v1/monitor//validate",
            "/api/v1/monitor/1/2/validate",
            "/api/v1/dashboard",
            "/api/v1/write",
            "/prometheus/api/v1/admin/tsdb/delete_series",
        ] {
            assert!(!reads_only(&Method::POST, p), "{p}");
        }
    }
}
