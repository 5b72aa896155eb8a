//! JSON output for large answers: serde serialisation straight into a
//! buffer sized up front, with a float formatter that writes whole numbers
//! the fast way.
//!
//! A query answer is mostly `[timestamp_ms, value]` pairs, and Datadog sends
//! the timestamp as a float (`1764122400000.0`). The shortest-round-trip
//! float formatter is the bulk of serialising such an answer (about a sixth
//! of a 50-series query's CPU, 2026-11-26), and it does nothing useful for a
//! whole number: [`WholeFloats`] writes those as an integer plus `.0`, the
//! same text serde_json writes for them, and hands every other value to
//! serde_json's own formatter.

use std::io;

use serde_json::ser::{CompactFormatter, Formatter};

/// Below this magnitude serde_json prints a whole `f64` as digits and `.0`
/// (it switches to exponent notation from 1e16 on); and every whole number
/// below 2^53 converts to `i64` exactly.
const WHOLE_LIMIT: f64 = 1e15;

/// serde_json's compact formatter, with whole floats written through `itoa`.
#[derive(Default)]
pub struct WholeFloats;

impl Formatter for WholeFloats {
    #[inline]
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        // `-0.0` keeps its sign through the general path.
        if v.fract() == 0.0 && v.abs() < WHOLE_LIMIT && !(v == 0.0 && v.is_sign_negative()) {
            let mut b = itoa::Buffer::new();
            w.write_all(b.format(v as i64).as_bytes())?;
            w.write_all(b".0")
        } else {
            CompactFormatter.write_f64(w, v)
        }
    }
}

/// Serialises `value` into a buffer of `capacity` bytes to start with.
pub fn to_vec(value: &impl serde::Serialize, capacity: usize) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(capacity);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, WholeFloats);
    value.serialize(&mut ser)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_serde_json_for_every_kind_of_float() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -3.0,
            1_764_122_400_000.0,
            42.5,
            0.1,
            1e-7,
            -2.5e-300,
            999_999_999_999_999.0,
            1e15,
            1e16,
            1.5e300,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        for v in values {
            let ours = String::from_utf8(to_vec(&v, 0).unwrap()).unwrap();
            assert_eq!(ours, serde_json::to_string(&v).unwrap(), "{v:e}");
        }
        let pairs: Vec<(f64, Option<f64>)> = vec![(1.0, None), (2.0, Some(0.25))];
        assert_eq!(
            String::from_utf8(to_vec(&pairs, 4).unwrap()).unwrap(),
            serde_json::to_string(&pairs).unwrap()
        );
        // Non-finite values are null, as serde_json writes them.
        assert_eq!(to_vec(&f64::NAN, 0).unwrap(), b"null");
    }
}
