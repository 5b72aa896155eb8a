//! Appending to the WAL: segments, rotation, and syncing (interval or group
//! commit).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::frame::file_header;
use super::{WAL_MAGIC, WAL_VERSION, segment_path};
use crate::error::{Error, Result};

/// One append's place in the log, taken by [`Wal::begin_append`].
pub struct AppendSlot<'a> {
    wal: &'a Wal,
    cur: MutexGuard<'a, Current>,
}

impl AppendSlot<'_> {
    /// Writes framed records at this slot's place; see [`Wal::append`].
    pub fn write(mut self, framed: &[u8]) -> Result<u64> {
        let wal = self.wal;
        let cur = &mut *self.cur;
        if cur.size > super::frame::FILE_HEADER_BYTES as u64
            && cur.size + framed.len() as u64 > wal.segment_bytes
        {
            wal.rotate_locked(cur)?;
        }
        (&*cur.file)
            .write_all(framed)
            .map_err(|e| Error::io("append to WAL segment", segment_path(&wal.dir, cur.no), e))?;
        cur.size += framed.len() as u64;
        cur.written += framed.len() as u64;
        Ok(cur.written)
    }
}

/// A segment number; larger is newer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentNo(pub u64);

/// A position in the log: total bytes written since the WAL was opened.
/// Only compared, never used as a file offset.
type Lsn = u64;

/// The WAL writer.
///
/// Lock order: `current` is taken before `sync`, never the other way round;
/// the engine takes `current` (an append or a rotation) only after its own
/// write lock, or with no lock of its own. No lock is held during `fdatasync` except that of a
/// rotation (which must finish the old segment before the new one is used).
pub struct Wal {
    dir: PathBuf,
    segment_bytes: u64,
    /// The open segment. Guarded by its mutex; see the lock order above.
    current: Mutex<Current>,
    /// Sync progress and the first sync error. Guarded by its mutex.
    sync: Mutex<SyncState>,
    /// Signalled whenever `sync.synced` moves or a sync fails.
    synced_cv: Condvar,
}

struct Current {
    file: Arc<File>,
    no: SegmentNo,
    /// Bytes in the current segment.
    size: u64,
    /// Position after the last byte written (all segments).
    written: Lsn,
}

#[derive(Default)]
struct SyncState {
    /// Everything before this position is on stable storage.
    synced: Lsn,
    /// A sync is running; others wait for it instead of starting their own.
    in_progress: bool,
    /// The first failed sync: once set, every write and sync fails.
    failed: Option<(PathBuf, String)>,
}

