//! TLS on a node's port, over real loopback sockets, with certificates the
//! test makes with openssl (`testkit::certs`): messages and HTTPS between
//! strict nodes (both sides verify); plaintext refused by a TLS-only node
//! and accepted beside TLS with downgrade; untrusted, expired and misnamed
//! certificates refused on either side; truncated, garbled and stalled TLS
//! handshakes. Every refusal closes that connection only: each test then
//! checks that the node still serves a good peer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libprocess::config::SslConfig;
use libprocess::limits::HANDSHAKE_TIMEOUT;
use libprocess::testkit::certs::{require_openssl, Issued, TestCa};
use libprocess::tls::Tls;
use libprocess::{Actor, Clock, Config, Context, Handlers, Me, Node, Process, Request, Response, Upid};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;

mod common;
use common::{Event, Ping};

/// Safety net around every wait; everything here takes milliseconds.
const WAIT: Duration = Duration::from_secs(20);

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The certificates every test uses, made once per test binary.
struct Certs {
    ca: TestCa,
    /// Names 127.0.0.1, where every node listens.
    good: Issued,
    /// Names 127.0.0.9 only.
    elsewhere: Issued,
    expired: Issued,
    /// From a CA no node trusts.
    stranger: Issued,
}

fn certs(test: &str) -> Option<&'static Certs> {
    if !require_openssl(test) {
        return None;
    }
    static CERTS: OnceLock<Certs> = OnceLock::new();
    Some(CERTS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("libprocess-tls-{}", std::process::id()));
        let ca = TestCa::new(&dir, "ca");
        let other = TestCa::new(&dir, "other-ca");
        Certs {
            good: ca.issue("good", &[LOOPBACK]),
            elsewhere: ca.issue("elsewhere", &["127.0.0.9".parse().unwrap()]),
            expired: ca.issue_expired("expired", &[LOOPBACK]),
            stranger: other.issue("stranger", &[LOOPBACK]),
            ca,
        }
    }))
}

async fn node(ssl: SslConfig) -> Node {
    node_with_clock(ssl, Clock::real()).await
}

async fn node_with_clock(ssl: SslConfig, clock: Clock) -> Node {
    Node::bind_with_clock(Config { ssl, ..Config::loopback(0) }, clock).await.expect("the node binds")
}

/// A probe (answers Ping with Pong) that also serves `GET /probe/hello`.
struct Probe {
    inner: common::Probe,
}

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Process for Probe {
    fn install(h: &mut Handlers<Self>) {
        h.install(|p: &mut Probe, from, msg: Ping, _ctx| {
            p.inner.me.send(&from, common::Pong { seq: msg.seq });
            let _ = p.inner.events.send(Event::Ping(from, msg.seq));
        })
        .install(|p: &mut Probe, from, msg: common::Pong, _ctx| {
            let _ = p.inner.events.send(Event::Pong(from, msg.seq));
        })
        .route("hello", |_, _req: Request, _| Response::text(200, "hello over whatever\n"));
    }
}

fn probe(node: &Node, id: &str) -> (Upid, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let pid = node.spawn(id, |me: Me| Probe { inner: common::Probe { me, events: tx } }).unwrap().pid;
    (pid, rx)
}

/// `from` pings `to` once with `seq`; true if the Pong came back.
async fn round_trip(from: &Node, to: &Upid, seq: u64) -> bool {
    let (me, mut events) = probe(from, &format!("pinger{seq}"));
    from.send(&me, to, Ping { seq });
    let got = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Some(Event::Pong(_, s)) if s == seq => return true,
                Some(_) => continue,
                None => return false,
            }
        }
    });
    got.await.unwrap_or(false)
}

/// `from` pings `to` and no Pong comes: waits until counter `counter` of
/// `judge` (the node that refuses) moves, then checks no Pong arrived.
async fn refused(from: &Node, to: &Upid, judge: &Node, counter: &str) {
    let (me, mut events) = probe(from, "refused-pinger");
    from.send(&me, to, Ping { seq: 99 });
    let moved = tokio::time::timeout(WAIT, async {
        while judge.metrics().get(counter).unwrap() == 0 {
            tokio::task::yield_now().await;
        }
    });
    assert!(moved.await.is_ok(), "counter {counter} never moved");
    assert!(!common::drain(&mut events).iter().any(|e| matches!(e, Event::Pong(..))), "a Pong got through");
}

