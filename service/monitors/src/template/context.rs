//! What a notification is about: the transition, the value, the thresholds,
//! the monitor and the group, as the template language sees them.
//!
//! Owns the [`Context`] the server fills for each notification, the
//! conditional variables a [`Transition`] makes true, and the meaning of
//! every template variable (`{{value}}`, `{{host.name}}`, ...). Must never
//! read the clock (the notification time is [`Context::now_ms`]), storage or
//! the monitor state machine: the server maps its state onto [`Status`].

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::format;
use crate::comparator::Comparator;

/// A group's state as notifications name it. The server maps the state
/// machine's states onto these five (a `Skipped` group never notifies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Within thresholds.
    Ok,
    /// The warning threshold is crossed.
    Warn,
    /// The critical threshold is crossed.
    Alert,
    /// No data for `no_data_timeframe` (with `notify_no_data`).
    NoData,
    /// The monitor could not evaluate the group.
    Unknown,
}

/// The change a notification reports: the group went `from` → `to`, or,
/// when `renotify` is set, it is still in `to` and is being notified again
/// (`renotify_interval`); then `from` should equal `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state before this evaluation.
    pub from: Status,
    /// The state now.
    pub to: Status,
    /// True for a renotification of an unchanged state.
    pub renotify: bool,
}

/// A conditional variable: the name in `{{#is_alert}}` / `{{^is_alert}}`.
/// Each is a function of the [`Transition`] alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conditional {
    /// `is_alert`: the group is (now) in Alert, whatever it came from.
    IsAlert,
    /// `is_warning`: the group is (now) in Warn.
    IsWarning,
    /// `is_recovery`: the group went to OK from Alert, Warn, No Data or
    /// Unknown.
    IsRecovery,
    /// `is_alert_recovery`: Alert → OK.
    IsAlertRecovery,
    /// `is_warning_recovery`: Warn → OK.
    IsWarningRecovery,
    /// `is_alert_to_warning`: Alert → Warn.
    IsAlertToWarning,
    /// `is_no_data`: the group is (now) in No Data.
    IsNoData,
    /// `is_no_data_recovery`: No Data → OK. (Datadog says "recovers from
    /// NO DATA"; Whippet reads "recovers" as reaching OK, like
    /// `is_recovery`, so No Data → Alert is not a recovery.)
    IsNoDataRecovery,
    /// `is_unknown`: the group is (now) Unknown.
    IsUnknown,
    /// `is_renotify`: this is a renotification.
    IsRenotify,
}

impl Conditional {
    /// Every conditional variable.
    pub const ALL: [Conditional; 10] = [
        Conditional::IsAlert,
        Conditional::IsWarning,
        Conditional::IsRecovery,
        Conditional::IsAlertRecovery,
        Conditional::IsWarningRecovery,
        Conditional::IsAlertToWarning,
        Conditional::IsNoData,
        Conditional::IsNoDataRecovery,
        Conditional::IsUnknown,
        Conditional::IsRenotify,
    ];

