//! The TCP transport: one listener for messages and HTTP, one outbound
//! connection per peer node.
//!
//! Outbound: a peer gets a queue (a byte buffer of encoded frames, bounded by
//! `MAX_QUEUED_MESSAGES_PER_PEER` / `MAX_QUEUED_BYTES_PER_PEER`) and a writer
//! task, created lazily on the first send. The writer connects, exchanges
//! handshakes, then writes the whole buffer at each wake-up (many frames per
//! write call). The read half of the connection is watched for EOF, so a peer
//! that dies is noticed at once even while idle. After a failure the writer
//! reconnects with a bounded exponential backoff. A connection that breaks
//! after carrying frames is reported at once (`peer_broken`: links fire,
//! as libprocess's do when a socket closes), since none of its frames is
//! known delivered; after
//! `MAX_RECONNECT_ATTEMPTS` failures the peer is reported lost (links fire),
//! queued frames are dropped and counted, and the writer ends; the next send
//! starts over. Frames in a write that failed are lost: delivery is at most
//! once, reliability is the application's (as in Mesos).
//! `flush` waits, per peer, until the writer has written (or dropped)
//! every frame counted as queued when it was called.
//!
//! Inbound: the first byte of a connection decides. Zero is the libprocess
//! magic: handshake, then frames until EOF, each handed to the node's
//! [`Inbound`]; any bad frame closes the connection with a log line and a
//! counter. Anything else is HTTP, served by `crate::http` on the node's
//! [`Routes`].
//!
//! TLS (`crate::tls`, when the node has it): outgoing connections are TLS
//! (retried in plaintext if the handshake fails and downgrade is
//! supported). An incoming connection starting with a TLS handshake record
//! is TLS, and inside it the first byte decides again (messages or HTTPS);
//! one starting otherwise is plaintext, served only with
//! `LIBPROCESS_SSL_SUPPORT_DOWNGRADE`, else closed with a log line. A
//! failed TLS handshake, like a bad frame, closes that connection only.
//! The code paths are generic over the stream, so plaintext costs what it
//! did before TLS existed.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bytes::BytesMut;
use futures::future::BoxFuture;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use super::{Inbound, SendError, Transport};
use crate::clock::Clock;
use crate::fasthash::FastMap;
use crate::http::Routes;
use crate::limits::*;
use crate::metrics::Metrics;
use crate::sync::lock;
use crate::tls::{Tls, TLS_HANDSHAKE_BYTE};
use crate::wire::{encode_hello, read_hello, FrameReader, Hello, WireError};

/// The real transport, for a node `N` (set by `start`).
pub(crate) struct TcpTransport<N> {
    hello: Hello,
    clock: Clock,
    /// None: plaintext only.
    tls: Option<Arc<Tls>>,
    node: OnceLock<Weak<N>>,
    peers: Mutex<FastMap<SocketAddr, Arc<Peer>>>,
    shutdown: CancellationToken,
    /// `shutdown.is_cancelled()` without its lock, read on every send.
    is_shut_down: AtomicBool,
    me: Weak<TcpTransport<N>>,
    runtime: tokio::runtime::Handle,
    /// The actix arbiter the transport was made on, if any: its tasks run
    /// there, beside the actors they feed, so a message read from a socket
    /// reaches its actor (and a reply its socket) without crossing from the
    /// runtime's task queue to the arbiter's local set (which cost an extra
    /// poll of the I/O driver per hop: round trips took ~1.5x the TCP baseline).
    arbiter: Option<actix_rt::ArbiterHandle>,
    /// Unique per transport (see `LAST_PEER`).
    id: u64,
}

/// Numbers transports for `LAST_PEER` (an address in memory can be reused
/// by a later transport; an id is not).
static NEXT_TRANSPORT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The peer of this thread's last send: (transport id, address, peer).
    /// An actor mostly sends to the same node many times in a row; a hit
    /// skips the peer table's lock, hash and reference count. The entry is
    /// checked live (`Peer::closed`) on each use, so a peer given up on is
    /// replaced at the next send. It holds one `Peer` (its queue emptied
    /// once given up on) per thread at most.
    static LAST_PEER: RefCell<Option<(u64, SocketAddr, Arc<Peer>)>> = const { RefCell::new(None) };
}

