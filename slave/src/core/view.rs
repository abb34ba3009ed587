//! The slave's `/state` document, with the field names of Mesos's
//! `/slave(1)/state` so existing tools read it.

use serde_json::{json, Value};

use super::state::{Executor, Framework};
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