    /// The name as written in a template (`is_alert`).
    pub fn name(self) -> &'static str {
        match self {
            Conditional::IsAlert => "is_alert",
            Conditional::IsWarning => "is_warning",
            Conditional::IsRecovery => "is_recovery",
            Conditional::IsAlertRecovery => "is_alert_recovery",
            Conditional::IsWarningRecovery => "is_warning_recovery",
            Conditional::IsAlertToWarning => "is_alert_to_warning",
            Conditional::IsNoData => "is_no_data",
            Conditional::IsNoDataRecovery => "is_no_data_recovery",
            Conditional::IsUnknown => "is_unknown",
            Conditional::IsRenotify => "is_renotify",
        }
    }

    /// The conditional `name` spells, if any (exact, case-sensitive).
    pub fn parse(name: &str) -> Option<Conditional> {
        Conditional::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl Transition {
    /// A change of state `from` → `to`.
    pub fn new(from: Status, to: Status) -> Transition {
        Transition {
            from,
            to,
            renotify: false,
        }
    }

    /// A renotification of a group still in `state`.
    pub fn renotify(state: Status) -> Transition {
        Transition {
            from: state,
            to: state,
            renotify: true,
        }
    }

    /// Whether `conditional` is true for this transition.
    pub fn is(self, conditional: Conditional) -> bool {
        use Status::*;
        match conditional {
            Conditional::IsAlert => self.to == Alert,
            Conditional::IsWarning => self.to == Warn,
            Conditional::IsRecovery => self.to == Ok && self.from != Ok,
            Conditional::IsAlertRecovery => self.from == Alert && self.to == Ok,
            Conditional::IsWarningRecovery => self.from == Warn && self.to == Ok,
            Conditional::IsAlertToWarning => self.from == Alert && self.to == Warn,
            Conditional::IsNoData => self.to == NoData,
            Conditional::IsNoDataRecovery => self.from == NoData && self.to == Ok,
            Conditional::IsUnknown => self.to == Unknown,
            Conditional::IsRenotify => self.renotify,
        }
    }

    /// Datadog's `$ALERT_TRANSITION` word: `Triggered`, `Warn`, `No Data`,
    /// `Recovered`, their renotified forms `Re-Triggered`, `Re-Warn`,
    /// `Re-No Data`, `Renotify` for any other renotification, and `Null` for
    /// a move to Unknown (Datadog lists `Null` without saying when; Unknown
    /// is the only state it can name).
    pub fn alert_transition(self) -> &'static str {
        match (self.renotify, self.to) {
            (false, Status::Alert) => "Triggered",
            (false, Status::Warn) => "Warn",
            (false, Status::NoData) => "No Data",
            (false, Status::Ok) => "Recovered",
            (false, Status::Unknown) => "Null",
            (true, Status::Alert) => "Re-Triggered",
            (true, Status::Warn) => "Re-Warn",
            (true, Status::NoData) => "Re-No Data",
            (true, _) => "Renotify",
        }
    }

    /// Datadog's event `alert_type` (`$ALERT_TYPE`): `error` for Alert,
    /// `warning` for Warn, `success` for OK and `info` for No Data and
    /// Unknown (Datadog lists the four values without the mapping; this
    /// one follows the event colours of its event stream).
    pub fn alert_type(self) -> &'static str {
        match self.to {
            Status::Alert => "error",
            Status::Warn => "warning",
            Status::Ok => "success",
            Status::NoData | Status::Unknown => "info",
        }
    }
}

/// The monitor's thresholds (`options.thresholds`), each shown by one
/// template variable; `None` renders as empty text.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// `critical`, shown by `{{threshold}}`.
    pub critical: Option<f64>,
    /// `warning`, shown by `{{warn_threshold}}`.
    pub warning: Option<f64>,
    /// `critical_recovery`, shown by `{{alert_recovery_threshold}}`.
    pub critical_recovery: Option<f64>,
    /// `warning_recovery`, shown by `{{warn_recovery_threshold}}`.
    pub warning_recovery: Option<f64>,
    /// `ok` (service checks), shown by `{{ok_threshold}}`.
    pub ok: Option<f64>,
}

