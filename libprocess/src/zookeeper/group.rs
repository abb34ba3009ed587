//! `Group`: membership of a ZooKeeper group znode, as a libprocess process.
//!
//! A group is the znode at a URL's path; a member is an ephemeral sequential
//! child `<label>_<seq>` holding opaque data. The process keeps one session,
//! holds at most one membership of its own (what a contender needs), watches
//! the member list and reports it, with each member's data, to its owner.
//!
//! Failure handling (Mesos's `GroupProcess` behaviour):
//! - Retryable errors (connection loss) are retried every [`RETRY_INTERVAL`];
//!   a reconnect retries at once. Other errors are logged and retried at the
//!   same pace: there is nothing better to do than keep trying and saying so.
//! - On connection loss a local timer of the session timeout starts. If the
//!   session is not back in time the group expires it *locally*: the servers
//!   will expire it anyway, but would tell us only once we reconnect, which
//!   during a partition could be much later. Expiring locally bounds split
//!   brain to one session timeout: owned memberships are reported lost, the
//!   owner is told the member list is empty, and a new session is opened.
//! - A join requested but not completed survives an expiry and is retried on
//!   the new session; a completed membership does not (its znode died with
//!   the session) and is reported lost.
//!
//! Known limit (also Mesos's): a create that fails with connection loss may
//! have succeeded; the orphan znode is not ours to track and vanishes when the
//! session ends.
//!
//! Owner <-> group talk is libprocess messages, so the work accounting of the
//! paused clock covers every hop; ZooKeeper operations in flight hold a
//! [`crate::clock::WorkGuard`] too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::fut::{wrap_future, wrap_stream, ActorFutureExt, ActorStreamExt};
use actix::{Actor, AsyncContext, Context, SpawnHandle};
use futures::FutureExt;
use serde::{Deserialize, Serialize};

use super::members::{member_seqs, parse_member, Member};
use super::store::{Backend, CreateMode, Session, SessionEvent, ZkError, ZkFuture};
use super::url::ZkUrl;
use crate::node::Node;
use crate::process::{Handlers, Me, Process};
use crate::{SpawnError, Upid};

/// Pause between retries of failed ZooKeeper operations (Mesos: 2 s).
pub const RETRY_INTERVAL: Duration = Duration::from_secs(2);

/// Where a group lives and how its session is kept.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// Ensemble, credentials and the group znode.
    pub url: ZkUrl,
    /// Member name prefix; Mesos masters use `json.info`.
    pub label: String,
    /// Requested session timeout (see [`super::DEFAULT_ZK_SESSION_TIMEOUT`]).
    pub session_timeout: Duration,
}

/// Owner -> group: join with `data` (ignored while a membership exists).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinMessage {
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}
crate::message!(JoinMessage, "libprocess.zookeeper.JoinMessage");

/// Owner -> group: cancel the membership (or the pending join).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancelMessage {}
crate::message!(CancelMessage, "libprocess.zookeeper.CancelMessage");

/// Group -> owner: the membership exists as `<label>_<seq>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinedMessage {
    pub seq: u64,
}
crate::message!(JoinedMessage, "libprocess.zookeeper.JoinedMessage");

/// Group -> owner: the membership was cancelled on request (`seq` None if
/// the join had not completed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancelledMessage {
    pub seq: Option<u64>,
}
crate::message!(CancelledMessage, "libprocess.zookeeper.CancelledMessage");

/// Group -> owner: the membership is gone without a request (session
/// expired, or its znode vanished).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipLostMessage {
    pub seq: u64,
    pub reason: String,
}
crate::message!(MembershipLostMessage, "libprocess.zookeeper.MembershipLostMessage");

/// Group -> owner: the member list changed (sorted by sequence).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembersMessage {
    pub members: Vec<Member>,
}
crate::message!(MembersMessage, "libprocess.zookeeper.MembersMessage");

#[derive(Debug, Clone, PartialEq)]
enum Join {
    Idle,
    Wanted(Vec<u8>),
    Creating(Vec<u8>),
    Joined(u64),
    Deleting(u64),
}

/// The group process.
pub struct Group {
    me: Me,
    backend: Arc<dyn Backend>,
    cfg: GroupConfig,
    owner: Upid,
    session: Option<Arc<dyn Session>>,
    /// Bumped per session; results of older sessions are dropped.
    gen: u64,
    connected: bool,
    connecting: bool,
    expiry_timer: Option<SpawnHandle>,
    /// The current session's event stream (cancelled when it ends).
    events: Option<SpawnHandle>,
    retrying: bool,
    path_ready: bool,
    path_busy: bool,
    join: Join,
    cancel_wanted: bool,
    /// A children listing is in flight or its watch is armed.
    watching: bool,
    listings: u64,
    reported_listing: u64,
    members: Option<Vec<Member>>,
    data: HashMap<u64, Vec<u8>>,
}

