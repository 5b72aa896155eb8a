//! A datagram of arbitrary bytes is parsed and aggregated, then flushed:
//! nothing panics, every flushed value is finite, every flushed name and
//! tag obeys the normalisation rules, and the context cap holds.
//!
//! Input layout: the first 8 bytes (little endian) are the arrival clock in
//! milliseconds (when even, shifted right 16 bits into a range where
//! buckets and zero-fill are reached; when odd, used as it is, extremes
//! included); the rest is the datagram.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whippet_dogstatsd::{Aggregator, AggregatorConfig, Message, parse_datagram};

const MAX_CONTEXTS: usize = 32;

fuzz_target!(|data: &[u8]| {
    let (clock, datagram) = if data.len() >= 8 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&data[..8]);
        {
            // Even: a clock in a range where buckets and zero-fill are
            // reached; odd: any i64, extremes included.
            let raw = i64::from_le_bytes(w);
            (if raw & 1 == 0 { raw >> 16 } else { raw }, &data[8..])
        }
    } else {
        (0, data)
    };
    let config = AggregatorConfig {
        max_contexts: MAX_CONTEXTS,
        max_timestamped_points: 64,
        counter_expiry_secs: 60,
        ..AggregatorConfig::default()
    };
    let mut agg = Aggregator::new(config, Some("fuzz-host")).unwrap();
    for (i, msg) in parse_datagram(datagram).enumerate() {
        match msg {
            Ok(Message::Metric(sample)) => {
                // Spread the lines over a few buckets.
                let now = clock.saturating_add((i as i64 % 4) * 7_000);
                let _ = agg.add(&sample, now);
                assert!(agg.live_contexts() <= MAX_CONTEXTS);
            }
            Ok(Message::Event(e)) => assert!(!e.title.is_empty()),
            Ok(Message::ServiceCheck(c)) => assert!(!c.name.is_empty()),
            Err(_) => {}
        }
    }
    let mut flushes = vec![agg.flush(clock.saturating_add(20_000))];
    flushes.push(agg.flush(clock.saturating_add(120_000)));
    flushes.push(agg.flush_all(clock.saturating_add(130_000)));
    for f in &flushes {
        for m in &f.metrics {
            assert!(m.value.is_finite(), "{m:?}");
            assert!(m.metric.as_bytes()[0].is_ascii_alphabetic(), "{m:?}");
            assert!(
                m.metric
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'),
                "{m:?}"
            );
            assert!(
                m.tags.windows(2).all(|w| w[0] < w[1]),
                "sorted, unique: {m:?}"
            );
            assert!(m.tags.iter().all(|t| !t.is_empty()));
        }
        for s in &f.sketches {
            assert!(s.sketch.count() > 0);
        }
    }
    assert_eq!(agg.pending_timestamped(), 0);
});
