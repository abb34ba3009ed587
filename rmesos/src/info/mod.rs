//! The descriptions the cluster's parties exchange about themselves and their
//! work, after Mesos's `mesos.proto`: who a framework, slave or master is
//! ([`FrameworkInfo`], [`SlaveInfo`], [`MasterInfo`]), what to run
//! ([`CommandInfo`], [`ExecutorInfo`], [`TaskInfo`]) and what is on offer
//! ([`Offer`], [`Filters`]).
//!
//! All are plain serde structs: optional fields are `Option`s (left out of JSON
//! and msgpack maps when unset, and defaulted when missing, so peers may add
//! fields later), defaults are Mesos's.

mod checks;
mod command;
mod framework;
mod master;
mod offer;
mod slave;
mod task_info;

pub use checks::{
    CheckCommand, CheckHttp, CheckInfo, CheckStatusInfo, CheckType, CommandCheckStatus, DurationInfo, HealthCheck,
    HttpCheckInfo, HttpCheckStatus, KillPolicy, TcpCheckInfo, TcpCheckStatus,
};
pub use command::{CommandInfo, CommandInfoError, CommandUri, Environment, ExecutorInfo, Variable};
pub use framework::{FrameworkCapability, FrameworkInfo, FrameworkInfoError, DEFAULT_ROLE};
pub use master::{Address, MasterInfo, MasterInfoError, DEFAULT_MASTER_PORT};
pub use offer::{Filters, Offer, DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS};
pub use slave::{SlaveInfo, DEFAULT_SLAVE_PORT};
pub use task_info::{TaskInfo, TaskInfoError};
