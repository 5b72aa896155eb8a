//! `parse_check_runs` never panics, and what it accepts is well-formed.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match whippet_dd_intake::parse_check_runs(data) {
        Ok(p) => {
            common::check_parsed(&p);
            for run in &p.rows {
                assert!(run.status <= 3);
                assert!(!run.check.is_empty());
                assert!(run.host.as_deref() != Some(""));
                common::check_tags(&run.tags);
            }
        }
        Err(e) => common::check_error(&e),
    }
});
