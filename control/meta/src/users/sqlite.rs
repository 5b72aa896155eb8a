//! The user and session tables on SQLite (see the parent module for the
//! rules).
//!
//! User changes and session deletions are written with `synchronous =
//! FULL`, like key changes: a disable, a password change or a sign-out
//! must stick through a power cut. A new session is written with the
//! default `NORMAL`: losing one to a power cut only means signing in again.

use rusqlite::{Connection, TransactionBehavior, params};

use super::{SessionUser, User, UserCredentials, UserId, UserRow, UserUpdate, sql};
use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::sql::for_sqlite;
use crate::sqlite::{Sqlite, err, is_fk_violation, is_unique_violation, query_rows};

fn user_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        org: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: r.get(4)?,
        created_at: r.get(5)?,
        modified_at: r.get(6)?,
        disabled_at: r.get(7)?,
    })
}

fn user_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<User> {
    user_columns(r).map_err(err(op))?.into_user(op)
}

fn credentials_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<UserCredentials> {
    Ok(UserCredentials {
        user: user_row(op, r)?,
        password_hash: r.get(8).map_err(err(op))?,
    })
}

fn session_row(op: &'static str, r: &rusqlite::Row<'_>) -> Result<SessionUser> {
    Ok(SessionUser {
        user: user_row(op, r)?,
        org_name: r.get(8).map_err(err(op))?,
        created_at: r.get(9).map_err(err(op))?,
        expires_at: r.get(10).map_err(err(op))?,
        last_seen_at: r.get(11).map_err(err(op))?,
    })
}

/// Runs a statement and returns how many rows it changed.
fn execute(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<u64> {
    let mut stmt = conn.prepare_cached(&for_sqlite(sql)).map_err(err(op))?;
    stmt.execute(p).map(|n| n as u64).map_err(err(op))
}

impl Sqlite {
    pub(crate) async fn create_user(
        &self,
        org: OrgId,
        new: super::NewUser,
        now: i64,
        only_first: bool,
    ) -> Result<Option<User>> {
        let op = "create user";
        self.call_durable(op, move |conn| {
            // IMMEDIATE takes the write lock first, so of two processes
            // creating the first user the second waits, then counts it.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err(op))?;
            let org_param = i64::from(org.0);
            if only_first {
                let n: i64 = tx
                    .query_row(&for_sqlite(sql::COUNT_USERS_OF_ORG), [org_param], |r| {
                        r.get(0)
                    })
                    .map_err(err(op))?;
                if n > 0 {
                    return Ok(None);
                }
            }
            let row = tx
                .query_row(
                    &for_sqlite(sql::INSERT_USER),
                    params![
                        org_param,
                        new.email,
                        new.name,
                        new.role.as_str(),
                        new.password_hash,
                        now
                    ],
                    user_columns,
                )
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        MetaError::Conflict(format!(
                            "a user with e-mail {} already exists",
                            new.email
                        ))
                    } else if is_fk_violation(&e) {
                        MetaError::NotFound(format!("org {org}"))
                    } else {
                        MetaError::backend(op, e)
                    }
                })?;
            let user = row.into_user(op)?;
            tx.commit().map_err(err(op))?;
            Ok(Some(user))
        })
        .await
    }

    pub(crate) async fn get_user(&self, org: OrgId, id: UserId) -> Result<Option<User>> {
        let op = "get user";
        self.call(op, move |conn| {
            Ok(query_rows(
                conn,
                op,
                sql::GET_USER,
                params![i64::from(org.0), id.0],
                user_row,
            )?
            .pop())
        })
        .await
    }

    pub(crate) async fn list_users(&self, org: OrgId) -> Result<Vec<User>> {
        let op = "list users";
        self.call(op, move |conn| {
            query_rows(
                conn,
                op,
                sql::LIST_USERS,
                params![i64::from(org.0)],
                user_row,
            )
        })
        .await
    }

    pub(crate) async fn find_user_by_email(
        &self,
        email: String,
    ) -> Result<Option<UserCredentials>> {
        let op = "find user by e-mail";
        self.call(op, move |conn| {
            Ok(query_rows(
                conn,
                op,
                sql::FIND_USER_BY_EMAIL,
                params![email],
                credentials_row,
            )?
            .pop())
        })
        .await
    }

    pub(crate) async fn update_user(
        &self,
        org: OrgId,
        id: UserId,
        u: UserUpdate,
        now: i64,
    ) -> Result<Option<User>> {
        let op = "update user";
        self.call_durable(op, move |conn| {
            let disable = u.disabled.map(|d| if d { "disable" } else { "enable" });
            Ok(query_rows(
                conn,
                op,
                sql::UPDATE_USER,
                params![
                    i64::from(org.0),
                    id.0,
                    u.name,
                    u.role.map(|r| r.as_str()),
                    u.password_hash,
                    disable,
                    now
                ],
                user_row,
            )?
            .pop())
        })
        .await
    }

    pub(crate) async fn delete_user(&self, org: OrgId, id: UserId) -> Result<bool> {
        let op = "delete user";
        self.call_durable(op, move |conn| {
            // The sessions go with it (ON DELETE CASCADE; foreign keys
            // are on for this connection).
            Ok(execute(conn, op, sql::DELETE_USER, params![i64::from(org.0), id.0])? > 0)
        })
        .await
    }

    pub(crate) async fn create_session(
        &self,
        user: UserId,
        hash: String,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let op = "create session";
        self.call(op, move |conn| {
            let tx = conn.transaction().map_err(err(op))?;
            execute(
                &tx,
                op,
                sql::DELETE_EXPIRED_SESSIONS_OF_USER,
                params![user.0, now],
            )?;
            tx.prepare_cached(&for_sqlite(sql::INSERT_SESSION))
                .and_then(|mut s| s.execute(params![hash, user.0, now, expires_at]))
                .map_err(|e| {
                    if is_fk_violation(&e) {
                        MetaError::NotFound(format!("user {user}"))
                    } else {
                        MetaError::backend(op, e)
                    }
                })?;
            tx.commit().map_err(err(op))
        })
        .await
    }

    pub(crate) async fn session_user(&self, hash: String, now: i64) -> Result<Option<SessionUser>> {
        let op = "look up session";
        self.call(op, move |conn| {
            Ok(query_rows(conn, op, sql::SESSION_USER, params![hash, now], session_row)?.pop())
        })
        .await
    }

    pub(crate) async fn touch_session(
        &self,
        hash: String,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let op = "touch session";
        self.call(op, move |conn| {
            execute(conn, op, sql::TOUCH_SESSION, params![hash, now, expires_at]).map(|_| ())
        })
        .await
    }

    pub(crate) async fn delete_session(&self, hash: String) -> Result<bool> {
        let op = "delete session";
        self.call_durable(op, move |conn| {
            Ok(execute(conn, op, sql::DELETE_SESSION, params![hash])? > 0)
        })
        .await
    }

    pub(crate) async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        let op = "delete sessions of user";
        self.call_durable(op, move |conn| {
            execute(conn, op, sql::DELETE_USER_SESSIONS, params![user.0])
        })
        .await
    }
}
