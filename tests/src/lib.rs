//! End-to-end suites (in `tests/`): the cluster's binaries as real OS
//! processes (`real_cluster.rs`) and master, slave, executors and a
//! scheduler in one deterministic simulation (`simulated_cluster.rs`).
//!
//! This library holds what the real-process suites share ([`procs`]):
//! building the binaries once per test run, children that are killed and
//! reaped however a test ends, and waiting on their output lines; and the
//! [`chaos`] simulation (the `chaos` test and the `rmesos-chaos` binary).

pub mod chaos;
pub mod procs;
