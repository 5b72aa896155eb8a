//! `whippet serve`: the storage engine, the metadata store, the HTTP API and
//! intake, the DogStatsD listeners and self-monitoring, wired together.
//!
//! Start-up opens everything and binds every listener before printing that
//! Whippet is ready; shutdown (SIGINT or SIGTERM) stops accepting, flushes
//! DogStatsD's open buckets, writes the head to parts and syncs the WAL.

mod auth;
mod composites;
mod dashboards;
mod dogstatsd_sink;
mod downtimes;
mod error;
mod events;
mod export;
mod extract;
mod hosts;
mod ingest;
mod intake;
mod jsonfmt;
mod monitors;
mod prom_write;
mod prometheus;
mod query;
pub mod selfmon;
mod series_cache;
mod ui;
mod users_api;
mod webhooks;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Semaphore;
use whippet_meta::MetaStore;
use whippet_tsdb::{Engine, OrgId};

use crate::config::Config;
use error::ApiError;
use selfmon::SelfMon;

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The shared parts of the server.
pub struct Shared {
    /// The storage engine.
    pub engine: Engine,
    /// Orgs, keys, events, check runs.
    pub meta: MetaStore,
    /// Whippet's own counters.
    pub selfmon: Arc<SelfMon>,
    /// Intake requests in flight (see `max_concurrent_requests`).
    pub admission: Semaphore,
    /// The metric query engine.
    pub query: Arc<whippet_query::QueryEngine>,
    /// The PromQL engine (Prometheus' HTTP API).
    pub promql: whippet_promql::PromEngine,
    /// What one remote write request may hold (checked by the config).
    pub prom_write_limits: whippet_prom_write::Limits,
    /// What the series of protobuf intake requests resolved to.
    pub series_cache: series_cache::SeriesCache,
    /// Woken when a monitor is created, changed or deleted.
    pub monitors_changed: tokio::sync::Notify,
    /// The config file's `[[webhooks]]`, `[slack]` and `[smtp]` tables,
    /// read by the notification deliverer (fixed until a restart).
    pub notifications: crate::config::NotificationConfig,
}

impl Shared {
    /// Tells the monitor scheduler that definitions changed.
    pub fn monitors_changed(&self) {
        self.monitors_changed.notify_one();
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub(crate) fn intake_encoding(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
}

pub(crate) fn intake_err(e: whippet_dd_intake::IntakeError) -> ApiError {
    ApiError::new(
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        e.message(),
    )
}

/// The HTTP routes. Every path is served from one listener (spec §1.1).
pub fn router(state: AppState) -> Router {
    let ignored = post(intake::accept_and_ignore);
    // Metric queries, counted and timed for self-monitoring.
    let queries = Router::new()
        .route("/api/v1/query", get(query::query_v1))
        .route("/api/v2/query/timeseries", post(query::timeseries_v2))
        .route("/api/v2/query/scalar", post(query::scalar_v2))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            query::timed,
        ));
    Router::new()
        .route("/api/v1/series", post(intake::series_v1))
        .route("/api/v2/series", post(intake::series_v2))
        .route(
            "/api/v1/distribution_points",
            post(intake::distribution_points),
        )
        .route("/api/beta/sketches", post(intake::sketches))
        .route("/api/v1/check_run", post(intake::check_run))
        .route("/api/v1/validate", get(intake::validate))
        .route("/api/v1/events", post(events::create_v1).get(events::list))
        .route("/api/v1/events/{id}", get(events::get))
        .route("/api/v2/events", post(events::create_v2))
        .route("/api/v1/export", get(export::export))
        .merge(queries)
        .route("/api/v1/metrics", get(query::list_metrics))
        .route("/api/v1/search", get(query::search))
        .route("/api/v2/metrics/{metric}/all-tags", get(query::all_tags))
        .route(
            "/api/v1/monitor",
            post(monitors::create).get(monitors::list),
        )
        .route("/api/v1/monitor/validate", post(monitors::validate))
        .route("/api/v1/monitor/can_delete", get(composites::can_delete))
        .route(
            "/api/v1/monitor/{id}",
            get(monitors::get_one)
                .put(monitors::update)
                .delete(monitors::delete),
        )
        .route(
            "/api/v1/monitor/{id}/validate",
            post(monitors::validate_existing),
        )
        .route("/api/ui/monitors/{id}/history", get(monitors::history))
        .route("/api/v1/monitor/{id}/mute", post(downtimes::mute))
        .route("/api/v1/monitor/{id}/unmute", post(downtimes::unmute))
        .route("/api/v1/monitor/{id}/downtimes", get(downtimes::of_monitor))
        .route(
            "/api/v1/downtime",
            post(downtimes::create).get(downtimes::list),
        )
        .route(
            "/api/v1/downtime/{id}",
            get(downtimes::get_one)
                .put(downtimes::update)
                .delete(downtimes::cancel),
        )
        .route(
            "/api/v1/downtime/cancel/by_scope",
            post(downtimes::cancel_by_scope),
        )
        .route(
            "/api/v1/integration/webhooks/configuration/webhooks",
            post(webhooks::create),
        )
        .route(
            "/api/v1/integration/webhooks/configuration/webhooks/{webhook_name}",
            get(webhooks::get_one)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/intake/", ignored.clone())
        .route("/api/v2/host_metadata", ignored.clone())
        .route("/api/v1/metadata", ignored.clone())
        .route("/api/v2/service_checks", ignored)
        .route("/metrics", get(prometheus_metrics))
        .merge(users_api::routes())
        .merge(dashboards::routes())
        .merge(hosts::routes())
        .merge(prom_write::routes(state.prom_write_limits.clone()))
        .merge(
            prometheus::routes().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                query::timed,
            )),
        )
        .fallback(ui::fallback)
        // Roles and the CSRF header for requests signed by the session cookie.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            users_api::session::guard,
        ))
        // Bodies are read with each endpoint's own limit (413 in Datadog's
        // shape); the framework's default limit would answer first.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// `GET /metrics`: Whippet's counters and storage gauges, Prometheus text.