struct Peer {
    addr: SocketAddr,
    queue: Mutex<Queue>,
    wake: Notify,
    /// Mirrors `Queue::closed` (set under the queue's lock) so that finding
    /// the live peer on each send takes one lock, not two.
    closed: AtomicBool,
    /// How many of the frames counted by `Queue::enqueued` are done with:
    /// written to the socket or dropped (`flush` waits on it).
    done: watch::Sender<u64>,
}

#[derive(Default)]
struct Queue {
    buf: BytesMut,
    frames: usize,
    /// Frames ever queued on this peer (`Peer::done` catches up with it).
    enqueued: u64,
    /// The writer gave up on this peer; a new `Peer` must be made.
    closed: bool,
}

impl<N: Inbound + Routes> TcpTransport<N> {
    /// Must be called inside a tokio runtime (its tasks run there).
    pub(crate) fn new(
        address: SocketAddr,
        incarnation: u64,
        clock: Clock,
        tls: Option<Arc<Tls>>,
    ) -> Arc<TcpTransport<N>> {
        Arc::new_cyclic(|me| TcpTransport {
            hello: Hello { node: address, incarnation },
            clock,
            tls,
            node: OnceLock::new(),
            peers: Mutex::new(FastMap::default()),
            shutdown: CancellationToken::new(),
            is_shut_down: AtomicBool::new(false),
            me: me.clone(),
            runtime: tokio::runtime::Handle::current(),
            arbiter: actix_rt::Arbiter::try_current(),
            id: NEXT_TRANSPORT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Accepts on `listener` for `node`, the node this transport carries
    /// frames for (held weakly: the node owns its transport).
    pub(crate) fn start(self: &Arc<Self>, listener: TcpListener, node: Weak<N>) {
        if self.node.set(node.clone()).is_err() {
            tracing::error!("a TCP transport was started twice; the second start is ignored");
            return;
        }
        let this = self.clone();
        self.spawn(async move { this.accept_loop(listener, node).await });
    }

    /// Runs `task` on the transport's arbiter, or its runtime without one.
    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        match &self.arbiter {
            // Err: the arbiter has stopped (its system is shutting down).
            Some(a) => {
                let _ = a.spawn(task);
            }
            None => {
                self.runtime.spawn(task);
            }
        }
    }

    fn node(&self) -> Option<Arc<N>> {
        self.node.get()?.upgrade()
    }

    fn count(&self, f: impl FnOnce(&Metrics) -> &std::sync::atomic::AtomicU64) {
        if let Some(n) = self.node() {
            Metrics::inc(f(n.metrics()));
        }
    }

    /// The live peer entry for `addr`, created (with its writer) if needed.
    fn peer(&self, addr: SocketAddr) -> Option<Arc<Peer>> {
        let mut peers = lock(&self.peers);
        if let Some(p) = peers.get(&addr) {
            if !p.closed.load(Ordering::Acquire) {
                return Some(p.clone());
            }
        }
        // Only a new peer needs the transport itself (an atomic CAS loop,
        // kept off the path of every send).
        let this = self.me.upgrade()?;
        let p = Arc::new(Peer {
            addr,
            queue: Mutex::default(),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
            done: watch::Sender::new(0),
        });
        peers.insert(addr, p.clone());
        let writer = p.clone();
        self.spawn(async move { this.run_peer(writer).await });
        Some(p)
    }

    async fn run_peer(self: Arc<Self>, peer: Arc<Peer>) {
        let mut failures = 0u32;
        loop {
            if self.shutdown.is_cancelled() {
                return;
            }
            match self.connect(peer.addr).await {
                Ok((link, hello)) => {
                    failures = 0;
                    if hello.node != peer.addr {
                        tracing::warn!(peer = %peer.addr, advertised = %hello.node,
                            "peer advertises another address than the one connected to");
                    }
                    if let Some(n) = self.node() {
                        n.peer_hello(peer.addr, hello.incarnation);
                    }
                    // Frames written on this connection: none is known
                    // delivered if it breaks (see `write_loop`).
                    let mut carried = 0usize;
                    let written = match link {
                        Link::Plain(s) => {
                            let (rd, wr) = s.into_split();
                            self.write_loop(&peer, rd, wr, &mut carried).await
                        }
                        Link::Tls(s) => {
                            let (rd, wr) = tokio::io::split(*s);
                            self.write_loop(&peer, rd, wr, &mut carried).await
                        }
                    };
                    match written {
                        Ok(()) => return, // shut down
                        Err(e) => {
                            tracing::debug!(peer = %peer.addr, error = %e, carried, "connection to peer lost");
                            if carried > 0 {
                                if let Some(n) = self.node() {
                                    n.peer_broken(peer.addr);
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    failures += 1;
                    tracing::debug!(peer = %peer.addr, error = %e, failures, "cannot connect to peer");
                    if failures > MAX_RECONNECT_ATTEMPTS {
                        self.give_up(&peer);
                        return;
                    }
                }
            }
            let backoff = INITIAL_RECONNECT_BACKOFF.saturating_mul(1 << failures.min(16)).min(MAX_RECONNECT_BACKOFF);
            tokio::select! {
                _ = self.clock.sleep(backoff) => {}
                _ = self.shutdown.cancelled() => return,
            }
        }
    }

    fn give_up(&self, peer: &Arc<Peer>) {
        let dropped = {
            let mut q = lock(&peer.queue);
            q.closed = true;
            peer.closed.store(true, Ordering::Release);
            q.buf = BytesMut::new();
            peer.done.send_replace(q.enqueued);
            std::mem::take(&mut q.frames)
        };
        {
            let mut peers = lock(&self.peers);
            if peers.get(&peer.addr).is_some_and(|p| Arc::ptr_eq(p, peer)) {
                peers.remove(&peer.addr);
            }
        }
        tracing::info!(peer = %peer.addr, dropped, "peer unreachable after {MAX_RECONNECT_ATTEMPTS} reconnect attempts");
        if let Some(n) = self.node() {
            Metrics::add(&n.metrics().dropped_peer_unreachable, dropped as u64);
            n.peer_lost(peer.addr);
        }
    }

    async fn connect(&self, addr: SocketAddr) -> Result<(Link, Hello), WireError> {
        let handshake = async {
            let mut stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let Some(tls) = &self.tls else {
                let hello = self.exchange_hellos(&mut stream).await?;
                return Ok((Link::Plain(stream), hello));
            };
            match tls.connector().connect(Tls::server_name(addr), stream).await {
                Ok(mut s) => {
                    let hello = self.exchange_hellos(&mut s).await?;
                    Ok((Link::Tls(Box::new(s)), hello))
                }
                Err(e) => {
                    self.count(|m| &m.tls_handshakes_failed);
                    if !tls.support_downgrade() {
                        tracing::warn!(peer = %addr, error = %e, "TLS handshake with peer failed");
                        return Err(e.into());
                    }
                    tracing::warn!(peer = %addr, error = %e,
                        "TLS handshake with peer failed; retrying in plaintext (LIBPROCESS_SSL_SUPPORT_DOWNGRADE)");
                    let mut stream = TcpStream::connect(addr).await?;
                    stream.set_nodelay(true)?;
                    let hello = self.exchange_hellos(&mut stream).await?;
                    Ok((Link::Plain(stream), hello))
                }
            }
        };
        match self.clock.timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Ok(r) => r,
            Err(_) => Err(WireError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out"))),
        }
    }

    /// The connector's half of the handshake: ours, then the peer's.
    async fn exchange_hellos<S: AsyncRead + AsyncWrite + Unpin>(&self, s: &mut S) -> Result<Hello, WireError> {
        s.write_all(&encode_hello(&self.hello)).await?;
        s.flush().await?;
        read_hello(s).await
    }

    /// Writes queued frames until the connection breaks (Err) or the
    /// transport shuts down (Ok), counting in `carried` the frames it wrote
    /// (or tried to). When the connection breaks, none of them is known
    /// delivered: a failed write loses its batch, and bytes written before
    /// may sit unsent in our socket or, acknowledged, unread in the peer's
    /// (its kernel answers for its process only with a reset). So a break
    /// after carrying frames is reported (`peer_broken`); a connection that
    /// carried none (one a link only watches) lost nothing.
    async fn write_loop<R, W>(&self, peer: &Peer, mut rd: R, mut wr: W, carried: &mut usize) -> Result<(), WireError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut spare = BytesMut::new();
        let mut probe = [0u8; 64];
        loop {
            loop {
                let (mut batch, upto) = {
                    let mut q = lock(&peer.queue);
                    if q.buf.is_empty() {
                        break;
                    }
                    *carried += std::mem::take(&mut q.frames);
                    (std::mem::replace(&mut q.buf, std::mem::take(&mut spare)), q.enqueued)
                };
                // flush: a no-op on a socket; TLS may hold a record back.
                let written = async {
                    wr.write_all(&batch).await?;
                    wr.flush().await
                }
                .await;
                // Written, or lost with the connection: either way done with.
                peer.done.send_replace(upto);
                written?;
                batch.clear();
                // Keep a modest buffer for reuse; let a burst's big one go.
                if batch.capacity() <= 1 << 20 {
                    spare = batch;
                }
            }
            tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return Ok(()),
                _ = peer.wake.notified() => {}
                r = rd.read(&mut probe) => {
                    // The peer never writes after its handshake: any read
                    // result means the connection is over.
                    return Err(match r {
                        Ok(0) => WireError::Io(std::io::ErrorKind::UnexpectedEof.into()),
                        Ok(_) => WireError::MalformedFrame("peer wrote on an outbound connection".into()),
                        Err(e) => e.into(),
                    });
                }
            }
        }
    }

    async fn accept_loop(self: Arc<Self>, listener: TcpListener, node: Weak<N>) {
        let active = Arc::new(AtomicUsize::new(0));
        loop {
            let accepted = tokio::select! {
                r = listener.accept() => r,
                _ = self.shutdown.cancelled() => return,
            };
            let (stream, remote) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    self.clock.sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            if active.load(Ordering::SeqCst) >= MAX_INBOUND_CONNECTIONS {
                self.count(|m| &m.connections_rejected);
                tracing::warn!(%remote, "closing connection: {MAX_INBOUND_CONNECTIONS} connections already open");
                continue;
            }
            self.count(|m| &m.connections_accepted);
            let _ = stream.set_nodelay(true);
            active.fetch_add(1, Ordering::SeqCst);
            let (this, node, active) = (self.clone(), node.clone(), active.clone());
            self.spawn(async move {
                this.serve_inbound(stream, remote, node).await;
                active.fetch_sub(1, Ordering::SeqCst);
            });
        }
    }

    async fn serve_inbound(&self, stream: TcpStream, remote: SocketAddr, node: Weak<N>) {
        let mut first = [0u8; 1];
        let peeked = self.clock.timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await;
        match peeked {
            Ok(Ok(1)) => match &self.tls {
                Some(tls) if first[0] == TLS_HANDSHAKE_BYTE => self.serve_tls(tls, stream, remote, node).await,
                Some(tls) if !tls.support_downgrade() => {
                    self.count(|m| &m.plaintext_refused);
                    tracing::warn!(%remote, "closing connection: plaintext refused, this node requires TLS \
                        (LIBPROCESS_SSL_SUPPORT_DOWNGRADE is false)");
                }
                _ => self.serve_plain_or_http(stream, remote, node, first[0], None).await,
            },
            Ok(Ok(_)) => tracing::debug!(%remote, "connection closed before sending anything"),
            Ok(Err(e)) => tracing::debug!(%remote, error = %e, "connection failed before sending anything"),
            Err(_) => {
                self.count(|m| &m.handshakes_failed);
                tracing::warn!(%remote, "closing connection: nothing sent within {HANDSHAKE_TIMEOUT:?}");
            }
        }
    }

    /// A connection whose first byte is `first`: libprocess messages or
    /// HTTP. `certs`: what the client presented, if it came over TLS.
    async fn serve_plain_or_http<S>(
        &self,
        stream: S,
        remote: SocketAddr,
        node: Weak<N>,
        first: u8,
        certs: Option<Vec<CertificateDer<'static>>>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        if first == crate::wire::MAGIC[0] {
            tokio::select! {
                _ = self.serve_messages(stream, remote, &node, certs.as_deref()) => {}
                _ = self.shutdown.cancelled() => {}
            }
        } else {
            crate::http::serve(stream, remote, node).await
        }
    }

    /// A connection that opened with a TLS handshake: completes it (within
    /// `HANDSHAKE_TIMEOUT`), then serves what it carries.
    async fn serve_tls(&self, tls: &Tls, stream: TcpStream, remote: SocketAddr, node: Weak<N>) {
        let stream = match self.clock.timeout(HANDSHAKE_TIMEOUT, tls.acceptor().accept(stream)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                self.count(|m| &m.tls_handshakes_failed);
                return tracing::warn!(%remote, error = %e, "closing connection: TLS handshake failed");
            }
            Err(_) => {
                self.count(|m| &m.tls_handshakes_failed);
                return tracing::warn!(%remote, "closing connection: TLS handshake not done within {HANDSHAKE_TIMEOUT:?}");
            }
        };
        let certs: Vec<CertificateDer<'static>> = stream
            .get_ref()
            .1
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        // Peek the first byte inside TLS: a one-byte buffer, read past once
        // it is consumed (bigger reads bypass it).
        let mut stream = BufReader::with_capacity(1, stream);
        let first = match self.clock.timeout(HANDSHAKE_TIMEOUT, stream.fill_buf()).await {
            Ok(Ok([b, ..])) => *b,
            Ok(Ok([])) => return tracing::debug!(%remote, "TLS connection closed before sending anything"),
            Ok(Err(e)) => return tracing::debug!(%remote, error = %e, "TLS connection failed before sending anything"),
            Err(_) => {
                self.count(|m| &m.handshakes_failed);
                return tracing::warn!(%remote, "closing connection: nothing sent within {HANDSHAKE_TIMEOUT:?}");
            }
        };
        self.serve_plain_or_http(stream, remote, node, first, Some(certs)).await
    }

    async fn serve_messages<S>(
        &self,
        mut stream: S,
        remote: SocketAddr,
        node: &Weak<N>,
        certs: Option<&[CertificateDer<'static>]>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let hello = match self.clock.timeout(HANDSHAKE_TIMEOUT, read_hello(&mut stream)).await {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                self.count(|m| &m.handshakes_failed);
                tracing::warn!(%remote, error = %e, "closing connection: bad handshake");
                return;
            }
            Err(_) => {
                self.count(|m| &m.handshakes_failed);
                tracing::warn!(%remote, "closing connection: handshake timed out");
                return;
            }
        };
        // Over TLS a node may speak only for the address its certificate
        // names (when client certificates are required; see `tls`).
        if let (Some(tls), Some(certs)) = (&self.tls, certs) {
            if !tls.peer_claim_ok(certs, hello.node.ip()) {
                self.count(|m| &m.tls_peer_mismatch);
                return tracing::warn!(%remote, claimed = %hello.node,
                    "closing connection: the peer's certificate does not name the address its handshake claims");
            }
        }
        let mine = async {
            stream.write_all(&encode_hello(&self.hello)).await?;
            stream.flush().await
        };
        if let Err(e) = mine.await {
            tracing::debug!(%remote, error = %e, "peer left during handshake");
            return;
        }
        if let Some(n) = node.upgrade() {
            n.peer_hello(hello.node, hello.incarnation);
        }
        let mut reader = FrameReader::default();
        let mut cache = N::Conn::default();
        let reject = |e: WireError| {
            self.count(|m| &m.frames_rejected);
            tracing::warn!(%remote, peer = %hello.node, error = %e, "closing connection: bad frame");
        };
        loop {
            match stream.read_buf(reader.buffer()).await {
                Ok(0) if reader.pending() > 0 => {
                    let pending = reader.pending();
                    return reject(WireError::MalformedFrame(format!("truncated: {pending} bytes, then EOF")));
                }
                Ok(0) => break,
                Ok(_) => {}
                // A reset is the peer (or its host) going away, not a bad frame.
                Err(e) if is_connection_loss(&e) => {
                    tracing::debug!(%remote, peer = %hello.node, error = %e, "inbound connection lost");
                    return;
                }
                Err(e) => return reject(e.into()),
            }
            let Some(node) = node.upgrade() else { return };
            let drained = reader.drain(|env| node.receive(hello.node, env, &mut cache));
            // The frames before a bad one are delivered.
            node.end_read(&mut cache);
            if let Err(e) = drained {
                return reject(e);
            }
        }
        tracing::debug!(%remote, peer = %hello.node, "inbound connection closed by peer");
    }
}

impl<N: Inbound + Routes> TcpTransport<N> {
    /// Appends a frame to `p`'s queue. None: the peer was given up on (a
    /// new entry must be made).
    #[inline]
    fn enqueue(
        &self,
        p: &Peer,
        encode: &mut dyn FnMut(&mut BytesMut) -> Result<(), WireError>,
    ) -> Option<Result<(), SendError>> {
        let mut q = lock(&p.queue);
        if q.closed {
            return None;
        }
        if q.frames >= MAX_QUEUED_MESSAGES_PER_PEER || q.buf.len() >= MAX_QUEUED_BYTES_PER_PEER {
            drop(q);
            self.count(|m| &m.dropped_queue_full);
            tracing::warn!(peer = %p.addr, "dropping message: queue for peer is full");
            return Some(Err(SendError::QueueFull(p.addr)));
        }
        if let Err(e) = encode(&mut q.buf) {
            return Some(Err(e.into()));
        }
        q.frames += 1;
        q.enqueued += 1;
        let first = q.frames == 1;
        drop(q);
        if first {
            p.wake.notify_one();
        }
        Some(Ok(()))
    }
}

/// An outgoing connection after its handshake.
enum Link {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Socket errors that mean the connection is gone (counted nowhere: they
/// say nothing about what the peer sent).
fn is_connection_loss(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    // UnexpectedEof: a TLS peer gone without its close_notify (killed); a
    // plain socket reports EOF as a zero-byte read instead.
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
}

impl<N: Inbound + Routes> Transport for TcpTransport<N> {
    fn send(
        &self,
        peer: SocketAddr,
        encode: &mut dyn FnMut(&mut BytesMut) -> Result<(), WireError>,
    ) -> Result<(), SendError> {
        if self.is_shut_down.load(Ordering::Acquire) {
            return Err(SendError::Shutdown);
        }
        // This thread's last peer, if it is this one (no lock, hash or count).
        let cached = LAST_PEER.with(|slot| {
            let slot = slot.try_borrow().ok()?;
            let (id, addr, p) = slot.as_ref()?;
            if *id != self.id || *addr != peer {
                return None;
            }
            self.enqueue(p, encode)
        });
        if let Some(r) = cached {
            return r;
        }
        // At most two tries: the first peer entry may close under us.
        for _ in 0..2 {
            let p = self.peer(peer).ok_or(SendError::Shutdown)?;
            let r = self.enqueue(&p, encode);
            LAST_PEER.with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = Some((self.id, peer, p));
                }
            });
            if let Some(r) = r {
                return r;
            }
        }
        Err(SendError::Shutdown)
    }

