//! Configuration of Whippet, in layers.
//!
//! Each setting has one name in each layer: a key in the TOML file, a
//! `WHIPPET_*` environment variable and a `--flag`. Layers apply in this
//! order, later ones winning: the defaults ([`Config::default`], the one
//! place that holds them), the TOML file (`--config` / `WHIPPET_CONFIG`),
//! the environment, then the flags. Everything is parsed and validated
//! before anything starts; an error names the setting and the layer it came
//! from.
//!
//! For the listener addresses an empty value (`WHIPPET_DOGSTATSD_ADDR=`)
//! turns the listener off.
//!
//! Besides its simple settings, the file may hold the notification tables
//! `[[webhooks]]`, `[slack]` and `[smtp]` ([`notifications`]): they have
//! no flag, and no environment variable but `WHIPPET_SMTP_PASSWORD`
//! (`[smtp] password`, which it overrides); they are validated with the
//! other settings.
//!
//! The first admin's password comes from the environment only
//! ([`ADMIN_PASSWORD_ENV`]): not a flag, which `ps` would show, nor a file
//! key. It is a public contract name, kept stable.

pub mod notifications;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use whippet_tsdb::{EngineConfig, FsyncPolicy, parse_duration_ms};

pub use notifications::NotificationConfig;

/// The environment variable with the password of the first admin
/// (`admin@localhost`), created when the default org has no user yet;
/// absent or empty, a password is generated and printed once.
pub const ADMIN_PASSWORD_ENV: &str = "WHIPPET_ADMIN_PASSWORD";

/// The file's tables that are not [`SETTINGS`] but
/// [`NotificationConfig`]'s.
const NOTIFICATION_TABLES: &[&str] = &["webhooks", "slack", "smtp"];

/// Every setting: TOML key, environment variable, flag, and what it means.
/// The table is the reference `whippet serve --help` and the README follow.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "data_dir",
        env: "WHIPPET_DATA_DIR",
        flag: "--data-dir",
        help: "where all data lives (default ./whippet-data)",
    },
    Setting {
        key: "http_addr",
        env: "WHIPPET_HTTP_ADDR",
        flag: "--http-addr",
        help: "HTTP API and intake listener (default 127.0.0.1:8080; empty: off)",
    },
    Setting {
        key: "dogstatsd_addr",
        env: "WHIPPET_DOGSTATSD_ADDR",
        flag: "--dogstatsd-addr",
        help: "DogStatsD UDP listener (default 127.0.0.1:8125; empty: off)",
    },
    Setting {
        key: "dogstatsd_socket",
        env: "WHIPPET_DOGSTATSD_SOCKET",
        flag: "--dogstatsd-socket",
        help: "DogStatsD Unix datagram socket path (default: none)",
    },
    Setting {
        key: "metadata_url",
        env: "WHIPPET_METADATA_URL",
        flag: "--metadata-url",
        help: "metadata store: postgres://... (default: SQLite file meta.db in the data dir)",
    },
    Setting {
        key: "retention",
        env: "WHIPPET_RETENTION",
        flag: "--retention",
        help: "how long metric points are kept, e.g. 30d, 15mo, 100y (default 15mo)",
    },
    Setting {
        key: "fsync",
        env: "WHIPPET_FSYNC",
        flag: "--fsync",
        help: "WAL sync: `always` or an interval such as 1s (default 1s)",
    },
    Setting {
        key: "max_active_series",
        env: "WHIPPET_MAX_ACTIVE_SERIES",
        flag: "--max-active-series",
        help: "active series allowed per org (default 1000000)",
    },
    Setting {
        key: "api_key",
        env: "WHIPPET_API_KEY",
        flag: "--api-key",
        help: "API key of the default org created on first start (default: generated and printed once)",
    },
    Setting {
        key: "app_key",
        env: "WHIPPET_APP_KEY",
        flag: "--app-key",
        help: "application key of the default org created on first start (default: generated and printed once)",
    },
    Setting {
        key: "self_monitoring_interval_secs",
        env: "WHIPPET_SELF_MONITORING_INTERVAL_SECS",
        flag: "--self-monitoring-interval-secs",
        help: "how often Whippet writes its own whippet.* metrics into its store; 0: never (default 10)",
    },
    Setting {
        key: "monitor_interval_secs",
        env: "WHIPPET_MONITOR_INTERVAL_SECS",
        flag: "--monitor-interval-secs",
        help: "seconds between two evaluations of every monitor (Datadog's cadence is 60); 0: monitors are not evaluated (default 60)",
    },
    Setting {
        key: "max_concurrent_requests",
        env: "WHIPPET_MAX_CONCURRENT_REQUESTS",
        flag: "--max-concurrent-requests",
        help: "intake requests processed at once; more get 503 with Retry-After (default 64)",
    },
    Setting {
        key: "chunk_cache_mb",
        env: "WHIPPET_CHUNK_CACHE_MB",
        flag: "--chunk-cache-mb",
        help: "MiB of decoded chunks kept so repeated queries skip decompression; 0: off (default 256)",
    },
    Setting {
        key: "query_max_series",
        env: "WHIPPET_QUERY_MAX_SERIES",
        flag: "--query-max-series",
        help: "most series one metric query may select; more is refused with 400 (default 200000)",
    },
    Setting {
        key: "query_max_points",
        env: "WHIPPET_QUERY_MAX_POINTS",
        flag: "--query-max-points",
        help: "most raw points one metric query may read; more is refused with 400 (default 500000000)",
    },
    Setting {
        key: "promql_lookback_delta",
        env: "WHIPPET_PROMQL_LOOKBACK_DELTA",
        flag: "--promql-lookback-delta",
        help: "how far back a PromQL selector looks for a series' latest sample, as Prometheus' --query.lookback-delta (default 5m)",
    },
    Setting {
        key: "promql_max_samples",
        env: "WHIPPET_PROMQL_MAX_SAMPLES",
        flag: "--promql-max-samples",
        help: "most samples one PromQL query may hold at once, as Prometheus' --query.max-samples (default 50000000)",
    },
    Setting {
        key: "prom_write_max_labels_per_series",
        env: "WHIPPET_PROM_WRITE_MAX_LABELS_PER_SERIES",
        flag: "--prom-write-max-labels-per-series",
        help: "most labels (__name__ included) of a remote-written series; more is refused with 400 (default 40, at most 257)",
    },
];

