//! Crash test: a child process ingests with background cuts, flushes and
//! merges running; it is killed with SIGKILL at random moments, many times.
//! After each kill every acknowledged batch must be readable, with its values.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use whippet_tsdb::{Clock, Engine, EngineConfig, OrgId, ReadBuffers, Selector};

const SERIES: u64 = 10;
const PER_SERIES: u64 = 10;
const KILLS: usize = 15;

#[test]
fn acknowledged_points_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let base = Clock::System.now_ms() - 3_600_000;
    let mut next: u64 = 0;
    let mut acked_upto: Option<u64> = None;
    // A small deterministic generator for the kill delays (50..650 ms).
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..KILLS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = Duration::from_millis(50 + rng % 600);
        let mut child = Command::new(env!("CARGO_BIN_EXE_whippet-tsdb-crashdriver"))
            .arg(dir.path())
            .arg(base.to_string())
            .arg(next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start driver");
        std::thread::sleep(delay);
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        if let Some(n) = out
            .lines()
            .filter_map(|l| l.strip_prefix("ack ")?.parse::<u64>().ok())
            .max()
        {
            acked_upto = Some(n);
            next = n + 1;
        }
        check(dir.path(), base, acked_upto, round);
    }
    assert!(
        acked_upto.unwrap_or(0) > 20,
        "the driver acknowledged too little to mean anything: {acked_upto:?}"
    );
}

fn check(dir: &std::path::Path, base: i64, acked_upto: Option<u64>, round: usize) {
    let cfg = EngineConfig {
        background_tasks: false,
        ..EngineConfig::default()
    };
    let (e, report) = Engine::open(dir, cfg).expect("reopen after SIGKILL");
    // A kill can only tear the tail of the newest WAL segment or catalog.
    for d in &report.damage {
        assert!(
            d.is_corruption() && d.to_string().contains("tail"),
            "round {round}: unexpected damage {d}"
        );
    }
    let Some(upto) = acked_upto else { return };
    let view = e
        .read(
            OrgId(1),
            &Selector::Metric("crash.metric".into()),
            0,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(view.series().len(), SERIES as usize, "round {round}");
    let mut buf = ReadBuffers::default();
    for (i, meta) in view.series().iter().enumerate() {
        let s: u64 = meta.key.tags.value_of("host").unwrap()[1..]
            .parse()
            .unwrap();
        let (ts, vals) = view.floats(i, &mut buf).unwrap();
        let got: BTreeMap<i64, f64> = ts.iter().copied().zip(vals.iter().copied()).collect();
        for n in 0..=upto {
            for j in 0..PER_SERIES {
                let t = base + (n * PER_SERIES + j) as i64;
                let v = (n * 1000 + s * 10 + j) as f64;
                assert_eq!(
                    got.get(&t),
                    Some(&v),
                    "round {round}: batch {n} point {j} of series {s} lost (acked up to {upto})"
                );
            }
        }
    }
    assert!(e.verify().errors.is_empty(), "round {round}: damaged parts");
    e.close().unwrap();
}
