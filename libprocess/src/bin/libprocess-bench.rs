//! `libprocess-bench`: throughput and latency of the runtime, beside plain
//! actix and plain tokio TCP baselines measured in the same run.
//!
//! `cargo run --release -p libprocess --bin libprocess-bench` prints one
//! `name value` line per figure, then the ratios the runtime is held to (see
//! BENCHMARKS.md). Remote figures use two OS processes: the bench re-executes
//! itself with the hidden `--peer` flag; the peer hosts the receiving actors
//! and the TCP baseline server on 127.0.0.1 and lives until the bench ends.
//!
//! Every figure counts what the receiver handled, never what was queued:
//! one-way senders keep a bounded window of unacknowledged messages (the
//! receiver acknowledges every `ACK_EVERY` with its running count), so queues
//! stay bounded (below `MAX_QUEUED_MESSAGES_PER_PEER`, nothing is ever
//! dropped) and the rate is the acknowledged count over a fixed measuring
//! time after a warm-up. Each process runs one single-threaded actix system.
//!
//! The machine is shared, so load from elsewhere comes and goes. To keep a
//! ratio honest, every figure is a pausable load, and the loads run in turn,
//! `ROUNDS` times over; each figure is its best round. A burst of outside load
//! then costs a figure one round, rather than skewing one side of a ratio.
//!
//! TLS: each process also runs a node with TLS, strict (both sides verify),
//! on certificates the bench makes with `openssl` in a temp directory; the
//! `tls_remote_*` figures are the remote ones over TLS, held as ratios of
//! their plaintext twins (without openssl they are left out, with a line).

use std::cell::Cell;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use libprocess::config::SslConfig;
use libprocess::limits::MAX_QUEUED_MESSAGES_PER_PEER;
use libprocess::testkit::certs::TestCa;
use libprocess::{Clock, Config, Handlers, Me, Node, Process, Upid};
use serde::{Deserialize, Serialize};

#[path = "bench/tcp_baseline.rs"]
mod tcp_baseline;

/// Size of every message body.
const BODY: usize = 64;
/// The receiver acknowledges every this many one-way messages.
const ACK_EVERY: u64 = 1024;
/// Unacknowledged one-way messages a sender allows itself.
/// Unacknowledged one-way messages between two processes: enough to cover
/// the round trip of an acknowledgement at millions of messages a second.
const WINDOW: u64 = 16 * 1024;
/// Unacknowledged one-way messages within a process (libprocess and actix
/// alike): enough to keep the receiver busy, small enough to stay in cache.
const LOCAL_WINDOW: u64 = 4 * ACK_EVERY;
const _: () = assert!((WINDOW as usize) < MAX_QUEUED_MESSAGES_PER_PEER / 2);
const WARMUP: Duration = Duration::from_millis(250);
const MEASURE: Duration = Duration::from_millis(700);
const ROUNDS: usize = 5;

#[derive(Serialize, Deserialize)]
struct Data {
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}
libprocess::message!(Data, "libprocess.bench.DataMessage");

#[derive(Serialize, Deserialize)]
struct Ack {
    received: u64,
}
libprocess::message!(Ack, "libprocess.bench.AckMessage");

#[derive(Serialize, Deserialize)]
struct Request {
    seq: u64,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}
libprocess::message!(Request, "libprocess.bench.RequestMessage");

#[derive(Serialize, Deserialize)]
struct Reply {
    seq: u64,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}
libprocess::message!(Reply, "libprocess.bench.ReplyMessage");

#[derive(Serialize, Deserialize)]
struct Go {}
libprocess::message!(Go, "libprocess.bench.GoMessage");

/// Counts `Data` and acknowledges every `ACK_EVERY` to the sender.
struct Sink {
    me: Me,
    received: u64,
}
impl Actor for Sink {
    type Context = Context<Self>;
}
impl Process for Sink {
    fn install(h: &mut Handlers<Self>) {
        h.install(Sink::data);
    }
}
impl Sink {
    fn data(&mut self, from: Upid, msg: Data, _: &mut Context<Self>) {
        debug_assert_eq!(msg.body.len(), BODY);
        self.received += 1;
        if self.received.is_multiple_of(ACK_EVERY) {
            self.me.send(&from, Ack { received: self.received });
        }
    }
}

