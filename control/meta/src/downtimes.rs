//! Downtimes' persistent state: Datadog's scheduled downtimes
//! (`/api/v1/downtime`), one row each, kept after they are canceled.
//!
//! # What it owns
//! The rows and two rules about them:
//! - a downtime is **canceled, not deleted**: [`MetaStore::cancel_downtime`]
//!   stamps `canceled_at` once (a second cancel keeps the first time), and
//!   the API still answers `GET` for it, as Datadog does;
//! - a canceled downtime is frozen: [`MetaStore::update_downtime`] does not
//!   touch it, so an edit racing a cancel can never revive it.
//!
//! # What it must never do
//! Interpret a definition. Scope, monitor selection, start, end and
//! recurrence are JSON that the HTTP layer validates and the scheduler
//! reads (`whippet::alerting::downtime`); the store keeps them as given and
//! answers "which downtimes exist", never "which are active now" (that
//! depends on the recurrence rules, which live in one place only).

use serde_json::Value;

use crate::error::Result;
use crate::model::OrgId;
use crate::monitors::json_of;
use crate::store::{MetaStore, now_ms};

/// One stored downtime.
#[derive(Debug, Clone, PartialEq)]
pub struct DowntimeRecord {
    /// The downtime id (the API's `id`), unique in the store, never reused.
    pub id: i64,
    /// The org it belongs to.
    pub org: OrgId,
    /// The definition as the API takes it (`scope`, `monitor_id`,
    /// `monitor_tags`, `start`, `end`, `recurrence`, `message`,
    /// `timezone`, ...), validated and normalised by the caller.
    pub definition: Value,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last update or of the cancel.
    pub modified_at: i64,
    /// Unix ms of the cancel; `None` while not canceled.
    pub canceled_at: Option<i64>,
}

pub(crate) mod sql {
    // Every SELECT and RETURNING names the columns in the order the row
    // readers of both backends expect: id, org_id, definition, created_at,
    // modified_at, canceled_at.
    pub const INSERT_DOWNTIME: &str = "INSERT INTO downtimes (org_id, definition, created_at, modified_at) \
         VALUES ($1, $2, $3, $3) RETURNING id";
    pub const GET_DOWNTIME: &str = "SELECT id, org_id, definition, created_at, modified_at, canceled_at \
         FROM downtimes WHERE org_id = $1 AND id = $2";
    /// `$2`: true to include canceled downtimes.
    pub const LIST_DOWNTIMES_OF_ORG: &str = "SELECT id, org_id, definition, created_at, modified_at, canceled_at \
         FROM downtimes WHERE org_id = $1 AND ($2 OR canceled_at IS NULL) ORDER BY id";
    /// `$1`: true to include canceled downtimes.
    pub const LIST_ALL_DOWNTIMES: &str = "SELECT id, org_id, definition, created_at, modified_at, canceled_at \
         FROM downtimes WHERE ($1 OR canceled_at IS NULL) ORDER BY id";
    pub const UPDATE_DOWNTIME: &str = "UPDATE downtimes SET definition = $3, modified_at = $4 \
         WHERE org_id = $1 AND id = $2 AND canceled_at IS NULL \
         RETURNING id, org_id, definition, created_at, modified_at, canceled_at";
    pub const CANCEL_DOWNTIME: &str = "UPDATE downtimes SET canceled_at = COALESCE(canceled_at, $3), \
         modified_at = CASE WHEN canceled_at IS NULL THEN $3 ELSE modified_at END \
         WHERE org_id = $1 AND id = $2 \
         RETURNING id, org_id, definition, created_at, modified_at, canceled_at";
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

/// A definition column back to a record (shared by both backends).
fn record(
    op: &'static str,
    id: i64,
    org: i64,
    definition: &str,
    created_at: i64,
    modified_at: i64,
    canceled_at: Option<i64>,
) -> Result<DowntimeRecord> {
    Ok(DowntimeRecord {
        id,
        org: crate::sql::org_id(op, org)?,
        definition: json_of(op, definition)?,
        created_at,
        modified_at,
        canceled_at,
    })
}

impl MetaStore {
    /// Stores a new downtime of `org` and returns it with its id. Errors:
    /// [`MetaError::NotFound`](crate::MetaError::NotFound) for an unknown
    /// org.
    pub async fn create_downtime(&self, org: OrgId, definition: &Value) -> Result<DowntimeRecord> {
        let text = definition.to_string();
        let now = now_ms();
        on_backend!(self, b => b.create_downtime(org, text, now))
    }

    /// The downtime `id` if it belongs to `org`, canceled or not (`None`
    /// otherwise: another org's downtime and a missing one look the same).
    pub async fn get_downtime(&self, org: OrgId, id: i64) -> Result<Option<DowntimeRecord>> {
        on_backend!(self, b => b.get_downtime(org, id))
    }

    /// The downtimes of `org`, or of every org for `None` (the scheduler),
    /// by id; canceled ones only when `include_canceled`. Downtimes whose
    /// end has passed are still listed: whether one is in effect is the
    /// reader's question.
    pub async fn list_downtimes(
        &self,
        org: Option<OrgId>,
        include_canceled: bool,
    ) -> Result<Vec<DowntimeRecord>> {
        on_backend!(self, b => b.list_downtimes(org, include_canceled))
    }

    /// Replaces the definition of downtime `id` of `org`; `None` when there
    /// is no such downtime or it is canceled (a canceled downtime is
    /// frozen).
    pub async fn update_downtime(
        &self,
        org: OrgId,
        id: i64,
        definition: &Value,
    ) -> Result<Option<DowntimeRecord>> {
        let text = definition.to_string();
        let now = now_ms();
        on_backend!(self, b => b.update_downtime(org, id, text, now))
    }

    /// Cancels downtime `id` of `org` and returns it; `None` when there is
    /// no such downtime. Canceling a canceled downtime succeeds and keeps
    /// the first `canceled_at`.
    pub async fn cancel_downtime(&self, org: OrgId, id: i64) -> Result<Option<DowntimeRecord>> {
        let now = now_ms();
        on_backend!(self, b => b.cancel_downtime(org, id, now))
    }
}
