//! SQL shared by both backends, and the value conversions around it.
//!
//! Statements are written once, with PostgreSQL's numbered placeholders
//! (`$1`); the SQLite backend runs them through [`for_sqlite`], which turns
//! `$N` into SQLite's equivalent `?N` (same numbering, same reuse). Only
//! the schema (DDL) differs per backend; it lives in each backend's module
//! and is documented in `docs/schema.md`.
//!
//! Integer columns are 64-bit in both backends (`INTEGER` in SQLite,
//! `BIGINT` in PostgreSQL) except `check_status.status` (`SMALLINT` in
//! PostgreSQL), so every integer parameter is an `i64` and PostgreSQL's
//! strict parameter typing never sees an `i32`/`i64` mismatch.

use crate::error::{BackendError, MetaError, Result};
use crate::model::{EventQuery, NewEvent, OrgId};

/// Rewrites `$N` placeholders to SQLite's `?N`. Statements here never
/// contain a `$` elsewhere (no string literals with one).
pub(crate) fn for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

pub(crate) const INSERT_ORG: &str =
    "INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id";
pub(crate) const LIST_ORGS: &str = "SELECT id, name, created_at FROM orgs ORDER BY id";
pub(crate) const COUNT_ORGS: &str = "SELECT COUNT(*) FROM orgs";

pub(crate) const INSERT_KEY: &str = "INSERT INTO keys (org_id, kind, name, hash, last4, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
pub(crate) const LIST_KEYS: &str =
    "SELECT id, org_id, kind, name, last4, created_at, revoked_at FROM keys ORDER BY id";
pub(crate) const LIST_KEYS_OF_ORG: &str = "SELECT id, org_id, kind, name, last4, created_at, revoked_at FROM keys \
     WHERE org_id = $1 ORDER BY id";
/// Revoking twice keeps the first revocation time.
pub(crate) const REVOKE_KEY: &str =
    "UPDATE keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING id";
pub(crate) const VERIFY_KEY: &str =
    "SELECT org_id FROM keys WHERE kind = $1 AND hash = $2 AND revoked_at IS NULL";

pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (org_id, created_at, title, text, date_happened, priority, host, tags, \
     alert_type, aggregation_key, source_type_name, source_lc, related_event_id, device_name, extra) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id";
pub(crate) const INSERT_EVENT_TAG: &str =
    "INSERT INTO event_tags (org_id, tag, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
/// The columns [`EventRow`] is read from, in order, for `events e`.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.created_at, e.title, e.text, e.date_happened, e.priority, e.host, e.tags, \
     e.alert_type, e.aggregation_key, e.source_type_name, e.related_event_id, e.device_name, e.extra";

/// Keeps the newest run: an older timestamp arriving late does not
/// overwrite a newer status; an equal timestamp does (last write wins).
pub(crate) const UPSERT_CHECK: &str = "INSERT INTO check_status (org_id, check_name, host, tags, status, message, ts_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (org_id, check_name, host, tags) DO UPDATE \
     SET status = excluded.status, message = excluded.message, ts_ms = excluded.ts_ms \
     WHERE excluded.ts_ms >= check_status.ts_ms";
/// Unordered: [`MetaStore::check_statuses`](crate::MetaStore::check_statuses)
/// sorts in Rust, so the order does not depend on the database's collation.
pub(crate) const CHECKS_OF_ORG: &str = "SELECT check_name, host, tags, status, message, ts_ms FROM check_status \
     WHERE org_id = $1";
pub(crate) const CHECKS_BY_NAME: &str = "SELECT check_name, host, tags, status, message, ts_ms FROM check_status \
     WHERE org_id = $1 AND check_name = $2";

/// `SELECT` of one event by org and id.
pub(crate) fn get_event_sql() -> String {
    format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.org_id = $1 AND e.id = $2")
}

/// A bound parameter of a dynamically built statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(String),
}