/// Sends `Data` to `to` while fewer than `window` are unacknowledged;
/// `acked` is what the sink reported it received.
struct Source {
    me: Me,
    to: Upid,
    window: u64,
    sent: u64,
    acked: Rc<Cell<u64>>,
    running: Rc<Cell<bool>>,
    body: Vec<u8>,
}
impl Actor for Source {
    type Context = Context<Self>;
}
impl Process for Source {
    fn install(h: &mut Handlers<Self>) {
        h.install(Source::go).install(Source::ack);
    }
}
impl Source {
    fn go(&mut self, _: Upid, _: Go, _: &mut Context<Self>) {
        self.fill();
    }
    fn ack(&mut self, _: Upid, msg: Ack, _: &mut Context<Self>) {
        self.acked.set(msg.received);
        self.fill();
    }
    fn fill(&mut self) {
        while self.running.get() && self.sent - self.acked.get() < self.window {
            self.me.send(&self.to, Data { body: self.body.clone() });
            self.sent += 1;
        }
    }
}

/// Answers every `Request` with a `Reply` carrying the same body.
struct Echo {
    me: Me,
}
impl Actor for Echo {
    type Context = Context<Self>;
}
impl Process for Echo {
    fn install(h: &mut Handlers<Self>) {
        h.install(Echo::request);
    }
}
impl Echo {
    fn request(&mut self, from: Upid, msg: Request, _: &mut Context<Self>) {
        self.me.send(&from, Reply { seq: msg.seq, body: msg.body });
    }
}

/// Keeps `window` requests in flight to `to`; `done` counts replies.
struct Client {
    me: Me,
    to: Upid,
    window: u64,
    seq: u64,
    done: Rc<Cell<u64>>,
    running: Rc<Cell<bool>>,
}
impl Actor for Client {
    type Context = Context<Self>;
}
impl Process for Client {
    fn install(h: &mut Handlers<Self>) {
        h.install(Client::go).install(Client::reply);
    }
}
impl Client {
    fn go(&mut self, _: Upid, _: Go, _: &mut Context<Self>) {
        // Replies to requests sent before a pause may still be on their way.
        while self.seq - self.done.get() < self.window {
            self.request();
        }
    }
    fn reply(&mut self, _: Upid, msg: Reply, _: &mut Context<Self>) {
        debug_assert_eq!(msg.body.len(), BODY);
        self.done.set(self.done.get() + 1);
        if self.running.get() {
            self.request();
        }
    }
    fn request(&mut self) {
        self.seq += 1;
        self.me.send(&self.to, Request { seq: self.seq, body: vec![7; BODY] });
    }
}

/// A load the bench can run and pause; `count` grows with the work done.
struct Load {
    count: Rc<Cell<u64>>,
    running: Rc<Cell<bool>>,
    resume: Box<dyn Fn()>,
}

impl Load {
    /// The rate of `count` over `MEASURE`, after `WARMUP`; paused after.
    async fn rate(&self, clock: &Clock) -> u64 {
        self.running.set(true);
        (self.resume)();
        clock.sleep(WARMUP).await;
        let (c0, t0) = (self.count.get(), clock.now());
        clock.sleep(MEASURE).await;
        let (c1, t1) = (self.count.get(), clock.now());
        self.running.set(false);
        ((c1 - c0) as f64 / (t1 - t0).as_secs_f64()) as u64
    }
}

/// One-way `Data` from a source on `node` to `sink`.
fn oneway(node: &Node, name: &str, sink: &Upid, window: u64) -> Load {
    let (acked, running) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(false)));
    let (a, r, to) = (acked.clone(), running.clone(), sink.clone());
    let src = node
        .spawn(name, |me| Source { me, to, window, sent: 0, acked: a, running: r, body: vec![7; BODY] })
        .expect("spawn source")
        .pid;
    let node = node.clone();
    Load { count: acked, running, resume: Box::new(move || node.send(&src, &src, Go {})) }
}

