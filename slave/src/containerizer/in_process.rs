//! Executors in this process, for simulations: each run is an
//! [`Executor`] driven by an [`ExecutorDriver`] on a node the embedder
//! provides (a simulated node in deterministic tests, where no OS process
//! can take part). Killing a run shuts that node down; a run ends when its
//! driver stops. In-process runs outlive their slave when they are
//! registered in a shared [`InProcessRuns`] that the restarted slave's
//! `InProcess` is given. No isolation: there is no process to isolate.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::rc::Rc;

use libprocess::{Clock, Node};
use rmesos::executor::{DriverError, Executor, ExecutorDriver, ExecutorEnv, ExecutorOptions};
use uuid::Uuid;

use super::{Containerizer, ExitFuture, Launched};
use crate::core::Launch;

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
            let driver = ExecutorDriver::spawn(&node, ExecutorOptions { env, executor: executor_for(l) })?;
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
