//! # whippet: the binary (control plane)
//!
//! Owns the command line and the wiring: configuration in layers
//! ([`config`]), logging, `whippet serve` ([`server`]), and the offline and
//! admin commands. It must never hold logic another crate can own: storage
//! lives in `whippet-tsdb`, wire protocols in the `edge/` crates, orgs and
//! keys in `whippet-meta`.

mod admin;
mod alerting;
mod config;
mod monitors_cli;
mod query_cli;
mod server;
mod storage;
mod termchart;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use config::Layers;

/// mimalloc instead of the system allocator: the read path allocates and
/// frees small buffers per chunk (inside the pco decoder), where glibc's
/// malloc spent about a third of a dashboard aggregation's CPU
/// (`query_speed` example, 5 000 series × 720 points: 25 ms of CPU per
/// aggregation with glibc, 16 ms with mimalloc, 2026-11-26). Built with
/// `no_thp` (workspace `Cargo.toml`): with transparent huge pages, memory
/// the allocator touched once stays resident 2 MiB at a time, which cost
/// 59 MiB of peak RSS in the full intake bench (222 MiB with, 163 without).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e` of the
/// linked mimalloc 3.x; the crate names only some options). A test checks
/// that this option has the purge delay's default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds mimalloc waits before giving freed pages back to the OS.
/// Its default, 1 000, keeps every page freed in the last second resident:
/// under intake (request bodies, parsed rows and point batches freed by
/// each request, heads freed after each flush) that was about 30 MiB of the
/// peak RSS of the full intake bench (143.5 MiB with the default, 111.4
/// with 0, 124.0 with 10, 116.2 with 100). 0 returns them at once, but
/// then every query pays an `madvise` per freed span and a page fault per
/// page it allocates again: the dashboard queries of the bench ran 25-40 %
/// slower than with 100 (avg by region over 5 000 series 11.4 → 9.9 ms,
/// top 10 23.0 → 17.4 ms, 100 raw series 6.5 → 4.6 ms; 10 ms recovered
/// little of it). 100 ms keeps one query's freed pages for the next and
/// costs 5 MiB of intake peak RSS. `MIMALLOC_PURGE_DELAY` in the
/// environment still wins.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

/// Applies the allocator settings above, before any work allocates much.
fn tune_allocator() {
    // SAFETY: sets an option of the linked allocator by its C API; options
    // are atomics inside mimalloc, safe to set from any thread at any time.
    unsafe { libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
}

/// Whippet: metrics, logs, traces, monitors and dashboards in one binary,
/// speaking Datadog's, OpenTelemetry's and Prometheus' protocols.
#[derive(Parser, Debug)]
#[command(name = "whippet", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log filter, e.g. `info`, `debug`, `whippet_tsdb=debug`.
    #[arg(long, env = "WHIPPET_LOG", default_value = "info", global = true)]
    log: String,

    /// A TOML configuration file (settings: see `whippet serve --help`).
    #[arg(long, env = "WHIPPET_CONFIG", global = true)]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start Whippet: HTTP API and intake on 127.0.0.1:8080, DogStatsD on
    /// UDP 127.0.0.1:8125, data under ./whippet-data.
    ///
    /// Every setting can come from the TOML file (`--config`), from a
    /// WHIPPET_* environment variable or from a flag, later ones winning:
    /// data_dir WHIPPET_DATA_DIR --data-dir; http_addr WHIPPET_HTTP_ADDR
    /// --http-addr; dogstatsd_addr WHIPPET_DOGSTATSD_ADDR --dogstatsd-addr;
    /// dogstatsd_socket WHIPPET_DOGSTATSD_SOCKET; metadata_url
    /// WHIPPET_METADATA_URL; retention WHIPPET_RETENTION; fsync WHIPPET_FSYNC;
    /// max_active_series WHIPPET_MAX_ACTIVE_SERIES; api_key WHIPPET_API_KEY;
    /// app_key WHIPPET_APP_KEY; self_monitoring_interval_secs;
    /// monitor_interval_secs WHIPPET_MONITOR_INTERVAL_SECS; and
    /// max_concurrent_requests. An empty listener address turns it off.
    Serve(Box<ServeFlags>),
    /// Inspect or check the storage engine's files offline.
    #[command(subcommand)]
    Storage(storage::StorageCommand),
    /// Manage API and application keys.
    #[command(subcommand)]
    Keys(admin::KeysCommand),
    /// Manage orgs.
    #[command(subcommand)]
    Orgs(admin::OrgsCommand),
    /// Run a Datadog metric query against a running server and print the
    /// answer as a table and a chart, e.g.
    /// `whippet query 'avg:system.cpu.user{*} by {host}' --from -1h`.
    ///
    /// Needs the server's URL (--url, WHIPPET_URL; default
    /// http://127.0.0.1:8080) and an API and application key
    /// (WHIPPET_API_KEY/DD_API_KEY and WHIPPET_APP_KEY/DD_APP_KEY).
    Query(query_cli::QueryArgs),
    /// Work with monitors offline: `whippet monitors test FILE...` runs
    /// monitor test files (made-up series, a monitor, the transitions and
    /// notifications it must produce).
    #[command(subcommand)]
    Monitors(monitors_cli::MonitorsCommand),
}

