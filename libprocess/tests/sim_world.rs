//! The simulated world: seeded replay, paused time, partitions, kill and
//! restart. Every test runs on one thread inside an actix system and moves
//! time itself; nothing sleeps on the wall clock.

mod common;

use std::time::Duration;

use common::{drain, probe, Event, Ping, Pong};
use libprocess::limits::HANDSHAKE_TIMEOUT;
use libprocess::testkit::{self, Sim};
use libprocess::{Actor, Context, Handlers, Me, Node, Process, Upid};
use rand::Rng;
use tokio::sync::mpsc;

const A: &str = "10.0.0.1:5050";
const B: &str = "10.0.0.2:5050";

/// Three nodes pinging each other at random (from the seed), with a
/// partition in the middle. Returns the trace hash and lines.
fn random_pings(seed: u64) -> (u64, Vec<String>) {
    actix_rt::System::new().block_on(async move {
        let sim = Sim::builder().seed(seed).build();
        let nodes: Vec<Node> = (1..=3).map(|i| sim.node(&format!("10.0.0.{i}:5050"))).collect();
        let pids: Vec<Upid> = nodes.iter().map(|n| probe(n, "probe").0).collect();
        for seq in 0..60 {
            let (i, j, wait) = sim.with_rng(|r| (r.gen_range(0..3), r.gen_range(0..3), r.gen_range(0..20)));
            nodes[i].send(&pids[i], &pids[j], Ping { seq });
            if seq == 20 {
                sim.partition(&nodes[0], &nodes[1]);
            }
            if seq == 40 {
                sim.heal(&nodes[0], &nodes[1]);
            }
            sim.advance(Duration::from_millis(wait)).await;
        }
        sim.advance(Duration::from_secs(60)).await;
        (sim.trace_hash(), sim.trace())
    })
}

#[test]
fn same_seed_gives_a_byte_identical_trace() {
    let (h1, t1) = random_pings(42);
    let (h2, t2) = random_pings(42);
    assert_eq!(h1, h2);
    assert_eq!(t1, t2);
    // The trace saw the traffic and the fault.
    for kind in ["send ", "deliver ", "hello ", "partition ", "heal ", " time"] {
        assert!(t1.iter().any(|l| l.contains(kind)), "no '{kind}' in the trace");
    }
}

#[test]
fn a_different_seed_changes_the_trace() {
    let (h1, _) = random_pings(42);
    let (h2, _) = random_pings(43);
    assert_ne!(h1, h2);
}

/// Sets a 10-minute timer when it starts.
struct Sleeper {
    me: Me,
    events: mpsc::UnboundedSender<Event>,
}

impl Actor for Sleeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.me.delay(ctx, Duration::from_secs(600), |act: &mut Sleeper, _ctx| {
            let _ = act.events.send(Event::Timer(act.me.clock().now().since_origin()));
        });
    }
}

impl Process for Sleeper {
    fn install(_h: &mut Handlers<Self>) {}
}

#[actix_rt::test]
async fn ten_minute_timer_fires_after_advancing_ten_minutes_and_not_before() {
    let sim = Sim::new();
    let node = sim.node(A);
    let (tx, mut rx) = mpsc::unbounded_channel();
    node.spawn("sleeper", |me| Sleeper { me, events: tx }).unwrap();
    sim.settle().await;
    sim.advance(Duration::from_secs(600) - Duration::from_millis(1)).await;
    assert!(drain(&mut rx).is_empty(), "fired early");
    sim.advance(Duration::from_millis(1)).await;
    assert_eq!(drain(&mut rx), vec![Event::Timer(Duration::from_secs(600))]);
}

/// `a` links `pa` to `pb` on `b` and the link is established.
async fn linked(sim: &Sim) -> (Node, Node, Upid, Upid, mpsc::UnboundedReceiver<Event>) {
    let (a, b) = (sim.node(A), sim.node(B));
    let (pa, ra) = probe(&a, "a");
    let (pb, _rb) = probe(&b, "b");
    a.link(&pa, &pb);
    let pong = testkit::future_message::<Pong>(&a, &pb, &pa);
    a.send(&pa, &pb, Ping { seq: 0 });
    sim.run_until(pong).await;
    (a, b, pa, pb, ra)
}

