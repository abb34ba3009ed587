//! Every bound the runtime enforces, named in one place with its reason.
//!
//! Input from the network is untrusted: each of these turns a hostile or broken
//! peer into a closed connection or a dropped message (with a log line and a
//! counter), never into unbounded memory or a panic.

use std::time::Duration;

/// Largest frame (one encoded envelope) accepted or sent: 32 MiB. A master's
/// reregistration with thousands of tasks fits comfortably; anything larger is
/// a bug or an attack, and the connection carrying it is closed.
pub const MAX_FRAME_SIZE: usize = 32 * 1024 * 1024;

/// Longest message name accepted: 256 bytes (Mesos's longest is ~50).
pub const MAX_MESSAGE_NAME_LEN: usize = 256;

/// Longest actor id accepted in a Upid: 256 bytes.
pub const MAX_ID_LEN: usize = 256;

/// Messages queued for one peer node while the connection is being made or is
/// busy; the next one is dropped (counter `dropped_queue_full`).
pub const MAX_QUEUED_MESSAGES_PER_PEER: usize = 100_000;

/// Bytes queued for one peer node, the same bound in bytes: 64 MiB.
pub const MAX_QUEUED_BYTES_PER_PEER: usize = 64 * 1024 * 1024;

/// Time a new connection has to send its first bytes and complete the
/// handshake before it is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest handshake body (node address and incarnation; ~40 bytes in practice).
pub const MAX_HANDSHAKE_SIZE: usize = 1024;

/// Connection attempts to a peer, after the first failure or after losing an
/// established connection, before the peer is declared unreachable (links to
/// its actors get `Exited`, queued messages are dropped).
pub const MAX_RECONNECT_ATTEMPTS: u32 = 3;

/// Backoff before reconnect attempt n is `min(INITIAL * 2^n, MAX)`.
pub const INITIAL_RECONNECT_BACKOFF: Duration = Duration::from_millis(20);
/// Upper bound of the reconnect backoff.
pub const MAX_RECONNECT_BACKOFF: Duration = Duration::from_millis(500);

/// Inbound connections (messages and HTTP) served at once; more are accepted
/// and closed at once (counter `connections_rejected`).
pub const MAX_INBOUND_CONNECTIONS: usize = 10_000;

/// Largest HTTP request body read by the operator endpoints: 1 MiB.
pub const MAX_HTTP_BODY: usize = 1024 * 1024;

/// Time an HTTP client has to send a whole request head, from its first
/// byte, before its connection is closed. (A keep-alive connection idle
/// between requests is never closed for it, as in Mesos.)
pub const HTTP_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes a streaming HTTP response may hold for a client that reads more
/// slowly than it is written to: 16 MiB (a few of Mesos's largest events,
/// an OFFERS event for thousands of slaves). Past it the client is cut off,
/// with a log line; nothing is buffered without bound.
pub const MAX_HTTP_STREAM_BUFFER: usize = 16 * 1024 * 1024;
