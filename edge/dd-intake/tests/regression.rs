//! One test per bug found (by the tests, the property tests or the
//! fuzzers), named after what went wrong, so it cannot come back.

use whippet_dd_intake::IntakeError;
use whippet_dd_intake::body::decode_body;

/// The zstd window cap was the largest power of two *below* the limit, so a
/// frame whose content (and therefore window) was exactly the limit, or
/// anything between that power of two and the limit, was refused with
/// "Frame requires too much memory for decoding". Found by
/// `the_limit_is_exact_and_the_buffer_never_exceeds_it` (100 000 bytes,
/// window log 16 = 65 536). The cap is now the smallest power of two that
/// holds the limit.
#[test]
fn zstd_frame_as_large_as_the_limit_decodes() {
    for len in [100_000usize, 65_537, 131_072, 5_242_880] {
        let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let body = zstd::bulk::compress(&data, 1).unwrap();
        let out = decode_body(Some("zstd1"), &body, len).unwrap_or_else(|e| panic!("{len}: {e}"));
        assert_eq!(out.len(), len);
    }
}

/// A zstd frame that declares more content than the limit (a zip bomb made
/// by a single-shot compressor) was refused as a corrupt stream (400, "Frame
/// requires too much memory") instead of 413. Found by
/// `zip_bombs_stop_at_the_limit`.
#[test]
fn zstd_bomb_with_declared_size_is_413() {
    let body = zstd::bulk::compress(&vec![0u8; 8 << 20], 1).unwrap();
    assert_eq!(
        decode_body(Some("zstd"), &body, 1 << 20).unwrap_err(),
        IntakeError::TooLarge { limit: 1 << 20 }
    );
}
