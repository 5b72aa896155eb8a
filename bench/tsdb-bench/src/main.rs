//! # whippet-tsdb-bench: the storage engine on the host-fleet data set
//!
//! Runs the engine in process on `whippet-fleetgen`'s fleet and writes a
//! dated pair of result files, `<out>/<YYYY-MM-DD>-tsdb-<preset>.json` and
//! `.md`, with the machine, the commit and every figure next to its target.
//!
//! ```text
//! cargo run --release -p whippet-tsdb-bench -- --preset small|full [--out DIR] [--data-dir DIR]
//! ```
//!
//! The phases, in order (each described in `bench/README.md`):
//! 1. generate the data set in memory (not measured);
//! 2. memory per active series: a fresh engine fed tick by tick like live
//!    agents, flushed every minute of data time;
//! 3. bulk ingest on one writer thread, in time-major batches;
//! 4. flush and compaction: bytes per point before and after the merge;
//! 5. reads over the merged data: raw decode and one-minute averages.
//!
//! Memory is measured before the bulk phase so that its baseline is not
//! inflated by what the allocator keeps after a large engine is dropped.
//!
//! Dependencies: `clap` (arguments), `serde`/`serde_json` (the JSON file),
//! `tempfile` (scratch directories), `anyhow`. No libc: CPU time and memory
//! come from `/proc`.

mod bench;
mod report;
mod sys;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use whippet_fleetgen::FleetSpec;

use whippet_intake_bench::progress::{Start, write_results_and_say};

use crate::bench::Fleet;
use crate::report::{Dataset, Results};

#[global_allocator]
static ALLOC: sys::CountingAlloc = sys::CountingAlloc;

/// Which data set to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// 10 000 series × 360 points (3.6 M points): seconds, 0.2 GB of memory.
    Small,
    /// 100 000 series × 720 points (72 M points): a minute or two on two
    /// cores, about 2 GB of memory.
    Full,
}

impl Preset {
    fn spec(self) -> FleetSpec {
        match self {
            Preset::Small => FleetSpec::small(),
            Preset::Full => FleetSpec::full(),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Preset::Small => "small",
            Preset::Full => "full",
        }
    }
}

/// Benchmark whippet-tsdb on a deterministic host fleet and write dated
/// results.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Data set size.
    #[arg(long, value_enum, default_value_t = Preset::Full)]
    preset: Preset,
    /// Directory of the result files [default: bench/results in the
    /// workspace].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Directory for the engines' files (subdirectories `live` and `bulk`,
    /// which must not exist yet, are created and kept). Default: a
    /// temporary directory, removed at the end.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Ticks (10 s each) of the live-ingest memory phase; at most the
    /// preset's points per series.
    #[arg(long, default_value_t = bench::LIVE_TICKS)]
    live_ticks: usize,
    /// Repetitions of each read measurement.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    runs: u32,
}

/// A directory for one engine: a fresh subdirectory of `--data-dir`, or a
/// temporary one.
enum EngineDir {
    Kept(PathBuf),
    Temp(tempfile::TempDir),
}

impl EngineDir {
    fn new(base: Option<&Path>, name: &str) -> Result<EngineDir> {
        match base {
            Some(b) => {
                let p = b.join(name);
                if p.exists() {
                    bail!(
                        "{} already exists; give a --data-dir without `live` and `bulk` in it",
                        p.display()
                    );
                }
                std::fs::create_dir_all(&p).with_context(|| format!("create {}", p.display()))?;
                Ok(EngineDir::Kept(p))
            }
            None => Ok(EngineDir::Temp(
                tempfile::Builder::new()
                    .prefix(&format!("whippet-bench-{name}-"))
                    .tempdir()
                    .context("create a temporary directory")?,
            )),
        }
    }
    fn path(&self) -> &Path {
        match self {
            EngineDir::Kept(p) => p,
            EngineDir::Temp(t) => t.path(),
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let Start {
        log,
        out_dir,
        machine,
        ..
    } = Start::new(
        args.out.as_deref(),
        "WARNING: debug build; run with --release for meaningful figures",
    );
    let spec = args.preset.spec();
    log.say(format!(
        "preset {}: {} series × {} points every {} ms; {} × {}; commit {}",
        args.preset.name(),
        spec.series,
        spec.points_per_series,
        spec.interval_ms,
        machine.nproc,
        machine.cpu_model,
        machine.git_commit.as_deref().unwrap_or("unknown"),
    ));

    let t = std::time::Instant::now();
    let fleet = Fleet::generate(spec, &log)?;
    let generate_secs = t.elapsed().as_secs_f64();
    log.say(format!(
        "generated {} points ({} series with gaps) in {generate_secs:.1} s",
        fleet.total_points, fleet.series_with_gaps
    ));

    let live_dir = EngineDir::new(args.data_dir.as_deref(), "live")?;
    let memory = bench::live_memory(&fleet, args.live_ticks, live_dir.path(), &log)?;
    drop(live_dir);

    let bulk_dir = EngineDir::new(args.data_dir.as_deref(), "bulk")?;
    let data_dir = match &args.data_dir {
        Some(d) => d.display().to_string(),
        None => bulk_dir
            .path()
            .parent()
            .map_or_else(String::new, |p| p.display().to_string()),
    };
    let data_fs = sys::fs_type(bulk_dir.path()).unwrap_or_else(|| "unknown".into());
    let (ingest, storage, reads) = bench::bulk(&fleet, bulk_dir.path(), args.runs as usize, &log)?;
    drop(bulk_dir);

    let mut command = format!(
        "cargo run --release -p whippet-tsdb-bench -- --preset {}",
        args.preset.name()
    );
    if let Some(d) = &args.data_dir {
        command.push_str(&format!(" --data-dir {}", d.display()));
    }
    if args.live_ticks != bench::LIVE_TICKS {
        command.push_str(&format!(" --live-ticks {}", args.live_ticks));
    }
    if args.runs != 3 {
        command.push_str(&format!(" --runs {}", args.runs));
    }
    let checks = report::checks(&ingest, &storage, &memory, &reads);
    let results = Results {
        date: sys::utc_date(),
        preset: args.preset.name().into(),
        command,
        data_dir,
        data_fs,
        machine,
        dataset: Dataset {
            series: spec.series,
            hosts: fleet.hosts(),
            points_per_series: spec.points_per_series,
            interval_ms: spec.interval_ms,
            start_ms: spec.start_ms,
            seed: spec.seed,
            total_points: fleet.total_points,
            series_with_gaps: fleet.series_with_gaps,
            generate_secs,
        },
        ingest,
        storage,
        memory,
        reads,
        checks,
    };

    let stem = format!("{}-tsdb-{}", results.date, results.preset);
    write_results_and_say(
        &log,
        &out_dir,
        &stem,
        &serde_json::to_string_pretty(&results)?,
        &report::markdown(&results),
    )?;
    println!("\n{}", report::summary_table(&results.checks));
    Ok(())
}
