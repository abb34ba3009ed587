//! `include/mesos/v1/scheduler/scheduler.proto`: the calls a scheduler
//! POSTs to `/api/v1/scheduler` ([`Call`], parsed by [`parse_call`]) and the
//! events the master writes on its SUBSCRIBE stream (built by the `event_*`
//! functions, framed by [`record`]).
//!
//! Parsing checks what the .proto requires of each call (its message
//! present, its ids well-formed) and nothing that needs the cluster's state:
//! a stale offer or an unknown task is the master's to report, as Mesos
//! does, asynchronously. Operations in ACCEPT other than LAUNCH are refused,
//! by name: this master has no reservations, volumes or task groups.

use bytes::Bytes;
use serde_json::{json, Value};
use uuid::Uuid;

use super::json::*;
use super::{recordio, V1Error};
use crate::ids::{ExecutorID, FrameworkID, OfferID, SlaveID, TaskID};
use crate::info::{Filters, FrameworkInfo, MasterInfo, Offer, TaskInfo};
use crate::messages::StatusUpdate;

/// Mesos's default `heartbeat_interval_seconds` on a SUBSCRIBED event.
pub const DEFAULT_HEARTBEAT_INTERVAL_SECS: f64 = 15.0;

/// One call, by type, with what it carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Subscribe {
        framework_info: FrameworkInfo,
    },
    Teardown,
    Accept {
        offer_ids: Vec<OfferID>,
        tasks: Vec<TaskInfo>,
        filters: Filters,
    },
    Decline {
        offer_ids: Vec<OfferID>,
        filters: Filters,
    },
    Revive {
        roles: Vec<String>,
    },
    Suppress {
        roles: Vec<String>,
    },
    Kill {
        task_id: TaskID,
        agent_id: Option<SlaveID>,
        kill_policy: Option<crate::info::KillPolicy>,
    },
    Shutdown {
        executor_id: ExecutorID,
        agent_id: SlaveID,
    },
    Acknowledge {
        agent_id: SlaveID,
        task_id: TaskID,
        uuid: Uuid,
    },
    /// Explicit (tasks named) or implicit (none named) reconciliation.
    Reconcile {
        tasks: Vec<(TaskID, Option<SlaveID>)>,
    },
    Message {
        agent_id: SlaveID,
        executor_id: ExecutorID,
        data: Vec<u8>,
    },
    /// Resource requests (Mesos's allocator takes none into account either).
    Request {
        requests: usize,
    },
}

impl Call {
    /// The call's type as the .proto names it.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Subscribe { .. } => "SUBSCRIBE",
            Call::Teardown => "TEARDOWN",
            Call::Accept { .. } => "ACCEPT",
            Call::Decline { .. } => "DECLINE",
            Call::Revive { .. } => "REVIVE",
            Call::Suppress { .. } => "SUPPRESS",
            Call::Kill { .. } => "KILL",
            Call::Shutdown { .. } => "SHUTDOWN",
            Call::Acknowledge { .. } => "ACKNOWLEDGE",
            Call::Reconcile { .. } => "RECONCILE",
            Call::Message { .. } => "MESSAGE",
            Call::Request { .. } => "REQUEST",
        }
    }
}

/// A parsed call: the framework it names (every call but a first
/// SUBSCRIBE must name one) and the call.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCall {
    pub framework_id: Option<FrameworkID>,
    pub call: Call,
}

