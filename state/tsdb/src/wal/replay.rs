//! Reading the WAL back after a restart, repairing a torn tail.

use std::fs::OpenOptions;
use std::path::Path;

use super::frame::{FILE_HEADER_BYTES, Next, check_file_header, next_record};
use super::record::{Record, decode};
use super::{SegmentNo, WAL_MAGIC, WAL_VERSION, list_segments, segment_path};
use crate::error::{Error, Result};

/// What a replay found.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// Segments read.
    pub segments: usize,
    /// Records applied.
    pub records: usize,
    /// The newest segment found, if any.
    pub last_segment: Option<SegmentNo>,
    /// Damage found, each a [`Error::Corruption`] naming the file and offset.
    /// A torn tail of the last segment was cut off at that offset; damage in an
    /// earlier segment made the rest of that segment unreadable.
    pub damage: Vec<Error>,
}

/// Replays every segment in `dir`, oldest first, calling `apply` for each
/// record in write order. A missing directory is an empty log.
pub fn replay(dir: &Path, mut apply: impl FnMut(Record) -> Result<()>) -> Result<ReplayReport> {
    let mut report = ReplayReport::default();
    if !dir.exists() {
        return Ok(report);
    }
    let segs = list_segments(dir).map_err(|e| Error::io("list WAL segments", dir, e))?;
    let last = segs.last().copied();
    report.last_segment = last;
    for seg in segs {
        let path = segment_path(dir, seg);
        let is_last = Some(seg) == last;
        let data = std::fs::read(&path).map_err(|e| Error::io("read WAL segment", &path, e))?;
        report.segments += 1;
        match check_file_header(&data, WAL_MAGIC) {
            Ok(WAL_VERSION) => {}
            Ok(v) => {
                return Err(Error::UnsupportedVersion {
                    file: path,
                    found: v,
                    supported: WAL_VERSION,
                });
            }
            Err(reason) => {
                report.damage.push(Error::corrupt(&path, 0, reason));
                if is_last && data.len() < FILE_HEADER_BYTES {
                    // Created but its header never fully written: no records.
                    std::fs::remove_file(&path)
                        .map_err(|e| Error::io("remove torn WAL segment", &path, e))?;
                }
                continue;
            }
        }
        let mut off = FILE_HEADER_BYTES;
        loop {
            match next_record(&data, off) {
                Next::End => break,
                Next::Record(body, next) => match decode(body) {
                    Ok(rec) => {
                        apply(rec)?;
                        report.records += 1;
                        off = next;
                    }
                    Err(e) => {
                        report.damage.push(Error::corrupt(
                            &path,
                            off as u64,
                            format!("undecodable record: {e}"),
                        ));
                        break;
                    }
                },
                Next::Bad(reason) => {
                    if is_last {
                        truncate(&path, off as u64)?;
                        tracing::warn!(file = %path.display(), offset = off, reason, "repaired a torn WAL tail");
                        report.damage.push(Error::corrupt(
                            &path,
                            off as u64,
                            format!("{reason}; torn tail cut off ({} bytes)", data.len() - off),
                        ));
                    } else {
                        tracing::error!(file = %path.display(), offset = off, reason, "damaged WAL segment; the rest of it is skipped");
                        report
                            .damage
                            .push(Error::corrupt(&path, off as u64, reason));
                    }
                    break;
                }
            }
        }
    }
    Ok(report)
}

fn truncate(path: &Path, len: u64) -> Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open WAL segment for repair", path, e))?;
    f.set_len(len)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("truncate torn WAL tail", path, e))
}
