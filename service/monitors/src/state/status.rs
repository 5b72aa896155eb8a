//! The status of one group, and of a whole monitor (`overall_state`).
//!
//! Owns the status names Datadog's API uses and the precedence that folds
//! the groups' statuses into one. It never decides a status from data: that
//! is [`super::step()`]'s job.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A group's (or a monitor's) status, serialised as Datadog spells it in
/// `overall_state` and in `state.groups.*.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// `"OK"`: the last evaluated value crossed no threshold.
    #[serde(rename = "OK")]
    Ok,
    /// `"Warn"`: the value crossed `warning` but not `critical` (or has not
    /// yet passed `warning_recovery`).
    #[serde(rename = "Warn")]
    Warn,
    /// `"Alert"`: the value crossed `critical` (or has not yet passed
    /// `critical_recovery`).
    #[serde(rename = "Alert")]
    Alert,
    /// `"No Data"`: the group has never reported a value, or has reported
    /// none for `no_data_timeframe` with `notify_no_data` on.
    #[serde(rename = "No Data")]
    NoData,
    /// `"Skipped"`: the last evaluation could not run (the query failed);
    /// the reason is kept beside the status.
    #[serde(rename = "Skipped")]
    Skipped,
    /// `"Ignored"`: in Datadog's enum; never produced by the state machine.
    #[serde(rename = "Ignored")]
    Ignored,
    /// `"Unknown"`: in Datadog's enum, for monitors this server cannot
    /// evaluate; never produced by the state machine.
    #[serde(rename = "Unknown")]
    Unknown,
}

impl Status {
    /// Every status, in Datadog's documented order.
    pub const ALL: [Status; 7] = [
        Status::Ok,
        Status::Warn,
        Status::Alert,
        Status::NoData,
        Status::Ignored,
        Status::Skipped,
        Status::Unknown,
    ];

    /// The status as Datadog's API writes it (`"No Data"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "Warn",
            Status::Alert => "Alert",
            Status::NoData => "No Data",
            Status::Skipped => "Skipped",
            Status::Ignored => "Ignored",
            Status::Unknown => "Unknown",
        }
    }

    /// The status `text` spells, exactly as [`Status::as_str`] writes it.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// True for the four statuses an evaluation can decide (OK, Warn,
    /// Alert, No Data); false for Skipped, Ignored and Unknown.
    pub fn is_evaluated(self) -> bool {
        matches!(
            self,
            Status::Ok | Status::Warn | Status::Alert | Status::NoData
        )
    }

    /// Rank in [`overall`]'s precedence: higher wins.
    fn precedence(self) -> u8 {
        match self {
            Status::Alert => 6,
            Status::Warn => 5,
            Status::NoData => 4,
            Status::Skipped => 3,
            Status::Ok => 2,
            Status::Unknown => 1,
            Status::Ignored => 0,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A monitor's `overall_state` from its groups' statuses: the worst one,
/// with precedence `Alert > Warn > No Data > Skipped > OK > Unknown >
/// Ignored`.
///
/// * No groups at all gives `No Data`: a monitor that has not been
///   evaluated yet reports "No Data" (observed in Datadog's responses).
/// * `Alert > Warn > No Data > OK` is Datadog's documented order.
/// * Skipped ranks above OK (Datadog is silent here): a group whose query
///   failed must not hide behind its healthy siblings, so a monitor with any
///   failing group reports Skipped unless something is alerting, warning or
///   missing data, which is more urgent.
/// * Unknown and Ignored, which the state machine never produces, rank
///   below everything so that they show only when nothing else does.
pub fn overall(groups: impl IntoIterator<Item = Status>) -> Status {
    groups
        .into_iter()
        .max_by_key(|s| s.precedence())
        .unwrap_or(Status::NoData)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_as_datadog_spells_them() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), s);
        }
        assert_eq!(Status::NoData.to_string(), "No Data");
        assert_eq!(Status::parse("no data"), None);
    }

    #[test]
    fn overall_takes_the_worst_group() {
        use Status::*;
        assert_eq!(overall([]), NoData);
        assert_eq!(overall([Ok, Ok]), Ok);
        assert_eq!(overall([Ok, NoData, Warn]), Warn);
        assert_eq!(overall([Warn, Alert, NoData, Skipped]), Alert);
        assert_eq!(overall([Ok, NoData]), NoData);
        assert_eq!(overall([Ok, Skipped]), Skipped);
        assert_eq!(overall([NoData, Skipped]), NoData);
        assert_eq!(overall([Skipped, Skipped]), Skipped);
        assert_eq!(overall([Unknown, Ok]), Ok);
        assert_eq!(overall([Ignored, Unknown]), Unknown);
    }
}
