//! The group's decisions, with no I/O: [`GroupCore`] takes events (a
//! request of the owner, the result of a ZooKeeper operation, a session
//! event, a timer) and returns [`Action`]s for the [`super::group::Group`]
//! process to perform. Tested directly below; the behaviour is described in
//! [`super::group`].

use std::collections::HashMap;
use std::time::Duration;

use super::members::{member_name, member_seqs, parse_member, Member};
use super::store::{SessionEvent, ZkError};

/// Pause between retries of failed ZooKeeper operations (Mesos: 2 s).
pub const RETRY_INTERVAL: Duration = Duration::from_secs(2);

/// Data read per member sequence (None: the znode vanished meanwhile).
pub type MemberData = Vec<(u64, Option<Vec<u8>>)>;

/// What the group tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Joined(u64),
    Cancelled(Option<u64>),
    Lost { seq: u64, reason: String },
    Members(Vec<Member>),
}

/// What the group process must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a new session.
    Connect,
    /// Open a new session after a pause.
    ConnectAfter(Duration),
    /// Start (replacing) the local expiry timer; deliver `ExpiryTimer`.
    StartExpiryTimer(Duration),
    CancelExpiryTimer,
    /// Forget the current session (it expired, here or on the servers).
    DropSession,
    /// Deliver `Retry` after a pause.
    RetryAfter(Duration),
    EnsurePath(String),
    CreateMember {
        prefix: String,
        data: Vec<u8>,
    },
    Delete(String),
    /// List children with a watch; deliver `Listed` with the same tags.
    List {
        path: String,
        listing: u64,
        mine: Option<u64>,
    },
    /// Read the data of `znodes`; deliver `Read` with the same tags.
    Read {
        listing: u64,
        seqs: Vec<u64>,
        znodes: Vec<(u64, String)>,
    },
    Tell(Report),
}

#[derive(Debug, Clone, PartialEq)]
enum Join {
    Idle,
    Wanted(Vec<u8>),
    Creating(Vec<u8>),
    Joined(u64),
    Deleting(u64),
}

/// The group's state.
#[derive(Debug)]
pub struct GroupCore {
    path: String,
    label: String,
    session: bool,
    connecting: bool,
    connected: bool,
    timeout: Duration,
    expiry_armed: bool,
    retrying: bool,
    path_ready: bool,
    path_busy: bool,
    join: Join,
    cancel_wanted: bool,
    watching: bool,
    listings: u64,
    reported_listing: u64,
    members: Option<Vec<Member>>,
    data: HashMap<u64, Vec<u8>>,
}

impl GroupCore {
    pub fn new(path: &str, label: &str, session_timeout: Duration) -> GroupCore {
        GroupCore {
            path: path.to_string(),
            label: label.to_string(),
            session: false,
            connecting: false,
            connected: false,
            timeout: session_timeout,
            expiry_armed: false,
            retrying: false,
            path_ready: false,
            path_busy: false,
            join: Join::Idle,
            cancel_wanted: false,
            watching: false,
            listings: 0,
            reported_listing: 0,
            members: None,
            data: HashMap::new(),
        }
    }

    /// The process started.
    pub fn start(&mut self) -> Vec<Action> {
        self.connect()
    }

    fn connect(&mut self) -> Vec<Action> {
        if self.connecting || self.session {
            return vec![];
        }
        self.connecting = true;
        vec![Action::Connect]
    }

    /// A connect attempt ended: Ok(granted timeout) or the error.
    pub fn connected(&mut self, res: Result<Duration, ZkError>) -> Vec<Action> {
        self.connecting = false;
        match res {
            Ok(timeout) => {
                self.session = true;
                self.connected = true;
                self.timeout = timeout;
                self.sync()
            }
            Err(e) => {
                tracing::warn!(path = %self.path, "cannot connect to ZooKeeper ({e}); retrying in {RETRY_INTERVAL:?}");
                vec![Action::ConnectAfter(RETRY_INTERVAL)]
            }
        }
    }

    /// The connect-retry pause is over.
    pub fn connect_retry(&mut self) -> Vec<Action> {
        self.connect()
    }

    /// The owner asks to join with `data`.
    pub fn join(&mut self, data: Vec<u8>) -> Vec<Action> {
        if self.join != Join::Idle {
            tracing::warn!(path = %self.path, "join ignored: this group already has a membership");
            return vec![];
        }
        self.cancel_wanted = false;
        self.join = Join::Wanted(data);
        self.sync()
    }

