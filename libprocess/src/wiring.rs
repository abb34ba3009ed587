//! The one way an actor is wired: a pure core returns plain actions, its
//! shell performs them. Two macros do the repetitive part for every actor
//! (master, slave, scheduler driver, executor driver):
//!
//! - [`outgoing!`](crate::outgoing) declares the enum of the messages a
//!   core sends (`Send(to, Outgoing::X(msg))` in its actions) and generates
//!   its `send`, so the core names messages as values and never touches a
//!   [`Me`]: the shell calls `msg.send(&me, &to)`.
//! - [`handlers!`](crate::handlers) installs one handler per message type,
//!   each calling one core method with the arguments it asks for (`from`,
//!   `msg`, `now`) and handing the returned actions to the shell's
//!   [`Shell::perform`].
//!
//! A shell implements [`Shell`]: where its core is, what "now" is for it,
//! whether it takes a message at all (a standby master does not), and how
//! actions are performed. Everything specific to one actor stays in its
//! own `perform`; the macros know nothing of Mesos.
//!
//! ```ignore
//! libprocess::outgoing! {
//!     /// What the core sends.
//!     pub enum Outgoing { Pong(PongMessage) }
//! }
//! impl Process for PingerProcess {
//!     fn install(h: &mut Handlers<Self>) {
//!         libprocess::handlers!(h, Self {
//!             PingMessage => ping(from, msg, now);
//!         });
//!     }
//! }
//! ```

use actix::Context;

use crate::message::Message;
use crate::pid::Upid;
use crate::process::{Me, Process};

/// Where an [`outgoing!`](crate::outgoing) enum sends its message: a
/// process's [`Me`], or anything that records messages (tests).
pub trait Sink {
    fn send<M: Message>(&self, to: &Upid, msg: M);
}

impl Sink for Me {
    fn send<M: Message>(&self, to: &Upid, msg: M) {
        Me::send(self, to, msg)
    }
}

/// The shell around a pure core, as [`handlers!`](crate::handlers) sees it.
pub trait Shell: Process {
    type Core;
    /// What the core's handlers return (a list of these).
    type Action;
    /// What "now" is for this core (a [`crate::clock::Time`], or more).
    type Now;

    fn core_mut(&mut self) -> &mut Self::Core;
    fn now(&self) -> Self::Now;
    /// Whether `msg` from `from` reaches the core at all (the shell logs or
    /// answers a refusal itself): a gate in front of the core, e.g. a
    /// standby that takes nothing, or authentication.
    fn accepts<M: Message>(&mut self, from: &Upid, msg: &M) -> bool {
        let _ = (from, msg);
        true
    }
    fn perform(&mut self, actions: Vec<Self::Action>, ctx: &mut Context<Self>);
}

/// Declares the enum of the messages a core sends, with `send(self, sink,
/// to)` (one match arm per variant) and `name(&self)` (the wire name).
/// Each variant holds one [`Message`](crate::Message) type.
#[macro_export]
macro_rules! outgoing {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident($msg:ty)),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant($msg)),*
        }

        impl $name {
            /// Sends the message through `sink` (the shell's `Me`) to `to`.
            pub fn send<S: $crate::wiring::Sink + ?Sized>(self, sink: &S, to: &$crate::pid::Upid) {
                match self {
                    $($name::$variant(m) => sink.send(to, m)),*
                }
            }

            /// The message's wire name (`rmesos.internal.<Name>Message`).
            pub fn name(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => <$msg as $crate::message::Message>::NAME),*
                }
            }
        }
    };
}

/// Installs, on `h` (a `&mut Handlers<Shell>`), one handler per message:
/// `Message => core_method(args);` where the args are any of `from` (as
/// `&Upid`), `msg` (the message, by value) and `now` ([`Shell::now`]), in
/// the order the core method takes them. Each handler asks
/// [`Shell::accepts`] first and hands the core's actions to
/// [`Shell::perform`].
///
/// A shell holding a second core (the master's leadership machine) wires
/// it the same way, naming the core and the function that performs its
/// actions: `handlers!(h, Self, |s| &mut s.leader, Self::perform_leader
/// { .. })` (no [`Shell::accepts`] check: its messages are always taken).
#[macro_export]
macro_rules! handlers {
    ($h:expr, $shell:ty { $($msg:ty => $f:ident($($arg:ident),* $(,)?);)* }) => {
        $({
            #[allow(unused_variables)]
            let handler: $crate::process::MessageHandler<$shell, $msg> = |shell, from, msg, ctx| {
                if !$crate::wiring::Shell::accepts(shell, &from, &msg) {
                    return;
                }
                $(let $arg = $crate::handlers!(@arg $arg, shell, from, msg);)*
                let actions = $crate::wiring::Shell::core_mut(shell).$f($($arg),*);
                $crate::wiring::Shell::perform(shell, actions, ctx);
            };
            $h.install(handler);
        })*
    };
    ($h:expr, $shell:ty, |$s:ident| $core:expr, $perform:path {
        $($msg:ty => $f:ident($($arg:ident),* $(,)?);)*
    }) => {
        $({
            #[allow(unused_variables)]
            let handler: $crate::process::MessageHandler<$shell, $msg> = |$s, from, msg, ctx| {
                $(let $arg = $crate::handlers!(@arg $arg, $s, from, msg);)*
                let actions = ($core).$f($($arg),*);
                $perform($s, actions, ctx);
            };
            $h.install(handler);
        })*
    };
    (@arg from, $shell:ident, $from:ident, $msg:ident) => { &$from };
    (@arg msg, $shell:ident, $from:ident, $msg:ident) => { $msg };
    (@arg now, $shell:ident, $from:ident, $msg:ident) => { $crate::wiring::Shell::now($shell) };
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde::{Deserialize, Serialize};

    use super::Sink;
    use crate::pid::Upid;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Ping {
        seq: u32,
    }
    impl crate::message::Message for Ping {
        const NAME: &'static str = "test.Ping";
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Pong {
        seq: u32,
    }
    impl crate::message::Message for Pong {
        const NAME: &'static str = "test.Pong";
    }

    outgoing! {
        #[derive(Debug, Clone, PartialEq)]
        enum Out {
            Ping(Ping),
            /// A documented variant.
            Pong(Pong),
        }
    }

    /// Records what it was asked to send: (to, name, encoded body).
    #[derive(Default)]
    struct Recorder(RefCell<Vec<(String, &'static str, String)>>);
    impl Sink for Recorder {
        fn send<M: crate::message::Message>(&self, to: &Upid, msg: M) {
            self.0.borrow_mut().push((to.to_string(), M::NAME, serde_json::to_string(&msg).unwrap()));
        }
    }

    #[test]
    fn each_variant_sends_its_own_message_type() {
        let to: Upid = "p@127.0.0.1:1".parse().unwrap();
        let r = Recorder::default();
        assert_eq!(Out::Pong(Pong { seq: 2 }).name(), "test.Pong");
        Out::Ping(Ping { seq: 1 }).send(&r, &to);
        Out::Pong(Pong { seq: 2 }).send(&r, &to);
        assert_eq!(
            r.0.into_inner(),
            vec![
                ("p@127.0.0.1:1".to_string(), "test.Ping", r#"{"seq":1}"#.to_string()),
                ("p@127.0.0.1:1".to_string(), "test.Pong", r#"{"seq":2}"#.to_string()),
            ]
        );
    }
}
