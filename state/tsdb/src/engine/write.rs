//! The write path: resolving series, validating points, appending to the WAL
//! and the head, limits and backpressure.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::{Engine, Inner, Registry, flush};
use crate::config::FsyncPolicy;
use crate::error::{Error, RejectReason, Result};
use crate::ids::{OrgId, SeriesId};
use crate::point::{FloatPoint, SketchPoint};
use crate::series::{MetricType, SeriesKey, ValueKind};
use crate::wal::frame::put_record;
use crate::wal::record;

/// Most frozen heads waiting to be written before writers are made to wait.
/// Two would already mean the flusher is a full cut behind; four leaves room
/// for a burst while bounding memory to a few head budgets.
pub const MAX_FROZEN_HEADS: usize = 4;

/// Most parts one partition may hold before writers are made to wait for
/// merges. The merge policy keeps a partition far below this (tens of parts
/// in the worst steady state); reaching it means merges are falling behind,
/// and slowing intake is better than letting reads fan out over hundreds of
/// files.
pub const MAX_PARTS_PER_PARTITION: usize = 256;

/// Points per WAL record. Keeps each record well under the 32 MiB record
/// limit (a float point takes at most 28 bytes).
const POINTS_PER_RECORD: usize = 500_000;

thread_local! {
    static WAL_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The result of an append: how many points were stored and which were not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteOutcome {
    /// Points stored (acknowledged).
    pub accepted: usize,
    /// Points not stored: their index in the input and why.
    pub rejected: Vec<(usize, RejectReason)>,
}

impl Engine {
    /// Returns the id of the series `key`, creating it if needed, and records
    /// `mtype` as its metric type. New series count against the org's
    /// active-series cap.
    pub fn resolve(&self, key: &SeriesKey, mtype: MetricType) -> Result<SeriesId> {
        if mtype.value_kind() != key.kind {
            return Err(Error::InvalidSeries(format!(
                "metric type {} does not store {:?} values",
                mtype.name(),
                key.kind
            )));
        }
        let inner = &self.inner;
        {
            let reg = inner.registry.read();
            if let Some(id) = reg.catalog.lookup(key)
                && reg.catalog.get(id).is_some_and(|(_, t)| t == mtype)
            {
                return Ok(id);
            }
        }
        let mut reg = inner.registry.write();
        let mut wal_bytes = Vec::new();
        let id = match reg.catalog.lookup(key) {
            Some(id) => {
                reg.catalog.set_type(id, mtype, &mut wal_bytes)?;
                id
            }
            None => {
                let limit = inner.config.max_active_series_per_org;
                let count = reg
                    .active
                    .get(&key.org)
                    .map_or(0, |c| c.load(Ordering::Relaxed));
                if count >= limit {
                    return Err(Error::SeriesLimit {
                        org: key.org,
                        limit,
                    });
                }
                let id = reg.catalog.create(key, mtype, &mut wal_bytes)?;
                let Registry {
                    catalog,
                    index,
                    last_write_s,
                    active,
                } = &mut *reg;
                let (e, _) = catalog.get(id).expect("just created");
                let (metric, tags) = (e.metric, e.tags.clone());
                index.add(catalog, id, key.org, metric, &tags);
                let now_s = now_secs(inner);
                while last_write_s.len() < id.0 as usize {
                    last_write_s.push(AtomicU32::new(0));
                }
                last_write_s[id.0 as usize - 1].store(now_s, Ordering::Relaxed);
                active
                    .entry(key.org)
                    .or_insert_with(|| AtomicU64::new(0))
                    .fetch_add(1, Ordering::Relaxed);
                id
            }
        };
        if !wal_bytes.is_empty() {
            let _w = inner.write.lock();
            inner.wal.append(&wal_bytes)?;
        }
        Ok(id)
    }

    /// Records `mtype` as the metric type of each series whose recorded type
    /// differs, as [`Engine::resolve`] does for a key it finds: for callers
    /// that keep the ids of keys they resolved before instead of resolving
    /// them again. That is sound because an id names the same key for as
    /// long as the data directory lives: the catalog never drops an entry
    /// nor reuses an id, even after retention removed every point. One read
    /// lock for the whole batch when every type is already right (the
    /// usual case).
    pub fn ensure_types(&self, series: &[(SeriesId, MetricType)]) -> Result<()> {
        let inner = &self.inner;
        let stale: Vec<(SeriesId, MetricType)> = {
            let reg = inner.registry.read();
            series
                .iter()
                .filter(|&&(id, t)| reg.catalog.get(id).is_some_and(|(_, have)| have != t))
                .copied()
                .collect()
        };
        if stale.is_empty() {
            return Ok(());
        }
        let mut reg = inner.registry.write();
        let mut wal_bytes = Vec::new();
        for (id, t) in stale {
            if reg.catalog.get(id).is_some_and(|(_, have)| have != t) {
                reg.catalog.set_type(id, t, &mut wal_bytes)?;
            }
        }
        if !wal_bytes.is_empty() {
            let _w = inner.write.lock();
            inner.wal.append(&wal_bytes)?;
        }
        Ok(())
    }

    /// The key of a series.
    pub fn series_key(&self, id: SeriesId) -> Option<SeriesKey> {
        self.inner.registry.read().catalog.key(id)
    }

    /// The metric type of a series.
    pub fn series_type(&self, id: SeriesId) -> Option<MetricType> {
        self.inner.registry.read().catalog.get(id).map(|(_, t)| t)
    }

    /// Stores float points. Points that break a rule are skipped and reported
    /// in [`WriteOutcome::rejected`]; the others are acknowledged when this
    /// returns `Ok` (in the WAL, and synced under `FsyncPolicy::Always`).
    /// Points may be in any order, from any time inside the retention.
    pub fn append_floats(&self, points: &[FloatPoint]) -> Result<WriteOutcome> {
        let rejected = validate(
            &self.inner,
            points.iter().map(|p| (p.series, p.ts)),
            ValueKind::Float,
        );
        let kept: Vec<FloatPoint>;
        let points = if rejected.is_empty() {
            points
        } else {
            let mut bad = rejected.iter().map(|r| r.0).peekable();
            kept = points
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    if bad.peek() == Some(i) {
                        bad.next();
                        false
                    } else {
                        true
                    }
                })
                .map(|(_, p)| *p)
                .collect();
            &kept
        };
        if !points.is_empty() {
            WAL_BUF.with(|b| {
                let mut buf = b.borrow_mut();
                buf.clear();
                for chunk in points.chunks(POINTS_PER_RECORD) {
                    put_record(&mut buf, |out| record::put_floats(out, chunk));
                }
                let range = time_range(points.iter().map(|p| p.ts));
                commit(&self.inner, &buf, range, |head| {
                    for run in points.chunk_by(|a, b| a.series == b.series) {
                        head.push_floats(run[0].series, run.iter().map(|p| (p.ts, p.value)));
                    }
                })
            })?;
        }
        Ok(self.outcome(points.len(), rejected))
    }

    /// Stores sketch points; see [`Engine::append_floats`].
    pub fn append_sketches(&self, points: &[SketchPoint]) -> Result<WriteOutcome> {
        let rejected = validate(
            &self.inner,
            points.iter().map(|p| (p.series, p.ts)),
            ValueKind::Sketch,
        );
        let keep: Vec<&SketchPoint> = {
            let mut bad = rejected.iter().map(|r| r.0).peekable();
            points
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    if bad.peek() == Some(i) {
                        bad.next();
                        false
                    } else {
                        true
                    }
                })
                .map(|(_, p)| p)
                .collect()
        };
        if !keep.is_empty() {
            let mut buf = Vec::new();
            for chunk in keep.chunks(POINTS_PER_RECORD / 10) {
                put_record(&mut buf, |out| {
                    record::put_sketches(out, chunk.iter().copied())
                });
            }
            let range = time_range(keep.iter().map(|p| p.ts));
            commit(&self.inner, &buf, range, |head| {
                for p in &keep {
                    head.push_sketch(p.series, p.ts, &p.sketch);
                }
            })?;
        }
        Ok(self.outcome(keep.len(), rejected))
    }

    fn outcome(&self, accepted: usize, rejected: Vec<(usize, RejectReason)>) -> WriteOutcome {
        let s = &self.inner.stats;
        s.points_written
            .fetch_add(accepted as u64, Ordering::Relaxed);
        s.points_rejected
            .fetch_add(rejected.len() as u64, Ordering::Relaxed);
        WriteOutcome { accepted, rejected }
    }
}

