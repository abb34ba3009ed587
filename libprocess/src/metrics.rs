//! Counters of what a node did and dropped, for logs, tests and
//! `/metrics/snapshot`. Every drop of untrusted or undeliverable input bumps
//! one of these, so a test (or an operator) can see that it happened.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// A node's counters; names are those of `snapshot()`.
        #[derive(Default, Debug)]
        pub struct Metrics {
            $($(#[$doc])* pub $name: AtomicU64,)*
        }

        impl Metrics {
            /// Every counter as `(name, value)`, in declaration order.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name.load(Ordering::Relaxed)),)*]
            }
        }
    };
}

counters! {
    /// Messages delivered to a process of this node from this node.
    messages_sent_local,
    /// Messages queued for another node.
    messages_sent_remote,
    /// Frames received from other nodes and decoded.
    messages_received_remote,
    /// Dropped: no process with the receiver's id on this node.
    dropped_unknown_process,
    /// Dropped: the receiver installed no handler for the message's name.
    dropped_unknown_message,
    /// Dropped: the body did not decode as the handler's message type, or the
    /// envelope named an invalid sender id.
    dropped_malformed_body,
    /// Dropped: the queue for the peer node was full.
    dropped_queue_full,
    /// Dropped: the peer node could not be reached (queued messages included).
    dropped_peer_unreachable,
    /// Connections closed for a bad frame (oversized, truncated, malformed).
    frames_rejected,
    /// Connections closed during the handshake (bad magic, version, timeout).
    handshakes_failed,
    /// Inbound connections accepted.
    connections_accepted,
    /// Inbound connections closed at once: over `MAX_INBOUND_CONNECTIONS`.
    connections_rejected,
    /// Peers declared unreachable (their links fired `Exited`).
    peers_lost,
    /// Outbound connections that broke with frames not known delivered
    /// (their links fired `Exited`; the transport reconnected).
    connections_broken,
    /// `Exited` notifications delivered to linkers.
    exited_delivered,
    /// HTTP requests answered.
    http_requests,
    /// HTTP connections that ended in a protocol error (garbage, bad request).
    http_errors,
    /// TLS handshakes that failed, either way (bad or untrusted certificate,
    /// wrong name, truncated or garbled handshake).
    tls_handshakes_failed,
    /// Plaintext connections refused because this node requires TLS.
    plaintext_refused,
    /// libprocess peers refused because their certificate does not name the
    /// address their handshake claims.
    tls_peer_mismatch,
}

impl Metrics {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The value of one counter by name (tests read them this way).
    pub fn get(&self, name: &str) -> Option<u64> {
        self.snapshot().into_iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// What keeps a node's counters: the node. A transport and the HTTP server
/// count through it without knowing the node.
pub(crate) trait Counted {
    fn metrics(&self) -> &Metrics;
}
