//! What a monitor's definition tells the state machine: thresholds and the
//! timing options of `options` (Datadog spec section 7.4), in seconds.
//!
//! Owns the threshold-order validation and its Datadog-style messages. It
//! never parses the monitor's JSON (the definition layer converts
//! `options`, minutes and hours included, into [`Rules`]) and never looks at
//! data.

use crate::comparator::Comparator;

use super::status::Status;

/// Datadog's documented default for `new_group_delay`: 60 seconds, long
/// enough for a new container or host to start before it may alert.
pub const DEFAULT_NEW_GROUP_DELAY_SECS: u64 = 60;

/// Datadog's documented default `no_data_timeframe` for metric and query
/// alerts is this many times the query window: one window of silence can be
/// an ingestion delay, two is the metric really missing.
pub const DEFAULT_NO_DATA_WINDOWS: u64 = 2;

/// The per-monitor rules [`super::step()`] applies to every group.
///
/// Durations are seconds (Datadog's `renotify_interval` and
/// `no_data_timeframe` are minutes and `timeout_h` hours: the definition
/// layer converts). Check a `Rules` with [`Rules::validate`] before use;
/// `step` never panics on invalid rules, but its decisions are then only as
/// sensible as the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// How the value is compared with every threshold (`>` alerts above).
    pub comparator: Comparator,
    /// `thresholds.critical`: crossing it means Alert. Required by
    /// [`Rules::validate`]; `None` never alerts.
    pub critical: Option<f64>,
    /// `thresholds.warning`: crossing it (but not `critical`) means Warn.
    pub warning: Option<f64>,
    /// `thresholds.critical_recovery`: an Alert group stays in Alert until
    /// its value has passed this to the good side (`<=` it for `>`).
    pub critical_recovery: Option<f64>,
    /// `thresholds.warning_recovery`: a Warn (or descending Alert) group
    /// stays in Warn until its value has passed this to the good side.
    pub warning_recovery: Option<f64>,
    /// `notify_no_data`: declare (and notify) No Data after
    /// `no_data_timeframe_secs` without data; when false a group without
    /// data keeps its status.
    pub notify_no_data: bool,
    /// `no_data_timeframe` in seconds: how long without any data before No
    /// Data is declared. Only read when `notify_no_data`.
    pub no_data_timeframe_secs: u64,
    /// `new_group_delay` in seconds: for this long after a group is first
    /// seen its values are not evaluated against the thresholds (it is OK).
    pub new_group_delay_secs: u64,
    /// `require_full_window`: a value computed from a partial window is not
    /// evaluated (the group keeps its status).
    pub require_full_window: bool,
    /// `renotify_interval` in seconds: remind every this long while the
    /// group stays in one of `renotify_statuses`. `None` or 0: never.
    pub renotify_interval_secs: Option<u64>,
    /// `renotify_occurrences`: at most this many reminders per stay in a
    /// status. `None`: unlimited.
    pub renotify_occurrences: Option<u32>,
    /// `renotify_statuses`: which statuses remind.
    pub renotify_statuses: RenotifyStatuses,
    /// `timeout_h` in seconds: an Alert or Warn group without data for this
    /// long resolves to OK on its own. `None`: never.
    pub timeout_secs: Option<u64>,
}

impl Rules {
    /// Rules with Datadog's defaults for a monitor that alerts when the
    /// value `comparator` `critical` over a `window_secs` query window:
    /// no warning or recovery thresholds, `notify_no_data` off,
    /// `no_data_timeframe` [`DEFAULT_NO_DATA_WINDOWS`] windows,
    /// `new_group_delay` [`DEFAULT_NEW_GROUP_DELAY_SECS`], no full window
    /// required, no renotification, no auto-resolve.
    pub fn new(comparator: Comparator, critical: f64, window_secs: u64) -> Rules {
        Rules {
            comparator,
            critical: Some(critical),
            warning: None,
            critical_recovery: None,
            warning_recovery: None,
            notify_no_data: false,
            no_data_timeframe_secs: window_secs.saturating_mul(DEFAULT_NO_DATA_WINDOWS),
            new_group_delay_secs: DEFAULT_NEW_GROUP_DELAY_SECS,
            require_full_window: false,
            renotify_interval_secs: None,
            renotify_occurrences: None,
            renotify_statuses: RenotifyStatuses::DATADOG_DEFAULT,
            timeout_secs: None,
        }
    }

