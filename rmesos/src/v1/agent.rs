//! `include/mesos/v1/agent/agent.proto`: the operator calls a slave takes
//! at `POST /api/v1` ([`Call`], parsed by [`parse_call`]) and the JSON of
//! their answers (`{"type": T, "<t>": {..}}`, built by [`response`] and the
//! helpers below: `Task`, `Flag`, `Metric`, `FileInfo` as mesos.proto
//! writes them). What the answers hold is the slave's to say.

use serde_json::{json, Map, Value};

use super::json::*;
use super::V1Error;
use crate::task::Task;

/// The calls served, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    GetHealth,
    GetFlags,
    GetVersion,
    GetMetrics,
    GetState,
    GetContainers,
    GetFrameworks,
    GetExecutors,
    GetTasks,
    GetAgent,
    ListFiles { path: String },
    ReadFile { path: String, offset: u64, length: Option<u64> },
}

impl Call {
    /// The call's type as the .proto names it (also the answer's type).
    pub fn name(&self) -> &'static str {
        match self {
            Call::GetHealth => "GET_HEALTH",
            Call::GetFlags => "GET_FLAGS",
            Call::GetVersion => "GET_VERSION",
            Call::GetMetrics => "GET_METRICS",
            Call::GetState => "GET_STATE",
            Call::GetContainers => "GET_CONTAINERS",
            Call::GetFrameworks => "GET_FRAMEWORKS",
            Call::GetExecutors => "GET_EXECUTORS",
            Call::GetTasks => "GET_TASKS",
            Call::GetAgent => "GET_AGENT",
            Call::ListFiles { .. } => "LIST_FILES",
            Call::ReadFile { .. } => "READ_FILE",
        }
    }
}

/// Why a call is refused: 400 for what is malformed or unknown, 501 for a
/// call of agent.proto this slave does not serve (as Mesos answers a call
/// its agent does not implement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub reason: String,
}

/// agent.proto's call types this slave does not serve.
const NOT_SERVED: &[&str] = &[
    "GET_LOGGING_LEVEL",
    "SET_LOGGING_LEVEL",
    "GET_OPERATIONS",
    "GET_RESOURCE_PROVIDERS",
    "LAUNCH_NESTED_CONTAINER",
    "WAIT_NESTED_CONTAINER",
    "KILL_NESTED_CONTAINER",
    "REMOVE_NESTED_CONTAINER",
    "LAUNCH_NESTED_CONTAINER_SESSION",
    "ATTACH_CONTAINER_INPUT",
    "ATTACH_CONTAINER_OUTPUT",
    "LAUNCH_CONTAINER",
    "WAIT_CONTAINER",
    "KILL_CONTAINER",
    "REMOVE_CONTAINER",
    "ADD_RESOURCE_PROVIDER_CONFIG",
    "UPDATE_RESOURCE_PROVIDER_CONFIG",
    "REMOVE_RESOURCE_PROVIDER_CONFIG",
    "MARK_RESOURCE_PROVIDER_GONE",
    "PRUNE_IMAGES",
];

/// Parses a call's JSON body.
pub fn parse_call(body: &[u8]) -> Result<Call, Refused> {
    let bad = |e: V1Error| Refused { status: 400, reason: e.0 };
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad(V1Error::new(format!("Failed to parse body into JSON: {e}"))))?;
    if !v.is_object() {
        return Err(bad(V1Error::new("Failed to parse body into Call: not a JSON object")));
    }
    let ty =
        string(&v, "type", "Call").map_err(bad)?.ok_or_else(|| bad(V1Error::new("Expecting 'type' to be present")))?;
    let path = |name: &str| -> Result<String, Refused> {
        let sub = required(&v, name, &format!("Call {ty}")).map_err(bad)?;
        string(sub, "path", &format!("Call.{name}"))
            .map_err(bad)?
            .ok_or_else(|| bad(V1Error::new(format!("Call.{name}: missing 'path'"))))
    };
    Ok(match ty.as_str() {
        "GET_HEALTH" => Call::GetHealth,
        "GET_FLAGS" => Call::GetFlags,
        "GET_VERSION" => Call::GetVersion,
        "GET_METRICS" => Call::GetMetrics,
        "GET_STATE" => Call::GetState,
        "GET_CONTAINERS" => Call::GetContainers,
        "GET_FRAMEWORKS" => Call::GetFrameworks,
        "GET_EXECUTORS" => Call::GetExecutors,
        "GET_TASKS" => Call::GetTasks,
        "GET_AGENT" => Call::GetAgent,
        "LIST_FILES" => Call::ListFiles { path: path("list_files")? },
        "READ_FILE" => {
            let path = path("read_file")?;
            let r = &v["read_file"];
            let count = |name: &str| -> Result<Option<u64>, Refused> {
                let n = match field(r, name) {
                    None => return Ok(None),
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(s)) => s.parse().ok(),
                    Some(_) => None,
                };
                n.map(Some)
                    .ok_or_else(|| bad(V1Error::new(format!("Call.read_file: '{name}' is not a non-negative integer"))))
            };
            let offset = count("offset")?.ok_or_else(|| bad(V1Error::new("Call.read_file: missing 'offset'")))?;
            Call::ReadFile { path, offset, length: count("length")? }
        }
        other if NOT_SERVED.contains(&other) => {
            return Err(Refused { status: 501, reason: format!("Call type {other} is not supported by this agent") })
        }
        other => return Err(bad(V1Error::new(format!("Unknown call type '{other}'")))),
    })
}

