//! The summaries that read no points: series grouped by a tag's values
//! (`Engine::tag_groups`) and each series' newest point
//! (`Engine::newest_points`), checked on real files through heads, frozen
//! heads, parts, several partitions, restarts and retention.

mod common;

use common::*;
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{
    GroupLimits, MetricType, OrgId, SeriesId, SeriesKey, Sketch, SketchPoint, TagSet,
};

const WIDE: GroupLimits = GroupLimits {
    max_tags: 100,
    max_metrics: 100,
};

#[test]
fn newest_points_come_from_heads_frozen_heads_and_parts_of_any_partition() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let in_part = gauge(&e, "m", &["host:a"]);
    let old_part = gauge(&e, "m", &["host:b"]);
    let frozen = gauge(&e, "m", &["host:c"]);
    let active = gauge(&e, "m", &["host:d"]);
    let silent = gauge(&e, "m", &["host:e"]);
    // A backfill in the head must not hide a newer point already in a part.
    let backfilled = gauge(&e, "m", &["host:f"]);
    e.append_floats(&[
        pt(in_part, NOW - 3_600_000, 1.0),
        pt(in_part, NOW - 60_000, 1.0),
        pt(old_part, NOW - 5 * DAY_MS, 1.0),
        pt(old_part, NOW - 5 * DAY_MS - 10_000, 1.0),
        pt(backfilled, NOW - 20_000, 1.0),
    ])
    .unwrap();
    e.flush().unwrap();
    e.append_floats(&[pt(frozen, NOW - 30_000, 1.0)]).unwrap();
    e.cut_head().unwrap();
    e.append_floats(&[
        pt(active, NOW - 1_000, 1.0),
        pt(active, NOW - 9_000, 1.0),
        pt(backfilled, NOW - 2 * DAY_MS, 1.0),
    ])
    .unwrap();
    let ids = [in_part, old_part, frozen, active, silent, backfilled];
    let expect = vec![
        Some(NOW - 60_000),
        Some(NOW - 5 * DAY_MS),
        Some(NOW - 30_000),
        Some(NOW - 1_000),
        None,
        Some(NOW - 20_000),
    ];
    assert_eq!(e.newest_points(ORG, &ids, 0), expect);
    // Any order of ids gives the same answers, in the caller's order.
    let rev: Vec<SeriesId> = ids.iter().rev().copied().collect();
    let mut expect_rev = expect.clone();
    expect_rev.reverse();
    assert_eq!(e.newest_points(ORG, &rev, 0), expect_rev);
    // `since` hides older series; the newest point is the newest whatever
    // the bound, so a series either keeps it or has none.
    assert_eq!(
        e.newest_points(ORG, &ids, NOW - 3_600_000),
        vec![
            Some(NOW - 60_000),
            None,
            Some(NOW - 30_000),
            Some(NOW - 1_000),
            None,
            Some(NOW - 20_000),
        ]
    );
    // After a restart (heads replayed from the WAL) and after everything
    // is written as parts and merged, the answers do not change.
    e.close().unwrap();
    drop(e);
    let e = open(dir.path());
    assert_eq!(e.newest_points(ORG, &ids, 0), expect);
    e.flush().unwrap();
    e.compact().unwrap();
    assert_eq!(e.storage_stats().head_points, 0);
    assert_eq!(e.newest_points(ORG, &ids, 0), expect);
}

#[test]
fn newest_points_never_cross_orgs_and_respect_retention() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = manual_config();
    cfg.retention_ms = 10 * DAY_MS;
    let clock = cfg.clock.clone();
    let e = open_with(dir.path(), cfg);
    let mine = gauge(&e, "m", &["host:a"]);
    let theirs = e
        .resolve(
            &SeriesKey::float(OrgId(2), "m", TagSet::new(["host:a"])),
            MetricType::Gauge,
        )
        .unwrap();
    e.append_floats(&[pt(mine, NOW - 8 * DAY_MS, 1.0), pt(theirs, NOW, 1.0)])
        .unwrap();
    let ids = [mine, theirs, SeriesId(999)];
    assert_eq!(
        e.newest_points(ORG, &ids, 0),
        vec![Some(NOW - 8 * DAY_MS), None, None]
    );
    assert_eq!(
        e.newest_points(OrgId(2), &ids, 0),
        vec![None, Some(NOW), None]
    );
    e.flush().unwrap();
    // Three days on, the point is past retention, even before retention
    // has dropped its partition.
    clock.set_ms(NOW + 3 * DAY_MS);
    assert_eq!(e.newest_points(ORG, &ids, 0), vec![None, None, None]);
}

