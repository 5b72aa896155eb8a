//! Datadog `/api/v1/series` JSON bodies.
//!
//! Each series is written as
//! `{"metric":"system.cpu.user","points":[[1764122400,12.3],...],"type":"gauge","host":"i-0…","tags":["env:prod","region:…","az:…","service:…"]}`:
//! the host goes into the `host` field, the way the Agent sends it
//! (VictoriaMetrics makes it the `host` label; a `host:` tag would become
//! `exported_host`). Timestamps are whole seconds, values in Rust's
//! shortest round-trip notation.

use std::io::Write as _;

use anyhow::Result;

use super::{BodyEncoder, SeriesRef};

/// Builds one `{"series":[...]}` body.
pub struct Encoder {
    out: Vec<u8>,
    series: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            out: b"{\"series\":[".to_vec(),
            series: 0,
        }
    }
}

impl BodyEncoder for Encoder {
    fn series(&mut self, s: &SeriesRef<'_>) -> Result<()> {
        let out = &mut self.out;
        if self.series > 0 {
            out.push(b',');
        }
        self.series += 1;
        out.extend_from_slice(b"{\"metric\":");
        json_string(out, s.metric);
        out.extend_from_slice(b",\"points\":[");
        for (k, (&ts, &v)) in s.ts_ms.iter().zip(s.vals).enumerate() {
            if k > 0 {
                out.push(b',');
            }
            write!(out, "[{},{v}]", ts / 1000)?;
        }
        out.extend_from_slice(b"],\"type\":\"gauge\",\"host\":");
        json_string(out, s.host);
        out.extend_from_slice(b",\"tags\":[");
        for (j, t) in s.tags.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            json_string(out, t);
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<u8>> {
        self.out.extend_from_slice(b"]}");
        Ok(self.out)
    }
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}
