//! Cutting the head and writing frozen heads as parts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{FrozenHead, Inner, WriteState};
use crate::block::{Part, PartWriter};
use crate::codec::Effort;
use crate::error::Result;
use crate::head::{Head, HeadSeries};
use crate::ids::{OrgId, PartSeq, SeriesId};
use crate::time::PartitionId;

/// Cuts the active head if it holds anything (`force`) or is old enough.
pub(crate) fn cut(inner: &Inner, force: bool) -> Result<bool> {
    let mut w = inner.write.lock();
    if w.head.is_empty() {
        return Ok(false);
    }
    let age = inner.config.clock.now_ms() - w.head_started_ms;
    if !force && age < inner.config.head_cut_interval_ms as i64 {
        return Ok(false);
    }
    cut_locked(inner, &mut w)?;
    drop(w);
    inner.wake();
    Ok(true)
}

/// Freezes the active head: starts a new WAL segment, so every record of
/// the frozen head is in older segments, and hands the head to the flusher.
/// Called with the write lock held (`w`).
pub(crate) fn cut_locked(inner: &Inner, w: &mut WriteState) -> Result<()> {
    if w.head.is_empty() {
        return Ok(());
    }
    let wal_before = inner.wal.rotate()?;
    // The next head most likely receives the same series: give it their
    // room at once rather than growing the map through every doubling.
    let next = Head::with_capacity(w.head.series_count());
    let head = std::mem::replace(&mut w.head, next);
    w.head_started_ms = 0;
    w.head_range = None;
    inner
        .frozen
        .write()
        .push(Arc::new(FrozenHead { head, wal_before }));
    inner.stats.head_cuts.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Writes every frozen head as parts, oldest first, then deletes the WAL
/// segments they came from.
pub(crate) fn flush_frozen(inner: &Inner) -> Result<()> {
    let _g = inner.flush_lock.lock();
    loop {
        let Some(fh) = inner.frozen.read().first().cloned() else {
            return Ok(());
        };
        let seq = PartSeq(inner.next_seq.fetch_add(1, Ordering::SeqCst));
        let parts = write_head(inner, &fh.head, seq)?;
        {
            let mut pm = inner.parts.write();
            let mut map = (**pm).clone();
            for p in parts {
                let key = (p.meta().org, p.meta().partition);
                let list = map.entry(key).or_default();
                list.push(p);
                list.sort_by_key(|p| p.meta().seq_lo);
            }
            let max = map.values().map(Vec::len).max().unwrap_or(0);
            *pm = Arc::new(map);
            let mut fz = inner.frozen.write();
            debug_assert!(Arc::ptr_eq(&fz[0], &fh));
            fz.remove(0);
            inner.max_parts.store(max, Ordering::Relaxed);
        }
        // Definitions of the series in these parts must outlive the segments.
        inner.registry.read().catalog.sync()?;
        inner.wal.remove_before(fh.wal_before)?;
        inner.stats.parts_flushed.fetch_add(1, Ordering::Relaxed);
        inner.wake();
    }
}

/// Writes one part per (org, partition) that `head` touches, all with
/// sequence number `seq`.
fn write_head(inner: &Inner, head: &Head, seq: PartSeq) -> Result<Vec<Arc<Part>>> {
    // Group series by org; within an org, write partitions one at a time so
    // that only one partition's points are decoded at once.
    let mut by_org: BTreeMap<OrgId, Vec<SeriesId>> = BTreeMap::new();
    {
        let reg = inner.registry.read();
        for (id, _) in head.iter() {
            if let Some(org) = reg.catalog.org_of(id) {
                by_org.entry(org).or_default().push(id);
            }
        }
    }
    let now = inner.config.clock.now_ms();
    let mut out = Vec::new();
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    for (org, mut ids) in by_org {
        ids.sort_unstable();
        let oldest = now.saturating_sub(inner.config.retention_for(org));
        // One writer per partition the org's points touch, all open at once:
        // series are visited once, in id order, and each writes its points
        // straight from the decoded buffers into the writers of its days.
        let mut writers: BTreeMap<PartitionId, PartWriter> = BTreeMap::new();
        for id in ids {
            match head.get(id).expect("listed above") {
                HeadSeries::Float(f) => {
                    f.materialize(&mut ts, &mut vals).map_err(|e| {
                        crate::Error::Internal(format!(
                            "head chunk of series {id} does not decode: {e}"
                        ))
                    })?;
                    for (pid, r) in partition_ranges(&ts, oldest) {
                        writer(&mut writers, inner, org, pid, seq)?.add_floats(
                            id,
                            &ts[r.clone()],
                            &vals[r],
                        )?;
                    }
                }
                HeadSeries::Sketch(s) => {
                    let (sts, svals) = s.materialize();
                    for (pid, r) in partition_ranges(&sts, oldest) {
                        writer(&mut writers, inner, org, pid, seq)?.add_sketches(
                            id,
                            &sts[r.clone()],
                            &svals[r],
                        )?;
                    }
                }
            }
        }
        for (_, w) in writers {
            if let Some((path, _)) = w.finish()? {
                out.push(Arc::new(Part::open(&path)?));
            }
        }
    }
    Ok(out)
}

/// The writer of partition `pid`, created on first use.
fn writer<'a>(
    writers: &'a mut BTreeMap<PartitionId, PartWriter>,
    inner: &Inner,
    org: OrgId,
    pid: PartitionId,
    seq: PartSeq,
) -> Result<&'a mut PartWriter> {
    Ok(match writers.entry(pid) {
        std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::btree_map::Entry::Vacant(v) => v.insert(PartWriter::create(
            &inner.blocks_dir,
            org,
            pid,
            seq,
            seq,
            Effort::Fast,
        )?),
    })
}

/// The index range of each partition's points in sorted `ts`, skipping
/// points older than `oldest`.
fn partition_ranges(ts: &[i64], oldest: i64) -> Vec<(PartitionId, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut i = ts.partition_point(|&t| t < oldest);
    while i < ts.len() {
        let pid = PartitionId::of(ts[i]);
        let end = pid.end_ms();
        let j = i + ts[i..].partition_point(|&t| t < end);
        out.push((pid, i..j));
        i = j;
    }
    out
}
