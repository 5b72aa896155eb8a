//! Background merges of parts within a partition, and retention.
//!
//! Parts of a partition are ordered by sequence number, and a merge only
//! combines a contiguous run of them, so "last write wins" survives merges:
//! the output covers the run's sequence range and sits exactly where its
//! inputs were.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Inner, PartMap};
use crate::block::{Part, PartWriter};
use crate::codec::Effort;
use crate::error::{Error, Result};
use crate::ids::{OrgId, SeriesId};
use crate::runs::merge_runs;
use crate::series::ValueKind;
use crate::sketch::Sketch;
use crate::time::PartitionId;

/// Fewest parts a routine merge combines. Merging fewer rewrites data too
/// often for what it saves; four keeps write amplification near log4 of the
/// number of flushes per partition.
pub const MIN_MERGE_PARTS: usize = 4;
/// Most parts one merge combines, which bounds the fan-in (open chunks)
/// and the time a single merge holds the merge lock.
pub const MAX_MERGE_PARTS: usize = 16;
/// Above this many parts a partition is merged even when the sizes are
/// unbalanced: reads fan out over every part, so their number must stay
/// bounded.
pub const MAX_PARTS_BEFORE_FORCED_MERGE: usize = 32;

/// How long after its day ends a partition's fast parts (written by
/// flushes, without pco: see `Effort::Fast`) are re-encoded at full effort.
/// Most flushed parts are merged within minutes, but the last few of a day
/// have nothing left to merge with and would keep their larger encoding.
/// Ten minutes is well past the day's last points reaching a part (the
/// head is cut every minute); points that arrive later for that day make
/// new fast parts, which the next round re-encodes on their own.
pub const SEAL_AFTER_MS: i64 = 10 * 60 * 1000;

/// How many series a merge writes between two releases of the input pages
/// it has read (see `Part::release_pages`). Without them every page of
/// every input stays mapped until the merge ends: in the full intake bench
/// a merge of four parts added 50 MiB of file pages to the peak RSS. 4 096
/// fleet series are a few hundred KiB of each input, and the release is two
/// `madvise` calls per input.
const RELEASE_EVERY_SERIES: usize = 4096;

/// Chooses a contiguous run of parts to merge, given their sizes in
/// sequence order; `None` when no merge is worth doing.
///
/// A run qualifies when it has at least [`MIN_MERGE_PARTS`] parts and no part
/// in it holds more than half the run's bytes (merging a huge part with
/// crumbs would rewrite the huge part for nothing). Among qualifying runs the
/// one with the fewest bytes wins, so small fresh parts are merged first and
/// each byte is rewritten about log(n) times. With too many parts, the
/// cheapest run of [`MAX_MERGE_PARTS`] is merged regardless.
pub fn pick_merge(sizes: &[u64]) -> Option<Range<usize>> {
    let n = sizes.len();
    let mut best: Option<(u64, Range<usize>)> = None;
    for len in MIN_MERGE_PARTS..=MAX_MERGE_PARTS.min(n) {
        for start in 0..=n - len {
            let w = &sizes[start..start + len];
            let sum: u64 = w.iter().sum();
            let max = *w.iter().max().expect("non-empty");
            if max.saturating_mul(2) > sum {
                continue;
            }
            // Prefer fewer bytes; on a tie prefer the longer run.
            if best
                .as_ref()
                .is_none_or(|(b, r)| sum < *b || (sum == *b && len > r.len()))
            {
                best = Some((sum, start..start + len));
            }
        }
    }
    if best.is_none() && n > MAX_PARTS_BEFORE_FORCED_MERGE {
        let len = MAX_MERGE_PARTS;
        best = (0..=n - len)
            .map(|s| (sizes[s..s + len].iter().sum::<u64>(), s..s + len))
            .min_by_key(|(sum, _)| *sum);
    }
    best.map(|(_, r)| r)
}

/// The first run of consecutive fast parts, if any.
pub fn fast_run(fast: &[bool]) -> Option<Range<usize>> {
    let start = fast.iter().position(|&f| f)?;
    let len = fast[start..].iter().take_while(|&&f| f).count();
    Some(start..start + len)
}

