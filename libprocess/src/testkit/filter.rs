//! Message filters: expect, drop, or forbid messages as a node delivers them.
//!
//! The mirror of libprocess's `FUTURE_MESSAGE`, `DROP_MESSAGE(S)` and
//! `EXPECT_NO_FUTURE_MESSAGES`. A filter is installed on the node that
//! *delivers* the message (the receiver's node). The filters of a node are
//! the check on its delivery hook (`crate::hook`), which the node runs in
//! `NodeInner::deliver`, the one place every message to a local process
//! passes: sent locally (the body is still the typed value) or received in a
//! frame (the body is bytes), over any transport (TCP or simulated). Control
//! messages of the runtime (link, unlink, exited) are not filtered. The node
//! knows only the hook; this module installs itself on it at the first
//! filter.
//!
//! Cost when unused: one relaxed atomic load per delivery (the hook is on
//! exactly while a filter is installed).
//!
//! Matching: filters are checked in the order they were installed and the
//! *first* that matches decides (like a firewall's rule list, and unlike
//! gmock's newest-first). So `drop_message` followed by `future_message` for
//! the same pattern drops the first message and hands the next to the future,
//! which is what a "drop the first attempt, see the retry" test wants. A
//! message matches a filter when its name is the filter's type's
//! `Message::NAME`, sender and receiver match the patterns, and its body
//! decodes as that type (a malformed body is left to the receiver, which
//! logs and counts it).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::hook::{DeliveryCheck, Hook};
use crate::message::{Body, Message};
use crate::node::Node;
use crate::pid::Upid;
use crate::sync::lock;

/// Which sender or receiver a filter matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Any process.
    Any,
    /// Exactly this process (id and node address).
    Pid(Upid),
    /// Any process with this id, on any node.
    Id(String),
}

impl Pattern {
    /// A process with this id on any node (`Pattern::Id`).
    pub fn id(id: impl Into<String>) -> Pattern {
        Pattern::Id(id.into())
    }

    /// True if `pid` is a process this pattern names.
    pub fn matches_pid(&self, pid: &Upid) -> bool {
        self.matches(pid.id(), pid.addr())
    }

    fn matches(&self, id: &str, addr: SocketAddr) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Pid(p) => p.id() == id && p.addr() == addr,
            Pattern::Id(want) => want == id,
        }
    }
}

/// Matches any process (`Pattern::Any`).
pub fn any() -> Pattern {
    Pattern::Any
}

impl From<Upid> for Pattern {
    fn from(p: Upid) -> Pattern {
        Pattern::Pid(p)
    }
}

impl From<&Upid> for Pattern {
    fn from(p: &Upid) -> Pattern {
        Pattern::Pid(p.clone())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Any => f.write_str("*"),
            Pattern::Pid(p) => write!(f, "{p}"),
            Pattern::Id(id) => write!(f, "{id}@*"),
        }
    }
}

/// A copy of the message a filter caught, type-erased (it is an `M`).
type Caught = Box<dyn Any + Send>;
/// Decodes a copy of a body as the filter's type; None if it is not one.
type Capture = fn(&Body) -> Option<Caught>;
/// A condition on the decoded message (it is an `M`).
type Pred = Box<dyn Fn(&(dyn Any + Send)) -> bool + Send + Sync>;

enum Action {
    /// Hand a copy to the future and deliver the message; once.
    Expect(oneshot::Sender<Caught>),
    /// Hand the message to the future and do not deliver it; once.
    DropNext(oneshot::Sender<Caught>),
    /// Drop every match while the guard lives; counts them.
    DropAll(Arc<AtomicU64>),
    /// Record every match as a failure (and deliver it).
    ExpectNone(Arc<Mutex<Vec<String>>>),
}

struct FilterEntry {
    id: u64,
    name: &'static str,
    from: Pattern,
    to: Pattern,
    action: Action,
    capture: Capture,
    pred: Option<Pred>,
}

impl FilterEntry {
    /// A one-shot filter whose future was dropped: nobody wants it any more.
    fn abandoned(&self) -> bool {
        match &self.action {
            Action::Expect(tx) | Action::DropNext(tx) => tx.is_closed(),
            _ => false,
        }
    }
}

/// The filters installed on one node (see the module docs): the check on
/// its delivery hook, which is on exactly while there are entries (every
/// change of `entries` sets it, under their lock).
#[derive(Default)]
struct Filters {
    next_id: AtomicU64,
    entries: Mutex<Vec<FilterEntry>>,
}

/// A node's filters and the hook they are installed on.
struct Installed {
    hook: Arc<Hook>,
    filters: Arc<Filters>,
}

