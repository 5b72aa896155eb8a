//! A part file of any bytes either fails to open with an error, or opens
//! and every chunk reads or fails with an error: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_tsdb::ValueKind;
use whippet_tsdb::block::Part;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("0000000000000001-0000000000000001.wblk");
    std::fs::write(&path, data).unwrap();
    let Ok(part) = Part::open(&path) else { return };
    let (mut ts, mut f, mut sk, mut scratch) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..part.entry_count() {
        let c = part.entry(i);
        let _ = match part.chunk_kind(&c) {
            Ok(ValueKind::Float) => part.read_floats(&c, &mut ts, &mut f, &mut scratch),
            Ok(ValueKind::Sketch) => part.read_sketches(&c, &mut ts, &mut sk),
            Err(e) => Err(e),
        };
    }
});
