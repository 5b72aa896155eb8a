//! The behaviour suite of the metadata store, written once and run against
//! both backends: SQLite in a temp dir and a real PostgreSQL (a private
//! cluster, see `whippet_meta::testing`). Backend-specific checks follow the
//! shared cases.

mod support;

use std::collections::HashSet;

use serde_json::json;
use sha2::{Digest, Sha256};
use support::{Case, Raw, Target};
use whippet_meta::{
    CheckStatus, Evaluation, EventQuery, KeyKind, MetaError, MetaStore, NewEvent, NewNotification,
    NewTransition, OrgId, SCHEMA_VERSION, Webhook,
};

macro_rules! case {
    ($f:ident) => {
        (stringify!($f), |t| Box::pin($f(t)) as support::CaseFuture)
    };
}

const CASES: &[Case] = &[
    // Bootstrap cases come first in their own fresh database each.
    case!(bootstrap_creates_once),
    case!(bootstrap_with_given_keys),
    case!(bootstrap_is_race_free),
    case!(keys_create_list_verify_revoke),
    case!(revoke_reaches_other_processes_through_the_database),
    case!(secrets_are_never_stored_only_hashes),
    case!(org_names_are_unique_and_validated),
    case!(events_round_trip_and_ids),
    case!(events_time_range_and_order),
    case!(events_filters),
    case!(events_paging),
    case!(events_aggregation_by_parent),
    case!(events_are_isolated_between_orgs),
    case!(check_runs_keep_the_last_status),
    case!(reopening_keeps_everything),
    case!(concurrent_writers_get_unique_ids),
    case!(newer_schema_is_refused),
    case!(monitors_crud_and_isolation),
    case!(monitor_evaluations_are_atomic_and_versioned),
    case!(webhooks_create_replace_and_validate),
    case!(downtimes_crud_cancel_and_isolation),
    case!(downtimes_listing_for_the_scheduler),
];

#[test]
fn sqlite_backend() {
    support::run_sqlite(CASES);
}

