//! The transition function: one group, one observation, one step.
//!
//! Owns every decision of the table in [`super`]. It never reads a clock,
//! never sends anything and never panics: it returns the new state, the
//! transition to record and the notification to send, and the caller does
//! the rest.

use super::group::GroupState;
use super::observation::Observation;
use super::rules::Rules;
use super::status::Status;

/// What one [`step()`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The group's new state, to persist.
    pub state: GroupState,
    /// The change of the group's shown status, if it changed (also reported
    /// while muted, and for Skipped, which never notifies).
    pub transition: Option<Transition>,
    /// The notification to send now, if any; always `None` while muted.
    pub notification: Option<Notification>,
}

/// A change of a group's shown status.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The status before (No Data for a group seen for the first time).
    pub from: Status,
    /// The status after; equals the new state's `status`.
    pub to: Status,
    /// The value behind the new status: the last evaluated value, `None`
    /// when the new status is No Data or Skipped.
    pub value: Option<f64>,
    /// When (the step's `now`).
    pub at: i64,
}

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// The evaluated status changed from `from` to `status`: entered Alert,
    /// Warn or No Data, or recovered to OK from Alert, Warn or a declared
    /// No Data.
    Transition,
    /// A group in an undeclared No Data (it has never been evaluated, so it
    /// has shown No Data since it appeared, unannounced) went
    /// `no_data_timeframe` without data: its No Data is declared now. `from`
    /// and `status` are both No Data.
    NoDataDeclared,
    /// A reminder that the group is still in `status` (`renotify_interval`);
    /// templates see `is_renotify`.
    Renotify,
}

/// A notification decided by [`step()`]; the message template layer turns it
/// into text (`is_alert`, `is_recovery`, `is_renotify`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Why it is sent.
    pub kind: NotificationKind,
    /// The evaluated status before this step (for a recovery: what the
    /// group recovers from; for a renotification: `status`).
    pub from: Status,
    /// The status announced: Alert, Warn, No Data, or OK for a recovery.
    pub status: Status,
    /// The value behind `status`; `None` for No Data.
    pub value: Option<f64>,
    /// For [`NotificationKind::Renotify`], which reminder this is (1 for the
    /// first); 0 otherwise.
    pub renotify_count: u32,
    /// When (the step's `now`).
    pub at: i64,
}

/// Seconds as a signed duration, saturating (durations beyond `i64::MAX`
/// seconds never elapse).
fn secs(duration: u64) -> i64 {
    i64::try_from(duration).unwrap_or(i64::MAX)
}

/// The status a value earns, given the evaluated status it comes from (for
/// hysteresis). Never No Data.
///
/// Crossing `critical` is Alert. An Alert group that has not passed
/// `critical_recovery` (when set) stays Alert. Otherwise crossing `warning`
/// is Warn, and a group coming from Warn or Alert that has not passed
/// `warning_recovery` (when set, with a `warning`) stays Warn: an Alert
/// group was beyond the warning too, so it descends through it. Else OK.
/// From OK or No Data there is no hysteresis: a group back from No Data has
/// no recent value to be sticky about.
pub fn evaluate(rules: &Rules, from: Status, value: f64) -> Status {
    let cmp = rules.comparator;
    let crosses = |threshold: Option<f64>| threshold.is_some_and(|t| cmp.crosses(value, t));
    let recovered = |threshold: Option<f64>| threshold.is_none_or(|t| !cmp.crosses(value, t));
    if crosses(rules.critical) {
        return Status::Alert;
    }
    if from == Status::Alert && !recovered(rules.critical_recovery) {
        return Status::Alert;
    }
    if crosses(rules.warning) {
        return Status::Warn;
    }
    if matches!(from, Status::Alert | Status::Warn)
        && rules.warning.is_some()
        && !recovered(rules.warning_recovery)
    {
        return Status::Warn;
    }
    Status::Ok
}

