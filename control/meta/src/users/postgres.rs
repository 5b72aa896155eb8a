//! The user and session tables on PostgreSQL (see the parent module for
//! the rules).

use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::{NewUser, SessionUser, User, UserCredentials, UserId, UserRow, UserUpdate, sql};
use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::postgres::{Postgres, get, is_state};

fn user_row(op: &'static str, r: &Row) -> Result<User> {
    UserRow {
        id: get(op, r, 0)?,
        org: get(op, r, 1)?,
        email: get(op, r, 2)?,
        name: get(op, r, 3)?,
        role: get(op, r, 4)?,
        created_at: get(op, r, 5)?,
        modified_at: get(op, r, 6)?,
        disabled_at: get(op, r, 7)?,
    }
    .into_user(op)
}

fn credentials_row(op: &'static str, r: &Row) -> Result<UserCredentials> {
    Ok(UserCredentials {
        user: user_row(op, r)?,
        password_hash: get(op, r, 8)?,
    })
}

fn session_row(op: &'static str, r: &Row) -> Result<SessionUser> {
    Ok(SessionUser {
        user: user_row(op, r)?,
        org_name: get(op, r, 8)?,
        created_at: get(op, r, 9)?,
        expires_at: get(op, r, 10)?,
        last_seen_at: get(op, r, 11)?,
    })
}

/// Runs a statement and returns how many rows it changed.
async fn execute(
    pg: &Postgres,
    op: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    let mut conn = pg.conn(op).await?;
    conn.client().execute(sql, params).await.map_err(pg.err(op))
}

impl Postgres {
    pub(crate) async fn create_user(
        &self,
        org: OrgId,
        new: NewUser,
        now: i64,
        only_first: bool,
    ) -> Result<Option<User>> {
        let op = "create user";
        let org_param = i64::from(org.0);
        let mut conn = self.conn(op).await?;
        let tx = conn.client().transaction().await.map_err(self.err(op))?;
        if only_first {
            // SHARE ROW EXCLUSIVE conflicts with itself and with inserts:
            // a second server creating the first user waits here until
            // the first commits, then counts its user.
            tx.batch_execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                .await
                .map_err(self.err(op))?;
            let row = tx
                .query_one(sql::COUNT_USERS_OF_ORG, &[&org_param])
                .await
                .map_err(self.err(op))?;
            if get::<i64>(op, &row, 0)? > 0 {
                return Ok(None);
            }
        }
        let row = tx
            .query_one(
                sql::INSERT_USER,
                &[
                    &org_param,
                    &new.email,
                    &new.name,
                    &new.role.as_str(),
                    &new.password_hash,
                    &now,
                ],
            )
            .await
            .map_err(|e| {
                if is_state(&e, &SqlState::UNIQUE_VIOLATION) {
                    MetaError::Conflict(format!("a user with e-mail {} already exists", new.email))
                } else if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) {
                    MetaError::NotFound(format!("org {org}"))
                } else {
                    self.err(op)(e)
                }
            })?;
        let user = user_row(op, &row)?;
        tx.commit().await.map_err(self.err(op))?;
        Ok(Some(user))
    }

    pub(crate) async fn get_user(&self, org: OrgId, id: UserId) -> Result<Option<User>> {
        let org_param = i64::from(org.0);
        Ok(self
            .rows("get user", sql::GET_USER, &[&org_param, &id.0], user_row)
            .await?
            .pop())
    }

    pub(crate) async fn list_users(&self, org: OrgId) -> Result<Vec<User>> {
        let org_param = i64::from(org.0);
        self.rows("list users", sql::LIST_USERS, &[&org_param], user_row)
            .await
    }

    pub(crate) async fn find_user_by_email(
        &self,
        email: String,
    ) -> Result<Option<UserCredentials>> {
        Ok(self
            .rows(
                "find user by e-mail",
                sql::FIND_USER_BY_EMAIL,
                &[&email],
                credentials_row,
            )
            .await?
            .pop())
    }

    pub(crate) async fn update_user(
        &self,
        org: OrgId,
        id: UserId,
        u: UserUpdate,
        now: i64,
    ) -> Result<Option<User>> {
        let org_param = i64::from(org.0);
        let role = u.role.map(|r| r.as_str());
        let disable = u.disabled.map(|d| if d { "disable" } else { "enable" });
        Ok(self
            .rows(
                "update user",
                sql::UPDATE_USER,
                &[
                    &org_param,
                    &id.0,
                    &u.name,
                    &role,
                    &u.password_hash,
                    &disable,
                    &now,
                ],
                user_row,
            )
            .await?
            .pop())
    }

    pub(crate) async fn delete_user(&self, org: OrgId, id: UserId) -> Result<bool> {
        let org_param = i64::from(org.0);
        // The sessions go with it (ON DELETE CASCADE).
        Ok(execute(self, "delete user", sql::DELETE_USER, &[&org_param, &id.0]).await? > 0)
    }

    pub(crate) async fn create_session(
        &self,
        user: UserId,
        hash: String,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let op = "create session";
        let mut conn = self.conn(op).await?;
        let tx = conn.client().transaction().await.map_err(self.err(op))?;
        tx.execute(sql::DELETE_EXPIRED_SESSIONS_OF_USER, &[&user.0, &now])
            .await
            .map_err(self.err(op))?;
        tx.execute(sql::INSERT_SESSION, &[&hash, &user.0, &now, &expires_at])
            .await
            .map_err(|e| {
                if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) {
                    MetaError::NotFound(format!("user {user}"))
                } else {
                    self.err(op)(e)
                }
            })?;
        tx.commit().await.map_err(self.err(op))
    }

    pub(crate) async fn session_user(&self, hash: String, now: i64) -> Result<Option<SessionUser>> {
        Ok(self
            .rows(
                "look up session",
                sql::SESSION_USER,
                &[&hash, &now],
                session_row,
            )
            .await?
            .pop())
    }

    pub(crate) async fn touch_session(
        &self,
        hash: String,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        execute(
            self,
            "touch session",
            sql::TOUCH_SESSION,
            &[&hash, &now, &expires_at],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn delete_session(&self, hash: String) -> Result<bool> {
        Ok(execute(self, "delete session", sql::DELETE_SESSION, &[&hash]).await? > 0)
    }

    pub(crate) async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        execute(
            self,
            "delete sessions of user",
            sql::DELETE_USER_SESSIONS,
            &[&user.0],
        )
        .await
    }
}
