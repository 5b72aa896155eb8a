//! The value column of a sketch (distribution) chunk: the sketches one after
//! another, each in [`Sketch::encode`]'s layout.
//!
//! Not compressed further: distribution series are few next to float series,
//! and the sketch layout already stores bins as varint key deltas and counts.

use super::CodecError;
use super::varint::Reader;
use crate::sketch::Sketch;

/// Appends every sketch, in order.
pub fn encode(sketches: &[Sketch], out: &mut Vec<u8>) {
    for s in sketches {
        s.encode(out);
    }
}

/// Decodes `n` sketches from `r` into `out` (cleared first).
pub fn decode(r: &mut Reader<'_>, n: usize, out: &mut Vec<Sketch>) -> Result<(), CodecError> {
    out.clear();
    if n == 0 || n > super::MAX_CHUNK_POINTS {
        return Err(CodecError::Invalid("sketch count"));
    }
    for _ in 0..n {
        let (s, used) = Sketch::decode(r.rest()).map_err(|_| CodecError::Invalid("sketch"))?;
        r.bytes(used, "sketch")?;
        out.push(s);
    }
    Ok(())
}