/// One setting's names.
#[derive(Debug)]
pub struct Setting {
    /// Key in the TOML file.
    pub key: &'static str,
    /// Environment variable.
    pub env: &'static str,
    /// Command-line flag.
    pub flag: &'static str,
    /// One-line meaning and default.
    pub help: &'static str,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where all data lives: the storage engine's files and, by default, the
    /// SQLite metadata store.
    pub data_dir: PathBuf,
    /// HTTP API and intake listener; `None` when turned off.
    pub http_addr: Option<SocketAddr>,
    /// DogStatsD UDP listener; `None` when turned off.
    pub dogstatsd_addr: Option<SocketAddr>,
    /// DogStatsD Unix datagram socket; `None` when not wanted.
    pub dogstatsd_socket: Option<PathBuf>,
    /// `postgres://...` for PostgreSQL; `None` for SQLite in the data dir.
    pub metadata_url: Option<String>,
    /// Retention of metric points, in milliseconds.
    pub retention_ms: i64,
    /// WAL sync policy.
    pub fsync: FsyncPolicy,
    /// Active series allowed per org.
    pub max_active_series: u64,
    /// API key to give the default org on first start.
    pub api_key: Option<String>,
    /// Application key to give the default org on first start.
    pub app_key: Option<String>,
    /// Seconds between writes of Whippet's own metrics; 0 turns it off.
    pub self_monitoring_interval_secs: u64,
    /// Seconds between two evaluations of every monitor; 0 turns
    /// evaluation off. Datadog evaluates about once a minute; tests use 1.
    pub monitor_interval_secs: u64,
    /// Intake requests processed at once.
    pub max_concurrent_requests: usize,
    /// What one metric query may cost.
    pub query_limits: whippet_query::QueryLimits,
    /// MiB of decoded chunks the storage engine keeps for queries; 0: off.
    pub chunk_cache_mb: usize,
    /// How PromQL queries are evaluated: the lookback (default 5 minutes)
    /// and the sample limit (default 50 million), Prometheus' defaults.
    pub promql: whippet_promql::EvalOptions,
    /// What one remote write request may hold (`whippet_prom_write::Limits`:
    /// each field's doc gives its default and why); only the labels per
    /// series are a setting.
    pub prom_write_limits: whippet_prom_write::Limits,
    /// Where notifications go besides the API's webhooks: the file's
    /// `[[webhooks]]`, `[slack]` and `[smtp]` tables (file only; see
    /// [`notifications`] for their reference). Default: none.
    pub notifications: NotificationConfig,
    /// The first admin's password, from [`ADMIN_PASSWORD_ENV`]; `None`:
    /// generated at start-up (and only when there is no user yet).
    pub admin_password: Option<AdminPassword>,
}

