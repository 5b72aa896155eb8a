//! `whippet serve` as the monitor bench runs it: a fresh data directory, a
//! free local port, known keys, and the two settings this bench needs that
//! `whippet_intake_bench::server::start_whippet` does not take: the monitor
//! cadence (`WHIPPET_MONITOR_INTERVAL_SECS`) and a log filter that prints
//! one debug line per monitor round (`whippet::alerting::schedule=debug`,
//! which carries the round's count of distinct metric evaluations; nothing
//! else in the server says it).
//!
//! # What it owns
//! Starting, waiting for `GET /api/v1/validate`, reading the log, and
//! stopping with SIGTERM. The free port, the signal and the HTTP client are
//! intake-bench's ([`free_addr`], [`signal`], [`Conn`]); only the
//! environment differs from its `start_whippet` (every other setting at its
//! default, self-monitoring writes off, DogStatsD off).
//!
//! # What it must never do
//! Leave the process running or the directory behind: both go when the
//! [`Whippet`] is dropped.

use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use whippet_intake_bench::http::Conn;
use whippet_intake_bench::server::{Keys, free_addr, signal};

/// How long the server may take to answer its readiness check (an empty
/// data directory opens in well under a second; this covers a machine busy
/// compiling).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server may take to stop after SIGTERM (it writes its head
/// to parts) before it is killed; intake-bench allows the same.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// The log filter: the server's default (`info`) plus the scheduler's
/// per-round debug line (`monitor round stats=RoundStats { monitors, evaluations, ... }`).
const LOG_FILTER: &str = "info,whippet::alerting::schedule=debug";

/// A running `whippet serve`.
pub struct Whippet {
    /// Its HTTP address.
    pub addr: SocketAddr,
    /// Its process id, as `/proc/<pid>` spells it.
    pub pid: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Whippet {
    /// Starts `bin serve` with monitor rounds every `interval_secs`; returns
    /// once `GET /api/v1/validate` answers 200.
    pub fn start(bin: &Path, keys: &Keys, interval_secs: u64) -> Result<Whippet> {
        let dir = tempfile::Builder::new()
            .prefix("whippet-monitor-bench-")
            .tempdir()
            .context("creating a temporary directory")?;
        let addr = free_addr()?;
        let mut cmd = Command::new(bin);
        // Nothing from the caller's environment may change the configuration.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("WHIPPET_") {
                cmd.env_remove(k);
            }
        }
        let log = File::create(dir.path().join("server.log")).context("creating the log")?;
        cmd.arg("serve")
            .env("WHIPPET_DATA_DIR", dir.path().join("data"))
            .env("WHIPPET_HTTP_ADDR", addr.to_string())
            .env("WHIPPET_DOGSTATSD_ADDR", "")
            .env("WHIPPET_API_KEY", &keys.api)
            .env("WHIPPET_APP_KEY", &keys.app)
            .env("WHIPPET_SELF_MONITORING_INTERVAL_SECS", "0")
            .env("WHIPPET_MONITOR_INTERVAL_SECS", interval_secs.to_string())
            .env("WHIPPET_LOG", LOG_FILTER)
            // Plain log lines, for [`logged_rounds`].
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut w = Whippet {
            addr,
            pid: child.id().to_string(),
            child: Some(child),
            dir,
        };
        w.wait_ready(keys)?;
        Ok(w)
    }

    fn wait_ready(&mut self, keys: &Keys) -> Result<()> {
        let t = Instant::now();
        let mut last = String::new();
        while t.elapsed() < START_TIMEOUT {
            if let Some(c) = self.child.as_mut()
                && let Some(status) = c.try_wait()?
            {
                self.child = None;
                bail!(
                    "whippet exited during start-up ({status}); its log ends with:\n{}",
                    self.log_tail(30)
                );
            }
            let mut c = Conn::new(self.addr);
            match c.request("GET", "/api/v1/validate", &[("DD-API-KEY", &keys.api)], b"") {
                Ok(r) if r.status == 200 => return Ok(()),
                Ok(r) => last = format!("{} {}", r.status, r.body_snippet()),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "whippet did not answer /api/v1/validate within {START_TIMEOUT:?} (last: {last}); its log ends with:\n{}",
            self.log_tail(30)
        )
    }

    /// The whole server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// SIGTERM, then waits (SIGKILL after [`STOP_TIMEOUT`]); the seconds it
    /// took.
    pub fn stop(&mut self) -> Result<f64> {
        let Some(mut child) = self.child.take() else {
            bail!("whippet is not running");
        };
        let t = Instant::now();
        signal(child.id(), "TERM")?;
        loop {
            if child.try_wait()?.is_some() {
                return Ok(t.elapsed().as_secs_f64());
            }
            if t.elapsed() > STOP_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                bail!("whippet did not stop within {STOP_TIMEOUT:?} of SIGTERM and was killed");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Whippet {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The distinct metric evaluations of each round the server logged at
/// debug level, oldest first (`... monitor round stats=RoundStats {
/// monitors: 1000, evaluations: 612, ... }`): (monitors, evaluations).
pub fn logged_rounds(log: &str) -> Vec<(u64, u64)> {
    let field = |line: &str, name: &str| -> Option<u64> {
        let rest = &line[line.find(name)? + name.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    log.lines()
        .filter(|l| l.contains("monitor round") && l.contains("RoundStats"))
        .filter_map(|l| Some((field(l, "monitors: ")?, field(l, "evaluations: ")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_lines_are_read() {
        let log = "2026-11-27T10:00:00Z  INFO whippet::server: listening\n\
                   2026-11-27T10:01:00Z DEBUG whippet::alerting::schedule: monitor round stats=RoundStats { monitors: 1000, evaluations: 612, transitions: 3, notifications: 0 } seconds=0.8\n";
        assert_eq!(logged_rounds(log), vec![(1000, 612)]);
    }
}
