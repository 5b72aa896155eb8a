//! The catalog file on disk (`docs/format/catalog.md`): snapshots and the
//! log behind them, compaction, repair, old versions, and its size.
//!
//! The version 2 fixture (`testdata/catalog-v2/catalog.wcat`: a snapshot
//! and log records behind it) is written by
//! `WHIPPET_WRITE_FIXTURE=1 cargo test -p whippet-tsdb --test catalog`, only
//! when the format version changes (into a new folder).

use std::path::{Path, PathBuf};

use whippet_fleetgen::{FleetSpec, describe};
use whippet_tsdb::catalog::{CATALOG_VERSION, COMPACT_MIN_LOG_BYTES, Catalog};
use whippet_tsdb::wal::record::SeriesDef;
use whippet_tsdb::{
    Engine, EngineConfig, Error, MetricType, OrgId, SeriesId, SeriesKey, TagSet, ValueKind,
};

/// Key `i` of a fleet of `n` series: metric `i % 20` of host `i / 20`, with
/// the host, env, region, az and service tags of `whippet-fleetgen`.
fn fleet_key(n: usize, i: usize) -> SeriesKey {
    let spec = FleetSpec {
        series: n,
        ..FleetSpec::full()
    };
    let d = describe(&spec, i);
    SeriesKey::float(OrgId(1 + (i % 3) as u32), d.metric, TagSet::new(d.tags))
}

/// A type for series `i` that is not always the same.
fn fleet_type(i: usize) -> MetricType {
    match i % 4 {
        0 => MetricType::Gauge,
        1 => MetricType::Count { interval_secs: 10 },
        2 => MetricType::Rate { interval_secs: 15 },
        _ => MetricType::Gauge,
    }
}

/// Creates series `range` of a fleet of `n` in `c`, checking their ids.
fn create(c: &mut Catalog, n: usize, range: std::ops::Range<usize>) {
    let mut wal = Vec::new();
    for i in range {
        let id = c.create(&fleet_key(n, i), fleet_type(i), &mut wal).unwrap();
        assert_eq!(id, SeriesId(i as u64 + 1));
        wal.clear();
    }
}

/// Checks that `c` holds exactly series `0..count` of a fleet of `n`.
fn check(c: &Catalog, n: usize, count: usize) {
    assert_eq!(c.len(), count);
    for i in 0..count {
        let key = fleet_key(n, i);
        let id = SeriesId(i as u64 + 1);
        assert_eq!(c.lookup(&key), Some(id), "series {i}");
        assert_eq!(c.key(id).as_ref(), Some(&key), "series {i}");
        assert_eq!(c.get(id).unwrap().1, fleet_type(i), "series {i}");
    }
}

fn version_of(path: &Path) -> u32 {
    let b = std::fs::read(path).unwrap();
    u32::from_le_bytes(b[8..12].try_into().unwrap())
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn temp_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    s.into()
}

#[test]
fn snapshot_of_many_series_round_trips() {
    const N: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    {
        let (mut c, _) = Catalog::open(&path).unwrap();
        create(&mut c, N, 0..N);
        assert!(c.has_log());
        c.compact().unwrap();
        assert!(!c.has_log());
        assert_eq!(c.log_bytes(), 0);
        assert_eq!(c.file_bytes(), file_len(&path));
        check(&c, N, N);
    }
    assert_eq!(version_of(&path), CATALOG_VERSION);
    assert!(!temp_of(&path).exists());
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty(), "{damage:?}");
    assert!(!c.has_log());
    check(&c, N, N);
}