fn now_secs(inner: &Inner) -> u32 {
    (inner.config.clock.now_ms().max(0) / 1000).clamp(1, u32::MAX as i64) as u32
}

/// Checks every point against the catalog, the time bounds and the active
/// series cap. Returns the rejected points in input order.
fn validate(
    inner: &Inner,
    points: impl Iterator<Item = (SeriesId, i64)>,
    kind: ValueKind,
) -> Vec<(usize, RejectReason)> {
    let cfg = &inner.config;
    let now = cfg.clock.now_ms();
    let now_s = now_secs(inner);
    let window_s = (cfg.active_series_window_ms / 1000).max(1) as u32;
    let newest_allowed = now.saturating_add(cfg.max_future_ms);
    let reg = inner.registry.read();
    let mut rejected = Vec::new();
    // Per-series checks run once per run of points of the same series.
    let mut last: Option<(SeriesId, Result<i64, RejectReason>)> = None;
    for (i, (id, ts)) in points.enumerate() {
        let verdict = match &last {
            Some((lid, v)) if *lid == id => v.clone(),
            _ => {
                let v = check_series(&reg, inner, id, kind, now, now_s, window_s);
                last = Some((id, v.clone()));
                v
            }
        };
        let reason = match verdict {
            Err(r) => Some(r),
            Ok(oldest_allowed) if ts < oldest_allowed => {
                Some(RejectReason::TooOld { ts, oldest_allowed })
            }
            Ok(_) if ts > newest_allowed => {
                Some(RejectReason::TooFarInFuture { ts, newest_allowed })
            }
            Ok(_) => None,
        };
        if let Some(r) = reason {
            rejected.push((i, r));
        }
    }
    rejected
}

