//! One test per row of the transition table, with concrete values and
//! times, and a property test over random observation sequences.

use proptest::prelude::*;

use super::*;
use crate::comparator::Comparator;

/// A fixed epoch second to start at (2024-10-10T16:40:00Z).
const T0: i64 = 1_728_578_400;
/// One evaluation period (Datadog evaluates about once a minute).
const MIN: i64 = 60;

/// `> 90` over 5 minutes, no new-group delay so tests alert at once.
fn cpu_rules() -> Rules {
    let mut rules = Rules::new(Comparator::Gt, 90.0, 300);
    rules.new_group_delay_secs = 0;
    rules
}

/// Runs `obs` at `T0`, `T0 + 1 min`, ... and returns every step.
fn run(rules: &Rules, obs: &[Observation]) -> Vec<Step> {
    let mut prev: Option<GroupState> = None;
    let mut steps = Vec::new();
    for (i, o) in obs.iter().enumerate() {
        let s = step(prev.as_ref(), o, rules, T0 + i as i64 * MIN, false);
        prev = Some(s.state.clone());
        steps.push(s);
    }
    steps
}

fn v(value: f64) -> Observation {
    Observation::value(value)
}

fn statuses(steps: &[Step]) -> Vec<Status> {
    steps.iter().map(|s| s.state.status).collect()
}

fn notified(steps: &[Step]) -> Vec<Option<(NotificationKind, Status)>> {
    steps
        .iter()
        .map(|s| s.notification.as_ref().map(|n| (n.kind, n.status)))
        .collect()
}

use NotificationKind::{NoDataDeclared, Renotify, Transition as Tr};
use Status::{Alert, NoData, Ok as Fine, Skipped, Warn};

#[test]
fn thresholds_decide_alert_warn_ok() {
    let mut rules = cpu_rules();
    rules.warning = Some(80.0);
    let steps = run(&rules, &[v(50.0), v(85.0), v(95.0), v(85.0), v(50.0)]);
    assert_eq!(statuses(&steps), [Fine, Warn, Alert, Warn, Fine]);
    assert_eq!(
        notified(&steps),
        [
            None,
            Some((Tr, Warn)),
            Some((Tr, Alert)),
            Some((Tr, Warn)),
            Some((Tr, Fine))
        ]
    );
    let alert = &steps[2];
    assert_eq!(
        alert.transition,
        Some(Transition {
            from: Warn,
            to: Alert,
            value: Some(95.0),
            at: T0 + 2 * MIN
        })
    );
    assert_eq!(alert.state.last_triggered_ts, T0 + 2 * MIN);
    assert_eq!(alert.state.last_notified_ts, T0 + 2 * MIN);
    assert_eq!(steps[4].state.last_resolved_ts, T0 + 4 * MIN);
    // The first value of a new group is a transition from No Data, but not
    // a recovery.
    assert_eq!(steps[0].transition.as_ref().map(|t| t.from), Some(NoData));
    assert_eq!(steps[0].state.last_resolved_ts, 0);
}

#[test]
fn below_comparators_alert_low() {
    let mut rules = Rules::new(Comparator::Le, 10.0, 300);
    rules.new_group_delay_secs = 0;
    rules.warning = Some(20.0);
    let steps = run(&rules, &[v(30.0), v(15.0), v(10.0), v(25.0)]);
    assert_eq!(statuses(&steps), [Fine, Warn, Alert, Fine]);
}

#[test]
fn alert_holds_until_critical_recovery_is_passed() {
    let mut rules = cpu_rules();
    rules.critical_recovery = Some(80.0);
    let steps = run(&rules, &[v(95.0), v(85.0), v(80.5), v(80.0), v(85.0)]);
    // `>` recovers at `<= critical_recovery`; 85 afterwards crosses nothing.
    assert_eq!(statuses(&steps), [Alert, Alert, Alert, Fine, Fine]);
    assert_eq!(notified(&steps)[1], None);
    assert_eq!(notified(&steps)[3], Some((Tr, Fine)));
}

#[test]
fn warn_holds_until_warning_recovery_is_passed_also_from_alert() {
    let mut rules = cpu_rules();
    rules.warning = Some(70.0);
    rules.warning_recovery = Some(60.0);
    let steps = run(
        &rules,
        &[v(75.0), v(65.0), v(60.0), v(95.0), v(65.0), v(59.0)],
    );
    assert_eq!(statuses(&steps), [Warn, Warn, Fine, Alert, Warn, Fine]);
    // Without warning_recovery, Alert falls straight to OK.
    rules.warning_recovery = None;
    let steps = run(&rules, &[v(95.0), v(65.0)]);
    assert_eq!(statuses(&steps), [Alert, Fine]);
}