    fn watch(&self, peer: SocketAddr) {
        if !self.shutdown.is_cancelled() {
            let _ = self.peer(peer);
        }
    }

    fn flush(&self) -> BoxFuture<'static, ()> {
        let waits: Vec<(u64, watch::Receiver<u64>)> =
            lock(&self.peers).values().map(|p| (lock(&p.queue).enqueued, p.done.subscribe())).collect();
        let shutdown = self.shutdown.clone();
        Box::pin(async move {
            let all = async {
                for (upto, mut done) in waits {
                    // Err: the peer is gone (its frames with it): done too.
                    let _ = done.wait_for(|d| *d >= upto).await;
                }
            };
            tokio::select! {
                _ = all => {}
                // Frames still queued at shutdown are dropped.
                _ = shutdown.cancelled() => {}
            }
        })
    }

    fn shutdown(&self) {
        self.is_shut_down.store(true, Ordering::Release);
        self.shutdown.cancel();
    }
}

#[cfg(test)]
mod tests {
    //! The transport alone, against a recording [`Inbound`] instead of a
    //! node: what the seam promises a node, over real loopback sockets.

    use std::time::Duration;

    use serde::{Deserialize, Serialize};
    use tokio::sync::{mpsc, oneshot};

    use super::*;
    use crate::http::{Request, Response};
    use crate::metrics::Counted;
    use crate::wire::{encode_frame, FrameView};

