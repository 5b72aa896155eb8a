//! Bucket aggregation of one chunk whose timestamps are regular, straight
//! from its lazily decoded value column.
//!
//! This is the hot loop of every dashboard query over merged data: a series
//! merged into one part has one chunk per day, almost always with regular
//! timestamps (the Agent's and DogStatsD's 10 s flushes), and its values are
//! decimals. Two things make it cheaper than the general scan in `read.rs`:
//!
//! - **Positions, not timestamps.** Point `k` is at `first + k·step`, so the
//!   points of a bucket are a range of indices found by one division per
//!   bucket, never by comparing each point's timestamp.
//! - **Integers, not floats.** Decimal values stay the integer mantissas the
//!   codec stored (value = `m / 10^e`). Sums reduce integers, which
//!   vectorise and are exact, and divide once per bucket; min, max and last
//!   pick a mantissa and divide it with the decoder's own formula, so they
//!   have the exact bits of the decoded value. A sum or average can differ
//!   from summing the decoded floats in the last bit, in the direction of
//!   the exact result.
//!
//! It must never be used for a chunk whose time range overlaps another
//! source of the same series (a point could shadow another), and sources
//! must come oldest first (for `last`).

use crate::codec::floats::{Values, pow10};

use super::read::Agg;

/// Integer sums run over runs of this many mantissas: each is at most 2^53
/// in magnitude, so 512 of them stay below 2^62 and an `i64` sum cannot
/// overflow; the run's sum is then added as a float.
const SUM_RUN: usize = 512;

/// A value column of `n` points, as the codec left it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Column<'a> {
    /// Every point has this value.
    Const(f64),
    /// Point `k` is `mantissas[k] / 10^exp`.
    Decimal { mantissas: &'a [i64], exp: u32 },
    /// The same with mantissas that fit 32 bits (the decoded-chunk cache
    /// keeps them so: half the memory and the memory traffic).
    Decimal32 { mantissas: &'a [i32], exp: u32 },
    /// Point `k` is `values[k]` (may be NaN: skipped).
    Floats(&'a [f64]),
}

impl<'a> Column<'a> {
    /// The `n` values as floats (the decoder's bits), for the general scan.
    pub fn materialize(&self, n: usize) -> Vec<f64> {
        match *self {
            Column::Const(c) => vec![c; n],
            Column::Decimal { mantissas, exp } => {
                let p = pow10(exp);
                mantissas.iter().map(|&m| m as f64 / p).collect()
            }
            Column::Decimal32 { mantissas, exp } => {
                let p = pow10(exp);
                mantissas.iter().map(|&m| f64::from(m) / p).collect()
            }
            Column::Floats(values) => values.to_vec(),
        }
    }

    /// The column of a lazy decode: `vals` and `mantissas` are the buffers
    /// the decode wrote to.
    pub fn of(v: Values, vals: &'a [f64], mantissas: &'a [i64]) -> Column<'a> {
        match v {
            Values::Const(c) => Column::Const(c),
            Values::Decimal { exp } => Column::Decimal { mantissas, exp },
            Values::Floats => Column::Floats(vals),
        }
    }
}

/// Where the chunk's points and the buckets are.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    /// Number of points.
    pub n: usize,
    /// Timestamp of point 0.
    pub first: i64,
    /// Distance between points; must be positive.
    pub step: i64,
    /// Start of the range (bucket 0 starts here); points before are left out.
    pub start: i64,
    /// End of the range (exclusive); points at or after are left out.
    pub end: i64,
    /// Width of a bucket; must be positive.
    pub bucket_ms: i64,
}

impl Layout {
    /// Index of the first point at or after `t` (`n` when none).
    #[inline]
    fn k_at(&self, t: i64) -> usize {
        if t <= self.first {
            return 0;
        }
        // t > first and step > 0: the ceiling of a positive quotient.
        let k = (t - self.first + self.step - 1) / self.step;
        usize::try_from(k).map_or(self.n, |k| k.min(self.n))
    }
}

