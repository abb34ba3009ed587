//! The command executor (Mesos's `mesos-executor`): the executor the slave
//! starts for a task that has a command and no executor of its own.
//!
//! It runs its one task's command (`sh -c <value>`, or the executable and
//! arguments when `shell` is false) in the sandbox with the task's
//! environment, in a process group of its own so a kill reaches everything
//! the command started. It reports TASK_STARTING, TASK_RUNNING, then
//! TASK_FINISHED (exit 0), TASK_FAILED ("Command exited with status N", or
//! "Command terminated with signal S"), or TASK_KILLED after a kill:
//! SIGTERM to the group, then SIGKILL after the grace period ([`kill`]: the
//! kill's `kill_policy`, else the task's, else 3 s; on a shutdown at most
//! the slave's `--executor_shutdown_grace_period`), with TASK_KILLING first
//! for frameworks that understand it. Once the terminal
//! update is acknowledged (at most [`ACK_WAIT`]) the driver stops and the
//! process exits.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod checks;
pub mod health;
pub mod kill;
pub mod probe;

use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::info::{FrameworkCapability, FrameworkInfo, KillPolicy};
use rmesos::{ExecutorInfo, SlaveInfo, TaskID, TaskInfo, TaskState, TaskStatus};

/// Longest wait for the terminal update's acknowledgement before exiting.
pub const ACK_WAIT: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct CommandExecutor {
    framework: Option<FrameworkInfo>,
    task: Option<Running>,
    group: TaskGroup,
    /// Told to shut down: nobody will acknowledge the terminal update (the
    /// slave drops updates of a framework it shuts down), so do not wait.
    shutting_down: Arc<AtomicBool>,
    /// The slave's `--executor_shutdown_grace_period` (from the environment).
    shutdown_grace: Duration,
}

/// Runs the command executor until its driver stops, from the environment
/// the slave set; kills whatever is left of the task's process group, and
/// returns the process's exit code: 0 once done, 1 if it cannot start (for
/// example when run by hand without a slave's environment). Must run inside
/// an actix system. `rmesos-executor`'s whole job, shared with `rmesos-local`
/// (which can act as the command executor, see its docs).
pub async fn run() -> i32 {
    let executor = CommandExecutor::new();
    let task_group = executor.task_group();
    let result = ExecutorDriver::run(executor).await;
    task_group.kill();
    match result {
        Ok(status) => {
            tracing::info!("command executor done: {status:?}");
            0
        }
        Err(e) => {
            eprintln!("rmesos-executor: {e}");
            1
        }
    }
}

/// The process group of the task while it runs. The binary kills what is
/// left of it when the driver stops (e.g. the slave vanished and the grace
/// period ran out before the task died), so no task outlives its executor.
#[derive(Clone, Default)]
pub struct TaskGroup(Arc<Mutex<Option<i32>>>);

impl TaskGroup {
    fn set(&self, pgid: Option<i32>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = pgid;
    }

