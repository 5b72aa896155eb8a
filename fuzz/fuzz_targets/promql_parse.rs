//! PromQL parsing (`whippet_promql::errpos::parse`): any text gets an
//! answer and never a panic; an error names a position inside the query
//! and reads as Prometheus' `<line>:<col>: parse error: <message>`.
//!
//! `errpos::parse` catches the panics of `promql-parser` (it has some on
//! odd numbers); libfuzzer-sys' panic hook would abort on those caught
//! panics too, so the target installs a silent hook. A panic that escapes
//! `errpos::parse` still aborts: libfuzzer-sys catches it and aborts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Once;
use whippet_promql::{PromError, errpos};

static QUIET_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET_HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    match errpos::parse(query) {
        Ok(_) => {}
        Err(PromError::Parse { position, message }) => {
            assert!(position <= query.len(), "{position} past the end");
            let (place, _) = message
                .split_once(": parse error: ")
                .expect("Prometheus' form");
            let (line, col) = place.split_once(':').expect("line:col");
            assert!(line.parse::<usize>().is_ok_and(|l| l >= 1), "{message}");
            assert!(col.parse::<usize>().is_ok_and(|c| c >= 1), "{message}");
        }
        Err(other) => panic!("not a parse error: {other}"),
    }
});
