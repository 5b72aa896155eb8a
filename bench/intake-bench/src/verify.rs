//! Reading back what each system stored, through its own export API, one
//! metric at a time: distinct series, points, and the [`Checksum`] of every
//! point, to compare with the data set.
//!
//! - Whippet: `GET /api/v1/export?metric=<m>&from=<s>&to=<s>` with both
//!   keys; JSON lines `{"metric", "tags": ["host:…", …], "points": [[ts, v], …]}`.
//! - VictoriaMetrics: `GET /api/v1/export?match[]={__name__=~"…"}&start=&end=`;
//!   JSON lines `{"metric": {"__name__", "host", …}, "values": […],
//!   "timestamps": [ms, …]}`. Version 1.79 keeps Datadog names as sent
//!   (`system.cpu.user`); later versions turn them into `system_cpu_user`
//!   unless `-datadog.sanitizeMetricName=false`, so the selector accepts
//!   both spellings and the report says which one was stored. Its export
//!   may cut one series into several lines, so series are counted by their
//!   distinct label sets. Recent rows sit in an in-memory buffer for up to
//!   a second before they can be read; `/internal/force_flush` makes them
//!   readable at once.

use std::collections::{BTreeSet, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde::Serialize;

use crate::http::{Conn, encode_query};
use crate::payload::Checksum;

/// What a system returned for the whole data set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stored {
    /// Distinct series.
    pub series: u64,
    /// Points.
    pub points: u64,
    /// Checksum of the points read back, hex.
    pub checksum: String,
    /// The checksum equals the data set's: every point is stored with its
    /// exact timestamp, value, metric and host.
    pub values_identical: bool,
    /// The metric names as stored (the first few).
    pub stored_names: Vec<String>,
    /// Seconds the read-back took (all metrics, including retries).
    pub read_secs: f64,
    /// Read-back passes made (a pass short of the data set is retried a few
    /// times, to let the system make recent data readable).
    pub passes: u32,
}

/// The range and the expected totals.
pub struct Expect<'a> {
    /// Metric names of the data set.
    pub metrics: &'a [String],
    /// First timestamp, seconds.
    pub from_secs: i64,
    /// Last timestamp, seconds (inclusive).
    pub to_secs: i64,
    /// Series of the data set.
    pub series: u64,
    /// Points of the data set.
    pub points: u64,
    /// Checksum of the data set.
    pub checksum: Checksum,
}

/// Read-back passes before giving up on a system that stored less.
const MAX_PASSES: u32 = 5;
/// Pause between passes.
const PASS_PAUSE: Duration = Duration::from_secs(2);

/// Repeats `pass` until it finds the whole data set or [`MAX_PASSES`] are
/// done; returns the last pass.
fn until_complete(exp: &Expect<'_>, mut pass: impl FnMut() -> Result<Stored>) -> Result<Stored> {
    let t = Instant::now();
    let mut passes = 0;
    loop {
        passes += 1;
        let mut s = pass()?;
        s.values_identical = s.checksum == format!("{:016x}", exp.checksum.0);
        let complete = s.series >= exp.series && s.points >= exp.points;
        if complete || passes == MAX_PASSES {
            s.passes = passes;
            s.read_secs = t.elapsed().as_secs_f64();
            return Ok(s);
        }
        std::thread::sleep(PASS_PAUSE);
    }
}

#[derive(Deserialize)]
struct WhippetLine {
    metric: String,
    tags: Vec<String>,
    #[serde(default)]
    points: Vec<(f64, Option<f64>)>,
}

/// Reads every metric of the data set back from Whippet.
pub fn whippet(addr: SocketAddr, api_key: &str, app_key: &str, exp: &Expect<'_>) -> Result<Stored> {
    until_complete(exp, || {
        let mut conn = Conn::new(addr);
        let mut out = Stored::default();
        let mut sum = Checksum::default();
        let mut names = BTreeSet::new();
        for m in exp.metrics {
            let path = format!(
                "/api/v1/export?metric={}&from={}&to={}",
                encode_query(m),
                exp.from_secs,
                exp.to_secs
            );
            let r = conn
                .request(
                    "GET",
                    &path,
                    &[("DD-API-KEY", api_key), ("DD-APPLICATION-KEY", app_key)],
                    b"",
                )
                .with_context(|| format!("whippet export of {m}"))?;
            if r.status != 200 {
                bail!(
                    "whippet export of {m}: HTTP {}: {}",
                    r.status,
                    r.body_snippet()
                );
            }
            let mut keys = HashSet::new();
            for line in r.body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let l: WhippetLine = serde_json::from_slice(line)
                    .with_context(|| format!("whippet export of {m}: a line is not a series"))?;
                names.insert(l.metric.clone());
                let host = l
                    .tags
                    .iter()
                    .find_map(|t| t.strip_prefix("host:"))
                    .unwrap_or_default();
                let seed = Checksum::series_seed(&l.metric, host);
                for (ts, v) in &l.points {
                    sum.add(seed, *ts as i64, v.unwrap_or(f64::NAN));
                }
                out.points += l.points.len() as u64;
                let mut tags = l.tags;
                tags.sort();
                keys.insert(tags.join(","));
            }
            out.series += keys.len() as u64;
        }
        out.checksum = format!("{:016x}", sum.0);
        out.stored_names = names.into_iter().take(3).collect();
        Ok(out)
    })
}

