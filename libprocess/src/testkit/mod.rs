//! Deterministic actor tests: a simulated cluster on a paused clock, message
//! filters, and seeded replay.
//!
//! - [`Sim`]: a world of nodes in one process and one thread, over the
//!   simulated transport (`transport::sim`, which runs the real framing
//!   code), sharing one paused [`Clock`](crate::Clock) and one seeded RNG.
//!   Faults: partitions (one way or both), heal, drop/delay rules, kill,
//!   restart with a new incarnation. Every event is traced; one seed gives
//!   one trace, and `RMESOS_SEED=<n>` replays a failed run.
//! - Filters ([`future_message`], [`drop_message`], [`drop_messages`],
//!   [`expect_no_message`]): expect, drop or forbid messages as a node
//!   delivers them, on any transport (simulated or TCP) and for local sends.
//! - [`Fake`] ([`fake`]): one fake process for every test, recording the
//!   messages of a set declared with [`recorded!`](crate::recorded) and
//!   answering those it is told to.
//! - [`LogCapture`]: the log lines of the current thread, as the binaries
//!   print them, for tests that lock in what an operator reads.
//! - [`certs`]: a test CA and the certificates it issues (by `openssl`), for
//!   TLS tests.
//!
//! The guide for framework authors is `docs/testing.md` (its example is
//! compiled and run as a doctest of this module, so it cannot rot).

pub mod certs;
pub mod fake;
pub mod filter;
pub mod logs;
pub mod sim;

pub use crate::transport::sim::{
    FrameInfo, SimConfig, DEFAULT_MAX_LATENCY, DEFAULT_MIN_LATENCY, DEFAULT_PARTITION_DETECTION, MAX_TRACE_LINES,
};
pub use fake::{Fake, FakeBuilder, Recorded, Recording, FAKE_WAIT};
pub use filter::{
    any, drop_message, drop_message_where, drop_messages, expect_no_message, future_message, future_message_where,
    DropGuard, MessageFuture, NoMessageGuard, Pattern,
};
pub use logs::LogCapture;
pub use sim::{matching, seed_from_env, RuleId, RunError, Sim, SimAddr, SimBuilder, DEFAULT_RUN_LIMIT};

/// The guide, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/testing.md")]
pub struct TestingGuide;