/// Everything a notification template may refer to, for one group and one
/// transition. Build it with [`Context::new`] and struct update syntax:
///
/// ```
/// use whippet_monitors::template::{Context, Status, Transition};
/// let mut ctx = Context {
///     value: Some(97.5),
///     monitor_name: "CPU high".into(),
///     ..Context::new(Transition::new(Status::Ok, Status::Alert))
/// };
/// ctx.add_group("host:web-1,env:prod");
/// assert_eq!(whippet_monitors::template::render("{{host.name}} at {{value}}", &ctx), "web-1 at 97.5");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// What happened; every conditional variable derives from it.
    pub transition: Transition,
    /// The value that was compared (`{{value}}`); `None` for No Data.
    pub value: Option<f64>,
    /// The comparison (`{{comparator}}`).
    pub comparator: Option<Comparator>,
    /// The thresholds (`{{threshold}}`, `{{warn_threshold}}`, ...).
    pub thresholds: Thresholds,
    /// The monitor's id (`$ALERT_ID` in webhook payloads).
    pub monitor_id: u64,
    /// The monitor's name (event titles, `$ALERT_TITLE`).
    pub monitor_name: String,
    /// The monitor's query (`$ALERT_QUERY`).
    pub monitor_query: String,
    /// The monitor's priority, 1 (highest) to 5 (`{{#is_priority 'P1'}}`,
    /// `$ALERT_PRIORITY`).
    pub priority: Option<u8>,
    /// The group's tags: key → its values (`{{host.name}}`). A key with
    /// several values renders them comma-separated in lexicographic order,
    /// as Datadog does; the set keeps them sorted and distinct.
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// When the group first left OK in this episode, epoch ms
    /// (`{{first_triggered_at}}`).
    pub first_triggered_at_ms: Option<i64>,
    /// When the group last entered a non-OK state, epoch ms
    /// (`{{last_triggered_at}}`).
    pub last_triggered_at_ms: Option<i64>,
    /// The time of this notification, epoch ms: `{{triggered_duration_sec}}`
    /// counts to it, and webhooks send it as `$DATE`.
    pub now_ms: i64,
    /// The service check's message (`{{check_message}}`).
    pub check_message: Option<String>,
    /// The organization's id (`$ORG_ID`).
    pub org_id: u64,
    /// The organization's name (`$ORG_NAME`).
    pub org_name: String,
}

impl Context {
    /// A context for `transition` with every other field empty.
    pub fn new(transition: Transition) -> Context {
        Context {
            transition,
            value: None,
            comparator: None,
            thresholds: Thresholds::default(),
            monitor_id: 0,
            monitor_name: String::new(),
            monitor_query: String::new(),
            priority: None,
            tags: BTreeMap::new(),
            first_triggered_at_ms: None,
            last_triggered_at_ms: None,
            now_ms: 0,
            check_message: None,
            org_id: 0,
            org_name: String::new(),
        }
    }

    /// Adds one `key:value` tag (split at the first `:`; a tag without one
    /// is a key with an empty value).
    pub fn add_tag(&mut self, tag: &str) {
        let (key, value) = tag.split_once(':').unwrap_or((tag, ""));
        self.tags
            .entry(key.to_owned())
            .or_default()
            .insert(value.to_owned());
    }

    /// Adds the tags of a group name as the monitor state spells it
    /// (`host:web-1,env:prod`); `*` (the single group of a simple monitor)
    /// and empty parts add nothing.
    pub fn add_group(&mut self, group: &str) {
        for tag in group.split(',').map(str::trim) {
            if !tag.is_empty() && tag != "*" {
                self.add_tag(tag);
            }
        }
    }

    /// The group as Datadog's scope spells it: `key:value` pairs, sorted,
    /// joined by `, ` (`env:prod, host:web-1`), as in `$ALERT_SCOPE`.
    pub fn scope(&self) -> String {
        let mut parts = Vec::new();
        for (key, values) in &self.tags {
            for value in values {
                parts.push(if value.is_empty() {
                    key.clone()
                } else {
                    format!("{key}:{value}")
                });
            }
        }
        parts.join(", ")
    }

    /// The priority as Datadog writes it (`P1`), if set.
    pub fn priority_label(&self) -> Option<String> {
        self.priority.map(|p| format!("P{p}"))
    }

