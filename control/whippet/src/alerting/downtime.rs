//! Downtimes: what a stored downtime definition means, and whether one
//! mutes a given group of a given monitor at a given time.
//!
//! # What it owns
//! - The definition format the HTTP layer writes and the scheduler reads
//!   ([`Downtime::parse`]): `scope`, `monitor_id`, `monitor_tags`, `start`,
//!   `end` (epoch seconds) and `recurrence`, with every rule a definition
//!   must obey and the message that says which one it broke.
//! - When a downtime is in effect ([`Downtime::window_at`]): one-off, from
//!   `start` to `end` (forever without an end); recurring, one occurrence of
//!   length `end - start` per period.
//! - What it covers ([`Downtime::covers`]): a monitor (by `monitor_id`, or
//!   by `monitor_tags`, all of which must be among the monitor's tags) and
//!   a group (every tag of every `scope` entry must be among the group's
//!   tags; `*` covers every group).
//!
//! # What it must never do
//! Touch the store, the clock or the network: it is pure, so the scheduler
//! can call [`mutes`] for every group of every monitor each round, and
//! tests pin every boundary.
//!
//! # Recurrences (Datadog's v1 `recurrence` object)
//! The first occurrence is `[start, end)`; the others start at the same
//! time of day, on:
//! - `days`: every `period` days;
//! - `weeks`: every `period` weeks (weeks start on Monday), on each of
//!   `week_days` (`Mon` ... `Sun`), or on the start's weekday when none are
//!   given; only days on or after the start's day count;
//! - `months`: every `period` months on the start's day of the month; a
//!   month without that day (the 31st in April) has no occurrence, as in
//!   RFC 5545 (which Datadog's recurrences follow);
//! - `years`: every `period` years on the start's month and day (29
//!   February only in leap years).
//!
//! `until_date` (epoch seconds): no occurrence starts after it; one that
//! started before runs its full length. `until_occurrences`: at most that
//! many occurrences, the first included. `rrule` recurrences are refused.
//!
//! Times are UTC: `timezone` is kept and echoed for display, but a
//! recurrence keeps the start's UTC time of day across daylight-saving
//! changes. Cost: checking a recurring downtime visits each day that an
//! occurrence covering `now` could have started on, so it is bounded by
//! the duration, itself capped at [`MAX_RECURRING_DURATION_SECS`].

use std::collections::HashMap;

use serde_json::Value;
use whippet_meta::{DowntimeRecord, OrgId};
use whippet_tsdb::time::civil_from_days;

const DAY_SECS: i64 = 86_400;

/// Longest occurrence of a recurring downtime, in seconds (366 days): a
/// window longer than a year cannot recur usefully, and the bound caps the
/// days [`Downtime::window_at`] looks back over (one per day of duration).
pub const MAX_RECURRING_DURATION_SECS: i64 = 366 * DAY_SECS;

/// Largest recurrence `period`: Datadog's model caps it at `i32::MAX`; no
/// schedule needs more than ten thousand units, and the bound keeps the
/// month and year arithmetic far from overflow.
pub const MAX_PERIOD: i64 = 10_000;

/// The week day names Datadog takes in `week_days`, Monday first (the bit
/// of a day in [`Recurrence::week_days`] is its index here).
pub const WEEK_DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The unit of a recurrence's `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `"days"`.
    Days,
    /// `"weeks"`.
    Weeks,
    /// `"months"`.
    Months,
    /// `"years"`.
    Years,
}

/// A parsed `recurrence` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    /// `type`.
    pub unit: Unit,
    /// `period`: every how many units (1 ..= [`MAX_PERIOD`]).
    pub period: i64,
    /// `week_days` as a bit set (bit 0 Monday ... bit 6 Sunday); for
    /// weeks only, never empty (the start's weekday when none are given).
    pub week_days: u8,
    /// `until_date`, epoch seconds.
    pub until_date: Option<i64>,
    /// `until_occurrences`.
    pub until_occurrences: Option<i64>,
}

