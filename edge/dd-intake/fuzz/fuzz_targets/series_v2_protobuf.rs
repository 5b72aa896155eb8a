//! `parse_series_v2_protobuf` never panics on any bytes, and whatever it accepts holds the row
//! invariants (normalised names and tags, non-empty finite points, bounded
//! rejection details).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match whippet_dd_intake::parse_series_v2_protobuf(data) {
        Ok(p) => common::check_metric_rows(&p),
        Err(e) => common::check_error(&e),
    }
});