    /// The owner asks to cancel its membership (or pending join).
    pub fn cancel(&mut self) -> Vec<Action> {
        match self.join {
            Join::Idle => vec![Action::Tell(Report::Cancelled(None))],
            Join::Wanted(_) => {
                self.join = Join::Idle;
                vec![Action::Tell(Report::Cancelled(None))]
            }
            _ => {
                self.cancel_wanted = true;
                self.sync()
            }
        }
    }

    /// An event of the current session.
    pub fn session_event(&mut self, ev: SessionEvent) -> Vec<Action> {
        match ev {
            SessionEvent::Connected => {
                tracing::info!(path = %self.path, "ZooKeeper connection restored");
                self.connected = true;
                let mut out = Vec::new();
                if std::mem::take(&mut self.expiry_armed) {
                    out.push(Action::CancelExpiryTimer);
                }
                out.extend(self.sync());
                out
            }
            SessionEvent::Disconnected => {
                tracing::warn!(path = %self.path, "lost connection to ZooKeeper, attempting to reconnect");
                self.connected = false;
                if self.expiry_armed {
                    return vec![];
                }
                self.expiry_armed = true;
                vec![Action::StartExpiryTimer(self.timeout)]
            }
            SessionEvent::Expired => {
                tracing::warn!(path = %self.path, "ZooKeeper session expired");
                self.expire()
            }
        }
    }

    /// The local expiry timer (started on a disconnection) ran out.
    pub fn expiry_timer(&mut self) -> Vec<Action> {
        self.expiry_armed = false;
        if self.connected || !self.session {
            return vec![];
        }
        tracing::warn!(path = %self.path, "no ZooKeeper connection within the session timeout ({:?}): expiring the session locally", self.timeout);
        self.expire()
    }

    /// The session is over: forget what it held, tell the owner, reconnect.
    fn expire(&mut self) -> Vec<Action> {
        let mut out = vec![Action::DropSession];
        if std::mem::take(&mut self.expiry_armed) {
            out.push(Action::CancelExpiryTimer);
        }
        self.session = false;
        self.connected = false;
        self.retrying = false;
        self.path_ready = false;
        self.path_busy = false;
        self.watching = false;
        self.data.clear();
        self.join = match std::mem::replace(&mut self.join, Join::Idle) {
            Join::Joined(seq) => {
                out.push(Action::Tell(Report::Lost { seq, reason: "ZooKeeper session expired".into() }));
                Join::Idle
            }
            Join::Deleting(seq) => {
                out.push(Action::Tell(Report::Cancelled(Some(seq))));
                Join::Idle
            }
            // A join not completed is retried on the next session.
            Join::Creating(data) | Join::Wanted(data) if !self.cancel_wanted => Join::Wanted(data),
            Join::Creating(_) | Join::Wanted(_) => {
                out.push(Action::Tell(Report::Cancelled(None)));
                Join::Idle
            }
            Join::Idle => Join::Idle,
        };
        self.cancel_wanted = false;
        self.listings += 1;
        self.reported_listing = self.listings;
        out.extend(self.report(Vec::new()));
        out.extend(self.connect());
        out
    }

    fn failed(&mut self, what: &str, e: ZkError) -> Vec<Action> {
        if e == ZkError::SessionExpired {
            tracing::warn!(path = %self.path, "{what}: session expired");
            return self.expire();
        }
        if e.is_retryable() {
            tracing::info!(path = %self.path, "{what} failed ({e}); retrying in {RETRY_INTERVAL:?}");
        } else {
            tracing::error!(path = %self.path, "{what} failed ({e}); retrying in {RETRY_INTERVAL:?}");
        }
        if std::mem::replace(&mut self.retrying, true) {
            return vec![];
        }
        vec![Action::RetryAfter(RETRY_INTERVAL)]
    }

    /// The retry pause is over.
    pub fn retry(&mut self) -> Vec<Action> {
        self.retrying = false;
        self.sync()
    }

    /// Whatever the group needs next, on a connected session.
    fn sync(&mut self) -> Vec<Action> {
        if !self.session || !self.connected {
            return vec![];
        }
        if !self.path_ready {
            if std::mem::replace(&mut self.path_busy, true) {
                return vec![];
            }
            return vec![Action::EnsurePath(self.path.clone())];
        }
        let mut out = Vec::new();
        match self.join.clone() {
            Join::Wanted(data) => {
                self.join = Join::Creating(data.clone());
                out.push(Action::CreateMember { prefix: format!("{}/{}_", self.path, self.label), data });
            }
            Join::Joined(seq) if self.cancel_wanted => {
                self.join = Join::Deleting(seq);
                out.push(Action::Delete(self.znode(seq)));
            }
            _ => {}
        }
        if !self.watching {
            self.watching = true;
            self.listings += 1;
            out.push(Action::List { path: self.path.clone(), listing: self.listings, mine: self.joined_seq() });
        }
        out
    }