    /// Every problem with the thresholds, as the messages Datadog's API
    /// would put in `{"errors": [...]}`; empty when the rules are valid.
    ///
    /// Checked, for the ordering comparators (`>`, `>=`, `<`, `<=`):
    /// * `critical` is present ("Alert status is required.", Datadog's
    ///   observed text).
    /// * `warning` lies strictly on the good side of `critical` (Datadog's
    ///   observed text: "Warning threshold (50.0) must be less than the
    ///   alert threshold (20.0) with > comparison.").
    /// * `critical_recovery` does not overlap the alert condition, i.e. it
    ///   is not beyond `critical` (above it for `>`/`>=`, below it for
    ///   `<`/`<=`): Datadog's text "alert and alert recovery criteria are
    ///   such that the monitor can be simultaneously in alert and alert
    ///   recovery states". Equal to `critical` is accepted: recovery is then
    ///   plain un-crossing, which cannot overlap.
    /// * `warning_recovery` likewise against `warning` (the message is ours,
    ///   Datadog's alert wording with "warning": we have not seen Datadog's),
    ///   and only with a `warning`.
    ///
    /// With `==` and `!=` there is no good side: the order of `warning` is
    /// not checked and recovery thresholds are refused (our wording).
    pub fn validate(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let cmp = self.comparator;
        let Some(critical) = self.critical else {
            errors.push("Alert status is required.".to_string());
            return errors;
        };
        let ordered = !matches!(cmp, Comparator::Eq | Comparator::Ne);
        let above = cmp.alerts_above();
        // `a` is beyond `b` when it is on the alerting side of it.
        let beyond = |a: f64, b: f64| if above { a > b } else { a < b };

        if let Some(warning) = self.warning
            && ordered
            && !beyond(critical, warning)
        {
            let relation = if above { "less" } else { "greater" };
            errors.push(format!(
                "Warning threshold ({}) must be {relation} than the alert threshold ({}) with {cmp} comparison.",
                number(warning),
                number(critical),
            ));
        }
        for (field, value) in [
            ("critical_recovery", self.critical_recovery),
            ("warning_recovery", self.warning_recovery),
        ] {
            if value.is_some() && !ordered {
                errors.push(format!(
                    "{field} cannot be used with the {cmp} comparator: it has no side to recover to."
                ));
            }
        }
        if !ordered {
            return errors;
        }
        if let Some(recovery) = self.critical_recovery
            && beyond(recovery, critical)
        {
            errors.push(
                "alert and alert recovery criteria are such that the monitor can be simultaneously in alert and alert recovery states"
                    .to_string(),
            );
        }
        match (self.warning, self.warning_recovery) {
            (None, Some(_)) => {
                errors.push("warning_recovery requires a warning threshold.".to_string())
            }
            (Some(warning), Some(recovery)) if beyond(recovery, warning) => errors.push(
                "warning and warning recovery criteria are such that the monitor can be simultaneously in warning and warning recovery states"
                    .to_string(),
            ),
            _ => {}
        }
        errors
    }
}

/// A threshold as Datadog's (Python) messages print it: `50.0`, `0.5`.
fn number(value: f64) -> String {
    // Beyond 1e16 Python switches to exponent notation; Rust's `{}` prints
    // such values in full. Either way the message names the value.
    if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// Which statuses renotify (`renotify_statuses`: `"alert"`, `"warn"`,
/// `"no data"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RenotifyStatuses {
    /// `"alert"`
    pub alert: bool,
    /// `"warn"`
    pub warn: bool,
    /// `"no data"`
    pub no_data: bool,
}

impl RenotifyStatuses {
    /// Datadog's documented default when `renotify_interval` is set and
    /// `renotify_statuses` is not: Alert and No Data.
    pub const DATADOG_DEFAULT: RenotifyStatuses = RenotifyStatuses {
        alert: true,
        warn: false,
        no_data: true,
    };

    /// The set Datadog's names spell; `Err` carries the first unknown name.
    pub fn from_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<RenotifyStatuses, String> {
        let mut set = RenotifyStatuses {
            alert: false,
            warn: false,
            no_data: false,
        };
        for name in names {
            match name {
                "alert" => set.alert = true,
                "warn" => set.warn = true,
                "no data" => set.no_data = true,
                other => return Err(other.to_string()),
            }
        }
        Ok(set)
    }

