//! Running every file of a corpus directory, on both read paths.

use std::path::{Path, PathBuf};

/// Where a file's loaded data is when its queries run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In the storage engine's in-memory head.
    Head,
    /// Flushed and merged into parts.
    Parts,
}

impl Mode {
    /// `head` or `parts`, as failure reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Head => "head",
            Mode::Parts => "parts",
        }
    }
}

/// Runs every `*.test` file of `dir` (sorted by name) twice, once per
/// [`Mode`], through `run_file(name, text, mode) -> (cases, failures)`,
/// and panics with every failure when any case failed. With the
/// environment variable `GOLDEN` set, only files whose name contains its
/// value run. Panics too when `dir` holds no test file or `GOLDEN` selects
/// none, so a corpus cannot pass by being empty.
pub fn run_corpus(dir: &Path, mut run_file: impl FnMut(&str, &str, Mode) -> (usize, Vec<String>)) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    let only = std::env::var("GOLDEN").ok();
    files.retain(|f| {
        only.as_ref().is_none_or(|o| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(o.as_str()))
        })
    });
    assert!(
        !files.is_empty(),
        "no .test files in {} (GOLDEN={only:?})",
        dir.display()
    );
    let mut failures = Vec::new();
    let mut cases = 0;
    for f in &files {
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text =
            std::fs::read_to_string(f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
        for mode in [Mode::Head, Mode::Parts] {
            let (n, fails) = run_file(&name, &text, mode);
            cases += n;
            failures.extend(fails);
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {cases} golden cases failed:\n\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    assert!(cases > 0, "the corpus in {} has no cases", dir.display());
    eprintln!(
        "{cases} golden cases passed ({} files, each run twice)",
        files.len()
    );
}
