//! TLS for the notification clients: `https://` webhooks and Slack
//! incoming webhooks, and SMTP's STARTTLS.
//!
//! # What it owns
//! The one client configuration every notification connection uses:
//! rustls (with the `ring` provider: no C toolchain beyond the one
//! `ring` builds with, and no system OpenSSL) verifying servers against
//! Mozilla's root certificates compiled into the binary (`webpki-roots`,
//! so nothing is read from the host and a scratch container works), plus
//! the PEM certificates of the file [`CA_FILE_ENV`] names, for receivers
//! behind a private CA. A certificate that does not verify fails the
//! delivery with rustls' reason; there is no switch to skip verification.
//!
//! # What it must never do
//! Decide what to send or retry: it only turns a TCP stream into a
//! verified TLS one.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, RootCertStore};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// The environment variable naming a PEM file of extra trusted CA
/// certificates (the name OpenSSL, curl and Go read too). Its certificates
/// are trusted in addition to the built-in roots, read once at the first
/// TLS connection.
pub const CA_FILE_ENV: &str = "SSL_CERT_FILE";

/// The client configuration: the built-in roots plus the certificates of
/// `extra_ca_file`. Errors say which file could not be read.
pub fn client_config(extra_ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect())
            .map_err(|e| format!("reading CA certificates from {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{} holds no PEM certificate", path.display()));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| format!("a CA certificate of {} is unusable: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The process' connector: [`client_config`] with the file of
/// [`CA_FILE_ENV`] when it is set, built once. A file that cannot be read
/// fails every TLS connection with the reason (and is read again only at
/// the next start).
pub fn connector() -> Result<TlsConnector, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let file = std::env::var_os(CA_FILE_ENV).filter(|f| !f.is_empty());
            client_config(file.as_deref().map(Path::new))
        })
        .clone()
        .map(TlsConnector::from)
}

/// Runs the TLS handshake with `host` (a name or an IP address, without
/// port or brackets) over `stream` and verifies its certificate.
pub async fn handshake<S>(
    connector: &TlsConnector,
    host: &str,
    stream: S,
) -> Result<TlsStream<S>, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| format!("{host:?} is not a valid TLS server name"))?;
    connector
        .connect(name, stream)
        .await
        .map_err(|e| format!("TLS handshake with {host}: {e}"))
}

/// The test certificates of `testdata/tls/` (see its README) as the
/// deliverer's and the SMTP client's tests use them.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use tokio_rustls::rustls::{
        self,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    };
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    /// A file of `testdata/tls/`.
    pub fn testdata(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/tls")
            .join(name)
    }

    /// A client connector trusting the test CA, as `SSL_CERT_FILE` would.
    pub fn trusting() -> TlsConnector {
        TlsConnector::from(super::client_config(Some(&testdata("ca.pem"))).unwrap())
    }

    /// A server side with the test certificate (for `localhost` and
    /// `127.0.0.1`).
    pub fn acceptor() -> TlsAcceptor {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(testdata("server.pem"))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        let key = PrivateKeyDer::from_pem_file(testdata("server.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}