    /// True when a group in `status` renotifies.
    pub fn contains(self, status: Status) -> bool {
        match status {
            Status::Alert => self.alert,
            Status::Warn => self.warn,
            Status::NoData => self.no_data,
            _ => false,
        }
    }
}

impl Default for RenotifyStatuses {
    /// [`RenotifyStatuses::DATADOG_DEFAULT`].
    fn default() -> Self {
        RenotifyStatuses::DATADOG_DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(cmp: Comparator, critical: f64) -> Rules {
        Rules::new(cmp, critical, 300)
    }

    #[test]
    fn defaults_follow_datadog() {
        let r = rules(Comparator::Gt, 90.0);
        assert_eq!(r.no_data_timeframe_secs, 600);
        assert_eq!(r.new_group_delay_secs, 60);
        assert!(!r.notify_no_data);
        assert!(r.renotify_statuses.contains(Status::Alert));
        assert!(r.renotify_statuses.contains(Status::NoData));
        assert!(!r.renotify_statuses.contains(Status::Warn));
        assert!(r.validate().is_empty());
    }

    #[test]
    fn warning_must_be_on_the_good_side_of_critical() {
        let mut r = rules(Comparator::Gt, 20.0);
        r.warning = Some(50.0);
        assert_eq!(
            r.validate(),
            [
                "Warning threshold (50.0) must be less than the alert threshold (20.0) with > comparison."
            ]
        );
        r.warning = Some(20.0);
        assert_eq!(r.validate().len(), 1, "equal is not below");
        r.warning = Some(10.5);
        assert!(r.validate().is_empty());

        let mut r = rules(Comparator::Le, 5.0);
        r.warning = Some(2.5);
        assert_eq!(
            r.validate(),
            [
                "Warning threshold (2.5) must be greater than the alert threshold (5.0) with <= comparison."
            ]
        );
        r.warning = Some(10.0);
        assert!(r.validate().is_empty());

        let mut r = rules(Comparator::Eq, 1.0);
        r.warning = Some(2.0);
        assert!(r.validate().is_empty(), "== has no order to check");
    }

    #[test]
    fn recovery_thresholds_must_not_overlap_their_trigger() {
        let mut r = rules(Comparator::Gt, 90.0);
        r.critical_recovery = Some(95.0);
        assert_eq!(
            r.validate(),
            [
                "alert and alert recovery criteria are such that the monitor can be simultaneously in alert and alert recovery states"
            ]
        );
        r.critical_recovery = Some(90.0);
        assert!(r.validate().is_empty());
        r.critical_recovery = Some(80.0);
        r.warning = Some(70.0);
        r.warning_recovery = Some(75.0);
        assert_eq!(
            r.validate(),
            [
                "warning and warning recovery criteria are such that the monitor can be simultaneously in warning and warning recovery states"
            ]
        );
        r.warning_recovery = Some(60.0);
        assert!(r.validate().is_empty());

        let mut r = rules(Comparator::Lt, 10.0);
        r.critical_recovery = Some(5.0);
        assert_eq!(r.validate().len(), 1);
        r.critical_recovery = Some(15.0);
        assert!(r.validate().is_empty());
    }

    #[test]
    fn missing_pieces_are_named() {
        let mut r = rules(Comparator::Gt, 90.0);
        r.warning_recovery = Some(10.0);
        assert_eq!(
            r.validate(),
            ["warning_recovery requires a warning threshold."]
        );
        r.critical = None;
        assert_eq!(r.validate(), ["Alert status is required."]);

        let mut r = rules(Comparator::Ne, 0.0);
        r.critical_recovery = Some(1.0);
        assert_eq!(
            r.validate(),
            [
                "critical_recovery cannot be used with the != comparator: it has no side to recover to."
            ]
        );
    }

    #[test]
    fn renotify_status_names() {
        let set = RenotifyStatuses::from_names(["warn", "no data"]).unwrap();
        assert!(!set.contains(Status::Alert));
        assert!(set.contains(Status::Warn));
        assert!(set.contains(Status::NoData));
        assert!(!set.contains(Status::Ok));
        assert_eq!(
            RenotifyStatuses::from_names(["alert", "ok"]),
            Err("ok".to_string())
        );
        assert_eq!(number(1e20), "100000000000000000000");
        assert_eq!(number(-3.0), "-3.0");
    }
}
