//! Prometheus' HTTP API under `/prometheus/api/v1/` (issue 8), so that
//! Grafana's Prometheus datasource (URL `http://<host>:8080/prometheus`)
//! and other Prometheus clients read Whippet's data through PromQL. The
//! prefix keeps it apart from Datadog's `/api/v1/query`.
//!
//! Owns: the routes, their parameters and defaults, the org of the request
//! (Datadog's two keys as headers, or HTTP basic auth with user = API key
//! and password = application key, or the web UI's session cookie), and
//! the answers, in Prometheus 2.42's JSON byte for byte (`json.rs`) with
//! its error types and status codes (`bad_data` 400, `execution` 422,
//! `timeout` 503, `internal` 500). Evaluation is `whippet-promql`, run on
//! the blocking pool. It never evaluates PromQL itself, never writes, and
//! never answers another org's data.
//!
//! Routes (`GET`, and `POST` with a form body where Prometheus has it):
//! - `query`, `query_range`, `series`, `labels` (`GET`, `POST`) and
//!   `label/{name}/values` (`GET`): as Prometheus, same parameters,
//!   defaults and errors;
//! - `metadata` (`GET`): every metric PromQL can see, with `type` `gauge`
//!   (see [`METRIC_TYPE`]), `help` and `unit` empty; `metric`, `limit`;
//! - `status/buildinfo` (`GET`): version `2.42.0` (see [`BUILD_VERSION`]);
//! - `query_exemplars`, `rules`, `alerts` (`GET`, `POST` for exemplars),
//!   `status/config`, `status/flags` (`GET`): Prometheus' shapes with empty
//!   data (Whippet has no exemplars, recording or alerting rules, nor a
//!   Prometheus configuration), so Grafana's calls succeed.
//!
//! Any other path under `/prometheus/` answers Prometheus' plain-text 404.
//!
//! Refused requests answer 401 with `WWW-Authenticate: Basic` and
//! Prometheus' error shape, `errorType` `unauthorized` (Prometheus has no
//! authentication, so no type of its own; Grafana shows the `error` text).
//! A `POST` signed only by the session cookie passes the router's session
//! guard first, as every cookie-signed change does (the `X-Whippet-UI: 1`
//! header).

mod basic;
mod json;
mod params;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tokio::sync::Semaphore;
use whippet_promql::{PromEngine, PromError, names};
use whippet_tsdb::{MetricType, OrgId, Selector};

use super::AppState;
use super::auth::{app_org, has_api_key};
use super::intake::{now_ms, read_body};
use super::users_api::session;
use params::{Form, MAX_TIME_MS, MIN_TIME_MS};

/// What `status/buildinfo` calls our version. Grafana reads `version` as a
/// semantic version to decide which Prometheus APIs it may call (for 2.42:
/// `labels` and `label/.../values` with `match[]`, `series`, `metadata`,
/// exemplars); Whippet implements 2.42's API, so it says 2.42.0. Whippet's
/// own version is in `revision`, and `branch` says `whippet`.
const BUILD_VERSION: &str = "2.42.0";

/// The `type` `metadata` gives every metric. Datadog gauges are gauges;
/// Datadog counts and rates are per-interval values, not the cumulative
/// counters Prometheus' `counter` means (Grafana would suggest `rate()` on
/// them, which is wrong for deltas), so they are gauges to PromQL too.
/// Distributions are not visible to PromQL and are not listed.
const METRIC_TYPE: &str = "gauge";

/// The longest a query may run before it is answered with a `timeout`
/// error: Prometheus' default `--query.timeout`. A request's `timeout`
/// can only shorten it. The evaluation itself is not interrupted: it
/// finishes on its blocking thread and its answer is dropped.
const QUERY_TIMEOUT: Duration = Duration::from_secs(120);

/// The largest form body read: Go's `net/http` refuses urlencoded bodies
/// over 10 MB in `ParseForm`, so no Prometheus client sends more.
const MAX_FORM_BYTES: usize = 10 << 20;

/// Series and label searches without `start`/`end` cover Prometheus' whole
/// time range ([`MIN_TIME_MS`], [`MAX_TIME_MS`]); the engine gets them
/// narrowed to ±2^53 ms (±285,000 years), which holds every storable
/// point and leaves its arithmetic far from overflow.
const SEARCH_BOUND_MS: i64 = 1 << 53;

