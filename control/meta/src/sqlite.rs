//! The SQLite backend: one database file in the data directory.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool
//! (`spawn_blocking`) with the one connection behind a mutex: calls are
//! serialised, which is plenty for metadata (key checks are cached, the
//! rest is rare or small) and makes every read see every earlier write.
//!
//! Settings, each for a reason:
//! - `journal_mode = WAL`: readers in other processes (an admin command)
//!   do not block the server's writes, and a commit is one append;
//! - `synchronous = NORMAL` for events and check runs: in WAL mode this
//!   survives a process crash (`kill -9`) and keeps the file consistent
//!   on power loss, at the cost of maybe losing the last commits on power
//!   loss, which suits data that arrives continuously;
//! - `synchronous = FULL` around org and key changes (bootstrap, create,
//!   revoke): a secret shown once must exist after a power cut, and a
//!   revoke must stick; they are rare, so the extra fsync is free;
//! - `busy_timeout` [`BUSY_TIMEOUT`]: another process holding the write
//!   lock (a second server started by mistake, an admin command) makes
//!   calls wait, not fail;
//! - `foreign_keys = ON`: a key, event or check status for an unknown org
//!   is refused by the database, and reported as [`MetaError::NotFound`].
//!
//! Lock order: the connection mutex is the only lock here; it is taken on
//! a blocking thread and never held across an `.await`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use crate::error::{MetaError, Result};
use crate::model::{CheckStatus, Event, KeyId, KeyInfo, KeyKind, NewEvent, Org, OrgId};
use crate::sql::{self, EventRow, Param, for_sqlite};
use crate::store::NewKeyRow;

