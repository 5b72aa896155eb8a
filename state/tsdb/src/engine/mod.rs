//! The engine: ties the WAL, the head, the parts, the catalog and the index
//! together, and runs the background work (cutting the head, writing parts,
//! merging, retention, WAL syncs).
//!
//! # Locks
//! Fields of [`Inner`] say which lock guards them. The lock order is
//! `registry` → `write` → `parts` → `frozen`; a thread that holds one of these
//! only takes locks to its right. `flush_lock` and `merge_lock` serialise the
//! flusher and the merger and are taken before any of the others. The WAL's
//! own lock (an append's slot or a rotation) comes after `write`. No lock is
//! held across file writes except `flush_lock`/`merge_lock`, which only the
//! background work takes, and `write` during a cut's WAL rotation and the
//! rare catalog records of new series and type changes. A batch of points
//! takes its WAL slot under `write` and writes after releasing it (see
//! `write::commit`).

mod background;
mod catalog_compaction;
mod chunk_cache;
mod flush;
mod merge;
mod newest;
mod open;
mod read;
mod regular;
mod write;

pub use merge::{SEAL_AFTER_MS, pick_merge};
pub use open::OpenReport;
pub use read::{Agg, ReadBuffers, ReadView, SeriesMeta};
pub use write::WriteOutcome;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex, RwLock};

use crate::block::Part;
use crate::catalog::Catalog;
use crate::config::EngineConfig;
use crate::error::Result;
use crate::head::Head;
use crate::ids::OrgId;
use crate::index::Index;
use crate::time::PartitionId;
use crate::wal::{SegmentNo, Wal};

/// The parts of every (org, partition), each list sorted by sequence number
/// (oldest first). Replaced, never mutated, when parts come or go, so a
/// reader's clone of the `Arc` is a consistent snapshot.
pub(crate) type PartMap = BTreeMap<(OrgId, PartitionId), Vec<Arc<Part>>>;

/// A head that was cut and is waiting to be written as parts. Readers still
/// see it until its parts replace it.
pub(crate) struct FrozenHead {
    pub head: Head,
    /// Every record of this head (and of older heads) is in a WAL segment
    /// numbered below this one.
    pub wal_before: SegmentNo,
}

/// The catalog, the index and the active-series bookkeeping.
pub(crate) struct Registry {
    pub catalog: Catalog,
    pub index: Index,
    /// Last write per series, in seconds since the epoch, at `id - 1`; 0 when
    /// not written since the engine opened. Atomics so that appends can
    /// update them under the read lock.
    pub last_write_s: Vec<AtomicU32>,
    /// Active series per org (see `EngineConfig::active_series_window_ms`).
    /// Incremented when a series becomes active; recounted by the
    /// background sweep, so it can exceed the true count by the number of
    /// series that went inactive since the last sweep.
    pub active: HashMap<OrgId, AtomicU64>,
}

/// The active head and when it started.
pub(crate) struct WriteState {
    pub head: Head,
    /// Clock time at which the head received its first write since the last
    /// cut (0 when empty).
    pub head_started_ms: i64,
    /// Smallest and largest timestamp in the head.
    pub head_range: Option<(i64, i64)>,
}

pub(crate) struct Inner {
    pub blocks_dir: PathBuf,
    pub config: EngineConfig,
    /// Holds an exclusive `flock` on `<dir>/LOCK` while the engine is open.
    pub _lock_file: File,
    /// Lock 1 in the order.
    pub registry: RwLock<Registry>,
    /// Lock 2 in the order. Also orders WAL appends with head inserts: a
    /// batch takes its WAL slot before releasing `write`, so the WAL's order
    /// is the head's order.
    pub write: Mutex<WriteState>,
    /// Internally synchronised; its slots are taken under `write`.
    pub wal: Wal,
    /// Lock 3 in the order.
    pub parts: RwLock<Arc<PartMap>>,
    /// Lock 4 in the order. Oldest first.
    pub frozen: RwLock<Vec<Arc<FrozenHead>>>,
    /// Serialises flushes of frozen heads, so they reach parts in order,
    /// and catalog compactions (with each other and with the flusher's
    /// catalog sync and WAL deletion).
    pub flush_lock: Mutex<()>,
    /// Serialises merges and retention.
    pub merge_lock: Mutex<()>,
    /// Next part sequence number.
    pub next_seq: AtomicU64,
    /// Wakes the background threads and writers waiting for backpressure.
    pub signal: Mutex<()>,
    pub signal_cv: Condvar,
    pub shutdown: AtomicBool,
    /// Most parts in any one partition (kept by whoever publishes parts).
    pub max_parts: AtomicUsize,
    pub stats: Stats,
    /// Decoded chunks for aggregations; its own leaf lock.
    pub chunk_cache: Arc<chunk_cache::ChunkCache>,
}

