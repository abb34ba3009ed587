//! The executor API: the [`Executor`] trait a framework's executor
//! implements, and the [`ExecutorDriver`] that connects it to its slave.
//!
//! A slave starts an executor as a process with the environment of [`env`];
//! the executor calls [`ExecutorDriver::run`] (or `start` + `join`) with its
//! `Executor`. The driver registers with the slave, then calls the executor
//! back on its own actor: `registered`, then `launch_task` for each task;
//! the executor reports each task's state with
//! [`ExecutorDriver::send_status_update`]. The slave retries those updates
//! to the master until the framework acknowledges them; the driver keeps
//! them until acknowledged too, so a restarted slave gets them back
//! ([`core`]). [`ExecutorDriver::flush`] waits until every update sent is
//! acknowledged (an executor about to exit uses it).
//!
//! ```no_run
//! use rmesos::executor::{Executor, ExecutorDriver};
//! use rmesos::{TaskInfo, TaskState, TaskStatus};
//!
//! struct Hello;
//! impl Executor for Hello {
//!     fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
//!         let _ = driver.send_status_update(TaskStatus::new(task.task_id, TaskState::Finished));
//!     }
//! }
//! # async fn main_() {
//! let status = ExecutorDriver::run(Hello).await;
//! # }
//! ```

pub mod core;
pub mod env;
mod process;

use std::sync::Arc;
use std::time::Duration;

use libprocess::{Clock, Config, Node, Upid};
use tokio::sync::{mpsc, watch};

use crate::ids::TaskID;
use crate::info::{ExecutorInfo, FrameworkInfo, SlaveInfo, TaskInfo};
use crate::task::{TaskState, TaskStatus};
pub use env::{EnvError, ExecutorEnv};

/// The actor id of an executor driver (Mesos's `executor(1)`).
pub const EXECUTOR_PROCESS_ID: &str = "executor(1)";

/// A framework's executor. Every callback runs on the driver's actor, one at
/// a time; long work belongs in a spawned task that reports back through the
/// (cloneable) driver.
#[allow(unused_variables)]
pub trait Executor: 'static {
    /// Registered with the slave (once per executor run).
    fn registered(
        &mut self,
        driver: &ExecutorDriver,
        executor_info: &ExecutorInfo,
        framework_info: &FrameworkInfo,
        slave_info: &SlaveInfo,
    ) {
    }
    /// Reregistered with a restarted slave.
    fn reregistered(&mut self, driver: &ExecutorDriver, slave_info: &SlaveInfo) {}
    /// The slave went away; a checkpointing framework's executor waits for it.
    fn disconnected(&mut self, driver: &ExecutorDriver) {}
    /// Run `task`; report its states with `send_status_update`.
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo);
    /// Kill a task; report TASK_KILLED once it is dead.
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskID) {}
    /// Kill a task with the kill's own policy (`None`: the task's); by
    /// default [`Executor::kill_task`].
    fn kill_task_with_policy(
        &mut self,
        driver: &ExecutorDriver,
        task_id: &TaskID,
        kill_policy: Option<&crate::info::KillPolicy>,
    ) {
        self.kill_task(driver, task_id)
    }
    /// Opaque data from the framework's scheduler.
    fn framework_message(&mut self, driver: &ExecutorDriver, data: &[u8]) {}
    /// Kill every task and exit; the slave kills the process group after
    /// its `--executor_shutdown_grace_period`.
    fn shutdown(&mut self, driver: &ExecutorDriver) {}
    /// The driver hit an unrecoverable error.
    fn error(&mut self, driver: &ExecutorDriver, message: &str) {}
}

/// A boxed executor is an executor (an embedder choosing one per launch,
/// e.g. a simulated cluster's executor factory).
impl Executor for Box<dyn Executor> {
    fn registered(&mut self, d: &ExecutorDriver, e: &ExecutorInfo, f: &FrameworkInfo, s: &SlaveInfo) {
        (**self).registered(d, e, f, s)
    }
    fn reregistered(&mut self, d: &ExecutorDriver, s: &SlaveInfo) {
        (**self).reregistered(d, s)
    }
    fn disconnected(&mut self, d: &ExecutorDriver) {
        (**self).disconnected(d)
    }
    fn launch_task(&mut self, d: &ExecutorDriver, task: TaskInfo) {
        (**self).launch_task(d, task)
    }
    fn kill_task(&mut self, d: &ExecutorDriver, task_id: &TaskID) {
        (**self).kill_task(d, task_id)
    }
    fn framework_message(&mut self, d: &ExecutorDriver, data: &[u8]) {
        (**self).framework_message(d, data)
    }
    fn shutdown(&mut self, d: &ExecutorDriver) {
        (**self).shutdown(d)
    }
    fn error(&mut self, d: &ExecutorDriver, message: &str) {
        (**self).error(d, message)
    }
}

