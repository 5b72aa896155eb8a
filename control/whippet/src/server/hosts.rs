//! The hosts that sent data (`/api/v1/hosts`, as `datadog-api-client`'s
//! `HostsApi` calls it), for the web UI's hosts list. Being filled in.

use axum::Router;

use super::AppState;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