impl Wal {
    /// Starts a new segment numbered `next` in `dir` (created if missing).
    pub fn create(dir: &Path, next: SegmentNo, segment_bytes: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create WAL directory", dir, e))?;
        let (file, size) = new_segment(dir, next)?;
        sync_dir(dir)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            segment_bytes,
            current: Mutex::new(Current {
                file: Arc::new(file),
                no: next,
                size,
                written: 0,
            }),
            sync: Mutex::new(SyncState::default()),
            synced_cv: Condvar::new(),
        })
    }

    /// The directory of the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment being written.
    pub fn current_segment(&self) -> SegmentNo {
        self.current.lock().no
    }

    /// Appends framed records (one or more, built with
    /// [`super::frame::put_record`]) in one `write(2)`. Returns the position
    /// to pass to [`Wal::sync_to`] for durability.
    ///
    /// When the segment is full, a new one is started first, so one append
    /// never spans two segments.
    pub fn append(&self, framed: &[u8]) -> Result<u64> {
        self.begin_append()?.write(framed)
    }

    /// Takes this log's place for one append now and writes later, with
    /// [`AppendSlot::write`]: appends land in the order their slots were
    /// taken. A caller that must keep the log in the order of its own
    /// state takes the slot while it still holds its own lock, and writes
    /// after releasing it, so the `write(2)` does not hold that lock.
    ///
    /// The slot holds `current` until it is written or dropped: every other
    /// append and rotation waits for it.
    pub fn begin_append(&self) -> Result<AppendSlot<'_>> {
        self.check_failed()?;
        Ok(AppendSlot {
            wal: self,
            cur: self.current.lock(),
        })
    }

    /// Closes the current segment (synced) and starts the next one. Returns
    /// the number of the new segment: every record appended before this call
    /// is in an older segment.
    pub fn rotate(&self) -> Result<SegmentNo> {
        self.check_failed()?;
        let mut cur = self.current.lock();
        self.rotate_locked(&mut cur)?;
        Ok(cur.no)
    }

    fn rotate_locked(&self, cur: &mut Current) -> Result<()> {
        let old = segment_path(&self.dir, cur.no);
        if let Err(e) = cur.file.sync_data() {
            let err = self.fail(old.clone(), &e);
            return Err(err);
        }
        let next = SegmentNo(cur.no.0 + 1);
        let (file, size) = new_segment(&self.dir, next)?;
        sync_dir(&self.dir)?;
        cur.file = Arc::new(file);
        cur.no = next;
        cur.size = size;
        // Everything written so far is in synced segments.
        let written = cur.written;
        let mut s = self.sync.lock();
        s.synced = s.synced.max(written);
        self.synced_cv.notify_all();
        Ok(())
    }

    /// Blocks until everything up to `lsn` is synced, syncing if no other
    /// thread is (group commit).
    pub fn sync_to(&self, lsn: u64) -> Result<()> {
        let mut s = self.sync.lock();
        loop {
            if let Some((path, reason)) = &s.failed {
                return Err(Error::WritesStopped {
                    path: path.clone(),
                    reason: reason.clone(),
                });
            }
            if s.synced >= lsn {
                return Ok(());
            }
            if s.in_progress {
                self.synced_cv.wait(&mut s);
                continue;
            }
            s.in_progress = true;
            drop(s);
            let result = self.sync_current();
            s = self.sync.lock();
            s.in_progress = false;
            match result {
                Ok(upto) => s.synced = s.synced.max(upto),
                Err((path, e)) => {
                    tracing::error!(path = %path.display(), error = %e, "WAL fsync failed; writes are stopped");
                    s.failed.get_or_insert((path, e.to_string()));
                }
            }
            self.synced_cv.notify_all();
        }
    }

    /// Syncs whatever has been written (the interval policy's tick).
    pub fn sync_now(&self) -> Result<()> {
        let written = self.current.lock().written;
        self.sync_to(written)
    }

    /// Syncs the current segment without holding `current` during the call.
    fn sync_current(&self) -> std::result::Result<Lsn, (PathBuf, std::io::Error)> {
        let (file, no, written) = {
            let cur = self.current.lock();
            (cur.file.clone(), cur.no, cur.written)
        };
        file.sync_data()
            .map(|()| written)
            .map_err(|e| (segment_path(&self.dir, no), e))
    }

    fn fail(&self, path: PathBuf, e: &std::io::Error) -> Error {
        tracing::error!(path = %path.display(), error = %e, "WAL fsync failed; writes are stopped");
        let mut s = self.sync.lock();
        s.failed.get_or_insert((path.clone(), e.to_string()));
        self.synced_cv.notify_all();
        Error::WritesStopped {
            path,
            reason: e.to_string(),
        }
    }

    /// Fails with [`Error::WritesStopped`] once a sync failed.
    pub fn check_failed(&self) -> Result<()> {
        match &self.sync.lock().failed {
            Some((path, reason)) => Err(Error::WritesStopped {
                path: path.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Deletes every segment older than `keep_from`.
    pub fn remove_before(&self, keep_from: SegmentNo) -> Result<()> {
        let segs = super::list_segments(&self.dir)
            .map_err(|e| Error::io("list WAL segments", &self.dir, e))?;
        for s in segs.into_iter().filter(|s| *s < keep_from) {
            let p = segment_path(&self.dir, s);
            std::fs::remove_file(&p).map_err(|e| Error::io("remove WAL segment", p, e))?;
        }
        Ok(())
    }
}

fn new_segment(dir: &Path, no: SegmentNo) -> Result<(File, u64)> {
    // The segment appears whole or not at all: its header is written to
    // `<name>.tmp`, which `list_segments` never reads, and the file is then
    // renamed into place. Created in place, a kill between the creation and
    // the header's write left an empty segment that the next open reported
    // as damage (tests/crash.rs saw it about once in ten runs). A leftover
    // `.tmp` of the same number is overwritten here.
    let path = segment_path(dir, no);
    if path.exists() {
        return Err(Error::io(
            "create WAL segment",
            &path,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "segment exists"),
        ));
    }
    let tmp = path.with_extension("wal.tmp");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&tmp)
        .map_err(|e| Error::io("create WAL segment", &tmp, e))?;
    let h = file_header(WAL_MAGIC, WAL_VERSION);
    f.write_all(&h)
        .map_err(|e| Error::io("write WAL header", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename WAL segment", &path, e))?;
    Ok((f, h.len() as u64))
}

/// Syncs a directory so that file creations and renames in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync directory", dir, e))
}
