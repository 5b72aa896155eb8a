//! How long the hosts list takes on a mid-sized fleet: 5 000 hosts of 20
//! metrics each (100 000 series, five tags per series as in
//! `whippet-fleetgen`), with a partition of two days ago, today's merged
//! part, a fresh flushed part and points still in the head; a tenth of the
//! hosts went silent two days ago (listed with `from=0` only). Ignored by default
//! (it builds the fleet first); run it optimised:
//!
//! ```text
//! cargo test -p whippet --release hosts::scale -- --ignored --nocapture
//! ```
//!
//! Results (release build, 2 cores shared with other builds):
//! - 2026-11-26: 23-30 ms per list whatever the query (4 500 live hosts in
//!   the default window; 5 000 with `from=0`, walking back to the
//!   two-day-old partition; a page of 1 000 with its 363 KB of JSON: 30 ms).
//!   Of that, `tag_groups` 10 ms and `newest_points` over 100 000 series
//!   10 ms. Building the fleet: 0.55 s.

use std::time::Instant;

use whippet_tsdb::{
    Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesId, SeriesKey, TagSet,
};

use super::inventory::from_series;
use super::listing::ListQuery;
use super::{host_id, host_json};

/// 2026-11-26T12:00:00Z.
const NOW: i64 = 1_795_694_400_000;
const HOSTS: usize = 5_000;
const METRICS: [&str; 20] = [
    "system.cpu.user",
    "system.cpu.system",
    "system.cpu.iowait",
    "system.cpu.idle",
    "system.mem.used",
    "system.mem.free",
    "system.load.1",
    "system.load.5",
    "system.load.15",
    "system.io.r_s",
    "system.io.w_s",
    "system.net.bytes_rcvd",
    "system.net.bytes_sent",
    "system.net.packets_in.count",
    "system.net.packets_out.count",
    "system.uptime",
    "system.disk.free",
    "system.disk.in_use",
    "system.fs.inodes.free",
    "datadog.agent.running",
];

fn fleet(dir: &std::path::Path) -> (Engine, Vec<SeriesId>) {
    let cfg = EngineConfig {
        clock: Clock::manual(NOW),
        background_tasks: false,
        ..EngineConfig::default()
    };
    let e = Engine::open(dir, cfg).unwrap().0;
    let envs = ["prod", "staging", "dev"];
    let regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"];
    let mut ids = Vec::with_capacity(HOSTS * METRICS.len());
    for h in 0..HOSTS {
        let region = regions[h % 4];
        let tags = [
            format!("host:i-{h:016x}"),
            format!("env:{}", envs[h % 3]),
            format!("region:{region}"),
            format!("az:{region}{}", ["a", "b", "c"][h % 3]),
            format!("service:svc-{}", h % 20),
        ];
        for m in METRICS {
            let key = SeriesKey::float(OrgId(1), m, TagSet::new(tags.iter().cloned()));
            ids.push(e.resolve(&key, MetricType::Gauge).unwrap());
        }
    }
    // Every series at `ts`, or only those of live hosts: a tenth of the
    // hosts went silent two days ago.
    let at = |ts: i64, only_live: bool| -> Vec<FloatPoint> {
        ids.iter()
            .enumerate()
            .filter(|(i, _)| !only_live || !(i / METRICS.len()).is_multiple_of(10))
            .map(|(_, &series)| FloatPoint {
                series,
                ts,
                value: 1.5,
            })
            .collect()
    };
    // Two days ago, then the last hour in 10-minute steps, merged; then a
    // fresh part, then the head.
    e.append_floats(&at(NOW - 2 * 86_400_000, false)).unwrap();
    for k in (1..=6).rev() {
        e.append_floats(&at(NOW - k * 600_000 - 60_000, true))
            .unwrap();
    }
    e.flush().unwrap();
    e.compact().unwrap();
    e.append_floats(&at(NOW - 30_000, true)).unwrap();
    e.flush().unwrap();
    e.append_floats(&at(NOW - 10_000, true)).unwrap();
    (e, ids)
}

#[test]
#[ignore = "a measurement: builds 100 000 series first; run with --release"]
fn five_thousand_hosts_list_in_well_under_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (e, ids) = fleet(dir.path());
    eprintln!("fleet of {} series built in {:?}", ids.len(), t.elapsed());
    let q = |pairs: &[(&str, &str)]| {
        ListQuery::parse(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            NOW,
        )
        .unwrap()
    };
    let cases = [
        ("default page of 100", q(&[])),
        (
            "page of 1000 by last report",
            q(&[("count", "1000"), ("sort_field", "last_reported_time")]),
        ),
        ("filter env:prod", q(&[("filter", "env:prod")])),
        ("from 0 (every host, 3 days back)", q(&[("from", "0")])),
    ];
    let mut worst = std::time::Duration::ZERO;
    for (what, query) in &cases {
        for round in 0..3 {
            let t = Instant::now();
            let hosts = from_series(&e, OrgId(1), query.since_ms);
            let gathered = t.elapsed();
            let (page, total) = query.page(&hosts, |h| host_id(OrgId(1), &h.name), NOW);
            let body = serde_json::Value::Array(
                page.iter().map(|h| host_json(OrgId(1), h, NOW)).collect(),
            )
            .to_string();
            let all = t.elapsed();
            worst = worst.max(all);
            eprintln!(
                "{what} (round {round}): {} hosts, {total} matching, {} returned, {} body bytes: gather {gathered:?}, total {all:?}",
                hosts.len(),
                page.len(),
                body.len()
            );
        }
    }
    // One tag-group pass and one newest-point pass, apart.
    let t = Instant::now();
    let groups = e.tag_groups(
        OrgId(1),
        "host",
        whippet_tsdb::GroupLimits {
            max_tags: 100,
            max_metrics: 1000,
        },
    );
    eprintln!("tag_groups: {} groups in {:?}", groups.len(), t.elapsed());
    let t = Instant::now();
    let newest = e.newest_points(OrgId(1), &ids, NOW - 3 * 3_600_000);
    eprintln!(
        "newest_points: {} series ({} with a point) in {:?}",
        ids.len(),
        newest.iter().flatten().count(),
        t.elapsed()
    );
    if !cfg!(debug_assertions) {
        assert!(worst.as_millis() < 500, "slowest list took {worst:?}");
    }
}
