//! `Content-Encoding` handling: turns a request body into the bytes the
//! parsers read, with a hard bound on the decompressed size.
//!
//! # Encodings (spec §1.3)
//!
//! | header value | what we do |
//! |---|---|
//! | absent, empty, `identity` | the body as is (borrowed, no copy) |
//! | `gzip`, `x-gzip` | gzip (RFC 1952); several concatenated members are read as one stream |
//! | `deflate` | zlib (RFC 1950), which is what datadogpy, datadog-api-client and the Agent send; if the body has no valid zlib header, or zlib decoding fails, it is read as raw deflate (RFC 1951) |
//! | `zstd`, `zstd1` | zstd frames (`zstd1` is datadog-api-client's literal token) |
//!
//! Values are matched case-insensitively after trimming. A comma-separated
//! list is accepted only when at most one entry is not `identity` (no client
//! stacks encodings). Anything else is a 400 naming the value.
//!
//! # Bounds
//!
//! The output is never longer than `max_decompressed`, and the output buffer
//! never grows past it: we grow it ourselves (doubling, capped at the limit)
//! and, once it holds exactly the limit, probe for one more byte; if there is
//! one the answer is [`IntakeError::TooLarge`]. An identity body longer than
//! the limit is refused the same way, so the caller can apply one rule to
//! every encoding.
//!
//! zstd also keeps a window of recent output. A frame that declares a
//! content size above the limit is refused before decoding; otherwise the
//! window is capped at the smallest power of two holding the limit (so at
//! most twice the limit, and between 1 KiB and 128 MiB), and a frame asking
//! for more is refused as [`IntakeError::TooLarge`] too. Compressors size
//! the window to the content when they know it, and to at most 8 MiB up to
//! level 19 when they stream, so real clients stay well inside this.

use std::borrow::Cow;
use std::io::{self, Read};

use crate::IntakeError;

/// Smallest output buffer we start with, so tiny bodies do not grow many
/// times: 4 KiB, one page.
const MIN_INITIAL_CAPACITY: usize = 4096;

/// First guess of the compression ratio, used to size the output buffer
/// before decoding. JSON series compress 5–20×; starting at 4× costs at most
/// two or three doublings for typical bodies and never over-allocates a
/// small body.
const INITIAL_RATIO_GUESS: usize = 4;

/// zstd's smallest window log (`ZSTD_WINDOWLOG_MIN`).
const ZSTD_MIN_WINDOW_LOG: u32 = 10;

/// zstd's default largest window log for decoding (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`,
/// 128 MiB); we never allow more than the library would by default.
const ZSTD_MAX_WINDOW_LOG: u32 = 27;

/// A supported `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No encoding: the body is used as is.
    Identity,
    /// gzip (RFC 1952).
    Gzip,
    /// zlib (RFC 1950), with raw deflate (RFC 1951) as a fallback.
    Deflate,
    /// zstd frames (`zstd` or `zstd1`).
    Zstd,
}

impl Encoding {
    /// Parses a `Content-Encoding` header value (see the module doc for what
    /// is accepted). `None` means the header was absent.
    ///
    /// Errors: [`IntakeError::BadRequest`] naming the value when it is not
    /// supported.
    pub fn from_header(value: Option<&str>) -> Result<Encoding, IntakeError> {
        let Some(value) = value else {
            return Ok(Encoding::Identity);
        };
        let mut found = Encoding::Identity;
        for token in value.split(',') {
            let token = token.trim();
            let enc = if token.is_empty() || token.eq_ignore_ascii_case("identity") {
                continue;
            } else if token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip") {
                Encoding::Gzip
            } else if token.eq_ignore_ascii_case("deflate") {
                Encoding::Deflate
            } else if token.eq_ignore_ascii_case("zstd") || token.eq_ignore_ascii_case("zstd1") {
                Encoding::Zstd
            } else {
                return Err(unsupported(value));
            };
            if found != Encoding::Identity {
                return Err(unsupported(value));
            }
            found = enc;
        }
        Ok(found)
    }

    /// The name used in error messages and counters.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Zstd => "zstd",
        }
    }
}

fn unsupported(value: &str) -> IntakeError {
    // Bound what we echo back: the header is client-controlled.
    let shown: String = value.chars().take(64).collect();
    IntakeError::BadRequest(format!(
        "unsupported Content-Encoding `{shown}`: expected identity, gzip, deflate, zstd or zstd1"
    ))
}

/// Decodes `body` according to its `Content-Encoding` header value
/// (`content_encoding`, `None` when the header is absent).
///
/// Returns the body itself (borrowed) for identity, or the decompressed bytes.
///
/// Errors:
/// * [`IntakeError::TooLarge`] `{ limit: max_decompressed }` when the
///   decoded body would be longer than `max_decompressed` (for identity: when
///   the body is); no more than `max_decompressed` bytes are ever allocated
///   for the output;
/// * [`IntakeError::BadRequest`] for an unsupported encoding (the message
///   names it);
/// * [`IntakeError::Decompress`] for a corrupt or truncated stream.
pub fn decode_body<'a>(
    content_encoding: Option<&str>,
    body: &'a [u8],
    max_decompressed: usize,
) -> Result<Cow<'a, [u8]>, IntakeError> {
    let too_large = IntakeError::TooLarge {
        limit: max_decompressed,
    };
    match Encoding::from_header(content_encoding)? {
        Encoding::Identity => {
            if body.len() > max_decompressed {
                return Err(too_large);
            }
            Ok(Cow::Borrowed(body))
        }
        Encoding::Gzip => {
            let r = flate2::bufread::MultiGzDecoder::new(body);
            read_bounded(r, body.len(), max_decompressed, Encoding::Gzip).map(Cow::Owned)
        }
        Encoding::Deflate => decode_deflate(body, max_decompressed).map(Cow::Owned),
        Encoding::Zstd => decode_zstd(body, max_decompressed).map(Cow::Owned),
    }
}

