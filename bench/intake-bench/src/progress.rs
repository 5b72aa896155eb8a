//! What every side-by-side bench prints and where it writes: progress lines
//! with the time since the start, the workspace root (results go under its
//! `bench/results/`), and the dated JSON + Markdown pair of a run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

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
