//! WAL and catalog records: framing and bodies never panic on any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_tsdb::wal::frame::{Next, next_record};
use whippet_tsdb::wal::record::decode;

fuzz_target!(|data: &[u8]| {
    let _ = decode(data);
    let mut off = 0;
    while let Next::Record(body, next) = next_record(data, off) {
        let _ = decode(body);
        off = next;
    }
});
