//! Monitors' persistent state: definitions, per-group states, the history
//! of transitions, the notification outbox and the webhooks they go to.
//!
//! # What it owns
//! The rows and the one rule that makes notifications safe across a
//! restart: an evaluation's group states, its transitions and the
//! notifications they cause are written in **one transaction**
//! ([`MetaStore::record_evaluation`]), so after a crash either all of them
//! exist or none do. A notification leaves the outbox only when its
//! delivery was confirmed ([`MetaStore::notification_delivered`]); a crash
//! between the receiver's answer and that mark sends it once more, which is
//! the only duplicate possible (the delivery carries the notification id,
//! so a receiver can drop it).
//!
//! # What it must never do
//! Interpret a definition or a state: definitions and group states are
//! JSON the monitors crate and the HTTP layer define; the store keeps them
//! as given. Validation happens before a definition reaches it.
//!
//! # Versions
//! A monitor's `version` starts at 1 and grows by one on every update. An
//! evaluation names the version it evaluated; [`MetaStore::record_evaluation`]
//! drops it when the monitor changed or went away meanwhile, so an edit is
//! never overwritten by states computed from the old definition.

use serde_json::Value;

use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::store::{MetaStore, now_ms};

/// One stored monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorRecord {
    /// The monitor id (the API's `id`), unique in the store, never reused.
    pub id: i64,
    /// The org it belongs to.
    pub org: OrgId,
    /// The definition as the API takes it (`name`, `type`, `query`,
    /// `message`, `tags`, `priority`, `options`, ...), validated by the
    /// caller.
    pub definition: Value,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last update.
    pub modified_at: i64,
    /// 1 when created, +1 per update.
    pub version: i64,
}

/// A state transition of one group of a monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Unique, increasing in insertion order.
    pub id: i64,
    /// The monitor.
    pub monitor_id: i64,
    /// The group (`"host:web-1,env:prod"`, `"*"` for a simple monitor).
    pub group: String,
    /// Status before (`"OK"`, `"Alert"`, ...), as the monitors crate names it.
    pub from: String,
    /// Status after.
    pub to: String,
    /// The value that caused it, if any.
    pub value: Option<f64>,
    /// Unix ms.
    pub at: i64,
}

/// A transition to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTransition {
    /// The group.
    pub group: String,
    /// Status before.
    pub from: String,
    /// Status after.
    pub to: String,
    /// The value that caused it.
    pub value: Option<f64>,
    /// Unix ms.
    pub at: i64,
}

/// A notification to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// Where to: the handle without its `@` (`webhook-ops`, `slack-team`,
    /// `ops@example.com`).
    pub target: String,
    /// What to send, as the deliverer needs it (JSON).
    pub body: Value,
}

/// A notification in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Unique, increasing in insertion order; sent with the delivery so a
    /// receiver can drop a duplicate.
    pub id: i64,
    /// The org whose monitor caused it.
    pub org: OrgId,
    /// The monitor.
    pub monitor_id: i64,
    /// See [`NewNotification::target`].
    pub target: String,
    /// See [`NewNotification::body`].
    pub body: Value,
    /// Unix ms.
    pub created_at: i64,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Unix ms before which it is not tried again.
    pub next_attempt_at: i64,
    /// Unix ms of the confirmed delivery; `None` while pending.
    pub delivered_at: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// Everything one evaluation of one monitor changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    /// The monitor.
    pub monitor_id: i64,
    /// The version of its definition that was evaluated.
    pub version: i64,
    /// New states (JSON) of the groups that were evaluated, by group.
    pub groups: Vec<(String, Value)>,
    /// Groups to forget (gone for longer than the monitor keeps them).
    pub removed_groups: Vec<String>,
    /// Transitions to add to the history.
    pub transitions: Vec<NewTransition>,
    /// Notifications to queue.
    pub notifications: Vec<NewNotification>,
}

/// A webhook of Datadog's webhooks integration
/// (`/api/v1/integration/webhooks/configuration/webhooks`).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The name `@webhook-NAME` refers to; unique per org.
    pub name: String,
    /// Where to POST.
    pub url: String,
    /// The payload template; `None` for the default payload.
    pub payload: Option<String>,
    /// Extra headers, as the API gives them (a JSON object as a string).
    pub custom_headers: Option<String>,
    /// `"json"` or `"form"`.
    pub encode_as: String,
}

