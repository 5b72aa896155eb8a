//! End-to-end behaviour of the storage engine through its public API, on
//! real files.

mod common;

use common::*;
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{
    Agg, Engine, EngineConfig, Error, MetricType, OrgId, ReadBuffers, RejectReason, Selector,
    SeriesKey, Sketch, SketchPoint, TagSet,
};

#[test]
fn written_points_read_back_from_head_parts_and_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let id = gauge(&e, "system.cpu.user", &["host:web-1", "env:prod"]);
    let pts: Vec<_> = (0..100)
        .map(|i| pt(id, NOW - 1_000_000 + i * 10_000, i as f64 * 1.5))
        .collect();
    let out = e.append_floats(&pts).unwrap();
    assert_eq!(out.accepted, 100);
    assert!(out.rejected.is_empty());
    let expect: Vec<(i64, f64)> = pts.iter().map(|p| (p.ts, p.value)).collect();
    assert_eq!(points_of(&e, id, 0, i64::MAX), expect, "from the head");
    e.flush().unwrap();
    assert_eq!(e.storage_stats().head_points, 0);
    assert_eq!(points_of(&e, id, 0, i64::MAX), expect, "from a part");
    e.append_floats(&[pt(id, NOW, 7.0)]).unwrap();
    e.close().unwrap();
    drop(e);
    let e = open(dir.path());
    let mut expect2 = expect.clone();
    expect2.push((NOW, 7.0));
    assert_eq!(
        points_of(&e, id, 0, i64::MAX),
        expect2,
        "after restart: part + replayed WAL"
    );
    // A range selects only its points: [start, end).
    let some = points_of(&e, id, NOW - 1_000_000 + 20_000, NOW - 1_000_000 + 50_000);
    assert_eq!(
        some.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![NOW - 980_000, NOW - 970_000, NOW - 960_000]
    );
}

#[test]
fn backfill_lands_in_its_partition_and_duplicates_keep_the_last_value() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let id = gauge(&e, "m", &["host:a"]);
    let old = NOW - 200 * DAY_MS; // months ago, within the 15-month retention
    e.append_floats(&[
        pt(id, NOW - 10_000, 1.0),
        pt(id, old, 2.0),
        pt(id, NOW - 20_000, 3.0),
    ])
    .unwrap();
    e.append_floats(&[pt(id, old, 4.0)]).unwrap(); // duplicate: last wins
    e.flush().unwrap();
    let parts_dir = dir.path().join("blocks/org-1");
    let mut days: Vec<String> = std::fs::read_dir(&parts_dir)
        .unwrap()
        .map(|d| d.unwrap().file_name().into_string().unwrap())
        .collect();
    days.sort();
    let old_day = whippet_tsdb::PartitionId::of(old).dir_name();
    let new_day = whippet_tsdb::PartitionId::of(NOW - 10_000).dir_name();
    assert_eq!(days, vec![old_day, new_day]);
    assert_eq!(
        points_of(&e, id, 0, i64::MAX),
        vec![(old, 4.0), (NOW - 20_000, 3.0), (NOW - 10_000, 1.0)]
    );
    // A later overwrite in a newer part wins over the older part, also after merging.
    e.append_floats(&[pt(id, NOW - 20_000, 30.0)]).unwrap();
    e.flush().unwrap();
    assert_eq!(
        points_of(&e, id, NOW - 30_000, NOW),
        vec![(NOW - 20_000, 30.0), (NOW - 10_000, 1.0)]
    );
    assert!(e.compact().unwrap() >= 1);
    assert_eq!(
        points_of(&e, id, NOW - 30_000, NOW),
        vec![(NOW - 20_000, 30.0), (NOW - 10_000, 1.0)]
    );
    assert_eq!(
        e.storage_stats().parts,
        2,
        "one part per partition after compaction"
    );
}

