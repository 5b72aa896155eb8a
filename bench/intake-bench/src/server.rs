//! The servers under test (Whippet, VictoriaMetrics, Prometheus), run as
//! child processes: finding (or installing) their binaries, starting each
//! on a free local port with a fresh data directory, waiting until it
//! answers, and stopping it with SIGTERM. Also the measurements that need
//! the server's files: [`prometheus_snapshot`] and [`dir_bytes`].
//!
//! Each server's standard output and error go to `server.log` in a
//! temporary directory of its own (the data directory is beside it, and
//! Prometheus' configuration file), so a failed start can show its last
//! lines. Everything is removed when the [`Server`] is dropped; a server
//! still running then is killed.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::http::Conn;

/// How long a server may take to answer its readiness check.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to stop after SIGTERM (Whippet writes its
/// head to parts, VictoriaMetrics flushes its in-memory parts) before it is
/// killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// A running server.
pub struct Server {
    /// `whippet`, `victoria-metrics` or `prometheus`.
    pub name: &'static str,
    /// Its HTTP address.
    pub addr: SocketAddr,
    child: Option<Child>,
    /// The temporary directory holding `data/` and `server.log`.
    dir: tempfile::TempDir,
}

impl Server {
    /// The process id, as `/proc/<pid>` spells it.
    pub fn pid(&self) -> String {
        self.child.as_ref().map_or(0, Child::id).to_string()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The whole server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The last `n` lines of the server's log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Fails with the log's tail when the process has exited.
    fn check_alive(&mut self) -> Result<()> {
        if let Some(c) = self.child.as_mut()
            && let Some(status) = c.try_wait()?
        {
            self.child = None;
            bail!(
                "{} exited during start-up ({status}); its log ends with:\n{}",
                self.name,
                self.log_tail(30)
            );
        }
        Ok(())
    }

    /// Polls `GET path` (with `headers`) until it answers 200.
    fn wait_ready(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<()> {
        let t = Instant::now();
        let mut last = String::new();
        while t.elapsed() < START_TIMEOUT {
            self.check_alive()?;
            let mut c = Conn::new(self.addr);
            match c.request("GET", path, headers, b"") {
                Ok(r) if r.status == 200 => return Ok(()),
                Ok(r) => last = format!("{} {}", r.status, r.body_snippet()),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "{} did not answer GET {path} with 200 within {START_TIMEOUT:?} (last: {last}); its log ends with:\n{}",
            self.name,
            self.log_tail(30)
        )
    }

    /// Sends SIGTERM and waits for the process to end (SIGKILL after
    /// [`STOP_TIMEOUT`]). Returns the exit status and the seconds it took.
    pub fn stop(&mut self) -> Result<(ExitStatus, f64)> {
        let Some(mut child) = self.child.take() else {
            bail!("{} is not running", self.name);
        };
        let t = Instant::now();
        signal(child.id(), "TERM")?;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok((status, t.elapsed().as_secs_f64()));
            }
            if t.elapsed() > STOP_TIMEOUT {
                let _ = child.kill();
                let status = child.wait()?;
                bail!(
                    "{} did not stop within {STOP_TIMEOUT:?} of SIGTERM and was killed ({status})",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Sends a signal (`TERM`, `INT`) to a process, through `kill(1)` (no libc).
pub fn signal(pid: u32, sig: &str) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -{sig} {pid} failed ({status})");
    }
    Ok(())
}

/// A local port nobody listens on right now. (Another process could take it
/// before the server binds it; on a development machine that does not
/// happen in practice, and the server's start then fails loudly.)
pub fn free_addr() -> Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free local port")?;
    Ok(l.local_addr()?)
}

fn server_dir(name: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("whippet-intake-bench-{name}-"))
        .tempdir()
        .context("creating a temporary directory")
}

fn spawn(mut cmd: Command, dir: &Path) -> Result<Child> {
    let log = File::create(dir.join("server.log")).context("creating the server log")?;
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))
}

/// The keys Whippet's default org is created with.
pub struct Keys {
    /// `DD-API-KEY`.
    pub api: String,
    /// `DD-APPLICATION-KEY`.
    pub app: String,
}

/// Starts `whippet serve` with a fresh data directory, HTTP only, known
/// keys, self-monitoring off, every other setting at its default; returns
/// once `GET /api/v1/validate` answers 200.
pub fn start_whippet(bin: &Path, keys: &Keys) -> Result<Server> {
    start_whippet_with(bin, keys, &[])
}

