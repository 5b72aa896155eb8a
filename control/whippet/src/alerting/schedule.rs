//! The monitor scheduler: every cadence, evaluate every monitor, step each
//! group's state machine, and write the new states, the transitions and
//! the notifications they cause in one transaction per monitor.
//!
//! # Shared evaluations
//! Metric monitors whose queries differ only in comparator and threshold
//! (`MetricQuery::evaluation_key`) and that look at the same window are
//! evaluated once per round: the per-group values are computed once and
//! each monitor applies its own thresholds. Per-monitor polling is what did
//! not scale in the seed.
//!
//! # What a round does, per monitor
//! 1. Observe: metric alerts read their window
//!    `[now - evaluation_delay - window, now - evaluation_delay)` through
//!    the query engine and reduce each group's points with the time
//!    aggregation (`change`/`pct_change` compare with the window `shift`
//!    earlier); a group that had a state and has no points now observes
//!    No Data. Composites observe their members' overall states from this
//!    round (1 = the formula holds with Alert members, 0.5 = it holds only
//!    counting Warn members too, 0 = not). Service checks and event alerts
//!    are not evaluated yet: they observe an error that says so, visible in
//!    their state.
//! 2. Step: `whippet_monitors::state::step` per group.
//! 3. Notify: each notification decision renders the message for its group
//!    and queues one outbox entry per `@`-handle of the rendered message.
//! 4. Persist: `MetaStore::record_evaluation`, then one event per
//!    transition that notifies or leaves OK. The event write is not in the
//!    transaction: a crash between the two loses that event, never a state
//!    or a notification.
//!
//! # What it must never do
//! Send anything itself (the deliverer does), or decide alert semantics
//! (the state machine does).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use whippet_ddql::Request;
use whippet_meta::{Evaluation, MonitorRecord, NewEvent, NewNotification, NewTransition};
use whippet_monitors::definition::{self, EVALUATED_TYPES};
use whippet_monitors::query::{
    self, ChangeKind, CompositeQuery, MetricQuery, MonitorQuery, TimeAggregation, TimeReduction,
};
use whippet_monitors::state::{
    GroupState, NotificationKind, Observation, Rules, Status, Step, overall, step,
};
use whippet_monitors::template::{
    self, Context, Handle, Thresholds, Transition,
    payload::{Variable, WebhookEvent, event_title, payload_vars},
};
use whippet_tsdb::OrgId;

use crate::server::AppState;
use crate::server::selfmon::names;

/// The group name of a monitor without `by` groups.
pub const SIMPLE_GROUP: &str = "*";

/// Rules for composites: the observed value is 1 (Alert), 0.5 (Warn) or 0.
fn composite_rules() -> Rules {
    let mut r = Rules::new(whippet_monitors::comparator::Comparator::Ge, 1.0, 60);
    r.warning = Some(0.5);
    r
}

/// What a round did, for logs and self-monitoring.
#[derive(Debug, Default, Clone, Copy)]
pub struct RoundStats {
    /// Monitors evaluated.
    pub monitors: usize,
    /// Distinct metric evaluations (queries run).
    pub evaluations: usize,
    /// Transitions recorded.
    pub transitions: usize,
    /// Notifications queued.
    pub notifications: usize,
}

/// Runs rounds every `every` until `stop` changes; a monitor created or
/// changed wakes the loop early (its first state then comes at once).
pub async fn run(state: AppState, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = state.monitors_changed.notified() => {}
            _ = stop.changed() => return,
        }
        let started = Instant::now();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        match round(&state, now_ms).await {
            Ok(stats) => {
                let lag = started.elapsed().as_secs_f64();
                state
                    .selfmon
                    .add(names::MONITORS_EVALUATED, &[], stats.monitors as f64);
                state.selfmon.add(names::MONITOR_ROUND_SECONDS, &[], lag);
                tracing::debug!(?stats, seconds = lag, "monitor round");
            }
            Err(e) => tracing::warn!(error = %e, "monitor round failed"),
        }
    }
}

