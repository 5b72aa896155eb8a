//! The monitors the bench creates: monitor `k` is a pure function of `k`
//! and the fleet, so the first 1 000 of a run are also the first 1 000 of
//! the 10 000 and of the 100 000 (the counts grow by adding monitors).
//!
//! # The mix
//! Four kinds, by `k` (the shares hold for any count from 1 000 up):
//!
//! | kind | share | query (threshold `T` varies with `k`) | groups | distinct evaluations |
//! |---|---|---|---|---|
//! | `fleet` | 0.1 % (`k % 1000 == 999`) | `avg(last_5m):avg:system.cpu.user{env:prod} by {host} > T` | every prod host (~3 000 of 5 000) | 1 |
//! | `shared` | 30 % (`k % 10` in 0..3) | one of 10 fleet-health queries, e.g. `avg(last_5m):avg:system.cpu.user{env:prod} by {service} > T`, `max(last_5m):avg:system.load.1{env:prod} by {az} > T`, one without `by` | 1-20 | 10 |
//! | `service` | 40 % (`k % 10` in 3..7) | `<agg>(last_<w>):avg:<metric>{service:S,az:Z} by {host} > T`: 5 metrics × every (service, az) pair of the fleet × 6 (aggregation, window) variants | the pair's hosts (~21 on average) | up to 5 × pairs × 6 (7 200 on the full fleet), then repeats |
//! | `host` | 30 % (`k % 10` in 7..10) | `avg(last_5m):avg:<metric>{host:H} > T`: 5 metrics × every host | 1 | up to 5 × hosts (25 000 on the full fleet), then repeats |
//!
//! Monitors with equal queries but for the threshold share one evaluation
//! in Whippet (`MetricQuery::evaluation_key`), so the bench counts the
//! distinct `<aggregation>(<window>):<expression>` keys of a count: that is
//! the number of queries a round runs. The cost of a round also grows with
//! the group states it steps and stores (one per group per monitor per
//! round), which the bench counts from the fleet's tags.
//!
//! Why this mix: a real estate of 100 000 monitors is mostly generated
//! (Terraform, per-host and per-service templates): many distinct narrow
//! queries, and a few fleet-wide queries copied with different thresholds
//! by different teams. A by-host monitor over a whole environment is 3 000
//! groups; at 0.1 % it already makes a quarter of the group states at
//! 100 000 monitors, and more of them would measure the group store alone.
//! The thresholds sit above the fleet's usual values (CPU 2-60 %), so most
//! groups are OK and a few alert, as in production. No monitor mentions a
//! handle (`@...`): notifications are the alert-latency probe's business.
//!
//! # What it must never do
//! Depend on anything but `k` and the fleet (no randomness, no clock).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::fleet::HostTags;

/// One of the ten shared fleet-health queries: aggregation, window,
/// metric, scope, `by` tag, comparator, base threshold.
struct SharedQuery(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    f64,
);

/// The shared queries. Thresholds are well above the fleet's usual values
/// (`system.cpu.user` walks between 2 and 60, `system.load.1` between 0.05
/// and 4), so most groups stay OK.
const SHARED: [SharedQuery; 10] = [
    SharedQuery(
        "avg",
        "5m",
        "system.cpu.user",
        "env:prod",
        Some("service"),
        ">",
        60.0,
    ),
    SharedQuery(
        "avg",
        "5m",
        "system.cpu.user",
        "env:prod",
        Some("region"),
        ">",
        50.0,
    ),
    SharedQuery(
        "max",
        "5m",
        "system.load.1",
        "env:prod",
        Some("az"),
        ">",
        8.0,
    ),
    SharedQuery(
        "avg",
        "10m",
        "system.mem.used",
        "env:prod",
        Some("service"),
        ">",
        50_000.0,
    ),
    SharedQuery(
        "avg",
        "5m",
        "system.cpu.iowait",
        "*",
        Some("region"),
        ">",
        2.0,
    ),
    SharedQuery(
        "avg",
        "15m",
        "system.io.w_s",
        "env:prod",
        Some("service"),
        ">",
        150.0,
    ),
    SharedQuery(
        "avg",
        "5m",
        "system.cpu.user",
        "env:staging",
        Some("service"),
        ">",
        60.0,
    ),
    SharedQuery(
        "min",
        "5m",
        "system.cpu.idle",
        "env:prod",
        Some("az"),
        "<",
        20.0,
    ),
    SharedQuery(
        "avg",
        "5m",
        "system.disk.in_use",
        "*",
        Some("service"),
        ">",
        0.9,
    ),
    SharedQuery("avg", "5m", "system.cpu.user", "env:prod", None, ">", 40.0),
];

