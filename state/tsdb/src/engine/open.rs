//! Opening an engine: lock the directory, load the catalog and the parts,
//! replay the WAL into a head, clean up what a crash left behind.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};

use parking_lot::{Condvar, Mutex, RwLock};

use super::{FrozenHead, Inner, PartMap, Registry, Stats, WriteState};
use crate::block::{PART_EXT, Part, parse_part_file_name};
use crate::catalog::Catalog;
use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::head::Head;
use crate::index::Index;
use crate::series::ValueKind;
use crate::time::PartitionId;
use crate::wal::record::Record;
use crate::wal::{self, SegmentNo, Wal};

/// What opening found and did.
#[derive(Debug, Default)]
pub struct OpenReport {
    /// Series in the catalog.
    pub series: usize,
    /// Parts loaded.
    pub parts: usize,
    /// WAL segments replayed.
    pub wal_segments: usize,
    /// WAL records replayed.
    pub wal_records: usize,
    /// Points replayed into the head.
    pub wal_points: u64,
    /// Every piece of damage found, each an [`Error::Corruption`] (or
    /// another typed error) naming the file and offset: torn WAL or catalog
    /// tails (cut off), damaged parts (set aside as `*.corrupt`), damaged WAL
    /// segments (their rest skipped). Everything else stays readable.
    pub damage: Vec<Error>,
    /// Leftovers of interrupted work removed: temporary part files, and parts
    /// already merged into another part.
    pub leftovers_removed: usize,
}

pub(super) fn open(dir: &Path, config: EngineConfig) -> Result<(Inner, OpenReport)> {
    config.validate()?;
    let mut report = OpenReport::default();
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create data directory", dir, e))?;
    let lock_path = dir.join("LOCK");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io("open lock file", &lock_path, e))?;
    if lock_file.try_lock().is_err() {
        return Err(Error::Config(format!(
            "data directory {} is in use by another process (its LOCK is held)",
            dir.display()
        )));
    }

    let (mut catalog, damage) = Catalog::open(&dir.join("catalog.wcat"))?;
    report.damage.extend(damage);
    let mut index = Index::build(&mut catalog);

    let blocks_dir = dir.join("blocks");
    let parts = load_parts(&blocks_dir, &mut report)?;
    let next_seq = parts
        .values()
        .flatten()
        .map(|p| p.meta().seq_hi.0)
        .max()
        .unwrap_or(0)
        + 1;
    report.parts = parts.values().map(Vec::len).sum();
    let max_parts = parts.values().map(Vec::len).max().unwrap_or(0);

    // Replay the WAL into a fresh head.
    let wal_dir = dir.join("wal");
    let mut head = Head::new();
    let mut points = 0u64;
    let mut skipped = 0u64;
    let replay = wal::replay(&wal_dir, |rec| {
        match rec {
            Record::Series(def) => {
                if catalog.apply_wal_def(&def)? {
                    let (e, _) = catalog.get(def.id).expect("just applied");
                    let (org, metric, tags) = (e.org, e.metric, e.tags.clone());
                    index.add(&mut catalog, def.id, org, metric, &tags);
                }
            }
            Record::Floats(v) => {
                for p in v {
                    match catalog.get(p.series) {
                        Some((e, _)) if e.kind == ValueKind::Float => {
                            head.push_float(p.series, p.ts, p.value);
                            points += 1;
                        }
                        _ => skipped += 1,
                    }
                }
            }
            Record::Sketches(v) => {
                for p in v {
                    match catalog.get(p.series) {
                        Some((e, _)) if e.kind == ValueKind::Sketch => {
                            head.push_sketch(p.series, p.ts, &p.sketch);
                            points += 1;
                        }
                        _ => skipped += 1,
                    }
                }
            }
        }
        Ok(())
    })?;
    if skipped > 0 {
        tracing::warn!(skipped, "WAL points of unknown series were skipped");
    }
    report.wal_segments = replay.segments;
    report.wal_records = replay.records;
    report.wal_points = points;
    report.damage.extend(replay.damage);
    let next_segment = SegmentNo(replay.last_segment.map_or(1, |s| s.0 + 1));
    let wal = Wal::create(&wal_dir, next_segment, config.wal_segment_bytes)?;
    // Make sure definitions replayed into the catalog are durable before the
    // segments that carried them can be deleted.
    catalog.sync()?;

    report.series = catalog.len();
    let n = catalog.len();
    // The replayed head is frozen at once, so that the first flush writes it
    // and deletes the replayed segments, which all precede `next_segment`.
    let mut frozen = Vec::new();
    if !head.is_empty() {
        frozen.push(Arc::new(FrozenHead {
            head,
            wal_before: next_segment,
        }));
    }
    let inner = Inner {
        blocks_dir,
        _lock_file: lock_file,
        registry: RwLock::new(Registry {
            catalog,
            index,
            last_write_s: (0..n).map(|_| AtomicU32::new(0)).collect(),
            active: HashMap::new(),
        }),
        write: Mutex::new(WriteState {
            head: Head::new(),
            head_started_ms: 0,
            head_range: None,
        }),
        wal,
        parts: RwLock::new(Arc::new(parts)),
        frozen: RwLock::new(frozen),
        flush_lock: Mutex::new(()),
        merge_lock: Mutex::new(()),
        next_seq: AtomicU64::new(next_seq),
        signal: Mutex::new(()),
        signal_cv: Condvar::new(),
        shutdown: AtomicBool::new(false),
        max_parts: AtomicUsize::new(max_parts),
        stats: Stats::default(),
        chunk_cache: Arc::new(super::chunk_cache::ChunkCache::new(
            config.chunk_cache_bytes,
        )),
        config,
    };
    for d in &report.damage {
        tracing::warn!(error = %d, "damage found while opening the storage engine");
    }
    Ok((inner, report))
}