pub(crate) mod sql {
    pub const INSERT_MONITOR: &str = "INSERT INTO monitors (org_id, definition, created_at, modified_at, version) \
         VALUES ($1, $2, $3, $3, 1) RETURNING id";
    pub const GET_MONITOR: &str = "SELECT id, org_id, definition, created_at, modified_at, version \
         FROM monitors WHERE org_id = $1 AND id = $2";
    pub const LIST_MONITORS_OF_ORG: &str = "SELECT id, org_id, definition, created_at, modified_at, version \
         FROM monitors WHERE org_id = $1 ORDER BY id";
    pub const LIST_ALL_MONITORS: &str = "SELECT id, org_id, definition, created_at, modified_at, version \
         FROM monitors ORDER BY id";
    pub const UPDATE_MONITOR: &str = "UPDATE monitors SET definition = $3, modified_at = $4, version = version + 1 \
         WHERE org_id = $1 AND id = $2 \
         RETURNING id, org_id, definition, created_at, modified_at, version";
    pub const DELETE_MONITOR: &str = "DELETE FROM monitors WHERE org_id = $1 AND id = $2";
    pub const MONITOR_VERSION: &str = "SELECT version FROM monitors WHERE id = $1";
    pub const GROUPS_OF_MONITOR: &str =
        "SELECT grp, state FROM monitor_groups WHERE monitor_id = $1 ORDER BY grp";
    pub const UPSERT_GROUP: &str = "INSERT INTO monitor_groups (monitor_id, grp, state) VALUES ($1, $2, $3) \
         ON CONFLICT (monitor_id, grp) DO UPDATE SET state = excluded.state";
    pub const DELETE_GROUP: &str = "DELETE FROM monitor_groups WHERE monitor_id = $1 AND grp = $2";
    pub const INSERT_TRANSITION: &str = "INSERT INTO monitor_transitions (monitor_id, grp, from_status, to_status, value, at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const TRANSITIONS: &str = "SELECT t.id, t.monitor_id, t.grp, t.from_status, t.to_status, t.value, t.at \
         FROM monitor_transitions t JOIN monitors m ON m.id = t.monitor_id \
         WHERE m.org_id = $1 AND t.monitor_id = $2 AND t.at >= $3 ORDER BY t.id LIMIT $4";
    pub const INSERT_NOTIFICATION: &str = "INSERT INTO notifications (org_id, monitor_id, target, body, created_at, attempts, next_attempt_at) \
         SELECT org_id, id, $2, $3, $4, 0, $4 FROM monitors WHERE id = $1";
    pub const DUE_NOTIFICATIONS: &str = "SELECT id, org_id, monitor_id, target, body, created_at, attempts, next_attempt_at, delivered_at, last_error \
         FROM notifications WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2";
    pub const NOTIFICATIONS_OF_MONITOR: &str = "SELECT id, org_id, monitor_id, target, body, created_at, attempts, next_attempt_at, delivered_at, last_error \
         FROM notifications WHERE monitor_id = $1 ORDER BY id";
    pub const NOTIFICATION_DELIVERED: &str = "UPDATE notifications SET delivered_at = $2, attempts = attempts + 1, last_error = NULL \
         WHERE id = $1 AND delivered_at IS NULL";
    pub const NOTIFICATION_FAILED: &str = "UPDATE notifications SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 \
         WHERE id = $1 AND delivered_at IS NULL";
    pub const UPSERT_WEBHOOK: &str = "INSERT INTO webhooks (org_id, name, url, payload, custom_headers, encode_as) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (org_id, name) DO UPDATE SET url = excluded.url, payload = excluded.payload, \
         custom_headers = excluded.custom_headers, encode_as = excluded.encode_as";
    pub const INSERT_WEBHOOK: &str = "INSERT INTO webhooks (org_id, name, url, payload, custom_headers, encode_as) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const GET_WEBHOOK: &str = "SELECT name, url, payload, custom_headers, encode_as FROM webhooks \
         WHERE org_id = $1 AND name = $2";
    pub const LIST_WEBHOOKS: &str = "SELECT name, url, payload, custom_headers, encode_as FROM webhooks \
         WHERE org_id = $1 ORDER BY name";
    pub const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE org_id = $1 AND name = $2";
}

/// A JSON column back to a value.
pub(crate) fn json_of(op: &'static str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| crate::sql::corrupt(op, format!("JSON column: {e}")))
}

/// Checks a webhook before it is stored.
fn validate_webhook(w: &Webhook) -> Result<()> {
    let name_ok = !w.name.is_empty()
        && w.name.len() <= 100
        && w.name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if !name_ok {
        return Err(MetaError::Invalid(format!(
            "webhook name {:?} must be 1 to 100 letters, digits, '_', '-' or '.'",
            w.name
        )));
    }
    if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
        return Err(MetaError::Invalid(format!(
            "webhook URL must start with http:// or https://, not {:?}",
            w.url.chars().take(64).collect::<String>()
        )));
    }
    if w.encode_as != "json" && w.encode_as != "form" {
        return Err(MetaError::Invalid(format!(
            "webhook encode_as must be \"json\" or \"form\", not {:?}",
            w.encode_as
        )));
    }
    Ok(())
}

/// Runs the same call on whichever backend the store has.
macro_rules! on_backend {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.inner.backend {
            crate::store::Backend::Sqlite($b) => $call.await,
            crate::store::Backend::Postgres($b) => $call.await,
        }
    };
}

