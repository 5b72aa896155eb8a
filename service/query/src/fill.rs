//! `.fill(mode[, limit])`: what empty buckets of a series become.

use whippet_ddql::FillMode;

/// How far `last` and `linear` reach when no limit is written, seconds
/// (Datadog's documented default).
pub const DEFAULT_FILL_LIMIT_SECS: i64 = 300;

/// Fills the empty (NaN) buckets of `values`, buckets of `step_secs`.
///
/// * `null`: nothing changes (the caller reports every bucket).
/// * `zero`: every empty bucket becomes 0 (the limit does not apply).
/// * `last`: an empty bucket takes the last value before it when it is at
///   most `limit` seconds after it; empty buckets before the first value stay
///   empty.
/// * `linear`: a run of empty buckets between two values is interpolated
///   when the run spans at most `limit` seconds (run length × interval);
///   runs at the edges stay empty.
///
/// The limit is never less than one interval, so that with coarse rollups
/// (an hour) a single missing bucket is still filled.
pub(crate) fn fill(values: &mut [f64], mode: FillMode, limit_secs: Option<u32>, step_secs: i64) {
    let step = step_secs.max(1);
    let limit = limit_secs
        .map_or(DEFAULT_FILL_LIMIT_SECS, i64::from)
        .max(step);
    // Buckets a gap may span.
    let reach = (limit / step) as usize;
    match mode {
        FillMode::Null => {}
        FillMode::Zero => values
            .iter_mut()
            .filter(|v| v.is_nan())
            .for_each(|v| *v = 0.0),
        FillMode::Last => {
            let mut last: Option<(usize, f64)> = None;
            for (i, v) in values.iter_mut().enumerate() {
                if !v.is_nan() {
                    last = Some((i, *v));
                } else if let Some((j, lv)) = last
                    && i - j <= reach
                {
                    *v = lv;
                }
            }
        }
        FillMode::Linear => {
            let mut prev: Option<usize> = None;
            for i in 0..values.len() {
                if values[i].is_nan() {
                    continue;
                }
                if let Some(j) = prev {
                    let gap = i - j - 1;
                    if gap > 0 && gap <= reach {
                        let (a, b) = (values[j], values[i]);
                        let n = (i - j) as f64;
                        for (k, v) in values[j + 1..i].iter_mut().enumerate() {
                            *v = a + (b - a) * (k + 1) as f64 / n;
                        }
                    }
                }
                prev = Some(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    fn run(v: &[f64], mode: FillMode, limit: Option<u32>, step: i64) -> Vec<String> {
        let mut v = v.to_vec();
        fill(&mut v, mode, limit, step);
        v.iter().map(|x| format!("{x}")).collect()
    }

    #[test]
    fn modes() {
        let v = [N, 1.0, N, N, 4.0, N];
        assert_eq!(
            run(&v, FillMode::Zero, None, 10),
            ["0", "1", "0", "0", "4", "0"]
        );
        assert_eq!(
            run(&v, FillMode::Null, None, 10),
            ["NaN", "1", "NaN", "NaN", "4", "NaN"]
        );
        assert_eq!(
            run(&v, FillMode::Last, None, 10),
            ["NaN", "1", "1", "1", "4", "4"]
        );
        assert_eq!(
            run(&v, FillMode::Last, Some(10), 10),
            ["NaN", "1", "1", "NaN", "4", "4"]
        );
        assert_eq!(
            run(&v, FillMode::Linear, None, 10),
            ["NaN", "1", "2", "3", "4", "NaN"]
        );
        assert_eq!(
            run(&v, FillMode::Linear, Some(10), 10),
            ["NaN", "1", "NaN", "NaN", "4", "NaN"]
        );
        // A limit below the interval still fills one bucket.
        assert_eq!(
            run(&v, FillMode::Last, Some(60), 3600),
            ["NaN", "1", "1", "NaN", "4", "4"]
        );
    }
}