#[test]
fn postgres_backend() {
    support::run_postgres(CASES);
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Every public future must be `Send`: the HTTP server runs them on a
/// multi-threaded runtime. Checked at compile time.
#[allow(dead_code)]
fn futures_are_send(s: MetaStore) {
    fn send<T: Send>(_: T) {}
    let q = EventQuery::range(0, 1);
    let e = NewEvent::default();
    send(MetaStore::open("x"));
    send(s.bootstrap(None, None));
    send(s.create_org("x"));
    send(s.list_orgs());
    send(s.create_key(OrgId(1), KeyKind::Api, "x"));
    send(s.list_keys(None));
    send(s.revoke_key(whippet_meta::KeyId(1)));
    send(s.verify_key(KeyKind::Api, "x"));
    send(s.insert_event(OrgId(1), &e));
    send(s.list_events(OrgId(1), &q));
    let def = json!({});
    send(s.create_monitor(OrgId(1), &def));
    send(s.get_monitor(OrgId(1), 1));
    send(s.list_monitors(None));
    send(s.update_monitor(OrgId(1), 1, &def));
    send(s.delete_monitor(OrgId(1), 1));
    send(s.monitor_groups(1));
    send(s.record_evaluation(&Evaluation::default()));
    send(s.transitions(OrgId(1), 1, 0, 10));
    send(s.due_notifications(0, 10));
    send(s.notifications_of(1));
    send(s.notification_delivered(1));
    send(s.notification_failed(1, "x", 0));
    let w = Webhook {
        name: String::new(),
        url: String::new(),
        payload: None,
        custom_headers: None,
        encode_as: String::new(),
    };
    send(s.put_webhook(OrgId(1), &w, false));
    send(s.get_webhook(OrgId(1), "x"));
    send(s.list_webhooks(OrgId(1)));
    send(s.delete_webhook(OrgId(1), "x"));
    send(s.get_event(OrgId(1), 1));
    send(s.record_check_run(OrgId(1), "c", None, &[], 0, "", 0));
    send(s.check_statuses(OrgId(1), None));
    send(s.create_downtime(OrgId(1), &def));
    send(s.get_downtime(OrgId(1), 1));
    send(s.list_downtimes(None, true));
    send(s.update_downtime(OrgId(1), 1, &def));
    send(s.cancel_downtime(OrgId(1), 1));
}

// ---------------------------------------------------------------- bootstrap

async fn bootstrap_creates_once(t: Target) {
    let store = t.open().await;
    assert!(store.list_orgs().await.unwrap().is_empty());
    let boot = store
        .bootstrap(None, None)
        .await
        .unwrap()
        .expect("first bootstrap");
    assert_eq!(boot.org.name, "default");
    assert!(is_lower_hex(&boot.api_key, 32), "API key format");
    assert!(is_lower_hex(&boot.app_key, 40), "app key format");
    let shown = format!("{boot:?}");
    assert!(
        !shown.contains(&boot.api_key) && !shown.contains(&boot.app_key),
        "{shown}"
    );

    assert_eq!(
        store.verify_key(KeyKind::Api, &boot.api_key).await.unwrap(),
        Some(boot.org.id)
    );
    assert_eq!(
        store.verify_key(KeyKind::App, &boot.app_key).await.unwrap(),
        Some(boot.org.id)
    );
    // The wrong kind does not verify.
    assert_eq!(
        store.verify_key(KeyKind::App, &boot.api_key).await.unwrap(),
        None
    );
    assert_eq!(
        store.verify_key(KeyKind::Api, &boot.app_key).await.unwrap(),
        None
    );

    assert!(store.bootstrap(None, None).await.unwrap().is_none());
    assert!(
        store
            .bootstrap(Some("another-api-key-1234"), None)
            .await
            .unwrap()
            .is_none()
    );
    // Given keys are ignored once orgs exist.
    assert_eq!(
        store
            .verify_key(KeyKind::Api, "another-api-key-1234")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.list_orgs().await.unwrap(), vec![boot.org.clone()]);
    let keys = store.list_keys(None).await.unwrap();
    assert_eq!(keys.len(), 2);
    for k in &keys {
        assert_eq!(k.org, boot.org.id);
        assert_eq!(k.name, "bootstrap");
        assert_eq!(k.revoked_at, None);
        let secret = match k.kind {
            KeyKind::Api => &boot.api_key,
            KeyKind::App => &boot.app_key,
        };
        assert_eq!(k.last4, secret[secret.len() - 4..]);
    }
    // Another process opening the store sees the org and does not bootstrap.
    let other = t.open().await;
    assert!(other.bootstrap(None, None).await.unwrap().is_none());
    assert_eq!(
        other.verify_key(KeyKind::Api, &boot.api_key).await.unwrap(),
        Some(boot.org.id)
    );
}

async fn bootstrap_with_given_keys(t: Target) {
    let store = t.open().await;
    for (api, app) in [
        (Some(""), None),
        (Some("has space"), None),
        (None, Some("tab\tkey")),
        (None, Some(&*"x".repeat(129))),
        (Some("naïve"), Some("fine-app-key")),
    ] {
        let err = store.bootstrap(api, app).await.unwrap_err();
        assert!(matches!(err, MetaError::Invalid(_)), "{err}");
        assert_eq!(err.http_status(), 400);
        if let Some(api) = api.filter(|k| !k.is_empty()) {
            assert!(
                !err.to_string().contains(api),
                "error quotes the key: {err}"
            );
        }
    }
    assert!(
        store.list_orgs().await.unwrap().is_empty(),
        "a rejected bootstrap created an org"
    );

    // A short API key (shows no tail) and a long application key.
    let api = "short-key";
    let app = "Given-App-Key_with.punct~!";
    // Tried before it exists: a cached "no", which bootstrap must forget.
    assert_eq!(store.verify_key(KeyKind::Api, api).await.unwrap(), None);
    let boot = store
        .bootstrap(Some(api), Some(app))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((boot.api_key.as_str(), boot.app_key.as_str()), (api, app));
    assert_eq!(
        store.verify_key(KeyKind::Api, api).await.unwrap(),
        Some(boot.org.id)
    );
    assert_eq!(
        store.verify_key(KeyKind::App, app).await.unwrap(),
        Some(boot.org.id)
    );
    let keys = store.list_keys(Some(boot.org.id)).await.unwrap();
    let last4 = |kind| keys.iter().find(|k| k.kind == kind).unwrap().last4.clone();
    assert_eq!(last4(KeyKind::Api), "");
    assert_eq!(last4(KeyKind::App), "ct~!");
}

async fn bootstrap_is_race_free(t: Target) {
    // Four contenders: two clones of one store (one connection) and two
    // more stores (separate connections, like separate servers).
    let a = t.open().await;
    let b = t.open().await;
    let c = t.open().await;
    let contenders = [a.clone(), a, b, c];
    let handles: Vec<_> = contenders
        .into_iter()
        .map(|s| tokio::spawn(async move { s.bootstrap(None, None).await }))
        .collect();
    let mut created = Vec::new();
    for h in handles {
        if let Some(boot) = h.await.unwrap().unwrap() {
            created.push(boot);
        }
    }
    assert_eq!(created.len(), 1, "exactly one bootstrap wins");
    let store = t.open().await;
    assert_eq!(store.list_orgs().await.unwrap().len(), 1);
    assert_eq!(store.list_keys(None).await.unwrap().len(), 2);
    assert_eq!(
        store
            .verify_key(KeyKind::Api, &created[0].api_key)
            .await
            .unwrap(),
        Some(created[0].org.id)
    );
}

// --------------------------------------------------------------------- keys

async fn keys_create_list_verify_revoke(t: Target) {
    let store = t.open().await;
    let acme = store.create_org("acme").await.unwrap();
    let other = store.create_org("other").await.unwrap();

    let (api, api_secret) = store
        .create_key(acme.id, KeyKind::Api, "agent")
        .await
        .unwrap();
    let (app, app_secret) = store.create_key(acme.id, KeyKind::App, "ci").await.unwrap();
    let (o_api, o_secret) = store
        .create_key(other.id, KeyKind::Api, "agent")
        .await
        .unwrap();
    assert!(is_lower_hex(&api_secret, 32) && is_lower_hex(&o_secret, 32));
    assert!(is_lower_hex(&app_secret, 40));
    assert_eq!(api.kind, KeyKind::Api);
    assert_eq!(app.kind, KeyKind::App);
    assert_eq!(api.last4, api_secret[28..]);
    assert_eq!(api.org, acme.id);
    assert_eq!(api.name, "agent");
    assert!(api.created_at > 1_600_000_000_000, "created_at is Unix ms");
    assert!(api.id != app.id && app.id != o_api.id);

    let all = store.list_keys(None).await.unwrap();
    assert_eq!(all, vec![api.clone(), app.clone(), o_api.clone()]);
    assert_eq!(
        store.list_keys(Some(acme.id)).await.unwrap(),
        vec![api.clone(), app.clone()]
    );
    assert_eq!(store.list_keys(Some(OrgId(4242))).await.unwrap(), vec![]);

    assert_eq!(
        store.verify_key(KeyKind::Api, &api_secret).await.unwrap(),
        Some(acme.id)
    );
    assert_eq!(
        store.verify_key(KeyKind::App, &app_secret).await.unwrap(),
        Some(acme.id)
    );
    assert_eq!(
        store.verify_key(KeyKind::Api, &o_secret).await.unwrap(),
        Some(other.id)
    );
    assert_eq!(
        store.verify_key(KeyKind::App, &api_secret).await.unwrap(),
        None
    );
    for junk in ["", " ", "nope", &"a".repeat(500), "dd\u{0}key"] {
        assert_eq!(store.verify_key(KeyKind::Api, junk).await.unwrap(), None);
    }
    // Keys are case-sensitive.
    assert_eq!(
        store
            .verify_key(KeyKind::Api, &api_secret.to_uppercase())
            .await
            .unwrap(),
        None
    );

    // Revoke: at once in this process, even though the answer is cached.
    assert_eq!(
        store.verify_key(KeyKind::Api, &api_secret).await.unwrap(),
        Some(acme.id)
    );
    store.revoke_key(api.id).await.unwrap();
    assert_eq!(
        store.verify_key(KeyKind::Api, &api_secret).await.unwrap(),
        None
    );
    assert_eq!(
        store.verify_key(KeyKind::App, &app_secret).await.unwrap(),
        Some(acme.id)
    );
    let revoked_at = store.list_keys(Some(acme.id)).await.unwrap()[0].revoked_at;
    assert!(revoked_at.is_some());
    // Revoking again succeeds and keeps the first time.
    store.revoke_key(api.id).await.unwrap();
    assert_eq!(
        store.list_keys(Some(acme.id)).await.unwrap()[0].revoked_at,
        revoked_at
    );
    let err = store
        .revoke_key(whippet_meta::KeyId(99_999))
        .await
        .unwrap_err();
    assert!(matches!(err, MetaError::NotFound(_)), "{err}");
    assert_eq!(err.http_status(), 404);

    let err = store
        .create_key(OrgId(4242), KeyKind::Api, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, MetaError::NotFound(_)), "{err}");
    for bad in ["", " padded", "line\nbreak", &"n".repeat(101)] {
        let err = store
            .create_key(acme.id, KeyKind::Api, bad)
            .await
            .unwrap_err();
        assert!(matches!(err, MetaError::Invalid(_)), "{bad:?}: {err}");
    }
    // A fresh process agrees.
    let fresh = t.open().await;
    assert_eq!(
        fresh.verify_key(KeyKind::Api, &api_secret).await.unwrap(),
        None
    );
    assert_eq!(
        fresh.verify_key(KeyKind::App, &app_secret).await.unwrap(),
        Some(acme.id)
    );
}

