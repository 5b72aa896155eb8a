//! The binary as a user runs it: help, serve with a clean SIGTERM shutdown,
//! and the offline storage commands.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn whippet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_whippet"))
}

#[test]
fn help_lists_the_commands() {
    let out = whippet().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["serve", "storage"] {
        assert!(text.contains(word), "{text}");
    }
    let out = whippet().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("WHIPPET_DATA_DIR") && text.contains("WHIPPET_RETENTION"),
        "{text}"
    );
}

#[test]
fn bad_flags_get_a_clear_error() {
    let out = whippet()
        .args(["serve", "--retention", "30"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("missing unit"), "{err}");
}

/// Runs `whippet serve` on `data` until it has opened the data directory
/// (and written its first self-monitoring points), then stops it with
/// SIGTERM and checks it stopped cleanly.
fn serve_briefly(data: &std::path::Path) {
    let child = whippet()
        .arg("serve")
        .env("WHIPPET_DATA_DIR", data)
        .env("WHIPPET_RETENTION", "30d")
        .env("WHIPPET_HTTP_ADDR", "127.0.0.1:0")
        .env("WHIPPET_DOGSTATSD_ADDR", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !data.join("tsdb/LOCK").exists() || !data.join("meta.db").exists() {
        assert!(
            Instant::now() < deadline,
            "serve did not open the data directory"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {log}", out.status);
    assert!(log.contains("stopped cleanly"), "{log}");
}

/// Runs `whippet storage <cmd> --data-dir <data>`; its standard output.
fn storage(cmd: &str, data: &std::path::Path) -> String {
    let out = whippet()
        .args(["storage", cmd, "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "storage {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The number after `label` on its line of `storage inspect`'s output.
fn figure(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} line in {text}"))
}

#[test]
fn serve_creates_the_data_dir_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    serve_briefly(&data);
    let text = storage("inspect", &data);
    // Whippet's own whippet.* metrics were written, and the shutdown wrote
    // the head to parts (nothing left in the WAL to replay).
    assert!(text.contains("points in head   0"), "{text}");
    assert!(figure(&text, "parts") >= 1, "{text}");
    storage("verify", &data);
}

#[test]
fn storage_compact_merges_parts_and_keeps_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Two runs, two shutdowns: at least two parts in today's partition.
    // Self-monitoring points carry whole-second timestamps: a second run
    // within the same second would rewrite the first run's points (the
    // merge keeps the last write), so the runs are more than a second apart.
    serve_briefly(&data);
    std::thread::sleep(Duration::from_millis(1100));
    serve_briefly(&data);
    let before = storage("inspect", &data);
    let parts = figure(&before, "parts");
    assert!(parts >= 2, "{before}");
    let after = storage("compact", &data);
    assert!(after.starts_with("compacted: "), "{after}");
    assert!(figure(&after, "parts") < parts, "{before}\n{after}");
    assert_eq!(
        figure(&after, "points in parts"),
        figure(&before, "points in parts"),
        "{before}\n{after}"
    );
    let again = storage("inspect", &data);
    assert_eq!(figure(&again, "parts"), figure(&after, "parts"));
    storage("verify", &data);
}

#[test]
fn storage_commands_refuse_a_missing_directory() {
    let out = whippet()
        .args(["storage", "inspect", "--data-dir", "/nonexistent/whippet"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no storage engine data"));
}
