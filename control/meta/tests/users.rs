//! Users and sessions, run against both backends like the behaviour suite
//! (`tests/behaviour.rs`, whose harness in `support/` this shares): SQLite
//! in a temp dir and a real PostgreSQL.

#[allow(dead_code)]
mod support;

use std::time::Duration;

use sha2::{Digest, Sha256};
use support::{Case, Raw, Target};
use whippet_meta::{
    MetaError, MetaStore, NewUser, OrgId, Role, SessionLifetime, TOUCH_INTERVAL, User, UserId,
    UserUpdate,
};

macro_rules! case {
    ($f:ident) => {
        (stringify!($f), |t| Box::pin($f(t)) as support::CaseFuture)
    };
}

const CASES: &[Case] = &[
    case!(users_crud_and_isolation),
    case!(users_are_validated),
    case!(the_first_user_is_created_once),
    case!(sessions_sign_in_and_out),
    case!(session_tokens_are_stored_hashed),
    case!(sessions_expire_idle_and_absolute),
    case!(sessions_are_touched_at_most_once_a_minute),
    case!(disabled_users_lose_their_sessions),
    case!(deleting_a_user_deletes_its_sessions),
    case!(sessions_survive_reopening),
];

#[test]
fn sqlite_backend() {
    support::run_sqlite(CASES);
}

#[test]
fn postgres_backend() {
    support::run_postgres(CASES);
}

/// Every new public future must be `Send` (the server's runtime is
/// multi-threaded). Checked at compile time.
#[allow(dead_code)]
fn futures_are_send(s: MetaStore) {
    fn send<T: Send>(_: T) {}
    let u = new_user("a@b", Role::Admin);
    send(s.create_user(OrgId(1), &u));
    send(s.create_first_user(OrgId(1), &u));
    send(s.get_user(OrgId(1), UserId(1)));
    send(s.list_users(OrgId(1)));
    send(s.find_user_by_email("a@b"));
    send(s.update_user(OrgId(1), UserId(1), &UserUpdate::default()));
    send(s.delete_user(OrgId(1), UserId(1)));
    send(s.create_session(UserId(1), LONG));
    send(s.session_user("x", LONG));
    send(s.delete_session("x"));
    send(s.delete_user_sessions(UserId(1)));
}

/// A lifetime no case outlives.
const LONG: SessionLifetime = SessionLifetime {
    idle: Duration::from_secs(3600),
    absolute: Duration::from_secs(86_400),
};

/// A stand-in PHC string: the store does not verify hashes.
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.to_string(),
        name: format!("User {}", email.trim()),
        role,
        password_hash: HASH.to_string(),
    }
}

/// A store with its bootstrap org and a second org.
async fn two_orgs(t: &Target) -> (MetaStore, OrgId, OrgId) {
    let store = t.open().await;
    let a = store.bootstrap(None, None).await.unwrap().unwrap().org.id;
    let b = store.create_org("other").await.unwrap().id;
    (store, a, b)
}