#[test]
fn new_groups_do_not_alert_during_new_group_delay() {
    let mut rules = cpu_rules();
    rules.new_group_delay_secs = 120;
    // Seen at T0; values at T0, +1 min (in the delay), +2 min (out).
    let steps = run(&rules, &[v(99.0), v(99.0), v(99.0)]);
    assert_eq!(statuses(&steps), [Fine, Fine, Alert]);
    assert_eq!(notified(&steps), [None, None, Some((Tr, Alert))]);
    assert_eq!(steps[1].state.last_value, Some(99.0));
}

#[test]
fn no_data_is_declared_after_the_timeframe_when_notify_no_data() {
    let mut rules = cpu_rules();
    rules.notify_no_data = true;
    rules.no_data_timeframe_secs = 3 * MIN as u64;
    let mut obs = vec![v(95.0)];
    obs.extend(std::iter::repeat_n(Observation::NoData, 4));
    obs.push(v(50.0));
    let steps = run(&rules, &obs);
    // Data at T0; silent at +1, +2 (kept), +3 (declared), +4 (no repeat).
    assert_eq!(
        statuses(&steps),
        [Alert, Alert, Alert, NoData, NoData, Fine]
    );
    assert_eq!(
        notified(&steps),
        [
            Some((Tr, Alert)),
            None,
            None,
            Some((Tr, NoData)),
            None,
            Some((Tr, Fine))
        ]
    );
    assert_eq!(steps[3].state.last_nodata_ts, T0 + 3 * MIN);
    assert_eq!(steps[3].transition.as_ref().unwrap().value, None);
    assert_eq!(steps[5].state.last_resolved_ts, T0 + 5 * MIN);
}

#[test]
fn no_data_keeps_the_status_without_notify_no_data() {
    let rules = cpu_rules();
    let mut obs = vec![v(95.0)];
    obs.extend(std::iter::repeat_n(Observation::NoData, 30));
    let steps = run(&rules, &obs);
    assert!(statuses(&steps).iter().all(|&s| s == Alert));
    assert_eq!(steps.last().unwrap().state.last_nodata_ts, 0);
}

#[test]
fn a_group_that_never_reports_is_no_data_and_declared_once() {
    let mut rules = cpu_rules();
    rules.notify_no_data = true;
    rules.no_data_timeframe_secs = 2 * MIN as u64;
    let steps = run(
        &rules,
        &[
            Observation::NoData,
            Observation::NoData,
            Observation::NoData,
            Observation::NoData,
        ],
    );
    assert_eq!(statuses(&steps), [NoData; 4]);
    assert!(steps.iter().all(|s| s.transition.is_none()));
    assert_eq!(
        notified(&steps),
        [None, None, Some((NoDataDeclared, NoData)), None]
    );
    // Without notify_no_data it shows No Data and never says anything; its
    // first value is not a recovery.
    let rules = cpu_rules();
    let steps = run(&rules, &[Observation::NoData, Observation::NoData, v(10.0)]);
    assert_eq!(statuses(&steps), [NoData, NoData, Fine]);
    assert_eq!(notified(&steps), [None, None, None]);
}

#[test]
fn non_finite_values_count_as_no_data() {
    let mut rules = cpu_rules();
    rules.notify_no_data = true;
    rules.no_data_timeframe_secs = MIN as u64;
    let steps = run(&rules, &[v(95.0), v(f64::NAN), v(f64::INFINITY)]);
    assert_eq!(statuses(&steps), [Alert, NoData, NoData]);
    assert_eq!(steps[2].state.last_value, Some(95.0));
}

#[test]
fn partial_windows_are_not_evaluated_when_a_full_window_is_required() {
    let mut rules = cpu_rules();
    rules.require_full_window = true;
    let partial = Observation::Value {
        value: 99.0,
        full_window: false,
    };
    let steps = run(&rules, &[v(50.0), partial.clone(), v(99.0)]);
    assert_eq!(statuses(&steps), [Fine, Fine, Alert]);
    assert_eq!(steps[1].state.last_value, Some(50.0));
    assert_eq!(
        steps[1].state.last_data_ts,
        T0 + MIN,
        "partial data is still data"
    );
    // Not required: the partial value counts.
    rules.require_full_window = false;
    let steps = run(&rules, &[v(50.0), partial]);
    assert_eq!(statuses(&steps), [Fine, Alert]);
}

