//! The internal messages of the cluster, one serde struct each, named as
//! Mesos's `messages.proto` names them with `mesos.internal.` replaced by
//! `rmesos.internal.` (`rmesos.internal.RegisterSlaveMessage`). The name is
//! what travels ([`libprocess::Message::NAME`]); bodies are msgpack maps, so a
//! field added later with `#[serde(default)]` stays compatible.
//!
//! Grouped by who talks to whom:
//! - [`scheduler`]: scheduler <-> master (registration, offers, launch and
//!   decline, kill, revive/suppress, reconcile, framework messages, lost
//!   slave, exited executor);
//! - [`slave`]: slave <-> master (registration, ping/pong, run task,
//!   shutdowns);
//! - [`executor`]: executor <-> slave (registration, reconnection, shutdown);
//! - [`status`]: status updates and acknowledgements, which cross all three.
//!
//! The happy path: scheduler `RegisterFramework` -> master
//! `FrameworkRegistered`; slave `RegisterSlave` -> master `SlaveRegistered`;
//! master `ResourceOffers` -> scheduler `LaunchTasks` -> master `RunTask` ->
//! slave (spawns the executor) <- `RegisterExecutor`; slave `RunTask` ->
//! executor `StatusUpdate` -> slave -> master -> scheduler
//! `StatusUpdateAcknowledgement` -> master -> slave -> executor.

pub mod executor;
pub mod scheduler;
pub mod slave;
pub mod status;
#[cfg(test)]
mod tests;

use libprocess::Message;

pub use executor::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, ReconnectExecutorMessage, RegisterExecutorMessage,
    ReregisterExecutorMessage, ShutdownExecutorMessage,
};
pub use scheduler::{
    DeactivateFrameworkMessage, ExecutorToFrameworkMessage, ExitedExecutorMessage, FrameworkErrorMessage,
    FrameworkRegisteredMessage, FrameworkReregisteredMessage, FrameworkToExecutorMessage, KillTaskMessage,
    LaunchTasksMessage, LostSlaveMessage, ReconcileTasksMessage, RegisterFrameworkMessage, ReregisterFrameworkMessage,
    RescindResourceOfferMessage, ResourceOffersMessage, ReviveOffersMessage, SuppressOffersMessage,
    UnregisterFrameworkMessage, UpdateFrameworkMessage,
};
pub use slave::{
    ArchivedFramework, MasterSlaveConnection, PingSlaveMessage, PongSlaveMessage, RegisterSlaveMessage,
    ReregisterSlaveMessage, RunTaskMessage, ShutdownFrameworkMessage, ShutdownMessage, SlaveRegisteredMessage,
    SlaveReregisteredMessage, UnregisterSlaveMessage,
};
pub use status::{StatusUpdate, StatusUpdateAcknowledgementMessage, StatusUpdateMessage};

/// The prefix of every rmesos message name.
pub const NAME_PREFIX: &str = "rmesos.internal.";

/// The wire name of every message defined here (for metrics, logs and tests).
pub const NAMES: &[&str] = &[
    RegisterFrameworkMessage::NAME,
    ReregisterFrameworkMessage::NAME,
    FrameworkRegisteredMessage::NAME,
    FrameworkReregisteredMessage::NAME,
    UnregisterFrameworkMessage::NAME,
    DeactivateFrameworkMessage::NAME,
    ResourceOffersMessage::NAME,
    RescindResourceOfferMessage::NAME,
    LaunchTasksMessage::NAME,
    ReviveOffersMessage::NAME,
    SuppressOffersMessage::NAME,
    KillTaskMessage::NAME,
    ReconcileTasksMessage::NAME,
    FrameworkErrorMessage::NAME,
    FrameworkToExecutorMessage::NAME,
    ExecutorToFrameworkMessage::NAME,
    LostSlaveMessage::NAME,
    ExitedExecutorMessage::NAME,
    UpdateFrameworkMessage::NAME,
    RegisterSlaveMessage::NAME,
    ReregisterSlaveMessage::NAME,
    SlaveRegisteredMessage::NAME,
    SlaveReregisteredMessage::NAME,
    UnregisterSlaveMessage::NAME,
    PingSlaveMessage::NAME,
    PongSlaveMessage::NAME,
    RunTaskMessage::NAME,
    ShutdownFrameworkMessage::NAME,
    ShutdownMessage::NAME,
    RegisterExecutorMessage::NAME,
    ExecutorRegisteredMessage::NAME,
    ReregisterExecutorMessage::NAME,
    ExecutorReregisteredMessage::NAME,
    ReconnectExecutorMessage::NAME,
    ShutdownExecutorMessage::NAME,
    StatusUpdateMessage::NAME,
    StatusUpdateAcknowledgementMessage::NAME,
];