/// Flags of `whippet serve`; each overrides the file and the environment.
#[derive(clap::Args, Debug, Default)]
pub struct ServeFlags {
    /// Where all data lives [env: WHIPPET_DATA_DIR] [default: ./whippet-data]
    #[arg(long)]
    pub data_dir: Option<String>,
    /// HTTP API and intake address; empty turns it off [env: WHIPPET_HTTP_ADDR] [default: 127.0.0.1:8080]
    #[arg(long)]
    pub http_addr: Option<String>,
    /// DogStatsD UDP address; empty turns it off [env: WHIPPET_DOGSTATSD_ADDR] [default: 127.0.0.1:8125]
    #[arg(long)]
    pub dogstatsd_addr: Option<String>,
    /// DogStatsD Unix datagram socket path [env: WHIPPET_DOGSTATSD_SOCKET]
    #[arg(long)]
    pub dogstatsd_socket: Option<String>,
    /// Metadata store: postgres://user:pass@host/db [env: WHIPPET_METADATA_URL] [default: SQLite in the data dir]
    #[arg(long)]
    pub metadata_url: Option<String>,
    /// How long metric points are kept: 30d, 15mo, 100y (mo = 31 days, y = 365) [env: WHIPPET_RETENTION] [default: 15mo]
    #[arg(long)]
    pub retention: Option<String>,
    /// WAL sync: `always`, or an interval such as 1s (the power-loss window; a killed process loses nothing) [env: WHIPPET_FSYNC] [default: 1s]
    #[arg(long)]
    pub fsync: Option<String>,
    /// Active series allowed per org [env: WHIPPET_MAX_ACTIVE_SERIES] [default: 1000000]
    #[arg(long)]
    pub max_active_series: Option<String>,
    /// API key for the default org on first start [env: WHIPPET_API_KEY] [default: generated, printed once]
    #[arg(long)]
    pub api_key: Option<String>,
    /// Application key for the default org on first start [env: WHIPPET_APP_KEY] [default: generated, printed once]
    #[arg(long)]
    pub app_key: Option<String>,
    /// Seconds between writes of Whippet's own whippet.* metrics; 0: never [env: WHIPPET_SELF_MONITORING_INTERVAL_SECS] [default: 10]
    #[arg(long)]
    pub self_monitoring_interval_secs: Option<String>,
    /// Seconds between two evaluations of every monitor; 0: monitors are not evaluated [env: WHIPPET_MONITOR_INTERVAL_SECS] [default: 60]
    #[arg(long)]
    pub monitor_interval_secs: Option<String>,
    /// Intake requests handled at once; more get 503 + Retry-After [env: WHIPPET_MAX_CONCURRENT_REQUESTS] [default: 64]
    #[arg(long)]
    pub max_concurrent_requests: Option<String>,
    /// MiB of decoded chunks kept so repeated queries skip decompression; 0 turns it off [env: WHIPPET_CHUNK_CACHE_MB] [default: 256]
    #[arg(long)]
    pub chunk_cache_mb: Option<String>,
    /// Most series one metric query may select [env: WHIPPET_QUERY_MAX_SERIES] [default: 200000]
    #[arg(long)]
    pub query_max_series: Option<String>,
    /// Most raw points one metric query may read [env: WHIPPET_QUERY_MAX_POINTS] [default: 500000000]
    #[arg(long)]
    pub query_max_points: Option<String>,
    /// How far back a PromQL selector looks for a series' latest sample (Prometheus' --query.lookback-delta) [env: WHIPPET_PROMQL_LOOKBACK_DELTA] [default: 5m]
    #[arg(long)]
    pub promql_lookback_delta: Option<String>,
    /// Most samples one PromQL query may hold at once (Prometheus' --query.max-samples) [env: WHIPPET_PROMQL_MAX_SAMPLES] [default: 50000000]
    #[arg(long)]
    pub promql_max_samples: Option<String>,
    /// Most labels (__name__ included) of a remote-written series [env: WHIPPET_PROM_WRITE_MAX_LABELS_PER_SERIES] [default: 40]
    #[arg(long)]
    pub prom_write_max_labels_per_series: Option<String>,
}