/// Advances one group by one observation at time `now` (epoch seconds),
/// following the transition table in [`super`].
///
/// `prev` is the group's state from the previous step, `None` for a group
/// never seen before (it starts as an undeclared No Data: see
/// [`GroupState::new`]). `muted` (a downtime or a silenced scope covers the
/// group) suppresses the notification only: the state changes, the
/// transition is reported, and `last_notified_ts` and `renotify_count` stay
/// as they were since nothing was sent.
pub fn step(
    prev: Option<&GroupState>,
    obs: &Observation,
    rules: &Rules,
    now: i64,
    muted: bool,
) -> Step {
    let mut state = prev.cloned().unwrap_or_else(|| GroupState::new(now));
    let shown_before = state.status;
    // A state read from storage may be damaged; an evaluated status that is
    // not one of the four is read as an undeclared No Data.
    if !state.evaluated.is_evaluated() {
        state.evaluated = Status::NoData;
    }
    let before = state.evaluated;
    let declared_before = state.no_data_declared();

    // 1. What the observation makes of the evaluated status.
    let mut next = before;
    let mut declare_no_data = false;
    match obs {
        Observation::QueryError { reason } => {
            // The evaluated status stays underneath; nothing is notified or
            // reminded while the query fails (Datadog has no Skipped
            // notification), but the reason is kept and the change shown.
            state.status = Status::Skipped;
            state.error = Some(reason.clone());
            let transition = (shown_before != Status::Skipped).then_some(Transition {
                from: shown_before,
                to: Status::Skipped,
                value: None,
                at: now,
            });
            if transition.is_some() {
                state.status_changed_ts = now;
            }
            return Step {
                state,
                transition,
                notification: None,
            };
        }
        Observation::Value { value, full_window } if value.is_finite() => {
            state.last_data_ts = now;
            if !rules.require_full_window || *full_window {
                state.last_value = Some(*value);
                let in_delay =
                    now.saturating_sub(state.first_seen_ts) < secs(rules.new_group_delay_secs);
                next = if in_delay {
                    Status::Ok
                } else {
                    evaluate(rules, before, *value)
                };
            }
        }
        Observation::Value { .. } | Observation::NoData => {
            let silent_since = if state.last_data_ts != 0 {
                state.last_data_ts
            } else {
                state.first_seen_ts
            };
            let silent_for = now.saturating_sub(silent_since);
            // Declared since the data stopped: do not declare twice.
            let declared_since_data =
                state.last_nodata_ts != 0 && state.last_nodata_ts >= silent_since;
            // A declared No Data stays declared through partial windows.
            let already_no_data = before == Status::NoData && declared_before;
            if rules.notify_no_data
                && silent_for >= secs(rules.no_data_timeframe_secs)
                && !declared_since_data
                && !already_no_data
            {
                next = Status::NoData;
                declare_no_data = true;
            } else if let Some(timeout) = rules.timeout_secs
                && matches!(before, Status::Alert | Status::Warn)
                && silent_for >= secs(timeout)
            {
                next = Status::Ok;
            }
        }
    }

    // 2. Record the change of evaluated status, and decide what it notifies.
    let mut notification = None;
    if next != before {
        state.evaluated = next;
        state.evaluated_since_ts = now;
        state.renotify_count = 0;
        let announce = match next {
            Status::Alert => {
                state.last_triggered_ts = now;
                true
            }
            Status::Warn => true,
            Status::NoData => true,
            // A recovery is announced from Alert, Warn or a declared No
            // Data; the first value of a group that never reported is not a
            // recovery.
            _ => before != Status::NoData || declared_before,
        };
        if next == Status::Ok && announce {
            state.last_resolved_ts = now;
        }
        if announce {
            notification = Some(NotificationKind::Transition);
        }
    } else if declare_no_data {
        // Only a never-reporting group can be in No Data undeclared.
        notification = Some(NotificationKind::NoDataDeclared);
    }
    if declare_no_data {
        state.last_nodata_ts = now;
    }

    // 3. Otherwise, is a reminder due?
    if notification.is_none()
        && let Some(interval) = rules.renotify_interval_secs.filter(|&i| i > 0)
        && rules.renotify_statuses.contains(state.evaluated)
        && (state.evaluated != Status::NoData || state.no_data_declared())
        && rules
            .renotify_occurrences
            .is_none_or(|max| state.renotify_count < max)
    {
        let announced_at = if state.evaluated == Status::NoData {
            state.last_nodata_ts
        } else {
            state.evaluated_since_ts
        };
        let since = state.last_notified_ts.max(announced_at);
        if now.saturating_sub(since) >= secs(interval) {
            notification = Some(NotificationKind::Renotify);
        }
    }

    // 4. Show the evaluated status (the query worked), report the change.
    state.status = state.evaluated;
    state.error = None;
    let value = if state.evaluated == Status::NoData {
        None
    } else {
        state.last_value
    };
    let transition = (state.status != shown_before).then_some(Transition {
        from: shown_before,
        to: state.status,
        value,
        at: now,
    });
    if transition.is_some() {
        state.status_changed_ts = now;
    }

    // 5. Send it, unless muted.
    let notification = match notification {
        Some(kind) if !muted => {
            state.last_notified_ts = now;
            if kind == NotificationKind::Renotify {
                state.renotify_count = state.renotify_count.saturating_add(1);
            }
            Some(Notification {
                kind,
                from: before,
                status: state.evaluated,
                value,
                renotify_count: if kind == NotificationKind::Renotify {
                    state.renotify_count
                } else {
                    0
                },
                at: now,
            })
        }
        _ => None,
    };
    Step {
        state,
        transition,
        notification,
    }
}