impl Inner {
    /// Wakes the background threads and waiting writers.
    pub fn wake(&self) {
        let _g = self.signal.lock();
        self.signal_cv.notify_all();
    }

    /// Most parts in any one partition.
    pub fn max_parts_in_partition(&self) -> usize {
        self.max_parts.load(Ordering::Relaxed)
    }
}

/// Counters the engine keeps about itself (read with [`Engine::stats`]).
#[derive(Default, Debug)]
pub struct Stats {
    /// Points accepted.
    pub points_written: AtomicU64,
    /// Points rejected, any reason.
    pub points_rejected: AtomicU64,
    /// Head cuts.
    pub head_cuts: AtomicU64,
    /// Parts written from heads.
    pub parts_flushed: AtomicU64,
    /// Merges done.
    pub merges: AtomicU64,
    /// Bytes written by merges.
    pub merge_bytes_written: AtomicU64,
    /// Partitions dropped by retention.
    pub partitions_dropped: AtomicU64,
    /// Times a writer waited for the background work to catch up.
    pub backpressure_waits: AtomicU64,
    /// Errors in background work (also logged).
    pub background_errors: AtomicU64,
}

/// A snapshot of the engine's size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageStats {
    /// Series in the catalog.
    pub series: u64,
    /// Parts on disk.
    pub parts: u64,
    /// Points in parts (duplicates across unmerged parts counted twice).
    pub part_points: u64,
    /// Bytes of part files.
    pub part_bytes: u64,
    /// Parts written fast by a flush (no pco), waiting for a merge or for
    /// their partition's seal to re-encode them (`engine/merge.rs`).
    pub fast_parts: u64,
    /// Points in the active and frozen heads.
    pub head_points: u64,
    /// Approximate bytes of the active and frozen heads.
    pub head_bytes: u64,
    /// Bytes of WAL segments.
    pub wal_bytes: u64,
    /// Bytes held by the decoded-chunk cache.
    pub chunk_cache_bytes: u64,
    /// Chunk reads the cache answered, since the engine opened.
    pub chunk_cache_hits: u64,
    /// Chunk reads that decoded (and were then cached), since it opened.
    pub chunk_cache_misses: u64,
}

/// What [`Engine::verify`] found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Parts checked.
    pub parts: usize,
    /// Chunks checked.
    pub chunks: u64,
    /// Points in intact chunks.
    pub points: u64,
    /// One error per damaged chunk, naming the file and offset.
    pub errors: Vec<crate::error::Error>,
}

/// The storage engine. Cheap to clone; every method is thread-safe. The
/// background tasks stop when the last clone is dropped (or on
/// [`Engine::close`]).
#[derive(Clone)]
pub struct Engine {
    // Declared before `inner` so it drops first, while `inner` is alive.
    threads: Arc<Threads>,
    pub(crate) inner: Arc<Inner>,
}