/// A password given in the environment. Its `Debug` does not show it, so
/// printing the configuration cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminPassword(pub String);

impl std::fmt::Debug for AdminPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminPassword(<redacted>)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./whippet-data"),
            http_addr: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            dogstatsd_addr: Some(SocketAddr::from(([127, 0, 0, 1], 8125))),
            dogstatsd_socket: None,
            metadata_url: None,
            retention_ms: EngineConfig::default().retention_ms,
            fsync: FsyncPolicy::default(),
            max_active_series: EngineConfig::default().max_active_series_per_org,
            api_key: None,
            app_key: None,
            self_monitoring_interval_secs: 10,
            monitor_interval_secs: 60,
            // Intake requests are short (parse, one WAL append); 64 in flight
            // keeps both cores busy while bounding the memory of bodies held
            // at once to 64 × the 62 MiB decompressed limit in the worst case.
            max_concurrent_requests: 64,
            query_limits: whippet_query::QueryLimits::default(),
            chunk_cache_mb: EngineConfig::default().chunk_cache_bytes >> 20,
            promql: whippet_promql::EvalOptions::default(),
            prom_write_limits: whippet_prom_write::Limits::default(),
            notifications: NotificationConfig::default(),
            admin_password: None,
        }
    }
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The TOML file at this path.
    File(PathBuf),
    /// The environment variable.
    Env(&'static str),
    /// The command-line flag.
    Flag(&'static str),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "config file {}", p.display()),
            Source::Env(v) => write!(f, "environment variable {v}"),
            Source::Flag(v) => write!(f, "flag {v}"),
        }
    }
}

/// Raw textual values per setting key, with their source. Later layers
/// overwrite earlier ones.
#[derive(Debug, Default, Clone)]
pub struct Layers {
    values: BTreeMap<&'static str, (String, Source)>,
    /// The file's notification tables as written (validated by
    /// `resolve`, once the environment's SMTP password is in).
    notifications: NotificationConfig,
    /// The file they came from, for error messages.
    notifications_file: Option<PathBuf>,
    /// `WHIPPET_SMTP_PASSWORD`.
    smtp_password: Option<String>,
    /// [`ADMIN_PASSWORD_ENV`], when set and not empty.
    admin_password: Option<String>,
}