async fn revoke_reaches_other_processes_through_the_database(t: Target) {
    let a = t.open().await;
    let b = t.open().await;
    let org = a.create_org("shared").await.unwrap();
    let (key, secret) = a.create_key(org.id, KeyKind::Api, "k").await.unwrap();
    // `b` has never seen the key; it finds it in the database.
    assert_eq!(
        b.verify_key(KeyKind::Api, &secret).await.unwrap(),
        Some(org.id)
    );
    a.revoke_key(key.id).await.unwrap();
    assert_eq!(a.verify_key(KeyKind::Api, &secret).await.unwrap(), None);
    // `b` learns of the revoke when its cached answer expires
    // (POSITIVE_TTL, 10 s; the expiry itself is unit-tested in key_cache).
    // Until then it may still accept the key; that is the documented bound.
    assert!(whippet_meta::POSITIVE_TTL.as_secs() <= 10);
    // A process without a cached answer rejects it at once.
    let c = t.open().await;
    assert_eq!(c.verify_key(KeyKind::Api, &secret).await.unwrap(), None);
}

async fn secrets_are_never_stored_only_hashes(t: Target) {
    let store = t.open().await;
    let boot = store
        .bootstrap(Some("Bootstrap-Given-Api-Key-0001"), None)
        .await
        .unwrap()
        .unwrap();
    let (_, api) = store
        .create_key(boot.org.id, KeyKind::Api, "a")
        .await
        .unwrap();
    let (_, app) = store
        .create_key(boot.org.id, KeyKind::App, "b")
        .await
        .unwrap();
    // Use them, so that any lookup path had a chance to write something.
    for (kind, s) in [
        (KeyKind::Api, &api),
        (KeyKind::App, &app),
        (KeyKind::Api, &boot.api_key),
    ] {
        assert!(store.verify_key(kind, s).await.unwrap().is_some());
    }
    let secrets = [&boot.api_key, &boot.app_key, &api, &app];

    let hashes = t.stored_hashes().await;
    assert_eq!(hashes.len(), 4);
    for s in secrets {
        assert!(
            hashes.contains(&sha256_hex(s)),
            "the SHA-256 hex of each key is stored"
        );
    }
    let dump = t.raw_dump().await;
    assert!(!dump.is_empty());
    for s in secrets {
        assert!(
            !dump.contains(s.as_str()),
            "a secret is stored in the database"
        );
    }
    if let Raw::Sqlite(path) = &t.raw {
        // Also after a checkpoint has moved the WAL into the main file.
        drop(store);
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        drop(conn);
        let bytes = std::fs::read(path).unwrap();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a secret is in the SQLite file"
            );
        }
        assert!(
            bytes.windows(64).any(|w| w == sha256_hex(&api).as_bytes()),
            "the hash is in the SQLite file"
        );
    }

    // Nothing the API returns carries a secret or a hash.
    let store = t.open().await;
    let listed = format!("{:?}", store.list_keys(None).await.unwrap());
    for s in secrets {
        assert!(!listed.contains(s.as_str()), "{listed}");
        assert!(!listed.contains(&sha256_hex(s)), "{listed}");
    }
}

// --------------------------------------------------------------------- orgs

async fn org_names_are_unique_and_validated(t: Target) {
    let store = t.open().await;
    let a = store.create_org("acme").await.unwrap();
    let b = store.create_org("Acme").await.unwrap();
    assert_ne!(a.id, b.id);
    assert!(a.created_at > 1_600_000_000_000);
    let err = store.create_org("acme").await.unwrap_err();
    assert!(matches!(err, MetaError::Conflict(_)), "{err}");
    assert_eq!(err.http_status(), 409);
    for bad in ["", " acme", "acme ", "a\tb", &"o".repeat(101)] {
        let err = store.create_org(bad).await.unwrap_err();
        assert!(matches!(err, MetaError::Invalid(_)), "{bad:?}: {err}");
    }
    assert!(
        store.create_org(&"é".repeat(100)).await.is_ok(),
        "100 characters, 200 bytes"
    );
    let names: Vec<String> = store
        .list_orgs()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        names,
        vec!["acme".to_string(), "Acme".into(), "é".repeat(100)]
    );
    // Bootstrap does nothing once an org exists.
    assert!(store.bootstrap(None, None).await.unwrap().is_none());
}

// ------------------------------------------------------------------- events

fn ev(title: &str, at: i64) -> NewEvent {
    NewEvent {
        title: title.to_string(),
        text: format!("{title} text"),
        date_happened: at,
        ..NewEvent::default()
    }
}

fn titles(events: &[whippet_meta::Event]) -> Vec<&str> {
    events.iter().map(|e| e.title.as_str()).collect()
}

async fn events_round_trip_and_ids(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap();
    let full = NewEvent {
        title: "Deploy".into(),
        text: "%%% \nDeployed **v1.2**\n %%%".into(),
        date_happened: 1_795_644_497_000,
        priority: Some("low".into()),
        host: Some("web-1".into()),
        tags: vec!["env:prod".into(), "b".into(), "env:prod".into(), "a".into()],
        alert_type: Some("success".into()),
        aggregation_key: Some("deploy".into()),
        source_type_name: Some("my_apps".into()),
        related_event_id: Some(123),
        device_name: Some("sda1".into()),
        extra: json!({"category": "change", "attributes": {"new_value": {"enabled": true}}}),
    };
    let stored = store.insert_event(org.id, &full).await.unwrap();
    assert!(stored.id > 0);
    assert!(stored.created_at > 1_600_000_000_000);
    assert_eq!(stored.title, full.title);
    assert_eq!(stored.tags, full.tags, "tags kept as given, in order");
    assert_eq!(stored.extra, full.extra);
    let got = store.get_event(org.id, stored.id).await.unwrap().unwrap();
    assert_eq!(got, stored);

    let bare = store.insert_event(org.id, &ev("bare", 5)).await.unwrap();
    assert!(bare.id > stored.id, "ids increase");
    let got = store.get_event(org.id, bare.id).await.unwrap().unwrap();
    assert_eq!(got.priority, None);
    assert_eq!(got.extra, serde_json::Value::Null);
    assert!(got.tags.is_empty());
    assert_eq!(store.get_event(org.id, 987_654).await.unwrap(), None);

    let err = store
        .insert_event(OrgId(4242), &ev("x", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, MetaError::NotFound(_)), "{err}");
}

