//! Datadog's dashboards API (`/api/v1/dashboard`), as
//! `datadog-api-client`'s `DashboardsApi` (v1) calls it: create, get,
//! list, update (a full replace), delete, and the bulk delete and restore.
//!
//! # What it owns
//! - The wire shape of a dashboard: the stored definition (checked and
//!   given widget ids by [`definition::normalise`]) plus the server fields
//!   written on every answer: `id` (`abc-def-ghi`), `url`
//!   (`/dashboard/<id>/<slug of the title>`), `author_handle`,
//!   `author_name`, `created_at` and `modified_at` (ISO 8601, as Datadog
//!   writes them), and `is_read_only` (`false` unless the body said so).
//! - The listing's summaries (`{"dashboards": [...]}`), its `count` and
//!   `start` paging, and the built-in "Whippet internals" dashboard
//!   ([`internals`]), first in every org's list and read-only.
//!
//! # What it must never do
//! Change a definition beyond its server fields and widget ids: every
//! widget type, known or not, is stored and returned as given, so a
//! dashboard exported from Datadog imports unchanged and clients can
//! round-trip what they read.
//!
//! Every call needs both keys of one org, or a signed-in user's session
//! (`AppOrg`); the author of a dashboard is that user's e-mail, or
//! [`KEYS_AUTHOR`] for a request made with keys. A deleted dashboard
//! is gone at once: Whippet keeps no trash, so `filter[deleted]=true`
//! lists nothing and a restore finds nothing to restore.

mod definition;
pub mod internals;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use whippet_meta::{DashboardId, DashboardRecord};

use super::AppState;
use super::auth::has_api_key;
use super::error::{ApiError, json};
use super::extract::{AppOrg, JsonBody};
use super::monitors::iso;
use super::users_api::session;

/// The author handle of a dashboard created with API and application keys:
/// such a request names an org, not a person.
pub const KEYS_AUTHOR: &str = "api-key";

/// Who creates a dashboard (its `author_handle`): the e-mail of the
/// signed-in user when the request is signed by a session cookie (no API
/// key, the same rule as `auth::app_org`), else [`KEYS_AUTHOR`]. Taken
/// after [`AppOrg`], which has already refused a request signed by
/// neither.
struct Author(String);

impl FromRequestParts<AppState> for Author {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let q = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .unwrap_or_default();
        if !has_api_key(&parts.headers, &q)
            && let Some(token) = session::token(&parts.headers)
            && let Some(who) = session::lookup(&s.meta, token).await?
        {
            return Ok(Author(who.user.email));
        }
        Ok(Author(KEYS_AUTHOR.into()))
    }
}

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/dashboard",
            get(list)
                .post(create)
                .delete(delete_many)
                .patch(restore_many),
        )
        .route(
            "/api/v1/dashboard/{id}",
            get(get_one).put(update).delete(delete_one),
        )
}

/// Datadog's 404 for an unknown dashboard.
fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Dashboard with ID {id} not found"))
}

/// The 403 for a change to a built-in dashboard.
fn read_only() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, internals::READ_ONLY_MESSAGE)
}

/// A dashboard as the API serves it, before it is written out.
struct Served<'a> {
    id: &'a str,
    definition: &'a Value,
    author: &'a str,
    created_at: i64,
    modified_at: i64,
}

impl<'a> Served<'a> {
    fn stored(r: &'a DashboardRecord) -> Self {
        Served {
            id: r.id.as_str(),
            definition: &r.definition,
            author: &r.author,
            created_at: r.created_at,
            modified_at: r.modified_at,
        }
    }

    fn internals() -> Self {
        Served {
            id: internals::ID,
            definition: internals_definition(),
            author: internals::AUTHOR,
            created_at: internals::CREATED_MS,
            modified_at: internals::CREATED_MS,
        }
    }

    fn field(&self, key: &str) -> Value {
        self.definition.get(key).cloned().unwrap_or(Value::Null)
    }

