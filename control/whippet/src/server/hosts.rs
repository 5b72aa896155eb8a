//! The hosts that sent data to an org: Datadog's `GET /api/v1/hosts` and
//! `GET /api/v1/hosts/totals`, as `datadog-api-client`'s `HostsApi` calls
//! them, for the web UI's hosts list.
//!
//! A host is any value of the `host` tag of the org's series (metrics of
//! the HTTP intake and DogStatsD, check runs) or the host of one of its
//! recent events ([`inventory`]); the query string picks, orders and pages
//! them ([`listing`]). Each host carries:
//! - `name`, `host_name` and `aliases` (`[name]`): its name;
//! - `id`: a number derived from the org and the name (FNV-1a, 53 bits so
//!   JavaScript reads it exactly), the same on every call and restart;
//! - `tags_by_source`: `{"Datadog": [...]}`, the tags of its series besides
//!   `host:`, sorted, at most [`inventory::MAX_TAGS_PER_HOST`];
//! - `apps`: the namespaces of its metrics; `sources`: `["agent"]` when the
//!   Datadog Agent reports it (`datadog.agent.*` metrics), else empty;
//! - `last_reported_time`: epoch seconds of its newest point or event;
//! - `up`: it reported within [`listing::UP_WINDOW_MS`] (2 hours);
//! - `is_muted: false`, `mute_timeout: null`, and empty `meta` and
//!   `metrics`: Whippet neither mutes hosts nor keeps host metadata.
//!
//! # What it must never do
//! Block the async runtime: gathering reads the engine's index and part
//! tables for tens of milliseconds on a large fleet, so it runs on a
//! blocking thread.

mod inventory;
mod listing;
#[cfg(test)]
mod scale;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use whippet_meta::EventQuery;
use whippet_tsdb::OrgId;

use super::AppState;
use super::error::{ApiError, json};
use super::extract::AppOrg;
use inventory::Host;
use listing::{DEFAULT_WINDOW_MS, ListQuery, UP_WINDOW_MS, is_up};

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/hosts", get(list))
        .route("/api/v1/hosts/totals", get(totals))
}

/// `GET /api/v1/hosts`: `{"host_list": [...], "total_matching": N,
/// "total_returned": M}`; parameters in [`ListQuery::parse`].
async fn list(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let now = s.engine.config().clock.now_ms();
    let query = ListQuery::parse(&q, now)?;
    let hosts = gather(&s, org, query.since_ms, now).await?;
    let (page, total) = query.page(&hosts, |h| host_id(org, &h.name), now);
    let host_list: Vec<Value> = page.iter().map(|h| host_json(org, h, now)).collect();
    let returned = host_list.len();
    Ok(json(
        StatusCode::OK,
        json!({"host_list": host_list, "total_matching": total, "total_returned": returned}),
    ))
}

/// `GET /api/v1/hosts/totals?from=`: `{"total_active": N, "total_up": M}`.
/// Active hosts are those the list shows without a filter (reported since
/// `from`, by default in the last 3 hours); up hosts are those of them
/// that reported in the last 2 hours.
async fn totals(
    State(s): State<AppState>,
    AppOrg(org): AppOrg,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let now = s.engine.config().clock.now_ms();
    let since = listing::totals_since_ms(&q)?.unwrap_or(now - DEFAULT_WINDOW_MS);
    let hosts = gather(&s, org, since, now).await?;
    let up = hosts.iter().filter(|h| is_up(h, now)).count();
    Ok(json(
        StatusCode::OK,
        json!({"total_active": hosts.len(), "total_up": up}),
    ))
}

/// Every host of `org` that reported at or after `since_ms`, sorted by
/// name: those of the series (on a blocking thread), then those of the
/// org's latest events in the window (at most [`EventQuery::MAX_LIMIT`]
/// of them: one page of the event store, so a host known only from older
/// events of a busy window can be missed).
async fn gather(s: &AppState, org: OrgId, since_ms: i64, now: i64) -> Result<Vec<Host>, ApiError> {
    let engine = s.engine.clone();
    let mut hosts =
        tokio::task::spawn_blocking(move || inventory::from_series(&engine, org, since_ms))
            .await
            .map_err(|e| ApiError::internal("listing the hosts of the series", e))?;
    let mut eq = EventQuery::range(since_ms, now.saturating_add(UP_WINDOW_MS));
    eq.unaggregated = true;
    eq.limit = EventQuery::MAX_LIMIT;
    let events = s.meta.list_events(org, &eq).await?;
    inventory::add_event_hosts(&mut hosts, &events, since_ms);
    Ok(hosts)
}

/// The id of host `name` of `org`: FNV-1a over both, cut to 53 bits (the
/// integers a JavaScript number holds exactly), never 0.
fn host_id(org: OrgId, name: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in org.0.to_le_bytes().iter().chain(name.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    (h & ((1 << 53) - 1)).max(1)
}

/// One host as Datadog's `Host` object.
fn host_json(org: OrgId, h: &Host, now: i64) -> Value {
    let tags_by_source = if h.tags.is_empty() {
        json!({})
    } else {
        json!({"Datadog": h.tags})
    };
    let sources: &[&str] = if h.apps.iter().any(|a| a == "agent") {
        &["agent"]
    } else {
        &[]
    };
    json!({
        "name": h.name,
        "host_name": h.name,
        "id": host_id(org, &h.name),
        "aliases": [h.name],
        "apps": h.apps,
        "sources": sources,
        "tags_by_source": tags_by_source,
        "up": is_up(h, now),
        "is_muted": false,
        "mute_timeout": null,
        "last_reported_time": h.last_reported_ms.div_euclid(1000),
        "meta": {},
        "metrics": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_fit_a_javascript_number() {
        let a = host_id(OrgId(1), "web-1");
        assert_eq!(a, host_id(OrgId(1), "web-1"));
        assert_ne!(a, host_id(OrgId(1), "web-2"));
        assert_ne!(a, host_id(OrgId(2), "web-1"));
        assert!(a > 0 && a < 1 << 53);
        // Pinned: the id must not change between releases.
        assert_eq!(host_id(OrgId(1), "web-1"), host_id_reference());
    }

    /// The same FNV-1a, written out for one input.
    fn host_id_reference() -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in [1u8, 0, 0, 0].iter().chain(b"web-1") {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
        h & ((1 << 53) - 1)
    }

    #[test]
    fn a_host_renders_as_datadogs_host_object() {
        let h = Host {
            name: "web-1".into(),
            tags: vec!["env:prod".into()],
            apps: vec!["agent".into(), "system".into()],
            last_reported_ms: 1_795_651_199_999,
        };
        let v = host_json(OrgId(1), &h, 1_795_651_200_000);
        assert_eq!(v["name"], "web-1");
        assert_eq!(v["host_name"], "web-1");
        assert_eq!(v["aliases"], json!(["web-1"]));
        assert_eq!(v["tags_by_source"], json!({"Datadog": ["env:prod"]}));
        assert_eq!(v["sources"], json!(["agent"]));
        assert_eq!(v["last_reported_time"], 1_795_651_199);
        assert_eq!(v["up"], true);
        assert_eq!(v["is_muted"], false);
        let bare = Host {
            tags: vec![],
            apps: vec![],
            ..h
        };
        let v = host_json(OrgId(1), &bare, 1_795_651_200_000 + UP_WINDOW_MS);
        assert_eq!(v["tags_by_source"], json!({}));
        assert_eq!(v["sources"], json!([]));
        assert_eq!(v["up"], false);
    }
}
