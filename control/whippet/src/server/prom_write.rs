//! `POST /api/v1/write`: Prometheus remote write 1.0 (snappy-compressed
//! protobuf), the path of Prometheus' own receiver. Decoding, validation,
//! limits and the out-of-order rules are `whippet-prom-write`'s; this
//! module is the glue: admission, key, body, series resolution through the
//! intake's series cache, the order check against what is stored, one
//! engine write on a blocking thread, the answer, and the counters.
//!
//! # Keys
//! The API key of an org, in `DD-API-KEY` (or the `api_key` query
//! parameter, as the Datadog intake takes it), as the password of HTTP
//! basic auth (`remote_write: basic_auth: {password: <key>}`, any user
//! name), or as `Authorization: Bearer <key>`
//! (`remote_write: authorization: {credentials: <key>}`). Samples go to
//! the key's org. Missing key: 403 `API key required`; unknown: 403
//! `Forbidden`.
//!
//! # Answers (plain text, as Prometheus answers)
//! - 204: stored (samples that conflict only with earlier samples of the
//!   same request dropped, as Prometheus does: see
//!   `whippet_prom_write::order`).
//! - 400 with the reason: malformed snappy or protobuf, a series over a
//!   limit or with invalid labels, an out-of-order or duplicate sample
//!   against what is stored. Nothing of the request is stored (Prometheus
//!   rolls the whole request back on the last two; on invalid labels it
//!   stores nothing in 2.42's TSDB either for an empty or duplicate label
//!   set, while today's skips those series: Whippet refuses the request so
//!   that the sender logs why).
//! - 413: body or decompressed body over its limit.
//! - 415: a `Content-Encoding` other than snappy (none means snappy, as
//!   Prometheus assumes).
//! - 403: see Keys. 503 with `Retry-After`: too many requests in flight,
//!   or the storage engine catching up (Prometheus' sender retries 5xx
//!   with backoff); storage not accepting writes.
//!
//! Series over the org's active-series cap are skipped and counted, as the
//! Datadog intake does (a server limit, not the sender's mistake). A
//! request refused for an out-of-order or duplicate sample may leave its
//! new series resolved in the catalog, without points (Prometheus' head
//! keeps such series too until its next garbage collection).
//!
//! # Series and their newest samples
//! A series is found by the digest of its label bytes in the intake's
//! series cache (`series_cache.rs`, the same table as the Datadog protobuf
//! intake, with a digest seed of its own): a known series costs one probe,
//! no validation and no catalog lookup. Unknown series are validated (all
//! of them before anything is resolved), resolved, and remembered.
//!
//! The order check needs each series' newest stored sample: this route
//! remembers the newest sample it stored per series ([`Receiver`]), and
//! asks the engine for the newest timestamp of a series it does not
//! remember (the first request after a restart). The check and the write
//! are not one atomic step: two requests in flight with samples of the
//! same series may both pass against the same newest sample. Prometheus
//! never does that (a series always goes through the same shard of its
//! queue, one request at a time), and the engine stores what they send in
//! any order, so the cost of the race is only a missed 400.
//!
//! The limits are `whippet_prom_write::Limits::default()` but for the
//! labels per series (`prom_write_max_labels_per_series`).
//!
//! # Counters (`whippet.intake.*`, `endpoint:prom_write`)
//! `requests` by status, `request.seconds`, `bytes` (as sent), `points`
//! stored, and `rejected` by reason: for a refused request, its samples
//! (1 when the body could not be decoded) under the error's code
//! (`bad_snappy`, `out_of_order`, ...); for a stored one, the samples
//! dropped (`in_request_conflict`, `series_limit`, the engine's reasons).
//!
//! # What it must never do
//! Store part of a request it answers 400 to, or hold the newest-sample
//! lock while calling the engine.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use whippet_meta::KeyKind;
use whippet_prom_write::{self as pw, Limits, Newest, SeriesOrder, Verdict};
use whippet_tsdb::{Engine, FloatPoint, MetricType, OrgId, SeriesId, SeriesKey, TagSet};

use super::AppState;
use super::auth::{api_org, has_api_key};
use super::error::ApiError;
use super::intake::read_body;
use super::selfmon::names;

/// The endpoint tag of this route's counters.
const ENDPOINT: &str = "prom_write";

/// Most series whose newest sample is remembered before the memory is
/// emptied and starts over. An entry takes about 40 bytes with the table's
/// overhead, so this stays under ~40 MiB; emptying it costs one
/// `Engine::newest_points` lookup per series on its next request (and
/// forgets values, see `whippet_prom_write::order`).
const MAX_NEWEST: usize = 1 << 20;

/// The remote write receiver of one server: its limits and the newest
/// sample it stored per series.
struct Receiver {
    limits: Limits,
    /// Newest sample per series written through this route, or found in
    /// the engine (value unknown). Lock rule: held only to copy entries
    /// out or to record a write's newest samples, never across an engine
    /// call.
    newest: Mutex<FastMap<SeriesId, Newest>>,
}

