//! Writing a part file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crc32fast::Hasher;

use super::{
    BLOCK_END_MAGIC, BLOCK_MAGIC, BLOCK_VERSION, ENTRY_BYTES, FLAG_FAST, KIND_FLOAT, KIND_SKETCH,
    PartMeta, part_file_name, partition_dir,
};
use crate::codec::{Effort, MAX_CHUNK_POINTS, floats, sketches, timestamps};
use crate::error::{Error, Result};
use crate::ids::{OrgId, PartSeq, SeriesId};
use crate::sketch::Sketch;
use crate::time::PartitionId;
use crate::wal::frame::file_header;

/// Write buffer per part being written. A flush may write one part per day
/// it touches (a backfill can touch hundreds at once), so the buffer is
/// modest; 256 KiB still turns chunk writes into large sequential writes.
const WRITE_BUFFER_BYTES: usize = 256 << 10;

/// Writes one part. Series must be added in increasing id order, each with
/// its points sorted by time and free of duplicate timestamps. Nothing is
/// visible under the final name until [`PartWriter::finish`] succeeds.
pub struct PartWriter {
    out: BufWriter<File>,
    tmp_path: PathBuf,
    final_path: PathBuf,
    dir: PathBuf,
    table: Vec<u8>,
    pos: u64,
    meta: PartMeta,
    last_id: Option<SeriesId>,
    chunk: Vec<u8>,
    scratch: Vec<i64>,
    effort: Effort,
}