/// Loads every part under `blocks_dir`. Removes temporary files and parts
/// covered by a merged part; sets damaged parts aside.
fn load_parts(blocks_dir: &Path, report: &mut OpenReport) -> Result<PartMap> {
    let mut map = PartMap::new();
    if !blocks_dir.exists() {
        return Ok(map);
    }
    let read_dir = |d: &Path| std::fs::read_dir(d).map_err(|e| Error::io("list directory", d, e));
    for org_entry in read_dir(blocks_dir)? {
        let org_path = org_entry
            .map_err(|e| Error::io("list directory", blocks_dir, e))?
            .path();
        if !org_path.is_dir() {
            continue;
        }
        for part_entry in read_dir(&org_path)? {
            let pdir = part_entry
                .map_err(|e| Error::io("list directory", &org_path, e))?
                .path();
            let Some(pid) = pdir
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(PartitionId::from_dir_name)
            else {
                continue;
            };
            let mut found: Vec<Arc<Part>> = Vec::new();
            for f in read_dir(&pdir)? {
                let path = f.map_err(|e| Error::io("list directory", &pdir, e))?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned)
                else {
                    continue;
                };
                if name.ends_with(".tmp") {
                    std::fs::remove_file(&path)
                        .map_err(|e| Error::io("remove temporary part", &path, e))?;
                    report.leftovers_removed += 1;
                    continue;
                }
                if !name.ends_with(PART_EXT) || parse_part_file_name(&name).is_none() {
                    continue;
                }
                match Part::open(&path) {
                    Ok(p) if p.meta().partition == pid => found.push(Arc::new(p)),
                    Ok(_) => report.damage.push(Error::corrupt(
                        &path,
                        0,
                        "part is in the wrong partition directory",
                    )),
                    Err(e) if e.is_corruption() => {
                        let aside = path.with_extension("corrupt");
                        tracing::error!(error = %e, moved_to = %aside.display(), "damaged part set aside");
                        std::fs::rename(&path, &aside)
                            .map_err(|e| Error::io("set damaged part aside", &path, e))?;
                        report.damage.push(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            // A merge that crashed after writing its output but before
            // deleting its inputs leaves parts whose range another covers.
            found.sort_by_key(|p| (p.meta().seq_lo, std::cmp::Reverse(p.meta().seq_hi)));
            let mut kept: Vec<Arc<Part>> = Vec::new();
            for p in found {
                if let Some(last) = kept.last()
                    && p.meta().seq_hi <= last.meta().seq_hi
                {
                    std::fs::remove_file(p.path())
                        .map_err(|e| Error::io("remove merged part", p.path(), e))?;
                    report.leftovers_removed += 1;
                    continue;
                }
                kept.push(p);
            }
            if let Some(first) = kept.first() {
                map.insert((first.meta().org, pid), kept);
            }
        }
    }
    Ok(map)
}