#[actix_rt::test]
async fn link_across_a_partition_fires_when_detected_and_messages_resume_after_heal() {
    let sim = Sim::new();
    let (a, b, pa, pb, mut ra) = linked(&sim).await;
    drain(&mut ra);
    let cut_at = sim.now();
    sim.partition(&a, &b);
    // A message sent into the partition is held, then lost with the connection.
    a.send(&pa, &pb, Ping { seq: 1 });
    sim.advance(testkit::DEFAULT_PARTITION_DETECTION - Duration::from_millis(1)).await;
    assert!(drain(&mut ra).is_empty(), "nothing crosses, nothing detected yet");
    let exited = sim.run_until(ra.recv()).await;
    assert_eq!(exited, Some(Event::Exited(pb.clone())));
    // At the break itself: it lost the held message, so the linker learns
    // it now, not once reconnecting gives up.
    assert_eq!(sim.now() - cut_at, testkit::DEFAULT_PARTITION_DETECTION);
    assert_eq!(a.metrics().get("connections_broken"), Some(1));
    assert_eq!(a.metrics().get("dropped_peer_unreachable"), Some(1));
    // The reconnect window: the first retry after 20 ms, three more after
    // 40, 80, 160 ms, each of the failing three hanging for the handshake
    // timeout first (a SYN into a partition is not answered); then the peer
    // is given up on, with no second Exited (the link fired already).
    let window = Duration::from_millis(20 + 40 + 80 + 160) + 3 * HANDSHAKE_TIMEOUT;
    sim.advance(window).await;
    assert_eq!(a.metrics().get("peers_lost"), Some(1));
    assert!(drain(&mut ra).is_empty(), "one Exited per link");

    sim.heal(&a, &b);
    let pong = testkit::future_message::<Pong>(&a, &pb, &pa);
    a.send(&pa, &pb, Ping { seq: 2 });
    assert_eq!(sim.run_until(pong).await, Pong { seq: 2 });
    // The lost message never shows up.
    assert_eq!(drain(&mut ra), vec![Event::Pong(pb.clone(), 2)]);
}

/// Issue 11 (chaos seeds 40000436, 40001146): a master's RunTask held on a
/// connection a partition broke, the partition healed within the reconnect
/// window, and no link fired, so the master never learnt the slave had
/// missed it. A break that loses a message fires the links at once.
#[actix_rt::test]
async fn a_break_that_loses_a_message_fires_links_even_when_the_reconnect_succeeds() {
    let sim = Sim::new();
    let (a, b, pa, pb, mut ra) = linked(&sim).await;
    drain(&mut ra);
    sim.partition(&a, &b);
    a.send(&pa, &pb, Ping { seq: 1 });
    let exited = sim.run_until(ra.recv()).await;
    assert_eq!(exited, Some(Event::Exited(pb.clone())));
    // Healed before the first reconnect attempt: the connection is made
    // again to the same incarnation, the peer is not lost.
    sim.heal(&a, &b);
    sim.advance(Duration::from_secs(60)).await;
    assert_eq!(a.metrics().get("connections_broken"), Some(1));
    assert_eq!(a.metrics().get("peers_lost"), Some(0));
    assert!(drain(&mut ra).is_empty(), "the lost message never shows up, and one Exited only");
    // The link is gone with its Exited; a new one fires again on the next
    // break under a message.
    a.link(&pa, &pb);
    let pong = testkit::future_message::<Pong>(&a, &pb, &pa);
    a.send(&pa, &pb, Ping { seq: 2 });
    assert_eq!(sim.run_until(pong).await, Pong { seq: 2 });
    drain(&mut ra);
    sim.partition(&a, &b);
    a.send(&pa, &pb, Ping { seq: 3 });
    assert_eq!(sim.run_until(ra.recv()).await, Some(Event::Exited(pb)));
    assert_eq!(a.metrics().get("connections_broken"), Some(2));
}

#[actix_rt::test]
async fn an_idle_partition_healed_within_the_reconnect_window_fires_no_link() {
    let sim = Sim::new();
    let (a, b, pa, pb, mut ra) = linked(&sim).await;
    drain(&mut ra);
    sim.partition(&a, &b);
    // The connections break with nothing on them, then are made again.
    sim.advance(testkit::DEFAULT_PARTITION_DETECTION + Duration::from_secs(1)).await;
    sim.heal(&a, &b);
    sim.advance(Duration::from_secs(60)).await;
    assert!(drain(&mut ra).is_empty(), "nothing was lost: the link holds");
    assert_eq!(a.metrics().get("connections_broken"), Some(0));
    assert_eq!(a.metrics().get("peers_lost"), Some(0));
    let pong = testkit::future_message::<Pong>(&a, &pb, &pa);
    a.send(&pa, &pb, Ping { seq: 2 });
    assert_eq!(sim.run_until(pong).await, Pong { seq: 2 });
}

