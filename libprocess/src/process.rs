//! Processes: actix actors registered under a Upid, with handlers installed
//! per message type, links, and timers on the node's clock.
//!
//! A process is a plain actix actor (`Context<Self>`) that also implements
//! [`Process`]. Its handlers do not go through actix's `Handler` trait: at
//! spawn, the node creates the actor's context itself and attaches a stream of
//! jobs to it (`ctx.spawn`), so every message, `Exited` and HTTP request runs
//! on the actor with `&mut self` and `&mut Context<Self>`, in arrival order,
//! without the actor writing a `Handler` impl per message. The actor can still
//! use actix messages, futures and its address as usual.
//!
//! ```ignore
//! struct Pinger { me: Me }
//! impl Actor for Pinger { type Context = Context<Self>; }
//! impl Process for Pinger {
//!     fn install(h: &mut Handlers<Self>) {
//!         h.install(Pinger::pong);
//!     }
//! }
//! impl Pinger {
//!     fn pong(&mut self, from: Upid, msg: Pong, _ctx: &mut Context<Self>) {
//!         self.me.send(&from, Ping { seq: msg.seq + 1 });
//!     }
//! }
//! let spawned = node.spawn("pinger", |me| Pinger { me })?;
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use actix::fut::{ActorFutureExt, ActorStreamExt};
use actix::{Actor, ActorContext, Addr, AsyncContext, Context, SpawnHandle};
use tokio::sync::oneshot;

use crate::batch::{Cursor, WireBatch};
use crate::clock::{Clock, WorkGuard};
use crate::fasthash::FastMap;
use crate::http::{Request, Response};
use crate::mailbox::{Mailbox, Undeliverable};
use crate::message::{Body, DecodeError, Message};
use crate::node::{Node, SpawnError, WeakNode};
use crate::pid::{validate_id, Upid};
use crate::queue;
use crate::wire::FrameView;

/// An actix actor that the node can address by Upid.
pub trait Process: Actor<Context = Context<Self>> {
    /// Installs the process's message handlers and HTTP routes.
    fn install(handlers: &mut Handlers<Self>);

    /// A process this one linked to stopped, or its node became unreachable
    /// or restarted. Delivered once per link.
    fn exited(&mut self, pid: &Upid, ctx: &mut Context<Self>) {
        let _ = (pid, ctx);
    }
}

/// A message handler: runs on the actor with the sender's Upid.
pub type MessageHandler<A, M> = fn(&mut A, Upid, M, &mut Context<A>);
/// An HTTP route handler: runs on the actor and answers at once.
pub type RouteHandler<A> = fn(&mut A, Request, &mut Context<A>) -> Response;

pub(crate) type Job<A> = Box<dyn FnOnce(&mut A, &mut Context<A>) + Send>;
type Decoder<A> = Box<dyn Fn(Upid, Body, WorkGuard) -> Result<Job<A>, DecodeError> + Send + Sync>;
/// Runs a remote message on the actor: decodes its body there (so the
/// message is allocated and freed on the same thread in quick succession)
/// and calls the handler. Err: the body did not decode (the sender is
/// handed back for the log line).
type WireHandler<A> =
    Arc<dyn Fn(&mut A, Upid, &[u8], &mut Context<A>) -> Result<(), (Upid, DecodeError)> + Send + Sync>;

/// What a process handles, filled in by [`Process::install`].
pub struct Handlers<A: Process> {
    /// Handlers by name: an index into `entries`.
    index: FastMap<&'static str, usize>,
    entries: Vec<(&'static str, Decoder<A>, WireHandler<A>)>,
    routes: HashMap<String, RouteHandler<A>>,
}

/// What a process's queue carries: a job, or the remote messages for it
/// from one read of a connection (queued under one lock).
pub(crate) enum Queued<A: Process> {
    Job(Job<A>),
    Wire(Box<WireBatch>, WorkGuard),
}

/// A batch being handed to the actor, with its work guard (dropped, and
/// the work done, once its last message has run).
struct Running {
    msgs: Cursor,
    _guard: WorkGuard,
}

/// One item of the actor's stream: a job, or "run messages of the current
/// batch". The batch runs in one item while the actor neither waits
/// (`ctx.wait`) nor stops; then the rest waits for the next item, so those
/// act between messages exactly as between jobs.
enum Step<A: Process> {
    Job(Job<A>),
    Wire,
}

impl<A: Process> Handlers<A> {
    fn new() -> Self {
        Handlers { index: FastMap::default(), entries: Vec::new(), routes: HashMap::new() }
    }

