//! The JSON of Mesos's v1 types (`include/mesos/v1/mesos.proto` through
//! protobuf's JSON mapping, as Mesos writes and reads it), to and from this
//! crate's types.
//!
//! The mapping: ids are `{"value": ".."}`; bytes (`data`, `uuid`) are
//! standard base64; enums are their names (`"TASK_RUNNING"`); resources are
//! a list of `{"name", "type", "scalar"|"ranges"|"set", "role"}`; attributes
//! likewise with `"text"`; field names are the .proto's (snake_case).
//! Reading ignores fields it does not know (as protobuf does) and refuses,
//! with a one-line reason, what it cannot represent: `SET` resources, a
//! resource reserved for a role other than `*` (this master has no
//! reservations), a scalar that is negative or NaN.
//!
//! Mesos's names differ from this crate's in one place: Mesos's v1 API says
//! *agent* (`agent_id`, `AgentInfo`) where this crate says slave.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::V1Error;
use crate::attributes::{AttributeValue, Attributes};
use crate::ids::{ExecutorID, FrameworkID, OfferID, SlaveID, TaskID};
use crate::info::{
    CommandInfo, CommandUri, Environment, ExecutorInfo, Filters, FrameworkCapability, FrameworkInfo, Offer, SlaveInfo,
    TaskInfo, Variable, DEFAULT_REFUSE_SECONDS, DEFAULT_ROLE,
};
use crate::resources::{Ranges, Resources, Scalar};
use crate::task::{Reason, Source, TaskState, TaskStatus};

// ---- reading helpers ----

/// Field `name` of object `v`, absent if missing or null.
pub fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get(name).filter(|f| !f.is_null())
}

/// Field `name` of `v`, required.
pub fn required<'a>(v: &'a Value, name: &str, within: &str) -> Result<&'a Value, V1Error> {
    field(v, name).ok_or_else(|| V1Error::new(format!("{within}: missing '{name}'")))
}

/// A string field.
pub fn string(v: &Value, name: &str, within: &str) -> Result<Option<String>, V1Error> {
    match field(v, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(V1Error::new(format!("{within}: '{name}' is not a string"))),
    }
}

fn number(v: &Value, name: &str, within: &str) -> Result<Option<f64>, V1Error> {
    match field(v, name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        // protobuf's JSON writes 64-bit integers as strings
        Some(Value::String(s)) => {
            s.parse().map(Some).map_err(|_| V1Error::new(format!("{within}: '{name}' is not a number")))
        }
        Some(_) => Err(V1Error::new(format!("{within}: '{name}' is not a number"))),
    }
}

fn boolean(v: &Value, name: &str, within: &str) -> Result<Option<bool>, V1Error> {
    match field(v, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(V1Error::new(format!("{within}: '{name}' is not a boolean"))),
    }
}

/// A list field (absent: empty).
pub fn list<'a>(v: &'a Value, name: &str, within: &str) -> Result<&'a [Value], V1Error> {
    match field(v, name) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(V1Error::new(format!("{within}: '{name}' is not a list"))),
    }
}

/// Base64 bytes.
pub fn bytes(v: &Value, name: &str, within: &str) -> Result<Option<Vec<u8>>, V1Error> {
    match string(v, name, within)? {
        None => Ok(None),
        Some(s) => BASE64
            .decode(s.as_bytes())
            .map(Some)
            .map_err(|e| V1Error::new(format!("{within}: '{name}' is not base64: {e}"))),
    }
}

pub fn b64(data: &[u8]) -> Value {
    Value::String(BASE64.encode(data))
}

/// A uuid sent as 16 base64 bytes.
pub fn uuid(v: &Value, name: &str, within: &str) -> Result<Option<Uuid>, V1Error> {
    match bytes(v, name, within)? {
        None => Ok(None),
        Some(b) => Uuid::from_slice(&b)
            .map(Some)
            .map_err(|_| V1Error::new(format!("{within}: '{name}' is not 16 bytes ({} given)", b.len()))),
    }
}

/// An enum by name.
fn named<T: std::str::FromStr>(v: &Value, name: &str, within: &str) -> Result<Option<T>, V1Error> {
    match string(v, name, within)? {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| V1Error::new(format!("{within}: unknown {name} '{s}'"))),
    }
}

