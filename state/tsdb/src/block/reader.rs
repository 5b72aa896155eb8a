//! Reading a part file through a memory map.

use std::fs::File;
use std::path::{Path, PathBuf};

use crc32fast::Hasher;
use memmap2::Mmap;

use super::{
    BLOCK_END_MAGIC, BLOCK_MAGIC, BLOCK_VERSION, ENTRY_BYTES, FLAG_FAST, FOOTER_BYTES,
    HEADER_BYTES, KIND_FLOAT, KIND_SKETCH, PartMeta,
};
use crate::codec::varint::Reader;
use crate::codec::{floats, sketches, timestamps};
use crate::error::{Error, Result};
use crate::ids::{OrgId, PartSeq, SeriesId};
use crate::series::ValueKind;
use crate::sketch::Sketch;
use crate::time::PartitionId;
use crate::wal::frame::check_file_header;

/// An open, immutable part. Cheap to share behind an `Arc`; all reads are
/// `&self` and thread-safe.
pub struct Part {
    /// Unique among the part objects of this process (never reused), so
    /// caches can key on it: a merged part reusing a path or a sequence
    /// number still gets a new `uid`.
    uid: u64,
    path: PathBuf,
    map: Mmap,
    meta: PartMeta,
    table_offset: usize,
}

/// The next [`Part::uid`].
static NEXT_UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// One series table entry: where a chunk of one series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRef {
    /// The series.
    pub series: SeriesId,
    /// First timestamp in the chunk.
    pub min_ts: i64,
    /// Last timestamp in the chunk.
    pub max_ts: i64,
    /// Byte offset of the chunk in the file.
    pub offset: u64,
    /// Length of the chunk in bytes.
    pub len: u32,
    /// Points in the chunk.
    pub count: u32,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

impl Part {
    /// This part object's unique id (see the field).
    pub fn uid(&self) -> u64 {
        self.uid
    }