async fn events_time_range_and_order(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap();
    for (title, at) in [
        ("t100", 100),
        ("t300", 300),
        ("t200", 200),
        ("t200b", 200),
        ("t400", 400),
    ] {
        store.insert_event(org.id, &ev(title, at)).await.unwrap();
    }
    let list = store
        .list_events(org.id, &EventQuery::range(0, 1000))
        .await
        .unwrap();
    // Newest first; equal times: the later insert first.
    assert_eq!(titles(&list), ["t400", "t300", "t200b", "t200", "t100"]);
    // Both ends inclusive.
    let list = store
        .list_events(org.id, &EventQuery::range(200, 300))
        .await
        .unwrap();
    assert_eq!(titles(&list), ["t300", "t200b", "t200"]);
    let list = store
        .list_events(org.id, &EventQuery::range(201, 299))
        .await
        .unwrap();
    assert!(list.is_empty());
    let list = store
        .list_events(org.id, &EventQuery::range(400, 100))
        .await
        .unwrap();
    assert!(list.is_empty(), "an inverted range is empty");
}

async fn events_filters(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap();
    let mk = |title: &str, priority: Option<&str>, source: Option<&str>, tags: &[&str]| NewEvent {
        priority: priority.map(str::to_string),
        source_type_name: source.map(str::to_string),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..ev(title, 1000)
    };
    for e in [
        mk("a", None, Some("my_apps"), &["env:prod", "team:a"]),
        mk("b", Some("normal"), Some("Docker"), &["env:prod"]),
        mk("c", Some("low"), Some("docker"), &["env:dev", "team:a"]),
        mk("d", Some("low"), None, &[]),
    ] {
        store.insert_event(org.id, &e).await.unwrap();
    }
    let q = |f: &dyn Fn(&mut EventQuery)| {
        let mut q = EventQuery::range(0, 2000);
        f(&mut q);
        q
    };
    let list = |q: EventQuery| {
        let store = store.clone();
        async move {
            let mut t: Vec<String> = store
                .list_events(org.id, &q)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.title)
                .collect();
            t.sort();
            t
        }
    };
    // Priority: no priority counts as normal.
    assert_eq!(
        list(q(&|q| q.priority = Some("normal".into()))).await,
        ["a", "b"]
    );
    assert_eq!(
        list(q(&|q| q.priority = Some("low".into()))).await,
        ["c", "d"]
    );
    assert_eq!(list(q(&|q| q.priority = Some("all".into()))).await.len(), 4);
    let err = store
        .list_events(org.id, &q(&|q| q.priority = Some("high".into())))
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 400, "{err}");
    // Sources: any of them, ignoring ASCII case.
    assert_eq!(
        list(q(&|q| q.sources = vec!["DOCKER".into()])).await,
        ["b", "c"]
    );
    assert_eq!(
        list(q(&|q| q.sources = vec!["my_apps".into(), "docker".into()])).await,
        ["a", "b", "c"]
    );
    assert_eq!(
        list(q(&|q| q.sources = vec!["nagios".into()])).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(q(&|q| q.sources = vec!["".into()])).await.len(),
        4,
        "empty ignored"
    );
    // Tags: all must match, exactly.
    assert_eq!(
        list(q(&|q| q.tags = vec!["env:prod".into()])).await,
        ["a", "b"]
    );
    assert_eq!(
        list(q(&|q| q.tags = vec!["env:prod".into(), "team:a".into()])).await,
        ["a"]
    );
    assert_eq!(
        list(q(&|q| q.tags = vec!["team:a".into(), "team:a".into()])).await,
        ["a", "c"]
    );
    assert_eq!(
        list(q(&|q| q.tags = vec!["env".into()])).await,
        Vec::<String>::new()
    );
    // Combined.
    assert_eq!(
        list(q(&|q| {
            q.tags = vec!["team:a".into()];
            q.sources = vec!["docker".into()];
            q.priority = Some("low".into());
        }))
        .await,
        ["c"]
    );
}

async fn events_paging(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap();
    for i in 0..7 {
        store
            .insert_event(org.id, &ev(&format!("e{i}"), 1000 + i))
            .await
            .unwrap();
    }
    let page = |limit: usize, page: usize| {
        let store = store.clone();
        async move {
            let mut q = EventQuery::range(0, 10_000);
            q.limit = limit;
            q.page = page;
            titles(&store.list_events(org.id, &q).await.unwrap())
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(3, 0).await, ["e6", "e5", "e4"]);
    assert_eq!(page(3, 1).await, ["e3", "e2", "e1"]);
    assert_eq!(page(3, 2).await, ["e0"]);
    assert!(page(3, 3).await.is_empty());
    assert_eq!(
        page(0, 0).await.len(),
        7,
        "limit 0 means the default (1000)"
    );
    assert!(page(0, 1).await.is_empty());
    assert!(page(usize::MAX, usize::MAX).await.is_empty());
}

async fn events_aggregation_by_parent(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap();
    let parent_old = store
        .insert_event(org.id, &ev("parent-old", 100))
        .await
        .unwrap();
    let parent_in = store
        .insert_event(org.id, &ev("parent-in", 1000))
        .await
        .unwrap();
    let child = |title: &str, parent: i64| NewEvent {
        related_event_id: Some(parent),
        ..ev(title, 1500)
    };
    store
        .insert_event(org.id, &child("child-of-old", parent_old.id))
        .await
        .unwrap();
    store
        .insert_event(org.id, &child("child-of-in", parent_in.id))
        .await
        .unwrap();
    store
        .insert_event(org.id, &child("child-of-missing", 999_999))
        .await
        .unwrap();

    let mut q = EventQuery::range(500, 2000);
    let list = store.list_events(org.id, &q).await.unwrap();
    assert_eq!(
        titles(&list),
        ["child-of-missing", "child-of-in", "parent-in"]
    );
    q.unaggregated = true;
    let list = store.list_events(org.id, &q).await.unwrap();
    assert_eq!(
        titles(&list),
        [
            "child-of-missing",
            "child-of-in",
            "child-of-old",
            "parent-in"
        ]
    );
}

async fn events_are_isolated_between_orgs(t: Target) {
    let store = t.open().await;
    let a = store.create_org("a").await.unwrap();
    let b = store.create_org("b").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let e = NewEvent {
            tags: vec!["shared:tag".into()],
            source_type_name: Some("src".into()),
            ..ev(&format!("a{i}"), 100 + i)
        };
        ids.push(store.insert_event(a.id, &e).await.unwrap().id);
    }
    let b_event = store.insert_event(b.id, &ev("b0", 100)).await.unwrap();
    let all = EventQuery::range(i64::MIN, i64::MAX);
    assert_eq!(
        titles(&store.list_events(b.id, &all).await.unwrap()),
        ["b0"]
    );
    let mut tagged = all.clone();
    tagged.tags = vec!["shared:tag".into()];
    tagged.sources = vec!["src".into()];
    tagged.unaggregated = true;
    assert!(store.list_events(b.id, &tagged).await.unwrap().is_empty());
    assert_eq!(store.list_events(a.id, &tagged).await.unwrap().len(), 3);
    for id in ids {
        assert_eq!(store.get_event(b.id, id).await.unwrap(), None);
        assert!(store.get_event(a.id, id).await.unwrap().is_some());
    }
    assert_eq!(store.get_event(a.id, b_event.id).await.unwrap(), None);
    assert!(
        store
            .list_events(OrgId(4242), &all)
            .await
            .unwrap()
            .is_empty()
    );
}

