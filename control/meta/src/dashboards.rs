//! Dashboards' persistent state: Datadog's dashboards (`/api/v1/dashboard`),
//! one row each, keyed by a [`DashboardId`] in Datadog's `abc-def-ghi` form.
//!
//! # What it owns
//! - The rows, and the ids: [`MetaStore::create_dashboard`] draws a fresh
//!   random id and retries on the (astronomically rare) collision, so an id
//!   is unique in the whole store, not only in its org.
//! - Ids whose first group is `wpt` are **reserved** for dashboards built
//!   into the server (the "Whippet internals" dashboard is `wpt-int-dsh`):
//!   the store never draws one, so a built-in dashboard can never be
//!   shadowed by a stored one.
//! - Bulk deletion is all or nothing ([`MetaStore::delete_dashboards`]).
//!
//! # What it must never do
//! Interpret a definition. Title, layout, widgets and template variables
//! are JSON that the HTTP layer validates (and whose widget ids it
//! assigns); the store keeps it as given and gives it back unchanged.
//! Built-in dashboards are not rows: the HTTP layer serves them.

use std::fmt;

use rand::RngExt;
use serde_json::Value;

use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::monitors::json_of;
use crate::store::{MetaStore, now_ms};

/// A dashboard id in Datadog's form: three groups of three lowercase ASCII
/// letters or digits joined by `-` (`abc-def-ghi`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DashboardId(String);

/// The characters of a generated id (Datadog's: lowercase letters, digits).
const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// The first group of every reserved id (see the module doc).
pub const RESERVED_ID_PREFIX: &str = "wpt";

/// How many fresh ids [`MetaStore::create_dashboard`] tries before giving
/// up. 36^9 (about 10^14) ids: with a million dashboards stored, one draw
/// collides with probability 10^-8, so a third draw is never needed in
/// practice; more than one retry only guards against a broken random
/// source.
const ID_ATTEMPTS: usize = 3;

impl DashboardId {
    /// `text` as an id, or `None` when it is not of the `abc-def-ghi` form
    /// (such a string can name no dashboard: the caller answers "not
    /// found" without asking the store).
    pub fn parse(text: &str) -> Option<DashboardId> {
        let b = text.as_bytes();
        let ok = b.len() == 11
            && b.iter().enumerate().all(|(i, c)| {
                if i % 4 == 3 {
                    *c == b'-'
                } else {
                    c.is_ascii_lowercase() || c.is_ascii_digit()
                }
            });
        ok.then(|| DashboardId(text.to_owned()))
    }

    /// A fresh random id that is not reserved.
    pub fn generate() -> DashboardId {
        let mut rng = rand::rng();
        loop {
            let mut s = String::with_capacity(11);
            for i in 0..11 {
                if i % 4 == 3 {
                    s.push('-');
                } else {
                    s.push(char::from(
                        ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())],
                    ));
                }
            }
            let id = DashboardId(s);
            if !id.is_reserved() {
                return id;
            }
        }
    }

    /// Whether the id is kept for a dashboard built into the server.
    pub fn is_reserved(&self) -> bool {
        self.0.starts_with(RESERVED_ID_PREFIX) && self.0.as_bytes()[3] == b'-'
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DashboardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One stored dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardRecord {
    /// The dashboard id, unique in the store.
    pub id: DashboardId,
    /// The org it belongs to.
    pub org: OrgId,
    /// The definition as the API takes it (`title`, `layout_type`,
    /// `widgets` with their ids, `template_variables`, ...), validated by
    /// the caller. Server fields (`id`, `url`, times, author) are not in it.
    pub definition: Value,
    /// The handle of whoever created it (`author_handle`).
    pub author: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last update.
    pub modified_at: i64,
}

pub(crate) mod sql {
    // Every SELECT and RETURNING names the columns in the order the row
    // readers of both backends expect: id, org_id, definition, author,
    // created_at, modified_at.
    pub const INSERT_DASHBOARD: &str = "INSERT INTO dashboards \
         (id, org_id, definition, author, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         RETURNING id, org_id, definition, author, created_at, modified_at";
    pub const GET_DASHBOARD: &str = "SELECT id, org_id, definition, author, created_at, modified_at \
         FROM dashboards WHERE org_id = $1 AND id = $2";
    /// Oldest first; the id breaks ties so the order is total.
    pub const LIST_DASHBOARDS: &str = "SELECT id, org_id, definition, author, created_at, modified_at \
         FROM dashboards WHERE org_id = $1 ORDER BY created_at, id";
    pub const UPDATE_DASHBOARD: &str = "UPDATE dashboards SET definition = $3, modified_at = $4 \
         WHERE org_id = $1 AND id = $2 \
         RETURNING id, org_id, definition, author, created_at, modified_at";
    pub const DELETE_DASHBOARD: &str = "DELETE FROM dashboards WHERE org_id = $1 AND id = $2";
}

mod postgres;
mod sqlite;

/// Runs the same call on whichever backend the store has.
macro_rules! on_backend {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.inner.backend {
            crate::store::Backend::Sqlite($b) => $call.await,
            crate::store::Backend::Postgres($b) => $call.await,
        }
    };
}

