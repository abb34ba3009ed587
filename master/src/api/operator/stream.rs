//! The operator event streams (`POST /api/v1` SUBSCRIBE): every watcher's
//! [`StreamWriter`], and the fan-out of the core's [`Observed`] changes to
//! all of them.
//!
//! Made for many watchers (the web UI lives on this stream): each change is
//! described and framed once, and the same bytes (a refcounted `Bytes`) are
//! queued on every stream; no process or timer per watcher. One heartbeat
//! timer serves them all, armed while any watches. A watcher that stops
//! reading is cut off by its stream's bounded buffer (libprocess's
//! `MAX_HTTP_STREAM_BUFFER`), one that leaves is dropped at the next write,
//! and beyond [`MAX_OPERATOR_SUBSCRIBERS`] the oldest is let go, each with a
//! log line. While nobody watches the core makes no events at all
//! ([`MasterCore::set_observed`](crate::core::MasterCore::set_observed)).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use libprocess::http::StreamWriter;
use rmesos::v1::json::*;
use rmesos::v1::master::event;
use rmesos::v1::state::task_json;
use serde_json::{json, Value};

use super::views;
use crate::core::{MasterCore, Observed};

/// Watchers kept at most (Mesos's `--max_operator_event_stream_subscribers`
/// default); a new one beyond it lets the oldest go.
pub const MAX_OPERATOR_SUBSCRIBERS: usize = 1000;

/// Mesos's operator stream heartbeat (`DEFAULT_HEARTBEAT_INTERVAL`).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// The master's operator streams.
#[derive(Default)]
pub struct Watchers {
    streams: VecDeque<Watcher>,
    /// Streams opened so far (names the next one in log lines).
    opened: u64,
    /// The heartbeat timer is armed.
    pub(crate) heartbeat_armed: bool,
}

struct Watcher {
    label: String,
    writer: StreamWriter,
}

impl Watchers {
    /// Streams still open.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// A label for the next stream.
    pub(crate) fn next_label(&mut self) -> String {
        self.opened += 1;
        format!("operator stream {}", self.opened)
    }

    /// A new watcher, whose SUBSCRIBED (and first HEARTBEAT) is written
    /// already.
    pub(crate) fn add(&mut self, label: String, writer: StreamWriter) {
        if self.streams.len() >= MAX_OPERATOR_SUBSCRIBERS {
            if let Some(old) = self.streams.pop_front() {
                tracing::warn!(
                    "Closing {}: more than {MAX_OPERATOR_SUBSCRIBERS} operator streams, the oldest goes",
                    old.label
                );
            }
        }
        tracing::info!("Added {label} ({} open)", self.streams.len() + 1);
        self.streams.push_back(Watcher { label, writer });
    }

    /// Queues `record` on every stream; drops those that ended.
    pub(crate) fn broadcast(&mut self, record: &Bytes) {
        self.streams.retain_mut(|w| match w.writer.write(record.clone()) {
            Ok(()) => true,
            Err(e) => {
                tracing::info!("Closing {}: {e}", w.label);
                false
            }
        });
    }
}

/// A record: one event, framed.
pub(crate) fn record(event: &Value) -> Bytes {
    rmesos::v1::recordio::encode(event.to_string().as_bytes())
}

pub(crate) fn heartbeat() -> Bytes {
    record(&event("HEARTBEAT", None))
}

/// SUBSCRIBED: the whole state, and the heartbeat interval.
pub(crate) fn subscribed(core: &MasterCore) -> Bytes {
    let body = json!({
        "get_state": views::get_state(core),
        "heartbeat_interval_seconds": HEARTBEAT_INTERVAL.as_secs_f64(),
    });
    record(&event("SUBSCRIBED", Some(body)))
}

/// The event of a change, described from the core's state right after it
/// (None: a framework or agent gone again within the same step, whose
/// removal follows).
pub(crate) fn describe(core: &MasterCore, change: &Observed) -> Option<Value> {
    let (ty, body) = match change {
        Observed::TaskAdded(t) => ("TASK_ADDED", json!({ "task": task_json(t) })),
        Observed::TaskUpdated { framework_id, status, state } => (
            "TASK_UPDATED",
            json!({
                "framework_id": framework_id_json(framework_id),
                "status": task_status_json(status),
                "state": state.to_string(),
            }),
        ),
        Observed::FrameworkAdded(id) => {
            ("FRAMEWORK_ADDED", json!({ "framework": views::framework(core, core.framework(id)?) }))
        }
        Observed::FrameworkUpdated(id) => {
            ("FRAMEWORK_UPDATED", json!({ "framework": views::framework(core, core.framework(id)?) }))
        }
        Observed::FrameworkRemoved(info) => {
            ("FRAMEWORK_REMOVED", json!({ "framework_info": framework_info_json(info) }))
        }
        Observed::AgentAdded(id) => ("AGENT_ADDED", json!({ "agent": views::agent(core.slave(id)?) })),
        Observed::AgentRemoved(id) => ("AGENT_REMOVED", json!({ "agent_id": agent_id_json(id) })),
    };
    Some(event(ty, Some(body)))
}
