//! One ingest run: a fresh server receives every body of a data set over
//! concurrent keep-alive connections, and the run records what it cost the
//! server (wall time, CPU, peak memory) and what the server stored.
//!
//! The order inside a run matters for what the figures mean:
//! 1. CPU of the server and of the bench before the loop;
//! 2. the loop ([`send::send_all`]);
//! 3. CPU after the loop, then the settling (until a second passes with
//!    under 3 % of a core used: deferred flushes and merges), and the CPU it
//!    took;
//! 4. peak RSS (`VmHWM`) *now*, before reading anything back: the exports
//!    that follow allocate on the server and would be counted otherwise;
//! 5. the read-back of every point ([`crate::systems::read_back`]).

use std::time::Duration;

use anyhow::{Result, bail};
use serde::Serialize;
use whippet_intake_bench::payload::DataSet;
use whippet_intake_bench::progress::Log;
use whippet_intake_bench::report::si;
use whippet_intake_bench::send;
use whippet_intake_bench::sys;
use whippet_intake_bench::verify::{Expect, Stored};

use crate::systems::{Running, System};

/// Longest wait for a server to go quiet after the loop.
const SETTLE_MAX: Duration = Duration::from_secs(120);

/// What one ingest run measured.
#[derive(Debug, Clone, Serialize)]
pub struct IngestRun {
    /// The system.
    pub system: System,
    /// The wire format's name.
    pub format: &'static str,
    /// The request path.
    pub path: String,
    /// `Content-Encoding` of the bodies, if any.
    pub encoding: Option<&'static str>,
    /// Requests sent.
    pub requests: usize,
    /// Bytes on the wire.
    pub wire_bytes: u64,
    /// Points sent.
    pub points: u64,
    /// Wall seconds of the loop, from the moment every sender is connected
    /// to the last response.
    pub wall_secs: f64,
    /// Points / wall seconds.
    pub points_per_sec: f64,
    /// Server CPU (`utime + stime`, every thread) during the loop.
    pub server_cpu_secs: f64,
    /// Server CPU seconds per million points, during the loop.
    pub cpu_secs_per_mpoint: f64,
    /// Seconds the server took to go quiet after the loop.
    pub settle_secs: f64,
    /// Server CPU spent while settling.
    pub settle_cpu_secs: f64,
    /// Server CPU seconds per million points, loop and settling.
    pub cpu_secs_per_mpoint_settled: f64,
    /// The bench's own CPU during the loop (the senders).
    pub bench_cpu_secs: f64,
    /// `VmHWM` after settling, before anything is read back.
    pub peak_rss_bytes: u64,
    /// `VmRSS` at the same moment.
    pub rss_after_bytes: u64,
    /// Requests answered 2xx.
    pub ok: u64,
    /// Requests that failed (non-2xx after retries, I/O errors).
    pub errors: u64,
    /// 429/503 answers retried.
    pub retries: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Request latency p50 / p99 / max, milliseconds.
    pub latency_ms: [f64; 3],
    /// 1-minute load average before and after the loop.
    pub load_avg: (f64, f64),
    /// What the system holds, read back after the run.
    pub stored: Stored,
}

/// Sends every body of `ds` to `srv`'s intake for its format (with the
/// keys), measures, reads back, and fails when the system stored less or
/// other than the data set.
pub fn run(
    srv: &Running,
    ds: &DataSet,
    expect: &Expect<'_>,
    senders: usize,
    hz: f64,
    log: &Log,
) -> Result<IngestRun> {
    let pid = srv.server.pid();
    let target = srv.intake(&ds.cut)?;
    log.say(format!(
        "{}: sending {} requests ({}, {} on the wire) over {senders} connections to {}",
        srv.system.name(),
        ds.bodies.len(),
        ds.cut.format.name(),
        whippet_intake_bench::report::bytes(ds.wire_bytes),
        target.path,
    ));
    let load_before = sys::load_avg_1m();
    let cpu0 = sys::cpu_secs(&pid, hz).unwrap_or(0.0);
    let bench0 = sys::cpu_secs("self", hz).unwrap_or(0.0);
    let sent = send::send_all(&target, &ds.bodies, senders);
    let cpu1 = sys::cpu_secs(&pid, hz).unwrap_or(cpu0);
    let bench1 = sys::cpu_secs("self", hz).unwrap_or(bench0);
    let load_after = sys::load_avg_1m();
    let settle_secs = sys::settle(&pid, hz, SETTLE_MAX);
    let cpu2 = sys::cpu_secs(&pid, hz).unwrap_or(cpu1);
    let mem = sys::mem(&pid);
    let mpoints = ds.total_points as f64 / 1e6;
    let run = IngestRun {
        system: srv.system,
        format: ds.cut.format.name(),
        path: target.path.clone(),
        encoding: ds.cut.encoding.header(),
        requests: ds.bodies.len(),
        wire_bytes: ds.wire_bytes,
        points: ds.total_points,
        wall_secs: sent.wall_secs,
        points_per_sec: ds.total_points as f64 / sent.wall_secs,
        server_cpu_secs: cpu1 - cpu0,
        cpu_secs_per_mpoint: (cpu1 - cpu0) / mpoints,
        settle_secs,
        settle_cpu_secs: cpu2 - cpu1,
        cpu_secs_per_mpoint_settled: (cpu2 - cpu0) / mpoints,
        bench_cpu_secs: bench1 - bench0,
        peak_rss_bytes: mem.peak,
        rss_after_bytes: mem.rss,
        ok: sent.ok,
        errors: sent.errors,
        retries: sent.retries,
        first_error: sent.first_error.clone(),
        latency_ms: [
            sent.latency_p50_ms,
            sent.latency_p99_ms,
            sent.latency_max_ms,
        ],
        load_avg: (load_before, load_after),
        stored: Stored::default(),
    };
    log.say(format!(
        "{}: {}points/s, {:.3} CPU s per M points, peak RSS {}, {} errors, {} retries; settled in {settle_secs:.1} s",
        srv.system.name(),
        si(run.points_per_sec),
        run.cpu_secs_per_mpoint,
        whippet_intake_bench::report::bytes(run.peak_rss_bytes),
        run.errors,
        run.retries
    ));
    if run.errors > 0 {
        bail!(
            "{}: {} of {} requests failed (first: {})",
            srv.system.name(),
            run.errors,
            run.requests,
            run.first_error.unwrap_or_default()
        );
    }
    let mut run = run;
    run.stored = crate::systems::read_back(srv, expect, log)?;
    Ok(run)
}
