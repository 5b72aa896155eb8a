//! Selectors evaluated over the tag index agree with their definition
//! applied to each series' tags, for random series and nested selectors
//! (the index evaluates `And` terms in its own order, restricted to what
//! earlier terms kept; this checks that the order never changes the answer).

mod common;

use common::*;
use proptest::prelude::*;
use whippet_tsdb::Selector;
use whippet_tsdb::index::glob_match;

const METRICS: [&str; 3] = ["cpu", "cpu.user", "mem"];
const HOSTS: [&str; 5] = ["web-1", "web-2", "web-10", "db-1", "db-2"];
const ENVS: [&str; 2] = ["prod", "dev"];

/// A series: its metric and tags.
type Series = (&'static str, Vec<String>);

fn series() -> impl Strategy<Value = Series> {
    (
        0..METRICS.len(),
        proptest::option::of(0..HOSTS.len()),
        proptest::option::of(0..ENVS.len()),
        any::<bool>(),
    )
        .prop_map(|(m, h, e, canary)| {
            let mut tags = Vec::new();
            if let Some(h) = h {
                tags.push(format!("host:{}", HOSTS[h]));
            }
            if let Some(e) = e {
                tags.push(format!("env:{}", ENVS[e]));
            }
            if canary {
                tags.push("canary".to_owned());
            }
            (METRICS[m], tags)
        })
}

fn leaf() -> impl Strategy<Value = Selector> {
    prop_oneof![
        Just(Selector::All),
        (0..METRICS.len()).prop_map(|m| Selector::Metric(METRICS[m].into())),
        prop_oneof![Just("cpu*"), Just("*.user"), Just("m*")]
            .prop_map(|p| Selector::MetricGlob(p.into())),
        prop_oneof![
            Just("host:web-1"),
            Just("env:prod"),
            Just("canary"),
            Just("host:nope")
        ]
        .prop_map(|t| Selector::Tag(t.into())),
        prop_oneof![
            Just("host:web-*"),
            Just("host:*-1"),
            Just("*:prod"),
            Just("host:db*"),
            Just("can*")
        ]
        .prop_map(|p| Selector::TagGlob(p.into())),
        prop_oneof![Just("host"), Just("env"), Just("zone")]
            .prop_map(|k| Selector::HasKey(k.into())),
    ]
}

fn selector() -> impl Strategy<Value = Selector> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|s| Selector::Not(Box::new(s))),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Selector::And),
            proptest::collection::vec(inner, 0..4).prop_map(Selector::Or),
        ]
    })
}

/// The definition of each selector, on one series.
fn matches(sel: &Selector, metric: &str, tags: &[String]) -> bool {
    match sel {
        Selector::All => true,
        Selector::Metric(m) => metric == m,
        Selector::MetricGlob(p) => glob_match(p, metric),
        Selector::Tag(t) => tags.contains(t),
        Selector::TagGlob(p) => tags.iter().any(|t| glob_match(p, t)),
        Selector::HasKey(k) => tags
            .iter()
            .any(|t| t.split_once(':').is_some_and(|(key, _)| key == k)),
        Selector::Not(inner) => !matches(inner, metric, tags),
        Selector::And(parts) => parts.iter().all(|p| matches(p, metric, tags)),
        Selector::Or(parts) => parts.iter().any(|p| matches(p, metric, tags)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn index_selection_matches_the_definition(
        fleet in proptest::collection::vec(series(), 1..40),
        sels in proptest::collection::vec(selector(), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let e = open(dir.path());
        let mut ids = Vec::new();
        for (metric, tags) in &fleet {
            let t: Vec<&str> = tags.iter().map(String::as_str).collect();
            ids.push(gauge(&e, metric, &t));
        }
        for sel in &sels {
            let got = e.select(ORG, sel);
            let mut want: Vec<_> = fleet
                .iter()
                .zip(&ids)
                .filter(|((metric, tags), _)| matches(sel, metric, tags))
                .map(|(_, id)| *id)
                .collect();
            want.sort();
            want.dedup();
            prop_assert_eq!(got, want, "{:?}", sel);
        }
    }
}