#[test]
fn renotifies_every_interval_at_most_occurrences_times() {
    let mut rules = cpu_rules();
    rules.renotify_interval_secs = Some(2 * MIN as u64);
    rules.renotify_occurrences = Some(2);
    let steps = run(&rules, &vec![v(95.0); 8]);
    assert_eq!(
        notified(&steps),
        [
            Some((Tr, Alert)),
            None,
            Some((Renotify, Alert)),
            None,
            Some((Renotify, Alert)),
            None,
            None,
            None
        ]
    );
    assert_eq!(steps[4].notification.as_ref().unwrap().renotify_count, 2);
    assert_eq!(steps[7].state.renotify_count, 2);
    assert!(steps.iter().all(|s| s.state.status == Alert));
    // A recovery resets the count.
    let mut obs = vec![v(95.0); 3];
    obs.push(v(10.0));
    obs.extend([v(95.0), v(95.0), v(95.0)]);
    let steps = run(&rules, &obs);
    assert_eq!(steps[3].state.renotify_count, 0);
    assert_eq!(notified(&steps)[6], Some((Renotify, Alert)));
}

#[test]
fn renotify_statuses_default_to_alert_and_no_data() {
    let mut rules = cpu_rules();
    rules.warning = Some(80.0);
    rules.renotify_interval_secs = Some(MIN as u64);
    let steps = run(&rules, &[v(85.0), v(85.0), v(85.0)]);
    assert_eq!(notified(&steps), [Some((Tr, Warn)), None, None]);
    rules.renotify_statuses = RenotifyStatuses::from_names(["warn"]).unwrap();
    let steps = run(&rules, &[v(85.0), v(85.0)]);
    assert_eq!(notified(&steps)[1], Some((Renotify, Warn)));
    // renotify_interval 0 disables.
    rules.renotify_interval_secs = Some(0);
    let steps = run(&rules, &[v(85.0), v(85.0)]);
    assert_eq!(notified(&steps)[1], None);
}

#[test]
fn query_errors_show_skipped_with_the_reason_and_resume_underneath() {
    let mut rules = cpu_rules();
    rules.critical_recovery = Some(80.0);
    let err = Observation::error("metric query timed out after 30 s");
    let steps = run(&rules, &[v(95.0), err.clone(), err, v(85.0), v(50.0)]);
    assert_eq!(statuses(&steps), [Alert, Skipped, Skipped, Alert, Fine]);
    let skipped = &steps[1];
    assert_eq!(
        skipped.state.error.as_deref(),
        Some("metric query timed out after 30 s")
    );
    assert_eq!(skipped.state.evaluated, Alert);
    assert_eq!(
        skipped.transition.as_ref().map(|t| (t.from, t.to)),
        Some((Alert, Skipped))
    );
    assert!(steps[2].transition.is_none());
    // Back to the Alert underneath: shown, not re-announced; hysteresis
    // held (85 has not passed 80).
    assert_eq!(
        steps[3].transition.as_ref().map(|t| (t.from, t.to)),
        Some((Skipped, Alert))
    );
    assert_eq!(
        notified(&steps),
        [Some((Tr, Alert)), None, None, None, Some((Tr, Fine))]
    );
    assert_eq!(steps[3].state.error, None);
    // A change hidden by the error is announced when it clears.
    let steps = run(&rules, &[v(95.0), Observation::error("boom"), v(10.0)]);
    assert_eq!(notified(&steps)[2], Some((Tr, Fine)));
    assert_eq!(steps[2].notification.as_ref().unwrap().from, Alert);
    // A brand-new group whose query fails is Skipped too.
    let s = step(None, &Observation::error("bad"), &rules, T0, false);
    assert_eq!(s.state.status, Skipped);
    assert_eq!(
        s.transition.map(|t| (t.from, t.to)),
        Some((NoData, Skipped))
    );
}

