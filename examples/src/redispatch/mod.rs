//! redispatch: the field report's framework (SEED.md sections 3 and 4). It
//! runs a list of shell commands as tasks and re-dispatches every task the
//! cluster reports lost or failed until each one has finished, keeping each
//! task's description and state in a durable store so that a restarted
//! redispatch resumes where it was (finished tasks are not run again).
//!
//! - [`core`]: the task table and its decisions (pure, unit-tested);
//! - [`store`]: the [`store::TaskStore`] trait and its file-backed store;
//! - [`scheduler`]: the [`rmesos::scheduler::Scheduler`] that connects them
//!   to the driver.

pub mod core;
pub mod scheduler;
pub mod store;
#[cfg(test)]
mod tests;

pub use self::core::{parse_task_list, Phase, Redispatch, TaskRecord};
pub use scheduler::{Outcome, RedispatchScheduler};
pub use store::{FileStore, StoreError, TaskStore};
