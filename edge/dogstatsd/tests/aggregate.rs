//! Aggregator tests with a manual clock: every reduction, zero-fill and
//! expiry, closed-bucket flushing, shutdown flush, and the context cap.

mod common;

use common::{one, rows};
use whippet_dogstatsd::{
    Aggregator, AggregatorConfig, DropReason, Flush, HistogramAggregate, Message, parse_datagram,
};
use whippet_tsdb::MetricType;

const COUNT: MetricType = MetricType::Count { interval_secs: 10 };

/// 2023-11-14T22:13:20Z, a bucket boundary.
const T0: i64 = 1_700_000_000_000;

fn agg() -> Aggregator {
    Aggregator::new(AggregatorConfig::default(), None).unwrap()
}

/// Feeds every metric line of `datagram` at `now_ms`.
fn feed(a: &mut Aggregator, datagram: &str, now_ms: i64) {
    for m in parse_datagram(datagram.as_bytes()) {
        if let Ok(Message::Metric(s)) = m {
            let _ = a.add(&s, now_ms);
        }
    }
}

#[test]
fn counts_sum_with_sample_rates_and_flush_only_closed_buckets() {
    let mut a = agg();
    feed(&mut a, "c:1|c\nc:3|c|@0.5\nc:-2|c", T0 + 1_000);
    // The bucket [T0, T0+10s) is still open at T0+9.999s.
    assert!(a.flush(T0 + 9_999).is_empty());
    feed(&mut a, "c:10|c", T0 + 10_500); // next bucket
    let f = a.flush(T0 + 10_000);
    let r = one(&f.metrics, "c");
    assert_eq!((r.ts_ms, r.value, r.mtype), (T0, 1.0 + 6.0 - 2.0, COUNT));
    assert!(r.tags.is_empty());
    let f = a.flush(T0 + 20_000);
    let r = one(&f.metrics, "c");
    assert_eq!((r.ts_ms, r.value), (T0 + 10_000, 10.0));
}

#[test]
fn gauges_keep_the_last_value() {
    let mut a = agg();
    feed(&mut a, "g:1|g\ng:5|g\ng:3|g|#env:dev", T0);
    feed(&mut a, "g:4:7:2|g", T0 + 2_000); // multi-value: last wins
    let f = a.flush(T0 + 10_000);
    let plain: Vec<_> = f.metrics.iter().filter(|m| m.tags.is_empty()).collect();
    assert_eq!(plain.len(), 1);
    assert_eq!((plain[0].value, plain[0].mtype), (2.0, MetricType::Gauge));
    let tagged: Vec<_> = f.metrics.iter().filter(|m| !m.tags.is_empty()).collect();
    assert_eq!(tagged[0].value, 3.0);
    assert_eq!(tagged[0].tags, ["env:dev"]);
}

#[test]
fn sets_count_distinct_members_per_bucket() {
    let mut a = agg();
    feed(&mut a, "s:a|s\ns:b|s\ns:a|s\ns:user:1|s", T0);
    feed(&mut a, "s:a|s", T0 + 10_000);
    let f = a.flush(T0 + 20_000);
    let r = rows(&f.metrics, "s");
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].ts_ms, r[0].value, r[0].mtype),
        (T0, 3.0, MetricType::Gauge)
    );
    assert_eq!((r[1].ts_ms, r[1].value), (T0 + 10_000, 1.0));
}