/// One round of the merge policy over every partition. Returns merges done.
///
/// Routine rounds merge what [`pick_merge`] picks; in a partition whose
/// day ended [`SEAL_AFTER_MS`] ago with nothing to pick, they re-encode
/// its first run of fast parts (one part alone is rewritten under its own
/// name). `all` merges every partition down to one part at full effort.
pub(super) fn merge_round(inner: &Inner, all: bool) -> Result<usize> {
    let _g = inner.merge_lock.lock();
    let mut done = 0;
    let snapshot: Arc<PartMap> = inner.parts.read().clone();
    let now = inner.config.clock.now_ms();
    for (&(org, pid), list) in snapshot.iter() {
        if inner.shutdown.load(Ordering::Relaxed) && !all {
            break;
        }
        let range = if all {
            (list.len() >= 2 || list.iter().any(|p| p.meta().fast)).then_some(0..list.len())
        } else {
            let sizes: Vec<u64> = list.iter().map(|p| p.meta().file_bytes).collect();
            pick_merge(&sizes).or_else(|| {
                let sealed = pid.end_ms().saturating_add(SEAL_AFTER_MS) <= now;
                let fast: Vec<bool> = list.iter().map(|p| p.meta().fast).collect();
                sealed.then(|| fast_run(&fast)).flatten()
            })
        };
        let Some(r) = range else { continue };
        if all {
            // Merge from the oldest part forward, at most MAX_MERGE_PARTS at a
            // time, until one part is left.
            let mut current: Vec<Arc<Part>> = list.clone();
            while current.len() > 1 || current.first().is_some_and(|p| p.meta().fast) {
                let end = current.len().min(MAX_MERGE_PARTS);
                let merged = merge_parts(inner, org, pid, &current[..end])?;
                current.splice(..end, merged);
                done += 1;
            }
        } else {
            merge_parts(inner, org, pid, &list[r])?;
            done += 1;
        }
    }
    Ok(done)
}

/// Merges until every partition has one part.
pub(super) fn compact_all(inner: &Inner) -> Result<usize> {
    merge_round(inner, true)
}

/// Merges `inputs` (contiguous, in sequence order) of one partition into one
/// part, publishes it in their place and deletes them. Returns the new part
/// (none if every point had expired).
///
/// One input is rewritten: the output has the input's sequence range and
/// so its name, and its rename replaces the input's file (readers keep
/// their mapping of the old file, which stays valid until they drop it).
fn merge_parts(
    inner: &Inner,
    org: OrgId,
    pid: PartitionId,
    inputs: &[Arc<Part>],
) -> Result<Option<Arc<Part>>> {
    let seq_lo = inputs[0].meta().seq_lo;
    let seq_hi = inputs[inputs.len() - 1].meta().seq_hi;
    let oldest = inner
        .config
        .clock
        .now_ms()
        .saturating_sub(inner.config.retention_for(org));
    let mut w = PartWriter::create(&inner.blocks_dir, org, pid, seq_lo, seq_hi, Effort::Best)?;
    // Walk the series of every input in id order (a k-way merge of sorted
    // id lists).
    let mut cursors: Vec<usize> = vec![0; inputs.len()];
    let mut buf = MergeBuffers::default();
    let mut series = 0usize;
    loop {
        let next = inputs
            .iter()
            .zip(&cursors)
            .filter(|(p, c)| **c < p.entry_count())
            .map(|(p, c)| p.entry(*c).series)
            .min();
        let Some(id) = next else { break };
        merge_series(inputs, &mut cursors, id, oldest, &mut buf, &mut w)?;
        series += 1;
        if series.is_multiple_of(RELEASE_EVERY_SERIES) {
            for (p, &c) in inputs.iter().zip(&cursors) {
                p.release_before_entry(c);
            }
        }
    }
    let written = w.finish()?;
    let new_part = match written {
        Some((path, meta)) => {
            inner
                .stats
                .merge_bytes_written
                .fetch_add(meta.file_bytes, Ordering::Relaxed);
            Some(Arc::new(Part::open(&path)?))
        }
        None => None,
    };
    // Publish: replace the inputs by the output.
    {
        let mut pm = inner.parts.write();
        let mut map = (**pm).clone();
        let list = map.entry((org, pid)).or_default();
        let start = list
            .iter()
            .position(|p| Arc::ptr_eq(p, &inputs[0]))
            .ok_or_else(|| Error::Internal("merged parts vanished from their partition".into()))?;
        list.splice(start..start + inputs.len(), new_part.iter().cloned());
        if list.is_empty() {
            map.remove(&(org, pid));
        }
        let max = map.values().map(Vec::len).max().unwrap_or(0);
        *pm = Arc::new(map);
        inner.max_parts.store(max, Ordering::Relaxed);
    }
    for p in inputs {
        if new_part.as_ref().is_some_and(|n| n.path() == p.path()) {
            continue; // rewritten in place
        }
        std::fs::remove_file(p.path()).map_err(|e| Error::io("remove merged part", p.path(), e))?;
    }
    inner.stats.merges.fetch_add(1, Ordering::Relaxed);
    inner.wake();
    Ok(new_part)
}

#[derive(Default)]
struct MergeBuffers {
    runs_ts: Vec<Vec<i64>>,
    runs_f: Vec<Vec<f64>>,
    runs_s: Vec<Vec<Sketch>>,
    ts: Vec<i64>,
    f: Vec<f64>,
    s: Vec<Sketch>,
    out_ts: Vec<i64>,
    out_f: Vec<f64>,
    out_s: Vec<Sketch>,
    scratch: Vec<i64>,
}