impl Installed {
    /// The filters of `node`, installed on its hook at the first call.
    fn on(node: &Node) -> Installed {
        let hook = node.inner.hook.clone();
        let filters = hook.installed::<Filters>().expect("the test kit's filters are the only delivery check");
        Installed { hook, filters }
    }

    fn install<M: Message>(&self, from: Pattern, to: Pattern, action: Action, pred: Option<Pred>) -> u64 {
        let id = self.filters.next_id.fetch_add(1, Ordering::Relaxed);
        let mut entries = lock(&self.filters.entries);
        entries.push(FilterEntry { id, name: M::NAME, from, to, action, capture: capture::<M>, pred });
        self.hook.set_active(true);
        id
    }

    fn remove(&self, id: u64) {
        let mut entries = lock(&self.filters.entries);
        entries.retain(|e| e.id != id);
        self.hook.set_active(!entries.is_empty());
    }
}

impl DeliveryCheck for Filters {
    /// Runs the filters on a message about to be delivered to the local
    /// process `to_id` of the node at `addr`. Returns the body to deliver, or
    /// None if a filter dropped it.
    fn check<'a>(
        &self,
        hook: &Hook,
        from: &Upid,
        to_id: &str,
        addr: SocketAddr,
        name: &str,
        body: Body<'a>,
    ) -> Option<Body<'a>> {
        let mut entries = lock(&self.entries);
        entries.retain(|e| !e.abandoned());
        let mut hit = None;
        for (i, e) in entries.iter().enumerate() {
            if e.name != name || !e.from.matches(from.id(), from.addr()) || !e.to.matches(to_id, addr) {
                continue;
            }
            let Some(copy) = (e.capture)(&body) else { continue };
            if e.pred.as_ref().is_none_or(|p| p(&*copy)) {
                hit = Some((i, copy));
                break;
            }
        }
        let Some((i, copy)) = hit else {
            hook.set_active(!entries.is_empty());
            return Some(body);
        };
        let deliver = match &entries[i].action {
            Action::Expect(_) | Action::DropNext(_) => {
                let e = entries.remove(i);
                let deliver = matches!(e.action, Action::Expect(_));
                if let Action::Expect(tx) | Action::DropNext(tx) = e.action {
                    let _ = tx.send(copy);
                }
                deliver
            }
            Action::DropAll(count) => {
                count.fetch_add(1, Ordering::Relaxed);
                false
            }
            Action::ExpectNone(failures) => {
                let what = format!("unexpected message {name} from {from} to {to_id}@{addr}");
                tracing::error!("{what}");
                lock(failures).push(what);
                true
            }
        };
        hook.set_active(!entries.is_empty());
        if !deliver {
            tracing::debug!(%from, to = to_id, name, "message dropped by a test filter");
        }
        deliver.then_some(body)
    }
}

/// Decodes a copy of `body` as `M`. A local body is the typed value itself;
/// `M` need not be `Clone`, so the copy goes through its encoding (filters
/// are a test tool: the cost is paid only when a filter matches the name).
fn capture<M: Message>(body: &Body) -> Option<Caught> {
    let msg: M = match body {
        Body::Local(any) => {
            // A local body is the sender's `Option<M>`, taken by the receiver.
            let m = any.downcast_ref::<Option<M>>()?.as_ref()?;
            rmp_serde::from_slice(&crate::message::encode(m)).ok()?
        }
        Body::Wire(bytes) => rmp_serde::from_slice(bytes).ok()?,
    };
    Some(Box::new(msg))
}

/// A future of the message a filter caught (see [`future_message`]).
///
/// Await it inside the simulation (e.g. `sim.run_until(fut)`), or with any
/// executor on a real transport. It panics if the node is dropped first,
/// since the message can then never come: that is a failed test.
#[must_use = "a filter does nothing unless its future is awaited or kept"]
pub struct MessageFuture<M> {
    rx: oneshot::Receiver<Caught>,
    what: String,
    _m: PhantomData<fn() -> M>,
}

