//! The fleet the monitors watch: `whippet-fleetgen`'s hosts and values,
//! with timestamps that end at "now" and keep coming for as long as the
//! bench runs.
//!
//! # What it owns
//! - **The values**, generated once: `horizon` ticks of 10 s per series
//!   (fleetgen's walks, gaps as holes), held as `f64`s series-major. Tick
//!   `k` of the run (its timestamp `start + 10 s × k`) takes the value at
//!   index `k` of a ping-pong over the horizon (0, 1, …, H−1, H−1, …, 0,
//!   0, 1, …): every series stays continuous however long the run, without
//!   holding the whole run in memory (100 000 series × 180 ticks is
//!   144 MB). Gauges walk back over their own path; counters then decrease,
//!   which no monitor of the mix reads.
//! - **The backfill**: the ticks from `backfill` before the start up to
//!   now, sent as Datadog `/api/v1/series` JSON bodies of 1 000 series × 10
//!   points (intake-bench's encoder and cut), window after window, with
//!   intake-bench's senders.
//! - **The live feed**: a thread that sends each new tick of every series
//!   as it falls due (1 000 series × 1 point per body), as a fleet of agents
//!   would, so that every monitor window (`last_1m` to `last_15m`) holds
//!   data all along the run and the server ingests while it evaluates.
//!
//! # What it must never do
//! Send a tick before its timestamp (the server would take it, but the
//! windows would then see the future), or send a series' ticks out of order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use whippet_fleetgen::{FleetSpec, describe, points};
use whippet_intake_bench::payload::json::Encoder;
use whippet_intake_bench::payload::{Body, BodyEncoder, SeriesRef};
use whippet_intake_bench::send::{Target, send_all};
use whippet_intake_bench::sys::unix_secs;

/// Milliseconds between two ticks: the fleet's 10 s, the Agent's default
/// collection interval.
pub const TICK_MS: i64 = 10_000;
/// Series per request body: 50 hosts' worth, intake-bench's default cut.
const SERIES_PER_BODY: usize = 1_000;
/// Ticks per backfill body: intake-bench's default cut (an agent flush of
/// 100 s).
const BACKFILL_TICKS_PER_BODY: u64 = 10;
/// Concurrent connections of the live feed: one tick of 100 000 series is
/// 100 bodies of ~120 KB, sent in a fraction of a second on two.
const LIVE_SENDERS: usize = 2;

/// One series' identity as the bodies carry it.
struct SeriesMeta {
    metric: String,
    host: String,
    /// `env:`, `region:`, `az:`, `service:` (the host travels apart).
    tags: Vec<String>,
}

/// One host's tags, for the monitor mix.
#[derive(Debug, Clone)]
pub struct HostTags {
    /// `i-0…`
    pub host: String,
    /// `prod`, `staging`, `dev`.
    pub env: String,
    /// `us-east-1`, …
    pub region: String,
    /// `us-east-1a`, …
    pub az: String,
    /// `web`, `api`, …
    pub service: String,
}

/// The fleet, its values and its clock.
pub struct Fleet {
    series: Vec<SeriesMeta>,
    /// Every host's tags, in fleet order.
    pub hosts: Vec<HostTags>,
    /// `horizon` values per series, series-major; NaN in a gap.
    values: Vec<f64>,
    horizon: usize,
    /// Timestamp of tick 0, milliseconds.
    pub start_ms: i64,
}

