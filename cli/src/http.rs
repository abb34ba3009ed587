//! The CLI's HTTP client: one request per connection (HTTP/1.1 on hyper),
//! a bounded time for each, JSON answers. Errors say which endpoint of
//! which address failed; [`Error::Unreachable`] (no connection, time out)
//! is the "cluster cannot be reached" exit.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// Longest a request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read (a `/state` of 10,000 agents is ~20 MB).
pub const MAX_BODY: usize = 256 * 1024 * 1024;

#[derive(Debug)]
pub enum Error {
    /// Nothing answered at that address.
    Unreachable(String),
    /// It answered, but not what was asked for.
    Bad(String),
    /// The user's input is wrong (a bad `--master`, an unknown id): exit 2.
    Input(String),
}

pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: Bytes,
}

pub async fn request(addr: &str, method: &str, path: &str, body: Option<String>) -> Result<Answer, Error> {
    let what = format!("{method} http://{addr}{path}");
    let fut = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| Error::Unreachable(format!("cannot connect to {addr}: {e}")))?;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Error::Unreachable(format!("{what}: {e}")))?;
        tokio::spawn(conn);
        let mut req = Request::builder().method(method).uri(path).header("host", addr);
        if body.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| Error::Bad(format!("{what}: {e}")))?;
        let resp = send.send_request(req).await.map_err(|e| Error::Unreachable(format!("{what}: {e}")))?;
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = http_body_util::Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| Error::Bad(format!("{what}: {e}")))?
            .to_bytes();
        Ok(Answer { status, location, body })
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::Unreachable(format!("{what}: no answer within {REQUEST_TIMEOUT:?}"))),
    }
}

/// GET `path` and parse its JSON (a non-200 is an error naming the status).
pub async fn get_json(addr: &str, path: &str) -> Result<serde_json::Value, Error> {
    let a = request(addr, "GET", path, None).await?;
    if a.status != 200 {
        let text = String::from_utf8_lossy(&a.body);
        return Err(Error::Bad(format!("GET http://{addr}{path}: {} {}", a.status, text.trim())));
    }
    serde_json::from_slice(&a.body).map_err(|e| Error::Bad(format!("GET http://{addr}{path}: not JSON: {e}")))
}

/// `s` percent-encoded for a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
