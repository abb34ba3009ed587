//! Following the leading master through ZooKeeper (`--master zk://...`),
//! for slaves and scheduler drivers.
//!
//! Masters contend as members `json.info_<seq>` of the group znode, with
//! their [`MasterInfo`] JSON as data (Mesos's layout); the member with the
//! lowest sequence leads. A slave or driver spawns a
//! [`LeaderDetector`] (its own ZooKeeper session) subscribed to its own
//! process, installs a handler for [`LeaderMessage`], and feeds each report
//! to a [`LeaderFollower`], which turns it into "the leading master is now
//! X / none" and logs one INFO line per change ("<pid>: Detected a
//! new leader: master@..." or "<pid>: No leader detected"). The detector reports `None` when
//! its session expires: a process that cannot see ZooKeeper cannot vouch for
//! a leader.

use std::sync::Arc;
use std::time::Duration;

use libprocess::zookeeper::{
    Backend, GroupConfig, LeaderDetector, LeaderMessage, Member, RealZk, ZkUrl, ZkUrlError, DEFAULT_ZK_SESSION_TIMEOUT,
};
use libprocess::{Node, SpawnError, Upid};

use crate::info::MasterInfo;

/// The label of master members (`json.info_<seq>`, as Mesos).
pub const MASTER_LABEL: &str = "json.info";

/// Where and how to detect the leading master.
#[derive(Clone)]
pub struct ZkDetect {
    pub backend: Arc<dyn Backend>,
    pub url: ZkUrl,
    /// The detector's session timeout (Mesos's 10 s default).
    pub session_timeout: Duration,
}

impl ZkDetect {
    /// The real ZooKeeper at `url` (a `zk://` URL as `--master` holds it).
    pub fn real(url: &str) -> Result<ZkDetect, ZkUrlError> {
        Ok(ZkDetect {
            backend: Arc::new(RealZk::new()),
            url: url.parse()?,
            session_timeout: DEFAULT_ZK_SESSION_TIMEOUT,
        })
    }

    /// `url` on another backend (the in-memory one in simulations).
    pub fn with_backend(backend: Arc<dyn Backend>, url: &str) -> Result<ZkDetect, ZkUrlError> {
        Ok(ZkDetect { backend, url: url.parse()?, session_timeout: DEFAULT_ZK_SESSION_TIMEOUT })
    }

    /// Spawns detector `id` on `node`, reporting to `subscriber`.
    pub fn spawn(&self, node: &Node, id: &str, subscriber: Upid) -> Result<Upid, SpawnError> {
        let cfg =
            GroupConfig { url: self.url.clone(), label: MASTER_LABEL.into(), session_timeout: self.session_timeout };
        LeaderDetector::spawn(node, id, self.backend.clone(), cfg, subscriber)
    }
}

/// The leading master's pid from its member data (None, with a warning, if
/// the data is not a usable MasterInfo).
pub fn leader_pid(member: &Member) -> Option<Upid> {
    let info = match std::str::from_utf8(&member.data).map(MasterInfo::from_json) {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => {
            tracing::warn!("leading member {} holds no MasterInfo JSON: {e}", member.seq);
            return None;
        }
        Err(e) => {
            tracing::warn!("leading member {} holds non-UTF-8 data: {e}", member.seq);
            return None;
        }
    };
    match info.pid() {
        Ok(pid) => Some(pid),
        Err(e) => {
            tracing::warn!("leading member {}: {e}", member.seq);
            None
        }
    }
}

/// Turns a detector's reports into leader changes.
#[derive(Debug)]
pub struct LeaderFollower {
    detector: Upid,
    /// None until the first report.
    leader: Option<Option<Upid>>,
}

impl LeaderFollower {
    pub fn new(detector: Upid) -> LeaderFollower {
        LeaderFollower { detector, leader: None }
    }

    pub fn detector(&self) -> &Upid {
        &self.detector
    }