    fn znode(&self, seq: u64) -> String {
        format!("{}/{}", self.path, member_name(&self.label, seq))
    }

    fn joined_seq(&self) -> Option<u64> {
        match self.join {
            Join::Joined(seq) => Some(seq),
            _ => None,
        }
    }

    /// The group znode was created (or existed).
    pub fn path_ensured(&mut self, res: Result<(), ZkError>) -> Vec<Action> {
        self.path_busy = false;
        match res {
            Ok(()) => {
                self.path_ready = true;
                self.sync()
            }
            Err(e) => self.failed("creating the group znode", e),
        }
    }

    /// Our member znode was created as `znode`, or not.
    pub fn created(&mut self, res: Result<String, ZkError>) -> Vec<Action> {
        let Join::Creating(data) = std::mem::replace(&mut self.join, Join::Idle) else {
            return vec![];
        };
        let znode = match res {
            Ok(z) => z,
            Err(e) => {
                self.join = Join::Wanted(data);
                return self.failed("joining", e);
            }
        };
        let name = znode.rsplit('/').next().unwrap_or_default();
        let Some(seq) = parse_member(&self.label, name) else {
            self.join = Join::Wanted(data);
            return self.failed("joining", ZkError::Other(format!("created '{znode}', not a member name")));
        };
        tracing::info!(path = %self.path, "joined the group as '{znode}'");
        self.data.insert(seq, data);
        self.join = Join::Joined(seq);
        let mut out = vec![Action::Tell(Report::Joined(seq))];
        out.extend(self.sync());
        out
    }

    /// Our member znode was deleted on request, or not.
    pub fn deleted(&mut self, res: Result<(), ZkError>) -> Vec<Action> {
        let Join::Deleting(seq) = self.join else { return vec![] };
        match res {
            Ok(()) | Err(ZkError::NoNode) => {
                tracing::info!(path = %self.path, seq, "left the group");
                self.join = Join::Idle;
                self.cancel_wanted = false;
                vec![Action::Tell(Report::Cancelled(Some(seq)))]
            }
            Err(e) => {
                self.join = Join::Joined(seq);
                self.failed("leaving", e)
            }
        }
    }

    /// The children watch fired.
    pub fn watch_fired(&mut self) -> Vec<Action> {
        self.watching = false;
        self.sync()
    }

    /// A listing ended (on success its watch is armed by the process).
    pub fn listed(&mut self, listing: u64, mine: Option<u64>, res: Result<Vec<String>, ZkError>) -> Vec<Action> {
        let children = match res {
            Ok(c) => c,
            Err(ZkError::NoNode) => {
                // Someone deleted the group znode: create it again.
                self.watching = false;
                self.path_ready = false;
                return self.sync();
            }
            Err(e) => {
                self.watching = false;
                return self.failed("listing members", e);
            }
        };
        let mut out = Vec::new();
        let seqs = member_seqs(&self.label, &children);
        if let (Some(seq), Some(now)) = (mine, self.joined_seq()) {
            if seq == now && !seqs.contains(&seq) {
                tracing::warn!(path = %self.path, seq, "our member znode vanished");
                self.join = Join::Idle;
                out.push(Action::Tell(if std::mem::take(&mut self.cancel_wanted) {
                    Report::Cancelled(Some(seq))
                } else {
                    Report::Lost { seq, reason: "member znode vanished".into() }
                }));
            }
        }
        let znodes: Vec<(u64, String)> =
            seqs.iter().filter(|s| !self.data.contains_key(s)).map(|s| (*s, self.znode(*s))).collect();
        if znodes.is_empty() {
            out.extend(self.reported(listing, seqs));
        } else {
            out.push(Action::Read { listing, seqs, znodes });
        }
        out
    }

    /// Member data was read for listing `listing`.
    pub fn read(&mut self, listing: u64, seqs: Vec<u64>, res: Result<MemberData, ZkError>) -> Vec<Action> {
        match res {
            Ok(found) => {
                for (seq, data) in found {
                    if let Some(d) = data {
                        self.data.insert(seq, d);
                    }
                }
                self.reported(listing, seqs)
            }
            Err(e) => self.failed("reading member data", e),
        }
    }

