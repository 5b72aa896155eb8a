//! `parse_event_v1` and `parse_event_v2` never panic on the same bytes, and
//! respect their limits when they accept.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_dd_intake::events::{V1_MAX_TEXT_CHARS, V1_MAX_TITLE_CHARS, V2_MAX_TITLE_CHARS};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match whippet_dd_intake::parse_event_v1(data) {
        Ok(e) => {
            assert!(!e.title.is_empty());
            assert!(e.title.chars().count() <= V1_MAX_TITLE_CHARS);
            assert!(e.text.chars().count() <= V1_MAX_TEXT_CHARS);
            common::check_tags(&e.tags);
        }
        Err(e) => common::check_error(&e),
    }
    match whippet_dd_intake::parse_event_v2(data) {
        Ok(e) => {
            assert!(!e.title.is_empty());
            assert!(e.title.chars().count() <= V2_MAX_TITLE_CHARS);
            assert!(matches!(e.category.as_deref(), Some("change" | "alert")));
            assert!(e.attributes.as_ref().is_some_and(|a| a.is_object()));
            common::check_tags(&e.tags);
        }
        Err(e) => common::check_error(&e),
    }
});
