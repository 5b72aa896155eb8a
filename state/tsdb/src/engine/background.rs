//! The background threads: the flusher (cuts the head on time, writes frozen
//! heads as parts, compacts the catalog when its log has grown), the merger
//! (merge policy, retention, active-series sweep) and, under the interval
//! fsync policy, the WAL syncer.
//!
//! Each thread holds only a `Weak` reference to the engine and exits when
//! the engine is dropped or closed.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Inner, catalog_compaction, flush, merge, write};
use crate::config::FsyncPolicy;

/// How often the merger looks for work when nothing wakes it. Short enough
/// that parts from a burst of flushes are merged promptly, long enough that
/// an idle engine costs nothing.
const MERGE_TICK: Duration = Duration::from_secs(1);
/// How often retention and the active-series sweep run. Partitions are whole
/// days and the active window is an hour: a minute is plenty.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);
/// Wait after a failed background step before trying again, so a full disk
/// does not turn into a busy loop of errors.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

pub(super) fn start(inner: &Arc<Inner>) -> Vec<JoinHandle<()>> {
    let mut v = Vec::new();
    let w = Arc::downgrade(inner);
    v.push(spawn("whippet-tsdb-flush", w.clone(), flusher));
    v.push(spawn("whippet-tsdb-merge", w.clone(), merger));
    if let FsyncPolicy::IntervalMs(ms) = inner.config.fsync {
        v.push(spawn("whippet-tsdb-walsync", w, move |inner, _| {
            if let Err(e) = inner.wal.sync_now() {
                tracing::error!(error = %e, "WAL sync failed");
                inner
                    .stats
                    .background_errors
                    .fetch_add(1, Ordering::Relaxed);
            }
            Duration::from_millis(ms)
        }));
    }
    v
}

/// Runs `step` until shutdown; `step` returns how long to wait before the
/// next run (a wake-up signal cuts the wait short).
fn spawn<F>(name: &str, weak: Weak<Inner>, mut step: F) -> JoinHandle<()>
where
    F: FnMut(&Inner, &mut State) -> Duration + Send + 'static,
{
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut state = State {
                last_housekeeping: Instant::now(),
            };
            loop {
                let Some(inner) = weak.upgrade() else { return };
                if inner.shutdown.load(Ordering::SeqCst) {
                    return;
                }
                let wait = step(&inner, &mut state);
                let mut g = inner.signal.lock();
                if inner.shutdown.load(Ordering::SeqCst) {
                    return;
                }
                inner.signal_cv.wait_for(&mut g, wait);
            }
        })
        .expect("spawn a storage engine thread")
}

struct State {
    last_housekeeping: Instant,
}

fn flusher(inner: &Inner, _: &mut State) -> Duration {
    let result = flush::cut(inner, false).and_then(|_| flush::flush_frozen(inner));
    if let Err(e) = result {
        tracing::error!(error = %e, "writing the head to parts failed; will retry");
        inner
            .stats
            .background_errors
            .fetch_add(1, Ordering::Relaxed);
        return ERROR_BACKOFF;
    }
    if let Err(e) = catalog_compaction::compact_catalog(inner, false) {
        tracing::error!(error = %e, "compacting the catalog failed; will retry");
        inner
            .stats
            .background_errors
            .fetch_add(1, Ordering::Relaxed);
        return ERROR_BACKOFF;
    }
    // Wake up in time for the next cut.
    let interval = inner.config.head_cut_interval_ms.clamp(10, 1_000);
    Duration::from_millis(interval)
}

fn merger(inner: &Inner, state: &mut State) -> Duration {
    if let Err(e) = merge::merge_round(inner, false) {
        tracing::error!(error = %e, "merge failed; will retry");
        inner
            .stats
            .background_errors
            .fetch_add(1, Ordering::Relaxed);
        return ERROR_BACKOFF;
    }
    if state.last_housekeeping.elapsed() >= HOUSEKEEPING_EVERY {
        state.last_housekeeping = Instant::now();
        if let Err(e) = merge::enforce_retention(inner) {
            tracing::error!(error = %e, "retention failed; will retry");
            inner
                .stats
                .background_errors
                .fetch_add(1, Ordering::Relaxed);
        }
        write::sweep_active(inner);
    }
    MERGE_TICK
}
