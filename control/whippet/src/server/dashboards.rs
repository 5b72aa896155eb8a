//! Datadog's dashboards API (`/api/v1/dashboard`), as
//! `datadog-api-client`'s `DashboardsApi` calls it. Being filled in.

use axum::Router;

use super::AppState;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
