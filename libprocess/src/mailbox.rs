//! The type-erased mailbox of a process: what the node's registry holds for
//! each process, and all the node knows of it.
//!
//! A node routes messages, `Exited` notices and HTTP requests to a mailbox
//! by id, without knowing the actor behind it; `process` makes a typed actor
//! into one (its handlers decode the bodies, its queue feeds the actor).
//! Here so that the node and the processes meet at a trait and neither
//! imports the other's insides.

use tokio::sync::oneshot;

use crate::batch::WireBatch;
use crate::clock::WorkGuard;
use crate::http::{Request, Response};
use crate::message::{Body, DecodeError};
use crate::pid::Upid;
use crate::wire::FrameView;

/// Why a delivery to a process failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Undeliverable {
    #[error("no handler installed for this message name")]
    UnknownName,
    #[error("{0}")]
    Malformed(DecodeError),
    #[error("the process has stopped")]
    Stopped,
    #[error("no such route")]
    NoRoute,
}

/// The type-erased mailbox of a process, as the node's registry holds it.
pub(crate) trait Mailbox: Send + Sync {
    /// Decodes and queues a message; the sender is cloned only when queued.
    fn message(&self, from: &Upid, name: &str, body: Body, guard: WorkGuard) -> Result<(), Undeliverable>;
    fn exited(&self, pid: Upid, guard: WorkGuard) -> Result<(), Undeliverable>;
    fn http(
        &self,
        route: &str,
        req: Request,
        reply: oneshot::Sender<Response>,
        guard: WorkGuard,
    ) -> Result<(), Undeliverable>;
    fn has_route(&self, route: &str) -> bool;
    /// Adds a remote message, still encoded, to `batch` (None: starts one;
    /// a batch is only ever filled by the mailbox that started it); the body
    /// is decoded on the actor.
    /// Err: no handler for its name.
    /// A message repeating the last one's sender and name is added with
    /// `WireBatch::push_again` directly.
    fn add_wire(&self, batch: &mut Option<Box<WireBatch>>, from: &Upid, env: &FrameView<'_>) -> Result<(), ()>;
    /// Queues a batch made by `add_wire` as one item; Err(messages dropped)
    /// if the process has stopped.
    fn push_wire(&self, batch: Box<WireBatch>, guard: WorkGuard) -> Result<(), usize>;
}
