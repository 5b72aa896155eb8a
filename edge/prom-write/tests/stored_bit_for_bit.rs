//! Staleness markers (and any other NaN payload) survive the storage
//! engine bit for bit: in the head, after a WAL replay, and in a part. The
//! receiver stores them as they are; PromQL's staleness handling depends
//! on reading `0x7ff0000000000002` back, not just "a NaN".

use whippet_prom_write::{Limits, decode, encode};
use whippet_tsdb::{
    Engine, EngineConfig, FloatPoint, MetricType, OrgId, ReadBuffers, SeriesKey, TagSet,
};

const STALE: u64 = 0x7ff0_0000_0000_0002;
const OTHER_NAN: u64 = 0xfff8_0000_0000_1234;

fn read_bits(engine: &Engine, start: i64, end: i64) -> Vec<(i64, u64)> {
    let sel = whippet_tsdb::Selector::Metric("up".into());
    let view = engine.read(OrgId(1), &sel, start, end).unwrap();
    assert_eq!(view.series().len(), 1);
    let mut buf = ReadBuffers::default();
    let (ts, vals) = view.floats(0, &mut buf).unwrap();
    ts.iter()
        .zip(vals)
        .map(|(t, v)| (*t, v.to_bits()))
        .collect()
}

#[test]
fn staleness_markers_are_stored_bit_for_bit() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t = now - 60_000;
    let sent = [
        (t, 1.5),
        (t + 1_000, f64::from_bits(STALE)),
        (t + 2_000, f64::from_bits(OTHER_NAN)),
        (t + 3_000, -0.0),
    ];
    let body = encode::write_request(&[(&[("__name__", "up"), ("job", "a")], &sent)]);
    let req = decode(&body, &Limits::default()).unwrap();
    let s = req.series(0);
    let v = whippet_prom_write::validate(&s, &Limits::default()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let want: Vec<(i64, u64)> = sent.iter().map(|(t, v)| (*t, v.to_bits())).collect();
    {
        let (engine, _) = Engine::open(dir.path(), EngineConfig::default()).unwrap();
        let id = engine
            .resolve(
                &SeriesKey::float(OrgId(1), v.metric, TagSet::new(v.tags())),
                MetricType::Gauge,
            )
            .unwrap();
        let points: Vec<FloatPoint> = s
            .samples
            .iter()
            .map(|x| FloatPoint {
                series: id,
                ts: x.ts,
                value: x.value,
            })
            .collect();
        let out = engine.append_floats(&points).unwrap();
        assert_eq!(out.accepted, 4);
        assert_eq!(read_bits(&engine, t - 1, now), want, "head");
        engine.close().unwrap();
    }
    let (engine, _) = Engine::open(dir.path(), EngineConfig::default()).unwrap();
    assert_eq!(read_bits(&engine, t - 1, now), want, "after WAL replay");
    engine.flush().unwrap();
    assert_eq!(read_bits(&engine, t - 1, now), want, "in a part");
    engine.close().unwrap();
}
