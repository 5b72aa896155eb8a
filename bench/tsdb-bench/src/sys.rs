//! What the bench reads from its own process: the heap it holds (a counting
//! allocator), its memory and CPU time from `/proc`. Linux only; on other
//! systems the figures that need `/proc` come out as zero and the report
//! says so. What every bench reads alike (the `/proc` parsing, the date, the
//! file system, the machine) is `whippet_intake_bench::sys`, re-exported
//! here where this bench uses it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

use serde::Serialize;
pub use whippet_intake_bench::sys::{Machine, fs_type, utc_date};
use whippet_intake_bench::sys::{ProcStatus, cpu_secs};

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`). It is 100 on
/// every Linux architecture the bench runs on; a constant rather than
/// `whippet_intake_bench::sys::clock_ticks_per_sec` (which asks `getconf`,
/// the crates avoid libc) so that [`Cpu::now`] never starts a process in the
/// middle of a measurement.
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
    let status = ProcStatus::read("self");
    Mem {
        heap: heap_live(),
        rss: status.bytes("VmRSS:"),
        peak: status.bytes("VmHWM:"),
        anon: status.bytes("RssAnon:"),
        file: status.bytes("RssFile:"),
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
            process: cpu_secs("self", TICKS_PER_SEC).unwrap_or(0.0),
            thread: cpu_secs("thread-self", TICKS_PER_SEC).unwrap_or(0.0),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_figures_are_read() {
        if !std::path::Path::new("/proc/self/status").exists() {
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
