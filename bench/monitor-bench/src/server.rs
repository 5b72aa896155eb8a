//! `whippet serve` as the monitor bench runs it: intake-bench's server (a
//! fresh data directory, a free local port, known keys, self-monitoring
//! writes and DogStatsD off) with the two settings this bench needs: the
//! monitor cadence (`WHIPPET_MONITOR_INTERVAL_SECS`) and a log filter that
//! prints one debug line per monitor round
//! (`whippet::alerting::schedule=debug`, which carries the round's count of
//! distinct metric evaluations; nothing else in the server says it), and
//! the reading of those lines ([`logged_rounds`]).

use std::path::Path;

use anyhow::Result;
use whippet_intake_bench::server::{Keys, Server, start_whippet_with};

/// The log filter: the server's default (`info`) plus the scheduler's
/// per-round debug line (`monitor round stats=RoundStats { monitors, evaluations, ... }`).
const LOG_FILTER: &str = "info,whippet::alerting::schedule=debug";

/// Starts `bin serve` with monitor rounds every `interval_secs`; returns
/// once `GET /api/v1/validate` answers 200.
pub fn start(bin: &Path, keys: &Keys, interval_secs: u64) -> Result<Server> {
    start_whippet_with(
        bin,
        keys,
        &[
            ("WHIPPET_MONITOR_INTERVAL_SECS", interval_secs.to_string()),
            ("WHIPPET_LOG", LOG_FILTER.to_owned()),
        ],
    )
}

/// The distinct metric evaluations of each round the server logged at
/// debug level, oldest first (`... monitor round stats=RoundStats {
/// monitors: 1000, evaluations: 612, ... }`): (monitors, evaluations).
pub fn logged_rounds(log: &str) -> Vec<(u64, u64)> {
    let field = |line: &str, name: &str| -> Option<u64> {
        let rest = &line[line.find(name)? + name.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    log.lines()
        .filter(|l| l.contains("monitor round") && l.contains("RoundStats"))
        .filter_map(|l| Some((field(l, "monitors: ")?, field(l, "evaluations: ")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_lines_are_read() {
        let log = "2026-11-27T10:00:00Z  INFO whippet::server: listening\n\
                   2026-11-27T10:01:00Z DEBUG whippet::alerting::schedule: monitor round stats=RoundStats { monitors: 1000, evaluations: 612, transitions: 3, notifications: 0 } seconds=0.8\n";
        assert_eq!(logged_rounds(log), vec![(1000, 612)]);
    }
}
