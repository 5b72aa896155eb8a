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

/// Not a parser bug, a wrong invariant in the fuzz targets: they asserted
/// that a normalised tag has no uppercase character, but U+03D3 (`ϓ`) is an
/// uppercase letter with no lowercase mapping, so Unicode lower-casing (ours,
/// and Go's `strings.ToLower` in Datadog's backend) keeps it. Found by the
/// `sketches_protobuf` fuzz target in a `host` name. Pinned here: kept, and
/// normalisation is a fixed point on it.
#[test]
fn uppercase_letter_without_lowercase_mapping_is_kept() {
    use whippet_dd_intake::normalize::{key_value_tag, tag};
    assert_eq!(tag("\u{3d3}").as_deref(), Some("\u{3d3}"));
    let t = key_value_tag("host", "__\u{3d3}__1111").unwrap();
    assert_eq!(t, "host:__\u{3d3}__1111");
    assert_eq!(tag(&t), Some(t.clone()));
}

/// The fuzz input itself (a `SketchPayload` whose host holds `ϓ`): parses,
/// and every tag is a fixed point of normalisation.
#[test]
fn fuzz_sketches_upsilon_host_input() {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz/sketches_upsilon_host.bin"
    ))
    .unwrap();
    let p = whippet_dd_intake::parse_sketches_protobuf(&body).unwrap();
    let tags: Vec<&String> = p.rows.iter().flat_map(|r| &r.tags).collect();
    assert!(tags.iter().any(|t| t.contains('\u{3d3}')), "{tags:?}");
    for t in tags {
        assert_eq!(
            whippet_dd_intake::normalize::tag(t).as_deref(),
            Some(t.as_str())
        );
    }
}
