//! The value column of a float chunk.
//!
//! Observability values are mostly decimals with few digits (`42.5`, `0.37`),
//! counters (integers that only grow) or constants. Storing their f64 bits
//! wastes most of 64 bits on noise in the mantissa, so the codec first tries
//! *decimal conversion*: find the smallest exponent `e ≤ MAX_DECIMAL_EXP`
//! such that every value is exactly `m / 10^e` for an integer `m` (checked bit
//! for bit, sign of zero included). The integers `m` are then compressed with
//! pco, which picks the delta order (gauges: order 1; counters: order 1 or 2)
//! and entropy-codes the result with tANS, near the data's entropy. This is
//! what brings a host fleet under one byte per point (see
//! `docs/format/block.md` and the benchmark results).
//!
//! Encodings (first byte):
//! - `CONST` (0): every value has the same bits; stores the f64 once.
//! - `DECIMAL` (1): `e: u8`, then an integer sub-codec byte: `VARINT` (0,
//!   the first mantissa and then order-1 deltas as zig-zag varints; for short
//!   chunks) or `PCO` (1, a length-prefixed pco stream of i64).
//! - `RAW` (2): values that are not short decimals (ratios, NaN, ±inf):
//!   sub-codec `PLAIN` (0, n little-endian f64) or `PCO` (1, pco over f64).

use super::varint::{Reader, put_ivarint, put_len_prefixed};
use super::{CodecError, Effort};

const CONST: u8 = 0;
const DECIMAL: u8 = 1;
const RAW: u8 = 2;

const SUB_VARINT: u8 = 0;
const SUB_PLAIN: u8 = 0;
const SUB_PCO: u8 = 1;

/// Largest decimal exponent tried. Nine digits after the point covers
/// nanosecond-scale durations in seconds; values needing more are almost
/// always results of float arithmetic, which never become exact decimals.
pub const MAX_DECIMAL_EXP: u32 = 9;

/// Mantissas must stay exactly representable: |m| ≤ 2^53.
const MAX_MANTISSA: f64 = 9_007_199_254_740_992.0;

/// Below this many points pco is not tried: its header and its fixed cost
/// (about 9 µs for a 32-point chunk, against 0.15 µs for varints) buy too
/// little on so few values. At and above it pco is tried and kept when
/// smaller.
pub const PCO_MIN_POINTS: usize = 64;

