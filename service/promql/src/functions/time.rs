//! Time functions: `timestamp`, and the calendar functions `minute`,
//! `hour`, `day_of_month`, `day_of_week`, `day_of_year`, `days_in_month`,
//! `month`, `year` (`time` is one line in the dispatcher).
//!
//! The calendar functions read each value as seconds since the epoch
//! (truncated towards zero, as Go's `int64(v)`) in UTC; without an argument
//! they read the step's time and answer one sample without labels. They
//! must never use a local time zone. The civil date is computed here, as
//! Go's `time` package computes it (proleptic Gregorian calendar), which
//! spares a date crate for eight numbers and agrees with Prometheus even on
//! NaN and out-of-range values.

use super::{Args, CallCtx, sample};
use crate::error::Result;
use crate::value::{InstantSample, Labels};

/// A UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Civil {
    year: i64,
    /// 1..=12.
    month: i64,
    /// 1..=31.
    day: i64,
    hour: i64,
    minute: i64,
    /// 0 = Sunday.
    weekday: i64,
}

/// The calendar function `name` computes, if it is one.
pub(super) fn calendar(name: &str) -> Option<fn(Civil) -> f64> {
    let f: fn(Civil) -> f64 = match name {
        "minute" => |c| c.minute as f64,
        "hour" => |c| c.hour as f64,
        "day_of_month" => |c| c.day as f64,
        "day_of_week" => |c| c.weekday as f64,
        "day_of_year" => |c| day_of_year(c) as f64,
        "days_in_month" => |c| days_in_month(c.year, c.month) as f64,
        "month" => |c| c.month as f64,
        "year" => |c| c.year as f64,
        _ => return None,
    };
    Some(f)
}

/// A calendar function over its optional instant-vector argument.
pub(super) fn call_calendar(
    a: &mut Args,
    ctx: CallCtx,
    f: fn(Civil) -> f64,
) -> Result<Vec<InstantSample>> {
    if a.len() == 0 {
        // Go's integer division of the step's milliseconds.
        return Ok(vec![sample(
            Labels::default(),
            ctx.t,
            f(civil(ctx.t / 1000)),
        )]);
    }
    Ok(a.vector(0)?
        .into_iter()
        .map(|s| sample(s.labels.without_name(), ctx.t, f(civil(go_int64(s.v)))))
        .collect())
}

/// `timestamp(v)`: each sample's time in seconds (the time of the sample
/// a selector found, which the evaluator passes), `__name__` dropped.
pub(super) fn timestamp(v: Vec<InstantSample>, t: i64) -> Vec<InstantSample> {
    v.into_iter()
        .map(|s| sample(s.labels.without_name(), t, s.t as f64 / 1000.0))
        .collect()
}

