//! The query suite: each query in Datadog's language (for Whippet's
//! `GET /api/v1/query`) and in PromQL (for VictoriaMetrics'
//! `GET /api/v1/query_range`), written so both answer the same question.
//! Each query's PromQL also comes in the form Whippet's own PromQL engine
//! (`/prometheus/api/v1/query_range`) is asked: the same expression with
//! the metric named by Whippet's name rule ([`whippet_promql_name`]).
//!
//! Host names are drawn from the generated fleet, never hard-coded: the
//! filters that select "about 1 %" and "about 100" hosts are found by
//! counting the fleet's hosts under candidate filters ([`pick_filter`]).
//!
//! ## Windows and steps
//! Datadog buckets cover `[t, t + step)`; PromQL's `avg_over_time(x[step])`
//! at `t` covers `(t - step, t]`. On the fleet's 10 s grid both average the
//! same points when the PromQL timestamp is the Datadog bucket's plus
//! `step - 10 s` (the comparison in `answer.rs` maps them that way). Each
//! PromQL text has the placeholder `$step` for its range selector; it is
//! replaced with the interval Whippet answered with ([`Step::Whippet`]) or a
//! fixed one that the Datadog text also asks for with `.rollup(avg, N)`
//! ([`Step::Fixed`]), and the same number of seconds is the `step` of the
//! range query.
//!
//! Prometheus 2.x range selectors include their left end (`[t − r, t]`),
//! VictoriaMetrics' do not (`(t − r, t]`). Whippet's PromQL engine follows
//! Prometheus 2.42, so Prometheus and Whippet's PromQL get the window as
//! one millisecond less than the step ([`closed_window`]), which selects
//! the same raw points as VictoriaMetrics' `[<step>s]` on the 10 s grid.

use whippet_fleetgen::{FleetSpec, METRICS_PER_HOST, describe};

/// The gauge most queries read (a noisy CPU percentage).
pub const GAUGE: &str = "system.cpu.user";
/// The counter of `rate_sum_by_service` (cumulative bytes, sent as a gauge
/// so both systems store the numbers as sent).
pub const COUNTER: &str = "system.net.bytes_rcvd";

/// One host of the fleet and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `i-0` + 16 hex digits.
    pub name: String,
    /// `env:` value.
    pub env: String,
    /// `region:` value.
    pub region: String,
    /// `az:` value.
    pub az: String,
    /// `service:` value.
    pub service: String,
    /// The host misses runs of points.
    pub has_gaps: bool,
}

/// The hosts of `spec`, in fleet order (from `whippet-fleetgen`'s series
/// descriptions, so they are exactly the tags that were sent).
pub fn hosts(spec: &FleetSpec) -> Vec<Host> {
    (0..spec.hosts())
        .map(|h| {
            let d = describe(spec, h * METRICS_PER_HOST);
            let tag = |key: &str| {
                d.tags
                    .iter()
                    .find_map(|t| t.strip_prefix(key)?.strip_prefix(':'))
                    .unwrap_or_default()
                    .to_owned()
            };
            Host {
                name: tag("host"),
                env: tag("env"),
                region: tag("region"),
                az: tag("az"),
                service: tag("service"),
                has_gaps: d.has_gaps,
            }
        })
        .collect()
}

/// The fixed part of every host name.
const HOST_STEM: &str = "i-0";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A host selection: the hosts whose name starts with `i-0` + `prefix`,
/// optionally also carrying one exact tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Hex digits after `i-0` (may be empty: every host).
    pub prefix: String,
    /// One more exact tag, `(key, value)`.
    pub extra: Option<(String, String)>,
    /// Hosts of the fleet it selects.
    pub hosts: usize,
}

impl Filter {
    /// The Datadog scope, e.g. `host:i-0a*,env:dev` (a comma is AND).
    pub fn datadog(&self) -> String {
        let mut s = format!("host:{HOST_STEM}{}*", self.prefix);
        if let Some((k, v)) = &self.extra {
            s.push_str(&format!(",{k}:{v}"));
        }
        s
    }

