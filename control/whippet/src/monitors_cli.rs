//! `whippet monitors test FILE...`: a monitor tried offline against made-up
//! data, with the transitions and notifications it must produce.
//!
//! Each file is one case: series written into a throw-away storage engine,
//! one monitor as `POST /api/v1/monitor` takes it, evaluations every
//! `every` from `start` to `until`, each exactly as the server's scheduler
//! makes them (`alerting::schedule`: the same observation, state machine
//! and templates), and the expected outcome. The run fails when a
//! transition or a notification differs from the expectation, or when one
//! happens that is not expected.
//!
//! # File format (TOML)
//!
//! ```toml
//! # Optional: when offset 0 is (RFC 3339, UTC). Default: midnight UTC
//! # yesterday. Offsets below are durations from it: "90s", "5m", "1h30m".
//! start = "2026-11-01T00:00:00Z"
//! every = "1m"       # evaluation cadence (default 1m)
//! until = "20m"      # last evaluation (default: 10 cadences after the last point)
//!
//! [monitor]          # the definition, as the monitor API takes it
//! name = "High load on {{host.name}}"
//! type = "metric alert"
//! query = "avg(last_5m):avg:system.load.1{*} by {host} > 2"
//! message = "{{#is_alert}}load {{value}} on {{host.name}}{{/is_alert}} @webhook-ops"
//! options = { thresholds = { critical = 2 }, new_group_delay = 0 }
//!
//! [[series]]         # points: [offset, value] pairs...
//! metric = "system.load.1"
//! tags = ["host:a"]
//! points = [["0s", 0.5], ["4m", 3.0], ["5m", 3.0]]
//!
//! [[series]]         # ...or a value every `step` from `from`
//! metric = "system.load.1"
//! tags = ["host:b"]
//! from = "0s"
//! step = "10s"
//! values = [0.1, 0.2, 0.1]
//!
//! [[expect]]         # every transition, in time order
//! at = "6m"
//! group = "host:a"
//! transition = "OK -> Alert"
//! notify = ["webhook-ops"]            # optional: the handles notified
//! message = "load 3 on a @webhook-ops"  # optional: the rendered message
//! ```
//!
//! A group starts in `No Data`; its first `OK` is not a transition (as in
//! the monitor's history), its first `Alert` or `Warn` is: expect it as
//! `No Data -> Alert`.
//!
//! Supported monitor types: metric and query alerts; service checks
//! (write their runs as series `service_check.status` tagged
//! `check:<name>`, values 0-3); event alerts, with their events as
//!
//! ```toml
//! [[events]]
//! at = "2m"                 # after `start`
//! title = "Deploy of web"
//! text = "version 42"       # optional, like tags, source, priority, host
//! tags = ["env:prod"]
//! source = "jenkins"
//! ```
//!
//! Composites need other monitors and are not supported in test files yet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;
use whippet_meta::MonitorRecord;
use whippet_monitors::query::MonitorQuery;
use whippet_monitors::state::{GroupState, Observation};
use whippet_tsdb::{Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesKey, TagSet};

use crate::alerting::schedule::{
    Prepared, SIMPLE_GROUP, StatusCounts, observe_events, observe_metric, observe_service_check,
    service_check_rules, step_monitor,
};

/// `whippet monitors ...`.
#[derive(clap::Subcommand, Debug)]
pub enum MonitorsCommand {
    /// Run monitor test files: made-up series, a monitor, and the
    /// transitions and notifications it must produce (format: `whippet
    /// monitors test --help`, and the README). Exits 1 when one fails.
    ///
    /// A file is TOML: `start` (RFC 3339, optional), `every` (cadence,
    /// default 1m), `until`; `[monitor]` as the monitor API takes it;
    /// `[[series]]` with `metric`, `tags` and `points = [["0s", 1.5], ...]`
    /// (or `from`, `step`, `values`); for event alerts `[[events]]` with
    /// `at`, `title` and optionally `text`, `tags`, `source`, `priority`,
    /// `host`; `[[expect]]` with `at`, `group`, `transition = "OK ->
    /// Alert"` and optionally `notify` and `message`. A group's first OK is
    /// not a transition.
    Test {
        /// The test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print every evaluation's transitions and notifications.
        #[arg(long)]
        verbose: bool,
    },
}