    /// Handles messages named `M::NAME` with `f`. Installing a name twice
    /// keeps the last handler.
    pub fn install<M: Message>(&mut self, f: MessageHandler<A, M>) -> &mut Self {
        let decoder: Decoder<A> = Box::new(move |from, body, guard| {
            let msg = body.decode::<M>()?;
            Ok(Box::new(move |act: &mut A, ctx: &mut Context<A>| {
                f(act, from, msg, ctx);
                drop(guard);
            }))
        });
        let wire: WireHandler<A> = Arc::new(move |act: &mut A, from, bytes: &[u8], ctx: &mut Context<A>| {
            match Body::Wire(bytes).decode::<M>() {
                Ok(msg) => {
                    f(act, from, msg, ctx);
                    Ok(())
                }
                Err(e) => Err((from, e)),
            }
        });
        match self.index.get(M::NAME) {
            Some(&i) => self.entries[i] = (M::NAME, decoder, wire),
            None => {
                self.index.insert(M::NAME, self.entries.len());
                self.entries.push((M::NAME, decoder, wire));
            }
        }
        self
    }

    /// Serves `f` at `/<process id>/<path>` (path without leading slash,
    /// e.g. `"state"` or `"files/read"`).
    pub fn route(&mut self, path: &str, f: RouteHandler<A>) -> &mut Self {
        self.routes.insert(path.trim_matches('/').to_string(), f);
        self
    }
}

struct TypedMailbox<A: Process> {
    tx: queue::Sender<Queued<A>>,
    handlers: Handlers<A>,
    /// Index (into `handlers.entries`) of the last message name looked up
    /// by `message`; only a hint, checked on every use.
    last: AtomicUsize,
}

impl<A: Process> TypedMailbox<A> {
    fn push(&self, job: Job<A>) -> Result<(), Undeliverable> {
        self.tx.send(Queued::Job(job)).map_err(|_| Undeliverable::Stopped)
    }
}

impl<A: Process> Mailbox for TypedMailbox<A> {
    fn message(&self, from: &Upid, name: &str, body: Body, guard: WorkGuard) -> Result<(), Undeliverable> {
        // Mostly the same name as the last message: no hash (and, when the
        // sender's `M::NAME` is the same copy of the string, no compare).
        let last = self.last.load(Ordering::Relaxed);
        let i = match self.handlers.entries.get(last) {
            Some((n, ..)) if n.len() == name.len() && (std::ptr::eq(n.as_ptr(), name.as_ptr()) || *n == name) => last,
            _ => {
                let i = *self.handlers.index.get(name).ok_or(Undeliverable::UnknownName)?;
                if i != last {
                    self.last.store(i, Ordering::Relaxed);
                }
                i
            }
        };
        let (_, decoder, _) = &self.handlers.entries[i];
        let job = decoder(from.clone(), body, guard).map_err(Undeliverable::Malformed)?;
        self.push(job)
    }

    fn add_wire(&self, batch: &mut Option<Box<WireBatch>>, from: &Upid, env: &FrameView<'_>) -> Result<(), ()> {
        let name = env.name();
        let batch = batch.get_or_insert_with(|| Box::new(WireBatch::new()));
        // Most often the same name as the last message: no hash lookup.
        let handler = match batch.last_handler() {
            Some(i) if self.handlers.entries[i].0 == name => i,
            _ => *self.handlers.index.get(name).ok_or(())?,
        };
        batch.push(handler, from, env);
        Ok(())
    }

    fn push_wire(&self, batch: Box<WireBatch>, guard: WorkGuard) -> Result<(), usize> {
        self.tx.send(Queued::Wire(batch, guard)).map_err(|q| match q {
            Queued::Wire(batch, _) => batch.len(),
            Queued::Job(_) => 1,
        })
    }

    fn exited(&self, pid: Upid, guard: WorkGuard) -> Result<(), Undeliverable> {
        self.push(Box::new(move |act: &mut A, ctx: &mut Context<A>| {
            act.exited(&pid, ctx);
            drop(guard);
        }))
    }

    fn http(
        &self,
        route: &str,
        req: Request,
        reply: oneshot::Sender<Response>,
        guard: WorkGuard,
    ) -> Result<(), Undeliverable> {
        let f = *self.handlers.routes.get(route).ok_or(Undeliverable::NoRoute)?;
        self.push(Box::new(move |act: &mut A, ctx: &mut Context<A>| {
            let _ = reply.send(f(act, req, ctx));
            drop(guard);
        }))
    }