#[test]
fn points_outside_retention_or_too_far_ahead_are_rejected_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = manual_config();
    cfg.retention_ms = 30 * DAY_MS;
    cfg.org_retention_ms.insert(OrgId(2), DAY_MS);
    let e = open_with(dir.path(), cfg);
    let id = gauge(&e, "m", &[]);
    let out = e
        .append_floats(&[
            pt(id, NOW - 31 * DAY_MS, 1.0),
            pt(id, NOW - 29 * DAY_MS, 2.0),
            pt(id, NOW + 11 * 60_000, 3.0),
            pt(id, NOW + 9 * 60_000, 4.0),
        ])
        .unwrap();
    assert_eq!(out.accepted, 2);
    assert_eq!(out.rejected.len(), 2);
    assert_eq!(out.rejected[0].0, 0);
    assert!(matches!(out.rejected[0].1, RejectReason::TooOld { .. }));
    assert_eq!(out.rejected[0].1.code(), "too_old");
    assert_eq!(out.rejected[1].0, 2);
    assert!(matches!(
        out.rejected[1].1,
        RejectReason::TooFarInFuture { .. }
    ));
    assert!(out.rejected[1].1.to_string().contains("future"));
    // Org 2 keeps one day only.
    let k2 = SeriesKey::float(OrgId(2), "m", TagSet::default());
    let id2 = e.resolve(&k2, MetricType::Gauge).unwrap();
    let out = e
        .append_floats(&[pt(id2, NOW - 2 * DAY_MS, 1.0), pt(id2, NOW - 1000, 1.0)])
        .unwrap();
    assert_eq!(out.accepted, 1);
    // Unknown series and wrong kinds are reported, not fatal.
    let out = e
        .append_floats(&[pt(whippet_tsdb::SeriesId(999), NOW, 1.0)])
        .unwrap();
    assert!(matches!(out.rejected[0].1, RejectReason::UnknownSeries(_)));
}

#[test]
fn retention_drops_whole_partitions_and_reads_never_see_expired_points() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = manual_config();
    cfg.retention_ms = 10 * DAY_MS;
    let clock = cfg.clock.clone();
    let e = open_with(dir.path(), cfg);
    let id = gauge(&e, "m", &[]);
    let ts: Vec<i64> = (0..9).map(|d| NOW - d * DAY_MS).collect();
    e.append_floats(&ts.iter().map(|&t| pt(id, t, 1.0)).collect::<Vec<_>>())
        .unwrap();
    e.flush().unwrap();
    assert_eq!(e.storage_stats().parts, 9);
    clock.set_ms(NOW + 5 * DAY_MS);
    // Before retention runs, reads already hide expired points.
    assert_eq!(points_of(&e, id, 0, i64::MAX).len(), 6);
    assert_eq!(e.enforce_retention().unwrap(), 3);
    assert_eq!(e.storage_stats().parts, 6);
    assert_eq!(points_of(&e, id, 0, i64::MAX).len(), 6);
    assert_eq!(
        std::fs::read_dir(dir.path().join("blocks/org-1"))
            .unwrap()
            .count(),
        6
    );
}

#[test]
fn the_active_series_cap_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = manual_config();
    cfg.max_active_series_per_org = 2;
    let e = open_with(dir.path(), cfg);
    gauge(&e, "m", &["host:a"]);
    gauge(&e, "m", &["host:b"]);
    let err = e
        .resolve(&key("m", &["host:c"]), MetricType::Gauge)
        .unwrap_err();
    assert!(matches!(err, Error::SeriesLimit { limit: 2, .. }), "{err}");
    assert!(err.to_string().contains("max_active_series_per_org"));
    // Other orgs have their own cap.
    let other = SeriesKey::float(OrgId(2), "m", TagSet::default());
    assert!(e.resolve(&other, MetricType::Gauge).is_ok());
    // An existing series resolves again without counting twice.
    assert!(e.resolve(&key("m", &["host:a"]), MetricType::Gauge).is_ok());
}