#[test]
fn snapshot_plus_later_log_records_reopen_intact() {
    const N: usize = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    let changed = MetricType::Rate { interval_secs: 60 };
    {
        let (mut c, _) = Catalog::open(&path).unwrap();
        create(&mut c, N, 0..2_000);
        c.compact().unwrap();
        // After the snapshot: new series, a type change of a series in the
        // snapshot, and a definition that comes back from the WAL with a
        // gap in the ids.
        create(&mut c, N, 2_000..2_500);
        assert!(c.set_type(SeriesId(7), changed, &mut Vec::new()).unwrap());
        let def = SeriesDef {
            id: SeriesId(2_600),
            key: fleet_key(N, 2_599),
            mtype: fleet_type(2_599),
        };
        assert!(c.apply_wal_def(&def).unwrap());
        assert!(c.has_log());
        c.sync().unwrap();
    }
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(c.len(), 2_600);
    for i in (0..2_500).chain([2_599]) {
        let id = SeriesId(i as u64 + 1);
        assert_eq!(c.lookup(&fleet_key(N, i)), Some(id), "series {i}");
        let want = if i == 6 { changed } else { fleet_type(i) };
        assert_eq!(c.get(id).unwrap().1, want, "series {i}");
    }
    assert_eq!(c.get(SeriesId(2_501)), None);
    assert_eq!(c.lookup(&fleet_key(N, 2_500)), None);
    // New ids continue after the largest one seen.
    drop(c);
    let (mut c, _) = Catalog::open(&path).unwrap();
    let id = c
        .create(&fleet_key(N, 2_700), MetricType::Gauge, &mut Vec::new())
        .unwrap();
    assert_eq!(id, SeriesId(2_601));
}

#[test]
fn records_appended_while_a_snapshot_is_written_are_kept() {
    const N: usize = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    let changed = MetricType::Count { interval_secs: 1 };
    {
        let (mut c, _) = Catalog::open(&path).unwrap();
        create(&mut c, N, 0..600);
        let snapshot = c.snapshot().unwrap();
        // What the engine lets writers do between phases 1 and 3.
        create(&mut c, N, 600..700);
        assert!(c.set_type(SeriesId(1), changed, &mut Vec::new()).unwrap());
        let written = snapshot.write().unwrap();
        assert!(temp_of(&path).exists());
        c.install(written).unwrap();
        c.sync().unwrap();
        assert!(!temp_of(&path).exists());
        assert!(c.has_log(), "the records since the snapshot stay a log");
        // A snapshot taken before that install is stale.
        let stale = c.snapshot().unwrap();
        c.compact().unwrap();
        let err = c.install(stale.write().unwrap()).unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{err}");
        assert!(!temp_of(&path).exists());
        create(&mut c, N, 700..750);
    }
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(c.len(), 750);
    assert_eq!(c.get(SeriesId(1)).unwrap().1, changed);
    for i in 1..750 {
        assert_eq!(c.lookup(&fleet_key(N, i)), Some(SeriesId(i as u64 + 1)));
        assert_eq!(c.get(SeriesId(i as u64 + 1)).unwrap().1, fleet_type(i));
    }
}

#[test]
fn torn_or_garbage_tail_behind_a_snapshot_is_cut_off() {
    const N: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    {
        let (mut c, _) = Catalog::open(&path).unwrap();
        create(&mut c, N, 0..400);
        c.compact().unwrap();
        create(&mut c, N, 400..410);
        c.sync().unwrap();
    }
    let full = std::fs::read(&path).unwrap();

    // A torn last record: that series is lost (the WAL has it), the others
    // are not.
    std::fs::write(&path, &full[..full.len() - 5]).unwrap();
    let (c, damage) = Catalog::open(&path).unwrap();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(damage[0].is_corruption());
    assert!(damage[0].to_string().contains("tail cut off"));
    check(&c, N, 409);
    drop(c);
    assert!(file_len(&path) < full.len() as u64 - 5, "the tail was cut");

    // Garbage behind intact records.
    let mut bytes = full.clone();
    bytes.extend_from_slice(&[0xEE; 37]);
    std::fs::write(&path, &bytes).unwrap();
    let (c, damage) = Catalog::open(&path).unwrap();
    assert_eq!(damage.len(), 1, "{damage:?}");
    check(&c, N, 410);
    drop(c);
    assert_eq!(file_len(&path), full.len() as u64);

    // The repaired file opens clean and takes appends.
    let (mut c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty());
    create(&mut c, N, 410..420);
    drop(c);
    let (c, _) = Catalog::open(&path).unwrap();
    check(&c, N, 420);
}

