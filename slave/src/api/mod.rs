//! Mesos's v1 HTTP APIs on the slave: a new way in, beside the message
//! handlers, onto the same core.
//!
//! - `executor.rs`: `POST /api/v1/executor`, the executor API;
//! - `subscriber.rs`: the process behind each executor SUBSCRIBE stream;
//! - `operator.rs`: `POST /api/v1`, the slave's operator API (read only).
//!
//! How an HTTP executor reaches the core. The core knows an executor by a
//! Upid: where it sends tasks, kills, acknowledgements, framework messages
//! and shutdowns. For an HTTP executor that Upid is the **subscriber**
//! process this module spawns for its stream (`api-executor(N)@<slave
//! address>`), on the slave's node. The subscriber maps each message the
//! core sends onto the stream's events and writes heartbeats. Calls come in
//! the other way: the route asks the core whether it takes the call
//! ([`crate::core::SlaveCore::executor_call`]), turns it into what a driver
//! executor would have sent and hands it to the core as coming from the
//! subscriber's Upid, in the route's own turn on the slave (no message
//! hop); a SUBSCRIBE goes to [`crate::core::SlaveCore::subscribe_executor`].
//! So the core has no special case for HTTP beyond what a subscription
//! means, and driver executors and HTTP executors run side by side.

mod executor;
mod operator;
mod subscriber;

use std::collections::HashMap;

use actix::Addr;
use libprocess::{Handlers, Upid};
use rmesos::{ExecutorID, FrameworkID};

use crate::process::SlaveProcess;
pub use subscriber::EndStreamMessage;
use subscriber::Subscriber;

pub(crate) fn install(h: &mut Handlers<SlaveProcess>) {
    executor::install(h);
    operator::install(h);
}

/// The executor streams this slave serves, the latest per executor.
#[derive(Default)]
pub struct Streams {
    /// Streams opened so far (names the next subscriber).
    opened: u64,
    by_executor: HashMap<(FrameworkID, ExecutorID), (Upid, Addr<Subscriber>)>,
}

impl Streams {
    /// Streams whose subscriber still runs.
    pub fn open(&self) -> usize {
        self.by_executor.values().filter(|(_, a)| a.connected()).count()
    }

    /// Forgets streams whose subscriber has stopped.
    fn prune(&mut self) {
        self.by_executor.retain(|_, (_, a)| a.connected());
    }
}
