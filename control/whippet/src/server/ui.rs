//! The web UI: the single-page app of `control/ui`, built by `build.rs` into
//! `$OUT_DIR/ui` and embedded in the binary, served for every path no API
//! route took.
//!
//! - `GET /` and every other path outside `/api/` that names no file answer
//!   `index.html`: the app routes by path, so a deep link such as
//!   `/explorer?q=...` loads the app, which shows that page. It is sent
//!   with `Cache-Control: no-cache` (the browser revalidates it by ETag), so
//!   a new build is picked up on the next load.
//! - `/assets/...` are Vite's files, named by a hash of their content: cached
//!   for a year as immutable. A missing asset is a 404, not `index.html`: a
//!   page from an older build asking for its old script must not get HTML.
//! - Each text file has a gzip copy made at build time (`name.gz`), sent
//!   when the request accepts gzip.
//! - `/api/...` paths that no route took stay Datadog's JSON 404.
//! - `/dashboard/<id>[/<slug>]`, the `url` the dashboards API answers (as
//!   Datadog's does), redirects to the app's page `/dashboards/<id>`.
//!
//! # What it must never do
//! Read the disk: every answer comes from the bytes embedded at build time
//! (also in debug builds, `debug-embed`).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::error::ApiError;

/// The output of `npm run build` in `control/ui` (see `build.rs`).
#[derive(RustEmbed)]
#[folder = "$OUT_DIR/ui"]
struct Files;

/// The page every app path loads.
const INDEX: &str = "index.html";

/// Hashed file names never change content: a year (the longest lifetime
/// caches honour) and no revalidation.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What the browser may load for the app's pages: only this server's own
/// scripts, styles and API (uPlot and Preact set inline styles), and the
/// app never runs inside another site's frame.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Answers every request no route took.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api"
        || path.starts_with("/api/")
        || (method != Method::GET && method != Method::HEAD)
    {
        return ApiError::not_found("Not found").into_response();
    }
    if let Some(to) = dashboard_redirect(path) {
        return (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response();
    }
    let name = path.trim_start_matches('/');
    if name.starts_with("assets/") {
        return match Files::get(name) {
            Some(_) => serve(name, IMMUTABLE, &headers),
            None => ApiError::not_found("Not found").into_response(),
        };
    }
    if !name.is_empty() && name != INDEX && Files::get(name).is_some() {
        return serve(name, "no-cache", &headers);
    }
    serve(INDEX, "no-cache", &headers)
}

/// `/dashboard/<id>` or `/dashboard/<id>/<slug>` (Datadog's dashboard
/// URL form) → the app's `/dashboards/<id>`. The id is kept only when it is
/// made of the characters ids have, so the redirect never points elsewhere.
fn dashboard_redirect(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/dashboard/")?;
    let id = rest.split('/').next()?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| format!("/dashboards/{id}"))
}

/// Sends the embedded file `name` (which exists), gzipped when the client
/// takes it, or a 304 when the client's copy is current.
fn serve(name: &str, cache_control: &'static str, req: &HeaderMap) -> Response {
    let gz_name = format!("{name}.gz");
    let (file, gzip) = match Files::get(&gz_name) {
        Some(f) if accepts_gzip(req) => (f, true),
        _ => match Files::get(name) {
            Some(f) => (f, false),
            None => return ApiError::not_found("Not found").into_response(),
        },
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}{}\"",
        hash[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        if gzip { "-gz" } else { "" }
    );
    let fresh = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, file.data.into_owned()).into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if Files::get(&gz_name).is_some() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if name == INDEX {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    r
}

/// Whether `Accept-Encoding` takes gzip (`gzip` or `*`, without `q=0`).
fn accepts_gzip(req: &HeaderMap) -> bool {
    req.get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// The `Content-Type` of a file of the build, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map_or("", |(_, ext)| ext) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(path: &str, accept: Option<&str>) -> Response {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(a).unwrap());
        }
        fallback(Method::GET, path.parse().unwrap(), h).await
    }

    fn header_of(r: &Response, name: header::HeaderName) -> &str {
        r.headers()
            .get(name)
            .map_or("", |v| v.to_str().unwrap_or(""))
    }

    fn an_asset(ext: &str) -> String {
        Files::iter()
            .find(|f| f.starts_with("assets/") && f.ends_with(ext))
            .expect("the build has a script")
            .into_owned()
    }

    #[tokio::test]
    async fn app_paths_load_index_html_revalidated() {
        for path in [
            "/",
            "/explorer",
            "/dashboards/12?x=1",
            "/signin",
            "/index.html",
        ] {
            let r = get(path, None).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(
                header_of(&r, header::CONTENT_TYPE),
                "text/html; charset=utf-8"
            );
            assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache");
            assert!(header_of(&r, header::CONTENT_SECURITY_POLICY).contains("default-src 'self'"));
        }
    }

    #[tokio::test]
    async fn assets_are_immutable_and_gzipped_when_accepted() {
        let js = an_asset(".js");
        let r = get(&format!("/{js}"), Some("gzip, deflate, br")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header_of(&r, header::CACHE_CONTROL), IMMUTABLE);
        assert_eq!(header_of(&r, header::CONTENT_ENCODING), "gzip");
        assert_eq!(
            header_of(&r, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header_of(&r, header::VARY), "Accept-Encoding");

        let plain = get(&format!("/{js}"), Some("gzip;q=0, br")).await;
        assert_eq!(header_of(&plain, header::CONTENT_ENCODING), "");
        let css = get(&format!("/{}", an_asset(".css")), None).await;
        assert_eq!(
            header_of(&css, header::CONTENT_TYPE),
            "text/css; charset=utf-8"
        );
    }

    #[tokio::test]
    async fn a_missing_asset_or_api_path_is_a_json_404() {
        for path in ["/assets/gone-1234.js", "/api/v1/nothing", "/api"] {
            let r = get(path, None).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(header_of(&r, header::CONTENT_TYPE), "application/json");
        }
        let post = fallback(Method::POST, "/explorer".parse().unwrap(), HeaderMap::new()).await;
        assert_eq!(post.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn datadog_dashboard_urls_redirect_to_the_page() {
        for (path, to) in [
            (
                "/dashboard/abc-def-ghi/svc-overview",
                "/dashboards/abc-def-ghi",
            ),
            ("/dashboard/wpt-int-dsh", "/dashboards/wpt-int-dsh"),
        ] {
            let r = get(path, None).await;
            assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY, "{path}");
            assert_eq!(header_of(&r, header::LOCATION), to);
        }
        // Not an id: the app's index, no redirect.
        let odd = get("/dashboard/..%2F/x", None).await;
        assert_eq!(odd.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_current_copy_is_not_sent_again() {
        let first = get("/", Some("gzip")).await;
        let etag = header_of(&first, header::ETAG).to_owned();
        assert!(etag.ends_with("-gz\""), "{etag}");
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        let again = fallback(Method::GET, "/explorer".parse().unwrap(), h).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
}
