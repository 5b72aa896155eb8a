//! Server configuration. Each field's doc comment is its reference
//! documentation; [`ServerConfig::default`] is the one place that holds the
//! defaults, and [`ServerConfig::validate`] checks a configuration without
//! touching the system (binding happens in [`super::Server::start`]).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use whippet_tsdb::Clock;

use crate::aggregate::AggregatorConfig;
use crate::error::Error;

/// Largest datagram a receive buffer slot must hold: the UDP maximum
/// payload (65 507) rounded up to 64 KiB. The spec (§3.1) asks for at least
/// 8 192 and calls 65 535 safest; a datagram larger than the slot would be
/// truncated by the kernel without notice.
pub const DEFAULT_MAX_DATAGRAM_BYTES: usize = 65_535;

/// How a DogStatsD server listens, aggregates and flushes.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// UDP address to receive on (`None`: no UDP). Port 0 picks a free port
    /// ([`super::ServerHandle::local_udp_addr`] tells which). Default:
    /// `127.0.0.1:8125`, the Agent's default (local traffic only).
    pub udp_addr: Option<SocketAddr>,
    /// Unix datagram socket path (`None`: no Unix socket). A stale socket
    /// file left by a previous run is removed first; a live one (another
    /// process answers) or a non-socket file at the path is an error. The
    /// socket is made writable by everyone (mode 0722, as the Agent does),
    /// and removed on shutdown. Default: `None`.
    pub socket_path: Option<PathBuf>,
    /// Host of samples without a `host:` tag, and of events and service
    /// checks without `h:`. Default: `None` (no host).
    pub default_host: Option<String>,
    /// Time between flushes. Ticks are aligned on multiples of this interval
    /// on `clock` (plus 100 ms), so with the default every flush comes just
    /// after a 10-second bucket closes. Each tick flushes every closed
    /// bucket. Default: 10 s.
    pub flush_interval: Duration,
    /// How samples are aggregated.
    pub aggregation: AggregatorConfig,
    /// Receive buffer (`SO_RCVBUF`) asked for on each socket, in bytes; `0`
    /// leaves the operating system's default. The kernel caps it (on Linux
    /// at `net.core.rmem_max`, often 208 KiB or 4 MiB: raise that sysctl to
    /// absorb longer bursts); the value obtained is logged and reported by
    /// [`super::ServerHandle::receive_buffer_bytes`]. Default: 8 MiB, about
    /// 5 700 full 1 432-byte datagrams, or 40 ms at 1 M lines/s.
    pub receive_buffer_bytes: usize,
    /// Largest datagram accepted whole, in bytes (longer ones are truncated
    /// by the kernel). Default: [`DEFAULT_MAX_DATAGRAM_BYTES`].
    pub max_datagram_bytes: usize,
    /// Tasks receiving from the UDP socket concurrently (they share the
    /// socket; each parses its own batches, and only the aggregator update is
    /// serialised). More than one helps only with more cores than senders.
    /// Default: 1.
    pub udp_receive_tasks: usize,
    /// The clock that timestamps arrivals and aligns flushes. Default: the
    /// system clock; tests use a manual one.
    pub clock: Clock,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            udp_addr: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 8125))),
            socket_path: None,
            default_host: None,
            flush_interval: Duration::from_secs(10),
            aggregation: AggregatorConfig::default(),
            receive_buffer_bytes: 8 << 20,
            max_datagram_bytes: DEFAULT_MAX_DATAGRAM_BYTES,
            udp_receive_tasks: 1,
            clock: Clock::System,
        }
    }
}

/// Most UDP receive tasks: more than the cores of any machine this runs on
/// is only contention on the socket.
const MAX_UDP_RECEIVE_TASKS: usize = 64;

/// Largest accepted `max_datagram_bytes`: Unix datagrams may exceed the UDP
/// limit, but clients stay at or below 64 KiB; 1 MiB bounds the buffer.
const MAX_DATAGRAM_LIMIT: usize = 1 << 20;

impl ServerConfig {
    /// Checks every field; touches nothing.
    pub fn validate(&self) -> Result<(), Error> {
        if self.udp_addr.is_none() && self.socket_path.is_none() {
            return Err(Error::InvalidConfig {
                field: "udp_addr",
                reason: "neither udp_addr nor socket_path is set".into(),
            });
        }
        if self.flush_interval.is_zero() {
            return Err(Error::InvalidConfig {
                field: "flush_interval",
                reason: "must be positive".into(),
            });
        }
        if !(512..=MAX_DATAGRAM_LIMIT).contains(&self.max_datagram_bytes) {
            return Err(Error::InvalidConfig {
                field: "max_datagram_bytes",
                reason: format!("must be in 512..={MAX_DATAGRAM_LIMIT}"),
            });
        }
        if !(1..=MAX_UDP_RECEIVE_TASKS).contains(&self.udp_receive_tasks) {
            return Err(Error::InvalidConfig {
                field: "udp_receive_tasks",
                reason: format!("must be in 1..={MAX_UDP_RECEIVE_TASKS}"),
            });
        }
        self.aggregation.validate()
    }
}
