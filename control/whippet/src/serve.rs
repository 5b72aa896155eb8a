//! `whippet serve`: opens the storage engine and runs until SIGINT or
//! SIGTERM, then shuts down cleanly (acknowledged data is in the WAL and is
//! synced before exit).

use anyhow::Context;
use whippet_tsdb::{Engine, EngineConfig, FsyncPolicy, parse_duration_ms};

use crate::DataDirArgs;

/// Flags of `whippet serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataDirArgs,

    /// How long metric points are kept: a duration such as `30d`, `15mo`,
    /// `100y` (units: s, m, h, d, w, mo = 31 days, y = 365 days).
    #[arg(long, env = "WHIPPET_RETENTION", default_value = "15mo", value_parser = parse_retention)]
    pub retention: i64,

    /// When the write-ahead log is synced to disk: `always` (before each
    /// acknowledgement) or an interval such as `1s`. The interval is the
    /// window of acknowledged writes a power loss can lose; a killed process
    /// loses nothing either way.
    #[arg(long, env = "WHIPPET_FSYNC", default_value = "1s")]
    pub fsync: FsyncPolicy,

    /// Most active series per org.
    #[arg(long, env = "WHIPPET_MAX_ACTIVE_SERIES", default_value_t = EngineConfig::default().max_active_series_per_org)]
    pub max_active_series: u64,
}

fn parse_retention(s: &str) -> Result<i64, String> {
    let ms = parse_duration_ms(s)?;
    if ms <= 0 {
        return Err("retention must be positive".into());
    }
    Ok(ms)
}

impl ServeArgs {
    /// The engine configuration these flags describe.
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            retention_ms: self.retention,
            fsync: self.fsync,
            max_active_series_per_org: self.max_active_series,
            ..EngineConfig::default()
        }
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.engine_config();
    config.validate()?;
    let dir = &args.data.data_dir;
    let (engine, report) = Engine::open(dir, config)
        .with_context(|| format!("opening the storage engine in {}", dir.display()))?;
    tracing::info!(
        data_dir = %dir.display(),
        series = report.series,
        parts = report.parts,
        wal_points_replayed = report.wal_points,
        damage = report.damage.len(),
        "storage engine open"
    );
    eprintln!("Whippet is running. Data: {}", dir.display());
    eprintln!(
        "  Storage engine: {} series, {} parts.",
        report.series, report.parts
    );
    eprintln!("  The intake listeners (HTTP API, DogStatsD) are not part of this build yet.");
    eprintln!("  Stop with Ctrl-C (SIGINT) or SIGTERM.");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(wait_for_shutdown())?;
    tracing::info!("shutting down");
    engine.close().context("closing the storage engine")?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn wait_for_shutdown() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
