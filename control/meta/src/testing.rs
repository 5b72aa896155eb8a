//! Test support: a real PostgreSQL for tests (this crate's and other
//! crates' end-to-end tests, with the `testing` feature).
//!
//! [`TestPostgres::start`] uses, in order:
//! 1. the server named by `WHIPPET_TEST_POSTGRES_URL` when set (its user
//!    needs the `CREATEDB` privilege; each test database is created in it
//!    and dropped by [`TestPostgres::drop_databases`]);
//! 2. a private cluster started from the PostgreSQL binaries
//!    (`/usr/lib/postgresql/<version>/bin`, newest first, else `PATH`):
//!
//!    ```text
//!    initdb -D <tmp>/data -U postgres -A trust -E UTF8 --no-locale -N
//!    pg_ctl -D <tmp>/data -l <tmp>/postgres.log -w -t 60 \
//!        -o "-p <free port> -h 127.0.0.1 -k <tmp> -c fsync=off" start
//!    ...
//!    pg_ctl -D <tmp>/data -m immediate -w stop    # on drop, then rm -r <tmp>
//!    ```
//!
//!    `initdb` refuses to run as root, so when the effective uid is 0 the
//!    directory is `chown`ed to `postgres` and both commands run as
//!    `runuser -u postgres -- ...`. `fsync=off` and `-N` (no sync) are
//!    fine for a throw-away cluster and save seconds per test run.
//!
//! With neither, `start` panics, so the test fails with a message saying to
//! `apt-get install -y postgresql`: a PostgreSQL test must never pass
//! without PostgreSQL.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::TryRng;
use tokio_postgres::NoTls;

/// The environment variable naming an existing PostgreSQL server to test
/// against instead of starting one.
pub const URL_ENV: &str = "WHIPPET_TEST_POSTGRES_URL";

const INSTALL_HINT: &str = "PostgreSQL tests need PostgreSQL: install it with \
     `apt-get install -y postgresql` (the tests start their own private cluster \
     from /usr/lib/postgresql/*/bin), or set WHIPPET_TEST_POSTGRES_URL=postgres://user@host:port/db \
     to a server whose user may CREATE DATABASE";

/// How many times to try a fresh port when the cluster fails to start:
/// the free port is found by binding port 0 and releasing it, so another
/// process can take it before PostgreSQL does.
const START_ATTEMPTS: usize = 3;

/// A PostgreSQL server for tests: a private cluster (stopped and deleted on
/// drop) or the one named by [`URL_ENV`].
pub struct TestPostgres {
    target: Target,
    created: parking_lot::Mutex<Vec<String>>,
}

enum Target {
    Cluster(Cluster),
    External(String),
}

