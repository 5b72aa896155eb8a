//! The people who sign in to the web UI: the `users` and `sessions` tables
//! (schema version 4, `docs/schema.md`).
//!
//! # What it owns
//! - Users of an org: e-mail (the sign-in name, lower-cased here, unique
//!   across the store), name, role, the password *hash*, and whether the
//!   user is disabled.
//! - Sessions: the random token of a sign-in cookie, generated here from
//!   the OS random source and handed out once by
//!   [`MetaStore::create_session`]; the database keeps only its SHA-256.
//!   The rules of a session's life: it is refused after `expires_at`, for a
//!   disabled user, or once deleted; it slides (each use moves its expiry
//!   to [`SessionLifetime::idle`] from now, never past
//!   [`SessionLifetime::absolute`] from sign-in); `last_seen_at` is written
//!   at most once per [`TOUCH_INTERVAL`], so a page that fires ten queries
//!   a second costs reads, not writes.
//! - The rule that a disabled user loses its sessions
//!   ([`MetaStore::update_user`] deletes them; lookups refuse a disabled
//!   user's session anyway, so a crash between the two changes nothing).
//!
//! # What it must never do
//! - See a password. Hashing (argon2id) and verification are the HTTP
//!   layer's (`whippet::server::password`); the store keeps the PHC string
//!   it is given and hands it back only through [`UserCredentials`], whose
//!   `Debug` hides it.
//! - Store, log or return a session token except once, at creation.
//! - Decide what a role may do. Roles are stored and returned; the HTTP
//!   layer enforces them.
//!
//! # Why a plain hash for session tokens
//! Same reasoning as API keys (crate doc, "Keys are stored hashed"): a
//! token is 256 random bits, so its SHA-256 cannot be reversed by search,
//! and an unsalted hash is what the primary key can look up directly.

use std::fmt;
use std::time::Duration;

use rand::TryRng;
use sha2::{Digest, Sha256};

use crate::error::{MetaError, Result};
use crate::model::OrgId;
use crate::store::{MetaStore, now_ms};

/// A user's row id: assigned by the store, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a user may do (enforced by the HTTP layer, not here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including managing users and keys.
    Admin,
    /// Read and change the org's objects (monitors, dashboards, ...), not
    /// users or keys.
    Standard,
    /// Read only.
    ReadOnly,
}

impl Role {
    /// The stored and API form: `admin`, `standard`, `read_only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Standard => "standard",
            Role::ReadOnly => "read_only",
        }
    }

    /// Parses [`Role::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "standard" => Some(Role::Standard),
            "read_only" => Some(Role::ReadOnly),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user as the store describes it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The org the user belongs to (and acts as).
    pub org: OrgId,
    /// Lower-cased; unique across the store.
    pub email: String,
    /// Shown in the UI.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last change.
    pub modified_at: i64,
    /// Unix ms of the disabling; `None` while the user may sign in.
    pub disabled_at: Option<i64>,
}

/// A user to create. `password_hash` is the PHC string of an argon2id
/// hash (`$argon2id$v=19$...`), never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The sign-in name; trimmed and lower-cased by the store.
    pub email: String,
    /// 1 to [`MAX_USER_NAME_LEN`] characters, no control characters, no
    /// surrounding white space.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The PHC string of the password's hash.
    pub password_hash: String,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// Changes to a user; `None` fields stay as they are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// A new name (same rules as [`NewUser::name`]).
    pub name: Option<String>,
    /// A new role.
    pub role: Option<Role>,
    /// A new password hash (PHC string).
    pub password_hash: Option<String>,
    /// `Some(true)` disables the user (and deletes its sessions; a second
    /// disable keeps the first `disabled_at`), `Some(false)` enables it.
    pub disabled: Option<bool>,
}

impl fmt::Debug for UserUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserUpdate")
            .field("name", &self.name)
            .field("role", &self.role)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A user with its password hash: what sign-in verifies a password
/// against. `Debug` hides the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// The PHC string stored at creation or the last password change.
    pub password_hash: String,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// How long a session lives: it expires after `idle` without use, and in
/// any case `absolute` after sign-in. The HTTP layer chooses both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// Sliding: each use (at the granularity of [`TOUCH_INTERVAL`]) moves
    /// the expiry to this long from now.
    pub idle: Duration,
    /// The expiry never passes sign-in plus this.
    pub absolute: Duration,
}

/// A session just created: the token, shown to the browser once (the
/// cookie) and stored only as its hash. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// 64 lowercase hex characters (32 bytes from the OS random source).
    pub token: String,
    /// Unix ms.
    pub expires_at: i64,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A live session and who it belongs to: the answer to "who sent this
