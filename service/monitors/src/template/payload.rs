//! Webhook bodies: Datadog's `$VARIABLES` substituted into a payload
//! template, the default payload, and a Slack incoming-webhook body.
//!
//! Owns the webhook variable set ([`Variable`]), what each one holds for a
//! Whippet notification ([`payload_vars`]) and the substitution rules
//! ([`render_payload`]). Never sends anything, never form-encodes (the
//! delivery code does that for "Encode as form" webhooks, from the JSON
//! this produces) and never reads the clock: `$DATE` is
//! [`Context::now_ms`].
//!
//! # Substitution
//! `$NAME` is replaced when `NAME` starts with a known variable name
//! (built-in or custom), the longest first, so `$ALERT_CYCLE_KEY` is never
//! read as `$ALERT_C...` and `$DATE_POSIX` never as `$DATE` + `_POSIX`. A
//! `$` followed by no known name stays as written (`$5`, `$FOO`). A known
//! variable without a value becomes empty text, as Datadog does for, say,
//! `$SNAPSHOT` on a monitor without a graph.
//!
//! # When a value is JSON-escaped
//! A payload template whose first non-blank character is `{` or `[` is
//! JSON. In it, the template is scanned for string literals (`"` to the
//! next unescaped `"`):
//! - inside a string literal, the value is JSON-escaped (quotes,
//!   backslashes, control characters; no quotes added), so `"$EVENT_MSG"`
//!   stays one valid string whatever the message holds;
//! - outside any string literal (`"date": $DATE`), a value that is itself a
//!   JSON number, `true`, `false` or `null` is inserted as is, and any other
//!   value as a quoted JSON string.
//!
//! Hence: if the template is valid JSON once every variable outside a
//! string is replaced by `0`, the output is valid JSON for every value.
//! Any other template (plain text, a form body) gets values verbatim.

use std::collections::BTreeMap;

use serde_json::Value;

use super::context::Context;
use super::format;

/// The payload Datadog's webhooks integration sends when a webhook has no
/// custom payload: the event's body (the rendered message), its last
/// update, type, title and date, the organization, and the event id.
/// (Written from the integration's documented default, field for field.)
pub const DEFAULT_PAYLOAD: &str = r#"{
    "body": "$EVENT_MSG",
    "last_updated": "$LAST_UPDATED",
    "event_type": "$EVENT_TYPE",
    "title": "$EVENT_TITLE",
    "date": "$DATE",
    "org": {
        "id": "$ORG_ID",
        "name": "$ORG_NAME"
    },
    "id": "$ID"
}"#;

/// The most a JSON-escaped value can grow: a control byte becomes
/// `\u00XX`, six bytes for one.
const JSON_ESCAPE_GROWTH: usize = 6;

/// The two quotes a value outside a string literal may gain.
const JSON_QUOTES_LEN: usize = 2;

/// The shortest variable reference is two bytes (`$` and a one-letter
/// custom name), so a template of `n` bytes holds at most `n / 2`.
const MIN_REFERENCE_LEN: usize = 2;

macro_rules! variables {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// A Datadog webhook variable (`$ALERT_ID`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Variable {
            $($(#[$doc])* $variant,)*
        }

        impl Variable {
            /// Every variable.
            pub const ALL: &'static [Variable] = &[$(Variable::$variant,)*];

            /// The name after the `$` (`ALERT_ID`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Variable::$variant => $name,)*
                }
            }
        }
    };
}

