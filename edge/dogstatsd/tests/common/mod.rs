//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Mutex;

use whippet_dogstatsd::{Event, Flush, FlushedMetric, ServiceCheck, Sink};

/// Decodes a JSON array of strings (the `*.datagrams.json` fixtures) into
/// byte strings. Handles the escapes JSON allows; enough for the fixtures
/// without a JSON dependency.
pub fn json_string_list(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next().expect("unterminated string") {
                '"' => break,
                '\\' => match chars.next().expect("dangling escape") {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    '/' => s.push('/'),
                    '\\' => s.push('\\'),
                    '"' => s.push('"'),
                    'u' => {
                        let hex: String = (0..4).map(|_| chars.next().unwrap()).collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                    }
                    other => panic!("bad escape \\{other}"),
                },
                c => s.push(c),
            }
        }
        out.push(s.into_bytes());
    }
    out
}

/// The datagrams of a fixture copied into `tests/fixtures/`.
pub fn fixture(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    json_string_list(&std::fs::read_to_string(path).unwrap())
}

/// A sink that records everything it is given.
#[derive(Default)]
pub struct RecordingSink {
    pub flushes: Mutex<Vec<Flush>>,
    pub events: Mutex<Vec<Event>>,
    pub checks: Mutex<Vec<ServiceCheck>>,
}

impl RecordingSink {
    /// Every flushed float row so far.
    pub fn metrics(&self) -> Vec<FlushedMetric> {
        self.flushes
            .lock()
            .unwrap()
            .iter()
            .flat_map(|f| f.metrics.clone())
            .collect()
    }
    /// Every flushed sketch row so far.
    pub fn sketches(&self) -> Vec<whippet_dogstatsd::FlushedSketch> {
        self.flushes
            .lock()
            .unwrap()
            .iter()
            .flat_map(|f| f.sketches.clone())
            .collect()
    }
}

impl Sink for RecordingSink {
    fn metrics(&self, flush: Flush) {
        self.flushes.lock().unwrap().push(flush);
    }
    fn event(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }
    fn service_check(&self, check: ServiceCheck) {
        self.checks.lock().unwrap().push(check);
    }
}

/// The rows of `flush` for `metric`, sorted by timestamp.
pub fn rows<'a>(metrics: &'a [FlushedMetric], metric: &str) -> Vec<&'a FlushedMetric> {
    let mut v: Vec<_> = metrics.iter().filter(|m| m.metric == metric).collect();
    v.sort_by_key(|m| m.ts_ms);
    v
}

/// The single row for `metric` (panics unless there is exactly one).
pub fn one<'a>(metrics: &'a [FlushedMetric], metric: &str) -> &'a FlushedMetric {
    let r = rows(metrics, metric);
    assert_eq!(r.len(), 1, "rows for {metric}: {r:?}");
    r[0]
}