/// A parsed downtime definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downtime {
    /// Every tag a group must have (all `scope` entries split at commas,
    /// `*` dropped); empty covers every group.
    pub scope_tags: Vec<String>,
    /// `monitor_id`: only this monitor.
    pub monitor_id: Option<i64>,
    /// `monitor_tags` (`*` dropped): every one must be a tag of the monitor.
    pub monitor_tags: Vec<String>,
    /// Epoch seconds.
    pub start: i64,
    /// Epoch seconds; `None`: until canceled (never for a recurrence).
    pub end: Option<i64>,
    /// `recurrence`.
    pub recurrence: Option<Recurrence>,
}

/// Day number (days since 1970-01-01) to weekday, Monday = 0.
fn weekday(day: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    (day + 3).rem_euclid(7) as u32
}

/// The Monday-started week a day belongs to.
fn week(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// Bits of `mask` for weekdays before `wd`.
fn days_before(mask: u8, wd: u32) -> i64 {
    i64::from((mask & ((1u8 << wd) - 1)).count_ones())
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Whether (y, m, d) is a date.
fn exists(y: i64, m: u32, d: u32) -> bool {
    let len = match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= len
}

/// A tag list: a JSON array of strings, each maybe a comma list.
fn tag_list(def: &Value, key: &str) -> Result<Vec<String>, String> {
    let Some(v) = def.get(key).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items: Vec<&str> = match v {
        Value::Array(a) => a
            .iter()
            .map(|t| {
                t.as_str()
                    .ok_or_else(|| format!("{key} must be a list of strings"))
            })
            .collect::<Result<_, _>>()?,
        Value::String(s) => vec![s.as_str()],
        _ => return Err(format!("{key} must be a list of strings")),
    };
    let mut out = Vec::new();
    for item in items {
        for tag in item.split(',').map(str::trim) {
            if tag.is_empty() {
                return Err(format!("{key} has an empty tag"));
            }
            if tag.chars().any(char::is_whitespace) {
                return Err(format!("{key} tag {tag:?} contains white space"));
            }
            if tag != "*" && !out.iter().any(|t| t == tag) {
                out.push(tag.to_string());
            }
        }
    }
    Ok(out)
}

/// An optional integer field (`null` counts as absent).
fn opt_int(v: &Value, key: &str) -> Result<Option<i64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{key} must be an integer")),
    }
}

impl Recurrence {
    fn parse(r: &Value, start: i64) -> Result<Recurrence, String> {
        if !r.is_object() {
            return Err("recurrence must be an object".into());
        }
        let unit = match r.get("type").and_then(Value::as_str) {
            Some("days") => Unit::Days,
            Some("weeks") => Unit::Weeks,
            Some("months") => Unit::Months,
            Some("years") => Unit::Years,
            Some("rrule") => {
                return Err(
                    "recurrence type \"rrule\" is not supported; use days, weeks, months or years"
                        .into(),
                );
            }
            Some(other) => {
                return Err(format!(
                    "recurrence type must be days, weeks, months or years, not {other:?}"
                ));
            }
            None => return Err("recurrence type is required (days, weeks, months or years)".into()),
        };
        let period = opt_int(r, "period")?.unwrap_or(1);
        if !(1..=MAX_PERIOD).contains(&period) {
            return Err(format!(
                "recurrence period must be from 1 to {MAX_PERIOD}, not {period}"
            ));
        }
        let mut week_days = 0u8;
        match r.get("week_days") {
            None | Some(Value::Null) => {}
            Some(Value::Array(days)) => {
                for d in days {
                    let i = d
                        .as_str()
                        .and_then(|d| WEEK_DAYS.iter().position(|w| *w == d))
                        .ok_or_else(|| {
                            format!("recurrence week_days must be among Mon, Tue, Wed, Thu, Fri, Sat, Sun, not {d}")
                        })?;
                    week_days |= 1 << i;
                }
            }
            Some(_) => return Err("recurrence week_days must be a list".into()),
        }
        if week_days != 0 && unit != Unit::Weeks {
            return Err("recurrence week_days applies only to type weeks".into());
        }
        if unit == Unit::Weeks && week_days == 0 {
            week_days = 1 << weekday(start.div_euclid(DAY_SECS));
        }
        let until_date = opt_int(r, "until_date")?;
        let until_occurrences = opt_int(r, "until_occurrences")?;
        if until_date.is_some() && until_occurrences.is_some() {
            return Err(
                "recurrence until_date and until_occurrences are mutually exclusive".into(),
            );
        }
        if until_occurrences.is_some_and(|n| n < 1) {
            return Err("recurrence until_occurrences must be at least 1".into());
        }
        if until_date.is_some_and(|u| u < start) {
            return Err("recurrence until_date must not be before the downtime's start".into());
        }
        Ok(Recurrence {
            unit,
            period,
            week_days,
            until_date,
            until_occurrences,
        })
    }

