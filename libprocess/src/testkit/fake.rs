//! One fake process for every test: a [`Fake`] records each message of a
//! set it is declared with (and, if asked, each `Exited` of a link) on a
//! channel the test reads, and answers the messages it is told to answer.
//! The set is an enum declared with [`recorded!`](crate::recorded):
//!
//! ```
//! use libprocess::testkit::Fake;
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Debug, Serialize, Deserialize)] pub struct Ping { seq: u64 }
//! # libprocess::message!(Ping, "doc.Ping");
//! # #[derive(Debug, Serialize, Deserialize)] pub struct Pong { seq: u64 }
//! # libprocess::message!(Pong, "doc.Pong");
//! libprocess::recorded! {
//!     /// What the probe heard.
//!     pub enum Heard { @exited Exited, Ping(Ping), Pong(Pong) }
//! }
//! # fn spawn(node: &libprocess::Node) {
//! // Answers every Ping with a Pong; records both kinds and exits.
//! let (pid, mut heard) = Fake::<Heard>::builder()
//!     .on(|me, from, ping: &Ping| me.send(from, Pong { seq: ping.seq }))
//!     .spawn(node, "probe");
//! # }
//! ```
//!
//! [`Recording`] is the test's end: `next` waits (bounded, on the wall
//! clock, for real nodes), `recv` for a simulation's `run_until`, `drain`
//! takes what came without waiting.

use std::any::Any;
use std::collections::HashMap;
use std::time::Duration;

use actix::{Actor, Context};
use tokio::sync::mpsc;

use crate::message::Message;
use crate::node::Node;
use crate::pid::Upid;
use crate::process::{Handlers, Me, Process};

/// How long [`Recording::next`] waits on a real clock before the test fails.
pub const FAKE_WAIT: Duration = Duration::from_secs(20);

/// A set of messages a [`Fake`] records; made by [`recorded!`](crate::recorded).
pub trait Recorded: Sized + 'static {
    /// Installs [`Fake::record`] for every message of the set.
    fn install(h: &mut Handlers<Fake<Self>>);
    /// The record of a link's `Exited`, if the set has one.
    fn exited(pid: Upid) -> Option<Self> {
        let _ = pid;
        None
    }
}

type Reply = Box<dyn FnMut(&Me, &Upid, &dyn Any)>;

/// The fake process (see the module doc).
pub struct Fake<E: Recorded> {
    me: Me,
    tx: mpsc::UnboundedSender<E>,
    replies: HashMap<&'static str, Reply>,
}

impl<E: Recorded> Actor for Fake<E> {
    type Context = Context<Self>;
}

impl<E: Recorded> Process for Fake<E> {
    fn install(h: &mut Handlers<Self>) {
        E::install(h);
    }

    fn exited(&mut self, pid: &Upid, _: &mut Context<Self>) {
        if let Some(e) = E::exited(pid.clone()) {
            let _ = self.tx.send(e);
        }
    }
}

impl<E: Recorded> Fake<E> {
    pub fn builder() -> FakeBuilder<E> {
        FakeBuilder { replies: HashMap::new(), _set: std::marker::PhantomData }
    }

    /// The handler of every recorded message: answers it if told to, then
    /// records it.
    pub fn record<M: Message>(&mut self, from: Upid, msg: M, _: &mut Context<Self>)
    where
        E: From<(Upid, M)>,
    {
        if let Some(reply) = self.replies.get_mut(M::NAME) {
            reply(&self.me, &from, &msg);
        }
        let _ = self.tx.send(E::from((from, msg)));
    }
}

/// How a [`Fake`] answers; `Fake::builder()`.
pub struct FakeBuilder<E> {
    replies: HashMap<&'static str, Reply>,
    _set: std::marker::PhantomData<E>,
}

impl<E: Recorded> FakeBuilder<E> {
    /// On each `M` (before recording it), `f(me, from, msg)`: e.g. send an
    /// answer. A second `on` for the same `M` replaces the first.
    pub fn on<M: Message>(mut self, mut f: impl FnMut(&Me, &Upid, &M) + 'static) -> Self {
        let reply: Reply = Box::new(move |me, from, msg| {
            if let Some(m) = msg.downcast_ref::<M>() {
                f(me, from, m);
            }
        });
        self.replies.insert(M::NAME, reply);
        self
    }

    /// Spawns the fake as `id` on `node`: its pid and what it records.
    ///
    /// # Panics
    /// If the node cannot spawn it (the id is taken): a test's mistake.
    pub fn spawn(self, node: &Node, id: &str) -> (Upid, Recording<E>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (self.spawn_into(node, id, tx), Recording { rx })
    }

    /// As [`FakeBuilder::spawn`], recording into `tx` (many fakes, one
    /// [`Recording`]: see [`Recording::channel`]).
    pub fn spawn_into(self, node: &Node, id: &str, tx: mpsc::UnboundedSender<E>) -> Upid {
        let replies = self.replies;
        node.spawn(id, move |me| Fake { me, tx, replies }).expect("the fake spawns").pid
    }
}

/// What a [`Fake`] recorded, in order.
pub struct Recording<E> {
    rx: mpsc::UnboundedReceiver<E>,
}

impl<E> Recording<E> {
    /// A recording that fakes spawned with [`FakeBuilder::spawn_into`] and
    /// the sender share.
    pub fn channel() -> (mpsc::UnboundedSender<E>, Recording<E>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Recording { rx })
    }

    /// The next record, waiting at most [`FAKE_WAIT`] of wall-clock time
    /// (for fakes on real nodes; in a simulation, `sim.run_until(r.recv())`).
    ///
    /// # Panics
    /// If nothing comes in time, or the fake is gone.
    pub async fn next(&mut self) -> E {
        tokio::time::timeout(FAKE_WAIT, self.rx.recv()).await.expect("a record within the wait").expect("the fake runs")
    }

    /// The next record that `pick` maps to a value (others are skipped), as [`Recording::next`].
    pub async fn next_where<T>(&mut self, mut pick: impl FnMut(E) -> Option<T>) -> T {
        loop {
            if let Some(t) = pick(self.next().await) {
                return t;
            }
        }
    }

    /// The next record, on whatever clock runs the world (None: the fake is gone).
    pub async fn recv(&mut self) -> Option<E> {
        self.rx.recv().await
    }

    /// Everything recorded so far, without waiting.
    pub fn drain(&mut self) -> Vec<E> {
        let mut out = Vec::new();
        while let Ok(e) = self.rx.try_recv() {
            out.push(e);
        }
        out
    }
}

/// Declares a set of messages a [`Fake`] records: an enum with one variant
/// per message, holding the sender and the message, and optionally (first,
/// `@exited Name,`) a variant for a link's `Exited`. See the module doc.
#[macro_export]
macro_rules! recorded {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $(@exited $ex:ident,)? $($variant:ident($msg:ty)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug)]
        #[allow(dead_code, clippy::large_enum_variant)]
        $vis enum $name {
            $($ex($crate::Upid),)?
            $($variant($crate::Upid, $msg),)*
        }
        $(impl ::std::convert::From<($crate::Upid, $msg)> for $name {
            fn from((from, msg): ($crate::Upid, $msg)) -> $name {
                $name::$variant(from, msg)
            }
        })*
        impl $crate::testkit::Recorded for $name {
            fn install(h: &mut $crate::Handlers<$crate::testkit::Fake<$name>>) {
                $(h.install($crate::testkit::Fake::<$name>::record::<$msg>);)*
            }
            $(fn exited(pid: $crate::Upid) -> ::std::option::Option<$name> {
                ::std::option::Option::Some($name::$ex(pid))
            })?
        }
    };
}
