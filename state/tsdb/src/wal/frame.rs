//! Record framing shared by the WAL and the series catalog: a 16-byte file
//! header, then records of `[len: u32 LE][crc32: u32 LE][body: len bytes]`,
//! where the CRC-32 (IEEE) covers the body. See `docs/format/wal.md`.

use crc32fast::Hasher;

/// Size of the file header.
pub const FILE_HEADER_BYTES: usize = 16;
/// Size of a record header (length and checksum).
pub const RECORD_HEADER_BYTES: usize = 8;
/// Largest record body accepted. Writers split larger batches; a reader that
/// finds a larger length knows the header is damaged. 32 MiB holds about
/// 2.5 million float points, far more than one intake request carries.
pub const MAX_RECORD_BYTES: usize = 32 << 20;

/// Builds a file header: 8 magic bytes, a u32 LE format version, 4 zero bytes.
pub fn file_header(magic: &[u8; 8], version: u32) -> [u8; FILE_HEADER_BYTES] {
    let mut h = [0u8; FILE_HEADER_BYTES];
    h[..8].copy_from_slice(magic);
    h[8..12].copy_from_slice(&version.to_le_bytes());
    h
}

/// Checks a file header; returns the version or what is wrong.
pub fn check_file_header(bytes: &[u8], magic: &[u8; 8]) -> Result<u32, &'static str> {
    if bytes.len() < FILE_HEADER_BYTES {
        return Err("file header is truncated");
    }
    if &bytes[..8] != magic {
        return Err("bad magic number");
    }
    Ok(u32::from_le_bytes(
        bytes[8..12].try_into().expect("4 bytes"),
    ))
}

/// Appends one framed record whose body is written by `body`.
pub fn put_record(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0u8; RECORD_HEADER_BYTES]);
    body(out);
    let len = out.len() - start - RECORD_HEADER_BYTES;
    let mut h = Hasher::new();
    h.update(&out[start + RECORD_HEADER_BYTES..]);
    let crc = h.finalize();
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// What [`next_record`] found at an offset.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A whole, intact record: its body and the offset after it.
    Record(&'a [u8], usize),
    /// The data ends exactly here.
    End,
    /// The bytes at this offset are not an intact record.
    Bad(&'static str),
}

/// Reads the record starting at `offset` of `data`.
pub fn next_record(data: &[u8], offset: usize) -> Next<'_> {
    if offset == data.len() {
        return Next::End;
    }
    let Some(header) = data.get(offset..offset + RECORD_HEADER_BYTES) else {
        return Next::Bad("record header is truncated");
    };
    let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    if len > MAX_RECORD_BYTES {
        return Next::Bad("record length is out of range");
    }
    let start = offset + RECORD_HEADER_BYTES;
    let Some(body) = data.get(start..start + len) else {
        return Next::Bad("record body is truncated");
    };
    let mut h = Hasher::new();
    h.update(body);
    if h.finalize() != crc {
        return Next::Bad("record checksum mismatch");
    }
    Next::Record(body, start + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_seen() {
        let mut buf = Vec::new();
        put_record(&mut buf, |o| o.extend_from_slice(b"hello"));
        put_record(&mut buf, |o| o.extend_from_slice(b""));
        let Next::Record(b, next) = next_record(&buf, 0) else {
            panic!()
        };
        assert_eq!(b, b"hello");
        let Next::Record(b, end) = next_record(&buf, next) else {
            panic!()
        };
        assert_eq!(b, b"");
        assert_eq!(next_record(&buf, end), Next::End);
        for cut in 1..buf.len() {
            if cut == next {
                continue;
            }
            let r = next_record(&buf[..cut], if cut > next { next } else { 0 });
            assert!(matches!(r, Next::Bad(_)), "cut at {cut}: {r:?}");
        }
        let mut flipped = buf.clone();
        flipped[RECORD_HEADER_BYTES + 1] ^= 0x40;
        assert_eq!(
            next_record(&flipped, 0),
            Next::Bad("record checksum mismatch")
        );
    }

    #[test]
    fn headers_are_checked() {
        let h = file_header(b"WHIPWAL\0", 1);
        assert_eq!(check_file_header(&h, b"WHIPWAL\0"), Ok(1));
        assert!(check_file_header(&h, b"WHIPCAT\0").is_err());
        assert!(check_file_header(&h[..10], b"WHIPWAL\0").is_err());
    }
}