/// The background threads. They hold only a `Weak` reference to the engine.
struct Threads {
    inner: std::sync::Weak<Inner>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl Threads {
    fn stop(&self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.shutdown.store(true, Ordering::SeqCst);
            let _g = inner.signal.lock();
            inner.signal_cv.notify_all();
        }
        let handles: Vec<_> = self.handles.lock().drain(..).collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Engine {
    /// Opens the engine in `dir` (created if missing): loads the catalog and
    /// the parts, replays the WAL, and starts the background tasks.
    pub fn open(dir: impl AsRef<Path>, config: EngineConfig) -> Result<(Engine, OpenReport)> {
        let (inner, report) = open::open(dir.as_ref(), config)?;
        let inner = Arc::new(inner);
        let handles = if inner.config.background_tasks {
            background::start(&inner)
        } else {
            Vec::new()
        };
        let engine = Engine {
            threads: Arc::new(Threads {
                inner: Arc::downgrade(&inner),
                handles: Mutex::new(handles),
            }),
            inner,
        };
        Ok((engine, report))
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The engine's counters.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Freezes the active head now (it is written as parts by the next
    /// flush, by the background flusher, or replayed after a restart).
    /// Returns false when the head was empty.
    pub fn cut_head(&self) -> Result<bool> {
        flush::cut(&self.inner, true)
    }

    /// Cuts the head and writes every frozen head as parts, so that all data
    /// written so far is in parts and the WAL is emptied.
    pub fn flush(&self) -> Result<()> {
        flush::cut(&self.inner, true)?;
        flush::flush_frozen(&self.inner)
    }

    /// Merges every partition that has more than one part into one part,
    /// then folds the catalog's log into a new compressed snapshot. Returns
    /// the number of merges done.
    pub fn compact(&self) -> Result<usize> {
        let merges = merge::compact_all(&self.inner)?;
        catalog_compaction::compact_catalog(&self.inner, true)?;
        Ok(merges)
    }

    /// Runs one round of the background merge policy (what the merge task
    /// does on each tick). Returns the number of merges done.
    pub fn merge_step(&self) -> Result<usize> {
        merge::merge_round(&self.inner, false)
    }

    /// Drops partitions older than their org's retention. Returns how many.
    pub fn enforce_retention(&self) -> Result<usize> {
        merge::enforce_retention(&self.inner)
    }

    /// Recounts active series per org (what the background sweep does).
    pub fn sweep_active_series(&self) {
        write::sweep_active(&self.inner);
    }

    /// Active series of `org`, as last counted.
    pub fn active_series(&self, org: OrgId) -> u64 {
        self.inner
            .registry
            .read()
            .active
            .get(&org)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// True while the background work is behind (too many frozen heads
    /// waiting to be written, or a partition with too many parts): an append
    /// now would wait for it. Intake uses this to answer "retry later"
    /// instead of holding requests.
    pub fn overloaded(&self) -> bool {
        self.inner.frozen.read().len() >= write::MAX_FROZEN_HEADS
            || self.inner.max_parts_in_partition() >= write::MAX_PARTS_PER_PARTITION
    }

    /// Sizes of what the engine holds.
    pub fn storage_stats(&self) -> StorageStats {
        let series = self.inner.registry.read().catalog.len() as u64;
        let (head_points, head_bytes) = {
            let w = self.inner.write.lock();
            (w.head.points(), w.head.bytes() as u64)
        };
        let parts = self.inner.parts.read().clone();
        let frozen = self.inner.frozen.read().clone();
        let (chunk_cache_bytes, chunk_cache_hits, chunk_cache_misses) =
            self.inner.chunk_cache.counters();
        let mut s = StorageStats {
            series,
            head_points,
            head_bytes,
            chunk_cache_bytes,
            chunk_cache_hits,
            chunk_cache_misses,
            ..StorageStats::default()
        };
        for f in &frozen {
            s.head_points += f.head.points();
            s.head_bytes += f.head.bytes() as u64;
        }
        for list in parts.values() {
            for p in list {
                s.parts += 1;
                s.part_points += p.meta().point_count;
                s.part_bytes += p.meta().file_bytes;
                s.fast_parts += u64::from(p.meta().fast);
            }
        }
        if let Ok(segs) = crate::wal::list_segments(self.inner.wal.dir()) {
            for seg in segs {
                let p = crate::wal::segment_path(self.inner.wal.dir(), seg);
                s.wal_bytes += std::fs::metadata(p).map_or(0, |m| m.len());
            }
        }
        s
    }

    /// Reads and checks every chunk of every part (checksums and decoding).
    /// Damage does not stop the check: each damaged chunk is reported.
    pub fn verify(&self) -> VerifyReport {
        let parts = self.inner.parts.read().clone();
        let mut r = VerifyReport::default();
        let (mut ts, mut f, mut sk, mut scratch) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for p in parts.values().flatten() {
            r.parts += 1;
            for i in 0..p.entry_count() {
                let c = p.entry(i);
                r.chunks += 1;
                let res = p.chunk_kind(&c).and_then(|k| match k {
                    crate::series::ValueKind::Float => {
                        p.read_floats(&c, &mut ts, &mut f, &mut scratch)
                    }
                    crate::series::ValueKind::Sketch => p.read_sketches(&c, &mut ts, &mut sk),
                });
                match res {
                    Ok(()) => r.points += u64::from(c.count),
                    Err(e) => r.errors.push(e),
                }
            }
        }
        r
    }

    /// Stops the background tasks, syncs the WAL and the catalog. Data that
    /// was acknowledged stays in the WAL and is replayed on the next open;
    /// call [`Engine::flush`] first to write it as parts instead.
    pub fn close(&self) -> Result<()> {
        self.threads.stop();
        self.inner.registry.read().catalog.sync()?;
        self.inner.wal.sync_now()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.wal.sync_now();
    }
}
