//! In-process throughput of the DogStatsD hot path, in metric lines per
//! second: parsing alone, and parsing plus aggregation (context lookup and
//! bucket update), with one flush per million lines.
//!
//! Input: 100 000 lines over 10 000 contexts with a realistic type mix (40 %
//! counts, 30 % gauges, 15 % histograms, 10 % distributions, 5 % sets) and
//! 3–4 tags each, packed into 1 432-byte datagrams like a buffered client.
//!
//! Run: `cargo bench -p whippet-dogstatsd --bench throughput`.
//! Results are kept in `benches/RESULTS.md`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use whippet_dogstatsd::{Aggregator, AggregatorConfig, Message, parse_datagram};

/// Lines in the input.
const LINES: usize = 100_000;
/// Distinct contexts in the input.
const CONTEXTS: usize = 10_000;
/// Passes over the input per flush in the aggregation benchmark.
const PASSES_PER_FLUSH: usize = 10;
/// datadogpy's UDP datagram limit.
const DATAGRAM_BYTES: usize = 1432;

/// One line of the workload.
pub fn line(i: usize) -> String {
    let ctx = i % CONTEXTS;
    let tags = format!(
        "env:prod,service:svc{},version:1.{},pod:pod-{}",
        ctx % 20,
        ctx % 3,
        ctx % 500
    );
    let name = format!("app.module{}.op{}", ctx % 50, ctx / 50);
    match i % 20 {
        0..=7 => format!("{name}.count:{}|c|#{tags}", i % 7 + 1),
        8..=13 => format!("{name}.gauge:{}.5|g|#{tags}", i % 1000),
        14..=16 => format!("{name}.latency:{}|ms|@0.5|#{tags}", i % 300),
        17..=18 => format!("{name}.size:{}|d|#{tags}", i % 4096),
        _ => format!("{name}.users:user-{}|s|#{tags}", i % 97),
    }
}

/// The workload packed into datagrams.
fn datagrams() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(DATAGRAM_BYTES);
    for i in 0..LINES {
        let l = line(i);
        if cur.len() + l.len() + 1 > DATAGRAM_BYTES {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(l.as_bytes());
        cur.push(b'\n');
    }
    out.push(cur);
    out
}

fn bench(c: &mut Criterion) {
    let datagrams = datagrams();
    let mut group = c.benchmark_group("dogstatsd");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);

    group.bench_function("parse", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &datagrams {
                for m in parse_datagram(d) {
                    if let Ok(Message::Metric(s)) = m {
                        n += black_box(&s).name.len();
                    }
                }
            }
            n
        })
    });

    // One bucket's worth: the input ten times (1 M lines, 100 samples per
    // context), then the flush that closes the bucket, as a server taking
    // 100 k lines/s would do every 10 s. Faster intake only spreads the
    // flush over more lines.
    group.throughput(Throughput::Elements((LINES * PASSES_PER_FLUSH) as u64));
    let mut agg = Aggregator::new(AggregatorConfig::default(), Some("bench-host")).unwrap();
    let mut now: i64 = 1_700_000_000_000;
    group.bench_function("parse_aggregate_flush", |b| {
        b.iter(|| {
            for _ in 0..PASSES_PER_FLUSH {
                for d in &datagrams {
                    for m in parse_datagram(d) {
                        if let Ok(Message::Metric(s)) = m {
                            let _ = agg.add(&s, now);
                        }
                    }
                }
            }
            now += 10_000;
            black_box(agg.flush(now).len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
