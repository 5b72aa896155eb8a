//! Damaged files: each kind of damage gives a typed error that names the
//! file and the offset, and everything else stays readable.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use whippet_tsdb::block::Part;
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{Engine, Error, ReadBuffers, Selector, SeriesId};

fn find_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn flip(path: &Path, offset: u64) {
    let mut b = std::fs::read(path).unwrap();
    b[offset as usize] ^= 0x5a;
    std::fs::write(path, b).unwrap();
}

fn read_series(e: &Engine, id: SeriesId) -> Result<usize, Error> {
    let view = e.read(ORG, &Selector::Metric("m".into()), 0, i64::MAX)?;
    let i = view.series().iter().position(|s| s.id == id).unwrap();
    let mut buf = ReadBuffers::default();
    view.floats(i, &mut buf).map(|(t, _)| t.len())
}

/// Three series with 100 points each in today's partition, flushed.
fn three_series(dir: &Path) -> Vec<SeriesId> {
    let e = open(dir);
    let ids: Vec<_> = (0..3)
        .map(|i| gauge(&e, "m", &[&format!("host:{i}")]))
        .collect();
    for &id in &ids {
        let pts: Vec<_> = (0..100)
            .map(|j| pt(id, NOW - 100_000 + j * 1000, (j % 7) as f64 + 0.25))
            .collect();
        e.append_floats(&pts).unwrap();
    }
    e.flush().unwrap();
    e.close().unwrap();
    ids
}

#[test]
fn a_flipped_byte_in_a_chunk_fails_only_that_series() {
    let dir = tempfile::tempdir().unwrap();
    let ids = three_series(dir.path());
    let part_path = find_files(dir.path(), "wblk").pop().unwrap();
    let part = Part::open(&part_path).unwrap();
    let chunk = part.chunks_for(ids[1], 0, i64::MAX).next().unwrap();
    drop(part);
    flip(&part_path, chunk.offset + u64::from(chunk.len) / 2);

    let e = open(dir.path());
    match read_series(&e, ids[1]) {
        Err(Error::Corruption { file, offset, .. }) => {
            assert_eq!(file, part_path);
            assert_eq!(offset, chunk.offset);
        }
        other => panic!("expected a corruption error, got {other:?}"),
    }
    assert_eq!(read_series(&e, ids[0]).unwrap(), 100);
    assert_eq!(read_series(&e, ids[2]).unwrap(), 100);
    let v = e.verify();
    assert_eq!(v.errors.len(), 1);
    assert!(
        v.errors[0]
            .to_string()
            .contains(&part_path.display().to_string())
    );
    assert!(
        v.errors[0]
            .to_string()
            .contains(&format!("offset {}", chunk.offset))
    );
    assert_eq!(v.points, 200);
}

