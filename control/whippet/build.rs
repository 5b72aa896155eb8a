//! Builds the web UI (`control/ui`, TypeScript and Vite) into
//! `$OUT_DIR/ui`, which `src/server/ui.rs` embeds in the binary.
//!
//! Steps: `npm ci` when `control/ui/node_modules` is missing or older than
//! `package-lock.json` (the pinned versions, from the npm registry), then
//! `npm run build` (type check, `vite build`, gzip copies of every file).
//! Nothing is downloaded when Whippet runs.
//!
//! Cargo reruns this script only when a file of the UI changes (the
//! `rerun-if-changed` list below), so a change to the Rust code alone does
//! not rebuild the UI.
//!
//! # What it must never do
//! Write its output into the source tree (only `node_modules`, npm's own
//! cache of the pinned packages, lands there), or go on without the UI:
//! a missing Node.js stops the build with a message saying what to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The oldest Node.js that Vite runs on.
const MIN_NODE: (u32, u32) = (20, 19);

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let ui = manifest.join("../ui");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("ui");

    for input in [
        "src",
        "scripts",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }

    check_node();
    if needs_install(&ui) {
        run(&ui, &["ci", "--no-audit", "--no-fund"], &out);
    }
    run(&ui, &["run", "build"], &out);
    if !out.join("index.html").is_file() {
        fail(&format!(
            "`npm run build` in {} left no index.html in {}",
            ui.display(),
            out.display()
        ));
    }
}

/// Stops the build with a message.
fn fail(message: &str) -> ! {
    eprintln!("error: building the web UI: {message}");
    std::process::exit(1);
}

/// Fails unless a recent enough Node.js and npm are on the PATH.
fn check_node() {
    let install = format!(
        "Whippet's web UI is built with Node.js {}.{} or newer and npm: install them \
         (https://nodejs.org/, or `apt-get install nodejs npm` on a recent Debian) and build again",
        MIN_NODE.0, MIN_NODE.1
    );
    let version = match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => fail(&format!("`node` was not found. {install}")),
    };
    if Command::new("npm").arg("--version").output().is_err() {
        fail(&format!("`npm` was not found. {install}"));
    }
    let mut parts = version.trim_start_matches('v').split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    if (major, minor) < MIN_NODE {
        fail(&format!("Node.js {version} is too old. {install}"));
    }
}

/// Whether `npm ci` must run: no `node_modules`, or installed from an older
/// `package-lock.json` (npm writes `node_modules/.package-lock.json` at the
/// end of an install).
fn needs_install(ui: &Path) -> bool {
    let modified = |p: &Path| -> Option<SystemTime> { p.metadata().ok()?.modified().ok() };
    match (
        modified(&ui.join("node_modules/.package-lock.json")),
        modified(&ui.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

/// Runs `npm <args>` in `ui`, with Vite's output directory set.
fn run(ui: &Path, args: &[&str], out: &Path) {
    let status = Command::new("npm")
        .args(args)
        .current_dir(ui)
        .env("WHIPPET_UI_OUT", out)
        // Cargo sets DEBUG for build scripts; Node's `debug` logging reads
        // the same variable.
        .env_remove("DEBUG")
        // Cargo reads `cargo:` lines on this script's stdout; npm's output
        // goes to stderr, which cargo shows when the build fails.
        .stdout(std::io::stderr())
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run npm: {e}")));
    if !status.success() {
        fail(&format!(
            "`npm {}` in {} failed ({status}); its output is above",
            args.join(" "),
            ui.display()
        ));
    }
}