/// The configuration of a client without a certificate, trusting `ca`.
fn anonymous_config(ca: &TestCa) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(ca.cert()).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

fn anonymous_client(ca: &TestCa) -> TlsConnector {
    TlsConnector::from(Arc::new(anonymous_config(ca)))
}

/// What a node presenting `issued` and trusting `ca` connects with.
fn node_client(ca: &TestCa, issued: &Issued) -> TlsConnector {
    Tls::load(&ca.strict(issued)).unwrap().unwrap().connector().clone()
}

/// `GET path` over HTTPS: the whole answer, or the error.
async fn https_get(addr: SocketAddr, path: &str, client: &TlsConnector) -> std::io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let mut s = client.connect(ServerName::IpAddress(addr.ip().into()), tcp).await?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await.expect("an answer within the wait")?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `GET path` in plaintext: the whole answer (empty if closed at once).
async fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await.expect("closed within the wait");
    String::from_utf8_lossy(&out).into_owned()
}

#[actix_rt::test]
async fn strict_nodes_exchange_messages_and_serve_https_on_the_same_port() {
    let Some(c) = certs("strict_nodes_exchange_messages_and_serve_https_on_the_same_port") else { return };
    let a = node(c.ca.strict(&c.good)).await;
    let b = node(c.ca.strict(&c.good)).await;
    let (pb, _eb) = probe(&b, "probe");
    for seq in 1..=3 {
        assert!(round_trip(&a, &pb, seq).await, "round trip {seq} over TLS");
    }
    // And back the other way (b dials a).
    let (pa, _ea) = probe(&a, "probe");
    assert!(round_trip(&b, &pa, 4).await);

    let answer = https_get(b.address(), "/probe/hello", &node_client(&c.ca, &c.good)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 200") && answer.ends_with("hello over whatever\n"), "{answer}");
    // Client certificates are required: a client without one is refused
    // (TLS 1.3 tells it at its first read).
    let anonymous = https_get(b.address(), "/probe/hello", &anonymous_client(&c.ca)).await;
    assert!(anonymous.is_err(), "{anonymous:?}");
    for n in [&a, &b] {
        assert_eq!(n.metrics().get("tls_peer_mismatch"), Some(0));
        assert_eq!(n.metrics().get("plaintext_refused"), Some(0));
    }
    a.shutdown();
    b.shutdown();
}

#[actix_rt::test]
async fn a_tls_only_node_refuses_plaintext_and_tls_peers_carry_on() {
    let Some(c) = certs("a_tls_only_node_refuses_plaintext_and_tls_peers_carry_on") else { return };
    let b = node(c.ca.strict(&c.good)).await;
    let (pb, _eb) = probe(&b, "probe");
    let plain = node(SslConfig::default()).await;
    refused(&plain, &pb, &b, "plaintext_refused").await;
    assert_eq!(http_get(b.address(), "/probe/hello").await, "", "plaintext HTTP answered");

    let a = node(c.ca.strict(&c.good)).await;
    assert!(round_trip(&a, &pb, 1).await);
    let answer = https_get(b.address(), "/probe/hello", &node_client(&c.ca, &c.good)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    for n in [&a, &b, &plain] {
        n.shutdown();
    }
}

#[actix_rt::test]
async fn downgrade_serves_plaintext_and_tls_on_one_port() {
    let Some(c) = certs("downgrade_serves_plaintext_and_tls_on_one_port") else { return };
    let ssl = SslConfig { support_downgrade: true, ..c.ca.strict(&c.good) };
    let b = node(SslConfig { require_client_cert: false, ..ssl.clone() }).await;
    let (pb, _eb) = probe(&b, "probe");
    let plain = node(SslConfig::default()).await;
    let tls = node(c.ca.strict(&c.good)).await;
    assert!(round_trip(&plain, &pb, 1).await, "plaintext peer");
    assert!(round_trip(&tls, &pb, 2).await, "TLS peer");
    assert!(http_get(b.address(), "/probe/hello").await.starts_with("HTTP/1.0 200"));
    let answer = https_get(b.address(), "/probe/hello", &anonymous_client(&c.ca)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");

    // A downgrading client reaches a plaintext node: its TLS attempt fails,
    // its retry in plaintext gets through.
    let (pp, _ep) = probe(&plain, "probe");
    let down = node(ssl).await;
    assert!(round_trip(&down, &pp, 3).await, "downgraded to plaintext");
    assert!(down.metrics().get("tls_handshakes_failed").unwrap() >= 1);
    for n in [&b, &plain, &tls, &down] {
        n.shutdown();
    }
}

#[actix_rt::test]
async fn untrusted_expired_and_misnamed_client_certificates_are_refused() {
    let Some(c) = certs("untrusted_expired_and_misnamed_client_certificates_are_refused") else { return };
    for (bad, counter) in [
        (&c.stranger, "tls_handshakes_failed"),
        (&c.expired, "tls_handshakes_failed"),
        // Signed by the right CA, but for 127.0.0.9: it may not speak for
        // 127.0.0.1, the address its handshake claims.
        (&c.elsewhere, "tls_peer_mismatch"),
    ] {
        let b = node(c.ca.strict(&c.good)).await;
        let (pb, _eb) = probe(&b, "probe");
        let intruder = node(c.ca.strict(bad)).await;
        refused(&intruder, &pb, &b, counter).await;
        let good = node(c.ca.strict(&c.good)).await;
        assert!(round_trip(&good, &pb, 1).await, "b still serves good peers after {}", bad.cert.display());
        for n in [&b, &intruder, &good] {
            n.shutdown();
        }
    }
}

#[actix_rt::test]
async fn a_server_certificate_that_does_not_name_the_address_dialled_is_refused() {
    let Some(c) = certs("a_server_certificate_that_does_not_name_the_address_dialled_is_refused") else { return };
    // The server does not check its clients: only the client's check fails.
    let lax = SslConfig { require_client_cert: false, ..c.ca.strict(&c.elsewhere) };
    let b = node(lax).await;
    let (pb, _eb) = probe(&b, "probe");
    let a = node(c.ca.strict(&c.good)).await;
    refused(&a, &pb, &a, "tls_handshakes_failed").await;
    for bad in [&c.stranger, &c.expired] {
        let b = node(SslConfig { require_client_cert: false, ..c.ca.strict(bad) }).await;
        let (pb, _eb) = probe(&b, "probe");
        let a = node(c.ca.strict(&c.good)).await;
        refused(&a, &pb, &a, "tls_handshakes_failed").await;
        a.shutdown();
        b.shutdown();
    }
    // Without VERIFY_SERVER_CERT (libprocess's default) the same server is
    // reached: encrypted, not authenticated.
    let trusting =
        node(SslConfig { verify_server_cert: false, require_client_cert: false, ..c.ca.strict(&c.good) }).await;
    assert!(round_trip(&trusting, &pb, 1).await);
    for n in [&a, &b, &trusting] {
        n.shutdown();
    }
}

/// Writes `bytes` on a fresh connection to `node`, then expects it closed.
async fn closed_after(node: &Node, bytes: &[u8]) {
    let mut s = TcpStream::connect(node.address()).await.unwrap();
    let _ = s.write_all(bytes).await;
    let _ = s.shutdown().await;
    let mut sink = Vec::new();
    let done = tokio::time::timeout(WAIT, s.read_to_end(&mut sink)).await;
    assert!(done.is_ok(), "the node kept a broken TLS connection open");
}

/// The first flight of a real TLS client (its ClientHello).
fn client_hello(c: &Certs) -> Vec<u8> {
    let config = Arc::new(anonymous_config(&c.ca));
    let mut conn = rustls::ClientConnection::new(config, ServerName::IpAddress(LOOPBACK.into())).unwrap();
    let mut out = Vec::new();
    conn.write_tls(&mut out).unwrap();
    out
}

#[actix_rt::test]
async fn truncated_and_garbled_tls_handshakes_close_only_that_connection() {
    let Some(c) = certs("truncated_and_garbled_tls_handshakes_close_only_that_connection") else { return };
    let b = node(c.ca.strict(&c.good)).await;
    let (pb, _eb) = probe(&b, "probe");
    let hello = client_hello(c);
    let cases: Vec<Vec<u8>> = vec![
        vec![0x16],
        hello[..hello.len() / 2].to_vec(),
        [&[0x16, 0x03, 0x01, 0x00, 0x10][..], &[0xee; 16]].concat(),
        [&[0x16][..], &[0xff; 600]].concat(),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        closed_after(&b, bytes).await;
        let want = i as u64 + 1;
        let counted = tokio::time::timeout(WAIT, async {
            while b.metrics().get("tls_handshakes_failed").unwrap() < want {
                tokio::task::yield_now().await;
            }
        });
        assert!(counted.await.is_ok(), "case {i} not counted as a failed TLS handshake");
    }
    let good = node(c.ca.strict(&c.good)).await;
    assert!(round_trip(&good, &pb, 1).await);
    good.shutdown();
    b.shutdown();
}

#[actix_rt::test]
async fn a_stalled_tls_handshake_times_out_on_the_nodes_clock() {
    let Some(c) = certs("a_stalled_tls_handshake_times_out_on_the_nodes_clock") else { return };
    let clock = Clock::paused();
    let b = node_with_clock(c.ca.strict(&c.good), clock.clone()).await;
    let mut s = TcpStream::connect(b.address()).await.unwrap();
    s.write_all(&client_hello(c)).await.unwrap();
    // The server's first flight back shows it is inside the TLS handshake;
    // then the client goes silent.
    let mut buf = [0u8; 1];
    tokio::time::timeout(WAIT, s.read_exact(&mut buf)).await.unwrap().unwrap();
    assert_eq!(buf[0], 0x16, "a TLS handshake record");
    clock.advance(HANDSHAKE_TIMEOUT - Duration::from_millis(1)).await;
    assert_eq!(b.metrics().get("tls_handshakes_failed"), Some(0), "closed before the timeout");
    clock.advance(Duration::from_millis(1)).await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the stalled handshake was not closed");
    assert_eq!(b.metrics().get("tls_handshakes_failed"), Some(1));
    b.shutdown();
}

#[test]
fn tls_settings_come_from_libprocess_variables_with_clear_errors() {
    use std::collections::HashMap;
    let env = |pairs: &[(&str, &str)]| {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| m.get(k).cloned()
    };
    let s = SslConfig::from_lookup(env(&[
        ("LIBPROCESS_SSL_ENABLED", "true"),
        ("SSL_SUPPORT_DOWNGRADE", "1"),
        ("LIBPROCESS_SSL_CERT_FILE", "/c.pem"),
        ("LIBPROCESS_SSL_KEY_FILE", "/k.pem"),
        ("LIBPROCESS_SSL_REQUIRE_CERT", "true"),
        ("LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME", "openssl"),
    ]))
    .unwrap();
    assert!(s.enabled && s.support_downgrade && s.require_client_cert);
    assert!(s.verify_server_cert, "requiring client certificates implies verifying servers");
    assert_eq!(s.cert_file.as_deref(), Some(std::path::Path::new("/c.pem")));
    assert_eq!(SslConfig::from_lookup(env(&[])).unwrap(), SslConfig::default());
    let e = SslConfig::from_lookup(env(&[("LIBPROCESS_SSL_ENABLED", "yes")])).unwrap_err();
    assert_eq!(e.to_string(), "LIBPROCESS_SSL_ENABLED='yes' is not true, false, 1 or 0");
    assert!(SslConfig::from_lookup(env(&[("LIBPROCESS_SSL_ENABLE_TLS_V1_1", "true")])).is_err());
    assert!(SslConfig::from_lookup(env(&[("LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME", "dns")])).is_err());

    let on = SslConfig { enabled: true, ..SslConfig::default() };
    let e = Tls::load(&on).unwrap_err();
    assert_eq!(e.to_string(), "LIBPROCESS_SSL_ENABLED is true but LIBPROCESS_SSL_CERT_FILE is not set");
    let missing = SslConfig { cert_file: Some("/nonexistent.pem".into()), key_file: Some("/k".into()), ..on };
    assert!(Tls::load(&missing).unwrap_err().to_string().starts_with("cannot read /nonexistent.pem"));
}
