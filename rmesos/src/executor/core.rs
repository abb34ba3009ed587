//! The executor driver's protocol, pure: events from the slave and from the
//! executor in, [`Action`]s out (messages, callbacks, stop). No I/O, no clock.
//!
//! What it remembers, as Mesos's `ExecutorProcess` does: the tasks it was
//! given whose first update is not yet acknowledged, and every update sent
//! and not yet acknowledged. A restarted slave that recovered this executor
//! asks it to reconnect ([`ReconnectExecutorMessage`]); the driver answers
//! with both lists so the slave resends what the framework never saw.

use std::collections::BTreeMap;
use std::time::Duration;

use libprocess::Upid;
use uuid::Uuid;

use super::env::ExecutorEnv;
use crate::ids::{SlaveID, TaskID};
use crate::info::{ExecutorInfo, FrameworkInfo, SlaveInfo, TaskInfo};
use crate::messages::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, ExecutorToFrameworkMessage, FrameworkToExecutorMessage,
    KillTaskMessage, ReconnectExecutorMessage, RegisterExecutorMessage, ReregisterExecutorMessage, RunTaskMessage,
    StatusUpdate, StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use crate::task::{Source, TaskState, TaskStatus};

/// Updates kept unacknowledged; more are refused (the slave is gone or
/// stuck and the executor floods).
pub const MAX_UNACKNOWLEDGED_UPDATES: usize = 10_000;

/// A callback of the [`super::Executor`] to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Callback {
    Registered {
        executor_info: Box<ExecutorInfo>,
        framework_info: Box<FrameworkInfo>,
        slave_info: Box<SlaveInfo>,
    },
    Reregistered(Box<SlaveInfo>),
    Disconnected,
    LaunchTask(Box<TaskInfo>),
    /// With the kill's own policy, if it has one.
    KillTask(TaskID, Option<crate::info::KillPolicy>),
    FrameworkMessage(Vec<u8>),
    Shutdown,
    Error(String),
}