#[test]
fn selectors_cover_exact_wildcard_negation_presence_and_boolean_forms() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let web1 = gauge(&e, "cpu", &["host:web-1", "env:prod", "canary"]);
    let web2 = gauge(&e, "cpu", &["host:web-2", "env:staging"]);
    let db1 = gauge(&e, "cpu", &["host:db-1", "env:prod"]);
    let nohost = gauge(&e, "cpu", &["env:prod"]);
    let mem = gauge(&e, "mem", &["host:web-1"]);
    let other_org = e
        .resolve(
            &SeriesKey::float(OrgId(9), "cpu", TagSet::new(["host:web-1"])),
            MetricType::Gauge,
        )
        .unwrap();
    let sel = |s: Selector| e.select(ORG, &s);
    let cpu = || Selector::Metric("cpu".into());
    assert_eq!(
        sel(Selector::And(vec![cpu(), Selector::Tag("env:prod".into())])),
        vec![web1, db1, nohost]
    );
    assert_eq!(
        sel(Selector::And(vec![
            cpu(),
            Selector::TagGlob("host:web-*".into())
        ])),
        vec![web1, web2]
    );
    assert_eq!(
        sel(Selector::And(vec![
            cpu(),
            Selector::Not(Box::new(Selector::Tag("env:prod".into())))
        ])),
        vec![web2]
    );
    assert_eq!(
        sel(Selector::And(vec![cpu(), Selector::HasKey("host".into())])),
        vec![web1, web2, db1]
    );
    assert_eq!(
        sel(Selector::And(vec![cpu(), Selector::Tag("canary".into())])),
        vec![web1]
    );
    assert_eq!(
        sel(Selector::And(vec![
            cpu(),
            Selector::Or(vec![
                Selector::Tag("host:db-1".into()),
                Selector::Tag("env:staging".into())
            ])
        ])),
        vec![web2, db1]
    );
    assert_eq!(sel(Selector::MetricGlob("m*".into())), vec![mem]);
    assert_eq!(sel(Selector::All).len(), 5);
    assert_eq!(
        e.select(OrgId(9), &Selector::All),
        vec![other_org],
        "orgs never mix"
    );
    assert!(sel(Selector::Tag("host:nope".into())).is_empty());
    // Discovery for autocomplete.
    assert_eq!(e.metric_names(ORG, None), vec!["cpu", "mem"]);
    assert_eq!(e.metric_names(ORG, Some("c*")), vec!["cpu"]);
    assert_eq!(e.tag_keys(ORG, None), vec!["env", "host"]);
    assert_eq!(
        e.tag_values(ORG, "host", None),
        vec!["db-1", "web-1", "web-2"]
    );
    assert_eq!(
        e.tag_values(ORG, "host", Some(&Selector::Metric("mem".into()))),
        vec!["web-1"]
    );
    assert_eq!(
        e.tag_keys(ORG, Some(&Selector::Metric("mem".into()))),
        vec!["host"]
    );
    assert_eq!(
        e.tags(ORG, &Selector::Metric("mem".into())),
        vec!["host:web-1"]
    );
    assert_eq!(e.metric_names(OrgId(9), None), vec!["cpu"]);
    // The index is rebuilt after a restart.
    e.close().unwrap();
    drop(e);
    let e = open(dir.path());
    assert_eq!(
        e.select(ORG, &Selector::TagGlob("host:web-*".into())),
        vec![web1, web2, mem]
    );
}

#[test]
fn aggregation_reduces_buckets_across_head_and_parts() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let a = gauge(&e, "m", &["host:a"]);
    let b = gauge(&e, "m", &["host:b"]);
    let start = NOW - 3_600_000;
    // a: 0..60 every 10 s (values i), b: only in the second minute, with a NaN.
    let mut pts: Vec<_> = (0..12)
        .map(|i| pt(a, start + i * 10_000, i as f64))
        .collect();
    pts.extend([
        pt(b, start + 60_000, 5.0),
        pt(b, start + 70_000, f64::NAN),
        pt(b, start + 80_000, 7.0),
    ]);
    e.append_floats(&pts[..6]).unwrap();
    e.flush().unwrap();
    e.append_floats(&pts[6..]).unwrap();
    let view = e
        .read(ORG, &Selector::Metric("m".into()), start, start + 180_000)
        .unwrap();
    assert_eq!(view.bucket_count(60_000), 3);
    let ids: Vec<_> = view.series().iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![a, b]);
    let check = |agg, want_a: [f64; 3], want_b: [f64; 3]| {
        for threads in [1, 2] {
            let rows = view.aggregate(60_000, agg, threads).unwrap();
            for (row, want) in rows.iter().zip([want_a, want_b]) {
                for (got, w) in row.iter().zip(want) {
                    assert!(
                        (got.is_nan() && w.is_nan()) || got == &w,
                        "{agg:?}: {row:?} vs {want:?}"
                    );
                }
            }
        }
    };
    let n = f64::NAN;
    check(Agg::Avg, [2.5, 8.5, n], [n, 6.0, n]);
    check(Agg::Sum, [15.0, 51.0, n], [n, 12.0, n]);
    check(Agg::Min, [0.0, 6.0, n], [n, 5.0, n]);
    check(Agg::Max, [5.0, 11.0, n], [n, 7.0, n]);
    check(Agg::Count, [6.0, 6.0, n], [n, 2.0, n]);
    check(Agg::Last, [5.0, 11.0, n], [n, 7.0, n]);
}