#[test]
fn damaged_snapshot_stops_the_open_instead_of_dropping_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    {
        let (mut c, _) = Catalog::open(&path).unwrap();
        create(&mut c, 100, 0..100);
        c.compact().unwrap();
    }
    let good = std::fs::read(&path).unwrap();
    for at in [20, 40, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x08;
        std::fs::write(&path, &bad).unwrap();
        match Catalog::open(&path) {
            Err(Error::Corruption { file, offset, .. }) => {
                assert_eq!(file, path);
                assert_eq!(offset, 16, "the snapshot section starts at 16");
            }
            Err(e) => panic!("flip at {at}: {e}"),
            Ok(_) => panic!("flip at {at}: opened"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), bad, "left as it was");
    }
    // A truncated snapshot is damage too, not a torn tail.
    std::fs::write(&path, &good[..good.len() - 3]).unwrap();
    assert!(matches!(
        Catalog::open(&path),
        Err(Error::Corruption { .. })
    ));
    // A version from the future is refused.
    let mut future = good.clone();
    future[8..12].copy_from_slice(&(CATALOG_VERSION + 1).to_le_bytes());
    std::fs::write(&path, &future).unwrap();
    assert!(matches!(
        Catalog::open(&path),
        Err(Error::UnsupportedVersion { found, .. }) if found == CATALOG_VERSION + 1
    ));
}

#[test]
fn leftover_temporary_snapshot_is_ignored_and_removed() {
    const N: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    let tmp = temp_of(&path);
    {
        let (mut c, _) = Catalog::open(&path).unwrap();
        create(&mut c, N, 0..200);
        c.compact().unwrap();
        create(&mut c, N, 200..250);
        c.sync().unwrap();
    }
    // A crash after phase 2 (the new file is whole but was never renamed):
    // a complete catalog of other series under the temporary name.
    {
        let other = dir.path().join("other.wcat");
        let (mut o, _) = Catalog::open(&other).unwrap();
        create(&mut o, N, 0..10);
        o.compact().unwrap();
        drop(o);
        std::fs::rename(&other, &tmp).unwrap();
    }
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty());
    assert!(!tmp.exists());
    check(&c, N, 250);
    drop(c);
    // A crash in the middle of phase 2: a torn temporary file.
    std::fs::write(&tmp, b"WHIPCAT\0\x02\0\0\0\0\0\0\0\x99\x99").unwrap();
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty());
    assert!(!tmp.exists());
    check(&c, N, 250);
    drop(c);
    // The same with no catalog at all yet (a crash while creating it).
    let fresh = dir.path().join("fresh.wcat");
    std::fs::write(temp_of(&fresh), b"WHIPCAT\0").unwrap();
    let (c, damage) = Catalog::open(&fresh).unwrap();
    assert!(damage.is_empty());
    assert!(c.is_empty());
    assert!(!temp_of(&fresh).exists());
}

/// The catalog of the version 1 data directory fixture (`tests/compat.rs`).
fn v1_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v1/catalog.wcat")
}

fn v1_keys() -> [(SeriesKey, MetricType); 3] {
    [
        (
            SeriesKey::float(
                OrgId(1),
                "system.cpu.user",
                TagSet::new(["host:web-1", "env:prod"]),
            ),
            MetricType::Gauge,
        ),
        (
            SeriesKey::float(OrgId(1), "requests", TagSet::new(["service:api"])),
            MetricType::Count { interval_secs: 10 },
        ),
        (
            SeriesKey::sketch(OrgId(2), "latency", TagSet::new(["service:api"])),
            MetricType::Distribution,
        ),
    ]
}

#[test]
fn version_1_catalog_opens_takes_appends_and_compacts_to_version_2() {
    assert_eq!(version_of(&v1_fixture()), 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    std::fs::copy(v1_fixture(), &path).unwrap();
    let check_v1 = |c: &Catalog| {
        for (i, (key, mtype)) in v1_keys().iter().enumerate() {
            let id = SeriesId(i as u64 + 1);
            assert_eq!(c.lookup(key), Some(id));
            assert_eq!(c.key(id).as_ref(), Some(key));
            assert_eq!(c.get(id).unwrap().1, *mtype);
        }
    };
    let extra = SeriesKey::float(OrgId(1), "added.later", TagSet::new(["env:dev"]));
    {
        let (mut c, damage) = Catalog::open(&path).unwrap();
        assert!(damage.is_empty(), "{damage:?}");
        assert!(c.has_log(), "a version 1 file is all log");
        check_v1(&c);
        let id = c
            .create(&extra, MetricType::Gauge, &mut Vec::new())
            .unwrap();
        assert_eq!(id, SeriesId(4));
    }
    // Appends keep it a valid version 1 file.
    assert_eq!(version_of(&path), 1);
    let before = std::fs::read(&path).unwrap();
    {
        let (mut c, damage) = Catalog::open(&path).unwrap();
        assert!(damage.is_empty(), "{damage:?}");
        check_v1(&c);
        assert_eq!(c.lookup(&extra), Some(SeriesId(4)));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "opening does not rewrite"
        );
        c.compact().unwrap();
    }
    assert_eq!(version_of(&path), CATALOG_VERSION);
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty(), "{damage:?}");
    assert!(!c.has_log());
    check_v1(&c);
    assert_eq!(c.lookup(&extra), Some(SeriesId(4)));
}

