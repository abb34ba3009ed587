//! `/monitor/statistics` (Mesos's resource monitor): one entry per live
//! executor, `{executor_id, executor_name, framework_id, source,
//! statistics}`, the statistics from the containerizer (cgroups or
//! `/proc`, as the isolators are). An executor whose container cannot be
//! measured (it just ended, or it runs in this process) is left out, as
//! Mesos leaves out containers whose usage fails.

use serde_json::{json, Value};

use crate::containerizer::Containerizer;
use crate::core::state::ExecutorState;
use crate::core::SlaveCore;

pub fn statistics(core: &SlaveCore, containerizer: &dyn Containerizer) -> Value {
    let mut out = Vec::new();
    for (fid, f) in core.frameworks() {
        for (eid, e) in &f.executors {
            if e.state == ExecutorState::Terminated {
                continue;
            }
            let Some(stats) = containerizer.usage(e.run) else { continue };
            out.push(json!({
                "executor_id": eid.as_str(),
                "executor_name": e.info.name.clone().unwrap_or_default(),
                "framework_id": fid.as_str(),
                "source": e.info.source.clone().unwrap_or_default(),
                "statistics": stats,
            }));
        }
    }
    Value::Array(out)
}