#[test]
fn histograms_default_aggregates() {
    let mut a = agg();
    // 1..=100 as separate samples, timers share the histogram context.
    let lines: Vec<String> = (1..=100)
        .map(|v| format!("h:{v}|{}", if v % 2 == 0 { "h" } else { "ms" }))
        .collect();
    feed(&mut a, &lines.join("\n"), T0);
    let f = a.flush(T0 + 10_000);
    let names: Vec<&str> = f.metrics.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(
        names,
        ["h.max", "h.median", "h.avg", "h.count", "h.95percentile"]
    );
    assert_eq!(one(&f.metrics, "h.max").value, 100.0);
    // Agent nearest rank: median target (100-1)/2 = 49 -> 50th value.
    assert_eq!(one(&f.metrics, "h.median").value, 50.0);
    assert_eq!(one(&f.metrics, "h.avg").value, 50.5);
    let c = one(&f.metrics, "h.count");
    assert_eq!((c.value, c.mtype), (100.0, COUNT));
    // 95th: target (95*100-1)/100 = 94 -> 95th value.
    assert_eq!(one(&f.metrics, "h.95percentile").value, 95.0);
    assert!(
        f.metrics
            .iter()
            .filter(|m| m.metric != "h.count")
            .all(|m| m.mtype == MetricType::Gauge)
    );
}

#[test]
fn histograms_weigh_samples_by_sample_rate() {
    let config = AggregatorConfig {
        histogram_aggregates: vec![
            HistogramAggregate::Min,
            HistogramAggregate::Max,
            HistogramAggregate::Median,
            HistogramAggregate::Avg,
            HistogramAggregate::Sum,
            HistogramAggregate::Count,
        ],
        histogram_percentiles: vec![0.5, 0.99],
        ..AggregatorConfig::default()
    };
    let mut a = Aggregator::new(config, None).unwrap();
    // 1 with weight trunc(1/0.25) = 4, 10 with weight trunc(1/0.3) = 3, 100 with weight 1.
    feed(&mut a, "h:1|h|@0.25\nh:10|ms|@0.3\nh:100|h", T0);
    let f = a.flush(T0 + 10_000);
    assert_eq!(one(&f.metrics, "h.min").value, 1.0);
    assert_eq!(one(&f.metrics, "h.max").value, 100.0);
    assert_eq!(one(&f.metrics, "h.count").value, 8.0);
    assert_eq!(one(&f.metrics, "h.sum").value, 4.0 + 30.0 + 100.0);
    assert_eq!(one(&f.metrics, "h.avg").value, 134.0 / 8.0);
    // Sorted weighted samples: 1 x4, 10 x3, 100 x1. Median target (8-1)/2 = 3
    // -> cumulative 4 > 3 at value 1.
    assert_eq!(one(&f.metrics, "h.median").value, 1.0);
    // p50 target (50*8-1)/100 = 3 -> 1; p99 target (99*8-1)/100 = 7 -> 100.
    assert_eq!(one(&f.metrics, "h.50percentile").value, 1.0);
    assert_eq!(one(&f.metrics, "h.99percentile").value, 100.0);
}

#[test]
fn distributions_become_sketches_weighted_by_sample_rate() {
    let mut a = agg();
    feed(&mut a, "d:1:2:3|d|#a:b\nd:10|d|@0.5|#a:b", T0);
    let f = a.flush(T0 + 10_000);
    assert!(f.metrics.is_empty());
    assert_eq!(f.sketches.len(), 1);
    let s = &f.sketches[0];
    assert_eq!((s.metric.as_str(), s.ts_ms), ("d", T0));
    assert_eq!(s.tags, ["a:b"]);
    assert_eq!(s.sketch.count(), 5);
    assert_eq!(s.sketch.sum(), 1.0 + 2.0 + 3.0 + 20.0);
    assert_eq!((s.sketch.min(), s.sketch.max()), (1.0, 10.0));
}

