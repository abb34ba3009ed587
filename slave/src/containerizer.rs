//! How the slave starts and kills executor runs: the [`Containerizer`]
//! trait, with two implementations.
//!
//! - [`Posix`] (the default, what `rmesos-slave` uses): each run is a child
//!   process in a session of its own ([`crate::launcher`]); killing a run
//!   kills the session; a run ends when the child exits.
//! - [`InProcess`]: each run is an [`Executor`] driven by an
//!   [`ExecutorDriver`] on a node the embedder provides (a simulated node in
//!   deterministic tests, where no OS process can take part). Killing a run
//!   shuts that node down; a run ends when its driver stops.
//!
//! The slave's core never sees the difference: it asks for `Launch` and
//! `Kill` actions and learns of a run's end through `executor_exited`.
//!
//! After a slave restart, [`Containerizer::recover`] takes over the runs of
//! the previous slave process. A posix executor is then not our child: its
//! end is noticed by polling its pid every [`RECOVERED_POLL_INTERVAL`] on
//! the libprocess clock (as Mesos reaps non-children), its exit status is
//! unknown ([`UNKNOWN_EXIT_STATUS`]). In-process runs outlive their slave
//! when they are registered in a shared [`InProcessRuns`] that the
//! restarted slave's `InProcess` is given.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;

use libprocess::{Clock, Node};
use rmesos::executor::{DriverError, Executor, ExecutorDriver, ExecutorEnv};
use uuid::Uuid;

use crate::core::Launch;
use crate::launcher;

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

/// Starts and kills executor runs for the slave's actor (which awaits each
/// run's [`Launched::exit`] and then calls [`Containerizer::reaped`]).
pub trait Containerizer: 'static {
    /// Starts the run `launch.run` (its sandbox is `launch.directory`).
    fn launch(&mut self, launch: &Launch) -> io::Result<Launched>;
    /// Kills the run at once; its exit future then resolves.
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
}

/// How often a recovered executor that is not our child is checked.
pub const RECOVERED_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// The exit status reported for a recovered executor (not our child: its
/// real status cannot be known).
pub const UNKNOWN_EXIT_STATUS: i32 = -1;

/// Executors as child processes (see the module doc).
#[derive(Default)]
pub struct Posix {
    /// Runs alive: run -> OS pid (= session id).
    children: HashMap<Uuid, u32>,
}

impl Containerizer for Posix {
    fn launch(&mut self, l: &Launch) -> io::Result<Launched> {
        let mut child = launcher::launch(l)?;
        let pid = child.id();
        if let Some(pid) = pid {
            self.children.insert(l.run, pid);
        }
        let exit = async move {
            let status = child.wait().await;
            // Whatever the executor left behind in its session goes with it.
            if let Some(pid) = pid {
                launcher::kill_session(pid);
            }
            launcher::status_code(&status)
        };
        Ok(Launched { pid, exit: Box::pin(exit) })
    }

    fn kill(&mut self, run: Uuid) {
        match self.children.get(&run) {
            Some(pid) => launcher::kill_session(*pid),
            None => tracing::debug!(%run, "kill: executor process already gone"),
        }
    }

    fn kill_all(&mut self) {
        for (run, pid) in self.children.drain() {
            tracing::info!(%run, pid, "Killing executor session {pid}");
            launcher::kill_session(pid);
        }
    }

    fn reaped(&mut self, run: Uuid) {
        self.children.remove(&run);
    }

    fn recover(&mut self, run: Uuid, pid: Option<u32>, clock: &Clock) -> Option<ExitFuture> {
        let pid = pid?;
        if !launcher::session_alive(pid) {
            return None;
        }
        self.children.insert(run, pid);
        let clock = clock.clone();
        let exit = async move {
            while launcher::session_alive(pid) {
                clock.sleep(RECOVERED_POLL_INTERVAL).await;
            }
            launcher::kill_session(pid);
            UNKNOWN_EXIT_STATUS
        };
        Some(Box::pin(exit))
    }
}

/// Starts one in-process run: the node it runs on and its driver.
type StartRun = Box<dyn FnMut(&Launch, ExecutorEnv) -> Result<(Node, ExecutorDriver), DriverError>>;

/// Exit status of an in-process run that was killed (as SIGKILL).
pub const IN_PROCESS_KILLED: i32 = -9;

/// One in-process run: its node, its driver, and whether it was killed.
#[derive(Clone)]
struct Run {
    node: Node,
    driver: ExecutorDriver,
    killed: Rc<Cell<bool>>,
}

impl Run {
    fn exit(self) -> ExitFuture {
        Box::pin(async move {
            self.driver.join().await;
            self.node.shutdown();
            if self.killed.get() {
                IN_PROCESS_KILLED
            } else {
                0
            }
        })
    }
}

/// The in-process runs alive, shared between the `InProcess` of a slave
/// and that of the same slave restarted (a simulated slave restart: the
/// executors' nodes live on).
#[derive(Clone, Default)]
pub struct InProcessRuns(Rc<RefCell<HashMap<Uuid, Run>>>);

/// Executors in this process (see the module doc).
pub struct InProcess {
    start: StartRun,
    runs: InProcessRuns,
}

impl InProcess {
    /// Each run gets the node `node_for` returns (one per run: a node holds
    /// one `executor(1)`) and the executor `executor_for` makes; it reads
    /// its environment from the launch, as a process would.
    pub fn new<E: Executor>(
        mut node_for: impl FnMut(&Launch) -> Node + 'static,
        mut executor_for: impl FnMut(&Launch) -> E + 'static,
    ) -> InProcess {
        let start: StartRun = Box::new(move |l, env| {
            let node = node_for(l);
            let driver = ExecutorDriver::start_on(&node, env, executor_for(l))?;
            Ok((node, driver))
        });
        InProcess { start, runs: InProcessRuns::default() }
    }

    /// Registers runs in `runs` (and recovers from it), so that a restarted
    /// slave given the same `runs` finds the executors of the previous one.
    pub fn with_runs(mut self, runs: InProcessRuns) -> InProcess {
        self.runs = runs;
        self
    }
}

impl Containerizer for InProcess {
    fn launch(&mut self, l: &Launch) -> io::Result<Launched> {
        let env = ExecutorEnv::from_lookup(|k| l.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
            .map_err(io::Error::other)?;
        // The sandbox exists for in-process runs too (the slave serves it).
        std::fs::create_dir_all(&l.directory)?;
        let (node, driver) = (self.start)(l, env).map_err(io::Error::other)?;
        let run = Run { node, driver, killed: Rc::new(Cell::new(false)) };
        self.runs.0.borrow_mut().insert(l.run, run.clone());
        Ok(Launched { pid: None, exit: run.exit() })
    }

    fn kill(&mut self, run: Uuid) {
        if let Some(r) = self.runs.0.borrow().get(&run) {
            r.killed.set(true);
            r.node.shutdown();
        }
    }

    fn kill_all(&mut self) {
        for r in self.runs.0.borrow().values() {
            r.killed.set(true);
            r.node.shutdown();
        }
    }

    fn reaped(&mut self, run: Uuid) {
        self.runs.0.borrow_mut().remove(&run);
    }

    fn recover(&mut self, run: Uuid, _pid: Option<u32>, _clock: &Clock) -> Option<ExitFuture> {
        let r = self.runs.0.borrow().get(&run).cloned()?;
        Some(r.exit())
    }
}
