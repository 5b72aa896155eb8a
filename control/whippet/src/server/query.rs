//! The metric query APIs: `GET /api/v1/query`, `POST /api/v2/query/timeseries`,
//! `POST /api/v2/query/scalar`, and discovery for autocomplete
//! (`GET /api/v1/metrics`, `GET /api/v1/search?q=metrics:`,
//! `GET /api/v2/metrics/{metric}/all-tags`). All need both keys and only see
//! the keys' org. Parsing is `whippet-ddql`; evaluation is `whippet-query`,
//! run on a blocking thread.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::ser::Formatter;
use whippet_query::{FormulaLimit, QueryError, SeriesResult};
use whippet_tsdb::Selector;

use super::AppState;
use super::auth::app_org;
use super::error::{ApiError, json, json_body, json_bytes};
use super::intake::{V1_LIMITS, read_body};

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Storage(e) => ApiError::internal("evaluating a query", e),
            other => ApiError::new(
                StatusCode::from_u16(other.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
                other.to_string(),
            ),
        }
    }
}

fn parse_error(e: whippet_ddql::ParseError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// Queries estimated to read at most this many raw points
/// ([`whippet_query::QueryEngine::cost_hint`]) are answered on the async
/// worker that received them: about a millisecond of work at most (the
/// engine aggregates over 100 M points/s per core), where handing them to a
/// blocking thread and back costs tens of microseconds, a third of a
/// one-series query. Larger ones go to the blocking pool, so a heavy query
/// never stalls the intake on that worker.
const INLINE_MAX_POINTS: u64 = 100_000;

/// Seconds (possibly fractional) from a query parameter.
fn secs_param(q: &HashMap<String, String>, name: &str) -> Result<i64, ApiError> {
    let v = q
        .get(name)
        .ok_or_else(|| ApiError::bad_request(format!("Missing parameter: {name}")))?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .map(|x| (x * 1000.0) as i64)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Parameter {name} must be a Unix timestamp in seconds, got `{v}`"
            ))
        })
}

/// The answer of `GET /api/v1/query` (spec 6.1.3), serialised straight from
/// the engine's series: no intermediate JSON tree, since a 100-series answer
/// at full resolution holds some 70 000 points.
#[derive(Serialize)]
struct V1Answer<'a> {
    status: &'static str,
    res_type: &'static str,
    resp_version: u32,
    query: &'a str,
    from_date: i64,
    to_date: i64,
    group_by: Vec<&'a str>,
    message: &'static str,
    times: [u8; 0],
    values: [u8; 0],
    series: Vec<V1Series<'a>>,
}

#[derive(Serialize)]
struct V1Series<'a> {
    metric: &'a str,
    display_name: &'a str,
    expression: &'a str,
    scope: &'a str,
    tag_set: &'a [String],
    aggr: Option<&'a str>,
    interval: u32,
    length: usize,
    start: i64,
    end: i64,
    pointlist: PointList<'a>,
    unit: [Option<u8>; 2],
    query_index: usize,
    attributes: Empty,
}

/// `{}`.
#[derive(Serialize)]
struct Empty {}

/// `[[t_ms, value], ...]` with the timestamp as a float, as Datadog sends it.
struct PointList<'a>(&'a [(i64, Option<f64>)]);

impl Serialize for PointList<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(Some(self.0.len()))?;
        for &(t, v) in self.0 {
            seq.serialize_element(&(t as f64, v))?;
        }
        seq.end()
    }
}

