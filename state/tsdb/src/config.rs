//! Engine configuration. The doc comment of each field is its reference
//! documentation; [`EngineConfig::default`] is the one place that holds the
//! defaults, and [`EngineConfig::validate`] checks a configuration without
//! touching the file system.

use std::collections::HashMap;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ids::OrgId;
use crate::time::{Clock, DAY_MS, parse_duration_ms};

/// When the write-ahead log is flushed to stable storage.
///
/// Every acknowledged write has been handed to the operating system (one
/// `write(2)` per batch) before the call returns, so it survives the process
/// being killed (`kill -9`) whatever the policy. The policy only decides what
/// survives a power loss or kernel crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` every `n` milliseconds from a background thread. A power
    /// loss can lose the writes of the last interval: this is the power-loss
    /// window. Default: 1 s.
    IntervalMs(u64),
    /// `fdatasync` before each write is acknowledged. Concurrent writers share
    /// one sync (group commit), so the cost is one sync per batch of batches.
    Always,
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::IntervalMs(1_000)
    }
}

impl FromStr for FsyncPolicy {
    type Err = String;
    /// `always`, or a duration such as `1s` or `250ms`.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("always") {
            return Ok(FsyncPolicy::Always);
        }
        let ms = parse_duration_ms(s)?;
        if ms <= 0 {
            return Err(format!("fsync interval must be positive, got {s:?}"));
        }
        Ok(FsyncPolicy::IntervalMs(ms as u64))
    }
}

/// Configuration of one storage engine instance.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long points are kept, in milliseconds. Points older than
    /// `now - retention_ms` are rejected at write and dropped, as whole day
    /// partitions, by the retention task. Default: 15 months (`15mo`, with a
    /// month counted as 31 days), Datadog's retention for metrics.
    pub retention_ms: i64,
    /// Per-org overrides of `retention_ms`.
    pub org_retention_ms: HashMap<OrgId, i64>,
    /// How far ahead of the clock a timestamp may be, in milliseconds. Later
    /// points are rejected. Default: 10 minutes, which covers clock skew
    /// between hosts without letting a wrong clock write into next year.
    pub max_future_ms: i64,
    /// When the WAL is synced to disk; see [`FsyncPolicy`].
    pub fsync: FsyncPolicy,
    /// Most active series one org may have; a write that would create or
    /// reactivate one more is rejected with [`Error::SeriesLimit`]. Default:
    /// 1 000 000, about 1.5 GB of memory at the engine's target cost per series.
    pub max_active_series_per_org: u64,
    /// A series is active while it has been written within this many
    /// milliseconds. Default: 1 hour, so a host that reports once a minute or a
    /// batch job that writes hourly does not flap in and out of the count.
    pub active_series_window_ms: i64,
    /// The head (in-memory part) is cut to on-disk parts at least this often,
    /// in milliseconds. Shorter means a shorter WAL replay after a crash and
    /// less memory per series; longer means fewer small parts to merge.
    /// Default: 60 s: replay then takes well under a second, and the head of a
    /// series scraped every 10 s holds about six raw points.
    pub head_cut_interval_ms: u64,
    /// The head is also cut when its points take this many bytes, so a
    /// burst (a backfill, a fleet catching up after an outage) cannot grow
    /// memory without bound. The series map (about 100 bytes a series) is
    /// not counted: a cut does not shrink it, since the next head receives
    /// the same series, and the active-series cap bounds it. While the
    /// flusher writes one cut head, the next fills, so a burst holds about
    /// twice this (up to five times when writes outrun the flusher; see
    /// `MAX_FROZEN_HEADS`). Default: 16 MiB, about eight million points at
    /// the head's two bytes per point: 80 points for each of 100 000 series,
    /// enough that a part cut by size compresses well, while a burst costs
    /// tens of MiB, not hundreds.
    pub head_max_bytes: usize,
    /// A WAL segment is closed and a new one started when it reaches this
    /// size. Default: 64 MiB: large enough that rotation is rare, small enough
    /// that a segment is freed soon after its data reaches a part.
    pub wal_segment_bytes: u64,
    /// Bytes of decoded part chunks kept for aggregations (see
    /// `engine/chunk_cache.rs`); 0 turns the cache off. Default: 256 MiB,
    /// the decoded columns of about 30 M points: a metric of 5 000 series
    /// over two days, or every series of a 100 000-series fleet over the
    /// last two hours, so the widgets of a board refresh without decoding.
    pub chunk_cache_bytes: usize,
    /// Run the background merge, retention and cut tasks. Tests that drive
    /// cuts and merges by hand turn this off. Default: on.
    pub background_tasks: bool,
    /// Where "now" comes from.
    pub clock: Clock,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            retention_ms: 15 * 31 * DAY_MS,
            org_retention_ms: HashMap::new(),
            max_future_ms: 10 * 60 * 1000,
            fsync: FsyncPolicy::default(),
            max_active_series_per_org: 1_000_000,
            active_series_window_ms: 3_600_000,
            head_cut_interval_ms: 60_000,
            head_max_bytes: 16 << 20,
            wal_segment_bytes: 64 << 20,
            chunk_cache_bytes: 256 << 20,
            background_tasks: true,
            clock: Clock::System,
        }
    }
}

