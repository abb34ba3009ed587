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
    let live: Vec<_> = core
        .frameworks()
        .iter()
        .flat_map(|(fid, f)| f.executors.iter().map(move |(eid, e)| (fid, eid, e)))
        .filter(|(_, _, e)| e.state != ExecutorState::Terminated)
        .collect();
    let runs: Vec<uuid::Uuid> = live.iter().map(|(_, _, e)| e.run).collect();
    let usages = containerizer.usages(&runs);
    let mut out = Vec::new();
    for ((fid, eid, e), stats) in live.into_iter().zip(usages) {
        let Some(stats) = stats else { continue };
        out.push(json!({
            "executor_id": eid.as_str(),
            "executor_name": e.info.name.clone().unwrap_or_default(),
            "framework_id": fid.as_str(),
            "source": e.info.source.clone().unwrap_or_default(),
            "statistics": stats,
        }));
    }
    Value::Array(out)
}