/// cookie".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// The signed-in user (never disabled: a disabled user has no live
    /// session).
    pub user: User,
    /// The name of the user's org.
    pub org_name: String,
    /// Unix ms of the sign-in.
    pub created_at: i64,
    /// Unix ms; after the lookup's slide.
    pub expires_at: i64,
    /// Unix ms; after the lookup's touch.
    pub last_seen_at: i64,
}

/// `last_seen_at` and the sliding expiry are written at most this often
/// per session: a dashboard fires a burst of queries per refresh, and a
/// write per request would serialise them on the database's write lock
/// for no gain (an idle timeout measured in hours does not care about a
/// minute).
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Longest user name, in characters: a label in lists, like org and key
/// names.
pub const MAX_USER_NAME_LEN: usize = 100;

/// Longest e-mail address, in characters: RFC 5321's limit on a path
/// (254 characters between the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// A session token longer than this is not looked up: ours are 64
/// characters, and a hostile cookie should not reach the hash.
const MAX_TOKEN_LEN: usize = 128;

/// Bytes of a session token: 256 bits, beyond any search (see the module
/// doc).
const TOKEN_BYTES: usize = 32;

/// Fills `buf` from the operating system's random source (the one keys
/// and session tokens come from), for callers' own secrets: password
/// salts, generated passwords. Errors: [`MetaError::Backend`] when the
/// source cannot be read.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    rand::rngs::SysRng.try_fill_bytes(buf).map_err(|e| {
        MetaError::backend(
            "read the OS random source",
            std::io::Error::other(e.to_string()),
        )
    })
}

/// SHA-256 of a session token, hex: what `sessions.token_hash` holds.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Lower-cases and checks an e-mail address: 3 to [`MAX_EMAIL_LEN`]
/// characters, one `@` with something on both sides, no white space or
/// control characters. Deliberately loose: the address is a sign-in name,
/// never mailed to by this module.
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let len = email.chars().count();
    let bad = |why: &str| Err(MetaError::Invalid(format!("e-mail address {why}")));
    if !(3..=MAX_EMAIL_LEN).contains(&len) {
        return bad(&format!(
            "must be 3 to {MAX_EMAIL_LEN} characters, not {len}"
        ));
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
    {
        return bad("must not contain spaces, quotes, angle brackets or control characters");
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(email)
        }
        _ => bad("must be name@domain"),
    }
}

/// Checks a user's name (see [`NewUser::name`]).
fn validate_user_name(name: &str) -> Result<()> {
    let len = name.chars().count();
    if len == 0 || len > MAX_USER_NAME_LEN {
        return Err(MetaError::Invalid(format!(
            "user name must be 1 to {MAX_USER_NAME_LEN} characters, not {len}"
        )));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(MetaError::Invalid(
            "user name must not contain control characters or start or end with white space"
                .to_string(),
        ));
    }
    Ok(())
}

/// Checks that a password hash looks like a PHC string: the store cannot
/// verify it, but an empty or plain value is certainly a caller's bug.
fn validate_hash(hash: &str) -> Result<()> {
    if hash.starts_with('$') && hash.len() > 10 && hash.is_ascii() {
        Ok(())
    } else {
        Err(MetaError::Invalid(
            "password hash must be a PHC string ($argon2id$...)".to_string(),
        ))
    }
}

pub(crate) mod sql {
    // Every statement reading users names the columns in the order the
    // row readers of both backends expect: id, org_id, email, name, role,
    // created_at, modified_at, disabled_at.
    pub const INSERT_USER: &str = "INSERT INTO users (org_id, email, name, role, password_hash, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         RETURNING id, org_id, email, name, role, created_at, modified_at, disabled_at";
    pub const COUNT_USERS_OF_ORG: &str = "SELECT COUNT(*) FROM users WHERE org_id = $1";
    pub const GET_USER: &str = "SELECT id, org_id, email, name, role, created_at, modified_at, disabled_at \
         FROM users WHERE org_id = $1 AND id = $2";
    pub const LIST_USERS: &str = "SELECT id, org_id, email, name, role, created_at, modified_at, disabled_at \
         FROM users WHERE org_id = $1 ORDER BY id";
    /// Also reads `password_hash` (column 8).
    pub const FIND_USER_BY_EMAIL: &str = "SELECT id, org_id, email, name, role, created_at, modified_at, disabled_at, password_hash \
         FROM users WHERE email = $1";
    /// `$3` name, `$4` role, `$5` password hash (NULL: unchanged); `$6`
    /// `'disable'`, `'enable'` or NULL; `$7` now.
    pub const UPDATE_USER: &str = "UPDATE users SET \
         name = COALESCE($3, name), \
         role = COALESCE($4, role), \
         password_hash = COALESCE($5, password_hash), \
         disabled_at = CASE WHEN $6 = 'disable' THEN COALESCE(disabled_at, $7) \
                            WHEN $6 = 'enable' THEN NULL ELSE disabled_at END, \
         modified_at = $7 \
         WHERE org_id = $1 AND id = $2 \
         RETURNING id, org_id, email, name, role, created_at, modified_at, disabled_at";
    pub const DELETE_USER: &str = "DELETE FROM users WHERE org_id = $1 AND id = $2";

