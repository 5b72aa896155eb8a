//! The crate's error type: configuration that does not validate, and sockets
//! that cannot be opened. Malformed datagram lines are not errors of this
//! kind: they are counted per [`crate::ParseErrorCode`] and skipped.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the server (or an aggregator) could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is out of range; `field` names the option.
    #[error("invalid DogStatsD configuration: {field}: {reason}")]
    InvalidConfig {
        /// The option, as spelled in the config struct.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The UDP socket could not be created or bound.
    #[error("cannot bind the DogStatsD UDP socket {addr}: {source}")]
    BindUdp {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// The Unix datagram socket could not be created or bound, or a stale
    /// socket file could not be removed.
    #[error("cannot bind the DogStatsD Unix socket {path}: {source}")]
    BindUnix {
        /// The socket path asked for.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Another process answers on the socket path: it is not stale.
    #[error("another process is listening on the DogStatsD Unix socket {path}")]
    SocketInUse {
        /// The socket path asked for.
        path: PathBuf,
    },
    /// Something other than a socket exists at the socket path; it is never
    /// removed.
    #[error("{path} exists and is not a socket; refusing to remove it")]
    NotASocket {
        /// The socket path asked for.
        path: PathBuf,
    },
}

impl From<Error> for io::Error {
    /// Keeps the operating system's error kind where there is one, so a
    /// caller can still tell `AddrInUse` from `PermissionDenied`.
    fn from(err: Error) -> io::Error {
        let kind = match &err {
            Error::InvalidConfig { .. } => io::ErrorKind::InvalidInput,
            Error::BindUdp { source, .. } | Error::BindUnix { source, .. } => source.kind(),
            Error::SocketInUse { .. } => io::ErrorKind::AddrInUse,
            Error::NotASocket { .. } => io::ErrorKind::AlreadyExists,
        };
        io::Error::new(kind, err)
    }
}