variables! {
    /// `$AGGREG_KEY`: one id for all events of a monitor group.
    AggregKey = "AGGREG_KEY",
    /// `$ALERT_CYCLE_KEY`: one id from a group's trigger to its recovery.
    AlertCycleKey = "ALERT_CYCLE_KEY",
    /// `$ALERT_ID`: the monitor's id.
    AlertId = "ALERT_ID",
    /// `$ALERT_METRIC`: the metric's name, for metric monitors.
    AlertMetric = "ALERT_METRIC",
    /// `$ALERT_PRIORITY`: the monitor's priority, `P1` to `P5`.
    AlertPriority = "ALERT_PRIORITY",
    /// `$ALERT_QUERY`: the monitor's query.
    AlertQuery = "ALERT_QUERY",
    /// `$ALERT_SCOPE`: the group's tags, `key:value` joined by `, `.
    AlertScope = "ALERT_SCOPE",
    /// `$ALERT_STATUS`: a one-line summary (`system.load.1 over host:a was > 0`).
    AlertStatus = "ALERT_STATUS",
    /// `$ALERT_TITLE`: the alert's title (`[Triggered on {host:a}] Load`).
    AlertTitle = "ALERT_TITLE",
    /// `$ALERT_TRANSITION`: `Triggered`, `Recovered`, `Re-Warn`, ...
    AlertTransition = "ALERT_TRANSITION",
    /// `$ALERT_TYPE`: `error`, `warning`, `success` or `info`.
    AlertType = "ALERT_TYPE",
    /// `$DATE`: when the event happened, epoch milliseconds.
    Date = "DATE",
    /// `$DATE_POSIX`: the same, epoch seconds.
    DatePosix = "DATE_POSIX",
    /// `$EMAIL`: the email of the user whose action posted the event.
    Email = "EMAIL",
    /// `$EVENT_MSG`: the event's text, the rendered message.
    EventMsg = "EVENT_MSG",
    /// `$EVENT_TITLE`: the event's title.
    EventTitle = "EVENT_TITLE",
    /// `$EVENT_TYPE`: `metric_alert_monitor`, `event_alert`, `service_check`, ...
    EventType = "EVENT_TYPE",
    /// `$HOSTNAME`: the host of the event, if any.
    Hostname = "HOSTNAME",
    /// `$ID`: the event's id.
    Id = "ID",
    /// `$LAST_UPDATED`: when the event was last updated, epoch milliseconds.
    LastUpdated = "LAST_UPDATED",
    /// `$LINK`: the event's URL.
    Link = "LINK",
    /// `$LOGS_SAMPLE`: a sample of logs, for log monitors.
    LogsSample = "LOGS_SAMPLE",
    /// `$METRIC_NAMESPACE`: the metric's namespace, for metric monitors.
    MetricNamespace = "METRIC_NAMESPACE",
    /// `$ORG_ID`: the organization's id.
    OrgId = "ORG_ID",
    /// `$ORG_NAME`: the organization's name.
    OrgName = "ORG_NAME",
    /// `$PRIORITY`: the event's priority, `normal` or `low`.
    Priority = "PRIORITY",
    /// `$SNAPSHOT`: the URL of the graph snapshot, if any.
    Snapshot = "SNAPSHOT",
    /// `$TAGS`: the event's tags, joined by `, `.
    Tags = "TAGS",
    /// `$TEXT_ONLY_MSG`: the event's text without Markdown.
    TextOnlyMsg = "TEXT_ONLY_MSG",
    /// `$USER`: the user whose action posted the event.
    User = "USER",
    /// `$USERNAME`: that user's username.
    Username = "USERNAME",
}

/// The values of the webhook variables for one notification, plus the
/// webhook's custom variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadVars {
    values: BTreeMap<Variable, String>,
    custom: BTreeMap<String, String>,
}

impl PayloadVars {
    /// No values: every variable renders empty.
    pub fn new() -> PayloadVars {
        PayloadVars::default()
    }

    /// Sets a built-in variable.
    pub fn set(&mut self, variable: Variable, value: impl Into<String>) {
        self.values.insert(variable, value.into());
    }

    /// A built-in variable's value (empty when unset).
    pub fn get(&self, variable: Variable) -> &str {
        self.values.get(&variable).map_or("", String::as_str)
    }

