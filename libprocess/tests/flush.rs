//! `Node::flush`: once it resolves, every message sent before it has left
//! the node (written to the socket, delivered in a simulation) or was
//! dropped, so a program may exit right after it.

mod common;

use std::time::Duration;

use common::{probe, Event, Ping};
use libprocess::testkit::Sim;
use libprocess::{Config, Node};

const WAIT: Duration = Duration::from_secs(10);

#[actix_rt::test]
async fn flushed_messages_survive_an_immediate_shutdown() {
    let a = Node::bind(Config::loopback(0)).await.unwrap();
    let b = Node::bind(Config::loopback(0)).await.unwrap();
    let (to, mut rx) = probe(&b, "sink");
    let from = a.pid("sender").unwrap();
    // Nothing queued: resolves at once.
    tokio::time::timeout(WAIT, a.flush()).await.expect("an idle flush resolves");
    const N: u64 = 2_000;
    for seq in 0..N {
        a.send(&from, &to, Ping { seq });
    }
    tokio::time::timeout(WAIT, a.flush()).await.expect("flush within 10 s");
    // Shutting down cancels the writer: only what was flushed gets through.
    a.shutdown();
    for want in 0..N {
        match tokio::time::timeout(WAIT, rx.recv()).await.expect("ping within 10 s") {
            Some(Event::Ping(_, seq)) => assert_eq!(seq, want),
            other => panic!("unexpected {other:?}"),
        }
    }
    b.shutdown();
}

#[test]
fn sim_flush_waits_for_delivery_or_drop() {
    actix_rt::System::new().block_on(async {
        let sim = Sim::builder().seed(7).latency(Duration::from_millis(5), Duration::from_millis(50)).build();
        let a = sim.node("10.0.0.1:5050");
        let b = sim.node("10.0.0.2:5050");
        let (to, _rx) = probe(&b, "sink");
        let from = a.pid("sender").unwrap();
        for seq in 0..10 {
            a.send(&from, &to, Ping { seq });
        }
        assert_eq!(b.metrics().get("messages_received_remote"), Some(0));
        sim.run_until(a.flush()).await;
        // Handed to b's process, not only on the way.
        assert_eq!(b.metrics().get("messages_received_remote"), Some(10));

        // Across a partition the frames are held, then dropped when the
        // connection breaks: flush resolves then, with nothing delivered.
        sim.partition_one_way(&a, &b);
        for seq in 10..15 {
            a.send(&from, &to, Ping { seq });
        }
        sim.run_until(a.flush()).await;
        assert_eq!(b.metrics().get("messages_received_remote"), Some(10));
        assert_eq!(a.metrics().get("dropped_peer_unreachable"), Some(5));
    });
}
