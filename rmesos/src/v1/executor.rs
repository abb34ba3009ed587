//! `include/mesos/v1/executor/executor.proto`: the calls an executor POSTs
//! to the slave's `/api/v1/executor` ([`Call`], parsed by [`parse_call`])
//! and the events the slave writes on its SUBSCRIBE stream (built by the
//! `event_*` functions, framed by [`super::scheduler::record`]).
//!
//! Parsing checks what Mesos's `validateExecutorCall` checks (both ids on
//! every call; an UPDATE's status with a 16-byte `uuid`, `source`
//! `SOURCE_EXECUTOR`, not `TASK_STAGING`, and an `executor_id`, if any,
//! that is the call's), and nothing that needs the slave's state: whether
//! the executor is known and subscribed is the slave's to decide.
//!
//! Task groups (LAUNCH_GROUP) are not sent: this cluster's master has no
//! task groups (its scheduler API refuses LAUNCH_GROUP operations).

use serde_json::{json, Value};
use uuid::Uuid;

use super::json::*;
use super::V1Error;
use crate::ids::{ExecutorID, FrameworkID, TaskID};
use crate::info::{ExecutorInfo, FrameworkInfo, SlaveInfo, TaskInfo};
use crate::task::{Source, TaskState, TaskStatus};

/// Mesos's `DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL`: a HEARTBEAT on every
/// executor stream this often.
pub const DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL_SECS: u64 = 30;

/// One call, by type, with what it carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// Opens the event stream; after a disconnection (a slave restart) it
    /// carries what the executor has not seen acknowledged.
    Subscribe { unacknowledged_tasks: Vec<TaskInfo>, unacknowledged_updates: Vec<TaskStatus> },
    /// A task's status (its `uuid` is what ACKNOWLEDGED gives back).
    Update { status: TaskStatus },
    /// Data for the scheduler.
    Message { data: Vec<u8> },
    /// The executor's keep-alive: answered 202, nothing else.
    Heartbeat,
}

impl Call {
    /// The call's type as the .proto names it.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Subscribe { .. } => "SUBSCRIBE",
            Call::Update { .. } => "UPDATE",
            Call::Message { .. } => "MESSAGE",
            Call::Heartbeat => "HEARTBEAT",
        }
    }
}

/// A parsed call: the executor it comes from, and the call.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCall {
    pub framework_id: FrameworkID,
    pub executor_id: ExecutorID,
    pub call: Call,
}

/// Parses a call's JSON body; Err is the one-line reason for a 400.
pub fn parse_call(body: &[u8]) -> Result<ParsedCall, V1Error> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| V1Error::new(format!("Failed to parse body into JSON: {e}")))?;
    if !v.is_object() {
        return Err(V1Error::new("Failed to parse body into Call: not a JSON object"));
    }
    let ty = string(&v, "type", "Call")?.ok_or_else(|| V1Error::new("Expecting 'type' to be present"))?;
    let executor_id =
        executor_id(&v, "executor_id", "Call")?.ok_or_else(|| V1Error::new("Expecting 'executor_id' to be present"))?;
    let framework_id = framework_id(&v, "framework_id", "Call")?
        .ok_or_else(|| V1Error::new("Expecting 'framework_id' to be present"))?;
    let call = match ty.as_str() {
        "SUBSCRIBE" => {
            let s = field(&v, "subscribe").ok_or_else(|| V1Error::new("Expecting 'subscribe' to be present"))?;
            let mut tasks = Vec::new();
            for t in list(s, "unacknowledged_tasks", "Call.subscribe")? {
                tasks.push(task_info(t, "Call.subscribe.unacknowledged_tasks")?);
            }
            let mut updates = Vec::new();
            for u in list(s, "unacknowledged_updates", "Call.subscribe")? {
                let status = required(u, "status", "Call.subscribe.unacknowledged_updates")?;
                updates.push(executor_status(status, &executor_id, &framework_id)?);
            }
            Call::Subscribe { unacknowledged_tasks: tasks, unacknowledged_updates: updates }
        }
        "UPDATE" => {
            let u = field(&v, "update").ok_or_else(|| V1Error::new("Expecting 'update' to be present"))?;
            let status = required(u, "status", "Call.update")?;
            Call::Update { status: executor_status(status, &executor_id, &framework_id)? }
        }
        "MESSAGE" => {
            let m = field(&v, "message").ok_or_else(|| V1Error::new("Expecting 'message' to be present"))?;
            Call::Message { data: need(bytes(m, "data", "Call.message")?, "data", "Call.message")? }
        }
        "HEARTBEAT" => Call::Heartbeat,
        other => return Err(V1Error::new(format!("Unknown call type '{other}'"))),
    };
    Ok(ParsedCall { framework_id, executor_id, call })
}

/// A status an executor sends, checked as Mesos's `validateExecutorCall`.
fn executor_status(v: &Value, eid: &ExecutorID, fid: &FrameworkID) -> Result<TaskStatus, V1Error> {
    let mut status = task_status(v, "Call.update")?;
    if status.uuid.is_none() {
        return Err(V1Error::new("Expecting 'uuid' to be present"));
    }
    if let Some(other) = &status.executor_id {
        if other != eid {
            return Err(V1Error::new(format!(
                "ExecutorID in Call: {eid} does not match ExecutorID in TaskStatus: {other}"
            )));
        }
    }
    if status.source != Some(Source::Executor) {
        return Err(V1Error::new(format!(
            "Received Call from executor {eid} of framework {fid} with invalid source, expecting 'SOURCE_EXECUTOR'"
        )));
    }
    if status.state == TaskState::Staging {
        return Err(V1Error::new(format!(
            "Received TASK_STAGING from executor {eid} of framework {fid} which is not allowed"
        )));
    }
    status.executor_id = Some(eid.clone());
    Ok(status)
}

// ---- events ----

/// SUBSCRIBED: what the executor runs as, for whom, on which slave
/// (`container_id`: the run).
pub fn event_subscribed(executor: &ExecutorInfo, framework: &FrameworkInfo, agent: &SlaveInfo, run: &Uuid) -> Value {
    json!({"type": "SUBSCRIBED", "subscribed": {
        "executor_info": executor_info_json(executor),
        "framework_info": framework_info_json(framework),
        "agent_info": agent_info_json(agent),
        "container_id": {"value": run.to_string()},
    }})
}

pub fn event_launch(task: &TaskInfo) -> Value {
    json!({"type": "LAUNCH", "launch": {"task": task_info_json(task)}})
}

pub fn event_kill(task: &TaskID) -> Value {
    json!({"type": "KILL", "kill": {"task_id": task_id_json(task)}})
}

/// ACKNOWLEDGED: the uuid's 16 bytes, as the executor sent them.
pub fn event_acknowledged(task: &TaskID, uuid: &Uuid) -> Value {
    json!({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": task_id_json(task), "uuid": b64(uuid.as_bytes())}})
}

pub fn event_message(data: &[u8]) -> Value {
    json!({"type": "MESSAGE", "message": {"data": b64(data)}})
}

pub fn event_shutdown() -> Value {
    json!({"type": "SHUTDOWN"})
}

pub fn event_error(message: &str) -> Value {
    json!({"type": "ERROR", "error": {"message": message}})
}

pub fn event_heartbeat() -> Value {
    json!({"type": "HEARTBEAT"})
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;
