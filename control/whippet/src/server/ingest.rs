//! From parsed rows to stored points: resolve each series, append every
//! point of a request in one engine call, and count what was rejected and
//! why. Synchronous (the engine's calls block on a WAL write): callers run it
//! on a blocking thread.

use whippet_dd_intake::{CachedSeries, CheckRun, MetricRow, SketchRow, Target};
use whippet_tsdb::{
    Engine, Error, FloatPoint, MetricType, OrgId, RejectReason, SeriesId, SeriesKey, SketchPoint,
    TagSet,
};

use super::series_cache::SeriesCache;

/// The metric under which check-run statuses are stored: one series per
/// (check, host, tags), tagged `check:<name>`, with the status (0 OK,
/// 1 WARNING, 2 CRITICAL, 3 UNKNOWN) as a gauge. The last message is kept in
/// the metadata store.
pub const CHECK_STATUS_METRIC: &str = "service_check.status";

/// What one write stored and skipped.
#[derive(Debug, Default, PartialEq)]
pub struct Written {
    /// Points (or sketches) stored.
    pub points: usize,
    /// Points skipped, by reason code.
    pub rejected: Vec<(&'static str, usize)>,
}

impl Written {
    fn reject(&mut self, code: &'static str, n: usize) {
        if n == 0 {
            return;
        }
        match self.rejected.iter_mut().find(|(c, _)| *c == code) {
            Some((_, c)) => *c += n,
            None => self.rejected.push((code, n)),
        }
    }

    fn engine_rejections(&mut self, rejected: &[(usize, RejectReason)]) {
        for (_, r) in rejected {
            self.reject(r.code(), 1);
        }
    }
}

/// Resolves a series, mapping the errors a client caused to a skip reason.
fn resolve(
    engine: &Engine,
    key: &SeriesKey,
    mtype: MetricType,
) -> Result<Result<whippet_tsdb::SeriesId, &'static str>, Error> {
    match engine.resolve(key, mtype) {
        Ok(id) => Ok(Ok(id)),
        Err(Error::SeriesLimit { org, limit }) => {
            tracing::warn!(
                org = org.0,
                limit,
                "active series limit reached; series rejected"
            );
            Ok(Err("series_limit"))
        }
        Err(Error::InvalidSeries(why)) => {
            tracing::debug!(%why, "series rejected");
            Ok(Err("invalid_series"))
        }
        Err(e) => Err(e),
    }
}

/// Stores float rows for `org`.
pub fn write_metrics(engine: &Engine, org: OrgId, rows: &[MetricRow]) -> Result<Written, Error> {
    let keys = rows.iter().map(|row| {
        SeriesKey::float(
            org,
            row.metric.as_str(),
            TagSet::new(row.tags.iter().map(String::as_str)),
        )
    });
    write_floats(engine, rows, keys)
}

/// [`write_metrics`] that moves each row's name and tags into its series
/// key instead of copying them (the rows keep their points, with an empty
/// name and no tags): the HTTP intake's path, where the rows are dropped
/// after the write. Copying them was six allocations per series per
/// request on the protobuf and JSON ingest paths.
pub fn write_metrics_taking(
    engine: &Engine,
    org: OrgId,
    rows: &mut [MetricRow],
) -> Result<Written, Error> {
    let keys: Vec<SeriesKey> = rows
        .iter_mut()
        .map(|row| {
            SeriesKey::float(
                org,
                std::mem::take(&mut row.metric),
                TagSet::new(std::mem::take(&mut row.tags)),
            )
        })
        .collect();
    write_floats(engine, rows, keys)
}

/// Resolves each row's series (`keys`, one per row, in order) and appends
/// every point in one batch.
fn write_floats(
    engine: &Engine,
    rows: &[MetricRow],
    keys: impl IntoIterator<Item = SeriesKey>,
) -> Result<Written, Error> {
    let mut w = Written::default();
    let mut points = Vec::with_capacity(rows.iter().map(|r| r.points.len()).sum());
    for (row, key) in rows.iter().zip(keys) {
        match resolve(engine, &key, row.mtype)? {
            Ok(id) => points.extend(row.points.iter().map(|&(ts, value)| FloatPoint {
                series: id,
                ts,
                value,
            })),
            Err(code) => w.reject(code, row.points.len()),
        }
    }
    let out = engine.append_floats(&points)?;
    w.points = out.accepted;
    w.engine_rejections(&out.rejected);
    Ok(w)
}