/// zlib first (what every Datadog client sends), raw deflate as a fallback.
fn decode_deflate(body: &[u8], limit: usize) -> Result<Vec<u8>, IntakeError> {
    if !looks_like_zlib(body) {
        return read_bounded(
            flate2::bufread::DeflateDecoder::new(body),
            body.len(),
            limit,
            Encoding::Deflate,
        );
    }
    match read_bounded(
        flate2::bufread::ZlibDecoder::new(body),
        body.len(),
        limit,
        Encoding::Deflate,
    ) {
        Ok(out) => Ok(out),
        Err(e @ IntakeError::TooLarge { .. }) => Err(e),
        // A raw deflate stream can start with two bytes that pass the zlib
        // header check (about 1 in 500); give it its chance, but report the
        // zlib error if it is not raw deflate either.
        Err(zlib_err) => read_bounded(
            flate2::bufread::DeflateDecoder::new(body),
            body.len(),
            limit,
            Encoding::Deflate,
        )
        .map_err(|raw_err| match raw_err {
            e @ IntakeError::TooLarge { .. } => e,
            _ => zlib_err,
        }),
    }
}

/// RFC 1950 §2.2: CM = 8 (deflate), CINFO <= 7, and the header checksum.
fn looks_like_zlib(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

fn decode_zstd(body: &[u8], limit: usize) -> Result<Vec<u8>, IntakeError> {
    let too_large = IntakeError::TooLarge { limit };
    // A frame that declares its size (single-shot compressors do) is judged
    // before any decoding.
    if let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(body) {
        if size > limit as u64 {
            return Err(too_large);
        }
        if let Some(out) = decode_zstd_sized(body, size as usize) {
            return Ok(out);
        }
    }
    let mut dec = zstd::stream::read::Decoder::with_buffer(body)
        .map_err(|e| decompress_err(Encoding::Zstd, &e))?;
    dec.window_log_max(zstd_window_log(limit))
        .map_err(|e| decompress_err(Encoding::Zstd, &e))?;
    read_bounded(dec, body.len(), limit, Encoding::Zstd).map_err(|e| match e {
        IntakeError::Decompress { reason, .. } if reason == ZSTD_WINDOW_TOO_LARGE => too_large,
        e => e,
    })
}

thread_local! {
    /// One decompression context per thread, reused: creating one per
    /// request (`ZSTD_createDCtx`, a few hundred KiB to set up) was about a
    /// tenth of the cost of decompressing an Agent payload.
    static ZSTD_DCTX: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Decompresses a body whose first frame declares `size` bytes (at most the
/// limit, checked by the caller) in one call into a buffer of exactly that
/// size, neither zeroed nor grown. `None` when that does not work out (more
/// frames than the first, a damaged frame...): the caller then takes the
/// streaming path, which reports errors and bounds other bodies.
fn decode_zstd_sized(body: &[u8], size: usize) -> Option<Vec<u8>> {
    ZSTD_DCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().ok()?);
        }
        let dctx = slot.as_mut()?;
        let mut out = Vec::with_capacity(size);
        match dctx.decompress_to_buffer(body, &mut out) {
            Ok(n) if n == size => Some(out),
            _ => None,
        }
    })
}

/// The window log we let a frame use: the smallest power of two that holds
/// `limit` bytes (a frame's window never needs to exceed its content), so
/// the decoder's window is at most twice the limit; within zstd's bounds.
fn zstd_window_log(limit: usize) -> u32 {
    let log = match limit {
        0 | 1 => 0,
        n => (n - 1).ilog2() + 1,
    };
    log.clamp(ZSTD_MIN_WINDOW_LOG, ZSTD_MAX_WINDOW_LOG)
}

/// `ZSTD_getErrorName` for `frameParameter_windowTooLarge`, the error a
/// frame gets when its window is above [`zstd_window_log`]: the frame needs
/// more memory than the limit allows, so it is a 413 like any other
/// oversized body. Pinned by the test `zstd_window_is_capped_by_the_limit`.
const ZSTD_WINDOW_TOO_LARGE: &str = "Frame requires too much memory for decoding";

/// Reads `r` to the end into a buffer that never grows past `limit` bytes.
fn read_bounded<R: Read>(
    mut r: R,
    compressed_len: usize,
    limit: usize,
    enc: Encoding,
) -> Result<Vec<u8>, IntakeError> {
    let initial = compressed_len
        .saturating_mul(INITIAL_RATIO_GUESS)
        .max(MIN_INITIAL_CAPACITY)
        .min(limit);
    let mut buf = vec![0u8; initial];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if buf.len() >= limit {
                // Exactly at the limit: one more byte means too large.
                let mut probe = [0u8; 1];
                loop {
                    match r.read(&mut probe) {
                        Ok(0) => {
                            buf.truncate(filled);
                            return Ok(buf);
                        }
                        Ok(_) => return Err(IntakeError::TooLarge { limit }),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(decompress_err(enc, &e)),
                    }
                }
            }
            let new_len = buf
                .len()
                .max(MIN_INITIAL_CAPACITY)
                .saturating_mul(2)
                .min(limit);
            // reserve_exact, then resize: capacity stays at `new_len`, never
            // the doubled capacity `resize` alone could pick.
            buf.reserve_exact(new_len - buf.len());
            buf.resize(new_len, 0);
        }
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(decompress_err(enc, &e)),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

fn decompress_err(enc: Encoding, e: &io::Error) -> IntakeError {
    IntakeError::Decompress {
        encoding: enc.name(),
        reason: e.to_string(),
    }
}
