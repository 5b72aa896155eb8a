//! Sketch decoding never panics, and what decodes survives a round trip
//! (the input itself may use non-canonical varints, so compare sketches, not
//! bytes).
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
        assert_eq!(back, s);
    }
});
