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
//! The decisions are in [`GroupCore`] (no I/O); this process performs its
//! actions and feeds it the results. Owner <-> group talk is libprocess
//! messages, so the work accounting of the paused clock covers every hop;
//! ZooKeeper operations in flight hold a [`crate::clock::WorkGuard`] too.

use std::sync::Arc;
use std::time::Duration;

use actix::fut::{wrap_future, wrap_stream, ActorFutureExt, ActorStreamExt};
use actix::{Actor, AsyncContext, Context, SpawnHandle};
use futures::FutureExt;
use serde::{Deserialize, Serialize};

use super::group_core::{Action, GroupCore, MemberData, Report};
use super::members::Member;
use super::store::{Backend, CreateMode, Session, ZkError, ZkFuture};
use super::url::ZkUrl;
use crate::node::Node;
use crate::process::{Handlers, Me, Process};
use crate::{SpawnError, Upid};

pub use super::group_core::RETRY_INTERVAL;

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

/// The group process: performs its core's actions.
pub struct Group {
    me: Me,
    backend: Arc<dyn Backend>,
    cfg: GroupConfig,
    owner: Upid,
    core: GroupCore,
    session: Option<Arc<dyn Session>>,
    /// Bumped when a session ends; results of older sessions are dropped.
    gen: u64,
    expiry_timer: Option<SpawnHandle>,
    /// The current session's event stream (cancelled when it ends).
    events: Option<SpawnHandle>,
}

impl Actor for Group {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let actions = self.core.start();
        self.act(actions, ctx);
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
        let core = GroupCore::new(&cfg.url.path, &cfg.label, cfg.session_timeout);
        let spawned = node.spawn(id, move |me| Group {
            me,
            backend,
            cfg,
            owner,
            core,
            session: None,
            gen: 0,
            expiry_timer: None,
            events: None,
        })?;
        Ok(spawned.pid)
    }

    fn on_join(&mut self, _from: Upid, msg: JoinMessage, ctx: &mut Context<Self>) {
        let actions = self.core.join(msg.data);
        self.act(actions, ctx);
    }

    fn on_cancel(&mut self, _from: Upid, _msg: CancelMessage, ctx: &mut Context<Self>) {
        let actions = self.core.cancel();
        self.act(actions, ctx);
    }

    /// Runs `fut` for the current session; `then` runs on the actor unless
    /// the session ended meanwhile. Holds work while in flight.
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

    fn act(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for action in actions {
            self.perform(action, ctx);
        }
    }

    fn perform(&mut self, action: Action, ctx: &mut Context<Self>) {
        match action {
            Action::Connect => self.connect(ctx),
            Action::ConnectAfter(d) => {
                self.me.delay(ctx, d, |act: &mut Self, ctx| {
                    let actions = act.core.connect_retry();
                    act.act(actions, ctx);
                });
            }
            Action::StartExpiryTimer(d) => {
                let gen = self.gen;
                let t = self.me.delay(ctx, d, move |act: &mut Self, ctx| {
                    act.expiry_timer = None;
                    if act.gen == gen {
                        let actions = act.core.expiry_timer();
                        act.act(actions, ctx);
                    }
                });
                if let Some(old) = self.expiry_timer.replace(t) {
                    ctx.cancel_future(old);
                }
            }
            Action::CancelExpiryTimer => {
                if let Some(t) = self.expiry_timer.take() {
                    ctx.cancel_future(t);
                }
            }
            Action::DropSession => {
                self.gen += 1;
                if let Some(e) = self.events.take() {
                    ctx.cancel_future(e);
                }
                // Closes it if the servers can be told; else they expire it.
                self.session = None;
            }
            Action::RetryAfter(d) => {
                let gen = self.gen;
                self.me.delay(ctx, d, move |act: &mut Self, ctx| {
                    if act.gen == gen {
                        let actions = act.core.retry();
                        act.act(actions, ctx);
                    }
                });
            }
            Action::Tell(report) => self.tell(report),
            other => match self.session.clone() {
                Some(s) => self.session_op(&s, other, ctx),
                // The core asks for these only while it has a session.
                None => tracing::error!(group = %self.cfg.url, "no session for {other:?}"),
            },
        }
    }

    fn session_op(&mut self, s: &Arc<dyn Session>, action: Action, ctx: &mut Context<Self>) {
        match action {
            Action::EnsurePath(path) => self.op(ctx, s.ensure_path(&path), |act, res, ctx| {
                let actions = act.core.path_ensured(res);
                act.act(actions, ctx);
            }),
            Action::CreateMember { prefix, data } => {
                self.op(ctx, s.create(&prefix, &data, CreateMode::EphemeralSequential), |act, res, ctx| {
                    let actions = act.core.created(res);
                    act.act(actions, ctx);
                })
            }
            Action::Delete(znode) => self.op(ctx, s.delete(&znode), |act, res, ctx| {
                let actions = act.core.deleted(res);
                act.act(actions, ctx);
            }),
            Action::List { path, listing, mine } => self.op(ctx, s.get_children_watch(&path), move |act, res, ctx| {
                let res = res.map(|(children, watch)| {
                    let gen = act.gen;
                    ctx.spawn(wrap_future::<_, Self>(watch).map(move |held, act, ctx| {
                        if act.gen == gen {
                            let actions = act.core.watch_fired();
                            act.act(actions, ctx);
                        }
                        drop(held);
                    }));
                    children
                });
                let actions = act.core.listed(listing, mine, res);
                act.act(actions, ctx);
            }),
            Action::Read { listing, seqs, znodes } => {
                let reads: Vec<_> =
                    znodes.into_iter().map(|(seq, z)| s.get_data(&z).map(move |r| r.map(|d| (seq, d)))).collect();
                let fut: ZkFuture<MemberData> = futures::future::try_join_all(reads).boxed();
                self.op(ctx, fut, move |act, res, ctx| {
                    let actions = act.core.read(listing, seqs, res);
                    act.act(actions, ctx);
                })
            }
            other => tracing::error!(group = %self.cfg.url, "not a session operation: {other:?}"),
        }
    }

    fn tell(&self, report: Report) {
        let owner = &self.owner;
        match report {
            Report::Joined(seq) => self.me.send(owner, JoinedMessage { seq }),
            Report::Cancelled(seq) => self.me.send(owner, CancelledMessage { seq }),
            Report::Lost { seq, reason } => self.me.send(owner, MembershipLostMessage { seq, reason }),
            Report::Members(members) => self.me.send(owner, MembersMessage { members }),
        }
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        let work = self.me.clock().work();
        let fut = self.backend.connect(&self.cfg.url, self.cfg.session_timeout);
        ctx.spawn(wrap_future::<_, Self>(fut).map(move |res, act, ctx| {
            let res = res.map(|session| {
                act.on_session(session.clone(), ctx);
                session.timeout()
            });
            let actions = act.core.connected(res);
            act.act(actions, ctx);
            drop(work);
        }));
    }

    fn on_session(&mut self, session: Arc<dyn Session>, ctx: &mut Context<Self>) {
        let gen = self.gen;
        tracing::info!(group = %self.cfg.url, session = format!("{:#x}", session.id()), timeout = ?session.timeout(), "ZooKeeper group session established");
        let events = ctx.spawn(
            wrap_stream::<_, Self>(session.events())
                .map(move |(ev, held), act, ctx| {
                    if act.gen == gen {
                        let actions = act.core.session_event(ev);
                        act.act(actions, ctx);
                    }
                    drop(held);
                })
                .finish(),
        );
        self.events = Some(events);
        self.session = Some(session);
    }
}
