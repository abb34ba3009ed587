//! Mesos's v1 HTTP APIs on the master: a new way in, beside the message
//! handlers, onto the same core.
//!
//! - `scheduler.rs`: `POST /api/v1/scheduler` (and `/master/api/v1/scheduler`);
//! - `subscriber.rs`: the process behind each SUBSCRIBE stream;
//! - `operator/`: `POST /api/v1`, the operator API and its event stream;
//! - `GET /version`, which clients read before choosing the v1 APIs.
//!
//! How an HTTP framework reaches the core. The core knows a framework's
//! scheduler by a Upid: what it sends there, and what it watches with a
//! link. For an HTTP framework that Upid is the **subscriber** process this
//! module spawns for its stream (`api-scheduler(N)@<master address>`), on the
//! master's node. The subscriber maps each message the core sends (offers,
//! updates, errors...) onto the stream's events, writes heartbeats, and
//! stops when the stream's client leaves, which the core sees as the
//! scheduler's process exiting: a disconnected framework, removed after its
//! `failover_timeout` unless it subscribes again. Calls come in the other
//! way: the route checks the stream id, turns the call into the message a
//! driver would have sent and hands it to the core as coming from the
//! subscriber's Upid, in the route's own turn on the master (no message
//! hop). So the core has no special case for HTTP: a framework endpoint is
//! a Upid, and the shell decides what is behind it. Side by side with driver
//! frameworks, on the same allocator, through failover (a new leader admits
//! a resubscribing framework by id as it admits a reregistering driver).

pub mod operator;
mod scheduler;
mod subscriber;

use std::collections::HashMap;

use actix::Addr;
use libprocess::{Handlers, Upid};

use crate::process::MasterProcess;
pub use subscriber::EndStreamMessage;
use subscriber::Subscriber;

pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    scheduler::install(h);
    operator::install(h);
    h.route("version", version);
}

/// `GET /version` (and `/master/version`): Mesos's shape, see
/// [`rmesos::v1::version_json`].
fn version(
    _: &mut MasterProcess,
    _: libprocess::Request,
    _: &mut actix::Context<MasterProcess>,
) -> libprocess::Response {
    libprocess::Response::json(&rmesos::v1::version_json())
}

/// The SUBSCRIBE streams this master serves, by subscriber Upid.
#[derive(Default)]
pub struct Streams {
    /// Streams opened so far (names the next subscriber and stream id).
    opened: u64,
    by_pid: HashMap<Upid, Stream>,
}

/// One SUBSCRIBE stream.
struct Stream {
    /// The `Mesos-Stream-Id` its calls must carry.
    id: String,
    addr: Addr<Subscriber>,
}

impl Streams {
    /// Streams whose subscriber still runs.
    pub fn open(&self) -> usize {
        self.by_pid.values().filter(|s| s.addr.connected()).count()
    }

    /// Forgets streams whose subscriber has stopped (their frameworks are
    /// disconnected in the core already).
    fn prune(&mut self) {
        self.by_pid.retain(|_, s| s.addr.connected());
    }
}
