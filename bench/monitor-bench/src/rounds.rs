//! Watching the server's monitor rounds from outside, through its own
//! counters at `GET /metrics`: `whippet_monitors_evaluated_total` (one per
//! monitor per round) and `whippet_monitors_round_seconds_total` (seconds
//! spent in rounds), both bumped once when a round ends.
//!
//! # What it owns
//! [`Watch::poll`] reads both counters and the server's CPU time
//! (`/proc/<pid>/stat`) every [`POLL`]; a rise of the seconds counter is
//! one round ended, whose duration is the rise and whose monitors are the
//! rise of the other counter. The CPU the server spent during the round is
//! its CPU time now minus its CPU time when the round began (now minus the
//! duration), interpolated between samples: rounds and the live intake
//! share the process, and this keeps the intake between rounds out.
//!
//! # What it must never do
//! Time anything itself that the counters give: a round's duration is the
//! server's figure, not the bench's polling.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use whippet_intake_bench::http::Conn;
use whippet_intake_bench::sys::cpu_secs;

/// How often the counters are read. Rounds of a 60 s (or 10 s) cadence
/// last from milliseconds to minutes; 200 ms keeps two round ends from
/// falling into one poll unless rounds run back to back in under 200 ms,
/// and costs the server one small request per poll.
pub const POLL: Duration = Duration::from_millis(200);

/// The Prometheus name of the evaluations counter.
const EVALUATED: &str = "whippet_monitors_evaluated_total";
/// The Prometheus name of the round-seconds counter.
const ROUND_SECONDS: &str = "whippet_monitors_round_seconds_total";

/// One round, as the counters saw it end.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    /// When it ended, seconds since the watch began.
    pub ended_at_secs: f64,
    /// Its duration by the server's counter: the evaluation lag.
    pub secs: f64,
    /// Monitors it evaluated.
    pub monitors: u64,
    /// Server CPU seconds during the round (all threads, intake included
    /// if some arrived meanwhile).
    pub cpu_secs: f64,
}

/// The watch over one server.
pub struct Watch {
    conn: Conn,
    pid: String,
    hz: f64,
    t0: Instant,
    last: Option<(f64, f64)>,
    /// (seconds since t0, server CPU seconds), one per poll.
    cpu: Vec<(f64, f64)>,
    /// Every round seen, oldest first.
    pub rounds: Vec<Round>,
}

/// Reads the two counters from a `/metrics` text (0 when absent: no round
/// has ended yet).
pub fn parse_counters(text: &str) -> (f64, f64) {
    let value = |name: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let (k, v) = l.rsplit_once(' ')?;
                (k == name).then(|| v.trim().parse::<f64>().ok())?
            })
            .unwrap_or(0.0)
    };
    (value(EVALUATED), value(ROUND_SECONDS))
}

impl Watch {
    /// A watch over the server at `addr`, process `pid`.
    pub fn new(addr: SocketAddr, pid: &str, hz: f64) -> Watch {
        Watch {
            conn: Conn::new(addr),
            pid: pid.to_owned(),
            hz,
            t0: Instant::now(),
            last: None,
            cpu: Vec::new(),
            rounds: Vec::new(),
        }
    }

    /// Seconds since the watch began.
    pub fn now(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    /// The server's CPU seconds at `t` (seconds since the watch began),
    /// interpolated between samples.
    fn cpu_at(&self, t: f64) -> f64 {
        let i = self.cpu.partition_point(|&(s, _)| s < t);
        match (i.checked_sub(1).map(|j| self.cpu[j]), self.cpu.get(i)) {
            (Some((t1, c1)), Some(&(t2, c2))) if t2 > t1 => c1 + (c2 - c1) * (t - t1) / (t2 - t1),
            (_, Some(&(_, c))) | (Some((_, c)), None) => c,
            (None, None) => 0.0,
        }
    }

    /// The server's CPU seconds now (last sample).
    pub fn cpu_now(&self) -> f64 {
        self.cpu.last().map_or(0.0, |s| s.1)
    }

    /// Reads the counters once; returns the round that ended since the last
    /// poll, if one did.
    pub fn poll(&mut self) -> Result<Option<Round>> {
        let r = self
            .conn
            .request("GET", "/metrics", &[], b"")
            .context("GET /metrics")?;
        if r.status != 200 {
            bail!("GET /metrics answered {}: {}", r.status, r.body_snippet());
        }
        let (evaluated, seconds) = parse_counters(&String::from_utf8_lossy(&r.body));
        let now = self.now();
        let cpu = cpu_secs(&self.pid, self.hz).context("the server is gone")?;
        self.cpu.push((now, cpu));
        let prev = self.last.replace((evaluated, seconds));
        let Some((pe, ps)) = prev else {
            return Ok(None);
        };
        if seconds <= ps && evaluated <= pe {
            return Ok(None);
        }
        let secs = seconds - ps;
        let round = Round {
            ended_at_secs: now,
            secs,
            monitors: (evaluated - pe).round() as u64,
            cpu_secs: cpu - self.cpu_at(now - secs),
        };
        self.rounds.push(round.clone());
        Ok(Some(round))
    }

    /// Polls until `done` holds for a round that ended, or `max` passes;
    /// the rounds seen meanwhile. `between` runs after every poll (the
    /// alert probes send from there).
    pub fn until(
        &mut self,
        max: Duration,
        mut done: impl FnMut(&Round) -> bool,
        mut between: impl FnMut(&Watch) -> Result<bool>,
    ) -> Result<(Vec<Round>, bool)> {
        let t = Instant::now();
        let mut seen = Vec::new();
        loop {
            let next = Instant::now() + POLL;
            if let Some(r) = self.poll()? {
                seen.push(r.clone());
                if done(&r) {
                    return Ok((seen, true));
                }
            }
            if between(self)? {
                return Ok((seen, true));
            }
            if t.elapsed() >= max {
                return Ok((seen, false));
            }
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_from_the_exposition() {
        let text = "# HELP whippet_monitors_evaluated_total Monitor evaluations.\n\
                    # TYPE whippet_monitors_evaluated_total counter\n\
                    whippet_monitors_evaluated_total 12000\n\
                    whippet_monitors_round_seconds_total 3.25\n\
                    whippet_intake_points_total{endpoint=\"series_v1\"} 5\n";
        assert_eq!(parse_counters(text), (12_000.0, 3.25));
        assert_eq!(parse_counters(""), (0.0, 0.0));
    }
}
