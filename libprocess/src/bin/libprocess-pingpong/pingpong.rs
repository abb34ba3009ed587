//! The ping-pong demo: two messages, a process that answers, and a client
//! that sends pings one at a time and watches its target with a link.
//!
//! Demo code, so it is not in the runtime's library: it is a module of the
//! `libprocess-pingpong` binary, and `libprocess/tests/multiprocess.rs` and
//! `bad_input.rs` include this same file (`#[path]`) to run either side of it
//! in-process against the other side in another OS process. The client is
//! split the usual way: [`Rounds`] is the
//! pure core (which Pong is awaited, what to send next, when it is over), the
//! [`Pinger`] process only forwards what arrives to a channel, and
//! [`PingClient::run`] is the shell that sends and waits.

use std::time::Duration;

use actix::{Actor, Context};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use libprocess::{Handlers, Me, Node, Process, SpawnError, Upid};

/// How long the client waits for each Pong before giving up. Loopback round
/// trips take well under a millisecond; this only bounds a silent failure.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(10);

/// A request for a [`Pong`] with the same `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    pub seq: u64,
}
libprocess::message!(Ping, "libprocess.pingpong.PingMessage");

/// The answer to a [`Ping`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    pub seq: u64,
}
libprocess::message!(Pong, "libprocess.pingpong.PongMessage");

/// Answers every Ping with a Pong carrying the same `seq`.
pub struct Ponger {
    me: Me,
}

impl Ponger {
    pub fn new(me: Me) -> Ponger {
        Ponger { me }
    }

    fn ping(&mut self, from: Upid, msg: Ping, _ctx: &mut Context<Self>) {
        tracing::debug!(%from, seq = msg.seq, "ping");
        self.me.send(&from, Pong { seq: msg.seq });
    }
}

impl Actor for Ponger {
    type Context = Context<Self>;
}

impl Process for Ponger {
    fn install(h: &mut Handlers<Self>) {
        h.install(Ponger::ping);
    }
}

/// What reaches a [`Pinger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Pong { from: Upid, seq: u64 },
    Exited(Upid),
}

/// Forwards every Pong and `Exited` to its owner's channel; decides nothing.
pub struct Pinger {
    events: mpsc::UnboundedSender<Event>,
}

impl Actor for Pinger {
    type Context = Context<Self>;
}

impl Process for Pinger {
    fn install(h: &mut Handlers<Self>) {
        h.install(Pinger::pong);
    }

    fn exited(&mut self, pid: &Upid, _ctx: &mut Context<Self>) {
        let _ = self.events.send(Event::Exited(pid.clone()));
    }
}

impl Pinger {
    fn pong(&mut self, from: Upid, msg: Pong, _ctx: &mut Context<Self>) {
        let _ = self.events.send(Event::Pong { from, seq: msg.seq });
    }
}

/// The pure core of a ping run: `count` pings to `target`, one in flight,
/// `seq` 1, 2, ... Events in, steps out; no I/O, no time.
#[derive(Debug, Clone)]
pub struct Rounds {
    target: Upid,
    count: u64,
    /// Seq of the ping in flight (0: none sent yet).
    awaited: u64,
}

/// What to do after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The awaited Pong arrived; send ping `next`, or stop if None.
    Answered { seq: u64, next: Option<u64> },
    /// Not the awaited Pong (another seq, another sender, another link).
    Ignored,
    /// The target exited or its node became unreachable.
    Lost,
}

impl Rounds {
    pub fn new(target: Upid, count: u64) -> Rounds {
        Rounds { target, count, awaited: 0 }
    }

    /// The first ping to send (None if `count` is 0).
    pub fn start(&mut self) -> Option<u64> {
        self.advance()
    }

    /// The ping in flight, if any.
    pub fn awaited(&self) -> Option<u64> {
        (self.awaited > 0 && self.awaited <= self.count).then_some(self.awaited)
    }