#[test]
fn distributions_store_sketches_that_merge_per_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let key = SeriesKey::sketch(ORG, "request.latency", TagSet::new(["service:api"]));
    let id = e.resolve(&key, MetricType::Distribution).unwrap();
    assert!(
        e.resolve(&key, MetricType::Gauge).is_err(),
        "a gauge cannot store sketches"
    );
    let mk = |vals: &[f64]| {
        let mut s = Sketch::new();
        vals.iter().for_each(|v| s.insert(*v));
        s
    };
    let start = NOW - 60_000;
    e.append_sketches(&[
        SketchPoint {
            series: id,
            ts: start,
            sketch: mk(&[1.0, 2.0, 3.0]),
        },
        SketchPoint {
            series: id,
            ts: start + 10_000,
            sketch: mk(&[100.0]),
        },
    ])
    .unwrap();
    e.flush().unwrap();
    e.append_sketches(&[SketchPoint {
        series: id,
        ts: start + 20_000,
        sketch: mk(&[4.0]),
    }])
    .unwrap();
    // Writing a float to a distribution is refused per point.
    let out = e.append_floats(&[pt(id, start, 1.0)]).unwrap();
    assert!(matches!(out.rejected[0].1, RejectReason::WrongKind(_)));
    let view = e
        .read(
            ORG,
            &Selector::Metric("request.latency".into()),
            start,
            start + 60_000,
        )
        .unwrap();
    let rows = view.aggregate_sketches(60_000, 1).unwrap();
    let merged = rows[0][0].as_ref().unwrap();
    assert_eq!(merged.count(), 5);
    assert_eq!(merged.max(), 100.0);
    let p50 = merged.quantile(0.5).unwrap();
    assert!((p50 - 3.0).abs() / 3.0 < 0.01, "{p50}");
    assert_eq!(view.aggregate(60_000, Agg::Sum, 1).unwrap()[0][0], 110.0);
    assert_eq!(view.aggregate(60_000, Agg::Count, 1).unwrap()[0][0], 5.0);
    let mut buf = ReadBuffers::default();
    assert_eq!(view.sketches(0, &mut buf).unwrap().0.len(), 3);
}

#[test]
fn metric_types_are_recorded_and_updated() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let k = key("requests", &["service:api"]);
    let id = e
        .resolve(&k, MetricType::Count { interval_secs: 10 })
        .unwrap();
    assert_eq!(
        e.series_type(id),
        Some(MetricType::Count { interval_secs: 10 })
    );
    assert_eq!(
        e.resolve(&k, MetricType::Rate { interval_secs: 15 })
            .unwrap(),
        id
    );
    e.close().unwrap();
    drop(e);
    let e = open(dir.path());
    assert_eq!(
        e.series_type(id),
        Some(MetricType::Rate { interval_secs: 15 })
    );
}

#[test]
fn a_second_engine_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _e = open(dir.path());
    let err = Engine::open(dir.path(), manual_config())
        .err()
        .expect("locked");
    assert!(err.to_string().contains("in use"), "{err}");
}

#[test]
fn background_tasks_cut_flush_and_merge_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = EngineConfig {
        head_cut_interval_ms: 50,
        ..EngineConfig::default()
    };
    let (e, _) = Engine::open(dir.path(), cfg).unwrap();
    let now = whippet_tsdb::Clock::System.now_ms();
    let id = e.resolve(&key("m", &[]), MetricType::Gauge).unwrap();
    for round in 0..6 {
        e.append_floats(&[pt(id, now - 100_000 + round, round as f64)])
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(120));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while e.stats().merges.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no merge happened: {:?}",
            e.storage_stats()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(points_of(&e, id, 0, i64::MAX).len(), 6);
    e.close().unwrap();
}