/// [`start_whippet`] with `extra` environment variables set after those
/// (so they may replace them, `WHIPPET_LOG` say). Log lines are plain
/// (`NO_COLOR`), for benches that read them.
pub fn start_whippet_with(bin: &Path, keys: &Keys, extra: &[(&str, String)]) -> Result<Server> {
    let dir = server_dir("whippet")?;
    let addr = free_addr()?;
    let mut cmd = Command::new(bin);
    // Nothing from the caller's environment may change the configuration.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("WHIPPET_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("serve")
        .env("WHIPPET_DATA_DIR", dir.path().join("data"))
        .env("WHIPPET_HTTP_ADDR", addr.to_string())
        .env("WHIPPET_DOGSTATSD_ADDR", "")
        .env("WHIPPET_API_KEY", &keys.api)
        .env("WHIPPET_APP_KEY", &keys.app)
        .env("WHIPPET_SELF_MONITORING_INTERVAL_SECS", "0")
        .env("WHIPPET_LOG", "info")
        .env("NO_COLOR", "1");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = spawn(cmd, dir.path())?;
    let mut s = Server {
        name: "whippet",
        addr,
        child: Some(child),
        dir,
    };
    s.wait_ready("/api/v1/validate", &[("DD-API-KEY", &keys.api)])?;
    Ok(s)
}

/// Starts VictoriaMetrics single-node with a fresh data directory and a
/// 100-year retention; returns once `GET /health` answers 200.
pub fn start_vm(bin: &Path) -> Result<Server> {
    start_vm_with(bin, &[])
}

/// [`start_vm`] with `extra` flags after the data directory, the listen
/// address and the retention (e.g. `-search.disableCache`).
pub fn start_vm_with(bin: &Path, extra: &[&str]) -> Result<Server> {
    let dir = server_dir("vm")?;
    let addr = free_addr()?;
    let mut cmd = Command::new(bin);
    cmd.arg(format!(
        "-storageDataPath={}",
        dir.path().join("data").display()
    ))
    .arg(format!("-httpListenAddr={addr}"))
    .arg("-retentionPeriod=100y")
    .args(extra);
    let child = spawn(cmd, dir.path())?;
    let mut s = Server {
        name: "victoria-metrics",
        addr,
        child: Some(child),
        dir,
    };
    s.wait_ready("/health", &[])?;
    Ok(s)
}

/// Prometheus' configuration file. Prometheus will not start without one;
/// this one has no `scrape_configs` (every sample arrives by remote write,
/// and Prometheus does not even scrape itself) and no rules. The interval is
/// the fleet's 10 s, but nothing uses it: nothing is scraped or evaluated.
const PROMETHEUS_CONFIG: &str = "\
# Written by whippet-intake-bench: no scrape targets, no rules; every sample
# arrives by remote write at /api/v1/write.
global:
  scrape_interval: 10s
  evaluation_interval: 10s
";

/// Starts Prometheus with a fresh data directory as a remote write
/// receiver; returns once `GET /-/ready` answers 200 (the empty WAL is
/// replayed).
///
/// The command line, and why each flag:
///
/// - `--config.file=<dir>/prometheus.yml`: [`PROMETHEUS_CONFIG`], written
///   beside the data directory (the default, `/etc/prometheus/…`, belongs
///   to the Debian package's own service and scrapes things);
/// - `--storage.tsdb.path=<dir>/data`, `--web.listen-address=<free port>`:
///   a fresh data directory and a port of its own, like the other servers;
/// - `--web.enable-remote-write-receiver`: accept remote write at
///   `/api/v1/write` (off by default);
/// - `--web.enable-admin-api`: for [`prometheus_snapshot`];
/// - `--storage.tsdb.retention.time=100y`: nothing the bench writes is ever
///   deleted (the default is 15 days, longer than any bench, but the flag
///   makes that explicit, as `-retentionPeriod=100y` does for
///   VictoriaMetrics);
/// - then `extra`.
///
/// Everything else keeps its default (WAL compression on, 2 h blocks, the
/// `--query.max-samples` limit of 50 M).
///
/// What Prometheus accepts (checked with 2.42):
///
/// - each series' samples in increasing time order: out-of-order ingestion
///   is off by default, a sample older than its series' last one is
///   answered `400 out of order sample` and the whole request is rolled
///   back;
/// - no sample older than the head's newest minus one hour (half a block):
///   `400 out of bounds`, even for a new series;
/// - no sample more than 10 minutes in the future.
///
/// A fresh head starts at the first sample it is sent, so data of any age
/// loads (three and a half hours of data ending two minutes ago did, with
/// the head cut into a block on the way), provided it is sent time-major
/// and each series' bodies in order. Concurrent senders must keep that
/// order per series: [`crate::send::send_all`]'s shared queue does not, as
/// a sender descheduled between taking a body and sending it lets the
/// bodies behind it, the next window of the same series included, overtake
/// it (59 of 1 080 bodies refused with 4 senders, 10 bodies per window, on
/// a busy 2-core machine). Send one window at a time, or keep each series
/// on one connection, as Prometheus' own remote write shards do.
pub fn start_prometheus(bin: &Path, extra: &[&str]) -> Result<Server> {
    let dir = server_dir("prometheus")?;
    let addr = free_addr()?;
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, PROMETHEUS_CONFIG)
        .with_context(|| format!("writing Prometheus' configuration {}", config.display()))?;
    let mut cmd = Command::new(bin);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--web.enable-remote-write-receiver")
        .arg("--web.enable-admin-api")
        .arg("--storage.tsdb.retention.time=100y")
        .args(extra);
    let child = spawn(cmd, dir.path())?;
    let mut s = Server {
        name: "prometheus",
        addr,
        child: Some(child),
        dir,
    };
    s.wait_ready("/-/ready", &[])?;
    Ok(s)
}

