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
    /// chunk), which would cap ingest far below target. Flushes write at
    /// this effort: most flushed parts are merged (at `Best`) within
    /// minutes, and the rest are re-encoded when their day is sealed
    /// (`engine/merge.rs`). On the 72 M-point protobuf intake bench that
    /// took the server from 0.305 to 0.262 CPU s per million points.
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
///
/// Chunks shorter than [`SHORT_CHUNK_POINTS`] (what a head flush writes:
/// tens to a few hundred points per series) are compressed at level
/// [`SHORT_CHUNK_LEVEL`] instead of pco's default 8. The level bounds how
/// many bins pco considers, and sorting values into that many bins and
/// optimising them is most of pco's cost on a short chunk, while so few
/// values cannot pay for many bins anyway: on gauge and counter chunks of
/// 72 and 150 points, level 4 took 39 and 28 ns per point against 70 and
/// 49 at level 8, for the same bytes (1.314 and 1.050 against 1.314 and
/// 1.056 bytes per point; pco 1.1, 4 000 chunks each, 2026-11-26). Flush
/// encoding was a fifth of the server's CPU under protobuf intake. Merged
/// chunks (a day of 10 s points is 8 640) keep level 8, where it still
/// buys a little (720 points: 0.826 against 0.831 bytes per point).
pub(crate) fn pco_config(points: usize) -> pco::ChunkConfig {
    let config = pco::ChunkConfig::default().with_delta_spec(pco::DeltaSpec::TryConsecutive(1));
    if points < SHORT_CHUNK_POINTS {
        config.with_compression_level(SHORT_CHUNK_LEVEL)
    } else {
        config
    }
}

/// Below this many points a chunk is "short" for [`pco_config`].
pub(crate) const SHORT_CHUNK_POINTS: usize = 256;

/// pco's compression level for short chunks (see [`pco_config`]).
pub(crate) const SHORT_CHUNK_LEVEL: usize = 4;

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