mod postgres;
mod sqlite;

impl MetaStore {
    /// Stores a new monitor of `org` and returns it with its id (version 1).
    /// Errors: [`MetaError::NotFound`] for an unknown org.
    pub async fn create_monitor(&self, org: OrgId, definition: &Value) -> Result<MonitorRecord> {
        let text = definition.to_string();
        let now = now_ms();
        on_backend!(self, b => b.create_monitor(org, text, now))
    }

    /// The monitor `id` if it belongs to `org` (`None` otherwise: another
    /// org's monitor and a missing one look the same).
    pub async fn get_monitor(&self, org: OrgId, id: i64) -> Result<Option<MonitorRecord>> {
        on_backend!(self, b => b.get_monitor(org, id))
    }

    /// The monitors of `org`, or of every org for `None` (the scheduler),
    /// by id.
    pub async fn list_monitors(&self, org: Option<OrgId>) -> Result<Vec<MonitorRecord>> {
        on_backend!(self, b => b.list_monitors(org))
    }

    /// Replaces the definition of monitor `id` of `org` and bumps its
    /// version; `None` when there is no such monitor.
    pub async fn update_monitor(
        &self,
        org: OrgId,
        id: i64,
        definition: &Value,
    ) -> Result<Option<MonitorRecord>> {
        let text = definition.to_string();
        let now = now_ms();
        on_backend!(self, b => b.update_monitor(org, id, text, now))
    }

    /// Deletes monitor `id` of `org` with its groups, history and pending
    /// notifications; false when there was none.
    pub async fn delete_monitor(&self, org: OrgId, id: i64) -> Result<bool> {
        on_backend!(self, b => b.delete_monitor(org, id))
    }

    /// The stored group states of a monitor (group → state JSON), by group.
    pub async fn monitor_groups(&self, monitor_id: i64) -> Result<Vec<(String, Value)>> {
        on_backend!(self, b => b.monitor_groups(monitor_id))
    }

    /// Writes one evaluation in one transaction: group states, removed
    /// groups, transitions and queued notifications. Returns false, and
    /// writes nothing, when the monitor is gone or its version is no longer
    /// `e.version` (it was edited while being evaluated).
    pub async fn record_evaluation(&self, e: &Evaluation) -> Result<bool> {
        let e = e.clone();
        let now = now_ms();
        on_backend!(self, b => b.record_evaluation(e, now))
    }

    /// The transitions of monitor `id` of `org` at or after `since_ms`,
    /// oldest first, at most `limit`.
    pub async fn transitions(
        &self,
        org: OrgId,
        monitor_id: i64,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<Transition>> {
        on_backend!(self, b => b.transitions(org, monitor_id, since_ms, limit))
    }

    /// Pending notifications whose next attempt is due at `now_ms`, oldest
    /// first, at most `limit`.
    pub async fn due_notifications(&self, now_ms: i64, limit: i64) -> Result<Vec<Notification>> {
        on_backend!(self, b => b.due_notifications(now_ms, limit))
    }

    /// Every notification of a monitor, delivered or not, oldest first.
    pub async fn notifications_of(&self, monitor_id: i64) -> Result<Vec<Notification>> {
        on_backend!(self, b => b.notifications_of(monitor_id))
    }

    /// Marks a notification delivered (it is never handed out again).
    pub async fn notification_delivered(&self, id: i64) -> Result<()> {
        let now = now_ms();
        on_backend!(self, b => b.notification_delivered(id, now))
    }

    /// Records a failed attempt: why, and when to try again.
    pub async fn notification_failed(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        on_backend!(self, b => b.notification_failed(id, error, next_attempt_at))
    }

    /// Creates (`replace` false: [`MetaError::Conflict`] if the name is
    /// taken) or replaces a webhook of `org`. Errors:
    /// [`MetaError::Invalid`] for a bad name, URL or encoding;
    /// [`MetaError::NotFound`] for an unknown org.
    pub async fn put_webhook(&self, org: OrgId, w: &Webhook, replace: bool) -> Result<()> {
        validate_webhook(w)?;
        let w = w.clone();
        on_backend!(self, b => b.put_webhook(org, w, replace))
    }

    /// The webhook `name` of `org`.
    pub async fn get_webhook(&self, org: OrgId, name: &str) -> Result<Option<Webhook>> {
        let name = name.to_string();
        on_backend!(self, b => b.get_webhook(org, name))
    }

    /// The webhooks of `org`, by name.
    pub async fn list_webhooks(&self, org: OrgId) -> Result<Vec<Webhook>> {
        on_backend!(self, b => b.list_webhooks(org))
    }

    /// Deletes a webhook; false when there was none.
    pub async fn delete_webhook(&self, org: OrgId, name: &str) -> Result<bool> {
        let name = name.to_string();
        on_backend!(self, b => b.delete_webhook(org, name))
    }
}
