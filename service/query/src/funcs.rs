//! The functions of spec 6.1.2 applied to evaluated series. `timeshift`
//! and the look-back of `moving_rollup` need the evaluator (they read other
//! time ranges); everything here works on the values alone.

use std::cmp::Ordering;

use whippet_ddql::{Func, TimeAgg, TopRank};

use crate::series::{Series, SeriesSet};

/// Applies a function that works on values only (every [`Func`] except
/// `timeshift` and `moving_rollup`). `step_secs` is the bucket length.
pub(crate) fn apply(func: &Func, mut set: SeriesSet, step_secs: i64) -> SeriesSet {
    let step = step_secs as f64;
    match *func {
        Func::Abs => pointwise(&mut set, f64::abs),
        Func::Log2 => pointwise(&mut set, |v| if v > 0.0 { v.log2() } else { f64::NAN }),
        Func::Log10 => pointwise(&mut set, |v| if v > 0.0 { v.log10() } else { f64::NAN }),
        Func::ClampMin(m) => pointwise(&mut set, |v| if v < m { m } else { v }),
        Func::ClampMax(m) => pointwise(&mut set, |v| if v > m { m } else { v }),
        Func::CutoffMin(m) => pointwise(&mut set, |v| if v < m { f64::NAN } else { v }),
        Func::CutoffMax(m) => pointwise(&mut set, |v| if v > m { f64::NAN } else { v }),
        Func::Cumsum => each(&mut set, |v| {
            let mut acc = 0.0;
            for x in v.iter_mut().filter(|x| !x.is_nan()) {
                acc += *x;
                *x = acc;
            }
        }),
        Func::Integral => each(&mut set, |v| {
            // value × seconds since the previous value; the first value
            // covers its own bucket.
            let mut acc = 0.0;
            let mut prev: Option<usize> = None;
            for (i, x) in v.iter_mut().enumerate() {
                if x.is_nan() {
                    continue;
                }
                let dt = prev.map_or(step, |j| (i - j) as f64 * step);
                acc += *x * dt;
                *x = acc;
                prev = Some(i);
            }
        }),
        Func::Diff => with_previous(&mut set, |cur, prev, _| cur - prev),
        Func::MonotonicDiff => with_previous(&mut set, |cur, prev, _| {
            let d = cur - prev;
            if d < 0.0 { cur } else { d }
        }),
        Func::Derivative => with_previous(&mut set, move |cur, prev, gap| {
            (cur - prev) / (gap as f64 * step)
        }),
        Func::Dt => with_previous(&mut set, move |_, _, gap| gap as f64 * step),
        Func::PerUnit { seconds } => {
            let unit = f64::from(seconds);
            for s in &mut set.series {
                if s.counts {
                    s.values.iter_mut().for_each(|v| *v = *v * unit / step);
                } else {
                    derive(&mut s.values, |cur, prev, gap| {
                        (cur - prev) / (gap as f64 * step) * unit
                    });
                }
                s.counts = false;
            }
        }
        Func::Ewma { span } => each(&mut set, |v| ewma(v, span)),
        Func::Median { window } => each(&mut set, |v| median(v, window as usize)),
        Func::Top {
            n,
            rank,
            descending,
            offset,
        } => {
            rank_series(&mut set.series, rank, descending);
            set.series = set.series.into_iter().skip(offset).take(n).collect();
        }
        Func::CountNonzero => count_across(&mut set, |v| !v.is_nan() && v != 0.0),
        Func::CountNotNull => count_across(&mut set, |v| !v.is_nan()),
        Func::DefaultZero => {
            for s in &mut set.series {
                s.values
                    .iter_mut()
                    .filter(|v| v.is_nan())
                    .for_each(|v| *v = 0.0);
                s.dense = true;
            }
        }
        // Handled by the evaluator; identity here.
        Func::Timeshift { .. } | Func::MovingRollup { .. } => {}
    }
    set
}

fn pointwise(set: &mut SeriesSet, f: impl Fn(f64) -> f64) {
    for s in &mut set.series {
        s.values.iter_mut().for_each(|v| *v = f(*v));
    }
}

fn each(set: &mut SeriesSet, f: impl Fn(&mut [f64])) {
    for s in &mut set.series {
        f(&mut s.values);
    }
}

/// Replaces each value by `f(value, previous value, buckets between them)`,
/// the previous value being the last non-null one; the first value becomes
/// null. The result is no longer a count.
fn with_previous(set: &mut SeriesSet, f: impl Fn(f64, f64, usize) -> f64 + Copy) {
    for s in &mut set.series {
        derive(&mut s.values, f);
        s.counts = false;
    }
}

