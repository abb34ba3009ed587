//! The master's side of authentication, a pure core: messages and "now" in,
//! [`ServerAction`]s out; no I/O, no clock. The master's shell holds one,
//! wires the authentication messages to it, and asks it
//! ([`Authenticator::principal`]) whether a registering pid authenticated.
//!
//! Each `AuthenticateMessage` opens a session for the sender with a fresh
//! challenge (random bytes from the core's CSPRNG, seeded by the shell, and
//! a serial), so a recorded response never passes twice. A session ends in
//! `Completed` (the pid is authenticated as its principal) or `Failed`, or
//! times out (`--authentication_v0_timeout`). A new `AuthenticateMessage`
//! from the same pid replaces its session and clears its earlier
//! authentication, as Mesos does.
//!
//! Rate limiting: failures are counted per client IP. After
//! [`FREE_FAILURES`] within [`FAILURE_MEMORY`], each further attempt from
//! that IP must wait a backoff doubling from [`INITIAL_BACKOFF`] to
//! [`MAX_BACKOFF`]; attempts inside it get `AuthenticationErrorMessage`
//! (the client retries later) without their response being checked, and
//! only the first refusal of a backoff is logged. Sessions and the failure
//! table are bounded ([`MAX_SESSIONS`], [`MAX_TRACKED_IPS`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use libprocess::{Time, Upid};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::cram_md5;
use super::credentials::Credentials;
use super::messages::*;

/// Failures from one IP before attempts from it are slowed down.
pub const FREE_FAILURES: u32 = 5;
/// The first wait imposed after the free failures.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A failure older than this (with none since) is forgotten.
pub const FAILURE_MEMORY: Duration = Duration::from_secs(600);
/// Open sessions at most; a new one beyond it is refused (retry later).
pub const MAX_SESSIONS: usize = 10_000;
/// IPs whose failures are remembered at most; the oldest go first.
pub const MAX_TRACKED_IPS: usize = 10_000;
/// Mesos's default `--authentication_v0_timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

