//! The in-order run of one float series in the head, encoded as it is
//! appended: about two bytes per point for the usual observability values
//! instead of the sixteen of a raw `(i64, f64)`.
//!
//! This encoding lives only in memory (the WAL holds the points until they
//! reach a part, and parts use the block codecs), so it has no version and
//! no format document; it may change in any release.
//!
//! # Encoding
//! Each point is a header varint `h`, then what `h` says follows:
//! - bit 0 set: the timestamp's delta-of-delta follows as a zig-zag varint;
//!   clear: the timestamp is the previous one plus the previous delta (a
//!   regular interval costs nothing but this bit).
//! - bit 1 set: the value is the previous mantissa plus the zig-zag delta
//!   `h >> 2`, at the current decimal exponent (see `codec::floats` for
//!   why observability values are decimals with few digits).
//! - bit 1 clear, `h >> 2 == 0`: the value follows as 8 little-endian bytes
//!   (NaN, infinities, values that are no short decimal); the mantissa and
//!   the exponent are left as they were.
//! - bit 1 clear, `h >> 2 == 1 + e`: the exponent becomes `e` and the value's
//!   mantissa at `e` follows as a zig-zag varint (the first decimal, or one
//!   with more digits than the exponent allows).
//!
//! The state before the first point is all zeros, and the delta after the
//! first point is 0 (so the second point's delta-of-delta is its delta, not
//! its distance from the epoch). Timestamps and mantissas use wrapping
//! arithmetic, so any `i64` round-trips.
//!
//! # Invariants
//! - Timestamps strictly increase (the head sends any other point to its
//!   out-of-order buffer before it reaches the run).
//! - `last_ts`, `last_delta`, `last_m` and `exp` are what a decoder holds
//!   after decoding every point of `buf`; `n` is the number of points.

use crate::codec::CodecError;
use crate::codec::floats::{decimal_exponent, mantissa_at, pow10};
use crate::codec::varint::{Reader, unzigzag, zigzag};

/// Header bit: a delta-of-delta follows.
const DOD: u64 = 1;
/// Header bit: the value is a mantissa delta (in the header's upper bits).
const DELTA: u64 = 2;
/// Header code (upper bits, with `DELTA` clear): raw f64 bits follow.
const CODE_RAW: u64 = 0;

/// `exp` before the first decimal value: no mantissa to take a delta from.
const NO_EXP: u8 = u8::MAX;

/// Smallest growth of the buffer, in bytes, so that a short run does not
/// reallocate every few points.
const MIN_GROW_BYTES: usize = 16;

/// One point's bytes, built on the stack before they are appended, so the
/// buffer grows by exactly what it needs. 32 bytes hold the largest point:
/// three 10-byte varints (header, delta-of-delta, mantissa), or two and a
/// raw value.
#[derive(Default)]
struct PointBytes {
    b: [u8; 32],
    len: usize,
}

impl PointBytes {
    #[inline]
    fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.b[self.len] = (v as u8) | 0x80;
            self.len += 1;
            v >>= 7;
        }
        self.b[self.len] = v as u8;
        self.len += 1;
    }

    #[inline]
    fn raw(&mut self, v: f64) {
        self.b[self.len..self.len + 8].copy_from_slice(&v.to_le_bytes());
        self.len += 8;
    }
}

/// The in-order points of one float series, encoded. See the module doc.
#[derive(Debug, Clone)]
pub struct FloatRun {
    buf: Vec<u8>,
    last_ts: i64,
    last_delta: i64,
    last_m: i64,
    n: u32,
    /// Current decimal exponent, or [`NO_EXP`].
    exp: u8,
}

impl Default for FloatRun {
    fn default() -> Self {
        FloatRun {
            buf: Vec::new(),
            last_ts: 0,
            last_delta: 0,
            last_m: 0,
            n: 0,
            exp: NO_EXP,
        }
    }
}