const PREFIX: &str = "/prometheus/api/v1";

/// The Prometheus API routes.
pub fn routes() -> Router<AppState> {
    let r = |path: &str| format!("{PREFIX}{path}");
    Router::new()
        .route(&r("/query"), get(query).post(query))
        .route(&r("/query_range"), get(query_range).post(query_range))
        .route(&r("/series"), get(series).post(series))
        .route(&r("/labels"), get(labels).post(labels))
        .route(&r("/label/{name}/values"), get(label_values))
        .route(&r("/metadata"), get(metadata))
        .route(&r("/status/buildinfo"), get(buildinfo))
        .route(&r("/status/config"), get(status_config))
        .route(&r("/status/flags"), get(status_flags))
        .route(&r("/query_exemplars"), get(exemplars).post(exemplars))
        .route(&r("/rules"), get(rules))
        .route(&r("/alerts"), get(alerts))
        // Anything else under the prefix is Prometheus' 404, not the web
        // UI's page (a client probing an API Whippet lacks must see it is
        // missing).
        .route("/prometheus", any(not_found))
        .route("/prometheus/", any(not_found))
        .route("/prometheus/{*rest}", any(not_found))
}

/// Prometheus' answer to a path it does not serve.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

/// An answer in Prometheus' error shape.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    error_type: &'static str,
    message: String,
    /// A refusal before the body was read: the connection cannot be reused,
    /// and the client is asked for basic credentials.
    refused: bool,
}