    /// The index of the occurrence that starts on `day` (the first one,
    /// on `first_day`, is 0), or `None` when none starts that day.
    fn index_on(&self, first_day: i64, day: i64) -> Option<i64> {
        if day < first_day {
            return None;
        }
        let n = self.period;
        match self.unit {
            Unit::Days => ((day - first_day) % n == 0).then(|| (day - first_day) / n),
            Unit::Weeks => {
                let weeks = week(day) - week(first_day);
                let wd = weekday(day);
                if weeks % n != 0 || self.week_days & (1 << wd) == 0 {
                    return None;
                }
                let per_week = i64::from(self.week_days.count_ones());
                Some(
                    weeks / n * per_week - days_before(self.week_days, weekday(first_day))
                        + days_before(self.week_days, wd),
                )
            }
            Unit::Months | Unit::Years => {
                let (y0, m0, d0) = civil_from_days(first_day);
                let (y, m, d) = civil_from_days(day);
                let months = (y - y0) * 12 + i64::from(m) - i64::from(m0);
                let step = if self.unit == Unit::Years { 12 * n } else { n };
                if d != d0 || months % step != 0 {
                    return None;
                }
                let k = months / step;
                // Only the 29th to 31st can be missing from a month (and 29
                // February from a year): count the steps that had the day.
                if d0 <= 28 {
                    return Some(k);
                }
                let month_at = |i: i64| {
                    let total = y0 * 12 + i64::from(m0) - 1 + i * step;
                    (total.div_euclid(12), total.rem_euclid(12) as u32 + 1)
                };
                Some(
                    (0..k)
                        .filter(|&i| {
                            let (yy, mm) = month_at(i);
                            exists(yy, mm, d0)
                        })
                        .count() as i64,
                )
            }
        }
    }
}

impl Downtime {
    /// Parses and checks a definition: the error says what is wrong in
    /// words a client can act on (the HTTP layer answers 400 with it).
    pub fn parse(def: &Value) -> Result<Downtime, String> {
        if !def.is_object() {
            return Err("a downtime must be a JSON object".into());
        }
        let scope_tags = tag_list(def, "scope")?;
        let monitor_tags = tag_list(def, "monitor_tags")?;
        let monitor_id = opt_int(def, "monitor_id")?;
        if monitor_id.is_some_and(|id| id <= 0) {
            return Err("monitor_id must be a positive integer".into());
        }
        let start = opt_int(def, "start")?.ok_or("start is required")?;
        let end = opt_int(def, "end")?;
        if let Some(end) = end
            && end <= start
        {
            return Err(format!("end ({end}) must be after start ({start})"));
        }
        let recurrence = match def.get("recurrence") {
            None | Some(Value::Null) => None,
            Some(r) => {
                let Some(end) = end else {
                    return Err("a recurring downtime needs an end: the length of each occurrence is end - start".into());
                };
                if end - start > MAX_RECURRING_DURATION_SECS {
                    return Err(format!(
                        "a recurring downtime's occurrence (end - start) must not be longer than {} days",
                        MAX_RECURRING_DURATION_SECS / DAY_SECS
                    ));
                }
                Some(Recurrence::parse(r, start)?)
            }
        };
        Ok(Downtime {
            scope_tags,
            monitor_id,
            monitor_tags,
            start,
            end,
            recurrence,
        })
    }