/// Writes `a` as its derived `Serialize` would (same bytes; a test checks
/// it), with the point lists written by a plain loop: they are nearly all of
/// a large answer, and going through serde's per-element dispatch cost a
/// third of the time of serialising one (2026-11-26, 100 series × 720
/// points).
fn write_v1_answer(out: &mut Vec<u8>, a: &V1Answer<'_>) -> serde_json::Result<()> {
    use std::io::Write;
    fn field(out: &mut Vec<u8>, first: bool, key: &str) {
        if !first {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    }
    fn value(out: &mut Vec<u8>, v: &impl Serialize) -> serde_json::Result<()> {
        serde_json::to_writer(&mut *out, v)
    }
    out.push(b'{');
    field(out, true, "status");
    value(out, &a.status)?;
    field(out, false, "res_type");
    value(out, &a.res_type)?;
    field(out, false, "resp_version");
    value(out, &a.resp_version)?;
    field(out, false, "query");
    value(out, &a.query)?;
    field(out, false, "from_date");
    value(out, &a.from_date)?;
    field(out, false, "to_date");
    value(out, &a.to_date)?;
    field(out, false, "group_by");
    value(out, &a.group_by)?;
    field(out, false, "message");
    value(out, &a.message)?;
    field(out, false, "times");
    value(out, &a.times)?;
    field(out, false, "values");
    value(out, &a.values)?;
    field(out, false, "series");
    out.push(b'[');
    for (i, s) in a.series.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        field(out, true, "metric");
        value(out, &s.metric)?;
        field(out, false, "display_name");
        value(out, &s.display_name)?;
        field(out, false, "expression");
        value(out, &s.expression)?;
        field(out, false, "scope");
        value(out, &s.scope)?;
        field(out, false, "tag_set");
        value(out, &s.tag_set)?;
        field(out, false, "aggr");
        value(out, &s.aggr)?;
        field(out, false, "interval");
        value(out, &s.interval)?;
        field(out, false, "length");
        value(out, &s.length)?;
        field(out, false, "start");
        value(out, &s.start)?;
        field(out, false, "end");
        value(out, &s.end)?;
        field(out, false, "pointlist");
        out.push(b'[');
        let mut f = super::jsonfmt::WholeFloats;
        for (j, &(t, v)) in s.pointlist.0.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.push(b'[');
            f.write_f64(out, t as f64).map_err(serde_json::Error::io)?;
            out.push(b',');
            match v {
                Some(v) if v.is_finite() => f.write_f64(out, v).map_err(serde_json::Error::io)?,
                _ => out.extend_from_slice(b"null"),
            }
            out.push(b']');
        }
        out.push(b']');
        field(out, false, "unit");
        value(out, &s.unit)?;
        field(out, false, "query_index");
        value(out, &s.query_index)?;
        field(out, false, "attributes");
        out.write_all(b"{}").map_err(serde_json::Error::io)?;
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

impl<'a> V1Series<'a> {
    fn of(s: &'a SeriesResult) -> Self {
        let interval_ms = i64::from(s.interval_secs) * 1000;
        V1Series {
            metric: &s.metric,
            display_name: &s.display_name,
            expression: &s.expression,
            scope: &s.scope,
            tag_set: &s.tag_set,
            aggr: s.aggr.as_deref(),
            interval: s.interval_secs,
            length: s.points.len(),
            start: s.points.first().map_or(0, |p| p.0),
            end: s.points.last().map_or(0, |p| p.0 + interval_ms - 1000),
            pointlist: PointList(&s.points),
            unit: [None, None],
            query_index: s.query_index,
            attributes: Empty {},
        }
    }
}

/// `GET /api/v1/query?from=&to=&query=`.
pub async fn query_v1(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        let org = app_org(&s.meta, &headers, &q).await?;
        let from = secs_param(&q, "from")?;
        let to = secs_param(&q, "to")?;
        let text = q
            .get("query")
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("Missing parameter: query"))?
            .clone();
        let req = whippet_ddql::parse_request(&text).map_err(parse_error)?;
        let engine = s.query.clone();
        let series = if engine.cost_hint(org, &req.exprs, &[], from, to) <= INLINE_MAX_POINTS {
            engine.query(org, &text, &req, from, to)?
        } else {
            let t = text.clone();
            tokio::task::spawn_blocking(move || engine.query(org, &t, &req, from, to))
                .await
                .map_err(|e| ApiError::internal("query task", e))??
        };
        let mut group_by: Vec<&str> = Vec::new();
        for sr in &series {
            for tag in &sr.tag_set {
                let key = tag.split_once(':').map_or(tag.as_str(), |(k, _)| k);
                if !group_by.contains(&key) {
                    group_by.push(key);
                }
            }
        }
        // About 25 bytes a point and 300 a series around them.
        let size: usize = series.iter().map(|s| 300 + 25 * s.points.len()).sum();
        let answer = V1Answer {
            status: "ok",
            res_type: "time_series",
            resp_version: 1,
            query: &text,
            from_date: from,
            to_date: to,
            group_by,
            message: "",
            times: [],
            values: [],
            series: series.iter().map(V1Series::of).collect(),
        };
        let mut body = Vec::with_capacity(size + 512);
        write_v1_answer(&mut body, &answer)
            .map_err(|e| ApiError::internal("serialising the answer", e))?;
        Ok::<_, ApiError>(json_bytes(StatusCode::OK, body))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct V2Request {
    data: V2Data,
}

#[derive(Deserialize)]
struct V2Data {
    #[serde(rename = "type")]
    kind: Option<String>,
    attributes: V2Attributes,
}

#[derive(Deserialize)]
struct V2Attributes {
    from: i64,
    to: i64,
    interval: Option<i64>,
    queries: Vec<V2Query>,
    #[serde(default)]
    formulas: Vec<V2Formula>,
}

#[derive(Deserialize)]
struct V2Query {
    data_source: Option<String>,
    name: Option<String>,
    query: String,
    aggregator: Option<String>,
}

#[derive(Deserialize)]
struct V2Formula {
    formula: String,
    limit: Option<V2Limit>,
}

#[derive(Deserialize)]
struct V2Limit {
    count: Option<usize>,
    order: Option<String>,
}

/// A parsed v2 request, ready for the engine.
struct V2Parsed {
    from: i64,
    to: i64,
    interval: Option<i64>,
    queries: Vec<(String, String, whippet_ddql::MetricQuery)>,
    aggregators: Vec<Option<String>>,
    formulas: Vec<(String, whippet_ddql::Expr, Option<FormulaLimit>)>,
}

fn parse_v2(body: &[u8], want_type: &str) -> Result<V2Parsed, ApiError> {
    let req: V2Request = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))?;
    if let Some(k) = &req.data.kind
        && k != want_type
    {
        return Err(ApiError::bad_request(format!(
            "data.type must be `{want_type}`, got `{k}`"
        )));
    }
    let a = req.data.attributes;
    if a.queries.is_empty() {
        return Err(ApiError::bad_request("At least one query is required"));
    }
    let mut queries = Vec::new();
    let mut aggregators = Vec::new();
    for (i, q) in a.queries.into_iter().enumerate() {
        if let Some(ds) = &q.data_source
            && ds != "metrics"
        {
            return Err(ApiError::bad_request(format!(
                "queries[{i}]: data source `{ds}` is not supported; use `metrics`"
            )));
        }
        let name = q.name.unwrap_or_else(|| format!("query{}", i + 1));
        let mq = whippet_ddql::parse_metric_query(&q.query)
            .map_err(|e| ApiError::bad_request(format!("queries[{i}] ({name}): {e}")))?;
        queries.push((name, q.query, mq));
        aggregators.push(q.aggregator);
    }
    let mut formulas = Vec::new();
    for (i, f) in a.formulas.into_iter().enumerate() {
        let expr = whippet_ddql::parse_formula(&f.formula)
            .map_err(|e| ApiError::bad_request(format!("formulas[{i}]: {e}")))?;
        let limit = f.limit.and_then(|l| {
            l.count.map(|count| FormulaLimit {
                count,
                descending: l.order.as_deref() != Some("asc"),
            })
        });
        formulas.push((f.formula, expr, limit));
    }
    Ok(V2Parsed {
        from: a.from,
        to: a.to,
        interval: a.interval,
        queries,
        aggregators,
        formulas,
    })
}

