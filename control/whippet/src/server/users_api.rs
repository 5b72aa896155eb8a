//! Users, sign-in and sessions for the web UI (issue 7), and the admin's
//! users and keys API.
//!
//! | route | who | answer |
//! |---|---|---|
//! | `POST /api/ui/login` `{"email", "password"}` | anyone | 200 `{"user", "org"}` and the session cookie; 401 `Wrong e-mail or password` (also for a disabled user) |
//! | `POST /api/ui/logout` | anyone | 204; the session deleted, the cookie cleared |
//! | `GET /api/ui/me` | signed in | 200 `{"user", "org"}`; 401 `Not signed in` |
//! | `GET /api/ui/users` | admin | `{"users": [user...]}` |
//! | `POST /api/ui/users` `{"email", "name", "role", "password"}` | admin | 201 user |
//! | `PUT /api/ui/users/{id}` any of `name`, `role`, `password`, `disabled` | admin | 200 user |
//! | `DELETE /api/ui/users/{id}` | admin | 204 |
//! | `GET /api/ui/keys` | admin | `{"keys": [key...]}` |
//! | `POST /api/ui/keys` `{"kind": "api"\|"app", "name"}` | admin | 201 key with `"key"`, the secret, shown this once |
//! | `DELETE /api/ui/keys/{id}` | admin | 204 (revoked) |
//!
//! A user object is `{"id", "email", "name", "role", "disabled",
//! "created_at"}` (ms); a key object `{"id", "kind", "name", "last4",
//! "created_at", "revoked_at"}` (ms, `null` while active). Errors are
//! Datadog's `{"errors": [...]}`: 400 for a bad body, 404 for an unknown
//! id, 409 for an e-mail already taken.
//!
//! # What it owns
//! - Sign-in: the password check ([`password`]), the session's creation
//!   and its cookie ([`session`]).
//! - The admin API's rules beyond the store's: an admin cannot delete or
//!   disable themself or drop their own admin role (so an org always keeps
//!   the admin who is acting); a new password set for another user signs
//!   that user out everywhere; a disabled user is signed out everywhere
//!   (the store's rule).
//! - The first admin ([`ensure_first_admin`]): created at start-up when
//!   the default org has no user.
//!
//! Which role may change what, and the CSRF header, are enforced for
//! every route by [`session::guard`], a layer on the router.
//!
//! # What it must never do
//! Log or return a password, a hash or a session token; tell a client
//! whether an e-mail has an account (a wrong password, an unknown e-mail
//! and a disabled user get the same 401, after the same argon2 work).

pub mod password;
pub mod session;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde_json::{Map, Value, json};
use whippet_meta::{
    KeyId, KeyInfo, KeyKind, MetaStore, NewUser, OrgId, Role, SessionUser, User, UserId, UserUpdate,
};

use super::AppState;
use super::error::{ApiError, json};
use super::extract::JsonBody;
use session::{Admin, SignedIn};

/// The first admin's e-mail (the sign-in name).
pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

/// The first admin's name.
pub const FIRST_ADMIN_NAME: &str = "Admin";

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/ui/login", post(login))
        .route("/api/ui/logout", post(logout))
        .route("/api/ui/me", get(me))
        .route("/api/ui/users", get(list_users).post(create_user))
        .route("/api/ui/users/{id}", put(update_user).delete(delete_user))
        .route("/api/ui/keys", get(list_keys).post(create_key))
        .route("/api/ui/keys/{id}", delete(revoke_key))
}

/// What [`ensure_first_admin`] created.
pub struct FirstAdmin {
    /// Its e-mail, [`FIRST_ADMIN_EMAIL`].
    pub email: String,
    /// The generated password, to print once; `None` when the operator
    /// gave one (`WHIPPET_ADMIN_PASSWORD`).
    pub generated_password: Option<String>,
}

