//! Chaos: a seeded simulation of the whole cluster under random faults
//! (issue 6). Three masters elect a leader through the in-memory ZooKeeper,
//! five real slaves run in-process executors, and the real redispatch
//! framework, driven by the real scheduler driver, runs a workload of N
//! tasks, while a seeded injector crashes and restarts masters and slaves,
//! kills executors, partitions nodes and expires ZooKeeper sessions for the
//! run's chaos time (then everything comes back and the workload must
//! finish). After every step the invariants are checked:
//!
//! - (a) at most one master acts as leader;
//! - (b) resources are never over-committed on a slave;
//! - (c) every task of the workload ends FINISHED;
//! - (d) no task is reported FINISHED twice.
//!
//! One seed decides everything: the same seed replays the same run (same
//! trace hash). Files: [`cluster`] (the world and its supervisor),
//! [`executor`] (the executors and the ledger of what runs where),
//! [`framework`] (redispatch, its store, the recorder of what the scheduler
//! is told), [`faults`] (the injector), [`invariants`], [`run`] (the loop);
//! the cluster itself is the test kit's `SimCluster` (rmesos-testkit). Entry points: the `chaos` test and
//! the `rmesos-chaos` binary; docs/testing.md tells how to replay a seed.

pub mod cluster;
pub mod executor;
pub mod faults;
pub mod framework;
pub mod invariants;
pub mod run;

pub use run::{run, Config, Failure, Report, DEFAULT_CHAOS_TIME, DEFAULT_LIMIT};

/// Runs one seed in an actix system of its own.
pub fn run_blocking(cfg: &Config) -> Result<Report, Failure> {
    actix_rt::System::new().block_on(run(cfg))
}
