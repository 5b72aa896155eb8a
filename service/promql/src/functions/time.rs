//! Time functions: `timestamp`, and the calendar functions `minute`,
//! `hour`, `day_of_month`, `day_of_week`, `day_of_year`, `days_in_month`,
//! `month`, `year` (`time` is one line in the dispatcher).
//!
//! The calendar functions read each value as seconds since the epoch
//! (truncated towards zero, as Go's `int64(v)`) in UTC; without an argument
//! they read the step's time and answer one sample without labels. They
//! must never use a local time zone. The civil date is computed here
//! (proleptic Gregorian calendar, Howard Hinnant's `civil_from_days`),
//! which spares a date crate for eight numbers.

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

/// The UTC civil date and time of `secs` since the epoch.
pub(super) fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Hinnant's civil_from_days: eras of 400 years starting on March 1st.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        // 1970-01-01 was a Thursday.
        weekday: (days + 4).rem_euclid(7),
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
