//! The Datadog metric intake endpoints: series v1/v2, distribution points,
//! sketches, check runs, and key validation. Each request goes through the
//! same steps ([`ingest_request`]): admission (a bounded number at once),
//! API key, body size, decompression, parsing (all of it, before anything is
//! stored: a malformed payload stores nothing), the engine's load, then one
//! write on a blocking thread. Every outcome is counted.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use whippet_dd_intake::{self as dd, IntakeError, Parsed, Rejected, limits};
use whippet_tsdb::{Engine, OrgId};

use super::AppState;
use super::auth::api_org;
use super::error::{ApiError, json};
use super::ingest::{self, Written};
use super::selfmon::names;

/// Most bytes of an oversized body read and thrown away before answering
/// 413. Answering without reading makes the connection close under a client
/// still sending, which then sees a broken pipe instead of the 413; past
/// this much, a client is not worth the bandwidth and gets the broken pipe.
const MAX_DRAIN_BYTES: usize = 64 << 20;

/// Reads a request body of at most `limit` bytes. Over the limit: 413.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<bytes::Bytes, ApiError> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        if len <= MAX_DRAIN_BYTES {
            use futures_util::StreamExt;
            let mut stream = body.into_data_stream();
            while let Some(Ok(_)) = stream.next().await {}
        }
        return Err(ApiError::too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let text = e.to_string();
        if text.contains("length limit") {
            ApiError::too_large(limit)
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {text}"),
            )
        }
    })
}

fn intake_error(e: IntakeError) -> ApiError {
    ApiError::new(
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        e.message(),
    )
}

fn content_encoding(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
}

fn is_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-protobuf"))
}

/// The size limits of one endpoint.
#[derive(Clone, Copy)]
pub struct Limits {
    /// Request body as sent.
    pub body: usize,
    /// Body after decompression.
    pub decompressed: usize,
}

/// v1 JSON endpoints (SaaS values).
pub const V1_LIMITS: Limits = Limits {
    body: limits::V1_MAX_BODY,
    decompressed: limits::V1_MAX_DECOMPRESSED,
};
/// v2 series and agent payloads (SaaS values).
pub const V2_LIMITS: Limits = Limits {
    body: limits::V2_MAX_BODY,
    decompressed: limits::V2_MAX_DECOMPRESSED,
};

/// What a parser hands its writer: the parsed series, with those it
/// skipped (counted before the write).
pub trait Batch: Send + 'static {
    /// The series the parser skipped.
    fn rejected(&self) -> &[Rejected];
}

impl<T: Send + 'static> Batch for Parsed<T> {
    fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }
}

impl<K: Send + 'static> Batch for dd::CachedSeries<K> {
    fn rejected(&self) -> &[Rejected] {
        &self.new_series.rejected
    }
}

/// Runs one intake request: admission, key, body, parse, write. `parse`
/// turns the decompressed body into rows; `write` stores them.
pub async fn ingest_request<T: Send + 'static>(
    state: &AppState,
    endpoint: (&'static str, Limits),
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: Body,
    parse: impl FnOnce(&[u8]) -> Result<Parsed<T>, IntakeError>,
    write: fn(&Engine, OrgId, &mut [T], i64) -> Result<Written, whippet_tsdb::Error>,
) -> Result<(OrgId, Vec<T>), ApiError> {
    let (org, parsed) = ingest_batch(
        state,
        endpoint,
        headers,
        query,
        body,
        |_, bytes| parse(bytes),
        move |e, o, p: &mut Parsed<T>, now| write(e, o, &mut p.rows, now),
    )
    .await?;
    Ok((org, parsed.rows))
}

