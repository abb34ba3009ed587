//! Out-of-memory kills in a container's memory cgroup. The kernel counts
//! them (v1: `oom_kill` in `memory.oom_control`; v2: `oom_kill` in
//! `memory.events`) before its victim can die, so a reader that sees a
//! task end can tell at once whether the memory limit ended it. The
//! containerizer reads the counter when an executor reports a terminal
//! task, when it exits, and on a short poll (a victim that is not the
//! executor's task), and then fails the container as Mesos does.

use super::{files, limits, Cgroups, Controller, Version};

/// OOM kills so far in cgroup `name` (0 without a memory controller).
pub fn kills(cg: &Cgroups, name: &str) -> u64 {
    let Some(dir) = cg.dir(Controller::Memory, name) else { return 0 };
    let file = match cg.version() {
        Version::V1 => "memory.oom_control",
        Version::V2 => "memory.events",
    };
    files::read_keyed(&dir.join(file)).ok().and_then(|m| m.get("oom_kill").copied()).unwrap_or(0)
}

/// Mesos's message for a memory limitation: the limit and the most used.
pub fn message(limit: Option<u64>, max_used: Option<u64>) -> String {
    let show = |b: Option<u64>| b.map(limits::format_bytes).unwrap_or_else(|| "unknown".into());
    format!("Memory limit exceeded: Requested: {} Maximum Used: {}", show(limit), show(max_used))
}
