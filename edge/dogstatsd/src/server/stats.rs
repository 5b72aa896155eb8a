//! The server's own counters.
//!
//! Counters are monotonic (derive rates from them) and are updated once per
//! batch of datagrams, not per line. Names follow
//! `whippet.<component>.<what>.<unit>` ([`StatsSnapshot::series`]).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::aggregate::DropReason;
use crate::parse::ParseErrorCode;

/// Live counters of one server. All loads and stores are relaxed: each
/// counter is exact, but two counters read one after the other may belong
/// to slightly different moments.
#[derive(Debug, Default)]
pub struct Stats {
    datagrams: AtomicU64,
    bytes: AtomicU64,
    lines: AtomicU64,
    metrics: AtomicU64,
    events: AtomicU64,
    service_checks: AtomicU64,
    malformed: [AtomicU64; ParseErrorCode::COUNT],
    dropped: [AtomicU64; DropReason::COUNT],
    flushes: AtomicU64,
    flushed_rows: AtomicU64,
    receive_errors: AtomicU64,
}

/// What one batch adds to [`Stats`], counted locally first.
#[derive(Debug, Default, Clone)]
pub(crate) struct BatchCounts {
    pub(crate) datagrams: u64,
    pub(crate) bytes: u64,
    pub(crate) lines: u64,
    pub(crate) metrics: u64,
    pub(crate) events: u64,
    pub(crate) service_checks: u64,
    pub(crate) malformed: [u64; ParseErrorCode::COUNT],
}

impl Stats {
    pub(crate) fn add_batch(&self, b: &BatchCounts) {
        self.datagrams.fetch_add(b.datagrams, Relaxed);
        self.bytes.fetch_add(b.bytes, Relaxed);
        self.lines.fetch_add(b.lines, Relaxed);
        self.metrics.fetch_add(b.metrics, Relaxed);
        self.events.fetch_add(b.events, Relaxed);
        self.service_checks.fetch_add(b.service_checks, Relaxed);
        for (c, &n) in self.malformed.iter().zip(&b.malformed) {
            if n > 0 {
                c.fetch_add(n, Relaxed);
            }
        }
    }

    /// Stores the aggregator's cumulative drop counters.
    pub(crate) fn set_dropped(&self, reason: DropReason, total: u64) {
        self.dropped[reason as usize].store(total, Relaxed);
    }

    pub(crate) fn add_flush(&self, rows: usize) {
        self.flushes.fetch_add(1, Relaxed);
        self.flushed_rows.fetch_add(rows as u64, Relaxed);
    }

    pub(crate) fn add_receive_error(&self) {
        self.receive_errors.fetch_add(1, Relaxed);
    }

    /// Datagrams received.
    pub fn datagrams(&self) -> u64 {
        self.datagrams.load(Relaxed)
    }
    /// Non-empty lines (messages) received.
    pub fn lines(&self) -> u64 {
        self.lines.load(Relaxed)
    }
    /// Metric messages parsed (a multi-value message counts once).
    pub fn metrics(&self) -> u64 {
        self.metrics.load(Relaxed)
    }
    /// Malformed lines with this code.
    pub fn malformed(&self, code: ParseErrorCode) -> u64 {
        self.malformed[code as usize].load(Relaxed)
    }
    /// Malformed lines, all codes.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.iter().map(|c| c.load(Relaxed)).sum()
    }
    /// Samples the aggregator dropped for this reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize].load(Relaxed)
    }
    /// Samples the aggregator dropped, all reasons.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            datagrams: self.datagrams(),
            bytes: self.bytes.load(Relaxed),
            lines: self.lines(),
            metrics: self.metrics(),
            events: self.events.load(Relaxed),
            service_checks: self.service_checks.load(Relaxed),
            malformed: std::array::from_fn(|i| self.malformed[i].load(Relaxed)),
            dropped: std::array::from_fn(|i| self.dropped[i].load(Relaxed)),
            flushes: self.flushes.load(Relaxed),
            flushed_rows: self.flushed_rows.load(Relaxed),
            receive_errors: self.receive_errors.load(Relaxed),
        }
    }
}

/// A plain copy of [`Stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Datagrams received.
    pub datagrams: u64,
    /// Bytes received (datagram payloads).
    pub bytes: u64,
    /// Non-empty lines received.
    pub lines: u64,
    /// Metric messages parsed.
    pub metrics: u64,
    /// Events parsed.
    pub events: u64,
    /// Service checks parsed.
    pub service_checks: u64,
    /// Malformed lines, indexed by `ParseErrorCode as usize`.
    pub malformed: [u64; ParseErrorCode::COUNT],
    /// Dropped samples, indexed by `DropReason as usize`.
    pub dropped: [u64; DropReason::COUNT],
    /// Non-empty flushes handed to the sink.
    pub flushes: u64,
    /// Rows (float and sketch) handed to the sink.
    pub flushed_rows: u64,
    /// Socket receive errors other than "would block".
    pub receive_errors: u64,
}

impl StatsSnapshot {
    /// Every counter as (metric name, tags, value), named
    /// `whippet.dogstatsd.<what>.<unit>`; malformed lines carry a
    /// `code:<code>` tag and drops a `reason:<reason>` tag.
    pub fn series(&self) -> Vec<(&'static str, Vec<String>, u64)> {
        let mut out = vec![
            ("whippet.dogstatsd.datagrams.count", vec![], self.datagrams),
            ("whippet.dogstatsd.received.bytes", vec![], self.bytes),
            ("whippet.dogstatsd.lines.count", vec![], self.lines),
            ("whippet.dogstatsd.metrics.count", vec![], self.metrics),
            ("whippet.dogstatsd.events.count", vec![], self.events),
            (
                "whippet.dogstatsd.service_checks.count",
                vec![],
                self.service_checks,
            ),
            ("whippet.dogstatsd.flushes.count", vec![], self.flushes),
            (
                "whippet.dogstatsd.flushed_rows.count",
                vec![],
                self.flushed_rows,
            ),
            (
                "whippet.dogstatsd.receive_errors.count",
                vec![],
                self.receive_errors,
            ),
        ];
        for code in ParseErrorCode::ALL {
            out.push((
                "whippet.dogstatsd.malformed.count",
                vec![format!("code:{}", code.as_str())],
                self.malformed[code as usize],
            ));
        }
        for reason in DropReason::ALL {
            out.push((
                "whippet.dogstatsd.dropped.count",
                vec![format!("reason:{}", reason.as_str())],
                self.dropped[reason as usize],
            ));
        }
        out
    }
}
