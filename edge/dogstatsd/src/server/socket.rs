//! Opening the sockets: `SO_RCVBUF`, stale Unix socket files, permissions.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::{UdpSocket, UnixDatagram};

use crate::error::Error;

/// Mode of the Unix socket file: everyone may send, only the owner may
/// read or remove it (the Agent's 0722).
const SOCKET_MODE: u32 = 0o722;

/// Binds the UDP socket (non-blocking, registered with the runtime) with
/// `SO_RCVBUF` set to `rcvbuf` (if not 0). Returns the socket and the
/// receive buffer the kernel granted.
pub(crate) fn bind_udp(addr: SocketAddr, rcvbuf: usize) -> Result<(UdpSocket, usize), Error> {
    let fail = |source| Error::BindUdp { addr, source };
    let socket =
        Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(fail)?;
    // The kernel silently caps the value (net.core.rmem_max); a failure
    // here is not fatal, only slower to absorb bursts.
    if rcvbuf > 0
        && let Err(e) = socket.set_recv_buffer_size(rcvbuf)
    {
        tracing::warn!(error = %e, "cannot set SO_RCVBUF on the DogStatsD UDP socket");
    }
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    let granted = socket.recv_buffer_size().unwrap_or(0);
    let socket = UdpSocket::from_std(socket.into()).map_err(fail)?;
    Ok((socket, granted))
}

/// Binds the Unix datagram socket at `path`, removing a stale socket file
/// first.
pub(crate) fn bind_unix(path: &Path, rcvbuf: usize) -> Result<(UnixDatagram, usize), Error> {
    let fail = |source| Error::BindUnix {
        path: path.to_path_buf(),
        source,
    };
    remove_stale(path)?;
    let socket = UnixDatagram::bind(path).map_err(fail)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE)).map_err(fail)?;
    let sock_ref = SockRef::from(&socket);
    if rcvbuf > 0
        && let Err(e) = sock_ref.set_recv_buffer_size(rcvbuf)
    {
        tracing::warn!(error = %e, "cannot set SO_RCVBUF on the DogStatsD Unix socket");
    }
    let granted = sock_ref.recv_buffer_size().unwrap_or(0);
    Ok((socket, granted))
}

/// Removes a socket file nobody answers on. Leaves alone (with an error) a
/// socket someone answers on and anything that is not a socket.
fn remove_stale(path: &Path) -> Result<(), Error> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::BindUnix {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !meta.file_type().is_socket() {
        return Err(Error::NotASocket {
            path: path.to_path_buf(),
        });
    }
    let probe = std::os::unix::net::UnixDatagram::unbound().map_err(|source| Error::BindUnix {
        path: path.to_path_buf(),
        source,
    })?;
    if probe.connect(path).is_ok() {
        return Err(Error::SocketInUse {
            path: path.to_path_buf(),
        });
    }
    std::fs::remove_file(path).map_err(|source| Error::BindUnix {
        path: path.to_path_buf(),
        source,
    })
}

/// Removes the socket file at shutdown (best effort).
pub(crate) fn remove_socket_file(path: &PathBuf) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove the DogStatsD socket file");
    }
}
