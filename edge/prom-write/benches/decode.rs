//! Decoding a remote write body: the crate's hand-written reader against
//! prost's derive over the same messages, and what validation and snappy
//! add. The body has the shape of `whippet-intake-bench`'s remote write
//! bodies: 1 000 series of 6 labels (`__name__` dotted, `host`, `az`,
//! `env`, `region`, `service`), 10 samples each, one per 10 s.
//! Figures and their date: the module doc of `src/decode.rs` and
//! `benches/RESULTS.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use std::hint::black_box;
use whippet_prom_write::{Limits, decode, decompress, encode, validate};

/// prost's derive of the same messages (`prompb`).
mod prompb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }
    #[derive(Clone, Copy, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

const SERIES: usize = 1_000;
const SAMPLES: usize = 10;

fn body() -> Vec<u8> {
    let metrics = [
        "system.cpu.user",
        "system.mem.used",
        "system.net.bytes_rcvd",
        "app.request.latency",
    ];
    let mut out = Vec::new();
    for i in 0..SERIES {
        let host = format!("host-{:05}", i / 4);
        let az = format!("us-east-1{}", (b'a' + (i % 3) as u8) as char);
        let labels = [
            ("__name__", metrics[i % metrics.len()]),
            ("az", az.as_str()),
            ("env", "prod"),
            ("host", host.as_str()),
            ("region", "us-east-1"),
            ("service", "checkout"),
        ];
        let samples: Vec<(i64, f64)> = (0..SAMPLES)
            .map(|k| {
                (
                    1_795_000_000_000 + k as i64 * 10_000,
                    (i * 7 + k) as f64 * 0.25,
                )
            })
            .collect();
        out.extend(encode::ld(1, &encode::time_series(&labels, &samples)));
    }
    out
}

fn bench(c: &mut Criterion) {
    let proto = body();
    let compressed = encode::snappy(&proto);
    let limits = Limits::default();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements((SERIES * SAMPLES) as u64));
    g.bench_function("hand", |b| {
        b.iter(|| {
            let r = decode(black_box(&proto), &limits).unwrap();
            black_box(r.sample_count())
        })
    });
    g.bench_function("hand_reused", |b| {
        let mut req = whippet_prom_write::Request::default();
        b.iter(|| {
            whippet_prom_write::decode::decode_into(black_box(&proto), &limits, &mut req).unwrap();
            black_box(req.sample_count())
        })
    });
    g.bench_function("hand_and_validate", |b| {
        b.iter(|| {
            let r = decode(black_box(&proto), &limits).unwrap();
            let mut tags = 0;
            for s in r.iter() {
                tags += validate(&s, &limits).unwrap().labels.len();
            }
            black_box(tags)
        })
    });
    g.bench_function("prost", |b| {
        b.iter(|| {
            let r = prompb::WriteRequest::decode(black_box(&proto[..])).unwrap();
            black_box(r.timeseries.len())
        })
    });
    g.bench_function("snappy_then_hand", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            decompress(black_box(&compressed), &limits, &mut buf).unwrap();
            let r = decode(&buf, &limits).unwrap();
            black_box(r.sample_count())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
