//! Two nodes in one process over loopback TCP: messages both ways, replies,
//! order, links (local, remote, node loss, restart), unknown receivers and
//! names, timers, HTTP routes. Tests wait on messages, never on sleeps.

use std::time::Duration;

use libprocess::{Actor, Config, Context, Handlers, Me, Node, Process, Upid};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

mod common;

use common::{next, probe, Event, Ping, Probe};

async fn node() -> Node {
    Node::bind(Config::loopback(0)).await.unwrap()
}

#[actix_rt::test]
async fn ping_pong_across_nodes_in_order() {
    let (a, b) = (node().await, node().await);
    let (pa, mut ra) = probe(&a, "a");
    let (pb, mut rb) = probe(&b, "b");
    for seq in 0..1000 {
        a.send(&pa, &pb, Ping { seq });
    }
    for seq in 0..1000 {
        assert_eq!(next(&mut rb).await, Event::Ping(pa.clone(), seq));
    }
    for seq in 0..1000 {
        assert_eq!(next(&mut ra).await, Event::Pong(pb.clone(), seq));
    }
    assert_eq!(a.metrics().get("messages_sent_remote"), Some(1000));
    assert_eq!(b.metrics().get("messages_received_remote"), Some(1000));
}

#[actix_rt::test]
async fn local_delivery_needs_no_socket() {
    let a = node().await;
    let (p1, mut r1) = probe(&a, "one");
    let (p2, _r2) = probe(&a, "two");
    a.send(&p1, &p2, Ping { seq: 7 });
    assert_eq!(next(&mut r1).await, Event::Pong(p2, 7));
    assert_eq!(a.metrics().get("messages_sent_remote"), Some(0));
    assert_eq!(a.metrics().get("connections_accepted"), Some(0));
}

#[actix_rt::test]
async fn unknown_process_and_unknown_name_are_dropped_and_counted() {
    let (a, b) = (node().await, node().await);
    let (pa, mut ra) = probe(&a, "a");
    let (pb, _rb) = probe(&b, "b");
    let nobody = b.pid("nobody").unwrap();
    a.send(&pa, &nobody, Ping { seq: 1 });
    #[derive(Serialize, Deserialize)]
    struct Unknown {}
    libprocess::message!(Unknown, "test.Unknown");
    a.send(&pa, &pb, Unknown {});
    // The connection stays usable: order means both drops happened first.
    a.send(&pa, &pb, Ping { seq: 2 });
    assert_eq!(next(&mut ra).await, Event::Pong(pb.clone(), 2));
    assert_eq!(b.metrics().get("dropped_unknown_process"), Some(1));
    assert_eq!(b.metrics().get("dropped_unknown_message"), Some(1));
}

#[actix_rt::test]
async fn local_link_fires_on_terminate_and_for_missing_target() {
    let a = node().await;
    let (watcher, mut rw) = probe(&a, "watcher");
    let (target, _rt) = probe(&a, "target");
    a.link(&watcher, &target);
    assert!(a.terminate(&target));
    assert_eq!(next(&mut rw).await, Event::Exited(target.clone()));
    // Linking to a process that no longer exists fires at once.
    a.link(&watcher, &target);
    assert_eq!(next(&mut rw).await, Event::Exited(target));
    assert!(!a.processes().contains(&"target".to_string()));
}

#[actix_rt::test]
async fn remote_link_fires_when_remote_process_stops() {
    let (a, b) = (node().await, node().await);
    let (watcher, mut rw) = probe(&a, "watcher");
    let (target, mut rt) = probe(&b, "target");
    a.link(&watcher, &target);
    // A ping after the link, answered, proves the link message arrived first.
    a.send(&watcher, &target, Ping { seq: 1 });
    assert_eq!(next(&mut rt).await, Event::Ping(watcher.clone(), 1));
    assert_eq!(next(&mut rw).await, Event::Pong(target.clone(), 1));
    b.terminate(&target);
    assert_eq!(next(&mut rw).await, Event::Exited(target.clone()));
    // A link to a remote id that does not exist fires too.
    let ghost = b.pid("ghost").unwrap();
    a.link(&watcher, &ghost);
    assert_eq!(next(&mut rw).await, Event::Exited(ghost));
}