/// Returns the oldest timestamp the series accepts, or why it accepts none.
fn check_series(
    reg: &Registry,
    inner: &Inner,
    id: SeriesId,
    kind: ValueKind,
    now: i64,
    now_s: u32,
    window_s: u32,
) -> Result<i64, RejectReason> {
    let Some((entry, _)) = reg.catalog.get(id) else {
        return Err(RejectReason::UnknownSeries(id));
    };
    if entry.kind != kind {
        return Err(RejectReason::WrongKind(id));
    }
    let org = entry.org;
    if let Some(slot) = reg.last_write_s.get(id.0 as usize - 1) {
        let prev = slot.load(Ordering::Relaxed);
        if prev == 0 || now_s.saturating_sub(prev) > window_s {
            let limit = inner.config.max_active_series_per_org;
            if let Some(counter) = reg.active.get(&org) {
                if counter.load(Ordering::Relaxed) >= limit {
                    return Err(RejectReason::SeriesLimit { org, limit });
                }
                counter.fetch_add(1, Ordering::Relaxed);
            }
            slot.store(now_s, Ordering::Relaxed);
        } else if prev != now_s {
            slot.store(now_s, Ordering::Relaxed);
        }
    }
    Ok(now.saturating_sub(inner.config.retention_for(org)))
}

