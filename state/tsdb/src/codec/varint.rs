//! LEB128 variable-length integers, zig-zag signed integers, and a bounds-
//! checked reader over a byte slice.
//!
//! Hand-written because it is on every hot path (WAL records, chunk headers)
//! and is twenty lines; the crates that offer it add traits we do not need.

use super::CodecError;

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Zig-zag maps a signed integer so that small magnitudes get small codes.
#[inline]
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends `v` zig-zag encoded as a varint.
#[inline]
pub fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// A cursor over untrusted bytes. Every read checks bounds and returns
/// [`CodecError::Truncated`] naming what was being read.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The bytes not read yet, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Reads an unsigned varint.
    #[inline]
    pub fn uvarint(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(CodecError::Truncated(what));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(CodecError::Invalid(what));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(CodecError::Invalid(what));
            }
        }
    }

    /// Reads a zig-zag signed varint.
    #[inline]
    pub fn ivarint(&mut self, what: &'static str) -> Result<i64, CodecError> {
        self.uvarint(what).map(unzigzag)
    }

    /// Reads an unsigned varint that must fit in `u32`.
    pub fn uvarint32(&mut self, what: &'static str) -> Result<u32, CodecError> {
        u32::try_from(self.uvarint(what)?).map_err(|_| CodecError::Invalid(what))
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let b = *self.buf.get(self.pos).ok_or(CodecError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads a little-endian `f64`.
    #[inline]
    pub fn f64(&mut self, what: &'static str) -> Result<f64, CodecError> {
        let b = self.bytes(8, what)?;
        Ok(f64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// Reads `n` bytes.
    #[inline]
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or(CodecError::Truncated(what))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(CodecError::Truncated(what))?;
        self.pos = end;
        Ok(s)
    }

    /// Reads a varint length and then that many bytes.
    pub fn len_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], CodecError> {
        let n = self.uvarint(what)?;
        let n = usize::try_from(n).map_err(|_| CodecError::Invalid(what))?;
        self.bytes(n, what)
    }

    /// Reads a varint-length-prefixed UTF-8 string.
    pub fn str(&mut self, what: &'static str) -> Result<&'a str, CodecError> {
        std::str::from_utf8(self.len_prefixed(what)?).map_err(|_| CodecError::Invalid(what))
    }
}

/// Appends a varint length and the bytes.
pub fn put_len_prefixed(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(vals in proptest::collection::vec(any::<i64>(), 0..50)) {
            let mut out = Vec::new();
            for &v in &vals { put_ivarint(&mut out, v); put_uvarint(&mut out, v as u64); }
            let mut r = Reader::new(&out);
            for &v in &vals {
                prop_assert_eq!(r.ivarint("t").unwrap(), v);
                prop_assert_eq!(r.uvarint("t").unwrap(), v as u64);
            }
            prop_assert!(r.is_empty());
        }

        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut r = Reader::new(&bytes);
            while r.uvarint("x").is_ok() {}
            let mut r = Reader::new(&bytes);
            let _ = r.str("s");
        }
    }

    #[test]
    fn overlong_varint_is_invalid() {
        let bytes = [0xff; 11];
        assert!(matches!(
            Reader::new(&bytes).uvarint("v"),
            Err(CodecError::Invalid("v"))
        ));
        let mut max = Vec::new();
        put_uvarint(&mut max, u64::MAX);
        assert_eq!(Reader::new(&max).uvarint("v"), Ok(u64::MAX));
    }
}