impl Failure {
    fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            error_type,
            message: message.into(),
            refused: false,
        }
    }

    /// `bad_data`, 400.
    fn bad_data(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, "bad_data", message)
    }

    /// Prometheus' `invalidParamError`: `invalid parameter "name": ...`.
    fn invalid_param(name: &str, err: impl std::fmt::Display) -> Failure {
        Failure::bad_data(format!("invalid parameter \"{name}\": {err}"))
    }

    /// `internal`, 500; details are logged, never sent.
    fn internal(context: &str, err: impl std::fmt::Display) -> Failure {
        tracing::error!(error = %err, "{context}");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// An engine error; a `bad_data` one gets `invalid parameter
    /// "<param>": ` before it where Prometheus puts it there.
    fn engine(e: PromError, param: Option<&str>) -> Failure {
        if let PromError::Storage(err) = &e {
            return Failure::internal("evaluating PromQL", err);
        }
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        match param {
            // The engine may have named the parameter itself.
            Some(p)
                if e.error_type() == "bad_data"
                    && !e.to_string().starts_with("invalid parameter \"") =>
            {
                Failure::invalid_param(p, e)
            }
            _ => Failure::new(status, e.error_type(), e.to_string()),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut r = bytes_response(self.status, json::error(self.error_type, &self.message));
        if self.refused {
            let h = r.headers_mut();
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Whippet\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

fn bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `{"status":"success","data":<data>}`.
fn success(data: &[u8]) -> Response {
    bytes_response(StatusCode::OK, json::success(data, &[]))
}

/// The success answer of a query's value, written once into a buffer
/// sized for it.
fn query_answer(value: &whippet_promql::QueryValue) -> Response {
    let mut out = json::success_start(json::size_hint(value));
    json::query_data(&mut out, value);
    json::success_end(&mut out);
    bytes_response(StatusCode::OK, out)
}

/// Runs a handler's body and turns its failure into the answer.
async fn answer(f: impl Future<Output = Result<Response, Failure>>) -> Response {
    f.await.unwrap_or_else(IntoResponse::into_response)
}

/// The org of a request: Datadog's keys (headers or `api_key` /
/// `application_key` in the URL), else basic credentials (user = API key,
/// password = application key), else the web UI's session cookie, all
/// judged by `auth::app_org`.
async fn authorize(
    s: &AppState,
    headers: &HeaderMap,
    url_query: Option<&str>,
) -> Result<OrgId, Failure> {
    let url = Form::new(None, url_query);
    let keys: HashMap<String, String> = ["api_key", "dd-api-key", "application_key"]
        .into_iter()
        .map(|k| (k.to_owned(), url.value(k).to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let with_basic;
    let mut headers = headers;
    if !has_api_key(headers, &keys)
        && let Some((api, app)) = basic::credentials(headers)
    {
        let mut h = headers.clone();
        for (name, value) in [("dd-api-key", api), ("dd-application-key", app)] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        }
        with_basic = h;
        headers = &with_basic;
    }
    let anonymous = !has_api_key(headers, &keys) && session::token(headers).is_none();
    match app_org(&s.meta, headers, &keys).await {
        Ok(org) => Ok(org),
        // app_org logged it.
        Err(e) if e.status.is_server_error() => Err(Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )),
        Err(e) => {
            let message = if anonymous {
                "authentication required: use HTTP basic auth with an API key as the user and an \
                 application key as the password, or the DD-API-KEY and DD-APPLICATION-KEY headers"
                    .to_owned()
            } else {
                format!("unauthorized: {}", e.messages.join("; "))
            };
            Err(Failure {
                refused: true,
                ..Failure::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
            })
        }
    }
}

/// Authorizes the request, then reads its form: the URL query, and for a
/// `POST` with `Content-Type: application/x-www-form-urlencoded` the body
/// (Go's `ParseForm` reads no other body).
async fn open(s: &AppState, req: Request) -> Result<(OrgId, Form), Failure> {
    let (parts, body) = req.into_parts();
    let org = authorize(s, &parts.headers, parts.uri.query()).await?;
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let body = if parts.method == Method::POST && is_form {
        let raw = read_body(&parts.headers, body, MAX_FORM_BYTES)
            .await
            .map_err(|e| {
                Failure::bad_data(format!(
                    "error parsing form values: {}",
                    e.messages.join("; ")
                ))
            })?;
        Some(raw)
    } else {
        None
    };
    Ok((org, Form::new(body.as_deref(), parts.uri.query())))
}

/// Runs `f` on the blocking pool within the query timeout (`QUERY_TIMEOUT`,
/// or the request's shorter `timeout`), once one of the evaluation slots
/// ([`slots`]) is free. The outer error is the timeout or a panic; the
/// inner one is the engine's, for the caller to word.
async fn run<T: Send + 'static>(
    s: &AppState,
    timeout: Option<Duration>,
    f: impl FnOnce(&PromEngine) -> Result<T, PromError> + Send + 'static,
) -> Result<Result<T, PromError>, Failure> {
    let limit = timeout.map_or(QUERY_TIMEOUT, |t| t.min(QUERY_TIMEOUT));
    run_on(s.promql.clone(), slots(), limit, f).await
}

/// How many PromQL evaluations run at once (Prometheus'
/// `--query.max-concurrency`): one per core, at least two. Evaluation is
/// CPU work, so more at once finish no sooner and each holds its samples in
/// memory meanwhile; the others wait, and the wait counts against their
/// timeout ("query timed out in query queue", as in Prometheus).
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new(cores.max(2))
    })
}

async fn run_on<T: Send + 'static>(
    engine: PromEngine,
    slots: &'static Semaphore,
    limit: Duration,
    f: impl FnOnce(&PromEngine) -> Result<T, PromError> + Send + 'static,
) -> Result<Result<T, PromError>, Failure> {
    let timed_out = |stage: &str| {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("query timed out in {stage}"),
        )
    };
    let deadline = tokio::time::Instant::now() + limit;
    let permit = match tokio::time::timeout_at(deadline, slots.acquire()).await {
        Err(_) => return Err(timed_out("query queue")),
        Ok(Err(closed)) => return Err(Failure::internal("the PromQL slots", closed)),
        Ok(Ok(p)) => p,
    };
    // The slot is held until the evaluation ends, even one whose request
    // timed out: its thread is still busy.
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(&engine)
    });
    match tokio::time::timeout_at(deadline, task).await {
        Err(_) => Err(timed_out("expression evaluation")),
        Ok(Err(join)) => Err(Failure::internal("a PromQL task failed", join)),
        Ok(Ok(r)) => Ok(r),
    }
}

/// The `timeout` parameter, when given and positive.
fn timeout_param(form: &Form) -> Result<Option<Duration>, Failure> {
    let v = form.value("timeout");
    if v.is_empty() {
        return Ok(None);
    }
    let ns = params::parse_duration(v).map_err(|e| Failure::invalid_param("timeout", e))?;
    // Prometheus sets no deadline for a zero or negative timeout.
    Ok((ns > 0).then(|| Duration::from_nanos(ns as u64)))
}

