//! What every bench prints and where it writes: its start (the log, the
//! workspace, the results directory, the machine), progress lines with the
//! time since the start, the workspace root (results go under its
//! `bench/results/`), and the dated JSON + Markdown pair of a run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::sys::Machine;

/// What a bench sets up before it measures anything, the same way in every
/// bench so that their result files say the same things about the run.
pub struct Start {
    /// Progress lines, timed from the start.
    pub log: Log,
    /// The workspace root (see [`workspace_root`]).
    pub root: PathBuf,
    /// Where the result files go: the bench's `--out`, or `bench/results`
    /// in the workspace.
    pub out_dir: PathBuf,
    /// The machine and build the figures come from.
    pub machine: Machine,
}

impl Start {
    /// Starts the log, finds the workspace and the results directory, and
    /// describes the machine. A debug build of the bench says
    /// `debug_warning` first: its own work (generating, sending) would then
    /// weigh on the figures.
    pub fn new(out: Option<&Path>, debug_warning: &str) -> Start {
        let log = Log::start();
        let root = workspace_root();
        let out_dir = out.map_or_else(|| root.join("bench/results"), Path::to_path_buf);
        let machine = Machine::detect(&root);
        if machine.bench_build == "debug" {
            log.say(debug_warning);
        }
        Start {
            log,
            root,
            out_dir,
            machine,
        }
    }
}

/// Prints progress lines to stderr with the time since the run started.
pub struct Log {
    t0: Instant,
}

impl Log {
    /// A log whose clock starts now.
    pub fn start() -> Self {
        Log { t0: Instant::now() }
    }

    /// One progress line: `[   12.3s] msg`.
    pub fn say(&self, msg: impl std::fmt::Display) {
        eprintln!("[{:7.1}s] {msg}", self.t0.elapsed().as_secs_f64());
    }
}

/// The workspace root: the benches live in `bench/<name>/`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Writes `<dir>/<stem>.json` and `<dir>/<stem>.md` (creating `dir`) and
/// returns their paths.
pub fn write_results(
    dir: &Path,
    stem: &str,
    json: &str,
    markdown: &str,
) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let json_path = dir.join(format!("{stem}.json"));
    let md_path = dir.join(format!("{stem}.md"));
    std::fs::write(&json_path, format!("{json}\n"))
        .with_context(|| format!("write {}", json_path.display()))?;
    std::fs::write(&md_path, markdown).with_context(|| format!("write {}", md_path.display()))?;
    Ok((json_path, md_path))
}

/// [`write_results`], then a progress line on `log` naming the two files:
/// how every bench ends its run.
pub fn write_results_and_say(
    log: &Log,
    dir: &Path,
    stem: &str,
    json: &str,
    markdown: &str,
) -> Result<()> {
    let (json_path, md_path) = write_results(dir, stem, json, markdown)?;
    log.say(format!(
        "wrote {} and {}",
        json_path.display(),
        md_path.display()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_land_as_a_pair_under_the_stem() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("results");
        let (j, m) = write_results(&out, "2026-11-26-x-small", "{}", "# x\n").unwrap();
        assert_eq!(std::fs::read_to_string(j).unwrap(), "{}\n");
        assert_eq!(std::fs::read_to_string(m).unwrap(), "# x\n");
        assert!(workspace_root().join("bench").join("intake-bench").is_dir());
    }
}