    /// Opens and checks a part: header, footer checksum, table checksum and
    /// that the table's offsets stay inside the file. Chunk checksums are
    /// checked when each chunk is read.
    pub fn open(path: &Path) -> Result<Part> {
        let file = File::open(path).map_err(|e| Error::io("open part", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("stat part", path, e))?
            .len() as usize;
        if len < HEADER_BYTES + FOOTER_BYTES {
            return Err(Error::corrupt(
                path,
                0,
                format!("file of {len} bytes is too short for a part"),
            ));
        }
        // SAFETY: part files are immutable once renamed into place; the
        // engine never writes to or truncates one. It unlinks it, or renames
        // a rewritten part over its path (a lone fast part re-encoded, see
        // `engine/merge.rs`); either leaves an existing mapping of the old
        // file valid.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io("map part", path, e))?;
        match check_file_header(&map, BLOCK_MAGIC) {
            Ok(BLOCK_VERSION) => {}
            Ok(v) => {
                return Err(Error::UnsupportedVersion {
                    file: path.into(),
                    found: v,
                    supported: BLOCK_VERSION,
                });
            }
            Err(reason) => return Err(Error::corrupt(path, 0, reason)),
        }
        let fo = len - FOOTER_BYTES;
        let f = &map[fo..];
        if &f[88..96] != BLOCK_END_MAGIC {
            return Err(Error::corrupt(
                path,
                (fo + 88) as u64,
                "bad end magic (truncated part?)",
            ));
        }
        let mut h = Hasher::new();
        h.update(&f[..80]);
        if h.finalize() != u32_at(f, 80) {
            return Err(Error::corrupt(path, fo as u64, "footer checksum mismatch"));
        }
        let table_offset = u64_at(f, 0);
        let entry_count = u64_at(f, 8);
        let table_len = entry_count.checked_mul(ENTRY_BYTES as u64);
        if table_offset < HEADER_BYTES as u64
            || table_len.and_then(|l| l.checked_add(table_offset)) != Some(fo as u64)
        {
            return Err(Error::corrupt(
                path,
                fo as u64,
                "series table does not end at the footer",
            ));
        }
        let table_offset = table_offset as usize;
        let table = &map[table_offset..fo];
        let mut h = Hasher::new();
        h.update(table);
        if h.finalize() != u32_at(f, 52) {
            return Err(Error::corrupt(
                path,
                table_offset as u64,
                "series table checksum mismatch",
            ));
        }
        let meta = PartMeta {
            org: OrgId(u32_at(f, 48)),
            partition: PartitionId(u64_at(f, 56) as i64),
            seq_lo: PartSeq(u64_at(f, 64)),
            seq_hi: PartSeq(u64_at(f, 72)),
            series_count: u64_at(f, 16),
            point_count: u64_at(f, 24),
            entry_count,
            min_ts: u64_at(f, 32) as i64,
            max_ts: u64_at(f, 40) as i64,
            file_bytes: len as u64,
            fast: u32_at(&map, 12) & FLAG_FAST != 0,
        };
        let part = Part {
            uid: NEXT_UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            path: path.to_path_buf(),
            map,
            meta,
            table_offset,
        };
        // Every chunk must lie between the header and the table, and the table
        // must be sorted: checked once so that reads can trust it.
        let mut prev: Option<(u64, i64)> = None;
        for i in 0..entry_count as usize {
            let e = part.entry(i);
            let end = e.offset.checked_add(u64::from(e.len));
            if e.offset < HEADER_BYTES as u64
                || end.is_none_or(|x| x > table_offset as u64)
                || e.count == 0
            {
                return Err(Error::corrupt(
                    path,
                    (table_offset + i * ENTRY_BYTES) as u64,
                    "series table entry out of range",
                ));
            }
            if prev.is_some_and(|p| p >= (e.series.0, e.min_ts)) || e.min_ts > e.max_ts {
                return Err(Error::corrupt(
                    path,
                    (table_offset + i * ENTRY_BYTES) as u64,
                    "series table is not sorted",
                ));
            }
            prev = Some((e.series.0, e.min_ts));
        }
        // The check above read the whole table (40 bytes a series: 4 MB for
        // a part of 100 000 series); reads fault back the pages they need.
        part.release_pages(0, len);
        Ok(part)
    }

    /// Takes the pages of `len` bytes at `offset` out of this process'
    /// resident memory. They stay in the page cache, and the next access
    /// maps them again (a minor fault), so this is for ranges the caller is
    /// done with: a merge's inputs behind its cursors, a table after `open`
    /// checked it. Clean file pages the kernel could drop at any time, but
    /// while mapped they count in the process' RSS. Best effort: an error
    /// only leaves the pages resident.
    pub fn release_pages(&self, offset: usize, len: usize) {
        let len = len.min(self.map.len().saturating_sub(offset));
        if len == 0 {
            return;
        }
        // SAFETY: the mapping is shared, read-only, of a file that is never
        // written again (see `open`), so MADV_DONTNEED only drops this
        // process' page table entries: a concurrent or later read of the
        // range faults in the same bytes from the page cache or the file.
        // Nothing here or in any reader writes through the mapping.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len)
        };
    }

