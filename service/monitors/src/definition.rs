//! A monitor's definition as Datadog's monitor API takes and returns it
//! (`POST/PUT /api/v1/monitor`, spec §7.2–7.4): checking a request body,
//! filling the defaults Datadog fills, merging a partial update, and the
//! rules the state machine runs on.
//!
//! # What it owns
//! - Which fields a definition keeps (`name`, `type`, `query`, `message`,
//!   `tags`, `priority`, `options`, `restricted_roles`) and their types.
//! - The 400 messages for bad definitions. Where Datadog's wording is known
//!   it is used (`The value provided for parameter 'query' is invalid: ...`,
//!   `Alert threshold (X) does not match that used in the query (Y).`,
//!   `Alert status is required.`); elsewhere the message names the field
//!   and what it must be.
//! - The defaults Datadog fills into `options` (spec §7.4: `notify_audit`,
//!   `locked`, `silenced`, `include_tags`, `new_host_delay`,
//!   `notify_no_data`, `groupby_simple_monitor`) and `thresholds.critical`
//!   taken from the query when `thresholds` is absent or empty. Unknown
//!   option keys are kept and echoed unchanged.
//!
//! # What it must never do
//! Store, evaluate or render anything: the HTTP layer stores what
//! [`check`] returns, and the scheduler builds [`Rules`] from it.

use serde_json::{Map, Value, json};

use crate::comparator::Comparator;
use crate::query::{self, MonitorQuery};
use crate::state::{RenotifyStatuses, Rules};

/// Monitor types that are evaluated.
pub const EVALUATED_TYPES: [&str; 6] = [
    "metric alert",
    "query alert",
    "service check",
    "event alert",
    "event-v2 alert",
    "composite",
];

/// Monitor types that are stored and listed but not evaluated yet (their
/// data has no store in Whippet yet): their `overall_state` is `Unknown`.
pub const STORED_ONLY_TYPES: [&str; 1] = ["log alert"];

/// Longest monitor name, in characters (Datadog's own cap is about this;
/// names are titles of notifications).
pub const MAX_NAME_CHARS: usize = 1000;

/// Longest message, in characters: a template with its sections, well
/// above what a notification can carry.
pub const MAX_MESSAGE_CHARS: usize = 32_000;

/// A definition the API refuses, with Datadog's 400 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

/// A number as Datadog's (Python) API prints it in messages: `90.0`,
/// `0.65`.
pub fn py_number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Checks a create or validate body and returns the definition to store:
/// the known fields only, with defaults filled in.
pub fn check(body: &Value) -> Result<Value, Invalid> {
    let Value::Object(obj) = body else {
        return Err(invalid("Invalid monitor: the body must be a JSON object"));
    };
    let ty = required_str(obj, "type")?;
    if !EVALUATED_TYPES.contains(&ty) && !STORED_ONLY_TYPES.contains(&ty) {
        return Err(invalid(format!(
            "The value provided for parameter 'type' is invalid: unsupported monitor type \"{ty}\" (supported: {})",
            EVALUATED_TYPES
                .iter()
                .chain(&STORED_ONLY_TYPES)
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let query_text = required_str(obj, "query")?;
    let name = match obj.get("name") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(invalid(
                "The value provided for parameter 'name' is invalid: it must be a string",
            ));
        }
    };
    if name.trim().is_empty() {
        return Err(invalid(
            "The value provided for parameter 'name' is invalid: a monitor needs a name",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "The value provided for parameter 'name' is invalid: longer than {MAX_NAME_CHARS} characters"
        )));
    }
    let message = match obj.get("message") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(invalid(
                "The value provided for parameter 'message' is invalid: it must be a string",
            ));
        }
    };
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(invalid(format!(
            "The value provided for parameter 'message' is invalid: longer than {MAX_MESSAGE_CHARS} characters"
        )));
    }
    let tags = string_list(obj.get("tags"), "tags")?;
    let priority = match obj.get("priority") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|p| (1..=5).contains(&p)) => {
            Value::from(n.as_i64().expect("checked"))
        }
        Some(other) => {
            return Err(invalid(format!(
                "The value provided for parameter 'priority' is invalid: it must be an integer from 1 to 5 or null, not {other}"
            )));
        }
    };
    let restricted_roles = match obj.get("restricted_roles") {
        None | Some(Value::Null) => Value::Null,
        Some(v) => Value::from(string_list(Some(v), "restricted_roles")?),
    };
    let mut options = match obj.get("options") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(invalid(
                "The value provided for parameter 'options' is invalid: it must be an object",
            ));
        }
    };

    if EVALUATED_TYPES.contains(&ty) {
        let parsed = query::parse(ty, query_text).map_err(|e| {
            invalid(format!(
                "The value provided for parameter 'query' is invalid: {e}"
            ))
        })?;
        check_thresholds(&parsed, &mut options)?;
        let def =
            json!({"type": ty, "query": query_text, "options": Value::Object(options.clone())});
        if let Some(rules) = rules_of(&def)?
            && let Some(first) = rules.validate().into_iter().next()
        {
            return Err(invalid(first));
        }
    } else if query_text.trim().is_empty() {
        return Err(invalid(
            "The value provided for parameter 'query' is invalid: empty query",
        ));
    }
    check_option_types(&options)?;
    fill_defaults(&mut options);
    Ok(json!({
        "name": name,
        "type": ty,
        "query": query_text,
        "message": message,
        "tags": tags,
        "priority": priority,
        "options": Value::Object(options),
        "restricted_roles": restricted_roles,
    }))
}