async fn v2_common(
    s: &AppState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    body: Body,
    want_type: &str,
) -> Result<(V2Parsed, whippet_query::FormulaResult), ApiError> {
    let org = app_org(&s.meta, headers, q).await?;
    let raw = read_body(headers, body, V1_LIMITS.body).await?;
    let parsed = parse_v2(&raw, want_type)?;
    let engine = s.query.clone();
    let (from, to, interval) = (parsed.from, parsed.to, parsed.interval);
    let leaves: Vec<&whippet_ddql::MetricQuery> = parsed.queries.iter().map(|q| &q.2).collect();
    let hint = engine.cost_hint(org, std::iter::empty(), &leaves, from, to);
    let result = if hint <= INLINE_MAX_POINTS {
        engine.query_formulas(org, &parsed.queries, &parsed.formulas, from, to, interval)?
    } else {
        let (queries, formulas) = (parsed.queries.clone(), parsed.formulas.clone());
        tokio::task::spawn_blocking(move || {
            engine.query_formulas(org, &queries, &formulas, from, to, interval)
        })
        .await
        .map_err(|e| ApiError::internal("query task", e))??
    };
    Ok((parsed, result))
}

/// The answer of `POST /api/v2/query/timeseries`, serialised from the
/// engine's result without an intermediate JSON tree.
#[derive(Serialize)]
struct TimeseriesAnswer<'a> {
    data: TimeseriesData<'a>,
}