macro_rules! ids {
    ($($read:ident, $write:ident: $ty:ty;)*) => {$(
        /// `{"value": ".."}` under `name`, validated.
        pub fn $read(v: &Value, name: &str, within: &str) -> Result<Option<$ty>, V1Error> {
            let Some(id) = field(v, name) else { return Ok(None) };
            let value = string(id, "value", &format!("{within}.{name}"))?
                .ok_or_else(|| V1Error::new(format!("{within}: '{name}' has no 'value'")))?;
            <$ty>::new(value).map(Some).map_err(|e| V1Error::new(format!("{within}: invalid {name}: {e}")))
        }

        pub fn $write(id: &$ty) -> Value {
            json!({ "value": id.as_str() })
        }
    )*};
}

ids! {
    framework_id, framework_id_json: FrameworkID;
    agent_id, agent_id_json: SlaveID;
    offer_id, offer_id_json: OfferID;
    task_id, task_id_json: TaskID;
    executor_id, executor_id_json: ExecutorID;
}

/// A required id.
pub fn need<T>(id: Option<T>, name: &str, within: &str) -> Result<T, V1Error> {
    id.ok_or_else(|| V1Error::new(format!("{within}: missing '{name}'")))
}

// ---- resources and attributes ----

pub fn resources_json(r: &Resources) -> Value {
    let mut out = Vec::new();
    for (name, s) in r.scalars() {
        out.push(json!({"name": name, "type": "SCALAR", "scalar": {"value": s.as_f64()}, "role": "*"}));
    }
    for (name, ranges) in r.all_ranges() {
        out.push(json!({"name": name, "type": "RANGES", "ranges": ranges_json(ranges), "role": "*"}));
    }
    Value::Array(out)
}

fn ranges_json(r: &Ranges) -> Value {
    let range: Vec<Value> = r.intervals().iter().map(|(b, e)| json!({"begin": b, "end": e})).collect();
    json!({ "range": range })
}

fn ranges_of(v: &Value, within: &str) -> Result<Ranges, V1Error> {
    let mut intervals = Vec::new();
    for r in list(v, "range", within)? {
        let bound = |name| -> Result<u64, V1Error> {
            let x =
                number(r, name, within)?.ok_or_else(|| V1Error::new(format!("{within}: range without '{name}'")))?;
            if x < 0.0 || x.fract() != 0.0 || x > u64::MAX as f64 {
                return Err(V1Error::new(format!("{within}: range bound {x} is not a port number")));
            }
            Ok(x as u64)
        };
        let (b, e) = (bound("begin")?, bound("end")?);
        if b > e {
            return Err(V1Error::new(format!("{within}: range [{b}-{e}] is empty")));
        }
        intervals.push((b, e));
    }
    Ok(Ranges::from_intervals(intervals))
}

fn scalar_of(v: &Value, within: &str) -> Result<Scalar, V1Error> {
    let x = number(v, "value", within)?.ok_or_else(|| V1Error::new(format!("{within}: scalar without 'value'")))?;
    Scalar::from_f64(x).map_err(|e| V1Error::new(format!("{within}: invalid scalar {x}: {e:?}")))
}

pub fn resources(v: &Value, name: &str, within: &str) -> Result<Resources, V1Error> {
    let mut out = Resources::new();
    for r in list(v, name, within)? {
        let rname =
            string(r, "name", within)?.ok_or_else(|| V1Error::new(format!("{within}: resource without a name")))?;
        let what = format!("{within}: resource '{rname}'");
        if let Some(role) = string(r, "role", &what)?.filter(|role| role != "*") {
            return Err(V1Error::new(format!("{what}: reserved for role '{role}' (this master has no reservations)")));
        }
        if field(r, "reservations").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            return Err(V1Error::new(format!("{what}: has reservations (this master has none)")));
        }
        let kind = string(r, "type", &what)?.unwrap_or_else(|| "SCALAR".into());
        let mut one = Resources::new();
        match kind.as_str() {
            "SCALAR" => one.set_scalar(&rname, scalar_of(required(r, "scalar", &what)?, &what)?),
            "RANGES" => one.set_ranges(&rname, ranges_of(required(r, "ranges", &what)?, &what)?),
            "SET" => return Err(V1Error::new(format!("{what}: SET resources are not supported"))),
            other => return Err(V1Error::new(format!("{what}: unknown type '{other}'"))),
        }
        out.add(&one);
    }
    Ok(out)
}

