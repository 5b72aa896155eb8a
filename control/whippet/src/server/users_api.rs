//! Users, sign-in and sessions for the web UI (issue 7): `POST
//! /api/ui/login`, `POST /api/ui/logout`, `GET /api/ui/me`, and the admin's
//! users and keys pages' API. Being filled in.

use axum::Router;

use super::AppState;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