    /// Releases (see [`Part::release_pages`]) the chunks and table entries
    /// before entry `i`: what a reader walking the part in table order, as a
    /// merge does, has consumed.
    pub fn release_before_entry(&self, i: usize) {
        if i == 0 {
            return;
        }
        let data_end = if i < self.entry_count() {
            self.entry(i).offset as usize
        } else {
            self.table_offset
        };
        self.release_pages(0, data_end);
        self.release_pages(self.table_offset, i * ENTRY_BYTES);
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The footer's description.
    pub fn meta(&self) -> &PartMeta {
        &self.meta
    }

    /// Entry `i` of the series table.
    pub fn entry(&self, i: usize) -> ChunkRef {
        let b = &self.map[self.table_offset + i * ENTRY_BYTES..][..ENTRY_BYTES];
        ChunkRef {
            series: SeriesId(u64_at(b, 0)),
            min_ts: u64_at(b, 8) as i64,
            max_ts: u64_at(b, 16) as i64,
            offset: u64_at(b, 24),
            len: u32_at(b, 32),
            count: u32_at(b, 36),
        }
    }

    /// Number of series table entries.
    pub fn entry_count(&self) -> usize {
        self.meta.entry_count as usize
    }

    /// Index of the first entry of `id` (or of the next larger id).
    pub fn lower_bound(&self, id: SeriesId) -> usize {
        self.bisect(id, 0, self.entry_count())
    }

    /// The series id of entry `i`.
    fn id_at(&self, i: usize) -> u64 {
        u64_at(&self.map, self.table_offset + i * ENTRY_BYTES)
    }

    /// The first entry in `lo..hi` whose id is at least `id`, given that
    /// the entries before `lo` are below it and the entry at `hi` (if any)
    /// is not.
    fn bisect(&self, id: SeriesId, mut lo: usize, mut hi: usize) -> usize {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.id_at(mid) < id.0 {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// [`Part::lower_bound`] for a reader walking series in ascending id
    /// order: `from` is where the previous, smaller id's search ended (0 to
    /// start). It first guesses one entry per id from there, then gallops
    /// forward (probes at `lo`, `lo + 1`, `lo + 3`, `lo + 7`, ...) and
    /// bisects the last gap, so a walk over many series of a part touches
    /// the table near where it already is instead of bisecting 4 MB of it
    /// from the top for each series (the bisection's cache misses were a
    /// tenth of an aggregation over 5 000 of 100 000 series). Any `from`
    /// gives the right answer; a `from` past the answer falls back to the
    /// full bisection.
    pub fn lower_bound_from(&self, id: SeriesId, from: usize) -> usize {
        let n = self.entry_count();
        let from = from.min(n);
        if from > 0 && self.id_at(from - 1) >= id.0 {
            return self.lower_bound(id);
        }
        if from == n || self.id_at(from) >= id.0 {
            return from;
        }
        // Invariant: entries before `lo` are below `id`; the entry at `hi`
        // (when `hi < n`) is at or above it.
        let (mut lo, mut hi) = (from + 1, n);
        // First guess: one entry per id from here, as in a merged part that
        // holds every series once. When it holds, the answer is found with
        // two reads of the same cache line.
        let gap = usize::try_from(id.0 - self.id_at(from)).unwrap_or(usize::MAX);
        let guess = from.saturating_add(gap).min(n - 1);
        if self.id_at(guess) >= id.0 {
            hi = guess;
            if self.id_at(guess - 1) < id.0 {
                return guess;
            }
        } else {
            lo = guess + 1;
        }
        // Otherwise gallop from the nearer bound, then bisect.
        let base = lo;
        let mut reach = 1usize;
        loop {
            let probe = base.saturating_add(reach - 1);
            if probe >= hi {
                break;
            }
            if self.id_at(probe) >= id.0 {
                hi = probe;
                break;
            }
            lo = probe + 1;
            reach = reach.saturating_mul(2);
        }
        self.bisect(id, lo, hi)
    }

    /// [`Part::chunks_for`] with the search started at `*cursor` (see
    /// [`Part::lower_bound_from`]), which is left at the first entry of
    /// `id` or where it would be: pass the same cursor for the next,
    /// larger id.
    pub fn chunks_from(
        &self,
        id: SeriesId,
        start: i64,
        end: i64,
        cursor: &mut usize,
    ) -> impl Iterator<Item = ChunkRef> + '_ {
        *cursor = self.lower_bound_from(id, *cursor);
        self.chunks_at(*cursor, id, start, end)
    }

    /// Chunks of `id` that overlap `[start, end)`, in time order.
    pub fn chunks_for(
        &self,
        id: SeriesId,
        start: i64,
        end: i64,
    ) -> impl Iterator<Item = ChunkRef> + '_ {
        self.chunks_at(self.lower_bound(id), id, start, end)
    }

    /// The chunks of `id` from entry `first` (its first entry) on that
    /// overlap `[start, end)`.
    fn chunks_at(
        &self,
        first: usize,
        id: SeriesId,
        start: i64,
        end: i64,
    ) -> impl Iterator<Item = ChunkRef> + '_ {
        (first..self.entry_count())
            .map(|i| self.entry(i))
            .take_while(move |e| e.series == id)
            .filter(move |e| e.max_ts >= start && e.min_ts < end)
    }