/// [`ingest_request`] for any [`Batch`]: `parse` gets the request's org
/// too, and `write` the whole batch.
pub async fn ingest_batch<B: Batch>(
    state: &AppState,
    (endpoint, limits): (&'static str, Limits),
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: Body,
    parse: impl FnOnce(OrgId, &[u8]) -> Result<B, IntakeError>,
    write: impl FnOnce(&Engine, OrgId, &mut B, i64) -> Result<Written, whippet_tsdb::Error>
    + Send
    + 'static,
) -> Result<(OrgId, B), ApiError> {
    let started = Instant::now();
    let result = async {
        let _permit = state
            .admission
            .try_acquire()
            .map_err(|_| ApiError::unavailable("Too many requests in flight; retry shortly", 1))?;
        let org = api_org(&state.meta, headers, query).await?;
        let raw = read_body(headers, body, limits.body).await?;
        state
            .selfmon
            .add(names::BYTES, &[("endpoint", endpoint)], raw.len() as f64);
        let parsed = {
            let bytes = dd::body::decode_body(content_encoding(headers), &raw, limits.decompressed)
                .map_err(intake_error)?;
            parse(org, &bytes).map_err(intake_error)?
        };
        for r in parsed.rejected() {
            state.selfmon.add(
                names::REJECTED,
                &[("endpoint", endpoint), ("reason", r.reason.code())],
                1.0,
            );
        }
        if state.engine.overloaded() {
            return Err(ApiError::unavailable(
                "The storage engine is catching up; retry shortly",
                1,
            ));
        }
        let engine = state.engine.clone();
        let now = now_ms();
        let (written, rows) = tokio::task::spawn_blocking(move || {
            let mut rows = parsed;
            let w = write(&engine, org, &mut rows, now);
            (w, rows)
        })
        .await
        .map_err(|e| ApiError::internal("intake write task", e))?;
        let written = written.map_err(|e| match e {
            whippet_tsdb::Error::WritesStopped { .. } | whippet_tsdb::Error::Closed => {
                ApiError::unavailable("Storage is not accepting writes", 30)
            }
            e => ApiError::internal("writing points", e),
        })?;
        state.selfmon.add(
            names::POINTS,
            &[("endpoint", endpoint)],
            written.points as f64,
        );
        for (code, n) in &written.rejected {
            state.selfmon.add(
                names::REJECTED,
                &[("endpoint", endpoint), ("reason", code)],
                *n as f64,
            );
        }
        Ok((org, rows))
    }
    .await;
    let status = match &result {
        Ok(_) => "202".to_owned(),
        Err(e) => e.status.as_u16().to_string(),
    };
    state.selfmon.add(
        names::REQUESTS,
        &[("endpoint", endpoint), ("status", &status)],
        1.0,
    );
    state.selfmon.add(
        names::REQUEST_SECONDS,
        &[("endpoint", endpoint)],
        started.elapsed().as_secs_f64(),
    );
    result
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn v1_ok() -> Response {
    json(StatusCode::ACCEPTED, json!({"status": "ok"}))
}

/// `POST /api/v1/series`.
pub async fn series_v1(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match ingest_request(
        &s,
        ("series_v1", V1_LIMITS),
        &headers,
        &q,
        body,
        dd::parse_series_v1,
        |e, o, r, _| ingest::write_metrics_taking(e, o, r),
    )
    .await
    {
        Ok(_) => v1_ok(),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v2/series`: JSON, or the Agent's protobuf `MetricPayload`.
pub async fn series_v2(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = if is_protobuf(&headers) {
        let state = s.clone();
        ingest_batch(
            &s,
            ("series_v2", V2_LIMITS),
            &headers,
            &q,
            body,
            |org, bytes| {
                let known = s.series_cache.reader();
                dd::parse_series_v2_protobuf_cached(bytes, |ident| known.get(org, ident))
            },
            move |e, o, batch, _| ingest::write_cached_series(e, &state.series_cache, o, batch),
        )
        .await
        .map(drop)
    } else {
        ingest_request(
            &s,
            ("series_v2", V2_LIMITS),
            &headers,
            &q,
            body,
            dd::parse_series_v2_json,
            |e, o, r, _| ingest::write_metrics_taking(e, o, r),
        )
        .await
        .map(drop)
    };
    match result {
        Ok(_) => json(StatusCode::ACCEPTED, json!({"errors": []})),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v1/distribution_points`.
pub async fn distribution_points(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match ingest_request(
        &s,
        ("distribution_points", V1_LIMITS),
        &headers,
        &q,
        body,
        dd::parse_distribution_points,
        |e, o, r, _| ingest::write_sketches(e, o, r),
    )
    .await
    {
        Ok(_) => v1_ok(),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/beta/sketches`: the Agent's protobuf `SketchPayload`.
pub async fn sketches(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match ingest_request(
        &s,
        ("sketches", V2_LIMITS),
        &headers,
        &q,
        body,
        dd::parse_sketches_protobuf,
        |e, o, r, _| ingest::write_sketches(e, o, r),
    )
    .await
    {
        Ok(_) => json(StatusCode::ACCEPTED, json!({})),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v1/check_run`: object or array.
pub async fn check_run(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = ingest_request(
        &s,
        ("check_run", V1_LIMITS),
        &headers,
        &q,
        body,
        dd::parse_check_runs,
        |e, o, r, now| ingest::write_check_runs(e, o, r, now),
    )
    .await;
    match result {
        Ok((org, runs)) => {
            let now = now_ms();
            for r in &runs {
                let tags = ingest::check_tags(r);
                if let Err(e) = s
                    .meta
                    .record_check_run(
                        org,
                        &r.check,
                        r.host.as_deref(),
                        &tags,
                        r.status,
                        &r.message,
                        r.timestamp_ms.unwrap_or(now),
                    )
                    .await
                {
                    return ApiError::internal("recording a check run", e).into_response();
                }
            }
            s.selfmon
                .add(names::CHECK_RUNS, &[("source", "api")], runs.len() as f64);
            v1_ok()
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/validate`.
pub async fn validate(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match api_org(&s.meta, &headers, &q).await {
        Ok(_) => json(StatusCode::OK, json!({"valid": true})),
        Err(e) => e.into_response(),
    }
}

/// Agent intake paths Whippet does not use yet (`/intake/`, host metadata,
/// ...): accepted (202 `{}`) with a valid API key, so the Agent does not
/// retry them forever, and logged once per path at debug level.
pub async fn accept_and_ignore(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Body,
) -> Response {
    if let Err(e) = api_org(&s.meta, &headers, &q).await {
        return e.into_response();
    }
    if let Err(e) = read_body(&headers, body, V1_LIMITS.body).await {
        return e.into_response();
    }
    tracing::debug!(path = %uri.path(), "accepted and ignored an agent payload");
    s.selfmon.add(
        names::REQUESTS,
        &[("endpoint", "ignored"), ("status", "202")],
        1.0,
    );
    json(StatusCode::ACCEPTED, json!({}))
}