/// Metrics of the per-service and per-host monitors with their base
/// thresholds (all gauges, comparator `>`).
const METRICS: [(&str, f64); 5] = [
    ("system.cpu.user", 80.0),
    ("system.cpu.system", 25.0),
    ("system.load.1", 4.0),
    ("system.mem.used", 55_000.0),
    ("system.io.w_s", 180.0),
];

/// (Aggregation, window) variants of the per-service monitors: each is a
/// distinct evaluation.
const VARIANTS: [(&str, &str); 6] = [
    ("avg", "5m"),
    ("max", "5m"),
    ("avg", "10m"),
    ("min", "5m"),
    ("avg", "15m"),
    ("max", "10m"),
];

/// Threshold steps: monitor thresholds are the base × (1 ± 5 % × step),
/// `step` in `0..THRESHOLD_STEPS`, so monitors of one query differ.
const THRESHOLD_STEPS: usize = 8;

/// The kinds of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Fleet-wide by-host query, shared.
    Fleet,
    /// One of ten fleet-health queries, shared.
    Shared,
    /// Per (service, az) by host.
    Service,
    /// One host, no groups.
    Host,
}

impl Kind {
    /// The name used in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Fleet => "fleet",
            Kind::Shared => "shared",
            Kind::Service => "service",
            Kind::Host => "host",
        }
    }
}

/// One monitor of the mix.
pub struct Monitor {
    /// Its kind.
    pub kind: Kind,
    /// The query, with its threshold.
    pub query: String,
    /// What it shares with other monitors: the query without comparator
    /// and threshold.
    pub key: String,
    /// Groups it has on the fleet.
    pub groups: usize,
}

/// The mix over one fleet.
pub struct Mix {
    hosts: Vec<HostTags>,
    /// (service, az) pairs present in the fleet, with their host count.
    pairs: Vec<((String, String), usize)>,
    /// Groups of each shared query.
    shared_groups: Vec<usize>,
    prod_hosts: usize,
}

fn in_scope(h: &HostTags, scope: &str) -> bool {
    match scope.split_once(':') {
        Some(("env", e)) => h.env == e,
        _ => true,
    }
}

fn tag<'a>(h: &'a HostTags, key: &str) -> &'a str {
    match key {
        "service" => &h.service,
        "region" => &h.region,
        "az" => &h.az,
        "env" => &h.env,
        _ => &h.host,
    }
}

/// `x` with at most three decimals, as a query spells a threshold.
fn num(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    format!("{r}")
}

fn scaled(base: f64, cmp: &str, step: usize) -> f64 {
    let f = 0.05 * step as f64;
    if cmp == "<" {
        base * (1.0 - f)
    } else {
        base * (1.0 + f)
    }
}

impl Mix {
    /// The mix over the fleet's hosts.
    pub fn new(hosts: &[HostTags]) -> Mix {
        let mut pairs: BTreeMap<(String, String), usize> = BTreeMap::new();
        for h in hosts {
            *pairs.entry((h.service.clone(), h.az.clone())).or_default() += 1;
        }
        let shared_groups = SHARED
            .iter()
            .map(|q| match q.4 {
                None => 1,
                Some(by) => hosts
                    .iter()
                    .filter(|h| in_scope(h, q.3))
                    .map(|h| tag(h, by))
                    .collect::<BTreeSet<_>>()
                    .len(),
            })
            .collect();
        Mix {
            prod_hosts: hosts.iter().filter(|h| h.env == "prod").count(),
            hosts: hosts.to_vec(),
            pairs: pairs.into_iter().collect(),
            shared_groups,
        }
    }

