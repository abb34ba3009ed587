//! The slave's `/state` document, with the field names of Mesos's
//! `/slave(1)/state` so existing tools read it, and its `/metrics/snapshot`
//! (a flat map of Mesos's agent gauges: `slave/registered`,
//! `slave/executors_*`, `slave/tasks_*`, `slave/<resource>_total|used`).

use rmesos::task::TaskState;
use rmesos::Resources;
use serde_json::{json, Map, Value};

use super::state::{Executor, ExecutorState, Framework};
use super::{RegState, SlaveCore};

impl SlaveCore {
    pub fn state_json(&self) -> Value {
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "id": self.info.id.as_ref().map(|i| i.to_string()).unwrap_or_default(),
            "pid": self.me.to_string(),
            "hostname": self.info.hostname,
            "port": self.info.port,
            "resources": self.info.resources,
            "attributes": self.info.attributes,
            "master_hostname": self.master.as_ref().map(|m| m.addr().ip().to_string()),
            "registered": self.state == RegState::Running,
            "flags": {
                "work_dir": self.cfg.work_dir.to_string_lossy(),
                "registration_backoff_factor": rmesos::format_duration(self.cfg.registration_backoff_factor),
                "executor_registration_timeout": rmesos::format_duration(self.cfg.executor_registration_timeout),
                "executor_shutdown_grace_period": rmesos::format_duration(self.cfg.executor_shutdown_grace_period),
                "recovery_timeout": rmesos::format_duration(self.cfg.recovery_timeout),
                "executor_reregistration_timeout": rmesos::format_duration(self.cfg.executor_reregistration_timeout),
            },
            "frameworks": self.frameworks.values().map(framework_json).collect::<Vec<_>>(),
            "completed_frameworks": self.completed_frameworks.iter().map(framework_json).collect::<Vec<_>>(),
        })
    }
}

impl SlaveCore {
    /// `/metrics/snapshot`: gauges of this moment, named as Mesos's agent
    /// metrics. "Used" resources are those of the live executors and their
    /// non-terminal tasks.
    pub fn metrics_json(&self) -> Value {
        let mut out = Map::new();
        let mut put = |k: &str, v: f64| {
            out.insert(k.to_string(), json!(v));
        };
        put("slave/registered", f64::from(u8::from(self.state == RegState::Running)));
        put("slave/frameworks_active", self.frameworks.len() as f64);
        let (mut registering, mut running, mut terminating) = (0u32, 0u32, 0u32);
        let (mut staging, mut starting, mut tasks_running, mut killing) = (0u32, 0u32, 0u32, 0u32);
        let mut used = Resources::new();
        for e in self.frameworks.values().flat_map(|f| f.executors.values()) {
            match e.state {
                ExecutorState::Registering => registering += 1,
                ExecutorState::Running => running += 1,
                ExecutorState::Terminating => terminating += 1,
                ExecutorState::Terminated => continue,
            }
            used += &e.info.resources;
            for t in e.queued.values() {
                staging += 1;
                used += &t.resources;
            }
            for t in e.launched.values().filter(|t| !t.state.is_terminal()) {
                match t.state {
                    TaskState::Starting => starting += 1,
                    TaskState::Running => tasks_running += 1,
                    TaskState::Killing => killing += 1,
                    _ => staging += 1,
                }
                used += &t.resources;
            }
        }
        put("slave/executors_registering", f64::from(registering));
        put("slave/executors_running", f64::from(running));
        put("slave/executors_terminating", f64::from(terminating));
        put("slave/tasks_staging", f64::from(staging));
        put("slave/tasks_starting", f64::from(starting));
        put("slave/tasks_running", f64::from(tasks_running));
        put("slave/tasks_killing", f64::from(killing));
        for name in ["cpus", "mem", "disk"] {
            put(&format!("slave/{name}_total"), self.info.resources.scalar(name).as_f64());
            put(&format!("slave/{name}_used"), used.scalar(name).as_f64());
        }
        Value::Object(out)
    }
}

fn framework_json(f: &Framework) -> Value {
    json!({
        "id": f.id.to_string(),
        "name": f.info.name,
        "user": f.info.user,
        "role": f.info.role,
        "checkpoint": f.info.checkpoint,
        "executors": f.executors.values().map(executor_json).collect::<Vec<_>>(),
        "completed_executors": f.completed_executors.iter().map(executor_json).collect::<Vec<_>>(),
    })
}

fn executor_json(e: &Executor) -> Value {
    json!({
        "id": e.id.to_string(),
        "name": e.info.name.clone().unwrap_or_default(),
        "source": e.info.source.clone().unwrap_or_default(),
        "container": e.run.to_string(),
        "directory": e.directory.to_string_lossy(),
        "resources": e.info.resources,
        "pid": e.pid.as_ref().map(|p| p.to_string()),
        "state": format!("{:?}", e.state).to_uppercase(),
        "tasks": e.launched.values().chain(e.terminated.values()).collect::<Vec<_>>(),
        "queued_tasks": e.queued.values().collect::<Vec<_>>(),
        "completed_tasks": e.completed.iter().collect::<Vec<_>>(),
    })
}