    fn has_route(&self, route: &str) -> bool {
        self.handlers.routes.contains_key(route)
    }
}

/// A process just spawned: its Upid and its actix address.
pub struct Spawned<A: Actor> {
    pub pid: Upid,
    pub addr: Addr<A>,
}

impl Node {
    /// Starts `make(me)` as a process with `id`. Must run inside an actix
    /// system (the actor runs on the current arbiter).
    pub fn spawn<A: Process>(&self, id: &str, make: impl FnOnce(Me) -> A) -> Result<Spawned<A>, SpawnError> {
        validate_id(id)?;
        let pid = self.pid(id)?;
        if self.runs(id) {
            return Err(SpawnError::IdTaken(id.to_string()));
        }
        let actor = make(Me::new(pid.clone(), self.clone()));
        let ctx = Context::<A>::new();
        let addr = ctx.address();
        let (mailbox, run) = prepare(actor, ctx, pid.clone(), self.downgrade());
        self.register(&pid, mailbox, run)?;
        tracing::debug!(%pid, "spawned");
        Ok(Spawned { pid, addr })
    }
}

/// Builds the actor's context, registers its mailbox and returns the pieces
/// the node needs: the mailbox for the registry and the future to run.
/// `pid` and `node` name the process in the log line (and count) of a
/// remote message whose body does not decode.
fn prepare<A: Process>(
    actor: A,
    mut ctx: Context<A>,
    pid: Upid,
    node: WeakNode,
) -> (Box<dyn Mailbox>, actix::dev::ContextFut<A, Context<A>>) {
    let (tx, mut rx) = queue::channel::<Queued<A>>();
    let mut handlers = Handlers::new();
    A::install(&mut handlers);
    let current: Rc<RefCell<Option<Running>>> = Rc::default();
    // The handlers remote messages run with, by the index batches name them by.
    let wire: Vec<(&'static str, WireHandler<A>)> = handlers.entries.iter().map(|(n, _, w)| (*n, w.clone())).collect();
    let feed = current.clone();
    let steps = futures::stream::poll_fn(move |cx| loop {
        {
            let mut cur = feed.borrow_mut();
            if cur.as_ref().is_some_and(|r| r.msgs.has_more()) {
                return Poll::Ready(Some(Step::Wire));
            }
            *cur = None;
        }
        match std::task::ready!(rx.poll_recv(cx)) {
            Some(Queued::Job(job)) => return Poll::Ready(Some(Step::Job(job))),
            Some(Queued::Wire(batch, guard)) => {
                *feed.borrow_mut() = Some(Running { msgs: batch.into_cursor(), _guard: guard });
            }
            None => return Poll::Ready(None),
        }
    });
    let run = move |step: Step<A>, act: &mut A, ctx: &mut Context<A>| match step {
        Step::Job(job) => job(act, ctx),
        Step::Wire => {
            // Out of the cell while handlers run; the rest goes back.
            let Some(mut running) = current.borrow_mut().take() else { return };
            while let Some(m) = running.msgs.next_msg() {
                let (name, handler) = &wire[m.handler];
                if let Err((from, e)) = handler(act, m.from.clone(), m.body, ctx) {
                    node.malformed(&from, &pid, name, &e);
                }
                if ctx.waiting() || ctx.state() != actix::ActorState::Running {
                    break;
                }
            }
            *current.borrow_mut() = Some(running);
        }
    };
    ctx.spawn(actix::fut::wrap_stream::<_, A>(steps).map(run).finish());
    (Box::new(TypedMailbox { tx, handlers, last: AtomicUsize::new(usize::MAX) }), ctx.into_future(actor))
}

/// A process's handle on itself and its node: send, link, timers.
#[derive(Clone)]
pub struct Me {
    pid: Upid,
    node: Node,
}

impl Me {
    pub(crate) fn new(pid: Upid, node: Node) -> Me {
        Me { pid, node }
    }

    pub fn pid(&self) -> &Upid {
        &self.pid
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    pub fn clock(&self) -> &Clock {
        self.node.clock()
    }

    /// Sends `msg` to `to`, from this process. At most once: a message to an
    /// unreachable node or a stopped process is dropped (and counted).
    pub fn send<M: Message>(&self, to: &Upid, msg: M) {
        self.node.send(&self.pid, to, msg);
    }

    /// Watches `to`: this process's [`Process::exited`] runs when it stops,
    /// or its node becomes unreachable or restarts.
    pub fn link(&self, to: &Upid) {
        self.node.link(&self.pid, to);
    }

    /// Stops watching `to`.
    pub fn unlink(&self, to: &Upid) {
        self.node.unlink(&self.pid, to);
    }

    /// Runs `f` on the actor after `d` on the node's clock; cancel with
    /// `ctx.cancel_future(handle)`.
    pub fn delay<A, F>(&self, ctx: &mut Context<A>, d: Duration, f: F) -> SpawnHandle
    where
        A: Process,
        F: FnOnce(&mut A, &mut Context<A>) + 'static,
    {
        let sleep = self.clock().sleep(d);
        ctx.spawn(actix::fut::wrap_future::<_, A>(sleep).map(move |_, act, ctx| f(act, ctx)))
    }

    /// Runs `f` on the actor every `d` on the node's clock (first after `d`).
    pub fn every<A, F>(&self, ctx: &mut Context<A>, d: Duration, mut f: F) -> SpawnHandle
    where
        A: Process,
        F: FnMut(&mut A, &mut Context<A>) + 'static,
    {
        let clock = self.clock().clone();
        let ticks = futures::stream::unfold(clock, move |c| async move {
            c.sleep(d).await;
            Some(((), c))
        });
        ctx.spawn(actix::fut::wrap_stream::<_, A>(ticks).map(move |_, act, ctx| f(act, ctx)).finish())
    }
}
