//! Column codecs: how the timestamps and values of one series chunk become
//! bytes, and back.
//!
//! The byte layouts are specified in `docs/format/block.md`; this module is
//! the only code that produces or parses them. Decoders take untrusted bytes
//! (a damaged file) and return [`CodecError`] rather than panic; they never
//! allocate more than the point count the caller says the chunk holds.

pub mod floats;
pub mod sketches;
pub mod timestamps;
pub mod varint;

/// Most points one chunk may hold. A day of 10 s points (8 640) fits in one
/// chunk, so a merged day partition stores a fleet series as one chunk; a
/// series written every second is split into six. Decoders refuse larger
/// counts, which bounds what a damaged length can make them allocate
/// (16 384 × 16 bytes = 256 KiB).
pub const MAX_CHUNK_POINTS: usize = 16_384;

/// How hard an encoder tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// No pco: only the cheap codecs, for encoding on a hot path: pco costs
    /// about 150 ns per point on a 120-point chunk (a fixed ~15 µs per
    /// chunk), which would cap ingest far below target.
    Fast,
    /// Every codec, keeping the smallest: for parts, written in the
    /// background.
    Best,
}

/// pco's settings for every column: try first-order deltas only.
///
/// pco's default (`DeltaSpec::Auto`) samples several delta orders per chunk;
/// on 720-point fleet chunks that search was about 70% of the time spent
/// writing parts (106 ns per point), while first-order deltas alone took
/// 39 ns per point and compressed as well or better (0.881 against 0.885
/// bytes per point): gauges move by small steps and counters by steps around
/// a rate, so order 1 is the right order for both, and pco's binning absorbs
/// the rate's offset.
pub(crate) fn pco_config() -> pco::ChunkConfig {
    pco::ChunkConfig::default().with_delta_spec(pco::DeltaSpec::TryConsecutive(1))
}

/// Why a chunk could not be decoded. The caller adds the file and offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes end before the structure does.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A codec tag this build does not know.
    #[error("unknown {what} codec {tag}")]
    UnknownCodec {
        /// Which column.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// The bytes parse but describe something impossible.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// The numeric compressor (pco) rejected the bytes.
    #[error("pco: {0}")]
    Pco(String),
}
