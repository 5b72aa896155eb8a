//! Prometheus' HTTP API under `/prometheus/api/v1/` (issue 8; being built).

use axum::Router;

use super::AppState;

/// The Prometheus API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
