//! The timestamp column of a chunk: strictly increasing milliseconds.
//!
//! Three encodings, chosen per chunk by size:
//! - `REGULAR` (tag 0): first timestamp and one step. Agents and scrapers send
//!   points at a fixed interval, so this is the common case and costs a few
//!   bytes per chunk, whatever its length.
//! - `DOD` (tag 1): first timestamp, first delta, then delta-of-deltas as
//!   zig-zag varints. Small and cheap for short or slightly jittery chunks.
//! - `PCO` (tag 2): the column compressed by pco, which finds the best delta
//!   order and entropy-codes it; tried for chunks of [`PCO_MIN_POINTS`] or more
//!   and kept when smaller than `DOD`.

use super::varint::{Reader, put_ivarint, put_len_prefixed, put_uvarint};
use super::{CodecError, Effort};

const REGULAR: u8 = 0;
const DOD: u8 = 1;
const PCO: u8 = 2;

/// Below this many points pco's own header (tens of bytes) costs more than
/// its better entropy coding saves, measured on jittery fleet timestamps.
pub const PCO_MIN_POINTS: usize = 64;

/// Appends the encoding of `ts` (strictly increasing, at least one) to `out`.
pub fn encode(ts: &[i64], out: &mut Vec<u8>, effort: Effort) {
    debug_assert!(!ts.is_empty());
    debug_assert!(
        ts.windows(2).all(|w| w[0] < w[1]),
        "timestamps must increase"
    );
    let first = ts[0];
    let step = if ts.len() > 1 { ts[1] - ts[0] } else { 0 };
    if ts.windows(2).all(|w| w[1] - w[0] == step) {
        out.push(REGULAR);
        put_ivarint(out, first);
        put_uvarint(out, step as u64);
        return;
    }
    let start = out.len();
    out.push(DOD);
    put_ivarint(out, first);
    put_uvarint(out, step as u64);
    let mut prev_delta = step;
    for w in ts[1..].windows(2) {
        let d = w[1] - w[0];
        put_ivarint(out, d.wrapping_sub(prev_delta));
        prev_delta = d;
    }
    if effort == Effort::Best && ts.len() >= PCO_MIN_POINTS {
        let cfg = pco::ChunkConfig::default();
        if let Ok(bytes) = pco::standalone::simple_compress(ts, &cfg)
            && bytes.len() + 4 < out.len() - start
        {
            out.truncate(start);
            out.push(PCO);
            put_len_prefixed(out, &bytes);
        }
    }
}

/// Decodes `n` timestamps from `r` into `out` (cleared first).
pub fn decode(r: &mut Reader<'_>, n: usize, out: &mut Vec<i64>) -> Result<(), CodecError> {
    out.clear();
    if n == 0 || n > super::MAX_CHUNK_POINTS {
        return Err(CodecError::Invalid("timestamp count"));
    }
    match r.u8("timestamp codec")? {
        REGULAR => {
            let first = r.ivarint("first timestamp")?;
            let step = r.uvarint("timestamp step")? as i64;
            if n > 1 && step <= 0 {
                return Err(CodecError::Invalid("timestamp step"));
            }
            out.reserve(n);
            let mut t = first;
            for _ in 0..n {
                out.push(t);
                t = t.wrapping_add(step);
            }
        }
        DOD => {
            let first = r.ivarint("first timestamp")?;
            let mut delta = r.uvarint("first delta")? as i64;
            // Every remaining point needs at least one byte: bound the
            // allocation by what the input can hold.
            if n - 1 > r.remaining() + 1 {
                return Err(CodecError::Truncated("timestamp deltas"));
            }
            out.reserve(n);
            out.push(first);
            let mut t = first;
            if n > 1 {
                t = t.wrapping_add(delta);
                out.push(t);
            }
            for _ in 2..n {
                delta = delta.wrapping_add(r.ivarint("timestamp delta")?);
                t = t.wrapping_add(delta);
                out.push(t);
            }
        }
        PCO => {
            let bytes = r.len_prefixed("pco timestamps")?;
            out.resize(n, 0);
            let progress = pco::standalone::simple_decompress_into(bytes, out)
                .map_err(|e| CodecError::Pco(e.to_string()))?;
            if progress.n_processed != n || !progress.finished {
                return Err(CodecError::Invalid("pco timestamp count"));
            }
        }
        tag => {
            return Err(CodecError::UnknownCodec {
                what: "timestamp",
                tag,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(ts: &[i64]) -> (Vec<i64>, usize) {
        let mut out = Vec::new();
        encode(ts, &mut out, Effort::Best);
        let mut r = Reader::new(&out);
        let mut back = Vec::new();
        decode(&mut r, ts.len(), &mut back).unwrap();
        assert!(r.is_empty());
        (back, out.len())
    }

    #[test]
    fn regular_timestamps_cost_a_few_bytes() {
        let ts: Vec<i64> = (0..8640).map(|i| 1_795_600_000_000 + i * 10_000).collect();
        let (back, len) = round_trip(&ts);
        assert_eq!(back, ts);
        assert!(len <= 10, "{len}");
    }

    #[test]
    fn jittery_timestamps_round_trip_and_compress() {
        let ts: Vec<i64> = (0..720)
            .map(|i| 1_795_600_000_000 + i * 10_000 + (i * 7919 % 13))
            .collect();
        let (back, len) = round_trip(&ts);
        assert_eq!(back, ts);
        assert!(len < 720, "{len}");
    }

    proptest! {
        #[test]
        fn any_increasing_column_round_trips(
            start in -1_000_000_000_000i64..4_000_000_000_000,
            deltas in proptest::collection::vec(1i64..100_000, 0..300),
        ) {
            let mut ts = vec![start];
            for d in deltas { let last = *ts.last().unwrap(); ts.push(last + d); }
            prop_assert_eq!(round_trip(&ts).0, ts);
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), n in 1usize..100) {
            let mut out = Vec::new();
            let _ = decode(&mut Reader::new(&bytes), n, &mut out);
        }
    }
}
