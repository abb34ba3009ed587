//! The delivery hook: one check a node may run on every message just before
//! a local process gets it, whichever way it came (a local send, a TCP frame,
//! a simulated one).
//!
//! The runtime only offers the seam; what plugs into it is the test kit's
//! message filters (`testkit::filter`: expect, drop, forbid), so the node
//! never imports its own test kit. A hook holds at most one check, installed
//! on first use and kept for the node's life; the check switches the hook on
//! while it has anything to look for and off when it has not.
//!
//! Cost when nothing is installed, or the check has nothing to look for: one
//! relaxed atomic load per delivery ([`Hook::is_active`]). A switch seen late
//! by another thread only means a message sent at the same instant as the
//! filter was installed is or is not filtered, which a test cannot order
//! anyway.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::message::Body;
use crate::pid::Upid;

/// A check on messages about to be delivered (see the module docs).
pub(crate) trait DeliveryCheck: Any + Send + Sync {
    /// Runs on a message for the local process `to_id` of the node at
    /// `addr`. Returns the body to deliver, or None to drop the message.
    /// `hook` is the one it is installed on (to switch it on or off).
    fn check<'a>(
        &self,
        hook: &Hook,
        from: &Upid,
        to_id: &str,
        addr: SocketAddr,
        name: &str,
        body: Body<'a>,
    ) -> Option<Body<'a>>;
}

/// A node's delivery hook; empty (and inactive) unless a test installs a check.
#[derive(Default)]
pub(crate) struct Hook {
    active: AtomicBool,
    check: OnceLock<Arc<dyn DeliveryCheck>>,
}

impl Hook {
    /// True if the installed check wants to see messages: the fast path of
    /// every delivery.
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Switches the hook on or off; the installed check calls this.
    pub(crate) fn set_active(&self, on: bool) {
        self.active.store(on, Ordering::Relaxed);
    }

    /// Runs the installed check on a message (call it only when active).
    pub(crate) fn check<'a>(
        &self,
        from: &Upid,
        to_id: &str,
        addr: SocketAddr,
        name: &str,
        body: Body<'a>,
    ) -> Option<Body<'a>> {
        match self.check.get() {
            Some(c) => c.check(self, from, to_id, addr, name, body),
            None => Some(body),
        }
    }

    /// The check of type `C` on this hook, installed (as `C::default()`) on
    /// first use. None if a check of another type is installed.
    pub(crate) fn installed<C: DeliveryCheck + Default>(&self) -> Option<Arc<C>> {
        let check = self.check.get_or_init(|| Arc::new(C::default())).clone();
        let any: Arc<dyn Any + Send + Sync> = check;
        any.downcast::<C>().ok()
    }
}