#[derive(Serialize)]
struct TimeseriesData<'a> {
    id: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    attributes: TimeseriesAttributes<'a>,
}

#[derive(Serialize)]
struct TimeseriesAttributes<'a> {
    times: &'a [i64],
    series: Vec<TimeseriesMeta<'a>>,
    values: Vec<&'a [Option<f64>]>,
}

#[derive(Serialize)]
struct TimeseriesMeta<'a> {
    group_tags: &'a [String],
    query_index: usize,
    unit: [Option<u8>; 2],
}

/// `POST /api/v2/query/timeseries`.
pub async fn timeseries_v2(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match v2_common(&s, &headers, &q, body, "timeseries_request").await {
        Ok((_, r)) => {
            let size = 512
                + 16 * r.times.len()
                + r.series
                    .iter()
                    .map(|x| 100 + 20 * x.values.len())
                    .sum::<usize>();
            json_body(
                StatusCode::OK,
                &TimeseriesAnswer {
                    data: TimeseriesData {
                        id: "0",
                        kind: "timeseries_response",
                        attributes: TimeseriesAttributes {
                            times: &r.times,
                            series: r
                                .series
                                .iter()
                                .map(|x| TimeseriesMeta {
                                    group_tags: &x.group_tags,
                                    query_index: x.query_index,
                                    unit: [None, None],
                                })
                                .collect(),
                            values: r.series.iter().map(|x| x.values.as_slice()).collect(),
                        },
                    },
                },
                size,
            )
        }
        Err(e) => e.into_response(),
    }
}

/// Reduces a series to one number with a v2 scalar aggregator.
fn scalar(values: &[Option<f64>], agg: &str) -> Option<f64> {
    let v: Vec<f64> = values.iter().flatten().copied().collect();
    if v.is_empty() {
        return None;
    }
    Some(match agg {
        "sum" => v.iter().sum(),
        "min" => v.iter().copied().fold(f64::INFINITY, f64::min),
        "max" => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "last" => *v.last().expect("non-empty"),
        _ => v.iter().sum::<f64>() / v.len() as f64,
    })
}