    /// Monitor `k`.
    pub fn monitor(&self, k: usize) -> Monitor {
        let r = k % 10;
        if k % 1000 == 999 {
            let t = scaled(70.0, ">", (k / 1000) % THRESHOLD_STEPS);
            let key = "avg(last_5m):avg:system.cpu.user{env:prod} by {host}".to_owned();
            return Monitor {
                kind: Kind::Fleet,
                query: format!("{key} > {}", num(t)),
                key,
                groups: self.prod_hosts,
            };
        }
        if r < 3 {
            let j = (k / 10) * 3 + r;
            let q = &SHARED[j % SHARED.len()];
            let t = scaled(q.6, q.5, (j / SHARED.len()) % THRESHOLD_STEPS);
            let by = q.4.map(|b| format!(" by {{{b}}}")).unwrap_or_default();
            let key = format!("{}(last_{}):avg:{}{{{}}}{by}", q.0, q.1, q.2, q.3);
            return Monitor {
                kind: Kind::Shared,
                query: format!("{key} {} {}", q.5, num(t)),
                key,
                groups: self.shared_groups[j % SHARED.len()],
            };
        }
        if r < 7 {
            let j = (k / 10) * 4 + (r - 3);
            let n = self.pairs.len();
            let ((service, az), hosts) = &self.pairs[j % n];
            let (metric, base) = METRICS[(j / n) % METRICS.len()];
            let (agg, window) = VARIANTS[(j / (n * METRICS.len())) % VARIANTS.len()];
            let step = (j / (n * METRICS.len() * VARIANTS.len())) % THRESHOLD_STEPS;
            let key = format!(
                "{agg}(last_{window}):avg:{metric}{{service:{service},az:{az}}} by {{host}}"
            );
            return Monitor {
                kind: Kind::Service,
                query: format!("{key} > {}", num(scaled(base, ">", step))),
                key,
                groups: *hosts,
            };
        }
        let j = (k / 10) * 3 + (r - 7);
        let n = self.hosts.len();
        let host = &self.hosts[j % n].host;
        let (metric, base) = METRICS[(j / n) % METRICS.len()];
        let step = (j / (n * METRICS.len())) % THRESHOLD_STEPS;
        let key = format!("avg(last_5m):avg:{metric}{{host:{host}}}");
        Monitor {
            kind: Kind::Host,
            query: format!("{key} > {}", num(scaled(base, ">", step))),
            key,
            groups: 1,
        }
    }

    /// The `POST /api/v1/monitor` body of monitor `k`: a metric alert with
    /// the query's threshold, Whippet's defaults for every other option
    /// (no `notify_no_data`, `new_group_delay` 60 s, no evaluation delay).
    pub fn definition(&self, k: usize) -> Value {
        let m = self.monitor(k);
        json!({
            "type": "metric alert",
            "name": format!("monitor-bench {} {k}", m.kind.name()),
            "query": m.query,
            "message": "{{#is_alert}}{{value}} crossed {{threshold}}{{/is_alert}}",
            "tags": ["bench:monitors", format!("kind:{}", m.kind.name())],
            "options": {"notify_no_data": false},
        })
    }

    /// The first `n` monitors, summed up.
    pub fn summary(&self, n: usize) -> MixSummary {
        let mut s = MixSummary {
            monitors: n,
            ..MixSummary::default()
        };
        let mut keys = HashSet::new();
        for k in 0..n {
            let m = self.monitor(k);
            *s.by_kind.entry(m.kind.name()).or_default() += 1;
            s.group_states += m.groups as u64;
            keys.insert(m.key);
        }
        s.distinct_evaluations = keys.len();
        s
    }
}

/// What the first `n` monitors of the mix are.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MixSummary {
    /// `n`.
    pub monitors: usize,
    /// Monitors per kind.
    pub by_kind: BTreeMap<&'static str, usize>,
    /// Distinct evaluation keys: the queries a round runs.
    pub distinct_evaluations: usize,
    /// Group states a round steps and stores (Σ groups per monitor).
    pub group_states: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<HostTags> {
        crate::fleet::Fleet::generate(2_000, 1, 0).unwrap().hosts
    }

    #[test]
    fn shares_and_keys() {
        let mix = Mix::new(&hosts());
        let s = mix.summary(1_000);
        assert_eq!(s.by_kind["fleet"], 1);
        assert_eq!(s.by_kind["shared"], 300);
        assert_eq!(s.by_kind["service"], 400);
        assert_eq!(s.by_kind["host"], 299);
        let m = mix.monitor(0);
        assert_eq!(m.kind, Kind::Shared);
        assert_eq!(
            m.query,
            "avg(last_5m):avg:system.cpu.user{env:prod} by {service} > 60"
        );
        assert_eq!(
            m.key,
            "avg(last_5m):avg:system.cpu.user{env:prod} by {service}"
        );
        assert!(
            mix.monitor(3).query.contains("by {host} > 80"),
            "{}",
            mix.monitor(3).query
        );
        assert!(
            mix.monitor(7)
                .query
                .starts_with("avg(last_5m):avg:system.cpu.user{host:i-0")
        );
        // The same k, the same monitor.
        assert_eq!(mix.monitor(12_345).query, mix.monitor(12_345).query);
        assert_eq!(mix.definition(5)["type"], "metric alert");
    }
}
