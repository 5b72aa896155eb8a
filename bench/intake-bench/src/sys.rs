//! What the bench reads from the system: another process' CPU time and
//! memory from `/proc/<pid>`, the clock-tick rate, the date, the load and a
//! description of the machine. Linux only.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`), asked of
/// `getconf CLK_TCK` (the bench avoids libc); 100, the value on every Linux
/// architecture it runs on, when that fails.
pub fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// `utime + stime` of every thread of process `pid` (or `self`), in seconds,
/// at the resolution of the clock tick. `None` when the process is gone.
pub fn cpu_secs(pid: &str, ticks_per_sec: f64) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; the
    // fields after the last ')' start at field 3 (state). utime and stime are
    // fields 14 and 15.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
    Some((ticks(11)? + ticks(12)?) as f64 / ticks_per_sec)
}

/// Memory of process `pid` from `/proc/<pid>/status`, in bytes.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Mem {
    /// Resident set now (`VmRSS`).
    pub rss: u64,
    /// Peak resident set since the process started (`VmHWM`).
    pub peak: u64,
}

/// Reads the memory of `pid`; zeros when the process is gone.
pub fn mem(pid: &str) -> Mem {
    let status = ProcStatus::read(pid);
    Mem {
        rss: status.bytes("VmRSS:"),
        peak: status.bytes("VmHWM:"),
    }
}

/// `/proc/<pid>/status` of a process, read once so that the fields taken
/// from it describe the same moment.
pub struct ProcStatus(String);

impl ProcStatus {
    /// Reads it for `pid` (a number, `self` or `thread-self`); when the
    /// process is gone or there is no `/proc`, every field reads 0.
    pub fn read(pid: &str) -> ProcStatus {
        ProcStatus(std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default())
    }

    /// A field given in kB (`name` with its colon: `VmRSS:`), in bytes; 0
    /// when absent.
    pub fn bytes(&self, name: &str) -> u64 {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    }
}

/// Waits until a second passes with under 3 % of a core used by `pid`, at
/// most `max`; returns the seconds waited.
pub fn settle(pid: &str, hz: f64, max: Duration) -> f64 {
    let t = Instant::now();
    let Some(mut prev) = cpu_secs(pid, hz) else {
        return 0.0;
    };
    while t.elapsed() < max {
        std::thread::sleep(Duration::from_secs(1));
        let Some(now) = cpu_secs(pid, hz) else {
            break;
        };
        if now - prev < 0.03 {
            break;
        }
        prev = now;
    }
    t.elapsed().as_secs_f64()
}

/// The 1-minute load average (`/proc/loadavg`): how busy the shared machine
/// was around a measurement.
pub fn load_avg_1m() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Seconds since the epoch, now.
pub fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Today's date in UTC as `YYYY-MM-DD`, from the system clock.
pub fn utc_date() -> String {
    let (y, m, d) = civil_from_days(unix_secs().div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`: shift the year to start in
/// March so the leap day is last, then split into 400-year eras).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The file system type (`ext4`, `tmpfs`, ...) holding `path`, from the
/// longest matching mount point in `/proc/mounts`.
pub fn fs_type(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, mount, fs) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(mount)
                .then(|| (mount.len(), fs.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, fs)| fs)
}

/// The machine and build the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub nproc: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `MemTotal` from `/proc/meminfo`, in bytes.
    pub mem_total_bytes: u64,
    /// Kernel release.
    pub kernel: String,
    /// `git rev-parse --short HEAD` of the workspace, with `-dirty` when the
    /// working tree has uncommitted changes to tracked files.
    pub git_commit: Option<String>,
    /// Build profile of the bench itself (the servers are separate binaries).
    pub bench_build: &'static str,
    /// `getconf CLK_TCK`: the unit of the CPU times read from `/proc`.
    pub clock_ticks_per_sec: f64,
}

impl Machine {
    /// Describes this machine; `workspace` is where git is asked.
    pub fn detect(workspace: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                matches!(k.trim(), "model name" | "Hardware" | "cpu model" | "uarch")
                    .then(|| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total_bytes = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| std::env::consts::OS.to_owned());
        Machine {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            mem_total_bytes,
            kernel,
            git_commit: git_commit(workspace),
            bench_build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            clock_ticks_per_sec: clock_ticks_per_sec(),
        }
    }

    /// The machine as the reports' headers give it: `2 × <cpu model>, 23.5
    /// GiB RAM, Linux <release>; commit `<commit>``. Each report goes on
    /// with what it adds (the build, the clock ticks).
    pub fn summary(&self) -> String {
        format!(
            "{} × {}, {:.1} GiB RAM, Linux {}; commit `{}`",
            self.nproc,
            self.cpu_model,
            self.mem_total_bytes as f64 / (1u64 << 30) as f64,
            self.kernel,
            self.git_commit.as_deref().unwrap_or("unknown"),
        )
    }
}

/// `git rev-parse --short HEAD` in `dir`, `-dirty` appended when tracked
/// files have uncommitted changes; `None` outside a git checkout.
fn git_commit(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if dirty {
        commit.push_str("-dirty");
    }
    Some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(utc_date().len(), 10);
    }

    #[test]
    fn proc_figures_of_this_process() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let pid = std::process::id().to_string();
        assert!(cpu_secs(&pid, clock_ticks_per_sec()).is_some());
        let m = mem(&pid);
        assert!(m.rss > 0 && m.peak >= m.rss, "{m:?}");
        assert!(cpu_secs("999999999", 100.0).is_none());
    }
}
