//! API errors as Datadog returns them: a status code and
//! `{"errors": ["message", ...]}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    /// The status code.
    pub status: StatusCode,
    /// The messages, in Datadog's `errors` array.
    pub messages: Vec<String>,
    /// Seconds for a `Retry-After` header (429 and 503).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error with one message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            messages: vec![message.into()],
            retry_after_secs: None,
        }
    }
    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    /// 403 with Datadog's body for a request without an API key.
    pub fn api_key_required() -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "API key required")
    }
    /// 403 with Datadog's body for an unknown key, or a missing or unknown
    /// application key.
    pub fn forbidden() -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "Forbidden")
    }
    /// 404.
    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, what)
    }
    /// 413 with the limit that was exceeded.
    pub fn too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload too large: the limit is {limit} bytes"),
        )
    }
    /// 503 with `Retry-After`: the server is saturated, try again soon.
    pub fn unavailable(message: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            messages: vec![message.into()],
            retry_after_secs: Some(retry_after_secs),
        }
    }
    /// 500: details are logged, never sent.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "{context}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "errors": self.messages }).to_string();
        let mut r = (self.status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(s) = self.retry_after_secs {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

impl From<whippet_meta::MetaError> for ApiError {
    /// Client mistakes (not found, conflict, invalid) keep their status and
    /// a message safe to show; anything else is a logged 500.
    fn from(e: whippet_meta::MetaError) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            return ApiError::internal("metadata store", e);
        }
        ApiError::new(status, e.public_message())
    }
}

/// A response of JSON bytes already written.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A JSON response serialised straight from `value` (no `Value` tree) into
/// a buffer of `capacity` bytes to start with (an estimate of the answer's
/// size saves regrowing it; see [`super::jsonfmt`]).
pub fn json_body(status: StatusCode, value: &impl serde::Serialize, capacity: usize) -> Response {
    match super::jsonfmt::to_vec(value, capacity) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => ApiError::internal("serialising the answer", e).into_response(),
    }
}

/// A JSON response with a status.
pub fn json(status: StatusCode, value: serde_json::Value) -> Response {
    let mut r = (status, value.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
