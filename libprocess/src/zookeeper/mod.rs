//! Leader election on ZooKeeper, Mesos style, with no Mesos types.
//!
//! - [`url`]: parses `zk://[user:pass@]host:port,.../path`.
//! - [`store`]: the ZooKeeper operations needed, as a trait; backends
//!   [`real::RealZk`] (the `zookeeper-client` crate) and
//!   [`memory::MemZk`] (an in-memory ensemble on the paused clock).
//! - [`members`]: the pure rules (member names, lowest sequence leads).
//! - [`group::Group`]: a process keeping a session and one membership,
//!   watching the member list, retrying, expiring its session locally after
//!   the session timeout without a connection; its decisions are the pure
//!   [`group_core::GroupCore`] (events in, actions out).
//! - [`contender::LeaderContender`] and [`detector::LeaderDetector`]:
//!   processes that report to subscribers with libprocess messages.
//! - [`ensemble`]: a real N-server ZooKeeper ensemble for tests.
//!
//! A master contends and detects:
//! ```ignore
//! let cfg = GroupConfig { url: "zk://zk1:2181/mesos".parse()?, label: "json.info".into(),
//!                         session_timeout: DEFAULT_ZK_SESSION_TIMEOUT };
//! let backend: Arc<dyn Backend> = Arc::new(RealZk);
//! let contender = LeaderContender::spawn(&node, "contender", backend.clone(), cfg.clone(), master_pid.clone())?;
//! node.send(&master_pid, &contender, ContendMessage { data: master_info_json });
//! LeaderDetector::spawn(&node, "detector", backend, cfg, master_pid)?;
//! // the master installs handlers for ElectedMessage, CandidacyLostMessage, LeaderMessage
//! ```

use std::time::Duration;

pub mod contender;
pub mod detector;
pub mod ensemble;
pub mod group;
pub mod group_core;
pub mod members;
pub mod memory;
pub mod real;
pub mod store;
pub mod url;

/// Session timeout of contenders and detectors unless `--zk_session_timeout`
/// says otherwise (Mesos's `MASTER_CONTENDER_ZK_SESSION_TIMEOUT` and
/// `MASTER_DETECTOR_ZK_SESSION_TIMEOUT`, both 10 s). It bounds failover: a
/// crashed leader's znode vanishes only when the servers expire its session.
pub const DEFAULT_ZK_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

pub use contender::{
    CandidacyLostMessage, ContendMessage, ElectedMessage, LeaderContender, WithdrawMessage, WithdrawnMessage,
};
pub use detector::{LeaderDetector, LeaderMessage, SubscribeMessage};
pub use group::{Group, GroupConfig, RETRY_INTERVAL};
pub use members::Member;
pub use memory::MemZk;
pub use real::RealZk;
pub use store::{Backend, CreateMode, Session, SessionEvent, ZkError};
pub use url::{ZkUrl, ZkUrlError};
