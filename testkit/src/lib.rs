//! The rmesos test kit: what our own suites, the bench and the chaos run
//! share, published so that a framework author can test *their* scheduler
//! the same way (add `rmesos-testkit` as a dev-dependency).
//!
//! - [`SimCluster`] ([`cluster`]): real masters (electing a leader through
//!   an in-memory ZooKeeper when there are several), real slaves with
//!   in-process executors, and frameworks on the real scheduler driver, all
//!   on one seeded [`libprocess::testkit::Sim`] with a paused clock. Fault
//!   verbs (crash / restart a master, the leader or a slave, isolate a node
//!   from the cluster and from ZooKeeper, expire a ZooKeeper session, drop
//!   messages, heal) and waits (on a state, on a scheduler event, for an
//!   amount of simulated time). docs/testing.md has the guide and a
//!   failover test in 30 lines, run in CI as `tests/guide.rs`.
//! - [`RecordingScheduler`] ([`framework`]): wraps any `Scheduler`, passes
//!   every callback on, and records it as a [`SchedulerEvent`].
//! - [`TaskExecutor`] ([`executor`]): the default in-process executor, run
//!   by what a task's `data` says.
//! - [`fakes`]: one fake process for master, slave, framework or an
//!   executor's slave ([`Heard`]: every rmesos message), the answers tests
//!   give most often, and the fixtures (an offer, a framework id, an update).
//! - [`NodeZk`] ([`zk`]): one node's links to the in-memory ZooKeeper, so
//!   a crash or a partition takes its sessions down as on a real machine.
//!
//! Dependencies point one way: this crate uses the components; none of
//! them uses it (their integration tests may).

pub mod cluster;
pub mod executor;
pub mod fakes;
pub mod framework;
pub mod zk;

pub use cluster::{ClusterBuilder, MasterSlot, SimCluster, SlaveSlot, Slot};
pub use executor::TaskExecutor;
pub use fakes::{fake, Heard};
pub use framework::{Framework, RecordingScheduler, SchedulerEvent};
pub use zk::NodeZk;