async fn prometheus_metrics(State(s): State<AppState>) -> Response {
    let st = s.engine.storage_stats();
    let gauges = storage_gauges(&s.engine, &st);
    let body = s.selfmon.render_prometheus(
        &gauges
            .iter()
            .map(|(n, h, v)| (*n, *h, *v))
            .collect::<Vec<_>>(),
    );
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

fn storage_gauges(
    engine: &Engine,
    st: &whippet_tsdb::StorageStats,
) -> Vec<(&'static str, &'static str, f64)> {
    let es = engine.stats();
    let load =
        |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed) as f64;
    vec![
        (
            "whippet.storage.series",
            "Series in the catalog.",
            st.series as f64,
        ),
        ("whippet.storage.parts", "Parts on disk.", st.parts as f64),
        (
            "whippet.storage.chunk_cache.bytes",
            "Bytes of decoded chunks cached for queries.",
            st.chunk_cache_bytes as f64,
        ),
        (
            "whippet.storage.chunk_cache.hits",
            "Chunk reads answered by the decoded-chunk cache (since start).",
            st.chunk_cache_hits as f64,
        ),
        (
            "whippet.storage.chunk_cache.misses",
            "Chunk reads that had to decode (since start).",
            st.chunk_cache_misses as f64,
        ),
        (
            "whippet.storage.part.bytes",
            "Bytes of part files.",
            st.part_bytes as f64,
        ),
        (
            "whippet.storage.part.points",
            "Points in parts.",
            st.part_points as f64,
        ),
        (
            "whippet.storage.head.points",
            "Points in the in-memory head.",
            st.head_points as f64,
        ),
        (
            "whippet.storage.head.bytes",
            "Approximate bytes of the head.",
            st.head_bytes as f64,
        ),
        (
            "whippet.storage.wal.bytes",
            "Bytes of WAL segments.",
            st.wal_bytes as f64,
        ),
        (
            "whippet.storage.merges",
            "Merges done since start.",
            load(&es.merges),
        ),
        (
            "whippet.storage.backpressure_waits",
            "Times writers waited for background work.",
            load(&es.backpressure_waits),
        ),
        (
            "whippet.storage.background_errors",
            "Errors in background work since start.",
            load(&es.background_errors),
        ),
    ]
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let engine_dir = config.tsdb_dir();
    let engine_config = config.engine_config();
    let (engine, report) =
        tokio::task::spawn_blocking(move || whippet_tsdb::Engine::open(&engine_dir, engine_config))
            .await?
            .with_context(|| {
                format!(
                    "opening the storage engine in {}",
                    config.tsdb_dir().display()
                )
            })?;
    tracing::info!(
        series = report.series,
        parts = report.parts,
        wal_points = report.wal_points,
        damage = report.damage.len(),
        "storage engine open"
    );
    let meta_url = config.metadata_url();
    let meta = MetaStore::open(&meta_url)
        .await
        .with_context(|| format!("opening the metadata store {}", redact(&meta_url)))?;
    let bootstrap = meta
        .bootstrap(config.api_key.as_deref(), config.app_key.as_deref())
        .await
        .context("creating the default org")?;
    let default_org = meta
        .list_orgs()
        .await
        .context("listing orgs")?
        .first()
        .map(|o| o.id)
        .context("the metadata store has no org")?;
    let first_admin = users_api::ensure_first_admin(
        &meta,
        default_org,
        config.admin_password.as_ref().map(|p| p.0.as_str()),
    )
    .await
    .context("creating the first admin")?;

    let state = AppState(Arc::new(Shared {
        engine: engine.clone(),
        meta: meta.clone(),
        selfmon: Arc::new(SelfMon::default()),
        admission: Semaphore::new(config.max_concurrent_requests),
        query: Arc::new(whippet_query::QueryEngine::new(
            engine.clone(),
            config.query_limits,
        )),
        promql: whippet_promql::PromEngine::new(engine.clone(), config.promql.clone()),
        prom_write_limits: config.prom_write_limits.clone(),
        series_cache: series_cache::SeriesCache::default(),
        monitors_changed: tokio::sync::Notify::new(),
        notifications: config.notifications.clone(),
    }));

    let http = match config.http_addr {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("binding the HTTP listener on {addr} (WHIPPET_HTTP_ADDR / --http-addr)")
        })?),
        None => None,
    };
    let http_addr = http.as_ref().map(|l| l.local_addr()).transpose()?;
    let dsd = dogstatsd_sink::start(&config, state.clone(), default_org).await?;

    print_banner(
        &config,
        http_addr,
        dsd.as_ref().and_then(|d| d.local_udp_addr()),
        bootstrap.as_ref(),
        first_admin.as_ref(),
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let http_task = http.map(|listener| {
        let app = router(state.clone());
        let mut rx = stop_rx.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.changed().await;
                })
                .await
        })
    });
    let selfmon_task = (config.self_monitoring_interval_secs > 0).then(|| {
        tokio::spawn(self_monitoring(
            state.clone(),
            default_org,
            Duration::from_secs(config.self_monitoring_interval_secs),
            dsd.as_ref().map(|d| d.stats()),
            stop_rx.clone(),
        ))
    });
    let monitor_task = (config.monitor_interval_secs > 0).then(|| {
        tokio::spawn(crate::alerting::schedule::run(
            state.clone(),
            Duration::from_secs(config.monitor_interval_secs),
            stop_rx.clone(),
        ))
    });
    let deliver_task = tokio::spawn(crate::alerting::deliver::run(
        state.clone(),
        stop_rx.clone(),
    ));
    // Keeps the shared copy of DogStatsD's counters fresh for /metrics and
    // self-monitoring.
    let dsd = dsd.map(Arc::new);
    let dsd_refresh = dsd.clone().map(|d| {
        let mut rx = stop_rx.clone();
        let selfmon = state.selfmon.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = rx.changed() => return,
                }
                d.refresh();
                dogstatsd_sink::copy_stats(&d.stats(), &selfmon);
            }
        })
    });

    wait_for_signal().await?;
    tracing::info!("shutting down: no new requests; flushing DogStatsD and the storage head");
    let _ = stop_tx.send(true);
    if let Some(t) = http_task {
        let _ = t.await;
    }
    if let Some(t) = dsd_refresh {
        let _ = t.await;
    }
    if let Some(d) = dsd.and_then(Arc::into_inner) {
        d.shutdown().await;
    }
    if let Some(t) = selfmon_task {
        let _ = t.await;
    }
    if let Some(t) = monitor_task {
        let _ = t.await;
    }
    let _ = deliver_task.await;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        engine.flush().context("writing the head to parts")?;
        engine.close().context("closing the storage engine")?;
        Ok(())
    })
    .await??;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Writes Whippet's own metrics into its store every `every`, and once more