/// An answer: `{"type": <call>, "<call in lower case>": body}`.
pub fn response(call: &Call, body: Value) -> Value {
    let ty = call.name();
    let mut o = Map::new();
    o.insert("type".into(), json!(ty));
    o.insert(ty.to_ascii_lowercase(), body);
    Value::Object(o)
}

/// A `Task` (mesos.proto) as this slave knows it.
pub fn task_json(t: &Task) -> Value {
    let mut o = json!({
        "name": t.name,
        "task_id": task_id_json(&t.task_id),
        "framework_id": framework_id_json(&t.framework_id),
        "agent_id": agent_id_json(&t.slave_id),
        "state": t.state.to_string(),
        "resources": resources_json(&t.resources),
        "statuses": t.statuses.iter().map(task_status_json).collect::<Vec<_>>(),
    });
    if let Some(e) = &t.executor_id {
        o["executor_id"] = executor_id_json(e);
    }
    if let Some(s) = t.status_update_state {
        o["status_update_state"] = json!(s.to_string());
    }
    if let Some(u) = &t.status_update_uuid {
        o["status_update_uuid"] = b64(u.as_bytes());
    }
    o
}

/// `Flag`s: `[{"name", "value"}]`.
pub fn flags_json<'a>(flags: impl IntoIterator<Item = (&'a str, String)>) -> Value {
    Value::Array(flags.into_iter().map(|(name, value)| json!({"name": name, "value": value})).collect())
}

/// `Metric`s from a `/metrics/snapshot` object: `[{"name", "value"}]`.
pub fn metrics_json(snapshot: &Value) -> Value {
    let list = snapshot
        .as_object()
        .map(|o| o.iter().map(|(k, v)| json!({"name": k, "value": v})).collect())
        .unwrap_or_default();
    Value::Array(list)
}

/// A `FileInfo` (mesos.proto): `mtime` in nanoseconds, `mode` as its bits.
pub fn file_info_json(path: &str, meta: &std::fs::Metadata) -> Value {
    use std::os::unix::fs::MetadataExt;
    json!({
        "path": path,
        "nlink": meta.nlink(),
        "size": meta.size(),
        "mtime": {"nanoseconds": meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec())},
        "mode": meta.mode(),
        "uid": meta.uid().to_string(),
        "gid": meta.gid().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Call, Refused> {
        parse_call(v.to_string().as_bytes())
    }

    #[test]
    fn calls_parse_and_bad_ones_are_refused() {
        assert_eq!(parse(json!({"type": "GET_HEALTH"})).unwrap(), Call::GetHealth);
        assert_eq!(parse(json!({"type": "GET_CONTAINERS", "get_containers": {}})).unwrap(), Call::GetContainers);
        assert_eq!(
            parse(json!({"type": "LIST_FILES", "list_files": {"path": "/a"}})).unwrap(),
            Call::ListFiles { path: "/a".into() }
        );
        assert_eq!(
            parse(json!({"type": "READ_FILE", "read_file": {"path": "/a", "offset": 3, "length": "10"}})).unwrap(),
            Call::ReadFile { path: "/a".into(), offset: 3, length: Some(10) }
        );
        let r = parse(json!({"type": "READ_FILE", "read_file": {"path": "/a"}})).unwrap_err();
        assert_eq!((r.status, r.reason.as_str()), (400, "Call.read_file: missing 'offset'"));
        assert_eq!(
            parse(json!({"type": "READ_FILE", "read_file": {"path": "/a", "offset": -1}})).unwrap_err().status,
            400
        );
        assert_eq!(parse(json!({"type": "LIST_FILES"})).unwrap_err().status, 400);
        assert_eq!(parse(json!({"type": "LAUNCH_CONTAINER"})).unwrap_err().status, 501);
        assert_eq!(parse(json!({"type": "DANCE"})).unwrap_err().reason, "Unknown call type 'DANCE'");
        assert_eq!(parse(json!({})).unwrap_err().reason, "Expecting 'type' to be present");
        assert_eq!(parse_call(b"{").unwrap_err().status, 400);
    }

    #[test]
    fn answers_have_the_proto_shapes() {
        let r = response(&Call::GetHealth, json!({"healthy": true}));
        assert_eq!(r, json!({"type": "GET_HEALTH", "get_health": {"healthy": true}}));
        assert_eq!(
            metrics_json(&json!({"slave/registered": 1.0})),
            json!([{"name": "slave/registered", "value": 1.0}])
        );
        assert_eq!(flags_json([("port", "5051".to_string())]), json!([{"name": "port", "value": "5051"}]));
        let info = crate::info::TaskInfo::command(
            "t",
            crate::ids::TaskID::new("t1").unwrap(),
            crate::ids::SlaveID::new("m-S0").unwrap(),
            crate::resources::Resources::parse("cpus:1").unwrap(),
            crate::info::CommandInfo::shell("true"),
        );
        let t = Task::new(&info, crate::ids::FrameworkID::new("m-0000").unwrap(), crate::task::TaskState::Running);
        let j = task_json(&t);
        assert_eq!(j["task_id"], json!({"value": "t1"}));
        assert_eq!(j["framework_id"], json!({"value": "m-0000"}));
        assert_eq!(j["agent_id"], json!({"value": "m-S0"}));
        assert_eq!(j["state"], "TASK_RUNNING");
        assert_eq!(j["resources"][0]["scalar"]["value"], 1.0);
    }
}
