//! [`MetaStore`]: the one async API over both backends, with the rules
//! that do not depend on the backend (validation, key hashing, the
//! verification cache).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::error::{MetaError, Result};
use crate::key_cache::{KeyCache, Lookup};
use crate::model::{
    Bootstrap, CheckStatus, Event, EventQuery, KeyId, KeyInfo, KeyKind, NewEvent, Org, OrgId,
};
use crate::postgres::Postgres;
use crate::secret::{self, KeyHash};
use crate::sql;
use crate::sqlite::Sqlite;

/// Longest org or key name, in characters: names are labels shown in
/// lists and logs, and 100 is Datadog's own limit on key names.
pub const MAX_NAME_LEN: usize = 100;

/// The name of the org [`MetaStore::bootstrap`] creates.
pub const BOOTSTRAP_ORG: &str = "default";

/// The name given to the keys [`MetaStore::bootstrap`] creates.
pub const BOOTSTRAP_KEY_NAME: &str = "bootstrap";

/// Whippet's metadata store: orgs, API and application keys, events, and
/// the last status of each check run.
///
/// Cheap to clone (an `Arc`); every clone is the same store and shares one
/// key-verification cache. All methods are safe to call concurrently from
/// any task; their futures are `Send`. Each call is atomic: it either
/// happens entirely or not at all.
///
/// Two backends behave identically behind this API: SQLite (a file in the
/// data directory, the default) and PostgreSQL (what several servers share).
/// See [`MetaStore::open`].
#[derive(Clone)]
pub struct MetaStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) backend: Backend,
    cache: KeyCache,
}

pub(crate) enum Backend {
    Sqlite(Sqlite),
    /// Boxed: the connection config is large, the SQLite handle one `Arc`.
    Postgres(Box<Postgres>),
}

/// Runs the same call on whichever backend the store has.
macro_rules! on_backend {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.inner.backend {
            Backend::Sqlite($b) => $call.await,
            Backend::Postgres($b) => $call.await,
        }
    };
}

/// A key about to be inserted: what the database stores of it.
pub(crate) struct NewKeyRow {
    pub kind: KeyKind,
    pub name: String,
    pub hash: KeyHash,
    pub last4: String,
}

impl NewKeyRow {
    fn new(kind: KeyKind, name: &str, secret: &str) -> NewKeyRow {
        NewKeyRow {
            kind,
            name: name.to_string(),
            hash: KeyHash::of(secret),
            last4: secret::last4(secret),
        }
    }

    /// The [`KeyInfo`] of the row once inserted.
    pub(crate) fn into_info(self, id: KeyId, org: OrgId, now: i64) -> KeyInfo {
        KeyInfo {
            id,
            org,
            kind: self.kind,
            name: self.name,
            last4: self.last4,
            created_at: now,
            revoked_at: None,
        }
    }
}

/// The [`Event`] a [`NewEvent`] became.
pub(crate) fn event_from_new(id: i64, created_at: i64, e: NewEvent) -> Event {
    Event {
        id,
        created_at,
        title: e.title,
        text: e.text,
        date_happened: e.date_happened,
        priority: e.priority,
        host: e.host,
        tags: e.tags,
        alert_type: e.alert_type,
        aggregation_key: e.aggregation_key,
        source_type_name: e.source_type_name,
        related_event_id: e.related_event_id,
        device_name: e.device_name,
        extra: e.extra,
    }
}