    /// The PromQL label matchers, e.g. `host=~"i-0a.*",env="dev"`.
    pub fn promql(&self) -> String {
        // Host names are hex digits and a dash: nothing to escape.
        let mut s = format!("host=~\"{HOST_STEM}{}.*\"", self.prefix);
        if let Some((k, v)) = &self.extra {
            s.push_str(&format!(",{k}=\"{v}\""));
        }
        s
    }

    fn matches(&self, h: &Host) -> bool {
        let name_ok = h
            .name
            .strip_prefix(HOST_STEM)
            .is_some_and(|rest| rest.starts_with(&self.prefix));
        let extra_ok = match &self.extra {
            None => true,
            Some((k, v)) => match k.as_str() {
                "env" => &h.env == v,
                "region" => &h.region == v,
                "az" => &h.az == v,
                "service" => &h.service == v,
                _ => false,
            },
        };
        name_ok && extra_ok
    }
}

/// The filter whose host count is closest to `target`, among: a name
/// prefix of zero to two hex digits (one or two when `need_prefix`, so the
/// wildcard really filters), alone or with one exact `env`, `region`, `az`
/// or `service` tag. Ties go to the simpler filter (no extra tag, then the
/// shorter prefix), then to the first in enumeration order, so the choice is
/// a pure function of the fleet.
///
/// Host names are a bijection of the host number onto 16 hex digits, so a
/// prefix of one digit keeps about 1/16 of the hosts and two about 1/256;
/// the extra tag fills the ratios in between (env `dev` is 15 % of hosts,
/// an `az` of `us-east-1` about 13 %, ...).
pub fn pick_filter(hosts: &[Host], target: usize, need_prefix: bool) -> Filter {
    let mut prefixes: Vec<String> = Vec::new();
    if !need_prefix {
        prefixes.push(String::new());
    }
    for &a in HEX {
        prefixes.push((a as char).to_string());
    }
    for &a in HEX {
        for &b in HEX {
            prefixes.push(format!("{}{}", a as char, b as char));
        }
    }
    let mut extras: Vec<Option<(String, String)>> = vec![None];
    for (key, values) in [
        ("env", distinct(hosts, |h| &h.env)),
        ("region", distinct(hosts, |h| &h.region)),
        ("az", distinct(hosts, |h| &h.az)),
        ("service", distinct(hosts, |h| &h.service)),
    ] {
        extras.extend(values.into_iter().map(|v| Some((key.to_owned(), v))));
    }
    let mut best: Option<(usize, usize, usize, Filter)> = None;
    for extra in &extras {
        for prefix in &prefixes {
            let mut f = Filter {
                prefix: prefix.clone(),
                extra: extra.clone(),
                hosts: 0,
            };
            f.hosts = hosts.iter().filter(|h| f.matches(h)).count();
            if f.hosts == 0 {
                continue;
            }
            let key = (
                f.hosts.abs_diff(target),
                usize::from(extra.is_some()),
                prefix.len(),
            );
            if best.as_ref().is_none_or(|(d, e, p, _)| key < (*d, *e, *p)) {
                best = Some((key.0, key.1, key.2, f));
            }
        }
    }
    best.map(|(_, _, _, f)| f).unwrap_or(Filter {
        prefix: String::new(),
        extra: None,
        hosts: hosts.len(),
    })
}

fn distinct(hosts: &[Host], f: impl Fn(&Host) -> &String) -> Vec<String> {
    let mut v: Vec<String> = hosts.iter().map(|h| f(h).clone()).collect();
    v.sort();
    v.dedup();
    v
}

/// Where the PromQL step comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Step {
    /// The `interval` of Whippet's answer (its default rollup for the
    /// range: about 300 points per graph).
    Whippet,
    /// Fixed seconds, also asked of Whippet with `.rollup(avg, N)`.
    Fixed(u32),
}

/// How the two answers' series counts relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Count {
    /// The same series on both sides.
    Same,
    /// PromQL's `topk` ranks at every step, so its answer holds every
    /// series that is in the top k at *some* step: at least k series,
    /// usually more. Datadog's `top` ranks once, over the whole window.
    TopkPerStep,
}

