//! Where DogStatsD's output goes: flushed rows into the storage engine,
//! events and service checks into the metadata store (and the check status
//! series), all in the default org: DogStatsD has no keys, so it writes for
//! the org the server was set up with (the first org).

use std::sync::Arc;

use tokio::sync::mpsc;
use whippet_dd_intake::{CheckRun, MetricRow, SketchRow};
use whippet_dogstatsd::{
    Event, Flush, Server, ServerConfig, ServerHandle, ServiceCheck, Sink, StatsSnapshot,
};
use whippet_meta::NewEvent;
use whippet_tsdb::OrgId;

use super::AppState;
use super::ingest;
use super::intake::now_ms;
use super::selfmon::{SelfMon, names};
use crate::config::Config;

/// Events and service checks waiting to be stored. DogStatsD is
/// fire-and-forget: past this many waiting, new ones are dropped (and
/// counted) rather than held without bound.
const PENDING: usize = 4096;

enum Pending {
    Event(Event),
    Check(ServiceCheck),
}

struct EngineSink {
    state: AppState,
    org: OrgId,
    pending: mpsc::Sender<Pending>,
}

impl Sink for EngineSink {
    fn metrics(&self, flush: Flush) {
        // Runs on the blocking pool: the engine's write may block.
        let rows: Vec<MetricRow> = flush
            .metrics
            .into_iter()
            .map(|m| MetricRow {
                metric: m.metric,
                tags: m.tags,
                mtype: m.mtype,
                points: vec![(m.ts_ms, m.value)],
            })
            .collect();
        let sketches: Vec<SketchRow> = flush
            .sketches
            .into_iter()
            .map(|s| SketchRow {
                metric: s.metric,
                tags: s.tags,
                points: vec![(s.ts_ms, s.sketch)],
            })
            .collect();
        let result = ingest::write_metrics(&self.state.engine, self.org, &rows).and_then(|a| {
            ingest::write_sketches(&self.state.engine, self.org, &sketches).map(|b| (a, b))
        });
        match result {
            Ok((a, b)) => {
                let m = &self.state.selfmon;
                m.add(
                    names::POINTS,
                    &[("endpoint", "dogstatsd")],
                    (a.points + b.points) as f64,
                );
                for (code, n) in a.rejected.iter().chain(&b.rejected) {
                    m.add(
                        names::REJECTED,
                        &[("endpoint", "dogstatsd"), ("reason", code)],
                        *n as f64,
                    );
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "storing a DogStatsD flush failed");
                self.state.selfmon.add(
                    names::REJECTED,
                    &[("endpoint", "dogstatsd"), ("reason", "storage_error")],
                    rows.len() as f64,
                );
            }
        }
    }

    fn event(&self, event: Event) {
        if self.pending.try_send(Pending::Event(event)).is_err() {
            self.state.selfmon.add(
                names::REJECTED,
                &[("endpoint", "dogstatsd"), ("reason", "event_queue_full")],
                1.0,
            );
        }
    }

    fn service_check(&self, check: ServiceCheck) {
        if self.pending.try_send(Pending::Check(check)).is_err() {
            self.state.selfmon.add(
                names::REJECTED,
                &[("endpoint", "dogstatsd"), ("reason", "check_queue_full")],
                1.0,
            );
        }
    }
}