/// How a driver ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverStatus {
    Running,
    /// Stopped, with the reason.
    Stopped(String),
}

/// Why the driver could not start or refused a call.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error("cannot start the driver's node: {0}")]
    Node(String),
    #[error(transparent)]
    Send(#[from] core::SendError),
}

pub(crate) enum Command {
    StatusUpdate(TaskStatus),
    FrameworkMessage(Vec<u8>),
    Stop,
}

/// How to start an executor driver on a node ([`ExecutorDriver::spawn`]):
/// the environment the slave gave the executor, and the executor.
pub struct ExecutorOptions<E> {
    pub env: ExecutorEnv,
    pub executor: E,
}

/// A handle on a running driver; clones share it. `Send + Sync`.
#[derive(Clone)]
pub struct ExecutorDriver {
    tx: mpsc::UnboundedSender<Command>,
    /// Updates handed to the driver and not yet acknowledged: counted up
    /// here when queued (so `flush` right after `send_status_update` waits
    /// for it), down by the actor on acknowledgement or refusal.
    unacknowledged: Arc<watch::Sender<usize>>,
    status: watch::Receiver<DriverStatus>,
    clock: Clock,
    pid: Upid,
}

impl ExecutorDriver {
    /// Starts a driver for `executor`, configured from the environment the
    /// slave set; binds its node on `LIBPROCESS_IP` (any port). Must run
    /// inside an actix system.
    pub async fn start<E: Executor>(executor: E) -> Result<ExecutorDriver, DriverError> {
        let env = ExecutorEnv::from_env()?;
        let mut config = Config::from_env().map_err(|e| DriverError::Node(e.to_string()))?;
        // The slave's own port may be in the inherited environment; never reuse it.
        config.port = 0;
        let node = Node::bind(config).await.map_err(|e| DriverError::Node(e.to_string()))?;
        ExecutorDriver::spawn(&node, ExecutorOptions { env, executor })
    }

    /// Starts a driver (process `executor(1)`) on `node`, as the master's
    /// and the slave's `spawn(&Node, Options)` do: tests, in-process
    /// executors.
    pub fn spawn<E: Executor>(node: &Node, opts: ExecutorOptions<E>) -> Result<ExecutorDriver, DriverError> {
        process::spawn(node, opts.env, opts.executor)
    }

    /// `start` then `join`: returns when the driver stops.
    pub async fn run<E: Executor>(executor: E) -> Result<DriverStatus, DriverError> {
        let driver = ExecutorDriver::start(executor).await?;
        Ok(driver.join().await)
    }

    /// Waits until the driver stops.
    pub async fn join(&self) -> DriverStatus {
        let mut rx = self.status.clone();
        loop {
            if let DriverStatus::Stopped(r) = &*rx.borrow_and_update() {
                return DriverStatus::Stopped(r.clone());
            }
            if rx.changed().await.is_err() {
                return DriverStatus::Stopped("driver dropped".into());
            }
        }
    }

    /// The clock of the driver's node (for the executor's own timers).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The driver's Upid.
    pub fn pid(&self) -> &Upid {
        &self.pid
    }

    /// Sends a task's status to the slave (and on to the framework). The
    /// uuid and timestamp are set here; the source is SOURCE_EXECUTOR.
    pub fn send_status_update(&self, status: TaskStatus) -> Result<(), DriverError> {
        if status.state == TaskState::Staging {
            return Err(core::SendError::Staging.into());
        }
        self.unacknowledged.send_modify(|n| *n += 1);
        if self.tx.send(Command::StatusUpdate(status)).is_err() {
            self.unacknowledged.send_modify(|n| *n = n.saturating_sub(1));
            return Err(core::SendError::Stopped.into());
        }
        Ok(())
    }

    /// Sends opaque data to the framework's scheduler (best effort).
    pub fn send_framework_message(&self, data: Vec<u8>) {
        let _ = self.tx.send(Command::FrameworkMessage(data));
    }

    /// Stops the driver.
    pub fn stop(&self) {
        let _ = self.tx.send(Command::Stop);
    }

    /// Updates sent and not yet acknowledged.
    pub fn unacknowledged(&self) -> usize {
        *self.unacknowledged.borrow()
    }

    /// Waits (at most `timeout` on the driver's clock) until every update
    /// sent so far is acknowledged. True if they all were.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let mut rx = self.unacknowledged.subscribe();
        let wait = async move {
            loop {
                if *rx.borrow_and_update() == 0 {
                    return true;
                }
                if rx.changed().await.is_err() {
                    return false;
                }
            }
        };
        self.clock.timeout(timeout, wait).await.unwrap_or(false)
    }
}
