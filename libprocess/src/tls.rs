//! TLS for a node's port: the rustls configurations that `config::SslConfig`
//! (libprocess's `LIBPROCESS_SSL_*`) asks for, loaded once at bind, and the
//! one check rustls cannot make alone (a libprocess peer's certificate must
//! name the address its handshake claims).
//!
//! What each side checks:
//! - Outgoing (client): the peer must present a certificate; with
//!   `verify_server_cert` it must chain to a trusted CA, be within its dates
//!   and name the IP dialled (as an IP subject alternative name: a Upid
//!   names an IP, never a host). Without it the handshake's signatures are
//!   still checked, the certificate is not (libprocess's default).
//! - Incoming (server): with `require_client_cert` the client must present a
//!   certificate that chains to a trusted CA; under the `legacy` scheme a
//!   libprocess peer's must also name the IP its handshake claims
//!   ([`Tls::peer_claim_ok`]), so no node can speak for another address.
//! - Both sides present this node's certificate (a server that requires
//!   client certificates gets it).
//!
//! rustls uses ring here (no OpenSSL to build). Only TLS 1.2 and 1.3 exist
//! in rustls, each switchable with libprocess's `ENABLE_TLS_V1_*` variables.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::config::{HostnameValidation, SslConfig};

/// Where CA certificates are looked for when neither `LIBPROCESS_SSL_CA_FILE`
/// nor `LIBPROCESS_SSL_CA_DIR` is set (OpenSSL's default directory on Debian
/// and most Linux distributions, which libprocess would use).
pub const DEFAULT_CA_DIR: &str = "/etc/ssl/certs";

/// The first byte of a TLS connection (a handshake record, 22). Neither the
/// libprocess magic (0) nor an HTTP method starts with it, so one peeked
/// byte tells TLS, messages and HTTP apart.
pub const TLS_HANDSHAKE_BYTE: u8 = 0x16;

/// Why TLS could not be set up (the node does not start).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("LIBPROCESS_SSL_ENABLED is true but {0} is not set")]
    Missing(&'static str),
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("no PEM certificate in {0}")]
    NoCertificate(PathBuf),
    #[error("no usable private key in {0}{1}")]
    NoKey(PathBuf, &'static str),
    #[error(
        "certificate verification is on but no CA certificate was found \
         (set LIBPROCESS_SSL_CA_FILE or LIBPROCESS_SSL_CA_DIR; looked in {DEFAULT_CA_DIR})"
    )]
    NoCa,
    #[error("LIBPROCESS_SSL_ENABLE_TLS_V1_2 and LIBPROCESS_SSL_ENABLE_TLS_V1_3 are both false: no protocol left")]
    NoProtocol,
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("TLS client verifier: {0}")]
    Verifier(String),
}

/// A node's TLS: what it accepts and how it connects.
pub struct Tls {
    acceptor: TlsAcceptor,
    connector: TlsConnector,
    support_downgrade: bool,
    check_claims: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("support_downgrade", &self.support_downgrade)
            .field("check_claims", &self.check_claims)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads what `ssl` names; None when TLS is off.
    pub fn load(ssl: &SslConfig) -> Result<Option<Arc<Tls>>, TlsError> {
        if !ssl.enabled {
            return Ok(None);
        }
        let cert_file = ssl.cert_file.as_deref().ok_or(TlsError::Missing("LIBPROCESS_SSL_CERT_FILE"))?;
        let key_file = ssl.key_file.as_deref().ok_or(TlsError::Missing("LIBPROCESS_SSL_KEY_FILE"))?;
        let chain = certificates(cert_file)?;
        let key = private_key(key_file)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: Vec<&'static rustls::SupportedProtocolVersion> =
            [(ssl.tls_v1_3, &rustls::version::TLS13), (ssl.tls_v1_2, &rustls::version::TLS12)]
                .into_iter()
                .filter_map(|(on, v)| on.then_some(v))
                .collect();
        if versions.is_empty() {
            return Err(TlsError::NoProtocol);
        }
        let roots = if ssl.verify_server_cert || ssl.require_client_cert {
            let roots = trusted(ssl)?;
            if roots.is_empty() {
                return Err(TlsError::NoCa);
            }
            Some(Arc::new(roots))
        } else {
            None
        };

        let server = ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(&versions)?;
        let server = match (&roots, ssl.require_client_cert) {
            (Some(roots), true) => {
                let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| TlsError::Verifier(e.to_string()))?;
                server.with_client_cert_verifier(verifier)
            }
            _ => server.with_no_client_auth(),
        };
        let server = server.with_single_cert(chain.clone(), key.clone_key())?;

