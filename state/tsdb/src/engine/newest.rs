//! The time of each series' newest point, found without decoding a point:
//! a head knows each series' newest timestamp, and a part's series table
//! holds the time range of every chunk. What a "last reported" column
//! needs (the hosts list), at the cost of a walk over series tables.
//!
//! # What it must never do
//! Take a lock for longer than a lookup per asked series in the active
//! head (the write lock, which blocks appends), or see another org's
//! points: heads hold every org's series, so ids are checked against the
//! catalog first.

use super::Engine;
use crate::head::HeadSeries;
use crate::ids::{OrgId, SeriesId};
use crate::time::PartitionId;

impl Engine {
    /// For each of `ids`, the timestamp (ms) of its newest point at or
    /// after `since`, or `None` when it has none there. A series of another
    /// org, or unknown, is `None`; points older than the org's retention
    /// are never seen, as with [`Engine::read`]. Ids may come in any order,
    /// but sorted ascending is fastest (part tables are walked in id order).
    ///
    /// Cost: one lookup per series in each head, then the org's partitions
    /// from the newest back to `since`'s, each part's series table walked
    /// once; a series stops being looked for once it has a point in a
    /// partition already visited (older partitions cannot beat it), so a
    /// fleet that reports today reads only today's tables.
    pub fn newest_points(&self, org: OrgId, ids: &[SeriesId], since: i64) -> Vec<Option<i64>> {
        let inner = &self.inner;
        let oldest = inner
            .config
            .clock
            .now_ms()
            .saturating_sub(inner.config.retention_for(org));
        let since = since.max(oldest);
        let mut best: Vec<Option<i64>> = vec![None; ids.len()];
        // Indexes into `ids` of the org's series, sorted by id.
        let mut pending: Vec<usize> = {
            let reg = inner.registry.read();
            (0..ids.len())
                .filter(|&i| reg.catalog.org_of(ids[i]) == Some(org))
                .collect()
        };
        pending.sort_by_key(|&i| ids[i]);
        let seen = |best: &mut Option<i64>, t: Option<i64>| {
            if let Some(t) = t.filter(|&t| t >= since) {
                *best = (*best).max(Some(t));
            }
        };
        // One snapshot of the heads and parts, as `read` takes it: the
        // parts' read guard is held while the frozen heads are copied, so a
        // flush cannot move a head into parts between the two copies.
        let (parts, frozen) = {
            let w = inner.write.lock();
            if w.head_range.is_some_and(|(_, hi)| hi >= since) {
                for &i in &pending {
                    seen(
                        &mut best[i],
                        w.head.get(ids[i]).and_then(HeadSeries::newest),
                    );
                }
            }
            let parts = inner.parts.read();
            let frozen = inner.frozen.read().clone();
            (parts.clone(), frozen)
        };
        for f in &frozen {
            for &i in &pending {
                seen(
                    &mut best[i],
                    f.head.get(ids[i]).and_then(HeadSeries::newest),
                );
            }
        }
        let partitions = parts.range((org, PartitionId::of(since))..=(org, PartitionId(i64::MAX)));
        for ((_, pid), list) in partitions.rev() {
            if pending.is_empty() {
                break;
            }
            for p in list.iter().filter(|p| p.meta().max_ts >= since) {
                let mut cursor = 0;
                for &i in &pending {
                    let newest = p
                        .chunks_from(ids[i], since, i64::MAX, &mut cursor)
                        .map(|c| c.max_ts)
                        .max();
                    seen(&mut best[i], newest);
                }
            }
            // Older partitions only hold points before this one's start.
            pending.retain(|&i| best[i].is_none_or(|t| t < pid.start_ms()));
        }
        best
    }
}