fn derive(v: &mut [f64], f: impl Fn(f64, f64, usize) -> f64) {
    let mut prev: Option<(usize, f64)> = None;
    for (i, x) in v.iter_mut().enumerate() {
        let cur = *x;
        if cur.is_nan() {
            continue;
        }
        *x = match prev {
            Some((j, p)) => f(cur, p, i - j),
            None => f64::NAN,
        };
        prev = Some((i, cur));
    }
}

/// Exponentially weighted moving average with Datadog's span convention:
/// α = 2 / (span + 1) (so `ewma_3` halves the weight at each step). Starts
/// at the first value; nulls stay null and do not move the average.
fn ewma(v: &mut [f64], span: u32) {
    let alpha = 2.0 / (f64::from(span) + 1.0);
    let mut acc: Option<f64> = None;
    for x in v.iter_mut().filter(|x| !x.is_nan()) {
        let a = match acc {
            Some(a) => alpha * *x + (1.0 - alpha) * a,
            None => *x,
        };
        acc = Some(a);
        *x = a;
    }
}

/// Rolling median of the non-null values among the last `window` buckets
/// (the current one included); null buckets stay null.
fn median(v: &mut [f64], window: usize) {
    let window = window.max(1);
    let src = v.to_vec();
    let mut buf = Vec::with_capacity(window);
    for i in 0..v.len() {
        if src[i].is_nan() {
            continue;
        }
        buf.clear();
        buf.extend(
            src[i + 1 - window.min(i + 1)..=i]
                .iter()
                .filter(|x| !x.is_nan()),
        );
        buf.sort_unstable_by(f64::total_cmp);
        let m = buf.len();
        v[i] = if m % 2 == 1 {
            buf[m / 2]
        } else {
            (buf[m / 2 - 1] + buf[m / 2]) / 2.0
        };
    }
}

/// Independent partial sums of [`rank_value`]'s mean.
const LANES: usize = 4;

/// The value `top` ranks a series by, over its non-null values; `None`
/// when it has none.
fn rank_value(v: &[f64], rank: TopRank) -> Option<f64> {
    if rank == TopRank::Mean {
        // The most common ranking, run once per series (5 000 series of 360
        // buckets for a `top` over a fleet's hosts): branch-free, over four
        // independent sums so that four additions are in flight instead of
        // one chain (one chain was a tenth of such a query's CPU). -0.0 is
        // the identity of addition (0.0 is not, for -0.0).
        let (mut s, mut n) = ([-0.0f64; LANES], [0.0f64; LANES]);
        let mut add = |k: usize, x: f64| {
            let has = !x.is_nan();
            s[k] += if has { x } else { 0.0 };
            n[k] += f64::from(u8::from(has));
        };
        let quads = v.chunks_exact(LANES);
        let rest = quads.remainder();
        for q in quads {
            for (k, &x) in q.iter().enumerate() {
                add(k, x);
            }
        }
        for &x in rest {
            add(0, x);
        }
        let total = |lanes: [f64; LANES], zero: f64| lanes.iter().fold(zero, |a, &b| a + b);
        let (s, n) = (total(s, -0.0), total(n, 0.0));
        return (n > 0.0).then(|| s / n);
    }
    let mut it = v.iter().copied().filter(|x| !x.is_nan());
    let first = it.next()?;
    let rest = it;
    Some(match rank {
        TopRank::Mean => {
            let (s, n) = rest.fold((first, 1.0), |(s, n), x| (s + x, n + 1.0));
            s / n
        }
        TopRank::Max => rest.fold(first, f64::max),
        TopRank::Min => rest.fold(first, f64::min),
        TopRank::Last => v
            .iter()
            .rev()
            .copied()
            .find(|x| !x.is_nan())
            .unwrap_or(first),
        TopRank::Area => rest.fold(first, |s, x| s + x),
        TopRank::L2Norm | TopRank::Norm => rest.fold(first * first, |s, x| s + x * x).sqrt(),
    })
}

/// Sorts series by `rank` (largest first when `descending`); series without
/// values go last, ties keep their order (group tags).
pub(crate) fn rank_series(series: &mut [Series], rank: TopRank, descending: bool) {
    rank_by(series, |s| rank_value(&s.values, rank), descending);
}

