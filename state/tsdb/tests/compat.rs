//! Format compatibility: a data directory written by format version 1 (a
//! catalog, parts in two partitions, an unflushed WAL segment) is committed
//! under `testdata/v1/` and must stay readable by every later build.
//!
//! To regenerate it (only when the format version changes, into a new
//! folder): `WHIPPET_WRITE_FIXTURE=1 cargo test -p whippet-tsdb --test compat`.

use std::path::{Path, PathBuf};

use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{
    Agg, Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, ReadBuffers, Selector,
    SeriesKey, Sketch, SketchPoint, TagSet,
};

/// 2026-11-26T00:00:00Z.
const NOW: i64 = 1_795_651_200_000;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v1")
}

fn config() -> EngineConfig {
    EngineConfig {
        clock: Clock::manual(NOW),
        background_tasks: false,
        retention_ms: 100 * 365 * DAY_MS,
        ..EngineConfig::default()
    }
}

fn gauge_value(i: i64) -> f64 {
    (i * 37 % 1000) as f64 / 10.0
}

fn write_fixture(dir: &Path) {
    let (e, _) = Engine::open(dir, config()).unwrap();
    let g = e
        .resolve(
            &SeriesKey::float(
                OrgId(1),
                "system.cpu.user",
                TagSet::new(["host:web-1", "env:prod"]),
            ),
            MetricType::Gauge,
        )
        .unwrap();
    let c = e
        .resolve(
            &SeriesKey::float(OrgId(1), "requests", TagSet::new(["service:api"])),
            MetricType::Count { interval_secs: 10 },
        )
        .unwrap();
    let d = e
        .resolve(
            &SeriesKey::sketch(OrgId(2), "latency", TagSet::new(["service:api"])),
            MetricType::Distribution,
        )
        .unwrap();
    let mut pts = Vec::new();
    for i in 0..200 {
        pts.push(FloatPoint {
            series: g,
            ts: NOW - DAY_MS - 1_000_000 + i * 10_000,
            value: gauge_value(i),
        });
        pts.push(FloatPoint {
            series: c,
            ts: NOW - DAY_MS - 1_000_000 + i * 10_000,
            value: (i * 3) as f64,
        });
    }
    e.append_floats(&pts).unwrap();
    let mut s = Sketch::new();
    for v in [1.0, 2.0, 3.0, 1000.0] {
        s.insert(v);
    }
    e.append_sketches(&[SketchPoint {
        series: d,
        ts: NOW - 50_000,
        sketch: s,
    }])
    .unwrap();
    e.flush().unwrap();
    e.compact().unwrap();
    // Left in the WAL, unflushed:
    e.append_floats(&[FloatPoint {
        series: g,
        ts: NOW - 10_000,
        value: 99.5,
    }])
    .unwrap();
    e.close().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn version_1_data_directory_stays_readable() {
    if std::env::var_os("WHIPPET_WRITE_FIXTURE").is_some() {
        let dir = fixture_dir();
        let _ = std::fs::remove_dir_all(&dir);
        write_fixture(&dir);
        std::fs::remove_file(dir.join("LOCK")).unwrap();
    }
    // Work on a copy: opening writes a LOCK and a fresh WAL segment.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture_dir(), tmp.path());
    let (e, report) = Engine::open(tmp.path(), config()).unwrap();
    assert!(report.damage.is_empty(), "{:?}", report.damage);
    assert_eq!(report.series, 3);
    assert_eq!(
        report.parts, 3,
        "one part per (org, day): org 1 spans two days"
    );
    assert_eq!(report.wal_points, 1);

    let view = e
        .read(
            OrgId(1),
            &Selector::Metric("system.cpu.user".into()),
            0,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(
        view.series()[0].key.tags,
        TagSet::new(["env:prod", "host:web-1"])
    );
    let mut buf = ReadBuffers::default();
    let (ts, vals) = view.floats(0, &mut buf).unwrap();
    assert_eq!(ts.len(), 201);
    for i in 0..200 {
        assert_eq!(ts[i as usize], NOW - DAY_MS - 1_000_000 + i * 10_000);
        assert_eq!(vals[i as usize], gauge_value(i));
    }
    assert_eq!((ts[200], vals[200]), (NOW - 10_000, 99.5));

    let view = e
        .read(OrgId(1), &Selector::Metric("requests".into()), 0, i64::MAX)
        .unwrap();
    assert_eq!(
        view.series()[0].mtype,
        MetricType::Count { interval_secs: 10 }
    );
    let sum = view.aggregate(DAY_MS * 400 * 365, Agg::Sum, 1).unwrap();
    assert_eq!(
        sum[0].iter().filter(|v| !v.is_nan()).sum::<f64>(),
        (0..200).map(|i| (i * 3) as f64).sum::<f64>()
    );

    let view = e
        .read(OrgId(2), &Selector::Tag("service:api".into()), 0, i64::MAX)
        .unwrap();
    let (ts, sk) = view.sketches(0, &mut buf).unwrap();
    assert_eq!(ts, [NOW - 50_000]);
    assert_eq!(sk[0].count(), 4);
    assert_eq!(sk[0].max(), 1000.0);
    assert!(e.verify().errors.is_empty());
}
