//! Merging sorted runs of points with "last write wins".
//!
//! A series' points for a time range can come from several sources: parts
//! (oldest sequence first), frozen heads, the active head, and within a head
//! the in-order run and the out-of-order buffer. Each source is a *run*:
//! strictly increasing timestamps. Runs are given oldest first; when two runs
//! hold the same timestamp, the later run's value is kept.

/// A run: strictly increasing timestamps and their values.
pub type Run<'a, V> = (&'a [i64], &'a [V]);

/// Merges `runs` (oldest first) into `out_ts`/`out_vals` (cleared first).
pub fn merge_runs<V: Clone>(runs: &[Run<'_, V>], out_ts: &mut Vec<i64>, out_vals: &mut Vec<V>) {
    out_ts.clear();
    out_vals.clear();
    let live: Vec<&Run<'_, V>> = runs.iter().filter(|r| !r.0.is_empty()).collect();
    match live.len() {
        0 => return,
        1 => {
            out_ts.extend_from_slice(live[0].0);
            out_vals.extend_from_slice(live[0].1);
            return;
        }
        _ => {}
    }
    // Fast path: runs that do not overlap in time are concatenated in time
    // order (the usual case: older parts, then the head).
    let mut order: Vec<usize> = (0..live.len()).collect();
    order.sort_by_key(|&i| live[i].0[0]);
    let disjoint = order
        .windows(2)
        .all(|w| *live[w[0]].0.last().expect("non-empty") < live[w[1]].0[0]);
    if disjoint {
        for i in order {
            out_ts.extend_from_slice(live[i].0);
            out_vals.extend_from_slice(live[i].1);
        }
        return;
    }
    // General path: sort by (timestamp, run) and keep the newest run's point.
    let mut all: Vec<(i64, usize, usize)> =
        Vec::with_capacity(live.iter().map(|r| r.0.len()).sum());
    for (ri, r) in live.iter().enumerate() {
        all.extend(r.0.iter().enumerate().map(|(pi, &t)| (t, ri, pi)));
    }
    all.sort_unstable();
    for (i, &(t, ri, pi)) in all.iter().enumerate() {
        if all.get(i + 1).is_some_and(|n| n.0 == t) {
            continue;
        }
        out_ts.push(t);
        out_vals.push(live[ri].1[pi].clone());
    }
}

/// Sorts points given in arrival order by timestamp, keeping the last
/// arrival for each timestamp.
pub fn sort_dedup_last<V>(points: &mut Vec<(i64, V)>) {
    // Stable: equal timestamps stay in arrival order, so the last one wins.
    points.sort_by_key(|p| p.0);
    let mut w = 0;
    for r in 0..points.len() {
        if r + 1 < points.len() && points[r + 1].0 == points[r].0 {
            continue;
        }
        points.swap(w, r);
        w += 1;
    }
    points.truncate(w);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_runs_win_on_equal_timestamps() {
        let a: (&[i64], &[f64]) = (&[1, 2, 3], &[1.0, 2.0, 3.0]);
        let b: (&[i64], &[f64]) = (&[2, 4], &[20.0, 40.0]);
        let (mut t, mut v) = (Vec::new(), Vec::new());
        merge_runs(&[a, b], &mut t, &mut v);
        assert_eq!(t, [1, 2, 3, 4]);
        assert_eq!(v, [1.0, 20.0, 3.0, 40.0]);
        merge_runs(&[b, a], &mut t, &mut v);
        assert_eq!(v, [1.0, 2.0, 3.0, 40.0]);
    }

    #[test]
    fn disjoint_runs_concatenate_in_time_order() {
        let new: (&[i64], &[f64]) = (&[10, 11], &[1.0, 1.1]);
        let old: (&[i64], &[f64]) = (&[1, 2], &[0.1, 0.2]);
        let (mut t, mut v) = (Vec::new(), Vec::new());
        merge_runs(&[new, old, (&[], &[])], &mut t, &mut v);
        assert_eq!(t, [1, 2, 10, 11]);
        assert_eq!(v, [0.1, 0.2, 1.0, 1.1]);
    }

    #[test]
    fn dedup_keeps_last_arrival() {
        let mut p = vec![(5, 'a'), (1, 'b'), (5, 'c'), (3, 'd'), (1, 'e')];
        sort_dedup_last(&mut p);
        assert_eq!(p, [(1, 'e'), (3, 'd'), (5, 'c')]);
    }
}