    /// Sets a custom variable (the webhooks integration's user-defined
    /// variables, referenced as `$NAME`). Returns false, and sets nothing,
    /// unless `name` is non-empty and made of `A-Z`, `0-9` and `_`. A custom
    /// variable named like a built-in one replaces it.
    pub fn set_custom(&mut self, name: &str, value: impl Into<String>) -> bool {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            self.custom.insert(name.to_owned(), value.into());
        }
        valid
    }

    /// The longest value, the unit of [`max_payload_len`].
    pub fn max_value_len(&self) -> usize {
        self.values
            .values()
            .chain(self.custom.values())
            .map(String::len)
            .max()
            .unwrap_or(0)
    }

    /// Every (name, value) pair, longest name first; custom before
    /// built-in at equal names.
    fn by_longest_name(&self) -> Vec<(&str, &str)> {
        let mut names: Vec<(&str, &str)> = self
            .custom
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        names.extend(Variable::ALL.iter().map(|v| (v.name(), self.get(*v))));
        // Stable: custom stays ahead of an equal built-in name.
        names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
        names
    }
}

/// What the server knows about a notification beyond the [`Context`]:
/// fields left empty get the defaults [`payload_vars`] documents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The event's id (`$ID`); 0 → a number unique to the notification
    /// (a hash of the monitor id, the group and the time, below 2^63).
    pub id: u64,
    /// The rendered message (`$EVENT_MSG`, and `$TEXT_ONLY_MSG` stripped).
    pub message: String,
    /// The title; empty → [`event_title`]`(ctx, true)`.
    pub title: String,
    /// The event's URL (`$LINK`).
    pub link: String,
    /// The graph snapshot's URL (`$SNAPSHOT`).
    pub snapshot: String,
    /// The metric (`$ALERT_METRIC`).
    pub metric: String,
    /// The metric's namespace (`$METRIC_NAMESPACE`); empty → the part of
    /// `metric` before its first `.`.
    pub metric_namespace: String,
    /// The host (`$HOSTNAME`); empty → the group's `host` tag.
    pub hostname: String,
    /// The event type (`$EVENT_TYPE`); empty → `metric_alert_monitor`.
    pub event_type: String,
    /// The status summary (`$ALERT_STATUS`); empty → built from the
    /// metric (or query), scope, comparator and threshold.
    pub alert_status: String,
    /// The event's tags (`$TAGS`); empty → the group's scope tags.
    pub tags: Vec<String>,
    /// `$AGGREG_KEY`; empty → a hash of the monitor id and the group.
    pub aggreg_key: String,
    /// `$ALERT_CYCLE_KEY`; empty → a hash of the monitor id, the group and
    /// `first_triggered_at`.
    pub alert_cycle_key: String,
    /// `$USER`.
    pub user: String,
    /// `$USERNAME`.
    pub username: String,
    /// `$EMAIL`.
    pub email: String,
    /// `$LOGS_SAMPLE`.
    pub logs_sample: String,
}

/// FNV-1a 64-bit offset basis and prime: a fixed, dependency-free hash, so
/// the derived keys are the same on every run and every node.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv_hex(parts: &[&str]) -> String {
    let mut hash = FNV_OFFSET;
    for part in parts {
        for &b in part.as_bytes().iter().chain(std::iter::once(&0u8)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(FNV_PRIME);
        }
    }
    format!("{hash:016x}")
}

/// The event title Datadog gives a monitor notification:
/// `[Triggered on {env:prod,host:web-1}] CPU high`, the word being
/// [`Transition::alert_transition`](super::Transition::alert_transition)
/// and the braces listing the group's tags (left out when `include_tags`
/// is false, the monitor option, or the group has none).
pub fn event_title(ctx: &Context, include_tags: bool) -> String {
    let word = ctx.transition.alert_transition();
    let scope = ctx.scope().replace(", ", ",");
    if include_tags && !scope.is_empty() {
        format!("[{word} on {{{scope}}}] {}", ctx.monitor_name)
    } else {
        format!("[{word}] {}", ctx.monitor_name)
    }
}