    fn url(&self) -> String {
        let title = self.definition["title"].as_str().unwrap_or_default();
        format!("/dashboard/{}/{}", self.id, slug(title))
    }

    fn is_read_only(&self) -> bool {
        self.definition["is_read_only"].as_bool().unwrap_or(false)
    }

    /// The whole dashboard (Datadog's `Dashboard`): the definition as
    /// stored plus the server fields; the optional fields Datadog always
    /// answers are `null` (or `[]`) when the definition has none.
    fn full(&self) -> Value {
        let mut out: Map<String, Value> = self.definition.as_object().cloned().unwrap_or_default();
        for (key, default) in [
            ("description", Value::Null),
            ("template_variables", Value::Null),
            ("notify_list", Value::Null),
            ("restricted_roles", json!([])),
        ] {
            out.entry(key).or_insert(default);
        }
        out.insert("id".into(), json!(self.id));
        out.insert("url".into(), json!(self.url()));
        out.insert("is_read_only".into(), json!(self.is_read_only()));
        out.insert("author_handle".into(), json!(self.author));
        out.insert("author_name".into(), Value::Null);
        out.insert("created_at".into(), json!(iso(self.created_at)));
        out.insert("modified_at".into(), json!(iso(self.modified_at)));
        Value::Object(out)
    }

    /// The listing's entry (Datadog's `DashboardSummaryDefinition`).
    fn summary(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.field("title"),
            "description": self.field("description"),
            "layout_type": self.field("layout_type"),
            "url": self.url(),
            "is_read_only": self.is_read_only(),
            "author_handle": self.author,
            "created_at": iso(self.created_at),
            "modified_at": iso(self.modified_at),
        })
    }
}

/// The built-in dashboard's definition, built once.
fn internals_definition() -> &'static Value {
    static DEF: std::sync::LazyLock<Value> = std::sync::LazyLock::new(internals::definition);
    &DEF
}

/// The path segment after the id in a dashboard's URL, as Datadog makes it
/// from the title: ASCII letters and digits lower-cased, runs of spaces and
/// hyphens one `-`, everything else dropped ("Test-Create_a new one" →
/// `test-createa-new-one`).
fn slug(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut gap = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else if c == ' ' || c == '-' {
            gap = true;
        }
    }
    out
}

/// What a dashboard id in a path names.
enum Target {
    /// The built-in dashboard.
    Internals,
    /// A stored one (if it exists).
    Stored(DashboardId),
}

/// Resolves a path id; a string not of the `abc-def-ghi` form names
/// nothing (404).
fn target(id: &str) -> Result<Target, ApiError> {
    if id == internals::ID {
        return Ok(Target::Internals);
    }
    DashboardId::parse(id)
        .map(Target::Stored)
        .ok_or_else(|| not_found(id))
}

/// `POST /api/v1/dashboard`.
async fn create(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Author(author): Author,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = body.ok_or_else(|| ApiError::bad_request("a dashboard needs a JSON body"))?;
    let def = definition::normalise(&body).map_err(ApiError::bad_request)?;
    let r = s.meta.create_dashboard(org, &def, &author).await?;
    tracing::info!(org = org.0, dashboard = %r.id, "dashboard created");
    Ok(json(StatusCode::OK, Served::stored(&r).full()))
}

/// `GET /api/v1/dashboard/{id}`.
async fn get_one(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = match target(&id)? {
        Target::Internals => return Ok(json(StatusCode::OK, Served::internals().full())),
        Target::Stored(id) => s.meta.get_dashboard(org, &id).await?,
    };
    let r = r.ok_or_else(|| not_found(&id))?;
    Ok(json(StatusCode::OK, Served::stored(&r).full()))
}

