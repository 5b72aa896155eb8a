//! The measured loop: `senders` threads, each with its own keep-alive
//! connection, POST every body once. Each group of series (the agents of
//! one body column, [`Body::group`]) belongs to one sender, which sends its
//! bodies in order, window after window: like an agent, which sends its
//! own series in time order, or Prometheus' remote-write shards, which
//! keep each series on one connection. Bodies shared from a common counter
//! instead would let a window of a series overtake the previous one when a
//! sender is descheduled between taking a body and sending it, and
//! Prometheus rejects such a request whole (`out of order sample`).
//!
//! All connections are opened before the clock starts. A `429` or `503`
//! (the server asking to slow down: Whippet's admission limit or engine
//! backpressure) is retried after its `Retry-After`, as an agent would, and
//! counted; any other non-2xx answer or I/O error is an error and the body
//! is not sent again.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::http::Conn;
use crate::payload::Body;

/// Most times one body is offered again after 429/503 before it counts as
/// an error.
const MAX_RETRIES: u32 = 60;
/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Where and how to send.
pub struct Target {
    /// Server address.
    pub addr: SocketAddr,
    /// Request path, e.g. `/api/v1/series`.
    pub path: String,
    /// Extra headers (key, content type, encoding).
    pub headers: Vec<(String, String)>,
}

/// What the loop saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sent {
    /// From the moment every sender was connected to the last response.
    pub wall_secs: f64,
    /// Requests answered 2xx.
    pub ok: u64,
    /// Bodies that ended in a non-2xx answer (after retries) or an I/O
    /// error.
    pub errors: u64,
    /// 429/503 answers that were retried.
    pub retries: u64,
    /// Final status of each request, by code (0: I/O error).
    pub statuses: BTreeMap<u16, u64>,
    /// The first error, for the report.
    pub first_error: Option<String>,
    /// Points in the bodies answered 2xx.
    pub points_acked: u64,
    /// Median request latency (send to full response), milliseconds.
    pub latency_p50_ms: f64,
    /// 99th percentile request latency, milliseconds.
    pub latency_p99_ms: f64,
    /// Slowest request, milliseconds.
    pub latency_max_ms: f64,
}

/// One sender's tally.
#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    retries: u64,
    statuses: BTreeMap<u16, u64>,
    first_error: Option<String>,
    points_acked: u64,
    latencies_us: Vec<u64>,
}

/// POSTs every body once over `senders` connections.
pub fn send_all(target: &Target, bodies: &[Body], senders: usize) -> Sent {
    let start = Barrier::new(senders + 1);
    let started = Mutex::new(None::<Instant>);
    let headers: Vec<(&str, &str)> = target
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..senders)
            .map(|k| {
                let (start, headers) = (&start, &headers);
                s.spawn(move || {
                    let mut t = Tally::default();
                    let mut conn = Conn::new(target.addr);
                    let connected = conn.connect();
                    start.wait();
                    if let Err(e) = connected {
                        t.first_error = Some(format!("connect: {e}"));
                    }
                    for body in bodies.iter().filter(|b| b.group % senders == k) {
                        send_one(&mut conn, target, headers, body, &mut t);
                    }
                    t
                })
            })
            .collect();
        start.wait();
        *started.lock().expect("not poisoned") = Some(Instant::now());
        handles
            .into_iter()
            .map(|h| h.join().expect("sender thread panicked"))
            .collect()
    });
    let wall_secs = started
        .lock()
        .expect("not poisoned")
        .map_or(0.0, |t| t.elapsed().as_secs_f64());

    let mut sent = Sent {
        wall_secs,
        ..Sent::default()
    };
    let mut latencies = Vec::new();
    for t in tallies {
        sent.ok += t.ok;
        sent.errors += t.errors;
        sent.retries += t.retries;
        sent.points_acked += t.points_acked;
        for (k, v) in t.statuses {
            *sent.statuses.entry(k).or_default() += v;
        }
        if sent.first_error.is_none() {
            sent.first_error = t.first_error;
        }
        latencies.extend(t.latencies_us);
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() - 1) as f64 * p).round() as usize;
        latencies[i] as f64 / 1000.0
    };
    sent.latency_p50_ms = pct(0.5);
    sent.latency_p99_ms = pct(0.99);
    sent.latency_max_ms = pct(1.0);
    sent
}

