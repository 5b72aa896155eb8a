//! The monitor tables on SQLite (see the parent module for the rules).

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Evaluation, MonitorRecord, Notification, Transition, Webhook, json_of, sql};
use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::sql::{for_sqlite, org_id};
use crate::sqlite::{
    Sqlite, err, insert_for_org, is_fk_violation, is_unique_violation, query_rows as rows,
};

fn monitor_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<MonitorRecord> {
    let text: String = r.get(2).map_err(err(op))?;
    Ok(MonitorRecord {
        id: r.get(0).map_err(err(op))?,
        org: org_id(op, r.get(1).map_err(err(op))?)?,
        definition: json_of(op, &text)?,
        created_at: r.get(3).map_err(err(op))?,
        modified_at: r.get(4).map_err(err(op))?,
        version: r.get(5).map_err(err(op))?,
    })
}

fn notification_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<Notification> {
    let body: String = r.get(4).map_err(err(op))?;
    Ok(Notification {
        id: r.get(0).map_err(err(op))?,
        org: org_id(op, r.get(1).map_err(err(op))?)?,
        monitor_id: r.get(2).map_err(err(op))?,
        target: r.get(3).map_err(err(op))?,
        body: json_of(op, &body)?,
        created_at: r.get(5).map_err(err(op))?,
        attempts: r.get(6).map_err(err(op))?,
        next_attempt_at: r.get(7).map_err(err(op))?,
        delivered_at: r.get(8).map_err(err(op))?,
        last_error: r.get(9).map_err(err(op))?,
    })
}

fn webhook_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<Webhook> {
    Ok(Webhook {
        name: r.get(0).map_err(err(op))?,
        url: r.get(1).map_err(err(op))?,
        payload: r.get(2).map_err(err(op))?,
        custom_headers: r.get(3).map_err(err(op))?,
        encode_as: r.get(4).map_err(err(op))?,
    })
}

impl Sqlite {
    pub(crate) async fn create_monitor(
        &self,
        org: OrgId,
        definition: String,
        now: i64,
    ) -> Result<MonitorRecord> {
        let op = "create monitor";
        self.call(op, move |conn| {
            insert_for_org(
                conn,
                op,
                org,
                &definition,
                now,
                sql::INSERT_MONITOR,
                sql::GET_MONITOR,
                monitor_row,
            )
        })
        .await
    }

    pub(crate) async fn get_monitor(&self, org: OrgId, id: i64) -> Result<Option<MonitorRecord>> {
        let op = "get monitor";
        self.call(op, move |conn| {
            Ok(rows(
                conn,
                op,
                sql::GET_MONITOR,
                params![i64::from(org.0), id],
                monitor_row,
            )?
            .pop())
        })
        .await
    }

    pub(crate) async fn list_monitors(&self, org: Option<OrgId>) -> Result<Vec<MonitorRecord>> {
        let op = "list monitors";
        self.call(op, move |conn| match org {
            Some(org) => rows(
                conn,
                op,
                sql::LIST_MONITORS_OF_ORG,
                params![i64::from(org.0)],
                monitor_row,
            ),
            None => rows(conn, op, sql::LIST_ALL_MONITORS, [], monitor_row),
        })
        .await
    }

    pub(crate) async fn update_monitor(
        &self,
        org: OrgId,
        id: i64,
        definition: String,
        now: i64,
    ) -> Result<Option<MonitorRecord>> {
        let op = "update monitor";
        self.call(op, move |conn| {
            Ok(rows(
                conn,
                op,
                sql::UPDATE_MONITOR,
                params![i64::from(org.0), id, definition, now],
                monitor_row,
            )?
            .pop())
        })
        .await
    }

    pub(crate) async fn delete_monitor(&self, org: OrgId, id: i64) -> Result<bool> {
        let op = "delete monitor";
        self.call(op, move |conn| {
            let n = conn
                .execute(
                    &for_sqlite(sql::DELETE_MONITOR),
                    params![i64::from(org.0), id],
                )
                .map_err(err(op))?;
            Ok(n > 0)
        })
        .await
    }

    pub(crate) async fn monitor_groups(
        &self,
        monitor_id: i64,
    ) -> Result<Vec<(String, serde_json::Value)>> {
        let op = "read monitor groups";
        self.call(op, move |conn| {
            rows(
                conn,
                op,
                sql::GROUPS_OF_MONITOR,
                params![monitor_id],
                |op, r| {
                    let state: String = r.get(1).map_err(err(op))?;
                    Ok((r.get(0).map_err(err(op))?, json_of(op, &state)?))
                },
            )
        })
        .await
    }