/// How long a call waits for another connection's write lock before
/// failing. Metadata transactions take milliseconds; 5 s rides out a
/// concurrent migration or bootstrap by another process, and still fails
/// visibly if something holds the lock for good.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, in order: entry `i` takes the schema from version `i`
/// to `i + 1`. Documented in `docs/schema.md`; never edit a released entry,
/// append a new one.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE orgs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL UNIQUE,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE keys (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id      INTEGER NOT NULL REFERENCES orgs (id),
        kind        TEXT NOT NULL CHECK (kind IN ('api', 'app')),
        name        TEXT NOT NULL,
        hash        TEXT NOT NULL,
        last4       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER,
        UNIQUE (kind, hash)
    );
    CREATE INDEX keys_org ON keys (org_id);
    CREATE TABLE events (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id            INTEGER NOT NULL REFERENCES orgs (id),
        created_at        INTEGER NOT NULL,
        title             TEXT NOT NULL,
        text              TEXT NOT NULL,
        date_happened     INTEGER NOT NULL,
        priority          TEXT,
        host              TEXT,
        tags              TEXT NOT NULL,
        alert_type        TEXT,
        aggregation_key   TEXT,
        source_type_name  TEXT,
        source_lc         TEXT,
        related_event_id  INTEGER,
        device_name       TEXT,
        extra             TEXT NOT NULL
    );
    CREATE INDEX events_org_time ON events (org_id, date_happened, id);
    CREATE TABLE event_tags (
        org_id    INTEGER NOT NULL,
        tag       TEXT NOT NULL,
        event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        PRIMARY KEY (org_id, tag, event_id)
    ) WITHOUT ROWID;
    CREATE TABLE check_status (
        org_id      INTEGER NOT NULL REFERENCES orgs (id),
        check_name  TEXT NOT NULL,
        host        TEXT NOT NULL,
        tags        TEXT NOT NULL,
        status      INTEGER NOT NULL,
        message     TEXT NOT NULL,
        ts_ms       INTEGER NOT NULL,
        PRIMARY KEY (org_id, check_name, host, tags)
    ) WITHOUT ROWID;",
    // Version 2: monitors.
    "CREATE TABLE monitors (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id       INTEGER NOT NULL REFERENCES orgs (id),
        definition   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        modified_at  INTEGER NOT NULL,
        version      INTEGER NOT NULL
    );
    CREATE INDEX monitors_org ON monitors (org_id, id);
    CREATE TABLE monitor_groups (
        monitor_id  INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
        grp         TEXT NOT NULL,
        state       TEXT NOT NULL,
        PRIMARY KEY (monitor_id, grp)
    ) WITHOUT ROWID;
    CREATE TABLE monitor_transitions (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        monitor_id   INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
        grp          TEXT NOT NULL,
        from_status  TEXT NOT NULL,
        to_status    TEXT NOT NULL,
        value        REAL,
        at           INTEGER NOT NULL
    );
    CREATE INDEX monitor_transitions_time ON monitor_transitions (monitor_id, at);
    CREATE TABLE notifications (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id           INTEGER NOT NULL,
        monitor_id       INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
        target           TEXT NOT NULL,
        body             TEXT NOT NULL,
        created_at       INTEGER NOT NULL,
        attempts         INTEGER NOT NULL,
        next_attempt_at  INTEGER NOT NULL,
        delivered_at     INTEGER,
        last_error       TEXT
    );
    CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE delivered_at IS NULL;
    CREATE INDEX notifications_monitor ON notifications (monitor_id);
    CREATE TABLE webhooks (
        org_id          INTEGER NOT NULL REFERENCES orgs (id),
        name            TEXT NOT NULL,
        url             TEXT NOT NULL,
        payload         TEXT,
        custom_headers  TEXT,
        encode_as       TEXT NOT NULL,
        PRIMARY KEY (org_id, name)
    ) WITHOUT ROWID;",
    // Version 3: downtimes.
    "CREATE TABLE downtimes (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id       INTEGER NOT NULL REFERENCES orgs (id),
        definition   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        modified_at  INTEGER NOT NULL,
        canceled_at  INTEGER
    );
    CREATE INDEX downtimes_org ON downtimes (org_id, id);
    CREATE INDEX downtimes_current ON downtimes (id) WHERE canceled_at IS NULL;",
    // Version 4: users, their sessions, dashboards.
    "CREATE TABLE users (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id         INTEGER NOT NULL REFERENCES orgs (id),
        email          TEXT NOT NULL UNIQUE,
        name           TEXT NOT NULL,
        role           TEXT NOT NULL CHECK (role IN ('admin', 'standard', 'read_only')),
        password_hash  TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        modified_at    INTEGER NOT NULL,
        disabled_at    INTEGER
    );
    CREATE INDEX users_org ON users (org_id, id);
    CREATE TABLE sessions (
        token_hash    TEXT PRIMARY KEY,
        user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at    INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE TABLE dashboards (
        id           TEXT PRIMARY KEY,
        org_id       INTEGER NOT NULL REFERENCES orgs (id),
        definition   TEXT NOT NULL,
        author       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        modified_at  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX dashboards_org ON dashboards (org_id, id);",
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The SQLite backend. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Sqlite {
    /// The only connection. Guards nothing else.
    conn: Arc<Mutex<Connection>>,
}

pub(crate) fn err(op: &'static str) -> impl FnOnce(rusqlite::Error) -> MetaError {
    move |e| MetaError::backend(op, e)
}

/// Which constraint an SQLite error broke, if any.
fn broken_constraint(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Some(f.extended_code)
        }
        _ => None,
    }
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        broken_constraint(e),
        Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

pub(crate) fn is_fk_violation(e: &rusqlite::Error) -> bool {
    broken_constraint(e) == Some(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path`, creates its
    /// directory, applies the settings in the module doc and migrates the
    /// schema to [`SCHEMA_VERSION`].
    pub(crate) async fn open(path: PathBuf) -> Result<Sqlite> {
        tokio::task::spawn_blocking(move || Sqlite::open_blocking(&path))
            .await
            .map_err(|e| MetaError::backend("open the SQLite metadata file", e))?
    }

    fn open_blocking(path: &Path) -> Result<Sqlite> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| MetaError::backend("create the metadata directory", e))?;
        }
        let op = "open the SQLite metadata file";
        let mut conn = Connection::open(path).map_err(err(op))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err(op))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err(op))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                journal_mode = %mode,
                "SQLite metadata file is not in WAL mode (file system without shared memory?)"
            );
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err(op))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err(op))?;
        migrate(&mut conn)?;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub(crate) async fn call<T, F>(&self, op: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || f(&mut conn.lock()))
            .await
            .map_err(|e| MetaError::backend(op, e))?
    }

    /// Like [`Sqlite::call`], with `synchronous = FULL` for the duration.
    pub(crate) async fn call_durable<T, F>(&self, op: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.call(op, move |conn| {
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(err(op))?;
            let result = f(conn);
            let restored = conn
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(err(op));
            let value = result?;
            restored?;
            Ok(value)
        })
        .await
    }

    pub(crate) async fn bootstrap(
        &self,
        org_name: String,
        keys: Vec<NewKeyRow>,
        now: i64,
    ) -> Result<Option<Org>> {
        let op = "bootstrap";
        self.call_durable(op, move |conn| {
            // IMMEDIATE takes the write lock first, so of two processes
            // bootstrapping one file the second waits, then sees the org.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err(op))?;
            let count: i64 = tx
                .query_row(sql::COUNT_ORGS, [], |r| r.get(0))
                .map_err(err(op))?;
            if count > 0 {
                return Ok(None);
            }
            let id: i64 = tx
                .query_row(&for_sqlite(sql::INSERT_ORG), params![org_name, now], |r| {
                    r.get(0)
                })
                .map_err(err(op))?;
            let org = sql::org_id(op, id)?;
            for k in &keys {
                insert_key(&tx, org, k, now)?;
            }
            tx.commit().map_err(err(op))?;
            Ok(Some(Org {
                id: org,
                name: org_name,
                created_at: now,
            }))
        })
        .await
    }

    pub(crate) async fn create_org(&self, name: String, now: i64) -> Result<Org> {
        let op = "create org";
        self.call_durable(op, move |conn| {
            let id: i64 = conn
                .query_row(&for_sqlite(sql::INSERT_ORG), params![name, now], |r| {
                    r.get(0)
                })
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        MetaError::Conflict(format!("an org named {name:?} already exists"))
                    } else {
                        MetaError::backend(op, e)
                    }
                })?;
            Ok(Org {
                id: sql::org_id(op, id)?,
                name,
                created_at: now,
            })
        })
        .await
    }

    pub(crate) async fn list_orgs(&self) -> Result<Vec<Org>> {
        let op = "list orgs";
        self.call(op, move |conn| {
            let mut stmt = conn.prepare_cached(sql::LIST_ORGS).map_err(err(op))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
                })
                .map_err(err(op))?;
            let mut orgs = Vec::new();
            for row in rows {
                let (id, name, created_at) = row.map_err(err(op))?;
                orgs.push(Org {
                    id: sql::org_id(op, id)?,
                    name,
                    created_at,
                });
            }
            Ok(orgs)
        })
        .await
    }

    pub(crate) async fn create_key(&self, org: OrgId, key: NewKeyRow, now: i64) -> Result<KeyInfo> {
        self.call_durable("create key", move |conn| {
            let id = insert_key(conn, org, &key, now)?;
            Ok(key.into_info(id, org, now))
        })
        .await
    }

    pub(crate) async fn list_keys(&self, org: Option<OrgId>) -> Result<Vec<KeyInfo>> {
        let op = "list keys";
        self.call(op, move |conn| {
            let (text, args) = match org {
                Some(org) => (for_sqlite(sql::LIST_KEYS_OF_ORG), vec![i64::from(org.0)]),
                None => (sql::LIST_KEYS.to_string(), vec![]),
            };
            let mut stmt = conn.prepare_cached(&text).map_err(err(op))?;
            let rows = stmt
                .query_map(params_from_iter(args), |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                    ))
                })
                .map_err(err(op))?;
            let mut keys = Vec::new();
            for row in rows {
                let (id, org, kind, name, last4, created_at, revoked_at) = row.map_err(err(op))?;
                keys.push(KeyInfo {
                    id: KeyId(id),
                    org: sql::org_id(op, org)?,
                    kind: KeyKind::parse(&kind)
                        .ok_or_else(|| sql::corrupt(op, format!("key {id} kind {kind:?}")))?,
                    name,
                    last4,
                    created_at,
                    revoked_at,
                });
            }
            Ok(keys)
        })
        .await
    }

    /// `false` when no key has that id.
    pub(crate) async fn revoke_key(&self, id: KeyId, now: i64) -> Result<bool> {
        let op = "revoke key";
        self.call_durable(op, move |conn| {
            conn.query_row(&for_sqlite(sql::REVOKE_KEY), params![id.0, now], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map(|row| row.is_some())
            .map_err(err(op))
        })
        .await
    }

    pub(crate) async fn lookup_key(
        &self,
        kind: KeyKind,
        hash_hex: String,
    ) -> Result<Option<OrgId>> {
        let op = "verify key";
        self.call(op, move |conn| {
            let mut stmt = conn
                .prepare_cached(&for_sqlite(sql::VERIFY_KEY))
                .map_err(err(op))?;
            let org: Option<i64> = stmt
                .query_row(params![kind.as_str(), hash_hex], |r| r.get(0))
                .optional()
                .map_err(err(op))?;
            org.map(|id| sql::org_id(op, id)).transpose()
        })
        .await
    }

    pub(crate) async fn insert_event(&self, org: OrgId, e: NewEvent, now: i64) -> Result<Event> {
        let op = "insert event";
        self.call(op, move |conn| {
            let (tags_json, extra_json) = sql::event_json(&e);
            let fk = |err: rusqlite::Error| {
                if is_fk_violation(&err) {
                    MetaError::NotFound(format!("org {org}"))
                } else {
                    MetaError::backend(op, err)
                }
            };
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err(op))?;
            let id: i64 = tx
                .query_row(
                    &for_sqlite(sql::INSERT_EVENT),
                    params![
                        i64::from(org.0),
                        now,
                        e.title,
                        e.text,
                        e.date_happened,
                        e.priority,
                        e.host,
                        tags_json,
                        e.alert_type,
                        e.aggregation_key,
                        e.source_type_name,
                        sql::source_lc(&e),
                        e.related_event_id,
                        e.device_name,
                        extra_json,
                    ],
                    |r| r.get(0),
                )
                .map_err(fk)?;
            {
                let mut stmt = tx
                    .prepare_cached(&for_sqlite(sql::INSERT_EVENT_TAG))
                    .map_err(err(op))?;
                for tag in sql::index_tags(&e) {
                    stmt.execute(params![i64::from(org.0), tag, id])
                        .map_err(err(op))?;
                }
            }
            tx.commit().map_err(err(op))?;
            Ok(crate::store::event_from_new(id, now, e))
        })
        .await
    }

    pub(crate) async fn list_events(&self, text: String, args: Vec<Param>) -> Result<Vec<Event>> {
        let op = "list events";
        self.call(op, move |conn| {
            let mut stmt = conn.prepare_cached(&for_sqlite(&text)).map_err(err(op))?;
            let args = args.into_iter().map(|p| match p {
                Param::Int(i) => rusqlite::types::Value::Integer(i),
                Param::Text(s) => rusqlite::types::Value::Text(s),
            });
            let rows = stmt
                .query_map(params_from_iter(args), event_row)
                .map_err(err(op))?;
            let mut events = Vec::new();
            for row in rows {
                events.push(row.map_err(err(op))?.into_event()?);
            }
            Ok(events)
        })
        .await
    }

    pub(crate) async fn get_event(&self, org: OrgId, id: i64) -> Result<Option<Event>> {
        let op = "get event";
        self.call(op, move |conn| {
            let mut stmt = conn
                .prepare_cached(&for_sqlite(&sql::get_event_sql()))
                .map_err(err(op))?;
            stmt.query_row(params![i64::from(org.0), id], event_row)
                .optional()
                .map_err(err(op))?
                .map(EventRow::into_event)
                .transpose()
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_check_run(
        &self,
        org: OrgId,
        check: String,
        host: String,
        tags_json: String,
        status: u8,
        message: String,
        ts_ms: i64,
    ) -> Result<()> {
        let op = "record check run";
        self.call(op, move |conn| {
            let mut stmt = conn
                .prepare_cached(&for_sqlite(sql::UPSERT_CHECK))
                .map_err(err(op))?;
            stmt.execute(params![
                i64::from(org.0),
                check,
                host,
                tags_json,
                i64::from(status),
                message,
                ts_ms
            ])
            .map_err(|e| {
                if is_fk_violation(&e) {
                    MetaError::NotFound(format!("org {org}"))
                } else {
                    MetaError::backend(op, e)
                }
            })?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn check_statuses(
        &self,
        org: OrgId,
        check: Option<String>,
    ) -> Result<Vec<CheckStatus>> {
        let op = "list check statuses";
        self.call(op, move |conn| {
            let org = rusqlite::types::Value::Integer(i64::from(org.0));
            let (text, args) = match check {
                Some(c) => (
                    sql::CHECKS_BY_NAME,
                    vec![org, rusqlite::types::Value::Text(c)],
                ),
                None => (sql::CHECKS_OF_ORG, vec![org]),
            };
            let mut stmt = conn.prepare_cached(&for_sqlite(text)).map_err(err(op))?;
            let rows = stmt
                .query_map(params_from_iter(args), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                })
                .map_err(err(op))?;
            let mut out = Vec::new();
            for row in rows {
                let (check, host, tags, status, message, ts_ms) = row.map_err(err(op))?;
                out.push(crate::store::check_status_from_row(
                    op, check, host, &tags, status, message, ts_ms,
                )?);
            }
            Ok(out)
        })
        .await
    }
}

/// Reads [`sql::EVENT_COLUMNS`].
fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        created_at: r.get(1)?,
        title: r.get(2)?,
        text: r.get(3)?,
        date_happened: r.get(4)?,
        priority: r.get(5)?,
        host: r.get(6)?,
        tags_json: r.get(7)?,
        alert_type: r.get(8)?,
        aggregation_key: r.get(9)?,
        source_type_name: r.get(10)?,
        related_event_id: r.get(11)?,
        device_name: r.get(12)?,
        extra_json: r.get(13)?,
    })
}

/// Inserts a key row; maps a duplicate secret to [`MetaError::Conflict`]
/// and an unknown org to [`MetaError::NotFound`].
fn insert_key(conn: &Connection, org: OrgId, k: &NewKeyRow, now: i64) -> Result<KeyId> {
    let op = "create key";
    conn.query_row(
        &for_sqlite(sql::INSERT_KEY),
        params![
            i64::from(org.0),
            k.kind.as_str(),
            k.name,
            k.hash.to_hex(),
            k.last4,
            now
        ],
        |r| r.get(0),
    )
    .map(KeyId)
    .map_err(|e| {
        if is_unique_violation(&e) {
            MetaError::Conflict(format!("an {} key with this secret already exists", k.kind))
        } else if is_fk_violation(&e) {
            MetaError::NotFound(format!("org {org}"))
        } else {
            MetaError::backend(op, e)
        }
    })
}

/// Runs `sql` with `p` and reads every row with `f`.
pub(crate) fn query_rows<T>(
    conn: &rusqlite::Connection,
    op: &'static str,
    sql: &str,
    p: impl rusqlite::Params,
    f: fn(&'static str, &rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&for_sqlite(sql)).map_err(err(op))?;
    let mut rows = stmt.query(p).map_err(err(op))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(err(op))? {
        out.push(f(op, r)?);
    }
    Ok(out)
}

/// Inserts a row of `org` with `insert` (parameters org, definition, now;
/// it returns the new id) and reads it back with `get` (parameters org,
/// id) through `f`: the shape of the monitor and downtime tables. An org
/// that does not exist is [`MetaError::NotFound`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_for_org<T>(
    conn: &rusqlite::Connection,
    op: &'static str,
    org: crate::model::OrgId,
    definition: &str,
    now: i64,
    insert: &str,
    get: &str,
    f: fn(&'static str, &rusqlite::Row<'_>) -> Result<T>,
) -> Result<T> {
    let id: i64 = conn
        .query_row(
            &for_sqlite(insert),
            rusqlite::params![i64::from(org.0), definition, now],
            |r| r.get(0),
        )
        .map_err(|e| {
            if is_fk_violation(&e) {
                MetaError::NotFound(format!("org {org}"))
            } else {
                MetaError::backend(op, e)
            }
        })?;
    query_rows(conn, op, get, rusqlite::params![i64::from(org.0), id], f)?
        .pop()
        .ok_or_else(|| crate::sql::corrupt(op, "the new row vanished".into()))
}

/// Brings the schema to [`SCHEMA_VERSION`] in one IMMEDIATE transaction,
/// so two processes opening a fresh file migrate it once.
fn migrate(conn: &mut Connection) -> Result<()> {
    let op = "migrate the SQLite metadata schema";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err(op))?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(err(op))?;
    let found: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(err(op))?;
    if found > SCHEMA_VERSION {
        return Err(MetaError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(sql::corrupt(op, format!("schema version {found}")));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(step).map_err(err(op))?;
        tracing::info!(version = i + 1, "migrated the SQLite metadata schema");
    }
    tx.execute_batch("DELETE FROM schema_version")
        .map_err(err(op))?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES (?1)",
        [SCHEMA_VERSION],
    )
    .map_err(err(op))?;
    tx.commit().map_err(err(op))
}