/// Builds the `GET /api/v1/events` listing statement for `org` and `q`
/// (semantics on [`EventQuery`]). Returns `None` when the page starts
/// beyond any possible result (`page * limit` overflows).
pub(crate) fn list_events(org: OrgId, q: &EventQuery) -> Result<Option<(String, Vec<Param>)>> {
    let limit = match q.limit {
        0 => EventQuery::DEFAULT_LIMIT,
        n => n.min(EventQuery::MAX_LIMIT),
    };
    let Some(offset) = q
        .page
        .checked_mul(limit)
        .and_then(|o| i64::try_from(o).ok())
    else {
        return Ok(None);
    };
    let mut params = vec![
        Param::Int(i64::from(org.0)),
        Param::Int(q.start_ms),
        Param::Int(q.end_ms),
    ];
    let mut sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events e \
         WHERE e.org_id = $1 AND e.date_happened >= $2 AND e.date_happened <= $3"
    );
    match q.priority.as_deref() {
        None | Some("all") => {}
        Some(p @ ("normal" | "low")) => {
            let ph = next(&mut params, Param::Text(p.to_string()));
            sql.push_str(&format!(" AND COALESCE(e.priority, 'normal') = {ph}"));
        }
        Some(other) => {
            return Err(MetaError::Invalid(format!(
                "priority must be \"normal\", \"low\" or \"all\", not {other:?}"
            )));
        }
    }
    let mut sources: Vec<String> = q
        .sources
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    sources.sort();
    sources.dedup();
    if !sources.is_empty() {
        let phs: Vec<String> = sources
            .into_iter()
            .map(|s| next(&mut params, Param::Text(s)))
            .collect();
        sql.push_str(&format!(" AND e.source_lc IN ({})", phs.join(", ")));
    }
    let mut tags: Vec<&String> = q.tags.iter().filter(|t| !t.is_empty()).collect();
    tags.sort();
    tags.dedup();
    for tag in tags {
        let ph = next(&mut params, Param::Text(tag.clone()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM event_tags t \
             WHERE t.org_id = e.org_id AND t.tag = {ph} AND t.event_id = e.id)"
        ));
    }
    if !q.unaggregated {
        sql.push_str(
            " AND (e.related_event_id IS NULL OR NOT EXISTS (SELECT 1 FROM events p \
             WHERE p.org_id = e.org_id AND p.id = e.related_event_id \
             AND (p.date_happened < $2 OR p.date_happened > $3)))",
        );
    }
    let limit_ph = next(&mut params, Param::Int(limit as i64));
    let offset_ph = next(&mut params, Param::Int(offset));
    sql.push_str(&format!(
        " ORDER BY e.date_happened DESC, e.id DESC LIMIT {limit_ph} OFFSET {offset_ph}"
    ));
    Ok(Some((sql, params)))
}

/// Appends a parameter and returns its placeholder.
fn next(params: &mut Vec<Param>, p: Param) -> String {
    params.push(p);
    format!("${}", params.len())
}

/// An event's columns as both backends read them (see [`EVENT_COLUMNS`]).
pub(crate) struct EventRow {
    pub id: i64,
    pub created_at: i64,
    pub title: String,
    pub text: String,
    pub date_happened: i64,
    pub priority: Option<String>,
    pub host: Option<String>,
    pub tags_json: String,
    pub alert_type: Option<String>,
    pub aggregation_key: Option<String>,
    pub source_type_name: Option<String>,
    pub related_event_id: Option<i64>,
    pub device_name: Option<String>,
    pub extra_json: String,
}

impl EventRow {
    /// Decodes the JSON columns.
    pub(crate) fn into_event(self) -> Result<crate::model::Event> {
        let tags: Vec<String> = serde_json::from_str(&self.tags_json)
            .map_err(|e| corrupt("read event", format!("event {} tags: {e}", self.id)))?;
        let extra: serde_json::Value = serde_json::from_str(&self.extra_json)
            .map_err(|e| corrupt("read event", format!("event {} extra: {e}", self.id)))?;
        Ok(crate::model::Event {
            id: self.id,
            created_at: self.created_at,
            title: self.title,
            text: self.text,
            date_happened: self.date_happened,
            priority: self.priority,
            host: self.host,
            tags,
            alert_type: self.alert_type,
            aggregation_key: self.aggregation_key,
            source_type_name: self.source_type_name,
            related_event_id: self.related_event_id,
            device_name: self.device_name,
            extra,
        })
    }
}

