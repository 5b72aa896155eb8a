//! The downtime table on SQLite (see the parent module for the rules).

use rusqlite::params;

use super::{DowntimeRecord, record, sql};
use crate::error::Result;
use crate::model::OrgId;
use crate::sqlite::{Sqlite, err, insert_for_org, query_rows};

fn downtime_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<DowntimeRecord> {
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

/// Runs `sql` with `p` and reads every row as a downtime.
fn downtimes(
    conn: &rusqlite::Connection,
    op: &'static str,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<DowntimeRecord>> {
    query_rows(conn, op, sql, p, downtime_row)
}

impl Sqlite {
    pub(crate) async fn create_downtime(
        &self,
        org: OrgId,
        definition: String,
        now: i64,
    ) -> Result<DowntimeRecord> {
        let op = "create downtime";
        self.call(op, move |conn| {
            insert_for_org(
                conn,
                op,
                org,
                &definition,
                now,
                sql::INSERT_DOWNTIME,
                sql::GET_DOWNTIME,
                downtime_row,
            )
        })
        .await
    }

    pub(crate) async fn get_downtime(&self, org: OrgId, id: i64) -> Result<Option<DowntimeRecord>> {
        let op = "get downtime";
        self.call(op, move |conn| {
            Ok(downtimes(conn, op, sql::GET_DOWNTIME, params![i64::from(org.0), id])?.pop())
        })
        .await
    }

    pub(crate) async fn list_downtimes(
        &self,
        org: Option<OrgId>,
        include_canceled: bool,
    ) -> Result<Vec<DowntimeRecord>> {
        let op = "list downtimes";
        self.call(op, move |conn| match org {
            Some(org) => downtimes(
                conn,
                op,
                sql::LIST_DOWNTIMES_OF_ORG,
                params![i64::from(org.0), include_canceled],
            ),
            None => downtimes(conn, op, sql::LIST_ALL_DOWNTIMES, params![include_canceled]),
        })
        .await
    }

    pub(crate) async fn update_downtime(
        &self,
        org: OrgId,
        id: i64,
        definition: String,
        now: i64,
    ) -> Result<Option<DowntimeRecord>> {
        let op = "update downtime";
        self.call(op, move |conn| {
            Ok(downtimes(
                conn,
                op,
                sql::UPDATE_DOWNTIME,
                params![i64::from(org.0), id, definition, now],
            )?
            .pop())
        })
        .await
    }

    pub(crate) async fn cancel_downtime(
        &self,
        org: OrgId,
        id: i64,
        now: i64,
    ) -> Result<Option<DowntimeRecord>> {
        let op = "cancel downtime";
        self.call(op, move |conn| {
            Ok(downtimes(
                conn,
                op,
                sql::CANCEL_DOWNTIME,
                params![i64::from(org.0), id, now],
            )?
            .pop())
        })
        .await
    }
}
