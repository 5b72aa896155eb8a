//! The three systems under test, started the same way: each on a free
//! loopback port with a fresh data directory of its own (the servers of
//! `whippet-intake-bench`), and what differs between them: the intake path
//! of each wire format, the keys, how everything is read back, and how the
//! data is made final on disk before it is measured ([`disk`]).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use whippet_intake_bench::http::Conn;
use whippet_intake_bench::payload::{Cut, Format};
use whippet_intake_bench::progress::Log;
use whippet_intake_bench::send::Target;
use whippet_intake_bench::server::{self, Keys, Server};
use whippet_intake_bench::sys;
use whippet_intake_bench::verify::{self, Expect, Stored};

/// A system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum System {
    /// `whippet serve`.
    Whippet,
    /// VictoriaMetrics single-node.
    VictoriaMetrics,
    /// Prometheus server, as a remote-write receiver.
    Prometheus,
}

impl System {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            System::Whippet => "whippet",
            System::VictoriaMetrics => "victoria-metrics",
            System::Prometheus => "prometheus",
        }
    }

    /// The request path for bodies of `format`, when the system takes it.
    pub fn intake_path(self, format: Format) -> Option<&'static str> {
        match (self, format) {
            (System::Whippet, Format::DatadogJson) => Some("/api/v1/series"),
            (System::Whippet, Format::DatadogProtobuf) => Some("/api/v2/series"),
            (System::VictoriaMetrics, Format::DatadogJson) => Some("/datadog/api/v1/series"),
            (System::VictoriaMetrics | System::Prometheus, Format::RemoteWrite) => {
                Some("/api/v1/write")
            }
            _ => None,
        }
    }
}

/// VictoriaMetrics' flags beyond the data directory, the listen address and
/// the retention that `whippet-intake-bench` sets. They change nothing for
/// ingest; they matter for queries.
pub const VM_FLAGS: [&str; 2] = [
    // Whippet has no result cache: with VictoriaMetrics' on, every run after
    // the first would time a cache lookup against an engine.
    "-search.disableCache",
    // The default 30 s hides the newest points; the data set ends two
    // minutes before the run, and nothing may be hidden from one side only.
    "-search.latencyOffset=0s",
];

/// The binaries and their versions.
#[derive(Debug, Clone, Serialize)]
pub struct Binaries {
    /// `target/release/whippet` or `--whippet-bin`.
    pub whippet: PathBuf,
    /// Its `--version`.
    pub whippet_version: String,
    /// `victoria-metrics`.
    pub vm: PathBuf,
    /// Its package version.
    pub vm_version: String,
    /// `prometheus`.
    pub prometheus: PathBuf,
    /// Its version.
    pub prometheus_version: String,
}

/// A running system.
pub struct Running {
    /// Which one.
    pub system: System,
    /// The process.
    pub server: Server,
    /// Whippet's keys.
    keys: Option<Keys>,
}

/// The keys Whippet's org is created with (any printable ASCII will do).
fn keys() -> Keys {
    Keys {
        api: "whippetbenchapikey000000000000001".into(),
        app: "whippetbenchappkey0000000000000000000001".into(),
    }
}

/// Starts `system` fresh.
pub fn start(system: System, bins: &Binaries, log: &Log) -> Result<Running> {
    let (server, keys) = match system {
        System::Whippet => {
            let k = keys();
            (server::start_whippet(&bins.whippet, &k)?, Some(k))
        }
        System::VictoriaMetrics => (server::start_vm_with(&bins.vm, &VM_FLAGS)?, None),
        System::Prometheus => (server::start_prometheus(&bins.prometheus, &[])?, None),
    };
    log.say(format!(
        "{} is up on {} (pid {})",
        system.name(),
        server.addr,
        server.pid()
    ));
    Ok(Running {
        system,
        server,
        keys,
    })
}

impl Running {
    /// Headers every request to this system carries (Whippet's keys).
    pub fn auth_headers(&self) -> Vec<(String, String)> {
        match &self.keys {
            Some(k) => vec![
                ("DD-API-KEY".into(), k.api.clone()),
                ("DD-APPLICATION-KEY".into(), k.app.clone()),
            ],
            None => Vec::new(),
        }
    }

    /// Where bodies cut as `cut` are sent: the system's intake path for
    /// the format, with the bodies' headers and the keys. Both the
    /// measured ingest runs and the scaling study's loading send through
    /// it, so the two cannot drift apart.
    pub fn intake(&self, cut: &Cut) -> Result<Target> {
        let Some(path) = self.system.intake_path(cut.format) else {
            bail!(
                "{} takes no {} bodies",
                self.system.name(),
                cut.format.name()
            );
        };
        let mut headers = cut.headers();
        headers.extend(self.auth_headers());
        Ok(Target {
            addr: self.server.addr,
            path: path.into(),
            headers,
        })
    }
}