impl Actor for Group {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.connect(ctx);
    }
}

impl Process for Group {
    fn install(h: &mut Handlers<Self>) {
        h.install(Group::on_join).install(Group::on_cancel);
    }
}

impl Group {
    /// Spawns a group process `id` on `node` reporting to `owner`.
    pub fn spawn(
        node: &Node,
        id: &str,
        backend: Arc<dyn Backend>,
        cfg: GroupConfig,
        owner: Upid,
    ) -> Result<Upid, SpawnError> {
        let spawned = node.spawn(id, move |me| Group {
            me,
            backend,
            cfg,
            owner,
            session: None,
            gen: 0,
            connected: false,
            connecting: false,
            expiry_timer: None,
            events: None,
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
        })?;
        Ok(spawned.pid)
    }

    fn on_join(&mut self, _from: Upid, msg: JoinMessage, ctx: &mut Context<Self>) {
        if self.join != Join::Idle {
            tracing::warn!(group = %self.cfg.url, "join ignored: this group already has a membership");
            return;
        }
        self.cancel_wanted = false;
        self.join = Join::Wanted(msg.data);
        self.sync(ctx);
    }

    fn on_cancel(&mut self, _from: Upid, _msg: CancelMessage, ctx: &mut Context<Self>) {
        match self.join {
            Join::Idle => self.tell(CancelledMessage { seq: None }),
            Join::Wanted(_) => {
                self.join = Join::Idle;
                self.tell(CancelledMessage { seq: None });
            }
            _ => {
                self.cancel_wanted = true;
                self.sync(ctx);
            }
        }
    }

    fn tell<M: crate::Message>(&self, msg: M) {
        self.me.send(&self.owner, msg);
    }