#[test]
fn timestamped_samples_bypass_buckets() {
    let mut a = agg();
    feed(
        &mut a,
        "g.ts:7|g|#env:dev|T1700000000\ng.ts:8|g|#env:dev|T1700000000\nc.ts:5|c|T1600000000\nc.ts:2|c|@0.5|T1600000000\nc.ts:1|c|T1600000010\nh.ts:3|h|T1600000000",
        T0 + 3_000,
    );
    assert_eq!(a.pending_timestamped(), 3);
    // They are emitted at the next flush whatever the buckets say.
    let f = a.flush(T0 + 3_000);
    let g = one(&f.metrics, "g.ts");
    assert_eq!(
        (g.ts_ms, g.value, g.mtype),
        (1_700_000_000_000, 8.0, MetricType::Gauge)
    );
    let c = rows(&f.metrics, "c.ts");
    assert_eq!(c.len(), 2);
    assert_eq!(
        (c[0].ts_ms, c[0].value, c[0].mtype),
        (1_600_000_000_000, 9.0, COUNT)
    );
    assert_eq!((c[1].ts_ms, c[1].value), (1_600_000_010_000, 1.0));
    // T is ignored on other types: the histogram is bucketed as usual.
    assert!(rows(&f.metrics, "h.ts.max").is_empty());
    let f = a.flush(T0 + 10_000);
    assert_eq!(one(&f.metrics, "h.ts.max").ts_ms, T0);
    // Timestamped counts do not start zero-fill.
    assert!(rows(&a.flush(T0 + 60_000).metrics, "c.ts").is_empty());
}

#[test]
fn counters_zero_fill_until_expiry() {
    let config = AggregatorConfig {
        counter_expiry_secs: 30,
        ..AggregatorConfig::default()
    };
    let mut a = Aggregator::new(config, None).unwrap();
    feed(&mut a, "z:2|c", T0 + 1_000);
    let f = a.flush(T0 + 25_000);
    let r = rows(&f.metrics, "z");
    let got: Vec<(i64, f64)> = r.iter().map(|m| (m.ts_ms - T0, m.value)).collect();
    assert_eq!(got, [(0, 2.0), (10_000, 0.0)]);
    assert!(r.iter().all(|m| m.mtype == COUNT));
    // A long gap: zeros resume where they stopped and end before
    // last sample + 30 s = T0 + 31 s, i.e. the last zero is bucket T0+30s.
    let f = a.flush(T0 + 500_000);
    let got: Vec<i64> = rows(&f.metrics, "z").iter().map(|m| m.ts_ms - T0).collect();
    assert_eq!(got, [20_000, 30_000]);
    assert_eq!(a.live_contexts(), 0, "an expired counter is forgotten");
    assert!(a.flush(T0 + 600_000).is_empty());
    // A new sample revives it, with zero-fill from its own bucket.
    feed(&mut a, "z:1|c", T0 + 600_000);
    let f = a.flush(T0 + 620_000);
    let got: Vec<(i64, f64)> = rows(&f.metrics, "z")
        .iter()
        .map(|m| (m.ts_ms - T0, m.value))
        .collect();
    assert_eq!(got, [(600_000, 1.0), (610_000, 0.0)]);
}

#[test]
fn zero_fill_interleaves_with_data_and_follows_the_last_sample() {
    let config = AggregatorConfig {
        counter_expiry_secs: 20,
        ..AggregatorConfig::default()
    };
    let mut a = Aggregator::new(config, None).unwrap();
    feed(&mut a, "z:1|c", T0);
    feed(&mut a, "z:4|c", T0 + 30_000);
    let f = a.flush(T0 + 100_000);
    let got: Vec<(i64, f64)> = rows(&f.metrics, "z")
        .iter()
        .map(|m| (m.ts_ms - T0, m.value))
        .collect();
    // Zeros while within 20 s of the last sample seen (T0+30s is the
    // last): buckets 10, 20, then data at 30, then 40 (30+20 > 40), none at 50.
    assert_eq!(
        got,
        [
            (0, 1.0),
            (10_000, 0.0),
            (20_000, 0.0),
            (30_000, 4.0),
            (40_000, 0.0)
        ]
    );
}

#[test]
fn zero_fill_can_be_turned_off() {
    let config = AggregatorConfig {
        counter_expiry_secs: 0,
        ..AggregatorConfig::default()
    };
    let mut a = Aggregator::new(config, None).unwrap();
    feed(&mut a, "z:1|c", T0);
    let f = a.flush(T0 + 100_000);
    assert_eq!(rows(&f.metrics, "z").len(), 1);
    assert_eq!(a.live_contexts(), 0);
}