    fn is_running(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// SIGKILLs the task's process group if the task is still running.
    pub fn kill(&self) {
        if let Some(pgid) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            tracing::warn!(pgid, "killing the task's process group left behind");
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

struct Running {
    id: TaskID,
    kill_policy: Option<KillPolicy>,
    killer: Killer,
}

/// How the running task is killed, shared with its health checks.
#[derive(Clone)]
struct Killer {
    /// The command's process group (= its pid).
    pgid: i32,
    killed: Arc<AtomicBool>,
    /// Killed for failing its health check: the terminal update says `healthy: false`.
    unhealthy: Arc<AtomicBool>,
    kill: Arc<Mutex<kill::Kill>>,
    group: TaskGroup,
    /// The framework has TASK_KILLING_STATE.
    task_killing: bool,
}

impl Killer {
    /// SIGTERM (at the first kill), SIGKILL once `grace` is over.
    fn kill(&self, driver: &ExecutorDriver, task_id: &TaskID, grace: Duration) {
        // Only a running command is signalled: an ended one's group id may be reused.
        if !self.group.is_running() {
            return;
        }
        let clock = driver.clock().clone();
        let step = self.kill.lock().unwrap_or_else(|e| e.into_inner()).kill(clock.now(), grace);
        if step.terminate {
            self.killed.store(true, Ordering::SeqCst);
            if self.task_killing {
                CommandExecutor::status(driver, task_id, TaskState::Killing, None);
            }
            tracing::info!(task = %task_id, "killing the task: SIGTERM, SIGKILL after {grace:?}");
            signal_group(self.pgid, libc::SIGTERM);
        }
        if let Some(at) = step.escalate_at {
            let (pgid, kill, group) = (self.pgid, self.kill.clone(), self.group.clone());
            actix_rt::spawn(async move {
                clock.sleep_until(at).await;
                let due = kill.lock().unwrap_or_else(|e| e.into_inner()).escalate(at);
                if due && group.is_running() {
                    tracing::info!(pgid, "the task outlived its kill grace period: SIGKILL");
                    signal_group(pgid, libc::SIGKILL);
                }
            });
        }
    }
}

impl CommandExecutor {
    pub fn new() -> CommandExecutor {
        use rmesos::executor::env::{ExecutorEnv, DEFAULT_SHUTDOWN_GRACE_PERIOD};
        let shutdown_grace =
            ExecutorEnv::from_env().map(|e| e.shutdown_grace_period).unwrap_or(DEFAULT_SHUTDOWN_GRACE_PERIOD);
        CommandExecutor { shutdown_grace, ..CommandExecutor::default() }
    }

    /// A handle on the running task's process group (see [`TaskGroup`]).
    pub fn task_group(&self) -> TaskGroup {
        self.group.clone()
    }

    fn status(driver: &ExecutorDriver, task: &TaskID, state: TaskState, message: Option<String>) {
        let mut st = TaskStatus::new(task.clone(), state);
        st.message = message;
        if let Err(e) = driver.send_status_update(st) {
            tracing::error!(%task, error = %e, "cannot send status update");
        }
    }

    /// Sends the terminal update, waits for its acknowledgement (unless
    /// shutting down), stops.
    async fn finish(
        driver: ExecutorDriver,
        task: TaskID,
        state: TaskState,
        message: Option<String>,
        shutting_down: Arc<AtomicBool>,
        healthy: Option<bool>,
    ) {
        tracing::info!(%task, %state, "task is terminal: {}", message.as_deref().unwrap_or(""));
        let mut st = TaskStatus::new(task.clone(), state);
        st.message = message;
        st.healthy = healthy;
        if let Err(e) = driver.send_status_update(st) {
            tracing::error!(%task, error = %e, "cannot send status update");
        }
        if !shutting_down.load(Ordering::SeqCst) && !driver.flush(ACK_WAIT).await {
            tracing::warn!("terminal update not acknowledged within {ACK_WAIT:?}; exiting anyway");
        }
        driver.stop();
    }
}

impl Executor for CommandExecutor {
    fn registered(&mut self, _d: &ExecutorDriver, e: &ExecutorInfo, f: &FrameworkInfo, s: &SlaveInfo) {
        tracing::info!(executor = %e.executor_id, framework = %f.name, slave = %s.hostname, "registered");
        self.framework = Some(f.clone());
    }

    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let id = task.task_id.clone();
        if self.task.is_some() {
            let msg = "the command executor runs one task; launch another with its own executor".to_string();
            return CommandExecutor::status(driver, &id, TaskState::Failed, Some(msg));
        }
        let Some(command) = task.command.clone().filter(|c| c.validate().is_ok()) else {
            return CommandExecutor::status(driver, &id, TaskState::Failed, Some("task has no valid command".into()));
        };
        let value = command.value.clone().unwrap_or_default();
        let mut cmd = if command.shell {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c").arg(&value);
            c
        } else {
            let mut c = tokio::process::Command::new(&value);
            if let Some((argv0, rest)) = command.arguments.split_first() {
                c.arg0(argv0).args(rest);
            }
            c
        };
        cmd.envs(command.environment.variables.iter().map(|v| (v.name.as_str(), v.value.as_str())))
            .stdin(Stdio::null())
            .process_group(0);
        CommandExecutor::status(driver, &id, TaskState::Starting, None);
        tracing::info!(task = %id, "running: {value}");
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let d = driver.clone();
                actix_rt::spawn(CommandExecutor::finish(
                    d,
                    id,
                    TaskState::Failed,
                    Some(format!("Failed to launch the command: {e}")),
                    self.shutting_down.clone(),
                    None,
                ));
                return;
            }
        };
        let pgid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        let task_killing =
            self.framework.as_ref().is_some_and(|f| f.has_capability(FrameworkCapability::TaskKillingState));
        let killer = Killer {
            pgid,
            killed: Arc::new(AtomicBool::new(false)),
            unhealthy: Arc::new(AtomicBool::new(false)),
            kill: Arc::new(Mutex::new(kill::Kill::default())),
            group: self.group.clone(),
            task_killing,
        };
        self.task = Some(Running { id: id.clone(), kill_policy: task.kill_policy.clone(), killer: killer.clone() });
        self.group.set(Some(pgid));
        CommandExecutor::status(driver, &id, TaskState::Running, None);
        checks::start(driver, &task, killer.clone());
        let (d, group, shutting_down) = (driver.clone(), self.group.clone(), self.shutting_down.clone());
        actix_rt::spawn(async move {
            let status = child.wait().await;
            group.set(None);
            let (state, message) = terminal(status, killer.killed.load(Ordering::SeqCst));
            let healthy = killer.unhealthy.load(Ordering::SeqCst).then_some(false);
            CommandExecutor::finish(d, id, state, Some(message), shutting_down, healthy).await;
        });
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskID) {
        self.kill_task_with_policy(driver, task_id, None)
    }

