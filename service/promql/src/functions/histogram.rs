//! `histogram_quantile(q, buckets)` over classic histograms: series with
//! an `le` label holding cumulative counts.
//!
//! Buckets are grouped by their labels without `le` (`__name__` included,
//! so two histograms of different names never mix); each group answers one
//! sample labelled without `le` and `__name__`. Before interpolating it
//! repairs what scrapes of a live histogram produce, as Prometheus does:
//! buckets of the same bound are summed, and counts that go down from one
//! bucket to the next are raised to the previous count. A series whose
//! `le` is no number is skipped. It must never invent a bound: without a
//! `+Inf` bucket the answer is NaN.

use crate::value::{InstantSample, Labels};

/// The label of a bucket's upper bound.
const BUCKET_LABEL: &str = "le";

/// One bucket: its upper bound and cumulative count.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    upper: f64,
    count: f64,
}

/// The `q`-quantile of each group of buckets in `v`, at time `t`, in the
/// order of the groups' labels.
pub(super) fn quantile(q: f64, v: Vec<InstantSample>, t: i64) -> Vec<InstantSample> {
    // Group key (labels without `le`) to answer labels and buckets.
    let mut groups: std::collections::BTreeMap<Labels, (Labels, Vec<Bucket>)> = Default::default();
    for s in v {
        let Some(upper) = s.labels.get(BUCKET_LABEL).and_then(parse_go_float) else {
            continue;
        };
        let mut key = s.labels;
        key.remove(BUCKET_LABEL);
        let group = groups
            .entry(key)
            .or_insert_with_key(|k| (k.without_name(), Vec::new()));
        group.1.push(Bucket { upper, count: s.v });
    }
    groups
        .into_values()
        .map(|(labels, mut buckets)| InstantSample {
            labels,
            t,
            v: bucket_quantile(q, &mut buckets),
        })
        .collect()
}

/// Go's `strconv.ParseFloat` for the forms a bound takes (`0.5`, `1e3`,
/// `+Inf`, `inf`, `NaN`); Rust's parser agrees with it on those.
fn parse_go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// The quantile of one histogram's buckets, linearly interpolated within
/// the bucket the rank falls in. Below 0 is -Inf, above 1 +Inf, NaN for a
/// NaN `q`, no `+Inf` bucket, fewer than two bounds, or no observations.
/// A rank in the `+Inf` bucket answers the highest finite bound, and one in
/// the first bucket with a bound at or below zero answers that bound (the
/// lower end of that bucket is unknown).
fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return f64::NAN;
    }
    coalesce(buckets);
    ensure_monotonic(buckets);
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    // The first bucket (the +Inf one excluded) whose count reaches the rank.
    let last = buckets.len() - 1;
    let b = buckets[..last].partition_point(|x| x.count < rank);
    if b == last {
        return buckets[last - 1].upper;
    }
    if b == 0 && buckets[0].upper <= 0.0 {
        return buckets[0].upper;
    }
    let mut start = 0.0;
    let end = buckets[b].upper;
    let mut count = buckets[b].count;
    if b > 0 {
        start = buckets[b - 1].upper;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    start + (end - start) * (rank / count)
}

/// Sums the counts of buckets with the same bound (sorted input), which
/// happens when two series differ only by how `le` is written (`1` and
/// `1.0`).
fn coalesce(buckets: &mut Vec<Bucket>) {
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.drain(..) {
        match out.last_mut() {
            Some(prev) if prev.upper == b.upper => prev.count += b.count,
            _ => out.push(b),
        }
    }
    *buckets = out;
}