    /// Runs a ZooKeeper operation of the current session; `then` runs on the
    /// actor unless the session changed meanwhile.
    fn op<T: Send + 'static>(
        &mut self,
        ctx: &mut Context<Self>,
        fut: ZkFuture<T>,
        then: impl FnOnce(&mut Self, Result<T, ZkError>, &mut Context<Self>) + 'static,
    ) {
        let (gen, work) = (self.gen, self.me.clock().work());
        ctx.spawn(wrap_future::<_, Self>(fut).map(move |res, act, ctx| {
            if act.gen == gen {
                then(act, res, ctx);
            }
            drop(work);
        }));
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        if self.connecting {
            return;
        }
        self.connecting = true;
        let work = self.me.clock().work();
        let fut = self.backend.connect(&self.cfg.url, self.cfg.session_timeout);
        ctx.spawn(wrap_future::<_, Self>(fut).map(move |res, act, ctx| {
            act.connecting = false;
            match res {
                Ok(session) => act.on_session(session, ctx),
                Err(e) => {
                    tracing::warn!(group = %act.cfg.url, "cannot connect to ZooKeeper ({e}); retrying in {RETRY_INTERVAL:?}");
                    act.me.delay(ctx, RETRY_INTERVAL, |act: &mut Self, ctx| act.connect(ctx));
                }
            }
            drop(work);
        }));
    }

    fn on_session(&mut self, session: Arc<dyn Session>, ctx: &mut Context<Self>) {
        self.gen += 1;
        let gen = self.gen;
        tracing::info!(group = %self.cfg.url, session = format!("{:#x}", session.id()), timeout = ?session.timeout(), "ZooKeeper group session established");
        let events = ctx.spawn(
            wrap_stream::<_, Self>(session.events())
                .map(move |(ev, held), act, ctx| {
                    if act.gen == gen {
                        act.on_event(ev, ctx);
                    }
                    drop(held);
                })
                .finish(),
        );
        self.events = Some(events);
        self.session = Some(session);
        self.connected = true;
        self.sync(ctx);
    }

    fn on_event(&mut self, ev: SessionEvent, ctx: &mut Context<Self>) {
        match ev {
            SessionEvent::Connected => {
                tracing::info!(group = %self.cfg.url, "ZooKeeper connection restored");
                self.connected = true;
                if let Some(t) = self.expiry_timer.take() {
                    ctx.cancel_future(t);
                }
                self.sync(ctx);
            }
            SessionEvent::Disconnected => {
                tracing::warn!(group = %self.cfg.url, "lost connection to ZooKeeper, attempting to reconnect");
                self.connected = false;
                if self.expiry_timer.is_none() {
                    let gen = self.gen;
                    let timeout = self.session.as_ref().map_or(self.cfg.session_timeout, |s| s.timeout());
                    let t = self.me.delay(ctx, timeout, move |act: &mut Self, ctx| {
                        act.expiry_timer = None;
                        if act.gen == gen && !act.connected {
                            tracing::warn!(group = %act.cfg.url, "no ZooKeeper connection within the session timeout ({timeout:?}): expiring the session locally");
                            act.expire(ctx);
                        }
                    });
                    self.expiry_timer = Some(t);
                }
            }
            SessionEvent::Expired => {
                tracing::warn!(group = %self.cfg.url, "ZooKeeper session expired");
                self.expire(ctx);
            }
        }
    }

    /// The session is over (by the servers or locally): forget what it held,
    /// tell the owner, start a new one.
    fn expire(&mut self, ctx: &mut Context<Self>) {
        self.gen += 1;
        if let Some(t) = self.expiry_timer.take() {
            ctx.cancel_future(t);
        }
        if let Some(e) = self.events.take() {
            ctx.cancel_future(e);
        }
        self.session = None;
        self.connected = false;
        self.retrying = false;
        self.path_ready = false;
        self.path_busy = false;
        self.watching = false;
        self.data.clear();
        self.join = match std::mem::replace(&mut self.join, Join::Idle) {
            Join::Joined(seq) => {
                self.tell(MembershipLostMessage { seq, reason: "ZooKeeper session expired".into() });
                Join::Idle
            }
            Join::Deleting(seq) => {
                self.tell(CancelledMessage { seq: Some(seq) });
                Join::Idle
            }
            Join::Creating(data) | Join::Wanted(data) if !self.cancel_wanted => Join::Wanted(data),
            Join::Creating(_) | Join::Wanted(_) => {
                self.tell(CancelledMessage { seq: None });
                Join::Idle
            }
            Join::Idle => Join::Idle,
        };
        self.cancel_wanted = false;
        self.listings += 1;
        self.reported_listing = self.listings;
        self.report(Vec::new());
        self.connect(ctx);
    }

    fn failed(&mut self, what: &str, e: ZkError, ctx: &mut Context<Self>) {
        if e == ZkError::SessionExpired {
            tracing::warn!(group = %self.cfg.url, "{what}: session expired");
            return self.expire(ctx);
        }
        if e.is_retryable() {
            tracing::info!(group = %self.cfg.url, "{what} failed ({e}); retrying in {RETRY_INTERVAL:?}");
        } else {
            tracing::error!(group = %self.cfg.url, "{what} failed ({e}); retrying in {RETRY_INTERVAL:?}");
        }
        if !self.retrying {
            self.retrying = true;
            self.me.delay(ctx, RETRY_INTERVAL, |act: &mut Self, ctx| {
                act.retrying = false;
                act.sync(ctx);
            });
        }
    }

    /// Starts whatever the group needs next on a connected session.
    fn sync(&mut self, ctx: &mut Context<Self>) {
        let Some(s) = self.session.clone() else { return };
        if !self.connected {
            return;
        }
        let path = self.cfg.url.path.clone();
        if !self.path_ready {
            if !self.path_busy {
                self.path_busy = true;
                self.op(ctx, s.ensure_path(&path), |act, res, ctx| {
                    act.path_busy = false;
                    match res {
                        Ok(()) => {
                            act.path_ready = true;
                            act.sync(ctx);
                        }
                        Err(e) => act.failed("creating the group znode", e, ctx),
                    }
                });
            }
            return;
        }
        match self.join.clone() {
            Join::Wanted(data) => {
                let prefix = format!("{path}/{}_", self.cfg.label);
                self.join = Join::Creating(data.clone());
                self.op(ctx, s.create(&prefix, &data, CreateMode::EphemeralSequential), move |act, res, ctx| {
                    act.created(res, data, ctx)
                });
            }
            Join::Joined(seq) if self.cancel_wanted => {
                self.join = Join::Deleting(seq);
                let znode = format!("{path}/{}", super::members::member_name(&self.cfg.label, seq));
                self.op(ctx, s.delete(&znode), move |act, res, ctx| act.deleted(res, seq, ctx));
            }
            _ => {}
        }
        if !self.watching {
            self.watching = true;
            self.listings += 1;
            let (listing, mine) = (self.listings, self.joined_seq());
            self.op(ctx, s.get_children_watch(&path), move |act, res, ctx| act.listed(res, listing, mine, ctx));
        }
    }

    fn joined_seq(&self) -> Option<u64> {
        match self.join {
            Join::Joined(seq) => Some(seq),
            _ => None,
        }
    }

    fn created(&mut self, res: Result<String, ZkError>, data: Vec<u8>, ctx: &mut Context<Self>) {
        match res {
            Ok(znode) => {
                let name = znode.rsplit('/').next().unwrap_or_default();
                let Some(seq) = parse_member(&self.cfg.label, name) else {
                    tracing::error!(group = %self.cfg.url, "ZooKeeper created '{znode}', not a member name; retrying");
                    self.join = Join::Wanted(data);
                    return self.failed("joining", ZkError::Other("bad sequential name".into()), ctx);
                };
                tracing::info!(group = %self.cfg.url, "joined the group as '{znode}'");
                self.data.insert(seq, data);
                self.join = Join::Joined(seq);
                self.tell(JoinedMessage { seq });
                self.sync(ctx);
            }
            Err(e) => {
                self.join = Join::Wanted(data);
                self.failed("joining", e, ctx);
            }
        }
    }

    fn deleted(&mut self, res: Result<(), ZkError>, seq: u64, ctx: &mut Context<Self>) {
        match res {
            Ok(()) | Err(ZkError::NoNode) => {
                tracing::info!(group = %self.cfg.url, seq, "left the group");
                self.join = Join::Idle;
                self.cancel_wanted = false;
                self.tell(CancelledMessage { seq: Some(seq) });
            }
            Err(e) => {
                self.join = Join::Joined(seq);
                self.failed("leaving", e, ctx);
            }
        }
    }

    fn listed(
        &mut self,
        res: Result<(Vec<String>, super::store::Watch), ZkError>,
        listing: u64,
        mine: Option<u64>,
        ctx: &mut Context<Self>,
    ) {
        let (children, watch) = match res {
            Ok(x) => x,
            Err(ZkError::NoNode) => {
                // Someone deleted the group znode: create it again.
                self.watching = false;
                self.path_ready = false;
                return self.sync(ctx);
            }
            Err(e) => {
                self.watching = false;
                return self.failed("listing members", e, ctx);
            }
        };
        let gen = self.gen;
        ctx.spawn(wrap_future::<_, Self>(watch).map(move |held, act, ctx| {
            if act.gen == gen {
                act.watching = false;
                act.sync(ctx);
            }
            drop(held);
        }));
        let seqs = member_seqs(&self.cfg.label, &children);
        if let (Some(seq), Some(now)) = (mine, self.joined_seq()) {
            if seq == now && !seqs.contains(&seq) {
                tracing::warn!(group = %self.cfg.url, seq, "our member znode vanished");
                self.join = Join::Idle;
                if std::mem::take(&mut self.cancel_wanted) {
                    self.tell(CancelledMessage { seq: Some(seq) });
                } else {
                    self.tell(MembershipLostMessage { seq, reason: "member znode vanished".into() });
                }
            }
        }
        let missing: Vec<u64> = seqs.iter().copied().filter(|s| !self.data.contains_key(s)).collect();
        let Some(s) = self.session.clone() else { return };
        if missing.is_empty() {
            return self.reported(listing, seqs);
        }
        let path = self.cfg.url.path.clone();
        let label = self.cfg.label.clone();
        let reads = missing.into_iter().map(|seq| {
            let znode = format!("{path}/{}", super::members::member_name(&label, seq));
            s.get_data(&znode).map(move |r| r.map(|d| (seq, d)))
        });
        let fetch: ZkFuture<Vec<(u64, Option<Vec<u8>>)>> =
            futures::future::try_join_all(reads.collect::<Vec<_>>()).boxed();
        self.op(ctx, fetch, move |act, res, ctx| match res {
            Ok(found) => {
                for (seq, data) in found {
                    if let Some(d) = data {
                        act.data.insert(seq, d);
                    }
                }
                act.reported(listing, seqs);
            }
            Err(e) => act.failed("reading member data", e, ctx),
        });
    }

    /// Reports the members of listing number `listing` unless a newer
    /// listing was reported already.
    fn reported(&mut self, listing: u64, seqs: Vec<u64>) {
        if listing < self.reported_listing {
            return;
        }
        self.reported_listing = listing;
        self.data.retain(|seq, _| seqs.contains(seq));
        let members =
            seqs.iter().filter_map(|seq| Some(Member { seq: *seq, data: self.data.get(seq)?.clone() })).collect();
        self.report(members);
    }

    fn report(&mut self, members: Vec<Member>) {
        if self.members.as_ref() != Some(&members) {
            self.members = Some(members.clone());
            self.tell(MembersMessage { members });
        }
    }
}