// --------------------------------------------------------------- check runs

async fn check_runs_keep_the_last_status(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap();
    let other = store.create_org("other").await.unwrap();
    let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let rec = |check: &'static str,
               host: Option<&'static str>,
               t: Vec<String>,
               status: u8,
               msg: &'static str,
               ts: i64| {
        let store = store.clone();
        async move {
            store
                .record_check_run(org.id, check, host, &t, status, msg, ts)
                .await
                .unwrap()
        }
    };
    rec(
        "app.up",
        Some("web-1"),
        tags(&["env:prod", "az:1"]),
        0,
        "fine",
        1000,
    )
    .await;
    // The same series, tags in another order and repeated: replaces.
    rec(
        "app.up",
        Some("web-1"),
        tags(&["az:1", "env:prod", "az:1"]),
        2,
        "down",
        2000,
    )
    .await;
    // Older: ignored.
    rec(
        "app.up",
        Some("web-1"),
        tags(&["env:prod", "az:1"]),
        1,
        "stale",
        1500,
    )
    .await;
    // Same timestamp: last write wins.
    rec(
        "app.up",
        Some("web-1"),
        tags(&["env:prod", "az:1"]),
        1,
        "flapping",
        2000,
    )
    .await;
    // Other series: another host, no host, other tags, another check.
    rec(
        "app.up",
        Some("web-2"),
        tags(&["env:prod", "az:1"]),
        0,
        "",
        2000,
    )
    .await;
    rec("app.up", None, tags(&[]), 3, "no host", 10).await;
    rec(
        "app.up",
        Some(""),
        tags(&[]),
        0,
        "empty host is no host",
        20,
    )
    .await;
    rec("app.up", Some("web-1"), tags(&["env:dev"]), 0, "dev", 30).await;
    rec("db.up", Some("db-1"), tags(&[]), 0, "ok", 40).await;
    store
        .record_check_run(other.id, "app.up", Some("web-1"), &[], 2, "other org", 50)
        .await
        .unwrap();

    let all = store.check_statuses(org.id, None).await.unwrap();
    let st =
        |check: &str, host: Option<&str>, t: &[&str], status: u8, message: &str, ts_ms: i64| {
            CheckStatus {
                check: check.into(),
                host: host.map(str::to_string),
                tags: tags(t),
                status,
                message: message.into(),
                ts_ms,
            }
        };
    assert_eq!(
        all,
        vec![
            st("app.up", None, &[], 0, "empty host is no host", 20),
            st(
                "app.up",
                Some("web-1"),
                &["az:1", "env:prod"],
                1,
                "flapping",
                2000
            ),
            st("app.up", Some("web-1"), &["env:dev"], 0, "dev", 30),
            st("app.up", Some("web-2"), &["az:1", "env:prod"], 0, "", 2000),
            st("db.up", Some("db-1"), &[], 0, "ok", 40),
        ]
    );
    let db = store.check_statuses(org.id, Some("db.up")).await.unwrap();
    assert_eq!(db, vec![st("db.up", Some("db-1"), &[], 0, "ok", 40)]);
    assert!(
        store
            .check_statuses(org.id, Some("nope"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.check_statuses(other.id, None).await.unwrap(),
        vec![st("app.up", Some("web-1"), &[], 2, "other org", 50)]
    );

    let err = store
        .record_check_run(org.id, "x", None, &[], 4, "", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, MetaError::Invalid(_)), "{err}");
    let err = store
        .record_check_run(org.id, "", None, &[], 0, "", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, MetaError::Invalid(_)), "{err}");
    let err = store
        .record_check_run(OrgId(4242), "x", None, &[], 0, "", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, MetaError::NotFound(_)), "{err}");
}

// ------------------------------------------------------------ durability etc.