    fn reported(&mut self, listing: u64, seqs: Vec<u64>) -> Vec<Action> {
        if listing < self.reported_listing {
            return vec![];
        }
        self.reported_listing = listing;
        self.data.retain(|seq, _| seqs.contains(seq));
        let members =
            seqs.iter().filter_map(|seq| Some(Member { seq: *seq, data: self.data.get(seq)?.clone() })).collect();
        self.report(members)
    }

    fn report(&mut self, members: Vec<Member>) -> Vec<Action> {
        if self.members.as_ref() == Some(&members) {
            return vec![];
        }
        self.members = Some(members.clone());
        vec![Action::Tell(Report::Members(members))]
    }
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::*;

    const T: Duration = Duration::from_secs(10);

    fn ready() -> GroupCore {
        let mut g = GroupCore::new("/mesos", "json.info", T);
        assert_eq!(g.start(), vec![Connect]);
        assert_eq!(g.connected(Ok(T)), vec![EnsurePath("/mesos".into())]);
        assert_eq!(g.path_ensured(Ok(())), vec![List { path: "/mesos".into(), listing: 1, mine: None }]);
        assert_eq!(g.listed(1, None, Ok(vec![])), vec![Tell(Report::Members(vec![]))]);
        g
    }

    #[test]
    fn join_lists_reads_and_reports_members() {
        let mut g = ready();
        assert_eq!(
            g.join(b"a".to_vec()),
            vec![CreateMember { prefix: "/mesos/json.info_".into(), data: b"a".to_vec() }]
        );
        assert_eq!(g.created(Ok("/mesos/json.info_0000000004".into())), vec![Tell(Report::Joined(4))]);
        assert_eq!(g.watch_fired(), vec![List { path: "/mesos".into(), listing: 2, mine: Some(4) }]);
        let children = vec!["json.info_0000000004".into(), "json.info_0000000002".into(), "other".into()];
        assert_eq!(
            g.listed(2, Some(4), Ok(children)),
            vec![Read { listing: 2, seqs: vec![2, 4], znodes: vec![(2, "/mesos/json.info_0000000002".into())] }]
        );
        let members = vec![Member { seq: 2, data: b"x".to_vec() }, Member { seq: 4, data: b"a".to_vec() }];
        assert_eq!(g.read(2, vec![2, 4], Ok(vec![(2, Some(b"x".to_vec()))])), vec![Tell(Report::Members(members))]);
    }

    #[test]
    fn disconnection_expires_locally_only_if_not_back_in_time() {
        let mut g = ready();
        g.join(vec![]);
        g.created(Ok("/mesos/json.info_0000000000".into()));
        assert_eq!(g.session_event(SessionEvent::Disconnected), vec![StartExpiryTimer(T)]);
        assert_eq!(g.session_event(SessionEvent::Disconnected), vec![], "one timer");
        assert_eq!(g.session_event(SessionEvent::Connected), vec![CancelExpiryTimer]);
        g.session_event(SessionEvent::Disconnected);
        let out = g.expiry_timer();
        assert_eq!(
            out,
            vec![DropSession, Tell(Report::Lost { seq: 0, reason: "ZooKeeper session expired".into() }), Connect]
        );
    }

    #[test]
    fn retryable_errors_retry_once_per_interval_and_pending_join_survives_expiry() {
        let mut g = ready();
        g.join(b"d".to_vec());
        assert_eq!(g.created(Err(ZkError::ConnectionLoss)), vec![RetryAfter(RETRY_INTERVAL)]);
        assert_eq!(g.path_ensured(Err(ZkError::ConnectionLoss)), vec![], "a retry is already scheduled");
        assert_eq!(g.session_event(SessionEvent::Expired), vec![DropSession, Connect]);
        assert_eq!(g.connected(Ok(T)), vec![EnsurePath("/mesos".into())]);
        assert_eq!(
            g.path_ensured(Ok(())),
            vec![
                CreateMember { prefix: "/mesos/json.info_".into(), data: b"d".to_vec() },
                List { path: "/mesos".into(), listing: 3, mine: None }
            ]
        );
    }

    #[test]
    fn vanished_member_is_lost_but_not_before_the_listing_saw_it() {
        let mut g = ready();
        g.join(vec![]);
        g.created(Ok("/mesos/json.info_0000000001".into()));
        // A listing issued before the join completed does not count.
        assert_eq!(g.listed(1, None, Ok(vec![])), vec![]);
        g.watch_fired();
        assert_eq!(
            g.listed(2, Some(1), Ok(vec![])),
            vec![Tell(Report::Lost { seq: 1, reason: "member znode vanished".into() })]
        );
        assert_eq!(g.cancel(), vec![Tell(Report::Cancelled(None))]);
    }
}
