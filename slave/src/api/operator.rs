//! `POST /api/v1`: the slave's part of Mesos's v1 operator API
//! (`agent.proto`, JSON), read from the core and the containerizer; it
//! decides nothing.
//!
//! | call | answer |
//! |---|---|
//! | GET_HEALTH | `healthy: true` (the slave answers) |
//! | GET_FLAGS | the flags the core runs with (as `/state`'s `flags`) |
//! | GET_VERSION | `version_info`, as `GET /version` |
//! | GET_METRICS | `/metrics/snapshot` as a list of `{name, value}` |
//! | GET_STATE | GET_TASKS, GET_EXECUTORS and GET_FRAMEWORKS together |
//! | GET_CONTAINERS | every live executor's run, with the containerizer's `resource_statistics` when it can measure it |
//! | GET_FRAMEWORKS, GET_EXECUTORS | infos, live and completed |
//! | GET_TASKS | `queued_tasks` (waiting for their executor), `launched_tasks`, `terminated_tasks` (terminal, not yet acknowledged), `completed_tasks` |
//! | GET_AGENT | `agent_info` |
//! | LIST_FILES, READ_FILE | a sandbox directory's entries, a sandbox file's bytes (`size`, base64 `data`), confined to the sandboxes as `/files/read` is ([`crate::http::sandbox_path`]) |
//!
//! Other calls of agent.proto: `501`; malformed or unknown: `400`; not
//! JSON: `415`/`406`; not POST: `405`.

use std::io::{Read, Seek, SeekFrom};

use actix::Context;
use libprocess::{Handlers, Request, Response};
use rmesos::task::{Task, TaskState};
use rmesos::v1::agent::{self as v1, Call};
use rmesos::v1::json::{
    agent_info_json, b64, executor_id_json, executor_info_json, framework_id_json, framework_info_json,
};
use serde_json::{json, Value};

use crate::core::state::{ExecutorState, Framework};
use crate::core::SlaveCore;
use crate::http::{sandbox_path, MAX_FILES_READ_LENGTH};
use crate::process::SlaveProcess;

pub(super) fn install(h: &mut Handlers<SlaveProcess>) {
    h.route("api/v1", operator);
}

fn refuse(req: &Request, status: u16, why: String) -> Response {
    let remote = req.remote.map_or("in-process".to_string(), |r| r.to_string());
    tracing::warn!(%remote, status, "Refusing /api/v1 call: {why}");
    Response::text(status, format!("{why}\n"))
}

fn operator(s: &mut SlaveProcess, req: Request, _: &mut Context<SlaveProcess>) -> Response {
    if req.method != "POST" {
        return Response::text(405, format!("Expecting a 'POST' request, received '{}'\n", req.method))
            .with_header("allow", "POST");
    }
    if let Err((status, why)) = rmesos::v1::check_media_types(req.header("content-type"), req.header("accept")) {
        return refuse(&req, status, why);
    }
    let call = match v1::parse_call(&req.body) {
        Ok(c) => c,
        Err(r) => return refuse(&req, r.status, r.reason),
    };
    let core = &s.core;
    let body = match &call {
        Call::GetHealth => json!({"healthy": true}),
        Call::GetFlags => json!({"flags": flags(core)}),
        Call::GetVersion => json!({"version_info": rmesos::v1::version_json()}),
        Call::GetMetrics => json!({"metrics": v1::metrics_json(&s.fetches.metrics(core.metrics_json()))}),
        Call::GetState => {
            json!({"get_tasks": tasks(core), "get_executors": executors(core), "get_frameworks": frameworks(core)})
        }
        Call::GetContainers => containers(s),
        Call::GetFrameworks => frameworks(core),
        Call::GetExecutors => executors(core),
        Call::GetTasks => tasks(core),
        Call::GetAgent => json!({"agent_info": agent_info_json(core.info())}),
        Call::ListFiles { path } => match list_files(s, path) {
            Ok(v) => v,
            Err((status, why)) => return refuse(&req, status, why),
        },
        Call::ReadFile { path, offset, length } => match read_file(s, path, *offset, *length) {
            Ok(v) => v,
            Err((status, why)) => return refuse(&req, status, why),
        },
    };
    Response::json(&v1::response(&call, body))
}

fn flags(core: &SlaveCore) -> Value {
    let c = core.config();
    let d = rmesos::format_duration;
    v1::flags_json([
        ("work_dir", c.work_dir.to_string_lossy().into_owned()),
        ("hostname", c.info.hostname.clone()),
        ("port", c.info.port.to_string()),
        ("resources", c.info.resources.to_string()),
        ("attributes", c.info.attributes.to_string()),
        ("launcher_dir", c.command_executor.parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()),
        ("registration_backoff_factor", d(c.registration_backoff_factor)),
        ("executor_registration_timeout", d(c.executor_registration_timeout)),
        ("executor_shutdown_grace_period", d(c.executor_shutdown_grace_period)),
        ("recovery_timeout", d(c.recovery_timeout)),
        ("executor_reregistration_timeout", d(c.executor_reregistration_timeout)),
        ("switch_user", c.switch_user.to_string()),
    ])
}