impl EngineConfig {
    /// Checks every value without touching the system.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.retention_ms <= 0 {
            return bad(format!(
                "retention must be positive, got {} ms",
                self.retention_ms
            ));
        }
        for (org, r) in &self.org_retention_ms {
            if *r <= 0 {
                return bad(format!(
                    "retention of org {org} must be positive, got {r} ms"
                ));
            }
        }
        if self.max_future_ms < 0 {
            return bad(format!(
                "max_future_ms must not be negative, got {}",
                self.max_future_ms
            ));
        }
        if let FsyncPolicy::IntervalMs(0) = self.fsync {
            return bad("fsync interval must be positive".into());
        }
        if self.max_active_series_per_org == 0 {
            return bad("max_active_series_per_org must be at least 1".into());
        }
        if self.active_series_window_ms <= 0 {
            return bad("active_series_window_ms must be positive".into());
        }
        if self.head_cut_interval_ms == 0 {
            return bad("head_cut_interval_ms must be positive".into());
        }
        if self.head_max_bytes < 1 << 20 {
            return bad(format!(
                "head_max_bytes must be at least 1 MiB, got {}",
                self.head_max_bytes
            ));
        }
        if self.wal_segment_bytes < 1 << 20 {
            return bad(format!(
                "wal_segment_bytes must be at least 1 MiB, got {}",
                self.wal_segment_bytes
            ));
        }
        Ok(())
    }

    /// The retention that applies to `org`, in milliseconds.
    pub fn retention_for(&self, org: OrgId) -> i64 {
        self.org_retention_ms
            .get(&org)
            .copied()
            .unwrap_or(self.retention_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsync_policy_parses() {
        assert_eq!("always".parse(), Ok(FsyncPolicy::Always));
        assert_eq!("1s".parse(), Ok(FsyncPolicy::IntervalMs(1000)));
        assert!("0s".parse::<FsyncPolicy>().is_err());
        assert!("sometimes".parse::<FsyncPolicy>().is_err());
    }

    #[test]
    fn defaults_validate_and_bad_values_do_not() {
        assert!(EngineConfig::default().validate().is_ok());
        let c = EngineConfig {
            retention_ms: 0,
            ..EngineConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("retention"));
        let mut c = EngineConfig::default();
        c.org_retention_ms.insert(OrgId(2), -5);
        assert!(c.validate().is_err());
        assert_eq!(
            EngineConfig::default().retention_for(OrgId(9)),
            15 * 31 * DAY_MS
        );
    }
}
