//! The persisted state of one group of one monitor.
//!
//! Owns the record [`super::step()`] reads and writes, and the invariants that
//! every record `step` returns satisfies ([`GroupState::check`]). It never
//! changes a record itself: only `step` does, so every change follows the
//! transition table in [`super`].

use serde::{Deserialize, Serialize};

use super::status::Status;

/// One group's state, persisted as JSON between evaluations. The `last_*_ts`
/// fields are what Datadog reports in `state.groups` (epoch seconds, 0 =
/// never).
///
/// Times are epoch seconds and assumed positive (0 means "never") and
/// non-decreasing across steps; the invariants below hold under those
/// assumptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// The status the group shows. Invariant: equals `evaluated` unless it
    /// is `Skipped` (the last evaluation failed).
    pub status: Status,
    /// The status the last successful evaluation decided, kept under a
    /// Skipped status so that hysteresis and notifications resume from it
    /// once the query works again. Invariant: one of OK, Warn, Alert, No
    /// Data.
    pub evaluated: Status,
    /// When `status` last changed (the group's creation time if never).
    /// Invariant: `>= evaluated_since_ts`.
    pub status_changed_ts: i64,
    /// When `evaluated` last changed (the group's creation time if never).
    /// Renotifications count from here. Invariant: `>= first_seen_ts`.
    pub evaluated_since_ts: i64,
    /// When the group was first observed (with or without data);
    /// `new_group_delay` counts from here. Never changes.
    pub first_seen_ts: i64,
    /// When the group last reported data, full window or not (0 = never).
    /// No Data and `timeout_h` count from here (from `first_seen_ts` when
    /// never).
    pub last_data_ts: i64,
    /// The last value evaluated against the thresholds (not one from a
    /// partial window that was skipped). Invariant: finite; `None` only
    /// while the group has never been evaluated, which means it is in an
    /// undeclared No Data (its creation state).
    pub last_value: Option<f64>,
    /// When the group last entered Alert (0 = never). Invariant: when
    /// `evaluated` is Alert, `>= evaluated_since_ts`.
    pub last_triggered_ts: i64,
    /// When the group last recovered to OK from Alert, Warn or a declared
    /// No Data, muted or not (0 = never). The first value of a group that
    /// never reported is not a recovery and leaves it alone.
    pub last_resolved_ts: i64,
    /// When a notification (transition or renotification) was last sent
    /// for this group; muted notifications are not sent and do not count
    /// (0 = never).
    pub last_notified_ts: i64,
    /// When No Data was last declared for this group (0 = never).
    /// Invariant: when `evaluated` is No Data, either the No Data is
    /// declared (`last_nodata_ts >= evaluated_since_ts`) or the group has
    /// never been evaluated (`last_value` is `None`).
    pub last_nodata_ts: i64,
    /// Renotifications sent since `evaluated` last changed. Invariant: at
    /// most `renotify_occurrences` when that is set.
    #[serde(default)]
    pub renotify_count: u32,
    /// Why the last evaluation failed. Invariant: `Some` exactly when
    /// `status` is Skipped.
    #[serde(default)]
    pub error: Option<String>,
}

impl GroupState {
    /// A group seen for the first time at `now`, before its first
    /// observation is applied: No Data (it has reported nothing yet), not
    /// declared, nothing ever sent.
    pub fn new(now: i64) -> GroupState {
        GroupState {
            status: Status::NoData,
            evaluated: Status::NoData,
            status_changed_ts: now,
            evaluated_since_ts: now,
            first_seen_ts: now,
            last_data_ts: 0,
            last_value: None,
            last_triggered_ts: 0,
            last_resolved_ts: 0,
            last_notified_ts: 0,
            last_nodata_ts: 0,
            renotify_count: 0,
            error: None,
        }
    }

    /// True when the group is in a No Data that has been declared (and so
    /// notified, unless muted): reached after `no_data_timeframe`, as
    /// opposed to the No Data of a group that has not reported yet.
    pub fn no_data_declared(&self) -> bool {
        self.evaluated == Status::NoData
            && self.last_nodata_ts != 0
            && self.last_nodata_ts >= self.evaluated_since_ts
    }

    /// The first broken invariant (see the field docs), if any. Every state
    /// [`super::step()`] returns passes; a state read from storage may be
    /// checked with this before use (`step` does not panic on a broken one
    /// either, it repairs what it must: an unevaluated `evaluated` is read
    /// as No Data).
    pub fn check(&self) -> Result<(), String> {
        if !self.evaluated.is_evaluated() {
            return Err(format!("evaluated status is {}", self.evaluated));
        }
        if self.status != self.evaluated && self.status != Status::Skipped {
            return Err(format!(
                "status {} differs from evaluated {} without being Skipped",
                self.status, self.evaluated
            ));
        }
        if self.error.is_some() != (self.status == Status::Skipped) {
            return Err(format!(
                "error {:?} does not match status {}",
                self.error, self.status
            ));
        }
        if self.status_changed_ts < self.evaluated_since_ts {
            return Err("status changed before evaluated status".to_string());
        }
        if self.evaluated_since_ts < self.first_seen_ts {
            return Err("evaluated status changed before the group was seen".to_string());
        }
        if self.last_value.is_some_and(|v| !v.is_finite()) {
            return Err(format!("last value {:?} is not finite", self.last_value));
        }
        if self.evaluated == Status::Alert && self.last_triggered_ts < self.evaluated_since_ts {
            return Err("in Alert without last_triggered_ts".to_string());
        }
        if self.evaluated == Status::NoData && !self.no_data_declared() && self.last_value.is_some()
        {
            return Err("in an undeclared No Data after an evaluation".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_datadog_field_names() {
        let mut state = GroupState::new(1_728_578_340);
        state.status = Status::Alert;
        state.evaluated = Status::Alert;
        state.last_triggered_ts = 1_728_578_400;
        state.last_notified_ts = 1_728_578_400;
        state.last_value = Some(93.5);
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["status"], "Alert");
        assert_eq!(json["last_triggered_ts"], 1_728_578_400);
        assert_eq!(json["last_resolved_ts"], 0);
        assert_eq!(json["last_nodata_ts"], 0);
        assert_eq!(json["error"], serde_json::Value::Null);
        let back: GroupState = serde_json::from_value(json).unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn a_new_group_is_an_undeclared_no_data() {
        let state = GroupState::new(100);
        assert_eq!(state.status, Status::NoData);
        assert!(!state.no_data_declared());
        assert_eq!(state.check(), Ok(()));
    }

    #[test]
    fn check_names_the_broken_invariant() {
        let mut state = GroupState::new(100);
        state.status = Status::Skipped;
        assert!(state.check().unwrap_err().contains("error"));
        state.error = Some("boom".into());
        assert_eq!(state.check(), Ok(()));
        state.evaluated = Status::Unknown;
        assert!(state.check().unwrap_err().contains("evaluated"));
    }
}
