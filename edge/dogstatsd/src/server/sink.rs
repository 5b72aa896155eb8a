//! Where the server hands what it receives.

use crate::aggregate::Flush;
use crate::parse::{Event, ServiceCheck};

/// The consumer of a DogStatsD server's output.
///
/// Thread safety: the methods are called from several tasks at once (one
/// receive task per socket calls `event` and `service_check`, the flush task
/// calls `metrics`), hence `Send + Sync`.
///
/// Ownership: every value is handed over; the server keeps no copy. A value
/// the sink cannot store is lost (DogStatsD is fire-and-forget: there is no
/// one to tell), so a sink that can fail should count its failures.
pub trait Sink: Send + Sync + 'static {
    /// One flush: every row of the buckets that closed since the last call,
    /// plus timestamped samples. Called from the flush task on the blocking
    /// thread pool, one call at a time and in flush order, so it may block
    /// (write to storage, fsync); while it runs, later flushes wait (samples
    /// keep being received and aggregated). Never called with an empty
    /// flush.
    fn metrics(&self, flush: Flush);

    /// One event, as soon as it is parsed. Called from a receive task on the
    /// async runtime: it must not block (hand the event to a channel).
    /// `host` is already defaulted to the server's default host.
    fn event(&self, event: Event);

    /// One service check, as soon as it is parsed. Same rules as `event`.
    fn service_check(&self, check: ServiceCheck);
}