libprocess::outgoing! {
    /// A message the driver sends to its slave. (Actions live for one call;
    /// boxing the larger messages would buy nothing.)
    #[allow(clippy::large_enum_variant)]
    #[derive(Debug, Clone, PartialEq)]
    pub enum Outgoing {
        Register(RegisterExecutorMessage),
        Reregister(ReregisterExecutorMessage),
        StatusUpdate(StatusUpdateMessage),
        FrameworkMessage(ExecutorToFrameworkMessage),
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(Upid, Outgoing),
    Link(Upid),
    Callback(Callback),
    /// Wait this long for a restarted slave, then give up (timer id).
    RecoveryTimer(u64),
    /// An update sent by the executor was acknowledged.
    Acknowledged(Uuid),
    /// Stop after this grace period unless the executor stops first
    /// (it is shutting down its tasks).
    StopTimer(Duration),
    /// The driver is done (with the reason, for the log).
    Stop(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Registering,
    Connected,
    /// The slave went away; waiting for it to come back (checkpointing).
    Disconnected,
    /// The slave is gone for good: the executor was told to shut down and
    /// has the grace period to do it.
    ShuttingDown,
    Stopped,
}

/// Why a status update was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    #[error("TASK_STAGING is the slave's state; an executor may not send it")]
    Staging,
    #[error("the driver is stopped")]
    Stopped,
    #[error("{MAX_UNACKNOWLEDGED_UPDATES} status updates are unacknowledged already")]
    TooManyUnacknowledged,
}

pub struct DriverCore {
    env: ExecutorEnv,
    me: Upid,
    slave: Upid,
    state: State,
    slave_id: SlaveID,
    /// Tasks launched whose updates are not all acknowledged.
    tasks: BTreeMap<TaskID, TaskInfo>,
    /// Updates sent and not acknowledged, by uuid, in sending order.
    updates: Vec<StatusUpdate>,
    recovery_timer: u64,
}

impl DriverCore {
    pub fn new(env: ExecutorEnv, me: Upid) -> DriverCore {
        DriverCore {
            slave: env.slave_pid.clone(),
            slave_id: env.slave_id.clone(),
            env,
            me,
            state: State::Registering,
            tasks: BTreeMap::new(),
            updates: Vec::new(),
            recovery_timer: 0,
        }
    }

    pub fn env(&self) -> &ExecutorEnv {
        &self.env
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn unacknowledged(&self) -> usize {
        self.updates.len()
    }

    /// The driver started: register with the slave, watch it.
    pub fn start(&mut self) -> Vec<Action> {
        let msg = RegisterExecutorMessage {
            framework_id: self.env.framework_id.clone(),
            executor_id: self.env.executor_id.clone(),
        };
        vec![Action::Link(self.slave.clone()), Action::Send(self.slave.clone(), Outgoing::Register(msg))]
    }

    fn is_our_slave(&self, from: &Upid, what: &str) -> bool {
        if matches!(self.state, State::Stopped | State::ShuttingDown) {
            return false;
        }
        if from != &self.slave {
            tracing::warn!(%from, slave = %self.slave, "ignoring {what} from a process that is not our slave");
            return false;
        }
        true
    }

    pub fn registered(&mut self, from: &Upid, msg: ExecutorRegisteredMessage) -> Vec<Action> {
        if !self.is_our_slave(from, "ExecutorRegisteredMessage") {
            return vec![];
        }
        tracing::info!(executor = %self.env.executor_id, slave = %from, "executor registered on slave {}", msg.slave_id);
        self.state = State::Connected;
        self.slave_id = msg.slave_id;
        vec![Action::Callback(Callback::Registered {
            executor_info: Box::new(msg.executor_info),
            framework_info: Box::new(msg.framework_info),
            slave_info: Box::new(msg.slave_info),
        })]
    }

    pub fn reregistered(&mut self, from: &Upid, msg: ExecutorReregisteredMessage) -> Vec<Action> {
        if !self.is_our_slave(from, "ExecutorReregisteredMessage") {
            return vec![];
        }
        tracing::info!(executor = %self.env.executor_id, slave = %from, "executor reregistered");
        self.state = State::Connected;
        self.slave_id = msg.slave_id;
        vec![Action::Callback(Callback::Reregistered(Box::new(msg.slave_info)))]
    }

    /// A restarted slave (same address, maybe a new node) asks us back:
    /// reregister with what is not acknowledged yet.
    pub fn reconnect(&mut self, from: &Upid, msg: ReconnectExecutorMessage) -> Vec<Action> {
        if matches!(self.state, State::Stopped | State::ShuttingDown) {
            return vec![];
        }
        // As Mesos: the slave is known by its id, which a recovered slave
        // keeps (from its checkpoint) even when it comes back on another
        // address; a slave with another id (e.g. `--recover=cleanup`) is not
        // ours.
        if msg.slave_id != self.slave_id {
            tracing::warn!(%from, slave_id = %msg.slave_id, ours = %self.slave_id,
                "Ignoring a reconnect request from another slave");
            return vec![];
        }
        tracing::info!(executor = %self.env.executor_id, slave = %from, "slave restarted; reregistering");
        self.slave = from.clone();
        self.slave_id = msg.slave_id;
        let reregister = ReregisterExecutorMessage {
            executor_id: self.env.executor_id.clone(),
            framework_id: self.env.framework_id.clone(),
            tasks: self.tasks.values().cloned().collect(),
            updates: self.updates.clone(),
        };
        vec![Action::Link(from.clone()), Action::Send(from.clone(), Outgoing::Reregister(reregister))]
    }

    pub fn run_task(&mut self, from: &Upid, msg: RunTaskMessage) -> Vec<Action> {
        if !self.is_our_slave(from, "RunTaskMessage") {
            return vec![];
        }
        self.tasks.insert(msg.task.task_id.clone(), msg.task.clone());
        vec![Action::Callback(Callback::LaunchTask(Box::new(msg.task)))]
    }

    pub fn kill_task(&mut self, from: &Upid, msg: KillTaskMessage) -> Vec<Action> {
        if !self.is_our_slave(from, "KillTaskMessage") {
            return vec![];
        }
        vec![Action::Callback(Callback::KillTask(msg.task_id, msg.kill_policy))]
    }

    pub fn acknowledged(&mut self, from: &Upid, msg: StatusUpdateAcknowledgementMessage) -> Vec<Action> {
        if !self.is_our_slave(from, "StatusUpdateAcknowledgementMessage") {
            return vec![];
        }
        let before = self.updates.len();
        self.updates.retain(|u| u.uuid != Some(msg.uuid));
        if self.updates.len() == before {
            tracing::warn!(task = %msg.task_id, uuid = %msg.uuid, "acknowledgement of an unknown update");
            return vec![];
        }
        // Once any update of a task is acknowledged the slave knows the task.
        self.tasks.remove(&msg.task_id);
        vec![Action::Acknowledged(msg.uuid)]
    }

    pub fn framework_message(&mut self, from: &Upid, msg: FrameworkToExecutorMessage) -> Vec<Action> {
        if !self.is_our_slave(from, "FrameworkToExecutorMessage") {
            return vec![];
        }
        vec![Action::Callback(Callback::FrameworkMessage(msg.data))]
    }

    pub fn shutdown(&mut self, from: &Upid) -> Vec<Action> {
        if !self.is_our_slave(from, "ShutdownExecutorMessage") {
            return vec![];
        }
        tracing::info!(executor = %self.env.executor_id, "slave asked the executor to shut down");
        vec![Action::Callback(Callback::Shutdown)]
    }

    /// The link to the slave broke. A checkpointing executor waits for the
    /// slave to come back (up to the recovery timeout); others shut down, as
    /// Mesos's driver does.
    pub fn slave_exited(&mut self, pid: &Upid) -> Vec<Action> {
        if self.state == State::Stopped || pid != &self.slave {
            return vec![];
        }
        if self.env.checkpoint {
            tracing::warn!(slave = %pid, timeout = ?self.env.recovery_timeout, "slave exited; waiting for it to recover");
            self.state = State::Disconnected;
            self.recovery_timer += 1;
            return vec![Action::Callback(Callback::Disconnected), Action::RecoveryTimer(self.recovery_timer)];
        }
        tracing::warn!(slave = %pid, "slave exited and the framework does not checkpoint; shutting down");
        self.shut_down()
    }

    pub fn recovery_timeout(&mut self, timer: u64) -> Vec<Action> {
        if self.state != State::Disconnected || timer != self.recovery_timer {
            return vec![];
        }
        tracing::warn!("slave did not come back within {:?}; shutting down", self.env.recovery_timeout);
        self.shut_down()
    }

    /// No slave any more: the executor shuts its tasks down, and the driver
    /// stops when it says so or after the shutdown grace period.
    fn shut_down(&mut self) -> Vec<Action> {
        self.state = State::ShuttingDown;
        vec![Action::Callback(Callback::Shutdown), Action::StopTimer(self.env.shutdown_grace_period)]
    }

    /// The grace period of [`Action::StopTimer`] is over.
    pub fn stop_timer(&mut self) -> Vec<Action> {
        if self.state != State::ShuttingDown {
            return vec![];
        }
        self.state = State::Stopped;
        vec![Action::Stop("shutdown grace period over".into())]
    }

    /// The executor sends a status (uuid and wall-clock timestamp given).
    pub fn send_status_update(
        &mut self,
        status: TaskStatus,
        uuid: Uuid,
        timestamp: f64,
    ) -> Result<Vec<Action>, SendError> {
        if matches!(self.state, State::Stopped | State::ShuttingDown) {
            return Err(SendError::Stopped);
        }
        if status.state == TaskState::Staging {
            return Err(SendError::Staging);
        }
        if self.updates.len() >= MAX_UNACKNOWLEDGED_UPDATES {
            return Err(SendError::TooManyUnacknowledged);
        }
        let status = status.with_source(Source::Executor);
        let update = StatusUpdate::new(
            self.env.framework_id.clone(),
            Some(self.env.executor_id.clone()),
            Some(self.slave_id.clone()),
            status,
            timestamp,
            Some(uuid),
        );
        self.updates.push(update.clone());
        let mut out = Vec::new();
        // While disconnected the update waits for the reregistration.
        if self.state != State::Disconnected {
            let msg = StatusUpdateMessage { update, pid: Some(self.me.clone()) };
            out.push(Action::Send(self.slave.clone(), Outgoing::StatusUpdate(msg)));
        }
        Ok(out)
    }

    pub fn send_framework_message(&mut self, data: Vec<u8>) -> Vec<Action> {
        if matches!(self.state, State::Stopped | State::ShuttingDown) {
            return vec![];
        }
        let msg = ExecutorToFrameworkMessage {
            slave_id: self.slave_id.clone(),
            framework_id: self.env.framework_id.clone(),
            executor_id: self.env.executor_id.clone(),
            data,
        };
        vec![Action::Send(self.slave.clone(), Outgoing::FrameworkMessage(msg))]
    }

    pub fn stop(&mut self) -> Vec<Action> {
        if self.state == State::Stopped {
            return vec![];
        }
        self.state = State::Stopped;
        vec![Action::Stop("stopped by the executor".into())]
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