/// Applies a `PUT /api/v1/monitor/{id}` body to a stored definition: the
/// fields given replace the stored ones (`options` as a whole, as Datadog
/// does), then the result is checked like a new definition. `type` cannot
/// change.
pub fn merge_update(current: &Value, patch: &Value) -> Result<Value, Invalid> {
    let Value::Object(patch) = patch else {
        return Err(invalid("Invalid monitor: the body must be a JSON object"));
    };
    let mut merged = current.as_object().cloned().unwrap_or_default();
    if let Some(Value::String(t)) = patch.get("type")
        && Some(t.as_str()) != merged.get("type").and_then(Value::as_str)
    {
        return Err(invalid(
            "The value provided for parameter 'type' is invalid: a monitor's type cannot be changed",
        ));
    }
    for (k, v) in patch {
        merged.insert(k.clone(), v.clone());
    }
    check(&Value::Object(merged))
}

/// The alerting rules of a stored definition of a type with thresholds
/// (metric, query and event alerts); `None` for the other types.
pub fn rules_of(def: &Value) -> Result<Option<Rules>, Invalid> {
    let ty = def.get("type").and_then(Value::as_str).unwrap_or("");
    let query_text = def.get("query").and_then(Value::as_str).unwrap_or("");
    let parsed = match query::parse(ty, query_text) {
        Ok(q) => q,
        Err(_) if !EVALUATED_TYPES.contains(&ty) => return Ok(None),
        Err(e) => {
            return Err(invalid(format!(
                "The value provided for parameter 'query' is invalid: {e}"
            )));
        }
    };
    let Some((comparator, threshold, window_secs)) = condition_of(&parsed) else {
        return Ok(None);
    };
    let empty = Map::new();
    let options = def
        .get("options")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let thresholds = options
        .get("thresholds")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let num = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_f64);
    let mut rules = Rules::new(
        comparator,
        num(thresholds, "critical").unwrap_or(threshold),
        window_secs,
    );
    rules.warning = num(thresholds, "warning");
    rules.critical_recovery = num(thresholds, "critical_recovery");
    rules.warning_recovery = num(thresholds, "warning_recovery");
    // A simple monitor has one group from the start: there is no new
    // group to wait for unless the definition asks.
    apply_options(&mut rules, def, parsed.group_by().is_empty());
    Ok(Some(rules))
}

