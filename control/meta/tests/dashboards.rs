//! Dashboards, run against both backends like the behaviour suite
//! (`tests/behaviour.rs`, whose harness in `support/` this shares): SQLite
//! in a temp dir and a real PostgreSQL.

#[allow(dead_code)]
mod support;

use std::collections::HashSet;

use serde_json::{Value, json};
use support::{Case, Target};
use whippet_meta::{DashboardId, DashboardRecord, MetaError, MetaStore, OrgId};

macro_rules! case {
    ($f:ident) => {
        (stringify!($f), |t| Box::pin($f(t)) as support::CaseFuture)
    };
}

const CASES: &[Case] = &[
    case!(dashboards_crud_and_isolation),
    case!(definitions_come_back_unchanged),
    case!(bulk_delete_is_all_or_nothing),
    case!(concurrent_creates_get_distinct_ids),
    case!(dashboards_survive_reopening),
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
    let def = json!({});
    let id = DashboardId::parse("abc-def-ghi").unwrap();
    send(s.create_dashboard(OrgId(1), &def, "a"));
    send(s.get_dashboard(OrgId(1), &id));
    send(s.list_dashboards(OrgId(1)));
    send(s.update_dashboard(OrgId(1), &id, &def));
    send(s.delete_dashboard(OrgId(1), &id));
    send(s.delete_dashboards(OrgId(1), &[]));
}

/// A store with two orgs.
async fn two_orgs(t: &Target) -> (MetaStore, OrgId, OrgId) {
    let store = t.open().await;
    let a = store.create_org("acme").await.unwrap().id;
    let b = store.create_org("other").await.unwrap().id;
    (store, a, b)
}

fn def(title: &str) -> Value {
    json!({"title": title, "layout_type": "ordered", "widgets": []})
}

fn ids(v: &[DashboardRecord]) -> Vec<&str> {
    v.iter().map(|d| d.id.as_str()).collect()
}

