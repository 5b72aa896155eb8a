//! The DogStatsD server: sockets, receive loops, the flush tick, the sink.
//!
//! # Tasks
//!
//! [`Server::start`] binds the sockets, then spawns on the caller's tokio
//! runtime:
//! - `udp_receive_tasks` receive loops sharing the UDP socket, and one
//!   receive loop on the Unix datagram socket (`receive.rs`);
//! - one flush task, ticking every `flush_interval` (aligned on the clock).
//!
//! # Locks
//!
//! One `std::sync::Mutex` guards the [`Aggregator`]. A receive loop takes it
//! once per batch (hundreds to thousands of lines, parsed and hashed before
//! the lock is taken); the flush runs under it on the blocking pool. It is
//! never held across an `.await` nor while the sink runs. Counters are
//! atomics ([`Stats`]), updated once per batch.
//!
//! # Memory
//!
//! Per receive loop: one batch buffer (`256 KiB + max_datagram_bytes`) and
//! one sample vector, both reused. Aggregator state: bounded as its module
//! doc says. The kernel's socket buffer: `receive_buffer_bytes`, capped by
//! the OS.
//!
//! # Shutdown
//!
//! [`ServerHandle::shutdown`] stops the loops (each first drains what is
//! queued in its socket), waits for a flush in progress, flushes every open
//! bucket including the current one to the sink, and removes the Unix
//! socket file. Dropping the handle instead stops the loops but flushes
//! nothing.

mod config;
mod receive;
mod sink;
mod socket;
mod stats;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use whippet_tsdb::Clock;

pub use config::{DEFAULT_MAX_DATAGRAM_BYTES, ServerConfig};
pub use sink::Sink;
pub use stats::{Stats, StatsSnapshot};

use crate::aggregate::{Aggregator, ContextHasher, DropReason};

/// Delay after each aligned flush boundary: the tick runs on tokio's
/// monotonic timer while buckets follow the wall clock, so a tick placed
/// exactly on the boundary could land a hair early and leave the bucket that
/// just closed for the next tick.
const FLUSH_TICK_DELAY_MS: i64 = 100;

/// What the tasks share.
pub(crate) struct Shared {
    /// The time sampler; see the module doc for who takes this lock.
    aggregator: Mutex<Aggregator>,
    /// The aggregator's context hasher, usable without the lock.
    hasher: ContextHasher,
    stats: Arc<Stats>,
    sink: Arc<dyn Sink>,
    clock: Clock,
    default_host: Option<String>,
    max_datagram_bytes: usize,
    flush_interval: Duration,
}

impl Shared {
    /// Locks the aggregator. A panic while it was held (a bug) leaves state
    /// that is still consistent enough to keep counting, so poisoning is
    /// ignored rather than spread to every task.
    fn lock(&self) -> MutexGuard<'_, Aggregator> {
        self.aggregator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Flushes closed buckets (or all of them) and hands the rows to the sink.
    fn flush_to_sink(&self, all: bool) {
        let flush = {
            let mut agg = self.lock();
            let now = self.clock.now_ms();
            let flush = if all {
                agg.flush_all(now)
            } else {
                agg.flush(now)
            };
            for reason in DropReason::ALL {
                self.stats.set_dropped(reason, agg.dropped(reason));
            }
            flush
        };
        if !flush.is_empty() {
            self.stats.add_flush(flush.len());
            self.sink.metrics(flush);
        }
    }
}

/// Starts DogStatsD servers.
pub struct Server;

