//! `decode_body` with a small limit: never panics, never returns more than
//! the limit, and (round-trip modes) gives back exactly what each encoder
//! compressed, or `TooLarge` exactly when that is over the limit.
//!
//! The first byte picks the mode; the rest is the body (decode modes) or
//! the plain text to compress (round-trip modes).
#![no_main]
use std::io::Write;

use libfuzzer_sys::fuzz_target;
use whippet_dd_intake::IntakeError;
use whippet_dd_intake::body::decode_body;

/// Small, so the fuzzer reaches the limit often.
const LIMIT: usize = 4096;

const DECODE: [Option<&str>; 7] = [
    None,
    Some("gzip"),
    Some("deflate"),
    Some("zstd"),
    Some("zstd1"),
    Some("identity"),
    Some("br"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mode = usize::from(mode) % (DECODE.len() + 4);
    if mode < DECODE.len() {
        match decode_body(DECODE[mode], rest, LIMIT) {
            Ok(out) => assert!(out.len() <= LIMIT),
            Err(IntakeError::TooLarge { limit }) => assert_eq!(limit, LIMIT),
            Err(e) => assert_eq!(e.status(), 400),
        }
        return;
    }
    let (enc, compressed) = match mode - DECODE.len() {
        0 => {
            let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            w.write_all(rest).unwrap();
            ("gzip", w.finish().unwrap())
        }
        1 => {
            let mut w = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            w.write_all(rest).unwrap();
            ("deflate", w.finish().unwrap())
        }
        2 => {
            let mut w = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            w.write_all(rest).unwrap();
            ("deflate", w.finish().unwrap())
        }
        _ => ("zstd1", zstd::bulk::compress(rest, 1).unwrap()),
    };
    match decode_body(Some(enc), &compressed, LIMIT) {
        Ok(out) => assert_eq!(&*out, rest),
        Err(IntakeError::TooLarge { .. }) => assert!(rest.len() > LIMIT),
        Err(e) => panic!("{enc} round trip failed: {e}"),
    }
});