/// One query of the suite.
#[derive(Debug, Clone)]
pub struct Query {
    /// Short name (the table's row).
    pub name: &'static str,
    /// An aggregation over every series of a metric, the kind a dashboard
    /// shows: held to an absolute latency target as well.
    pub dashboard: bool,
    /// Datadog query text for Whippet.
    pub datadog: String,
    /// PromQL for VictoriaMetrics, with `$step` for the range window.
    pub promql_template: String,
    /// The same PromQL for Whippet's engine: the metric under the name
    /// Whippet's PromQL shows for it ([`whippet_promql_name`]), `$step` for
    /// the range window.
    pub promql_whippet_template: String,
    /// Where the step comes from.
    pub step: Step,
    /// How the series counts relate.
    pub count: Count,
    /// Hosts the query's filter selects (0: not a host filter).
    pub hosts_selected: usize,
    /// What the reader should know about this pair.
    pub note: String,
}

impl Query {
    /// The PromQL text for a step of `step_secs` (VictoriaMetrics'
    /// left-open windows).
    pub fn promql(&self, step_secs: u32) -> String {
        self.promql_template
            .replace("$step", &format!("{step_secs}s"))
    }

    /// The PromQL text for Whippet's engine and a step of `step_secs`:
    /// Whippet's metric names, windows closed on the left like
    /// Prometheus 2.x's ([`closed_window`]).
    pub fn promql_whippet(&self, step_secs: u32) -> String {
        closed_window(&self.promql_whippet_template, step_secs)
    }
}

/// `template` with `$step` replaced by a window that selects the same raw
/// points under Prometheus 2.x's closed range selectors (`[t − r, t]`) as
/// `[<step>s]` does under VictoriaMetrics' left-open ones: `step` seconds
/// less one millisecond (`[29999ms]` for 30 s). Points are on whole seconds,
/// so the millisecond keeps out exactly the point at `t − step`.
pub fn closed_window(template: &str, step_secs: u32) -> String {
    template.replace("$step", &format!("{}ms", u64::from(step_secs) * 1000 - 1))
}

/// The name Whippet's PromQL shows for a stored Datadog metric name (the
/// rule of `service/promql/src/names.rs`): every character outside
/// `[A-Za-z0-9_:]` becomes `_`, and a leading digit (or an empty name)
/// gets a `_` in front: `system.cpu.user` → `system_cpu_user`. Tags
/// `key:value` show as labels `key="value"`, which the suite's matchers
/// (`host`, `region`, `service`) already are.
pub fn whippet_promql_name(metric: &str) -> String {
    let mut out = String::with_capacity(metric.len() + 1);
    if metric.is_empty() || metric.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(metric.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            c
        } else {
            '_'
        }
    }));
    out
}

/// A PromQL series selector of `metric` (as VictoriaMetrics stored it) with
/// extra `matchers`: `name{m}` when the name is a valid PromQL identifier,
/// else `{__name__="name",m}` (dotted Datadog names as 1.79 keeps them).
pub fn selector(metric: &str, matchers: &str) -> String {
    let ident = !metric.is_empty()
        && !metric.starts_with(|c: char| c.is_ascii_digit())
        && metric
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    match (ident, matchers.is_empty()) {
        (true, true) => metric.to_owned(),
        (true, false) => format!("{metric}{{{matchers}}}"),
        (false, true) => format!("{{__name__=\"{metric}\"}}"),
        (false, false) => format!("{{__name__=\"{metric}\",{matchers}}}"),
    }
}

/// Fixed step of `raw_100`: the fleet's native resolution, every point.
pub const RAW_STEP_SECS: u32 = 10;
/// Hosts `raw_100` aims at.
pub const RAW_HOSTS: usize = 100;

/// The suite over `hosts`; `vm_name` maps a Datadog metric name to the name
/// VictoriaMetrics stored it under. Whippet's PromQL forms name the
/// metrics by [`whippet_promql_name`].
pub fn suite(hosts: &[Host], vm_name: impl Fn(&str) -> String) -> Vec<Query> {
    let mut queries = build(hosts, vm_name);
    let whippet = build(hosts, whippet_promql_name);
    for (q, w) in queries.iter_mut().zip(whippet) {
        q.promql_whippet_template = w.promql_template;
    }
    queries
}