#[test]
fn muted_groups_change_state_but_send_nothing() {
    let mut rules = cpu_rules();
    rules.renotify_interval_secs = Some(2 * MIN as u64);
    let alert = step(None, &v(95.0), &rules, T0, true);
    assert_eq!(alert.state.status, Alert);
    assert!(alert.transition.is_some());
    assert_eq!(alert.notification, None);
    assert_eq!(alert.state.last_notified_ts, 0);
    assert_eq!(alert.state.last_triggered_ts, T0);
    // Still muted at +2 min: the reminder is due but not sent, not counted.
    let muted = step(Some(&alert.state), &v(95.0), &rules, T0 + 2 * MIN, true);
    assert_eq!(muted.notification, None);
    assert_eq!(muted.state.renotify_count, 0);
    // Unmuted at +3 min: reminded (counted from entering Alert).
    let unmuted = step(Some(&muted.state), &v(95.0), &rules, T0 + 3 * MIN, false);
    let n = unmuted.notification.unwrap();
    assert_eq!((n.kind, n.status, n.renotify_count), (Renotify, Alert, 1));
    // Recovery after the mute is announced.
    let rec = step(Some(&unmuted.state), &v(10.0), &rules, T0 + 4 * MIN, false);
    assert_eq!(
        rec.notification.map(|n| (n.kind, n.from, n.status)),
        Some((Tr, Alert, Fine))
    );
}

#[test]
fn timeout_resolves_alert_and_warn_without_data() {
    let mut rules = cpu_rules();
    rules.timeout_secs = Some(3 * MIN as u64);
    let mut obs = vec![v(95.0)];
    obs.extend(std::iter::repeat_n(Observation::NoData, 4));
    let steps = run(&rules, &obs);
    assert_eq!(statuses(&steps), [Alert, Alert, Alert, Fine, Fine]);
    assert_eq!(notified(&steps)[3], Some((Tr, Fine)));
    assert_eq!(steps[3].state.last_resolved_ts, T0 + 3 * MIN);
    // With a longer no-data timeframe, No Data is still declared once later.
    rules.notify_no_data = true;
    rules.no_data_timeframe_secs = 5 * MIN as u64;
    let mut obs = vec![v(95.0)];
    obs.extend(std::iter::repeat_n(Observation::NoData, 8));
    let steps = run(&rules, &obs);
    assert_eq!(
        statuses(&steps),
        [
            Alert, Alert, Alert, Fine, Fine, NoData, NoData, NoData, NoData
        ]
    );
}

#[test]
fn repairs_a_damaged_stored_state() {
    let mut damaged = GroupState::new(T0);
    damaged.evaluated = Status::Unknown;
    damaged.status = Status::Ignored;
    let s = step(Some(&damaged), &v(95.0), &cpu_rules(), T0 + MIN, false);
    assert_eq!(s.state.status, Alert);
    assert_eq!(s.state.check(), Ok(()));
}

/// Observations for the property test: values on a quarter grid around the
/// thresholds (exact in JSON), partial windows, no data, errors.
fn observation() -> impl Strategy<Value = Observation> {
    prop_oneof![
        4 => (0i32..480, any::<bool>()).prop_map(|(q, full)| Observation::Value {
            value: f64::from(q) / 4.0,
            full_window: full,
        }),
        2 => Just(Observation::NoData),
        1 => Just(Observation::Value { value: f64::NAN, full_window: true }),
        1 => "[a-z ]{0,12}".prop_map(|reason| Observation::QueryError { reason }),
    ]
}

