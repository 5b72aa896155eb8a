//! The timestamp column of a chunk: strictly increasing milliseconds.
//!
//! Four encodings, chosen per chunk by size:
//! - `REGULAR` (tag 0): first timestamp and one step. Agents and scrapers send
//!   points at a fixed interval, so this is the common case and costs a few
//!   bytes per chunk, whatever its length.
//! - `STEPPED` (tag 3): a regular grid with holes: first timestamp, step, and
//!   runs of consecutive grid points (holes before each run, run length). A
//!   series whose agent missed a few flushes stays a few bytes instead of
//!   falling back to a per-point encoding.
//! - `DOD` (tag 1): first timestamp, first delta, then delta-of-deltas as
//!   zig-zag varints. Small and cheap for short or jittery chunks.
//! - `PCO` (tag 2): the column compressed by pco (second-order deltas,
//!   entropy-coded); tried only for long chunks that the cheap encodings do
//!   not already shrink to under a quarter of a byte per point, because pco
//!   costs tens of microseconds per chunk.

use super::varint::{Reader, put_ivarint, put_len_prefixed, put_uvarint};
use super::{CodecError, Effort};

const REGULAR: u8 = 0;
const DOD: u8 = 1;
const PCO: u8 = 2;
const STEPPED: u8 = 3;

/// Below this many points pco's own header (tens of bytes) and fixed cost
/// outweigh what its entropy coding saves.
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
    if !encode_stepped(ts, out) {
        out.truncate(start);
        encode_dod(ts, out);
    }
    let cheap_len = out.len() - start;
    if effort == Effort::Best && ts.len() >= PCO_MIN_POINTS && cheap_len > ts.len() / 4 {
        let cfg = pco::ChunkConfig::default().with_delta_spec(pco::DeltaSpec::TryConsecutive(2));
        if let Ok(bytes) = pco::standalone::simple_compress(ts, &cfg)
            && bytes.len() + 4 < cheap_len
        {
            out.truncate(start);
            out.push(PCO);
            put_len_prefixed(out, &bytes);
        }
    }
}

/// Most runs a STEPPED chunk may have, relative to its points: beyond one run
/// per eight points the grid has more holes than points and DOD is smaller.
const MAX_RUNS_PER_POINT: usize = 8;

/// Writes `ts` as STEPPED if every delta is a multiple of the smallest one
/// and there are few runs; returns false (leaving `out` dirty) otherwise.
fn encode_stepped(ts: &[i64], out: &mut Vec<u8>) -> bool {
    let step = ts
        .windows(2)
        .map(|w| w[1] - w[0])
        .min()
        .expect("two or more");
    let mut runs = 1usize;
    for w in ts.windows(2) {
        let d = w[1] - w[0];
        if d % step != 0 {
            return false;
        }
        if d != step {
            runs += 1;
        }
    }
    if runs * MAX_RUNS_PER_POINT > ts.len() {
        return false;
    }
    out.push(STEPPED);
    put_ivarint(out, ts[0]);
    put_uvarint(out, step as u64);
    put_uvarint(out, runs as u64);
    let mut run_len = 1u64;
    put_uvarint(out, 0);
    for w in ts.windows(2) {
        let d = w[1] - w[0];
        if d == step {
            run_len += 1;
        } else {
            put_uvarint(out, run_len);
            put_uvarint(out, (d / step - 1) as u64);
            run_len = 1;
        }
    }
    put_uvarint(out, run_len);
    true
}

fn encode_dod(ts: &[i64], out: &mut Vec<u8>) {
    let step = ts[1] - ts[0];
    out.push(DOD);
    put_ivarint(out, ts[0]);
    put_uvarint(out, step as u64);
    let mut prev_delta = step;
    for w in ts[1..].windows(2) {
        let d = w[1] - w[0];
        put_ivarint(out, d.wrapping_sub(prev_delta));
        prev_delta = d;
    }
}

/// Timestamps as [`decode_lazy`] returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// `first + i·step` for `i` in `0..n`; nothing was written to `out`.
    Regular {
        /// First timestamp.
        first: i64,
        /// Distance between points (0 when there is one point).
        step: i64,
    },
    /// Written to `out`.
    Explicit,
}

/// Decodes `n` timestamps from `r` into `out` (cleared first).
pub fn decode(r: &mut Reader<'_>, n: usize, out: &mut Vec<i64>) -> Result<(), CodecError> {
    if let Decoded::Regular { first, step } = decode_lazy(r, n, out)? {
        fill_regular(first, step, n, out);
    }
    Ok(())
}

/// Appends `first + i·step` for `i` in `0..n` to `out`.
pub fn fill_regular(first: i64, step: i64, n: usize, out: &mut Vec<i64>) {
    out.reserve(n);
    out.extend((0..n as i64).map(|i| first.wrapping_add(i.wrapping_mul(step))));
}

/// Like [`decode`], but a regular column is returned as its first timestamp
/// and step instead of being written out: readers that only need positions
/// (aggregation into buckets) save the memory traffic.
pub fn decode_lazy(
    r: &mut Reader<'_>,
    n: usize,
    out: &mut Vec<i64>,
) -> Result<Decoded, CodecError> {
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
            return Ok(Decoded::Regular { first, step });
        }
        STEPPED => {
            // `t` is the next grid point: after a run, the one just past it.
            let mut t = r.ivarint("first timestamp")?;
            let step = r.uvarint("timestamp step")? as i64;
            let runs = r.uvarint("run count")?;
            if step <= 0 || runs == 0 || runs > n as u64 {
                return Err(CodecError::Invalid("stepped timestamps"));
            }
            out.reserve(n);
            for i in 0..runs {
                let skip = r.uvarint("holes before run")? as i64;
                let len = r.uvarint("run length")?;
                if (i == 0 && skip != 0)
                    || (i > 0 && skip == 0)
                    || len == 0
                    || len > (n - out.len()) as u64
                {
                    return Err(CodecError::Invalid("stepped timestamp run"));
                }
                t = t.wrapping_add(skip.wrapping_mul(step));
                for _ in 0..len {
                    out.push(t);
                    t = t.wrapping_add(step);
                }
            }
            if out.len() != n {
                return Err(CodecError::Invalid("stepped timestamp count"));
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
    Ok(Decoded::Explicit)
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
    fn a_grid_with_holes_is_stepped_and_small() {
        let ts: Vec<i64> = (0..720)
            .filter(|i| !(100..130).contains(i) && !(500..502).contains(i) && *i != 7)
            .map(|i| 1_795_600_000_000 + i * 10_000)
            .collect();
        let mut out = Vec::new();
        encode(&ts, &mut out, Effort::Fast);
        assert_eq!(out[0], STEPPED);
        let (back, len) = round_trip(&ts);
        assert_eq!(back, ts);
        assert!(len <= 24, "{len}");
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
            deltas in proptest::collection::vec(prop_oneof![1i64..100_000, Just(10_000), Just(20_000), Just(30_000)], 0..300),
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
