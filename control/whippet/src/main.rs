//! # whippet: the binary (control plane)
//!
//! Owns the command line: parsing flags and environment variables, logging,
//! and starting or inspecting the engines. It must never hold logic another
//! crate can own: storage lives in `whippet-tsdb`, and each later plane
//! (intake, queries, monitors) gets its own crate that this binary wires up.

mod serve;
mod storage;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Whippet: metrics, logs, traces, monitors and dashboards in one binary,
/// speaking Datadog's, OpenTelemetry's and Prometheus' protocols.
#[derive(Parser, Debug)]
#[command(name = "whippet", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log filter, e.g. `info`, `debug`, `whippet_tsdb=debug`.
    #[arg(long, env = "WHIPPET_LOG", default_value = "info", global = true)]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start Whippet with the data under `--data-dir` (default ./whippet-data).
    Serve(serve::ServeArgs),
    /// Inspect or check a data directory offline.
    #[command(subcommand)]
    Storage(storage::StorageCommand),
}

/// Flags shared by every command that opens a data directory.
#[derive(clap::Args, Debug, Clone)]
pub struct DataDirArgs {
    /// Where Whippet keeps its data.
    #[arg(long, env = "WHIPPET_DATA_DIR", default_value = "./whippet-data")]
    pub data_dir: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Storage(cmd) => storage::run(cmd),
    }
}