/// Applies the definition's options that every evaluated type shares to
/// `rules`: `notify_no_data`, `no_data_timeframe` (minutes),
/// `new_group_delay` (seconds; when absent, 0 for a `simple` monitor, whose
/// one group exists from the start, else the rules' own),
/// `require_full_window`, `renotify_interval` (minutes),
/// `renotify_occurrences`, `renotify_statuses` and `timeout_h`.
pub fn apply_options(rules: &mut Rules, def: &Value, simple: bool) {
    let empty = Map::new();
    let options = def
        .get("options")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    rules.notify_no_data = options
        .get("notify_no_data")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(m) = options.get("no_data_timeframe").and_then(Value::as_u64) {
        rules.no_data_timeframe_secs = m.saturating_mul(60);
    }
    rules.new_group_delay_secs = match options.get("new_group_delay").and_then(Value::as_u64) {
        Some(s) => s,
        None if simple => 0,
        None => rules.new_group_delay_secs,
    };
    rules.require_full_window = options
        .get("require_full_window")
        .and_then(Value::as_bool)
        .unwrap_or(rules.require_full_window);
    rules.renotify_interval_secs = options
        .get("renotify_interval")
        .and_then(Value::as_u64)
        .filter(|&m| m > 0)
        .map(|m| m.saturating_mul(60));
    rules.renotify_occurrences = options
        .get("renotify_occurrences")
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    if let Some(list) = options.get("renotify_statuses").and_then(Value::as_array) {
        let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
        if let Ok(s) = RenotifyStatuses::from_names(names.iter().copied()) {
            rules.renotify_statuses = s;
        }
    }
    rules.timeout_secs = options
        .get("timeout_h")
        .and_then(Value::as_u64)
        .filter(|&h| h > 0)
        .map(|h| h.saturating_mul(3600));
}

/// True when the definition's query splits into groups (`"multi": true`).
pub fn is_multi(def: &Value) -> bool {
    let ty = def.get("type").and_then(Value::as_str).unwrap_or("");
    let q = def.get("query").and_then(Value::as_str).unwrap_or("");
    query::parse(ty, q).is_ok_and(|p| !p.group_by().is_empty())
}

/// The comparator, the query's threshold and the evaluation window of a
/// query with a threshold.
fn condition_of(q: &MonitorQuery) -> Option<(Comparator, f64, u64)> {
    match q {
        MonitorQuery::Metric(m) => Some((
            m.condition.comparator,
            m.condition.threshold,
            u64::from(m.reduction.window().seconds()),
        )),
        MonitorQuery::Event(e) => Some((
            e.condition.comparator,
            e.condition.threshold,
            u64::from(e.window.seconds()),
        )),
        _ => None,
    }
}

/// `thresholds.critical` must equal the query's threshold; absent with no
/// other threshold, it is taken from the query.
fn check_thresholds(q: &MonitorQuery, options: &mut Map<String, Value>) -> Result<(), Invalid> {
    let Some((_, threshold, _)) = condition_of(q) else {
        return Ok(());
    };
    let thresholds = match options.get_mut("thresholds") {
        None | Some(Value::Null) => {
            options.insert("thresholds".into(), json!({"critical": threshold}));
            return Ok(());
        }
        Some(Value::Object(t)) => t,
        Some(_) => {
            return Err(invalid(
                "The value provided for parameter 'options.thresholds' is invalid: it must be an object",
            ));
        }
    };
    for (k, v) in thresholds.iter() {
        if !v.is_null() && !v.is_number() {
            return Err(invalid(format!(
                "The value provided for parameter 'options.thresholds.{k}' is invalid: it must be a number"
            )));
        }
    }
    match thresholds.get("critical").and_then(Value::as_f64) {
        Some(c) if c != threshold => Err(invalid(format!(
            "Alert threshold ({}) does not match that used in the query ({}).",
            py_number(c),
            py_number(threshold)
        ))),
        Some(_) => Ok(()),
        None if thresholds.values().all(Value::is_null) => {
            thresholds.insert("critical".into(), Value::from(threshold));
            Ok(())
        }
        None => Err(invalid("Alert status is required.")),
    }
}