    pub const INSERT_SESSION: &str = "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $3)";
    pub const DELETE_EXPIRED_SESSIONS_OF_USER: &str =
        "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2";
    /// The user columns, then org name, session created, expires, last
    /// seen (8 to 11).
    pub const SESSION_USER: &str = "SELECT u.id, u.org_id, u.email, u.name, u.role, u.created_at, u.modified_at, u.disabled_at, \
         o.name, s.created_at, s.expires_at, s.last_seen_at \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL";
    pub const TOUCH_SESSION: &str =
        "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1";
    pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";
    pub const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
}

mod postgres;
mod sqlite;

/// Runs the same call on whichever backend the store has.
macro_rules! on_backend {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.inner.backend {
            crate::store::Backend::Sqlite($b) => $call.await,
            crate::store::Backend::Postgres($b) => $call.await,
        }
    };
}

/// A user's columns (in the order of the `sql` statements) as both
/// backends read them.
pub(crate) struct UserRow {
    pub id: i64,
    pub org: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub modified_at: i64,
    pub disabled_at: Option<i64>,
}

impl UserRow {
    pub(crate) fn into_user(self, op: &'static str) -> Result<User> {
        Ok(User {
            id: UserId(self.id),
            org: crate::sql::org_id(op, self.org)?,
            role: Role::parse(&self.role).ok_or_else(|| {
                crate::sql::corrupt(op, format!("user {} role {:?}", self.id, self.role))
            })?,
            email: self.email,
            name: self.name,
            created_at: self.created_at,
            modified_at: self.modified_at,
            disabled_at: self.disabled_at,
        })
    }
}

/// A validated [`NewUser`] with its e-mail normalised.
fn checked(new: &NewUser) -> Result<NewUser> {
    let email = normalize_email(&new.email)?;
    validate_user_name(&new.name)?;
    validate_hash(&new.password_hash)?;
    Ok(NewUser {
        email,
        ..new.clone()
    })
}

/// Milliseconds in `d`, saturated.
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// When a session seen at `now`, created at `created_at`, expires.
fn slide(now: i64, created_at: i64, lifetime: SessionLifetime) -> i64 {
    now.saturating_add(ms(lifetime.idle))
        .min(created_at.saturating_add(ms(lifetime.absolute)))
}

impl MetaStore {
    /// Creates a user of `org` and returns it. Errors:
    /// [`MetaError::Invalid`] for a bad e-mail, name or hash;
    /// [`MetaError::Conflict`] when a user (of any org) has that e-mail;
    /// [`MetaError::NotFound`] for an unknown org.
    pub async fn create_user(&self, org: OrgId, new: &NewUser) -> Result<User> {
        let new = checked(new)?;
        let now = now_ms();
        on_backend!(self, b => b.create_user(org, new, now, false))?
            .ok_or_else(|| crate::sql::corrupt("create user", "no row created".into()))
    }

    /// Creates `new` only if `org` has no user yet (the first admin at
    /// start-up); `None` when it already had one. Race-free: of several
    /// calls, from this or other processes on the same database, one
    /// creates the user. Errors as [`MetaStore::create_user`].
    pub async fn create_first_user(&self, org: OrgId, new: &NewUser) -> Result<Option<User>> {
        let new = checked(new)?;
        let now = now_ms();
        on_backend!(self, b => b.create_user(org, new, now, true))
    }

    /// The user `id` if it belongs to `org` (`None` otherwise: another
    /// org's user and a missing one look the same).
    pub async fn get_user(&self, org: OrgId, id: UserId) -> Result<Option<User>> {
        on_backend!(self, b => b.get_user(org, id))
    }

    /// The users of `org`, disabled ones included, by id.
    pub async fn list_users(&self, org: OrgId) -> Result<Vec<User>> {
        on_backend!(self, b => b.list_users(org))
    }

    /// The user with this e-mail (compared lower-cased and trimmed), of any
    /// org, disabled or not, with its password hash; `None` when there is
    /// none or the address is not a possible one.
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>> {
        let Ok(email) = normalize_email(email) else {
            return Ok(None);
        };
        on_backend!(self, b => b.find_user_by_email(email))
    }