impl ServeFlags {
    fn apply(self, l: &mut Layers) {
        l.flag("data_dir", self.data_dir);
        l.flag("http_addr", self.http_addr);
        l.flag("dogstatsd_addr", self.dogstatsd_addr);
        l.flag("dogstatsd_socket", self.dogstatsd_socket);
        l.flag("metadata_url", self.metadata_url);
        l.flag("retention", self.retention);
        l.flag("fsync", self.fsync);
        l.flag("max_active_series", self.max_active_series);
        l.flag("api_key", self.api_key);
        l.flag("app_key", self.app_key);
        l.flag(
            "self_monitoring_interval_secs",
            self.self_monitoring_interval_secs,
        );
        l.flag("max_concurrent_requests", self.max_concurrent_requests);
        l.flag("monitor_interval_secs", self.monitor_interval_secs);
        l.flag("chunk_cache_mb", self.chunk_cache_mb);
        l.flag("query_max_series", self.query_max_series);
        l.flag("query_max_points", self.query_max_points);
        l.flag("promql_lookback_delta", self.promql_lookback_delta);
        l.flag("promql_max_samples", self.promql_max_samples);
        l.flag(
            "prom_write_max_labels_per_series",
            self.prom_write_max_labels_per_series,
        );
    }
}

/// Resolves the configuration: defaults, the file, the environment, `flags`.
pub fn load_config(
    file: Option<&PathBuf>,
    flags: impl FnOnce(&mut Layers),
) -> anyhow::Result<config::Config> {
    let mut l = Layers::default();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading config file {}: {e}", path.display()))?;
        l.file(path, &text).map_err(anyhow::Error::msg)?;
    }
    l.env(|k| std::env::var(k).ok());
    flags(&mut l);
    l.resolve().map_err(anyhow::Error::msg)
}

fn main() -> std::process::ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of contexts on one line, without a backtrace: what a
            // person at a terminal needs (`RUST_BACKTRACE` is for panics).
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal, and never with NO_COLOR set: a log
        // file gets plain lines.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .init();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("whippet")
            .build()
    };
    match cli.command {
        Command::Serve(flags) => {
            let config = load_config(cli.config.as_ref(), |l| flags.apply(l))?;
            runtime()?.block_on(server::run(config))
        }
        Command::Storage(cmd) => {
            let config = load_config(cli.config.as_ref(), |l| cmd.apply(l))?;
            storage::run(cmd, &config)
        }
        Command::Keys(cmd) => {
            let config = load_config(cli.config.as_ref(), |l| cmd.apply(l))?;
            runtime()?.block_on(admin::keys(cmd, &config))
        }
        Command::Orgs(cmd) => {
            let config = load_config(cli.config.as_ref(), |l| cmd.apply(l))?;
            runtime()?.block_on(admin::orgs(cmd, &config))
        }
        Command::Query(args) => query_cli::run(args),
        Command::Monitors(cmd) => monitors_cli::run(cmd),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_index_names_the_purge_delay() {
        // No other mimalloc option defaults to 1 000: if this fails, the
        // linked mimalloc renumbered its options and the index is wrong.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads an option through mimalloc's C API.
            let v = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
            assert_eq!(v, 1000);
        }
    }
}