/// `PUT /api/v1/dashboard/{id}`: the body replaces the whole definition.
async fn update(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Target::Stored(did) = target(&id)? else {
        return Err(read_only());
    };
    let body = body.ok_or_else(|| ApiError::bad_request("a dashboard needs a JSON body"))?;
    let def = definition::normalise(&body).map_err(ApiError::bad_request)?;
    let r = s
        .meta
        .update_dashboard(org, &did, &def)
        .await?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(org = org.0, dashboard = %r.id, "dashboard updated");
    Ok(json(StatusCode::OK, Served::stored(&r).full()))
}

/// `DELETE /api/v1/dashboard/{id}` → `{"deleted_dashboard_id": id}`.
async fn delete_one(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Target::Stored(did) = target(&id)? else {
        return Err(read_only());
    };
    if !s.meta.delete_dashboard(org, &did).await? {
        return Err(not_found(&id));
    }
    tracing::info!(org = org.0, dashboard = %did, "dashboard deleted");
    Ok(json(StatusCode::OK, json!({"deleted_dashboard_id": id})))
}

/// A boolean query parameter (`true`/`false`), absent: `false`.
fn flag(q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(ApiError::bad_request(format!(
            "{name} must be true or false, got {v:?}"
        ))),
    }
}

/// A non-negative integer query parameter.
fn number(q: &HashMap<String, String>, name: &str) -> Result<Option<usize>, ApiError> {
    q.get(name)
        .map(|v| {
            v.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!("{name} must be a non-negative integer, got {v:?}"))
            })
        })
        .transpose()
}

/// `GET /api/v1/dashboard`: the built-in dashboard, then the org's, oldest
/// first; `start` skips that many, `count` keeps at most that many.
/// `filter[shared]=true` (shared dashboards: Whippet has no sharing) and
/// `filter[deleted]=true` (deleted ones: none are kept) list nothing.
async fn list(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let shared = flag(&q, "filter[shared]")?;
    let deleted = flag(&q, "filter[deleted]")?;
    let start = number(&q, "start")?.unwrap_or(0);
    let count = number(&q, "count")?.unwrap_or(usize::MAX);
    if shared || deleted {
        return Ok(json(StatusCode::OK, json!({"dashboards": []})));
    }
    let stored = s.meta.list_dashboards(org).await?;
    let out: Vec<Value> = std::iter::once(Served::internals())
        .chain(stored.iter().map(Served::stored))
        .skip(start)
        .take(count)
        .map(|d| d.summary())
        .collect();
    Ok(json(StatusCode::OK, json!({"dashboards": out})))
}

/// The ids of a bulk request body (Datadog's `DashboardBulkDeleteRequest`
/// and `DashboardRestoreRequest`): `{"data": [{"id": "...", "type":
/// "dashboard"}, ...]}`, at least one.
fn bulk_ids(body: Option<Value>) -> Result<Vec<String>, ApiError> {
    let usage =
        "the body must be {\"data\": [{\"id\": \"abc-def-ghi\", \"type\": \"dashboard\"}, ...]}";
    let body = body.ok_or_else(|| ApiError::bad_request(usage))?;
    let Some(items) = body.get("data").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(usage));
    };
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "data must name at least one dashboard",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if item.get("type").and_then(Value::as_str) != Some("dashboard") {
                return Err(ApiError::bad_request(format!(
                    "data[{i}].type must be \"dashboard\""
                )));
            }
            item.get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ApiError::bad_request(format!("data[{i}].id must be a string")))
        })
        .collect()
}

/// The 404 of a bulk call that named dashboards the org does not have.
fn bulk_not_found(missing: &[String], extra: &str) -> ApiError {
    ApiError::not_found(format!(
        "Dashboards with IDs {} not found{extra}",
        missing.join(", ")
    ))
}

