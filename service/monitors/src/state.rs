//! # The per-group alert state machine
//!
//! ## What it owns
//! How one group of one monitor moves between OK, Warn, Alert, No Data and
//! Skipped, and when that notifies: [`step()`] is a pure function of the
//! previous [`GroupState`], one [`Observation`], the monitor's [`Rules`],
//! the time and whether the group is muted. [`overall`] folds the groups'
//! statuses into the monitor's `overall_state`.
//!
//! One concept per file: [`status`] (names and precedence), [`rules`] (the
//! definition's thresholds and timings, and their validation),
//! [`observation`] (what an evaluation saw), [`group`] (the persisted state
//! and its invariants), [`step`](mod@step) (the transition function).
//!
//! ## What it must never do
//! Read a clock, run a query, send a notification, do I/O or panic. The
//! server evaluates the query, calls [`step()`] once per group per
//! evaluation, persists the state, records the transition and delivers the
//! notification; the offline `whippet monitors test` runner calls the same
//! function with the times of a fixture, so both decide identically.
//!
//! ## States
//! A group has two statuses: `evaluated`, what the last successful
//! evaluation decided (OK, Warn, Alert or No Data), and `status`, what it
//! shows: the same, or Skipped while its query fails. Skipped is a veil:
//! hysteresis and notifications continue from the status underneath.
//!
//! * **No Data, undeclared**: a group seen for the first time. It has
//!   reported nothing (a monitor that was never evaluated reports "No Data"
//!   too); nothing was announced.
//! * **OK**: the last evaluated value crossed nothing.
//! * **Warn**: the value crossed `warning`, or came down from it (or from
//!   Alert) without passing `warning_recovery`.
//! * **Alert**: the value crossed `critical`, or came down without passing
//!   `critical_recovery`.
//! * **No Data, declared**: no data for `no_data_timeframe` with
//!   `notify_no_data`; announced.
//! * **Skipped**: the last evaluation failed; the reason is in `error`.
//!
//! ## Transitions
//! "E" is the evaluated status before the step. A value is evaluated only
//! when finite (NaN and infinities count as no data) and, with
//! `require_full_window`, from a full window.
//!
//! | from | on | to | notify (unless muted) |
//! |---|---|---|---|
//! | any E | value crossing `critical` | Alert | yes, unless E was Alert |
//! | Alert | value not past `critical_recovery` | Alert | no (renotify may) |
//! | OK, No Data | value crossing `warning` only | Warn | yes |
//! | Alert | value past `critical_recovery` (or under `critical` if unset), crossing `warning` or not past `warning_recovery` | Warn | yes |
//! | Warn | value crossing `warning`, or not past `warning_recovery` | Warn | no (renotify may) |
//! | Alert, Warn | value past the recovery thresholds, crossing nothing | OK | yes: recovery |
//! | No Data, declared | value crossing nothing | OK | yes: recovery |
//! | No Data, undeclared | value crossing nothing | OK | no: nothing was announced |
//! | any E | value while `now - first_seen < new_group_delay` | OK | as the OK rows |
//! | any E | value from a partial window with `require_full_window` | E | no |
//! | OK, Warn, Alert | no data for `no_data_timeframe`, `notify_no_data`, not declared since the data stopped | No Data, declared | yes |
//! | No Data, undeclared | the same (counted from first seen) | No Data, declared | yes: [`NotificationKind::NoDataDeclared`] |
//! | Alert, Warn | no data for `timeout` (and no declaration due) | OK | yes: recovery |
//! | any E | no data otherwise | E | no |
//! | any | query error | Skipped (E kept) | no |
//! | Skipped | an observation that is not an error | E, then as above | as above, from E |
//! | Alert, Warn, declared No Data in `renotify_statuses` | `renotify_interval` since the last notification (or since entering, if never notified), fewer than `renotify_occurrences` reminders | same | yes: renotify |
//!
//! Every change of the shown status is reported as a [`Transition`], muted
//! or not, including a new group's first status (from No Data) and Skipped.
//!
//! ## Decisions where Datadog is silent or vague
//! * **New groups start as undeclared No Data**, matching a fresh monitor's
//!   "No Data"; their first value is evaluated from there (no hysteresis,
//!   no recovery notice), so a first value over `critical` alerts at once.
//! * **`new_group_delay` yields OK**, not Skipped: Datadog "skips
//!   evaluations" of new groups, but the group has data and is not failing;
//!   OK neither alerts nor hides an error. It counts from the first
//!   observation of any kind. No Data and query errors still apply.
//! * **Query errors show Skipped** with the reason, never the old status
//!   silently: a failing monitor must say so. Entering or leaving Skipped
//!   notifies nothing by itself (Datadog has no Skipped notification); a
//!   real change hidden by it (Alert before the error, OK after) is
//!   notified when the error clears. Renotifications pause while Skipped.
//! * **Descending from Alert passes through Warn's hysteresis**: an Alert
//!   group was beyond `warning` too, so it must pass `warning_recovery` to
//!   reach OK.
//! * **Without `notify_no_data`, a silent group keeps its status** (spec
//!   7.5); `on_missing_data` (`show_no_data`, `resolve`) is not modelled.
//! * **No Data is declared once per silence**: after `timeout` resolves an
//!   Alert, a later `no_data_timeframe` still declares No Data once, and
//!   nothing repeats until data returns. `timeout` resolves Alert and Warn
//!   only ("a triggered state"), never No Data, so the two cannot flap.
//!   When both are due in the same step, No Data wins.
//! * **Muting suppresses notifications only**. Datadog's downtime docs say
//!   a status entered during a downtime is not announced when it ends, and
//!   the later recovery is: this is exactly what happens here. Unlike them,
//!   we send no recovery during a downtime. Reminders resume after a mute,
//!   counted from the last notification sent or from entering the status,
//!   whichever is later, so an Alert that began muted is still reminded.
//! * **`renotify_interval` of 0 disables it** (Datadog: "0 to disable").
//!
//! ## Times
//! Epoch seconds, positive (0 means "never" in the `last_*_ts` fields),
//! expected non-decreasing from step to step; out-of-order times never
//! panic (durations saturate, a negative one has not elapsed).

pub mod group;
pub mod observation;
pub mod rules;
pub mod status;
pub mod step;

pub use group::GroupState;
pub use observation::Observation;
pub use rules::{RenotifyStatuses, Rules};
pub use status::{Status, overall};
pub use step::{Notification, NotificationKind, Step, Transition, evaluate, step};

#[cfg(test)]
mod tests;