impl<M: Message> Future for MessageFuture<M> {
    type Output = M;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<M> {
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(Ok(caught)) => match caught.downcast::<M>() {
                Ok(m) => Poll::Ready(*m),
                Err(_) => unreachable!("a filter for {} captured another type", M::NAME),
            },
            Poll::Ready(Err(_)) => panic!("the node was dropped before {} arrived", self.what),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn describe<M: Message>(from: &Pattern, to: &Pattern) -> String {
    format!("{} from {from} to {to}", M::NAME)
}

fn one_shot<M: Message>(node: &Node, from: Pattern, to: Pattern, drop: bool, pred: Option<Pred>) -> MessageFuture<M> {
    let (tx, rx) = oneshot::channel();
    let what = describe::<M>(&from, &to);
    let action = if drop { Action::DropNext(tx) } else { Action::Expect(tx) };
    Installed::on(node).install::<M>(from, to, action, pred);
    MessageFuture { rx, what, _m: PhantomData }
}

fn pred<M: Message>(f: impl Fn(&M) -> bool + Send + Sync + 'static) -> Option<Pred> {
    Some(Box::new(move |any: &(dyn Any + Send)| any.downcast_ref::<M>().is_some_and(&f)))
}

/// The next message of type `M` from `from` to `to` that `node` delivers;
/// the message is still delivered. libprocess's `FUTURE_MESSAGE`.
///
/// Install it *before* the message can be sent. Dropping the future removes
/// the filter.
pub fn future_message<M: Message>(node: &Node, from: impl Into<Pattern>, to: impl Into<Pattern>) -> MessageFuture<M> {
    one_shot(node, from.into(), to.into(), false, None)
}

/// As [`future_message`], for the next such message for which `f` is true
/// (e.g. a status update with a given state); others pass by untouched.
pub fn future_message_where<M: Message>(
    node: &Node,
    from: impl Into<Pattern>,
    to: impl Into<Pattern>,
    f: impl Fn(&M) -> bool + Send + Sync + 'static,
) -> MessageFuture<M> {
    one_shot(node, from.into(), to.into(), false, pred(f))
}

/// Drops the next message of type `M` from `from` to `to` that `node` would
/// deliver; the future yields the dropped message. libprocess's
/// `DROP_MESSAGE`. Dropping the future removes the filter.
pub fn drop_message<M: Message>(node: &Node, from: impl Into<Pattern>, to: impl Into<Pattern>) -> MessageFuture<M> {
    one_shot(node, from.into(), to.into(), true, None)
}

/// As [`drop_message`], for the next such message for which `f` is true.
pub fn drop_message_where<M: Message>(
    node: &Node,
    from: impl Into<Pattern>,
    to: impl Into<Pattern>,
    f: impl Fn(&M) -> bool + Send + Sync + 'static,
) -> MessageFuture<M> {
    one_shot(node, from.into(), to.into(), true, pred(f))
}

/// Drops every message of type `M` from `from` to `to` that `node` would
/// deliver, until the returned guard is dropped. libprocess's `DROP_MESSAGES`.
pub fn drop_messages<M: Message>(node: &Node, from: impl Into<Pattern>, to: impl Into<Pattern>) -> DropGuard {
    let count = Arc::new(AtomicU64::new(0));
    let filters = Installed::on(node);
    let id = filters.install::<M>(from.into(), to.into(), Action::DropAll(count.clone()), None);
    DropGuard { filters, id, count }
}

/// Records a failure for every message of type `M` from `from` to `to` that
/// `node` delivers (it is still delivered). The returned guard panics when
/// dropped if any arrived (unless the thread is already panicking); call
/// [`NoMessageGuard::check`] to test earlier. libprocess's
/// `EXPECT_NO_FUTURE_MESSAGES`.
pub fn expect_no_message<M: Message>(node: &Node, from: impl Into<Pattern>, to: impl Into<Pattern>) -> NoMessageGuard {
    let (from, to) = (from.into(), to.into());
    let what = describe::<M>(&from, &to);
    let failures = Arc::new(Mutex::new(Vec::new()));
    let filters = Installed::on(node);
    let id = filters.install::<M>(from, to, Action::ExpectNone(failures.clone()), None);
    NoMessageGuard { filters, id, failures, what }
}

/// Keeps a [`drop_messages`] filter installed; dropping it removes the filter.
#[must_use = "the filter is removed when this guard is dropped"]
pub struct DropGuard {
    filters: Installed,
    id: u64,
    count: Arc<AtomicU64>,
}

impl DropGuard {
    /// How many messages this filter dropped so far.
    pub fn dropped(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.filters.remove(self.id);
    }
}

/// Keeps an [`expect_no_message`] filter installed; see there.
#[must_use = "the filter is removed (and checked) when this guard is dropped"]
pub struct NoMessageGuard {
    filters: Installed,
    id: u64,
    failures: Arc<Mutex<Vec<String>>>,
    what: String,
}

impl NoMessageGuard {
    /// Err with a description of every unexpected message so far.
    pub fn check(&self) -> Result<(), String> {
        let failures = lock(&self.failures);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!("expected no {}, got {}: {}", self.what, failures.len(), failures.join("; ")))
        }
    }
}

impl Drop for NoMessageGuard {
    fn drop(&mut self) {
        self.filters.remove(self.id);
        if let Err(e) = self.check() {
            if !std::thread::panicking() {
                panic!("{e}");
            }
        }
    }
}