#[actix_rt::test]
async fn remote_link_fires_when_node_goes_away() {
    let a = node().await;
    let b = node().await;
    let (watcher, mut rw) = probe(&a, "watcher");
    let (target, mut rt) = probe(&b, "target");
    a.link(&watcher, &target);
    a.send(&watcher, &target, Ping { seq: 1 });
    assert_eq!(next(&mut rt).await, Event::Ping(watcher.clone(), 1));
    assert_eq!(next(&mut rw).await, Event::Pong(target.clone(), 1));
    b.shutdown();
    let ev = next(&mut rw).await;
    assert_eq!(ev, Event::Exited(target));
    // At the break of a connection that carried the link and the ping (as
    // libprocess fires on a socket's close), before any reconnect attempt.
    assert_eq!(a.metrics().get("connections_broken"), Some(1));
}

#[actix_rt::test]
async fn link_to_unreachable_node_fires() {
    let a = node().await;
    let (watcher, mut rw) = probe(&a, "watcher");
    // A port nobody listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target: Upid = format!("x@127.0.0.1:{port}").parse().unwrap();
    a.link(&watcher, &target);
    a.send(&watcher, &target, Ping { seq: 1 });
    assert_eq!(next(&mut rw).await, Event::Exited(target));
    // The link's own control message and the ping were queued, then dropped.
    assert_eq!(a.metrics().get("dropped_peer_unreachable"), Some(2));
}

struct Ticker {
    me: Me,
    events: mpsc::UnboundedSender<Event>,
}
impl Actor for Ticker {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        let tx = self.events.clone();
        self.me.delay(ctx, Duration::from_millis(5), move |_, _| {
            let _ = tx.send(Event::Tick);
        });
        let tx = self.events.clone();
        let mut n = 0;
        self.me.every(ctx, Duration::from_millis(2), move |_, ctx| {
            n += 1;
            let _ = tx.send(Event::Tick);
            if n == 3 {
                actix::ActorContext::stop(ctx);
            }
        });
    }
}
impl Process for Ticker {
    fn install(_: &mut Handlers<Self>) {}
}

#[actix_rt::test]
async fn timers_fire_and_stopping_actor_deregisters() {
    let a = node().await;
    let (watcher, mut rw) = probe(&a, "watcher");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t = a.spawn("ticker", |me| Ticker { me, events: tx }).unwrap();
    a.link(&watcher, &t.pid);
    for _ in 0..3 {
        assert_eq!(next(&mut rx).await, Event::Tick);
    }
    assert_eq!(next(&mut rw).await, Event::Exited(t.pid));
}

#[actix_rt::test]
async fn spawn_rejects_bad_and_duplicate_ids() {
    let a = node().await;
    let _p = probe(&a, "dup");
    let (tx, _rx) = mpsc::unbounded_channel();
    assert!(a.spawn("dup", |me| Probe { me, events: tx.clone() }).is_err());
    assert!(a.spawn("bad/id", |me| Probe { me, events: tx }).is_err());
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[actix_rt::test]
async fn http_routes_on_the_message_port() {
    let a = node().await;
    let (pid, _r) = probe(&a, "probe");
    let resp = http_get(a.address(), "/probe/echo?x=hello%20world").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with(&format!("{pid} hello world 0")), "{resp}");
    let resp = http_get(a.address(), "/echo").await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    a.set_default_http("probe");
    let resp = http_get(a.address(), "/echo?x=1").await;
    assert!(resp.ends_with(&format!("{pid} 1 0")), "{resp}");
    let resp = http_get(a.address(), "/probe/nope").await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
}