fn rules_strategy() -> impl Strategy<Value = Rules> {
    (
        prop::sample::select(Comparator::ALL.to_vec()),
        (
            0i32..120,
            prop::option::of(0i32..120),
            prop::option::of(0i32..120),
            prop::option::of(0i32..120),
        ),
        (any::<bool>(), 0u64..600, 0u64..600, any::<bool>()),
        (
            prop::option::of(0u64..600),
            prop::option::of(0u32..4),
            any::<[bool; 3]>(),
            prop::option::of(0u64..900),
        ),
    )
        .prop_map(
            |(comparator, (c, w, cr, wr), (nnd, ndt, delay, full), (ri, ro, rs, timeout))| Rules {
                comparator,
                critical: Some(f64::from(c)),
                warning: w.map(f64::from),
                critical_recovery: cr.map(f64::from),
                warning_recovery: wr.map(f64::from),
                notify_no_data: nnd,
                no_data_timeframe_secs: ndt,
                new_group_delay_secs: delay,
                require_full_window: full,
                renotify_interval_secs: ri,
                renotify_occurrences: ro,
                renotify_statuses: RenotifyStatuses {
                    alert: rs[0],
                    warn: rs[1],
                    no_data: rs[2],
                },
                timeout_secs: timeout,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any rules (valid or not), any observations, non-decreasing times:
    /// `step` never panics and every result keeps the invariants.
    #[test]
    fn step_keeps_its_invariants(
        rules in rules_strategy(),
        seq in prop::collection::vec((observation(), 0i64..200, any::<bool>()), 1..40),
    ) {
        let mut prev: Option<GroupState> = None;
        let mut now = T0;
        for (obs, gap, muted) in seq {
            now += gap;
            let s = step(prev.as_ref(), &obs, &rules, now, muted);
            let state = &s.state;
            prop_assert_eq!(state.check(), Ok(()), "{:?}", state);

            let shown_before = prev.as_ref().map_or(NoData, |p| p.status);
            let evaluated_before = prev.as_ref().map_or(NoData, |p| p.evaluated);
            // The transition says exactly how the shown status changed.
            match &s.transition {
                Some(t) => {
                    prop_assert_eq!(t.from, shown_before);
                    prop_assert_eq!(t.to, state.status);
                    prop_assert_ne!(t.from, t.to);
                    prop_assert_eq!(t.at, now);
                    prop_assert_eq!(state.status_changed_ts, now);
                }
                None => prop_assert_eq!(state.status, shown_before),
            }
            // Entering Alert stamps last_triggered_ts; recoveries stamp
            // last_resolved_ts.
            if state.evaluated == Alert && evaluated_before != Alert {
                prop_assert_eq!(state.last_triggered_ts, now);
            }
            if matches!(evaluated_before, Alert | Warn) && state.evaluated == Fine {
                prop_assert_eq!(state.last_resolved_ts, now);
            }
            // Errors: Skipped with the reason, nothing sent.
            if let Observation::QueryError { reason } = &obs {
                prop_assert_eq!(state.status, Skipped);
                prop_assert_eq!(state.error.as_ref(), Some(reason));
                prop_assert_eq!(&state.evaluated, &evaluated_before);
                prop_assert!(s.notification.is_none());
            }
            // Muted: nothing sent, nothing stamped.
            let notified_before = prev.as_ref().map_or(0, |p| p.last_notified_ts);
            match &s.notification {
                Some(n) => {
                    prop_assert!(!muted);
                    prop_assert_eq!(state.last_notified_ts, now);
                    prop_assert_eq!(n.status, state.status);
                    prop_assert_eq!(n.from, evaluated_before);
                    match n.kind {
                        NotificationKind::Transition => prop_assert_ne!(n.from, n.status),
                        NotificationKind::NoDataDeclared => {
                            prop_assert_eq!(n.status, NoData);
                            prop_assert_eq!(state.last_nodata_ts, now);
                        }
                        NotificationKind::Renotify => {
                            prop_assert!(rules.renotify_statuses.contains(n.status));
                            prop_assert!(n.renotify_count >= 1);
                        }
                    }
                }
                None => prop_assert_eq!(state.last_notified_ts, notified_before),
            }
            if let Some(max) = rules.renotify_occurrences {
                prop_assert!(state.renotify_count <= max);
            }
            // The state survives persistence unchanged.
            let json = serde_json::to_string(state).unwrap();
            let back: GroupState = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, state);
            prev = Some(s.state);
        }
    }
}

#[test]
fn a_declared_no_data_is_not_declared_again_after_a_partial_window() {
    let mut rules = cpu_rules();
    rules.notify_no_data = true;
    rules.require_full_window = true;
    rules.no_data_timeframe_secs = 2 * MIN as u64;
    let partial = Observation::Value {
        value: 50.0,
        full_window: false,
    };
    let nd = Observation::NoData;
    let steps = run(
        &rules,
        &[
            v(95.0),
            nd.clone(),
            nd.clone(),
            partial,
            nd.clone(),
            nd.clone(),
            nd,
        ],
    );
    assert_eq!(
        statuses(&steps),
        [Alert, Alert, NoData, NoData, NoData, NoData, NoData]
    );
    assert_eq!(
        notified(&steps),
        [
            Some((Tr, Alert)),
            None,
            Some((Tr, NoData)),
            None,
            None,
            None,
            None
        ]
    );
}