/// Regression: an open-ended range (`end = i64::MAX`) overflowed the bucket
/// count. It must give an error for a small step and work for a large one.
#[test]
fn open_ended_ranges_do_not_overflow_bucket_arithmetic() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let id = gauge(&e, "m", &[]);
    e.append_floats(&[pt(id, NOW - 1000, 2.0)]).unwrap();
    let view = e.read(ORG, &Selector::All, 0, i64::MAX).unwrap();
    let err = view.aggregate(60_000, Agg::Sum, 1).unwrap_err();
    assert!(err.to_string().contains("larger step"), "{err}");
    let rows = view.aggregate(i64::MAX / 4, Agg::Sum, 1).unwrap();
    assert_eq!(
        rows[0]
            .iter()
            .filter(|v| !v.is_nan())
            .copied()
            .collect::<Vec<_>>(),
        vec![2.0]
    );
    assert!(view.aggregate(0, Agg::Sum, 1).is_err());
}

#[test]
fn fsync_always_acknowledges_concurrent_writers_through_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = manual_config();
    cfg.fsync = whippet_tsdb::FsyncPolicy::Always;
    let e = open_with(dir.path(), cfg);
    let ids: Vec<_> = (0..4)
        .map(|i| gauge(&e, "m", &[&format!("w:{i}")]))
        .collect();
    std::thread::scope(|s| {
        for &id in &ids {
            let e = e.clone();
            s.spawn(move || {
                for j in 0..50 {
                    let out = e
                        .append_floats(&[pt(id, NOW - 100_000 + j, j as f64)])
                        .unwrap();
                    assert_eq!(out.accepted, 1);
                }
            });
        }
    });
    e.close().unwrap();
    drop(e);
    let e = open(dir.path());
    for id in ids {
        assert_eq!(points_of(&e, id, 0, i64::MAX).len(), 50);
    }
}

#[test]
fn concurrent_overwrites_read_the_same_live_and_after_replay() {
    // Four writers write the same points, each with its own value, round
    // after round (so the last write of every point is a race), while a
    // fifth cuts and flushes during the first half of the writes: the
    // value read live must also be the one that the parts and the WAL's
    // replay give, so the WAL's order must be the head's order, across
    // cuts too.
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    const ROUNDS: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let id = gauge(&e, "m", &[]);
    let rounds_done = AtomicUsize::new(0);
    let start = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for w in 0..4 {
            let (e, start, rounds_done) = (e.clone(), &start, &rounds_done);
            s.spawn(move || {
                start.wait();
                for round in 0..ROUNDS as i64 {
                    let pts: Vec<_> = (0..20)
                        .map(|i| pt(id, NOW - 100_000 + round * 20 + i, w as f64))
                        .collect();
                    assert_eq!(e.append_floats(&pts).unwrap().accepted, 20);
                    rounds_done.fetch_add(1, Relaxed);
                }
            });
        }
        s.spawn(|| {
            while rounds_done.load(Relaxed) < 2 * ROUNDS {
                e.flush().unwrap();
                std::thread::yield_now();
            }
        });
    });
    assert!(
        e.storage_stats().head_points > 0,
        "the last writes are in the head"
    );
    let live = points_of(&e, id, 0, i64::MAX);
    assert_eq!(live.len(), ROUNDS * 20);
    e.close().unwrap();
    drop(e);
    let e = open(dir.path());
    assert_eq!(points_of(&e, id, 0, i64::MAX), live, "after replay");
}

#[test]
fn a_read_view_is_a_snapshot_that_later_writes_flushes_and_merges_do_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let id = gauge(&e, "m", &[]);
    for r in 0..4 {
        e.append_floats(&[pt(id, NOW - 10_000 + r, 1.0)]).unwrap();
        e.flush().unwrap();
    }
    e.append_floats(&[pt(id, NOW - 5_000, 2.0)]).unwrap();
    let view = e.read(ORG, &Selector::All, 0, i64::MAX).unwrap();
    // Change everything underneath: overwrite, add, cut, flush, merge away
    // the parts the view uses.
    e.append_floats(&[pt(id, NOW - 10_000, 9.0), pt(id, NOW - 1_000, 3.0)])
        .unwrap();
    e.flush().unwrap();
    assert!(e.compact().unwrap() >= 1);
    let mut buf = ReadBuffers::default();
    let (ts, vals) = view.floats(0, &mut buf).unwrap();
    assert_eq!(ts.len(), 5);
    assert_eq!(vals[0], 1.0, "the overwrite came after the snapshot");
    let now: Vec<_> = points_of(&e, id, 0, i64::MAX);
    assert_eq!(now.len(), 6);
    assert_eq!(now[0].1, 9.0);
}