    /// Safety net around every wait (each takes milliseconds).
    const WAIT: Duration = Duration::from_secs(10);

    #[derive(Serialize, Deserialize)]
    struct Note {
        n: u32,
    }
    crate::message!(Note, "test.NoteMessage");

    /// Writes down every call a transport makes, in order.
    struct Recorder {
        metrics: Metrics,
        events: mpsc::UnboundedSender<String>,
    }

    impl Counted for Recorder {
        fn metrics(&self) -> &Metrics {
            &self.metrics
        }
    }

    impl Inbound for Recorder {
        /// Frames of the current read.
        type Conn = u64;

        fn receive(&self, peer: SocketAddr, frame: FrameView<'_>, conn: &mut u64) {
            *conn += 1;
            let (from, to, name) = (frame.from_id(), frame.to_id(), frame.name());
            let _ = self.events.send(format!("frame from {from}@{peer} to {to} {name}"));
        }

        fn end_read(&self, conn: &mut u64) {
            assert!(*conn > 0, "a read ends after at least one frame");
            *conn = 0;
        }

        fn peer_hello(&self, peer: SocketAddr, incarnation: u64) {
            let _ = self.events.send(format!("hello {peer} incarnation {incarnation}"));
        }

        fn peer_lost(&self, peer: SocketAddr) {
            let _ = self.events.send(format!("lost {peer}"));
        }

