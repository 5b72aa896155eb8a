//! The crate's one error type.
//!
//! Every variant says what a client of the HTTP API should see
//! ([`MetaError::http_status`], [`MetaError::public_message`]); the full
//! [`Display`](std::fmt::Display) text, with the failing operation and the
//! backend's own message, is for logs only.
//!
//! No error built by this crate carries a key secret or a key hash: key
//! validation messages never quote the offending value, and PostgreSQL
//! errors are reduced to their SQLSTATE and primary message
//! ([`BackendError`]), because a server's `DETAIL` line quotes the
//! conflicting row (`Key (kind, hash)=(api, 3f2a...) already exists`).

use std::error::Error as StdError;
use std::fmt;

/// Result alias for the metadata store.
pub type Result<T, E = MetaError> = std::result::Result<T, E>;

/// Everything a [`MetaStore`](crate::MetaStore) call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The object named by the call (an org, a key id) does not exist.
    /// Clients see 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The call would break a uniqueness rule (an org name taken, a key
    /// secret already registered). The text says which; clients see 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller's input is not acceptable (an empty name, a malformed
    /// given key, a check status outside 0..=3, an unsupported URL). The
    /// text says what is wrong without quoting secrets; clients see 400.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database was written by a newer Whippet whose schema this build
    /// does not know. Refusing to open is the only safe answer: an older
    /// build could corrupt tables it does not understand. Clients see 500.
    #[error(
        "metadata schema version {found} is newer than this build supports ({supported}); run a newer whippet"
    )]
    SchemaTooNew {
        /// The version recorded in the database's `schema_version` table.
        found: i64,
        /// The newest version this build can migrate to.
        supported: i64,
    },
    /// The backend failed (I/O, SQLite or PostgreSQL error, lost connection,
    /// a blocking task that panicked). `op` names what the store was doing.
    /// Clients see 500 and a generic message; the details are for logs.
    #[error("metadata store: {op}: {source}")]
    Backend {
        /// What the store was doing ("insert event", "connect to PostgreSQL").
        op: &'static str,
        /// The underlying error.
        #[source]
        source: BackendError,
    },
}

impl MetaError {
    /// The HTTP status code a client should get for this error: 404, 409,
    /// 400, or 500 for backend and schema failures.
    pub fn http_status(&self) -> u16 {
        match self {
            MetaError::NotFound(_) => 404,
            MetaError::Conflict(_) => 409,
            MetaError::Invalid(_) => 400,
            MetaError::SchemaTooNew { .. } | MetaError::Backend { .. } => 500,
        }
    }

    /// The message safe to show a client: the variant's own text for
    /// 4xx errors, a generic "internal error" for backend failures (whose
    /// details may name files, hosts or SQL).
    pub fn public_message(&self) -> String {
        match self {
            MetaError::NotFound(what) => format!("{what} not found"),
            MetaError::Conflict(msg) | MetaError::Invalid(msg) => msg.clone(),
            MetaError::SchemaTooNew { .. } | MetaError::Backend { .. } => {
                "internal error in the metadata store".to_string()
            }
        }
    }

    /// Wraps a backend error with the operation that failed.
    pub(crate) fn backend(op: &'static str, source: impl Into<BackendError>) -> MetaError {
        MetaError::Backend {
            op,
            source: source.into(),
        }
    }
}

/// The underlying cause of a [`MetaError::Backend`].
///
/// PostgreSQL server errors are kept as SQLSTATE plus primary message only
/// (see the module doc); every other error is kept whole.
#[derive(Debug)]
pub enum BackendError {
    /// An SQLite error.
    Sqlite(rusqlite::Error),
    /// A PostgreSQL error that did not come from the server (connection,
    /// protocol, type conversion).
    Postgres(tokio_postgres::Error),
    /// A PostgreSQL server error, without its `DETAIL` and `WHERE` lines.
    PostgresServer {
        /// The five-character SQLSTATE code.
        code: String,
        /// The server's primary message.
        message: String,
    },
    /// A file-system error (creating the SQLite file's directory).
    Io(std::io::Error),
    /// The blocking task running an SQLite call panicked or was cancelled.
    Task(tokio::task::JoinError),
    /// A stored value that the store itself should have written differently
    /// (a tag list that is not a JSON array, an org id out of range). A bug
    /// or a hand-edited database.
    Corrupt(String),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Sqlite(e) => write!(f, "sqlite: {e}"),
            BackendError::Postgres(e) => write!(f, "postgres: {e}"),
            BackendError::PostgresServer { code, message } => {
                write!(f, "postgres: {message} (SQLSTATE {code})")
            }
            BackendError::Io(e) => write!(f, "{e}"),
            BackendError::Task(e) => write!(f, "blocking task failed: {e}"),
            BackendError::Corrupt(what) => write!(f, "unexpected stored value: {what}"),
        }
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            BackendError::Sqlite(e) => Some(e),
            BackendError::Postgres(e) => Some(e),
            BackendError::Io(e) => Some(e),
            BackendError::Task(e) => Some(e),
            BackendError::PostgresServer { .. } | BackendError::Corrupt(_) => None,
        }
    }
}

impl From<rusqlite::Error> for BackendError {
    fn from(e: rusqlite::Error) -> Self {
        BackendError::Sqlite(e)
    }
}

impl From<tokio_postgres::Error> for BackendError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => BackendError::PostgresServer {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
            },
            None => BackendError::Postgres(e),
        }
    }
}

impl From<std::io::Error> for BackendError {
    fn from(e: std::io::Error) -> Self {
        BackendError::Io(e)
    }
}

impl From<tokio::task::JoinError> for BackendError {
    fn from(e: tokio::task::JoinError) -> Self {
        BackendError::Task(e)
    }
}
