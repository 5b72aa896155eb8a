//! The two servers under test, run as child processes: finding (or
//! installing) their binaries, starting each on a free local port with a
//! fresh data directory, waiting until it answers, and stopping it with
//! SIGTERM.
//!
//! Each server's standard output and error go to `server.log` in a
//! temporary directory of its own (the data directory is beside it), so a
//! failed start can show its last lines. Everything is removed when the
//! [`Server`] is dropped; a server still running then is killed.

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
    /// `whippet` or `victoria-metrics`.
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

    /// The last `n` lines of the server's log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
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
        .env("WHIPPET_LOG", "info");
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
    if let Some(p) = given {
        if !p.is_file() {
            bail!("--vm-bin {} does not exist", p.display());
        }
        return Ok(p.to_path_buf());
    }
    if let Some(p) = which("victoria-metrics") {
        return Ok(p);
    }
    say("victoria-metrics is not installed; running `apt-get install -y victoria-metrics`");
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
    if !apt(&["install", "-y", "victoria-metrics"])? {
        say("the install failed; refreshing the package lists and trying once more");
        if !(apt(&["update"])? && apt(&["install", "-y", "victoria-metrics"])?) {
            bail!(
                "could not install VictoriaMetrics with apt-get (needs root and Debian's \
                 `victoria-metrics` package); install it by hand or pass --vm-bin PATH"
            );
        }
    }
    which("victoria-metrics").context(
        "apt-get installed victoria-metrics but no `victoria-metrics` binary is on the PATH \
         or in /usr/bin; pass --vm-bin PATH",
    )
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
    let owner = Command::new("dpkg")
        .arg("-S")
        .arg(bin)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            Some(text.split(':').next()?.trim().to_owned())
        });
    let Some(package) = owner else {
        return v;
    };
    Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", &package])
        .output()
        .ok()
        .filter(|o| o.status.success() && !o.stdout.is_empty())
        .map_or(v, |o| {
            format!(
                "{package} {} (Debian package)",
                String::from_utf8_lossy(&o.stdout).trim()
            )
        })
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
