//! `POST /api/v1/write`: Prometheus remote write 1.0 (issue 8; being built).

use axum::Router;
use axum::routing::post;

use super::AppState;
use super::error::ApiError;

/// The remote write route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/write", post(write))
}

async fn write() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_IMPLEMENTED,
        "remote write is not built yet",
    )
}