impl Server {
    /// Validates `config`, binds the sockets, spawns the tasks on the current
    /// tokio runtime and returns at once. Errors: an invalid configuration
    /// (`InvalidInput`) or a socket that cannot be bound (the OS error's
    /// kind, e.g. `AddrInUse`).
    pub async fn start(config: ServerConfig, sink: Arc<dyn Sink>) -> io::Result<ServerHandle> {
        config.validate()?;
        let aggregator =
            Aggregator::new(config.aggregation.clone(), config.default_host.as_deref())?;
        let udp = match config.udp_addr {
            Some(addr) => Some(socket::bind_udp(addr, config.receive_buffer_bytes)?),
            None => None,
        };
        let unix = match &config.socket_path {
            Some(path) => Some(socket::bind_unix(path, config.receive_buffer_bytes)?),
            None => None,
        };
        let shared = Arc::new(Shared {
            hasher: aggregator.context_hasher(),
            aggregator: Mutex::new(aggregator),
            stats: Arc::new(Stats::default()),
            sink,
            clock: config.clock.clone(),
            default_host: config.default_host.clone(),
            max_datagram_bytes: config.max_datagram_bytes,
            flush_interval: config.flush_interval,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut receivers = Vec::new();
        let mut udp_addr = None;
        let mut udp_rcvbuf = None;
        if let Some((sock, granted)) = udp {
            udp_addr = Some(sock.local_addr()?);
            udp_rcvbuf = Some(granted);
            tracing::info!(addr = ?udp_addr, rcvbuf_bytes = granted, "DogStatsD listening on UDP");
            let sock = Arc::new(sock);
            for _ in 0..config.udp_receive_tasks {
                receivers.push(tokio::spawn(receive::receive_loop(
                    Arc::clone(&sock),
                    Arc::clone(&shared),
                    stop_rx.clone(),
                )));
            }
        }
        let mut unix_rcvbuf = None;
        if let Some((sock, granted)) = unix {
            unix_rcvbuf = Some(granted);
            tracing::info!(path = ?config.socket_path, rcvbuf_bytes = granted, "DogStatsD listening on a Unix socket");
            receivers.push(tokio::spawn(receive::receive_loop(
                Arc::new(sock),
                Arc::clone(&shared),
                stop_rx.clone(),
            )));
        }
        let flusher = tokio::spawn(flush_loop(Arc::clone(&shared), stop_rx));
        Ok(ServerHandle {
            stats: Arc::clone(&shared.stats),
            shared,
            stop: stop_tx,
            receivers,
            flusher,
            udp_addr,
            socket_path: config.socket_path,
            udp_rcvbuf,
            unix_rcvbuf,
        })
    }
}

/// Flushes every `flush_interval`, aligned on the clock, until `stop`.
async fn flush_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let period = shared.flush_interval;
    let period_ms = (period.as_millis() as i64).max(1);
    let now = shared.clock.now_ms();
    let first = period_ms - now.rem_euclid(period_ms) + FLUSH_TICK_DELAY_MS;
    let start = tokio::time::Instant::now() + Duration::from_millis(first as u64);
    let mut ticker = tokio::time::interval_at(start, period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = ticker.tick() => {}
        }
        let s = Arc::clone(&shared);
        if let Err(e) = tokio::task::spawn_blocking(move || s.flush_to_sink(false)).await {
            tracing::error!(error = %e, "DogStatsD flush failed");
        }
    }
}

/// A running server.
pub struct ServerHandle {
    shared: Arc<Shared>,
    stats: Arc<Stats>,
    /// Dropping it (with the handle) stops every task.
    stop: watch::Sender<bool>,
    receivers: Vec<JoinHandle<()>>,
    flusher: JoinHandle<()>,
    udp_addr: Option<SocketAddr>,
    socket_path: Option<PathBuf>,
    udp_rcvbuf: Option<usize>,
    unix_rcvbuf: Option<usize>,
}

impl ServerHandle {
    /// The bound UDP address (with the real port when 0 was asked for).
    pub fn local_udp_addr(&self) -> Option<SocketAddr> {
        self.udp_addr
    }

    /// The Unix socket path, if any.
    pub fn socket_path(&self) -> Option<&std::path::Path> {
        self.socket_path.as_deref()
    }

    /// The receive buffers the kernel granted: (UDP, Unix), in bytes as the
    /// kernel reports them (Linux reports twice the usable size).
    pub fn receive_buffer_bytes(&self) -> (Option<usize>, Option<usize>) {
        (self.udp_rcvbuf, self.unix_rcvbuf)
    }

    /// The server's counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Stops receiving (after draining what the sockets hold), waits for a
    /// flush in progress, hands every open bucket, the current one
    /// included, to the sink, removes the Unix socket file, and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.receivers {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "DogStatsD receive task failed");
            }
        }
        if let Err(e) = self.flusher.await {
            tracing::error!(error = %e, "DogStatsD flush task failed");
        }
        let shared = Arc::clone(&self.shared);
        if let Err(e) = tokio::task::spawn_blocking(move || shared.flush_to_sink(true)).await {
            tracing::error!(error = %e, "DogStatsD final flush failed");
        }
        if let Some(path) = &self.socket_path {
            socket::remove_socket_file(path);
        }
    }
}