    /// The occurrence in effect at `now_s` as `(start, end)` epoch
    /// seconds (`end` `None`: until canceled), or `None` when the downtime
    /// is not in effect then. Starts are inclusive, ends exclusive. Of
    /// overlapping occurrences, the latest started.
    pub fn window_at(&self, now_s: i64) -> Option<(i64, Option<i64>)> {
        let Some(r) = &self.recurrence else {
            let active = self.start <= now_s && self.end.is_none_or(|e| now_s < e);
            return active.then_some((self.start, self.end));
        };
        // A recurrence always has an end (parse checks).
        let duration = self.end? - self.start;
        let first_day = self.start.div_euclid(DAY_SECS);
        let time_of_day = self.start.rem_euclid(DAY_SECS);
        // Occurrence on day d: [d * DAY + tod, ... + duration) holds now
        // iff d <= (now - tod) / DAY and d > (now - duration - tod) / DAY.
        let last = (now_s - time_of_day).div_euclid(DAY_SECS);
        let first = ((now_s - duration - time_of_day).div_euclid(DAY_SECS) + 1).max(first_day);
        (first..=last).rev().find_map(|day| {
            let index = r.index_on(first_day, day)?;
            let begin = day * DAY_SECS + time_of_day;
            let within_date = r.until_date.is_none_or(|u| begin <= u);
            let within_count = r.until_occurrences.is_none_or(|n| index < n);
            (within_date && within_count).then_some((begin, Some(begin + duration)))
        })
    }

    /// Whether the downtime is in effect at `now_s`.
    pub fn active_at(&self, now_s: i64) -> bool {
        self.window_at(now_s).is_some()
    }

    /// Whether the downtime applies to this monitor (ignoring groups and
    /// time).
    pub fn covers_monitor(&self, monitor_id: i64, monitor_tags: &[String]) -> bool {
        self.monitor_id.is_none_or(|id| id == monitor_id)
            && self
                .monitor_tags
                .iter()
                .all(|t| monitor_tags.iter().any(|m| m == t))
    }

    /// Whether the downtime applies to `group` (`"host:a,env:prod"`; `"*"`
    /// for a monitor without groups, which has no tags: only a `*` scope
    /// covers it).
    pub fn covers_group(&self, group: &str) -> bool {
        self.scope_tags
            .iter()
            .all(|t| group.split(',').any(|g| g.trim() == t))
    }

    /// Whether the downtime applies to this group of this monitor
    /// (ignoring time).
    pub fn covers(&self, monitor_id: i64, monitor_tags: &[String], group: &str) -> bool {
        self.covers_monitor(monitor_id, monitor_tags) && self.covers_group(group)
    }
}

/// Whether any of `downtimes` (those of the monitor's org) is in effect at
/// `now_s` and covers `group` of monitor `monitor_id` tagged
/// `monitor_tags`.
pub fn mutes(
    downtimes: &[Downtime],
    monitor_id: i64,
    monitor_tags: &[String],
    group: &str,
    now_s: i64,
) -> bool {
    downtimes
        .iter()
        .any(|d| d.covers(monitor_id, monitor_tags, group) && d.active_at(now_s))
}

/// The downtimes of each org, parsed, from the store's listing (canceled
/// ones must already be left out). A definition that no longer parses
/// (written by a newer build, edited by hand) is skipped with a warning:
/// one bad row must not stop every monitor's evaluation.
pub fn by_org(records: &[DowntimeRecord]) -> HashMap<OrgId, Vec<Downtime>> {
    let mut out: HashMap<OrgId, Vec<Downtime>> = HashMap::new();
    for r in records.iter().filter(|r| r.canceled_at.is_none()) {
        match Downtime::parse(&r.definition) {
            Ok(d) => out.entry(r.org).or_default().push(d),
            Err(e) => tracing::warn!(downtime = r.id, error = %e, "skipping unreadable downtime"),
        }
    }
    out
}

