//! The downtime table on PostgreSQL (see the parent module for the rules).

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{DowntimeRecord, record, sql};
use crate::error::Result;
use crate::model::OrgId;
use crate::postgres::{Postgres, get};

fn downtime_row(op: &'static str, r: &Row) -> Result<DowntimeRecord> {
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

/// Runs a query and reads every row as a downtime.
async fn downtimes(
    pg: &Postgres,
    op: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<DowntimeRecord>> {
    pg.rows(op, sql, params, downtime_row).await
}

impl Postgres {
    pub(crate) async fn create_downtime(
        &self,
        org: OrgId,
        definition: String,
        now: i64,
    ) -> Result<DowntimeRecord> {
        let op = "create downtime";
        self.insert_for_org(
            op,
            org,
            &definition,
            now,
            sql::INSERT_DOWNTIME,
            sql::GET_DOWNTIME,
            downtime_row,
        )
        .await
    }

    pub(crate) async fn get_downtime(&self, org: OrgId, id: i64) -> Result<Option<DowntimeRecord>> {
        let org_param = i64::from(org.0);
        Ok(
            downtimes(self, "get downtime", sql::GET_DOWNTIME, &[&org_param, &id])
                .await?
                .pop(),
        )
    }

    pub(crate) async fn list_downtimes(
        &self,
        org: Option<OrgId>,
        include_canceled: bool,
    ) -> Result<Vec<DowntimeRecord>> {
        let op = "list downtimes";
        match org {
            Some(org) => {
                let org_param = i64::from(org.0);
                downtimes(
                    self,
                    op,
                    sql::LIST_DOWNTIMES_OF_ORG,
                    &[&org_param, &include_canceled],
                )
                .await
            }
            None => downtimes(self, op, sql::LIST_ALL_DOWNTIMES, &[&include_canceled]).await,
        }
    }

    pub(crate) async fn update_downtime(
        &self,
        org: OrgId,
        id: i64,
        definition: String,
        now: i64,
    ) -> Result<Option<DowntimeRecord>> {
        let org_param = i64::from(org.0);
        Ok(downtimes(
            self,
            "update downtime",
            sql::UPDATE_DOWNTIME,
            &[&org_param, &id, &definition, &now],
        )
        .await?
        .pop())
    }

    pub(crate) async fn cancel_downtime(
        &self,
        org: OrgId,
        id: i64,
        now: i64,
    ) -> Result<Option<DowntimeRecord>> {
        let org_param = i64::from(org.0);
        Ok(downtimes(
            self,
            "cancel downtime",
            sql::CANCEL_DOWNTIME,
            &[&org_param, &id, &now],
        )
        .await?
        .pop())
    }
}
