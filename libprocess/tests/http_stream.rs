//! Streaming HTTP responses over real loopback sockets: a process answers
//! `/streamer/subscribe` with a stream it keeps writing to; the stream stays
//! open after a `Connection: close` request, the process learns when the
//! client leaves, and a client that stops reading is cut off. In-process
//! calls (`Node::http`) get the same stream without a socket.

use std::io::{Read, Write};
use std::time::Duration;

use actix::{AsyncContext, Context};
use libprocess::http::StreamWriter;
use libprocess::{Config, Handlers, Me, Node, Process, Request, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// Safety net around every wait.
const WAIT: Duration = Duration::from_secs(20);

/// Tells the test what happened to its streams.
#[derive(Debug, PartialEq)]
enum Seen {
    Subscribed,
    ClientLeft,
    CutOff,
}

struct Streamer {
    me: Me,
    writers: Vec<StreamWriter>,
    seen: mpsc::UnboundedSender<Seen>,
}

#[derive(Serialize, Deserialize)]
struct Emit {
    text: String,
    /// How many times to write it (a flood for the slow-reader test).
    times: usize,
}
libprocess::message!(Emit, "test.EmitMessage");

impl actix::Actor for Streamer {
    type Context = Context<Self>;
}

impl Process for Streamer {
    fn install(h: &mut Handlers<Self>) {
        h.route("subscribe", Streamer::subscribe);
        h.install(Streamer::write);
    }
}

impl Streamer {
    fn subscribe(&mut self, _req: Request, ctx: &mut Context<Self>) -> Response {
        let (resp, mut w) = Response::stream(200, "text/plain", "test stream");
        w.write("hello\n").unwrap();
        let closed = w.closed();
        let seen = self.seen.clone();
        ctx.spawn(actix::fut::wrap_future(async move {
            closed.await;
            let _ = seen.send(Seen::ClientLeft);
        }));
        self.writers.push(w);
        let _ = self.seen.send(Seen::Subscribed);
        let _ = &self.me;
        resp
    }

    fn write(&mut self, _from: libprocess::Upid, msg: Emit, _ctx: &mut Context<Self>) {
        for w in &mut self.writers {
            for _ in 0..msg.times {
                if let Err(libprocess::http::StreamError::Overflow(_)) = w.write(msg.text.clone()) {
                    let _ = self.seen.send(Seen::CutOff);
                    break;
                }
            }
        }
        self.writers.retain(|w| !w.is_closed());
    }
}

async fn streamer() -> (Node, libprocess::Upid, mpsc::UnboundedReceiver<Seen>) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let pid = node.spawn("streamer", |me| Streamer { me, writers: Vec::new(), seen: tx }).unwrap().pid;
    (node, pid, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").expect("open")
}

/// Opens a subscription on a blocking socket (a thread reads it).
fn subscribe(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(s, "POST /streamer/subscribe HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    s
}

/// Reads from `s` into `got` until `want` is in what arrived.
fn read_until(s: &mut std::net::TcpStream, got: &mut Vec<u8>, want: &str) -> String {
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(got).contains(want) {
        let n = s.read(&mut buf).expect("read in time");
        assert!(n > 0, "closed before {want:?}: {}", String::from_utf8_lossy(got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(got).into_owned()
}

#[actix_rt::test]
async fn a_stream_outlives_connection_close_and_its_end_is_seen() {
    let (node, pid, mut seen) = streamer().await;
    let addr = pid.addr();
    let reader = std::thread::spawn(move || {
        let mut s = subscribe(addr);
        let mut got = Vec::new();
        let head = read_until(&mut s, &mut got, "hello\n");
        assert!(head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
        let more = read_until(&mut s, &mut got, "event 1\n");
        drop(s); // the client leaves
        more
    });
    assert_eq!(next(&mut seen).await, Seen::Subscribed);
    // Later writes reach the client on the same response.
    let probe = Node::bind(Config::loopback(0)).await.unwrap();
    let from = probe.pid("probe").unwrap();
    probe.send(&from, &pid, Emit { text: "event 1\n".into(), times: 1 });
    assert_eq!(next(&mut seen).await, Seen::ClientLeft);
    assert!(reader.join().unwrap().contains("event 1"));
    node.shutdown();
}

#[actix_rt::test]
async fn a_client_that_stops_reading_is_cut_off() {
    let (node, pid, mut seen) = streamer().await;
    let s = subscribe(pid.addr()); // never read
    assert_eq!(next(&mut seen).await, Seen::Subscribed);
    let probe = Node::bind(Config::loopback(0)).await.unwrap();
    let from = probe.pid("probe").unwrap();
    let chunk = "x".repeat(64 * 1024);
    // More than the buffer limit plus what the sockets absorb, in steps so
    // that the connection drains what it can between them.
    let steps = 2 * libprocess::limits::MAX_HTTP_STREAM_BUFFER / (64 * 1024 * 16);
    let mut cut = false;
    for _ in 0..steps * 4 {
        probe.send(&from, &pid, Emit { text: chunk.clone(), times: 16 });
        match tokio::time::timeout(Duration::from_millis(50), seen.recv()).await {
            Ok(Some(Seen::CutOff)) => {
                cut = true;
                break;
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => {}
        }
    }
    assert!(cut, "the slow client was never cut off");
    assert_eq!(next(&mut seen).await, Seen::ClientLeft);
    drop(s);
    node.shutdown();
}

#[actix_rt::test]
async fn node_http_answers_in_process_with_the_stream() {
    let (node, _pid, mut seen) = streamer().await;
    let req = Request { method: "POST".into(), ..Request::default() };
    let mut resp = node.http("/streamer/subscribe", req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(next(&mut seen).await, Seen::Subscribed);
    let mut body = resp.stream.take().expect("a stream");
    assert_eq!(body.next().await.unwrap(), "hello\n");
    drop(body);
    assert_eq!(next(&mut seen).await, Seen::ClientLeft);
    let missing = node.http("/nothing/here", Request::default()).await;
    assert_eq!(missing.status, 404);
    node.shutdown();
}
