//! Whippet's metadata store: orgs, API and application keys, events, the
//! last status and message of each check run, monitors' persistent state
//! (definitions, group states, transitions, the notification outbox,
//! webhooks; see the `monitors` module), downtimes, the web UI's users and
//! their sessions (`users`; passwords arrive hashed, session tokens are
//! stored as SHA-256 only), and dashboards (`dashboards`).
//!
//! # What it owns
//! - The tables behind [`MetaStore`] and their migrations (`docs/schema.md`).
//! - Key secrets' whole life: generation from the OS random source, hashing,
//!   verification, revocation, and the in-process verification cache.
//! - The semantics of listing events (`GET /api/v1/events` filters, spec
//!   §5.2, on [`EventQuery`]) and of "last status per check run" (spec §4).
//!
//! # What it must never do
//! - Log, return or store a key secret, or log or return its hash. The one
//!   exception is by design: [`MetaStore::bootstrap`] and
//!   [`MetaStore::create_key`] return a new secret once, to be shown to the
//!   user. [`KeyInfo`] carries only the last four characters.
//! - Hold intake or query logic: parsing Datadog payloads, checking
//!   Datadog's field limits (title ≤ 100 characters...), shaping HTTP
//!   responses. Callers validate and normalise; the store stores and
//!   answers.
//! - Invent its own replication. Several servers share state by pointing at
//!   one PostgreSQL database.
//!
//! # Backends
//! [`MetaStore::open`] picks one from its URL; both pass the same behaviour
//! suite (`tests/behaviour.rs`).
//! - **SQLite** (default; a file in the data directory): one connection
//!   behind a mutex, calls run on tokio's blocking pool, WAL journal, busy
//!   timeout. Details in the `sqlite` module.
//! - **PostgreSQL** (`--metadata-url postgres://...`, the cluster shape): one
//!   connection per server process, reconnected when it breaks, no TLS for
//!   now. Details in the `postgres` module.
//!
//! # Keys are stored hashed
//! The database keeps SHA-256 of each secret (hex) and its last four
//! characters, never the secret; a stolen database or backup yields no
//! usable key. A plain fast hash is the right tool here, unlike for
//! passwords: generated keys carry 128 (API) or 160 (application) random
//! bits, so guessing a key from its hash means searching 2^128 candidates,
//! which no amount of hashing speed makes feasible. Slow, salted password
//! hashes (bcrypt, Argon2) exist to protect *low-entropy* human secrets and
//! would buy nothing here, while costing what this path cannot afford:
//! [`MetaStore::verify_key`] runs on every HTTP request, a password hash
//! takes tens of milliseconds of CPU by design (a trivial denial of service
//! with a flood of bad keys), and a salt would make the hash unusable as
//! the lookup key, forcing a scan of all keys per request. An unsalted hash
//! is looked up directly by the `(kind, hash)` unique index.
//!
//! Keys given by the operator at bootstrap (from the environment) may be any
//! 1 to 128 visible ASCII characters; their hash is only as strong as they
//! are, so they should be long and random. Their last four characters are
//! shown only when the key has at least [`MIN_LEN_FOR_LAST4`] characters.
//!
//! # The verification cache
//! See the `key_cache` module: answers are cached [`POSITIVE_TTL`] (a
//! revoke by *another* server takes effect here within that time; in this
//! process at once) and bad keys [`NEGATIVE_TTL`], in bounded maps.
//!
//! # Dependencies
//! `rusqlite` with bundled SQLite (no system library to match; about 12 s of
//! debug build) and `tokio-postgres` without TLS, both far lighter than
//! `sqlx`. `sha2`, `hex` and `rand` for keys.
//!
//! # Testing support
//! With the `testing` feature (or in this crate's own tests),
//! [`testing`] starts a private PostgreSQL cluster for tests.

mod dashboards;
mod downtimes;
mod error;
mod key_cache;
mod model;
mod monitors;
mod postgres;
mod secret;
mod sql;
mod sqlite;
mod store;
mod users;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

// Everything public in these two modules is part of the crate's API.
#[allow(unused_imports)]
pub use dashboards::*;
pub use downtimes::DowntimeRecord;
pub use error::{BackendError, MetaError, Result};
pub use key_cache::{MAX_NEGATIVE, MAX_POSITIVE, NEGATIVE_TTL, POSITIVE_TTL};
pub use model::{
    Bootstrap, CheckStatus, Event, EventQuery, KeyId, KeyInfo, KeyKind, NewEvent, Org, OrgId,
};
pub use monitors::{
    Evaluation, MonitorRecord, NewNotification, NewTransition, Notification, Transition, Webhook,
};
pub use postgres::{CONNECT_TIMEOUT, MIGRATION_LOCK};
pub use secret::{MAX_GIVEN_KEY_LEN, MIN_LEN_FOR_LAST4};
pub use sqlite::BUSY_TIMEOUT;
pub use store::{BOOTSTRAP_KEY_NAME, BOOTSTRAP_ORG, MAX_NAME_LEN, MetaStore};
#[allow(unused_imports)]
pub use users::*;

/// The schema version this build writes (the same for both backends); a
/// database with a higher one is refused with [`MetaError::SchemaTooNew`].
pub const SCHEMA_VERSION: i64 = sqlite::SCHEMA_VERSION;

const _: () = assert!(sqlite::SCHEMA_VERSION == postgres::SCHEMA_VERSION);