/// The JSON stored in `events.tags` and `events.extra`.
pub(crate) fn event_json(e: &NewEvent) -> (String, String) {
    // Serialising a Vec<String> or a Value cannot fail.
    let tags = serde_json::to_string(&e.tags).unwrap_or_else(|_| "[]".to_string());
    let extra = serde_json::to_string(&e.extra).unwrap_or_else(|_| "null".to_string());
    (tags, extra)
}

/// `events.source_lc`: the source name in ASCII lower case, what the
/// `sources` filter compares with. Computed here rather than with SQL
/// `lower()`, whose treatment of non-ASCII letters differs between SQLite
/// (none) and PostgreSQL (locale-dependent).
pub(crate) fn source_lc(e: &NewEvent) -> Option<String> {
    e.source_type_name.as_deref().map(str::to_ascii_lowercase)
}

/// The event's tags for `event_tags`: without empties and duplicates.
pub(crate) fn index_tags(e: &NewEvent) -> Vec<&str> {
    let mut tags: Vec<&str> = e
        .tags
        .iter()
        .map(String::as_str)
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}

/// A check run's tag set as stored in `check_status.tags` (part of the
/// primary key): sorted, without duplicates, as a JSON array.
pub(crate) fn check_tags_json(tags: &[String]) -> String {
    let mut sorted: Vec<&String> = tags.iter().collect();
    sorted.sort();
    sorted.dedup();
    serde_json::to_string(&sorted).unwrap_or_else(|_| "[]".to_string())
}

/// Decodes `check_status.tags`.
pub(crate) fn decode_tags(op: &'static str, json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| corrupt(op, format!("tag list {json:?}: {e}")))
}

/// An org id read from the database.
pub(crate) fn org_id(op: &'static str, id: i64) -> Result<OrgId> {
    u32::try_from(id)
        .map(OrgId)
        .map_err(|_| corrupt(op, format!("org id {id} out of range")))
}

/// A [`MetaError::Backend`] for a stored value the store would not write.
pub(crate) fn corrupt(op: &'static str, what: String) -> MetaError {
    MetaError::backend(op, BackendError::Corrupt(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_sql_numbers_parameters_in_order() {
        let mut q = EventQuery::range(10, 20);
        q.priority = Some("low".into());
        q.sources = vec!["Docker".into(), "".into(), "docker".into()];
        q.tags = vec!["b".into(), "a".into(), "a".into()];
        q.limit = 5000;
        q.page = 2;
        let (sql, params) = list_events(OrgId(7), &q).unwrap().unwrap();
        assert_eq!(
            params,
            vec![
                Param::Int(7),
                Param::Int(10),
                Param::Int(20),
                Param::Text("low".into()),
                Param::Text("docker".into()),
                Param::Text("a".into()),
                Param::Text("b".into()),
                Param::Int(1000),
                Param::Int(2000),
            ]
        );
        assert!(sql.contains("IN ($5)"), "{sql}");
        assert!(sql.ends_with("LIMIT $8 OFFSET $9"), "{sql}");
        assert!(for_sqlite(&sql).ends_with("LIMIT ?8 OFFSET ?9"));
    }

    #[test]
    fn bad_priority_is_invalid_and_huge_pages_are_empty() {
        let mut q = EventQuery::range(0, 1);
        q.priority = Some("high".into());
        assert_eq!(list_events(OrgId(1), &q).unwrap_err().http_status(), 400);
        let mut q = EventQuery::range(0, 1);
        q.page = usize::MAX;
        assert!(list_events(OrgId(1), &q).unwrap().is_none());
    }

    #[test]
    fn check_tags_are_sorted_and_deduplicated() {
        let tags = vec!["b:2".to_string(), "a:1".into(), "b:2".into()];
        assert_eq!(check_tags_json(&tags), r#"["a:1","b:2"]"#);
        assert_eq!(check_tags_json(&[]), "[]");
    }
}