#[test]
fn newest_points_of_distributions() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let key = SeriesKey::sketch(ORG, "latency", TagSet::new(["host:a"]));
    let id = e.resolve(&key, MetricType::Distribution).unwrap();
    let mut sk = Sketch::new();
    sk.insert(1.0);
    let at = |ts| SketchPoint {
        series: id,
        ts,
        sketch: sk.clone(),
    };
    e.append_sketches(&[at(NOW - 10_000), at(NOW - 50_000)])
        .unwrap();
    assert_eq!(e.newest_points(ORG, &[id], 0), vec![Some(NOW - 10_000)]);
    e.flush().unwrap();
    e.append_sketches(&[at(NOW - 90_000)]).unwrap();
    assert_eq!(e.newest_points(ORG, &[id], 0), vec![Some(NOW - 10_000)]);
}

/// The newest point as the read path sees it: the model the summary must
/// agree with, whatever was cut, flushed or merged.
#[test]
fn newest_points_agree_with_reading_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let ids: Vec<SeriesId> = (0..40)
        .map(|i| gauge(&e, "m", &[&format!("host:h{i}")]))
        .collect();
    // A deterministic stream of points over two weeks, with cuts, flushes
    // and merges in between (xorshift, seeded).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..30 {
        let batch: Vec<_> = (0..50)
            .map(|_| {
                let id = ids[(next() % 30) as usize]; // the last 10 stay silent
                let ts = NOW - (next() % (14 * DAY_MS as u64)) as i64;
                pt(id, ts, 1.0)
            })
            .collect();
        e.append_floats(&batch).unwrap();
        match round % 4 {
            0 => {
                e.cut_head().unwrap();
            }
            1 => e.flush().unwrap(),
            2 if round % 8 == 2 => {
                e.compact().unwrap();
            }
            _ => {}
        }
        for since in [0, NOW - 7 * DAY_MS, NOW - DAY_MS / 2] {
            let got = e.newest_points(ORG, &ids, since);
            let want: Vec<Option<i64>> = ids
                .iter()
                .map(|&id| points_of(&e, id, since, i64::MAX).last().map(|p| p.0))
                .collect();
            assert_eq!(got, want, "round {round}, since {since}");
        }
    }
}

#[test]
fn tag_groups_list_each_value_with_its_series_other_tags_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let a_cpu = gauge(&e, "system.cpu.user", &["host:a", "env:prod", "role:db"]);
    let a_mem = gauge(&e, "system.mem.used", &["host:a", "env:prod", "canary"]);
    let b_cpu = gauge(&e, "system.cpu.user", &["host:b", "env:dev"]);
    // Not grouped: no host tag.
    gauge(&e, "system.cpu.user", &["env:prod"]);
    // A series with two hosts is in both groups; the other host tag is not
    // one of the group's tags.
    let both = gauge(&e, "net.link", &["host:a", "host:b"]);
    // Another org's series of the same host stay out.
    e.resolve(
        &SeriesKey::float(OrgId(2), "other", TagSet::new(["host:a", "secret:1"])),
        MetricType::Gauge,
    )
    .unwrap();
    let groups = e.tag_groups(ORG, "host", WIDE);
    assert_eq!(groups.len(), 2);
    let (a, b) = (&groups[0], &groups[1]);
    assert_eq!(a.value, "a");
    assert_eq!(a.series, vec![a_cpu, a_mem, both]);
    assert_eq!(a.tags, ["canary", "env:prod", "role:db"]);
    assert_eq!(a.tag_count, 3);
    assert_eq!(
        a.metrics,
        ["net.link", "system.cpu.user", "system.mem.used"]
    );
    assert_eq!(a.metric_count, 3);
    assert_eq!(b.value, "b");
    assert_eq!(b.series, vec![b_cpu, both]);
    assert_eq!(b.tags, ["env:dev"]);
    assert_eq!(b.metrics, ["net.link", "system.cpu.user"]);
    // Any key groups; a key nobody uses, or an org with no series, gives
    // nothing.
    let envs: Vec<String> = e
        .tag_groups(ORG, "env", WIDE)
        .into_iter()
        .map(|g| g.value)
        .collect();
    assert_eq!(envs, ["dev", "prod"]);
    assert!(e.tag_groups(ORG, "nope", WIDE).is_empty());
    assert!(e.tag_groups(OrgId(3), "host", WIDE).is_empty());
}

#[test]
fn tag_groups_cut_long_lists_and_count_what_was_cut() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    for i in 0..30 {
        gauge(
            &e,
            &format!("app.m{i:02}"),
            &["host:a", &format!("container:c{i:02}")],
        );
    }
    let groups = e.tag_groups(
        ORG,
        "host",
        GroupLimits {
            max_tags: 5,
            max_metrics: 3,
        },
    );
    let a = &groups[0];
    assert_eq!(a.series.len(), 30, "every series, whatever the limits");
    assert_eq!(
        a.tags,
        [
            "container:c00",
            "container:c01",
            "container:c02",
            "container:c03",
            "container:c04"
        ]
    );
    assert_eq!(a.tag_count, 30);
    assert_eq!(a.metrics, ["app.m00", "app.m01", "app.m02"]);
    assert_eq!(a.metric_count, 30);
}