fn v2_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/catalog-v2/catalog.wcat")
}

#[test]
fn version_2_catalog_fixture_stays_readable() {
    const N: usize = 60;
    let changed = MetricType::Rate { interval_secs: 20 };
    if std::env::var_os("WHIPPET_WRITE_FIXTURE").is_some() {
        let path = v2_fixture();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        let (mut c, _) = Catalog::open(&path).unwrap();
        create(&mut c, N, 0..50);
        c.compact().unwrap();
        create(&mut c, N, 50..55);
        c.set_type(SeriesId(3), changed, &mut Vec::new()).unwrap();
        c.sync().unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    std::fs::copy(v2_fixture(), &path).unwrap();
    assert_eq!(version_of(&path), 2);
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty(), "{damage:?}");
    assert!(c.has_log(), "the fixture has records behind its snapshot");
    assert_eq!(c.len(), 55);
    for i in 0..55 {
        let id = SeriesId(i as u64 + 1);
        assert_eq!(c.key(id), Some(fleet_key(N, i)), "series {i}");
        let want = if i == 2 { changed } else { fleet_type(i) };
        assert_eq!(c.get(id).unwrap().1, want, "series {i}");
    }
}

/// The reason for the snapshot: 100 000 fleet series (20 metrics × 5 000
/// hosts, tags host/env/region/az/service) take about 116 bytes each as log
/// records and under 2 as a snapshot. The bound is loose on purpose (a
/// tenth), but a snapshot without its symbol table or without compression
/// would not meet it.
#[test]
fn snapshot_of_a_fleet_is_many_times_smaller_than_its_log() {
    const N: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    let (mut c, _) = Catalog::open(&path).unwrap();
    create(&mut c, N, 0..N);
    c.sync().unwrap();
    let log = file_len(&path);
    assert!(c.wants_compaction());
    c.compact().unwrap();
    assert!(!c.wants_compaction());
    let snap = file_len(&path);
    assert!(
        snap * 10 < log,
        "snapshot {snap} bytes against a log of {log} bytes"
    );
    drop(c);
    let (c, _) = Catalog::open(&path).unwrap();
    assert_eq!(c.len(), N);
    for i in (0..N).step_by(997) {
        assert_eq!(c.lookup(&fleet_key(N, i)), Some(SeriesId(i as u64 + 1)));
    }
}

#[test]
fn compaction_policy_waits_for_the_log_to_outgrow_the_snapshot() {
    const N: usize = 40_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    let (mut c, _) = Catalog::open(&path).unwrap();
    let mut i = 0;
    while c.log_bytes() < COMPACT_MIN_LOG_BYTES {
        assert!(!c.wants_compaction());
        create(&mut c, N, i..i + 100);
        i += 100;
    }
    assert!(c.wants_compaction());
    c.compact().unwrap();
    assert!(!c.wants_compaction());
    create(&mut c, N, i..i + 100);
    assert!(
        !c.wants_compaction(),
        "a few new series do not call for one"
    );
}

fn engine_config(background: bool) -> EngineConfig {
    EngineConfig {
        background_tasks: background,
        ..EngineConfig::default()
    }
}