impl Fleet {
    /// Generates `series` series whose tick 0 is `backfill_secs` before now
    /// (rounded down to a tick), values over `horizon` ticks.
    pub fn generate(series: usize, horizon: usize, backfill_secs: i64) -> Result<Fleet> {
        let now_ms = unix_secs() * 1000;
        let start_ms = (now_ms - backfill_secs * 1000).div_euclid(TICK_MS) * TICK_MS;
        let spec = FleetSpec {
            series,
            points_per_series: horizon,
            interval_ms: TICK_MS,
            start_ms,
            ..FleetSpec::full()
        };
        spec.validate().map_err(anyhow::Error::msg)?;
        let mut values = vec![f64::NAN; series * horizon];
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = series.div_ceil(threads);
        std::thread::scope(|s| {
            for (t, chunk) in values.chunks_mut(per * horizon).enumerate() {
                s.spawn(move || {
                    let (mut ts, mut vals) = (Vec::new(), Vec::new());
                    for (j, row) in chunk.chunks_mut(horizon).enumerate() {
                        points(&spec, t * per + j, &mut ts, &mut vals);
                        for (&t_ms, &v) in ts.iter().zip(&vals) {
                            row[((t_ms - start_ms) / TICK_MS) as usize] = v;
                        }
                    }
                });
            }
        });
        let mut metas = Vec::with_capacity(series);
        let mut hosts = Vec::new();
        for i in 0..series {
            let d = describe(&spec, i);
            let tag = |k: &str| {
                d.tags
                    .iter()
                    .find_map(|t| t.strip_prefix(k))
                    .unwrap_or_default()
                    .to_owned()
            };
            if i % whippet_fleetgen::METRICS_PER_HOST == 0 {
                hosts.push(HostTags {
                    host: tag("host:"),
                    env: tag("env:"),
                    region: tag("region:"),
                    az: tag("az:"),
                    service: tag("service:"),
                });
            }
            metas.push(SeriesMeta {
                host: tag("host:"),
                tags: d
                    .tags
                    .iter()
                    .filter(|t| !t.starts_with("host:"))
                    .cloned()
                    .collect(),
                metric: d.metric,
            });
        }
        Ok(Fleet {
            series: metas,
            hosts,
            values,
            horizon,
            start_ms,
        })
    }

    /// Timestamp of tick `k`.
    pub fn tick_ms(&self, k: u64) -> i64 {
        self.start_ms + k as i64 * TICK_MS
    }

    /// The first tick whose timestamp is after now.
    pub fn next_tick_after_now(&self) -> u64 {
        ((unix_secs() * 1000 - self.start_ms).div_euclid(TICK_MS) + 1).max(0) as u64
    }

    /// Value of series `i` at tick `k` (the ping-pong over the horizon);
    /// `None` in a gap.
    fn value(&self, i: usize, k: u64) -> Option<f64> {
        let h = self.horizon as u64;
        let m = k % (2 * h);
        let idx = if m < h { m } else { 2 * h - 1 - m } as usize;
        let v = self.values[i * self.horizon + idx];
        v.is_finite().then_some(v)
    }

    /// Bodies for ticks `from..to`, `per_body` ticks each, time-major
    /// (window after window), each of [`SERIES_PER_BODY`] series.
    pub fn bodies(&self, from: u64, to: u64, per_body: u64) -> Result<Vec<Body>> {
        let mut out = Vec::new();
        let (mut ts, mut vals) = (Vec::new(), Vec::new());
        let mut w = from;
        while w < to {
            let end = (w + per_body).min(to);
            for (g, group) in self.series.chunks(SERIES_PER_BODY).enumerate() {
                let mut enc: Box<dyn BodyEncoder> = Box::new(Encoder::default());
                let mut n = 0u64;
                for (j, s) in group.iter().enumerate() {
                    ts.clear();
                    vals.clear();
                    for k in w..end {
                        if let Some(v) = self.value(g * SERIES_PER_BODY + j, k) {
                            ts.push(self.tick_ms(k));
                            vals.push(v);
                        }
                    }
                    if ts.is_empty() {
                        continue;
                    }
                    let tags: Vec<&str> = s.tags.iter().map(String::as_str).collect();
                    enc.series(&SeriesRef {
                        metric: &s.metric,
                        host: &s.host,
                        tags: &tags,
                        ts_ms: &ts,
                        vals: &vals,
                    })?;
                    n += ts.len() as u64;
                }
                if n > 0 {
                    out.push(Body {
                        bytes: enc.finish()?,
                        points: n,
                        group: g,
                    });
                }
            }
            w = end;
        }
        Ok(out)
    }
}

/// What the backfill sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Backfill {
    /// Ticks sent per series.
    pub ticks: u64,
    /// Points acknowledged.
    pub points: u64,
    /// Bodies refused or failed.
    pub errors: u64,
    /// Wall seconds of the sending.
    pub wall_secs: f64,
    /// The first error, if any.
    pub first_error: Option<String>,
}