impl FloatRun {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.n as usize
    }

    /// True when the run holds no point.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The newest timestamp, if any point.
    pub fn newest(&self) -> Option<i64> {
        (self.n > 0).then_some(self.last_ts)
    }

    /// The oldest timestamp, if any point: the first point's delta-of-delta
    /// is its timestamp (absent when the timestamp is 0).
    pub fn oldest(&self) -> Option<i64> {
        if self.n == 0 {
            return None;
        }
        let mut r = Reader::new(&self.buf);
        let h = r.uvarint("run header").ok()?;
        if h & DOD == 0 {
            return Some(0);
        }
        r.ivarint("run timestamp").ok()
    }

    /// Heap bytes held (by capacity, as the allocator sees them).
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends a point; `ts` must be newer than [`FloatRun::newest`].
    pub fn push(&mut self, ts: i64, v: f64) {
        debug_assert!(self.newest().is_none_or(|n| ts > n));
        let delta = ts.wrapping_sub(self.last_ts);
        let dod = if self.n == 0 {
            ts
        } else {
            delta.wrapping_sub(self.last_delta)
        };
        let dod_bit = if dod != 0 { DOD } else { 0 };
        let mut p = PointBytes::default();
        if self.exp != NO_EXP
            && let Some(m) = mantissa_at(v, u32::from(self.exp))
        {
            p.uvarint((zigzag(m.wrapping_sub(self.last_m)) << 2) | DELTA | dod_bit);
            if dod_bit != 0 {
                p.uvarint(zigzag(dod));
            }
            self.last_m = m;
        } else if let Some((e, m)) = self.rebase(v) {
            p.uvarint(((1 + u64::from(e)) << 2) | dod_bit);
            if dod_bit != 0 {
                p.uvarint(zigzag(dod));
            }
            p.uvarint(zigzag(m));
            self.exp = e as u8;
            self.last_m = m;
        } else {
            p.uvarint((CODE_RAW << 2) | dod_bit);
            if dod_bit != 0 {
                p.uvarint(zigzag(dod));
            }
            p.raw(v);
        }
        let bytes = &p.b[..p.len];
        if self.buf.capacity() - self.buf.len() < bytes.len() {
            // Grow by a quarter (the allocator's size classes are about that
            // far apart), not double: runs are many and short, and doubling
            // leaves a third of their memory unused on average.
            let grow = (self.buf.capacity() / 4)
                .max(MIN_GROW_BYTES)
                .max(bytes.len());
            self.buf.reserve_exact(grow);
        }
        self.buf.extend_from_slice(bytes);
        self.last_delta = if self.n == 0 { 0 } else { delta };
        self.last_ts = ts;
        self.n += 1;
    }

    /// The exponent and mantissa a value that is not exact at the current
    /// exponent starts a new base with: the current exponent raised to the
    /// value's own when that keeps it exact (so values with fewer digits stay
    /// deltas afterwards), else the value's own. `None` for a value that is
    /// no short decimal.
    fn rebase(&self, v: f64) -> Option<(u32, i64)> {
        let ev = decimal_exponent(v)?;
        if self.exp != NO_EXP {
            let e = ev.max(u32::from(self.exp));
            if let Some(m) = mantissa_at(v, e) {
                return Some((e, m));
            }
        }
        Some((ev, mantissa_at(v, ev)?))
    }

    /// Appends every point to `ts` and `vals`, oldest first.
    pub fn decode_into(&self, ts: &mut Vec<i64>, vals: &mut Vec<f64>) -> Result<(), CodecError> {
        let n = self.n as usize;
        ts.reserve(n);
        vals.reserve(n);
        let mut r = Reader::new(&self.buf);
        let (mut last_ts, mut last_delta, mut last_m) = (0i64, 0i64, 0i64);
        let mut div = 1.0;
        for i in 0..n {
            let h = r.uvarint("run header")?;
            let dod = if h & DOD != 0 {
                r.ivarint("run timestamp")?
            } else {
                0
            };
            let delta = last_delta.wrapping_add(dod);
            let t = last_ts.wrapping_add(delta);
            let v = if h & DELTA != 0 {
                last_m = last_m.wrapping_add(unzigzag(h >> 2));
                last_m as f64 / div
            } else if h >> 2 == CODE_RAW {
                r.f64("run value")?
            } else {
                let e = (h >> 2) - 1;
                if e > u64::from(crate::codec::floats::MAX_DECIMAL_EXP) {
                    return Err(CodecError::Invalid("run exponent"));
                }
                div = pow10(e as u32);
                last_m = r.ivarint("run mantissa")?;
                last_m as f64 / div
            };
            ts.push(t);
            vals.push(v);
            last_delta = if i == 0 { 0 } else { delta };
            last_ts = t;
        }
        if !r.is_empty() {
            return Err(CodecError::Invalid("run length"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(points: &[(i64, f64)]) -> FloatRun {
        let mut run = FloatRun::default();
        for &(t, v) in points {
            run.push(t, v);
        }
        let (mut ts, mut vals) = (Vec::new(), Vec::new());
        run.decode_into(&mut ts, &mut vals).unwrap();
        assert_eq!(ts, points.iter().map(|p| p.0).collect::<Vec<_>>());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let want: Vec<f64> = points.iter().map(|p| p.1).collect();
        assert_eq!(bits(&vals), bits(&want));
        assert_eq!(run.len(), points.len());
        assert_eq!(run.oldest(), points.first().map(|p| p.0));
        assert_eq!(run.newest(), points.last().map(|p| p.0));
        run
    }

    #[test]
    fn regular_decimals_take_about_a_byte_or_two_per_point() {
        let t0 = 1_795_668_010_000i64;
        let pts: Vec<(i64, f64)> = (0..360)
            .map(|i| {
                (
                    t0 + i * 10_000,
                    ((i * 7 % 23) as f64 * 0.1 + 40.0 * 10.0).round() / 10.0,
                )
            })
            .collect();
        let run = round_trip(&pts);
        assert!(run.heap_bytes() < 360 * 3, "{} bytes", run.heap_bytes());
    }

    #[test]
    fn special_values_exponent_changes_and_extreme_timestamps_round_trip() {
        round_trip(&[]);
        round_trip(&[(i64::MIN, -0.0)]);
        round_trip(&[
            (i64::MIN, 1.0),
            (-5, f64::NAN),
            (0, 0.5),
            (1, 0.25),
            (2, 0.5),
            (3, f64::INFINITY),
            (4, 0.1 + 0.2),
            (5, 12.37),
            (7, -0.0),
            (1_000_000, 9_007_199_254_740_992.0),
            (1_000_001, -9_007_199_254_740_992.0),
            (1_000_002, 1e-9),
            (i64::MAX, f64::MIN_POSITIVE),
        ]);
    }

    proptest! {
        #[test]
        fn any_increasing_points_round_trip(
            gaps in proptest::collection::vec(1i64..1_000_000, 0..200),
            start in any::<i64>(),
            vals in proptest::collection::vec(
                prop_oneof![any::<f64>(), (-100_000i64..100_000, 0u32..4)
                    .prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32))],
                200),
        ) {
            let mut t = start / 2;
            let pts: Vec<(i64, f64)> = gaps
                .iter()
                .zip(&vals)
                .map(|(g, v)| {
                    t += g;
                    (t, *v)
                })
                .collect();
            round_trip(&pts);
        }
    }
}