/// Maps keyed by series id: hashbrown's default hasher (foldhash), several
/// times faster than the standard library's SipHash on 8-byte keys, and
/// ids are not chosen by clients.
type FastMap<K, V> = hashbrown::HashMap<K, V>;

/// The remote write route, with `limits` (already checked by the
/// configuration, `Limits::check`).
pub fn routes(limits: Limits) -> Router<AppState> {
    let receiver = Arc::new(Receiver {
        limits,
        newest: Mutex::new(FastMap::default()),
    });
    Router::new().route(
        "/api/v1/write",
        post(
            move |State(s): State<AppState>,
                  Query(q): Query<HashMap<String, String>>,
                  headers: HeaderMap,
                  body: Body| {
                let receiver = receiver.clone();
                async move { write(s, receiver, q, headers, body).await }
            },
        ),
    )
}

/// A refusal: status, plain-text reason, what to count.
struct Refusal {
    status: StatusCode,
    text: String,
    retry_after: Option<u64>,
    /// `(reason, samples)` for `whippet.intake.rejected`.
    counted: Option<(&'static str, usize)>,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        Refusal {
            status: e.status,
            text: e.messages.join("; "),
            retry_after: e.retry_after_secs,
            counted: None,
        }
    }
}

impl Refusal {
    fn client(e: pw::Error, samples: usize) -> Refusal {
        Refusal {
            status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            text: e.to_string(),
            retry_after: None,
            counted: Some((e.code(), samples.max(1))),
        }
    }