pub fn attributes_json(a: &Attributes) -> Value {
    let out: Vec<Value> = a
        .iter()
        .map(|at| match &at.value {
            AttributeValue::Scalar(s) => json!({"name": at.name, "type": "SCALAR", "scalar": {"value": s.as_f64()}}),
            AttributeValue::Ranges(r) => json!({"name": at.name, "type": "RANGES", "ranges": ranges_json(r)}),
            AttributeValue::Text(t) => json!({"name": at.name, "type": "TEXT", "text": {"value": t}}),
        })
        .collect();
    Value::Array(out)
}

// ---- infos ----

pub fn framework_info_json(f: &FrameworkInfo) -> Value {
    let mut o = Map::new();
    o.insert("user".into(), json!(f.user));
    o.insert("name".into(), json!(f.name));
    if let Some(id) = &f.id {
        o.insert("id".into(), framework_id_json(id));
    }
    o.insert("failover_timeout".into(), json!(f.failover_timeout));
    o.insert("checkpoint".into(), json!(f.checkpoint));
    o.insert("role".into(), json!(f.role));
    for (k, v) in [("hostname", &f.hostname), ("principal", &f.principal), ("webui_url", &f.webui_url)] {
        if let Some(v) = v {
            o.insert(k.into(), json!(v));
        }
    }
    let caps: Vec<Value> = f.capabilities.iter().map(|c| json!({"type": c.to_string()})).collect();
    o.insert("capabilities".into(), Value::Array(caps));
    Value::Object(o)
}

pub fn framework_info(v: &Value, within: &str) -> Result<FrameworkInfo, V1Error> {
    let within = &format!("{within}.framework_info");
    let user = string(v, "user", within)?.unwrap_or_default();
    let name = string(v, "name", within)?.unwrap_or_default();
    let mut f = FrameworkInfo::new(user, name);
    f.id = framework_id(v, "id", within)?;
    f.failover_timeout = number(v, "failover_timeout", within)?.unwrap_or(0.0);
    f.checkpoint = boolean(v, "checkpoint", within)?.unwrap_or(false);
    let roles = list(v, "roles", within)?;
    f.role = match (string(v, "role", within)?, roles) {
        (Some(r), _) => r,
        (None, [one]) => one.as_str().unwrap_or("*").to_string(),
        (None, []) => DEFAULT_ROLE.to_string(),
        (None, _) => return Err(V1Error::new(format!("{within}: more than one role is not supported"))),
    };
    f.hostname = string(v, "hostname", within)?;
    f.principal = string(v, "principal", within)?;
    f.webui_url = string(v, "webui_url", within)?;
    for c in list(v, "capabilities", within)? {
        // Capabilities this master does not know are ignored, as Mesos does
        // with ones it has no use for.
        if let Some(c) = named::<FrameworkCapability>(c, "type", within).ok().flatten() {
            f.capabilities.push(c);
        }
    }
    Ok(f)
}

pub fn agent_info_json(s: &SlaveInfo) -> Value {
    let mut o = json!({
        "hostname": s.hostname,
        "port": s.port,
        "resources": resources_json(&s.resources),
        "attributes": attributes_json(&s.attributes),
    });
    if let Some(id) = &s.id {
        o["id"] = agent_id_json(id);
    }
    o
}

pub fn command_info_json(c: &CommandInfo) -> Value {
    let mut o = Map::new();
    if let Some(v) = &c.value {
        o.insert("value".into(), json!(v));
    }
    o.insert("shell".into(), json!(c.shell));
    if !c.arguments.is_empty() {
        o.insert("arguments".into(), json!(c.arguments));
    }
    let vars: Vec<Value> =
        c.environment.variables.iter().map(|v| json!({"name": v.name, "type": "VALUE", "value": v.value})).collect();
    o.insert("environment".into(), json!({ "variables": vars }));
    let uris: Vec<Value> = c
        .uris
        .iter()
        .map(|u| {
            let mut j = json!({"value": u.value, "executable": u.executable, "extract": u.extract, "cache": u.cache});
            if let Some(f) = &u.output_file {
                j["output_file"] = json!(f);
            }
            j
        })
        .collect();
    if !uris.is_empty() {
        o.insert("uris".into(), Value::Array(uris));
    }
    if let Some(u) = &c.user {
        o.insert("user".into(), json!(u));
    }
    Value::Object(o)
}