/// Parses a call's JSON body; Err is the one-line reason for a 400.
pub fn parse_call(body: &[u8]) -> Result<ParsedCall, V1Error> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| V1Error::new(format!("Failed to parse body into Call: {e}")))?;
    if !v.is_object() {
        return Err(V1Error::new("Failed to parse body into Call: not a JSON object"));
    }
    let ty = string(&v, "type", "Call")?.ok_or_else(|| V1Error::new("Expecting 'type' to be present"))?;
    let framework_id = framework_id(&v, "framework_id", "Call")?;
    let sub = |name: &str| required(&v, name, &format!("Call {ty}"));
    let call = match ty.as_str() {
        "SUBSCRIBE" => {
            let s = sub("subscribe")?;
            let info = framework_info(required(s, "framework_info", "Call.subscribe")?, "Call.subscribe")?;
            if let (Some(top), Some(inner)) = (&framework_id, &info.id) {
                if top != inner {
                    return Err(V1Error::new("'framework_id' differs from 'subscribe.framework_info.id'"));
                }
            }
            if framework_id.is_some() && info.id.is_none() {
                return Err(V1Error::new("'framework_id' is set but 'subscribe.framework_info.id' is not"));
            }
            Call::Subscribe { framework_info: info }
        }
        "TEARDOWN" => Call::Teardown,
        "ACCEPT" => {
            let a = sub("accept")?;
            let offer_ids = offer_ids(a, "Call.accept")?;
            let mut tasks = Vec::new();
            for op in list(a, "operations", "Call.accept")? {
                let kind = string(op, "type", "Call.accept.operations")?.unwrap_or_else(|| "UNKNOWN".into());
                match kind.as_str() {
                    "LAUNCH" => {
                        let launch = required(op, "launch", "Call.accept.operations")?;
                        for t in list(launch, "task_infos", "Call.accept.operations.launch")? {
                            tasks.push(task_info(t, "Call.accept.operations.launch")?);
                        }
                    }
                    other => {
                        return Err(V1Error::new(format!("Offer operation '{other}' is not supported by this master")))
                    }
                }
            }
            Call::Accept { offer_ids, tasks, filters: filters(field(a, "filters"), "Call.accept")? }
        }
        "DECLINE" => {
            let d = sub("decline")?;
            Call::Decline {
                offer_ids: offer_ids(d, "Call.decline")?,
                filters: filters(field(d, "filters"), "Call.decline")?,
            }
        }
        "REVIVE" => Call::Revive { roles: roles(field(&v, "revive"))? },
        "SUPPRESS" => Call::Suppress { roles: roles(field(&v, "suppress"))? },
        "KILL" => {
            let k = sub("kill")?;
            Call::Kill {
                task_id: need(task_id(k, "task_id", "Call.kill")?, "task_id", "Call.kill")?,
                agent_id: agent_id(k, "agent_id", "Call.kill")?,
                kill_policy: super::json::mesos_shaped(k, "kill_policy", "Call.kill")?,
            }
        }
        "SHUTDOWN" => {
            let s = sub("shutdown")?;
            Call::Shutdown {
                executor_id: need(executor_id(s, "executor_id", "Call.shutdown")?, "executor_id", "Call.shutdown")?,
                agent_id: need(agent_id(s, "agent_id", "Call.shutdown")?, "agent_id", "Call.shutdown")?,
            }
        }
        "ACKNOWLEDGE" => {
            let a = sub("acknowledge")?;
            Call::Acknowledge {
                agent_id: need(agent_id(a, "agent_id", "Call.acknowledge")?, "agent_id", "Call.acknowledge")?,
                task_id: need(task_id(a, "task_id", "Call.acknowledge")?, "task_id", "Call.acknowledge")?,
                uuid: need(uuid(a, "uuid", "Call.acknowledge")?, "uuid", "Call.acknowledge")?,
            }
        }
        "RECONCILE" => {
            let r = field(&v, "reconcile").cloned().unwrap_or(json!({}));
            let mut tasks = Vec::new();
            for t in list(&r, "tasks", "Call.reconcile")? {
                let id = need(task_id(t, "task_id", "Call.reconcile.tasks")?, "task_id", "Call.reconcile.tasks")?;
                tasks.push((id, agent_id(t, "agent_id", "Call.reconcile.tasks")?));
            }
            Call::Reconcile { tasks }
        }
        "MESSAGE" => {
            let m = sub("message")?;
            Call::Message {
                agent_id: need(agent_id(m, "agent_id", "Call.message")?, "agent_id", "Call.message")?,
                executor_id: need(executor_id(m, "executor_id", "Call.message")?, "executor_id", "Call.message")?,
                data: need(bytes(m, "data", "Call.message")?, "data", "Call.message")?,
            }
        }
        "REQUEST" => {
            let r = sub("request")?;
            Call::Request { requests: list(r, "requests", "Call.request")?.len() }
        }
        "ACCEPT_INVERSE_OFFERS"
        | "DECLINE_INVERSE_OFFERS"
        | "ACKNOWLEDGE_OPERATION_STATUS"
        | "RECONCILE_OPERATIONS"
        | "UPDATE_FRAMEWORK" => return Err(V1Error::new(format!("Call type {ty} is not supported by this master"))),
        other => return Err(V1Error::new(format!("Unknown call type '{other}'"))),
    };
    if framework_id.is_none() && !matches!(call, Call::Subscribe { .. }) {
        return Err(V1Error::new(format!("Expecting 'framework_id' to be present in a {} call", call.name())));
    }
    Ok(ParsedCall { framework_id, call })
}