#[derive(serde::Deserialize)]
struct SnapshotAnswer {
    status: String,
    #[serde(default)]
    data: Option<SnapshotData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct SnapshotData {
    name: String,
}

/// Asks Prometheus for a TSDB snapshot, head included
/// (`POST /api/v1/admin/tsdb/snapshot?skip_head=false`, which needs
/// `--web.enable-admin-api`), and returns its directory,
/// `<data>/snapshots/<name>`, and its size in bytes ([`dir_bytes`]).
///
/// This is how the benches measure Prometheus' bytes per point "after
/// flush": the snapshot writes the in-memory head out as a persistent block
/// (`index`, `chunks/`, `meta.json`, `tombstones`), the format the head's
/// compaction writes, while a bench's data, a few hours old at most, would
/// otherwise sit in the head, its WAL and its memory-mapped head chunks,
/// whose sizes say little about the storage format. The head becomes one
/// block covering its whole range (compaction would cut it at 2 h
/// boundaries); blocks already persisted are hard-linked into the snapshot
/// and count too. The WAL is not part of it.
pub fn prometheus_snapshot(s: &Server) -> Result<(PathBuf, u64)> {
    let mut conn = Conn::new(s.addr);
    let r = conn
        .request(
            "POST",
            "/api/v1/admin/tsdb/snapshot?skip_head=false",
            &[],
            b"",
        )
        .with_context(|| format!("asking {} ({}) for a snapshot", s.name, s.addr))?;
    if r.status != 200 {
        bail!(
            "{} answered the snapshot request with HTTP {} (is --web.enable-admin-api on?): {}",
            s.name,
            r.status,
            r.body_snippet()
        );
    }
    let a: SnapshotAnswer = serde_json::from_slice(&r.body).with_context(|| {
        format!(
            "{}'s snapshot answer is not the expected JSON: {}",
            s.name,
            r.body_snippet()
        )
    })?;
    let name = match (a.status.as_str(), a.data) {
        ("success", Some(d)) => d.name,
        _ => bail!(
            "{}'s snapshot failed: {} ({})",
            s.name,
            a.error.unwrap_or_default(),
            r.body_snippet()
        ),
    };
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        bail!(
            "{} named its snapshot {name:?}, not a directory name",
            s.name
        );
    }
    let path = s.data_dir().join("snapshots").join(&name);
    if !path.is_dir() {
        bail!(
            "{} reported snapshot {name} but {} is not a directory",
            s.name,
            path.display()
        );
    }
    let bytes = dir_bytes(&path);
    Ok((path, bytes))
}

/// The sum of the sizes of the files under `path` (recursively; symbolic
/// links are not followed; a file hard-linked twice counts twice). What
/// cannot be read counts as 0. `path` may also be a single file.
pub fn dir_bytes(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    if !meta.is_dir() {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| dir_bytes(&e.path()))
        .sum()
}

/// Looks for an executable named `name` on `PATH`, then in `/usr/bin`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The VictoriaMetrics binary: `given`, or `victoria-metrics` on the PATH,
/// or, when missing, installed with `apt-get install -y victoria-metrics`
/// (Debian's package; `apt-get update` is run once first if the install
/// fails). Fails with what to do when it cannot be had.
pub fn find_or_install_vm(given: Option<&Path>, say: impl Fn(&str)) -> Result<PathBuf> {
    find_or_install(
        given,
        "VictoriaMetrics",
        "victoria-metrics",
        "--vm-bin",
        say,
    )
}

