//! Property tests: the parser and the aggregator never panic on any bytes,
//! well-formed lines parse back to what was written, and counters match a
//! simple model.

use std::collections::HashMap;

use proptest::prelude::*;
use whippet_dogstatsd::{
    Aggregator, AggregatorConfig, Message, MetricKind, normalize, parse_datagram, parse_message,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parser_and_aggregator_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), now in any::<i64>()) {
        let mut agg = Aggregator::new(AggregatorConfig { max_contexts: 64, ..AggregatorConfig::default() }, Some("h")).unwrap();
        for m in parse_datagram(&bytes) {
            if let Ok(Message::Metric(s)) = m {
                let _ = agg.add(&s, now);
            }
        }
        let f = agg.flush(now.saturating_add(10_000));
        prop_assert!(f.metrics.iter().all(|m| m.value.is_finite()));
        let _ = agg.flush_all(now);
    }

    #[test]
    fn structured_garbage_never_panics(lines in proptest::collection::vec(
        "(_e\\{[0-9]{0,3},[0-9]{0,3}\\}:|_sc\\||[a-z.]{0,6}:)[-0-9a-z:|#@.,TeEc_{}\\\\]{0,40}", 0..8)) {
        let datagram = lines.join("\n");
        let mut agg = Aggregator::new(AggregatorConfig::default(), None).unwrap();
        for m in parse_datagram(datagram.as_bytes()) {
            if let Ok(Message::Metric(s)) = m {
                let _ = agg.add(&s, 0);
            }
        }
        let _ = agg.flush_all(20_000);
    }

    #[test]
    fn well_formed_metric_lines_round_trip(
        name in "[a-z][a-z0-9_.]{0,20}",
        values in proptest::collection::vec(-1e6f64..1e6, 1..4),
        kind in prop_oneof![Just("g"), Just("c"), Just("h"), Just("ms"), Just("d")],
        rate in prop_oneof![Just(None), (0.01f64..=1.0).prop_map(Some)],
        tags in proptest::collection::vec("[a-z]{1,5}:[a-z0-9]{1,5}", 0..4),
        ts in prop_oneof![Just(None), (1i64..4_000_000_000).prop_map(Some)],
    ) {
        let vals: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let mut line = format!("{name}:{}|{kind}", vals.join(":"));
        if let Some(r) = rate { line.push_str(&format!("|@{r}")); }
        if !tags.is_empty() { line.push_str(&format!("|#{}", tags.join(","))); }
        if let Some(t) = ts { line.push_str(&format!("|T{t}")); }
        let Ok(Message::Metric(m)) = parse_message(line.as_bytes()) else {
            return Err(TestCaseError::fail(format!("{line} did not parse")));
        };
        prop_assert_eq!(m.name, name.as_bytes());
        prop_assert_eq!(m.kind, MetricKind::from_symbol(kind.as_bytes()).unwrap());
        prop_assert_eq!(m.values().collect::<Vec<_>>(), values);
        prop_assert_eq!(m.sample_rate, rate.unwrap_or(1.0));
        let joined = tags.join(",");
        prop_assert_eq!(m.tags, joined.as_bytes());
        prop_assert_eq!(m.timestamp, ts);
    }

    #[test]
    fn normalised_names_and_tags_obey_the_rules(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Some(n) = normalize::metric_name(&raw) {
            prop_assert!(n.len() <= normalize::MAX_NAME_CHARS);
            prop_assert!(n.as_bytes()[0].is_ascii_alphabetic());
            prop_assert!(n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
            prop_assert!(!n.ends_with('_') && !n.contains("__") && !n.contains("_.") && !n.contains("._"));
            let again = normalize::metric_name(n.as_bytes());
            prop_assert_eq!(again.as_deref(), Some(n.as_str()), "idempotent");
        }
        if let Some(t) = normalize::tag(&raw) {
            prop_assert!(t.chars().count() <= normalize::MAX_TAG_CHARS);
            prop_assert!(!t.ends_with('_') && !t.contains("__"));
            prop_assert!(t.chars().all(|c| c.is_alphabetic() || c.is_numeric() || "_-:./".contains(c)));
            let again = normalize::tag(t.as_bytes());
            prop_assert_eq!(again.as_deref(), Some(t.as_str()), "idempotent");
        }
    }

    /// Counters against a model: per (context, bucket), the flushed value is
    /// Σ value / rate, whatever the flush times, and zero-fill rows are 0.
    #[test]
    fn counters_match_a_model(
        ops in proptest::collection::vec((0usize..4, -100i64..100, prop_oneof![Just(1.0f64), Just(0.5), Just(0.25)], 0i64..4_000, any::<bool>()), 1..200)
    ) {
        let mut agg = Aggregator::new(AggregatorConfig { counter_expiry_secs: 30, ..AggregatorConfig::default() }, None).unwrap();
        let mut model: HashMap<(usize, i64), f64> = HashMap::new();
        let mut got: HashMap<(usize, i64), f64> = HashMap::new();
        let mut now = 0i64;
        let collect = |f: whippet_dogstatsd::Flush, got: &mut HashMap<(usize, i64), f64>| {
            for m in f.metrics {
                let ctx: usize = m.metric.trim_start_matches("ctx").parse().unwrap();
                let prev = got.insert((ctx, m.ts_ms), m.value);
                assert!(prev.is_none(), "bucket emitted twice");
            }
        };
        for (ctx, v, rate, step, flush) in ops {
            now += step;
            let line = format!("ctx{ctx}:{v}|c|@{rate}");
            let Ok(Message::Metric(s)) = parse_message(line.as_bytes()) else { unreachable!() };
            agg.add(&s, now).unwrap();
            *model.entry((ctx, now.div_euclid(10_000) * 10_000)).or_default() += v as f64 / rate;
            if flush { collect(agg.flush(now), &mut got); }
        }
        collect(agg.flush(now + 1_000_000), &mut got);
        for (k, v) in &model {
            let g = got.get(k).copied();
            prop_assert!(g.is_some_and(|g| (g - v).abs() < 1e-6), "{k:?}: model {v}, got {g:?}");
        }
        for (k, v) in &got {
            if !model.contains_key(k) { prop_assert_eq!(*v, 0.0, "zero-fill row {:?}", k); }
        }
    }
}