fn offer_ids(v: &Value, within: &str) -> Result<Vec<OfferID>, V1Error> {
    let mut out = Vec::new();
    for o in list(v, "offer_ids", within)? {
        let id =
            string(o, "value", within)?.ok_or_else(|| V1Error::new(format!("{within}: an offer id has no 'value'")))?;
        out.push(OfferID::new(id).map_err(|e| V1Error::new(format!("{within}: invalid offer id: {e}")))?);
    }
    Ok(out)
}

fn roles(v: Option<&Value>) -> Result<Vec<String>, V1Error> {
    let Some(v) = v else { return Ok(Vec::new()) };
    list(v, "roles", "Call")?
        .iter()
        .map(|r| r.as_str().map(str::to_string).ok_or_else(|| V1Error::new("a role is not a string")))
        .collect()
}

// ---- events ----

/// An event framed for the stream.
pub fn record(event: &Value) -> Bytes {
    recordio::encode(event.to_string().as_bytes())
}

pub fn event_subscribed(framework_id: &FrameworkID, heartbeat_secs: f64, master: &MasterInfo) -> Value {
    let master = serde_json::to_value(master).unwrap_or(Value::Null);
    json!({"type": "SUBSCRIBED", "subscribed": {
        "framework_id": framework_id_json(framework_id),
        "heartbeat_interval_seconds": heartbeat_secs,
        "master_info": master,
    }})
}

pub fn event_offers(offers: &[Offer]) -> Value {
    let offers: Vec<Value> = offers.iter().map(offer_json).collect();
    json!({"type": "OFFERS", "offers": {"offers": offers}})
}

pub fn event_rescind(offer: &OfferID) -> Value {
    json!({"type": "RESCIND", "rescind": {"offer_id": offer_id_json(offer)}})
}

/// An UPDATE: the status carries `uuid` only when the update expects an
/// acknowledgement (then always with `agent_id`, which ACKNOWLEDGE needs);
/// updates the master makes (reconciliation, TASK_LOST...) have none.
pub fn event_update(update: &StatusUpdate) -> Value {
    let mut status = update.status.clone();
    status.uuid = update.uuid;
    if status.uuid.is_some() && status.slave_id.is_none() {
        status.slave_id = update.slave_id.clone();
    }
    if status.executor_id.is_none() {
        status.executor_id = update.executor_id.clone();
    }
    status.timestamp = status.timestamp.or(Some(update.timestamp));
    json!({"type": "UPDATE", "update": {"status": task_status_json(&status)}})
}

pub fn event_message(agent: &SlaveID, executor: &ExecutorID, data: &[u8]) -> Value {
    json!({"type": "MESSAGE", "message": {
        "agent_id": agent_id_json(agent), "executor_id": executor_id_json(executor), "data": b64(data),
    }})
}

/// FAILURE: an agent lost (no executor) or an executor that exited (with its status).
pub fn event_failure(agent: &SlaveID, executor: Option<(&ExecutorID, i32)>) -> Value {
    let mut f = json!({"agent_id": agent_id_json(agent)});
    if let Some((e, status)) = executor {
        f["executor_id"] = executor_id_json(e);
        f["status"] = json!(status);
    }
    json!({"type": "FAILURE", "failure": f})
}

pub fn event_error(message: &str) -> Value {
    json!({"type": "ERROR", "error": {"message": message}})
}

pub fn event_heartbeat() -> Value {
    json!({"type": "HEARTBEAT"})
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