/// The documented types of the options the evaluator reads.
fn check_option_types(options: &Map<String, Value>) -> Result<(), Invalid> {
    let bools = [
        "notify_no_data",
        "require_full_window",
        "include_tags",
        "notify_audit",
        "locked",
    ];
    let counts = [
        "no_data_timeframe",
        "renotify_interval",
        "renotify_occurrences",
        "evaluation_delay",
        "new_group_delay",
        "new_host_delay",
        "timeout_h",
    ];
    for k in bools {
        if let Some(v) = options.get(k)
            && !v.is_null()
            && !v.is_boolean()
        {
            return Err(invalid(format!(
                "The value provided for parameter 'options.{k}' is invalid: it must be true or false"
            )));
        }
    }
    for k in counts {
        if let Some(v) = options.get(k)
            && !v.is_null()
            && v.as_u64().is_none()
        {
            return Err(invalid(format!(
                "The value provided for parameter 'options.{k}' is invalid: it must be a non-negative integer or null"
            )));
        }
    }
    if let Some(v) = options.get("renotify_statuses")
        && !v.is_null()
    {
        let names: Option<Vec<&str>> = v
            .as_array()
            .and_then(|a| a.iter().map(Value::as_str).collect());
        let ok = names.is_some_and(|n| RenotifyStatuses::from_names(n.iter().copied()).is_ok());
        if !ok {
            return Err(invalid(
                "The value provided for parameter 'options.renotify_statuses' is invalid: it must be a list of \"alert\", \"warn\" and \"no data\"",
            ));
        }
    }
    Ok(())
}

/// The option defaults Datadog fills in (spec §7.4).
fn fill_defaults(options: &mut Map<String, Value>) {
    let defaults = [
        ("notify_audit", Value::Bool(false)),
        ("locked", Value::Bool(false)),
        ("silenced", json!({})),
        ("include_tags", Value::Bool(true)),
        ("new_host_delay", Value::from(300)),
        ("notify_no_data", Value::Bool(false)),
        ("groupby_simple_monitor", Value::Bool(false)),
    ];
    for (k, v) in defaults {
        options.entry(k).or_insert(v);
    }
}

fn required_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, Invalid> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(invalid(format!(
            "The value provided for parameter '{field}' is invalid: the field is required"
        ))),
        Some(_) => Err(invalid(format!(
            "The value provided for parameter '{field}' is invalid: it must be a string"
        ))),
    }
}