    fn kill_task_with_policy(&mut self, driver: &ExecutorDriver, task_id: &TaskID, policy: Option<&KillPolicy>) {
        let grace = self.task.as_ref().map(|t| kill::grace_period(policy, t.kill_policy.as_ref()));
        self.kill_with_grace(driver, task_id, grace.unwrap_or(kill::DEFAULT_GRACE_PERIOD));
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        self.shutting_down.store(true, Ordering::SeqCst);
        match self.task.as_ref().map(|t| (t.id.clone(), t.kill_policy.clone())) {
            // The terminal update follows the kill, then the driver stops.
            Some((id, policy)) if self.group.is_running() => {
                let grace = kill::shutdown_grace_period(policy.as_ref(), self.shutdown_grace);
                self.kill_with_grace(driver, &id, grace)
            }
            // Nothing runs: done at once.
            _ => driver.stop(),
        }
    }

    fn error(&mut self, driver: &ExecutorDriver, message: &str) {
        tracing::error!("driver error: {message}");
        driver.stop();
    }
}

impl CommandExecutor {
    /// SIGTERM (at the first kill), SIGKILL once `grace` is over.
    fn kill_with_grace(&mut self, driver: &ExecutorDriver, task_id: &TaskID, grace: Duration) {
        match &self.task {
            Some(t) if &t.id == task_id => t.killer.kill(driver, task_id, grace),
            Some(_) => tracing::warn!(task = %task_id, "kill of a task this executor does not run"),
            None => {
                // Killed before it was launched here: nothing to run.
                actix_rt::spawn(CommandExecutor::finish(
                    driver.clone(),
                    task_id.clone(),
                    TaskState::Killed,
                    Some("Killed before launch".into()),
                    self.shutting_down.clone(),
                    None,
                ));
            }
        }
    }
}

/// The terminal state and message for how the command ended.
pub fn terminal(status: std::io::Result<std::process::ExitStatus>, killed: bool) -> (TaskState, String) {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Err(e) => (TaskState::Failed, format!("Failed to wait for the command: {e}")),
        Ok(_) if killed => (TaskState::Killed, "Command killed".into()),
        Ok(s) if s.success() => (TaskState::Finished, "Command exited with status 0".into()),
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => (TaskState::Failed, format!("Command exited with status {code}")),
            (None, Some(sig)) => (TaskState::Failed, format!("Command terminated with signal {sig}")),
            _ => (TaskState::Failed, "Command ended in an unknown way".into()),
        },
    }
}

fn signal_group(pgid: i32, sig: i32) {
    if pgid > 1 {
        // SAFETY: a plain syscall on our own child's process group.
        unsafe {
            libc::killpg(pgid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    #[test]
    fn terminal_states_follow_the_exit() {
        assert_eq!(terminal(Ok(ExitStatus::from_raw(0)), false).0, TaskState::Finished);
        assert_eq!(
            terminal(Ok(ExitStatus::from_raw(3 << 8)), false),
            (TaskState::Failed, "Command exited with status 3".into())
        );
        assert_eq!(terminal(Ok(ExitStatus::from_raw(9)), false).1, "Command terminated with signal 9");
        assert_eq!(terminal(Ok(ExitStatus::from_raw(15)), true).0, TaskState::Killed);
    }
}