/// Sorts by a key, `None` last whatever the direction; stable.
pub(crate) fn rank_by<T>(items: &mut [T], key: impl Fn(&T) -> Option<f64>, descending: bool) {
    let mut keyed: Vec<(Option<f64>, usize)> =
        items.iter().enumerate().map(|(i, s)| (key(s), i)).collect();
    keyed.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => {
            let o = x.total_cmp(&y);
            (if descending { o.reverse() } else { o }).then(a.1.cmp(&b.1))
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
    // Apply the permutation: position p takes item keyed[p].1.
    let mut order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    for p in 0..order.len() {
        let mut src = order[p];
        while src < p {
            src = order[src];
        }
        items.swap(p, src);
        order[p] = src;
    }
}

/// `count_nonzero` / `count_not_null`: one ungrouped series counting, per
/// bucket, the series whose value passes `keep` (0 where none does).
fn count_across(set: &mut SeriesSet, keep: impl Fn(f64) -> bool) {
    let Some(len) = set.series.first().map(|s| s.values.len()) else {
        return;
    };
    let mut out = vec![0.0; len];
    for s in &set.series {
        for (o, &v) in out.iter_mut().zip(&s.values) {
            if keep(v) {
                *o += 1.0;
            }
        }
    }
    set.series = vec![Series {
        tags: Vec::new(),
        values: out,
        dense: true,
        counts: false,
    }];
}

/// `moving_rollup`: each bucket takes `agg` over the non-null values of the
/// `window` buckets ending at it. `v` holds `window - 1` look-back buckets
/// first, which are dropped from the result.
pub(crate) fn moving_rollup(v: &[f64], window: usize, agg: TimeAgg) -> Vec<f64> {
    let window = window.max(1);
    let back = window - 1;
    (back..v.len())
        .map(|i| {
            let w = v[i - back..=i].iter().copied().filter(|x| !x.is_nan());
            let mut n = 0usize;
            let r = match agg {
                TimeAgg::Avg | TimeAgg::Sum => {
                    let s = w.inspect(|_| n += 1).sum::<f64>();
                    if agg == TimeAgg::Avg { s / n as f64 } else { s }
                }
                TimeAgg::Min => w.inspect(|_| n += 1).fold(f64::INFINITY, f64::min),
                TimeAgg::Max => w.inspect(|_| n += 1).fold(f64::NEG_INFINITY, f64::max),
                TimeAgg::Count => w.inspect(|_| n += 1).count() as f64,
                TimeAgg::Last => w.inspect(|_| n += 1).last().unwrap_or(f64::NAN),
            };
            if n == 0 { f64::NAN } else { r }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Meta;

    const N: f64 = f64::NAN;

    fn one(v: &[f64]) -> SeriesSet {
        SeriesSet {
            meta: Meta::default(),
            series: vec![Series {
                tags: vec![],
                values: v.to_vec(),
                dense: false,
                counts: false,
            }],
        }
    }

    fn run(f: Func, v: &[f64], step: i64) -> Vec<String> {
        apply(&f, one(v), step).series[0]
            .values
            .iter()
            .map(|x| format!("{x}"))
            .collect()
    }

    #[test]
    fn series_functions() {
        let v = [1.0, 3.0, N, 2.0, 6.0];
        assert_eq!(run(Func::Cumsum, &v, 10), ["1", "4", "NaN", "6", "12"]);
        assert_eq!(
            run(Func::Integral, &v, 10),
            ["10", "40", "NaN", "80", "140"]
        );
        assert_eq!(run(Func::Diff, &v, 10), ["NaN", "2", "NaN", "-1", "4"]);
        assert_eq!(
            run(Func::MonotonicDiff, &v, 10),
            ["NaN", "2", "NaN", "2", "4"]
        );
        assert_eq!(
            run(Func::Derivative, &v, 10),
            ["NaN", "0.2", "NaN", "-0.05", "0.4"]
        );
        assert_eq!(run(Func::Dt, &v, 10), ["NaN", "10", "NaN", "20", "10"]);
        assert_eq!(
            run(Func::Median { window: 3 }, &v, 10),
            ["1", "2", "NaN", "2.5", "4"]
        );
        assert_eq!(
            run(Func::Ewma { span: 3 }, &v, 10),
            ["1", "2", "NaN", "2", "4"]
        );
        assert_eq!(
            run(Func::Log10, &[100.0, 0.0, -1.0], 10),
            ["2", "NaN", "NaN"]
        );
    }

    #[test]
    fn moving_rollup_uses_look_back() {
        let v = [1.0, 2.0, N, 4.0];
        let r = moving_rollup(&v, 2, TimeAgg::Sum);
        assert_eq!(r, vec![3.0, 2.0, 4.0]);
        let r = moving_rollup(&[N, N, 1.0], 2, TimeAgg::Max);
        assert!(r[0].is_nan());
    }

    #[test]
    fn ranking_puts_empty_series_last_and_is_stable() {
        let mut v = vec![
            (Some(1.0), 'a'),
            (None, 'b'),
            (Some(3.0), 'c'),
            (Some(1.0), 'd'),
        ];
        rank_by(&mut v, |x| x.0, true);
        assert_eq!(v.iter().map(|x| x.1).collect::<String>(), "cadb");
        rank_by(&mut v, |x| x.0, false);
        assert_eq!(v.iter().map(|x| x.1).collect::<String>(), "adcb");
    }
}
