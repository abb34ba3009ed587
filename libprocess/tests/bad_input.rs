//! Hostile and broken peers, each over a real socket against a node started
//! in the test: garbage, bad handshakes, oversized and truncated frames,
//! malformed bodies, unknown names, bad ids, silence, and a flood of
//! connections. Each case must end in a closed connection or a dropped
//! message with the right counter moved, and the node must keep serving a
//! well-behaved peer afterwards (every test checks both).
//!
//! A test waits for the server to have handled a bad connection by reading
//! until the server closes it, or by polling a counter between
//! `yield_now()`s, always inside a bounded timeout; never by sleeping.

use std::time::Duration;

use bytes::BytesMut;
use libprocess::limits::{HANDSHAKE_TIMEOUT, MAX_FRAME_SIZE, MAX_HANDSHAKE_SIZE};
use libprocess::wire::{encode_hello, encode_raw_frame, read_hello, Hello, MAGIC, PROTOCOL_VERSION};
use libprocess::{Actor, Clock, Config, Context, Handlers, Me, Message, Node, Process, Upid};
use pingpong::{Outcome, Ping, PingClient, Pong};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// The demo's actors, from the `libprocess-pingpong` binary's own source.
#[path = "../src/bin/libprocess-pingpong/pingpong.rs"]
#[allow(dead_code)]
mod pingpong;

/// Safety net around every wait; everything here takes milliseconds.
const WAIT: Duration = Duration::from_secs(20);

/// Answers Ping with Pong and reports each Ping (sender, seq) to the test.
struct Probe {
    me: Me,
    pings: mpsc::UnboundedSender<(Upid, u64)>,
}

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Process for Probe {
    fn install(h: &mut Handlers<Self>) {
        h.install(Probe::ping);
    }
}

impl Probe {
    fn ping(&mut self, from: Upid, msg: Ping, _ctx: &mut Context<Self>) {
        self.me.send(&from, Pong { seq: msg.seq });
        let _ = self.pings.send((from, msg.seq));
    }
}

/// The node under attack, its probe, and the Hello a raw connection sends.
struct Server {
    node: Node,
    probe: Upid,
    pings: mpsc::UnboundedReceiver<(Upid, u64)>,
    /// A real node whose identity raw connections borrow, so the probe's
    /// Pongs to `raw@peer` have somewhere to go (and are dropped there).
    peer: Node,
}

async fn server() -> Server {
    server_with_clock(Clock::real()).await
}

async fn server_with_clock(clock: Clock) -> Server {
    let node = Node::bind_with_clock(Config::loopback(0), clock).await.unwrap();
    let (tx, pings) = mpsc::unbounded_channel();
    let probe = node.spawn("probe", |me| Probe { me, pings: tx }).unwrap().pid;
    let peer = Node::bind(Config::loopback(0)).await.unwrap();
    Server { node, probe, pings, peer }
}

impl Server {
    fn count(&self, name: &str) -> u64 {
        self.node.metrics().get(name).unwrap_or_else(|| panic!("no counter {name}"))
    }