/// Every webhook variable for a notification. Beyond the
/// [`WebhookEvent`] defaults: `$ALERT_ID` is the monitor id, `$ALERT_QUERY`
/// its query, `$ALERT_PRIORITY` `P1`..`P5` (empty without priority),
/// `$ALERT_SCOPE` the group, `$ALERT_TITLE` = `$EVENT_TITLE`,
/// `$ALERT_TRANSITION`/`$ALERT_TYPE` from the transition, `$DATE` and
/// `$LAST_UPDATED` = `ctx.now_ms` in milliseconds, `$DATE_POSIX` in
/// seconds, `$PRIORITY` `normal` (monitor events are never low),
/// `$ORG_ID`/`$ORG_NAME` from the context.
pub fn payload_vars(ctx: &Context, event: &WebhookEvent) -> PayloadVars {
    let or = |given: &str, default: String| {
        if given.is_empty() {
            default
        } else {
            given.to_owned()
        }
    };
    let scope = ctx.scope();
    let group = scope.replace(", ", ",");
    let monitor_id = ctx.monitor_id.to_string();
    let title = or(&event.title, event_title(ctx, true));
    let status_default = || {
        let (Some(cmp), Some(threshold)) = (ctx.comparator, ctx.thresholds.critical) else {
            return String::new();
        };
        let subject = if event.metric.is_empty() {
            &ctx.monitor_query
        } else {
            &event.metric
        };
        let over = if scope.is_empty() { "*" } else { &group };
        format!(
            "{subject} over {over} was {cmp} {}",
            format::number(threshold)
        )
    };
    let first = ctx
        .first_triggered_at_ms
        .map(|t| t.to_string())
        .unwrap_or_default();
    let tags = if event.tags.is_empty() {
        scope.clone()
    } else {
        event.tags.join(", ")
    };
    let namespace = event
        .metric
        .split_once('.')
        .map(|(ns, _)| ns.to_owned())
        .unwrap_or_default();

    let mut vars = PayloadVars::new();
    use Variable::*;
    vars.set(
        AggregKey,
        or(&event.aggreg_key, fnv_hex(&[&monitor_id, &group])),
    );
    vars.set(
        AlertCycleKey,
        or(
            &event.alert_cycle_key,
            fnv_hex(&[&monitor_id, &group, &first]),
        ),
    );
    vars.set(AlertId, monitor_id.clone());
    vars.set(AlertMetric, event.metric.clone());
    vars.set(AlertPriority, ctx.priority_label().unwrap_or_default());
    vars.set(AlertQuery, ctx.monitor_query.clone());
    vars.set(AlertScope, scope.clone());
    vars.set(AlertStatus, or(&event.alert_status, status_default()));
    vars.set(AlertTitle, title.clone());
    vars.set(AlertTransition, ctx.transition.alert_transition());
    vars.set(AlertType, ctx.transition.alert_type());
    vars.set(Date, ctx.now_ms.to_string());
    vars.set(DatePosix, ctx.now_ms.div_euclid(1000).to_string());
    vars.set(Email, event.email.clone());
    vars.set(EventMsg, event.message.clone());
    vars.set(EventTitle, title);
    vars.set(
        EventType,
        or(&event.event_type, "metric_alert_monitor".to_owned()),
    );
    vars.set(
        Hostname,
        or(
            &event.hostname,
            ctx.variable("host.name")
                .map(|h| h.into_owned())
                .unwrap_or_default(),
        ),
    );
    let id = if event.id != 0 {
        event.id
    } else {
        // One number per notification decision, the same for every handle
        // it goes to: receivers drop duplicates by it.
        let now = ctx.now_ms.to_string();
        u64::from_str_radix(&fnv_hex(&[&monitor_id, &group, &now]), 16).unwrap_or(0) >> 1
    };
    vars.set(Id, id.to_string());
    vars.set(LastUpdated, ctx.now_ms.to_string());
    vars.set(Link, event.link.clone());
    vars.set(LogsSample, event.logs_sample.clone());
    vars.set(MetricNamespace, or(&event.metric_namespace, namespace));
    vars.set(OrgId, ctx.org_id.to_string());
    vars.set(OrgName, ctx.org_name.clone());
    vars.set(Priority, "normal");
    vars.set(Snapshot, event.snapshot.clone());
    vars.set(Tags, tags);
    vars.set(TextOnlyMsg, text_only(&event.message));
    vars.set(User, event.user.clone());
    vars.set(Username, event.username.clone());
    vars
}