async fn reopening_keeps_everything(t: Target) {
    let store = t.open().await;
    let boot = store.bootstrap(None, None).await.unwrap().unwrap();
    let acme = store.create_org("acme").await.unwrap();
    let (revoked, revoked_secret) = store
        .create_key(acme.id, KeyKind::Api, "old")
        .await
        .unwrap();
    store.revoke_key(revoked.id).await.unwrap();
    let (_, live_secret) = store
        .create_key(acme.id, KeyKind::App, "live")
        .await
        .unwrap();
    let e = store
        .insert_event(
            acme.id,
            &NewEvent {
                tags: vec!["k:v".into()],
                extra: json!({"x": [1, 2]}),
                ..ev("persisted", 1234)
            },
        )
        .await
        .unwrap();
    store
        .record_check_run(acme.id, "c", Some("h"), &["t".into()], 1, "warn", 99)
        .await
        .unwrap();
    let orgs = store.list_orgs().await.unwrap();
    let keys = store.list_keys(None).await.unwrap();
    let checks = store.check_statuses(acme.id, None).await.unwrap();
    drop(store);

    let store = t.open().await;
    assert_eq!(store.list_orgs().await.unwrap(), orgs);
    assert_eq!(store.list_keys(None).await.unwrap(), keys);
    assert_eq!(store.check_statuses(acme.id, None).await.unwrap(), checks);
    let mut q = EventQuery::range(0, 2000);
    q.tags = vec!["k:v".into()];
    assert_eq!(
        store.list_events(acme.id, &q).await.unwrap(),
        vec![e.clone()]
    );
    let e_id = e.id;
    assert_eq!(store.get_event(acme.id, e.id).await.unwrap(), Some(e));
    assert!(store.bootstrap(None, None).await.unwrap().is_none());
    assert_eq!(
        store.verify_key(KeyKind::Api, &boot.api_key).await.unwrap(),
        Some(boot.org.id)
    );
    assert_eq!(
        store.verify_key(KeyKind::App, &live_secret).await.unwrap(),
        Some(acme.id)
    );
    assert_eq!(
        store
            .verify_key(KeyKind::Api, &revoked_secret)
            .await
            .unwrap(),
        None
    );
    // New ids never reuse old ones.
    let next = store.insert_event(acme.id, &ev("next", 1)).await.unwrap();
    assert!(next.id > e_id, "an id was reused");
}

