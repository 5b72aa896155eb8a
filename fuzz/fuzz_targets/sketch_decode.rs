//! Sketch decoding never panics, and what decodes re-encodes to the same
//! bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_tsdb::Sketch;

fuzz_target!(|data: &[u8]| {
    if let Ok((s, used)) = Sketch::decode(data) {
        let mut again = Vec::new();
        s.encode(&mut again);
        assert_eq!(&again[..], &data[..used]);
    }
});