/// `POST /api/v2/query/scalar`.
pub async fn scalar_v2(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match v2_common(&s, &headers, &q, body, "scalar_request").await {
        Ok((parsed, r)) => {
            let mut columns = Vec::new();
            let group_cols: Vec<Vec<String>> =
                r.series.iter().map(|x| x.group_tags.clone()).collect();
            if group_cols.iter().any(|g| !g.is_empty()) {
                columns.push(json!({"name": "group", "type": "group", "values": group_cols}));
            }
            let names: Vec<String> = if parsed.formulas.is_empty() {
                parsed.queries.iter().map(|q| q.0.clone()).collect()
            } else {
                parsed.formulas.iter().map(|f| f.0.clone()).collect()
            };
            for (idx, name) in names.iter().enumerate() {
                let agg = parsed
                    .aggregators
                    .get(idx)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| "avg".into());
                let values: Vec<Option<f64>> = r
                    .series
                    .iter()
                    .map(|x| {
                        if x.query_index == idx {
                            scalar(&x.values, &agg)
                        } else {
                            None
                        }
                    })
                    .collect();
                columns.push(json!({"name": name, "type": "number", "values": values, "meta": {"unit": [null, null]}}));
            }
            json(
                StatusCode::OK,
                json!({"data": {"type": "scalar_response", "attributes": {"columns": columns}}}),
            )
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/metrics?from=`: the org's metric names.
pub async fn list_metrics(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        let org = app_org(&s.meta, &headers, &q).await?;
        let from = q.get("from").cloned().unwrap_or_default();
        let metrics = s.engine.metric_names(org, None);
        Ok::<_, ApiError>(json(
            StatusCode::OK,
            json!({"metrics": metrics, "from": from}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /api/v1/search?q=metrics:<prefix>`.
pub async fn search(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        let org = app_org(&s.meta, &headers, &q).await?;
        let text = q.get("q").map(String::as_str).unwrap_or("");
        let prefix = text.strip_prefix("metrics:").unwrap_or(text).trim();
        let pattern = format!("{prefix}*");
        let metrics = s.engine.metric_names(org, Some(&pattern));
        Ok::<_, ApiError>(json(
            StatusCode::OK,
            json!({"results": {"metrics": metrics}}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /api/v2/metrics/{metric}/all-tags`: every tag of a metric's series
/// (the autocomplete of tag keys and values reads it).
pub async fn all_tags(
    State(s): State<AppState>,
    Path(metric): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        let org = app_org(&s.meta, &headers, &q).await?;
        let tags = s.engine.tags(org, &Selector::Metric(metric.clone()));
        if tags.is_empty() && s.engine.metric_names(org, Some(&metric)).is_empty() {
            return Err(ApiError::not_found(format!("Metric {metric} not found")));
        }
        Ok(json(
            StatusCode::OK,
            json!({"data": {"type": "metrics", "id": metric, "attributes": {"tags": tags}}}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Counts each metric query request and its seconds
/// (`whippet.query.requests` by endpoint and status,
/// `whippet.query.request.seconds` by endpoint), as a layer on the query
/// routes and Prometheus' API; `endpoint` names the route (`prom_other`:
/// Prometheus' metadata routes).
pub async fn timed(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let endpoint = match req.uri().path() {
        "/api/v1/query" => "v1_query",
        "/api/v2/query/timeseries" => "v2_timeseries",
        "/api/v2/query/scalar" => "v2_scalar",
        "/prometheus/api/v1/query" => "prom_query",
        "/prometheus/api/v1/query_range" => "prom_query_range",
        p if p.starts_with("/prometheus/") => "prom_other",
        _ => "other",
    };
    let started = std::time::Instant::now();
    let r = next.run(req).await;
    s.selfmon.add(
        super::selfmon::names::QUERY_REQUESTS,
        &[("endpoint", endpoint), ("status", r.status().as_str())],
        1.0,
    );
    s.selfmon.add(
        super::selfmon::names::QUERY_SECONDS,
        &[("endpoint", endpoint)],
        started.elapsed().as_secs_f64(),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: Vec<(i64, Option<f64>)>, aggr: Option<&str>) -> SeriesResult {
        SeriesResult {
            metric: "m.cpu".into(),
            display_name: "m.cpu".into(),
            expression: "avg:m.cpu{host:\"a\\\\b\"} by {host}".into(),
            scope: "host:é".into(),
            tag_set: vec!["host:é".into()],
            aggr: aggr.map(str::to_owned),
            interval_secs: 20,
            points,
            query_index: 1,
        }
    }

    #[test]
    fn the_hand_written_answer_is_the_derived_one_byte_for_byte() {
        let all = [
            series(
                vec![
                    (1_764_122_400_000, Some(42.5)),
                    (1_764_122_420_000, None),
                    (1_764_122_440_000, Some(-0.0)),
                    (1_764_122_460_000, Some(1e-7)),
                    (1_764_122_480_000, Some(3.0)),
                    (1_764_122_500_000, Some(1e300)),
                ],
                Some("avg"),
            ),
            series(vec![(0, Some(f64::MAX))], None),
        ];
        for s in [&all[..0], &all[..1], &all[..]] {
            let a = V1Answer {
                status: "ok",
                res_type: "time_series",
                resp_version: 1,
                query: "avg:m.cpu{*} by {host}, \"q\"",
                from_date: 1_764_122_400_000,
                to_date: 1_764_126_000_000,
                group_by: vec!["host"],
                message: "",
                times: [],
                values: [],
                series: s.iter().map(V1Series::of).collect(),
            };
            let mut ours = Vec::new();
            write_v1_answer(&mut ours, &a).unwrap();
            let derived = crate::server::jsonfmt::to_vec(&a, 0).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(derived).unwrap()
            );
        }
    }
}
