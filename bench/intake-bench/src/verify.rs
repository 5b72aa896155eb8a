//! Reading back what each system stored, through its own export (or query)
//! API, one metric at a time: distinct series, points, and the [`Checksum`]
//! of every point, to compare with the data set.
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
//! - Prometheus, which has no export API: range-vector instant queries,
//!   `GET /api/v1/query?query={__name__="<m>"}[<range>ms]&time=<t>`, whose
//!   answer is every raw sample of the window, `{"metric": {…}, "values":
//!   [[ts_secs, "value"], …]}` per series, values in Go's shortest
//!   round-trip notation (which `str::parse::<f64>` reads back exactly). A
//!   metric with more samples than [`MAX_SAMPLES_PER_QUERY`] is read in as
//!   many consecutive time windows. Remote-written samples are readable as
//!   soon as the write is answered.

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

/// Most samples one Prometheus query is expected to return. Prometheus
/// refuses a query that loads more than `--query.max-samples` (50 M by
/// default) at once, and builds its whole JSON answer (about 25 bytes per
/// sample) in memory before sending it, as the bench does before parsing
/// it. A tenth of the limit keeps both sides' memory at about 125 MB per
/// answer, and leaves room for metrics holding more than the average this
/// is checked against; the full preset's metrics (5 000 series × 720
/// samples, 3.6 M) still take one query each.
pub const MAX_SAMPLES_PER_QUERY: u64 = 5_000_000;

#[derive(Deserialize)]
struct PromAnswer<'a> {
    status: String,
    #[serde(borrow, default)]
    data: Option<PromData<'a>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct PromData<'a> {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(borrow, default)]
    result: Vec<PromSeries<'a>>,
}

#[derive(Deserialize)]
struct PromSeries<'a> {
    metric: std::collections::BTreeMap<String, String>,
    /// `[ts_secs, "value"]`; the value strings (digits, `.`, `e`, `+`, `-`,
    /// `NaN`, `Inf`) never hold a JSON escape, so they are borrowed.
    #[serde(borrow, default)]
    values: Vec<(f64, &'a str)>,
}

/// The windows `(after_ms, until_ms]` that cover `exp`'s seconds
/// `from_secs..=to_secs` (every millisecond of them), cut so that each is
/// expected to hold at most [`MAX_SAMPLES_PER_QUERY`] samples of one metric
/// (the data set's points spread evenly over its metrics and its range).
fn prometheus_windows(exp: &Expect<'_>) -> Vec<(i64, i64)> {
    let after = exp.from_secs * 1000 - 1;
    let until = exp.to_secs * 1000 + 999;
    let per_metric = exp.points.div_ceil(exp.metrics.len().max(1) as u64);
    let n = per_metric.div_ceil(MAX_SAMPLES_PER_QUERY).max(1) as i64;
    let span = until - after;
    let step = (span + n - 1) / n;
    (0..n)
        .map(|k| (after + k * step, (after + (k + 1) * step).min(until)))
        .filter(|(a, b)| a < b)
        .collect()
}