/// Runs the command; exits 1 when a case fails.
pub fn run(cmd: MonitorsCommand) -> anyhow::Result<()> {
    let MonitorsCommand::Test { files, verbose } = cmd;
    let mut failed = 0;
    for f in &files {
        match run_file(f, verbose) {
            Ok(()) => println!("ok     {}", f.display()),
            Err(e) => {
                failed += 1;
                println!("FAILED {}\n{e:#}", f.display());
            }
        }
    }
    println!("{} passed, {failed} failed", files.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    start: Option<String>,
    every: Option<String>,
    until: Option<String>,
    monitor: toml::Value,
    #[serde(default)]
    series: Vec<SeriesSpec>,
    #[serde(default)]
    events: Vec<EventSpec>,
    #[serde(default)]
    expect: Vec<Expect>,
}

/// An event for event alerts: `at` (after `start`), `title`, and
/// optionally `text`, `tags`, `source`, `priority`, `host`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSpec {
    at: String,
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    tags: Vec<String>,
    source: Option<String>,
    priority: Option<String>,
    host: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesSpec {
    metric: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    points: Vec<(String, f64)>,
    from: Option<String>,
    step: Option<String>,
    #[serde(default)]
    values: Vec<f64>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Expect {
    at: String,
    group: String,
    transition: String,
    notify: Option<Vec<String>>,
    message: Option<String>,
}

/// What one evaluation produced for one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Happened {
    /// Milliseconds after `start`.
    pub at_ms: i64,
    /// The group.
    pub group: String,
    /// `"OK -> Alert"`.
    pub transition: String,
    /// Handles notified.
    pub notify: Vec<String>,
    /// The rendered message, when a notification went out.
    pub message: Option<String>,
}

fn duration(what: &str, text: &str) -> anyhow::Result<i64> {
    whippet_tsdb::parse_duration_ms(text).map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

fn show(ms: i64) -> String {
    if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

/// Runs one file.
pub fn run_file(path: &Path, verbose: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let case: Case =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let happened = evaluate(&case, verbose)?;
    compare(&case, &happened)
}

fn evaluate(case: &Case, verbose: bool) -> anyhow::Result<Vec<Happened>> {
    let start_ms = match &case.start {
        Some(s) => {
            crate::query_cli::parse_utc(s)
                .with_context(|| format!("start: {s:?} is not YYYY-MM-DDTHH:MM:SSZ"))?
                * 1000
        }
        None => {
            let now_s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs() as i64;
            (now_s.div_euclid(86_400) - 1) * 86_400_000
        }
    };
    let every_ms = duration("every", case.every.as_deref().unwrap_or("1m"))?;
    if every_ms <= 0 {
        bail!("every must be positive");
    }
    let json = serde_json::to_value(&case.monitor)?;
    let definition =
        whippet_monitors::definition::check(&json).map_err(|e| anyhow::anyhow!("monitor: {e}"))?;
    let record = MonitorRecord {
        id: 1,
        org: OrgId(1),
        definition,
        created_at: start_ms,
        modified_at: start_ms,
        version: 1,
    };
    let Some(p) = Prepared::new(record) else {
        bail!("monitor: this type is not evaluated");
    };
    let query = p
        .query
        .as_ref()
        .map_err(|e| anyhow::anyhow!("monitor: {e}"))?;
    if matches!(query, MonitorQuery::Composite(_)) {
        bail!("monitor: composites are not supported in test files yet");
    }
    if !case.events.is_empty() && !matches!(query, MonitorQuery::Event(_)) {
        bail!("events: only event alerts read events");
    }

    let dir = tempfile::tempdir()?;
    let (engine, _) = Engine::open(
        dir.path(),
        EngineConfig {
            background_tasks: false,
            retention_ms: 100 * 365 * 86_400_000,
            max_future_ms: i64::MAX / 4,
            ..EngineConfig::default()
        },
    )?;
    let mut last_point = 0;
    for s in &case.series {
        let key = SeriesKey::float(
            OrgId(1),
            s.metric.as_str(),
            TagSet::new(s.tags.iter().map(String::as_str)),
        );
        let id = engine.resolve(&key, MetricType::Gauge)?;
        let mut pts = Vec::new();
        for (at, v) in &s.points {
            pts.push((duration("points", at)?, *v));
        }
        if !s.values.is_empty() {
            let from = duration("from", s.from.as_deref().unwrap_or("0s"))?;
            let step = duration("step", s.step.as_deref().unwrap_or("10s"))?;
            pts.extend(
                s.values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (from + i as i64 * step, v)),
            );
        }
        last_point = pts.iter().map(|p| p.0).fold(last_point, i64::max);
        let points: Vec<FloatPoint> = pts
            .into_iter()
            .map(|(at, value)| FloatPoint {
                series: id,
                ts: start_ms + at,
                value,
            })
            .collect();
        let out = engine.append_floats(&points)?;
        if !out.rejected.is_empty() {
            bail!("series {}: points rejected: {:?}", s.metric, out.rejected);
        }
    }
    let until = match &case.until {
        Some(u) => duration("until", u)?,
        None => last_point + 10 * every_ms,
    };
    let qe = whippet_query::QueryEngine::new(engine, whippet_query::QueryLimits::default());
    // Event alerts read events from a metadata store of their own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let events = match query {
        MonitorQuery::Event(_) => {
            Some(runtime.block_on(event_store(dir.path(), case, start_ms))?)
        }
        _ => None,
    };

    let mut states: BTreeMap<String, GroupState> = BTreeMap::new();
    let mut read_until = None;
    let mut happened = Vec::new();
    let mut at = every_ms;
    while at <= until {
        let now_ms = start_ms + at;
        let observed: BTreeMap<String, Observation> = match query {
            MonitorQuery::Metric(q) => {
                let text = p.record.definition["query"].as_str().unwrap_or("");
                let to_ms = p.window_end_ms(now_ms);
                let obs = observe_metric(&qe, OrgId(1), text, q, to_ms, read_until);
                read_until = Some(to_ms);
                obs.unwrap_or_else(|reason| {
                    BTreeMap::from([(SIMPLE_GROUP.to_owned(), Observation::error(reason))])
                })
            }
            MonitorQuery::ServiceCheck(sc) => {
                let previous = states.iter().map(|(g, s)| (g.clone(), s.status)).collect();
                observe_service_check(
                    &qe,
                    OrgId(1),
                    sc,
                    StatusCounts::of(&p.record.definition),
                    &previous,
                    now_ms,
                )
                .unwrap_or_else(|reason| {
                    BTreeMap::from([(SIMPLE_GROUP.to_owned(), Observation::error(reason))])
                })
            }
            MonitorQuery::Event(ev) => {
                let (meta, org) = events.as_ref().expect("opened for event alerts");
                runtime
                    .block_on(observe_events(meta, *org, ev, now_ms))
                    .unwrap_or_else(|reason| {
                        BTreeMap::from([(SIMPLE_GROUP.to_owned(), Observation::error(reason))])
                    })
            }
            MonitorQuery::Composite(_) => unreachable!("refused above"),
        };
        let rules = match query {
            MonitorQuery::ServiceCheck(_) => service_check_rules(&p.record.definition),
            _ => p.rules.clone().context("monitor: no thresholds")?,
        };
        // Groups that saw no event count 0, as in the server.
        let absent = match query {
            MonitorQuery::Event(_) => Observation::value(0.0),
            _ => Observation::NoData,
        };
        let stepped = step_monitor(
            &p,
            &rules,
            &states,
            &observed,
            &absent,
            now_ms,
            "default",
            &[],
        );
        states.extend(stepped.states);
        let mut by_group: BTreeMap<String, Happened> = BTreeMap::new();
        for t in &stepped.transitions {
            by_group.insert(
                t.group.clone(),
                Happened {
                    at_ms: at,
                    group: t.group.clone(),
                    transition: format!("{} -> {}", t.from, t.to),
                    notify: Vec::new(),
                    message: None,
                },
            );
        }
        for n in &stepped.notifications {
            let group = n.body["group"].as_str().unwrap_or(SIMPLE_GROUP).to_owned();
            // A notification without a transition is a renotification.
            let status = states.get(&group).map_or("?", |s| s.status.as_str());
            let h = by_group.entry(group.clone()).or_insert_with(|| Happened {
                at_ms: at,
                group: group.clone(),
                transition: format!("renotify {status}"),
                notify: Vec::new(),
                message: None,
            });
            h.notify.push(n.target.clone());
            h.message = n.body["message"].as_str().map(str::to_owned);
        }
        for h in by_group.into_values() {
            if verbose {
                println!(
                    "  {:>6}  {:<24} {:<20} {:?} {:?}",
                    show(h.at_ms),
                    h.group,
                    h.transition,
                    h.notify,
                    h.message
                );
            }
            happened.push(h);
        }
        at += every_ms;
    }
    Ok(happened)
}

/// A SQLite metadata store in `dir` holding the case's events, and the org
/// they belong to.
async fn event_store(
    dir: &Path,
    case: &Case,
    start_ms: i64,
) -> anyhow::Result<(whippet_meta::MetaStore, OrgId)> {
    let meta = whippet_meta::MetaStore::open(&dir.join("meta.db").to_string_lossy()).await?;
    let org = meta.create_org("test").await?.id;
    for e in &case.events {
        let event = whippet_meta::NewEvent {
            title: e.title.clone(),
            text: e.text.clone(),
            date_happened: start_ms + duration("events.at", &e.at)?,
            priority: e.priority.clone(),
            host: e.host.clone(),
            tags: e.tags.clone(),
            alert_type: None,
            aggregation_key: None,
            source_type_name: e.source.clone(),
            related_event_id: None,
            device_name: None,
            extra: serde_json::Value::Null,
        };
        meta.insert_event(org, &event)
            .await
            .with_context(|| format!("event {:?}", e.title))?;
    }
    Ok((meta, org))
}

fn compare(case: &Case, happened: &[Happened]) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let mut rest: Vec<&Happened> = happened.iter().collect();
    for e in &case.expect {
        let at = duration("expect.at", &e.at)?;
        let found = rest
            .iter()
            .position(|h| h.at_ms == at && h.group == e.group && h.transition == e.transition);
        let Some(i) = found else {
            problems.push(format!(
                "expected at {} {}: {}, but it did not happen then{}",
                e.at,
                e.group,
                e.transition,
                happened
                    .iter()
                    .find(|h| h.group == e.group && h.transition == e.transition)
                    .map_or(String::new(), |h| format!(
                        " (it happened at {})",
                        show(h.at_ms)
                    ))
            ));
            continue;
        };
        let h = rest.remove(i);
        if let Some(want) = &e.notify
            && &h.notify != want
        {
            problems.push(format!(
                "at {} {}: notified {:?}, expected {:?}",
                e.at, e.group, h.notify, want
            ));
        }
        if let Some(want) = &e.message
            && h.message.as_deref() != Some(want.as_str())
        {
            problems.push(format!(
                "at {} {}: message {:?}, expected {want:?}",
                e.at, e.group, h.message
            ));
        }
    }
    for h in rest {
        problems.push(format!(
            "unexpected at {} {}: {} (notified {:?})",
            show(h.at_ms),
            h.group,
            h.transition,
            h.notify
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../service/monitors/testdata")
    }

    /// The project's own monitor cases, the ones `whippet monitors test`
    /// users would write.
    #[test]
    fn the_monitor_test_files_pass() {
        let mut n = 0;
        for entry in std::fs::read_dir(testdata()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                run_file(&path, false).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
                n += 1;
            }
        }
        assert!(n >= 3, "{n} files");
    }

    /// A wrong expectation fails, naming what happened instead.
    #[test]
    fn a_wrong_expectation_fails_with_what_happened() {
        let text = std::fs::read_to_string(testdata().join("high_load.toml")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                text.replacen("at = \"6m\"", "at = \"5m\"", 1),
                "it happened at 6m",
            ),
            (
                text.replacen("Load 5 on a (over 4)", "Load 6 on a (over 4)", 1),
                "message Some(\"Load 5 on a (over 4) @webhook-ops\")",
            ),
            (
                text.replacen(
                    "[[expect]]\nat = \"16m\"\ngroup = \"host:b\"",
                    "[[nope]]",
                    1,
                ),
                "parsing",
            ),
        ];
        for (i, (bad, want)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("bad{i}.toml"));
            std::fs::write(&path, bad).unwrap();
            let err = format!("{:#}", run_file(&path, false).unwrap_err());
            assert!(err.contains(want), "case {i}: {err}");
        }
        // An expectation left out is an unexpected transition.
        let path = dir.path().join("missing.toml");
        let cut = text
            .find("[[expect]]\nat = \"16m\"\ngroup = \"host:b\"")
            .unwrap();
        std::fs::write(&path, &text[..cut]).unwrap();
        let err = format!("{:#}", run_file(&path, false).unwrap_err());
        assert!(
            err.contains("unexpected at 16m host:b: OK -> No Data"),
            "{err}"
        );
    }
}