/// Request/reply with `window` in flight from a client on `node` to `echo`.
fn rpc(node: &Node, name: &str, echo: &Upid, window: u64) -> Load {
    let (done, running) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(false)));
    let (d, r, to) = (done.clone(), running.clone(), echo.clone());
    let client =
        node.spawn(name, |me| Client { me, to, window, seq: 0, done: d, running: r }).expect("spawn client").pid;
    let node = node.clone();
    Load { count: done, running, resume: Box::new(move || node.send(&client, &client, Go {})) }
}

// Plain actix: the same window protocol with `do_send`.
struct ActixData(Vec<u8>);
impl actix::Message for ActixData {
    type Result = ();
}
struct ActixAck(u64);
impl actix::Message for ActixAck {
    type Result = ();
}
struct ActixSink {
    source: Addr<ActixSource>,
    received: u64,
}
impl Actor for ActixSink {
    type Context = Context<Self>;
}
impl Handler<ActixData> for ActixSink {
    type Result = ();
    fn handle(&mut self, msg: ActixData, _: &mut Context<Self>) {
        debug_assert_eq!(msg.0.len(), BODY);
        self.received += 1;
        if self.received.is_multiple_of(ACK_EVERY) {
            self.source.do_send(ActixAck(self.received));
        }
    }
}
struct ActixSource {
    sink: Option<Addr<ActixSink>>,
    sent: u64,
    acked: Rc<Cell<u64>>,
    running: Rc<Cell<bool>>,
    body: Vec<u8>,
}
impl Actor for ActixSource {
    type Context = Context<Self>;
}
impl Handler<ActixAck> for ActixSource {
    type Result = ();
    fn handle(&mut self, msg: ActixAck, _: &mut Context<Self>) {
        self.acked.set(msg.0);
        let Some(sink) = &self.sink else { return };
        while self.running.get() && self.sent - self.acked.get() < LOCAL_WINDOW {
            sink.do_send(ActixData(self.body.clone()));
            self.sent += 1;
        }
    }
}
struct SetSink(Addr<ActixSink>);
impl actix::Message for SetSink {
    type Result = ();
}
impl Handler<SetSink> for ActixSource {
    type Result = ();
    fn handle(&mut self, msg: SetSink, ctx: &mut Context<Self>) {
        self.sink = Some(msg.0);
        let acked = self.acked.get();
        self.handle(ActixAck(acked), ctx);
    }
}

fn actix_oneway() -> Load {
    let (acked, running) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(false)));
    let source =
        ActixSource { sink: None, sent: 0, acked: acked.clone(), running: running.clone(), body: vec![7; BODY] }
            .start();
    let sink = ActixSink { source: source.clone(), received: 0 }.start();
    // `SetSink` (re)starts the window.
    Load { count: acked, running, resume: Box::new(move || source.do_send(SetSink(sink.clone()))) }
}

/// The peer process: a node with `sink` and `echo`, and the TCP baseline
/// server. Prints `READY <node> <tcp>` and runs until the bench kills it.
/// It stays single-threaded like the bench itself (no thread watching stdin:
/// the kernel kills it if the bench dies), so that both sides allocate alike
/// (glibc's allocator takes locks once a process has a second thread).
fn peer(tls_dir: Option<std::path::PathBuf>) {
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of this process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    actix::System::new().block_on(async {
        let node = Node::bind(Config::loopback(0)).await.expect("peer node binds");
        node.spawn("sink", |me| Sink { me, received: 0 }).expect("spawn sink");
        node.spawn("echo", |me| Echo { me }).expect("spawn echo");
        let tls = match tls_dir {
            Some(dir) => {
                let node = Node::bind(tls_config(&dir)).await.expect("peer TLS node binds");
                node.spawn("sink", |me| Sink { me, received: 0 }).expect("spawn sink");
                node.spawn("echo", |me| Echo { me }).expect("spawn echo");
                node.address().to_string()
            }
            None => "-".into(),
        };
        let tcp = tcp_baseline::serve().await;
        println!("READY {} {} {}", node.address(), tcp, tls);
        std::io::stdout().flush().expect("stdout");
        std::future::pending::<()>().await;
    });
}

