//! Creating monitors through the API: `POST /api/v1/monitor` with both keys,
//! over several keep-alive connections at once (as Terraform creates a
//! large estate: its default parallelism is 10).
//!
//! # What it owns
//! Sending each definition once, counting what was refused, and timing the
//! whole: the creation rate. A `429`/`503` is retried after a short pause
//! and counted; anything else non-2xx is an error (the first one is kept
//! for the report).
//!
//! # What it must never do
//! Create a monitor twice: an I/O error after the request went out is an
//! error, not a retry.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use whippet_intake_bench::http::Conn;
use whippet_intake_bench::server::Keys;

use crate::mix::Mix;

/// Most times one definition is offered again after 429/503.
const MAX_RETRIES: u32 = 20;
/// Pause before such a retry: the server asked to slow down.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// What a creation run saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Created {
    /// Monitors created (answered 200).
    pub ok: u64,
    /// Definitions refused or lost.
    pub errors: u64,
    /// 429/503 answers retried.
    pub retries: u64,
    /// Wall seconds from the first request to the last answer.
    pub wall_secs: f64,
    /// `ok / wall_secs`.
    pub per_sec: f64,
    /// Median request latency, milliseconds.
    pub latency_p50_ms: f64,
    /// Slowest request, milliseconds.
    pub latency_max_ms: f64,
    /// The first error.
    pub first_error: Option<String>,
}

/// POSTs monitors `from..to` of `mix` over `conns` connections.
pub fn create(
    addr: SocketAddr,
    keys: &Keys,
    mix: &Mix,
    from: usize,
    to: usize,
    conns: usize,
) -> Created {
    let next = AtomicUsize::new(from);
    let out = Mutex::new((Created::default(), Vec::<u64>::new()));
    let headers = [
        ("Content-Type", "application/json"),
        ("DD-API-KEY", keys.api.as_str()),
        ("DD-APPLICATION-KEY", keys.app.as_str()),
    ];
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..conns {
            s.spawn(|| {
                let mut c = Conn::new(addr);
                let mut mine = Created::default();
                let mut lat = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= to {
                        break;
                    }
                    let body = mix.definition(k).to_string();
                    let mut attempts = 0;
                    loop {
                        let began = Instant::now();
                        let r = c.request("POST", "/api/v1/monitor", &headers, body.as_bytes());
                        lat.push(began.elapsed().as_micros() as u64);
                        match r {
                            Ok(r) if r.is_success() => mine.ok += 1,
                            Ok(r) if matches!(r.status, 429 | 503) && attempts < MAX_RETRIES => {
                                attempts += 1;
                                mine.retries += 1;
                                std::thread::sleep(RETRY_PAUSE);
                                continue;
                            }
                            Ok(r) => {
                                mine.errors += 1;
                                mine.first_error.get_or_insert_with(|| {
                                    format!("HTTP {}: {}", r.status, r.body_snippet())
                                });
                            }
                            Err(e) => {
                                mine.errors += 1;
                                mine.first_error.get_or_insert_with(|| format!("I/O: {e}"));
                            }
                        }
                        break;
                    }
                }
                let mut o = out.lock().expect("not poisoned");
                o.0.ok += mine.ok;
                o.0.errors += mine.errors;
                o.0.retries += mine.retries;
                if o.0.first_error.is_none() {
                    o.0.first_error = mine.first_error;
                }
                o.1.extend(lat);
            });
        }
    });
    let (mut c, mut lat) = out.into_inner().expect("not poisoned");
    c.wall_secs = t.elapsed().as_secs_f64();
    c.per_sec = c.ok as f64 / c.wall_secs.max(1e-9);
    lat.sort_unstable();
    if !lat.is_empty() {
        c.latency_p50_ms = lat[lat.len() / 2] as f64 / 1000.0;
        c.latency_max_ms = lat[lat.len() - 1] as f64 / 1000.0;
    }
    c
}