    /// Waits until counter `name` is at least `n`, then checks it is `n`.
    async fn counter_reaches(&self, name: &str, n: u64) {
        let reached = tokio::time::timeout(WAIT, async {
            while self.count(name) < n {
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(reached.is_ok(), "counter {name} stayed at {} (expected {n})", self.count(name));
        assert_eq!(self.count(name), n, "counter {name}");
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.node.address()).await.unwrap()
    }

    fn hello(&self) -> Hello {
        Hello { node: self.peer.address(), incarnation: self.peer.incarnation() }
    }

    /// A connection past the handshake (the server's Hello read and checked).
    async fn handshaken(&self) -> TcpStream {
        let mut s = self.connect().await;
        s.write_all(&encode_hello(&self.hello())).await.unwrap();
        let reply = tokio::time::timeout(WAIT, read_hello(&mut s)).await.unwrap().unwrap();
        assert_eq!(reply.node, self.node.address());
        s
    }

    /// The next Ping the probe received.
    async fn next_ping(&mut self) -> (Upid, u64) {
        tokio::time::timeout(WAIT, self.pings.recv()).await.expect("a ping within the wait").unwrap()
    }

    /// A second node sends Ping and gets Pong: the server still serves.
    async fn still_serves(&mut self) {
        let good = Node::bind(Config::loopback(0)).await.unwrap();
        let mut client = PingClient::spawn(&good, "ping").unwrap();
        let outcome = client.run(&self.probe, 2, |_, _| {}).await;
        assert!(matches!(outcome, Outcome::Done { pongs: 2, .. }), "{outcome:?}");
        assert_eq!(self.next_ping().await, (client.pid().clone(), 1));
        assert_eq!(self.next_ping().await, (client.pid().clone(), 2));
        good.shutdown();
    }
}

/// One frame, length prefix included.
fn frame(from: &str, to: &str, name: &str, body: &[u8]) -> BytesMut {
    let mut buf = BytesMut::new();
    encode_raw_frame(&mut buf, from, to, name, body).unwrap();
    buf
}

fn ping_body(seq: u64) -> Vec<u8> {
    libprocess::message::encode(&Ping { seq })
}

/// Reads until the server closes the connection (EOF or reset); returns what
/// it sent.
async fn closed_by_server(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    got
}

/// A good frame on `s` reaches the probe: the connection is still usable.
async fn good_frame_is_delivered(srv: &mut Server, s: &mut TcpStream, seq: u64) {
    s.write_all(&frame("raw", "probe", Ping::NAME, &ping_body(seq))).await.unwrap();
    let raw = Upid::new("raw", srv.peer.address()).unwrap();
    assert_eq!(srv.next_ping().await, (raw, seq));
}

#[actix_rt::test]
async fn garbage_bytes_get_http_400_and_a_closed_connection() {
    let mut srv = server().await;
    let mut s = srv.connect().await;
    s.write_all(b"\x16\x03\x01\xff\xfe garbage \x00\x01\r\n\r\n").await.unwrap();
    let reply = closed_by_server(&mut s).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    srv.counter_reaches("http_errors", 1).await;
    assert_eq!(srv.count("handshakes_failed"), 0);
    srv.still_serves().await;
}

/// Sends `bytes` on a new connection and expects the server to refuse the
/// handshake: connection closed, `handshakes_failed` up by one, nothing back.
async fn refused_handshake(bytes: &[u8]) {
    let mut srv = server().await;
    let mut s = srv.connect().await;
    s.write_all(bytes).await.unwrap();
    let reply = closed_by_server(&mut s).await;
    assert!(reply.is_empty(), "the server answered a bad handshake: {reply:?}");
    srv.counter_reaches("handshakes_failed", 1).await;
    assert_eq!(srv.count("http_errors"), 0);
    srv.still_serves().await;
    assert_eq!(srv.count("handshakes_failed"), 1);
}

fn good_hello() -> Vec<u8> {
    encode_hello(&Hello { node: "127.0.0.1:9".parse().unwrap(), incarnation: 7 })
}

#[actix_rt::test]
async fn zero_first_byte_but_wrong_magic_is_refused() {
    let mut bytes = good_hello();
    bytes[..4].copy_from_slice(b"\0LPX");
    assert_eq!(bytes[0], MAGIC[0]);
    refused_handshake(&bytes).await;
}

#[actix_rt::test]
async fn right_magic_wrong_version_is_refused() {
    let mut bytes = good_hello();
    bytes[4..6].copy_from_slice(&(PROTOCOL_VERSION + 1).to_be_bytes());
    refused_handshake(&bytes).await;
}

#[actix_rt::test]
async fn handshake_length_over_the_limit_is_refused() {
    let mut head = Vec::from(MAGIC);
    head.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    head.extend_from_slice(&(MAX_HANDSHAKE_SIZE as u32 + 1).to_be_bytes());
    // The server must refuse on the length alone, before any body arrives.
    refused_handshake(&head).await;
}

#[actix_rt::test]
async fn malformed_handshake_body_is_refused() {
    let mut bytes = Vec::from(MAGIC);
    bytes.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    bytes.extend_from_slice(&4u32.to_be_bytes());
    bytes.extend_from_slice(b"\xc1\xc1\xc1\xc1"); // 0xc1 is never valid msgpack
    refused_handshake(&bytes).await;
}

#[actix_rt::test]
async fn frame_length_over_the_limit_closes_the_connection() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    s.write_all(&(MAX_FRAME_SIZE as u32 + 1).to_be_bytes()).await.unwrap();
    assert!(closed_by_server(&mut s).await.is_empty());
    srv.counter_reaches("frames_rejected", 1).await;
    srv.still_serves().await;
    assert_eq!(srv.count("frames_rejected"), 1);
}

#[actix_rt::test]
async fn truncated_frame_then_eof_is_rejected() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    let f = frame("raw", "probe", Ping::NAME, &ping_body(1));
    s.write_all(&f[..f.len() - 3]).await.unwrap();
    s.shutdown().await.unwrap(); // EOF after a partial frame
    assert!(closed_by_server(&mut s).await.is_empty());
    srv.counter_reaches("frames_rejected", 1).await;
    assert_eq!(srv.count("messages_received_remote"), 0);
    srv.still_serves().await;
}