        fn peer_broken(&self, peer: SocketAddr) {
            let _ = self.events.send(format!("broken {peer}"));
        }
    }

    impl Routes for Recorder {
        type Target = ();

        fn find(&self, _path: &str) -> Option<((), String)> {
            None
        }

        fn call(_: (), _: Request, _: oneshot::Sender<Response>) -> bool {
            false
        }
    }

    /// A started transport with incarnation `incarnation` on a free port,
    /// its recorder and the recorder's events.
    async fn start(incarnation: u64) -> (Arc<TcpTransport<Recorder>>, Arc<Recorder>, mpsc::UnboundedReceiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let recorder = Arc::new(Recorder { metrics: Metrics::default(), events: tx });
        let transport = TcpTransport::new(addr, incarnation, Clock::real(), None);
        transport.start(listener, Arc::downgrade(&recorder));
        (transport, recorder, rx)
    }

    async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
        tokio::time::timeout(WAIT, rx.recv()).await.expect("an event within the wait").expect("the recorder lives")
    }

    #[tokio::test]
    async fn frames_reach_the_inbound_after_the_handshake_in_order() {
        let (a, _ra, mut a_events) = start(1).await;
        let (b, _rb, mut b_events) = start(2).await;
        let (a_addr, b_addr) = (a.hello.node, b.hello.node);
        for n in 0..3 {
            a.send(b_addr, &mut |buf| encode_frame(buf, "x", "y", &Note { n })).unwrap();
        }
        // Both ends learn the other's incarnation; then b gets the frames.
        assert_eq!(next(&mut a_events).await, format!("hello {b_addr} incarnation 2"));
        assert_eq!(next(&mut b_events).await, format!("hello {a_addr} incarnation 1"));
        for _ in 0..3 {
            assert_eq!(next(&mut b_events).await, format!("frame from x@{a_addr} to y test.NoteMessage"));
        }
        a.shutdown();
        b.shutdown();
    }

    #[tokio::test]
    async fn a_peer_nobody_answers_is_reported_lost_and_its_frames_counted() {
        let (a, ra, mut a_events) = start(1).await;
        // A port that was free a moment ago: connecting is refused.
        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        a.send(gone, &mut |buf| encode_frame(buf, "x", "y", &Note { n: 0 })).unwrap();
        assert_eq!(next(&mut a_events).await, format!("lost {gone}"));
        assert_eq!(ra.metrics.dropped_peer_unreachable.load(Ordering::Relaxed), 1);
        a.shutdown();
    }

    /// A hand-driven peer node at `addr` with `incarnation`: accepts one
    /// connection and answers its handshake.
    async fn accept_hello(listener: &TcpListener, incarnation: u64) -> TcpStream {
        let (mut s, _) = tokio::time::timeout(WAIT, listener.accept()).await.expect("a connection").unwrap();
        read_hello(&mut s).await.unwrap();
        let me = Hello { node: listener.local_addr().unwrap(), incarnation };
        s.write_all(&encode_hello(&me)).await.unwrap();
        s
    }

    #[tokio::test]
    async fn a_connection_broken_under_a_written_frame_is_reported_and_made_again() {
        let (a, _ra, mut a_events) = start(1).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let b = listener.local_addr().unwrap();
        a.send(b, &mut |buf| encode_frame(buf, "x", "y", &Note { n: 0 })).unwrap();
        let s = accept_hello(&listener, 7).await;
        assert_eq!(next(&mut a_events).await, format!("hello {b} incarnation 7"));
        // The frame is in the peer's socket, never read by its process:
        // closing now resets the connection under it (it is lost).
        let arrived = tokio::time::timeout(WAIT, s.peek(&mut [0u8; 1])).await.expect("the frame arrives").unwrap();
        assert_eq!(arrived, 1);
        drop(s);
        assert_eq!(next(&mut a_events).await, format!("broken {b}"), "the linkers must learn it at once");
        // The transport reconnects, to the same incarnation (the peer did
        // not restart): not lost, and later frames go through.
        let mut s = accept_hello(&listener, 7).await;
        assert_eq!(next(&mut a_events).await, format!("hello {b} incarnation 7"));
        a.send(b, &mut |buf| encode_frame(buf, "x", "y", &Note { n: 1 })).unwrap();
        let mut reader = FrameReader::default();
        let mut names = Vec::new();
        while names.is_empty() {
            let n = tokio::time::timeout(WAIT, s.read_buf(reader.buffer())).await.expect("the frame").unwrap();
            assert!(n > 0, "the connection stays up");
            reader.drain(|f| names.push(f.name().to_string())).unwrap();
        }
        assert_eq!(names, ["test.NoteMessage"]);
        a.shutdown();
        assert!(a_events.try_recv().is_err(), "nothing else: no lost peer, no second break");
    }

    #[tokio::test]
    async fn a_connection_that_carried_no_frame_breaks_silently_and_is_made_again() {
        let (a, _ra, mut a_events) = start(1).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let b = listener.local_addr().unwrap();
        // A link only watches the peer: a connection with no frame on it.
        a.watch(b);
        let s = accept_hello(&listener, 7).await;
        assert_eq!(next(&mut a_events).await, format!("hello {b} incarnation 7"));
        drop(s);
        let _again = accept_hello(&listener, 7).await;
        // Nothing was lost: the next event is the new handshake, no break.
        assert_eq!(next(&mut a_events).await, format!("hello {b} incarnation 7"));
        a.shutdown();
    }
}