/// `DELETE /api/v1/dashboard` with a bulk body: deletes all of them or,
/// when any is missing, none (404 naming the missing); 204.
async fn delete_many(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let given = bulk_ids(body)?;
    if given.iter().any(|id| id == internals::ID) {
        return Err(read_only());
    }
    let (ids, malformed): (Vec<_>, Vec<_>) = given
        .iter()
        .map(|id| (id, DashboardId::parse(id)))
        .partition(|(_, p)| p.is_some());
    if !malformed.is_empty() {
        let m: Vec<String> = malformed.into_iter().map(|(id, _)| id.clone()).collect();
        return Err(bulk_not_found(&m, ""));
    }
    let ids: Vec<DashboardId> = ids.into_iter().filter_map(|(_, p)| p).collect();
    match s.meta.delete_dashboards(org, &ids).await {
        Ok(()) => {}
        Err(whippet_meta::MetaError::NotFound(_)) => {
            // Say which: the store refused them all.
            let mut missing = Vec::new();
            for id in &ids {
                if s.meta.get_dashboard(org, id).await?.is_none() {
                    missing.push(id.to_string());
                }
            }
            return Err(bulk_not_found(&missing, ""));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(org = org.0, count = ids.len(), "dashboards deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PATCH /api/v1/dashboard` with a bulk body: restores deleted
/// dashboards. Whippet keeps none, so a dashboard that exists is left as
/// it is (204) and one that does not is a 404 that says why.
async fn restore_many(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut missing = Vec::new();
    for id in bulk_ids(body)? {
        let exists = match target(&id) {
            Ok(Target::Internals) => true,
            Ok(Target::Stored(did)) => s.meta.get_dashboard(org, &did).await?.is_some(),
            Err(_) => false,
        };
        if !exists {
            missing.push(id);
        }
    }
    if !missing.is_empty() {
        return Err(bulk_not_found(
            &missing,
            " (Whippet deletes dashboards at once: there is nothing to restore)",
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_look_like_datadogs() {
        assert_eq!(
            slug(
                "Test-Create_a_new_dashboard_returns_OK_response-1731611527 with Profile Metrics Query"
            ),
            "test-createanewdashboardreturnsokresponse-1731611527-with-profile-metrics-query"
        );
        assert_eq!(
            slug("  Service  overview -- prod "),
            "service-overview-prod"
        );
        assert_eq!(slug("Überblick ✓"), "berblick");
        assert_eq!(slug(""), "");
    }

    #[test]
    fn times_look_like_datadogs() {
        assert_eq!(iso(1_728_578_340_138), "2024-10-10T16:39:00.138000+00:00");
        assert_eq!(
            iso(internals::CREATED_MS),
            "2026-01-01T00:00:00.000000+00:00"
        );
    }

    #[test]
    fn served_dashboards_carry_the_server_fields() {
        let r = DashboardRecord {
            id: DashboardId::parse("abc-def-ghi").unwrap(),
            org: whippet_meta::OrgId(1),
            definition: json!({"title": "Svc overview", "layout_type": "ordered", "widgets": [],
                "notify_list": ["a@b.c"]}),
            author: "alice".into(),
            created_at: 0,
            modified_at: 1000,
        };
        let full = Served::stored(&r).full();
        assert_eq!(full["id"], "abc-def-ghi");
        assert_eq!(full["url"], "/dashboard/abc-def-ghi/svc-overview");
        assert_eq!(full["author_handle"], "alice");
        assert_eq!(full["modified_at"], "1970-01-01T00:00:01.000000+00:00");
        assert_eq!(full["is_read_only"], false);
        assert_eq!(full["notify_list"], json!(["a@b.c"]));
        assert_eq!(full["description"], Value::Null);
        let summary = Served::stored(&r).summary();
        assert_eq!(summary["title"], "Svc overview");
        assert!(summary.get("widgets").is_none());
        let builtin = Served::internals().full();
        assert_eq!(
            (&builtin["id"], &builtin["is_read_only"], &builtin["url"]),
            (
                &json!("wpt-int-dsh"),
                &json!(true),
                &json!("/dashboard/wpt-int-dsh/whippet-internals")
            )
        );
        assert!(DashboardId::parse(internals::ID).unwrap().is_reserved());
    }
}
