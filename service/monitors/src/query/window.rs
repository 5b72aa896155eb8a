//! Evaluation windows and time shifts: `last_5m` in metric monitors,
//! `"5m"` in event alerts.
//!
//! A window is a whole number of minutes, hours, days or weeks. It is kept
//! as seconds and printed in the largest unit that divides it exactly, so
//! `last_60m` and `last_1h` are the same window and print as `last_1h`.

use std::fmt;

use super::cursor::echo;
use super::error::QueryError;

/// Seconds in a minute, the smallest window unit Datadog offers.
const MINUTE: u32 = 60;
/// Seconds in an hour.
const HOUR: u32 = 60 * MINUTE;
/// Seconds in a day.
const DAY: u32 = 24 * HOUR;
/// Seconds in a week.
const WEEK: u32 = 7 * DAY;

/// Seconds of `last_1mo`. Datadog does not say how long its month is; 30
/// days is the usual reading and keeps the window a whole number of days.
pub const MONTH_SECONDS: u32 = 30 * DAY;

/// Longest window (and time shift) of a metric monitor: Datadog's longest
/// choice is one month (`last_1mo`), taken as [`MONTH_SECONDS`]. The bound
/// also bounds how much data one evaluation reads.
pub const MAX_METRIC_WINDOW_SECONDS: u32 = MONTH_SECONDS;

/// Longest window of an event alert: Datadog's API reference allows `#m`
/// up to 2880 and `#h` up to 48, two days.
pub const MAX_EVENT_WINDOW_SECONDS: u32 = 2 * DAY;

/// Units, largest first (the printer picks the first that divides).
const UNITS: [(&str, u32); 4] = [("w", WEEK), ("d", DAY), ("h", HOUR), ("m", MINUTE)];

/// A length of time, a positive whole number of minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    seconds: u32,
}

impl Window {
    /// The window of `seconds`, if it is a positive whole number of
    /// minutes.
    pub fn from_seconds(seconds: u32) -> Option<Window> {
        (seconds > 0 && seconds.is_multiple_of(MINUTE)).then_some(Window { seconds })
    }

    /// Its length in seconds (at least 60).
    pub fn seconds(self) -> u32 {
        self.seconds
    }

    /// Reads `<N><unit>` (`5m`, `1h`, `2d`, `1w`; `1mo` too where
    /// `spelling` allows it), N ≥ 1, no longer than `spelling.max_seconds`.
    /// `text` is the token without its `last_` prefix or quotes, found at
    /// byte `at` of the query (where errors point).
    pub(crate) fn parse(text: &str, at: usize, spelling: &Spelling) -> Result<Window, QueryError> {
        let invalid = || {
            QueryError::at(
                at,
                format!(
                    "invalid window `{}`; expected {}",
                    echo(&spelling.shown(text)),
                    spelling.expected
                ),
            )
        };
        let digits_end = text
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits_end);
        if number.is_empty() {
            return Err(invalid());
        }
        let unit_seconds = match unit {
            "mo" if spelling.allow_month => MONTH_SECONDS,
            _ => match UNITS.iter().find(|(name, _)| *name == unit) {
                Some((_, s)) => *s,
                None => return Err(invalid()),
            },
        };
        // Leading zeros are harmless; more digits than u64 holds is simply
        // too long (checked below), never an overflow.
        let n: u64 = number.parse().unwrap_or(u64::MAX);
        if n == 0 {
            return Err(QueryError::at(
                at,
                format!(
                    "invalid window `{}`: it must be at least 1{unit}",
                    echo(&spelling.shown(text))
                ),
            ));
        }
        let seconds = n.saturating_mul(u64::from(unit_seconds));
        if seconds > u64::from(spelling.max_seconds) {
            return Err(QueryError::at(
                at,
                format!(
                    "window `{}` is too long: {}",
                    echo(&spelling.shown(text)),
                    spelling.too_long
                ),
            ));
        }
        // In range: at most `max_seconds`, a u32, and a multiple of 60.
        Ok(Window {
            seconds: seconds as u32,
        })
    }
}