fn search_range(form: &Form) -> Result<(i64, i64), Failure> {
    let start = params::parse_time_param(form, "start", MIN_TIME_MS)
        .map_err(|e| Failure::invalid_param("start", e))?;
    let end = params::parse_time_param(form, "end", MAX_TIME_MS)
        .map_err(|e| Failure::invalid_param("end", e))?;
    let clamp = |t: i64| t.clamp(-SEARCH_BOUND_MS, SEARCH_BOUND_MS);
    Ok((clamp(start), clamp(end)))
}

/// `GET|POST /query`: `query`, `time` (default now), `timeout`.
async fn query(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        let (org, form) = open(&s, req).await?;
        let t = params::parse_time_param(&form, "time", now_ms())
            .map_err(|e| Failure::invalid_param("time", e))?;
        let timeout = timeout_param(&form)?;
        let q = form.value("query").to_owned();
        let value = run(&s, timeout, move |e| e.instant_query(org, &q, t))
            .await?
            .map_err(|e| Failure::engine(e, Some("query")))?;
        Ok(query_answer(&value))
    })
    .await
}

/// `GET|POST /query_range`: `query`, `start`, `end`, `step`, `timeout`.
async fn query_range(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        let (org, form) = open(&s, req).await?;
        let start = params::parse_time(form.value("start"))
            .map_err(|e| Failure::invalid_param("start", e))?;
        let end =
            params::parse_time(form.value("end")).map_err(|e| Failure::invalid_param("end", e))?;
        if end < start {
            return Err(Failure::invalid_param(
                "end",
                "end timestamp must not be before start time",
            ));
        }
        let step_ns = params::parse_duration(form.value("step"))
            .map_err(|e| Failure::invalid_param("step", e))?;
        if step_ns <= 0 {
            return Err(Failure::invalid_param(
                "step",
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        // As Prometheus: whole steps in the range, in nanoseconds.
        let max_points = s.promql.options().max_points_per_series as i128;
        if (i128::from(end) - i128::from(start)) * 1_000_000 / i128::from(step_ns) > max_points {
            return Err(Failure::bad_data(format!(
                "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
                thousands(max_points)
            )));
        }
        let timeout = timeout_param(&form)?;
        // Steps under a millisecond (which Prometheus accepts for short
        // ranges) are evaluated every millisecond.
        let step_ms = (step_ns / 1_000_000).max(1);
        let q = form.value("query").to_owned();
        let value = run(&s, timeout, move |e| {
            e.range_query(org, &q, start, end, step_ms)
        })
        .await?
        .map_err(|e| Failure::engine(e, None))?;
        Ok(query_answer(&value))
    })
    .await
}

/// `1,234,567`, as Prometheus writes its point limit.
fn thousands(n: i128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `GET|POST /series`: `match[]` (one or more), `start`, `end`.
async fn series(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        let (org, form) = open(&s, req).await?;
        let matchers = form.values("match[]");
        if matchers.is_empty() {
            return Err(Failure::bad_data("no match[] parameter provided"));
        }
        let (start, end) = search_range(&form)?;
        let sets = run(&s, None, move |e| e.series(org, &matchers, start, end))
            .await?
            .map_err(|e| Failure::engine(e, Some("match[]")))?;
        let mut data = Vec::with_capacity(64 + sets.len() * 128);
        data.push(b'[');
        for (i, l) in sets.iter().enumerate() {
            if i > 0 {
                data.push(b',');
            }
            json::labels(&mut data, l);
        }
        data.push(b']');
        Ok(success(&data))
    })
    .await
}

/// `GET|POST /labels`: `match[]` (optional), `start`, `end`.
async fn labels(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        let (org, form) = open(&s, req).await?;
        let (start, end) = search_range(&form)?;
        let matchers = form.values("match[]");
        let names = run(&s, None, move |e| e.label_names(org, &matchers, start, end))
            .await?
            .map_err(|e| Failure::engine(e, None))?;
        let mut data = Vec::new();
        json::string_list(&mut data, &names);
        Ok(success(&data))
    })
    .await
}