#[test]
fn engine_compact_leaves_a_bare_snapshot() {
    const N: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    {
        let (e, _) = Engine::open(dir.path(), engine_config(false)).unwrap();
        for i in 0..N {
            e.resolve(&fleet_key(N, i), fleet_type(i)).unwrap();
        }
        e.flush().unwrap();
        e.compact().unwrap();
        e.close().unwrap();
    }
    assert_eq!(version_of(&path), CATALOG_VERSION);
    let (c, damage) = Catalog::open(&path).unwrap();
    assert!(damage.is_empty());
    assert!(!c.has_log());
    check(&c, N, N);
    drop(c);
    let (e, report) = Engine::open(dir.path(), engine_config(false)).unwrap();
    assert!(report.damage.is_empty(), "{:?}", report.damage);
    assert_eq!(report.series, N);
    let key = fleet_key(N, 1_234);
    let id = e.resolve(&key, fleet_type(1_234)).unwrap();
    assert_eq!(id, SeriesId(1_235));
    assert_eq!(e.series_key(id), Some(key));
    assert_eq!(
        e.series_type(SeriesId(1)).map(MetricType::value_kind),
        Some(ValueKind::Float)
    );
}

#[test]
fn background_flusher_compacts_a_grown_log() {
    const N: usize = 40_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.wcat");
    let (e, _) = Engine::open(dir.path(), engine_config(true)).unwrap();
    // Enough series for the log to pass the minimum.
    let mut i = 0;
    while file_len(&path) < COMPACT_MIN_LOG_BYTES + 64 * 1024 {
        e.resolve(&fleet_key(N, i), fleet_type(i)).unwrap();
        i += 1;
    }
    let logged = file_len(&path);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while file_len(&path) >= logged / 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the flusher did not compact the catalog ({} bytes)",
            file_len(&path)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Series created after the compaction go to the new file.
    let more = i + 10;
    while i < more {
        e.resolve(&fleet_key(N, i), fleet_type(i)).unwrap();
        i += 1;
    }
    e.close().unwrap();
    drop(e);
    let (e, report) = Engine::open(dir.path(), engine_config(false)).unwrap();
    assert!(report.damage.is_empty(), "{:?}", report.damage);
    assert_eq!(report.series, i);
    for j in (0..i).step_by(101).chain([i - 1]) {
        assert_eq!(e.series_key(SeriesId(j as u64 + 1)), Some(fleet_key(N, j)));
    }
}

/// Best of five opens of the catalog at `path`, in milliseconds.
fn open_ms(path: &Path, series: usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let (c, _) = Catalog::open(path).unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(c.len(), series);
    }
    best
}

/// The figures of `benches/RESULTS.md`: bytes on disk and open time of the
/// catalog of a fleet, as a log (what version 1 always was) and as a
/// snapshot. Run in release:
/// `cargo test --release -p whippet-tsdb --test catalog measure -- --ignored --nocapture`
/// (`CATALOG_MEASURE_SERIES=100000,1000000` by default).
#[test]
#[ignore = "a measurement, not a check; run in release"]
fn measure_catalog_size_and_open_time() {
    let sizes: Vec<usize> = std::env::var("CATALOG_MEASURE_SERIES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("a series count"))
        .collect();
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.wcat");
        {
            let (mut c, _) = Catalog::open(&path).unwrap();
            let mut wal = Vec::new();
            for i in 0..n {
                let d = describe(
                    &FleetSpec {
                        series: n,
                        ..FleetSpec::full()
                    },
                    i,
                );
                let key = SeriesKey::float(OrgId(1), d.metric, TagSet::new(d.tags));
                c.create(&key, MetricType::Gauge, &mut wal).unwrap();
                wal.clear();
            }
            c.sync().unwrap();
        }
        let log_bytes = file_len(&path);
        let log_ms = open_ms(&path, n);
        let (mut c, _) = Catalog::open(&path).unwrap();
        let t = std::time::Instant::now();
        c.compact().unwrap();
        let compact_ms = t.elapsed().as_secs_f64() * 1e3;
        drop(c);
        let snap_bytes = file_len(&path);
        let snap_ms = open_ms(&path, n);
        println!(
            "{n} series: log {log_bytes} B ({:.1} B/series), open {log_ms:.1} ms; \
             snapshot {snap_bytes} B ({:.2} B/series, {:.0}x smaller), open {snap_ms:.1} ms; \
             compaction {compact_ms:.0} ms",
            log_bytes as f64 / n as f64,
            snap_bytes as f64 / n as f64,
            log_bytes as f64 / snap_bytes as f64,
        );
    }
}