/// Aggregates the points of `col` inside the range into the buckets `val` /
/// `count` (as `read.rs`'s `Buckets` keeps them: `val` holds the reduced
/// value, the sum for `Avg`, and `count` the number of values), combining
/// with what older sources left there ([`combine`]). Only buckets that get
/// values are touched.
pub(super) fn aggregate(col: Column<'_>, at: Layout, agg: Agg, val: &mut [f64], count: &mut [u64]) {
    debug_assert!(at.step > 0 && at.bucket_ms > 0);
    if let Column::Const(c) = col
        && c.is_nan()
    {
        return;
    }
    let (lo, hi) = (at.k_at(at.start), at.k_at(at.end));
    if lo >= hi {
        return;
    }
    // Sums of decimals (the default `avg` of gauges, counts' `sum`) take
    // the fixed-run loop when the layout allows; everything else walks the
    // buckets with the general `reduce`, which dispatches once per bucket.
    let w = Walk { at, lo, hi };
    let done = match (col, agg) {
        (Column::Decimal { mantissas, exp }, Agg::Avg | Agg::Sum) => {
            w.sums_by_runs(mantissas, pow10(exp), val, count)
        }
        (Column::Decimal32 { mantissas, exp }, Agg::Avg | Agg::Sum) => {
            w.sums_by_runs(mantissas, pow10(exp), val, count)
        }
        _ => false,
    };
    if !done {
        w.run(
            val,
            count,
            |a, b| reduce(col, a, b, agg),
            |s, v| combine(s, v, agg),
        );
    }
}

/// An integer mantissa of a decimal column: 64 bits as decoded, or 32 as
/// the chunk cache keeps them when they fit. Values computed from either
/// are the same bits (`i32` to `f64` is exact, as `i64` to `f64` is below
/// 2^53).
pub(super) trait Mantissa: Copy + Ord + Into<i64> {}
impl Mantissa for i64 {}
impl Mantissa for i32 {}

/// The points `lo..hi` of a chunk, walked bucket by bucket.
struct Walk {
    at: Layout,
    lo: usize,
    hi: usize,
}

impl Walk {
    /// Calls `reduce(k0, k1)` on the points of each bucket that has some,
    /// and folds its value into the bucket with `fold` (its count is added).
    #[inline(always)]
    fn run(
        &self,
        val: &mut [f64],
        count: &mut [u64],
        reduce: impl Fn(usize, usize) -> (f64, u64),
        fold: impl Fn(&mut f64, f64),
    ) {
        let (at, hi) = (self.at, self.hi);
        // When the bucket width is a multiple of the step, every bucket
        // after the first holds exactly `per` points (any half-open interval
        // of that width does), so the walk needs no division; otherwise
        // (rare: 25 s buckets over 10 s points) each bucket is found by
        // dividing.
        let per = (at.bucket_ms % at.step == 0).then(|| (at.bucket_ms / at.step) as usize);
        let bucket_of =
            |k: usize| ((at.first + k as i64 * at.step - at.start) / at.bucket_ms) as usize;
        let end_of = |b: usize| {
            at.start
                .saturating_add((b as i64 + 1).saturating_mul(at.bucket_ms))
        };
        let mut k = self.lo;
        let mut b = bucket_of(k);
        let mut k_end = at.k_at(end_of(b)).min(hi);
        loop {
            let (v, c) = reduce(k, k_end);
            if c > 0 {
                fold(&mut val[b], v);
                count[b] += c;
            }
            k = k_end;
            if k >= hi {
                return;
            }
            match per {
                Some(p) => {
                    b += 1;
                    k_end = (k + p).min(hi);
                }
                None => {
                    b = bucket_of(k);
                    k_end = at.k_at(end_of(b)).min(hi);
                }
            }
        }
    }
}