    /// The values of tag `key`, comma-separated in lexicographic order.
    fn tag_values(&self, key: &str) -> Option<String> {
        let values = self.tags.get(key)?;
        Some(
            values
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    /// The text of template variable `path` (already trimmed), or `None`
    /// when the context does not know it (which renders as empty text).
    ///
    /// Known: `value`, `threshold`, `warn_threshold`,
    /// `alert_recovery_threshold`, `warn_recovery_threshold`,
    /// `ok_threshold`, `comparator`, `first_triggered_at[_epoch]`,
    /// `last_triggered_at[_epoch]` (epoch in milliseconds),
    /// `triggered_duration_sec`, `check_message`, and `<key>.name` or
    /// `[<key>].name` for every group tag key (the key may itself contain
    /// dots, or start with `@` for a facet).
    pub fn variable(&self, path: &str) -> Option<Cow<'_, str>> {
        let number = |v: Option<f64>| v.map(|v| Cow::Owned(format::number(v)));
        match path {
            "value" => number(self.value),
            "threshold" => number(self.thresholds.critical),
            "warn_threshold" => number(self.thresholds.warning),
            "alert_recovery_threshold" => number(self.thresholds.critical_recovery),
            "warn_recovery_threshold" => number(self.thresholds.warning_recovery),
            "ok_threshold" => number(self.thresholds.ok),
            "comparator" => self.comparator.map(|c| Cow::Borrowed(c.as_str())),
            "first_triggered_at" => self
                .first_triggered_at_ms
                .map(|t| format::utc_datetime(t).into()),
            "first_triggered_at_epoch" => self.first_triggered_at_ms.map(|t| t.to_string().into()),
            "last_triggered_at" => self
                .last_triggered_at_ms
                .map(|t| format::utc_datetime(t).into()),
            "last_triggered_at_epoch" => self.last_triggered_at_ms.map(|t| t.to_string().into()),
            "triggered_duration_sec" => self.first_triggered_at_ms.map(|first| {
                let secs = self.now_ms.saturating_sub(first).max(0) / 1000;
                Cow::Owned(secs.to_string())
            }),
            "check_message" => self.check_message.as_deref().map(Cow::Borrowed),
            _ => {
                let key = path.strip_suffix(".name")?;
                let key = key
                    .strip_prefix('[')
                    .and_then(|k| k.strip_suffix(']'))
                    .unwrap_or(key);
                self.tag_values(key).map(Cow::Owned)
            }
        }
    }

    /// The text `{{#is_match "<path>" ...}}` compares: the variable `path`,
    /// or, when no variable has that name, the values of the tag named
    /// `path` itself (Datadog's own example writes `is_match "env"` for
    /// `env.name`).
    pub fn match_subject(&self, path: &str) -> Option<Cow<'_, str>> {
        self.variable(path)
            .or_else(|| self.tag_values(path).map(Cow::Owned))
    }

    /// The epoch milliseconds of date variable `path`
    /// (`first_triggered_at`, `last_triggered_at`, with or without
    /// `_epoch`), for `{{local_time ...}}`.
    pub fn date_variable(&self, path: &str) -> Option<i64> {
        match path {
            "first_triggered_at" | "first_triggered_at_epoch" => self.first_triggered_at_ms,
            "last_triggered_at" | "last_triggered_at_epoch" => self.last_triggered_at_ms,
            _ => None,
        }
    }