/// The bound on [`render_payload`]'s output: the template, plus for each
/// of at most `template_len / 2` references the longest value JSON-escaped
/// (six bytes per byte) and quoted.
pub fn max_payload_len(template_len: usize, vars: &PayloadVars) -> usize {
    let per_reference = vars
        .max_value_len()
        .saturating_mul(JSON_ESCAPE_GROWTH)
        .saturating_add(JSON_QUOTES_LEN);
    template_len.saturating_add((template_len / MIN_REFERENCE_LEN).saturating_mul(per_reference))
}

/// Substitutes `vars` into a payload `template` by the rules of the module
/// doc. Never fails or panics; the output is at most
/// [`max_payload_len`]`(template.len(), vars)` bytes.
pub fn render_payload(template: &str, vars: &PayloadVars) -> String {
    let json = matches!(template.trim_start().as_bytes().first(), Some(b'{' | b'['));
    let names = vars.by_longest_name();
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len());
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // Skip the escaped byte; a multi-byte character's continuation
            // bytes never look like `"`, `\` or `$`.
            b'\\' if json && in_string => i += 2,
            b'"' if json => {
                in_string = !in_string;
                i += 1;
            }
            b'$' => {
                let after = &bytes[i + 1..];
                match names
                    .iter()
                    .find(|(name, _)| after.starts_with(name.as_bytes()))
                {
                    Some((name, value)) => {
                        out.push_str(&template[copied..i]);
                        push_value(&mut out, value, json, in_string);
                        i += 1 + name.len();
                        copied = i;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&template[copied..]);
    out
}

/// Appends `value` escaped for where it lands (see the module doc).
fn push_value(out: &mut String, value: &str, json: bool, in_string: bool) {
    if !json {
        out.push_str(value);
        return;
    }
    let quoted = Value::String(value.to_owned()).to_string();
    if in_string {
        out.push_str(&quoted[1..quoted.len() - 1]);
    } else if is_json_scalar(value) {
        out.push_str(value);
    } else {
        out.push_str(&quoted);
    }
}

/// A JSON number, `true`, `false` or `null`, exactly (no blanks around).
fn is_json_scalar(value: &str) -> bool {
    value.trim() == value
        && matches!(
            serde_json::from_str::<Value>(value),
            Ok(Value::Number(_) | Value::Bool(_) | Value::Null)
        )
}

/// The body a Slack incoming webhook takes: `{"text": ...}`, the title in
/// bold (Slack `mrkdwn`) on the first line when not empty, then the text.
pub fn slack_body(title: &str, text: &str) -> Value {
    let body = if title.is_empty() {
        text.to_owned()
    } else {
        format!("*{title}*\n{text}")
    };
    serde_json::json!({ "text": body })
}

/// A message without its Markdown, for `$TEXT_ONLY_MSG`: Datadog's `%%%`
/// markers dropped, `[text](url)` and `![alt](url)` as `text (url)`,
/// heading `#`s, `**`/`__` emphasis and backticks removed. Never longer
/// than the message.
pub fn text_only(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for line in message.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if body.trim() == "%%%" {
            continue;
        }
        let body = body.replace("%%%", "");
        let trimmed = body.trim_start();
        let body = match trimmed.strip_prefix('#') {
            Some(_) => trimmed.trim_start_matches('#').trim_start(),
            None => &body,
        };
        strip_inline(body, &mut out);
        out.push_str(newline);
    }
    out
}

/// The first occurrence of a character at or after a position, remembered
/// so that asking again from a later position does not rescan: a line of
/// `[[[[...` costs linear time, not quadratic.
struct NextChar {
    ch: char,
    searched_from: usize,
    found: Option<usize>,
}