fn send_one(
    conn: &mut Conn,
    target: &Target,
    headers: &[(&str, &str)],
    body: &Body,
    t: &mut Tally,
) {
    let mut attempts = 0;
    loop {
        let began = Instant::now();
        let result = conn.request("POST", &target.path, headers, &body.bytes);
        t.latencies_us.push(began.elapsed().as_micros() as u64);
        match result {
            Ok(r) if r.is_success() => {
                t.ok += 1;
                t.points_acked += body.points;
                *t.statuses.entry(r.status).or_default() += 1;
                return;
            }
            Ok(r) if matches!(r.status, 429 | 503) && attempts < MAX_RETRIES => {
                attempts += 1;
                t.retries += 1;
                let wait = r
                    .header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(Duration::from_millis(100), Duration::from_secs)
                    .min(MAX_RETRY_AFTER);
                std::thread::sleep(wait);
            }
            Ok(r) => {
                t.errors += 1;
                *t.statuses.entry(r.status).or_default() += 1;
                t.first_error
                    .get_or_insert_with(|| format!("HTTP {}: {}", r.status, r.body_snippet()));
                return;
            }
            Err(e) => {
                t.errors += 1;
                *t.statuses.entry(0).or_default() += 1;
                t.first_error.get_or_insert_with(|| format!("I/O: {e}"));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A server that answers every request 202 and records, per
    /// connection, the bodies in the order they came.
    fn recording_server() -> (SocketAddr, Arc<Mutex<Vec<Vec<String>>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(stream) = stream else { return };
                let log = log.clone();
                let conn = {
                    let mut l = log.lock().unwrap();
                    l.push(Vec::new());
                    l.len() - 1
                };
                std::thread::spawn(move || {
                    let mut w = stream.try_clone().unwrap();
                    let mut r = BufReader::new(stream);
                    loop {
                        let mut len = 0usize;
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some(v) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                len = v.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; len];
                        r.read_exact(&mut body).unwrap();
                        log.lock().unwrap()[conn].push(String::from_utf8(body).unwrap());
                        w.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                            .unwrap();
                    }
                });
            }
        });
        (addr, seen)
    }

    #[test]
    fn each_group_goes_out_on_one_connection_in_window_order() {
        let (addr, seen) = recording_server();
        let (groups, windows) = (5usize, 6usize);
        // Time-major, as the payloads are: window 0 of every group, then 1...
        let bodies: Vec<Body> = (0..windows)
            .flat_map(|w| {
                (0..groups).map(move |g| Body {
                    bytes: format!("{g}:{w}").into_bytes(),
                    points: 2,
                    group: g,
                })
            })
            .collect();
        let target = Target {
            addr,
            path: "/x".into(),
            headers: Vec::new(),
        };
        let sent = send_all(&target, &bodies, 3);
        assert_eq!((sent.ok, sent.errors), (30, 0));
        assert_eq!(sent.points_acked, 60);
        let seen = seen.lock().unwrap().clone();
        let mut conn_of: BTreeMap<usize, usize> = BTreeMap::new();
        let mut total = 0;
        for (c, bodies) in seen.iter().enumerate() {
            let mut last_window: BTreeMap<usize, usize> = BTreeMap::new();
            for b in bodies {
                total += 1;
                let (g, w) = b.split_once(':').unwrap();
                let (g, w): (usize, usize) = (g.parse().unwrap(), w.parse().unwrap());
                assert_eq!(
                    *conn_of.entry(g).or_insert(c),
                    c,
                    "group {g} on two connections"
                );
                if let Some(prev) = last_window.insert(g, w) {
                    assert!(w > prev, "group {g}: window {w} after {prev}");
                }
            }
        }
        assert_eq!(total, 30);
        assert_eq!(conn_of.len(), groups);
    }
}