#[actix_rt::test]
async fn a_silent_partition_holds_messages_until_heal_and_fires_no_link() {
    let sim = Sim::builder().partition_detection(None).build();
    let (a, b, pa, pb, mut ra) = linked(&sim).await;
    drain(&mut ra);
    sim.partition(&a, &b);
    a.send(&pa, &pb, Ping { seq: 1 });
    sim.advance(Duration::from_secs(3600)).await;
    assert!(drain(&mut ra).is_empty(), "a silent partition is not detected");
    sim.heal(&a, &b);
    sim.advance(Duration::from_secs(1)).await;
    assert_eq!(drain(&mut ra), vec![Event::Pong(pb, 1)], "the held message arrives after heal");
}

#[actix_rt::test]
async fn a_one_way_partition_cuts_one_direction_only() {
    let sim = Sim::builder().partition_detection(None).build();
    let (a, b) = (sim.node(A), sim.node(B));
    let (pa, mut ra) = probe(&a, "a");
    let (pb, mut rb) = probe(&b, "b");
    sim.partition_one_way(&a, &b);
    a.send(&pa, &pb, Ping { seq: 1 });
    b.send(&pb, &pa, Ping { seq: 2 });
    sim.advance(Duration::from_secs(1)).await;
    // b -> a crossed; a's answer (a -> b) did not, nor a's ping.
    assert_eq!(drain(&mut ra), vec![Event::Ping(pb.clone(), 2)]);
    assert!(drain(&mut rb).is_empty());
    sim.heal_one_way(&a, &b);
    // a's connection attempt into the partition hangs for the handshake
    // timeout, as a SYN into a firewall would; the next attempt succeeds.
    sim.advance(HANDSHAKE_TIMEOUT + Duration::from_secs(1)).await;
    assert_eq!(drain(&mut rb), vec![Event::Ping(pa.clone(), 1), Event::Pong(pa.clone(), 2)]);
}

#[actix_rt::test]
async fn killing_a_node_fires_links_after_the_reconnect_window() {
    let sim = Sim::new();
    let (a, b, _pa, pb, mut ra) = linked(&sim).await;
    drain(&mut ra);
    let killed_at = sim.now();
    sim.kill(&b);
    assert!(sim.node_at(&b).is_none());
    assert_eq!(sim.run_until(ra.recv()).await, Some(Event::Exited(pb)));
    // As the TCP transport: EOF at once, then reconnect attempts after 20,
    // 40, 80 and 160 ms (refused at once), then give up.
    assert_eq!(sim.now() - killed_at, Duration::from_millis(20 + 40 + 80 + 160));
    assert_eq!(a.metrics().get("peers_lost"), Some(1));
}

#[actix_rt::test]
async fn killing_a_node_under_a_message_in_flight_fires_links_at_once() {
    let sim = Sim::new();
    let (a, b, pa, pb, mut ra) = linked(&sim).await;
    drain(&mut ra);
    a.send(&pa, &pb, Ping { seq: 1 });
    let killed_at = sim.now();
    sim.kill(&b);
    // The message in flight is lost with the connection: no reconnect
    // window to wait out.
    assert_eq!(sim.run_until(ra.recv()).await, Some(Event::Exited(pb)));
    assert_eq!(sim.now(), killed_at);
    assert_eq!(a.metrics().get("connections_broken"), Some(1));
    sim.advance(Duration::from_secs(1)).await;
    assert_eq!(a.metrics().get("peers_lost"), Some(1), "then given up on, as before");
    assert!(drain(&mut ra).is_empty(), "one Exited per link");
}