/// The suite with `vm_name`'s names in its PromQL forms (Whippet's PromQL
/// forms left empty).
fn build(hosts: &[Host], vm_name: impl Fn(&str) -> String) -> Vec<Query> {
    let gauge = vm_name(GAUGE);
    let counter = vm_name(COUNTER);
    let one = hosts
        .iter()
        .find(|h| !h.has_gaps)
        .or(hosts.first())
        .map_or("", |h| h.name.as_str());
    let wild = pick_filter(hosts, hosts.len().div_ceil(100), true);
    let raw = pick_filter(hosts, RAW_HOSTS, false);
    let g = |m: &str| selector(&gauge, m);
    vec![
        Query {
            name: "raw_one",
            dashboard: false,
            datadog: format!("avg:{GAUGE}{{host:{one}}}"),
            promql_template: format!("avg_over_time({}[$step])", g(&format!("host=\"{one}\""))),
            promql_whippet_template: String::new(),
            step: Step::Whippet,
            count: Count::Same,
            hosts_selected: 1,
            note: "One series, averaged into the default interval on both sides \
                   (avg_over_time over the step)."
                .into(),
        },
        Query {
            name: "avg_by_region",
            dashboard: true,
            datadog: format!("avg:{GAUGE}{{*}} by {{region}}"),
            promql_template: format!("avg by (region) (avg_over_time({}[$step]))", g("")),
            promql_whippet_template: String::new(),
            step: Step::Whippet,
            count: Count::Same,
            hosts_selected: 0,
            note: "Every host's series: time average per bucket, then the average per region."
                .into(),
        },
        Query {
            name: "rate_sum_by_service",
            dashboard: true,
            // The counters are stored as gauges holding the cumulative
            // count (as Prometheus and VictoriaMetrics store counters).
            // `.as_rate()` does nothing to a gauge in Datadog's language
            // (it converts counts and rates only), so it would sum the raw
            // totals. `per_second()` on a gauge is its rate of change: of
            // the per-service sum of the per-bucket averages. That equals
            // `sum by (service) (rate(...))` — PromQL takes the rate of
            // each series, then sums — whenever every series of a service
            // has points in both buckets. Where a host misses points (5 %
            // of hosts have gaps) the Datadog sum drops and jumps back,
            // and its derivative shows a spike that PromQL's per-series
            // rate does not; the comparison's median difference stays
            // small, its maximum shows those spikes. No Datadog form of
            // one query takes a per-series rate before space aggregation
            // of a gauge.
            datadog: format!("per_second(sum:{COUNTER}{{*}} by {{service}})"),
            promql_template: format!("sum by (service) (rate({}[$step]))", selector(&counter, "")),
            promql_whippet_template: String::new(),
            step: Step::Whippet,
            count: Count::Same,
            hosts_selected: 0,
            note: "Datadog: derivative of the per-service sum; PromQL: sum of per-series rates \
                   (equal where no series has a gap)."
                .into(),
        },
        Query {
            name: "top10",
            dashboard: true,
            datadog: format!("top(avg:{GAUGE}{{*}} by {{host}}, 10, 'mean', 'desc')"),
            promql_template: format!("topk(10, avg by (host) (avg_over_time({}[$step])))", g("")),
            promql_whippet_template: String::new(),
            step: Step::Whippet,
            count: Count::TopkPerStep,
            hosts_selected: 0,
            note: "Datadog ranks the hosts once by their mean over the window and returns 10 \
                   series; PromQL's topk ranks at every step and returns every host that is in \
                   the top 10 at some step (more than 10 series)."
                .into(),
        },
        Query {
            name: "wildcard_per_host",
            dashboard: false,
            datadog: format!("avg:{GAUGE}{{{}}} by {{host}}", wild.datadog()),
            promql_template: format!(
                "avg by (host) (avg_over_time({}[$step]))",
                g(&wild.promql())
            ),
            promql_whippet_template: String::new(),
            step: Step::Whippet,
            count: Count::Same,
            hosts_selected: wild.hosts,
            note: format!(
                "A host-name wildcard selecting {} of {} hosts ({:.1} %), one series out per host.",
                wild.hosts,
                hosts.len(),
                100.0 * wild.hosts as f64 / hosts.len().max(1) as f64
            ),
        },
        Query {
            name: "raw_100",
            dashboard: false,
            datadog: format!(
                "avg:{GAUGE}{{{}}} by {{host}}.rollup(avg, {RAW_STEP_SECS})",
                raw.datadog()
            ),
            promql_template: format!("avg by (host) (avg_over_time({}[$step]))", g(&raw.promql())),
            promql_whippet_template: String::new(),
            step: Step::Fixed(RAW_STEP_SECS),
            count: Count::Same,
            hosts_selected: raw.hosts,
            note: format!(
                "{} hosts' raw series at the native 10 s resolution (one point per bucket).",
                raw.hosts
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_hosts() -> Vec<Host> {
        hosts(&FleetSpec::small())
    }

    #[test]
    fn fleet_hosts_carry_the_sent_tags() {
        let h = small_hosts();
        assert_eq!(h.len(), 500);
        for x in &h {
            assert!(x.name.starts_with("i-0") && x.name.len() == 19, "{x:?}");
            assert!(x.az.starts_with(&x.region), "{x:?}");
            assert!(!x.env.is_empty() && !x.service.is_empty());
        }
        assert!(h.iter().any(|x| x.has_gaps) && h.iter().any(|x| !x.has_gaps));
    }

    #[test]
    fn filters_select_what_they_say() {
        let h = small_hosts();
        for (target, need) in [(5, true), (100, false), (50, true)] {
            let f = pick_filter(&h, target, need);
            let counted = h.iter().filter(|x| f.matches(x)).count();
            assert_eq!(counted, f.hosts, "{f:?}");
            assert!(f.hosts > 0);
            if need {
                assert!(!f.prefix.is_empty());
            }
            // The fleet offers plenty of ratios: within a third of the target.
            assert!(f.hosts.abs_diff(target) * 3 <= target, "{target}: {f:?}");
        }
        let full = hosts(&FleetSpec::full());
        let f = pick_filter(&full, 100, false);
        assert!(f.hosts.abs_diff(100) <= 5, "{f:?}");
        let f = pick_filter(&full, 50, true);
        assert!(f.hosts.abs_diff(50) <= 3, "{f:?}");
    }

    #[test]
    fn filter_texts() {
        let f = Filter {
            prefix: "a3".into(),
            extra: Some(("env".into(), "dev".into())),
            hosts: 1,
        };
        assert_eq!(f.datadog(), "host:i-0a3*,env:dev");
        assert_eq!(f.promql(), "host=~\"i-0a3.*\",env=\"dev\"");
        let f = Filter {
            prefix: String::new(),
            extra: None,
            hosts: 1,
        };
        assert_eq!(f.datadog(), "host:i-0*");
    }

    #[test]
    fn selectors() {
        assert_eq!(selector("system_cpu_user", ""), "system_cpu_user");
        assert_eq!(
            selector("system_cpu_user", "host=\"h\""),
            "system_cpu_user{host=\"h\"}"
        );
        assert_eq!(
            selector("system.cpu.user", "host=\"h\""),
            "{__name__=\"system.cpu.user\",host=\"h\"}"
        );
        assert_eq!(
            selector("system.cpu.user", ""),
            "{__name__=\"system.cpu.user\"}"
        );
    }

    #[test]
    fn whippet_promql_names_follow_the_name_rule() {
        assert_eq!(whippet_promql_name("system.cpu.user"), "system_cpu_user");
        assert_eq!(whippet_promql_name("trace.http-req"), "trace_http_req");
        assert_eq!(whippet_promql_name("a:b_c9"), "a:b_c9");
        assert_eq!(whippet_promql_name("9lives"), "_9lives");
        assert_eq!(whippet_promql_name(""), "_");
        assert_eq!(closed_window("x[$step]", 20), "x[19999ms]");
        assert_eq!(closed_window("x[$step]", 10), "x[9999ms]");
    }

    fn balanced(s: &str) -> bool {
        let mut stack = Vec::new();
        let mut in_str = None;
        for c in s.chars() {
            if let Some(q) = in_str {
                if c == q {
                    in_str = None;
                }
                continue;
            }
            match c {
                '"' | '\'' => in_str = Some(c),
                '(' | '{' | '[' => stack.push(c),
                ')' | '}' | ']' => {
                    let open = stack.pop();
                    let want = match c {
                        ')' => '(',
                        '}' => '{',
                        _ => '[',
                    };
                    if open != Some(want) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        stack.is_empty() && in_str.is_none()
    }

    #[test]
    fn the_suite_is_sane() {
        let h = small_hosts();
        for dotted in [true, false] {
            let q = suite(&h, |m| {
                if dotted {
                    m.to_owned()
                } else {
                    m.replace('.', "_")
                }
            });
            let names: Vec<&str> = q.iter().map(|q| q.name).collect();
            assert_eq!(
                names,
                [
                    "raw_one",
                    "avg_by_region",
                    "rate_sum_by_service",
                    "top10",
                    "wildcard_per_host",
                    "raw_100"
                ]
            );
            let dashboards: Vec<&str> = q.iter().filter(|q| q.dashboard).map(|q| q.name).collect();
            assert_eq!(
                dashboards,
                ["avg_by_region", "rate_sum_by_service", "top10"]
            );
            for x in &q {
                let p = x.promql(30);
                assert!(balanced(&x.datadog), "{}", x.datadog);
                assert!(balanced(&p), "{p}");
                assert!(!p.contains("$step"), "{p}");
                assert!(x.datadog.contains("system."), "{}", x.datadog);
                let metric = if x.name == "rate_sum_by_service" {
                    COUNTER
                } else {
                    GAUGE
                };
                assert!(x.datadog.contains(metric));
                let stored = if dotted {
                    metric.to_owned()
                } else {
                    metric.replace('.', "_")
                };
                assert!(p.contains(&stored), "{p}");
                if dotted {
                    assert!(p.contains("__name__"), "{p}");
                }
                // Both sides group by the same key.
                for key in ["region", "service", "host"] {
                    assert_eq!(
                        x.datadog.contains(&format!("by {{{key}}}")),
                        p.contains(&format!("by ({key})")),
                        "{}: {} vs {p}",
                        x.name,
                        x.datadog
                    );
                }
                // A PromQL range window on every query, of the step.
                assert!(p.contains("[30s]"), "{p}");
            }
            let raw = q.iter().find(|x| x.name == "raw_100").unwrap();
            assert_eq!(raw.step, Step::Fixed(RAW_STEP_SECS));
            assert!(raw.datadog.ends_with(".rollup(avg, 10)"));
            assert_eq!(raw.promql(10).matches("[10s]").count(), 1);
            // Whippet's PromQL: the same expression, Whippet's names,
            // Prometheus 2.x's closed windows.
            for x in &q {
                let w = x.promql_whippet(30);
                assert!(!w.contains("system."), "{w}");
                assert!(!w.contains("__name__"), "{w}");
                assert!(w.contains("[29999ms]"), "{w}");
                let unnamed = |t: &str| {
                    t.replace("{__name__=\"system.cpu.user\",", "system_cpu_user{")
                        .replace(
                            "{__name__=\"system.net.bytes_rcvd\"}",
                            "system_net_bytes_rcvd",
                        )
                        .replace("{__name__=\"system.cpu.user\"}", "system_cpu_user")
                        .replace('.', "_")
                };
                assert_eq!(
                    unnamed(&closed_window(&x.promql_template, 30)),
                    unnamed(&w),
                    "{}",
                    x.name
                );
            }
            let one = q.iter().find(|x| x.name == "raw_one").unwrap();
            let host = h.iter().find(|x| !x.has_gaps).unwrap();
            assert!(one.datadog.contains(&host.name));
            assert!(one.promql(30).contains(&format!("host=\"{}\"", host.name)));
        }
    }
}
