//! The dashboard table on SQLite (see the parent module for the rules).

use rusqlite::{TransactionBehavior, params};

use super::{DashboardId, DashboardRecord, missing_error, record, sql};
use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::sql::for_sqlite;
use crate::sqlite::{Sqlite, err, is_fk_violation, is_unique_violation, query_rows};

fn dashboard_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<DashboardRecord> {
    let definition: String = r.get(2).map_err(err(op))?;
    record(
        op,
        r.get(0).map_err(err(op))?,
        r.get(1).map_err(err(op))?,
        &definition,
        r.get(3).map_err(err(op))?,
        r.get(4).map_err(err(op))?,
        r.get(5).map_err(err(op))?,
    )
}

impl Sqlite {
    /// Inserts under `id`; `None` when the id is taken.
    pub(crate) async fn insert_dashboard(
        &self,
        org: OrgId,
        id: DashboardId,
        definition: String,
        author: String,
        now: i64,
    ) -> Result<Option<DashboardRecord>> {
        let op = "create dashboard";
        self.call(op, move |conn| {
            let p = params![id.as_str(), i64::from(org.0), definition, author, now];
            match query_rows(conn, op, sql::INSERT_DASHBOARD, p, dashboard_row) {
                Ok(mut rows) => Ok(rows.pop()),
                Err(MetaError::Backend { source, .. }) => match source {
                    crate::error::BackendError::Sqlite(e) if is_unique_violation(&e) => Ok(None),
                    crate::error::BackendError::Sqlite(e) if is_fk_violation(&e) => {
                        Err(MetaError::NotFound(format!("org {org}")))
                    }
                    source => Err(MetaError::Backend { op, source }),
                },
                Err(e) => Err(e),
            }
        })
        .await
    }

    pub(crate) async fn get_dashboard(
        &self,
        org: OrgId,
        id: DashboardId,
    ) -> Result<Option<DashboardRecord>> {
        let op = "get dashboard";
        self.call(op, move |conn| {
            let p = params![i64::from(org.0), id.as_str()];
            Ok(query_rows(conn, op, sql::GET_DASHBOARD, p, dashboard_row)?.pop())
        })
        .await
    }

    pub(crate) async fn list_dashboards(&self, org: OrgId) -> Result<Vec<DashboardRecord>> {
        let op = "list dashboards";
        self.call(op, move |conn| {
            query_rows(
                conn,
                op,
                sql::LIST_DASHBOARDS,
                params![i64::from(org.0)],
                dashboard_row,
            )
        })
        .await
    }

    pub(crate) async fn update_dashboard(
        &self,
        org: OrgId,
        id: DashboardId,
        definition: String,
        now: i64,
    ) -> Result<Option<DashboardRecord>> {
        let op = "update dashboard";
        self.call(op, move |conn| {
            let p = params![i64::from(org.0), id.as_str(), definition, now];
            Ok(query_rows(conn, op, sql::UPDATE_DASHBOARD, p, dashboard_row)?.pop())
        })
        .await
    }

    /// Deletes every id (given sorted and without duplicates) or none.
    pub(crate) async fn delete_dashboards(&self, org: OrgId, ids: Vec<DashboardId>) -> Result<()> {
        let op = "delete dashboards";
        self.call(op, move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err(op))?;
            let mut missing = Vec::new();
            for id in ids {
                let n = tx
                    .execute(
                        &for_sqlite(sql::DELETE_DASHBOARD),
                        params![i64::from(org.0), id.as_str()],
                    )
                    .map_err(err(op))?;
                if n == 0 {
                    missing.push(id);
                }
            }
            if !missing.is_empty() {
                // Dropping the transaction rolls it back.
                return Err(missing_error(&missing));
            }
            tx.commit().map_err(err(op))
        })
        .await
    }
}