/// A monitor ready to evaluate.
struct Prepared {
    record: MonitorRecord,
    query: MonitorQuery,
    rules: Option<Rules>,
    delay_secs: i64,
}

/// One round over every monitor of every org at `now_ms`.
pub async fn round(state: &AppState, now_ms: i64) -> anyhow::Result<RoundStats> {
    let mut stats = RoundStats::default();
    let records = state.meta.list_monitors(None).await?;
    let org_names: HashMap<OrgId, String> = state
        .meta
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut prepared = Vec::new();
    for record in records {
        let def = &record.definition;
        let ty = def.get("type").and_then(Value::as_str).unwrap_or("");
        if !EVALUATED_TYPES.contains(&ty) {
            continue;
        }
        let text = def.get("query").and_then(Value::as_str).unwrap_or("");
        let Ok(query) = query::parse(ty, text) else {
            tracing::warn!(monitor = record.id, "stored monitor query no longer parses");
            continue;
        };
        let rules = definition::rules_of(def).ok().flatten();
        let delay_secs = def
            .pointer("/options/evaluation_delay")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .max(0);
        prepared.push(Prepared {
            record,
            query,
            rules,
            delay_secs,
        });
    }

    // Shared metric evaluations.
    type Key = (OrgId, String, i64);
    let mut values: HashMap<Key, Result<BTreeMap<String, Observation>, String>> = HashMap::new();
    for p in &prepared {
        let MonitorQuery::Metric(q) = &p.query else {
            continue;
        };
        let to_ms = now_ms.div_euclid(1000).saturating_sub(p.delay_secs) * 1000;
        let key = (p.record.org, q.evaluation_key(), to_ms);
        if values.contains_key(&key) {
            continue;
        }
        let text = p.record.definition["query"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let (qe, q2, org) = (state.query.clone(), q.clone(), p.record.org);
        let result =
            tokio::task::spawn_blocking(move || observe_metric(&qe, org, &text, &q2, to_ms))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
        stats.evaluations += 1;
        values.insert(key, result);
    }

    // Metric monitors, then composites (which read this round's states).
    let mut overall_now: HashMap<i64, Status> = HashMap::new();
    let (composites, others): (Vec<&Prepared>, Vec<&Prepared>) = prepared
        .iter()
        .partition(|p| matches!(p.query, MonitorQuery::Composite(_)));
    for p in others.into_iter().chain(composites) {
        let stored = load_groups(state, p.record.id).await?;
        let (observed, rules) = match &p.query {
            MonitorQuery::Metric(q) => {
                let to_ms = now_ms.div_euclid(1000).saturating_sub(p.delay_secs) * 1000;
                let key = (p.record.org, q.evaluation_key(), to_ms);
                let obs =
                    match &values[&key] {
                        Ok(v) => v.clone(),
                        Err(reason) => stored
                            .keys()
                            .map(|g| (g.clone(), Observation::error(reason.clone())))
                            .chain(stored.is_empty().then(|| {
                                (SIMPLE_GROUP.to_owned(), Observation::error(reason.clone()))
                            }))
                            .collect(),
                    };
                (obs, p.rules.clone())
            }
            MonitorQuery::Composite(c) => {
                let mut members = HashMap::new();
                for id in c.ids() {
                    let id = id as i64;
                    let s = match overall_now.get(&id) {
                        Some(s) => *s,
                        None => member_status(state, p.record.org, id).await?,
                    };
                    members.insert(id, s);
                }
                let value = if holds(c, &|id| members.get(&id) == Some(&Status::Alert)) {
                    1.0
                } else if holds(c, &|id| {
                    matches!(members.get(&id), Some(Status::Alert | Status::Warn))
                }) {
                    0.5
                } else {
                    0.0
                };
                let obs = BTreeMap::from([(SIMPLE_GROUP.to_owned(), Observation::value(value))]);
                (obs, Some(composite_rules()))
            }
            MonitorQuery::ServiceCheck(_) | MonitorQuery::Event(_) => {
                let reason = "service check and event alert monitors are not evaluated yet";
                let obs = BTreeMap::from([(SIMPLE_GROUP.to_owned(), Observation::error(reason))]);
                (obs, p.rules.clone().or_else(|| Some(composite_rules())))
            }
        };
        let Some(rules) = rules else { continue };
        let mut observed = observed;
        // Groups with a state but nothing observed this round: no data.
        for g in stored.keys() {
            observed.entry(g.clone()).or_insert(Observation::NoData);
        }
        let org_name = org_names.get(&p.record.org).cloned().unwrap_or_default();
        let (eval, events) = step_monitor(p, &rules, &stored, &observed, now_ms, &org_name);
        stats.monitors += 1;
        stats.transitions += eval.transitions.len();
        stats.notifications += eval.notifications.len();
        let statuses: Vec<Status> = eval
            .groups
            .iter()
            .filter_map(|(_, v)| serde_json::from_value::<GroupState>(v.clone()).ok())
            .map(|g| g.status)
            .collect();
        overall_now.insert(p.record.id, overall(statuses));
        if state.meta.record_evaluation(&eval).await? {
            for e in events {
                if let Err(err) = state.meta.insert_event(p.record.org, &e).await {
                    tracing::warn!(error = %err, monitor = p.record.id, "posting a monitor event failed");
                }
            }
        }
    }
    Ok(stats)
}

/// The stored group states of a monitor.
async fn load_groups(state: &AppState, id: i64) -> anyhow::Result<BTreeMap<String, GroupState>> {
    Ok(state
        .meta
        .monitor_groups(id)
        .await?
        .into_iter()
        .filter_map(|(g, v)| Some((g, serde_json::from_value(v).ok()?)))
        .collect())
}

/// The overall status of monitor `id` of `org` from its stored groups
/// (OK when it does not exist: a composite over a deleted monitor).
async fn member_status(state: &AppState, org: OrgId, id: i64) -> anyhow::Result<Status> {
    if state.meta.get_monitor(org, id).await?.is_none() {
        return Ok(Status::Ok);
    }
    let groups = load_groups(state, id).await?;
    Ok(overall(groups.values().map(|g| g.status)))
}

/// The truth of a composite formula.
fn holds(c: &CompositeQuery, member: &dyn Fn(i64) -> bool) -> bool {
    match c {
        CompositeQuery::Monitor(id) => member(*id as i64),
        CompositeQuery::Not(x) => !holds(x, member),
        CompositeQuery::And(xs) => xs.iter().all(|x| holds(x, member)),
        CompositeQuery::Or(xs) => xs.iter().any(|x| holds(x, member)),
    }
}

/// Evaluates a metric monitor's expression over its window (and the
/// shifted one for `change`), one observation per group.
fn observe_metric(
    qe: &whippet_query::QueryEngine,
    org: OrgId,
    text: &str,
    q: &MetricQuery,
    to_ms: i64,
) -> Result<BTreeMap<String, Observation>, String> {
    let window_ms = i64::from(q.reduction.window().seconds()) * 1000;
    let now = reduce_window(qe, org, text, q, to_ms - window_ms, to_ms)?;
    let TimeReduction::Change { kind, shift, .. } = &q.reduction else {
        return Ok(now
            .into_iter()
            .map(|(g, (v, full))| {
                (
                    g,
                    Observation::Value {
                        value: v,
                        full_window: full,
                    },
                )
            })
            .collect());
    };
    let shift_ms = i64::from(shift.seconds()) * 1000;
    let then = reduce_window(
        qe,
        org,
        text,
        q,
        to_ms - window_ms - shift_ms,
        to_ms - shift_ms,
    )?;
    Ok(now
        .into_iter()
        .map(|(g, (v, full))| {
            let obs = match then.get(&g) {
                None => Observation::NoData,
                Some(&(old, _)) => {
                    let value = match kind {
                        ChangeKind::Absolute => v - old,
                        ChangeKind::Percent if old == 0.0 => f64::NAN,
                        ChangeKind::Percent => (v - old) / old.abs() * 100.0,
                    };
                    Observation::Value {
                        value,
                        full_window: full,
                    }
                }
            };
            (g, obs)
        })
        .collect())
}

/// Each group's points over `[from_ms, to_ms)` reduced with the time
/// aggregation, and whether they cover the window.
fn reduce_window(
    qe: &whippet_query::QueryEngine,
    org: OrgId,
    text: &str,
    q: &MetricQuery,
    from_ms: i64,
    to_ms: i64,
) -> Result<BTreeMap<String, (f64, bool)>, String> {
    let req = Request {
        exprs: vec![q.expr.clone()],
    };
    let series = qe
        .query(org, text, &req, from_ms, to_ms)
        .map_err(|e| format!("the query failed: {e}"))?;
    let mut out = BTreeMap::new();
    for s in series {
        let vals: Vec<f64> = s.points.iter().filter_map(|&(_, v)| v).collect();
        if vals.is_empty() {
            continue;
        }
        let value = match q.reduction.aggregation() {
            TimeAggregation::Avg | TimeAggregation::Percentile => {
                vals.iter().sum::<f64>() / vals.len() as f64
            }
            TimeAggregation::Sum => vals.iter().sum(),
            TimeAggregation::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
            TimeAggregation::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        };
        let step = i64::from(s.interval_secs) * 1000;
        let first = s
            .points
            .iter()
            .find(|p| p.1.is_some())
            .map_or(i64::MAX, |p| p.0);
        let last = s
            .points
            .iter()
            .rev()
            .find(|p| p.1.is_some())
            .map_or(i64::MIN, |p| p.0);
        let full = first <= from_ms + step && last >= to_ms - 2 * step;
        let group = if s.tag_set.is_empty() {
            SIMPLE_GROUP.to_owned()
        } else {
            s.tag_set.join(",")
        };
        out.insert(group, (value, full));
    }
    Ok(out)
}

/// True when the definition's `options.silenced` mutes `group` at `now_s`
/// (`{"*": null}` mutes every group until unmuted; a number is the end, in
/// epoch seconds).
fn muted(def: &Value, group: &str, now_s: i64) -> bool {
    let Some(silenced) = def.pointer("/options/silenced").and_then(Value::as_object) else {
        return false;
    };
    [SIMPLE_GROUP, group]
        .iter()
        .any(|k| match silenced.get(*k) {
            Some(Value::Null) => true,
            Some(v) => v.as_i64().is_some_and(|end| end > now_s),
            None => false,
        })
}

/// Steps every observed group of one monitor; the evaluation to record and
/// the events to post.
fn step_monitor(
    p: &Prepared,
    rules: &Rules,
    stored: &BTreeMap<String, GroupState>,
    observed: &BTreeMap<String, Observation>,
    now_ms: i64,
    org_name: &str,
) -> (Evaluation, Vec<NewEvent>) {
    let now_s = now_ms.div_euclid(1000);
    let def = &p.record.definition;
    let mut eval = Evaluation {
        monitor_id: p.record.id,
        version: p.record.version,
        ..Evaluation::default()
    };
    let mut events = Vec::new();
    for (group, obs) in observed {
        let Step {
            state,
            transition,
            notification,
        } = step(
            stored.get(group),
            obs,
            rules,
            now_s,
            muted(def, group, now_s),
        );
        if let Some(t) = &transition {
            eval.transitions.push(NewTransition {
                group: group.clone(),
                from: t.from.as_str().to_owned(),
                to: t.to.as_str().to_owned(),
                value: t.value,
                at: t.at * 1000,
            });
        }
        if let Some(n) = &notification {
            let ctx = context(
                p, rules, group, &state, n.kind, n.from, n.status, n.value, now_ms, org_name,
            );
            let message = template::render(def["message"].as_str().unwrap_or(""), &ctx);
            let include_tags = def
                .pointer("/options/include_tags")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let title = event_title(&ctx, include_tags);
            let mut tags: Vec<String> = def["tags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if group != SIMPLE_GROUP {
                tags.extend(group.split(',').map(str::to_owned));
            }
            tags.push(format!("monitor_id:{}", p.record.id));
            let event = WebhookEvent {
                message: message.clone(),
                title: title.clone(),
                hostname: ctx
                    .tags
                    .get("host")
                    .and_then(|h| h.iter().next().cloned())
                    .unwrap_or_default(),
                tags: tags.clone(),
                ..WebhookEvent::default()
            };
            let vars = payload_vars(&ctx, &event);
            let vars_json: serde_json::Map<String, Value> = Variable::ALL
                .iter()
                .map(|v| (v.name().to_owned(), json!(vars.get(*v))))
                .collect();
            let body = json!({"title": title, "message": message, "vars": vars_json});
            for handle in template::mentions(&message) {
                let target = match handle {
                    Handle::Webhook(name) => format!("webhook-{name}"),
                    Handle::Slack { target } => format!("slack-{target}"),
                    Handle::Email(address) => address,
                    Handle::Other(_) => continue,
                };
                eval.notifications.push(NewNotification {
                    target,
                    body: body.clone(),
                });
            }
            events.push(NewEvent {
                title,
                text: message,
                date_happened: now_ms,
                priority: Some("normal".into()),
                host: (!event.hostname.is_empty()).then(|| event.hostname.clone()),
                tags,
                alert_type: Some(ctx.transition.alert_type().to_owned()),
                aggregation_key: Some(format!("monitor-{}-{group}", p.record.id)),
                source_type_name: Some("Monitor Alert".into()),
                related_event_id: None,
                device_name: None,
                extra: Value::Null,
            });
        }
        eval.groups.push((
            group.clone(),
            serde_json::to_value(&state).unwrap_or(Value::Null),
        ));
    }
    (eval, events)
}

/// The template context of one notification.
#[allow(clippy::too_many_arguments)]
fn context(
    p: &Prepared,
    rules: &Rules,
    group: &str,
    state: &GroupState,
    kind: NotificationKind,
    from: Status,
    to: Status,
    value: Option<f64>,
    now_ms: i64,
    org_name: &str,
) -> Context {
    let t = |s: Status| match s {
        Status::Ok => template::Status::Ok,
        Status::Warn => template::Status::Warn,
        Status::Alert => template::Status::Alert,
        Status::NoData => template::Status::NoData,
        _ => template::Status::Unknown,
    };
    let transition = match kind {
        NotificationKind::Renotify => Transition::renotify(t(to)),
        NotificationKind::Transition | NotificationKind::NoDataDeclared => {
            Transition::new(t(from), t(to))
        }
    };
    let def = &p.record.definition;
    let mut ctx = Context::new(transition);
    ctx.value = value;
    ctx.comparator = Some(rules.comparator);
    ctx.thresholds = Thresholds {
        critical: rules.critical,
        warning: rules.warning,
        critical_recovery: rules.critical_recovery,
        warning_recovery: rules.warning_recovery,
        ok: None,
    };
    ctx.monitor_id = p.record.id as u64;
    ctx.monitor_name = def["name"].as_str().unwrap_or("").to_owned();
    ctx.monitor_query = def["query"].as_str().unwrap_or("").to_owned();
    ctx.priority = def["priority"].as_u64().and_then(|v| u8::try_from(v).ok());
    if group != SIMPLE_GROUP {
        ctx.add_group(group);
    }
    ctx.last_triggered_at_ms =
        (state.last_triggered_ts > 0).then_some(state.last_triggered_ts * 1000);
    ctx.first_triggered_at_ms = ctx.last_triggered_at_ms;
    ctx.now_ms = now_ms;
    ctx.org_id = u64::from(p.record.org.0);
    ctx.org_name = org_name.to_owned();
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use whippet_tsdb::{Engine, EngineConfig, FloatPoint, MetricType, SeriesKey, TagSet};

    const ORG: OrgId = OrgId(1);

    /// An engine with `m{host:h}` points `(seconds before now, value)`.
    fn engine_with(dir: &std::path::Path, now_ms: i64, series: &[(&str, &[(i64, f64)])]) -> Engine {
        let (e, _) = Engine::open(
            dir,
            EngineConfig {
                background_tasks: false,
                ..EngineConfig::default()
            },
        )
        .unwrap();
        for (host, points) in series {
            let key = SeriesKey::float(ORG, "m", TagSet::new([format!("host:{host}")]));
            let id = e.resolve(&key, MetricType::Gauge).unwrap();
            let pts: Vec<FloatPoint> = points
                .iter()
                .map(|&(ago, value)| FloatPoint {
                    series: id,
                    ts: now_ms - ago * 1000,
                    value,
                })
                .collect();
            e.append_floats(&pts).unwrap();
        }
        e
    }

    fn metric(text: &str) -> MetricQuery {
        match query::parse("metric alert", text).unwrap() {
            MonitorQuery::Metric(q) => q,
            other => panic!("{other:?}"),
        }
    }

    fn value(o: &Observation) -> f64 {
        match o {
            Observation::Value { value, .. } => *value,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn metric_windows_reduce_per_group() {
        let dir = tempfile::tempdir().unwrap();
        let now_ms = 1_795_651_200_000;
        let e = engine_with(
            dir.path(),
            now_ms,
            &[
                ("a", &[(400, 50.0), (250, 90.0), (130, 96.0), (20, 99.0)]),
                ("b", &[(30, 10.0)]),
                ("old", &[(900, 1.0)]),
            ],
        );
        let qe = whippet_query::QueryEngine::new(e, whippet_query::QueryLimits::default());
        for (agg, a) in [("avg", 95.0), ("max", 99.0), ("min", 90.0), ("sum", 285.0)] {
            let text = format!("{agg}(last_5m):avg:m{{*}} by {{host}} > 90");
            let obs = observe_metric(&qe, ORG, &text, &metric(&text), now_ms).unwrap();
            assert_eq!(
                obs.keys().collect::<Vec<_>>(),
                ["host:a", "host:b"],
                "{agg}: no host:old"
            );
            assert_eq!(value(&obs["host:a"]), a, "{agg}");
        }
        // A simple monitor: one group.
        let text = "avg(last_5m):avg:m{host:b} > 5";
        let obs = observe_metric(&qe, ORG, text, &metric(text), now_ms).unwrap();
        assert_eq!(value(&obs[SIMPLE_GROUP]), 10.0);
        // change: this window's average minus the one 5 minutes before;
        // a group with nothing then has no data.
        let text = "change(avg(last_5m),last_5m):avg:m{*} by {host} > 1";
        let obs = observe_metric(&qe, ORG, text, &metric(text), now_ms).unwrap();
        assert_eq!(value(&obs["host:a"]), 45.0);
        assert!(matches!(obs["host:b"], Observation::NoData), "{obs:?}");
        let text = "pct_change(avg(last_5m),last_5m):avg:m{*} by {host} > 1";
        let obs = observe_metric(&qe, ORG, text, &metric(text), now_ms).unwrap();
        assert_eq!(value(&obs["host:a"]), 90.0);
    }

    #[test]
    fn composite_formulas_and_silencing() {
        let c = match query::parse("composite", "1 && !(2 || 3)").unwrap() {
            MonitorQuery::Composite(c) => c,
            other => panic!("{other:?}"),
        };
        assert!(holds(&c, &|id| id == 1));
        assert!(!holds(&c, &|id| id == 1 || id == 3));
        let def = json!({"options": {"silenced": {"host:a": 2000}}});
        assert!(muted(&def, "host:a", 1999));
        assert!(!muted(&def, "host:a", 2000));
        assert!(!muted(&def, "host:b", 0));
        assert!(muted(
            &json!({"options": {"silenced": {"*": null}}}),
            "host:b",
            0
        ));
        assert!(!muted(&json!({"options": {}}), "host:b", 0));
    }
}
