//! The write-ahead log: every accepted write is appended here before it is
//! acknowledged, and replayed into the head after a restart.
//!
//! # Invariants
//! - A write is acknowledged only after its record was handed to the kernel
//!   in one `write(2)` (so it survives `kill -9`), and, under
//!   [`FsyncPolicy::Always`](crate::FsyncPolicy::Always), after an
//!   `fdatasync` that covers it (group commit: one sync serves every writer
//!   waiting at that moment).
//! - Records carry a CRC-32 of their body; a record whose length or checksum
//!   is wrong ends the readable part of its segment.
//! - Segments are numbered in write order. When a segment is closed it is
//!   synced first, so a sync of the current segment covers all earlier ones.
//! - A segment is deleted only after every point in it is in a durable part
//!   (the engine cuts the head at a segment boundary, writes and syncs the
//!   parts, then deletes the segments before that boundary).
//! - After a failed fsync no more writes are accepted (see
//!   [`Error::WritesStopped`](crate::Error::WritesStopped)).
//! - On open, a damaged tail of the last segment (a torn write) is cut off
//!   and reported with its file and offset; damage inside an earlier segment
//!   is reported and the rest of that segment skipped.
//!
//! Byte layout: `docs/format/wal.md`.

pub mod frame;
pub mod record;
mod replay;
mod writer;

pub(crate) use writer::sync_dir;

pub use replay::{ReplayReport, replay};
pub use writer::{AppendSlot, SegmentNo, Wal};

use std::path::{Path, PathBuf};

/// Magic number at the start of every WAL segment.
pub const WAL_MAGIC: &[u8; 8] = b"WHIPWAL\0";
/// Format version of WAL segments written by this build.
pub const WAL_VERSION: u32 = 1;

/// Path of segment `n` in `dir`.
pub fn segment_path(dir: &Path, n: SegmentNo) -> PathBuf {
    dir.join(format!("{:020}.wal", n.0))
}

/// Lists the segments in `dir`, oldest first.
pub fn list_segments(dir: &Path) -> std::io::Result<Vec<SegmentNo>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(num) = name.strip_suffix(".wal")
            && let Ok(n) = num.parse::<u64>()
        {
            v.push(SegmentNo(n));
        }
    }
    v.sort();
    Ok(v)
}
