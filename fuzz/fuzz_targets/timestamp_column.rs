//! The timestamp column decoder never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_tsdb::codec::timestamps::decode;
use whippet_tsdb::codec::varint::Reader;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = u16::from_le_bytes([data[0], data[1]]) as usize;
    let mut out = Vec::new();
    let _ = decode(&mut Reader::new(&data[2..]), n, &mut out);
});
