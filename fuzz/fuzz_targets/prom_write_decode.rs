//! The remote write decoder never panics and bounds what it keeps: the
//! input is read both as a decompressed `WriteRequest` and as a snappy
//! block of one. What decodes is consistent (no empty label value, every
//! sample in exactly one series); a series that validates maps to a
//! non-empty metric and one tag per other label; re-encoding the decoded
//! series and decoding again gives the same labels and samples, bit for
//! bit; and the order rules never fail without a stored sample.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_prom_write::{Limits, SeriesOrder, decode, decompress, encode, validate};

fn check(proto: &[u8], limits: &Limits) {
    let Ok(req) = decode(proto, limits) else {
        return;
    };
    assert!(req.len() <= limits.max_series_per_request);
    assert!(req.sample_count() <= limits.max_samples_per_request);
    let mut samples = 0;
    let mut all_valid = true;
    for s in req.iter() {
        samples += s.samples.len();
        assert!(s.labels.iter().all(|l| !l.value.is_empty()));
        match validate(&s, limits) {
            Ok(v) => {
                assert!(!v.metric.is_empty());
                assert_eq!(v.tags().len(), s.labels.len() - 1);
            }
            Err(e) => {
                all_valid = false;
                assert_eq!(e.status(), 400);
            }
        }
        let mut order = SeriesOrder::new(None);
        for &x in s.samples {
            order.admit(x).expect("no stored sample, no conflict");
        }
    }
    assert_eq!(samples, req.sample_count());
    if all_valid {
        let owned: Vec<(Vec<(String, String)>, Vec<(i64, f64)>)> = req
            .iter()
            .map(|s| {
                let labels = s
                    .labels
                    .iter()
                    .map(|l| {
                        (
                            String::from_utf8(l.name.to_vec()).unwrap(),
                            String::from_utf8(l.value.to_vec()).unwrap(),
                        )
                    })
                    .collect();
                (labels, s.samples.iter().map(|x| (x.ts, x.value)).collect())
            })
            .collect();
        let label_refs: Vec<Vec<(&str, &str)>> = owned
            .iter()
            .map(|(l, _)| l.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect())
            .collect();
        let specs: Vec<encode::SeriesSpec<'_>> = owned
            .iter()
            .zip(&label_refs)
            .map(|((_, s), l)| (l.as_slice(), s.as_slice()))
            .collect();
        let again = encode::write_request(&specs);
        let back = decode(&again, limits).expect("a re-encoded request decodes");
        assert_eq!(back.len(), req.len());
        for (a, b) in req.iter().zip(back.iter()) {
            assert_eq!(a.labels, b.labels);
            assert_eq!(a.samples.len(), b.samples.len());
            for (x, y) in a.samples.iter().zip(b.samples) {
                assert_eq!((x.ts, x.value.to_bits()), (y.ts, y.value.to_bits()));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Small limits, so that the fuzzer reaches them.
    let limits = Limits {
        max_decompressed_bytes: 1 << 20,
        max_series_per_request: 64,
        max_samples_per_request: 256,
        max_labels_per_series: 8,
        ..Limits::default()
    };
    check(data, &limits);
    let mut buf = Vec::new();
    if decompress(data, &limits, &mut buf).is_ok() {
        assert!(buf.len() <= limits.max_decompressed_bytes);
        check(&buf, &limits);
    }
});