async fn session_count(t: &Target) -> usize {
    t.raw_texts("SELECT CAST(COUNT(*) AS TEXT) FROM sessions")
        .await[0]
        .parse()
        .unwrap()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

// ------------------------------------------------------------------- users

async fn users_crud_and_isolation(t: Target) {
    let (store, a, b) = two_orgs(&t).await;
    let before = now_ms();
    let admin = store
        .create_user(a, &new_user("  Admin@LocalHost ", Role::Admin))
        .await
        .unwrap();
    assert_eq!(admin.email, "admin@localhost", "trimmed and lower-cased");
    assert_eq!(admin.org, a);
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(admin.disabled_at, None);
    assert!(admin.created_at >= before && admin.modified_at == admin.created_at);
    let reader = store
        .create_user(a, &new_user("reader@x.org", Role::ReadOnly))
        .await
        .unwrap();
    let other = store
        .create_user(b, &new_user("b@x.org", Role::Standard))
        .await
        .unwrap();
    assert!(admin.id < reader.id && reader.id < other.id);

    // Listing and getting never cross orgs.
    let ids = |users: Vec<User>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_users(a).await.unwrap()),
        vec![admin.id, reader.id]
    );
    assert_eq!(ids(store.list_users(b).await.unwrap()), vec![other.id]);
    assert_eq!(
        store.get_user(a, reader.id).await.unwrap().as_ref(),
        Some(&reader)
    );
    assert_eq!(store.get_user(b, reader.id).await.unwrap(), None);
    assert_eq!(store.get_user(a, UserId(9999)).await.unwrap(), None);

    // E-mails are unique across the store, whatever their case.
    for (org, email) in [(a, "ADMIN@localhost"), (b, "admin@localhost")] {
        let e = store
            .create_user(org, &new_user(email, Role::Standard))
            .await
            .unwrap_err();
        assert!(matches!(e, MetaError::Conflict(_)), "{e}");
    }
    let e = store
        .create_user(OrgId(999), &new_user("ghost@x", Role::Admin))
        .await
        .unwrap_err();
    assert!(matches!(e, MetaError::NotFound(_)), "{e}");

    // Found by e-mail in any case, with the hash.
    let creds = store
        .find_user_by_email("Reader@X.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.user, reader);
    assert_eq!(creds.password_hash, HASH);
    assert!(!format!("{creds:?}").contains(HASH));
    assert!(
        store
            .find_user_by_email("nobody@x.org")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.find_user_by_email("").await.unwrap().is_none());

    // Update: only the given fields change.
    let new_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA";
    let up = store
        .update_user(
            a,
            reader.id,
            &UserUpdate {
                name: Some("Rita Reader".into()),
                role: Some(Role::Standard),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (up.name.as_str(), up.role, up.email.as_str()),
        ("Rita Reader", Role::Standard, "reader@x.org")
    );
    assert!(up.modified_at >= reader.modified_at);
    let up = store
        .update_user(
            a,
            reader.id,
            &UserUpdate {
                password_hash: Some(new_hash.into()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(up.name, "Rita Reader");
    let creds = store
        .find_user_by_email("reader@x.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.password_hash, new_hash);
    // Another org's user is not there to update or delete.
    assert_eq!(
        store
            .update_user(b, reader.id, &UserUpdate::default())
            .await
            .unwrap(),
        None
    );
    assert!(!store.delete_user(b, reader.id).await.unwrap());

    assert!(store.delete_user(a, reader.id).await.unwrap());
    assert!(!store.delete_user(a, reader.id).await.unwrap());
    assert_eq!(store.get_user(a, reader.id).await.unwrap(), None);
    assert_eq!(ids(store.list_users(a).await.unwrap()), vec![admin.id]);
    // Its e-mail is free again; ids are never reused.
    let again = store
        .create_user(a, &new_user("reader@x.org", Role::ReadOnly))
        .await
        .unwrap();
    assert!(again.id > other.id);
}

async fn users_are_validated(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let bad_users = [
        NewUser {
            email: "not-an-address".into(),
            ..new_user("x", Role::Admin)
        },
        NewUser {
            name: String::new(),
            ..new_user("a@x", Role::Admin)
        },
        NewUser {
            name: " padded".into(),
            ..new_user("a@x", Role::Admin)
        },
        NewUser {
            name: "x".repeat(101),
            ..new_user("a@x", Role::Admin)
        },
        NewUser {
            password_hash: "plain-password".into(),
            ..new_user("a@x", Role::Admin)
        },
    ];
    for u in &bad_users {
        let e = store.create_user(a, u).await.unwrap_err();
        assert!(matches!(e, MetaError::Invalid(_)), "{u:?}: {e}");
        assert!(!e.to_string().contains("plain-password"), "{e}");
    }
    let u = store
        .create_user(a, &new_user("a@x", Role::Admin))
        .await
        .unwrap();
    for bad in [
        UserUpdate {
            name: Some("\tname".into()),
            ..UserUpdate::default()
        },
        UserUpdate {
            password_hash: Some(String::new()),
            ..UserUpdate::default()
        },
    ] {
        let e = store.update_user(a, u.id, &bad).await.unwrap_err();
        assert!(matches!(e, MetaError::Invalid(_)), "{e}");
    }
    assert_eq!(store.list_users(a).await.unwrap(), vec![u]);
}

async fn the_first_user_is_created_once(t: Target) {
    let (store, a, b) = two_orgs(&t).await;
    // Several processes race to create the first admin; one does.
    let mut tasks = Vec::new();
    for i in 0..4 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let s = t.open().await;
            s.create_first_user(a, &new_user(&format!("admin{i}@localhost"), Role::Admin))
                .await
                .unwrap()
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        if let Some(u) = task.await.unwrap() {
            created.push(u);
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(store.list_users(a).await.unwrap(), created);
    // Another org's users do not count.
    assert!(
        store
            .create_first_user(b, &new_user("first@b", Role::Admin))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .create_first_user(b, &new_user("second@b", Role::Admin))
            .await
            .unwrap()
            .is_none()
    );
}

// ---------------------------------------------------------------- sessions

async fn sessions_sign_in_and_out(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let u = store
        .create_user(a, &new_user("s@x", Role::Standard))
        .await
        .unwrap();
    let before = now_ms();
    let s1 = store.create_session(u.id, LONG).await.unwrap();
    let s2 = store.create_session(u.id, LONG).await.unwrap();
    assert_eq!(s1.token.len(), 64);
    assert!(s1.token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(s1.token, s2.token);
    assert!(!format!("{s1:?}").contains(&s1.token));
    assert!(s1.expires_at >= before + 3_600_000 && s1.expires_at <= now_ms() + 3_600_000);

    let found = store.session_user(&s1.token, LONG).await.unwrap().unwrap();
    assert_eq!(found.user, u);
    assert_eq!(found.org_name, "default");
    assert_eq!(found.expires_at, s1.expires_at);
    assert!(found.created_at >= before);
    for bad in ["", "nope", &"f".repeat(64), &"x".repeat(10_000)] {
        assert!(store.session_user(bad, LONG).await.unwrap().is_none());
    }

    assert!(store.delete_session(&s1.token).await.unwrap());
    assert!(!store.delete_session(&s1.token).await.unwrap());
    assert!(store.session_user(&s1.token, LONG).await.unwrap().is_none());
    assert!(store.session_user(&s2.token, LONG).await.unwrap().is_some());
    let s3 = store.create_session(u.id, LONG).await.unwrap();
    assert_eq!(store.delete_user_sessions(u.id).await.unwrap(), 2);
    assert!(store.session_user(&s2.token, LONG).await.unwrap().is_none());
    assert!(store.session_user(&s3.token, LONG).await.unwrap().is_none());
    assert_eq!(session_count(&t).await, 0);

    let e = store.create_session(UserId(9999), LONG).await.unwrap_err();
    assert!(matches!(e, MetaError::NotFound(_)), "{e}");
}

async fn session_tokens_are_stored_hashed(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let u = store
        .create_user(a, &new_user("h@x", Role::Admin))
        .await
        .unwrap();
    let s = store.create_session(u.id, LONG).await.unwrap();
    let stored = t.raw_texts("SELECT token_hash FROM sessions").await;
    assert_eq!(
        stored,
        vec![hex::encode(Sha256::digest(s.token.as_bytes()))]
    );
    // Nowhere in the database's files (SQLite) or tables (PostgreSQL).
    let all = match &t.raw {
        Raw::Sqlite(_) => t.raw_dump().await,
        Raw::Postgres(_) => {
            let mut out = String::new();
            for table in ["sessions", "users"] {
                let sql = format!("SELECT CAST(row_to_json(t) AS TEXT) FROM {table} t");
                out.push_str(&t.raw_texts(&sql).await.join("\n"));
            }
            out
        }
    };
    assert!(all.contains(&stored[0]), "the dump reads the sessions");
    assert!(!all.contains(&s.token), "the token itself is stored");
}

async fn sessions_expire_idle_and_absolute(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let u = store
        .create_user(a, &new_user("e@x", Role::Admin))
        .await
        .unwrap();
    // Idle: a short lifetime runs out.
    let short = SessionLifetime {
        idle: Duration::from_millis(200),
        absolute: Duration::from_secs(3600),
    };
    let s = store.create_session(u.id, short).await.unwrap();
    assert!(store.session_user(&s.token, short).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.session_user(&s.token, short).await.unwrap().is_none());
    // An expired session is deleted when the user signs in again.
    assert_eq!(session_count(&t).await, 1);
    let fresh = store.create_session(u.id, LONG).await.unwrap();
    assert_eq!(session_count(&t).await, 1);

    // Absolute: sign-in long ago; the next touch caps the expiry at sign-in
    // plus the absolute lifetime, which has passed.
    t.raw_execute(
        "UPDATE sessions SET created_at = created_at - 86400000, last_seen_at = last_seen_at - 120000",
    )
    .await;
    let seen = store
        .session_user(&fresh.token, LONG)
        .await
        .unwrap()
        .unwrap();
    assert!(seen.expires_at <= now_ms(), "{seen:?}");
    assert!(
        store
            .session_user(&fresh.token, LONG)
            .await
            .unwrap()
            .is_none()
    );
}

async fn sessions_are_touched_at_most_once_a_minute(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let u = store
        .create_user(a, &new_user("m@x", Role::Admin))
        .await
        .unwrap();
    let s = store.create_session(u.id, LONG).await.unwrap();
    let first = store.session_user(&s.token, LONG).await.unwrap().unwrap();
    let stored = || async {
        t.raw_texts(
            "SELECT CAST(last_seen_at AS TEXT) || ' ' || CAST(expires_at AS TEXT) FROM sessions",
        )
        .await
        .remove(0)
    };
    let at_creation = stored().await;
    assert_eq!(
        at_creation,
        format!("{} {}", first.created_at, s.expires_at),
        "just created: nothing to touch"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.session_user(&s.token, LONG).await.unwrap().unwrap();
    assert_eq!(stored().await, at_creation, "within a minute: no write");

    // Last seen more than a minute ago: this use is recorded and the
    // expiry slides to an hour from now.
    let back = TOUCH_INTERVAL.as_millis() as i64 + 1000;
    t.raw_execute(&format!(
        "UPDATE sessions SET last_seen_at = last_seen_at - {back}, expires_at = expires_at - {back}"
    ))
    .await;
    let before = now_ms();
    let touched = store.session_user(&s.token, LONG).await.unwrap().unwrap();
    assert!(touched.last_seen_at >= before);
    assert_eq!(touched.expires_at, touched.last_seen_at + 3_600_000);
    assert_eq!(
        stored().await,
        format!("{} {}", touched.last_seen_at, touched.expires_at)
    );
}

async fn disabled_users_lose_their_sessions(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let u = store
        .create_user(a, &new_user("d@x", Role::Standard))
        .await
        .unwrap();
    let keep = store
        .create_user(a, &new_user("keep@x", Role::Standard))
        .await
        .unwrap();
    let s = store.create_session(u.id, LONG).await.unwrap();
    let k = store.create_session(keep.id, LONG).await.unwrap();
    let disable = UserUpdate {
        disabled: Some(true),
        ..UserUpdate::default()
    };
    let d = store.update_user(a, u.id, &disable).await.unwrap().unwrap();
    let at = d.disabled_at.expect("disabled");
    assert!(store.session_user(&s.token, LONG).await.unwrap().is_none());
    assert_eq!(session_count(&t).await, 1, "its sessions are deleted");
    assert!(store.session_user(&k.token, LONG).await.unwrap().is_some());
    // Still listed and found, as disabled; a second disable keeps the time.
    let creds = store.find_user_by_email("d@x").await.unwrap().unwrap();
    assert_eq!(creds.user.disabled_at, Some(at));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let d2 = store.update_user(a, u.id, &disable).await.unwrap().unwrap();
    assert_eq!(d2.disabled_at, Some(at));
    // A session created for a disabled user (a sign-in racing the disable)
    // is refused.
    let raced = store.create_session(u.id, LONG).await.unwrap();
    assert!(
        store
            .session_user(&raced.token, LONG)
            .await
            .unwrap()
            .is_none()
    );

    let enabled = store
        .update_user(
            a,
            u.id,
            &UserUpdate {
                disabled: Some(false),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enabled.disabled_at, None);
    let s = store.create_session(u.id, LONG).await.unwrap();
    assert_eq!(
        store
            .session_user(&s.token, LONG)
            .await
            .unwrap()
            .unwrap()
            .user
            .id,
        u.id
    );
}

async fn deleting_a_user_deletes_its_sessions(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let u = store
        .create_user(a, &new_user("del@x", Role::Standard))
        .await
        .unwrap();
    let s = store.create_session(u.id, LONG).await.unwrap();
    store.create_session(u.id, LONG).await.unwrap();
    assert_eq!(session_count(&t).await, 2);
    assert!(store.delete_user(a, u.id).await.unwrap());
    assert_eq!(session_count(&t).await, 0);
    assert!(store.session_user(&s.token, LONG).await.unwrap().is_none());
}

async fn sessions_survive_reopening(t: Target) {
    let (store, a, _) = two_orgs(&t).await;
    let u = store
        .create_user(a, &new_user("r@x", Role::ReadOnly))
        .await
        .unwrap();
    let s = store.create_session(u.id, LONG).await.unwrap();
    drop(store);
    let other = t.open().await;
    let found = other.session_user(&s.token, LONG).await.unwrap().unwrap();
    assert_eq!(found.user.role, Role::ReadOnly);
    // A sign-out through one process holds for the other.
    let first = t.open().await;
    assert!(first.delete_session(&s.token).await.unwrap());
    assert!(other.session_user(&s.token, LONG).await.unwrap().is_none());
}