#[test]
fn flush_all_emits_the_open_bucket_at_shutdown() {
    let mut a = agg();
    feed(&mut a, "c:1|c\ng:2|g\nd:3|d\nh:4|h\ns:x|s", T0 + 5_000);
    feed(&mut a, "c:1|c", T0 + 12_000);
    let f = a.flush_all(T0 + 12_000);
    let c = rows(&f.metrics, "c");
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!((c[0].ts_ms, c[1].ts_ms), (T0, T0 + 10_000));
    assert_eq!(one(&f.metrics, "g").value, 2.0);
    assert_eq!(one(&f.metrics, "s").value, 1.0);
    assert_eq!(one(&f.metrics, "h.max").value, 4.0);
    assert_eq!(f.sketches.len(), 1);
    // The current bucket was emitted: a later flush must not zero it.
    let f = a.flush(T0 + 20_000);
    assert!(rows(&f.metrics, "c").iter().all(|m| m.ts_ms > T0 + 10_000));
}

#[test]
fn contexts_normalise_names_tags_and_hosts() {
    let mut a = Aggregator::new(AggregatorConfig::default(), Some("Web-1")).unwrap();
    feed(
        &mut a,
        "my-app.req:1|c|#B:2,a:1\nmy-app.req:1|c|#a:1,b:2,a:1\nmy-app.req:1|c|#a:1,b:2,host:Other\nmy-app.req:1|c|#a:1,b:2,host:\nmy-app.req:1|g|#a:1,b:2",
        T0,
    );
    let f = a.flush(T0 + 10_000);
    let counts = rows(&f.metrics, "my_app.req");
    let mut got: Vec<(Vec<String>, f64, bool)> = counts
        .iter()
        .map(|m| (m.tags.clone(), m.value, m.mtype == MetricType::Gauge))
        .collect();
    got.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (t(&["a:1", "b:2"]), 1.0, false),
            (t(&["a:1", "b:2", "host:other"]), 1.0, false),
            (t(&["a:1", "b:2", "host:web-1"]), 1.0, true),
            (t(&["a:1", "b:2", "host:web-1"]), 2.0, false),
        ]
    );
}

#[test]
fn the_context_cap_drops_and_counts_new_contexts_only() {
    let config = AggregatorConfig {
        max_contexts: 2,
        counter_expiry_secs: 0,
        ..AggregatorConfig::default()
    };
    let mut a = Aggregator::new(config, None).unwrap();
    feed(&mut a, "a:1|g\nb:1|g", T0);
    let s = match parse_datagram(b"c:1:2:3|h").next() {
        Some(Ok(Message::Metric(s))) => s,
        _ => unreachable!(),
    };
    assert_eq!(a.add(&s, T0), Err(DropReason::ContextLimit));
    assert_eq!(a.dropped(DropReason::ContextLimit), 3);
    // Known contexts still take samples.
    feed(&mut a, "a:5|g", T0 + 1);
    assert_eq!(a.live_contexts(), 2);
    let f = a.flush(T0 + 10_000);
    assert_eq!(one(&f.metrics, "a").value, 5.0);
    assert!(rows(&f.metrics, "c.max").is_empty());
    // The flush freed both contexts: room again.
    assert_eq!(a.live_contexts(), 0);
    assert_eq!(a.add(&s, T0 + 10_000), Ok(()));
}

#[test]
fn timestamped_points_are_capped() {
    let config = AggregatorConfig {
        max_timestamped_points: 2,
        ..AggregatorConfig::default()
    };
    let mut a = Aggregator::new(config, None).unwrap();
    feed(&mut a, "t:1|g|T100\nt:1|g|T200\nt:1|g|T300\nt:2|g|T100", T0);
    assert_eq!(a.dropped(DropReason::TimestampedLimit), 1);
    let f = a.flush(T0);
    let r = rows(&f.metrics, "t");
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].ts_ms, r[0].value), (100_000, 2.0));
}