/// Raises each count to at least the largest before it: buckets scraped
/// at slightly different moments, or precision loss, can make a cumulative
/// count go down.
fn ensure_monotonic(buckets: &mut [Bucket]) {
    let mut max = f64::NEG_INFINITY;
    for b in buckets {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            b.count = max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::FnArg;
    use super::super::tests::{ctx, inst, vec_of};
    use crate::value::InstantSample;

    fn bucket(name: &str, job: &str, le: &str, v: f64) -> InstantSample {
        inst(&[("__name__", name), ("job", job), ("le", le)], v)
    }

    fn hq(q: f64, v: Vec<InstantSample>) -> Vec<(String, f64)> {
        vec_of(
            "histogram_quantile",
            vec![FnArg::Scalar(q), FnArg::Vector(v)],
            ctx(0, 0),
        )
    }

    fn simple(counts: &[(&str, f64)]) -> Vec<InstantSample> {
        counts
            .iter()
            .map(|&(le, c)| bucket("h_bucket", "a", le, c))
            .collect()
    }

    #[test]
    fn interpolates_within_the_bucket() {
        // 10 in (0,1], 10 in (1,2], 20 in (2,4], 0 above.
        let h = simple(&[("1", 10.0), ("2", 20.0), ("4", 40.0), ("+Inf", 40.0)]);
        assert_eq!(hq(0.5, h.clone()), vec![("{job=\"a\"}".to_owned(), 2.0)]);
        assert_eq!(hq(0.25, h.clone())[0].1, 1.0);
        assert_eq!(hq(0.75, h.clone())[0].1, 3.0);
        assert_eq!(hq(0.125, h.clone())[0].1, 0.5);
        assert_eq!(hq(0.0, h.clone())[0].1, 0.0);
        assert_eq!(hq(1.0, h.clone())[0].1, 4.0);
        assert_eq!(hq(-1.0, h.clone())[0].1, f64::NEG_INFINITY);
        assert_eq!(hq(2.0, h.clone())[0].1, f64::INFINITY);
        assert!(hq(f64::NAN, h)[0].1.is_nan());
    }

    #[test]
    fn rank_in_the_inf_bucket_answers_the_highest_bound() {
        let h = simple(&[("1", 1.0), ("2", 2.0), ("+Inf", 10.0)]);
        assert_eq!(hq(0.9, h)[0].1, 2.0);
    }

    #[test]
    fn first_bucket_at_or_below_zero() {
        let h = simple(&[("-1", 5.0), ("0", 6.0), ("+Inf", 10.0)]);
        assert_eq!(hq(0.1, h)[0].1, -1.0);
    }

    #[test]
    fn nan_cases() {
        assert!(
            hq(0.5, simple(&[("1", 1.0), ("2", 2.0)]))[0].1.is_nan(),
            "no +Inf"
        );
        assert!(
            hq(0.5, simple(&[("+Inf", 2.0)]))[0].1.is_nan(),
            "one bucket"
        );
        assert!(
            hq(0.5, simple(&[("1", 0.0), ("+Inf", 0.0)]))[0].1.is_nan(),
            "empty"
        );
        assert!(hq(0.5, vec![]).is_empty());
    }

    #[test]
    fn repairs_non_monotonic_and_duplicate_buckets() {
        // 2's count below 1's is raised to 10: then half is at bound 1.
        let h = simple(&[("1", 10.0), ("2", 8.0), ("+Inf", 20.0)]);
        assert_eq!(hq(0.5, h)[0].1, 1.0);
        // "1" and "1.0" are one bucket of 10 (else half would be at 1).
        let h = simple(&[("1", 5.0), ("1.0", 5.0), ("+Inf", 10.0)]);
        assert_eq!(hq(0.5, h)[0].1, 0.5);
    }

    #[test]
    fn groups_by_labels_without_le_and_skips_bad_bounds() {
        let mut v = simple(&[("1", 10.0), ("+Inf", 10.0)]);
        v.push(bucket("h_bucket", "b", "10", 4.0));
        v.push(bucket("h_bucket", "b", "+Inf", 4.0));
        v.push(bucket("h_bucket", "b", "junk", 100.0));
        v.push(crate::functions::tests::inst(
            &[("__name__", "h_bucket"), ("job", "c")],
            1.0,
        ));
        let out = hq(0.5, v);
        assert_eq!(
            out,
            vec![
                ("{job=\"a\"}".to_owned(), 0.5),
                ("{job=\"b\"}".to_owned(), 5.0)
            ]
        );
    }

    #[test]
    fn different_names_are_different_histograms() {
        let mut v = simple(&[("1", 10.0), ("+Inf", 10.0)]);
        v.push(bucket("other_bucket", "a", "1", 0.0));
        v.push(bucket("other_bucket", "a", "+Inf", 10.0));
        let out = hq(0.5, v);
        // Two answers with the same labels: the evaluator refuses them.
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, out[1].0);
    }
}