/// at shutdown.
async fn self_monitoring(
    state: AppState,
    org: OrgId,
    every: Duration,
    dsd: Option<Arc<parking_lot::Mutex<whippet_dogstatsd::StatsSnapshot>>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        if let Some(d) = &dsd {
            dogstatsd_sink::copy_stats(d, &state.selfmon);
        }
        let s = state.clone();
        let interval_secs = every.as_secs().max(1) as u32;
        let result =
            tokio::task::spawn_blocking(move || write_self_metrics(&s, org, interval_secs)).await;
        match result {
            Ok(Err(e)) => tracing::warn!(error = %e, "writing self-monitoring metrics failed"),
            Err(e) => tracing::warn!(error = %e, "self-monitoring task failed"),
            Ok(Ok(())) => {}
        }
        if last {
            return;
        }
    }
}

fn write_self_metrics(
    s: &AppState,
    org: OrgId,
    interval_secs: u32,
) -> Result<(), whippet_tsdb::Error> {
    use whippet_dd_intake::MetricRow;
    use whippet_tsdb::MetricType;
    let now = intake::now_ms() / 1000 * 1000;
    let mut rows: Vec<MetricRow> = s
        .selfmon
        .take_increases()
        .into_iter()
        .map(|(name, tags, v)| MetricRow {
            metric: name.to_owned(),
            tags,
            mtype: MetricType::Count { interval_secs },
            points: vec![(now, v)],
        })
        .collect();
    let st = s.engine.storage_stats();
    rows.extend(
        storage_gauges(&s.engine, &st)
            .into_iter()
            .map(|(name, _, v)| MetricRow {
                metric: name.to_owned(),
                tags: Vec::new(),
                mtype: MetricType::Gauge,
                points: vec![(now, v)],
            }),
    );
    ingest::write_metrics(&s.engine, org, &rows).map(|_| ())
}