/// The Prometheus binary: `given`, or `prometheus` on the PATH, or, when
/// missing, installed with `apt-get install -y prometheus` (Debian's
/// package, 2.42 on Debian 12; `apt-get update` is run once first if the
/// install fails). Fails with what to do when it cannot be had.
///
/// The package also installs a `prometheus.service`; on a machine run by
/// systemd it starts at once and listens on port 9090. The bench does not
/// touch it: its own Prometheus listens on a free port with its own data.
pub fn find_or_install_prometheus(given: Option<&Path>, say: impl Fn(&str)) -> Result<PathBuf> {
    find_or_install(given, "Prometheus", "prometheus", "--prometheus-bin", say)
}

/// `given` (which must exist), or the binary `name` (also the Debian
/// package's name) from the PATH, installed with apt-get when missing.
/// `system` and `option` (the command-line option that takes a path) are
/// for the messages.
fn find_or_install(
    given: Option<&Path>,
    system: &str,
    name: &str,
    option: &str,
    say: impl Fn(&str),
) -> Result<PathBuf> {
    if let Some(p) = given {
        if !p.is_file() {
            bail!("{option} {} does not exist", p.display());
        }
        return Ok(p.to_path_buf());
    }
    if let Some(p) = which(name) {
        return Ok(p);
    }
    say(&format!(
        "{name} is not installed; running `apt-get install -y {name}`"
    ));
    let apt = |args: &[&str]| -> Result<bool> {
        say(&format!("$ apt-get {}", args.join(" ")));
        Ok(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .context("running apt-get (is this a Debian or Ubuntu machine?)")?
            .success())
    };
    if !apt(&["install", "-y", name])? {
        say("the install failed; refreshing the package lists and trying once more");
        if !(apt(&["update"])? && apt(&["install", "-y", name])?) {
            bail!(
                "could not install {system} with apt-get (needs root and Debian's \
                 `{name}` package); install it by hand or pass {option} PATH"
            );
        }
    }
    which(name).with_context(|| {
        format!(
            "apt-get installed {name} but no `{name}` binary is on the PATH or in /usr/bin; \
             pass {option} PATH"
        )
    })
}

/// The first line `bin <flag>` prints, e.g. `victoria-metrics-...-v1.79.5`.
pub fn version(bin: &Path, flag: &str) -> String {
    Command::new(bin)
        .arg(flag)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// VictoriaMetrics' version: what `-version` prints, or, for builds that
/// print nothing there (Debian's), the version of the Debian package that
/// owns the binary, as `victoria-metrics 1.79.5+ds1-2+b5 (Debian package)`.
pub fn vm_version(bin: &Path) -> String {
    let v = version(bin, "-version");
    if v != "unknown" {
        return v;
    }
    debian_package(bin).map_or(v, |(package, version)| {
        format!("{package} {version} (Debian package)")
    })
}

/// Prometheus' version: the version `--version` prints on its first line
/// (`prometheus, version 2.42.0+ds (branch: …, revision: …)`), plus the
/// Debian package's own version when a package owns the binary, as
/// `prometheus 2.42.0+ds (Debian package 2.42.0+ds-5+b6)`.
pub fn prometheus_version(bin: &Path) -> String {
    let line = version(bin, "--version");
    let upstream = line
        .split_once("version ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(|v| format!("prometheus {v}"))
        .unwrap_or(line);
    match debian_package(bin) {
        Some((_, version)) => format!("{upstream} (Debian package {version})"),
        None => upstream,
    }
}

/// The Debian package that owns `bin` and its version (`dpkg -S`, then
/// `dpkg-query -W`), when dpkg knows the file.
fn debian_package(bin: &Path) -> Option<(String, String)> {
    let owner = Command::new("dpkg").arg("-S").arg(bin).output().ok()?;
    if !owner.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&owner.stdout).into_owned();
    let package = text.split(':').next()?.trim().to_owned();
    let v = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", &package])
        .output()
        .ok()
        .filter(|o| o.status.success() && !o.stdout.is_empty())?;
    let version = String::from_utf8_lossy(&v.stdout).trim().to_owned();
    Some((package, version))
}

/// Whether `bin -help` lists `flag` (e.g. `datadog.sanitizeMetricName`).
pub fn has_flag(bin: &Path, flag: &str) -> bool {
    Command::new(bin)
        .arg("-help")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).contains(flag)
                || String::from_utf8_lossy(&o.stderr).contains(flag)
        })
        .unwrap_or(false)
}