impl NextChar {
    fn new(ch: char) -> NextChar {
        NextChar {
            ch,
            searched_from: usize::MAX,
            found: None,
        }
    }

    fn at_or_after(&mut self, line: &str, from: usize) -> Option<usize> {
        let still_valid =
            self.searched_from <= from && self.found.is_none_or(|found| found >= from);
        if !still_valid {
            self.searched_from = from;
            self.found = line.get(from..)?.find(self.ch).map(|i| from + i);
        }
        self.found
    }
}

/// Appends `line` without inline Markdown (links, emphasis, code ticks).
fn strip_inline(line: &str, out: &mut String) {
    let mut brackets = NextChar::new(']');
    let mut parens = NextChar::new(')');
    let mut pos = 0;
    while let Some(found) = line[pos..].find(['[', '*', '_', '`']) {
        let at = pos + found;
        let before = &line[pos..at];
        if let Some((text, url, after)) = link(line, at, &mut brackets, &mut parens) {
            // `![alt](url)`: the `!` goes with the link.
            out.push_str(before.strip_suffix('!').unwrap_or(before));
            out.push_str(text);
            out.push_str(" (");
            out.push_str(url);
            out.push(')');
            pos = after;
            continue;
        }
        out.push_str(before);
        let from = &line[at..];
        if from.starts_with("**") || from.starts_with("__") {
            pos = at + 2;
        } else if from.starts_with('`') {
            pos = at + 1;
        } else {
            out.push_str(&from[..1]);
            pos = at + 1;
        }
    }
    out.push_str(&line[pos..]);
}