/// Applies `apply` to the head and appends `wal_bytes` to the WAL, in the
/// same order for every writer, then waits for durability and backpressure
/// as configured. `range` is the smallest and largest timestamp `apply`
/// writes.
///
/// The write lock is held for the head's part only: the WAL's place is
/// taken before it is released (hand over hand), and the `write(2)` runs
/// after, while the next writer fills the head (and then waits for that
/// write before taking its own place). A write batch spends about a
/// third of its time under the lock in that syscall (36 M points of remote
/// write, 2026-11-27), so with two writers the two halves overlap instead of
/// queueing. Because the slot is taken under the write lock, the WAL's order
/// is still the head's order (replay gives "last write wins" the same
/// answer), and a cut, whose WAL rotation needs the slot, waits for the
/// write before it: every record of a frozen head is in the segments before
/// its `wal_before`.
///
/// The head is filled before the WAL is written, so when that write fails
/// the points are in the head without being acknowledged: readers may see
/// them, and a flush stores them, as if a retry had succeeded. Nothing
/// acknowledged can be missing.
fn commit(
    inner: &Inner,
    wal_bytes: &[u8],
    range: Option<(i64, i64)>,
    apply: impl FnOnce(&mut crate::head::Head),
) -> Result<()> {
    let mut w = inner.write.lock();
    // A WAL that failed refuses before the head is touched.
    inner.wal.check_failed()?;
    if w.head.is_empty() {
        w.head_started_ms = inner.config.clock.now_ms();
    }
    apply(&mut w.head);
    w.head_range = match (w.head_range, range) {
        (Some((lo, hi)), Some((a, b))) => Some((lo.min(a), hi.max(b))),
        (r, None) | (None, r) => r,
    };
    // Taken after the head is filled, so filling it overlapped the
    // previous writer's `write(2)`; this waits for that write to end.
    let slot = inner.wal.begin_append()?;
    let lsn = if w.head.point_bytes() >= inner.config.head_max_bytes {
        // The cut rotates the WAL, which needs the slot: write first.
        let lsn = slot.write(wal_bytes)?;
        flush::cut_locked(inner, &mut w)?;
        drop(w);
        inner.wake();
        lsn
    } else {
        drop(w);
        slot.write(wal_bytes)?
    };
    if inner.config.fsync == FsyncPolicy::Always {
        inner.wal.sync_to(lsn)?;
    }
    backpressure(inner);
    Ok(())
}

/// Smallest and largest of `ts`, `None` when empty.
fn time_range(ts: impl Iterator<Item = i64>) -> Option<(i64, i64)> {
    ts.fold(None, |r, t| match r {
        None => Some((t, t)),
        Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
    })
}

/// Makes the caller wait while the flusher or the merger is too far behind.
fn backpressure(inner: &Inner) {
    if !inner.config.background_tasks {
        return;
    }
    let mut waited = false;
    loop {
        let behind = inner.frozen.read().len() >= MAX_FROZEN_HEADS
            || inner.max_parts_in_partition() >= MAX_PARTS_PER_PARTITION;
        if !behind || inner.shutdown.load(Ordering::Relaxed) {
            break;
        }
        if !waited {
            inner
                .stats
                .backpressure_waits
                .fetch_add(1, Ordering::Relaxed);
            waited = true;
        }
        let mut g = inner.signal.lock();
        inner.signal_cv.wait_for(&mut g, Duration::from_millis(50));
    }
}

/// Recounts the active series of every org.
pub(super) fn sweep_active(inner: &Inner) {
    let reg = inner.registry.read();
    let now_s = now_secs(inner);
    let window_s = (inner.config.active_series_window_ms / 1000).max(1) as u32;
    let mut counts: std::collections::HashMap<OrgId, u64> = std::collections::HashMap::new();
    for (id, entry, _) in reg.catalog.iter() {
        let last = reg
            .last_write_s
            .get(id.0 as usize - 1)
            .map_or(0, |s| s.load(Ordering::Relaxed));
        if last != 0 && now_s.saturating_sub(last) <= window_s {
            *counts.entry(entry.org).or_default() += 1;
        }
    }
    for (org, c) in &reg.active {
        c.store(counts.get(org).copied().unwrap_or(0), Ordering::Relaxed);
    }
}
