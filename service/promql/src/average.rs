//! `avg` by group over a whole range, in columns.
//!
//! ## What it owns
//! [`average_by_series`]: the answer of `avg [by|without (...)] (x)` at
//! every step, computed series by series into one column of running means
//! and one of counts per group. It does Prometheus 2.42's arithmetic (the
//! running mean `mean += v/n - mean/n`, an infinite mean kept against
//! finite values and its own infinity), the same as
//! [`crate::aggregate::Acc`]'s `first` and `add` in the same order, so the
//! bits are those of the general path.
//!
//! ## Why it exists
//! Two divisions per sample made `Acc::add` the largest single cost of
//! `avg by (region) (avg_over_time(m[19999ms]))` over 500 series (19 % of
//! the query in process, `perf` on `cargo bench -p whippet-promql --bench
//! eval`, 2026-11-27). A series with a value at every step (the usual
//! case) updates contiguous slots with no branch, so the compiler runs the
//! divisions two (or more) at a time.
//!
//! ## What it must never do
//! Answer other bits, or another order of series, than
//! `eval::aggregate_simple_by_series` with `avg` (tested against it
//! below, infinities, NaN and `-0` included).

use crate::eval::VSeries;
use crate::value::Labels;

/// `avg` of the series of each group at each of `n` steps: `series_group`
/// gives each input series' group (an index into `groups`). The groups'
/// series come out ordered by their first step, then by the first input
/// series with a value there.
pub fn average_by_series(
    input: &[VSeries],
    series_group: &[usize],
    groups: &[Labels],
    n: usize,
) -> Vec<VSeries> {
    let slots = groups.len() * n;
    let mut mean = vec![0.0f64; slots];
    // Counts as floats: exact up to 2^53 series, and the division needs
    // the float anyway.
    let mut count = vec![0.0f64; slots];
    // Each group's first (step, input series).
    let mut first: Vec<(u32, u32)> = vec![(u32::MAX, u32::MAX); groups.len()];
    for (i, s) in input.iter().enumerate() {
        let g = series_group[i];
        if let Some(&step) = s.steps.first() {
            first[g] = first[g].min((step, i as u32));
        }
        let base = g * n;
        if s.steps.len() == n {
            // Ascending, distinct and below `n`: every step, in order.
            let means = &mut mean[base..base + n];
            let counts = &mut count[base..base + n];
            for ((m, c), &v) in means.iter_mut().zip(counts.iter_mut()).zip(&s.vals) {
                add(m, c, v);
            }
        } else {
            for (&step, &v) in s.steps.iter().zip(&s.vals) {
                let k = base + step as usize;
                add(&mut mean[k], &mut count[k], v);
            }
        }
    }
    let mut order: Vec<((u32, u32), usize)> = first
        .iter()
        .enumerate()
        .filter(|(_, f)| f.0 != u32::MAX)
        .map(|(g, &f)| (f, g))
        .collect();
    order.sort_unstable();
    order
        .into_iter()
        .map(|(_, g)| {
            let filled = count[g * n..(g + 1) * n]
                .iter()
                .filter(|&&c| c > 0.0)
                .count();
            let mut out = VSeries {
                labels: groups[g].clone(),
                steps: Vec::with_capacity(filled),
                vals: Vec::with_capacity(filled),
                ts: Vec::new(),
            };
            for step in 0..n {
                let k = g * n + step;
                if count[k] > 0.0 {
                    out.steps.push(step as u32);
                    out.vals.push(mean[k]);
                }
            }
            out
        })
        .collect()
}

/// One sample `v` into a running mean and its count, as `Acc::first`
/// (the first sample) and `Acc::add` (the others) do it, without branches.
#[inline(always)]
fn add(mean: &mut f64, count: &mut f64, v: f64) {
    let m = *mean;
    let c = *count + 1.0;
    *count = c;
    // An infinite mean stays, unless `v` is the other infinity or NaN.
    let keep = m.is_infinite()
        && if v.is_infinite() {
            (m > 0.0) == (v > 0.0)
        } else {
            !v.is_nan()
        };
    let next = m + (v / c - m / c);
    *mean = if c == 1.0 {
        v
    } else if keep {
        m
    } else {
        next
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use promql_parser::parser::token::T_AVG;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn same_bits_and_order_as_the_accumulators() {
        let specials = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.0,
            0.0,
            1e308,
            -1e308,
        ];
        let mut rng = StdRng::seed_from_u64(7);
        for round in 0..200 {
            let n = rng.random_range(1..13usize);
            let groups: Vec<Labels> = (0..rng.random_range(1..5u32))
                .map(|g| Labels::new([("g", g.to_string())]))
                .collect();
            let mut input = Vec::new();
            let mut series_group = Vec::new();
            for i in 0..rng.random_range(0..9u32) {
                let full = rng.random_bool(0.5);
                let steps: Vec<u32> = (0..n as u32)
                    .filter(|_| full || rng.random_range(0..3) != 0)
                    .collect();
                let vals = steps
                    .iter()
                    .map(|_| match rng.random_range(0..10) {
                        0 => specials[rng.random_range(0..specials.len())],
                        _ => rng.random_range(0..2000) as f64 / 7.0 - 100.0,
                    })
                    .collect();
                input.push(VSeries {
                    labels: Labels::new([("i", i.to_string())]),
                    steps,
                    vals,
                    ts: Vec::new(),
                });
                series_group.push(rng.random_range(0..groups.len()));
            }
            let want = crate::eval::accumulate_by_series(T_AVG, &input, &series_group, &groups, n);
            let got = average_by_series(&input, &series_group, &groups, n);
            assert_eq!(got.len(), want.len(), "round {round}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.labels, w.labels, "round {round}");
                assert_eq!(g.steps, w.steps, "round {round}");
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                // NaN payloads may differ; everything else to the bit.
                let canon = |v: &[f64]| {
                    bits(v)
                        .into_iter()
                        .zip(v)
                        .map(|(b, x)| if x.is_nan() { u64::MAX } else { b })
                        .collect::<Vec<_>>()
                };
                assert_eq!(canon(&g.vals), canon(&w.vals), "round {round}");
            }
        }
    }
}