#[actix_rt::test]
async fn frame_with_a_malformed_envelope_closes_the_connection() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    // A well-sized frame whose first string claims 31 bytes but has 3.
    s.write_all(&[0, 0, 0, 4, 0xbf, b'r', b'a', b'w']).await.unwrap();
    assert!(closed_by_server(&mut s).await.is_empty());
    srv.counter_reaches("frames_rejected", 1).await;
    srv.still_serves().await;
}

#[actix_rt::test]
async fn malformed_body_is_dropped_and_the_connection_stays_open() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    // Not msgpack at all, then valid msgpack of the wrong shape (a string
    // where Ping's map belongs).
    s.write_all(&frame("raw", "probe", Ping::NAME, b"\xc1")).await.unwrap();
    s.write_all(&frame("raw", "probe", Ping::NAME, b"\xa5hello")).await.unwrap();
    srv.counter_reaches("dropped_malformed_body", 2).await;
    good_frame_is_delivered(&mut srv, &mut s, 7).await;
    assert_eq!(srv.count("frames_rejected"), 0);
    srv.still_serves().await;
}

/// Bad frames amid good ones in one write (one read, one batch on the
/// receiver, bodies decoded on the actor): each bad one is dropped and
/// counted, the good ones arrive in order.
#[actix_rt::test]
async fn bad_messages_amid_a_burst_are_dropped_in_place() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    let mut burst = BytesMut::new();
    for (to, name, body) in [
        ("probe", Ping::NAME, ping_body(1)),
        ("probe", Ping::NAME, ping_body(2)),
        ("probe", Ping::NAME, b"\xc1".to_vec()),
        ("probe", Ping::NAME, ping_body(3)),
        ("probe", "libprocess.pingpong.NoSuchMessage", ping_body(99)),
        ("probe", Ping::NAME, ping_body(4)),
        ("nobody", Ping::NAME, ping_body(98)),
        ("probe", Ping::NAME, ping_body(5)),
    ] {
        burst.extend_from_slice(&frame("raw", to, name, &body));
    }
    s.write_all(&burst).await.unwrap();
    let raw = Upid::new("raw", srv.peer.address()).unwrap();
    for seq in 1..=5 {
        assert_eq!(srv.next_ping().await, (raw.clone(), seq));
    }
    srv.counter_reaches("dropped_malformed_body", 1).await;
    assert_eq!(srv.count("dropped_unknown_message"), 1);
    assert_eq!(srv.count("dropped_unknown_process"), 1);
    assert_eq!(srv.count("frames_rejected"), 0);
}

#[actix_rt::test]
async fn unknown_message_name_is_dropped_and_the_connection_stays_open() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    s.write_all(&frame("raw", "probe", "libprocess.pingpong.NoSuchMessage", &ping_body(1))).await.unwrap();
    srv.counter_reaches("dropped_unknown_message", 1).await;
    good_frame_is_delivered(&mut srv, &mut s, 2).await;
    srv.still_serves().await;
    assert_eq!(srv.count("dropped_unknown_message"), 1);
}

#[actix_rt::test]
async fn invalid_ids_are_dropped_and_the_connection_stays_open() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    // A sender id with '/' cannot be a Upid (no reply could reach it).
    s.write_all(&frame("bad/id", "probe", Ping::NAME, &ping_body(1))).await.unwrap();
    srv.counter_reaches("dropped_malformed_body", 1).await;
    // A receiver id with '/' names no process.
    s.write_all(&frame("raw", "../probe", Ping::NAME, &ping_body(2))).await.unwrap();
    srv.counter_reaches("dropped_unknown_process", 1).await;
    good_frame_is_delivered(&mut srv, &mut s, 3).await;
    // An empty sender id breaks the envelope itself: the connection closes.
    s.write_all(&frame("", "probe", Ping::NAME, &ping_body(4))).await.unwrap();
    assert!(closed_by_server(&mut s).await.is_empty());
    srv.counter_reaches("frames_rejected", 1).await;
    srv.still_serves().await;
}

