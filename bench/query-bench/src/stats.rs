//! Summaries of the measured latencies.
//!
//! The median is the middle of the sorted runs (the mean of the two middle
//! ones for an even count). Other percentiles use the nearest-rank rule:
//! the `p`-th percentile of `n` sorted values is the value of rank
//! `⌈p/100 · n⌉` (1-based), always one of the measured values. With 20 runs
//! the rank of p99 is ⌈19.8⌉ = 20: the p99 *is* the slowest run, and the
//! report says so.

use serde::Serialize;

/// Latency summary of one system's measured runs of one query, in
/// milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Runs summarised.
    pub runs: usize,
    /// Median.
    pub median_ms: f64,
    /// 99th percentile, nearest rank.
    pub p99_ms: f64,
    /// Fastest run.
    pub min_ms: f64,
    /// Slowest run.
    pub max_ms: f64,
    /// Arithmetic mean.
    pub mean_ms: f64,
}

/// The nearest-rank `p`-th percentile (`0 < p ≤ 100`) of `sorted`
/// (ascending); NaN when empty.
pub fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `sorted` (ascending); NaN when empty.
pub fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Summarises `runs_ms` (any order).
pub fn summarize(runs_ms: &[f64]) -> Summary {
    let mut s: Vec<f64> = runs_ms.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    Summary {
        runs: s.len(),
        median_ms: median(&s),
        p99_ms: nearest_rank(&s, 99.0),
        min_ms: s.first().copied().unwrap_or(f64::NAN),
        max_ms: s.last().copied().unwrap_or(f64::NAN),
        mean_ms: if s.is_empty() {
            f64::NAN
        } else {
            s.iter().sum::<f64>() / s.len() as f64
        },
    }
}

/// `a / b`, NaN when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_of_twenty_runs_is_the_slowest() {
        let runs: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        let s = summarize(&runs);
        assert_eq!(s.runs, 20);
        assert_eq!(s.p99_ms, 20.0);
        assert_eq!(s.max_ms, 20.0);
        assert_eq!(s.min_ms, 1.0);
        assert_eq!(s.median_ms, 10.5);
        assert_eq!(s.mean_ms, 10.5);
    }

    #[test]
    fn nearest_rank_picks_measured_values() {
        let v: Vec<f64> = (1..=200).map(f64::from).collect();
        // ⌈0.99 · 200⌉ = 198.
        assert_eq!(nearest_rank(&v, 99.0), 198.0);
        assert_eq!(nearest_rank(&v, 50.0), 100.0);
        assert_eq!(nearest_rank(&v, 100.0), 200.0);
        assert_eq!(nearest_rank(&v, 0.1), 1.0);
        assert_eq!(nearest_rank(&[7.0], 99.0), 7.0);
        assert!(nearest_rank(&[], 99.0).is_nan());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
        assert!(median(&[]).is_nan());
        // Non-finite runs (failed requests) are left out.
        let s = summarize(&[3.0, f64::NAN, 1.0]);
        assert_eq!((s.runs, s.median_ms), (2, 2.0));
    }

    #[test]
    fn ratios() {
        assert_eq!(ratio(1.0, 4.0), 0.25);
        assert!(ratio(1.0, 0.0).is_nan());
    }
}