impl Layers {
    /// Adds the TOML file's values and its notification tables
    /// ([`NotificationConfig`], their values validated by `resolve`).
    /// Unknown keys are an error (a typo must not be silently ignored).
    pub fn file(&mut self, path: &std::path::Path, text: &str) -> Result<(), String> {
        let table: toml::Table = text
            .parse()
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        self.notifications = NotificationConfig::read(text)
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        self.notifications_file = Some(path.to_path_buf());
        for (k, v) in table {
            if NOTIFICATION_TABLES.contains(&k.as_str()) {
                continue;
            }
            let Some(s) = SETTINGS.iter().find(|s| s.key == k) else {
                let known: Vec<String> = SETTINGS
                    .iter()
                    .map(|s| format!("  {} ({}, {}): {}", s.key, s.env, s.flag, s.help))
                    .collect();
                return Err(format!(
                    "config file {}: unknown setting `{k}`; the settings are:\n{}\n\
                     and the tables [[webhooks]], [slack] and [smtp] (notifications)",
                    path.display(),
                    known.join("\n")
                ));
            };
            let text = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "config file {}: `{k}` must be a string or a number, not {}",
                        path.display(),
                        other.type_str()
                    ));
                }
            };
            self.values
                .insert(s.key, (text, Source::File(path.to_path_buf())));
        }
        Ok(())
    }

    /// Adds the environment's values (`get` reads a variable; pass
    /// `std::env::var` in production and a map in tests).
    pub fn env(&mut self, get: impl Fn(&str) -> Option<String>) {
        self.smtp_password = get(notifications::SMTP_PASSWORD_ENV);
        self.admin_password = get(ADMIN_PASSWORD_ENV).filter(|p| !p.is_empty());
        for s in SETTINGS {
            if let Some(v) = get(s.env) {
                self.values.insert(s.key, (v, Source::Env(s.env)));
            }
        }
    }

    /// Adds a flag's value.
    pub fn flag(&mut self, key: &'static str, value: Option<String>) {
        let s = SETTINGS
            .iter()
            .find(|s| s.key == key)
            .expect("known setting");
        if let Some(v) = value {
            self.values.insert(s.key, (v, Source::Flag(s.flag)));
        }
    }

    /// Parses and validates every value over the defaults.
    pub fn resolve(&self) -> Result<Config, String> {
        let mut notifications = self.notifications.clone();
        if let Some(p) = &self.smtp_password {
            notifications.set_smtp_password(p.clone())?;
        }
        notifications
            .validate()
            .map_err(|e| match &self.notifications_file {
                Some(f) => format!("config file {}: {e}", f.display()),
                None => e,
            })?;
        let mut c = Config {
            notifications,
            admin_password: self.admin_password.clone().map(AdminPassword),
            ..Config::default()
        };
        for (key, (v, src)) in &self.values {
            let bad = |why: String| format!("{src}: {why}");
            match *key {
                "data_dir" => {
                    if v.trim().is_empty() {
                        return Err(bad("the data directory must not be empty".into()));
                    }
                    c.data_dir = PathBuf::from(v);
                }
                "http_addr" => c.http_addr = parse_addr(v).map_err(bad)?,
                "dogstatsd_addr" => c.dogstatsd_addr = parse_addr(v).map_err(bad)?,
                "dogstatsd_socket" => {
                    c.dogstatsd_socket = (!v.is_empty()).then(|| PathBuf::from(v))
                }
                "metadata_url" => {
                    c.metadata_url = if v.is_empty() {
                        None
                    } else if v.starts_with("postgres://")
                        || v.starts_with("postgresql://")
                        || v.starts_with("sqlite://")
                    {
                        Some(v.clone())
                    } else {
                        return Err(bad(format!(
                            "`{v}` is not a postgres://, postgresql:// or sqlite:// URL"
                        )));
                    }
                }
                "retention" => {
                    let ms = parse_duration_ms(v).map_err(bad)?;
                    if ms <= 0 {
                        return Err(bad("retention must be positive".into()));
                    }
                    c.retention_ms = ms;
                }
                "fsync" => c.fsync = v.parse().map_err(bad)?,
                "max_active_series" => {
                    c.max_active_series = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("`{v}` is not a positive whole number")))?
                }
                "api_key" => c.api_key = Some(check_key(v).map_err(bad)?),
                "app_key" => c.app_key = Some(check_key(v).map_err(bad)?),
                "monitor_interval_secs" => {
                    c.monitor_interval_secs = v
                        .parse()
                        .map_err(|_| bad(format!("`{v}` is not a whole number of seconds")))?
                }
                "self_monitoring_interval_secs" => {
                    c.self_monitoring_interval_secs = v
                        .parse()
                        .map_err(|_| bad(format!("`{v}` is not a whole number of seconds")))?
                }
                "chunk_cache_mb" => {
                    c.chunk_cache_mb = v
                        .parse()
                        .ok()
                        .filter(|n: &usize| *n <= 1 << 20)
                        .ok_or_else(|| {
                            bad(format!("`{v}` is not a whole number of MiB (0 to 1048576)"))
                        })?
                }
                "promql_lookback_delta" => {
                    let ms = parse_duration_ms(v).map_err(bad)?;
                    if ms <= 0 {
                        return Err(bad("the lookback must be positive".into()));
                    }
                    c.promql.lookback_ms = ms;
                }
                "promql_max_samples" => {
                    c.promql.max_samples = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("`{v}` is not a positive whole number")))?
                }
                "prom_write_max_labels_per_series" => {
                    let mut limits = c.prom_write_limits.clone();
                    limits.max_labels_per_series = v
                        .parse()
                        .map_err(|_| bad(format!("`{v}` is not a whole number")))?;
                    limits.check().map_err(|e| bad(e.to_string()))?;
                    c.prom_write_limits = limits;
                }
                "query_max_series" => {
                    c.query_limits.max_series = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("`{v}` is not a positive whole number")))?
                }
                "query_max_points" => {
                    c.query_limits.max_points = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("`{v}` is not a positive whole number")))?
                }
                "max_concurrent_requests" => {
                    c.max_concurrent_requests = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("`{v}` is not a positive whole number")))?
                }
                other => unreachable!("setting {other} has no parser"),
            }
        }
        Ok(c)
    }
}

fn parse_addr(v: &str) -> Result<Option<SocketAddr>, String> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    v.trim().parse().map(Some).map_err(|_| {
        format!("`{v}` is not an address such as 127.0.0.1:8080 (empty turns the listener off)")
    })
}

