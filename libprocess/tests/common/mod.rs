//! Toy actors shared by the simulation tests.
#![allow(dead_code)]

use std::time::Duration;

use libprocess::{Actor, Context, Handlers, Me, Node, Process, Request, Response, Upid};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    pub seq: u64,
}
libprocess::message!(Ping, "test.Ping");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pong {
    pub seq: u64,
}
libprocess::message!(Pong, "test.Pong");

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Ping(Upid, u64),
    Pong(Upid, u64),
    Exited(Upid),
    Timer(Duration),
    Tick,
}

/// Answers Ping with Pong and reports everything it sees to the test;
/// serves `echo` (its pid, the `x` query parameter, the body's length).
pub struct Probe {
    pub me: Me,
    pub events: mpsc::UnboundedSender<Event>,
}

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Process for Probe {
    fn install(h: &mut Handlers<Self>) {
        h.install(Probe::ping).install(Probe::pong).route("echo", Probe::echo);
    }

    fn exited(&mut self, pid: &Upid, _ctx: &mut Context<Self>) {
        let _ = self.events.send(Event::Exited(pid.clone()));
    }
}

impl Probe {
    fn ping(&mut self, from: Upid, msg: Ping, _ctx: &mut Context<Self>) {
        self.me.send(&from, Pong { seq: msg.seq });
        let _ = self.events.send(Event::Ping(from, msg.seq));
    }

    fn pong(&mut self, from: Upid, msg: Pong, _ctx: &mut Context<Self>) {
        let _ = self.events.send(Event::Pong(from, msg.seq));
    }

    fn echo(&mut self, req: Request, _ctx: &mut Context<Self>) -> Response {
        Response::text(200, format!("{} {} {}", self.me.pid(), req.query("x").unwrap_or("-"), req.body.len()))
    }
}

pub fn probe(node: &Node, id: &str) -> (Upid, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let s = node.spawn(id, |me| Probe { me, events: tx }).unwrap();
    (s.pid, rx)
}

/// Everything a probe reported so far, without waiting.
pub fn drain(rx: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

/// The next event, within 10 s of wall-clock time (for real nodes).
pub async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("event within 10 s").expect("open")
}
