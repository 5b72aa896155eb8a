//! Which hosts sent data to an org, and what is known of each: gathered
//! from the storage engine's tag index and part tables (every series with
//! a `host` tag: the HTTP intake, DogStatsD and check runs all store the
//! host that way) and from the hosts of recent events.
//!
//! # What it must never do
//! Read points: a host's last report comes from the engine's summaries
//! ([`Engine::newest_points`]), never from decoding series; nor list
//! unbounded tags (see [`MAX_TAGS_PER_HOST`]).

use whippet_meta::Event;
use whippet_tsdb::{Engine, GroupLimits, OrgId, SeriesId};

/// The tag key that names a series' host (spec §2.1: the host of every
/// intake is stored as the tag `host:<name>`).
pub const HOST_KEY: &str = "host";

/// Most tags listed for one host. A host's series normally share its ten
/// or so host tags; a host whose series carry a tag per container or
/// request would otherwise put thousands of tags in every row of the list.
/// The first ones in string order are kept; the filter only sees those.
pub const MAX_TAGS_PER_HOST: usize = 100;

/// Most metric names read per host to name its apps. An agent host sends a
/// few hundred metrics over a few dozen namespaces; the names are only
/// used for their namespace, so a host with more is not worth spelling out.
const MAX_METRICS_PER_HOST: usize = 1000;

/// Metrics whose namespace is not an app: Whippet's own series of check
/// runs (their `check:` tag names the check).
const NOT_APPS: &[&str] = &["service_check"];

/// One host, as the hosts list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its name (the value of its `host` tag, or of an event's host).
    pub name: String,
    /// The tags of its series besides `host:`, sorted, at most
    /// [`MAX_TAGS_PER_HOST`].
    pub tags: Vec<String>,
    /// The namespaces of its metrics (`system` for `system.cpu.user`, and
    /// `agent` for the Agent's own `datadog.agent.*`), sorted.
    pub apps: Vec<String>,
    /// When it last sent something: its newest point or event, in
    /// milliseconds since the epoch.
    pub last_reported_ms: i64,
}

