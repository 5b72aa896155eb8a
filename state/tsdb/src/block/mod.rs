//! Immutable on-disk parts ("blocks"): the points of one org in one day
//! partition, for a contiguous range of part sequence numbers.
//!
//! A part is one file, written once to a temporary name, synced, renamed into
//! place and never changed again; merges write new parts and delete old ones.
//! It holds compressed chunks (each with its own CRC, so damage is found
//! chunk by chunk and the rest of the part stays readable), a fixed-width
//! series table sorted by (series, time) and a footer. Readers map the file
//! into memory and binary-search the table in place, so an open part costs
//! almost no heap however many series it holds.
//!
//! Byte layout: `docs/format/block.md`.

mod reader;
mod writer;

pub use reader::{ChunkRef, Part};
pub use writer::PartWriter;

use std::path::{Path, PathBuf};

use crate::ids::{OrgId, PartSeq};
use crate::time::PartitionId;

/// Magic number at the start of a part file.
pub const BLOCK_MAGIC: &[u8; 8] = b"WHIPBLK\0";
/// Magic number at the end of a part file.
pub const BLOCK_END_MAGIC: &[u8; 8] = b"WHIPEND\0";
/// Format version written by this build.
pub const BLOCK_VERSION: u32 = 1;
/// Size of the file header.
pub const HEADER_BYTES: usize = 16;
/// Size of one series table entry.
pub const ENTRY_BYTES: usize = 40;
/// Size of the footer.
pub const FOOTER_BYTES: usize = 96;
/// File name extension of parts.
pub const PART_EXT: &str = "wblk";

/// Header flag (bytes 12..16): the part was written at `Effort::Fast`
/// (by a flush), so a merge or the seal of its partition re-encodes it.
pub const FLAG_FAST: u32 = 1;

/// Chunk kind byte: float values.
pub const KIND_FLOAT: u8 = 0;
/// Chunk kind byte: sketch values.
pub const KIND_SKETCH: u8 = 1;

/// What a part's footer says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartMeta {
    /// Owner of every series in the part.
    pub org: OrgId,
    /// The day the part's points fall in.
    pub partition: PartitionId,
    /// Oldest sequence number merged into this part.
    pub seq_lo: PartSeq,
    /// Newest sequence number merged into this part.
    pub seq_hi: PartSeq,
    /// Distinct series.
    pub series_count: u64,
    /// Points.
    pub point_count: u64,
    /// Series table entries (chunks).
    pub entry_count: u64,
    /// Smallest timestamp.
    pub min_ts: i64,
    /// Largest timestamp.
    pub max_ts: i64,
    /// File size in bytes.
    pub file_bytes: u64,
    /// Written at `Effort::Fast` (the header's [`FLAG_FAST`]).
    pub fast: bool,
}

/// Directory of a partition's parts under the data directory's `blocks/`.
pub fn partition_dir(blocks_dir: &Path, org: OrgId, partition: PartitionId) -> PathBuf {
    blocks_dir
        .join(format!("org-{}", org.0))
        .join(partition.dir_name())
}

/// File name of a part covering `seq_lo..=seq_hi`.
pub fn part_file_name(seq_lo: PartSeq, seq_hi: PartSeq) -> String {
    format!("{seq_lo}-{seq_hi}.{PART_EXT}")
}

/// Parses a name made by [`part_file_name`].
pub fn parse_part_file_name(name: &str) -> Option<(PartSeq, PartSeq)> {
    let stem = name.strip_suffix(&format!(".{PART_EXT}"))?;
    let (lo, hi) = stem.split_once('-')?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    (lo <= hi).then_some((PartSeq(lo), PartSeq(hi)))
}
