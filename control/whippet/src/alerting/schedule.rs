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
//!    counting Warn members too, 0 = not). Service checks count their last
//!    runs' statuses; event alerts count the events their search matches.
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

use std::borrow::{Borrow, Cow};
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

use crate::alerting::downtime::{self, Downtime};
use crate::server::AppState;
use crate::server::selfmon::names;

/// The group name of a monitor without `by` groups.
pub const SIMPLE_GROUP: &str = "*";

/// Rules for composite `def`: the observed value is 1 (Alert), 0.5 (Warn)
/// or 0, and the definition's options (renotify, ...) apply. A composite
/// has one group from the start, so no new-group delay unless asked.
fn composite_rules(def: &Value) -> Rules {
    let mut r = Rules::new(whippet_monitors::comparator::Comparator::Ge, 1.0, 60);
    r.warning = Some(0.5);
    definition::apply_options(&mut r, def, true);
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

/// How long a group's data-only changes (its last value and when it last
/// had data) may go unwritten. Rewriting every group of every monitor each
/// round was the whole cost of a round at 100k monitors (1.5 M SQLite
/// writes, about 1 ms per monitor: `whippet-monitor-bench`, 2026-11-26);
/// a group is now written when anything a reader or a restart needs
/// changes (status, notification times, error...), and otherwise at most
/// every ten minutes. After a restart a silent group may therefore be
/// declared No Data up to ten minutes early.
pub const PERSIST_DATA_EVERY_SECS: i64 = 600;

/// The scheduler's own copy of every monitor's group states between
/// rounds, and how far each shared metric evaluation has read. Lock rule:
/// owned by the scheduler task; nothing else reads it.
#[derive(Default)]
pub struct StateCache {
    monitors: HashMap<i64, CachedMonitor>,
    /// Per shared evaluation, the end of the last window it read (ms): the
    /// next window reaches back to it (see [`observe_metric`]).
    read_until: HashMap<EvalKey, i64>,
}

/// A shared metric evaluation: org, `MetricQuery::evaluation_key`,
/// evaluation delay (seconds).
type EvalKey = (OrgId, String, i64);

struct CachedMonitor {
    /// The definition version the states were computed for.
    version: i64,
    groups: BTreeMap<String, CachedGroup>,
}

/// One group's state as last computed, and what the store holds of it.
/// Invariant: the stored copy equals `state` in every field but the data
/// ones (`last_data_ts`, `last_value`), because a change to any other field
/// is written in the round that makes it; so only the stored
/// `last_data_ts` needs keeping, not a second copy of the state (at 100k
/// monitors that copy was 1.5 M states).
struct CachedGroup {
    state: GroupState,
    stored_data_ts: i64,
}

impl CachedGroup {
    fn stored(state: GroupState) -> CachedGroup {
        CachedGroup {
            stored_data_ts: state.last_data_ts,
            state,
        }
    }
}

impl std::borrow::Borrow<GroupState> for CachedGroup {
    fn borrow(&self) -> &GroupState {
        &self.state
    }
}

/// True when `a` and `b` differ only in their data fields (`last_data_ts`,
/// `last_value`). Spelled out field by field so that a new field of
/// `GroupState` does not compile until it is placed on one side.
fn same_but_data(a: &GroupState, b: &GroupState) -> bool {
    let GroupState {
        status,
        evaluated,
        status_changed_ts,
        evaluated_since_ts,
        first_seen_ts,
        last_data_ts: _,
        last_value: _,
        last_triggered_ts,
        last_resolved_ts,
        last_notified_ts,
        last_nodata_ts,
        renotify_count,
        error,
    } = a;
    *status == b.status
        && *evaluated == b.evaluated
        && *status_changed_ts == b.status_changed_ts
        && *evaluated_since_ts == b.evaluated_since_ts
        && *first_seen_ts == b.first_seen_ts
        && *last_triggered_ts == b.last_triggered_ts
        && *last_resolved_ts == b.last_resolved_ts
        && *last_notified_ts == b.last_notified_ts
        && *last_nodata_ts == b.last_nodata_ts
        && *renotify_count == b.renotify_count
        && *error == b.error
}

/// True when `new` must be written over what the store holds of the
/// group whose cached entry is `old` (`None`: a new group).
fn needs_write(new: &GroupState, old: Option<&CachedGroup>) -> bool {
    let Some(old) = old else {
        return true;
    };
    !same_but_data(new, &old.state)
        || new.last_data_ts - old.stored_data_ts >= PERSIST_DATA_EVERY_SECS
}

/// Runs rounds every `every` until `stop` changes; a monitor created or
/// changed wakes the loop early (its first state then comes at once).
pub async fn run(state: AppState, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut cache = StateCache::default();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = state.monitors_changed.notified() => {}
            _ = stop.changed() => return,
        }
        let started = Instant::now();
        match round(&state, &mut cache, system_now_ms()).await {
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
pub(crate) struct Prepared {
    pub record: MonitorRecord,
    /// The parsed query, or why the stored one no longer parses (a
    /// definition accepted by an older Whippet): such a monitor is not
    /// skipped in silence, its groups show Skipped with the reason.
    pub query: Result<MonitorQuery, String>,
    pub rules: Option<Rules>,
    pub delay_secs: i64,
}

impl Prepared {
    /// The parsed form of a stored monitor; `None` for a type that is not
    /// evaluated.
    pub fn new(record: MonitorRecord) -> Option<Prepared> {
        let def = &record.definition;
        let ty = def.get("type").and_then(Value::as_str).unwrap_or("");
        if !EVALUATED_TYPES.contains(&ty) {
            return None;
        }
        let text = def.get("query").and_then(Value::as_str).unwrap_or("");
        let query = query::parse(ty, text).map_err(|e| {
            tracing::warn!(monitor = record.id, error = %e, "stored monitor query no longer parses");
            format!("the stored query no longer parses: {e}")
        });
        let rules = definition::rules_of(def).ok().flatten();
        let delay_secs = def
            .pointer("/options/evaluation_delay")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .max(0);
        Some(Prepared {
            record,
            query,
            rules,
            delay_secs,
        })
    }

    /// The end of the window this monitor looks at, at `now_ms`: now, in
    /// whole seconds. With an `evaluation_delay`, that much earlier and
    /// rounded down to the query engine's bucket grid, so that the
    /// window's last bucket holds no point past the window's end (without
    /// a delay there are none to hold).
    pub fn window_end_ms(&self, now_ms: i64) -> i64 {
        let end_s = now_ms.div_euclid(1000).saturating_sub(self.delay_secs);
        if self.delay_secs == 0 {
            return end_s * 1000;
        }
        let bucket = i64::from(whippet_query::DEFAULT_NATIVE_SECS);
        end_s.div_euclid(bucket) * bucket * 1000
    }
}

/// Unix milliseconds now.
fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One round over every monitor of every org, started at `now_ms`; each
/// monitor is evaluated at the time its turn comes.
pub async fn round(
    state: &AppState,
    cache: &mut StateCache,
    now_ms: i64,
) -> anyhow::Result<RoundStats> {
    let mut stats = RoundStats::default();
    let records = state.meta.list_monitors(None).await?;
    let org_names: HashMap<OrgId, String> = state
        .meta
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let prepared: Vec<Prepared> = records.into_iter().filter_map(Prepared::new).collect();
    let downtimes = downtime::by_org(&state.meta.list_downtimes(None, false).await?);

    // Shared metric evaluations, computed by the first monitor that needs
    // each, when it is evaluated (not at round start): a point that arrives
    // during a long round is still seen by the monitors evaluated after it.
    let mut values: HashMap<EvalKey, Result<BTreeMap<String, Observation>, String>> =
        HashMap::new();

    // Metric monitors, then composites (which read this round's states).
    let mut overall_now: HashMap<i64, Status> = HashMap::new();
    let (composites, others): (Vec<&Prepared>, Vec<&Prepared>) = prepared
        .iter()
        .partition(|p| matches!(p.query, Ok(MonitorQuery::Composite(_))));
    for p in others.into_iter().chain(composites) {
        let now_ms = now_ms.max(system_now_ms());
        let id = p.record.id;
        if cache
            .monitors
            .get(&id)
            .is_none_or(|c| c.version != p.record.version)
        {
            let groups = load_groups(state, id).await?;
            cache.monitors.insert(
                id,
                CachedMonitor {
                    version: p.record.version,
                    groups: groups
                        .into_iter()
                        .map(|(g, s)| (g, CachedGroup::stored(s)))
                        .collect(),
                },
            );
        }
        let stored = &cache.monitors[&id].groups;
        let failed = |reason: &str| -> BTreeMap<String, Observation> {
            stored
                .keys()
                .map(|g| (g.clone(), Observation::error(reason)))
                .chain(
                    stored
                        .is_empty()
                        .then(|| (SIMPLE_GROUP.to_owned(), Observation::error(reason))),
                )
                .collect()
        };
        let (observed, rules): (Cow<BTreeMap<String, Observation>>, _) = match &p.query {
            // A failed query's observations are stepped without reading
            // any threshold; these rules only fill the place.
            Err(reason) => (
                Cow::Owned(failed(reason)),
                Some(Rules::new(
                    whippet_monitors::comparator::Comparator::Gt,
                    0.0,
                    60,
                )),
            ),
            Ok(MonitorQuery::Metric(q)) => {
                let key = (p.record.org, q.evaluation_key(), p.delay_secs);
                if !values.contains_key(&key) {
                    let to_ms = p.window_end_ms(now_ms);
                    let read_until = cache.read_until.get(&key).copied();
                    let text = p.record.definition["query"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                    let (qe, q2, org) = (state.query.clone(), q.clone(), p.record.org);
                    let result = tokio::task::spawn_blocking(move || {
                        observe_metric(&qe, org, &text, &q2, to_ms, read_until)
                    })
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r);
                    stats.evaluations += 1;
                    if result.is_ok() {
                        cache.read_until.insert(key.clone(), to_ms);
                    }
                    values.insert(key.clone(), result);
                }
                let obs = match &values[&key] {
                    Ok(v) => Cow::Borrowed(v),
                    Err(reason) => Cow::Owned(failed(reason)),
                };
                (obs, p.rules.clone())
            }
            Ok(MonitorQuery::Composite(c)) => {
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
                (Cow::Owned(obs), Some(composite_rules(&p.record.definition)))
            }
            Ok(MonitorQuery::ServiceCheck(sc)) => {
                let counts = StatusCounts::of(&p.record.definition);
                let (qe, sc2, org) = (state.query.clone(), sc.clone(), p.record.org);
                let previous: BTreeMap<String, Status> = stored
                    .iter()
                    .map(|(g, s)| (g.clone(), s.state.status))
                    .collect();
                let obs = tokio::task::spawn_blocking(move || {
                    observe_service_check(&qe, org, &sc2, counts, &previous, now_ms)
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
                let obs = obs.unwrap_or_else(|reason| {
                    BTreeMap::from([(SIMPLE_GROUP.to_owned(), Observation::error(reason))])
                });
                (
                    Cow::Owned(obs),
                    Some(service_check_rules(&p.record.definition)),
                )
            }
            Ok(MonitorQuery::Event(ev)) => {
                let obs = match observe_events(&state.meta, p.record.org, ev, now_ms).await {
                    Ok(o) => o,
                    Err(reason) => {
                        BTreeMap::from([(SIMPLE_GROUP.to_owned(), Observation::error(reason))])
                    }
                };
                (Cow::Owned(obs), p.rules.clone())
            }
        };
        let Some(rules) = rules else { continue };
        // Groups with a state but nothing observed this round: no data
        // (for event alerts, a count of 0).
        let absent = if matches!(p.query, Ok(MonitorQuery::Event(_))) {
            Observation::value(0.0)
        } else {
            Observation::NoData
        };
        let org_name = org_names.get(&p.record.org).map_or("", String::as_str);
        let org_downtimes = downtimes.get(&p.record.org).map_or(&[][..], Vec::as_slice);
        let stepped = step_monitor(
            p,
            &rules,
            stored,
            &observed,
            &absent,
            now_ms,
            org_name,
            org_downtimes,
        );
        let written: Vec<bool> = stepped
            .states
            .iter()
            .map(|(g, s)| needs_write(s, stored.get(g)))
            .collect();
        let eval = Evaluation {
            monitor_id: id,
            version: p.record.version,
            groups: stepped
                .states
                .iter()
                .zip(&written)
                .filter(|(_, w)| **w)
                .map(|((g, s), _)| (g.clone(), serde_json::to_value(s).unwrap_or(Value::Null)))
                .collect(),
            removed_groups: Vec::new(),
            transitions: stepped.transitions,
            notifications: stepped.notifications,
        };
        stats.monitors += 1;
        stats.transitions += eval.transitions.len();
        stats.notifications += eval.notifications.len();
        overall_now.insert(id, overall(stepped.states.iter().map(|(_, s)| s.status)));
        if !state.meta.record_evaluation(&eval).await? {
            // Changed or deleted meanwhile: start again from the store.
            cache.monitors.remove(&id);
            continue;
        }
        let groups = &mut cache.monitors.get_mut(&id).expect("inserted above").groups;
        for ((g, s), w) in stepped.states.into_iter().zip(written) {
            match groups.get_mut(&g) {
                Some(c) if !w => c.state = s,
                _ => {
                    groups.insert(g, CachedGroup::stored(s));
                }
            }
        }
        for e in stepped.events {
            if let Err(err) = state.meta.insert_event(p.record.org, &e).await {
                tracing::warn!(error = %err, monitor = id, "posting a monitor event failed");
            }
        }
    }
    let alive: std::collections::HashSet<i64> = prepared.iter().map(|p| p.record.id).collect();
    cache.monitors.retain(|id, _| alive.contains(id));
    cache.read_until.retain(|k, _| values.contains_key(k));
    Ok(stats)
}

/// How far back a service check monitor looks for its last runs. Agents
/// run checks every 15 s; half an hour holds the last 100 runs (the most
/// `.last(N)` allows) of any check that runs at least every 18 s, and of
/// slower ones what there is.
const SERVICE_CHECK_LOOKBACK_MS: i64 = 30 * 60 * 1000;

/// The consecutive-status counts of a service check monitor's thresholds
/// (`options.thresholds.critical`, `warning`, `ok`; 1 each by default).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatusCounts {
    critical: usize,
    warning: usize,
    ok: usize,
}

impl StatusCounts {
    pub(crate) fn of(def: &Value) -> StatusCounts {
        let n = |k: &str| {
            def.pointer(&format!("/options/thresholds/{k}"))
                .and_then(Value::as_f64)
                .map_or(1, |v| v.max(1.0) as usize)
        };
        StatusCounts {
            critical: n("critical"),
            warning: n("warning"),
            ok: n("ok"),
        }
    }
}

/// The service check statuses as values the state machine compares: 2
/// CRITICAL (Alert), 1 WARNING (Warn), 0 OK.
pub(crate) fn service_check_rules(def: &Value) -> Rules {
    let mut r = Rules::new(whippet_monitors::comparator::Comparator::Ge, 2.0, 120);
    r.warning = Some(1.0);
    // Groups appear with their first runs; there is no data to wait for.
    r.new_group_delay_secs = 0;
    definition::apply_options(&mut r, def, false);
    r
}

/// The status a group's last runs (oldest first; 0 OK, 1 WARNING, 2
/// CRITICAL, 3 UNKNOWN) call for: CRITICAL when the latest `critical` runs
/// are all CRITICAL, WARNING when the latest `warning` are all WARNING or
/// worse, OK when the latest `ok` are all OK, and otherwise no change
/// (`None`). UNKNOWN runs change nothing.
fn check_status(runs: &[u8], counts: StatusCounts) -> Option<u8> {
    let last = |n: usize, ok: &dyn Fn(u8) -> bool| {
        runs.len() >= n && runs[runs.len() - n..].iter().all(|&s| ok(s))
    };
    if last(counts.critical, &|s| s == 2) {
        Some(2)
    } else if last(counts.warning, &|s| s == 1 || s == 2) {
        Some(1)
    } else if last(counts.ok, &|s| s == 0) {
        Some(0)
    } else {
        None
    }
}

/// Reads the last runs of a service check (the `service_check.status`
/// series the intake writes, tagged `check:<name>`), per group of the
/// `.by()` tags, the worst status of a group's series at each run.
pub(crate) fn observe_service_check(
    qe: &whippet_query::QueryEngine,
    org: OrgId,
    sc: &query::ServiceCheckQuery,
    counts: StatusCounts,
    previous: &BTreeMap<String, Status>,
    now_ms: i64,
) -> Result<BTreeMap<String, Observation>, String> {
    let mut scope = vec![format!("check:{}", sc.check)];
    scope.extend(sc.over.iter().filter(|s| s.as_str() != "*").cloned());
    let mut text = format!("max:service_check.status{{{}}}", scope.join(","));
    if !sc.by.is_empty() {
        text.push_str(&format!(" by {{{}}}", sc.by.join(",")));
    }
    text.push_str(".rollup(max, 10)");
    let req = whippet_ddql::parse_request(&text).map_err(|e| format!("the check's query: {e}"))?;
    let series = qe
        .query(
            org,
            &text,
            &req,
            now_ms - SERVICE_CHECK_LOOKBACK_MS,
            now_ms - 1,
        )
        .map_err(|e| format!("the query failed: {e}"))?;
    let mut out = BTreeMap::new();
    for s in series {
        let mut runs: Vec<u8> = s
            .points
            .iter()
            .filter_map(|&(_, v)| v)
            .map(|v| v.clamp(0.0, 3.0) as u8)
            .collect();
        let keep = (sc.last as usize).max(1);
        if runs.len() > keep {
            runs.drain(..runs.len() - keep);
        }
        let group = if s.tag_set.is_empty() {
            SIMPLE_GROUP.to_owned()
        } else {
            s.tag_set.join(",")
        };
        let status = check_status(&runs, counts).or_else(|| {
            previous.get(&group).map(|p| match p {
                Status::Alert => 2,
                Status::Warn => 1,
                _ => 0,
            })
        });
        if let Some(v) = status {
            out.insert(group, Observation::value(f64::from(v)));
        }
    }
    Ok(out)
}

/// An event alert's search: what the store filters on, and the free-text
/// words it cannot.
#[derive(Debug)]
struct EventSearch {
    /// `sources:a,b`, `tags:a,b` (or `tag:`), `priority:all|normal|low`.
    query: whippet_meta::EventQuery,
    /// Every other word (or `"quoted phrase"`), lower-cased: each must
    /// appear in the event's title or text, in any case.
    words: Vec<String>,
}

impl EventSearch {
    fn parse(search: &str, start_ms: i64, end_ms: i64) -> EventSearch {
        let mut q = whippet_meta::EventQuery::range(start_ms, end_ms);
        q.unaggregated = true;
        q.limit = whippet_meta::EventQuery::MAX_LIMIT;
        let mut words = Vec::new();
        for (i, part) in search.split('"').enumerate() {
            if i % 2 == 1 {
                // Inside quotes: one phrase.
                let phrase = part.trim().to_lowercase();
                if !phrase.is_empty() {
                    words.push(phrase);
                }
                continue;
            }
            for term in part.split_whitespace() {
                let list = |v: &str| {
                    v.split(',')
                        .map(str::to_owned)
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                };
                match term.split_once(':') {
                    Some(("sources" | "source", v)) => q.sources.extend(list(v)),
                    Some(("tags" | "tag", v)) => q.tags.extend(list(v)),
                    Some(("priority", v)) => q.priority = Some(v.to_owned()),
                    _ => words.push(term.to_lowercase()),
                }
            }
        }
        EventSearch { query: q, words }
    }

    /// True when every free-text word is in `title` or `text`.
    fn matches_text(&self, title: &str, text: &str) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let text = format!("{title}\n{text}").to_lowercase();
        self.words.iter().all(|w| text.contains(w.as_str()))
    }
}

/// Counts the events matching an event alert's search in its window, per
/// group of its `.by()` facets (`host`, or a tag key); a group with no
/// event this time counts 0. At most the store's page of
/// `EventQuery::MAX_LIMIT` events is counted per evaluation.
pub(crate) async fn observe_events(
    meta: &whippet_meta::MetaStore,
    org: OrgId,
    ev: &query::EventQuery,
    now_ms: i64,
) -> Result<BTreeMap<String, Observation>, String> {
    let window_ms = i64::from(ev.window.seconds()) * 1000;
    let search = EventSearch::parse(&ev.search, now_ms - window_ms, now_ms);
    let events = meta
        .list_events(org, &search.query)
        .await
        .map_err(|e| e.to_string())?;
    let mut counts: BTreeMap<String, f64> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| search.matches_text(&e.title, &e.text))
    {
        let group = if ev.by.is_empty() {
            SIMPLE_GROUP.to_owned()
        } else {
            ev.by
                .iter()
                .map(|facet| {
                    let value = if facet == "host" {
                        e.host.clone().unwrap_or_default()
                    } else {
                        e.tags
                            .iter()
                            .find_map(|t| t.strip_prefix(&format!("{facet}:")).map(str::to_owned))
                            .unwrap_or_default()
                    };
                    format!("{facet}:{value}")
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        *counts.entry(group).or_default() += 1.0;
    }
    if ev.by.is_empty() {
        counts.entry(SIMPLE_GROUP.to_owned()).or_default();
    }
    Ok(counts
        .into_iter()
        .map(|(g, n)| (g, Observation::value(n)))
        .collect())
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

/// Evaluates a metric monitor's expression over its window ending at
/// `to_ms` (and the shifted one for `change`), one observation per group.
///
/// # Reaching back
/// The query engine buckets on a grid of whole intervals (10 s for windows
/// up to 50 minutes) and its first bucket starts at the first grid line at
/// or after the window's start, so a window that starts between two grid
/// lines does not see the points before the next one. Evaluations are also
/// not exactly one cadence apart (a monitor's turn moves within a long
/// round). Between them, a point could fall in no window at all: the
/// 100k-monitor benchmark lost one alert of six that way. So when
/// `read_until` (the end of the previous window of the same evaluation) is
/// given, the window starts no later than the grid line at or before it:
/// every point is read by at least one evaluation, some by two (which a
/// threshold does not mind). The reach is capped at one more window length,
/// so a scheduler that fell far behind does not read hours at once.
/// `require_full_window` is still judged on the nominal window.
pub(crate) fn observe_metric(
    qe: &whippet_query::QueryEngine,
    org: OrgId,
    text: &str,
    q: &MetricQuery,
    to_ms: i64,
    read_until: Option<i64>,
) -> Result<BTreeMap<String, Observation>, String> {
    let window_ms = i64::from(q.reduction.window().seconds()) * 1000;
    let nominal_from = to_ms - window_ms;
    let bucket_ms = i64::from(whippet_query::DEFAULT_NATIVE_SECS) * 1000;
    let from_ms = match read_until {
        Some(until) => nominal_from
            .min(until.div_euclid(bucket_ms) * bucket_ms)
            .max(nominal_from - window_ms),
        None => nominal_from,
    };
    let now = reduce_window(qe, org, text, q, from_ms, nominal_from, to_ms)?;
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
    let (then_from, then_to) = (nominal_from - shift_ms, to_ms - shift_ms);
    let then = reduce_window(qe, org, text, q, then_from, then_from, then_to)?;
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
/// aggregation, and whether they cover the window `[full_from_ms, to_ms)`.
fn reduce_window(
    qe: &whippet_query::QueryEngine,
    org: OrgId,
    text: &str,
    q: &MetricQuery,
    from_ms: i64,
    full_from_ms: i64,
    to_ms: i64,
) -> Result<BTreeMap<String, (f64, bool)>, String> {
    let req = Request {
        exprs: vec![q.expr.clone()],
    };
    // The query engine's last bucket starts at or before its `to`; one
    // millisecond less keeps a point stamped exactly `to_ms` (the next
    // window's first) out, so the window is [from_ms, to_ms).
    let series = qe
        .query(org, text, &req, from_ms, to_ms - 1)
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
        let full = first <= full_from_ms + step && last >= to_ms - 2 * step;
        let group = if s.tag_set.is_empty() {
            SIMPLE_GROUP.to_owned()
        } else {
            s.tag_set.join(",")
        };
        out.insert(group, (value, full));
    }
    Ok(out)
}

/// True when the definition's `options.silenced` mutes `group` at `now_s`:
/// a scope mutes the groups that have all its tags (`"host:a"` mutes
/// `host:a,env:prod`; `"*"` every group), until unmuted (`null`) or until
/// its end (epoch seconds).
fn muted(def: &Value, group: &str, now_s: i64) -> bool {
    let Some(silenced) = def.pointer("/options/silenced").and_then(Value::as_object) else {
        return false;
    };
    let group_tags: Vec<&str> = group.split(',').collect();
    silenced.iter().any(|(scope, end)| {
        let covers = scope == SIMPLE_GROUP
            || scope
                .split(',')
                .map(str::trim)
                .all(|t| group_tags.contains(&t));
        covers
            && match end {
                Value::Null => true,
                v => v.as_i64().is_some_and(|end| end > now_s),
            }
    })
}

/// What stepping one monitor's groups decided.
#[derive(Debug, Default)]
pub(crate) struct Stepped {
    /// Every stepped group's new state.
    pub states: Vec<(String, GroupState)>,
    /// Transitions for the history (not a new group's first OK).
    pub transitions: Vec<NewTransition>,
    /// Notifications to queue, one per `@`-handle.
    pub notifications: Vec<NewNotification>,
    /// Events to post, one per notification decision.
    pub events: Vec<NewEvent>,
}

/// Steps each group of one monitor: every observed group, then every group
/// of `previous` that was not observed, as `absent`.
///
/// A new group's first OK is not news: it is not kept as a transition
/// (the history would otherwise get one entry per group of every new
/// monitor), and it notifies nobody.
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_monitor<S: Borrow<GroupState>>(
    p: &Prepared,
    rules: &Rules,
    previous: &BTreeMap<String, S>,
    observed: &BTreeMap<String, Observation>,
    absent: &Observation,
    now_ms: i64,
    org_name: &str,
    downtimes: &[Downtime],
) -> Stepped {
    let now_s = now_ms.div_euclid(1000);
    let def = &p.record.definition;
    let monitor_tags = downtime::monitor_tags(def);
    let mut out = Stepped::default();
    let unobserved = previous
        .keys()
        .filter(|g| !observed.contains_key(*g))
        .map(|g| (g, absent));
    for (group, obs) in observed.iter().chain(unobserved) {
        let prev = previous.get(group).map(Borrow::borrow);
        let Step {
            state,
            transition,
            notification,
        } = step(
            prev,
            obs,
            rules,
            now_s,
            muted(def, group, now_s)
                || downtime::mutes(downtimes, p.record.id, &monitor_tags, group, now_s),
        );
        if let Some(t) = transition.filter(|t| prev.is_some() || t.to != Status::Ok) {
            out.transitions.push(NewTransition {
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
            let mut message = template::render(def["message"].as_str().unwrap_or(""), &ctx);
            // A reminder carries `escalation_message` too (its `@`-handles
            // are notified with the others).
            if n.kind == NotificationKind::Renotify
                && let Some(extra) = def
                    .pointer("/options/escalation_message")
                    .and_then(Value::as_str)
                    .filter(|t| !t.trim().is_empty())
            {
                message = format!("{message}\n\n{}", template::render(extra, &ctx));
            }
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
            let body =
                json!({"title": title, "message": message, "group": group, "vars": vars_json});
            for handle in template::mentions(&message) {
                let target = match handle {
                    Handle::Webhook(name) => format!("webhook-{name}"),
                    Handle::Slack { target } => format!("slack-{target}"),
                    Handle::Email(address) => address,
                    Handle::Other(_) => continue,
                };
                out.notifications.push(NewNotification {
                    target,
                    body: body.clone(),
                });
            }
            out.events.push(NewEvent {
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
        out.states.push((group.clone(), state));
    }
    out
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
    // The name is a template too (`High CPU on {{host.name}}`): titles and
    // `$ALERT_TITLE` show it rendered for the group.
    ctx.monitor_name = template::render(&ctx.monitor_name, &ctx);
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
            let obs = observe_metric(&qe, ORG, &text, &metric(&text), now_ms, None).unwrap();
            assert_eq!(
                obs.keys().collect::<Vec<_>>(),
                ["host:a", "host:b"],
                "{agg}: no host:old"
            );
            assert_eq!(value(&obs["host:a"]), a, "{agg}");
        }
        // A simple monitor: one group.
        let text = "avg(last_5m):avg:m{host:b} > 5";
        let obs = observe_metric(&qe, ORG, text, &metric(text), now_ms, None).unwrap();
        assert_eq!(value(&obs[SIMPLE_GROUP]), 10.0);
        // change: this window's average minus the one 5 minutes before;
        // a group with nothing then has no data.
        let text = "change(avg(last_5m),last_5m):avg:m{*} by {host} > 1";
        let obs = observe_metric(&qe, ORG, text, &metric(text), now_ms, None).unwrap();
        assert_eq!(value(&obs["host:a"]), 45.0);
        assert!(matches!(obs["host:b"], Observation::NoData), "{obs:?}");
        let text = "pct_change(avg(last_5m),last_5m):avg:m{*} by {host} > 1";
        let obs = observe_metric(&qe, ORG, text, &metric(text), now_ms, None).unwrap();
        assert_eq!(value(&obs["host:a"]), 90.0);
    }

    #[test]
    fn service_check_statuses_count_consecutive_runs() {
        let c = StatusCounts {
            critical: 3,
            warning: 2,
            ok: 2,
        };
        assert_eq!(check_status(&[0, 2, 2, 2], c), Some(2));
        assert_eq!(
            check_status(&[0, 0, 2, 2], c),
            Some(1),
            "two CRITICAL are at least WARNING"
        );
        assert_eq!(
            check_status(&[2, 2, 2, 0], c),
            None,
            "one OK is not enough to recover"
        );
        assert_eq!(check_status(&[2, 2, 0, 0], c), Some(0));
        assert_eq!(check_status(&[0, 1, 1], c), Some(1));
        assert_eq!(check_status(&[3, 3], c), None, "UNKNOWN changes nothing");
        assert_eq!(check_status(&[], c), None);
    }

    #[test]
    fn service_check_runs_are_read_per_group() {
        let dir = tempfile::tempdir().unwrap();
        let now_ms = 1_795_651_200_000;
        let (e, _) = Engine::open(
            dir.path(),
            EngineConfig {
                background_tasks: false,
                ..EngineConfig::default()
            },
        )
        .unwrap();
        for (host, runs) in [("a", [0.0, 2.0, 2.0]), ("b", [2.0, 0.0, 0.0])] {
            let key = SeriesKey::float(
                ORG,
                "service_check.status",
                TagSet::new([
                    "check:app.up".to_owned(),
                    format!("host:{host}"),
                    "env:prod".to_owned(),
                ]),
            );
            let id = e.resolve(&key, MetricType::Gauge).unwrap();
            let pts: Vec<FloatPoint> = runs
                .iter()
                .enumerate()
                .map(|(i, &value)| FloatPoint {
                    series: id,
                    ts: now_ms - (60 - 15 * i as i64) * 1000,
                    value,
                })
                .collect();
            e.append_floats(&pts).unwrap();
        }
        let qe = whippet_query::QueryEngine::new(e, whippet_query::QueryLimits::default());
        let sc = match query::parse(
            "service check",
            r#""app.up".over("env:prod").by("host").last(3).count_by_status()"#,
        )
        .unwrap()
        {
            MonitorQuery::ServiceCheck(sc) => sc,
            other => panic!("{other:?}"),
        };
        let counts = StatusCounts {
            critical: 2,
            warning: 1,
            ok: 2,
        };
        let obs = observe_service_check(&qe, ORG, &sc, counts, &BTreeMap::new(), now_ms).unwrap();
        assert_eq!(value(&obs["host:a"]), 2.0);
        assert_eq!(value(&obs["host:b"]), 0.0);
        let counts = StatusCounts {
            critical: 3,
            warning: 3,
            ok: 3,
        };
        let prev = BTreeMap::from([("host:a".to_owned(), Status::Warn)]);
        let obs = observe_service_check(&qe, ORG, &sc, counts, &prev, now_ms).unwrap();
        assert_eq!(
            value(&obs["host:a"]),
            1.0,
            "not enough runs: the previous status stays"
        );
        assert!(
            !obs.contains_key("host:b"),
            "nothing known and nothing decided"
        );
    }

    #[test]
    fn event_searches_become_filters_and_words() {
        let s = EventSearch::parse(
            "sources:nagios,zabbix tags:env:prod priority:all Disk \"is FULL\" now",
            1,
            2,
        );
        let q = &s.query;
        assert_eq!(q.sources, ["nagios", "zabbix"]);
        assert_eq!(q.tags, ["env:prod"]);
        assert_eq!(q.priority.as_deref(), Some("all"));
        assert_eq!((q.start_ms, q.end_ms), (1, 2));
        assert_eq!(s.words, ["disk", "is full", "now"]);
        assert!(s.matches_text("Disk alert", "/var is full right now"));
        assert!(!s.matches_text("Disk alert", "/var is nearly full now"));
        assert!(EventSearch::parse("sources:x", 1, 2).matches_text("a", "b"));
    }

    #[test]
    fn only_changes_a_reader_or_a_restart_needs_are_written() {
        let mut old = GroupState::new(1000);
        old.last_data_ts = 1000;
        assert!(needs_write(&old, None), "a new group");
        let cached = CachedGroup::stored(old.clone());
        let mut data_only = old.clone();
        data_only.last_data_ts = 1000 + PERSIST_DATA_EVERY_SECS - 1;
        data_only.last_value = Some(4.0);
        assert!(!needs_write(&data_only, Some(&cached)));
        data_only.last_data_ts = 1000 + PERSIST_DATA_EVERY_SECS;
        assert!(
            needs_write(&data_only, Some(&cached)),
            "data time too old in the store"
        );
        // Unwritten data changes in the cache still count from what the
        // store holds.
        let unwritten = CachedGroup {
            state: data_only.clone(),
            stored_data_ts: 1000,
        };
        assert!(needs_write(&data_only, Some(&unwritten)));
        let mut status = old.clone();
        status.status = Status::Alert;
        assert!(needs_write(&status, Some(&cached)));
        let mut error = old.clone();
        error.error = Some("the query failed".into());
        assert!(needs_write(&error, Some(&cached)));
        let mut count = old.clone();
        count.renotify_count = 1;
        assert!(needs_write(&count, Some(&cached)));
    }

    /// Two evaluations 68 s apart at a cadence of a minute (a late turn in
    /// a long round), the first 3 s past a grid line: a point stamped
    /// between the first evaluation and the next grid line is in neither
    /// nominal window; the reach-back reads it.
    #[test]
    fn evaluations_reach_back_to_where_the_last_one_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let first_ms = 1_795_651_203_000;
        let second_ms = first_ms + 68_000;
        // Seconds before the second evaluation: 1 s after the first.
        let e = engine_with(dir.path(), second_ms, &[("a", &[(67, 100.0)])]);
        let qe = whippet_query::QueryEngine::new(e, whippet_query::QueryLimits::default());
        let text = "max(last_1m):avg:m{*} by {host} > 50";
        let q = metric(text);
        let nominal = observe_metric(&qe, ORG, text, &q, second_ms, None).unwrap();
        assert!(
            nominal.is_empty(),
            "outside [second - 1m, second): {nominal:?}"
        );
        let obs = observe_metric(&qe, ORG, text, &q, second_ms, Some(first_ms)).unwrap();
        assert_eq!(value(&obs["host:a"]), 100.0);
        let Observation::Value { full_window, .. } = obs["host:a"] else {
            unreachable!()
        };
        assert!(
            !full_window,
            "judged on the nominal window, which it is not in"
        );
        // A scheduler an hour behind reads one more window, not the hour.
        let late = observe_metric(&qe, ORG, text, &q, second_ms + 3_600_000, Some(first_ms));
        assert!(late.unwrap().is_empty());
    }

    #[test]
    fn delayed_windows_end_on_the_bucket_grid() {
        let p = |delay: i64| {
            Prepared::new(MonitorRecord {
                id: 1,
                org: ORG,
                definition: json!({
                    "type": "metric alert",
                    "query": "avg(last_1m):avg:m{*} > 1",
                    "options": {"thresholds": {"critical": 1}, "evaluation_delay": delay},
                }),
                created_at: 0,
                modified_at: 0,
                version: 1,
            })
            .unwrap()
        };
        assert_eq!(p(0).window_end_ms(1_795_651_203_456), 1_795_651_203_000);
        assert_eq!(p(60).window_end_ms(1_795_651_203_456), 1_795_651_140_000);
    }

    #[test]
    fn a_new_groups_first_ok_is_no_transition() {
        let p = Prepared::new(MonitorRecord {
            id: 1,
            org: ORG,
            definition: json!({
                "type": "metric alert",
                "query": "avg(last_1m):avg:m{*} by {host} > 5",
                "message": "@webhook-x",
                "options": {"thresholds": {"critical": 5}, "new_group_delay": 0},
            }),
            created_at: 0,
            modified_at: 0,
            version: 1,
        })
        .unwrap();
        let rules = p.rules.clone().unwrap();
        let observed = BTreeMap::from([
            ("host:a".to_owned(), Observation::value(1.0)),
            ("host:b".to_owned(), Observation::value(9.0)),
        ]);
        let none: BTreeMap<String, GroupState> = BTreeMap::new();
        let now_ms = 1_795_651_200_000;
        let s = step_monitor(
            &p,
            &rules,
            &none,
            &observed,
            &Observation::NoData,
            now_ms,
            "o",
            &[],
        );
        assert_eq!(s.states.len(), 2);
        let moves: Vec<_> = s.transitions.iter().map(|t| (&*t.group, &*t.to)).collect();
        assert_eq!(moves, [("host:b", "Alert")]);
        // A known group that goes quiet is stepped as absent.
        let known: BTreeMap<String, GroupState> = s.states.into_iter().collect();
        let later = now_ms + 3_600_000;
        let s = step_monitor(
            &p,
            &rules,
            &known,
            &BTreeMap::new(),
            &Observation::NoData,
            later,
            "o",
            &[],
        );
        assert_eq!(s.states.len(), 2, "{s:?}");
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
        let def = json!({"options": {"silenced": {"host:a,env:prod": null}}});
        assert!(muted(&def, "env:prod,host:a,az:1", 0));
        assert!(!muted(&def, "host:a,env:dev", 0));
    }
}