    /// Applies `update` to user `id` of `org` and returns the user after
    /// it; `None` when there is no such user. Disabling deletes the user's
    /// sessions. Errors: [`MetaError::Invalid`] for a bad name or hash.
    pub async fn update_user(
        &self,
        org: OrgId,
        id: UserId,
        update: &UserUpdate,
    ) -> Result<Option<User>> {
        if let Some(name) = &update.name {
            validate_user_name(name)?;
        }
        if let Some(hash) = &update.password_hash {
            validate_hash(hash)?;
        }
        let now = now_ms();
        let user = on_backend!(self, b => b.update_user(org, id, update.clone(), now))?;
        if let Some(u) = &user
            && update.disabled == Some(true)
        {
            self.delete_user_sessions(u.id).await?;
        }
        Ok(user)
    }

    /// Deletes user `id` of `org` and its sessions; `false` when there was
    /// no such user.
    pub async fn delete_user(&self, org: OrgId, id: UserId) -> Result<bool> {
        on_backend!(self, b => b.delete_user(org, id))
    }

    /// Signs `user` in: a new session with a fresh random token, expiring
    /// per `lifetime`. Returns the token, the only time it exists outside
    /// the browser. Also deletes the user's expired sessions. Does not
    /// check that the user is enabled (the caller just did; and a disabled
    /// user's sessions are refused by [`MetaStore::session_user`]).
    /// Errors: [`MetaError::NotFound`] for an unknown user.
    pub async fn create_session(
        &self,
        user: UserId,
        lifetime: SessionLifetime,
    ) -> Result<NewSession> {
        let mut bytes = [0u8; TOKEN_BYTES];
        fill_random(&mut bytes)?;
        let token = hex::encode(bytes);
        let hash = token_hash(&token);
        let now = now_ms();
        let expires_at = slide(now, now, lifetime);
        on_backend!(self, b => b.create_session(user, hash, now, expires_at))?;
        Ok(NewSession { token, expires_at })
    }

    /// Who `token` signs in: its live session and user, or `None` when
    /// the token is unknown, expired, deleted, or the user is disabled (or
    /// the text could not be a token). When the session was last seen
    /// [`TOUCH_INTERVAL`] ago or more, records this use and slides its
    /// expiry per `lifetime`.
    pub async fn session_user(
        &self,
        token: &str,
        lifetime: SessionLifetime,
    ) -> Result<Option<SessionUser>> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        let hash = token_hash(token);
        let now = now_ms();
        let found = on_backend!(self, b => b.session_user(hash.clone(), now))?;
        let Some(mut s) = found else {
            return Ok(None);
        };
        if now.saturating_sub(s.last_seen_at) >= ms(TOUCH_INTERVAL) {
            let expires_at = slide(now, s.created_at, lifetime);
            on_backend!(self, b => b.touch_session(hash, now, expires_at))?;
            s.last_seen_at = now;
            s.expires_at = expires_at;
        }
        Ok(Some(s))
    }

    /// Signs a session out; `false` when the token named none.
    pub async fn delete_session(&self, token: &str) -> Result<bool> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(false);
        }
        on_backend!(self, b => b.delete_session(token_hash(token)))
    }

    /// Signs a user out everywhere; returns how many sessions it had.
    pub async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        on_backend!(self, b => b.delete_user_sessions(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email(" Admin@LocalHost ").unwrap(),
            "admin@localhost"
        );
        assert_eq!(normalize_email("ÉLISE@x.fr").unwrap(), "élise@x.fr");
        for bad in [
            "", "a", "no-at", "@x", "x@", "a@b@c", "a b@c", "a\t@c", "<a@b>",
        ] {
            assert_eq!(
                normalize_email(bad).unwrap_err().http_status(),
                400,
                "{bad}"
            );
        }
        assert!(normalize_email(&format!("{}@x", "a".repeat(252))).is_ok());
        assert!(normalize_email(&format!("{}@x", "a".repeat(253))).is_err());
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Admin, Role::Standard, Role::ReadOnly] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn sliding_expiry_is_capped_by_the_absolute_lifetime() {
        let l = SessionLifetime {
            idle: Duration::from_secs(10),
            absolute: Duration::from_secs(25),
        };
        assert_eq!(slide(0, 0, l), 10_000);
        assert_eq!(slide(12_000, 0, l), 22_000);
        assert_eq!(slide(20_000, 0, l), 25_000);
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let s = NewSession {
            token: "t0ken".into(),
            expires_at: 1,
        };
        assert!(!format!("{s:?}").contains("t0ken"));
        let u = NewUser {
            email: "a@b".into(),
            name: "A".into(),
            role: Role::Admin,
            password_hash: "$argon2id$secret".into(),
        };
        assert!(!format!("{u:?}").contains("secret"));
        let up = UserUpdate {
            password_hash: Some("$argon2id$secret".into()),
            ..UserUpdate::default()
        };
        assert!(!format!("{up:?}").contains("secret"));
    }
}