#[test]
fn counts_that_overflow_are_dropped_not_emitted() {
    let mut a = agg();
    feed(&mut a, "o:1e308|c\no:1e308|c", T0);
    let f = a.flush(T0 + 10_000);
    assert!(rows(&f.metrics, "o").is_empty());
    assert_eq!(a.dropped(DropReason::NonFinite), 1);
    let mut a = agg();
    feed(&mut a, "o:1e308|c|@0.01", T0);
    assert_eq!(a.dropped(DropReason::NonFinite), 1);
}

#[test]
fn the_raw_cache_stays_bounded() {
    let config = AggregatorConfig {
        max_contexts: 10,
        ..AggregatorConfig::default()
    };
    let mut a = Aggregator::new(config, None).unwrap();
    // Many raw spellings of one context (tag order and case).
    for i in 0..20_000 {
        let line = format!("m:1|g|#a:{},b:1,A:{}", i % 3, i);
        feed(&mut a, &line, T0);
        if i % 1000 == 999 {
            a.flush(T0 + 10_000 * (i / 1000 + 1));
        }
    }
    assert!(a.raw_cache_len() <= 4096, "{}", a.raw_cache_len());
}

/// Spec §12.3: what the datadogpy capture must produce after one flush.
#[test]
fn datadogpy_fixture_acceptance() {
    let mut a = agg();
    for d in common::fixture("datadogpy_dogstatsd.datagrams.json") {
        feed(&mut a, std::str::from_utf8(&d).unwrap(), T0 + 2_000);
    }
    let f: Flush = a.flush(T0 + 10_000);
    let count = rows(&f.metrics, "example.count");
    let total: f64 = count.iter().map(|m| m.value).sum();
    assert!((total - 2.000003).abs() < 1e-9, "{total}");
    assert_eq!(one(&f.metrics, "example.gauge").value, 42.5);
    assert_eq!(one(&f.metrics, "example.set").value, 1.0);
    assert_eq!(one(&f.metrics, "example.histogram.max").value, 12.5);
    assert_eq!(one(&f.metrics, "example.timing.95percentile").value, 250.0);
    let dist = f
        .sketches
        .iter()
        .find(|s| s.metric == "example.distribution")
        .unwrap();
    let p50 = dist.sketch.quantile(0.5).unwrap();
    assert!((p50 - 7.0).abs() / 7.0 < 0.01, "{p50}");
    let ts = one(&f.metrics, "example.gauge.ts");
    assert_eq!((ts.ts_ms, ts.value), (1_700_000_000_000, 7.0));
    assert_eq!(one(&f.metrics, "example.count.ts").value, 5.0);
    assert_eq!(one(&f.metrics, "ns.with.cid").tags, ["a:b", "team:core"]);
    assert_eq!(one(&f.metrics, "agg.set").value, 2.0);
    assert_eq!(one(&f.metrics, "agg.hist.count").value, 5.0);
    assert_eq!(one(&f.metrics, "agg.hist.median").value, 2.0);
    let agg_dist = f.sketches.iter().find(|s| s.metric == "agg.dist").unwrap();
    assert_eq!(agg_dist.sketch.count(), 5);
    let metrics = one(&f.metrics, "datadog.dogstatsd.client.metrics");
    assert_eq!(metrics.value, 14.0);
    assert_eq!(
        metrics.tags,
        ["client:py", "client_transport:udp", "client_version:0.56.0"]
    );
}

#[test]
fn ddtrace_fixture_distributions() {
    let mut a = agg();
    for d in common::fixture("ddtrace_runtime_metrics_dogstatsd.datagrams.json") {
        feed(&mut a, std::str::from_utf8(&d).unwrap(), T0);
    }
    let f = a.flush(T0 + 10_000);
    assert_eq!(f.sketches.len(), 5);
    let gen0 = f
        .sketches
        .iter()
        .find(|s| s.metric == "runtime.python.gc.count.gen0")
        .unwrap();
    assert_eq!(gen0.sketch.count(), 1);
    assert!(gen0.tags.contains(&"lang_interpreter:cpython".to_string()));
    assert_eq!(gen0.tags.len(), 12);
    assert_eq!(f.metrics.len(), 11);
}