#[test]
fn reads_run_while_writes_cuts_and_merges_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let ids: Vec<_> = (0..20)
        .map(|i| gauge(&e, "m", &[&format!("host:{i}")]))
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for round in 0..60i64 {
                let pts: Vec<_> = ids
                    .iter()
                    .map(|&id| pt(id, NOW - 600_000 + round * 1000, round as f64))
                    .collect();
                e.append_floats(&pts).unwrap();
                if round % 5 == 4 {
                    e.flush().unwrap();
                }
                if round % 20 == 19 {
                    e.merge_step().unwrap();
                }
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        // Every snapshot is complete: each series has the same number of
        // points, a prefix of the rounds, with no gaps.
        let mut seen = 0;
        let mut reads = 0;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            reads += 1;
            let view = e.read(ORG, &Selector::All, NOW - 600_000, NOW).unwrap();
            let rows = view.aggregate(1000, Agg::Count, 2).unwrap();
            let counts: Vec<usize> = rows
                .iter()
                .map(|r| r.iter().filter(|v| !v.is_nan()).count())
                .collect();
            // A batch holds one point of every series: a snapshot sees all of
            // it or none of it.
            assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
            let first_gap = rows[0]
                .iter()
                .position(|v| v.is_nan())
                .unwrap_or(rows[0].len());
            assert_eq!(first_gap, counts[0], "points are a prefix of the rounds");
            assert!(counts[0] >= seen, "a snapshot went back in time");
            seen = counts[0];
        }
        writer.join().unwrap();
        assert!(reads >= 5, "only {reads} reads ran during the writes");
    });
    assert_eq!(points_of(&e, ids[7], 0, i64::MAX).len(), 60);
}

/// The aggregation fast path (one merged chunk with regular timestamps,
/// positions computed instead of read) agrees with a naive reduction of the
/// raw points, for windows and steps that do not line up with the points.
#[test]
fn aggregation_of_regular_merged_chunks_matches_the_raw_points() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let regular = gauge(&e, "m", &["shape:regular"]);
    let gappy = gauge(&e, "m", &["shape:gappy"]);
    let base = NOW - 3 * 3_600_000 + 3_000; // a few seconds off the minute
    let mut pts = Vec::new();
    for k in 0..1000i64 {
        let v = if k % 97 == 5 {
            f64::NAN
        } else {
            (k % 37) as f64 * 0.5 - 3.0
        };
        pts.push(pt(regular, base + k * 10_000, v));
        if k % 50 >= 3 {
            pts.push(pt(gappy, base + k * 10_000, v));
        }
    }
    e.append_floats(&pts).unwrap();
    e.flush().unwrap();
    e.compact().unwrap();
    for (start, end, step) in [
        (base, base + 10_000_000, 60_000),
        (base - 7_777, base + 1_234_567, 45_000),
        (base + 5_001, base + 5_002, 1_000),
        (base + 3_333_333, base + 9_999_999, 600_000),
        (NOW - 4 * 3_600_000, NOW, 3_600_000),
        (base + 20_000_000, base + 30_000_000, 60_000),
    ] {
        let view = e
            .read(ORG, &Selector::Metric("m".into()), start, end)
            .unwrap();
        for agg in Agg::ALL {
            let rows = view.aggregate(step, agg, 1).unwrap();
            let mut buf = ReadBuffers::default();
            for (i, row) in rows.iter().enumerate() {
                let (ts, vals) = view.floats(i, &mut buf).unwrap();
                let mut want = vec![Vec::new(); row.len()];
                for (t, v) in ts.iter().zip(vals) {
                    if !v.is_nan() {
                        want[((t - view.start()) / step) as usize].push(*v);
                    }
                }
                for (b, (got, w)) in row.iter().zip(&want).enumerate() {
                    let expect = if w.is_empty() {
                        f64::NAN
                    } else {
                        match agg {
                            Agg::Avg => w.iter().sum::<f64>() / w.len() as f64,
                            Agg::Sum => w.iter().sum(),
                            Agg::Min => w.iter().copied().fold(f64::INFINITY, f64::min),
                            Agg::Max => w.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                            Agg::Count => w.len() as f64,
                            Agg::Last => *w.last().unwrap(),
                        }
                    };
                    assert!(
                        (got.is_nan() && expect.is_nan()) || (got - expect).abs() < 1e-9,
                        "{agg:?} window {start}..{end} step {step} series {i} bucket {b}: {got} vs {expect}"
                    );
                }
            }
        }
    }
}

