//! Getting a URI's bytes into a file (the I/O half of the fetcher):
//! HTTP/1.1 with hyper, over rustls for `https://` (the web's root
//! certificates), redirects followed as [`super::plan::redirect`] decides;
//! local files copied. Every read is bounded: `max_bytes` per download
//! (announced `Content-Length` checked first, then the bytes as they come)
//! and the stall timeout (`--fetcher_stall_timeout`: no byte for that long
//! aborts), on the node's clock.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use libprocess::Clock;

use super::plan::{self, Source};

/// How a download is bounded.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: u64,
    pub stall_timeout: Duration,
}

/// A source opened: its size if known up front, and how to read it.
pub enum Opened {
    File { path: PathBuf, len: u64 },
    Http { len: Option<u64>, body: Incoming, url: Uri },
}

impl Opened {
    pub fn size(&self) -> Option<u64> {
        match self {
            Opened::File { len, .. } => Some(*len),
            Opened::Http { len, .. } => *len,
        }
    }
}

/// Opens `source`: a local file's size, or an HTTP response with a 2xx
/// status after redirects.
pub async fn open(source: &Source, limits: &Limits, clock: &Clock) -> Result<Opened, String> {
    match source {
        Source::File(path) => {
            let m = std::fs::metadata(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
            if !m.is_file() {
                return Err(format!("'{}' is not a regular file", path.display()));
            }
            check_size(m.len(), limits)?;
            Ok(Opened::File { path: path.clone(), len: m.len() })
        }
        Source::Http(url) => {
            let mut url = url.clone();
            let mut hops = 0;
            loop {
                let resp = clock
                    .timeout(limits.stall_timeout, get(&url))
                    .await
                    .map_err(|_| format!("no answer from {url} within {:?}", limits.stall_timeout))??;
                let status = resp.status();
                if status.is_redirection() {
                    let location = resp.headers().get(hyper::header::LOCATION).and_then(|v| v.to_str().ok());
                    url = plan::redirect(&url, location.unwrap_or(""), hops)?;
                    hops += 1;
                    continue;
                }
                if !status.is_success() {
                    return Err(format!("HTTP {status} from {url}"));
                }
                let len = resp
                    .headers()
                    .get(hyper::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if let Some(n) = len {
                    check_size(n, limits)?;
                }
                return Ok(Opened::Http { len, body: resp.into_body(), url });
            }
        }
    }
}

fn check_size(n: u64, limits: &Limits) -> Result<(), String> {
    if n > limits.max_bytes {
        return Err(format!("{n} bytes is more than the fetcher's limit of {} bytes", limits.max_bytes));
    }
    Ok(())
}

/// Writes what `opened` reads into `dest` (created or truncated); the bytes written.
pub async fn save(opened: Opened, dest: &Path, limits: &Limits, clock: &Clock) -> Result<u64, String> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create '{}': {e}", parent.display()))?;
    }
    match opened {
        Opened::File { path, .. } => {
            let (from, to) = (path.clone(), dest.to_path_buf());
            let max = limits.max_bytes;
            let n = tokio::task::spawn_blocking(move || std::fs::copy(&from, &to))
                .await
                .map_err(|e| format!("copy task failed: {e}"))?
                .map_err(|e| format!("cannot copy '{}': {e}", path.display()))?;
            if n > max {
                let _ = std::fs::remove_file(dest);
                return Err(format!("'{}' grew beyond the fetcher's limit of {max} bytes", path.display()));
            }
            Ok(n)
        }
        Opened::Http { mut body, url, len } => {
            let mut out =
                std::fs::File::create(dest).map_err(|e| format!("cannot create '{}': {e}", dest.display()))?;
            let mut n: u64 = 0;
            loop {
                let frame = clock
                    .timeout(limits.stall_timeout, body.frame())
                    .await
                    .map_err(|_| format!("the download from {url} stalled for {:?}", limits.stall_timeout))?;
                let Some(frame) = frame else { break };
                let frame = frame.map_err(|e| format!("the download from {url} broke: {e}"))?;
                let Ok(data) = frame.into_data() else { continue };
                n += data.len() as u64;
                if n > limits.max_bytes {
                    return Err(format!("the download from {url} is larger than {} bytes", limits.max_bytes));
                }
                out.write_all(&data).map_err(|e| format!("cannot write '{}': {e}", dest.display()))?;
            }
            if let Some(expected) = len {
                if n != expected {
                    return Err(format!("the download from {url} ended after {n} of {expected} bytes"));
                }
            }
            out.flush().map_err(|e| format!("cannot write '{}': {e}", dest.display()))?;
            Ok(n)
        }
    }
}

/// One GET on a fresh connection (a fetch is one or a few requests: no pool).
async fn get(url: &Uri) -> Result<hyper::Response<Incoming>, String> {
    let https = url.scheme_str() == Some("https");
    let host = url.host().ok_or_else(|| format!("no host in {url}"))?.trim_matches(['[', ']']).to_string();
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let path = url.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let authority = url.authority().map(|a| a.as_str().to_string()).unwrap_or(host.clone());
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, concat!("rmesos-fetcher/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .map_err(|e| format!("bad request for {url}: {e}"))?;
    if https {
        let name =
            rustls_pki_types::ServerName::try_from(host.clone()).map_err(|e| format!("bad host '{host}': {e}"))?;
        let tls = tls_connector()?.connect(name, tcp).await.map_err(|e| format!("TLS with {host}:{port}: {e}"))?;
        send(TokioIo::new(tls), req, url).await
    } else {
        send(TokioIo::new(tcp), req, url).await
    }
}

async fn send<T>(
    io: T,
    req: hyper::Request<http_body_util::Empty<bytes::Bytes>>,
    url: &Uri,
) -> Result<hyper::Response<Incoming>, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| format!("HTTP with {url}: {e}"))?;
    // The connection is driven until the body is read (or dropped).
    tokio::task::spawn_local(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "fetcher connection ended");
        }
    });
    sender.send_request(req).await.map_err(|e| format!("HTTP request to {url} failed: {e}"))
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