/// A row back to a record (shared by both backends).
fn record(
    op: &'static str,
    id: String,
    org: i64,
    definition: &str,
    author: String,
    created_at: i64,
    modified_at: i64,
) -> Result<DashboardRecord> {
    let id = DashboardId::parse(&id)
        .ok_or_else(|| crate::sql::corrupt(op, format!("dashboard id {id:?}")))?;
    Ok(DashboardRecord {
        id,
        org: crate::sql::org_id(op, org)?,
        definition: json_of(op, definition)?,
        author,
        created_at,
        modified_at,
    })
}

/// The error of a bulk delete that named dashboards the org does not have.
fn missing_error(missing: &[DashboardId]) -> MetaError {
    let ids: Vec<&str> = missing.iter().map(DashboardId::as_str).collect();
    MetaError::NotFound(format!("dashboards {}", ids.join(", ")))
}

impl MetaStore {
    /// Stores a new dashboard of `org` under a fresh id and returns it.
    /// Errors: [`MetaError::NotFound`] for an unknown org.
    pub async fn create_dashboard(
        &self,
        org: OrgId,
        definition: &Value,
        author: &str,
    ) -> Result<DashboardRecord> {
        let text = definition.to_string();
        let now = now_ms();
        for _ in 0..ID_ATTEMPTS {
            let id = DashboardId::generate();
            let created = on_backend!(self, b =>
                b.insert_dashboard(org, id.clone(), text.clone(), author.to_owned(), now));
            if let Some(r) = created? {
                return Ok(r);
            }
            tracing::warn!(dashboard = %id, "a fresh dashboard id was taken; drawing another");
        }
        Err(MetaError::Conflict(format!(
            "no free dashboard id after {ID_ATTEMPTS} random draws"
        )))
    }

    /// The dashboard `id` if it belongs to `org` (`None` otherwise: another
    /// org's dashboard and a missing one look the same).
    pub async fn get_dashboard(
        &self,
        org: OrgId,
        id: &DashboardId,
    ) -> Result<Option<DashboardRecord>> {
        let id = id.clone();
        on_backend!(self, b => b.get_dashboard(org, id))
    }

    /// Every dashboard of `org`, oldest first. Whole definitions are read:
    /// an org has dashboards by the hundred, not the million, and the
    /// listing's fields (title, description, layout) live in them.
    pub async fn list_dashboards(&self, org: OrgId) -> Result<Vec<DashboardRecord>> {
        on_backend!(self, b => b.list_dashboards(org))
    }

    /// Replaces the definition of dashboard `id` of `org` (the author and
    /// creation time stay); `None` when there is no such dashboard.
    pub async fn update_dashboard(
        &self,
        org: OrgId,
        id: &DashboardId,
        definition: &Value,
    ) -> Result<Option<DashboardRecord>> {
        let text = definition.to_string();
        let now = now_ms();
        let id = id.clone();
        on_backend!(self, b => b.update_dashboard(org, id, text, now))
    }

    /// Deletes dashboard `id` of `org`; false when there is no such
    /// dashboard. The row is gone at once (no trash to restore from).
    pub async fn delete_dashboard(&self, org: OrgId, id: &DashboardId) -> Result<bool> {
        let ids = vec![id.clone()];
        match on_backend!(self, b => b.delete_dashboards(org, ids)) {
            Ok(()) => Ok(true),
            Err(MetaError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes every dashboard of `ids` of `org` in one transaction, or
    /// none: when any is missing (or belongs to another org) the error is
    /// [`MetaError::NotFound`] naming each missing id, and nothing is
    /// deleted. An id given twice is deleted once.
    pub async fn delete_dashboards(&self, org: OrgId, ids: &[DashboardId]) -> Result<()> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        on_backend!(self, b => b.delete_dashboards(org, ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_datadogs_form() {
        assert!(DashboardId::parse("abc-def-ghi").is_some());
        assert!(DashboardId::parse("a1c-0ef-9h9").is_some());
        for bad in [
            "",
            "abc-def-gh",
            "abc-def-ghij",
            "abcdefghijk",
            "ABC-def-ghi",
            "abc_def_ghi",
            "abc-dé-ghi",
            "abc-def-gh ",
        ] {
            assert!(DashboardId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_parse_differ_and_are_never_reserved() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let id = DashboardId::generate();
            assert_eq!(DashboardId::parse(id.as_str()), Some(id.clone()));
            assert!(!id.is_reserved(), "{id}");
            seen.insert(id);
        }
        assert_eq!(seen.len(), 20_000);
        assert!(DashboardId::parse("wpt-int-dsh").unwrap().is_reserved());
        assert!(!DashboardId::parse("wpx-int-dsh").unwrap().is_reserved());
    }
}