fn check_key(v: &str) -> Result<String, String> {
    if v.is_empty() || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a key must be 1 to 128 printable ASCII characters without spaces".into());
    }
    Ok(v.to_owned())
}

impl Config {
    /// The storage engine's configuration.
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            retention_ms: self.retention_ms,
            fsync: self.fsync,
            max_active_series_per_org: self.max_active_series,
            chunk_cache_bytes: self.chunk_cache_mb << 20,
            ..EngineConfig::default()
        }
    }

    /// The metadata store's URL: the configured one, or the SQLite file in
    /// the data directory.
    pub fn metadata_url(&self) -> String {
        self.metadata_url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("meta.db").display().to_string())
    }

    /// Where the storage engine keeps its files.
    pub fn tsdb_dir(&self) -> PathBuf {
        self.data_dir.join("tsdb")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults_stand_alone() {
        let c = Layers::default().resolve().unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.http_addr.unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(c.dogstatsd_addr.unwrap().to_string(), "127.0.0.1:8125");
        assert!(c.metadata_url().ends_with("whippet-data/meta.db"));
    }

    #[test]
    fn later_layers_win_file_then_env_then_flags() {
        let mut l = Layers::default();
        let path = std::path::Path::new("/etc/whippet.toml");
        l.file(path, "http_addr = \"0.0.0.0:9000\"\nretention = \"30d\"\nmax_active_series = 5\ndata_dir = \"/file\"").unwrap();
        l.env(env(&[
            ("WHIPPET_RETENTION", "60d"),
            ("WHIPPET_DATA_DIR", "/env"),
        ]));
        l.flag("data_dir", Some("/flag".into()));
        l.flag("http_addr", None);
        let c = l.resolve().unwrap();
        assert_eq!(
            c.http_addr.unwrap().to_string(),
            "0.0.0.0:9000",
            "from the file"
        );
        assert_eq!(c.retention_ms, 60 * 86_400_000, "env over file");
        assert_eq!(c.data_dir, PathBuf::from("/flag"), "flag over env");
        assert_eq!(c.max_active_series, 5);
    }

    #[test]
    fn an_empty_address_turns_a_listener_off() {
        let mut l = Layers::default();
        l.env(env(&[("WHIPPET_DOGSTATSD_ADDR", "")]));
        let c = l.resolve().unwrap();
        assert_eq!(c.dogstatsd_addr, None);
        assert!(c.http_addr.is_some());
        let mut l = Layers::default();
        l.flag("http_addr", Some(String::new()));
        assert_eq!(l.resolve().unwrap().http_addr, None);
    }

    #[test]
    fn errors_name_the_setting_and_its_layer() {
        let mut l = Layers::default();
        l.env(env(&[("WHIPPET_HTTP_ADDR", "localhost")]));
        let e = l.resolve().unwrap_err();
        assert!(
            e.contains("WHIPPET_HTTP_ADDR") && e.contains("localhost"),
            "{e}"
        );
        let mut l = Layers::default();
        l.flag("retention", Some("30".into()));
        let e = l.resolve().unwrap_err();
        assert!(
            e.contains("--retention") && e.contains("missing unit"),
            "{e}"
        );
        let mut l = Layers::default();
        let e = l
            .file(std::path::Path::new("w.toml"), "retension = \"30d\"")
            .unwrap_err();
        assert!(e.contains("unknown setting `retension`"), "{e}");
        let e = l
            .file(std::path::Path::new("w.toml"), "retention = [1]")
            .unwrap_err();
        assert!(e.contains("string or a number"), "{e}");
        let mut l = Layers::default();
        l.env(env(&[("WHIPPET_METADATA_URL", "mysql://x")]));
        assert!(l.resolve().unwrap_err().contains("postgres://"));
        let mut l = Layers::default();
        l.env(env(&[("WHIPPET_API_KEY", "has space")]));
        assert!(l.resolve().is_err());
    }

    #[test]
    fn prometheus_settings() {
        let mut l = Layers::default();
        l.env(env(&[
            ("WHIPPET_PROMQL_LOOKBACK_DELTA", "2m"),
            ("WHIPPET_PROM_WRITE_MAX_LABELS_PER_SERIES", "60"),
        ]));
        l.flag("promql_max_samples", Some("1000".into()));
        let c = l.resolve().unwrap();
        assert_eq!(c.promql.lookback_ms, 120_000);
        assert_eq!(c.promql.max_samples, 1000);
        assert_eq!(c.prom_write_limits.max_labels_per_series, 60);
        // Over what the storage engine can hold: refused, saying why.
        let mut l = Layers::default();
        l.flag("prom_write_max_labels_per_series", Some("300".into()));
        let e = l.resolve().unwrap_err();
        assert!(
            e.contains("--prom-write-max-labels-per-series") && e.contains("at most 257"),
            "{e}"
        );
        let mut l = Layers::default();
        l.flag("promql_lookback_delta", Some("0s".into()));
        assert!(l.resolve().unwrap_err().contains("positive"));
    }

    #[test]
    fn the_file_carries_the_notification_tables() {
        let mut l = Layers::default();
        let path = std::path::Path::new("w.toml");
        l.file(
            path,
            "retention = \"30d\"\n[smtp]\nhost = \"mail\"\nfrom = \"w@example.com\"\n\
             [slack.channels]\nops = \"http://chat/hook\"",
        )
        .unwrap();
        let c = l.resolve().unwrap();
        assert_eq!(c.retention_ms, 30 * 86_400_000);
        assert_eq!(c.notifications.smtp.as_ref().unwrap().port, 25);
        assert_eq!(
            c.notifications.slack.as_ref().unwrap().url_for("ops"),
            Some("http://chat/hook")
        );
        let mut l = Layers::default();
        l.file(path, "[smtp]\nhost = \"mail\"\nfrom = \"nobody\"")
            .unwrap();
        let e = l.resolve().unwrap_err();
        assert!(
            e.starts_with("config file w.toml: [smtp] `from` \"nobody\""),
            "{e}"
        );
        let e = Layers::default()
            .file(path, "[slak.channels]\nops = \"http://x/\"")
            .unwrap_err();
        assert!(
            e.contains("unknown setting `slak`") && e.contains("[slack]"),
            "{e}"
        );
    }

    #[test]
    fn the_admin_password_comes_from_the_environment_and_is_not_shown() {
        assert_eq!(Layers::default().resolve().unwrap().admin_password, None);
        let mut l = Layers::default();
        l.env(env(&[(ADMIN_PASSWORD_ENV, "")]));
        assert_eq!(l.resolve().unwrap().admin_password, None, "empty: none");
        let mut l = Layers::default();
        l.env(env(&[(ADMIN_PASSWORD_ENV, "s3cret-pass")]));
        let c = l.resolve().unwrap();
        assert_eq!(c.admin_password, Some(AdminPassword("s3cret-pass".into())));
        assert!(!format!("{c:?}").contains("s3cret-pass"));
    }

    #[test]
    fn the_smtp_password_may_come_from_the_environment() {
        let path = std::path::Path::new("w.toml");
        let file = "[smtp]\nhost = \"mail\"\nfrom = \"w@example.com\"\nport = 587\n\
                    starttls = \"required\"\nusername = \"whippet\"";
        let mut l = Layers::default();
        l.file(path, file).unwrap();
        let e = l.resolve().unwrap_err();
        assert!(e.contains("`username` is set without `password`"), "{e}");
        l.env(env(&[("WHIPPET_SMTP_PASSWORD", "from-env")]));
        let c = l.resolve().unwrap();
        let smtp = c.notifications.smtp.as_ref().unwrap();
        assert_eq!(smtp.credentials(), Some(("whippet", "from-env")));
        // It wins over the file's.
        let mut l = Layers::default();
        l.file(path, &format!("{file}\npassword = \"from-file\""))
            .unwrap();
        l.env(env(&[("WHIPPET_SMTP_PASSWORD", "from-env")]));
        let c = l.resolve().unwrap();
        let smtp = c.notifications.smtp.as_ref().unwrap();
        assert_eq!(smtp.credentials(), Some(("whippet", "from-env")));
        // Without an [smtp] table there is nothing to set.
        let mut l = Layers::default();
        l.env(env(&[("WHIPPET_SMTP_PASSWORD", "x")]));
        assert!(l.resolve().unwrap_err().contains("no [smtp] table"));
    }

    #[test]
    fn every_setting_has_a_parser_and_unique_names() {
        for s in SETTINGS {
            let mut l = Layers::default();
            l.flag(s.key, Some("1".into()));
            // Handled (never `unreachable!`), whatever the verdict.
            let _ = l.resolve();
        }
        let mut envs: Vec<_> = SETTINGS.iter().map(|s| s.env).collect();
        envs.sort();
        envs.dedup();
        assert_eq!(envs.len(), SETTINGS.len());
    }
}