    pub(crate) async fn record_evaluation(&self, e: Evaluation, now: i64) -> Result<bool> {
        let op = "record monitor evaluation";
        self.call(op, move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err(op))?;
            let version: Option<i64> = tx
                .query_row(
                    &for_sqlite(sql::MONITOR_VERSION),
                    params![e.monitor_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err(op))?;
            if version != Some(e.version) {
                return Ok(false);
            }
            for (group, state) in &e.groups {
                tx.execute(
                    &for_sqlite(sql::UPSERT_GROUP),
                    params![e.monitor_id, group, state.to_string()],
                )
                .map_err(err(op))?;
            }
            for group in &e.removed_groups {
                tx.execute(&for_sqlite(sql::DELETE_GROUP), params![e.monitor_id, group])
                    .map_err(err(op))?;
            }
            for t in &e.transitions {
                tx.execute(
                    &for_sqlite(sql::INSERT_TRANSITION),
                    params![e.monitor_id, t.group, t.from, t.to, t.value, t.at],
                )
                .map_err(err(op))?;
            }
            for n in &e.notifications {
                tx.execute(
                    &for_sqlite(sql::INSERT_NOTIFICATION),
                    params![e.monitor_id, n.target, n.body.to_string(), now],
                )
                .map_err(err(op))?;
            }
            tx.commit().map_err(err(op))?;
            Ok(true)
        })
        .await
    }

    pub(crate) async fn transitions(
        &self,
        org: OrgId,
        monitor_id: i64,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<Transition>> {
        let op = "read monitor transitions";
        self.call(op, move |conn| {
            rows(
                conn,
                op,
                sql::TRANSITIONS,
                params![i64::from(org.0), monitor_id, since_ms, limit],
                |op, r| {
                    Ok(Transition {
                        id: r.get(0).map_err(err(op))?,
                        monitor_id: r.get(1).map_err(err(op))?,
                        group: r.get(2).map_err(err(op))?,
                        from: r.get(3).map_err(err(op))?,
                        to: r.get(4).map_err(err(op))?,
                        value: r.get(5).map_err(err(op))?,
                        at: r.get(6).map_err(err(op))?,
                    })
                },
            )
        })
        .await
    }

    pub(crate) async fn due_notifications(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let op = "read due notifications";
        self.call(op, move |conn| {
            rows(
                conn,
                op,
                sql::DUE_NOTIFICATIONS,
                params![now, limit],
                notification_row,
            )
        })
        .await
    }

    pub(crate) async fn notifications_of(&self, monitor_id: i64) -> Result<Vec<Notification>> {
        let op = "read notifications";
        self.call(op, move |conn| {
            rows(
                conn,
                op,
                sql::NOTIFICATIONS_OF_MONITOR,
                params![monitor_id],
                notification_row,
            )
        })
        .await
    }

    pub(crate) async fn notification_delivered(&self, id: i64, now: i64) -> Result<()> {
        let op = "mark notification delivered";
        self.call(op, move |conn| {
            conn.execute(&for_sqlite(sql::NOTIFICATION_DELIVERED), params![id, now])
                .map_err(err(op))?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn notification_failed(
        &self,
        id: i64,
        error: String,
        next: i64,
    ) -> Result<()> {
        let op = "record failed notification";
        self.call(op, move |conn| {
            conn.execute(
                &for_sqlite(sql::NOTIFICATION_FAILED),
                params![id, error, next],
            )
            .map_err(err(op))?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn put_webhook(&self, org: OrgId, w: Webhook, replace: bool) -> Result<()> {
        let op = "store webhook";
        self.call(op, move |conn| {
            let text = if replace {
                sql::UPSERT_WEBHOOK
            } else {
                sql::INSERT_WEBHOOK
            };
            conn.execute(
                &for_sqlite(text),
                params![
                    i64::from(org.0),
                    w.name,
                    w.url,
                    w.payload,
                    w.custom_headers,
                    w.encode_as
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    MetaError::Conflict(format!("a webhook named {:?} already exists", w.name))
                } else if is_fk_violation(&e) {
                    MetaError::NotFound(format!("org {org}"))
                } else {
                    MetaError::backend(op, e)
                }
            })?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn get_webhook(&self, org: OrgId, name: String) -> Result<Option<Webhook>> {
        let op = "get webhook";
        self.call(op, move |conn| {
            Ok(rows(
                conn,
                op,
                sql::GET_WEBHOOK,
                params![i64::from(org.0), name],
                webhook_row,
            )?
            .pop())
        })
        .await
    }

    pub(crate) async fn list_webhooks(&self, org: OrgId) -> Result<Vec<Webhook>> {
        let op = "list webhooks";
        self.call(op, move |conn| {
            rows(
                conn,
                op,
                sql::LIST_WEBHOOKS,
                params![i64::from(org.0)],
                webhook_row,
            )
        })
        .await
    }

    pub(crate) async fn delete_webhook(&self, org: OrgId, name: String) -> Result<bool> {
        let op = "delete webhook";
        self.call(op, move |conn| {
            let n = conn
                .execute(
                    &for_sqlite(sql::DELETE_WEBHOOK),
                    params![i64::from(org.0), name],
                )
                .map_err(err(op))?;
            Ok(n > 0)
        })
        .await
    }
}