/// Copies the engine's directory (files only, recursively) but its LOCK:
/// the copy opens as after a crash, replaying its WAL.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Reads large enough to be split over threads give the same rows as one
/// thread, for every aggregator, over merged parts and the head together,
/// with the decoded-chunk cache cold, warm and off.
#[test]
fn parallel_aggregation_matches_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let start = NOW - 3 * 3_600_000;
    // 300 series × 3 h of 10 s points: 324 000 points, several threads' worth.
    let ids: Vec<_> = (0..300)
        .map(|i| gauge(&e, "par", &[&format!("host:h{i}")]))
        .collect();
    for k in 0..1080i64 {
        let pts: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                pt(
                    id,
                    start + k * 10_000,
                    ((k * 7 + i as i64) % 97) as f64 / 4.0,
                )
            })
            .collect();
        e.append_floats(&pts).unwrap();
        if k == 700 {
            e.flush().unwrap();
            e.compact().unwrap();
        }
    }
    let view = e
        .read(ORG, &Selector::Metric("par".into()), start, NOW)
        .unwrap();
    // The same read through an engine without the decoded-chunk cache.
    let dir2 = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), dir2.path());
    let uncached = open_with(
        dir2.path(),
        EngineConfig {
            chunk_cache_bytes: 0,
            ..manual_config()
        },
    );
    let view2 = uncached
        .read(ORG, &Selector::Metric("par".into()), start, NOW)
        .unwrap();
    let bits = |rows: &Vec<Vec<f64>>| -> Vec<Vec<u64>> {
        rows.iter()
            .map(|r| r.iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    for agg in Agg::ALL {
        let one = view.aggregate(60_000, agg, 1).unwrap();
        // Cold, warm (from the cache) and without a cache: the same bits.
        assert_eq!(bits(&one), bits(&view.aggregate(60_000, agg, 2).unwrap()));
        assert_eq!(bits(&one), bits(&view2.aggregate(60_000, agg, 1).unwrap()));
        for threads in [2, 3, 8] {
            let many = view.aggregate(60_000, agg, threads).unwrap();
            assert_eq!(one.len(), many.len());
            for (a, b) in one.iter().zip(&many) {
                assert!(
                    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{agg:?} with {threads} threads differs"
                );
            }
        }
        assert!(one.iter().all(|r| r.iter().all(|v| !v.is_nan())), "{agg:?}");
        // Folding the rows as they come gives the rows `aggregate` returns:
        // sum them into three groups both ways.
        for threads in [1, 2, 8] {
            let accs = view
                .aggregate_fold(
                    60_000,
                    agg,
                    threads,
                    || vec![vec![0.0; one[0].len()]; 3],
                    |acc: &mut Vec<Vec<f64>>, i, row| {
                        for (a, v) in acc[i % 3].iter_mut().zip(row) {
                            *a += v;
                        }
                    },
                )
                .unwrap();
            assert!(!accs.is_empty() && accs.len() <= threads);
            let mut got = vec![vec![0.0; one[0].len()]; 3];
            for acc in accs {
                for (g, row) in acc.iter().enumerate() {
                    for (a, v) in got[g].iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
            let mut want = vec![vec![0.0; one[0].len()]; 3];
            for (i, row) in one.iter().enumerate() {
                for (a, v) in want[i % 3].iter_mut().zip(row) {
                    *a += v;
                }
            }
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    g.iter()
                        .zip(w)
                        .all(|(x, y)| (x - y).abs() <= 1e-9 * y.abs().max(1.0)),
                    "{agg:?} fold with {threads} threads"
                );
            }
        }
        // And they are right: a merged part, then flushed and head points,
        // with 60 s buckets straddling the boundary (at 7 010 s).
        let mut buf = ReadBuffers::default();
        for (i, row) in one.iter().enumerate().step_by(37) {
            let (ts, vals) = view.floats(i, &mut buf).unwrap();
            let mut want = vec![Vec::new(); row.len()];
            for (t, v) in ts.iter().zip(vals) {
                want[((t - view.start()) / 60_000) as usize].push(*v);
            }
            for (got, w) in row.iter().zip(&want) {
                let expect = match agg {
                    Agg::Avg => w.iter().sum::<f64>() / w.len() as f64,
                    Agg::Sum => w.iter().sum(),
                    Agg::Min => w.iter().copied().fold(f64::INFINITY, f64::min),
                    Agg::Max => w.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    Agg::Count => w.len() as f64,
                    Agg::Last => *w.last().unwrap(),
                };
                assert!(
                    (got - expect).abs() < 1e-9,
                    "{agg:?} series {i}: {got} vs {expect}"
                );
            }
        }
    }
}

/// The part files of org 1, by name.
fn part_names(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for day in std::fs::read_dir(dir.join("blocks/org-1")).unwrap() {
        for f in std::fs::read_dir(day.unwrap().path()).unwrap() {
            names.push(f.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    names
}

#[test]
fn flushed_parts_are_fast_until_merged_or_their_day_is_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = manual_config();
    let clock = cfg.clock.clone();
    let e = open_with(dir.path(), cfg);
    let id = gauge(&e, "system.load.1", &["host:web-1"]);
    // Yesterday: a noisy two-decimal gauge, long enough for pco to pay.
    let day = NOW - DAY_MS;
    let value = |i: i64| ((i.wrapping_mul(6_364_136_223_846_793_005) >> 33) % 1000) as f64 / 100.0;
    let batch = |from: i64, n: i64| -> Vec<_> {
        (from..from + n)
            .map(|i| pt(id, day + i * 10_000, value(i)))
            .collect()
    };
    e.append_floats(&batch(0, 3000)).unwrap();
    e.flush().unwrap();
    let s = e.storage_stats();
    assert_eq!((s.parts, s.fast_parts), (1, 1), "a flush writes fast");
    let fast_bytes = s.part_bytes;
    let names = part_names(dir.path());
    let all = |e: &Engine| points_of(e, id, 0, i64::MAX);
    let want: Vec<(i64, f64)> = (0..3000).map(|i| (day + i * 10_000, value(i))).collect();
    assert_eq!(all(&e), want);

    // The day ended at NOW: not sealed until SEAL_AFTER_MS later.
    assert_eq!(e.merge_step().unwrap(), 0);
    assert_eq!(e.storage_stats().fast_parts, 1);
    clock.set_ms(NOW + whippet_tsdb::engine::SEAL_AFTER_MS);
    assert_eq!(
        e.merge_step().unwrap(),
        1,
        "the lone fast part is rewritten"
    );
    let s = e.storage_stats();
    assert_eq!((s.parts, s.fast_parts), (1, 0));
    assert!(
        s.part_bytes < fast_bytes,
        "{} bytes re-encoded, {fast_bytes} fast",
        s.part_bytes
    );
    assert_eq!(
        part_names(dir.path()),
        names,
        "rewritten under its own name"
    );
    assert_eq!(all(&e), want);
    assert_eq!(e.merge_step().unwrap(), 0, "nothing left to do");

    // Late points for the sealed day: fast parts again, re-encoded together
    // (three parts are too few for a routine merge).
    for k in 0..3 {
        e.append_floats(&batch(3000 + k * 10, 10)).unwrap();
        e.flush().unwrap();
    }
    assert_eq!(e.storage_stats().fast_parts, 3);
    assert_eq!(e.merge_step().unwrap(), 1);
    let s = e.storage_stats();
    assert_eq!((s.parts, s.fast_parts), (2, 0));
    let want: Vec<(i64, f64)> = (0..3030).map(|i| (day + i * 10_000, value(i))).collect();
    assert_eq!(all(&e), want);

    // The flag is in the file: a restart sees the same.
    e.append_floats(&batch(3030, 370)).unwrap();
    e.flush().unwrap();
    e.close().unwrap();
    drop(e);
    let cfg = manual_config();
    let e = open_with(dir.path(), cfg);
    assert_eq!(e.storage_stats().fast_parts, 1);
    assert_eq!(e.compact().unwrap(), 1);
    let s = e.storage_stats();
    assert_eq!(
        (s.parts, s.fast_parts),
        (1, 0),
        "compact leaves no fast part"
    );
    let want: Vec<(i64, f64)> = (0..3400).map(|i| (day + i * 10_000, value(i))).collect();
    assert_eq!(all(&e), want);
}