/// The hosts of `org` whose newest point is at or after `since_ms`, sorted
/// by name. Runs on the calling thread for tens of milliseconds with a
/// large fleet: call it from a blocking task.
pub fn from_series(engine: &Engine, org: OrgId, since_ms: i64) -> Vec<Host> {
    let limits = GroupLimits {
        max_tags: MAX_TAGS_PER_HOST,
        max_metrics: MAX_METRICS_PER_HOST,
    };
    let groups = engine.tag_groups(org, HOST_KEY, limits);
    // Every series once, sorted, for one pass over the part tables; a
    // series with two host tags belongs to both hosts.
    let mut ids: Vec<SeriesId> = groups
        .iter()
        .flat_map(|g| g.series.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let newest = engine.newest_points(org, &ids, since_ms);
    groups
        .into_iter()
        .filter(|g| !g.value.is_empty())
        .filter_map(|g| {
            let last = g
                .series
                .iter()
                .filter_map(|id| newest[ids.binary_search(id).ok()?])
                .max()?;
            Some(Host {
                apps: apps(&g.metrics),
                name: g.value,
                tags: g.tags,
                last_reported_ms: last,
            })
        })
        .collect()
}

/// Adds the hosts of `events` (those with a host, at or after `since_ms`)
/// to `hosts` (sorted by name, and kept so): an event counts as a report
/// of its host, and a host known only from events has no tags or apps.
pub fn add_event_hosts(hosts: &mut Vec<Host>, events: &[Event], since_ms: i64) {
    for e in events {
        let Some(name) = e.host.as_deref().filter(|h| !h.is_empty()) else {
            continue;
        };
        if e.date_happened < since_ms {
            continue;
        }
        match hosts.binary_search_by(|h| h.name.as_str().cmp(name)) {
            Ok(i) => {
                let h = &mut hosts[i];
                h.last_reported_ms = h.last_reported_ms.max(e.date_happened);
            }
            Err(i) => hosts.insert(
                i,
                Host {
                    name: name.to_owned(),
                    tags: Vec::new(),
                    apps: Vec::new(),
                    last_reported_ms: e.date_happened,
                },
            ),
        }
    }
}

/// The apps of a host from its metric names: each dotted name's first
/// part, `datadog.agent.*` as `agent`; names without a dot are custom
/// metrics of no app.
fn apps(metrics: &[String]) -> Vec<String> {
    let mut out: Vec<String> = metrics
        .iter()
        .filter_map(|m| {
            if m.starts_with("datadog.agent.") {
                return Some("agent");
            }
            m.split_once('.').map(|(ns, _)| ns)
        })
        .filter(|ns| !ns.is_empty() && !NOT_APPS.contains(ns))
        .map(str::to_owned)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use whippet_tsdb::{Clock, EngineConfig, FloatPoint, MetricType, SeriesKey, TagSet};

    /// 2026-11-26T00:00:00Z.
    const NOW: i64 = 1_795_651_200_000;

    fn engine(dir: &std::path::Path) -> Engine {
        let cfg = EngineConfig {
            clock: Clock::manual(NOW),
            background_tasks: false,
            ..EngineConfig::default()
        };
        Engine::open(dir, cfg).unwrap().0
    }

    fn write(e: &Engine, org: OrgId, metric: &str, tags: &[&str], ts: i64) {
        let key = SeriesKey::float(org, metric, TagSet::new(tags.iter().copied()));
        let id = e.resolve(&key, MetricType::Gauge).unwrap();
        let out = e
            .append_floats(&[FloatPoint {
                series: id,
                ts,
                value: 1.0,
            }])
            .unwrap();
        assert_eq!(out.accepted, 1);
    }

    fn event(host: Option<&str>, at: i64) -> Event {
        Event {
            id: 1,
            created_at: at,
            title: "t".into(),
            text: String::new(),
            date_happened: at,
            priority: None,
            host: host.map(str::to_owned),
            tags: vec!["deploy:1".into()],
            alert_type: None,
            aggregation_key: None,
            source_type_name: None,
            related_event_id: None,
            device_name: None,
            extra: serde_json::Value::Null,
        }
    }

    #[test]
    fn hosts_come_from_host_tags_with_their_tags_apps_and_newest_point() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        let org = OrgId(1);
        write(
            &e,
            org,
            "system.cpu.user",
            &["host:web-1", "env:prod"],
            NOW - 60_000,
        );
        write(
            &e,
            org,
            "system.load.1",
            &["host:web-1", "role:web"],
            NOW - 5_000,
        );
        write(
            &e,
            org,
            "datadog.agent.running",
            &["host:web-1"],
            NOW - 20_000,
        );
        write(
            &e,
            org,
            "service_check.status",
            &["host:web-1", "check:ntp"],
            NOW,
        );
        write(&e, org, "requests", &["host:db-1"], NOW - 7_200_000);
        write(&e, org, "requests", &["env:prod"], NOW); // no host
        write(&e, org, "requests", &["host:"], NOW); // an empty name
        write(&e, OrgId(2), "requests", &["host:secret"], NOW);
        e.flush().unwrap();
        let hosts = from_series(&e, org, 0);
        assert_eq!(
            hosts,
            vec![
                Host {
                    name: "db-1".into(),
                    tags: vec![],
                    apps: vec![],
                    last_reported_ms: NOW - 7_200_000,
                },
                Host {
                    name: "web-1".into(),
                    tags: vec!["check:ntp".into(), "env:prod".into(), "role:web".into()],
                    apps: vec!["agent".into(), "system".into()],
                    last_reported_ms: NOW,
                },
            ]
        );
        // `since` leaves out hosts that have not reported since.
        let recent = from_series(&e, org, NOW - 3_600_000);
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].name, "web-1");
    }

    #[test]
    fn event_hosts_join_the_list_or_refresh_a_known_host() {
        let mut hosts = vec![Host {
            name: "b".into(),
            tags: vec!["env:prod".into()],
            apps: vec![],
            last_reported_ms: 1_000,
        }];
        let events = [
            event(Some("b"), 5_000),
            event(Some("a"), 2_000),
            event(Some("c"), 10), // before `since`
            event(None, 9_000),
            event(Some(""), 9_000),
        ];
        add_event_hosts(&mut hosts, &events, 100);
        let names: Vec<(&str, i64)> = hosts
            .iter()
            .map(|h| (h.name.as_str(), h.last_reported_ms))
            .collect();
        assert_eq!(names, [("a", 2_000), ("b", 5_000)]);
        assert!(
            hosts[0].tags.is_empty(),
            "an event's tags are not host tags"
        );
    }
}
