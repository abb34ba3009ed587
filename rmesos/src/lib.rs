//! rmesos: the API a Mesos framework author (and rmesos's own master, slave
//! and executor) depends on.
//!
//! A cluster has one leading **master** (found directly or through ZooKeeper,
//! see [`detect`]), **slaves** that offer their machines' [`Resources`], and
//! **frameworks**: a scheduler that receives [`Offer`]s and launches
//! [`TaskInfo`]s on them, and executors that run the tasks on slaves and
//! report each [`TaskStatus`] back. Every party is a libprocess actor with a
//! [`Upid`](libprocess::Upid); they talk with the [`messages`] of this crate.
//!
//! Start here:
//! - [`ids`]: [`FrameworkID`], [`SlaveID`], [`OfferID`], [`TaskID`],
//!   [`ExecutorID`] (master-generated ids follow Mesos's formats; task and
//!   executor ids are validated);
//! - [`resources`]: [`Resources`] with `cpus:4;mem:2048;ports:[31000-32000]`
//!   parsing, fixed-point arithmetic and the DRF dominant share;
//! - [`attributes`]: slave [`Attributes`] (`rack:r1;zone:us-east`);
//! - [`info`]: [`FrameworkInfo`], [`SlaveInfo`], [`MasterInfo`] (with
//!   Mesos's exact ZooKeeper JSON), [`CommandInfo`], [`ExecutorInfo`],
//!   [`TaskInfo`], [`Offer`], [`Filters`];
//! - [`task`]: [`TaskState`] (`TASK_RUNNING`, `TASK_LOST`, ...), [`Reason`],
//!   [`Source`], [`TaskStatus`], [`Task`];
//! - [`messages`]: every internal message (`rmesos.internal.*Message`),
//!   documented with who sends it to whom and when;
//! - [`scheduler`]: the [`scheduler::Scheduler`] trait a framework
//!   implements and the [`scheduler::SchedulerDriver`] that registers it
//!   with the master and runs its callbacks;
//! - [`auth`]: CRAM-MD5 authentication of frameworks and slaves, and
//!   Mesos's credential files;
//! - [`detect`]: the `--master` forms (`host:port`, `zk://.../path`, a file);
//! - [`duration`]: Mesos duration flags (`15secs`, `10mins`, `500ms`).
//!
//! ```
//! use rmesos::{CommandInfo, Resources, SlaveID, TaskID, TaskInfo};
//!
//! let offered = Resources::parse("cpus:4;mem:2048;ports:[31000-32000]").unwrap();
//! let wanted = Resources::parse("cpus:0.1;mem:32").unwrap();
//! assert!(offered.contains(&wanted));
//! let left = offered.checked_sub(&wanted).unwrap();
//! assert_eq!(left.to_string(), "cpus:3.9;mem:2016;ports:[31000-32000]");
//!
//! let task = TaskInfo::command(
//!     "hello",
//!     TaskID::new("hello-1").unwrap(),
//!     SlaveID::new("some-master-id-S0").unwrap(),
//!     wanted,
//!     CommandInfo::shell("echo hello"),
//! );
//! task.validate().unwrap();
//! ```

pub mod attributes;
pub mod auth;
pub mod detect;
pub mod detect_zk;
pub mod duration;
pub mod executor;
pub mod ids;
pub mod info;
pub mod messages;
pub(crate) mod named_enum;
pub mod resources;
pub mod scheduler;
pub mod task;
pub mod v1;

pub use attributes::{AttributeValue, Attributes, AttributesError};
pub use detect::{DetectError, MasterSpec};
pub use duration::{format_duration, parse_duration, DurationError};
pub use ids::{ExecutorID, FrameworkID, IdError, OfferID, SlaveID, TaskID};
pub use info::{
    CommandInfo, ExecutorInfo, Filters, FrameworkCapability, FrameworkInfo, MasterInfo, Offer, SlaveInfo, TaskInfo,
};
pub use messages::StatusUpdate;
pub use named_enum::UnknownName;
pub use resources::{Ranges, Resources, ResourcesError, Scalar};
pub use task::{Reason, Source, Task, TaskState, TaskStatus};