/// Stores events and service checks as they come.
async fn store_pending(state: AppState, org: OrgId, mut rx: mpsc::Receiver<Pending>) {
    while let Some(p) = rx.recv().await {
        let now = now_ms();
        match p {
            Pending::Event(e) => {
                let ev = NewEvent {
                    title: e.title,
                    text: e.text,
                    date_happened: e.timestamp.map_or(now, |s| s * 1000),
                    priority: Some(e.priority.as_str().to_owned()),
                    host: e.host,
                    tags: e.tags,
                    alert_type: Some(e.alert_type.as_str().to_owned()),
                    aggregation_key: e.aggregation_key,
                    source_type_name: e.source_type_name,
                    related_event_id: None,
                    device_name: None,
                    extra: serde_json::Value::Null,
                };
                match state.meta.insert_event(org, &ev).await {
                    Ok(_) => state
                        .selfmon
                        .add(names::EVENTS, &[("source", "dogstatsd")], 1.0),
                    Err(err) => tracing::error!(error = %err, "storing a DogStatsD event failed"),
                }
            }
            Pending::Check(c) => {
                let run = CheckRun {
                    check: c.name,
                    host: c.host,
                    status: c.status.code(),
                    timestamp_ms: c.timestamp.map(|s| s * 1000),
                    message: c.message.unwrap_or_default(),
                    tags: c.tags,
                };
                let tags = ingest::check_tags(&run);
                let engine = state.engine.clone();
                let one = vec![run];
                let written = tokio::task::spawn_blocking(move || {
                    ingest::write_check_runs(&engine, org, &one, now).map(|_| one)
                })
                .await;
                let Ok(Ok(one)) = written else {
                    tracing::error!("storing a DogStatsD service check failed");
                    continue;
                };
                let r = &one[0];
                if let Err(err) = state
                    .meta
                    .record_check_run(
                        org,
                        &r.check,
                        r.host.as_deref(),
                        &tags,
                        r.status,
                        &r.message,
                        r.timestamp_ms.unwrap_or(now),
                    )
                    .await
                {
                    tracing::error!(error = %err, "recording a DogStatsD service check failed");
                    continue;
                }
                state
                    .selfmon
                    .add(names::CHECK_RUNS, &[("source", "dogstatsd")], 1.0);
            }
        }
    }
}

/// The running DogStatsD server, if any listener is configured.
pub struct Dsd {
    handle: ServerHandle,
    stats: Arc<parking_lot::Mutex<StatsSnapshot>>,
}

impl Dsd {
    /// The bound UDP address.
    pub fn local_udp_addr(&self) -> Option<std::net::SocketAddr> {
        self.handle.local_udp_addr()
    }

    /// A shared view of the server's counters, refreshed by [`Dsd::refresh`].
    pub fn stats(&self) -> Arc<parking_lot::Mutex<StatsSnapshot>> {
        self.refresh();
        self.stats.clone()
    }

    /// Copies the server's counters into the shared view.
    pub fn refresh(&self) {
        *self.stats.lock() = self.handle.stats().snapshot();
    }

    /// Stops receiving and hands every open bucket to the store.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// Copies DogStatsD's counters into Whippet's registry.
pub fn copy_stats(snap: &parking_lot::Mutex<StatsSnapshot>, selfmon: &SelfMon) {
    for (name, tags, v) in snap.lock().series() {
        let labels: Vec<(&'static str, String)> = tags
            .iter()
            .map(|t| match t.split_once(':') {
                Some(("code", v)) => ("code", v.to_owned()),
                Some(("reason", v)) => ("reason", v.to_owned()),
                _ => ("tag", t.clone()),
            })
            .collect();
        let refs: Vec<(&'static str, &str)> =
            labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        selfmon.set(name, &refs, v as f64);
    }
}

/// Starts DogStatsD on the configured listeners; `None` when both are off.
pub async fn start(config: &Config, state: AppState, org: OrgId) -> anyhow::Result<Option<Dsd>> {
    if config.dogstatsd_addr.is_none() && config.dogstatsd_socket.is_none() {
        return Ok(None);
    }
    let (tx, rx) = mpsc::channel(PENDING);
    tokio::spawn(store_pending(state.clone(), org, rx));
    let sink = Arc::new(EngineSink {
        state,
        org,
        pending: tx,
    });
    let dsd_config = ServerConfig {
        udp_addr: config.dogstatsd_addr,
        socket_path: config.dogstatsd_socket.clone(),
        ..ServerConfig::default()
    };
    let handle = Server::start(dsd_config, sink).await.map_err(|e| {
        anyhow::anyhow!(
            "starting DogStatsD on {:?} / {:?} (WHIPPET_DOGSTATSD_ADDR / WHIPPET_DOGSTATSD_SOCKET): {e}",
            config.dogstatsd_addr,
            config.dogstatsd_socket
        )
    })?;
    Ok(Some(Dsd {
        handle,
        stats: Arc::new(parking_lot::Mutex::new(StatsSnapshot::default())),
    }))
}