/// Go's `int64(f)` on amd64: truncation towards zero, and the "integer
/// indefinite" value `i64::MIN` for NaN and out-of-range values.
fn go_int64(v: f64) -> i64 {
    // 2^63: the first value past i64's range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// Seconds from Go's absolute zero (1 January of year -292277022399) to
/// the Unix epoch: Go's `unixToInternal + internalToAbsolute`.
const UNIX_TO_ABSOLUTE: i64 = 9_223_372_028_715_321_600;
/// Days in 400, 100 and 4 Gregorian years.
const DAYS_PER_400_YEARS: u64 = 365 * 400 + 97;
const DAYS_PER_100_YEARS: u64 = 365 * 100 + 24;
const DAYS_PER_4_YEARS: u64 = 365 * 4 + 1;
/// Go's absolute zero year.
const ABSOLUTE_ZERO_YEAR: i64 = -292_277_022_399;

/// The UTC civil date and time of `secs` since the epoch, computed as Go's
/// `time` package does (an unsigned count of seconds since its absolute
/// zero, which wraps for the extreme values NaN turns into, so that even
/// `year(vector(NaN))` answers what Prometheus answers).
pub(super) fn civil(secs: i64) -> Civil {
    let abs = secs.wrapping_add(UNIX_TO_ABSOLUTE) as u64;
    let mut d = abs / 86_400;
    let mut n = d / DAYS_PER_400_YEARS;
    let mut y = 400 * n;
    d -= DAYS_PER_400_YEARS * n;
    // The last day of a 400-year cycle would count a fourth century.
    n = d / DAYS_PER_100_YEARS;
    n -= n >> 2;
    y += 100 * n;
    d -= DAYS_PER_100_YEARS * n;
    n = d / DAYS_PER_4_YEARS;
    y += 4 * n;
    d -= DAYS_PER_4_YEARS * n;
    // The last day of a 4-year cycle (a leap year) would count a fourth year.
    n = d / 365;
    n -= n >> 2;
    y += n;
    d -= 365 * n;
    let year = (y as i64).wrapping_add(ABSOLUTE_ZERO_YEAR);
    let yday = d as i64;
    let (mut month, mut day) = (1, yday + 1);
    while day > days_in_month(year, month) {
        day -= days_in_month(year, month);
        month += 1;
    }
    let clock = (abs % 86_400) as i64;
    // Go's absolute zero was a Monday.
    let week = abs.wrapping_add(86_400) % (7 * 86_400);
    Civil {
        year,
        month,
        day,
        hour: clock / 3600,
        minute: clock % 3600 / 60,
        weekday: (week / 86_400) as i64,
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 1..=366.
fn day_of_year(c: Civil) -> i64 {
    (1..c.month).map(|m| days_in_month(c.year, m)).sum::<i64>() + c.day
}

#[cfg(test)]
mod tests {
    use super::super::FnArg;
    use super::super::tests::{ctx, inst, vec_of};
    use super::civil;

    /// 2026-11-01T00:00:00Z, a Sunday (the golden corpus' origin).
    const ORIGIN: i64 = 1_793_491_200;

    fn at(name: &str, secs: f64) -> f64 {
        let v = vec![inst(&[("__name__", "m"), ("a", "b")], secs)];
        let out = vec_of(name, vec![FnArg::Vector(v)], ctx(0, 0));
        assert_eq!(out[0].0, "{a=\"b\"}");
        out[0].1
    }

    #[test]
    fn civil_dates() {
        let c = civil(ORIGIN);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.weekday),
            (2026, 11, 1, 0, 0, 0)
        );
        let c = civil(0);
        assert_eq!((c.year, c.month, c.day, c.weekday), (1970, 1, 1, 4));
        // 2024-02-29T23:59:59Z
        let c = civil(1_709_251_199);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2024, 2, 29, 23, 59)
        );
        // One second before the epoch.
        let c = civil(-1);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.weekday),
            (1969, 12, 31, 23, 59, 3)
        );
    }

    #[test]
    fn calendar_functions_of_values() {
        let t = (ORIGIN + 3 * 3600 + 25 * 60) as f64 + 0.9;
        assert_eq!(at("minute", t), 25.0);
        assert_eq!(at("hour", t), 3.0);
        assert_eq!(at("day_of_month", t), 1.0);
        assert_eq!(at("day_of_week", t), 0.0);
        assert_eq!(at("day_of_year", t), 305.0);
        assert_eq!(at("days_in_month", t), 30.0);
        assert_eq!(at("month", t), 11.0);
        assert_eq!(at("year", t), 2026.0);
        assert_eq!(at("days_in_month", 1_709_251_199.0), 29.0);
        assert_eq!(at("day_of_year", 1_735_603_200.0), 366.0, "2024-12-31");
        assert_eq!(
            at("days_in_month", 4_105_123_200.0),
            28.0,
            "2100-02-01: no leap"
        );
        assert_eq!(at("day_of_year", -1e15), 180.0);
        assert_eq!(at("year", -1e15), -31_686_769.0);
        assert_eq!(at("year", -62_135_596_801.0), 0.0);
        assert_eq!(at("month", -62_135_596_801.0), 12.0);
        assert_eq!(at("hour", -1.5), 23.0, "truncated towards zero: -1s");
    }

    #[test]
    fn nan_reads_as_go_reads_it() {
        // Go's int64(NaN) is i64::MIN, whose date wraps past the end of
        // Go's calendar; Prometheus 2.42 answers these.
        assert_eq!(at("year", f64::NAN), 292_277_026_596.0);
        assert_eq!(at("month", f64::NAN), 12.0);
        assert_eq!(at("day_of_month", f64::NAN), 4.0);
        assert_eq!(at("day_of_year", f64::NAN), 339.0);
        assert_eq!(at("day_of_week", f64::NAN), 0.0);
        assert_eq!(at("hour", f64::NAN), 15.0);
        assert_eq!(at("minute", f64::NAN), 30.0);
        assert_eq!(at("days_in_month", f64::NAN), 31.0);
        assert_eq!(at("year", 1e19), 292_277_026_596.0);
        assert_eq!(at("year", -1e19), 292_277_026_596.0);
    }

    #[test]
    fn calendar_functions_without_argument_read_the_step() {
        let out = vec_of("hour", vec![], ctx(ORIGIN + 7200 + 59, 0));
        assert_eq!(out, vec![("{}".to_owned(), 2.0)]);
        let out = vec_of("year", vec![], ctx(0, 0));
        assert_eq!(out, vec![("{}".to_owned(), 1970.0)]);
    }

    #[test]
    fn timestamp_answers_the_samples_time() {
        let mut s = inst(&[("__name__", "m")], 42.0);
        s.t = 12_345;
        let out = vec_of("timestamp", vec![FnArg::Vector(vec![s])], ctx(20, 0));
        assert_eq!(out, vec![("{}".to_owned(), 12.345)]);
    }
}