impl Walk {
    /// The sums of decimal mantissas per bucket when every bucket after the
    /// first holds the same small number of points (`bucket_ms` a multiple
    /// of the step: 1, 2, 3, 4 or 6 points): the first bucket, then the full
    /// ones as fixed-size runs whose length the compiler knows (no bounds
    /// checks, an unrolled sum), then the last partial one. This is the loop
    /// of a default `avg` over 10 s points at a dashboard's 20-60 s
    /// interval. Returns false (having done nothing) when the layout does
    /// not qualify.
    fn sums_by_runs<M: Mantissa>(
        &self,
        m: &[M],
        p: f64,
        val: &mut [f64],
        count: &mut [u64],
    ) -> bool {
        let at = self.at;
        if at.bucket_ms % at.step != 0 {
            return false;
        }
        match at.bucket_ms / at.step {
            1 => self.sums_fixed::<M, 1>(m, p, val, count),
            2 => self.sums_fixed::<M, 2>(m, p, val, count),
            3 => self.sums_fixed::<M, 3>(m, p, val, count),
            4 => self.sums_fixed::<M, 4>(m, p, val, count),
            6 => self.sums_fixed::<M, 6>(m, p, val, count),
            _ => return false,
        }
        true
    }

    fn sums_fixed<M: Mantissa, const P: usize>(
        &self,
        m: &[M],
        p: f64,
        val: &mut [f64],
        count: &mut [u64],
    ) {
        let at = self.at;
        let (lo, hi) = (self.lo, self.hi);
        let b0 = ((at.first + lo as i64 * at.step - at.start) / at.bucket_ms) as usize;
        let end0 = at
            .start
            .saturating_add((b0 as i64 + 1).saturating_mul(at.bucket_ms));
        let k1 = at.k_at(end0).min(hi);
        val[b0] += sum(&m[lo..k1]) / p;
        count[b0] += (k1 - lo) as u64;
        let runs = m[k1..hi].chunks_exact(P);
        let tail = runs.remainder();
        let mut b = b0 + 1;
        for ((run, v), c) in runs.zip(&mut val[b..]).zip(&mut count[b..]) {
            let run: &[M; P] = run.try_into().expect("chunks_exact");
            *v += run.iter().map(|&x| Into::<i64>::into(x)).sum::<i64>() as f64 / p;
            *c += P as u64;
            b += 1;
        }
        if !tail.is_empty() {
            val[b] += sum(tail) / p;
            count[b] += tail.len() as u64;
        }
    }
}

/// The sum of mantissas as a float: exact integer sums over runs of
/// [`SUM_RUN`], which cannot overflow.
#[inline]
fn sum<M: Mantissa>(m: &[M]) -> f64 {
    let run_sum = |r: &[M]| r.iter().map(|&x| Into::<i64>::into(x)).sum::<i64>();
    if m.len() <= SUM_RUN {
        run_sum(m) as f64
    } else {
        m.chunks(SUM_RUN).map(|r| run_sum(r) as f64).sum()
    }
}

/// Folds a bucket's reduced value into what earlier (older) sources left
/// there, as `read.rs`'s scan does: sums add, min and max compare (the
/// buckets start at +∞ and −∞), and the newest value is the last.
#[inline]
fn combine(slot: &mut f64, v: f64, agg: Agg) {
    match agg {
        Agg::Avg | Agg::Sum | Agg::Count => *slot += v,
        Agg::Min => *slot = slot.min(v),
        Agg::Max => *slot = slot.max(v),
        Agg::Last => *slot = v,
    }
}