#[test]
fn a_damaged_series_table_sets_the_part_aside_and_other_parts_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let id = gauge(&e, "m", &["host:a"]);
    e.append_floats(&[pt(id, NOW - 1000, 1.0), pt(id, NOW - 2 * DAY_MS, 2.0)])
        .unwrap();
    e.flush().unwrap();
    e.close().unwrap();
    drop(e);
    let parts = find_files(dir.path(), "wblk");
    assert_eq!(parts.len(), 2);
    let damaged = parts[1].clone(); // today's partition sorts last
    let len = std::fs::metadata(&damaged).unwrap().len();
    // The series table sits just before the 96-byte footer.
    let table_offset = len - 96 - 40;
    flip(&damaged, table_offset + 3);

    let (e, report) = Engine::open(dir.path(), manual_config()).unwrap();
    assert_eq!(report.damage.len(), 1, "{:?}", report.damage);
    match &report.damage[0] {
        Error::Corruption {
            file,
            offset,
            reason,
        } => {
            assert_eq!(file, &damaged);
            assert_eq!(*offset, table_offset);
            assert!(reason.contains("table"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        damaged.with_extension("corrupt").exists(),
        "set aside for inspection"
    );
    assert_eq!(
        points_of(&e, id, 0, i64::MAX),
        vec![(NOW - 2 * DAY_MS, 2.0)]
    );
    // Writing to the damaged partition again works.
    e.append_floats(&[pt(id, NOW - 500, 3.0)]).unwrap();
    e.flush().unwrap();
    assert_eq!(
        points_of(&e, id, NOW - DAY_MS, i64::MAX),
        vec![(NOW - 500, 3.0)]
    );
}

#[test]
fn a_truncated_part_is_reported_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    three_series(dir.path());
    let part_path = find_files(dir.path(), "wblk").pop().unwrap();
    let len = std::fs::metadata(&part_path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&part_path)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let (_e, report) = Engine::open(dir.path(), manual_config()).unwrap();
    assert_eq!(report.damage.len(), 1);
    let msg = report.damage[0].to_string();
    assert!(
        msg.contains(&part_path.display().to_string()) && msg.contains("offset"),
        "{msg}"
    );
}

#[test]
fn a_truncated_wal_is_repaired_at_the_torn_record_and_the_rest_replays() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let id = gauge(&e, "m", &[]);
    for i in 0..10 {
        e.append_floats(&[pt(id, NOW - 100_000 + i * 1000, i as f64)])
            .unwrap();
    }
    e.close().unwrap();
    drop(e);
    let seg = find_files(&dir.path().join("wal"), "wal").pop().unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    // Each batch is one 8-byte header + an 15-byte body: cut into the last.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 5)
        .unwrap();

    let (e, report) = Engine::open(dir.path(), manual_config()).unwrap();
    assert_eq!(report.damage.len(), 1, "{:?}", report.damage);
    let record_len = 8 + 1 + 1 + 1 + 6 + 8; // header, type, count, id delta, ts delta, value
    match &report.damage[0] {
        Error::Corruption { file, offset, .. } => {
            assert_eq!(file, &seg);
            assert_eq!(*offset, len - record_len);
        }
        other => panic!("{other:?}"),
    }
    let got = points_of(&e, id, 0, i64::MAX);
    assert_eq!(got.len(), 9, "all but the torn batch");
    assert_eq!(got[8], (NOW - 92_000, 8.0));
    // The repaired log takes writes, and the next open finds no damage.
    e.append_floats(&[pt(id, NOW, 42.0)]).unwrap();
    e.close().unwrap();
    drop(e);
    let e = open(dir.path());
    assert_eq!(points_of(&e, id, 0, i64::MAX).len(), 10);
}

#[test]
fn damage_inside_an_older_wal_segment_skips_only_its_rest() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let a = gauge(&e, "m", &["host:a"]);
    let b = gauge(&e, "m", &["host:b"]);
    e.append_floats(&[pt(a, NOW - 3000, 1.0)]).unwrap();
    e.append_floats(&[pt(a, NOW - 2000, 2.0)]).unwrap();
    e.cut_head().unwrap(); // new segment; nothing flushed
    e.append_floats(&[pt(b, NOW - 1000, 3.0)]).unwrap();
    e.close().unwrap();
    drop(e);
    let segs = find_files(&dir.path().join("wal"), "wal");
    assert_eq!(segs.len(), 2);
    let len = std::fs::metadata(&segs[0]).unwrap().len();
    flip(&segs[0], len - 3); // inside the last record of the older segment
    let (e, report) = Engine::open(dir.path(), manual_config()).unwrap();
    assert_eq!(report.damage.len(), 1);
    assert!(
        report.damage[0]
            .to_string()
            .contains(&segs[0].display().to_string())
    );
    assert_eq!(points_of(&e, a, 0, i64::MAX), vec![(NOW - 3000, 1.0)]);
    assert_eq!(points_of(&e, b, 0, i64::MAX), vec![(NOW - 1000, 3.0)]);
}

#[test]
fn garbage_in_place_of_a_part_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    three_series(dir.path());
    let pdir = find_files(dir.path(), "wblk")
        .pop()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let bogus = pdir.join(whippet_tsdb::block::part_file_name(
        whippet_tsdb::PartSeq(100),
        whippet_tsdb::PartSeq(100),
    ));
    std::fs::write(&bogus, vec![7u8; 500]).unwrap();
    let (e, report) = Engine::open(dir.path(), manual_config()).unwrap();
    assert_eq!(report.damage.len(), 1);
    assert!(
        matches!(&report.damage[0], Error::Corruption { file, offset: 0, .. } if *file == bogus)
    );
    assert_eq!(e.select(ORG, &Selector::All).len(), 3);
    assert_eq!(e.verify().points, 300);
}