/// A [`CheckStatus`] from its stored columns.
pub(crate) fn check_status_from_row(
    op: &'static str,
    check: String,
    host: String,
    tags_json: &str,
    status: i64,
    message: String,
    ts_ms: i64,
) -> Result<CheckStatus> {
    Ok(CheckStatus {
        check,
        host: (!host.is_empty()).then_some(host),
        tags: sql::decode_tags(op, tags_json)?,
        status: u8::try_from(status)
            .map_err(|_| sql::corrupt(op, format!("check status {status}")))?,
        message,
        ts_ms,
    })
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Checks an org or key name: 1 to [`MAX_NAME_LEN`] characters, no control
/// characters, no surrounding white space.
fn validate_name(what: &str, name: &str) -> Result<()> {
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_LEN {
        return Err(MetaError::Invalid(format!(
            "{what} name must be 1 to {MAX_NAME_LEN} characters, not {len}"
        )));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(MetaError::Invalid(format!(
            "{what} name must not contain control characters or start or end with white space"
        )));
    }
    Ok(())
}

impl MetaStore {
    /// Opens the store named by `url`, creating and migrating its schema as
    /// needed:
    ///
    /// - `postgres://...` or `postgresql://...`: PostgreSQL, with a URL
    ///   libpq accepts (`postgres://user:pass@host:5432/db`, or
    ///   `postgres://user@%2Frun%2Fpostgresql/db` for a Unix socket). The
    ///   database must exist; the tables are created in it.
    /// - `sqlite:///abs/path/meta.db`, `sqlite:rel/path.db` or a plain path:
    ///   SQLite. The file and its directory are created if missing.
    ///
    /// Migration is safe against several processes opening one database at
    /// once. Errors: [`MetaError::Invalid`] for an unknown URL scheme or a
    /// malformed PostgreSQL URL; [`MetaError::SchemaTooNew`] when a newer
    /// Whippet wrote the database; [`MetaError::Backend`] when the file or
    /// server cannot be reached. Error texts never quote the URL (it may
    /// hold a password).
    pub async fn open(url: &str) -> Result<MetaStore> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(Box::new(Postgres::open(url).await?))
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(MetaError::Invalid(
                    "the SQLite metadata URL names no file (expected sqlite:///abs/path/meta.db)"
                        .to_string(),
                ));
            }
            Backend::Sqlite(Sqlite::open(PathBuf::from(path)).await?)
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(MetaError::Invalid(format!(
                "unsupported metadata URL scheme {scheme:?}: use postgres://, sqlite:// or a file path"
            )));
        } else if url.is_empty() {
            return Err(MetaError::Invalid("the metadata URL is empty".to_string()));
        } else {
            Backend::Sqlite(Sqlite::open(PathBuf::from(url)).await?)
        };
        Ok(MetaStore {
            inner: Arc::new(Inner {
                backend,
                cache: KeyCache::default(),
            }),
        })
    }

    /// `"sqlite"` or `"postgres"`: which backend the store uses (for logs
    /// and the status page).
    pub fn backend_name(&self) -> &'static str {
        match self.inner.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Creates the first org if there is none: org [`BOOTSTRAP_ORG`] with
    /// one API key and one application key, both named
    /// [`BOOTSTRAP_KEY_NAME`].
    ///
    /// The keys are `api_key` and `app_key` when given (from the
    /// environment: 1 to 128 visible ASCII characters each, else
    /// [`MetaError::Invalid`], checked even when nothing is created), fresh
    /// random ones in Datadog's formats otherwise.
    ///
    /// Returns `Some` with the secrets in plain text, the only time the
    /// store ever reveals them, when this call created the org; `None`
    /// when any org already existed (given keys are then ignored: add keys
    /// with [`MetaStore::create_key`]). Race-free: of several calls, from
    /// this or other processes on the same database, exactly one returns
    /// `Some`.
    pub async fn bootstrap(
        &self,
        api_key: Option<&str>,
        app_key: Option<&str>,
    ) -> Result<Option<Bootstrap>> {
        let api_key = match api_key {
            Some(k) => {
                secret::validate_given(KeyKind::Api, k)?;
                k.to_string()
            }
            None => secret::generate(KeyKind::Api)?,
        };
        let app_key = match app_key {
            Some(k) => {
                secret::validate_given(KeyKind::App, k)?;
                k.to_string()
            }
            None => secret::generate(KeyKind::App)?,
        };
        let rows = vec![
            NewKeyRow::new(KeyKind::Api, BOOTSTRAP_KEY_NAME, &api_key),
            NewKeyRow::new(KeyKind::App, BOOTSTRAP_KEY_NAME, &app_key),
        ];
        let hashes: Vec<(KeyKind, KeyHash)> = rows.iter().map(|r| (r.kind, r.hash)).collect();
        let name = BOOTSTRAP_ORG.to_string();
        let now = now_ms();
        let created = on_backend!(self, b => b.bootstrap(name, rows, now))?;
        let Some(org) = created else {
            return Ok(None);
        };
        for (kind, hash) in hashes {
            self.inner.cache.forget(kind, hash);
        }
        tracing::info!(org = %org.id, "bootstrapped the metadata store");
        Ok(Some(Bootstrap {
            org,
            api_key,
            app_key,
        }))
    }

    /// Creates an org. Errors: [`MetaError::Invalid`] for a bad name (1 to
    /// [`MAX_NAME_LEN`] characters, no control characters, no surrounding
    /// white space); [`MetaError::Conflict`] when an org has that name.
    pub async fn create_org(&self, name: &str) -> Result<Org> {
        validate_name("org", name)?;
        let name = name.to_string();
        let now = now_ms();
        on_backend!(self, b => b.create_org(name, now))
    }

    /// Every org, by id.
    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        on_backend!(self, b => b.list_orgs())
    }

    /// Creates a key of `kind` for `org` with a fresh random secret in
    /// Datadog's format (32 hex characters for API keys, 40 for
    /// application keys) and returns its description and the secret. The
    /// secret is not kept anywhere: show it to the user once.
    ///
    /// Errors: [`MetaError::Invalid`] for a bad name (same rules as org
    /// names); [`MetaError::NotFound`] for an unknown org.
    pub async fn create_key(
        &self,
        org: OrgId,
        kind: KeyKind,
        name: &str,
    ) -> Result<(KeyInfo, String)> {
        validate_name("key", name)?;
        let secret = secret::generate(kind)?;
        let row = NewKeyRow::new(kind, name, &secret);
        let hash = row.hash;
        let now = now_ms();
        let info = on_backend!(self, b => b.create_key(org, row, now))?;
        self.inner.cache.forget(kind, hash);
        Ok((info, secret))
    }

    /// The keys of `org`, or of every org for `None`, by id, revoked ones
    /// included (with `revoked_at`). Never the secrets or their hashes.
    pub async fn list_keys(&self, org: Option<OrgId>) -> Result<Vec<KeyInfo>> {
        on_backend!(self, b => b.list_keys(org))
    }

    /// Revokes a key: from now on [`MetaStore::verify_key`] rejects it in
    /// this process at once, and in other processes sharing the database
    /// within [`POSITIVE_TTL`](crate::POSITIVE_TTL). Revoking a revoked key
    /// succeeds and keeps the first revocation time. Errors:
    /// [`MetaError::NotFound`] for an unknown id.
    pub async fn revoke_key(&self, id: KeyId) -> Result<()> {
        let now = now_ms();
        let found = on_backend!(self, b => b.revoke_key(id, now))?;
        // Even a miss clears: cheap, and never wrong.
        self.inner.cache.invalidate_all();
        if !found {
            return Err(MetaError::NotFound(format!("key {id}")));
        }
        tracing::info!(key = %id, "revoked key");
        Ok(())
    }

    /// The org an active key of `kind` with this secret belongs to, or
    /// `None` when there is none (unknown, revoked, the other kind, or not
    /// a possible key at all).
    ///
    /// Called on every HTTP request, so answers come from an in-process
    /// cache (see [`POSITIVE_TTL`](crate::POSITIVE_TTL) and
    /// [`NEGATIVE_TTL`](crate::NEGATIVE_TTL)); a secret that is not 1 to
    /// 128 visible ASCII characters is rejected without a lookup. Errors
    /// are backend failures only, and are not cached.
    pub async fn verify_key(&self, kind: KeyKind, secret: &str) -> Result<Option<OrgId>> {
        if !secret::is_acceptable(secret) {
            return Ok(None);
        }
        let hash = KeyHash::of(secret);
        let generation = match self.inner.cache.lookup(kind, hash, Instant::now()) {
            Lookup::Hit(answer) => return Ok(answer),
            Lookup::Miss { generation } => generation,
        };
        let hash_hex = hash.to_hex();
        let answer = on_backend!(self, b => b.lookup_key(kind, hash_hex))?;
        self.inner
            .cache
            .store(kind, hash, answer, generation, Instant::now());
        Ok(answer)
    }

    /// Stores an event for `org` and returns it with its id (unique in the
    /// store, increasing in insertion order) and `created_at`. The fields
    /// are kept as given: validation is intake's job. Errors:
    /// [`MetaError::NotFound`] for an unknown org.
    pub async fn insert_event(&self, org: OrgId, e: &NewEvent) -> Result<Event> {
        let e = e.clone();
        let now = now_ms();
        on_backend!(self, b => b.insert_event(org, e, now))
    }

    /// The events of `org` that match `q`, newest first; the filters,
    /// order and paging are described on [`EventQuery`]. Never another
    /// org's events. Errors: [`MetaError::Invalid`] for an unknown
    /// priority.
    pub async fn list_events(&self, org: OrgId, q: &EventQuery) -> Result<Vec<Event>> {
        let Some((text, params)) = sql::list_events(org, q)? else {
            return Ok(Vec::new());
        };
        on_backend!(self, b => b.list_events(text, params))
    }

    /// The event `id` if it belongs to `org`; `None` when it does not exist
    /// or belongs to another org (the two are indistinguishable on
    /// purpose).
    pub async fn get_event(&self, org: OrgId, id: i64) -> Result<Option<Event>> {
        on_backend!(self, b => b.get_event(org, id))
    }

    /// Records a check run (`POST /api/v1/check_run`, DogStatsD `_sc`):
    /// keeps, per (org, check, host, tag set), the status and message of
    /// the run with the latest `ts_ms`. A run older than the one kept is
    /// ignored; one with the same timestamp replaces it. The tag set is
    /// sorted and deduplicated first, so tag order does not matter; an
    /// empty `host` counts as none.
    ///
    /// Errors: [`MetaError::Invalid`] for an empty check name or a status
    /// above 3; [`MetaError::NotFound`] for an unknown org.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_check_run(
        &self,
        org: OrgId,
        check: &str,
        host: Option<&str>,
        tags: &[String],
        status: u8,
        message: &str,
        ts_ms: i64,
    ) -> Result<()> {
        if check.is_empty() {
            return Err(MetaError::Invalid("check name is empty".to_string()));
        }
        if status > 3 {
            return Err(MetaError::Invalid(format!(
                "check status must be 0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN), not {status}"
            )));
        }
        let check = check.to_string();
        let host = host.unwrap_or("").to_string();
        let tags_json = sql::check_tags_json(tags);
        let message = message.to_string();
        on_backend!(self, b => b.record_check_run(org, check, host, tags_json, status, message, ts_ms))
    }

    /// The last status of every check run series of `org`, or of the one
    /// `check` when given, ordered by check name, host (none first), then
    /// tag set (byte order, the same for both backends whatever the
    /// database's collation).
    pub async fn check_statuses(
        &self,
        org: OrgId,
        check: Option<&str>,
    ) -> Result<Vec<CheckStatus>> {
        let check = check.map(str::to_string);
        let mut statuses = on_backend!(self, b => b.check_statuses(org, check))?;
        statuses.sort_by(|a, b| (&a.check, &a.host, &a.tags).cmp(&(&b.check, &b.host, &b.tags)));
        Ok(statuses)
    }
}
