//! The dashboard table on PostgreSQL (see the parent module for the rules).

use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::{DashboardId, DashboardRecord, missing_error, record, sql};
use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::postgres::{Postgres, get, is_state};

fn dashboard_row(op: &'static str, r: &Row) -> Result<DashboardRecord> {
    let definition: String = get(op, r, 2)?;
    record(
        op,
        get(op, r, 0)?,
        get(op, r, 1)?,
        &definition,
        get(op, r, 3)?,
        get(op, r, 4)?,
        get(op, r, 5)?,
    )
}

impl Postgres {
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
        let org_param = i64::from(org.0);
        let mut conn = self.conn(op).await?;
        let result = conn
            .client()
            .query_one(
                sql::INSERT_DASHBOARD,
                &[&id.as_str(), &org_param, &definition, &author, &now],
            )
            .await;
        match result {
            Ok(row) => dashboard_row(op, &row).map(Some),
            Err(e) if is_state(&e, &SqlState::UNIQUE_VIOLATION) => Ok(None),
            Err(e) if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) => {
                Err(MetaError::NotFound(format!("org {org}")))
            }
            Err(e) => Err(self.err(op)(e)),
        }
    }

    pub(crate) async fn get_dashboard(
        &self,
        org: OrgId,
        id: DashboardId,
    ) -> Result<Option<DashboardRecord>> {
        let org_param = i64::from(org.0);
        Ok(self
            .rows(
                "get dashboard",
                sql::GET_DASHBOARD,
                &[&org_param, &id.as_str()],
                dashboard_row,
            )
            .await?
            .pop())
    }

    pub(crate) async fn list_dashboards(&self, org: OrgId) -> Result<Vec<DashboardRecord>> {
        let org_param = i64::from(org.0);
        self.rows(
            "list dashboards",
            sql::LIST_DASHBOARDS,
            &[&org_param],
            dashboard_row,
        )
        .await
    }

    pub(crate) async fn update_dashboard(
        &self,
        org: OrgId,
        id: DashboardId,
        definition: String,
        now: i64,
    ) -> Result<Option<DashboardRecord>> {
        let org_param = i64::from(org.0);
        Ok(self
            .rows(
                "update dashboard",
                sql::UPDATE_DASHBOARD,
                &[&org_param, &id.as_str(), &definition, &now],
                dashboard_row,
            )
            .await?
            .pop())
    }

    /// Deletes every id (given sorted and without duplicates) or none.
    pub(crate) async fn delete_dashboards(&self, org: OrgId, ids: Vec<DashboardId>) -> Result<()> {
        let op = "delete dashboards";
        let org_param = i64::from(org.0);
        let mut conn = self.conn(op).await?;
        let tx = conn.client().transaction().await.map_err(self.err(op))?;
        let mut missing = Vec::new();
        for id in ids {
            let n = tx
                .execute(sql::DELETE_DASHBOARD, &[&org_param, &id.as_str()])
                .await
                .map_err(self.err(op))?;
            if n == 0 {
                missing.push(id);
            }
        }
        if !missing.is_empty() {
            // Dropping the transaction rolls it back.
            return Err(missing_error(&missing));
        }
        tx.commit().await.map_err(self.err(op))
    }
}
