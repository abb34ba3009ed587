//! libprocess: the rmesos actor runtime.
//!
//! Every actor is an actix actor registered on a [`Node`] under a [`Upid`]
//! (`id@ip:port`) and reachable by it from any node: locally without
//! encoding, remotely over one ordered TCP connection per peer with
//! length-prefixed msgpack frames. Processes link to each other and learn
//! when a linked process stops or its node goes away ([`Process::exited`]).
//! Time comes from a [`Clock`], real or paused, so that tests control it.
//! Operator HTTP is served on the same port. Knows nothing of Mesos.

mod batch;
pub mod clock;
pub mod config;
mod fasthash;
mod hook;
pub mod http;
pub mod limits;
mod mailbox;
pub mod message;
pub mod metrics;
pub mod node;
pub mod pid;
pub mod process;
mod queue;
mod sync;
pub mod testkit;
pub mod tls;
pub mod transport;
pub mod wire;
pub mod wiring;
pub mod zookeeper;

pub use actix::{Actor, AsyncContext, Context};
pub use clock::{Clock, Time};
pub use config::Config;
pub use http::{Request, Response};
pub use message::Message;
pub use metrics::Metrics;
pub use node::{Node, NodeError, SpawnError};
pub use pid::Upid;
pub use process::{Handlers, Me, Process, Spawned};