        let client = ClientConfig::builder_with_provider(provider.clone()).with_protocol_versions(&versions)?;
        let client = match (&roots, ssl.verify_server_cert) {
            (Some(roots), true) => client.with_root_certificates(roots.clone()),
            _ => client.dangerous().with_custom_certificate_verifier(Arc::new(SignaturesOnly(provider))),
        };
        let client = client.with_client_auth_cert(chain, key)?;

        Ok(Some(Arc::new(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            connector: TlsConnector::from(Arc::new(client)),
            support_downgrade: ssl.support_downgrade,
            check_claims: ssl.require_client_cert && ssl.hostname_validation == HostnameValidation::Legacy,
        })))
    }

    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    pub fn connector(&self) -> &TlsConnector {
        &self.connector
    }

    /// Plaintext is accepted beside TLS, and an outgoing connection whose
    /// TLS handshake fails is retried in plaintext.
    pub fn support_downgrade(&self) -> bool {
        self.support_downgrade
    }

    /// The name an outgoing connection to `peer` checks the certificate for.
    pub fn server_name(peer: SocketAddr) -> ServerName<'static> {
        ServerName::IpAddress(peer.ip().into())
    }

    /// Whether a libprocess peer that presented `certs` may claim to be
    /// `claimed` in its handshake: always when claims are not checked,
    /// else only if its certificate names that IP.
    pub fn peer_claim_ok(&self, certs: &[CertificateDer<'_>], claimed: IpAddr) -> bool {
        if !self.check_claims {
            return true;
        }
        let Some(leaf) = certs.first() else { return false };
        names_ip(leaf, claimed)
    }
}

/// Whether certificate `der` carries `ip` as a subject alternative name.
pub fn names_ip(der: &CertificateDer<'_>, ip: IpAddr) -> bool {
    let Ok(cert) = webpki::EndEntityCert::try_from(der) else { return false };
    cert.verify_is_valid_for_subject_name(&ServerName::IpAddress(ip.into())).is_ok()
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = std::fs::read(path).map_err(|e| TlsError::Read(path.into(), e))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok).collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.into()));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = std::fs::read(path).map_err(|e| TlsError::Read(path.into(), e))?;
    warn_if_readable_by_others(path);
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        let hint = if pem.windows(9).any(|w| w == b"ENCRYPTED") {
            " (it is encrypted: decrypt it with `openssl pkey -in KEY -out PLAIN`)"
        } else {
            " (expected PEM: PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
        };
        TlsError::NoKey(path.into(), hint)
    })
}

/// A private key others can read is one leak away: say so (libprocess
/// does not; the node still starts, as with other secrets rmesos reads).
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the TLS private key is readable by its group or others; chmod 600 it");
        }
    }
}

/// The CA certificates to trust: the file, the directory, or the default
/// directory when neither is set. Files of a directory that hold no
/// certificate (hash links to the same, READMEs) are skipped.
fn trusted(ssl: &SslConfig) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let mut add = |certs: Vec<CertificateDer<'static>>| {
        let (_added, ignored) = roots.add_parsable_certificates(certs);
        if ignored > 0 {
            tracing::debug!(ignored, "CA certificates that did not parse were skipped");
        }
    };
    if let Some(file) = &ssl.ca_file {
        add(certificates(file)?);
    }
    let dir = match (&ssl.ca_dir, &ssl.ca_file) {
        (Some(dir), _) => Some(dir.clone()),
        (None, None) => Some(PathBuf::from(DEFAULT_CA_DIR)),
        (None, Some(_)) => None,
    };
    if let Some(dir) = dir {
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
                files.sort();
                for f in files {
                    if let Ok(certs) = certificates(&f) {
                        add(certs);
                    }
                }
            }
            // The default directory may be absent; a named one must not be.
            Err(e) if ssl.ca_dir.is_some() => return Err(TlsError::Read(dir, e)),
            Err(_) => {}
        }
    }
    Ok(roots)
}

/// `LIBPROCESS_SSL_VERIFY_SERVER_CERT=false`: the server's certificate is
/// not checked, but the handshake's signatures are (so the connection is
/// still encrypted to whoever holds that certificate's key).
#[derive(Debug)]
struct SignaturesOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for SignaturesOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
