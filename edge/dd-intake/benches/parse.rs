//! Intake parsing throughput, in points per second.
//!
//! Bodies look like what an Agent or a busy library sends: 1000 series from
//! 40 metric names, each with a host and 8 tags (env, service, version,
//! availability zone, pod, ...), values with decimals, timestamps 10 s
//! apart. Two shapes: 10 points per series (libraries batching) and 1 point
//! per series (the Agent's flush, where per-series cost dominates).
//!
//! Run: `cargo bench -p whippet-dd-intake --bench parse`. Dated results are
//! kept in `benches/RESULTS.md`.

use std::hint::black_box;
use std::io::Write;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use whippet_dd_intake::body::decode_body;
use whippet_dd_intake::proto::{MetricPayload, MetricPoint, MetricSeries, Resource};
use whippet_dd_intake::{
    parse_series_v1, parse_series_v2_json, parse_series_v2_protobuf,
    parse_series_v2_protobuf_cached,
};

const SERIES: usize = 1000;

const METRICS: [&str; 8] = [
    "system.cpu.user",
    "system.mem.used",
    "system.disk.in_use",
    "system.net.bytes_rcvd",
    "http.requests",
    "http.request.duration",
    "jvm.heap_memory",
    "postgresql.rows_fetched",
];

/// A small deterministic generator (64-bit LCG, Knuth's constants), so the
/// body is the same on every run and machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Series {
    metric: String,
    host: String,
    tags: Vec<String>,
    kind: u8,
    points: Vec<(i64, f64)>,
}

fn fleet(points_per_series: usize) -> Vec<Series> {
    let mut r = Lcg(42);
    (0..SERIES)
        .map(|i| {
            let metric = format!("{}.{}", METRICS[i % METRICS.len()], i % 5);
            let host = format!("ip-10-0-{}-{}.ec2.internal", r.below(16), r.below(256));
            let tags = vec![
                "env:prod".to_owned(),
                format!("service:api-{}", r.below(20)),
                format!("version:1.{}.{}", r.below(10), r.below(30)),
                format!(
                    "availability-zone:us-east-1{}",
                    ["a", "b", "c"][r.below(3) as usize]
                ),
                format!("pod_name:api-{:x}-{:x}", r.next(), r.below(100_000)),
                format!("kube_namespace:team-{}", r.below(8)),
                "team:core".to_owned(),
                format!("instance-type:m5.{}xlarge", 1 + r.below(8)),
            ];
            let start = 1_795_644_000 + r.below(60) as i64;
            let points = (0..points_per_series)
                .map(|j| (start + 10 * j as i64, r.below(10_000_000) as f64 / 1000.0))
                .collect();
            Series {
                metric,
                host,
                tags,
                kind: (i % 3) as u8,
                points,
            }
        })
        .collect()
}

fn v1_json(fleet: &[Series]) -> Vec<u8> {
    let series: Vec<serde_json::Value> = fleet
        .iter()
        .map(|s| {
            serde_json::json!({
                "metric": s.metric, "host": s.host, "tags": s.tags,
                "type": (["gauge", "count", "rate"][usize::from(s.kind)]), "interval": 10,
                "points": s.points.iter().map(|&(t, v)| serde_json::json!([t, v])).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "series": series })).unwrap()
}

fn v2_json(fleet: &[Series]) -> Vec<u8> {
    let series: Vec<serde_json::Value> = fleet
        .iter()
        .map(|s| {
            serde_json::json!({
                "metric": s.metric, "tags": s.tags, "type": ([3, 1, 2][usize::from(s.kind)]),
                "interval": 10, "resources": [{"type": "host", "name": s.host}],
                "points": s.points.iter()
                    .map(|&(t, v)| serde_json::json!({"timestamp": t, "value": v}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "series": series })).unwrap()
}

fn v2_protobuf(fleet: &[Series]) -> Vec<u8> {
    MetricPayload {
        series: fleet
            .iter()
            .map(|s| MetricSeries {
                resources: vec![Resource {
                    r#type: b"host".to_vec(),
                    name: s.host.clone().into_bytes(),
                }],
                metric: s.metric.clone().into_bytes(),
                tags: s.tags.iter().map(|t| t.clone().into_bytes()).collect(),
                points: s
                    .points
                    .iter()
                    .map(|&(timestamp, value)| MetricPoint { value, timestamp })
                    .collect(),
                r#type: [3, 1, 2][usize::from(s.kind)],
                interval: 10,
                ..Default::default()
            })
            .collect(),
    }
    .encode_to_vec()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    for per in [10usize, 1] {
        let fleet = fleet(per);
        let points = (SERIES * per) as u64;
        let mut g = c.benchmark_group(format!("parse/{SERIES}x{per}"));
        g.throughput(Throughput::Elements(points));

        let v1 = v1_json(&fleet);
        g.bench_function(format!("v1_json ({} KB)", v1.len() / 1000), |b| {
            b.iter(|| parse_series_v1(black_box(&v1)).unwrap())
        });

        let v2 = v2_json(&fleet);
        g.bench_function(format!("v2_json ({} KB)", v2.len() / 1000), |b| {
            b.iter(|| parse_series_v2_json(black_box(&v2)).unwrap())
        });

        let pb = v2_protobuf(&fleet);
        g.bench_function(format!("v2_protobuf ({} KB)", pb.len() / 1000), |b| {
            b.iter(|| parse_series_v2_protobuf(black_box(&pb)).unwrap())
        });

        // The server's steady state: every series already in its cache.
        let learned: std::collections::HashMap<u128, usize> =
            parse_series_v2_protobuf_cached(&pb, |_| None::<usize>)
                .unwrap()
                .new_series
                .rows
                .iter()
                .enumerate()
                .map(|(i, s)| (s.ident, i))
                .collect();
        g.bench_function("v2_protobuf_cached", |b| {
            b.iter(|| {
                parse_series_v2_protobuf_cached(black_box(&pb), |id| learned.get(&id).copied())
                    .unwrap()
            })
        });

        // What the HTTP layer does for an Agent payload: inflate, then parse.
        let pb_z = zlib(&pb);
        g.bench_function(
            format!("v2_protobuf+deflate ({} KB)", pb_z.len() / 1000),
            |b| {
                b.iter(|| {
                    let body = decode_body(Some("deflate"), black_box(&pb_z), 64 << 20).unwrap();
                    parse_series_v2_protobuf(&body).unwrap()
                })
            },
        );

        let v1_z = zlib(&v1);
        g.bench_function(format!("v1_json+deflate ({} KB)", v1_z.len() / 1000), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let body = decode_body(Some("deflate"), black_box(&v1_z), 64 << 20).unwrap();
                    parse_series_v1(&body).unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