async fn concurrent_writers_get_unique_ids(t: Target) {
    let a = t.open().await;
    let b = t.open().await;
    let org = a.create_org("acme").await.unwrap();
    let mut handles = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        handles.push(tokio::spawn(async move {
            store
                .insert_event(org.id, &ev(&format!("c{i}"), i))
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = HashSet::new();
    for h in handles {
        assert!(ids.insert(h.await.unwrap()), "duplicate event id");
    }
    let mut q = EventQuery::range(0, 100);
    q.unaggregated = true;
    assert_eq!(a.list_events(org.id, &q).await.unwrap().len(), 40);
}

async fn newer_schema_is_refused(t: Target) {
    drop(t.open().await);
    t.raw_execute(&format!(
        "UPDATE schema_version SET version = {}",
        SCHEMA_VERSION + 1
    ))
    .await;
    let err = MetaStore::open(&t.url)
        .await
        .err()
        .expect("a newer schema must be refused");
    match err {
        MetaError::SchemaTooNew { found, supported } => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other}"),
    }
}

async fn monitors_crud_and_isolation(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap().id;
    let other = store.create_org("other").await.unwrap().id;
    let def = json!({"name": "cpu", "type": "metric alert",
        "query": "avg(last_5m):avg:system.cpu.user{*} > 90", "options": {"thresholds": {"critical": 90}}});
    let a = store.create_monitor(org, &def).await.unwrap();
    assert_eq!((a.org, a.version, &a.definition), (org, 1, &def));
    assert_eq!(a.created_at, a.modified_at);
    let b = store
        .create_monitor(other, &json!({"name": "theirs"}))
        .await
        .unwrap();
    assert!(b.id > a.id, "ids increase");
    assert_eq!(store.get_monitor(org, a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.get_monitor(other, a.id).await.unwrap(),
        None,
        "another org's"
    );
    let ids = |v: Vec<whippet_meta::MonitorRecord>| v.iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_monitors(Some(org)).await.unwrap()),
        vec![a.id]
    );
    assert_eq!(
        ids(store.list_monitors(None).await.unwrap()),
        vec![a.id, b.id]
    );

    let def2 = json!({"name": "cpu (edited)"});
    assert_eq!(
        store.update_monitor(other, a.id, &def2).await.unwrap(),
        None
    );
    let a2 = store
        .update_monitor(org, a.id, &def2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a2.version, &a2.definition, a2.created_at),
        (2, &def2, a.created_at)
    );
    assert!(a2.modified_at >= a.modified_at);

    assert!(!store.delete_monitor(other, a.id).await.unwrap());
    assert!(store.delete_monitor(org, a.id).await.unwrap());
    assert!(!store.delete_monitor(org, a.id).await.unwrap());
    assert_eq!(store.get_monitor(org, a.id).await.unwrap(), None);
    match store.create_monitor(OrgId(9999), &def).await {
        Err(MetaError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn monitor_evaluations_are_atomic_and_versioned(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap().id;
    let m = store
        .create_monitor(org, &json!({"name": "m"}))
        .await
        .unwrap();
    let tr = |group: &str, from: &str, to: &str, at: i64| NewTransition {
        group: group.into(),
        from: from.into(),
        to: to.into(),
        value: Some(95.5),
        at,
    };
    let eval = Evaluation {
        monitor_id: m.id,
        version: 1,
        groups: vec![
            ("host:a".into(), json!({"status": "Alert"})),
            ("host:b".into(), json!({"status": "OK"})),
        ],
        removed_groups: vec![],
        transitions: vec![tr("host:a", "OK", "Alert", 1_000)],
        notifications: vec![NewNotification {
            target: "webhook-ops".into(),
            body: json!({"text": "a \"quoted\"\nline"}),
        }],
    };
    assert!(store.record_evaluation(&eval).await.unwrap());
    let groups = store.monitor_groups(m.id).await.unwrap();
    assert_eq!(
        groups,
        vec![
            ("host:a".to_string(), json!({"status": "Alert"})),
            ("host:b".to_string(), json!({"status": "OK"}))
        ]
    );
    let ts = store.transitions(org, m.id, 0, 100).await.unwrap();
    assert_eq!(ts.len(), 1);
    assert_eq!(
        (
            ts[0].group.as_str(),
            ts[0].from.as_str(),
            ts[0].to.as_str(),
            ts[0].value,
            ts[0].at
        ),
        ("host:a", "OK", "Alert", Some(95.5), 1_000)
    );
    assert!(
        store
            .transitions(org, m.id, 1_001, 100)
            .await
            .unwrap()
            .is_empty(),
        "since"
    );
    let other = store.create_org("other").await.unwrap().id;
    assert!(
        store
            .transitions(other, m.id, 0, 100)
            .await
            .unwrap()
            .is_empty(),
        "another org's"
    );

    let far = i64::MAX / 2;
    let due = store.due_notifications(far, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let n = &due[0];
    assert_eq!(
        (n.org, n.monitor_id, n.target.as_str(), n.attempts),
        (org, m.id, "webhook-ops", 0)
    );
    assert_eq!(n.body, json!({"text": "a \"quoted\"\nline"}));
    assert_eq!(n.delivered_at, None);
    // A failure postpones it; a delivery ends it.
    store
        .notification_failed(n.id, "connection refused", far + 10)
        .await
        .unwrap();
    assert!(store.due_notifications(far, 10).await.unwrap().is_empty());
    let again = store.due_notifications(far + 10, 10).await.unwrap();
    assert_eq!(
        (again[0].attempts, again[0].last_error.as_deref()),
        (1, Some("connection refused"))
    );
    store.notification_delivered(n.id).await.unwrap();
    assert!(
        store
            .due_notifications(i64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let all = store.notifications_of(m.id).await.unwrap();
    assert_eq!(
        (all.len(), all[0].attempts, all[0].last_error.as_deref()),
        (1, 2, None)
    );
    assert!(all[0].delivered_at.is_some());
    // Delivered twice (a retry racing a late answer) stays delivered once.
    store.notification_failed(n.id, "late", 0).await.unwrap();
    assert_eq!(store.notifications_of(m.id).await.unwrap()[0].attempts, 2);

    // An evaluation of an old version writes nothing at all.
    store
        .update_monitor(org, m.id, &json!({"name": "m2"}))
        .await
        .unwrap();
    let stale = Evaluation {
        groups: vec![("host:a".into(), json!({"status": "OK"}))],
        transitions: vec![tr("host:a", "Alert", "OK", 2_000)],
        ..eval.clone()
    };
    assert!(!store.record_evaluation(&stale).await.unwrap());
    assert_eq!(store.monitor_groups(m.id).await.unwrap(), groups);
    assert_eq!(store.transitions(org, m.id, 0, 100).await.unwrap().len(), 1);
    assert_eq!(store.notifications_of(m.id).await.unwrap().len(), 1);
    // The current version: a group removed, one updated.
    let fresh = Evaluation {
        version: 2,
        groups: vec![("host:a".into(), json!({"status": "OK"}))],
        removed_groups: vec!["host:b".into()],
        transitions: vec![tr("host:a", "Alert", "OK", 2_000)],
        notifications: vec![],
        ..eval.clone()
    };
    assert!(store.record_evaluation(&fresh).await.unwrap());
    assert_eq!(
        store.monitor_groups(m.id).await.unwrap(),
        vec![("host:a".to_string(), json!({"status": "OK"}))]
    );
    assert_eq!(
        store.transitions(org, m.id, 0, 1).await.unwrap().len(),
        1,
        "limit"
    );
    // Deleting the monitor takes its groups, history and outbox along.
    let pending = Evaluation {
        version: 2,
        notifications: eval.notifications.clone(),
        ..Evaluation {
            monitor_id: m.id,
            ..Default::default()
        }
    };
    assert!(store.record_evaluation(&pending).await.unwrap());
    assert_eq!(
        store.due_notifications(i64::MAX, 10).await.unwrap().len(),
        1
    );
    assert!(store.delete_monitor(org, m.id).await.unwrap());
    assert!(store.monitor_groups(m.id).await.unwrap().is_empty());
    assert!(
        store
            .due_notifications(i64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.record_evaluation(&fresh).await.unwrap(), "gone");
}

async fn webhooks_create_replace_and_validate(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap().id;
    let other = store.create_org("other").await.unwrap().id;
    let hook = |name: &str, url: &str| Webhook {
        name: name.into(),
        url: url.into(),
        payload: None,
        custom_headers: None,
        encode_as: "json".into(),
    };
    let ops = hook("ops", "http://127.0.0.1:9/hook");
    store.put_webhook(org, &ops, false).await.unwrap();
    match store.put_webhook(org, &ops, false).await {
        Err(MetaError::Conflict(m)) => assert!(m.contains("ops"), "{m}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    store.put_webhook(other, &ops, false).await.unwrap();
    let mut changed = hook("ops", "https://example.com/x");
    changed.payload = Some("{\"t\": \"$EVENT_TITLE\"}".into());
    changed.custom_headers = Some("{\"X-Team\": \"a\"}".into());
    store.put_webhook(org, &changed, true).await.unwrap();
    assert_eq!(
        store.get_webhook(org, "ops").await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        store.get_webhook(other, "ops").await.unwrap(),
        Some(ops.clone())
    );
    store
        .put_webhook(org, &hook("a-first", "http://x"), false)
        .await
        .unwrap();
    let names: Vec<String> = store
        .list_webhooks(org)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, vec!["a-first", "ops"]);
    for (bad, why) in [
        (hook("", "http://x"), "name"),
        (hook("a b", "http://x"), "name"),
        (hook("ok", "ftp://x"), "http://"),
        (
            Webhook {
                encode_as: "xml".into(),
                ..hook("ok", "http://x")
            },
            "encode_as",
        ),
    ] {
        match store.put_webhook(org, &bad, false).await {
            Err(MetaError::Invalid(m)) => assert!(m.contains(why), "{m}"),
            other => panic!("expected Invalid for {bad:?}, got {other:?}"),
        }
    }
    assert!(store.delete_webhook(org, "ops").await.unwrap());
    assert!(!store.delete_webhook(org, "ops").await.unwrap());
    assert_eq!(store.get_webhook(org, "ops").await.unwrap(), None);
    assert!(store.get_webhook(other, "ops").await.unwrap().is_some());
}

async fn downtimes_crud_cancel_and_isolation(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap().id;
    let other = store.create_org("other").await.unwrap().id;
    let def = json!({"scope": ["env:prod"], "start": 1_700_000_000, "end": 1_700_003_600,
        "monitor_tags": ["*"], "recurrence": null, "message": "maintenance"});
    let a = store.create_downtime(org, &def).await.unwrap();
    assert_eq!((a.org, &a.definition, a.canceled_at), (org, &def, None));
    assert_eq!(a.created_at, a.modified_at);
    let b = store
        .create_downtime(other, &json!({"scope": ["*"]}))
        .await
        .unwrap();
    assert!(b.id > a.id, "ids increase");
    assert_eq!(
        store.get_downtime(org, a.id).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.get_downtime(other, a.id).await.unwrap(),
        None,
        "another org's"
    );

    let def2 = json!({"scope": ["env:staging"], "start": 1_700_000_000});
    assert_eq!(
        store.update_downtime(other, a.id, &def2).await.unwrap(),
        None
    );
    let a2 = store
        .update_downtime(org, a.id, &def2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((&a2.definition, a2.created_at), (&def2, a.created_at));
    assert!(a2.modified_at >= a.modified_at);

    assert_eq!(store.cancel_downtime(other, a.id).await.unwrap(), None);
    let c = store.cancel_downtime(org, a.id).await.unwrap().unwrap();
    let at = c.canceled_at.expect("canceled");
    assert_eq!((c.modified_at, &c.definition), (at, &def2));
    // A second cancel keeps the first time; an update no longer applies.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let again = store.cancel_downtime(org, a.id).await.unwrap().unwrap();
    assert_eq!(again, c);
    assert_eq!(store.update_downtime(org, a.id, &def).await.unwrap(), None);
    assert_eq!(store.get_downtime(org, a.id).await.unwrap(), Some(c));
    assert_eq!(store.cancel_downtime(org, 987_654).await.unwrap(), None);
    match store.create_downtime(OrgId(9999), &def).await {
        Err(MetaError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn downtimes_listing_for_the_scheduler(t: Target) {
    let store = t.open().await;
    let org = store.create_org("acme").await.unwrap().id;
    let other = store.create_org("other").await.unwrap().id;
    let mk = |scope: &str| json!({"scope": [scope]});
    let a = store.create_downtime(org, &mk("host:a")).await.unwrap();
    let b = store.create_downtime(other, &mk("host:b")).await.unwrap();
    let c = store.create_downtime(org, &mk("host:c")).await.unwrap();
    store.cancel_downtime(org, a.id).await.unwrap().unwrap();
    let ids = |v: Vec<whippet_meta::DowntimeRecord>| v.iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_downtimes(Some(org), true).await.unwrap()),
        vec![a.id, c.id]
    );
    assert_eq!(
        ids(store.list_downtimes(Some(org), false).await.unwrap()),
        vec![c.id]
    );
    assert_eq!(
        ids(store.list_downtimes(None, false).await.unwrap()),
        vec![b.id, c.id]
    );
    assert_eq!(
        ids(store.list_downtimes(None, true).await.unwrap()),
        vec![a.id, b.id, c.id]
    );
    // Written by one handle, read by another (another server process).
    let again = t.open().await;
    let listed = again.list_downtimes(Some(org), true).await.unwrap();
    assert_eq!(listed[1], c);
    assert!(listed[0].canceled_at.is_some());
}

// ------------------------------------------------------- backend specifics

#[test]
fn sqlite_urls_and_settings() {
    support::runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // sqlite:///abs/path, with missing directories created.
        let path = dir.path().join("a/b/meta.db");
        let store = MetaStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        assert_eq!(store.backend_name(), "sqlite");
        store.create_org("x").await.unwrap();
        assert!(path.is_file());
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // A plain path.
        let plain = dir.path().join("plain.db");
        MetaStore::open(plain.to_str().unwrap()).await.unwrap();
        assert!(plain.is_file());
        // Refused: no file, unknown scheme (without quoting the URL).
        for bad in ["", "sqlite:", "sqlite://", "mysql://root:hunter2@db/meta"] {
            let err = MetaStore::open(bad).await.err().unwrap();
            assert!(matches!(err, MetaError::Invalid(_)), "{bad}: {err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    });
}

/// A database written by schema version 1 (`tests/data/meta-v1.sql`, made
/// from the version 1 DDL and rows as the store writes them) opens and
/// reads back. Later migrations must keep this passing.
#[test]
fn sqlite_reads_a_version_1_database() {
    support::runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("data/meta-v1.sql"))
            .unwrap();
        drop(conn);
        let store = MetaStore::open(path.to_str().unwrap()).await.unwrap();
        let orgs = store.list_orgs().await.unwrap();
        assert_eq!(orgs.len(), 2);
        assert_eq!((orgs[0].id, orgs[0].name.as_str()), (OrgId(1), "default"));
        assert_eq!(orgs[1].name, "acme");
        // The fixture's keys are SHA-256 of these.
        assert_eq!(
            store
                .verify_key(KeyKind::Api, "fixture-api-key-0001")
                .await
                .unwrap(),
            Some(OrgId(1))
        );
        assert_eq!(
            store
                .verify_key(KeyKind::App, "fixture-app-key-0001")
                .await
                .unwrap(),
            Some(OrgId(1))
        );
        assert_eq!(
            store
                .verify_key(KeyKind::Api, "fixture-revoked-0002")
                .await
                .unwrap(),
            None
        );
        let keys = store.list_keys(None).await.unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[2].revoked_at, Some(1_700_000_100_000));
        assert_eq!(keys[0].last4, "0001");
        let mut q = EventQuery::range(0, i64::MAX);
        q.tags = vec!["env:prod".into()];
        let events = store.list_events(OrgId(2), &q).await.unwrap();
        assert_eq!(titles(&events), ["Deploy"]);
        assert_eq!(events[0].extra, json!({"category": "change"}));
        assert_eq!(events[0].tags, ["env:prod", "team:a"]);
        let mut q = EventQuery::range(0, i64::MAX);
        q.sources = vec!["MY_APPS".into()];
        assert_eq!(
            titles(&store.list_events(OrgId(2), &q).await.unwrap()),
            ["Deploy"]
        );
        let checks = store.check_statuses(OrgId(2), None).await.unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].message, "disk | almost\nfull");
        // And it keeps working: new rows get fresh ids.
        let e = store.insert_event(OrgId(2), &ev("new", 1)).await.unwrap();
        assert!(e.id > 2);
        drop(store);

        // Migrated from version 1, the schema is what a fresh store has.
        let fresh = dir.path().join("fresh.db");
        drop(MetaStore::open(fresh.to_str().unwrap()).await.unwrap());
        assert_eq!(schema_of(&path), schema_of(&fresh));
    });
}

/// The schema objects of an SQLite file, white space normalised.
fn schema_of(path: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|r| {
            let (name, sql) = r.unwrap();
            (name, sql.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect()
}

#[test]
fn postgres_reconnects_after_the_connection_is_cut() {
    let pg = whippet_meta::testing::TestPostgres::start();
    let rt = support::runtime();
    rt.block_on(async {
        let url = pg.create_database("reconnect").await;
        let store = MetaStore::open(&url).await.unwrap();
        assert_eq!(store.backend_name(), "postgres");
        let org = store.create_org("acme").await.unwrap();
        let target = Target {
            url: url.clone(),
            raw: Raw::Postgres(url.clone()),
        };
        // Cut every other connection to the database: the store's.
        target
            .raw_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await;
        // The call in flight when the connection broke may fail; the next
        // one reconnects.
        let mut ok = false;
        for _ in 0..2 {
            if store.list_orgs().await.is_ok() {
                ok = true;
                break;
            }
        }
        assert!(ok, "the store did not reconnect");
        assert_eq!(store.list_orgs().await.unwrap(), vec![org]);
        pg.drop_databases().await;
    });
}