/// The tags of a monitor definition (`tags`), as [`mutes`] takes them.
pub fn monitor_tags(definition: &Value) -> Vec<String> {
    definition
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use whippet_tsdb::time::days_from_civil;

    use super::*;

    /// 2024-01-01T00:00:00Z, a Monday.
    const MON: i64 = 1_704_067_200;
    const H: i64 = 3600;

    fn dt(def: Value) -> Downtime {
        Downtime::parse(&def).unwrap()
    }

    fn err(def: Value) -> String {
        Downtime::parse(&def).unwrap_err()
    }

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_reference_day_is_a_monday() {
        assert_eq!(weekday(MON / DAY_SECS), 0);
        assert_eq!(civil_from_days(MON / DAY_SECS), (2024, 1, 1));
    }

    #[test]
    fn one_off_boundaries() {
        let d = dt(json!({"scope": ["*"], "start": MON, "end": MON + H}));
        assert!(!d.active_at(MON - 1));
        assert!(d.active_at(MON));
        assert!(d.active_at(MON + H - 1));
        assert!(!d.active_at(MON + H));
        assert_eq!(d.window_at(MON + 5), Some((MON, Some(MON + H))));
        let forever = dt(json!({"scope": ["*"], "start": MON}));
        assert!(!forever.active_at(MON - 1));
        assert!(forever.active_at(MON + 100 * 365 * DAY_SECS));
    }

    #[test]
    fn daily_every_n_days() {
        // 02:00-03:00 every 2 days from Monday.
        let d = dt(
            json!({"scope": ["*"], "start": MON + 2 * H, "end": MON + 3 * H,
            "recurrence": {"type": "days", "period": 2}}),
        );
        assert!(d.active_at(MON + 2 * H));
        assert!(!d.active_at(MON + 3 * H));
        assert!(!d.active_at(MON + DAY_SECS + 2 * H), "odd day");
        assert!(d.active_at(MON + 2 * DAY_SECS + 2 * H));
        assert!(d.active_at(MON + 2 * DAY_SECS + 3 * H - 1));
        assert!(!d.active_at(MON + 2 * DAY_SECS + 3 * H));
        assert!(!d.active_at(MON - 2 * DAY_SECS + 2 * H), "before the start");
        assert_eq!(
            d.window_at(MON + 40 * DAY_SECS + 2 * H + 30),
            Some((
                MON + 40 * DAY_SECS + 2 * H,
                Some(MON + 40 * DAY_SECS + 3 * H)
            ))
        );
    }

    #[test]
    fn occurrences_crossing_midnight() {
        // 23:00-01:00 daily.
        let d = dt(
            json!({"scope": ["*"], "start": MON + 23 * H, "end": MON + 25 * H,
            "recurrence": {"type": "days", "period": 1}}),
        );
        assert!(
            d.active_at(MON + 3 * DAY_SECS + 30 * 60),
            "00:30 after the 3rd"
        );
        assert!(!d.active_at(MON + 3 * DAY_SECS + H));
        assert!(
            !d.active_at(MON + 30 * 60),
            "the first night starts at 23:00"
        );
        assert!(d.active_at(MON + DAY_SECS + 30 * 60));
    }

    #[test]
    fn weekly_on_week_days() {
        // 09:00-10:00 on Tuesdays and Thursdays, every other week, from
        // Wednesday 3 January: the first is Thursday 4 January.
        let wed = MON + 2 * DAY_SECS;
        let d = dt(
            json!({"scope": ["*"], "start": wed + 9 * H, "end": wed + 10 * H,
            "recurrence": {"type": "weeks", "period": 2, "week_days": ["Tue", "Thu"]}}),
        );
        let at = |day: i64, hour: i64| MON + day * DAY_SECS + hour * H;
        assert!(!d.active_at(at(1, 9)), "Tuesday before the start");
        assert!(!d.active_at(at(2, 9)), "Wednesday is not listed");
        assert!(d.active_at(at(3, 9)), "Thursday of week 0");
        assert!(!d.active_at(at(8, 9)), "Tuesday of week 1 (odd week)");
        assert!(!d.active_at(at(10, 9)), "Thursday of week 1");
        assert!(d.active_at(at(15, 9)), "Tuesday of week 2");
        assert!(
            d.active_at(at(17, 9) + H - 1),
            "Thursday of week 2, last second"
        );
        assert!(!d.active_at(at(17, 10)));
    }

    #[test]
    fn weekly_defaults_to_the_start_weekday_and_counts_occurrences() {
        let d = dt(json!({"scope": ["*"], "start": MON, "end": MON + H,
            "recurrence": {"type": "weeks", "period": 1, "until_occurrences": 3}}));
        assert!(d.active_at(MON));
        assert!(!d.active_at(MON + DAY_SECS));
        assert!(d.active_at(MON + 14 * DAY_SECS), "third");
        assert!(
            !d.active_at(MON + 21 * DAY_SECS),
            "fourth is past the count"
        );
        // Two days a week, starting on the second of them: occurrences are
        // Fri(0), Mon(1), Fri(2), Mon(3).
        let fri = MON + 4 * DAY_SECS;
        let d = dt(json!({"scope": ["*"], "start": fri, "end": fri + H,
            "recurrence": {"type": "weeks", "week_days": ["Mon", "Fri"], "until_occurrences": 4}}));
        assert!(!d.active_at(MON), "the Monday before the start");
        assert!(d.active_at(fri));
        assert!(d.active_at(MON + 7 * DAY_SECS));
        assert!(d.active_at(MON + 14 * DAY_SECS), "fourth");
        assert!(!d.active_at(fri + 14 * DAY_SECS), "fifth");
    }

    #[test]
    fn monthly_skips_months_without_the_day() {
        // 2024-01-31 12:00, one hour, monthly: no February, April (30 days).
        let jan31 = days_from_civil(2024, 1, 31) * DAY_SECS + 12 * H;
        let d = dt(json!({"scope": ["*"], "start": jan31, "end": jan31 + H,
            "recurrence": {"type": "months", "period": 1, "until_occurrences": 3}}));
        let on = |m: u32, day: u32| days_from_civil(2024, m, day) * DAY_SECS + 12 * H;
        assert!(d.active_at(on(1, 31)));
        assert!(!d.active_at(on(2, 29)));
        assert!(!d.active_at(on(3, 1)));
        assert!(d.active_at(on(3, 31)), "second occurrence");
        assert!(!d.active_at(on(4, 30)));
        assert!(d.active_at(on(5, 31)), "third occurrence");
        assert!(!d.active_at(on(7, 31)), "fourth is past the count");
        // Every third month on the 15th.
        let s = days_from_civil(2023, 11, 15) * DAY_SECS;
        let d = dt(json!({"scope": ["*"], "start": s, "end": s + DAY_SECS,
            "recurrence": {"type": "months", "period": 3}}));
        let on = |y: i64, m: u32, day: u32| days_from_civil(y, m, day) * DAY_SECS;
        assert!(d.active_at(on(2024, 2, 15)));
        assert!(!d.active_at(on(2024, 3, 15)));
        assert!(d.active_at(on(2024, 5, 15) + DAY_SECS - 1));
        assert!(!d.active_at(on(2024, 5, 16)));
    }

    #[test]
    fn yearly_and_leap_days() {
        let feb29 = days_from_civil(2024, 2, 29) * DAY_SECS;
        let d = dt(json!({"scope": ["*"], "start": feb29, "end": feb29 + H,
            "recurrence": {"type": "years", "period": 1, "until_occurrences": 2}}));
        let on = |y: i64, m: u32, day: u32| days_from_civil(y, m, day) * DAY_SECS;
        assert!(d.active_at(on(2024, 2, 29)));
        assert!(!d.active_at(on(2025, 2, 28)));
        assert!(!d.active_at(on(2025, 3, 1)));
        assert!(d.active_at(on(2028, 2, 29)), "second occurrence");
        assert!(!d.active_at(on(2032, 2, 29)), "third is past the count");
    }

    #[test]
    fn until_date_stops_new_occurrences_only() {
        let d = dt(json!({"scope": ["*"], "start": MON, "end": MON + 2 * H,
            "recurrence": {"type": "days", "until_date": MON + DAY_SECS}}));
        assert!(d.active_at(MON + DAY_SECS), "starts exactly at until_date");
        assert!(
            d.active_at(MON + DAY_SECS + 2 * H - 1),
            "runs its full length"
        );
        assert!(!d.active_at(MON + 2 * DAY_SECS));
    }

    #[test]
    fn scope_and_monitor_matching() {
        let d = dt(json!({"scope": ["env:prod,host:a"], "start": 0}));
        assert!(d.covers_group("host:a,env:prod"));
        assert!(d.covers_group("env:prod,host:a,az:1"));
        assert!(!d.covers_group("host:a"));
        assert!(!d.covers_group("*"));
        let d = dt(json!({"scope": ["env:prod", "host:a"], "start": 0}));
        assert!(d.covers_group("host:a,env:prod"), "all entries must match");
        assert!(!d.covers_group("host:b,env:prod"));
        let all = dt(json!({"scope": ["*"], "start": 0}));
        assert!(all.covers_group("*") && all.covers_group("host:a"));

        let by_id = dt(json!({"scope": "*", "monitor_id": 7, "start": 0}));
        assert!(by_id.covers_monitor(7, &[]));
        assert!(!by_id.covers_monitor(8, &[]));
        let by_tags =
            dt(json!({"scope": ["*"], "monitor_tags": ["team:a", "service:web"], "start": 0}));
        assert!(by_tags.covers_monitor(1, &tags(&["service:web", "team:a", "x"])));
        assert!(!by_tags.covers_monitor(1, &tags(&["team:a"])));
        let star = dt(json!({"scope": ["*"], "monitor_tags": ["*"], "start": 0}));
        assert!(star.covers_monitor(1, &[]));
    }

    #[test]
    fn mutes_needs_time_monitor_and_group() {
        let ds = vec![
            dt(json!({"scope": ["host:a"], "monitor_id": 1, "start": MON, "end": MON + H})),
            dt(json!({"scope": ["env:dev"], "start": MON + 10 * H})),
        ];
        assert!(mutes(&ds, 1, &[], "host:a", MON));
        assert!(!mutes(&ds, 1, &[], "host:a", MON + H));
        assert!(!mutes(&ds, 2, &[], "host:a", MON));
        assert!(!mutes(&ds, 1, &[], "host:b", MON));
        assert!(mutes(&ds, 2, &[], "env:dev,host:z", MON + 10 * H));
        assert!(!mutes(&[], 1, &[], "*", MON));
    }

    #[test]
    fn bad_definitions_say_what_is_wrong() {
        assert!(err(json!({"scope": ["*"]})).contains("start is required"));
        assert!(
            err(json!({"scope": ["*"], "start": 10, "end": 10})).contains("must be after start")
        );
        assert!(err(json!({"scope": [""], "start": 1})).contains("empty tag"));
        assert!(err(json!({"scope": [1], "start": 1})).contains("list of strings"));
        assert!(err(json!({"scope": ["*"], "start": "x"})).contains("start must be an integer"));
        assert!(
            err(json!({"scope": ["*"], "start": 1, "recurrence": {"type": "days"}}))
                .contains("needs an end")
        );
        let rec = |r: Value| err(json!({"scope": ["*"], "start": 1, "end": 2, "recurrence": r}));
        assert!(rec(json!({"type": "rrule", "rrule": "FREQ=DAILY"})).contains("not supported"));
        assert!(rec(json!({"type": "hours"})).contains("days, weeks, months or years"));
        assert!(rec(json!({"type": "days", "period": 0})).contains("period"));
        assert!(rec(json!({"type": "weeks", "week_days": ["mon"]})).contains("week_days"));
        assert!(rec(json!({"type": "days", "week_days": ["Mon"]})).contains("only to type weeks"));
        assert!(
            rec(json!({"type": "days", "until_date": 5, "until_occurrences": 2}))
                .contains("mutually exclusive")
        );
        assert!(rec(json!({"type": "days", "until_occurrences": 0})).contains("at least 1"));
        let long = json!({"scope": ["*"], "start": 0, "end": MAX_RECURRING_DURATION_SECS + 1,
            "recurrence": {"type": "years"}});
        assert!(err(long).contains("longer than 366 days"));
        assert!(err(json!({"scope": ["*"], "start": 1, "monitor_id": 0})).contains("monitor_id"));
    }

    #[test]
    fn by_org_skips_canceled_and_unreadable() {
        let rec = |id: i64, org: u32, def: Value, canceled: Option<i64>| DowntimeRecord {
            id,
            org: OrgId(org),
            definition: def,
            created_at: 0,
            modified_at: 0,
            canceled_at: canceled,
        };
        let got = by_org(&[
            rec(1, 1, json!({"scope": ["*"], "start": 0}), None),
            rec(2, 1, json!({"scope": ["*"]}), None),
            rec(3, 2, json!({"scope": ["*"], "start": 0}), Some(5)),
            rec(4, 2, json!({"scope": ["host:a"], "start": 0}), None),
        ]);
        assert_eq!(got[&OrgId(1)].len(), 1);
        assert_eq!(got[&OrgId(2)][0].scope_tags, ["host:a"]);
    }
}
