//! The node's inbound side: what its transport reports (frames from peer
//! nodes, handshakes, peers given up on), as [`Inbound`] calls.
//!
//! A frame for a link (`LinkMessage`, `UnlinkMessage`, `ExitedMessage`) is
//! handled here at once; any other goes to its process's mailbox, still
//! encoded, batched per read of a connection (see `batch`). A connection's
//! [`FrameCache`] remembers what its last frame resolved, so the frames of a
//! burst between two processes cost a few compares each. A handshake with a
//! new incarnation, a lost peer, or a connection that broke with messages
//! not known delivered, fires the links to that node.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Entry, ExitedMessage, LinkMessage, NodeInner, UnlinkMessage, REGISTRY_GENERATION};
use crate::batch::WireBatch;
use crate::message::{Body, Message};
use crate::metrics::Metrics;
use crate::pid::Upid;
use crate::sync::{lock, read};
use crate::transport::Inbound;
use crate::wire::FrameView;

impl Inbound for NodeInner {
    type Conn = FrameCache;

    /// `cache` is the connection's, reused across its frames.
    #[inline]
    fn receive(&self, peer: SocketAddr, env: FrameView<'_>, cache: &mut FrameCache) {
        cache.received += 1;
        // The same envelope as the last frame, which went into the open
        // batch: nothing to look up again (the registry cannot have changed
        // unless the generation did).
        let generation = REGISTRY_GENERATION.load(Ordering::Acquire);
        if env.repeats_previous() && cache.again == Some(generation) && !self.hook.is_active() {
            if let Some((_, Some(batch))) = &mut cache.batch {
                batch.push_again(&env);
                return;
            }
        }
        self.receive_new(peer, env, cache, generation)
    }

    /// A handshake with `peer` showed `incarnation`. A different one than the
    /// links were made against means the peer restarted: they fire.
    fn peer_hello(&self, peer: SocketAddr, incarnation: u64) {
        let fired = {
            let mut links = lock(&self.remote_links);
            // Remembered even with no link yet: a link made later on this
            // connection must still fire if the peer restarts.
            let p = links.entry(peer).or_default();
            match p.incarnation {
                None => {
                    p.incarnation = Some(incarnation);
                    None
                }
                Some(old) if old == incarnation => None,
                Some(_) => {
                    tracing::info!(%peer, "peer node restarted (new incarnation); its links are exited");
                    let old = std::mem::take(&mut p.targets);
                    p.incarnation = Some(incarnation);
                    Some(old)
                }
            }
        };
        if let Some(targets) = fired {
            self.fire(targets);
        }
    }

    /// The peer at `peer` is unreachable: every link to it fires, and its
    /// processes stop being linkers of ours.
    fn peer_lost(&self, peer: SocketAddr) {
        Metrics::inc(&self.metrics.peers_lost);
        let removed = lock(&self.remote_links).remove(&peer);
        tracing::info!(%peer, links = removed.as_ref().map_or(0, |p| p.targets.len()), "peer node unreachable");
        if let Some(p) = removed {
            self.fire(p.targets);
        }
        for e in read(&self.registry).values() {
            lock(&e.linkers).retain(|l| l.addr() != peer);
        }
    }

    /// The connection to `peer` broke with frames not known delivered: the
    /// links to it fire (a linker must learn that what it sent may be
    /// missing), and the peer's incarnation is kept (it did not restart as
    /// far as we know; the transport reconnects). The peer's processes stay
    /// linkers of ours: their own connection to this node is another one,
    /// and an `Exited` they may not need costs nothing.
    fn peer_broken(&self, peer: SocketAddr) {
        Metrics::inc(&self.metrics.connections_broken);
        let targets = lock(&self.remote_links).get_mut(&peer).map(|p| std::mem::take(&mut p.targets));
        let links = targets.as_ref().map_or(0, |t| t.len());
        tracing::info!(%peer, links, "connection to peer node broke with messages not known delivered; \
            its links are exited");
        if let Some(targets) = targets {
            self.fire(targets);
        }
    }

    /// Queues the pending batch and counts the frames (once per read, not
    /// per frame).
    fn end_read(&self, cache: &mut FrameCache) {
        Metrics::add(&self.metrics.messages_received_remote, std::mem::take(&mut cache.received));
        self.queue_batch(&mut cache.batch);
    }
}