    fn into_response(self) -> Response {
        let mut r = (self.status, format!("{}\n", self.text)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// What a stored request did.
#[derive(Default)]
struct Stored {
    points: usize,
    rejected: Vec<(&'static str, usize)>,
}

impl Stored {
    fn reject(&mut self, code: &'static str, n: usize) {
        if n == 0 {
            return;
        }
        match self.rejected.iter_mut().find(|(c, _)| *c == code) {
            Some((_, c)) => *c += n,
            None => self.rejected.push((code, n)),
        }
    }
}

async fn write(
    state: AppState,
    receiver: Arc<Receiver>,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = handle(&state, receiver, &query, &headers, body).await;
    let status = match &result {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(r) => r.status,
    };
    match &result {
        Ok(stored) => {
            state.selfmon.add(
                names::POINTS,
                &[("endpoint", ENDPOINT)],
                stored.points as f64,
            );
            for (code, n) in &stored.rejected {
                state.selfmon.add(
                    names::REJECTED,
                    &[("endpoint", ENDPOINT), ("reason", code)],
                    *n as f64,
                );
            }
        }
        Err(Refusal {
            counted: Some((code, n)),
            ..
        }) => state.selfmon.add(
            names::REJECTED,
            &[("endpoint", ENDPOINT), ("reason", code)],
            *n as f64,
        ),
        Err(_) => {}
    }
    state.selfmon.add(
        names::REQUESTS,
        &[("endpoint", ENDPOINT), ("status", status.as_str())],
        1.0,
    );
    state.selfmon.add(
        names::REQUEST_SECONDS,
        &[("endpoint", ENDPOINT)],
        started.elapsed().as_secs_f64(),
    );
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r.into_response(),
    }
}

async fn handle(
    state: &AppState,
    receiver: Arc<Receiver>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Stored, Refusal> {
    let _permit = state
        .admission
        .try_acquire()
        .map_err(|_| ApiError::unavailable("Too many requests in flight; retry shortly", 1))?;
    let org = org_of(state, headers, query).await?;
    if let Some(enc) = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        && !enc.trim().eq_ignore_ascii_case("snappy")
    {
        return Err(Refusal {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            text: format!(
                "{enc} encoding (compression) is not accepted by this server; only snappy is acceptable"
            ),
            retry_after: None,
            counted: Some(("bad_encoding", 1)),
        });
    }
    let raw = read_body(headers, body, receiver.limits.max_body_bytes).await?;
    state
        .selfmon
        .add(names::BYTES, &[("endpoint", ENDPOINT)], raw.len() as f64);
    if state.engine.overloaded() {
        return Err(
            ApiError::unavailable("The storage engine is catching up; retry shortly", 1).into(),
        );
    }
    let st = state.clone();
    tokio::task::spawn_blocking(move || ingest(&st, &receiver, org, &raw))
        .await
        .map_err(|e| ApiError::internal("remote write task", e))?
}

/// The org of the request's API key (see the module doc).
async fn org_of(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<OrgId, ApiError> {
    if has_api_key(headers, query) {
        return api_org(&state.meta, headers, query).await;
    }
    let Some(key) = authorization_key(headers) else {
        return Err(ApiError::api_key_required());
    };
    match state.meta.verify_key(KeyKind::Api, &key).await {
        Ok(Some(org)) => Ok(org),
        Ok(None) => Err(ApiError::forbidden()),
        Err(e) => Err(ApiError::internal("verifying an API key", e)),
    }
}

/// The API key in an `Authorization` header: the password of `Basic`, or
/// the token of `Bearer`. Scheme names match case-insensitively.
fn authorization_key(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned()).filter(|k| !k.is_empty());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64_decode(rest)?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, password) = text.split_once(':')?;
        return Some(password.to_owned()).filter(|k| !k.is_empty());
    }
    None
}

/// Standard base64 (RFC 4648, with or without padding), for basic auth.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone trailing character (6 bits) cannot end valid base64.
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// Decompressed bodies up to this size keep their buffer on the thread for
/// the next request: a usual body (1 000 series × 10 samples, about
/// 300 KiB decompressed) then costs no allocation and no fresh pages,
/// while a rare huge one (up to the 32 MiB limit) gives its memory back.
const KEPT_BODY_BYTES: usize = 4 << 20;

thread_local! {
    /// This blocking thread's decompression buffer (see [`KEPT_BODY_BYTES`]).
    static BODY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Decodes, validates, resolves, checks order and stores one request.
/// Runs on a blocking thread (the engine's calls wait on the WAL).
fn ingest(
    state: &AppState,
    receiver: &Receiver,
    org: OrgId,
    raw: &[u8],
) -> Result<Stored, Refusal> {
    BODY.with(|b| {
        let mut buf = b.borrow_mut();
        let out = ingest_with(state, receiver, org, raw, &mut buf);
        if buf.capacity() > KEPT_BODY_BYTES {
            *buf = Vec::new();
        }
        out
    })
}

/// [`ingest`] with `buf` for the decompressed body.
fn ingest_with(
    state: &AppState,
    receiver: &Receiver,
    org: OrgId,
    raw: &[u8],
    buf: &mut Vec<u8>,
) -> Result<Stored, Refusal> {
    let limits = &receiver.limits;
    let engine: &Engine = &state.engine;
    pw::decompress(raw, limits, buf).map_err(|e| Refusal::client(e, 0))?;
    let req = pw::decode(buf, limits).map_err(|e| Refusal::client(e, 0))?;
    let refuse = |e: pw::Error| Refusal::client(e, req.sample_count());
    let mut stored = Stored::default();

    // Known series by their label digest; the others are validated (all of
    // them before anything is resolved: a refused request stores nothing).
    let mut ids: Vec<Option<SeriesId>> = Vec::with_capacity(req.len());
    let mut new_series = Vec::new();
    let mut known = Vec::new();
    {
        let cache = state.series_cache.reader();
        for s in req.iter() {
            match cache.get(org, s.ident) {
                Some((id, _)) => {
                    ids.push(Some(id));
                    known.push((id, MetricType::Gauge));
                }
                None => {
                    ids.push(None);
                    new_series.push(s.index);
                }
            }
        }
    }
    let valid = new_series
        .iter()
        .map(|&i| pw::validate(&req.series(i), limits).map(|v| (i, v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(refuse)?;
    let internal = |e: whippet_tsdb::Error| -> Refusal {
        match e {
            whippet_tsdb::Error::WritesStopped { .. } | whippet_tsdb::Error::Closed => {
                ApiError::unavailable("Storage is not accepting writes", 30).into()
            }
            e => ApiError::internal("remote write", e).into(),
        }
    };
    engine.ensure_types(&known).map_err(internal)?;
    let mut learned = Vec::with_capacity(valid.len());
    for (i, v) in valid {
        let key = SeriesKey::float(org, v.metric, TagSet::new(v.tags()));
        match engine.resolve(&key, MetricType::Gauge) {
            Ok(id) => {
                ids[i] = Some(id);
                learned.push((org, req.series(i).ident, id, MetricType::Gauge));
            }
            Err(whippet_tsdb::Error::SeriesLimit { org, limit }) => {
                tracing::warn!(
                    org = org.0,
                    limit,
                    "active series limit reached; remote write series rejected"
                );
                stored.reject("series_limit", req.series(i).samples.len());
            }
            Err(whippet_tsdb::Error::InvalidSeries(why)) => {
                tracing::debug!(%why, "remote write series rejected");
                stored.reject("invalid_series", req.series(i).samples.len());
            }
            Err(e) => return Err(internal(e)),
        }
    }
    // Identical digests may repeat within a request (a series sent twice):
    // the cache takes the last insert, all with the same id.
    if !learned.is_empty() {
        // (Taking the cache's write lock for nothing would stall every
        // other request's reads.)
        state.series_cache.insert(learned);
    }

    // The newest stored sample of each series: remembered, or asked of the
    // engine (from the oldest sample of the request on: an older stored
    // sample cannot conflict).
    let mut orders: FastMap<SeriesId, SeriesOrder> = FastMap::with_capacity(req.len());
    let mut unknown: Vec<SeriesId> = Vec::new();
    {
        let newest = receiver.newest.lock();
        for id in ids.iter().flatten() {
            orders.entry(*id).or_insert_with(|| match newest.get(id) {
                Some(n) => SeriesOrder::new(Some(*n)),
                None => {
                    unknown.push(*id);
                    SeriesOrder::new(None)
                }
            });
        }
    }
    let since = req
        .iter()
        .flat_map(|s| s.samples)
        .map(|x| x.ts)
        .min()
        .unwrap_or(i64::MAX);
    let mut found: Vec<(SeriesId, Newest)> = Vec::new();
    if !unknown.is_empty() && since != i64::MAX {
        for (id, ts) in unknown
            .iter()
            .zip(engine.newest_points(org, &unknown, since))
        {
            if let Some(ts) = ts {
                let n = Newest {
                    ts,
                    value_bits: None,
                };
                orders.insert(*id, SeriesOrder::new(Some(n)));
                found.push((*id, n));
            }
        }
    }

    // Judge every sample in request order; a conflict with what is stored
    // refuses the whole request.
    let mut points = Vec::with_capacity(req.sample_count());
    for (s, id) in req.iter().zip(&ids) {
        let Some(id) = *id else { continue };
        let order = orders
            .get_mut(&id)
            .expect("every resolved series has an order");
        for &x in s.samples {
            match order.admit(x) {
                Ok(Verdict::Store) => points.push(FloatPoint {
                    series: id,
                    ts: x.ts,
                    value: x.value,
                }),
                Ok(Verdict::AlreadyStored) => {}
                Ok(Verdict::DropInRequest) => stored.reject("in_request_conflict", 1),
                Err(c) => {
                    let labels = pw::validate::labels_text(s.labels);
                    return Err(refuse(match c {
                        pw::Conflict::OutOfOrder { newest } => pw::Error::OutOfOrder {
                            series: s.index,
                            labels,
                            ts: x.ts,
                            newest,
                        },
                        pw::Conflict::Duplicate { stored } => pw::Error::Duplicate {
                            series: s.index,
                            labels,
                            ts: x.ts,
                            stored,
                            value: x.value,
                        },
                    }));
                }
            }
        }
    }

    let out = engine.append_floats(&points).map_err(internal)?;
    stored.points = out.accepted;
    for (_, r) in &out.rejected {
        stored.reject(r.code(), 1);
    }
    // Remember the newest stored sample of each series: the engine's
    // rejections (retention, future bound) must not count as stored.
    let mut rejected = out.rejected.iter().map(|(i, _)| *i).peekable();
    let mut newest = receiver.newest.lock();
    if newest.len() + orders.len() > MAX_NEWEST {
        newest.clear();
    }
    for (id, n) in found {
        newest.entry(id).or_insert(n);
    }
    let mut remember = |id: SeriesId, n: Newest| {
        newest
            .entry(id)
            .and_modify(|e| {
                if n.ts >= e.ts {
                    *e = n;
                }
            })
            .or_insert(n);
    };
    if out.rejected.is_empty() {
        // The usual case: every admitted sample stored, so each series'
        // newest admitted sample is its newest stored one.
        for (id, order) in &orders {
            if let Some(n) = order.admitted() {
                remember(*id, n);
            }
        }
    } else {
        for (i, p) in points.iter().enumerate() {
            if rejected.peek() == Some(&i) {
                rejected.next();
                continue;
            }
            remember(
                p.series,
                Newest {
                    ts: p.ts,
                    value_bits: Some(p.value.to_bits()),
                },
            );
        }
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("dXNlcjprZXk=").unwrap(), b"user:key");
        assert_eq!(base64_decode("dXNlcjprZXk").unwrap(), b"user:key");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("a*b=").is_none());
    }

    #[test]
    fn keys_come_from_basic_auth_passwords_and_bearer_tokens() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            authorization_key(&h)
        };
        // "prometheus:secret-key"
        assert_eq!(
            with("Basic cHJvbWV0aGV1czpzZWNyZXQta2V5").as_deref(),
            Some("secret-key")
        );
        // ":k" (no user name)
        assert_eq!(with("basic Oms=").as_deref(), Some("k"));
        assert_eq!(with("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(with("bearer  abc ").as_deref(), Some("abc"));
        // "user:" (empty password), no colon, unknown scheme.
        assert_eq!(with("Basic dXNlcjo="), None);
        assert_eq!(with("Basic dXNlcg=="), None);
        assert_eq!(with("Digest abc"), None);
        assert_eq!(authorization_key(&HeaderMap::new()), None);
    }
}
