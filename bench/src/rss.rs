//! The master core alone at failover: a fresh [`MasterCore`] fed the
//! reregistrations of `slaves` slaves with their tasks, directly (no
//! messages on a wire). Gives the core's share of the failover time and the
//! memory the master's state takes (`VmRSS` before and after, in a child
//! process of the bench started for that alone, so that the delta is the
//! state and not a heap shaped by other figures).

use libprocess::{Time, Upid};
use rmesos::MasterInfo;

use crate::cluster::{reregister_message, Shape};
use crate::{elapsed_ms, now};
use rmesos_master::core::{CoreConfig, MasterCore};

/// A master core as `spawn` makes it, with Mesos's default timeouts.
pub fn fresh_core() -> MasterCore {
    let opts = rmesos_master::MasterOptions::default();
    let pid: Upid = "master@127.0.0.1:5050".parse().expect("valid pid");
    MasterCore::new(CoreConfig {
        master_id: "bench-master".into(),
        info: MasterInfo::new("bench-master", &pid, Some("localhost".into()), None),
        agent_ping_timeout: opts.agent_ping_timeout,
        max_agent_ping_timeouts: opts.max_agent_ping_timeouts,
        agent_reregister_timeout: opts.agent_reregister_timeout,
        epoch_base: 0.0,
        acls: Default::default(),
    })
}

fn slave_pid(i: u64) -> Upid {
    format!("slave({i})@127.0.0.1:5051").parse().expect("valid pid")
}

/// `VmRSS` of this process in KiB (0 where /proc is not readable).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The master core's memory (MiB) once `shape` has reregistered: messages
/// are made one at a time so that only what the core keeps stays resident.
pub fn core_memory_mib(shape: Shape) -> (MasterCore, f64) {
    let before = rss_kib();
    let mut core = fresh_core();
    for i in 0..shape.slaves {
        let acts = core.reregister_slave(&slave_pid(i), reregister_message(i, shape, 5051), Time::default());
        drop(acts);
    }
    let after = rss_kib();
    (core, after.saturating_sub(before) as f64 / 1024.0)
}

/// Time (ms) for a fresh core to take `shape`'s reregistrations (messages
/// made beforehand) and run the allocation cycle that follows.
pub fn core_reregistration_ms(shape: Shape) -> f64 {
    let msgs: Vec<_> = (0..shape.slaves).map(|i| (slave_pid(i), reregister_message(i, shape, 5051))).collect();
    let mut core = fresh_core();
    let t = now();
    for (pid, m) in msgs {
        drop(core.reregister_slave(&pid, m, Time::default()));
    }
    drop(core.allocate(Time::default()));
    elapsed_ms(t)
}

/// Argument that makes the bench a memory child: `memory-child SLAVES TASKS`.
pub const CHILD_ARG: &str = "memory-child";

/// In the child: prints the core's memory (MiB) for `SLAVES TASKS`.
pub fn child(args: &[String]) {
    let num = |i: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(0);
    let (_core, mib) = core_memory_mib(Shape::new(num(0), num(1)));
    println!("{mib:.1}");
}

/// Runs a memory child for `shape`: the master core's MiB, or `None` if the
/// child failed (reported on stderr).
pub fn core_memory_in_child(slaves: u64, tasks: u64) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe).args([CHILD_ARG, &slaves.to_string(), &tasks.to_string()]).output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().parse().ok(),
        Ok(o) => {
            eprintln!("rmesos-bench: memory child failed: {}", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            eprintln!("rmesos-bench: cannot start memory child: {e}");
            None
        }
    }
}