/// Stores a `MetricPayload` parsed against the series cache: resolves the
/// series the cache did not know and remembers them, records the known
/// series' metric types where another path changed them, and appends every
/// point in one engine call, in body order (so a series sent twice in one
/// body ends as if it had been parsed without the cache).
pub fn write_cached_series(
    engine: &Engine,
    cache: &SeriesCache,
    org: OrgId,
    batch: &mut CachedSeries<(SeriesId, MetricType)>,
) -> Result<Written, Error> {
    let mut w = Written::default();
    let mut learned = Vec::new();
    let mut new_ids = Vec::with_capacity(batch.new_series.rows.len());
    for s in &mut batch.new_series.rows {
        let key = SeriesKey::float(
            org,
            std::mem::take(&mut s.metric),
            TagSet::new(std::mem::take(&mut s.tags)),
        );
        let id = resolve(engine, &key, s.mtype)?;
        if let Ok(id) = id {
            learned.push((org, s.ident, id, s.mtype));
        }
        new_ids.push(id);
    }
    let known: Vec<(SeriesId, MetricType)> = batch
        .runs
        .iter()
        .filter_map(|(t, _)| match t {
            Target::Known(k) => Some(*k),
            Target::New(_) => None,
        })
        .collect();
    engine.ensure_types(&known)?;
    let mut points = Vec::with_capacity(batch.points.len());
    let mut at = 0;
    for &(target, n) in &batch.runs {
        let run = &batch.points[at..at + n];
        at += n;
        let id = match target {
            Target::Known((id, _)) => id,
            Target::New(i) => match new_ids[i] {
                Ok(id) => id,
                Err(code) => {
                    w.reject(code, n);
                    continue;
                }
            },
        };
        points.extend(run.iter().map(|&(ts, value)| FloatPoint {
            series: id,
            ts,
            value,
        }));
    }
    let out = engine.append_floats(&points)?;
    w.points = out.accepted;
    w.engine_rejections(&out.rejected);
    cache.insert(learned);
    Ok(w)
}

/// Stores sketch rows for `org`.
pub fn write_sketches(engine: &Engine, org: OrgId, rows: &[SketchRow]) -> Result<Written, Error> {
    let mut w = Written::default();
    let mut points = Vec::new();
    for row in rows {
        let key = SeriesKey::sketch(
            org,
            row.metric.as_str(),
            TagSet::new(row.tags.iter().map(String::as_str)),
        );
        match resolve(engine, &key, MetricType::Distribution)? {
            Ok(id) => points.extend(row.points.iter().map(|(ts, sk)| SketchPoint {
                series: id,
                ts: *ts,
                sketch: sk.clone(),
            })),
            Err(code) => w.reject(code, row.points.len()),
        }
    }
    let out = engine.append_sketches(&points)?;
    w.points = out.accepted;
    w.engine_rejections(&out.rejected);
    Ok(w)
}

/// The tags of a check run's status series.
pub fn check_tags(run: &CheckRun) -> Vec<String> {
    let mut tags = run.tags.clone();
    tags.push(format!("check:{}", run.check));
    if let Some(h) = &run.host {
        tags.push(format!("host:{h}"));
    }
    tags
}

/// Stores check runs as status points (`now_ms` when a run has no timestamp).
pub fn write_check_runs(
    engine: &Engine,
    org: OrgId,
    runs: &[CheckRun],
    now_ms: i64,
) -> Result<Written, Error> {
    let rows: Vec<MetricRow> = runs
        .iter()
        .map(|r| MetricRow {
            metric: CHECK_STATUS_METRIC.to_owned(),
            tags: check_tags(r),
            mtype: MetricType::Gauge,
            points: vec![(r.timestamp_ms.unwrap_or(now_ms), f64::from(r.status))],
        })
        .collect();
    write_metrics(engine, org, &rows)
}