async fn dashboards_crud_and_isolation(t: Target) {
    let (store, org, other) = two_orgs(&t).await;
    let a = store
        .create_dashboard(org, &def("A"), "alice@example.com")
        .await
        .unwrap();
    assert_eq!(DashboardId::parse(a.id.as_str()), Some(a.id.clone()));
    assert!(!a.id.is_reserved());
    assert_eq!(
        (a.org, &a.definition, a.author.as_str()),
        (org, &def("A"), "alice@example.com")
    );
    assert_eq!(a.created_at, a.modified_at);
    std::thread::sleep(std::time::Duration::from_millis(3));
    let b = store
        .create_dashboard(other, &def("B"), "bob")
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    let c = store
        .create_dashboard(org, &def("C"), "carol")
        .await
        .unwrap();
    assert_ne!(a.id, c.id);

    assert_eq!(
        store.get_dashboard(org, &a.id).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.get_dashboard(other, &a.id).await.unwrap(),
        None,
        "another org's"
    );
    assert_eq!(
        ids(&store.list_dashboards(org).await.unwrap()),
        vec![a.id.as_str(), c.id.as_str()],
        "oldest first, only the org's"
    );
    assert_eq!(
        ids(&store.list_dashboards(other).await.unwrap()),
        vec![b.id.as_str()]
    );

    // Update replaces the definition; author and creation time stay.
    assert_eq!(
        store
            .update_dashboard(other, &a.id, &def("A2"))
            .await
            .unwrap(),
        None
    );
    std::thread::sleep(std::time::Duration::from_millis(3));
    let a2 = store
        .update_dashboard(org, &a.id, &def("A2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (&a2.id, &a2.definition, a2.author.as_str(), a2.created_at),
        (&a.id, &def("A2"), "alice@example.com", a.created_at)
    );
    assert!(a2.modified_at > a.modified_at);
    assert_eq!(store.get_dashboard(org, &a.id).await.unwrap(), Some(a2));

    // Delete: not another org's; once.
    assert!(!store.delete_dashboard(other, &a.id).await.unwrap());
    assert!(store.delete_dashboard(org, &a.id).await.unwrap());
    assert!(!store.delete_dashboard(org, &a.id).await.unwrap());
    assert_eq!(store.get_dashboard(org, &a.id).await.unwrap(), None);
    assert_eq!(
        store.update_dashboard(org, &a.id, &def("x")).await.unwrap(),
        None
    );
    assert_eq!(
        ids(&store.list_dashboards(org).await.unwrap()),
        vec![c.id.as_str()]
    );

    match store.create_dashboard(OrgId(9999), &def("x"), "a").await {
        Err(MetaError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn definitions_come_back_unchanged(t: Target) {
    let (store, org, _) = two_orgs(&t).await;
    // What an exported dashboard carries: nesting, unicode, big widget ids,
    // floats, nulls, keys the store has never heard of.
    let d = json!({
        "title": "Überblick ✓ \"quoted\" 'single' \\ back",
        "description": null,
        "layout_type": "free",
        "widgets": [
            {"id": 2_619_247_057_532_237_u64, "definition": {"type": "group", "widgets": [
                {"id": 1, "definition": {"type": "note", "content": "# Title\n\n* a\n* b"}}
            ]}, "layout": {"x": 0, "y": 0, "width": 12, "height": 5}},
            {"id": 2, "definition": {"type": "some_future_widget", "ratio": 0.125,
                "yaxis": {"min": "-1e3", "scale": "log"}, "markers": []}}
        ],
        "template_variables": [{"name": "host", "prefix": "host", "available_values": []}],
        "x_unknown_field": {"kept": [1, 2.5, null, true]}
    });
    let a = store.create_dashboard(org, &d, "a").await.unwrap();
    let back = store.get_dashboard(org, &a.id).await.unwrap().unwrap();
    assert_eq!(back.definition, d);
    // The column holds the JSON text, and the author beside it.
    let texts = t
        .raw_texts(&format!(
            "SELECT definition FROM dashboards WHERE id = '{}' UNION ALL \
             SELECT author FROM dashboards WHERE id = '{}'",
            a.id, a.id
        ))
        .await;
    let stored: Value = serde_json::from_str(&texts[0]).unwrap();
    assert_eq!((stored, texts[1].as_str()), (d, "a"));
}

async fn bulk_delete_is_all_or_nothing(t: Target) {
    let (store, org, other) = two_orgs(&t).await;
    let a = store.create_dashboard(org, &def("A"), "a").await.unwrap();
    let b = store.create_dashboard(org, &def("B"), "a").await.unwrap();
    let c = store.create_dashboard(org, &def("C"), "a").await.unwrap();
    let theirs = store.create_dashboard(other, &def("T"), "a").await.unwrap();
    let missing = DashboardId::parse("zzz-zzz-zz9").unwrap();

    // One missing id: an error naming it (and only it), nothing deleted.
    match store
        .delete_dashboards(org, &[a.id.clone(), missing.clone(), b.id.clone()])
        .await
    {
        Err(MetaError::NotFound(what)) => {
            assert!(what.contains("zzz-zzz-zz9"), "{what}");
            assert!(!what.contains(a.id.as_str()), "{what}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Another org's dashboard is as missing as one that never existed.
    assert!(matches!(
        store
            .delete_dashboards(org, &[a.id.clone(), theirs.id.clone()])
            .await,
        Err(MetaError::NotFound(_))
    ));
    assert_eq!(store.list_dashboards(org).await.unwrap().len(), 3);

    // Twice the same id is deleted once.
    store
        .delete_dashboards(org, &[b.id.clone(), a.id.clone(), a.id.clone()])
        .await
        .unwrap();
    assert_eq!(
        ids(&store.list_dashboards(org).await.unwrap()),
        vec![c.id.as_str()]
    );
    assert_eq!(
        ids(&store.list_dashboards(other).await.unwrap()),
        vec![theirs.id.as_str()]
    );
    store.delete_dashboards(org, &[]).await.unwrap();
}

async fn concurrent_creates_get_distinct_ids(t: Target) {
    let (store, org, _) = two_orgs(&t).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.create_dashboard(org, &def(&format!("d{i}")), "a")
                .await
                .unwrap()
                .id
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        assert!(seen.insert(task.await.unwrap()));
    }
    assert_eq!(store.list_dashboards(org).await.unwrap().len(), 40);
}

async fn dashboards_survive_reopening(t: Target) {
    let (store, org, _) = two_orgs(&t).await;
    let a = store.create_dashboard(org, &def("A"), "a").await.unwrap();
    drop(store);
    // Written by one handle, read by another (another server process).
    let again = t.open().await;
    assert_eq!(again.get_dashboard(org, &a.id).await.unwrap(), Some(a));
}