impl NodeInner {
    /// `receive` of a frame that does not simply repeat the last one.
    fn receive_new(&self, peer: SocketAddr, env: FrameView<'_>, cache: &mut FrameCache, generation: u64) {
        cache.again = None;
        let from = match cache.from.take().filter(|p| p.id() == env.from_id() && p.addr() == peer) {
            Some(p) => p,
            None => match Upid::new(env.from_id(), peer) {
                Ok(p) => p,
                Err(e) => {
                    Metrics::inc(&self.metrics.dropped_malformed_body);
                    tracing::warn!(%peer, error = %e, "dropped message with a bad sender id");
                    return;
                }
            },
        };
        let from = &*cache.from.insert(from);
        let name = env.name();
        if matches!(name, LinkMessage::NAME | UnlinkMessage::NAME | ExitedMessage::NAME) || self.hook.is_active() {
            // Handled (or filtered) now: what came before it goes first.
            self.queue_batch(&mut cache.batch);
        }
        match name {
            LinkMessage::NAME => match self.entry(env.to_id()) {
                Some(e) => {
                    lock(&e.linkers).insert(from.clone());
                }
                None => match Upid::new(env.to_id(), self.address) {
                    Ok(target) => self.send(&target, from, ExitedMessage {}),
                    Err(e) => tracing::debug!(error = %e, "link to a bad id"),
                },
            },
            UnlinkMessage::NAME => {
                if let Some(e) = self.entry(env.to_id()) {
                    lock(&e.linkers).remove(from);
                }
            }
            ExitedMessage::NAME => {
                let Ok(linker) = Upid::new(env.to_id(), self.address) else { return };
                let linked = lock(&self.remote_links)
                    .get_mut(&peer)
                    .and_then(|p| p.targets.get_mut(from))
                    .is_some_and(|set| set.remove(&linker));
                if linked {
                    self.deliver_exited(&linker, from.clone());
                }
            }
            name if self.hook.is_active() => {
                let entry = FrameCache::entry(&mut cache.to, self, env.to_id());
                self.deliver_to(entry.map(|e| &**e), from, env.to_id(), name, Body::Wire(env.body_slice()))
            }
            name => {
                let Some(entry) = FrameCache::entry(&mut cache.to, self, env.to_id()) else {
                    Metrics::inc(&self.metrics.dropped_unknown_process);
                    tracing::debug!(%from, to = env.to_id(), name, "dropped message for unknown process");
                    return;
                };
                if cache.batch.as_ref().is_some_and(|(e, _)| !Arc::ptr_eq(e, entry)) {
                    self.queue_batch(&mut cache.batch);
                }
                let (for_entry, batch) = cache.batch.get_or_insert_with(|| (entry.clone(), None));
                debug_assert!(Arc::ptr_eq(for_entry, entry));
                match entry.mailbox.add_wire(batch, from, &env) {
                    Ok(()) => cache.again = Some(generation),
                    Err(()) => {
                        Metrics::inc(&self.metrics.dropped_unknown_message);
                        tracing::debug!(%from, to = env.to_id(), name = env.name(), "dropped message with no handler");
                    }
                }
            }
        }
    }

    /// Queues the messages batched for one process as one item.
    fn queue_batch(&self, batch: &mut Option<(Arc<Entry>, Option<Box<WireBatch>>)>) {
        let Some((entry, Some(msgs))) = batch.take() else { return };
        if let Err(n) = entry.mailbox.push_wire(msgs, self.clock.work()) {
            Metrics::add(&self.metrics.dropped_unknown_process, n as u64);
            tracing::debug!(dropped = n, "dropped messages for a process that stopped");
        }
    }
}

/// What one connection's last frame resolved: its sender and receiver are
/// most often the next frame's too, so the `Upid` (an allocation and an id
/// check) and the registry lookup (a lock and a hash) are reused. The
/// receiver is reused only while the registry is unchanged.
#[derive(Default)]
pub(crate) struct FrameCache {
    from: Option<Upid>,
    to: Option<CachedEntry>,
    /// Remote messages for one process not yet queued (see `end_read`):
    /// a read's messages for a process go to its queue as one item.
    batch: Option<(Arc<Entry>, Option<Box<WireBatch>>)>,
    /// Frames received since the last `end_read`.
    received: u64,
    /// Set (to the registry generation) when the last frame went into the
    /// open batch through the full path: a frame repeating its envelope can
    /// follow it there directly.
    again: Option<u64>,
}

/// (registry generation, id, entry)
type CachedEntry = (u64, Arc<str>, Arc<Entry>);

impl FrameCache {
    /// The entry of `id`, from the `to` slot when still valid.
    fn entry<'a>(to: &'a mut Option<CachedEntry>, inner: &NodeInner, id: &str) -> Option<&'a Arc<Entry>> {
        let generation = REGISTRY_GENERATION.load(Ordering::Acquire);
        let hit = matches!(to, Some((g, k, _)) if *g == generation && &**k == id);
        if !hit {
            let found = read(&inner.registry).get_key_value(id).map(|(k, e)| (k.clone(), e.clone()));
            *to = found.map(|(k, e)| (generation, k, e));
        }
        to.as_ref().map(|(_, _, e)| e)
    }
}

impl NodeInner {
    fn fire(&self, targets: HashMap<Upid, HashSet<Upid>>) {
        // Sorted: a deterministic order of Exited deliveries (see `shutdown`).
        let mut pairs: Vec<(Upid, Upid)> =
            targets.into_iter().flat_map(|(t, ls)| ls.into_iter().map(move |l| (t.clone(), l))).collect();
        pairs.sort();
        for (target, linker) in pairs {
            self.deliver_exited(&linker, target);
        }
    }
}
