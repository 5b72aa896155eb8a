//! The monitor tables on PostgreSQL (see the parent module for the rules).

use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::{Evaluation, MonitorRecord, Notification, Transition, Webhook, json_of, sql};
use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::postgres::{Postgres, get, is_state};
use crate::sql::org_id;

fn monitor_row(op: &'static str, r: &Row) -> Result<MonitorRecord> {
    let text: String = get(op, r, 2)?;
    Ok(MonitorRecord {
        id: get(op, r, 0)?,
        org: org_id(op, get(op, r, 1)?)?,
        definition: json_of(op, &text)?,
        created_at: get(op, r, 3)?,
        modified_at: get(op, r, 4)?,
        version: get(op, r, 5)?,
    })
}

fn notification_row(op: &'static str, r: &Row) -> Result<Notification> {
    let body: String = get(op, r, 4)?;
    Ok(Notification {
        id: get(op, r, 0)?,
        org: org_id(op, get(op, r, 1)?)?,
        monitor_id: get(op, r, 2)?,
        target: get(op, r, 3)?,
        body: json_of(op, &body)?,
        created_at: get(op, r, 5)?,
        attempts: get(op, r, 6)?,
        next_attempt_at: get(op, r, 7)?,
        delivered_at: get(op, r, 8)?,
        last_error: get(op, r, 9)?,
    })
}

fn webhook_row(op: &'static str, r: &Row) -> Result<Webhook> {
    Ok(Webhook {
        name: get(op, r, 0)?,
        url: get(op, r, 1)?,
        payload: get(op, r, 2)?,
        custom_headers: get(op, r, 3)?,
        encode_as: get(op, r, 4)?,
    })
}

impl Postgres {
    /// Runs a statement; the number of rows it touched.
    async fn execute(
        &self,
        op: &'static str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        let mut conn = self.conn(op).await?;
        conn.client()
            .execute(sql, params)
            .await
            .map_err(self.err(op))
    }

    pub(crate) async fn create_monitor(
        &self,
        org: OrgId,
        definition: String,
        now: i64,
    ) -> Result<MonitorRecord> {
        let op = "create monitor";
        self.insert_for_org(
            op,
            org,
            &definition,
            now,
            sql::INSERT_MONITOR,
            sql::GET_MONITOR,
            monitor_row,
        )
        .await
    }

    pub(crate) async fn get_monitor(&self, org: OrgId, id: i64) -> Result<Option<MonitorRecord>> {
        let org_param = i64::from(org.0);
        Ok(self
            .rows(
                "get monitor",
                sql::GET_MONITOR,
                &[&org_param, &id],
                monitor_row,
            )
            .await?
            .pop())
    }

    pub(crate) async fn list_monitors(&self, org: Option<OrgId>) -> Result<Vec<MonitorRecord>> {
        let op = "list monitors";
        match org {
            Some(org) => {
                let org_param = i64::from(org.0);
                self.rows(op, sql::LIST_MONITORS_OF_ORG, &[&org_param], monitor_row)
                    .await
            }
            None => {
                self.rows(op, sql::LIST_ALL_MONITORS, &[], monitor_row)
                    .await
            }
        }
    }

    pub(crate) async fn update_monitor(
        &self,
        org: OrgId,
        id: i64,
        definition: String,
        now: i64,
    ) -> Result<Option<MonitorRecord>> {
        let org_param = i64::from(org.0);
        Ok(self
            .rows(
                "update monitor",
                sql::UPDATE_MONITOR,
                &[&org_param, &id, &definition, &now],
                monitor_row,
            )
            .await?
            .pop())
    }

    pub(crate) async fn delete_monitor(&self, org: OrgId, id: i64) -> Result<bool> {
        let org_param = i64::from(org.0);
        let n = self
            .execute("delete monitor", sql::DELETE_MONITOR, &[&org_param, &id])
            .await?;
        Ok(n > 0)
    }

    pub(crate) async fn monitor_groups(
        &self,
        monitor_id: i64,
    ) -> Result<Vec<(String, serde_json::Value)>> {
        self.rows(
            "read monitor groups",
            sql::GROUPS_OF_MONITOR,
            &[&monitor_id],
            |op, r| {
                let state: String = get(op, r, 1)?;
                Ok((get(op, r, 0)?, json_of(op, &state)?))
            },
        )
        .await
    }