#[derive(Deserialize)]
struct VmLine {
    metric: std::collections::BTreeMap<String, String>,
    values: Vec<Option<f64>>,
    timestamps: Vec<i64>,
}

/// `system.cpu.user` → `system_cpu_user` (VictoriaMetrics' Prometheus-style
/// sanitising of Datadog names in versions after 1.79).
fn sanitized(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Escapes a string for a regular expression inside a PromQL string
/// literal: the regex escape, then the string's own backslash escape.
fn regex_literal(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

/// Reads every metric of the data set back from VictoriaMetrics.
pub fn victoria_metrics(addr: SocketAddr, exp: &Expect<'_>) -> Result<Stored> {
    let mut conn = Conn::new(addr);
    // Make the rows still in the in-memory buffer readable.
    match conn.request("GET", "/internal/force_flush", &[], b"") {
        Ok(r) if r.is_success() => {}
        _ => std::thread::sleep(Duration::from_secs(2)),
    }
    until_complete(exp, || {
        let mut out = Stored::default();
        let mut sum = Checksum::default();
        let mut names = BTreeSet::new();
        for m in exp.metrics {
            let selector = format!(
                "{{__name__=~\"{}|{}\"}}",
                regex_literal(m),
                regex_literal(&sanitized(m))
            );
            let path = format!(
                "/api/v1/export?match[]={}&start={}&end={}",
                encode_query(&selector),
                exp.from_secs,
                exp.to_secs
            );
            let r = conn
                .request("GET", &path, &[], b"")
                .with_context(|| format!("victoria-metrics export of {m}"))?;
            if r.status != 200 {
                bail!(
                    "victoria-metrics export of {m}: HTTP {}: {}",
                    r.status,
                    r.body_snippet()
                );
            }
            let mut keys = HashSet::new();
            for line in r.body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let l: VmLine = serde_json::from_slice(line).with_context(|| {
                    format!("victoria-metrics export of {m}: a line is not a series")
                })?;
                let stored = l.metric.get("__name__").cloned().unwrap_or_default();
                names.insert(stored.clone());
                // Checksum under the name as sent, whichever spelling VM kept.
                let name = if stored == *m || stored == sanitized(m) {
                    m.as_str()
                } else {
                    stored.as_str()
                };
                let host = l.metric.get("host").map_or("", String::as_str);
                let seed = Checksum::series_seed(name, host);
                for (ts, v) in l.timestamps.iter().zip(&l.values) {
                    sum.add(seed, ts.div_euclid(1000), v.unwrap_or(f64::NAN));
                }
                out.points += l.timestamps.len() as u64;
                let key: Vec<String> = l.metric.iter().map(|(k, v)| format!("{k}={v}")).collect();
                keys.insert(key.join(","));
            }
            out.series += keys.len() as u64;
        }
        out.checksum = format!("{:016x}", sum.0);
        out.stored_names = names.into_iter().take(3).collect();
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_selectors() {
        assert_eq!(
            sanitized("system.net.packets_in.count"),
            "system_net_packets_in_count"
        );
        assert_eq!(regex_literal("system.cpu.user"), "system\\\\.cpu\\\\.user");
    }

    #[test]
    fn export_lines_parse() {
        let w: WhippetLine = serde_json::from_str(
            r#"{"metric":"m","tags":["host:h"],"type":"gauge","interval":null,"points":[[10,1.5],[20,null]]}"#,
        )
        .unwrap();
        assert_eq!(w.points, vec![(10.0, Some(1.5)), (20.0, None)]);
        let v: VmLine = serde_json::from_str(
            r#"{"metric":{"__name__":"m","host":"h"},"values":[1.5,2],"timestamps":[10000,20000]}"#,
        )
        .unwrap();
        assert_eq!(v.timestamps, vec![10_000, 20_000]);
        assert_eq!(v.values, vec![Some(1.5), Some(2.0)]);
    }
}
