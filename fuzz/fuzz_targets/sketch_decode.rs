//! Sketch decoding never panics, and what decodes survives a round trip
//! (the input itself may use non-canonical varints, so compare the
//! re-encodings, which are canonical).
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_tsdb::Sketch;

fuzz_target!(|data: &[u8]| {
    if let Ok((s, used)) = Sketch::decode(data) {
        assert!(used <= data.len());
        let mut again = Vec::new();
        s.encode(&mut again);
        let (back, n) = Sketch::decode(&again).expect("a re-encoded sketch decodes");
        assert_eq!(n, again.len());
        // Compare canonical encodings: a sum may be NaN (+inf merged with
        // -inf), and NaN != NaN.
        let mut third = Vec::new();
        back.encode(&mut third);
        assert_eq!(third, again);
    }
});