#[actix_rt::test]
async fn a_restarted_node_has_a_new_incarnation_and_linkers_get_exited() {
    let sim = Sim::new();
    let (a, b, pa, pb, mut ra) = linked(&sim).await;
    drain(&mut ra);
    let old = b.incarnation();
    let killed_at = sim.now();
    let b2 = sim.restart(&b);
    assert_ne!(b2.incarnation(), old);
    assert_eq!(sim.run_until(ra.recv()).await, Some(Event::Exited(pb.clone())));
    // Found by the reconnect's handshake, before the peer would be given up.
    assert!(sim.now() - killed_at < Duration::from_secs(1));
    assert_eq!(a.metrics().get("peers_lost"), Some(0));
    // The new node serves a new process at the same Upid.
    let (pb2, _rb2) = probe(&b2, "b");
    assert_eq!(pb2, pb);
    let pong = testkit::future_message::<Pong>(&a, &pb2, &pa);
    a.send(&pa, &pb2, Ping { seq: 9 });
    assert_eq!(sim.run_until(pong).await, Pong { seq: 9 });
}

#[actix_rt::test]
async fn drop_and_delay_rules_act_on_matching_frames() {
    let sim = Sim::builder().latency(Duration::from_millis(5), Duration::from_millis(5)).build();
    let (a, b) = (sim.node(A), sim.node(B));
    let (pa, mut ra) = probe(&a, "a");
    let (pb, _rb) = probe(&b, "b");
    let rule = sim.drop_frames(testkit::matching::<Ping>(&pa, &pb));
    a.send(&pa, &pb, Ping { seq: 1 });
    sim.advance(Duration::from_secs(1)).await;
    assert!(drain(&mut ra).is_empty());
    sim.remove_rule(rule);

    let slow = sim.delay_frames(Duration::from_secs(2), testkit::matching::<Pong>(testkit::any(), &pa));
    let sent = sim.now();
    let pong = testkit::future_message::<Pong>(&a, &pb, &pa);
    a.send(&pa, &pb, Ping { seq: 2 });
    assert_eq!(sim.run_until(pong).await, Pong { seq: 2 });
    assert_eq!(sim.now() - sent, Duration::from_millis(2010));
    sim.remove_rule(slow);
}

#[actix_rt::test]
async fn with_zero_latency_settle_alone_delivers() {
    let sim = Sim::builder().latency(Duration::ZERO, Duration::ZERO).build();
    let (a, b) = (sim.node(A), sim.node(B));
    let (pa, mut ra) = probe(&a, "a");
    let (pb, mut rb) = probe(&b, "b");
    for seq in 0..100 {
        a.send(&pa, &pb, Ping { seq });
    }
    sim.settle().await;
    assert_eq!(sim.now().since_origin(), Duration::ZERO);
    let pings: Vec<Event> = (0..100).map(|seq| Event::Ping(pa.clone(), seq)).collect();
    let pongs: Vec<Event> = (0..100).map(|seq| Event::Pong(pb.clone(), seq)).collect();
    assert_eq!(drain(&mut rb), pings, "in order");
    assert_eq!(drain(&mut ra), pongs, "in order");
}

#[actix_rt::test]
async fn per_connection_order_holds_under_random_latency() {
    let sim = Sim::builder().latency(Duration::from_millis(1), Duration::from_millis(50)).build();
    let (a, b) = (sim.node(A), sim.node(B));
    let (pa, _ra) = probe(&a, "a");
    let (pb, mut rb) = probe(&b, "b");
    for seq in 0..200 {
        a.send(&pa, &pb, Ping { seq });
        let wait = sim.with_rng(|r| r.gen_range(0..3));
        sim.advance(Duration::from_millis(wait)).await;
    }
    sim.advance(Duration::from_secs(1)).await;
    let pings: Vec<Event> = (0..200).map(|seq| Event::Ping(pa.clone(), seq)).collect();
    assert_eq!(drain(&mut rb), pings);
}

#[actix_rt::test]
async fn a_link_made_on_an_established_connection_still_fires_on_restart() {
    let sim = Sim::new();
    let (a, b) = (sim.node(A), sim.node(B));
    let (pa, mut ra) = probe(&a, "a");
    let (pb, _rb) = probe(&b, "b");
    // The connection (and its handshake) exists before the link does.
    let pong = testkit::future_message::<Pong>(&a, &pb, &pa);
    a.send(&pa, &pb, Ping { seq: 0 });
    sim.run_until(pong).await;
    a.link(&pa, &pb);
    sim.advance(Duration::from_secs(1)).await;
    drain(&mut ra);
    sim.restart(&b);
    assert_eq!(sim.run_until(ra.recv()).await, Some(Event::Exited(pb)));
    assert_eq!(a.metrics().get("peers_lost"), Some(0), "found by the new incarnation");
}