/// Creates the first admin of `org` ([`FIRST_ADMIN_EMAIL`], role admin)
/// when the org has no user: with `given` as its password, or a generated
/// one returned to be printed once. `None` when the org already had a
/// user (`given` is then ignored). Race-free between servers sharing one
/// database. Errors: a given password that breaks the password rules
/// (named after `WHIPPET_ADMIN_PASSWORD`, never quoted), or the store.
pub async fn ensure_first_admin(
    meta: &MetaStore,
    org: OrgId,
    given: Option<&str>,
) -> anyhow::Result<Option<FirstAdmin>> {
    if let Some(p) = given {
        password::check_new(p).map_err(|why| {
            anyhow::anyhow!("WHIPPET_ADMIN_PASSWORD is not an acceptable password: {why}")
        })?;
    }
    if !meta.list_users(org).await?.is_empty() {
        return Ok(None);
    }
    let (secret, generated) = match given {
        Some(p) => (p.to_string(), false),
        None => (password::generate()?, true),
    };
    let new = NewUser {
        email: FIRST_ADMIN_EMAIL.to_string(),
        name: FIRST_ADMIN_NAME.to_string(),
        role: Role::Admin,
        password_hash: password::hash(secret.clone()).await?,
    };
    let Some(user) = meta.create_first_user(org, &new).await? else {
        return Ok(None);
    };
    tracing::info!(user = %user.id, org = %org, "created the first admin");
    Ok(Some(FirstAdmin {
        email: user.email,
        generated_password: generated.then_some(secret),
    }))
}

// ------------------------------------------------------------------ bodies

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id.0,
        "email": u.email,
        "name": u.name,
        "role": u.role.as_str(),
        "disabled": u.disabled_at.is_some(),
        "created_at": u.created_at,
    })
}

fn me_json(who: &SessionUser) -> Value {
    json!({
        "user": user_json(&who.user),
        "org": {"id": who.user.org.0, "name": who.org_name},
    })
}

fn key_json(k: &KeyInfo) -> Value {
    json!({
        "id": k.id.0,
        "kind": k.kind.as_str(),
        "name": k.name,
        "last4": k.last4,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
    })
}

/// The body as an object (400 otherwise).
fn object(body: JsonBody) -> Result<Map<String, Value>, ApiError> {
    match body.required()? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request(
            "The request body must be a JSON object",
        )),
    }
}

/// Field `name` as a string: `None` when absent or null, 400 when of
/// another type.
fn opt_str<'a>(m: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(format!("`{name}` must be a string"))),
    }
}

fn req_str<'a>(m: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    opt_str(m, name)?.ok_or_else(|| ApiError::bad_request(format!("`{name}` is required")))
}

fn role_of(s: &str) -> Result<Role, ApiError> {
    Role::parse(s).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`role` must be \"admin\", \"standard\" or \"read_only\", not {s:?}"
        ))
    })
}

/// A new password, checked and hashed.
async fn new_hash(p: &str) -> Result<String, ApiError> {
    password::check_new(p).map_err(ApiError::bad_request)?;
    password::hash(p.to_string())
        .await
        .map_err(|e| ApiError::internal("hashing a password", e))
}

/// A numeric id from the path; 404 `what not found` otherwise.
fn path_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{what} not found")))
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

// ----------------------------------------------------------------- sign-in

fn wrong_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "Wrong e-mail or password")
}

/// `POST /api/ui/login`.
async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let m = object(body)?;
    let email = req_str(&m, "email")?;
    let given = req_str(&m, "password")?;
    let found = s.meta.find_user_by_email(email).await?;
    let hash = found.as_ref().map(|c| c.password_hash.clone());
    let matches = password::verify(given.to_string(), hash)
        .await
        .map_err(|e| ApiError::internal("verifying a password", e))?;
    let user = match found {
        Some(c) if matches && c.user.disabled_at.is_none() => c.user,
        found => {
            tracing::info!(
                user = found.as_ref().map(|c| c.user.id.0),
                "sign-in refused"
            );
            return Err(wrong_credentials());
        }
    };
    // A browser signing in again drops the session it had.
    if let Some(old) = session::token(&headers) {
        s.meta.delete_session(old).await?;
    }
    let new = s
        .meta
        .create_session(user.id, session::SESSION_LIFETIME)
        .await?;
    let who = session::lookup(&s.meta, &new.token)
        .await?
        .ok_or_else(|| ApiError::internal("signing in", "the new session vanished"))?;
    tracing::info!(user = %user.id, "signed in");
    let mut r = json(StatusCode::OK, me_json(&who));
    r.headers_mut().insert(
        header::SET_COOKIE,
        session::set_cookie(&new.token, session::is_https(&headers))?,
    );
    Ok(r)
}

/// `POST /api/ui/logout`: 204 whether or not there was a session.
async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session::token(&headers) {
        s.meta.delete_session(token).await?;
    }
    let mut r = no_content();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_cookie(session::is_https(&headers)),
    );
    Ok(r)
}

/// `GET /api/ui/me`.
async fn me(SignedIn(who): SignedIn) -> Response {
    json(StatusCode::OK, me_json(&who))
}

// ------------------------------------------------------------------- users