/// Makes the CA and the one certificate both processes present (naming
/// 127.0.0.1) in a fresh temp directory; None without openssl.
fn make_certs() -> Option<std::path::PathBuf> {
    let ok = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl is missing: the tls_* figures are left out");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("libprocess-bench-tls-{}", std::process::id()));
    let ca = TestCa::new(&dir, "ca");
    ca.issue("node", &[std::net::Ipv4Addr::LOCALHOST.into()]);
    Some(dir)
}

/// A loopback node with strict TLS on the certificates in `dir`.
fn tls_config(dir: &std::path::Path) -> Config {
    let ssl = SslConfig {
        enabled: true,
        cert_file: Some(dir.join("node.pem")),
        key_file: Some(dir.join("node.key")),
        ca_file: Some(dir.join("ca.pem")),
        verify_server_cert: true,
        require_client_cert: true,
        ..SslConfig::default()
    };
    Config { ssl, ..Config::loopback(0) }
}

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--peer") {
        return peer(args.next().map(Into::into));
    }
    // Profiling aid: `LIBPROCESS_BENCH_ONLY=remote_oneway` runs the figures
    // whose names contain it.
    let only = std::env::var("LIBPROCESS_BENCH_ONLY").ok();
    let want = move |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    // Profiling aid: `LIBPROCESS_BENCH_PEER_WRAP="valgrind --tool=callgrind"`
    // runs the peer under that command (it is then ended with SIGTERM, so
    // that the tool writes its results), and the totals each load handled
    // are printed on stderr, to divide a count of instructions by.
    let wrap: Vec<String> = std::env::var("LIBPROCESS_BENCH_PEER_WRAP")
        .map(|w| w.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let own = std::env::current_exe().expect("own path");
    let mut command = match wrap.split_first() {
        Some((tool, args)) => {
            let mut c = Command::new(tool);
            c.args(args).arg(&own);
            c
        }
        None => Command::new(&own),
    };
    let tls_dir = make_certs();
    command.arg("--peer");
    if let Some(dir) = &tls_dir {
        command.arg(dir);
    }
    let mut child = command.stdout(Stdio::piped()).spawn().expect("start the peer process");
    let mut ready = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut ready).expect("peer says READY");
    let mut words = ready.split_whitespace().skip(1);
    let mut addr = || -> Option<SocketAddr> { words.next().and_then(|w| w.parse().ok()) };
    let (peer_node, peer_tcp) = (addr().expect("READY <node> <tcp>"), addr().expect("READY <node> <tcp>"));
    let peer_tls = addr();

    let certs = tls_dir.clone();
    let figures: Vec<(&str, u64)> = actix::System::new().block_on(async move {
        let node = Node::bind(Config::loopback(0)).await.expect("node binds");
        let clock = node.clock().clone();
        let sink = node.spawn("sink", |me| Sink { me, received: 0 }).expect("spawn sink").pid;
        let echo = node.spawn("echo", |me| Echo { me }).expect("spawn echo").pid;
        let remote_sink = Upid::new("sink", peer_node).expect("pid");
        let remote_echo = Upid::new("echo", peer_node).expect("pid");
        let tls_node = match (&certs, peer_tls) {
            (Some(dir), Some(_)) => Some(Node::bind(tls_config(dir)).await.expect("TLS node binds")),
            _ => None,
        };
        let mut loads: Vec<(&str, Load)> = vec![
            ("local_oneway_msgs_per_s", oneway(&node, "source-local", &sink, LOCAL_WINDOW)),
            ("local_roundtrips_per_s", rpc(&node, "client-local", &echo, 1)),
            ("remote_oneway_msgs_per_s", oneway(&node, "source-remote", &remote_sink, WINDOW)),
            ("remote_roundtrips_per_s", rpc(&node, "client-remote", &remote_echo, 1)),
            ("remote_window100_rpcs_per_s", rpc(&node, "client-window100", &remote_echo, 100)),
            ("baseline_actix_oneway_msgs_per_s", actix_oneway()),
            ("baseline_tcp_oneway_frames_per_s", tcp_baseline::oneway(peer_tcp).await),
            ("baseline_tcp_roundtrips_per_s", tcp_baseline::roundtrips(peer_tcp).await),
        ];
        if let (Some(tls), Some(peer)) = (&tls_node, peer_tls) {
            let (sink, echo) = (Upid::new("sink", peer).expect("pid"), Upid::new("echo", peer).expect("pid"));
            loads.push(("tls_remote_oneway_msgs_per_s", oneway(tls, "source-tls", &sink, WINDOW)));
            loads.push(("tls_remote_roundtrips_per_s", rpc(tls, "client-tls", &echo, 1)));
        }
        loads.retain(|(name, _)| want(name));
        let mut f: Vec<(&str, u64)> = loads.iter().map(|(name, _)| (*name, 0)).collect();
        for _ in 0..ROUNDS {
            for (i, (_, load)) in loads.iter().enumerate() {
                f[i].1 = f[i].1.max(load.rate(&clock).await);
            }
        }
        for (name, load) in &loads {
            eprintln!("total {name} {}", load.count.get());
        }
        for (name, value) in node.metrics().snapshot() {
            if (name == "dropped_queue_full" || name == "dropped_peer_unreachable") && value > 0 {
                eprintln!("warning: {name} = {value}: the figures above are not clean");
            }
        }
        node.shutdown();
        if let Some(tls) = tls_node {
            tls.shutdown();
        }
        f
    });
    if let Some(dir) = &tls_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    if wrap.is_empty() {
        let _ = child.kill();
    } else {
        // SAFETY: kill(2) on our own child's pid, which has not been waited for.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    }
    let _ = child.wait();
    // Profiling aid: CPU time of each process, to divide by the totals
    // above (stable under load where the rates are not).
    let cpu_ms = |who| {
        // SAFETY: getrusage fills the struct it is given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut ru) };
        let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
        ms(ru.ru_utime) + ms(ru.ru_stime)
    };
    eprintln!("cpu_ms bench {:.0} peer {:.0}", cpu_ms(libc::RUSAGE_SELF), cpu_ms(libc::RUSAGE_CHILDREN));

    let get = |n: &str| figures.iter().find(|(k, _)| *k == n).map(|(_, v)| *v as f64);
    for (name, value) in &figures {
        println!("{name} {value}");
    }
    let ratios = [
        ("ratio_local_oneway_vs_actix", "local_oneway_msgs_per_s", "baseline_actix_oneway_msgs_per_s", 0.5),
        ("ratio_remote_oneway_vs_tcp", "remote_oneway_msgs_per_s", "baseline_tcp_oneway_frames_per_s", 0.15),
        ("ratio_remote_roundtrips_vs_tcp", "remote_roundtrips_per_s", "baseline_tcp_roundtrips_per_s", 0.6),
        ("ratio_tls_remote_oneway_vs_plain", "tls_remote_oneway_msgs_per_s", "remote_oneway_msgs_per_s", 0.5),
        ("ratio_tls_remote_roundtrips_vs_plain", "tls_remote_roundtrips_per_s", "remote_roundtrips_per_s", 0.8),
    ];
    for (name, a, b, target) in ratios {
        let (Some(a), Some(b)) = (get(a), get(b)) else { continue };
        let r = a / b.max(1.0);
        println!("{name} {r:.2}");
        if r < target {
            eprintln!("below target: {name} {r:.2} < {target}");
        }
    }
}