/// Prometheus' label name syntax (`model.LabelNameRE`).
fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `GET /label/{name}/values`: `match[]` (optional), `start`, `end`.
async fn label_values(
    State(s): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    answer(async {
        let (org, form) = open(&s, req).await?;
        if !valid_label_name(&name) {
            return Err(Failure::bad_data(format!(
                "invalid label name: {}",
                params::go_quote(&name)
            )));
        }
        let (start, end) = search_range(&form)?;
        let matchers = form.values("match[]");
        let values = run(&s, None, move |e| {
            e.label_values(org, &name, &matchers, start, end)
        })
        .await?
        .map_err(|e| Failure::engine(e, None))?;
        let mut data = Vec::new();
        json::string_list(&mut data, &values);
        Ok(success(&data))
    })
    .await
}

/// `GET /metadata`: `metric` (one name), `limit` (most metrics listed).
async fn metadata(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        let (org, form) = open(&s, req).await?;
        let limit = match form.value("limit") {
            "" => None,
            v => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| Failure::bad_data("limit must be a number"))?;
                // Prometheus lists everything for a negative limit.
                usize::try_from(n).ok()
            }
        };
        let metric = form.value("metric").to_owned();
        let names = run(&s, None, move |e| metric_names(e, org, &metric))
            .await?
            .map_err(|e| Failure::engine(e, None))?;
        let mut data = Vec::from(&b"{"[..]);
        for (i, name) in names.iter().take(limit.unwrap_or(usize::MAX)).enumerate() {
            if i > 0 {
                data.push(b',');
            }
            json::string(&mut data, name);
            data.extend_from_slice(br#":[{"type":"#);
            json::string(&mut data, METRIC_TYPE);
            data.extend_from_slice(br#","help":"","unit":""}]"#);
        }
        data.push(b'}');
        Ok(success(&data))
    })
    .await
}

/// The metric names PromQL shows for `org`'s float series (only `metric`
/// when it is not empty), sorted, unique.
fn metric_names(e: &PromEngine, org: OrgId, metric: &str) -> Result<Vec<String>, PromError> {
    let sel = if metric.is_empty() {
        Selector::All
    } else {
        Selector::MetricGlob(names::metric_name_glob(metric))
    };
    // An empty window at time 0: the series with their types, and no data
    // copied (their points are not needed).
    let view = e.tsdb().read(org, &sel, 0, 0)?;
    let mut out: BTreeMap<String, ()> = BTreeMap::new();
    for m in view.series() {
        if m.mtype == MetricType::Distribution {
            continue;
        }
        let name = names::prom_metric_name(&m.key.metric);
        if metric.is_empty() || name == metric {
            out.insert(name.into_owned(), ());
        }
    }
    Ok(out.into_keys().collect())
}

/// `GET /status/buildinfo`.
async fn buildinfo(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        open(&s, req).await?;
        let mut data = Vec::from(&br#"{"version":"#[..]);
        json::string(&mut data, BUILD_VERSION);
        data.extend_from_slice(br#","revision":"#);
        json::string(&mut data, &format!("whippet-{}", env!("CARGO_PKG_VERSION")));
        data.extend_from_slice(
            br#","branch":"whippet","buildUser":"","buildDate":"","goVersion":""}"#,
        );
        Ok(success(&data))
    })
    .await
}

/// `GET /status/config`: Whippet has no Prometheus configuration.
async fn status_config(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        open(&s, req).await?;
        Ok(success(br#"{"yaml":""}"#))
    })
    .await
}

/// `GET /status/flags`: the two query settings Prometheus has flags for.
async fn status_flags(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        open(&s, req).await?;
        let o = s.promql.options();
        let mut data = Vec::from(&br#"{"query.lookback-delta":"#[..]);
        json::string(&mut data, &prom_duration(o.lookback_ms));
        data.extend_from_slice(br#","query.max-samples":"#);
        json::string(&mut data, &o.max_samples.to_string());
        data.push(b'}');
        Ok(success(&data))
    })
    .await
}