/// Reduces points `k0..k1` (non-empty) of `col`: the value the bucket keeps
/// and the number of values.
#[inline]
fn reduce(col: Column<'_>, k0: usize, k1: usize, agg: Agg) -> (f64, u64) {
    let len = (k1 - k0) as u64;
    match col {
        Column::Const(c) => {
            let v = match agg {
                Agg::Avg | Agg::Sum => c * len as f64,
                Agg::Count => len as f64,
                Agg::Min | Agg::Max | Agg::Last => c,
            };
            (v, len)
        }
        Column::Decimal { mantissas, exp } => (reduce_decimal(&mantissas[k0..k1], exp, agg), len),
        Column::Decimal32 { mantissas, exp } => (reduce_decimal(&mantissas[k0..k1], exp, agg), len),
        Column::Floats(values) => {
            let x = &values[k0..k1];
            let n = x.iter().filter(|v| !v.is_nan()).count() as u64;
            if n == 0 {
                return (f64::NAN, 0);
            }
            let v = match agg {
                Agg::Avg | Agg::Sum => x.iter().filter(|v| !v.is_nan()).sum(),
                Agg::Count => n as f64,
                Agg::Min => x.iter().copied().fold(f64::INFINITY, f64::min),
                Agg::Max => x.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Agg::Last => *x.iter().rev().find(|v| !v.is_nan()).expect("n > 0"),
            };
            (v, n)
        }
    }
}

