//! Alert latency: from a point that crosses a monitor's threshold to the
//! webhook that announces it, end to end through the server.
//!
//! # How
//! - A webhook receiver in the bench ([`Receiver`]): a local HTTP/1.1
//!   listener that notes the arrival time and body of every request and
//!   answers `200`.
//! - The webhook `monitorbench` pointing at it
//!   (`POST /api/v1/integration/webhooks/configuration/webhooks`).
//! - One probe monitor on a metric of its own:
//!   `max(last_1m):avg:bench.monitor.probe{*} by {probe} > 50`, message
//!   `probe {{probe.name}} crossed @webhook-monitorbench`,
//!   `new_group_delay: 0` (Datadog's default of 60 s would hold a new group
//!   at OK for a minute, and each probe is a new group). It is created
//!   after the measured monitors, so it is the last of its round: the
//!   latency includes the whole round.
//! - Each probe is one point of value 100 for a new group
//!   `probe:<run>-<i>`, stamped one second before it is sent (a round's
//!   window ends at its start, rounded down to the second, exclusive: a
//!   point stamped in the same second as a round that starts then would
//!   wait for the next round). The latency runs from the moment the point
//!   is sent to the moment its webhook arrives (its body names the group).
//!   Probes are spread over a cadence, so they fall at every phase of the
//!   round cycle: the median is about half a cadence plus a round, the
//!   maximum about a cadence plus a round, plus the deliverer's one-second
//!   outbox poll.
//!
//! # What it must never do
//! Answer a delivery with anything but 200 (the deliverer would retry it
//! and the latency would include the retry).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;
use whippet_intake_bench::http::Conn;
use whippet_intake_bench::server::Keys;
use whippet_intake_bench::sys::unix_secs;

/// The webhook's name (`@webhook-monitorbench`).
pub const WEBHOOK: &str = "monitorbench";
/// The probe monitor's metric.
pub const PROBE_METRIC: &str = "bench.monitor.probe";
/// The probe monitor's query: a one-minute window, the shortest Datadog
/// offers, so a group's alert ends soon after its probe point.
pub const PROBE_QUERY: &str = "max(last_1m):avg:bench.monitor.probe{*} by {probe} > 50";
/// A probe point's value: above the threshold of 50.
const PROBE_VALUE: f64 = 100.0;
/// Longest request head the receiver reads, bytes.
const MAX_HEAD: usize = 64 * 1024;

/// Deliveries received: (arrival, body).
type Inbox = Arc<Mutex<Vec<(Instant, String)>>>;

/// The webhook receiver.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    inbox: Inbox,
}

impl Receiver {
    /// Listens on a free local port; every connection gets a thread (the
    /// deliverer opens one or a few). The threads end with the process.
    pub fn start() -> Result<Receiver> {
        let l = TcpListener::bind("127.0.0.1:0").context("binding the webhook receiver")?;
        let addr = l.local_addr()?;
        let inbox: Inbox = Arc::default();
        let sink = inbox.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || serve(s, &sink));
            }
        });
        Ok(Receiver { addr, inbox })
    }

    /// When a delivery whose body contains `needle` arrived, if one has.
    pub fn arrived(&self, needle: &str) -> Option<Instant> {
        self.inbox
            .lock()
            .expect("not poisoned")
            .iter()
            .find(|(_, b)| b.contains(needle))
            .map(|(t, _)| *t)
    }

    /// Deliveries so far.
    pub fn count(&self) -> usize {
        self.inbox.lock().expect("not poisoned").len()
    }
}

/// Reads requests off one connection until it closes.
fn serve(s: TcpStream, inbox: &Inbox) {
    let Ok(mut w) = s.try_clone() else { return };
    let mut r = BufReader::new(s);
    loop {
        let mut len = 0usize;
        let mut head = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(n) => head += n,
            }
            if head > MAX_HEAD {
                return;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let at = Instant::now();
        inbox
            .lock()
            .expect("not poisoned")
            .push((at, String::from_utf8_lossy(&body).into_owned()));
        if w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

fn both_keys(keys: &Keys) -> [(&str, &str); 3] {
    [
        ("Content-Type", "application/json"),
        ("DD-API-KEY", keys.api.as_str()),
        ("DD-APPLICATION-KEY", keys.app.as_str()),
    ]
}

/// Creates the webhook to `receiver` and the probe monitor.
pub fn set_up(addr: SocketAddr, keys: &Keys, receiver: SocketAddr) -> Result<()> {
    let mut c = Conn::new(addr);
    let hook = json!({"name": WEBHOOK, "url": format!("http://{receiver}/hook")}).to_string();
    let r = c.request(
        "POST",
        "/api/v1/integration/webhooks/configuration/webhooks",
        &both_keys(keys),
        hook.as_bytes(),
    )?;
    if !r.is_success() {
        bail!(
            "creating the webhook: HTTP {}: {}",
            r.status,
            r.body_snippet()
        );
    }
    let monitor = json!({
        "type": "metric alert",
        "name": "monitor-bench alert probe",
        "query": PROBE_QUERY,
        "message": format!("probe {{{{probe.name}}}} crossed @webhook-{WEBHOOK}"),
        "tags": ["bench:monitors", "kind:probe"],
        "options": {"new_group_delay": 0, "notify_no_data": false},
    })
    .to_string();
    let r = c.request(
        "POST",
        "/api/v1/monitor",
        &both_keys(keys),
        monitor.as_bytes(),
    )?;
    if !r.is_success() {
        bail!(
            "creating the probe monitor: HTTP {}: {}",
            r.status,
            r.body_snippet()
        );
    }
    Ok(())
}

/// Sends probe point `group` (value above the threshold); the moment it
/// was sent.
pub fn send_probe(c: &mut Conn, keys: &Keys, group: &str) -> Result<Instant> {
    let ts = unix_secs() - 1;
    let body = json!({"series": [{
        "metric": PROBE_METRIC,
        "points": [[ts, PROBE_VALUE]],
        "type": "gauge",
        "tags": [format!("probe:{group}")],
    }]})
    .to_string();
    let sent = Instant::now();
    let r = c.request(
        "POST",
        "/api/v1/series",
        &[
            ("Content-Type", "application/json"),
            ("DD-API-KEY", keys.api.as_str()),
        ],
        body.as_bytes(),
    )?;
    if !r.is_success() {
        bail!(
            "sending probe {group}: HTTP {}: {}",
            r.status,
            r.body_snippet()
        );
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receiver_notes_bodies_and_answers_200() {
        let rx = Receiver::start().unwrap();
        let mut c = Conn::new(rx.addr);
        let r = c
            .request("POST", "/hook", &[], b"{\"title\":\"probe x-1\"}")
            .unwrap();
        assert_eq!(r.status, 200);
        let r = c.request("POST", "/hook", &[], b"second").unwrap();
        assert_eq!(r.status, 200);
        assert!(rx.arrived("x-1").is_some());
        assert!(rx.arrived("x-2").is_none());
        assert_eq!(rx.count(), 2);
    }
}