    fn chunk_bytes(&self, c: &ChunkRef) -> Result<Reader<'_>> {
        let bytes = &self.map[c.offset as usize..(c.offset + u64::from(c.len)) as usize];
        if bytes.len() < 5 {
            return Err(Error::corrupt(
                &self.path,
                c.offset,
                "chunk shorter than its header",
            ));
        }
        let mut h = Hasher::new();
        h.update(&bytes[4..]);
        if h.finalize() != u32_at(bytes, 0) {
            return Err(Error::corrupt(
                &self.path,
                c.offset,
                format!("chunk checksum mismatch (series {})", c.series),
            ));
        }
        Ok(Reader::new(&bytes[4..]))
    }

    /// The kind of values chunk `c` holds.
    pub fn chunk_kind(&self, c: &ChunkRef) -> Result<ValueKind> {
        match self.map.get(c.offset as usize + 4) {
            Some(&KIND_FLOAT) => Ok(ValueKind::Float),
            Some(&KIND_SKETCH) => Ok(ValueKind::Sketch),
            _ => Err(Error::corrupt(&self.path, c.offset, "unknown chunk kind")),
        }
    }

    /// Checks chunk `c`'s checksum and kind; returns a reader after the kind
    /// byte.
    fn open_chunk(&self, c: &ChunkRef, kind: u8) -> Result<Reader<'_>> {
        let mut r = self.chunk_bytes(c)?;
        if r.u8("kind").map_err(|e| self.damaged(c, e))? != kind {
            let want = if kind == KIND_FLOAT {
                "float"
            } else {
                "sketch"
            };
            return Err(Error::corrupt(
                &self.path,
                c.offset,
                format!("expected a {want} chunk"),
            ));
        }
        Ok(r)
    }

    fn damaged(&self, c: &ChunkRef, e: crate::codec::CodecError) -> Error {
        Error::corrupt(&self.path, c.offset, format!("series {}: {e}", c.series))
    }

    /// Decodes a float chunk into `ts`/`vals` (cleared first).
    pub fn read_floats(
        &self,
        c: &ChunkRef,
        ts: &mut Vec<i64>,
        vals: &mut Vec<f64>,
        scratch: &mut Vec<i64>,
    ) -> Result<()> {
        if let timestamps::Decoded::Regular { first, step } =
            self.read_floats_lazy(c, ts, vals, scratch)?
        {
            timestamps::fill_regular(first, step, c.count as usize, ts);
        }
        Ok(())
    }

    /// Like [`Part::read_floats`], but regular timestamps come back as first
    /// and step instead of being written to `ts`.
    pub fn read_floats_lazy(
        &self,
        c: &ChunkRef,
        ts: &mut Vec<i64>,
        vals: &mut Vec<f64>,
        scratch: &mut Vec<i64>,
    ) -> Result<timestamps::Decoded> {
        let mut r = self.open_chunk(c, KIND_FLOAT)?;
        let n = c.count as usize;
        let t = timestamps::decode_lazy(&mut r, n, ts).map_err(|e| self.damaged(c, e))?;
        floats::decode(&mut r, n, vals, scratch).map_err(|e| self.damaged(c, e))?;
        Ok(t)
    }

    /// The laziest decode of a float chunk, for aggregations: regular
    /// timestamps come back as first and step, a constant as its value, and
    /// decimals as integer mantissas in `mantissas` (see
    /// [`floats::decode_lazy`]); only what has no shorter form is written to
    /// `ts` and `vals`.
    pub fn read_float_columns(
        &self,
        c: &ChunkRef,
        ts: &mut Vec<i64>,
        vals: &mut Vec<f64>,
        mantissas: &mut Vec<i64>,
    ) -> Result<(timestamps::Decoded, floats::Values)> {
        let mut r = self.open_chunk(c, KIND_FLOAT)?;
        let n = c.count as usize;
        let t = timestamps::decode_lazy(&mut r, n, ts).map_err(|e| self.damaged(c, e))?;
        let v = floats::decode_lazy(&mut r, n, vals, mantissas).map_err(|e| self.damaged(c, e))?;
        Ok((t, v))
    }

    /// Decodes a sketch chunk into `ts`/`vals` (cleared first).
    pub fn read_sketches(
        &self,
        c: &ChunkRef,
        ts: &mut Vec<i64>,
        vals: &mut Vec<Sketch>,
    ) -> Result<()> {
        let mut r = self.open_chunk(c, KIND_SKETCH)?;
        let n = c.count as usize;
        timestamps::decode(&mut r, n, ts).map_err(|e| self.damaged(c, e))?;
        sketches::decode(&mut r, n, vals).map_err(|e| self.damaged(c, e))?;
        Ok(())
    }

    /// Series ids in the part, in order, each once.
    pub fn series_ids(&self) -> impl Iterator<Item = SeriesId> + '_ {
        let mut last = None;
        (0..self.entry_count()).filter_map(move |i| {
            let id = self.entry(i).series;
            (last != Some(id)).then(|| {
                last = Some(id);
                id
            })
        })
    }
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::PartWriter;
    use crate::codec::Effort;

    /// A part writer for org 1's partition 0 under `dir`.
    fn writer(dir: &std::path::Path) -> PartWriter {
        PartWriter::create(
            dir,
            OrgId(1),
            PartitionId::of(0),
            PartSeq(1),
            PartSeq(1),
            Effort::Best,
        )
        .unwrap()
    }

    #[test]
    fn released_pages_read_back_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let series = 3000u64;
        let mut w = writer(dir.path());
        let ts: Vec<i64> = (0..50).map(|i| i * 10_000).collect();
        let vals = |id: u64| -> Vec<f64> { (0..50).map(|i| (id * 7 + i) as f64 / 10.0).collect() };
        for id in 1..=series {
            w.add_floats(SeriesId(id), &ts, &vals(id)).unwrap();
        }
        let (path, _) = w.finish().unwrap().unwrap();
        let part = Part::open(&path).unwrap();
        let (mut t, mut v, mut s) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..part.entry_count() {
            // Release everything before this entry, and this entry's page
            // with it (the range is rounded out to whole pages).
            part.release_before_entry(i + 1);
            let e = part.entry(i);
            part.read_floats(&e, &mut t, &mut v, &mut s).unwrap();
            assert_eq!(t, ts);
            assert_eq!(v, vals(e.series.0));
        }
        part.release_pages(0, usize::MAX);
        assert_eq!(part.lower_bound(SeriesId(series)), part.entry_count() - 1);
    }

    #[test]
    fn the_galloping_search_agrees_with_the_bisection_from_any_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(dir.path());
        // Ids 3, 6, 9, ...: searches for the ids between find where they
        // would be.
        let ids: Vec<u64> = (1..=300).map(|i| i * 3).collect();
        for &id in &ids {
            w.add_floats(SeriesId(id), &[1_000, 2_000], &[1.0, 2.0])
                .unwrap();
        }
        let (path, _) = w.finish().unwrap().unwrap();
        let part = Part::open(&path).unwrap();
        let n = part.entry_count();
        for id in 0..=905u64 {
            let want = part.lower_bound(SeriesId(id));
            for from in [
                0,
                1,
                2,
                7,
                want.saturating_sub(1),
                want,
                want + 1,
                n / 2,
                n,
                n + 9,
            ] {
                assert_eq!(
                    part.lower_bound_from(SeriesId(id), from),
                    want,
                    "id {id} from {from}"
                );
            }
        }
        // A walk in id order with one cursor finds every chunk.
        let mut cursor = 0;
        for &id in &ids {
            let got: Vec<_> = part
                .chunks_from(SeriesId(id), 0, 10_000, &mut cursor)
                .collect();
            let want: Vec<_> = part.chunks_for(SeriesId(id), 0, 10_000).collect();
            assert_eq!(got.len(), 1);
            assert_eq!(got, want);
            assert_eq!(part.entry(cursor).series, SeriesId(id));
        }
    }
}