#[actix_rt::test]
async fn silence_after_connect_times_out_on_the_nodes_clock() {
    let clock = Clock::paused();
    let mut srv = server_with_clock(clock.clone()).await;
    let timer_armed = || async {
        let armed = tokio::time::timeout(WAIT, async {
            while clock.next_timer().is_none() {
                tokio::task::yield_now().await;
            }
        });
        assert!(armed.await.is_ok(), "the server armed no handshake timer");
    };

    // Silent from the start: the server waits for a first byte.
    let mut silent = srv.connect().await;
    timer_armed().await;
    assert_eq!(clock.next_timer().unwrap().since_origin(), HANDSHAKE_TIMEOUT);
    clock.advance(HANDSHAKE_TIMEOUT - Duration::from_millis(1)).await;
    assert_eq!(srv.count("handshakes_failed"), 0, "closed before the timeout");
    clock.advance(Duration::from_millis(1)).await;
    assert!(closed_by_server(&mut silent).await.is_empty());
    srv.counter_reaches("handshakes_failed", 1).await;

    // Silent after half a handshake: the server waits for the rest. Its
    // timer is either the first-byte one (if the bytes are not seen yet) or
    // the handshake one, both HANDSHAKE_TIMEOUT from now; either closes it.
    let mut half = srv.connect().await;
    half.write_all(&MAGIC[..3]).await.unwrap();
    timer_armed().await;
    let deadline = clock.now().since_origin() + HANDSHAKE_TIMEOUT;
    assert_eq!(clock.next_timer().unwrap().since_origin(), deadline);
    clock.advance(HANDSHAKE_TIMEOUT).await;
    assert!(closed_by_server(&mut half).await.is_empty());
    srv.counter_reaches("handshakes_failed", 2).await;

    // A well-behaved peer (real clock) is served by the paused-clock node;
    // nothing it does needs the paused clock to move.
    srv.still_serves().await;
}

#[actix_rt::test]
async fn two_thousand_connections_opened_and_dropped() {
    const TOTAL: usize = 2000;
    /// Connections open at once, so the test stays far below fd limits and
    /// the listener's backlog.
    const BATCH: usize = 50;
    let mut srv = server().await;
    let half_handshake = &good_hello()[..7];
    let (mut half, mut http) = (0u64, 0u64);
    for start in (0..TOTAL).step_by(BATCH) {
        let mut open = Vec::with_capacity(BATCH);
        for i in start..start + BATCH {
            let mut s = srv.connect().await;
            match i % 3 {
                0 => {} // nothing at all
                1 => {
                    s.write_all(half_handshake).await.unwrap();
                    half += 1;
                }
                _ => {
                    s.write_all(b"GET /probe/x HT").await.unwrap(); // half an HTTP request
                    http += 1;
                }
            }
            open.push(s);
        }
        drop(open);
        srv.counter_reaches("connections_accepted", (start + BATCH) as u64).await;
    }
    srv.counter_reaches("handshakes_failed", half).await;
    srv.counter_reaches("http_errors", http).await;
    assert_eq!(srv.count("connections_rejected"), 0);
    assert_eq!(srv.count("http_requests"), 0);
    srv.still_serves().await;
}

#[actix_rt::test]
async fn connection_reset_is_not_counted_as_a_bad_frame() {
    let mut srv = server().await;
    let mut s = srv.handshaken().await;
    good_frame_is_delivered(&mut srv, &mut s, 1).await;
    // SO_LINGER 0: closing sends RST instead of FIN, as when a host dies.
    s.set_zero_linger().unwrap();
    drop(s);
    // The server sees the reset while it serves the peer below (loopback
    // delivers it at once); no counter marks it, so this cannot wait on one.
    srv.still_serves().await;
    assert_eq!(srv.count("frames_rejected"), 0, "a reset peer is not a bad frame");
    assert_eq!(srv.count("handshakes_failed"), 0);
}