pub fn command_info(v: &Value, within: &str) -> Result<CommandInfo, V1Error> {
    let within = &format!("{within}.command");
    let mut c = CommandInfo::shell(string(v, "value", within)?.unwrap_or_default());
    if c.value.as_deref() == Some("") {
        c.value = None;
    }
    c.shell = boolean(v, "shell", within)?.unwrap_or(true);
    for a in list(v, "arguments", within)? {
        c.arguments
            .push(a.as_str().ok_or_else(|| V1Error::new(format!("{within}: an argument is not a string")))?.into());
    }
    if let Some(env) = field(v, "environment") {
        let mut e = Environment::default();
        for var in list(env, "variables", within)? {
            if string(var, "type", within)?.is_some_and(|t| t != "VALUE") {
                return Err(V1Error::new(format!("{within}: only VALUE environment variables are supported")));
            }
            let name = string(var, "name", within)?.unwrap_or_default();
            e.variables.push(Variable { name, value: string(var, "value", within)?.unwrap_or_default() });
        }
        c.environment = e;
    }
    for u in list(v, "uris", within)? {
        c.uris.push(CommandUri {
            value: string(u, "value", within)?.ok_or_else(|| V1Error::new(format!("{within}: a URI has no value")))?,
            executable: boolean(u, "executable", within)?.unwrap_or(false),
            extract: boolean(u, "extract", within)?.unwrap_or(true),
            cache: boolean(u, "cache", within)?.unwrap_or(false),
            output_file: string(u, "output_file", within)?,
        });
    }
    c.user = string(v, "user", within)?;
    Ok(c)
}

pub fn executor_info_json(e: &ExecutorInfo) -> Value {
    let mut o = json!({
        "type": "CUSTOM",
        "executor_id": executor_id_json(&e.executor_id),
        "command": command_info_json(&e.command),
        "resources": resources_json(&e.resources),
    });
    if let Some(f) = &e.framework_id {
        o["framework_id"] = framework_id_json(f);
    }
    if let Some(n) = &e.name {
        o["name"] = json!(n);
    }
    if let Some(s) = &e.source {
        o["source"] = json!(s);
    }
    if let Some(d) = &e.data {
        o["data"] = b64(d);
    }
    o
}

pub fn executor_info(v: &Value, within: &str) -> Result<ExecutorInfo, V1Error> {
    let within = &format!("{within}.executor");
    if string(v, "type", within)?.is_some_and(|t| t == "DEFAULT") {
        return Err(V1Error::new(format!("{within}: the DEFAULT executor (task groups) is not supported")));
    }
    let id = need(executor_id(v, "executor_id", within)?, "executor_id", within)?;
    let command = command_info(required(v, "command", within)?, within)?;
    let mut e = ExecutorInfo::new(id, command);
    e.framework_id = framework_id(v, "framework_id", within)?;
    e.resources = resources(v, "resources", within)?;
    e.name = string(v, "name", within)?;
    e.source = string(v, "source", within)?;
    e.data = bytes(v, "data", within)?;
    Ok(e)
}

pub fn task_info_json(t: &TaskInfo) -> Value {
    let mut o = json!({
        "name": t.name,
        "task_id": task_id_json(&t.task_id),
        "agent_id": agent_id_json(&t.slave_id),
        "resources": resources_json(&t.resources),
    });
    if let Some(e) = &t.executor {
        o["executor"] = executor_info_json(e);
    }
    if let Some(c) = &t.command {
        o["command"] = command_info_json(c);
    }
    if let Some(d) = &t.data {
        o["data"] = b64(d);
    }
    // These types carry Mesos's field names: their serde form is the v1 JSON.
    if let Some(h) = &t.health_check {
        o["health_check"] = serde_json::to_value(h).unwrap_or(Value::Null);
    }
    if let Some(c) = &t.check {
        o["check"] = serde_json::to_value(c).unwrap_or(Value::Null);
    }
    if let Some(k) = &t.kill_policy {
        o["kill_policy"] = serde_json::to_value(k).unwrap_or(Value::Null);
    }
    o
}

/// A message whose serde form is Mesos's JSON (`HealthCheck`, `CheckInfo`,
/// `KillPolicy`), read from `v[name]`.
pub fn mesos_shaped<T: serde::de::DeserializeOwned>(v: &Value, name: &str, within: &str) -> Result<Option<T>, V1Error> {
    field(v, name)
        .map(|f| serde_json::from_value(f.clone()).map_err(|e| V1Error::new(format!("{within}.{name}: {e}"))))
        .transpose()
}

