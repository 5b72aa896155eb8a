//! `whippet storage`: offline inspection and checking of a data directory.

use anyhow::Context;
use whippet_tsdb::{Engine, EngineConfig};

use crate::DataDirArgs;

/// Subcommands of `whippet storage`.
#[derive(clap::Subcommand, Debug)]
pub enum StorageCommand {
    /// Print what the data directory holds: series, parts, points, bytes.
    Inspect(DataDirArgs),
    /// Read every chunk of every part and check its checksum; exits with
    /// status 1 when anything is damaged.
    Verify(DataDirArgs),
}

fn open(args: &DataDirArgs) -> anyhow::Result<Engine> {
    anyhow::ensure!(
        args.data_dir.exists(),
        "data directory {} does not exist",
        args.data_dir.display()
    );
    let config = EngineConfig {
        background_tasks: false,
        ..EngineConfig::default()
    };
    let (engine, report) = Engine::open(&args.data_dir, config)
        .with_context(|| format!("opening {}", args.data_dir.display()))?;
    for d in &report.damage {
        println!("damage: {d}");
    }
    Ok(engine)
}

pub fn run(cmd: StorageCommand) -> anyhow::Result<()> {
    match cmd {
        StorageCommand::Inspect(args) => {
            let e = open(&args)?;
            let s = e.storage_stats();
            println!("data directory   {}", args.data_dir.display());
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
            e.close()?;
        }
        StorageCommand::Verify(args) => {
            let e = open(&args)?;
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