/// Reads every chunk of series `id` from the inputs (advancing their
/// cursors), merges them with "last write wins" and writes the result.
fn merge_series(
    inputs: &[Arc<Part>],
    cursors: &mut [usize],
    id: SeriesId,
    oldest: i64,
    b: &mut MergeBuffers,
    w: &mut PartWriter,
) -> Result<()> {
    b.runs_ts.clear();
    b.runs_f.clear();
    b.runs_s.clear();
    let mut kind = None;
    for (p, c) in inputs.iter().zip(cursors.iter_mut()) {
        // All chunks of one series in one part are in time order and
        // disjoint: concatenated, they are one run.
        let (mut rts, mut rf, mut rs) = (Vec::new(), Vec::new(), Vec::new());
        while *c < p.entry_count() && p.entry(*c).series == id {
            let e = p.entry(*c);
            *c += 1;
            let k = p.chunk_kind(&e)?;
            if kind.is_some_and(|x| x != k) {
                return Err(Error::corrupt(
                    p.path(),
                    e.offset,
                    "series has chunks of two value kinds",
                ));
            }
            kind = Some(k);
            match k {
                ValueKind::Float => {
                    p.read_floats(&e, &mut b.ts, &mut b.f, &mut b.scratch)?;
                    rts.extend_from_slice(&b.ts);
                    rf.extend_from_slice(&b.f);
                }
                ValueKind::Sketch => {
                    p.read_sketches(&e, &mut b.ts, &mut b.s)?;
                    rts.extend_from_slice(&b.ts);
                    rs.append(&mut b.s);
                }
            }
        }
        b.runs_ts.push(rts);
        b.runs_f.push(rf);
        b.runs_s.push(rs);
    }
    match kind {
        Some(ValueKind::Float) => {
            let runs: Vec<(&[i64], &[f64])> = b
                .runs_ts
                .iter()
                .zip(&b.runs_f)
                .map(|(t, v)| (&t[..], &v[..]))
                .collect();
            merge_runs(&runs, &mut b.out_ts, &mut b.out_f);
            let from = b.out_ts.partition_point(|&t| t < oldest);
            w.add_floats(id, &b.out_ts[from..], &b.out_f[from..])
        }
        Some(ValueKind::Sketch) => {
            let runs: Vec<(&[i64], &[Sketch])> = b
                .runs_ts
                .iter()
                .zip(&b.runs_s)
                .map(|(t, v)| (&t[..], &v[..]))
                .collect();
            merge_runs(&runs, &mut b.out_ts, &mut b.out_s);
            let from = b.out_ts.partition_point(|&t| t < oldest);
            w.add_sketches(id, &b.out_ts[from..], &b.out_s[from..])
        }
        None => Ok(()),
    }
}

/// Drops every partition that lies wholly before its org's retention.
pub(super) fn enforce_retention(inner: &Inner) -> Result<usize> {
    let _g = inner.merge_lock.lock();
    let now = inner.config.clock.now_ms();
    let expired: Vec<(OrgId, PartitionId)> = inner
        .parts
        .read()
        .keys()
        .filter(|(org, pid)| pid.end_ms() <= now.saturating_sub(inner.config.retention_for(*org)))
        .copied()
        .collect();
    if expired.is_empty() {
        return Ok(0);
    }
    let removed: Vec<Arc<Part>> = {
        let mut pm = inner.parts.write();
        let mut map = (**pm).clone();
        let mut removed = Vec::new();
        for k in &expired {
            removed.extend(map.remove(k).unwrap_or_default());
        }
        let max = map.values().map(Vec::len).max().unwrap_or(0);
        *pm = Arc::new(map);
        inner.max_parts.store(max, Ordering::Relaxed);
        removed
    };
    for p in &removed {
        std::fs::remove_file(p.path())
            .map_err(|e| Error::io("remove expired part", p.path(), e))?;
    }
    for (org, pid) in &expired {
        let dir = crate::block::partition_dir(&inner.blocks_dir, *org, *pid);
        // Also removes parts set aside as corrupt in that partition.
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| Error::io("remove expired partition", &dir, e))?;
        }
        tracing::info!(org = org.0, partition = %pid.dir_name(), "dropped a partition past its retention");
    }
    inner
        .stats
        .partitions_dropped
        .fetch_add(expired.len() as u64, Ordering::Relaxed);
    Ok(expired.len())
}

#[cfg(test)]
mod tests {
    use super::pick_merge;

    #[test]
    fn merge_policy() {
        assert_eq!(pick_merge(&[10, 10, 10]), None, "too few parts");
        assert_eq!(pick_merge(&[10, 10, 10, 10]), Some(0..4));
        assert_eq!(
            pick_merge(&[1000, 10, 10, 10, 10]),
            Some(1..5),
            "the big part is left alone"
        );
        assert_eq!(
            pick_merge(&[1000, 1, 1, 1]),
            None,
            "unbalanced: nothing worth merging"
        );
        let many = vec![1000u64; 40];
        assert_eq!(
            pick_merge(&many),
            Some(0..4),
            "equal parts merge four at a time"
        );
        let mut skewed = vec![1_000_000u64];
        skewed.extend(std::iter::repeat_n(1u64, 2));
        skewed.push(1_000_000);
        skewed.extend(std::iter::repeat_n(1u64, 31));
        let r = pick_merge(&skewed).expect("too many parts forces a merge");
        assert!(r.len() >= 4);
    }
}