pub fn task_info(v: &Value, within: &str) -> Result<TaskInfo, V1Error> {
    let within = &format!("{within}.task_info");
    let name = string(v, "name", within)?.unwrap_or_default();
    let task_id = need(task_id(v, "task_id", within)?, "task_id", within)?;
    let slave_id = need(agent_id(v, "agent_id", within)?, "agent_id", within)?;
    let resources = resources(v, "resources", within)?;
    let executor = field(v, "executor").map(|e| executor_info(e, within)).transpose()?;
    let command = field(v, "command").map(|c| command_info(c, within)).transpose()?;
    let data = bytes(v, "data", within)?;
    let health_check = mesos_shaped(v, "health_check", within)?;
    let check = mesos_shaped(v, "check", within)?;
    let kill_policy = mesos_shaped(v, "kill_policy", within)?;
    for unsupported in ["container", "max_completion_time"] {
        if field(v, unsupported).is_some() {
            tracing::debug!(task = %task_id, "ignoring TaskInfo.{unsupported} (not supported by rmesos)");
        }
    }
    Ok(TaskInfo { name, task_id, slave_id, resources, executor, command, data, health_check, check, kill_policy })
}

pub fn offer_json(o: &Offer) -> Value {
    let ids: Vec<Value> = o.executor_ids.iter().map(executor_id_json).collect();
    json!({
        "id": offer_id_json(&o.id),
        "framework_id": framework_id_json(&o.framework_id),
        "agent_id": agent_id_json(&o.slave_id),
        "hostname": o.hostname,
        "resources": resources_json(&o.resources),
        "attributes": attributes_json(&o.attributes),
        "executor_ids": ids,
    })
}

pub fn filters(v: Option<&Value>, within: &str) -> Result<Filters, V1Error> {
    let Some(v) = v else { return Ok(Filters::default()) };
    let refuse = number(v, "refuse_seconds", &format!("{within}.filters"))?;
    Ok(Filters { refuse_seconds: refuse.unwrap_or(DEFAULT_REFUSE_SECONDS) })
}

pub fn task_status_json(s: &TaskStatus) -> Value {
    let mut o = json!({
        "task_id": task_id_json(&s.task_id),
        "state": s.state.to_string(),
    });
    if let Some(m) = &s.message {
        o["message"] = json!(m);
    }
    if let Some(src) = s.source {
        o["source"] = json!(src.to_string());
    }
    if let Some(r) = s.reason {
        o["reason"] = json!(r.to_string());
    }
    if let Some(d) = &s.data {
        o["data"] = b64(d);
    }
    if let Some(a) = &s.slave_id {
        o["agent_id"] = agent_id_json(a);
    }
    if let Some(e) = &s.executor_id {
        o["executor_id"] = executor_id_json(e);
    }
    if let Some(t) = s.timestamp {
        o["timestamp"] = json!(t);
    }
    if let Some(u) = &s.uuid {
        o["uuid"] = b64(u.as_bytes());
    }
    if let Some(c) = &s.check_status {
        o["check_status"] = serde_json::to_value(c).unwrap_or(Value::Null);
    }
    if let Some(h) = s.healthy {
        o["healthy"] = json!(h);
    }
    o
}

pub fn task_status(v: &Value, within: &str) -> Result<TaskStatus, V1Error> {
    let within = &format!("{within}.status");
    let id = need(task_id(v, "task_id", within)?, "task_id", within)?;
    let state: TaskState =
        named(v, "state", within)?.ok_or_else(|| V1Error::new(format!("{within}: missing 'state'")))?;
    let mut s = TaskStatus::new(id, state);
    s.message = string(v, "message", within)?;
    s.source = named::<Source>(v, "source", within)?;
    s.reason = named::<Reason>(v, "reason", within)?;
    s.data = bytes(v, "data", within)?;
    s.slave_id = agent_id(v, "agent_id", within)?;
    s.executor_id = executor_id(v, "executor_id", within)?;
    s.timestamp = number(v, "timestamp", within)?;
    s.uuid = uuid(v, "uuid", within)?;
    s.healthy = boolean(v, "healthy", within)?;
    s.check_status = mesos_shaped(v, "check_status", within)?;
    Ok(s)
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
