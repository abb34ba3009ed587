//! HTTP on the message port: processes register routes, served at
//! `/<process id>/<route>`; a node's default process also answers at
//! `/<route>` (so `/state` reaches `/master/state`, as in Mesos).
//!
//! The transport hands a connection here when its first byte is not the
//! libprocess magic (inside TLS too: HTTPS on the same port). hyper parses it; a request is turned into a [`Request`],
//! run on the process's actor like a message, and its [`Response`] written
//! back. What serves which path is the node's business: this module sees it
//! only as [`Routes`], which the node implements. Garbage is answered by hyper with a 400 and the connection closed
//! (logged, counter `http_errors`). Bodies over `MAX_HTTP_BODY` get a 413.
//!
//! A response is a whole body or a stream ([`stream`]: chunked, held open
//! for as long as its writer lives). Keep-alive connections are never closed
//! for being idle between requests; the header read timeout applies only
//! while a request head is being read ([`head_timeout`]).

mod head_timeout;
pub mod stream;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use self::head_timeout::{HeadTimeout, Requests};
use self::stream::AnyBody;
pub use self::stream::{StreamBody, StreamError, StreamWriter};

use crate::limits::{HTTP_HEADER_READ_TIMEOUT, MAX_HTTP_BODY};
use crate::metrics::{Counted, Metrics};
#[cfg(test)]
use std::time::Duration;

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
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// A streaming body, written after `body` (which is then usually
    /// empty); see [`Response::stream`].
    pub stream: Option<StreamBody>,
}

impl Response {
    /// A response with a status, content type and body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            stream: None,
        }
    }

    /// A streaming response: the headers now, then whatever is written to
    /// the returned writer, as chunks, until it is dropped (see [`stream`]).
    /// `label` names the stream in log lines.
    pub fn stream(status: u16, content_type: &str, label: impl Into<String>) -> (Response, StreamWriter) {
        let (writer, body) = stream::channel(label);
        let mut r = Response::new(status, content_type, Bytes::new());
        r.stream = Some(body);
        (r, writer)
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
pub(crate) async fn serve<R, IO>(stream: IO, remote: SocketAddr, node: Weak<R>)
where
    R: Routes,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_with(stream, remote, node, HTTP_HEADER_READ_TIMEOUT).await
}

async fn serve_with<R, IO>(stream: IO, remote: SocketAddr, node: Weak<R>, head_timeout: std::time::Duration)
where
    R: Routes,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let requests = Arc::new(Requests::default());
    let svc = {
        let (node, requests) = (node.clone(), requests.clone());
        service_fn(move |req| {
            let (node, requests) = (node.clone(), requests.clone());
            requests.started();
            async move {
                let resp = handle(&node, req, remote).await;
                requests.answered();
                Ok::<_, Infallible>(resp)
            }
        })
    };
    // No hyper header timeout (it would also close idle keep-alive
    // connections): `HeadTimeout` times request heads only. hyper's own
    // timer is not needed then.
    let io = HeadTimeout::new(stream, requests, head_timeout);
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), svc);
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
) -> hyper::Response<AnyBody> {
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

fn to_hyper(r: Response) -> hyper::Response<AnyBody> {
    let mut b = hyper::Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k, v);
    }
    let body = match r.stream {
        // A route that streams has nothing before the stream (the builder
        // already has the headers); what it put in `body` is refused below.
        Some(stream) if r.body.is_empty() => Either::Right(stream),
        Some(_) => {
            tracing::error!("route built a streaming response with a body too");
            return invalid_response();
        }
        None => Either::Left(Full::new(r.body)),
    };
    b.body(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "route built an invalid response");
        invalid_response()
    })
}

fn invalid_response() -> hyper::Response<AnyBody> {
    let mut resp = hyper::Response::new(Either::Left(Full::new(Bytes::from_static(b"invalid response\n"))));
    *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
    resp
}

/// Answers `req` for `path` in-process, as a connection would (no socket):
/// what [`Node::http`](crate::node::Node::http) uses, so that deterministic
/// tests reach routes (streams included) on the simulated network.
pub(crate) async fn call<R: Routes>(node: &R, path: &str, mut req: Request) -> Response {
    Metrics::inc(&node.metrics().http_requests);
    let Some((target, route)) = node.find(path) else {
        return Response::text(404, format!("no route for {path}\n"));
    };
    if req.body.len() > MAX_HTTP_BODY {
        return Response::text(413, format!("request body over {MAX_HTTP_BODY} bytes\n"));
    }
    req.route = route;
    req.headers.iter_mut().for_each(|(k, _)| k.make_ascii_lowercase());
    let (tx, rx) = oneshot::channel();
    if !R::call(target, req, tx) {
        return Response::text(503, "process stopped\n");
    }
    rx.await.unwrap_or_else(|_| Response::text(503, "process stopped before answering\n"))
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    /// Answers every path with "ok", or a stream of "a", "b" for `/stream`.
    struct Echo(Metrics);

    impl Counted for Echo {
        fn metrics(&self) -> &Metrics {
            &self.0
        }
    }

    impl Routes for Echo {
        type Target = ();
        fn find(&self, path: &str) -> Option<((), String)> {
            Some(((), path.trim_start_matches('/').to_string()))
        }
        fn call(_: (), req: Request, reply: oneshot::Sender<Response>) -> bool {
            let resp = if req.route == "stream" {
                let (resp, mut w) = Response::stream(200, "text/plain", "test");
                w.write("a").unwrap();
                w.write("b").unwrap();
                resp // the writer is dropped: the stream ends after "b"
            } else {
                Response::text(200, "ok")
            };
            reply.send(resp).is_ok()
        }
    }

    fn connection() -> (DuplexStream, Arc<Echo>) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let node = Arc::new(Echo(Metrics::default()));
        let remote: SocketAddr = "127.0.0.1:1".parse().unwrap();
        tokio::spawn(serve_with(server, remote, Arc::downgrade(&node), HTTP_HEADER_READ_TIMEOUT));
        (client, node)
    }

    /// Reads until `end` has arrived (or the connection closed).
    async fn read_until(c: &mut DuplexStream, end: &str) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains(end) {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_keep_alive_connection_stays_open() {
        let (mut c, _node) = connection();
        c.write_all(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n").await.unwrap();
        assert!(read_until(&mut c, "ok").await.starts_with("HTTP/1.1 200"));
        // An hour of silence (the paused clock jumps): still served.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        c.write_all(b"GET /y HTTP/1.1\r\nHost: h\r\n\r\n").await.unwrap();
        assert!(read_until(&mut c, "ok").await.starts_with("HTTP/1.1 200"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_request_head_is_cut_off() {
        let (mut c, node) = connection();
        c.write_all(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n").await.unwrap();
        assert!(read_until(&mut c, "ok").await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_secs(3600)).await;
        c.write_all(b"GET /y HT").await.unwrap(); // half a head, then nothing
        let start = tokio::time::Instant::now();
        let rest = read_until(&mut c, "never").await;
        assert!(!rest.contains("200"), "{rest}");
        assert_eq!(start.elapsed().as_secs(), HTTP_HEADER_READ_TIMEOUT.as_secs());
        assert_eq!(node.0.get("http_errors"), Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_is_chunked_even_when_the_request_said_close() {
        let (mut c, _node) = connection();
        c.write_all(b"POST /stream HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        let text = read_until(&mut c, "0\r\n\r\n").await;
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{text}");
        assert!(text.ends_with("1\r\na\r\n1\r\nb\r\n0\r\n\r\n"), "{text}");
    }

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