/// One bucket's value of non-empty decimal mantissas.
fn reduce_decimal<M: Mantissa>(m: &[M], exp: u32, agg: Agg) -> f64 {
    let p = pow10(exp);
    let f = |x: M| Into::<i64>::into(x) as f64 / p;
    match agg {
        Agg::Avg | Agg::Sum => sum(m) / p,
        Agg::Count => m.len() as f64,
        Agg::Min => f(*m.iter().min().expect("non-empty")),
        Agg::Max => f(*m.iter().max().expect("non-empty")),
        Agg::Last => f(*m.last().expect("non-empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general definition: every point in range, bucket by division.
    fn naive(values: &[f64], at: Layout, agg: Agg, nb: usize) -> Vec<Option<f64>> {
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); nb];
        for (k, &v) in values.iter().enumerate() {
            let t = at.first + k as i64 * at.step;
            if t >= at.start && t < at.end && !v.is_nan() {
                per[((t - at.start) / at.bucket_ms) as usize].push(v);
            }
        }
        per.iter()
            .map(|w| {
                (!w.is_empty()).then(|| match agg {
                    Agg::Avg | Agg::Sum => w.iter().sum(),
                    Agg::Count => w.len() as f64,
                    Agg::Min => w.iter().copied().fold(f64::INFINITY, f64::min),
                    Agg::Max => w.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    Agg::Last => *w.last().unwrap(),
                })
            })
            .collect()
    }

    fn run(col: Column<'_>, at: Layout, agg: Agg, nb: usize) -> Vec<Option<f64>> {
        let init = match agg {
            Agg::Min => f64::INFINITY,
            Agg::Max => f64::NEG_INFINITY,
            _ => 0.0,
        };
        let mut val = vec![init; nb];
        let mut count = vec![0; nb];
        aggregate(col, at, agg, &mut val, &mut count);
        val.iter()
            .zip(&count)
            .map(|(&v, &c)| (c > 0).then_some(v))
            .collect()
    }

    fn close(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| match (x, y) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                (None, None) => true,
                _ => false,
            })
    }

    #[test]
    fn matches_the_general_definition_on_every_layout() {
        let mantissas: Vec<i64> = (0..100).map(|k| (k * 37 % 101) - 50).collect();
        let decoded: Vec<f64> = mantissas.iter().map(|&m| m as f64 / 100.0).collect();
        let mut raw = decoded.clone();
        raw[3] = f64::NAN;
        raw[40] = f64::NAN;
        // (first, step, start, end, bucket)
        for (first, step, start, end, bucket) in [
            (1_000, 10, 1_000, 2_000, 30),     // 3 points a bucket
            (1_005, 10, 1_000, 2_000, 30),     // points off the bucket grid
            (900, 10, 1_000, 1_500, 60),       // range cuts both ends
            (1_000, 100, 1_000, 20_000, 30),   // buckets without points
            (1_000, 10, 1_000, 2_000, 10_000), // one bucket
            (1_000, 10, 5_000, 6_000, 30),     // range after the chunk
            (1_000, 10, 0, 1_001, 7),          // one point in range
            (1_005, 10, 1_000, 1_777, 10),     // runs of 1
            (995, 10, 1_000, 1_999, 20),       // runs of 2, cut start
            (1_000, 10, 1_040, 1_900, 40),     // runs of 4
            (1_003, 10, 1_000, 2_000, 60),     // runs of 6, last one partial
            (1_000, 10, 1_000, 1_030, 30),     // a single full run
            (1_000, 10, 1_000, 2_100, 60),     // range past the chunk
        ] {
            let nb = ((end - start) as usize).div_ceil(bucket as usize);
            let at = Layout {
                n: 100,
                first,
                step,
                start,
                end,
                bucket_ms: bucket,
            };
            for agg in Agg::ALL {
                let want = naive(&decoded, at, agg, nb);
                let got = run(
                    Column::Decimal {
                        mantissas: &mantissas,
                        exp: 2,
                    },
                    at,
                    agg,
                    nb,
                );
                assert!(
                    close(&got, &want),
                    "decimal {agg:?} {at:?}\n{got:?}\n{want:?}"
                );
                let want = naive(&raw, at, agg, nb);
                let got = run(Column::Floats(&raw), at, agg, nb);
                assert!(
                    close(&got, &want),
                    "floats {agg:?} {at:?}\n{got:?}\n{want:?}"
                );
                let flat = vec![2.5; 100];
                let want = naive(&flat, at, agg, nb);
                let got = run(Column::Const(2.5), at, agg, nb);
                assert!(close(&got, &want), "const {agg:?} {at:?}");
            }
        }
    }

    #[test]
    fn picked_values_have_the_decoders_bits() {
        // 0.1 + 0.2-style values: min, max and last must be the decoded
        // floats exactly, not a rounding of them.
        let m = [1_i64, 2, 3, 7];
        let at = Layout {
            n: 4,
            first: 0,
            step: 10,
            start: 0,
            end: 40,
            bucket_ms: 40,
        };
        let col = Column::Decimal {
            mantissas: &m,
            exp: 1,
        };
        assert_eq!(run(col, at, Agg::Min, 1)[0], Some(1.0 / 10.0));
        assert_eq!(run(col, at, Agg::Max, 1)[0], Some(7.0 / 10.0));
        assert_eq!(run(col, at, Agg::Last, 1)[0], Some(7.0 / 10.0));
        assert_eq!(run(col, at, Agg::Sum, 1)[0], Some(13.0 / 10.0));
    }

    #[test]
    fn nan_constant_and_all_nan_buckets_give_nothing() {
        let at = Layout {
            n: 3,
            first: 0,
            step: 10,
            start: 0,
            end: 30,
            bucket_ms: 10,
        };
        assert_eq!(run(Column::Const(f64::NAN), at, Agg::Sum, 3), vec![None; 3]);
        let x = [1.0, f64::NAN, 3.0];
        assert_eq!(
            run(Column::Floats(&x), at, Agg::Count, 3),
            vec![Some(1.0), None, Some(1.0)]
        );
    }

    #[test]
    fn large_mantissas_do_not_overflow() {
        let m = vec![1_i64 << 53; 2_000];
        let at = Layout {
            n: 2_000,
            first: 0,
            step: 1,
            start: 0,
            end: 2_000,
            bucket_ms: 2_000,
        };
        let got = run(
            Column::Decimal {
                mantissas: &m,
                exp: 0,
            },
            at,
            Agg::Sum,
            1,
        )[0]
        .unwrap();
        assert_eq!(got, 2_000.0 * (1u64 << 53) as f64);
    }
}
