//! What the bench reads from the system: memory and CPU time from `/proc`,
//! the date, and a description of the machine. Linux only; on other systems
//! the figures that need `/proc` come out as zero and the report says so.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`). It is 100 on
/// every Linux architecture the bench runs on; reading it properly needs
/// `sysconf`, i.e. libc, which this crate avoids.
pub const TICKS_PER_SEC: f64 = 100.0;

/// The system allocator, counting the bytes currently allocated through
/// it. RSS says what the process costs the machine; this says what the
/// program actually holds, the difference being what the allocator keeps
/// (freed memory in per-thread arenas, fragmentation).
///
/// The count is sharded: each thread gets a counter of its own on its own
/// cache line and updates it with a plain load and store (it is the only
/// writer), so counting costs about a nanosecond and the writer, the flusher
/// and the merger never contend (one shared atomic counter measured 8 % of
/// the flusher's time). Threads beyond [`SHARDS`] share a last, atomic
/// counter. A read sums every counter.
pub struct CountingAlloc;

/// Threads with a counter of their own (a run starts about fifteen).
const SHARDS: usize = 64;

/// One counter on its own cache line pair (adjacent-line prefetch).
#[repr(align(128))]
struct Shard(AtomicI64);

/// `HEAP[i]` for `i < SHARDS` is written only by the thread that drew `i`;
/// `HEAP[SHARDS]` is shared.
static HEAP: [Shard; SHARDS + 1] = [const { Shard(AtomicI64::new(0)) }; SHARDS + 1];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // A `const` initialiser and no destructor: touching it never allocates,
    // which an allocator requires.
    static MY_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn count(delta: i64) {
    let shard = MY_SHARD
        .try_with(|c| {
            let mut s = c.get();
            if s == usize::MAX {
                s = NEXT_SHARD.fetch_add(1, Ordering::Relaxed).min(SHARDS);
                c.set(s);
            }
            s
        })
        .unwrap_or(SHARDS);
    let counter = &HEAP[shard].0;
    if shard < SHARDS {
        // Single writer: no read-modify-write needed.
        counter.store(counter.load(Ordering::Relaxed) + delta, Ordering::Relaxed);
    } else {
        counter.fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees hold; the counter has no effect on the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Bytes currently allocated on the heap (through [`CountingAlloc`]).
pub fn heap_live() -> u64 {
    let sum: i64 = HEAP.iter().map(|s| s.0.load(Ordering::Relaxed)).sum();
    sum.max(0) as u64
}

/// How often [`HeapWatch`] samples the heap. A flush or merge of a large
/// fleet lasts tens of milliseconds or more, so its peak is seen; waking 500
/// times a second costs a fraction of a percent of one core.
const HEAP_SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_millis(2);

/// The heap's high-water mark, sampled on a thread of its own every
/// [`HEAP_SAMPLE_EVERY`] (exact peak tracking would put a shared atomic on
/// every allocation). A spike shorter than the interval can be missed.
pub struct HeapWatch {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl HeapWatch {
    /// Starts watching, from the current heap.
    pub fn start() -> HeapWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(heap_live()));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::Builder::new()
            .name("heap-watch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    p.fetch_max(heap_live(), Ordering::Relaxed);
                    std::thread::sleep(HEAP_SAMPLE_EVERY);
                }
            })
            .ok();
        HeapWatch { stop, peak, handle }
    }

    /// The largest heap seen so far (now included).
    pub fn peak(&self) -> u64 {
        self.peak
            .fetch_max(heap_live(), Ordering::Relaxed)
            .max(heap_live())
    }
}

impl Drop for HeapWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Memory of this process, in bytes (`/proc/self/status`, and the heap
/// count of [`CountingAlloc`]).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Mem {
    /// Bytes the program holds on the heap (requested sizes, without the
    /// allocator's headers and free lists).
    pub heap: u64,
    /// Resident set (`VmRSS`): anonymous + file-backed + shared pages.
    pub rss: u64,
    /// Peak resident set since start or the last [`reset_peak`] (`VmHWM`).
    pub peak: u64,
    /// Resident anonymous memory (`RssAnon`): the heap, stacks.
    pub anon: u64,
    /// Resident file-backed memory (`RssFile`): mapped parts, the binary.
    pub file: u64,
}

/// Reads the process' memory figures.
pub fn mem() -> Mem {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    };
    Mem {
        heap: heap_live(),
        rss: field("VmRSS:"),
        peak: field("VmHWM:"),
        anon: field("RssAnon:"),
        file: field("RssFile:"),
    }
}

/// Resets the peak resident set (`VmHWM`) to the current one by writing `5`
/// to `/proc/self/clear_refs` (Linux 4.0+). Returns false when not possible.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time consumed, in seconds, at the resolution of the clock tick (10 ms).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// All threads of the process, user + system (`/proc/self/stat`).
    pub process: f64,
    /// The calling thread only, user + system (`/proc/thread-self/stat`).
    pub thread: f64,
}

impl Cpu {
    /// Reads the current totals.
    pub fn now() -> Cpu {
        Cpu {
            process: stat_cpu_secs("/proc/self/stat"),
            thread: stat_cpu_secs("/proc/thread-self/stat"),
        }
    }

    /// Time consumed since `earlier`.
    pub fn since(earlier: Cpu) -> Cpu {
        let now = Cpu::now();
        Cpu {
            process: now.process - earlier.process,
            thread: now.thread - earlier.thread,
        }
    }
}

/// `utime + stime` of a `stat` file, in seconds.
fn stat_cpu_secs(path: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // The command name (field 2) is in parentheses and may hold spaces; the
    // fields after the last ')' start at field 3 (state). utime and stime are
    // fields 14 and 15.
    let Some(rest) = text.rfind(')').map(|i| &text[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / TICKS_PER_SEC
}

/// Today's date in UTC as `YYYY-MM-DD`, from the system clock.
pub fn utc_date() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
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
    /// `release` or `debug` (a debug build's figures are meaningless).
    pub build: &'static str,
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
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

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
    fn proc_figures_are_read() {
        if !Path::new("/proc/self/status").exists() {
            return;
        }
        let m = mem();
        assert!(m.rss > 0 && m.peak >= m.rss / 2, "{m:?}");
        let start = Cpu::now();
        let mut x = 0u64;
        let t = std::time::Instant::now();
        // Spin until a clock tick (10 ms) is charged to this thread and to
        // the process (the kernel accounts the two separately, so one can
        // lag the other); on a busy machine that takes longer than 10 ms.
        while t.elapsed().as_secs() < 10 {
            let used = Cpu::since(start);
            if used.thread > 0.0 && used.process > 0.0 {
                break;
            }
            for _ in 0..100_000 {
                x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(7));
            }
        }
        std::hint::black_box(x);
        let used = Cpu::since(start);
        assert!(used.thread > 0.0 && used.process > 0.0, "{used:?}");
    }
}