impl TestPostgres {
    /// Finds or starts a server (see the module doc). Blocking: call it
    /// outside an async runtime, or on a blocking thread.
    ///
    /// # Panics
    /// When there is neither [`URL_ENV`] nor PostgreSQL binaries, or the
    /// cluster does not start (the panic carries its log).
    pub fn start() -> TestPostgres {
        let target = match std::env::var(URL_ENV) {
            Ok(url) if !url.is_empty() => Target::External(url),
            _ => {
                let bin = find_bin_dir().unwrap_or_else(|| panic!("{INSTALL_HINT}"));
                Target::Cluster(Cluster::start(&bin).unwrap_or_else(|e| panic!("{e}")))
            }
        };
        TestPostgres {
            target,
            created: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// A description for test logs (never a password: the external URL is
    /// not shown).
    pub fn describe(&self) -> String {
        match &self.target {
            Target::Cluster(c) => format!(
                "private cluster on 127.0.0.1:{} in {}",
                c.port,
                c.dir.display()
            ),
            Target::External(_) => format!("server from {URL_ENV}"),
        }
    }

    /// Creates a fresh, empty database (named from `hint` plus a random
    /// suffix) and returns its `postgres://` URL.
    pub async fn create_database(&self, hint: &str) -> String {
        let mut suffix = [0u8; 6];
        rand::rngs::SysRng
            .try_fill_bytes(&mut suffix)
            .expect("OS random source");
        let clean: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!("whippet_test_{clean}_{}", hex::encode(suffix));
        let admin = self.admin_url();
        let (client, conn) = tokio_postgres::connect(&admin, NoTls)
            .await
            .unwrap_or_else(|e| {
                panic!("connect to the test PostgreSQL ({}): {e}", self.describe())
            });
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        drop(client);
        let _ = task.await;
        self.created.lock().push(name.clone());
        with_database(&admin, &name)
    }

    /// Drops the databases [`TestPostgres::create_database`] made. Only
    /// needed with [`URL_ENV`]: a private cluster is deleted whole on drop.
    pub async fn drop_databases(&self) {
        let names: Vec<String> = std::mem::take(&mut *self.created.lock());
        if matches!(self.target, Target::Cluster(_)) || names.is_empty() {
            return;
        }
        let Ok((client, conn)) = tokio_postgres::connect(&self.admin_url(), NoTls).await else {
            return;
        };
        let task = tokio::spawn(conn);
        for name in names {
            if let Err(e) = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
            {
                eprintln!("could not drop test database {name}: {e}");
            }
        }
        drop(client);
        let _ = task.await;
    }

    /// A URL of the server's maintenance database.
    fn admin_url(&self) -> String {
        match &self.target {
            Target::Cluster(c) => format!("postgres://postgres@127.0.0.1:{}/postgres", c.port),
            Target::External(url) => url.clone(),
        }
    }
}

/// `url` with its database replaced by `db` (query string kept).
fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (main, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = main.split('/').next().unwrap_or("");
    format!("{scheme}://{authority}/{db}{query}")
}

/// The directory holding `initdb` and `pg_ctl`: the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout), else the first
/// `PATH` entry with `initdb`.
fn find_bin_dir() -> Option<PathBuf> {
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// Whether this process runs with effective uid 0 (from
/// `/proc/self/status`; elsewhere assumed not).
fn running_as_root() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// A private cluster in a temporary directory.
struct Cluster {
    /// Holds `data/`, the log and the Unix socket.
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn start(bin: &Path) -> Result<Cluster, String> {
        let as_postgres = running_as_root();
        let mut suffix = [0u8; 8];
        rand::rngs::SysRng
            .try_fill_bytes(&mut suffix)
            .map_err(|e| format!("OS random source: {e}"))?;
        let dir = std::env::temp_dir().join(format!("whippet-pg-{}", hex::encode(suffix)));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let mut cluster = Cluster {
            dir,
            bin: bin.to_path_buf(),
            port: 0,
            as_postgres,
        };
        if as_postgres {
            cluster.run_as_caller(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:")
                    .arg(&cluster.dir),
            )?;
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "-N".as_ref(),
            ],
        )?;
        let log = cluster.dir.join("postgres.log");
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            cluster.port = free_port()?;
            let options = format!(
                "-p {} -h 127.0.0.1 -k {} -c fsync=off",
                cluster.port,
                cluster.dir.display()
            );
            match cluster.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "start".as_ref(),
                ],
            ) {
                Ok(()) => return Ok(cluster),
                Err(e) => {
                    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                    last_error = format!("{e}\n--- postgres.log ---\n{log_text}");
                }
            }
        }
        Err(format!(
            "the test PostgreSQL cluster did not start: {last_error}"
        ))
    }

    /// Runs a PostgreSQL program from the bin directory, as `postgres`
    /// when we are root.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(&self.dir);
        self.run_as_caller(&mut cmd)
    }

    fn run_as_caller(&self, cmd: &mut Command) -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("run {cmd:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{cmd:?} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let data = self.dir.join("data");
            if let Err(e) = self.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            ) {
                eprintln!("stopping the test PostgreSQL cluster: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("find a free port: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "t2"), "postgresql://h/t2");
    }
}