/// `GET /api/ui/users`.
async fn list_users(State(s): State<AppState>, Admin(me): Admin) -> Result<Response, ApiError> {
    let users = s.meta.list_users(me.user.org).await?;
    let users: Vec<Value> = users.iter().map(user_json).collect();
    Ok(json(StatusCode::OK, json!({ "users": users })))
}

/// `POST /api/ui/users`.
async fn create_user(
    State(s): State<AppState>,
    Admin(me): Admin,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let m = object(body)?;
    let email = req_str(&m, "email")?;
    let name = req_str(&m, "name")?;
    let role = role_of(req_str(&m, "role")?)?;
    let password_hash = new_hash(req_str(&m, "password")?).await?;
    let user = s
        .meta
        .create_user(
            me.user.org,
            &NewUser {
                email: email.to_string(),
                name: name.to_string(),
                role,
                password_hash,
            },
        )
        .await?;
    tracing::info!(user = %user.id, by = %me.user.id, role = %user.role, "created a user");
    Ok(json(StatusCode::CREATED, user_json(&user)))
}

/// `PUT /api/ui/users/{id}`.
async fn update_user(
    State(s): State<AppState>,
    Admin(me): Admin,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = UserId(path_id(&id, "User")?);
    let m = object(body)?;
    let disabled = match m.get("disabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(ApiError::bad_request("`disabled` must be true or false")),
    };
    let role = opt_str(&m, "role")?.map(role_of).transpose()?;
    if id == me.user.id && (disabled == Some(true) || role.is_some_and(|r| r != Role::Admin)) {
        return Err(ApiError::bad_request(
            "You cannot disable yourself or take away your own admin role",
        ));
    }
    let password_hash = match opt_str(&m, "password")? {
        Some(p) => Some(new_hash(p).await?),
        None => None,
    };
    let new_password = password_hash.is_some();
    let update = UserUpdate {
        name: opt_str(&m, "name")?.map(str::to_string),
        role,
        password_hash,
        disabled,
    };
    let user = s
        .meta
        .update_user(me.user.org, id, &update)
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    if new_password && id != me.user.id {
        s.meta.delete_user_sessions(id).await?;
    }
    tracing::info!(user = %id, by = %me.user.id, "updated a user");
    Ok(json(StatusCode::OK, user_json(&user)))
}

/// `DELETE /api/ui/users/{id}`.
async fn delete_user(
    State(s): State<AppState>,
    Admin(me): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(path_id(&id, "User")?);
    if id == me.user.id {
        return Err(ApiError::bad_request("You cannot delete yourself"));
    }
    if !s.meta.delete_user(me.user.org, id).await? {
        return Err(ApiError::not_found("User not found"));
    }
    tracing::info!(user = %id, by = %me.user.id, "deleted a user");
    Ok(no_content())
}

// -------------------------------------------------------------------- keys

/// `GET /api/ui/keys`: the org's keys, revoked ones included.
async fn list_keys(State(s): State<AppState>, Admin(me): Admin) -> Result<Response, ApiError> {
    let keys = s.meta.list_keys(Some(me.user.org)).await?;
    let keys: Vec<Value> = keys.iter().map(key_json).collect();
    Ok(json(StatusCode::OK, json!({ "keys": keys })))
}

/// `POST /api/ui/keys`.
async fn create_key(
    State(s): State<AppState>,
    Admin(me): Admin,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let m = object(body)?;
    let kind = req_str(&m, "kind")?;
    let kind = KeyKind::parse(kind).ok_or_else(|| {
        ApiError::bad_request(format!("`kind` must be \"api\" or \"app\", not {kind:?}"))
    })?;
    let name = req_str(&m, "name")?;
    let (info, secret) = s.meta.create_key(me.user.org, kind, name).await?;
    tracing::info!(key = %info.id, kind = %kind, by = %me.user.id, "created a key");
    let mut body = key_json(&info);
    body["key"] = Value::String(secret);
    Ok(json(StatusCode::CREATED, body))
}

/// `DELETE /api/ui/keys/{id}`: revokes a key of the admin's org.
async fn revoke_key(
    State(s): State<AppState>,
    Admin(me): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = KeyId(path_id(&id, "Key")?);
    // The store revokes by id alone: the key must be this org's.
    let ours = s
        .meta
        .list_keys(Some(me.user.org))
        .await?
        .iter()
        .any(|k| k.id == id);
    if !ours {
        return Err(ApiError::not_found("Key not found"));
    }
    s.meta.revoke_key(id).await?;
    tracing::info!(key = %id, by = %me.user.id, "revoked a key");
    Ok(no_content())
}