/// How windows are written in one place of one query form, for parsing
/// and for error messages.
pub(crate) struct Spelling {
    /// Whether `mo` (a month) is a unit.
    pub(crate) allow_month: bool,
    /// Longest window accepted.
    pub(crate) max_seconds: u32,
    /// What comes before the token when quoting it in an error (`last_`,
    /// or the opening quote of `"5m"`).
    pub(crate) prefix: &'static str,
    /// What comes after it (the closing quote of `"5m"`).
    pub(crate) suffix: &'static str,
    /// What a valid window looks like.
    pub(crate) expected: &'static str,
    /// Why a window is too long.
    pub(crate) too_long: &'static str,
}

impl Spelling {
    fn shown(&self, text: &str) -> String {
        format!("{}{text}{}", self.prefix, self.suffix)
    }
}

/// `last_5m` in a metric monitor.
pub(crate) const METRIC: Spelling = Spelling {
    allow_month: true,
    max_seconds: MAX_METRIC_WINDOW_SECONDS,
    prefix: "last_",
    suffix: "",
    expected: "last_ followed by a number and m, h, d or w (like last_5m, last_1h), or last_1mo",
    too_long: "a metric monitor looks back at most one month (last_1mo, 30 days)",
};

/// `"5m"` in an event alert's `.last()`.
pub(crate) const EVENT: Spelling = Spelling {
    allow_month: false,
    max_seconds: MAX_EVENT_WINDOW_SECONDS,
    prefix: "\"",
    suffix: "\"",
    expected: "a number followed by m, h or d, like \"5m\" or \"1h\"",
    too_long: "an event alert looks back at most 2 days (\"48h\")",
};

/// The number and unit, without `last_` or quotes: `5m`, `1h`, `30d`.
impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, unit) in UNITS {
            if self.seconds.is_multiple_of(unit) {
                return write!(f, "{}{name}", self.seconds / unit);
            }
        }
        // Unreachable for windows made by this module (multiples of 60);
        // printed so that it fails to parse rather than changes meaning.
        write!(f, "{}s", self.seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(text: &str) -> Result<u32, String> {
        Window::parse(text, 0, &METRIC)
            .map(Window::seconds)
            .map_err(|e| e.message)
    }

    #[test]
    fn units_and_bounds() {
        assert_eq!(metric("5m"), Ok(300));
        assert_eq!(metric("1h"), Ok(3600));
        assert_eq!(metric("2d"), Ok(172_800));
        assert_eq!(metric("1w"), Ok(604_800));
        assert_eq!(metric("1mo"), Ok(2_592_000));
        assert_eq!(metric("30d"), Ok(2_592_000));
        assert_eq!(metric("005m"), Ok(300));
        assert_eq!(
            metric("31d"),
            Err("window `last_31d` is too long: a metric monitor looks back at most one month (last_1mo, 30 days)".to_owned())
        );
        assert_eq!(
            metric("99999999999999999999999w").unwrap_err(),
            "window `last_99999999999999999999999w` is too long: a metric monitor looks back at most one month (last_1mo, 30 days)"
        );
        assert_eq!(
            metric("0m"),
            Err("invalid window `last_0m`: it must be at least 1m".to_owned())
        );
        for bad in ["m", "5", "5s", "5x", "5M", "5mo5", ""] {
            assert!(
                metric(bad).unwrap_err().starts_with("invalid window"),
                "{bad}"
            );
        }
        let e = Window::parse("1mo", 7, &EVENT).unwrap_err();
        assert_eq!(e.position, Some(7));
        assert_eq!(
            e.message,
            "invalid window `\"1mo\"`; expected a number followed by m, h or d, like \"5m\" or \"1h\""
        );
        assert_eq!(Window::parse("48h", 0, &EVENT).unwrap().seconds(), 172_800);
        assert!(Window::parse("49h", 0, &EVENT).is_err());
    }

    #[test]
    fn prints_in_the_largest_exact_unit() {
        let show = |s| Window::from_seconds(s).unwrap().to_string();
        assert_eq!(show(60), "1m");
        assert_eq!(show(3600), "1h");
        assert_eq!(show(5400), "90m");
        assert_eq!(show(2_592_000), "30d");
        assert_eq!(show(1_209_600), "2w");
        assert_eq!(Window::from_seconds(0), None);
        assert_eq!(Window::from_seconds(90), None);
    }
}
