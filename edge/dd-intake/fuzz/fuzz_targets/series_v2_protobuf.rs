//! `parse_series_v2_protobuf` never panics on any bytes, and whatever it accepts holds the row
//! invariants (normalised names and tags, non-empty finite points, bounded
//! rejection details). The cached parse agrees with it, with an empty cache
//! and with one that knows every series of the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_dd_intake::{parse_series_v2_protobuf, parse_series_v2_protobuf_cached};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let plain = parse_series_v2_protobuf(data);
    let first = parse_series_v2_protobuf_cached(data, |_| None::<usize>);
    match (plain, first) {
        (Ok(p), Ok(first)) => {
            common::check_metric_rows(&p);
            assert_eq!(first.to_rows(|_| unreachable!()), p.rows);
            assert_eq!(first.new_series.rejected, p.rejected);
            let learned: std::collections::HashMap<u128, usize> = first
                .new_series
                .rows
                .iter()
                .enumerate()
                .map(|(i, s)| (s.ident, i))
                .collect();
            let second =
                parse_series_v2_protobuf_cached(data, |ident| learned.get(&ident).copied())
                    .expect("the same body parses again");
            let rows = second.to_rows(|&i| {
                let s = &first.new_series.rows[i];
                (s.metric.clone(), s.tags.clone(), s.mtype)
            });
            assert_eq!(rows, p.rows);
            assert_eq!(second.new_series.rejected, p.rejected);
        }
        (Err(e), Err(f)) => {
            common::check_error(&e);
            assert_eq!(e.message(), f.message());
        }
        (p, f) => panic!("the plain parse gave {p:?}, the cached one {f:?}"),
    }
});