/// A duration as Prometheus prints one (`model.Duration`): `5m`, `1h30m`,
/// `0s`.
fn prom_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// `GET|POST /query_exemplars`: checks the parameters as Prometheus does,
/// answers none.
async fn exemplars(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        let (_, form) = open(&s, req).await?;
        let start = params::parse_time_param(&form, "start", MIN_TIME_MS)
            .map_err(|e| Failure::invalid_param("start", e))?;
        let end = params::parse_time_param(&form, "end", MAX_TIME_MS)
            .map_err(|e| Failure::invalid_param("end", e))?;
        if end < start {
            return Err(Failure::bad_data(
                "end timestamp must not be before start time",
            ));
        }
        whippet_promql::errpos::parse(form.value("query")).map_err(|e| Failure::engine(e, None))?;
        Ok(success(b"[]"))
    })
    .await
}

/// `GET /rules`: no recording or alerting rules.
async fn rules(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        open(&s, req).await?;
        Ok(success(br#"{"groups":[]}"#))
    })
    .await
}

/// `GET /alerts`: no Prometheus alerts (Whippet's monitors have their own
/// API).
async fn alerts(State(s): State<AppState>, req: Request) -> Response {
    answer(async {
        open(&s, req).await?;
        Ok(success(br#"{"alerts":[]}"#))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(dir: &std::path::Path) -> PromEngine {
        let cfg = whippet_tsdb::EngineConfig {
            background_tasks: false,
            ..whippet_tsdb::EngineConfig::default()
        };
        let tsdb = whippet_tsdb::Engine::open(dir, cfg).unwrap().0;
        PromEngine::new(tsdb, whippet_promql::EvalOptions::default())
    }

    #[tokio::test]
    async fn evaluations_time_out_in_the_queue_and_while_running() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        let one: &'static Semaphore = Box::leak(Box::new(Semaphore::new(1)));
        let limit = Duration::from_millis(100);
        let done = run_on(e.clone(), one, limit, |_| Ok(7)).await.unwrap();
        assert_eq!(done.unwrap(), 7);
        let slow = |_: &PromEngine| {
            std::thread::sleep(Duration::from_millis(400));
            Ok(())
        };
        let f = run_on(e.clone(), one, limit, slow).await.unwrap_err();
        assert_eq!(
            (f.status, f.error_type, f.message.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "query timed out in expression evaluation"
            )
        );
        // The slow evaluation still holds the only slot: the next request
        // times out in the queue.
        let f = run_on(e.clone(), one, limit, |_| Ok(())).await.unwrap_err();
        assert_eq!(f.message, "query timed out in query queue");
        // Once it ends, the slot is free again.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let done = run_on(e.clone(), one, limit, |_| Ok(8)).await.unwrap();
        assert_eq!(done.unwrap(), 8);
        let engine_err = run_on(e, one, limit, |_| {
            Err::<(), _>(PromError::Execution("x".into()))
        })
        .await
        .unwrap();
        assert!(matches!(engine_err, Err(PromError::Execution(_))));
    }

    #[test]
    fn label_names_as_prometheus_checks_them() {
        for ok in ["a", "_", "__name__", "job_2", "Z9"] {
            assert!(valid_label_name(ok), "{ok}");
        }
        for bad in ["", "1bad", "a-b", "a.b", "é", "a b"] {
            assert!(!valid_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn point_limits_and_durations_print_as_prometheus_prints_them() {
        assert_eq!(thousands(11_000), "11,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(prom_duration(300_000), "5m");
        assert_eq!(prom_duration(5_400_500), "1h30m500ms");
        assert_eq!(prom_duration(0), "0s");
    }

    #[test]
    fn engine_errors_keep_prometheus_types_and_prefixes() {
        let parse = || PromError::Parse {
            position: 15,
            message: "1:16: parse error: unclosed left parenthesis".into(),
        };
        let f = Failure::engine(parse(), Some("query"));
        assert_eq!(f.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            f.message,
            r#"invalid parameter "query": 1:16: parse error: unclosed left parenthesis"#
        );
        let named = PromError::BadData(r#"invalid parameter "match[]": x"#.into());
        assert_eq!(
            Failure::engine(named, Some("match[]")).message,
            r#"invalid parameter "match[]": x"#
        );
        let f = Failure::engine(parse(), None);
        assert_eq!(f.message, "1:16: parse error: unclosed left parenthesis");
        let f = Failure::engine(PromError::Execution("many-to-many".into()), Some("query"));
        assert_eq!(
            (f.status, f.error_type, f.message.as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "execution",
                "many-to-many"
            )
        );
    }
}
