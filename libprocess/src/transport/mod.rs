//! The transport trait: how a node's frames reach other nodes.
//!
//! A node encodes each remote message into a frame (see `wire`) and hands it
//! to its transport for the peer node's address; the transport keeps one
//! ordered queue and connection per peer, so messages between two processes
//! arrive in the order they were sent, at most once. It reports back to the
//! node each frame received, each handshake (with the peer's incarnation),
//! each connection that broke with frames not known delivered, and each
//! peer it gives up on, through [`Inbound`]: the node implements
//! it, and a transport knows nothing else of the node (it holds it weakly:
//! the node owns its transport). `tcp` is the real one; `sim` is the
//! in-memory one of deterministic tests (see `testkit`).
//!
//! Both transports are generic over their `Inbound` rather than holding a
//! trait object: the TCP reader calls `receive` for every frame, and a
//! direct (inlined) call keeps the node's fast path for a frame that repeats
//! the last one's envelope a few compares long.

use std::net::SocketAddr;

use bytes::BytesMut;
use futures::future::BoxFuture;

use crate::metrics::Counted;
use crate::wire::{FrameView, WireEnvelope, WireError};

pub mod sim;
pub mod tcp;

/// Why a frame was not queued.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("queue for {0} is full")]
    QueueFull(SocketAddr),
    #[error("transport is shut down")]
    Shutdown,
    #[error(transparent)]
    Encode(#[from] WireError),
}

/// How frames leave a node. Implementations never block the caller.
pub trait Transport: Send + Sync + 'static {
    /// Queues one frame for the node at `peer`; `encode` appends it to the
    /// peer's buffer (so a frame is encoded once, in place).
    fn send(
        &self,
        peer: SocketAddr,
        encode: &mut dyn FnMut(&mut BytesMut) -> Result<(), WireError>,
    ) -> Result<(), SendError>;

    /// Makes sure a connection to `peer` is (being) made, so that its loss or
    /// a restart of the peer is reported to the node (links need this).
    fn watch(&self, peer: SocketAddr);

    /// Resolves once every frame queued so far (for any peer) has left this
    /// node: written to its socket (TCP) or delivered (simulation), or
    /// dropped (connection lost, peer given up, transport shut down).
    fn flush(&self) -> BoxFuture<'static, ()>;

    /// Closes every connection and stops accepting.
    fn shutdown(&self);
}

/// What a transport reports to the node it carries frames for (and it
/// counts connections, rejected frames and dropped messages on its
/// [`Counted`] metrics).
pub(crate) trait Inbound: Counted + Send + Sync + 'static {
    /// What one inbound connection remembers from frame to frame (what its
    /// last frame resolved, the messages not yet queued): made by the
    /// transport per connection and handed back with each frame.
    type Conn: Default + Send;

    /// A frame arrived from the node at `peer` (its advertised address).
    /// Call [`Inbound::end_read`] after the frames of one read: their
    /// messages are queued to their processes by then.
    fn receive(&self, peer: SocketAddr, frame: FrameView<'_>, conn: &mut Self::Conn);

    /// The frames of one read are through `receive`.
    fn end_read(&self, conn: &mut Self::Conn);

    /// One frame on its own, for a transport that hands them over one at a
    /// time (the simulated one).
    fn frame(&self, peer: SocketAddr, env: WireEnvelope) {
        let mut conn = Self::Conn::default();
        self.receive(peer, env.view(), &mut conn);
        self.end_read(&mut conn);
    }

    /// A handshake with `peer` showed its `incarnation` (a new one means it
    /// restarted).
    fn peer_hello(&self, peer: SocketAddr, incarnation: u64);

    /// `peer` is unreachable: the transport gave up reconnecting to it.
    fn peer_lost(&self, peer: SocketAddr);

    /// The connection to `peer` broke with frames on it that are not known
    /// delivered (lost, or in flight with no proof they arrived): the links
    /// to that node must fire, as libprocess fires `ExitedEvent` when a
    /// socket closes, since what they were told may be missing. The
    /// transport reconnects as usual (the peer may well be alive).
    fn peer_broken(&self, peer: SocketAddr);
}
