//! HTTP on the message port: processes register routes, served at
//! `/<process id>/<route>`; a node's default process also answers at
//! `/<route>` (so `/state` reaches `/master/state`, as in Mesos).
//!
//! The transport hands a connection here when its first byte is not the
//! libprocess magic. hyper parses it; a request is turned into a [`Request`],
//! run on the process's actor like a message, and its [`Response`] written
//! back. What serves which path is the node's business: this module sees it
//! only as [`Routes`], which the node implements. Garbage is answered by hyper with a 400 and the connection closed
//! (logged, counter `http_errors`). Bodies over `MAX_HTTP_BODY` get a 413.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Weak;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::limits::{HTTP_HEADER_READ_TIMEOUT, MAX_HTTP_BODY};
use crate::metrics::{Counted, Metrics};

/// An HTTP request as a route handler sees it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The route the request matched (e.g. `state`), without the process id.
    pub route: String,
    /// Query parameters in order, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The client's address.
    pub remote: Option<SocketAddr>,
}

impl Request {
    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// An HTTP response from a route handler.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Response {
    /// A response with a status, content type and body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
        Response { status, headers: vec![("content-type".into(), content_type.into())], body: body.into() }
    }

    /// 200 with a JSON body.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response::new(200, "application/json", body),
            Err(e) => Response::text(500, format!("cannot encode JSON: {e}")),
        }
    }

    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.into())
    }

    /// 200 with an empty body.
    pub fn ok() -> Response {
        Response::text(200, "")
    }

    /// A redirect (307) to `location`.
    pub fn redirect(location: &str) -> Response {
        let mut r = Response::text(307, "");
        r.headers.push(("location".into(), location.into()));
        r
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }
}

/// Where requests go: the node's processes and their routes (counted in
/// `http_requests` and `http_errors` of its metrics).
pub(crate) trait Routes: Counted + Send + Sync + 'static {
    /// What answers a path (a process, for the node).
    type Target: Send;

    /// What serves `path`, and the route within it; None if nothing does
    /// (a 404).
    fn find(&self, path: &str) -> Option<(Self::Target, String)>;

    /// Runs `req` on `target`, which answers on `reply`; false if it has
    /// stopped.
    fn call(target: Self::Target, req: Request, reply: oneshot::Sender<Response>) -> bool;
}

/// Serves one HTTP/1.1 connection (keep-alive included).
pub(crate) async fn serve<R: Routes>(stream: TcpStream, remote: SocketAddr, node: Weak<R>) {
    let svc = {
        let node = node.clone();
        service_fn(move |req| {
            let node = node.clone();
            async move { Ok::<_, Infallible>(handle(&node, req, remote).await) }
        })
    };
    // hyper's header timeout runs on tokio's timer, not the node's clock: it
    // only guards against clients that stall mid-request (a slot of
    // MAX_INBOUND_CONNECTIONS each), never against anything a test controls.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HTTP_HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), svc);
    if let Err(e) = conn.await {
        if let Some(node) = node.upgrade() {
            Metrics::inc(&node.metrics().http_errors);
        }
        tracing::warn!(%remote, error = %e, "HTTP connection closed on error");
    }
}

async fn handle<R: Routes>(
    node: &Weak<R>,
    req: hyper::Request<Incoming>,
    remote: SocketAddr,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let found = node.upgrade().and_then(|n| {
        Metrics::inc(&n.metrics().http_requests);
        n.find(&path)
    });
    let Some((target, route)) = found else {
        return to_hyper(Response::text(404, format!("no route for {path}\n")));
    };
    let query = req.uri().query().map(parse_query).unwrap_or_default();
    let method = req.method().to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = match Limited::new(req.into_body(), MAX_HTTP_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::warn!(%remote, %path, error = %e, "HTTP request body refused");
            return to_hyper(Response::text(413, format!("request body over {MAX_HTTP_BODY} bytes\n")));
        }
    };
    let request = Request { method, route: route.clone(), query, headers, body, remote: Some(remote) };
    let (tx, rx) = oneshot::channel();
    if !R::call(target, request, tx) {
        return to_hyper(Response::text(503, "process stopped\n"));
    }
    match rx.await {
        Ok(resp) => to_hyper(resp),
        Err(_) => to_hyper(Response::text(503, "process stopped before answering\n")),
    }
}

fn to_hyper(r: Response) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k, v);
    }
    b.body(Full::new(r.body)).unwrap_or_else(|e| {
        tracing::error!(error = %e, "route built an invalid response");
        let mut resp = hyper::Response::new(Full::new(Bytes::from_static(b"invalid response\n")));
        *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}

/// Splits and percent-decodes `a=1&b=x%20y`.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = parse_query("path=%2Ftmp%2Fx&offset=10&flag&name=a+b&bad=%zz&end=%4");
        assert_eq!(q[0], ("path".into(), "/tmp/x".into()));
        assert_eq!(q[1], ("offset".into(), "10".into()));
        assert_eq!(q[2], ("flag".into(), "".into()));
        assert_eq!(q[3], ("name".into(), "a b".into()));
        assert_eq!(q[4], ("bad".into(), "%zz".into()));
        assert_eq!(q[5], ("end".into(), "%4".into()));
    }
}