    pub fn on_event(&mut self, event: &Event) -> Step {
        match event {
            Event::Pong { from, seq } if *from == self.target && Some(*seq) == self.awaited() => {
                Step::Answered { seq: *seq, next: self.advance() }
            }
            Event::Pong { .. } => Step::Ignored,
            Event::Exited(pid) if *pid == self.target => Step::Lost,
            Event::Exited(_) => Step::Ignored,
        }
    }

    fn advance(&mut self) -> Option<u64> {
        self.awaited += 1;
        self.awaited()
    }
}

/// How a ping run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every ping was answered; `elapsed` on the node's clock.
    Done { pongs: u64, elapsed: Duration },
    /// The target exited (or its node became unreachable) before the end.
    Exited(Upid),
    /// No Pong for ping `seq` within [`PONG_TIMEOUT`].
    TimedOut { seq: u64 },
}

/// A [`Pinger`] process and the channel its events arrive on.
pub struct PingClient {
    node: Node,
    pid: Upid,
    events: mpsc::UnboundedReceiver<Event>,
}

impl PingClient {
    /// Spawns a [`Pinger`] as `id` on `node`.
    pub fn spawn(node: &Node, id: &str) -> Result<PingClient, SpawnError> {
        let (tx, events) = mpsc::unbounded_channel();
        let spawned = node.spawn(id, |_| Pinger { events: tx })?;
        Ok(PingClient { node: node.clone(), pid: spawned.pid, events })
    }

    pub fn pid(&self) -> &Upid {
        &self.pid
    }

    /// Links to `target`, then sends `count` pings one at a time, calling
    /// `answered(seq, from)` for each Pong.
    pub async fn run(&mut self, target: &Upid, count: u64, mut answered: impl FnMut(u64, &Upid)) -> Outcome {
        let clock = self.node.clock().clone();
        let started = clock.now();
        let mut rounds = Rounds::new(target.clone(), count);
        self.node.link(&self.pid, target);
        let mut next = rounds.start();
        while let Some(seq) = next {
            self.node.send(&self.pid, target, Ping { seq });
            loop {
                let Some(event) = self.next_event(PONG_TIMEOUT).await else {
                    return Outcome::TimedOut { seq };
                };
                match rounds.on_event(&event) {
                    Step::Answered { seq, next: n } => {
                        answered(seq, target);
                        next = n;
                        break;
                    }
                    Step::Ignored => tracing::debug!(?event, "ignored"),
                    Step::Lost => return Outcome::Exited(target.clone()),
                }
            }
        }
        Outcome::Done { pongs: count, elapsed: clock.now() - started }
    }

    /// The next event, or None if none arrives within `within` on the
    /// node's clock.
    pub async fn next_event(&mut self, within: Duration) -> Option<Event> {
        self.node.clock().clone().timeout(within, self.events.recv()).await.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(s: &str) -> Upid {
        s.parse().unwrap()
    }

    #[test]
    fn rounds_await_each_pong_in_turn() {
        let target = pid("pong@127.0.0.1:5050");
        let mut r = Rounds::new(target.clone(), 2);
        assert_eq!(r.start(), Some(1));
        let pong = |seq| Event::Pong { from: target.clone(), seq };
        assert_eq!(r.on_event(&pong(2)), Step::Ignored);
        let other = Event::Pong { from: pid("other@127.0.0.1:5050"), seq: 1 };
        assert_eq!(r.on_event(&other), Step::Ignored);
        assert_eq!(r.on_event(&pong(1)), Step::Answered { seq: 1, next: Some(2) });
        assert_eq!(r.on_event(&pong(1)), Step::Ignored);
        assert_eq!(r.on_event(&pong(2)), Step::Answered { seq: 2, next: None });
        assert_eq!(r.awaited(), None);
    }

    #[test]
    fn rounds_end_on_the_targets_exit_only() {
        let target = pid("pong@127.0.0.1:5050");
        let mut r = Rounds::new(target.clone(), 3);
        r.start();
        assert_eq!(r.on_event(&Event::Exited(pid("x@127.0.0.1:1"))), Step::Ignored);
        assert_eq!(r.on_event(&Event::Exited(target)), Step::Lost);
        assert_eq!(Rounds::new(pid("p@127.0.0.1:1"), 0).start(), None);
    }
}