    /// The longest text any single variable of this context can produce:
    /// the output-size bounds of [`render()`](super::render()) are stated in it.
    pub fn max_variable_len(&self) -> usize {
        let tags = self
            .tags
            .values()
            .map(|values| values.iter().map(|v| v.len() + 2).sum::<usize>())
            .max()
            .unwrap_or(0);
        let check = self.check_message.as_deref().map_or(0, str::len);
        tags.max(check)
            .max(format::NUMBER_MAX_LEN)
            .max(format::DATETIME_MAX_LEN)
            .max(format::INTEGER_MAX_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// The conditionals true for each transition, everything else false.
    #[test]
    fn every_conditional_true_and_false() {
        use Conditional::*;
        let cases: &[(Transition, &[Conditional])] = &[
            (Transition::new(Ok, Alert), &[IsAlert]),
            (Transition::new(Warn, Alert), &[IsAlert]),
            (Transition::new(Ok, Warn), &[IsWarning]),
            (Transition::new(Alert, Warn), &[IsWarning, IsAlertToWarning]),
            (Transition::new(Alert, Ok), &[IsRecovery, IsAlertRecovery]),
            (Transition::new(Warn, Ok), &[IsRecovery, IsWarningRecovery]),
            (Transition::new(NoData, Ok), &[IsRecovery, IsNoDataRecovery]),
            (Transition::new(Unknown, Ok), &[IsRecovery]),
            (Transition::new(Alert, NoData), &[IsNoData]),
            (Transition::new(NoData, Alert), &[IsAlert]),
            (Transition::new(Ok, Unknown), &[IsUnknown]),
            (Transition::renotify(Alert), &[IsAlert, IsRenotify]),
            (Transition::renotify(NoData), &[IsNoData, IsRenotify]),
        ];
        for (transition, truths) in cases {
            for c in Conditional::ALL {
                assert_eq!(
                    transition.is(c),
                    truths.contains(&c),
                    "{transition:?} {c:?}"
                );
            }
        }
        // Every conditional is true somewhere and false somewhere.
        for c in Conditional::ALL {
            assert!(cases.iter().any(|(t, _)| t.is(c)), "{c:?} never true");
            assert!(cases.iter().any(|(t, _)| !t.is(c)), "{c:?} never false");
        }
    }

    #[test]
    fn conditional_names_round_trip() {
        for c in Conditional::ALL {
            assert_eq!(Conditional::parse(c.name()), Some(c));
        }
        assert_eq!(Conditional::parse("IS_ALERT"), None);
    }

    #[test]
    fn transition_words() {
        assert_eq!(Transition::new(Ok, Alert).alert_transition(), "Triggered");
        assert_eq!(
            Transition::renotify(Alert).alert_transition(),
            "Re-Triggered"
        );
        assert_eq!(Transition::new(Alert, Ok).alert_transition(), "Recovered");
        assert_eq!(
            Transition::renotify(NoData).alert_transition(),
            "Re-No Data"
        );
        assert_eq!(Transition::renotify(Ok).alert_transition(), "Renotify");
        assert_eq!(Transition::new(Alert, Warn).alert_type(), "warning");
    }

    #[test]
    fn variables() {
        let mut ctx = Context {
            value: Some(97.25),
            comparator: Some(Comparator::Gt),
            thresholds: Thresholds {
                critical: Some(90.0),
                warning: Some(80.0),
                ..Thresholds::default()
            },
            first_triggered_at_ms: Some(1_728_578_340_000),
            last_triggered_at_ms: Some(1_728_578_400_000),
            now_ms: 1_728_578_465_000,
            ..Context::new(Transition::new(Ok, Alert))
        };
        ctx.add_group("host:web-1,env:prod,env:dev,dot.key.test:five,*");
        let v = |p: &str| ctx.variable(p).map(Cow::into_owned);
        assert_eq!(v("value").as_deref(), Some("97.25"));
        assert_eq!(v("threshold").as_deref(), Some("90"));
        assert_eq!(v("warn_threshold").as_deref(), Some("80"));
        assert_eq!(v("ok_threshold"), None);
        assert_eq!(v("comparator").as_deref(), Some(">"));
        assert_eq!(
            v("last_triggered_at").as_deref(),
            Some("2024-10-10 16:40:00 UTC")
        );
        assert_eq!(
            v("last_triggered_at_epoch").as_deref(),
            Some("1728578400000")
        );
        assert_eq!(v("triggered_duration_sec").as_deref(), Some("125"));
        assert_eq!(v("host.name").as_deref(), Some("web-1"));
        assert_eq!(v("env.name").as_deref(), Some("dev, prod"));
        assert_eq!(v("[dot.key.test].name").as_deref(), Some("five"));
        assert_eq!(v("dot.key.test.name").as_deref(), Some("five"));
        assert_eq!(v("region.name"), None);
        assert_eq!(v("host"), None);
        assert_eq!(ctx.match_subject("host").as_deref(), Some("web-1"));
        assert_eq!(
            ctx.scope(),
            "dot.key.test:five, env:dev, env:prod, host:web-1"
        );
    }
}
