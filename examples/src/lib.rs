//! Example frameworks and tools on rmesos, with their logic in this library
//! so it can be unit-tested:
//! - [`cli`]: what the binaries share (the `--master` flag, wall-clock
//!   timestamps for humans, logging setup);
//! - [`local`]: `rmesos-local`, a master and N slaves in one process;
//! - [`execute`]: `rmesos-execute`, run a shell command as one or more tasks;
//! - [`redispatch`]: the field report's framework, which re-dispatches every
//!   lost or failed task until all have finished, from a durable task store.

pub mod cli;
pub mod execute;
pub mod local;
pub mod redispatch;