    pub(crate) async fn record_evaluation(&self, e: Evaluation, now: i64) -> Result<bool> {
        let op = "record monitor evaluation";
        let mut conn = self.conn(op).await?;
        let tx = conn.client().transaction().await.map_err(self.err(op))?;
        // Lock the monitor's row: an update or delete waits for this
        // transaction, and this one sees theirs if they came first.
        let row = tx
            .query_opt(
                "SELECT version FROM monitors WHERE id = $1 FOR UPDATE",
                &[&e.monitor_id],
            )
            .await
            .map_err(self.err(op))?;
        let version: Option<i64> = row.map(|r| get(op, &r, 0)).transpose()?;
        if version != Some(e.version) {
            return Ok(false);
        }
        for (group, state) in &e.groups {
            let state = state.to_string();
            tx.execute(sql::UPSERT_GROUP, &[&e.monitor_id, group, &state])
                .await
                .map_err(self.err(op))?;
        }
        for group in &e.removed_groups {
            tx.execute(sql::DELETE_GROUP, &[&e.monitor_id, group])
                .await
                .map_err(self.err(op))?;
        }
        for t in &e.transitions {
            tx.execute(
                sql::INSERT_TRANSITION,
                &[&e.monitor_id, &t.group, &t.from, &t.to, &t.value, &t.at],
            )
            .await
            .map_err(self.err(op))?;
        }
        for n in &e.notifications {
            let body = n.body.to_string();
            tx.execute(
                sql::INSERT_NOTIFICATION,
                &[&e.monitor_id, &n.target, &body, &now],
            )
            .await
            .map_err(self.err(op))?;
        }
        tx.commit().await.map_err(self.err(op))?;
        Ok(true)
    }

    pub(crate) async fn transitions(
        &self,
        org: OrgId,
        monitor_id: i64,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<Transition>> {
        let org_param = i64::from(org.0);
        self.rows(
            "read monitor transitions",
            sql::TRANSITIONS,
            &[&org_param, &monitor_id, &since_ms, &limit],
            |op, r| {
                Ok(Transition {
                    id: get(op, r, 0)?,
                    monitor_id: get(op, r, 1)?,
                    group: get(op, r, 2)?,
                    from: get(op, r, 3)?,
                    to: get(op, r, 4)?,
                    value: get(op, r, 5)?,
                    at: get(op, r, 6)?,
                })
            },
        )
        .await
    }

    pub(crate) async fn due_notifications(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        self.rows(
            "read due notifications",
            sql::DUE_NOTIFICATIONS,
            &[&now, &limit],
            notification_row,
        )
        .await
    }

    pub(crate) async fn notifications_of(&self, monitor_id: i64) -> Result<Vec<Notification>> {
        self.rows(
            "read notifications",
            sql::NOTIFICATIONS_OF_MONITOR,
            &[&monitor_id],
            notification_row,
        )
        .await
    }

    pub(crate) async fn notification_delivered(&self, id: i64, now: i64) -> Result<()> {
        self.execute(
            "mark notification delivered",
            sql::NOTIFICATION_DELIVERED,
            &[&id, &now],
        )
        .await
        .map(drop)
    }

    pub(crate) async fn notification_failed(
        &self,
        id: i64,
        error: String,
        next: i64,
    ) -> Result<()> {
        self.execute(
            "record failed notification",
            sql::NOTIFICATION_FAILED,
            &[&id, &error, &next],
        )
        .await
        .map(drop)
    }

    pub(crate) async fn put_webhook(&self, org: OrgId, w: Webhook, replace: bool) -> Result<()> {
        let op = "store webhook";
        let org_param = i64::from(org.0);
        let text = if replace {
            sql::UPSERT_WEBHOOK
        } else {
            sql::INSERT_WEBHOOK
        };
        let mut conn = self.conn(op).await?;
        conn.client()
            .execute(
                text,
                &[
                    &org_param,
                    &w.name,
                    &w.url,
                    &w.payload,
                    &w.custom_headers,
                    &w.encode_as,
                ],
            )
            .await
            .map_err(|e| {
                if is_state(&e, &SqlState::UNIQUE_VIOLATION) {
                    MetaError::Conflict(format!("a webhook named {:?} already exists", w.name))
                } else if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) {
                    MetaError::NotFound(format!("org {org}"))
                } else {
                    self.err(op)(e)
                }
            })?;
        Ok(())
    }

    pub(crate) async fn get_webhook(&self, org: OrgId, name: String) -> Result<Option<Webhook>> {
        let org_param = i64::from(org.0);
        Ok(self
            .rows(
                "get webhook",
                sql::GET_WEBHOOK,
                &[&org_param, &name],
                webhook_row,
            )
            .await?
            .pop())
    }

    pub(crate) async fn list_webhooks(&self, org: OrgId) -> Result<Vec<Webhook>> {
        let org_param = i64::from(org.0);
        self.rows(
            "list webhooks",
            sql::LIST_WEBHOOKS,
            &[&org_param],
            webhook_row,
        )
        .await
    }

    pub(crate) async fn delete_webhook(&self, org: OrgId, name: String) -> Result<bool> {
        let org_param = i64::from(org.0);
        let n = self
            .execute("delete webhook", sql::DELETE_WEBHOOK, &[&org_param, &name])
            .await?;
        Ok(n > 0)
    }
}
