//! The fuzz target's checks, run in CI over its seed files
//! (`fuzz/seeds/datagram/`), so the invariants it asserts stay true without
//! a fuzzing run. Regressions found by fuzzing get their own test here too.

use whippet_dogstatsd::{Aggregator, AggregatorConfig, Message, parse_datagram};

const MAX_CONTEXTS: usize = 32;

/// The body of `fuzz/fuzz_targets/datagram.rs`.
fn check(data: &[u8]) {
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
                let now = clock.saturating_add((i as i64 % 4) * 7_000);
                let _ = agg.add(&sample, now);
                assert!(agg.live_contexts() <= MAX_CONTEXTS);
            }
            Ok(Message::Event(e)) => assert!(!e.title.is_empty()),
            Ok(Message::ServiceCheck(c)) => assert!(!c.name.is_empty()),
            Err(_) => {}
        }
    }
    let flushes = [
        agg.flush(clock.saturating_add(20_000)),
        agg.flush(clock.saturating_add(120_000)),
        agg.flush_all(clock.saturating_add(130_000)),
    ];
    for f in &flushes {
        for m in &f.metrics {
            assert!(m.value.is_finite(), "{m:?}");
            assert!(m.metric.as_bytes()[0].is_ascii_alphabetic(), "{m:?}");
            assert!(m.tags.windows(2).all(|w| w[0] < w[1]), "{m:?}");
        }
    }
    assert_eq!(agg.pending_timestamped(), 0);
}

#[test]
fn fuzz_seeds_pass_the_fuzz_checks() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/datagram");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        check(&data);
        // Every prefix and suffix too: cheap, and closer to what the fuzzer
        // mutates.
        for cut in (0..data.len()).step_by(7) {
            check(&data[..cut]);
            check(&data[cut..]);
        }
        n += 1;
    }
    assert!(n >= 20, "only {n} seeds");
}

#[test]
fn extreme_clocks_do_not_overflow() {
    let line = b"c:1|c\ng:1|g\nh:1|h\nd:1|d\ns:1|s\nt:1|c|T9223372036854775";
    for clock in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        let mut data = clock.to_le_bytes().to_vec();
        data.extend_from_slice(line);
        check(&data);
        let mut agg = Aggregator::new(AggregatorConfig::default(), None).unwrap();
        for m in parse_datagram(line) {
            if let Ok(Message::Metric(s)) = m {
                let _ = agg.add(&s, clock);
            }
        }
        let _ = agg.flush(clock);
        let _ = agg.flush_all(clock);
    }
}
