//! `GET /api/v1/export`: the raw points of one metric over a time range,
//! as JSON lines (one series per line), streamed, scoped to the keys' org.
//! For backups and migrations, and for tests to read back what was stored.
//!
//! Parameters: `metric` (required), `scope` (default `*`: comma-separated
//! tags, `key:value`, wildcards `host:web-*`, negation `!env:prod`), `from`
//! and `to` (Unix seconds; default the last hour).
//!
//! Each line: `{"metric", "tags", "type", "interval", "points": [[ts, v],...]}`
//! with `ts` in seconds (fractional when the point has milliseconds) and
//! `null` for NaN; distributions carry `"sketches": [[ts, {count, sum, min,
//! max, k, n}], ...]` instead of points, with the Agent's bin keys.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use whippet_tsdb::{MetricType, ReadBuffers, ReadView, Selector, ValueKind};

use super::AppState;
use super::auth::app_org;
use super::error::ApiError;
use super::intake::now_ms;

/// Parses a Datadog-style scope into a selector (without the metric).
pub fn parse_scope(scope: &str) -> Result<Vec<Selector>, String> {
    let mut out = Vec::new();
    for term in scope.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if term == "*" {
            continue;
        }
        let (neg, tag) = match term.strip_prefix('!') {
            Some(t) => (true, t.trim()),
            None => (false, term),
        };
        if tag.is_empty() {
            return Err(format!("empty tag in scope `{scope}`"));
        }
        let sel = if let Some(key) = tag.strip_suffix(":*") {
            Selector::HasKey(key.to_owned())
        } else if tag.contains('*') {
            Selector::TagGlob(tag.to_owned())
        } else {
            Selector::Tag(tag.to_owned())
        };
        out.push(if neg {
            Selector::Not(Box::new(sel))
        } else {
            sel
        });
    }
    Ok(out)
}

fn ts_json(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

fn series_line(
    view: &ReadView,
    i: usize,
    buf: &mut ReadBuffers,
) -> Result<String, whippet_tsdb::Error> {
    let meta = &view.series()[i];
    let (type_name, interval) = match meta.mtype {
        MetricType::Count { interval_secs } | MetricType::Rate { interval_secs } => {
            (meta.mtype.name(), Some(interval_secs))
        }
        t => (t.name(), None),
    };
    let mut line = json!({
        "metric": meta.key.metric,
        "tags": meta.key.tags.as_slice(),
        "type": type_name,
        "interval": interval,
    });
    match meta.key.kind {
        ValueKind::Float => {
            let (ts, vals) = view.floats(i, buf)?;
            let points: Vec<Value> = ts
                .iter()
                .zip(vals)
                .map(|(t, v)| {
                    json!([
                        ts_json(*t),
                        if v.is_finite() { json!(v) } else { Value::Null }
                    ])
                })
                .collect();
            line["points"] = Value::Array(points);
        }
        ValueKind::Sketch => {
            let (ts, sk) = view.sketches(i, buf)?;
            let sketches: Vec<Value> = ts
                .iter()
                .zip(sk)
                .map(|(t, s)| {
                    let (k, n) = s.to_agent();
                    json!([ts_json(*t), {"count": s.count(), "sum": s.sum(), "min": s.min(), "max": s.max(), "k": k, "n": n}])
                })
                .collect();
            line["sketches"] = Value::Array(sketches);
        }
    }
    let mut s = line.to_string();
    s.push('\n');
    Ok(s)
}

/// `GET /api/v1/export`.
pub async fn export(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let run =
        async {
            let org = app_org(&s.meta, &headers, &q).await?;
            let metric = q
                .get("metric")
                .filter(|m| !m.is_empty())
                .ok_or_else(|| ApiError::bad_request("Missing parameter: metric"))?;
            let secs = |name: &str, default: i64| -> Result<i64, ApiError> {
                match q.get(name) {
                    None => Ok(default),
                    Some(v) => v.parse::<f64>().map(|x| (x * 1000.0) as i64).map_err(|_| {
                        ApiError::bad_request(format!(
                            "Parameter {name} must be a Unix timestamp in seconds, got `{v}`"
                        ))
                    }),
                }
            };
            let now = now_ms();
            let from = secs("from", now - 3_600_000)?;
            let to = secs("to", now)?;
            if to <= from {
                return Err(ApiError::bad_request("Parameter to must be after from"));
            }
            let mut parts = vec![Selector::Metric(metric.clone())];
            parts.extend(
                parse_scope(q.get("scope").map_or("*", String::as_str))
                    .map_err(ApiError::bad_request)?,
            );
            let view = s
                .engine
                .read(org, &Selector::And(parts), from, to + 1)
                .map_err(|e| ApiError::internal("reading for export", e))?;
            // Lines are produced on a blocking thread and streamed as they come,
            // through a small channel: memory stays bounded however much is
            // exported.
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(16);
            tokio::task::spawn_blocking(move || {
                let mut buf = ReadBuffers::default();
                for i in 0..view.series().len() {
                    let line = series_line(&view, i, &mut buf).map_err(|e| {
                        tracing::error!(error = %e, "export stopped by a read error");
                        std::io::Error::other("read error")
                    });
                    let stop = line.is_err();
                    if tx.blocking_send(line).is_err() || stop {
                        return;
                    }
                }
            });
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|x| (x, rx))
            });
            let mut r = Body::from_stream(stream).into_response();
            *r.status_mut() = StatusCode::OK;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
            Ok::<_, ApiError>(r)
        };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_become_selectors() {
        assert_eq!(parse_scope("*").unwrap(), vec![]);
        assert_eq!(
            parse_scope("host:web-1, !env:prod,role:*,service:api-*").unwrap(),
            vec![
                Selector::Tag("host:web-1".into()),
                Selector::Not(Box::new(Selector::Tag("env:prod".into()))),
                Selector::HasKey("role".into()),
                Selector::TagGlob("service:api-*".into()),
            ]
        );
        assert!(parse_scope("!").is_err());
    }
}