fn all_frameworks(core: &SlaveCore) -> impl Iterator<Item = &Framework> {
    core.frameworks().values().chain(core.completed_frameworks().iter())
}

fn frameworks(core: &SlaveCore) -> Value {
    let info = |f: &Framework| {
        let mut i = f.info.clone();
        i.id = Some(f.id.clone());
        json!({"framework_info": framework_info_json(&i)})
    };
    json!({
        "frameworks": core.frameworks().values().map(info).collect::<Vec<_>>(),
        "completed_frameworks": core.completed_frameworks().iter().map(info).collect::<Vec<_>>(),
    })
}

fn executors(core: &SlaveCore) -> Value {
    let (mut live, mut done) = (Vec::new(), Vec::new());
    for f in all_frameworks(core) {
        for e in f.executors.values() {
            live.push(json!({"executor_info": executor_info_json(&e.info)}));
        }
        for e in &f.completed_executors {
            done.push(json!({"executor_info": executor_info_json(&e.info)}));
        }
    }
    json!({"executors": live, "completed_executors": done})
}

fn tasks(core: &SlaveCore) -> Value {
    let (mut queued, mut launched, mut terminated, mut completed) = (vec![], vec![], vec![], vec![]);
    for f in all_frameworks(core) {
        for e in f.executors.values().chain(f.completed_executors.iter()) {
            for info in e.queued.values() {
                let mut t = Task::new(info, f.id.clone(), TaskState::Staging);
                t.executor_id = Some(e.id.clone());
                queued.push(v1::task_json(&t));
            }
            launched.extend(e.launched.values().map(v1::task_json));
            terminated.extend(e.terminated.values().map(v1::task_json));
            completed.extend(e.completed.iter().map(v1::task_json));
        }
    }
    json!({
        "pending_tasks": [],
        "queued_tasks": queued,
        "launched_tasks": launched,
        "terminated_tasks": terminated,
        "completed_tasks": completed,
    })
}

fn containers(s: &SlaveProcess) -> Value {
    let live: Vec<_> = s
        .core
        .frameworks()
        .values()
        .flat_map(|f| f.executors.values().map(move |e| (f, e)))
        .filter(|(_, e)| e.state != ExecutorState::Terminated)
        .collect();
    let runs: Vec<uuid::Uuid> = live.iter().map(|(_, e)| e.run).collect();
    let usages = s.containerizer.usages(&runs);
    let list: Vec<Value> = live
        .into_iter()
        .zip(usages)
        .map(|((f, e), stats)| {
            let mut c = json!({
                "framework_id": framework_id_json(&f.id),
                "executor_id": executor_id_json(&e.id),
                "executor_name": e.info.name.clone().unwrap_or_default(),
                "container_id": {"value": e.run.to_string()},
            });
            if let Some(stats) = stats {
                c["resource_statistics"] = serde_json::to_value(stats).unwrap_or(Value::Null);
            }
            c
        })
        .collect();
    json!({ "containers": list })
}

fn list_files(s: &SlaveProcess, path: &str) -> Result<Value, (u16, String)> {
    let dir = sandbox_path(&s.work_dir, path)?;
    let entries = std::fs::read_dir(&dir).map_err(|e| (404, format!("cannot list '{path}': {e}")))?;
    let mut infos = Vec::new();
    for entry in entries.flatten() {
        // Entries are listed as they are (a symlink's own metadata): what
        // they point to is not read here.
        let Ok(meta) = entry.path().symlink_metadata() else { continue };
        let shown = std::path::Path::new(path).join(entry.file_name());
        infos.push(v1::file_info_json(&shown.to_string_lossy(), &meta));
    }
    infos.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    Ok(json!({ "file_infos": infos }))
}

fn read_file(s: &SlaveProcess, path: &str, offset: u64, length: Option<u64>) -> Result<Value, (u16, String)> {
    let real = sandbox_path(&s.work_dir, path)?;
    let mut file = std::fs::File::open(&real).map_err(|e| (404, format!("cannot open '{path}': {e}")))?;
    let size = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Err((400, format!("'{path}' is not a regular file"))),
        Err(e) => return Err((500, format!("cannot stat '{path}': {e}"))),
    };
    let length = length.unwrap_or(MAX_FILES_READ_LENGTH).min(MAX_FILES_READ_LENGTH);
    let mut buf = Vec::new();
    file.seek(SeekFrom::Start(offset.min(size)))
        .and_then(|_| file.take(length).read_to_end(&mut buf))
        .map_err(|e| (500, format!("cannot read '{path}': {e}")))?;
    Ok(json!({"size": size, "data": b64(&buf)}))
}
