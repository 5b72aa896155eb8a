//! The web UI's files, embedded in the binary and served at `/`. Being
//! filled in: until then every path outside the API is a 404.

use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Answers every request no route took.
pub async fn fallback() -> Response {
    ApiError::not_found("Not found").into_response()
}