/// Reads every point back and checks the totals; fails when the system
/// holds other series or point counts than the data set.
pub fn read_back(srv: &Running, exp: &Expect<'_>, log: &Log) -> Result<Stored> {
    let addr = srv.server.addr;
    let stored = match (&srv.keys, srv.system) {
        (Some(k), System::Whippet) => verify::whippet(addr, &k.api, &k.app, exp),
        (_, System::VictoriaMetrics) => verify::victoria_metrics(addr, exp),
        (_, System::Prometheus) => verify::prometheus(addr, exp),
        (None, System::Whippet) => bail!("whippet started without keys"),
    };
    let stored = match stored {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "{} log tail:\n{}",
                srv.system.name(),
                srv.server.log_tail(20)
            );
            return Err(e);
        }
    };
    log.say(format!(
        "{}: read back {} series, {} points (expected {} / {}) in {:.1} s; values {}",
        srv.system.name(),
        stored.series,
        stored.points,
        exp.series,
        exp.points,
        stored.read_secs,
        if stored.values_identical {
            "bit-identical"
        } else {
            "DIFFER"
        }
    ));
    if stored.series != exp.series || stored.points != exp.points {
        bail!(
            "{} holds {} series / {} points, the data set {} / {}",
            srv.system.name(),
            stored.series,
            stored.points,
            exp.series,
            exp.points
        );
    }
    Ok(stored)
}

/// Bytes on disk after flush and merge.
#[derive(Debug, Clone, Serialize)]
pub struct Disk {
    /// The system.
    pub system: System,
    /// How the data was made final before measuring.
    pub method: String,
    /// Bytes of the stored data (what is counted per point).
    pub bytes: u64,
    /// Points stored.
    pub points: u64,
    /// `bytes / points`.
    pub bytes_per_point: f64,
    /// What else the data directory held, not counted (name, bytes).
    pub not_counted: Vec<(String, u64)>,
}

/// Makes the data final on disk, measures it, and stops the system:
///
/// - Whippet: SIGTERM (the head is written to parts), then
///   `whippet storage compact` merges each day partition into one part;
///   counted: the whole data directory (parts, catalog, tag index, the
///   now empty WAL, the metadata store).
/// - VictoriaMetrics: `/internal/force_flush`, then `/internal/force_merge`
///   (every partition into as few parts as it can), wait until it is
///   quiet, SIGTERM; counted: `data/` and `indexdb/`; not counted: the
///   caches it saves on shutdown (`cache/`), which it rebuilds when absent.
/// - Prometheus: a TSDB snapshot with the head (`/api/v1/admin/tsdb/
///   snapshot`) writes everything as a compacted block, which is counted;
///   the WAL and head chunks of the live directory are not (they are what
///   the block replaces once Prometheus compacts its head, which it does
///   only when the head spans 1.5 × its 2 h block range).
pub fn disk(mut srv: Running, points: u64, bins: &Binaries, hz: f64, log: &Log) -> Result<Disk> {
    let data = srv.server.data_dir();
    let (method, bytes, not_counted) = match srv.system {
        System::Whippet => {
            srv.server.stop()?;
            let out = Command::new(&bins.whippet)
                .args(["storage", "compact", "--data-dir"])
                .arg(&data)
                .output()
                .context("running whippet storage compact")?;
            if !out.status.success() {
                bail!(
                    "whippet storage compact failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let text = String::from_utf8_lossy(&out.stdout);
            log.say(format!(
                "whippet: {}",
                text.lines().next().unwrap_or_default()
            ));
            (
                "SIGTERM, then `whippet storage compact` (one part per day partition); \
                 the whole data directory"
                    .to_owned(),
                server::dir_bytes(&data),
                Vec::new(),
            )
        }
        System::VictoriaMetrics => {
            let mut c = Conn::new(srv.server.addr);
            for path in ["/internal/force_flush", "/internal/force_merge"] {
                let r = c.request("GET", path, &[], b"")?;
                if !r.is_success() {
                    bail!("victoria-metrics: {path}: HTTP {}", r.status);
                }
            }
            // The merge runs in the background: give it a moment to start,
            // then wait until the process is quiet.
            std::thread::sleep(Duration::from_secs(2));
            let secs = sys::settle(&srv.server.pid(), hz, Duration::from_secs(300));
            log.say(format!("victoria-metrics: merged, quiet after {secs:.1} s"));
            srv.server.stop()?;
            let counted =
                server::dir_bytes(&data.join("data")) + server::dir_bytes(&data.join("indexdb"));
            let cache = server::dir_bytes(&data.join("cache"));
            (
                "`/internal/force_flush` and `/internal/force_merge`, quiet, SIGTERM; \
                 `data/` and `indexdb/`"
                    .to_owned(),
                counted,
                vec![("cache/".to_owned(), cache)],
            )
        }
        System::Prometheus => {
            let (path, bytes) = server::prometheus_snapshot(&srv.server)?;
            log.say(format!("prometheus: snapshot at {}", path.display()));
            let wal = server::dir_bytes(&data.join("wal"));
            let head = server::dir_bytes(&data.join("chunks_head"));
            srv.server.stop()?;
            (
                "TSDB snapshot with the head (one compacted block)".to_owned(),
                bytes,
                vec![("wal/".to_owned(), wal), ("chunks_head/".to_owned(), head)],
            )
        }
    };
    let d = Disk {
        system: srv.system,
        method,
        bytes,
        points,
        bytes_per_point: bytes as f64 / points as f64,
        not_counted,
    };
    log.say(format!(
        "{}: {} on disk, {:.3} bytes per point",
        d.system.name(),
        whippet_intake_bench::report::bytes(d.bytes),
        d.bytes_per_point
    ));
    Ok(d)
}
