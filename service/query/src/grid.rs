//! Time buckets: the rollup interval ladder and the aligned bucket grid
//! every series of an expression is computed on.

/// Rollup intervals (seconds) the default choice picks from, smallest
/// first (spec 6.1.2). Past the last one, whole multiples of a day are used.
pub const LADDER_SECS: [u32; 18] = [
    1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 43200, 86400,
];

/// Most points the default interval gives a series: Datadog's API answers
/// a day with 288 points of 5 minutes, a week with 168 of an hour.
pub const MAX_DEFAULT_POINTS: u64 = 300;

/// Resolution assumed for series that do not state one (gauges,
/// distributions, counts and rates of unknown interval): the Agent and
/// DogStatsD flush every 10 seconds.
pub const DEFAULT_NATIVE_SECS: u32 = 10;

const DAY_SECS: u32 = 86_400;

/// The rollup interval, in seconds, for a query over `[from_ms, to_ms]`
/// without `.rollup(_, seconds)`: the smallest interval of [`LADDER_SECS`]
/// (then of whole days) that is not below `native_secs` and gives at most
/// [`MAX_DEFAULT_POINTS`] buckets aligned on multiples of the interval
/// (the first at or after `from_ms`, the last at or before `to_ms`).
///
/// 1 hour → 20 s, 4 hours → 60 s, 1 day → 300 s (288 points), 1 week →
/// 3600 s. An empty or reversed range gets the smallest interval allowed.
pub fn default_interval_secs(from_ms: i64, to_ms: i64, native_secs: u32) -> u32 {
    let native = native_secs.max(1);
    let fits = |secs: u32| bucket_count(from_ms, to_ms, secs) <= MAX_DEFAULT_POINTS;
    for &l in &LADDER_SECS {
        if l >= native && fits(l) {
            return l;
        }
    }
    // Whole days. `k0` days always fit (range / (k0·day) ≤ 299, plus one
    // for alignment); a smaller k may too.
    let range_s = (i128::from(to_ms) - i128::from(from_ms)).max(0) / 1000;
    let per = i128::from(MAX_DEFAULT_POINTS - 1) * i128::from(DAY_SECS);
    let k0 = ((range_s + per - 1) / per).clamp(2, i128::from(u32::MAX / DAY_SECS)) as u32;
    let k_native = native.div_ceil(DAY_SECS);
    for k in k0.saturating_sub(2).max(2).max(k_native)..=k0.max(k_native) {
        let secs = k.saturating_mul(DAY_SECS);
        if fits(secs) {
            return secs;
        }
    }
    k0.max(k_native).saturating_mul(DAY_SECS)
}

/// Number of aligned buckets of `secs` in `[from_ms, to_ms]`.
fn bucket_count(from_ms: i64, to_ms: i64, secs: u32) -> u64 {
    let step = i128::from(secs) * 1000;
    let first = ceil_div(i128::from(from_ms), step);
    let last = floor_div(i128::from(to_ms), step);
    u64::try_from(last - first + 1).unwrap_or(0)
}

fn floor_div(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}

fn ceil_div(a: i128, b: i128) -> i128 {
    -(-a).div_euclid(b)
}

/// Buckets `[start + i·step, start + (i+1)·step)` for `i` in `0..len`. A
/// series on a grid is a `Vec<f64>` of `len` values, NaN where the bucket
/// has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Grid {
    /// Start of the first bucket, ms.
    pub start_ms: i64,
    /// Bucket length, ms (a whole number of seconds).
    pub step_ms: i64,
    /// Number of buckets.
    pub len: usize,
}

impl Grid {
    /// The grid of `interval_secs` buckets whose timestamps are multiples
    /// of the interval: the first is the first multiple ≥ `from_ms`, the last
    /// the last multiple ≤ `to_ms` (spec 6.1.2). Empty when there is none.
    /// `len` saturates at `usize::MAX` (callers check it against limits).
    pub fn aligned(from_ms: i64, to_ms: i64, interval_secs: u32) -> Grid {
        let step = i128::from(interval_secs.max(1)) * 1000;
        let first = ceil_div(i128::from(from_ms), step);
        let last = floor_div(i128::from(to_ms), step);
        let len = usize::try_from((last - first + 1).max(0)).unwrap_or(usize::MAX);
        let start = (first * step).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        Grid {
            start_ms: start,
            step_ms: step as i64,
            len,
        }
    }

    /// Bucket length in seconds.
    pub fn step_secs(&self) -> i64 {
        self.step_ms / 1000
    }

    /// Timestamp (start) of bucket `i`.
    pub fn ts(&self, i: usize) -> i64 {
        self.start_ms
            .saturating_add((i as i64).saturating_mul(self.step_ms))
    }

    /// End of the last bucket (exclusive).
    pub fn end_ms(&self) -> i64 {
        self.ts(self.len)
    }

    /// The same buckets moved by `ms` (timeshift).
    pub fn shifted(&self, ms: i64) -> Grid {
        Grid {
            start_ms: self.start_ms.saturating_add(ms),
            ..*self
        }
    }

    /// The grid with `k` more buckets before its start (look-back).
    pub fn extended_back(&self, k: usize) -> Grid {
        Grid {
            start_ms: self.start_ms - (k as i64) * self.step_ms,
            step_ms: self.step_ms,
            len: self.len + k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn ladder_matches_the_documented_choices() {
        let from = 1_795_651_200_000;
        assert_eq!(default_interval_secs(from, from + H, 10), 20);
        assert_eq!(default_interval_secs(from, from + 4 * H, 10), 60);
        assert_eq!(default_interval_secs(from, from + 24 * H, 10), 300);
        assert_eq!(default_interval_secs(from, from + 7 * 24 * H, 10), 3600);
        assert_eq!(default_interval_secs(from, from + 60_000, 10), 10);
        assert_eq!(default_interval_secs(from, from + 60_000, 1), 1);
        assert_eq!(default_interval_secs(from, from + 60_000, 15), 20);
        // A year: 300 days would be 2 days, 365 / 2 = 183 points.
        assert_eq!(
            default_interval_secs(from, from + 365 * 24 * H, 10),
            2 * 86_400
        );
        assert_eq!(default_interval_secs(from, from, 10), 10);
        assert_eq!(default_interval_secs(from, from - H, 10), 10);
    }

    #[test]
    fn a_recorded_day_gives_288_points() {
        // The recorded SaaS response of spec 6.1.3.
        let g = Grid::aligned(1_641_343_852_000, 1_641_430_252_000, 300);
        assert_eq!(g.start_ms, 1_641_344_100_000);
        assert_eq!(g.len, 288);
        assert_eq!(g.end_ms() - 1000, 1_641_430_499_000);
    }

    #[test]
    fn grids_align_on_multiples_and_handle_extremes() {
        let g = Grid::aligned(-15_000, 15_000, 10);
        assert_eq!((g.start_ms, g.len), (-10_000, 3));
        let g = Grid::aligned(1_001, 1_999, 1);
        assert_eq!(g.len, 0);
        let g = Grid::aligned(i64::MIN, i64::MAX, 1);
        assert!(g.len > 1 << 40);
        assert_eq!(default_interval_secs(i64::MIN, i64::MAX, 10) % 86_400, 0);
    }
}