libprocess::outgoing! {
    /// What the authenticator sends.
    #[derive(Clone, Debug, PartialEq)]
    pub enum ServerOut {
        Mechanisms(AuthenticationMechanismsMessage),
        Step(AuthenticationStepMessage),
        Completed(AuthenticationCompletedMessage),
        Failed(AuthenticationFailedMessage),
        Error(AuthenticationErrorMessage),
    }
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerAction {
    Send(Upid, ServerOut),
    /// Call [`Authenticator::timeout`] with these after `after`.
    Timeout {
        pid: Upid,
        session: u64,
        after: Duration,
    },
}

#[derive(Debug)]
enum Stage {
    /// Mechanisms sent; waiting for `AuthenticationStartMessage`.
    Start,
    /// Challenge sent; waiting for the response.
    Response { challenge: String },
}

#[derive(Debug)]
struct Session {
    id: u64,
    stage: Stage,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Time,
    /// Attempts before this are refused unchecked.
    until: Time,
    /// The refusal of the current backoff was logged.
    logged: bool,
}

/// The master's authenticator; see the module doc.
pub struct Authenticator {
    credentials: Credentials,
    timeout: Duration,
    sessions: HashMap<Upid, Session>,
    authenticated: HashMap<Upid, String>,
    failures: HashMap<IpAddr, Failures>,
    serial: u64,
    rng: ChaCha20Rng,
}

impl Authenticator {
    /// An authenticator for `credentials`; `seed` feeds its challenges (the
    /// shell draws it from the OS; a simulation picks it).
    pub fn new(credentials: Credentials, timeout: Duration, seed: [u8; 32]) -> Authenticator {
        Authenticator {
            credentials,
            timeout,
            sessions: HashMap::new(),
            authenticated: HashMap::new(),
            failures: HashMap::new(),
            serial: 0,
            rng: ChaCha20Rng::from_seed(seed),
        }
    }

    /// The principal `pid` authenticated as, if it did.
    pub fn principal(&self, pid: &Upid) -> Option<&str> {
        self.authenticated.get(pid).map(String::as_str)
    }

    /// Forgets `pid`'s authentication (its framework or slave was removed).
    pub fn forget(&mut self, pid: &Upid) {
        self.authenticated.remove(pid);
        self.sessions.remove(pid);
    }

    /// Open sessions (for tests and metrics).
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    fn error(to: &Upid, error: String) -> ServerAction {
        ServerAction::Send(to.clone(), ServerOut::Error(AuthenticationErrorMessage { error }))
    }

    /// `AuthenticateMessage`: opens a session (replacing one in progress).
    pub fn authenticate(&mut self, from: &Upid, msg: AuthenticateMessage, now: Time) -> Vec<ServerAction> {
        if msg.pid != *from {
            tracing::warn!(%from, claimed = %msg.pid, "Refusing to authenticate {}: it is not the sender {from}", msg.pid);
            return vec![Self::error(from, format!("only the sender can be authenticated, not {}", msg.pid))];
        }
        if self.credentials.is_empty() {
            tracing::error!(%from, "Received authentication request from {from} but no --credentials are loaded");
            return vec![Self::error(from, "No authenticator loaded (the master has no --credentials)".into())];
        }
        if let Some(wait) = self.backoff(from.addr().ip(), now) {
            return vec![Self::error(
                from,
                format!(
                    "too many failed authentications from {}; retry in {}s",
                    from.addr().ip(),
                    wait.as_secs().max(1)
                ),
            )];
        }
        if !self.sessions.contains_key(from) && self.sessions.len() >= MAX_SESSIONS {
            tracing::warn!(%from, "Refusing to authenticate {from}: {MAX_SESSIONS} authentications in progress");
            return vec![Self::error(from, "too many authentications in progress; retry later".into())];
        }
        let cleared = self.authenticated.remove(from).is_some();
        if self.sessions.contains_key(from) {
            tracing::info!(%from, "Re-authenticating {from}; discarding outstanding authentication");
        } else {
            tracing::info!(%from, "Authenticating {from}{}", if cleared { "; clearing previous authentication" } else { "" });
        }
        self.serial += 1;
        let session = self.serial;
        self.sessions.insert(from.clone(), Session { id: session, stage: Stage::Start });
        let mechanisms = AuthenticationMechanismsMessage { mechanisms: vec![cram_md5::MECHANISM.to_string()] };
        vec![
            ServerAction::Send(from.clone(), ServerOut::Mechanisms(mechanisms)),
            ServerAction::Timeout { pid: from.clone(), session, after: self.timeout },
        ]
    }

    /// `AuthenticationStartMessage`: sends the challenge.
    pub fn start(&mut self, from: &Upid, msg: AuthenticationStartMessage) -> Vec<ServerAction> {
        let Some(session) = self.sessions.get_mut(from) else {
            return vec![Self::error(from, "no authentication in progress (send AuthenticateMessage first)".into())];
        };
        if !matches!(session.stage, Stage::Start) || msg.mechanism != cram_md5::MECHANISM {
            let why = if msg.mechanism != cram_md5::MECHANISM {
                format!("unsupported mechanism '{}' (offered: {})", msg.mechanism.escape_debug(), cram_md5::MECHANISM)
            } else {
                "unexpected AuthenticationStartMessage".to_string()
            };
            self.sessions.remove(from);
            return vec![Self::error(from, why)];
        }
        let mut random = [0u8; 16];
        self.rng.fill_bytes(&mut random);
        let challenge = cram_md5::challenge(random, session.id);
        let step = AuthenticationStepMessage { data: challenge.clone().into_bytes() };
        session.stage = Stage::Response { challenge };
        vec![ServerAction::Send(from.clone(), ServerOut::Step(step))]
    }

    /// `AuthenticationStepMessage`: checks the response; the session ends.
    pub fn step(&mut self, from: &Upid, msg: AuthenticationStepMessage, now: Time) -> Vec<ServerAction> {
        let Some(session) = self.sessions.remove(from) else {
            return vec![Self::error(from, "no authentication in progress (send AuthenticateMessage first)".into())];
        };
        let Stage::Response { challenge } = session.stage else {
            return vec![Self::error(from, "unexpected AuthenticationStepMessage before the start".into())];
        };
        let principal = cram_md5::principal_of(&msg.data);
        let ok = principal
            .and_then(|p| self.credentials.secret(p))
            .is_some_and(|secret| cram_md5::verify(secret, challenge.as_bytes(), &msg.data));
        match (ok, principal) {
            (true, Some(p)) => {
                tracing::info!(%from, principal = p, "Successfully authenticated principal '{p}' at {from}");
                self.authenticated.insert(from.clone(), p.to_string());
                self.failures.remove(&from.addr().ip());
                vec![ServerAction::Send(from.clone(), ServerOut::Completed(AuthenticationCompletedMessage {}))]
            }
            _ => {
                let shown = principal.map_or("(malformed response)".to_string(), |p| format!("'{}'", p.escape_debug()));
                tracing::warn!(%from, "Authentication of {from} as {shown} was unsuccessful: Invalid credentials");
                self.failed(from.addr().ip(), now);
                vec![ServerAction::Send(from.clone(), ServerOut::Failed(AuthenticationFailedMessage {}))]
            }
        }
    }

    /// A session's timer: it ends if it is still open.
    pub fn timeout(&mut self, pid: &Upid, session: u64) -> Vec<ServerAction> {
        if self.sessions.get(pid).is_some_and(|s| s.id == session) {
            self.sessions.remove(pid);
            tracing::warn!(%pid, "Authentication of {pid} timed out after {:?}", self.timeout);
            return vec![Self::error(pid, "authentication timed out".into())];
        }
        Vec::new()
    }

    /// The wait left before `ip` may try again, if it must wait.
    fn backoff(&mut self, ip: IpAddr, now: Time) -> Option<Duration> {
        let f = self.failures.get_mut(&ip)?;
        if now >= f.until {
            return None;
        }
        if !f.logged {
            f.logged = true;
            tracing::warn!(%ip, failures = f.count,
                "Refusing authentications from {ip} for {:?}: {} failed attempts", f.until - now, f.count);
        }
        Some(f.until - now)
    }

    fn failed(&mut self, ip: IpAddr, now: Time) {
        if !self.failures.contains_key(&ip) && self.failures.len() >= MAX_TRACKED_IPS {
            // Forget the IP whose last failure is oldest.
            if let Some(oldest) = self.failures.iter().min_by_key(|(_, f)| f.last).map(|(ip, _)| *ip) {
                self.failures.remove(&oldest);
            }
        }
        let f = self.failures.entry(ip).or_insert(Failures { count: 0, last: now, until: now, logged: false });
        if now - f.last > FAILURE_MEMORY {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        if f.count > FREE_FAILURES {
            let doublings = (f.count - FREE_FAILURES - 1).min(16);
            f.until = now + INITIAL_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF);
            f.logged = false;
        }
    }
}

#[cfg(test)]
#[path = "authenticator_tests.rs"]
mod tests;