fn redact(url: &str) -> String {
    // postgres://user:password@host/db -> postgres://user:***@host/db
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn print_banner(
    config: &Config,
    http: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    boot: Option<&whippet_meta::Bootstrap>,
    admin: Option<&users_api::FirstAdmin>,
) {
    let mut lines = vec![format!(
        "Whippet is ready. Data: {}",
        config.data_dir.display()
    )];
    match http {
        Some(a) => {
            lines.push(format!("  HTTP API and intake: http://{a}"));
            lines.push(format!("    datadog (datadogpy):   initialize(api_key=..., app_key=..., api_host=\"http://{a}\")"));
            lines.push(format!("    datadog-api-client:    Configuration(host=\"http://{a}\")  (or DD_SITE-less DATADOG_HOST=http://{a})"));
            lines.push(format!(
                "    Datadog Agent:         dd_url: http://{a}   (datadog.yaml)"
            ));
            lines.push(format!(
                "    Prometheus scrape of Whippet itself: http://{a}/metrics"
            ));
        }
        None => lines.push("  HTTP API: off".into()),
    }
    match udp {
        Some(a) => lines.push(format!(
            "  DogStatsD: udp://{a}   (datadogpy: initialize(statsd_host=\"{}\", statsd_port={}); DD_DOGSTATSD_URL=udp://{a})",
            a.ip(),
            a.port()
        )),
        None => lines.push("  DogStatsD UDP: off".into()),
    }
    if let Some(p) = &config.dogstatsd_socket {
        lines.push(format!(
            "  DogStatsD socket: {}   (DD_DOGSTATSD_URL=unix://{})",
            p.display(),
            p.display()
        ));
    }
    if let Some(b) = boot {
        lines.push(format!(
            "  Created org \"{}\" with its first keys.",
            b.org.name
        ));
        let show = |given: bool, name: &str, secret: &str, source: &str| {
            if given {
                format!("    {name}: the one given by {source}")
            } else {
                format!("    {name}: {secret}   (shown only now)")
            }
        };
        lines.push(show(
            config.api_key.is_some(),
            "API key        ",
            &b.api_key,
            "WHIPPET_API_KEY / --api-key",
        ));
        lines.push(show(
            config.app_key.is_some(),
            "Application key",
            &b.app_key,
            "WHIPPET_APP_KEY / --app-key",
        ));
        lines.push("  Manage keys with `whippet keys list|create|revoke`.".into());
    }
    if let Some(a) = admin {
        let sign_in = http.map_or(String::new(), |h| format!(" at http://{h}/"));
        lines.push(format!("  Created the first admin; sign in{sign_in}:"));
        lines.push(format!("    E-mail:   {}", a.email));
        lines.push(match &a.generated_password {
            Some(p) => format!("    Password: {p}   (shown only now)"),
            None => format!(
                "    Password: the one given by {}",
                crate::config::ADMIN_PASSWORD_ENV
            ),
        });
    }
    lines.push("  Stop with Ctrl-C (SIGINT) or SIGTERM.".into());
    eprintln!("{}", lines.join("\n"));
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