fn string_list(v: Option<&Value>, field: &str) -> Result<Vec<String>, Invalid> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_owned).ok_or_else(|| {
                    invalid(format!(
                        "The value provided for parameter '{field}' is invalid: it must be a list of strings"
                    ))
                })
            })
            .collect(),
        Some(_) => Err(invalid(format!(
            "The value provided for parameter '{field}' is invalid: it must be a list of strings"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/datadog-api-client/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
    }

    fn err(body: Value) -> String {
        check(&body).unwrap_err().0
    }

    #[test]
    fn the_clients_bodies_are_accepted_with_defaults() {
        let def = check(&fixture("monitor_create_metric_alert.json")).unwrap();
        assert_eq!(def["type"], "metric alert");
        assert_eq!(def["priority"], 2);
        assert_eq!(def["options"]["thresholds"]["critical"], 90.0);
        assert_eq!(def["options"]["new_group_delay"], 60);
        assert_eq!(def["options"]["locked"], false, "a default filled in");
        assert_eq!(def["options"]["silenced"], json!({}));
        assert!(is_multi(&def));
        let rules = rules_of(&def).unwrap().unwrap();
        assert_eq!(rules.critical, Some(90.0));
        assert_eq!(rules.warning, Some(80.0));
        assert_eq!(rules.critical_recovery, Some(85.0));
        assert_eq!(rules.no_data_timeframe_secs, 600);
        assert_eq!(rules.renotify_interval_secs, Some(3600));
        for f in [
            "monitor_create_service_check.json",
            "monitor_create_composite.json",
            "monitor_create_log_alert.json",
            "monitor_validate.json",
        ] {
            let def = check(&fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(def["name"].is_string(), "{f}");
        }
        let composite = check(&fixture("monitor_create_composite.json")).unwrap();
        assert!(!is_multi(&composite));
        assert_eq!(rules_of(&composite).unwrap(), None);
    }

    #[test]
    fn thresholds_follow_the_query() {
        let body = |thresholds: Value| {
            json!({"name": "n", "type": "metric alert",
                "query": "avg(last_5m):avg:system.load.1{*} > 2", "options": {"thresholds": thresholds}})
        };
        let def = check(&body(Value::Null)).unwrap();
        assert_eq!(def["options"]["thresholds"], json!({"critical": 2.0}));
        let def = check(&body(json!({}))).unwrap();
        assert_eq!(def["options"]["thresholds"]["critical"], 2.0);
        assert_eq!(
            err(body(json!({"critical": 3}))),
            "Alert threshold (3.0) does not match that used in the query (2.0)."
        );
        assert_eq!(
            err(body(json!({"warning": 1}))),
            "Alert status is required."
        );
        let e = err(body(json!({"critical": 2, "warning": 5})));
        assert!(e.contains("Warning threshold (5.0)"), "{e}");
        assert!(err(body(json!({"critical": "2"}))).contains("options.thresholds.critical"));
    }

    #[test]
    fn bad_definitions_name_the_problem() {
        let ok = json!({"name": "n", "type": "metric alert", "query": "avg(last_5m):avg:m{*} > 1"});
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            b
        };
        assert!(
            err(with("query", json!("avg(last_5m):avg:m{*}")))
                .starts_with("The value provided for parameter 'query' is invalid: ")
        );
        assert!(err(with("query", json!("avg(last_5q):avg:m{*} > 1"))).contains("query"));
        assert!(err(with("type", json!("process alert"))).contains("'type'"));
        assert!(err(with("name", json!(""))).contains("'name'"));
        assert!(err(with("priority", json!(9))).contains("'priority'"));
        assert!(err(with("tags", json!("env:prod"))).contains("'tags'"));
        assert!(
            err(with("options", json!({"notify_no_data": "yes"})))
                .contains("options.notify_no_data")
        );
        assert!(
            err(with("options", json!({"renotify_statuses": ["loud"]})))
                .contains("renotify_statuses")
        );
        assert!(err(json!([1])).contains("JSON object"));
        let mut no_query = ok.clone();
        no_query.as_object_mut().unwrap().remove("query");
        assert!(err(no_query).contains("'query'"));
    }

    #[test]
    fn updates_merge_and_keep_the_type() {
        let def = check(&fixture("monitor_create_metric_alert.json")).unwrap();
        let merged = merge_update(&def, &fixture("monitor_update.json")).unwrap();
        assert_eq!(
            merged["query"],
            "avg(last_10m):avg:system.cpu.user{env:prod} by {host} > 95"
        );
        assert_eq!(merged["options"]["thresholds"], json!({"critical": 95.0}));
        assert_eq!(merged["name"], def["name"], "untouched fields stay");
        let e = merge_update(&def, &json!({"type": "service check"}))
            .unwrap_err()
            .0;
        assert!(e.contains("cannot be changed"), "{e}");
        let e = merge_update(&def, &json!({"options": {"thresholds": {"critical": 1}}}))
            .unwrap_err()
            .0;
        assert!(e.starts_with("Alert threshold (1.0)"), "{e}");
    }

    #[test]
    fn unknown_options_are_echoed() {
        let def = check(
            &json!({"name": "n", "type": "metric alert", "query": "avg(last_5m):avg:m{*} > 1",
            "options": {"some_future_option": {"x": [1, 2]}}}),
        )
        .unwrap();
        assert_eq!(def["options"]["some_future_option"], json!({"x": [1, 2]}));
    }

    #[test]
    fn numbers_print_like_datadogs() {
        assert_eq!(py_number(90.0), "90.0");
        assert_eq!(py_number(0.65), "0.65");
        assert_eq!(py_number(-2.0), "-2.0");
    }
}
