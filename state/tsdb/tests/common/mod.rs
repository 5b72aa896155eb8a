//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use std::path::Path;

use whippet_tsdb::{
    Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, ReadBuffers, SeriesId, SeriesKey,
    TagSet,
};

/// 2026-11-26T00:00:00Z in milliseconds.
pub const NOW: i64 = 1_795_651_200_000;
pub const ORG: OrgId = OrgId(1);

/// A config with a pinned clock and no background threads: tests drive cuts,
/// flushes and merges themselves.
pub fn manual_config() -> EngineConfig {
    EngineConfig {
        clock: Clock::manual(NOW),
        background_tasks: false,
        ..EngineConfig::default()
    }
}

pub fn open(dir: &Path) -> Engine {
    open_with(dir, manual_config())
}

pub fn open_with(dir: &Path, cfg: EngineConfig) -> Engine {
    let (e, report) = Engine::open(dir, cfg).expect("open engine");
    assert!(
        report.damage.is_empty(),
        "unexpected damage: {:?}",
        report.damage
    );
    e
}

pub fn key(metric: &str, tags: &[&str]) -> SeriesKey {
    SeriesKey::float(ORG, metric, TagSet::new(tags.iter().copied()))
}

pub fn gauge(e: &Engine, metric: &str, tags: &[&str]) -> SeriesId {
    e.resolve(&key(metric, tags), MetricType::Gauge)
        .expect("resolve")
}

pub fn pt(series: SeriesId, ts: i64, value: f64) -> FloatPoint {
    FloatPoint { series, ts, value }
}

/// Every point of `id` in `[start, end)` as (ts, value) pairs.
pub fn points_of(e: &Engine, id: SeriesId, start: i64, end: i64) -> Vec<(i64, f64)> {
    let key = e.series_key(id).expect("series exists");
    let sel = whippet_tsdb::Selector::And(
        std::iter::once(whippet_tsdb::Selector::Metric(key.metric.clone()))
            .chain(
                key.tags
                    .as_slice()
                    .iter()
                    .map(|t| whippet_tsdb::Selector::Tag(t.clone())),
            )
            .collect(),
    );
    let view = e.read(key.org, &sel, start, end).expect("read");
    let i = view
        .series()
        .iter()
        .position(|s| s.id == id)
        .expect("selected");
    let mut buf = ReadBuffers::default();
    let (ts, vals) = view.floats(i, &mut buf).expect("floats");
    ts.iter().copied().zip(vals.iter().copied()).collect()
}
