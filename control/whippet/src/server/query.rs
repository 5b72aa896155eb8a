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
use whippet_query::{FormulaLimit, QueryError, SeriesResult};
use whippet_tsdb::Selector;

use super::AppState;
use super::auth::app_org;
use super::error::{ApiError, json, json_body};
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
        // About 30 bytes a point and 300 a series around them.
        let size: usize = series.iter().map(|s| 300 + 30 * s.points.len()).sum();
        Ok::<_, ApiError>(json_body(
            StatusCode::OK,
            &V1Answer {
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
            },
            size + 512,
        ))
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
