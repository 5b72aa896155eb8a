//! `whippet storage`: offline inspection, checking and compaction of the
//! storage engine's files (`<data dir>/tsdb`). Run these on a data
//! directory no server is using.

use anyhow::Context;
use whippet_tsdb::{Engine, EngineConfig};

use crate::config::{Config, Layers};

/// Where the data is.
#[derive(clap::Args, Debug, Clone)]
pub struct DataDirArgs {
    /// Where Whippet keeps its data [env: WHIPPET_DATA_DIR] [default: ./whippet-data]
    #[arg(long)]
    pub data_dir: Option<String>,
}

/// Subcommands of `whippet storage`.
#[derive(clap::Subcommand, Debug)]
pub enum StorageCommand {
    /// Print what the data directory holds: series, parts, points, bytes.
    Inspect(DataDirArgs),
    /// Read every chunk of every part and check its checksum; exits with
    /// status 1 when anything is damaged.
    Verify(DataDirArgs),
    /// Write what the WAL still holds into parts and merge each day
    /// partition into one part (what the background merges converge to),
    /// then print the figures of `inspect`. For measuring bytes per point,
    /// or to shrink a data directory before copying it.
    Compact(DataDirArgs),
}

impl StorageCommand {
    /// Applies the command's flags to the configuration layers.
    pub fn apply(&self, l: &mut Layers) {
        let (StorageCommand::Inspect(a) | StorageCommand::Verify(a) | StorageCommand::Compact(a)) =
            self;
        l.flag("data_dir", a.data_dir.clone());
    }
}

fn open(config: &Config) -> anyhow::Result<Engine> {
    let dir = config.tsdb_dir();
    anyhow::ensure!(
        dir.exists(),
        "no storage engine data under {}",
        config.data_dir.display()
    );
    let engine_config = EngineConfig {
        background_tasks: false,
        ..config.engine_config()
    };
    let (engine, report) =
        Engine::open(&dir, engine_config).with_context(|| format!("opening {}", dir.display()))?;
    for d in &report.damage {
        println!("damage: {d}");
    }
    Ok(engine)
}

/// Runs a storage command.
pub fn run(cmd: StorageCommand, config: &Config) -> anyhow::Result<()> {
    let e = open(config)?;
    match cmd {
        StorageCommand::Compact(_) => {
            let before = e.storage_stats();
            e.flush().context("writing the WAL's points into parts")?;
            let merges = e.compact().context("merging parts")?;
            let s = e.storage_stats();
            println!(
                "compacted: {} parts into {} ({merges} merges), {} bytes into {}",
                before.parts, s.parts, before.part_bytes, s.part_bytes
            );
            print_stats(config, &s);
            e.close()?;
        }
        StorageCommand::Inspect(_) => {
            let s = e.storage_stats();
            print_stats(config, &s);
            e.close()?;
        }
        StorageCommand::Verify(_) => {
            let r = e.verify();
            println!(
                "checked {} parts, {} chunks, {} points",
                r.parts, r.chunks, r.points
            );
            for err in &r.errors {
                println!("damaged: {err}");
            }
            e.close()?;
            if !r.errors.is_empty() {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}

/// The figures `inspect` and `compact` print, one per line.
fn print_stats(config: &Config, s: &whippet_tsdb::StorageStats) {
    println!("data directory   {}", config.data_dir.display());
    println!("series           {}", s.series);
    println!("parts            {}", s.parts);
    println!("points in parts  {}", s.part_points);
    println!("bytes in parts   {}", s.part_bytes);
    if s.part_points > 0 {
        println!(
            "bytes per point  {:.3}",
            s.part_bytes as f64 / s.part_points as f64
        );
    }
    println!("points in head   {} (replayed from the WAL)", s.head_points);
    println!("WAL bytes        {}", s.wal_bytes);
}
