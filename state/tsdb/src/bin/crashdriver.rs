//! Crash-test driver (see `tests/crash.rs`): ingests a deterministic stream
//! of batches into an engine with its background tasks running and prints
//! `ack <n>` after batch `n` is acknowledged. The test kills it with SIGKILL
//! at random moments and checks that every acknowledged batch survived.
//!
//! Usage: `whippet-tsdb-crashdriver <data-dir> <base-ms> <first-batch>`

use std::io::Write;

use whippet_tsdb::{Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesKey, TagSet};

/// Series written by the driver.
const SERIES: u64 = 10;
/// Points per series per batch.
const PER_SERIES: u64 = 10;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: {} <data-dir> <base-ms> <first-batch>", args[0]);
        std::process::exit(2);
    }
    let dir = &args[1];
    let base: i64 = args[2].parse().expect("base-ms");
    let first: u64 = args[3].parse().expect("first-batch");
    let cfg = EngineConfig {
        // Cut often so that kills also land during flushes and merges.
        head_cut_interval_ms: 100,
        ..EngineConfig::default()
    };
    let (engine, _) = Engine::open(dir, cfg).expect("open engine");
    let ids: Vec<_> = (0..SERIES)
        .map(|s| {
            let key = SeriesKey::float(
                OrgId(1),
                "crash.metric",
                TagSet::new([format!("host:h{s}")]),
            );
            engine.resolve(&key, MetricType::Gauge).expect("resolve")
        })
        .collect();
    let stdout = std::io::stdout();
    let mut batch = Vec::new();
    for n in first.. {
        batch.clear();
        for (s, id) in ids.iter().enumerate() {
            for j in 0..PER_SERIES {
                let (ts, value) = point(base, n, s as u64, j);
                batch.push(FloatPoint {
                    series: *id,
                    ts,
                    value,
                });
            }
        }
        let out = engine.append_floats(&batch).expect("append");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
        let mut o = stdout.lock();
        writeln!(o, "ack {n}").expect("stdout");
        o.flush().expect("stdout");
        drop(o);
        // About a thousand batches a second: enough for many cuts, flushes
        // and merges per run, while the check after each kill (a debug
        // build replaying the WAL) stays quick.
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// The point `j` of series `s` in batch `n`. Shared with the test by
/// definition: ts = base + n·PER_SERIES + j (ms), value = n·1000 + s·10 + j.
fn point(base: i64, n: u64, s: u64, j: u64) -> (i64, f64) {
    (
        base + (n * PER_SERIES + j) as i64,
        (n * 1000 + s * 10 + j) as f64,
    )
}
