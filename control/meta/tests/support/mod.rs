//! What the behaviour suite needs around a store: a fresh database per
//! case, a way to open it again (as another process would), and raw access
//! to what the database holds, to check what is and is not stored.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use whippet_meta::MetaStore;
use whippet_meta::testing::TestPostgres;

/// A fresh, empty database for one case.
#[derive(Clone)]
pub struct Target {
    /// What `MetaStore::open` takes.
    pub url: String,
    pub raw: Raw,
}

/// How to look at the database behind the store's back.
#[derive(Clone)]
pub enum Raw {
    /// The SQLite file (its `-wal` and `-shm` files sit beside it).
    Sqlite(PathBuf),
    /// A `postgres://` URL of the case's database.
    Postgres(String),
}

impl Target {
    /// Opens a store on the target: a new connection, as another process.
    pub async fn open(&self) -> MetaStore {
        MetaStore::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.url))
    }

    /// Every value of every table as text (PostgreSQL: each row as JSON),
    /// plus, for SQLite, the raw bytes of the database, WAL and shared
    /// memory files decoded leniently: what a thief of the disk or a
    /// backup would see.
    pub async fn raw_dump(&self) -> String {
        match &self.raw {
            Raw::Sqlite(path) => {
                let mut all = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    if let Ok(bytes) = std::fs::read(&p) {
                        all.extend_from_slice(&bytes);
                    }
                }
                String::from_utf8_lossy(&all).into_owned()
            }
            Raw::Postgres(url) => {
                let mut out = String::new();
                for table in [
                    "schema_version",
                    "orgs",
                    "keys",
                    "events",
                    "event_tags",
                    "check_status",
                ] {
                    for row in
                        pg_query(url, &format!("SELECT row_to_json(t)::text FROM {table} t")).await
                    {
                        out.push_str(&row);
                        out.push('\n');
                    }
                }
                out
            }
        }
    }

    /// The `hash` column of every key.
    pub async fn stored_hashes(&self) -> Vec<String> {
        self.raw_texts("SELECT hash FROM keys ORDER BY id").await
    }

    /// The first column of every row of `sql`, which must select text (use
    /// `CAST(... AS TEXT)`: both backends spell it so), read past the store.
    pub async fn raw_texts(&self, sql: &str) -> Vec<String> {
        match &self.raw {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                stmt.query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            }
            Raw::Postgres(url) => pg_query(url, sql).await,
        }
    }

    /// Runs a statement that changes nothing the store caches (used to set
    /// the schema version, or to cut connections).
    pub async fn raw_execute(&self, sql: &str) {
        match &self.raw {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch(sql).unwrap();
            }
            Raw::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                let task = tokio::spawn(conn);
                client.batch_execute(sql).await.unwrap();
                drop(client);
                let _ = task.await;
            }
        }
    }
}

/// The first column of every row, as text.
async fn pg_query(url: &str, sql: &str) -> Vec<String> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    let rows = client.query(sql, &[]).await.unwrap();
    let out = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    drop(client);
    let _ = task.await;
    out
}

pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// One behaviour case: gets a fresh target, panics on failure.
pub type Case = (&'static str, fn(Target) -> CaseFuture);

/// A runtime like the server's (multi-threaded), sized for a 2-core CI.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs every case against SQLite, each in a fresh file in a temp dir.
pub fn run_sqlite(cases: &[Case]) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, case)) in cases.iter().enumerate() {
        eprintln!("sqlite: case {name}");
        let path = dir.path().join(format!("case{i}")).join("meta.db");
        let target = Target {
            url: format!("sqlite://{}", path.display()),
            raw: Raw::Sqlite(path),
        };
        rt.block_on(case(target));
    }
}

/// Runs every case against PostgreSQL, each in a fresh database of one
/// private cluster (or of `WHIPPET_TEST_POSTGRES_URL`'s server). Fails when
/// neither is available.
pub fn run_postgres(cases: &[Case]) {
    let pg = Arc::new(TestPostgres::start());
    eprintln!("postgres: {}", pg.describe());
    let rt = runtime();
    for (name, case) in cases {
        eprintln!("postgres: case {name}");
        let url = rt.block_on(pg.create_database(name));
        let target = Target {
            url: url.clone(),
            raw: Raw::Postgres(url),
        };
        rt.block_on(case(target));
    }
    rt.block_on(pg.drop_databases());
    drop(rt);
    // The cluster stops here (and also when a case panics: unwinding drops
    // `pg`).
    drop(pg);
}