    /// The leader as last reported (None: none, or no report yet).
    pub fn leader(&self) -> Option<Upid> {
        self.leader.clone().flatten()
    }

    /// A report from `from`: `Some(leader)` if the leading master changed
    /// (logged for `who`), `None` if nothing changed or the report is not
    /// from this follower's detector.
    pub fn report(&mut self, from: &Upid, msg: LeaderMessage, who: &Upid) -> Option<Option<Upid>> {
        if *from != self.detector {
            tracing::warn!("{who}: ignoring a leader report from {from} (not its detector {})", self.detector);
            return None;
        }
        let now = msg.leader.as_ref().and_then(leader_pid);
        if self.leader.as_ref() == Some(&now) {
            return None;
        }
        // The previous leader, if any: its loss is part of the line.
        let was = match self.leader.as_ref().and_then(|l| l.as_ref()) {
            Some(old) => format!(" (previous leader {old} is gone)"),
            None => String::new(),
        };
        match &now {
            Some(pid) => tracing::info!("{who}: Detected a new leader: {pid}{was}"),
            None => tracing::info!("{who}: No leader detected{was}"),
        }
        self.leader = Some(now.clone());
        Some(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(seq: u64, pid: &str) -> Member {
        let pid: Upid = pid.parse().unwrap();
        Member { seq, data: MasterInfo::new("id", &pid, None, None).to_json().into_bytes() }
    }

    #[test]
    fn follower_reports_changes_once_and_only_from_its_detector() {
        let det: Upid = "detector@127.0.0.1:1".parse().unwrap();
        let me: Upid = "slave(1)@127.0.0.1:2".parse().unwrap();
        let mut f = LeaderFollower::new(det.clone());
        let m1 = member(1, "master@127.0.0.1:5050");
        let leader = |m: &Member| LeaderMessage { leader: Some(m.clone()) };
        assert_eq!(f.report(&me, leader(&m1), &me), None, "not from the detector");
        assert_eq!(f.report(&det, leader(&m1), &me), Some(Some("master@127.0.0.1:5050".parse().unwrap())));
        assert_eq!(f.report(&det, leader(&m1), &me), None, "no change");
        assert_eq!(f.report(&det, LeaderMessage { leader: None }, &me), Some(None));
        let junk = Member { seq: 3, data: b"not json".to_vec() };
        assert_eq!(f.report(&det, leader(&junk), &me), None, "junk counts as no leader: unchanged");
        assert_eq!(f.leader(), None);
    }
}

#[cfg(test)]
mod log_tests {
    use libprocess::testkit::LogCapture;

    use super::*;

    #[test]
    fn each_leader_change_is_one_info_line_naming_the_follower_and_the_leader() {
        let cap = LogCapture::start();
        let det: Upid = "detector@127.0.0.1:1".parse().unwrap();
        let me: Upid = "slave(1)@127.0.0.1:5051".parse().unwrap();
        let leader: Upid = "master@127.0.0.1:5050".parse().unwrap();
        let member = Member { seq: 4, data: MasterInfo::new("id", &leader, None, None).to_json().into_bytes() };
        let mut f = LeaderFollower::new(det.clone());
        f.report(&det, LeaderMessage { leader: Some(member.clone()) }, &me);
        f.report(&det, LeaderMessage { leader: Some(member) }, &me);
        f.report(&det, LeaderMessage { leader: None }, &me);
        let line = cap.line_at("INFO", &["slave(1)@127.0.0.1:5051: Detected a new leader: master@127.0.0.1:5050"]);
        assert!(!line.contains("previous"), "{line}");
        cap.line_at(
            "INFO",
            &["slave(1)@127.0.0.1:5051: No leader detected (previous leader master@127.0.0.1:5050 is gone)"],
        );
        assert_eq!(cap.lines().len(), 2, "one line per change: {:?}", cap.lines());
    }
}