const POW10: [f64; MAX_DECIMAL_EXP as usize + 1] =
    [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// `x` rounded to the nearest integer. Below 2^51 in magnitude, by adding
/// and subtracting 1.5 × 2^52 (ties to even): two additions instead of the
/// call to libm's `round` that `f64::round` is on the baseline x86-64
/// target (no SSE4.1), which was a tenth of the value encoding's time.
/// Callers only use the result through an exactness check
/// (`m / 10^e == v` bit for bit), which a tie never passes below 2^51
/// (`v · 10^e` lies within a quarter of the mantissa there), so the two
/// tie rules give the same encodings. At and above 2^51: `f64::round`.
#[inline(always)]
fn nearest(x: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 × 2^52
    const LIMIT: f64 = 2_251_799_813_685_248.0; // 2^51
    if x.abs() < LIMIT {
        (x + MAGIC) - MAGIC
    } else {
        x.round()
    }
}

/// The mantissa of `v` at exponent `e` (`v == m / 10^e`, bit for bit, as
/// the decoders compute it), or `None` when `v` is not exact there.
#[inline]
pub(crate) fn mantissa_at(v: f64, e: u32) -> Option<i64> {
    let p = POW10[e as usize];
    let m = nearest(v * p);
    // Compare through the integer, as the decoder will compute it: this
    // also sends -0.0 to the raw path, since the integer 0 has no sign.
    (m.abs() <= MAX_MANTISSA && ((m as i64) as f64 / p).to_bits() == v.to_bits())
        .then_some(m as i64)
}

/// The smallest exponent that makes `v` an exact decimal, if any.
#[inline]
pub(crate) fn decimal_exponent(v: f64) -> Option<u32> {
    if !v.is_finite() {
        return None;
    }
    (0..=MAX_DECIMAL_EXP).find(|&e| mantissa_at(v, e).is_some())
}

/// Writes the mantissas of `vals` at the smallest exponent that makes every
/// value exact into `out` and returns that exponent, or `None` when there
/// is none.
///
/// Each value is tried at the exponent reached so far first (one multiply,
/// round and divide for almost every value), and only a value that needs
/// more digits searches upward; the mantissas written so far are then
/// scaled by the power of ten between the two exponents. That scaling is
/// exact: `m · 10^k / 10^(e+k)` is the same real number as `m / 10^e`, so
/// the correctly rounded division gives the same double.
fn to_decimal(vals: &[f64], out: &mut Vec<i64>) -> Option<u32> {
    out.clear();
    out.reserve(vals.len());
    let mut e = 0u32;
    for &v in vals {
        if let Some(m) = mantissa_at(v, e) {
            out.push(m);
            continue;
        }
        if !v.is_finite() {
            return None;
        }
        let (ev, m) = (e + 1..=MAX_DECIMAL_EXP).find_map(|ev| Some((ev, mantissa_at(v, ev)?)))?;
        let scale = 10i64.pow(ev - e);
        for x in out.iter_mut() {
            *x = x
                .checked_mul(scale)
                .filter(|s| s.unsigned_abs() <= MAX_MANTISSA as u64)?;
        }
        out.push(m);
        e = ev;
    }
    Some(e)
}

/// Appends the encoding of `vals` (at least one) to `out`. `scratch` is a
/// reusable buffer.
pub fn encode(vals: &[f64], out: &mut Vec<u8>, scratch: &mut Vec<i64>, effort: Effort) {
    debug_assert!(!vals.is_empty());
    let first = vals[0].to_bits();
    if vals.iter().all(|v| v.to_bits() == first) {
        out.push(CONST);
        out.extend_from_slice(&vals[0].to_le_bytes());
        return;
    }
    if let Some(e) = to_decimal(vals, scratch) {
        out.push(DECIMAL);
        out.push(e as u8);
        encode_ints(scratch, out, effort);
        return;
    }
    out.push(RAW);
    if effort == Effort::Best
        && vals.len() >= PCO_MIN_POINTS
        && let Ok(bytes) = pco::standalone::simple_compress(vals, &super::pco_config(vals.len()))
        && bytes.len() < vals.len() * 8
    {
        out.push(SUB_PCO);
        put_len_prefixed(out, &bytes);
        return;
    }
    out.push(SUB_PLAIN);
    for v in vals {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn encode_ints(ints: &[i64], out: &mut Vec<u8>, effort: Effort) {
    let start = out.len();
    out.push(SUB_VARINT);
    let mut prev = 0i64;
    for &m in ints {
        put_ivarint(out, m.wrapping_sub(prev));
        prev = m;
    }
    if effort == Effort::Best
        && ints.len() >= PCO_MIN_POINTS
        && let Ok(bytes) = pco::standalone::simple_compress(ints, &super::pco_config(ints.len()))
        && bytes.len() + 2 < out.len() - start
    {
        out.truncate(start);
        out.push(SUB_PCO);
        put_len_prefixed(out, &bytes);
    }
}

/// Decodes `n` values from `r` into `out` (cleared first).
pub fn decode(
    r: &mut Reader<'_>,
    n: usize,
    out: &mut Vec<f64>,
    scratch: &mut Vec<i64>,
) -> Result<(), CodecError> {
    let v = decode_lazy(r, n, out, scratch)?;
    materialize(v, n, scratch, out);
    Ok(())
}

/// Writes the `n` values a [`decode_lazy`] returned as `v` into `out`:
/// repeats a constant, divides mantissas (from `mantissas`), and leaves
/// `out` alone when the values are already there.
pub fn materialize(v: Values, n: usize, mantissas: &[i64], out: &mut Vec<f64>) {
    match v {
        Values::Const(c) => {
            out.clear();
            out.resize(n, c);
        }
        Values::Decimal { exp } => {
            let p = pow10(exp);
            out.clear();
            out.reserve(n);
            if exp == 0 {
                out.extend(mantissas.iter().map(|&m| m as f64));
            } else {
                out.extend(mantissas.iter().map(|&m| m as f64 / p));
            }
        }
        Values::Floats => {}
    }
}

/// The value column as [`decode_lazy`] leaves it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Values {
    /// Every value has these bits; nothing was written.
    Const(f64),
    /// Value `i` is exactly `scratch[i] as f64 / pow10(exp)` (the decoder's
    /// own formula, so a value computed from it has the bits [`decode`]
    /// gives); the mantissas were written to `scratch`, nothing to `out`.
    Decimal {
        /// The decimal exponent, at most [`MAX_DECIMAL_EXP`].
        exp: u32,
    },
    /// The values were written to `out`.
    Floats,
}

/// `10^exp` for `exp ≤ MAX_DECIMAL_EXP`, the divisor of [`Values::Decimal`].
pub fn pow10(exp: u32) -> f64 {
    POW10[exp as usize]
}

/// Decodes `n` values from `r` as cheaply as their encoding allows: a
/// constant is returned, not repeated; decimals are left as integer
/// mantissas in `scratch` (aggregations reduce the integers and divide once
/// per bucket); only raw values are written to `out`. `out` and `scratch`
/// are cleared first.
pub fn decode_lazy(
    r: &mut Reader<'_>,
    n: usize,
    out: &mut Vec<f64>,
    scratch: &mut Vec<i64>,
) -> Result<Values, CodecError> {
    out.clear();
    scratch.clear();
    if n == 0 || n > super::MAX_CHUNK_POINTS {
        return Err(CodecError::Invalid("value count"));
    }
    match r.u8("value codec")? {
        CONST => Ok(Values::Const(r.f64("constant value")?)),
        DECIMAL => {
            let e = r.u8("decimal exponent")? as u32;
            if e > MAX_DECIMAL_EXP {
                return Err(CodecError::Invalid("decimal exponent"));
            }
            decode_ints(r, n, scratch)?;
            Ok(Values::Decimal { exp: e })
        }
        RAW => match r.u8("raw sub-codec")? {
            SUB_PLAIN => {
                let bytes = r.bytes(n * 8, "raw values")?;
                out.extend(
                    bytes
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))),
                );
                Ok(Values::Floats)
            }
            SUB_PCO => {
                let bytes = r.len_prefixed("pco values")?;
                out.resize(n, 0.0);
                let p = pco::standalone::simple_decompress_into(bytes, out)
                    .map_err(|e| CodecError::Pco(e.to_string()))?;
                if p.n_processed != n || !p.finished {
                    return Err(CodecError::Invalid("pco value count"));
                }
                Ok(Values::Floats)
            }
            tag => Err(CodecError::UnknownCodec {
                what: "raw value",
                tag,
            }),
        },
        tag => Err(CodecError::UnknownCodec { what: "value", tag }),
    }
}