/// The Datadog v1 series target with `api_key`.
pub fn target(addr: SocketAddr, api_key: &str) -> Target {
    Target {
        addr,
        path: "/api/v1/series".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("DD-API-KEY".into(), api_key.into()),
        ],
    }
}

/// Sends every tick from 0 to now, window by window (so at most one
/// window's bodies are held at a time); returns the first tick not sent.
pub fn backfill(fleet: &Fleet, target: &Target, senders: usize) -> Result<(Backfill, u64)> {
    let to = fleet.next_tick_after_now();
    let mut b = Backfill {
        ticks: to,
        ..Backfill::default()
    };
    let t = std::time::Instant::now();
    let mut w = 0;
    while w < to {
        let end = (w + BACKFILL_TICKS_PER_BODY).min(to);
        let bodies = fleet.bodies(w, end, BACKFILL_TICKS_PER_BODY)?;
        let sent = send_all(target, &bodies, senders);
        b.points += sent.points_acked;
        b.errors += sent.errors;
        if b.first_error.is_none() {
            b.first_error = sent.first_error;
        }
        w = end;
    }
    b.wall_secs = t.elapsed().as_secs_f64();
    Ok((b, to))
}

/// What the live feed sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Live {
    /// Ticks sent.
    pub ticks: u64,
    /// Points acknowledged.
    pub points: u64,
    /// Bodies refused or failed.
    pub errors: u64,
    /// Ticks sent more than one tick after their timestamp (the sender fell
    /// behind: the machine was saturated).
    pub late_ticks: u64,
    /// Slowest tick to send, seconds.
    pub max_send_secs: f64,
    /// The first error, if any.
    pub first_error: Option<String>,
}

/// The running live feed; [`LiveFeed::stop`] ends it.
pub struct LiveFeed {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Live>,
}

impl LiveFeed {
    /// Starts sending tick `first` and every later one as it falls due.
    pub fn start(fleet: Arc<Fleet>, target: Target, first: u64) -> LiveFeed {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut live = Live::default();
            let mut k = first;
            while !flag.load(Ordering::Relaxed) {
                let due_ms = fleet.tick_ms(k);
                let now_ms = unix_secs() * 1000;
                if now_ms < due_ms {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
                if now_ms - due_ms > TICK_MS {
                    live.late_ticks += 1;
                }
                let t = std::time::Instant::now();
                match fleet.bodies(k, k + 1, 1) {
                    Ok(bodies) => {
                        let sent = send_all(&target, &bodies, LIVE_SENDERS);
                        live.points += sent.points_acked;
                        live.errors += sent.errors;
                        if live.first_error.is_none() {
                            live.first_error = sent.first_error;
                        }
                    }
                    Err(e) => {
                        live.errors += 1;
                        live.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
                live.max_send_secs = live.max_send_secs.max(t.elapsed().as_secs_f64());
                live.ticks += 1;
                k += 1;
            }
            live
        });
        LiveFeed { stop, handle }
    }

    /// Stops after the tick being sent; what was sent.
    pub fn stop(self) -> Live {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_keeps_series_continuous() {
        let f = Fleet::generate(40, 5, 60).unwrap();
        assert_eq!(f.hosts.len(), 2);
        let idx: Vec<u64> = (0..12).collect();
        // Tick k reads index 0 1 2 3 4 4 3 2 1 0 0 1.
        let want = [0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 0, 1];
        for (&k, &w) in idx.iter().zip(&want) {
            let a = f.value(0, k);
            let b = f.values[w].is_finite().then_some(f.values[w]);
            assert_eq!(a, b, "tick {k}");
        }
        let bodies = f.bodies(0, 5, 10).unwrap();
        assert_eq!(bodies.len(), 1);
        let v: serde_json::Value = serde_json::from_slice(&bodies[0].bytes).unwrap();
        // Every series but those of a host in a gap all five ticks.
        assert!(v["series"].as_array().unwrap().len() >= 20);
    }
}