/// `[text](url)` starting at byte `at` of `line` → (text, url, offset
/// after the `)`).
fn link<'a>(
    line: &'a str,
    at: usize,
    brackets: &mut NextChar,
    parens: &mut NextChar,
) -> Option<(&'a str, &'a str, usize)> {
    if !line[at..].starts_with('[') {
        return None;
    }
    let close = brackets.at_or_after(line, at + 1)?;
    if !line[close + 1..].starts_with('(') {
        return None;
    }
    let end = parens.at_or_after(line, close + 2)?;
    Some((&line[at + 1..close], &line[close + 2..end], end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparator::Comparator;
    use crate::template::context::{Status, Thresholds, Transition};
    use proptest::prelude::*;

    fn ctx() -> Context {
        let mut ctx = Context {
            value: Some(97.0),
            comparator: Some(Comparator::Gt),
            thresholds: Thresholds {
                critical: Some(90.0),
                ..Thresholds::default()
            },
            monitor_id: 155_844_758,
            monitor_name: "CPU high".into(),
            monitor_query: "avg(last_5m):avg:system.cpu.user{*} by {host} > 90".into(),
            priority: Some(2),
            first_triggered_at_ms: Some(1_728_578_340_000),
            now_ms: 1_728_578_400_000,
            org_id: 321_813,
            org_name: "Acme \"Ops\"".into(),
            ..Context::new(Transition::new(Status::Ok, Status::Alert))
        };
        ctx.add_group("host:web-1,env:prod");
        ctx
    }

    fn event(message: &str) -> WebhookEvent {
        WebhookEvent {
            id: 42,
            message: message.into(),
            metric: "system.cpu.user".into(),
            ..WebhookEvent::default()
        }
    }

    #[test]
    fn default_payload_is_valid_json_with_hostile_message() {
        let message = "line \"one\"\nline\ttwo \\ {} $ID é 🚨 \u{0}\u{1f}";
        let vars = payload_vars(&ctx(), &event(message));
        let out = render_payload(DEFAULT_PAYLOAD, &vars);
        let parsed: Value = serde_json::from_str(&out).expect(&out);
        assert_eq!(parsed["body"], message);
        assert_eq!(
            parsed["title"],
            "[Triggered on {env:prod,host:web-1}] CPU high"
        );
        assert_eq!(parsed["date"], "1728578400000");
        assert_eq!(parsed["last_updated"], "1728578400000");
        assert_eq!(parsed["event_type"], "metric_alert_monitor");
        assert_eq!(parsed["org"]["id"], "321813");
        assert_eq!(parsed["org"]["name"], "Acme \"Ops\"");
        assert_eq!(parsed["id"], "42");
    }

    #[test]
    fn a_missing_event_id_becomes_one_per_notification() {
        let id_of = |ctx: &Context| {
            let e = WebhookEvent {
                id: 0,
                ..event("m")
            };
            payload_vars(ctx, &e).get(Variable::Id).to_owned()
        };
        let first = id_of(&ctx());
        assert!(
            first.parse::<u64>().is_ok_and(|n| n > 0 && n < 1 << 63),
            "{first}"
        );
        assert_eq!(id_of(&ctx()), first, "the same decision, the same id");
        let mut later = ctx();
        later.now_ms += 60_000;
        assert_ne!(id_of(&later), first);
        let mut other = ctx();
        other.tags.clear();
        other.add_group("host:web-2");
        assert_ne!(id_of(&other), first);
    }

    #[test]
    fn every_variable_has_a_value_or_is_documented_empty() {
        let vars = payload_vars(&ctx(), &event("@webhook-x **CPU** at [graph](https://x/y)"));
        let get = |v| vars.get(v).to_owned();
        use Variable::*;
        assert_eq!(get(AlertId), "155844758");
        assert_eq!(get(AlertPriority), "P2");
        assert_eq!(get(AlertScope), "env:prod, host:web-1");
        assert_eq!(
            get(AlertStatus),
            "system.cpu.user over env:prod,host:web-1 was > 90"
        );
        assert_eq!(get(AlertTransition), "Triggered");
        assert_eq!(get(AlertType), "error");
        assert_eq!(get(DatePosix), "1728578400");
        assert_eq!(get(Hostname), "web-1");
        assert_eq!(get(MetricNamespace), "system");
        assert_eq!(get(Priority), "normal");
        assert_eq!(get(Tags), "env:prod, host:web-1");
        assert_eq!(get(TextOnlyMsg), "@webhook-x CPU at graph (https://x/y)");
        assert_eq!(get(AggregKey).len(), 16);
        assert_ne!(get(AggregKey), get(AlertCycleKey));
        assert_eq!(get(Snapshot), "");
    }

    #[test]
    fn longest_name_first() {
        let mut vars = PayloadVars::new();
        vars.set(Variable::Date, "D");
        vars.set(Variable::DatePosix, "P");
        vars.set(Variable::AlertId, "A");
        vars.set(Variable::Id, "I");
        assert_eq!(
            render_payload("$DATE_POSIX $DATE $ALERT_ID $ID $IDX $FOO $ $5", &vars),
            "P D A I IX $FOO $ $5"
        );
    }

    #[test]
    fn custom_variables() {
        let mut vars = PayloadVars::new();
        assert!(vars.set_custom("DD_API_KEY", "k"));
        assert!(!vars.set_custom("lower", "x"));
        assert!(!vars.set_custom("", "x"));
        assert!(vars.set_custom("ID", "custom"));
        assert_eq!(render_payload("$DD_API_KEY $ID", &vars), "k custom");
    }

    #[test]
    fn escaping_depends_on_position() {
        let mut vars = PayloadVars::new();
        vars.set(Variable::Date, "1728578400000");
        vars.set(Variable::EventMsg, "say \"hi\"\n");
        vars.set(Variable::Tags, "a:b, c");
        let out = render_payload(
            r#"{"date": $DATE, "msg": "[$EVENT_MSG]", "tags": [$TAGS], "raw": $EVENT_MSG}"#,
            &vars,
        );
        let v: Value = serde_json::from_str(&out).expect(&out);
        assert_eq!(v["date"], 1_728_578_400_000u64);
        assert_eq!(v["msg"], "[say \"hi\"\n]");
        assert_eq!(v["tags"][0], "a:b, c");
        assert_eq!(v["raw"], "say \"hi\"\n");
        // An escaped quote does not end the string.
        let out = render_payload(r#"{"a": "\"$EVENT_MSG"}"#, &vars);
        assert!(serde_json::from_str::<Value>(&out).is_ok(), "{out}");
        // Plain text is verbatim.
        assert_eq!(
            render_payload("To=1&Body=$EVENT_MSG", &vars),
            "To=1&Body=say \"hi\"\n"
        );
        // Empty values outside strings become "".
        let out = render_payload("[$SNAPSHOT]", &vars);
        assert_eq!(out, "[\"\"]");
    }

    #[test]
    fn slack() {
        assert_eq!(
            slack_body("T", "a \"b\""),
            serde_json::json!({"text": "*T*\na \"b\""})
        );
        assert_eq!(slack_body("", "x"), serde_json::json!({"text": "x"}));
    }

    #[test]
    fn text_only_strips_markdown() {
        assert_eq!(
            text_only("%%%\n# Title\n**bold** `code` ![img](u) [a](b) [x] * _\n%%%"),
            "Title\nbold code img (u) a (b) [x] * _\n"
        );
        assert_eq!(text_only("!"), "!");
        assert_eq!(text_only("![nolink"), "![nolink");
        assert_eq!(text_only("[a] [b](c) [d](e"), "[a] b (c) [d](e");
    }

    #[test]
    fn text_only_is_linear_on_hostile_lines() {
        for unit in ["[", "[a](", "[a]", "**", "![x]("] {
            let line = format!("{}])", unit.repeat(200_000));
            let started = std::time::Instant::now();
            assert!(text_only(&line).len() <= line.len());
            assert!(
                started.elapsed().as_secs() < 5,
                "{unit} took {:?}",
                started.elapsed()
            );
        }
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[\"\\\\\n\t$A-Z_0-9 {}é]{0,20}",
            Just("12".to_owned()),
            Just("true".to_owned())
        ]
    }

    proptest! {
        #[test]
        fn json_templates_stay_valid(
            values in prop::collection::vec(value_strategy(), Variable::ALL.len()),
            custom in value_strategy(),
        ) {
            let mut vars = PayloadVars::new();
            for (v, value) in Variable::ALL.iter().zip(&values) {
                vars.set(*v, value.clone());
            }
            vars.set_custom("MY_VAR", custom);
            for template in [
                DEFAULT_PAYLOAD,
                r#"{"d": $DATE, "t": [$TAGS, $ALERT_ID], "m": "$EVENT_MSG$TEXT_ONLY_MSG \"$MY_VAR\"", "n": {"x": $DATE_POSIX}}"#,
            ] {
                let out = render_payload(template, &vars);
                prop_assert!(serde_json::from_str::<Value>(&out).is_ok(), "{}", out);
                prop_assert!(out.len() <= max_payload_len(template.len(), &vars));
            }
            let parsed: Value = serde_json::from_str(&render_payload(DEFAULT_PAYLOAD, &vars)).unwrap();
            prop_assert_eq!(parsed["body"].as_str(), Some(vars.get(Variable::EventMsg)));
        }

        #[test]
        fn arbitrary_templates_never_panic(template in any::<String>(), dollars in "[${}\"\\\\A-Z_ ]{0,60}", value in any::<String>()) {
            let mut vars = PayloadVars::new();
            for v in Variable::ALL {
                vars.set(*v, value.clone());
            }
            for t in [template.as_str(), dollars.as_str(), &format!("{{{dollars}")] {
                let out = render_payload(t, &vars);
                prop_assert!(out.len() <= max_payload_len(t.len(), &vars));
            }
        }

        #[test]
        fn text_only_never_grows(m in any::<String>(), md in "[\\[\\]()!*_`#%a\n ]{0,40}") {
            prop_assert!(text_only(&m).len() <= m.len());
            prop_assert!(text_only(&md).len() <= md.len());
        }
    }
}