impl PartWriter {
    /// Starts a part for `org`'s `partition` covering `seq_lo..=seq_hi`
    /// under `blocks_dir`, its columns encoded at `effort` (recorded in the
    /// header's flags, see [`FLAG_FAST`]).
    pub fn create(
        blocks_dir: &Path,
        org: OrgId,
        partition: PartitionId,
        seq_lo: PartSeq,
        seq_hi: PartSeq,
        effort: Effort,
    ) -> Result<Self> {
        let dir = partition_dir(blocks_dir, org, partition);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io("create partition directory", &dir, e))?;
        let final_path = dir.join(part_file_name(seq_lo, seq_hi));
        let tmp_path = final_path.with_extension("tmp");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp_path)
            .map_err(|e| Error::io("create part", &tmp_path, e))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        let mut header = file_header(BLOCK_MAGIC, BLOCK_VERSION);
        if effort == Effort::Fast {
            header[12..16].copy_from_slice(&FLAG_FAST.to_le_bytes());
        }
        out.write_all(&header)
            .map_err(|e| Error::io("write part header", &tmp_path, e))?;
        Ok(PartWriter {
            out,
            tmp_path,
            final_path,
            dir,
            table: Vec::new(),
            pos: header.len() as u64,
            meta: PartMeta {
                org,
                partition,
                seq_lo,
                seq_hi,
                series_count: 0,
                point_count: 0,
                entry_count: 0,
                min_ts: i64::MAX,
                max_ts: i64::MIN,
                file_bytes: 0,
                fast: effort == Effort::Fast,
            },
            last_id: None,
            chunk: Vec::new(),
            scratch: Vec::new(),
            effort,
        })
    }

    fn begin_series(&mut self, id: SeriesId) {
        assert!(
            self.last_id.is_none_or(|l| l < id),
            "BUG: series added out of order to a part ({:?} after {:?})",
            id,
            self.last_id
        );
        self.last_id = Some(id);
        self.meta.series_count += 1;
    }

    /// Adds a float series.
    pub fn add_floats(&mut self, id: SeriesId, ts: &[i64], vals: &[f64]) -> Result<()> {
        debug_assert_eq!(ts.len(), vals.len());
        if ts.is_empty() {
            return Ok(());
        }
        self.begin_series(id);
        for (t, v) in ts
            .chunks(MAX_CHUNK_POINTS)
            .zip(vals.chunks(MAX_CHUNK_POINTS))
        {
            self.chunk.clear();
            self.chunk.extend_from_slice(&[0; 4]);
            self.chunk.push(KIND_FLOAT);
            timestamps::encode(t, &mut self.chunk, self.effort);
            floats::encode(v, &mut self.chunk, &mut self.scratch, self.effort);
            self.emit(id, t)?;
        }
        Ok(())
    }

    /// Adds a sketch series.
    pub fn add_sketches(&mut self, id: SeriesId, ts: &[i64], vals: &[Sketch]) -> Result<()> {
        debug_assert_eq!(ts.len(), vals.len());
        if ts.is_empty() {
            return Ok(());
        }
        self.begin_series(id);
        for (t, v) in ts
            .chunks(MAX_CHUNK_POINTS)
            .zip(vals.chunks(MAX_CHUNK_POINTS))
        {
            self.chunk.clear();
            self.chunk.extend_from_slice(&[0; 4]);
            self.chunk.push(KIND_SKETCH);
            timestamps::encode(t, &mut self.chunk, self.effort);
            sketches::encode(v, &mut self.chunk);
            self.emit(id, t)?;
        }
        Ok(())
    }

    fn emit(&mut self, id: SeriesId, ts: &[i64]) -> Result<()> {
        let mut h = Hasher::new();
        h.update(&self.chunk[4..]);
        let crc = h.finalize();
        self.chunk[..4].copy_from_slice(&crc.to_le_bytes());
        let len = u32::try_from(self.chunk.len())
            .map_err(|_| Error::InvalidSeries(format!("chunk of series {id} over 4 GiB")))?;
        let (min, max) = (ts[0], *ts.last().expect("non-empty"));
        self.table.extend_from_slice(&id.0.to_le_bytes());
        self.table.extend_from_slice(&min.to_le_bytes());
        self.table.extend_from_slice(&max.to_le_bytes());
        self.table.extend_from_slice(&self.pos.to_le_bytes());
        self.table.extend_from_slice(&len.to_le_bytes());
        self.table
            .extend_from_slice(&(ts.len() as u32).to_le_bytes());
        debug_assert_eq!(self.table.len() % ENTRY_BYTES, 0);
        self.out
            .write_all(&self.chunk)
            .map_err(|e| Error::io("write part chunk", &self.tmp_path, e))?;
        self.pos += u64::from(len);
        self.meta.entry_count += 1;
        self.meta.point_count += ts.len() as u64;
        self.meta.min_ts = self.meta.min_ts.min(min);
        self.meta.max_ts = self.meta.max_ts.max(max);
        Ok(())
    }

    /// Number of series added so far.
    pub fn series_count(&self) -> u64 {
        self.meta.series_count
    }

    /// Writes the table and footer, syncs, and moves the file into place.
    /// Returns its path and metadata. An empty part is discarded: `None`.
    pub fn finish(mut self) -> Result<Option<(PathBuf, PartMeta)>> {
        if self.meta.entry_count == 0 {
            drop(self.out);
            let _ = std::fs::remove_file(&self.tmp_path);
            return Ok(None);
        }
        let table_offset = self.pos;
        let mut h = Hasher::new();
        h.update(&self.table);
        let table_crc = h.finalize();
        let m = &self.meta;
        let mut footer = Vec::with_capacity(super::FOOTER_BYTES);
        footer.extend_from_slice(&table_offset.to_le_bytes());
        footer.extend_from_slice(&m.entry_count.to_le_bytes());
        footer.extend_from_slice(&m.series_count.to_le_bytes());
        footer.extend_from_slice(&m.point_count.to_le_bytes());
        footer.extend_from_slice(&m.min_ts.to_le_bytes());
        footer.extend_from_slice(&m.max_ts.to_le_bytes());
        footer.extend_from_slice(&m.org.0.to_le_bytes());
        footer.extend_from_slice(&table_crc.to_le_bytes());
        footer.extend_from_slice(&m.partition.0.to_le_bytes());
        footer.extend_from_slice(&m.seq_lo.0.to_le_bytes());
        footer.extend_from_slice(&m.seq_hi.0.to_le_bytes());
        let mut h = Hasher::new();
        h.update(&footer);
        footer.extend_from_slice(&h.finalize().to_le_bytes());
        footer.extend_from_slice(&0u32.to_le_bytes());
        footer.extend_from_slice(BLOCK_END_MAGIC);
        debug_assert_eq!(footer.len(), super::FOOTER_BYTES);
        let path = self.tmp_path.clone();
        let io = |e| Error::io("write part", &path, e);
        self.out.write_all(&self.table).map_err(io)?;
        self.out.write_all(&footer).map_err(io)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io("sync part", &path, e))?;
        drop(file);
        std::fs::rename(&self.tmp_path, &self.final_path)
            .map_err(|e| Error::io("rename part into place", &self.final_path, e))?;
        crate::wal::sync_dir(&self.dir)?;
        self.meta.file_bytes = table_offset + self.table.len() as u64 + super::FOOTER_BYTES as u64;
        Ok(Some((self.final_path, self.meta)))
    }
}