/// Milliseconds since the epoch as the seconds Prometheus' `time` takes.
fn prom_time(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// Escapes a string for a PromQL double-quoted string literal.
fn promql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Reads every metric of the data set back from Prometheus, through
/// range-vector instant queries (see the module doc).
///
/// Each window `(after, until]` is asked as
/// `{__name__="<m>"}[<until - after>ms]` at `time=<until>`. Before
/// Prometheus 3.0 a range selector includes its left end (`[t - r, t]`),
/// from 3.0 on it does not (`(t - r, t]`): samples at `after` are dropped
/// here, so consecutive windows never count a sample twice, whichever the
/// version. Series are counted by distinct label sets over all windows.
pub fn prometheus(addr: SocketAddr, exp: &Expect<'_>) -> Result<Stored> {
    let windows = prometheus_windows(exp);
    until_complete(exp, || {
        let mut conn = Conn::new(addr);
        let mut out = Stored::default();
        let mut sum = Checksum::default();
        let mut names = BTreeSet::new();
        for m in exp.metrics {
            let selector = format!("{{__name__=\"{}\"}}", promql_string(m));
            let mut keys = HashSet::new();
            for &(after, until) in &windows {
                let query = format!("{selector}[{}ms]", until - after);
                let path = format!(
                    "/api/v1/query?query={}&time={}",
                    encode_query(&query),
                    prom_time(until)
                );
                let r = conn
                    .request("GET", &path, &[], b"")
                    .with_context(|| format!("prometheus query {query} at {}", prom_time(until)))?;
                if r.status != 200 {
                    bail!(
                        "prometheus query {query} at {}: HTTP {}: {}",
                        prom_time(until),
                        r.status,
                        r.body_snippet()
                    );
                }
                let a: PromAnswer<'_> = serde_json::from_slice(&r.body).with_context(|| {
                    format!("prometheus query {query}: the answer is not a query result")
                })?;
                let data = match (a.status.as_str(), a.data) {
                    ("success", Some(d)) => d,
                    _ => bail!(
                        "prometheus query {query}: {} ({})",
                        a.error.unwrap_or_default(),
                        r.body_snippet()
                    ),
                };
                if data.result_type != "matrix" {
                    bail!(
                        "prometheus query {query}: a {} answer, not a matrix",
                        data.result_type
                    );
                }
                for series in data.result {
                    let name = series.metric.get("__name__").map_or("", String::as_str);
                    names.insert(name.to_owned());
                    let host = series.metric.get("host").map_or("", String::as_str);
                    let seed = Checksum::series_seed(name, host);
                    let mut n = 0;
                    for &(ts, v) in &series.values {
                        let ms = (ts * 1000.0).round() as i64;
                        if ms <= after {
                            continue;
                        }
                        let value: f64 = v.parse().with_context(|| {
                            format!("prometheus query {query}: value {v:?} is not a number")
                        })?;
                        sum.add(seed, ms.div_euclid(1000), value);
                        n += 1;
                    }
                    if n > 0 {
                        out.points += n;
                        let key: Vec<String> = series
                            .metric
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect();
                        keys.insert(key.join(","));
                    }
                }
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

    fn expect(metrics: &[String], points: u64) -> Expect<'_> {
        Expect {
            metrics,
            from_secs: 1_000,
            to_secs: 8_190,
            series: 1,
            points,
            checksum: Checksum::default(),
        }
    }

    #[test]
    fn prometheus_windows_cover_the_range_once() {
        let metrics = vec!["a".to_owned(), "b".to_owned()];
        // 3.6 M samples per metric: one window, every millisecond of
        // 1000..=8190 s.
        let w = prometheus_windows(&expect(&metrics, 7_200_000));
        assert_eq!(w, vec![(999_999, 8_190_999)]);
        // 10.8 M per metric: three windows, end to end.
        let w = prometheus_windows(&expect(&metrics, 21_600_000));
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, 999_999);
        assert_eq!(w[2].1, 8_190_999);
        assert!(w.windows(2).all(|p| p[0].1 == p[1].0));
        assert_eq!(prometheus_windows(&expect(&metrics, 0)).len(), 1);
        assert_eq!(prom_time(8_190_999), "8190.999");
        assert_eq!(prom_time(1_000), "1.000");
        assert_eq!(promql_string(r#"a"b\c"#), r#"a\"b\\c"#);
    }

    #[test]
    fn prometheus_answers_parse() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"system.cpu.user","host":"h"},"values":[[1767225600,"12.3"],[1767225610.5,"1e+21"]]}]}}"#;
        let a: PromAnswer<'_> = serde_json::from_slice(body).unwrap();
        assert_eq!(a.status, "success");
        let d = a.data.unwrap();
        assert_eq!(d.result_type, "matrix");
        assert_eq!(d.result[0].metric["host"], "h");
        assert_eq!(
            d.result[0].values,
            vec![(1_767_225_600.0, "12.3"), (1_767_225_610.5, "1e+21")]
        );
        assert_eq!("12.3".parse::<f64>().unwrap(), 12.3);
        let e: PromAnswer<'_> = serde_json::from_slice(
            br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        )
        .unwrap();
        assert!(e.data.is_none());
        assert_eq!(e.error.as_deref(), Some("parse error"));
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
