//! The transport trait: how a node's frames reach other nodes.
//!
//! A node encodes each remote message into a frame (see `wire`) and hands it
//! to its transport for the peer node's address; the transport keeps one
//! ordered queue and connection per peer, so messages between two processes
//! arrive in the order they were sent, at most once. It reports back to the
//! node (through `WeakNode`) each frame received, each handshake (with the
//! peer's incarnation) and each peer it gives up on. `tcp` is the real one;
//! `sim` is the in-memory one of deterministic tests (see `testkit`).

use std::net::SocketAddr;

use bytes::BytesMut;
use futures::future::BoxFuture;

use crate::wire::WireError;

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
