//! Any floats (and any increasing timestamps) encode and decode back bit for
//! bit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_tsdb::codec::varint::Reader;
use whippet_tsdb::codec::{Effort, floats, timestamps};

fuzz_target!(|data: &[u8]| {
    let vals: Vec<f64> = data
        .chunks_exact(8)
        .take(whippet_tsdb::codec::MAX_CHUNK_POINTS)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    if vals.is_empty() {
        return;
    }
    let mut ts = Vec::with_capacity(vals.len());
    let mut t = 1_700_000_000_000i64;
    for b in data.iter().take(vals.len()) {
        t += 1 + i64::from(*b % 4) * 500;
        ts.push(t);
    }
    let (mut out, mut scratch) = (Vec::new(), Vec::new());
    timestamps::encode(&ts, &mut out, Effort::Best);
    floats::encode(&vals, &mut out, &mut scratch, Effort::Best);
    let mut r = Reader::new(&out);
    let (mut ts2, mut vals2) = (Vec::new(), Vec::new());
    timestamps::decode(&mut r, ts.len(), &mut ts2).unwrap();
    floats::decode(&mut r, vals.len(), &mut vals2, &mut scratch).unwrap();
    assert_eq!(ts, ts2);
    assert_eq!(
        vals.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        vals2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
});