fn decode_ints(r: &mut Reader<'_>, n: usize, out: &mut Vec<i64>) -> Result<(), CodecError> {
    out.clear();
    match r.u8("integer sub-codec")? {
        SUB_VARINT => {
            if n > r.remaining() {
                return Err(CodecError::Truncated("mantissas"));
            }
            out.reserve(n);
            let mut prev = 0i64;
            for _ in 0..n {
                prev = prev.wrapping_add(r.ivarint("mantissa")?);
                out.push(prev);
            }
        }
        SUB_PCO => {
            let bytes = r.len_prefixed("pco mantissas")?;
            out.resize(n, 0);
            let p = pco::standalone::simple_decompress_into(bytes, out)
                .map_err(|e| CodecError::Pco(e.to_string()))?;
            if p.n_processed != n || !p.finished {
                return Err(CodecError::Invalid("pco mantissa count"));
            }
        }
        tag => {
            return Err(CodecError::UnknownCodec {
                what: "integer",
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

    fn round_trip(vals: &[f64]) -> (Vec<f64>, usize) {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        encode(vals, &mut out, &mut scratch, Effort::Best);
        let mut r = Reader::new(&out);
        let mut back = Vec::new();
        decode(&mut r, vals.len(), &mut back, &mut scratch).unwrap();
        assert!(r.is_empty(), "trailing bytes");
        (back, out.len())
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn decimals_are_found() {
        assert_eq!(decimal_exponent(42.0), Some(0));
        assert_eq!(decimal_exponent(0.1), Some(1));
        assert_eq!(decimal_exponent(12.37), Some(2));
        assert_eq!(decimal_exponent(-0.001), Some(3));
        assert_eq!(decimal_exponent(0.1 + 0.2), None);
        assert_eq!(decimal_exponent(f64::NAN), None);
        assert_eq!(decimal_exponent(1e300), None);
    }

    #[test]
    fn special_values_keep_their_bits() {
        let vals = [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            0.1 + 0.2,
        ];
        assert_eq!(bits(&round_trip(&vals).0), bits(&vals));
        let neg_zero = [-0.0, 1.0];
        assert_eq!(bits(&round_trip(&neg_zero).0), bits(&neg_zero));
    }

    #[test]
    fn constants_and_counters_are_small() {
        let c = vec![123.25; 720];
        let (back, len) = round_trip(&c);
        assert_eq!(back, c);
        assert_eq!(len, 9);
        let counter: Vec<f64> = (0..720)
            .map(|i| 1e9 + (i * 1000 + (i * 7919) % 97) as f64)
            .collect();
        let (back, len) = round_trip(&counter);
        assert_eq!(back, counter);
        assert!(len < 720, "{len} bytes for 720 counter points");
    }

    proptest! {
        #[test]
        fn decimal_columns_round_trip(ms in proptest::collection::vec(-10_000_000i64..10_000_000, 1..200), e in 0u32..4) {
            let vals: Vec<f64> = ms.iter().map(|&m| m as f64 / 10f64.powi(e as i32)).collect();
            prop_assert_eq!(bits(&round_trip(&vals).0), bits(&vals));
        }

        #[test]
        fn arbitrary_floats_round_trip(vals in proptest::collection::vec(any::<f64>(), 1..200)) {
            prop_assert_eq!(bits(&round_trip(&vals).0), bits(&vals));
        }

        /// `to_decimal` finds what the plain definition gives: the largest
        /// of the values' smallest exponents, if every value is exact
        /// there, with `f64::round` as the rounding. Mantissas from 1 to
        /// 2^53 at every exponent, mixed with arbitrary doubles.
        #[test]
        fn to_decimal_is_the_plain_definition(
            vals in proptest::collection::vec(
                prop_oneof![
                    (-(1i64 << 53)..(1i64 << 53), 0u32..=MAX_DECIMAL_EXP)
                        .prop_map(|(m, e)| m as f64 / POW10[e as usize]),
                    (-10_000i64..10_000, 0u32..4).prop_map(|(m, e)| m as f64 / POW10[e as usize]),
                    any::<f64>(),
                ],
                1..40,
            )
        ) {
            let plain_mantissa = |v: f64, e: u32| {
                let p = POW10[e as usize];
                let m = (v * p).round();
                (m.abs() <= MAX_MANTISSA && ((m as i64) as f64 / p).to_bits() == v.to_bits())
                    .then_some(m as i64)
            };
            let plain = (|| {
                let e = vals
                    .iter()
                    .map(|&v| {
                        if !v.is_finite() {
                            return None;
                        }
                        (0..=MAX_DECIMAL_EXP).find(|&e| plain_mantissa(v, e).is_some())
                    })
                    .try_fold(0, |a, e| e.map(|e| a.max(e)))?;
                let ms: Option<Vec<i64>> = vals.iter().map(|&v| plain_mantissa(v, e)).collect();
                Some((e, ms?))
            })();
            let mut got = Vec::new();
            let fast = to_decimal(&vals, &mut got).map(|e| (e, got.clone()));
            // Below 2^51 the two agree exactly; above, either may give up
            // on a value the other takes (rounding near 2^53), but what
            // either returns must be exact.
            let small = vals.iter().all(|v| v.abs() * 1e9 < 2_251_799_813_685_248.0);
            if small {
                prop_assert_eq!(&fast, &plain);
            }
            if let Some((e, ms)) = fast {
                for (&v, &m) in vals.iter().zip(&ms) {
                    prop_assert_eq!((m as f64 / POW10[e as usize]).to_bits(), v.to_bits());
                }
            }
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80), n in 1usize..64) {
            let mut out = Vec::new();
            let mut s = Vec::new();
            let _ = decode(&mut Reader::new(&bytes), n, &mut out, &mut s);
        }
    }
}
