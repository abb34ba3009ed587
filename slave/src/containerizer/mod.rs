//! How the slave starts, isolates, watches and kills executor runs
//! (Mesos's containers): the [`Containerizer`] trait, with two
//! implementations.
//!
//! - [`Mesos`] (what `rmesos-slave` uses; [`mesos`]): each run is a child
//!   process started by a launcher ([`launcher`]: `posix`, a session of its
//!   own; `linux`, also its own cgroups, so that every process it ever
//!   forks is found and killed) and confined by the isolators of
//!   `--isolation` ([`isolation`]: `posix/*` measure, `cgroups/*` also
//!   enforce), running as its user ([`user`]).
//! - [`InProcess`] ([`in_process`]): each run is an executor driven in
//!   this process, for deterministic simulations.
//!
//! The slave's core never sees the difference: it asks for `Launch`,
//! `Update` and `Kill` actions and learns of a run's end through
//! `executor_exited` and of a limit it hit through [`Limitation`].
//!
//! After a slave restart, [`Containerizer::recover`] takes over the runs of
//! the previous slave process, then [`Containerizer::recovered`] cleans up
//! whatever was not claimed (orphan cgroups).

pub mod in_process;
pub mod isolation;
pub mod launcher;
pub mod mesos;
pub mod procfs;
pub mod usage;
pub mod user;

use std::future::Future;
use std::io;
use std::pin::Pin;

use libprocess::Clock;
use rmesos::task::Reason;
use rmesos::Resources;
use uuid::Uuid;

use crate::core::Launch;

pub use in_process::{InProcess, InProcessRuns, IN_PROCESS_KILLED};
pub use mesos::{Mesos, MesosConfig};
pub use usage::ResourceStatistics;

/// Resolves with a run's exit status as Mesos reports it (the exit code,
/// or minus the signal that killed it) once the run is over and cleaned up.
pub type ExitFuture = Pin<Box<dyn Future<Output = i32>>>;

/// A run that started.
pub struct Launched {
    /// The OS pid (checkpointed so a restarted slave can find it); `None`
    /// for runs that are not OS processes.
    pub pid: Option<u32>,
    pub exit: ExitFuture,
}

/// A limit a container hit (Mesos's `ContainerLimitation`): its tasks end
/// with this reason and message, and the container is killed.
#[derive(Debug, Clone, PartialEq)]
pub struct Limitation {
    pub reason: Reason,
    pub message: String,
}

/// Starts and kills executor runs for the slave's actor (which awaits each
/// run's [`Launched::exit`] and then calls [`Containerizer::reaped`]).
pub trait Containerizer: 'static {
    /// Starts the run `launch.run` (its sandbox is `launch.directory`).
    fn launch(&mut self, launch: &Launch) -> io::Result<Launched>;
    /// Kills the run at once, every process of it; its exit future then
    /// resolves.
    fn kill(&mut self, run: Uuid);
    /// Kills every run (the slave stops, killing its executors).
    fn kill_all(&mut self);
    /// The run's exit future resolved: forget it.
    fn reaped(&mut self, run: Uuid);
    /// Takes over run `run` of a previous slave process (`pid`: its
    /// checkpointed OS pid, if any): the future of its end, or `None` if
    /// it is not running any more (the default: a containerizer that
    /// cannot find runs of another process reports them gone, and their
    /// tasks are then lost).
    fn recover(&mut self, run: Uuid, pid: Option<u32>, clock: &Clock) -> Option<ExitFuture> {
        let _ = (run, pid, clock);
        None
    }
    /// Every run of the checkpoint was offered to [`Containerizer::recover`]:
    /// containers nobody claimed are orphans, killed and removed.
    fn recovered(&mut self) {}
    /// The run's tasks changed: its limits follow its resources (executor
    /// plus tasks; Mesos's `update`).
    fn update(&mut self, run: Uuid, resources: &Resources) {
        let _ = (run, resources);
    }
    /// The run's usage now (None: unknown run, or nothing to measure).
    fn usage(&self, run: Uuid) -> Option<ResourceStatistics> {
        let _ = run;
        None
    }
    /// The usage of each of `runs` (what `/monitor/statistics` asks: a
    /// containerizer can read shared sources, such as `/proc`, once).
    fn usages(&self, runs: &[Uuid]) -> Vec<Option<ResourceStatistics>> {
        runs.iter().map(|r| self.usage(*r)).collect()
    }
    /// Whether the run hit a limit (checked now: an executor reporting a
    /// task killed by the kernel is asked about before its update counts).
    fn limitation(&mut self, run: Uuid) -> Option<Limitation> {
        let _ = run;
        None
    }
}

/// How often a recovered executor that is not our child is checked.
pub const RECOVERED_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// The exit status reported for a recovered executor (not our child: its
/// real status cannot be known).
pub const UNKNOWN_EXIT_STATUS: i32 = -1;
