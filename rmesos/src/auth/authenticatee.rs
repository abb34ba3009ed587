//! The client's side of authentication (a slave or a scheduler driver), a
//! pure core: [`Authenticatee::start`] when a master is detected, the
//! master's messages in, [`ClientAction`]s out, ending in
//! [`ClientAction::Authenticated`] (register now) or
//! [`ClientAction::Refused`] (wrong credential: final, as in Mesos the
//! slave exits and the driver reports an error).
//!
//! An exchange that errs (no authenticator, rate limited, an unexpected
//! message) or times out is retried after a randomized delay that doubles
//! from the backoff factor up to [`MAX_RETRY_BACKOFF`] (Mesos's
//! `--authentication_backoff_factor` and its growing timeouts). Messages
//! from anyone but the master being authenticated with, or of an attempt
//! that is over, are ignored.

use std::time::Duration;

use libprocess::Upid;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::cram_md5;
use super::credentials::Credential;
use super::messages::*;

/// Mesos's default `--authentication_backoff_factor`.
pub const DEFAULT_BACKOFF_FACTOR: Duration = Duration::from_secs(1);
/// Mesos's default `--authentication_timeout_min`: one attempt's limit.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait between retries.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(60);

libprocess::outgoing! {
    /// What the authenticatee sends.
    #[derive(Clone, Debug, PartialEq)]
    pub enum ClientOut {
        Authenticate(AuthenticateMessage),
        Start(AuthenticationStartMessage),
        Step(AuthenticationStepMessage),
    }
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientAction {
    Send(Upid, ClientOut),
    /// Call [`Authenticatee::timer`] with `attempt` after `after`.
    Timer {
        after: Duration,
        attempt: u64,
    },
    /// Authenticated with `master`: register.
    Authenticated(Upid),
    /// `master` refused the credential.
    Refused(Upid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Idle,
    /// Authenticate sent.
    Asked,
    /// Start sent.
    Started,
    /// Response sent.
    Answered,
    /// Waiting to retry.
    Backoff,
    Done,
}

/// One client's authentication with the current master.
pub struct Authenticatee {
    me: Upid,
    credential: Credential,
    master: Option<Upid>,
    attempt: u64,
    stage: Stage,
    attempt_timeout: Duration,
    backoff_factor: Duration,
    backoff: Duration,
    rng: ChaCha8Rng,
}

impl Authenticatee {
    pub fn new(me: Upid, credential: Credential, seed: u64) -> Authenticatee {
        Authenticatee {
            me,
            credential,
            master: None,
            attempt: 0,
            stage: Stage::Idle,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            backoff_factor: DEFAULT_BACKOFF_FACTOR,
            backoff: DEFAULT_BACKOFF_FACTOR,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// `--authentication_backoff_factor` and `--authentication_timeout_min`.
    pub fn with_timing(mut self, backoff_factor: Duration, attempt_timeout: Duration) -> Authenticatee {
        self.backoff_factor = backoff_factor;
        self.backoff = backoff_factor;
        self.attempt_timeout = attempt_timeout;
        self
    }

    /// The principal this client authenticates as.
    pub fn principal(&self) -> &str {
        &self.credential.principal
    }

    /// Its own pid (known once its process is spawned).
    pub fn set_pid(&mut self, me: Upid) {
        self.me = me;
    }

    /// Authenticates with `master` from scratch (a new master was detected,
    /// or the master asked to reregister); an attempt in progress is dropped.
    pub fn start(&mut self, master: &Upid) -> Vec<ClientAction> {
        self.master = Some(master.clone());
        self.backoff = self.backoff_factor;
        self.attempt()
    }

    /// Stops: no master, or the client is terminating.
    pub fn stop(&mut self) {
        self.master = None;
        self.attempt += 1;
        self.stage = Stage::Idle;
    }

    fn attempt(&mut self) -> Vec<ClientAction> {
        let Some(master) = self.master.clone() else { return Vec::new() };
        self.attempt += 1;
        self.stage = Stage::Asked;
        tracing::info!(pid = %self.me, principal = %self.credential.principal, "Authenticating with master {master}");
        vec![
            ClientAction::Send(master, ClientOut::Authenticate(AuthenticateMessage { pid: self.me.clone() })),
            ClientAction::Timer { after: self.attempt_timeout, attempt: self.attempt },
        ]
    }

    /// Whether `from` is the master of an exchange in `stage`.
    fn expects(&self, from: &Upid, stage: Stage, what: &str) -> bool {
        if self.master.as_ref() != Some(from) || self.stage != stage {
            tracing::debug!(%from, "Ignoring {what} from {from}: no such authentication in progress");
            return false;
        }
        true
    }

    pub fn mechanisms(&mut self, from: &Upid, msg: AuthenticationMechanismsMessage) -> Vec<ClientAction> {
        if !self.expects(from, Stage::Asked, "AuthenticationMechanismsMessage") {
            return Vec::new();
        }
        if !msg.mechanisms.iter().any(|m| m == cram_md5::MECHANISM) {
            return self.retry(&format!("the master offers no {} (offers {:?})", cram_md5::MECHANISM, msg.mechanisms));
        }
        self.stage = Stage::Started;
        let start = AuthenticationStartMessage { mechanism: cram_md5::MECHANISM.into(), data: Vec::new() };
        vec![ClientAction::Send(from.clone(), ClientOut::Start(start))]
    }

    pub fn step(&mut self, from: &Upid, msg: AuthenticationStepMessage) -> Vec<ClientAction> {
        if !self.expects(from, Stage::Started, "AuthenticationStepMessage") {
            return Vec::new();
        }
        if msg.data.len() > cram_md5::MAX_RESPONSE {
            return self.retry("the master's challenge is too long");
        }
        self.stage = Stage::Answered;
        let data = cram_md5::respond(&self.credential.principal, &self.credential.secret, &msg.data);
        vec![ClientAction::Send(from.clone(), ClientOut::Step(AuthenticationStepMessage { data }))]
    }

    pub fn completed(&mut self, from: &Upid) -> Vec<ClientAction> {
        if !self.expects(from, Stage::Answered, "AuthenticationCompletedMessage") {
            return Vec::new();
        }
        self.stage = Stage::Done;
        tracing::info!(pid = %self.me, "Successfully authenticated with master {from}");
        vec![ClientAction::Authenticated(from.clone())]
    }

    pub fn failed(&mut self, from: &Upid) -> Vec<ClientAction> {
        if !self.expects(from, Stage::Answered, "AuthenticationFailedMessage") {
            return Vec::new();
        }
        self.stage = Stage::Done;
        tracing::error!(pid = %self.me, principal = %self.credential.principal,
            "Master {from} refused authentication (principal '{}')", self.credential.principal);
        vec![ClientAction::Refused(from.clone())]
    }

    pub fn error(&mut self, from: &Upid, msg: AuthenticationErrorMessage) -> Vec<ClientAction> {
        if self.master.as_ref() != Some(from) || matches!(self.stage, Stage::Idle | Stage::Backoff | Stage::Done) {
            return Vec::new();
        }
        self.retry(&format!("the master says: {}", msg.error.escape_debug()))
    }

    /// A timer of `attempt`: its timeout, or the end of its backoff.
    pub fn timer(&mut self, attempt: u64) -> Vec<ClientAction> {
        if attempt != self.attempt {
            return Vec::new();
        }
        match self.stage {
            Stage::Asked | Stage::Started | Stage::Answered => self.retry("timed out"),
            Stage::Backoff => self.attempt(),
            Stage::Idle | Stage::Done => Vec::new(),
        }
    }

    fn retry(&mut self, why: &str) -> Vec<ClientAction> {
        let Some(master) = self.master.clone() else { return Vec::new() };
        let after = self.backoff.mul_f64(self.rng.gen_range(0.5..=1.0));
        self.backoff = (self.backoff * 2).min(MAX_RETRY_BACKOFF);
        self.stage = Stage::Backoff;
        // A new number, so the attempt's own timeout cannot end the backoff.
        self.attempt += 1;
        tracing::warn!(pid = %self.me, "Failed to authenticate with master {master}: {why}; retrying in {after:?}");
        vec![ClientAction::Timer { after, attempt: self.attempt }]
    }
}

/// A client's authenticatee if it has a credential (what its shell wires
/// the master's messages to): without one, those messages are ignored with
/// a log line.
#[derive(Default)]
pub struct MaybeAuthenticatee(pub Option<Authenticatee>);

impl MaybeAuthenticatee {
    fn on(
        &mut self,
        from: &Upid,
        what: &str,
        f: impl FnOnce(&mut Authenticatee) -> Vec<ClientAction>,
    ) -> Vec<ClientAction> {
        match &mut self.0 {
            Some(a) => f(a),
            None => {
                tracing::warn!(%from, "Ignoring {what} from {from}: no credential to authenticate with");
                Vec::new()
            }
        }
    }

    pub fn mechanisms(&mut self, from: &Upid, msg: AuthenticationMechanismsMessage) -> Vec<ClientAction> {
        self.on(from, "AuthenticationMechanismsMessage", |a| a.mechanisms(from, msg))
    }

    pub fn step(&mut self, from: &Upid, msg: AuthenticationStepMessage) -> Vec<ClientAction> {
        self.on(from, "AuthenticationStepMessage", |a| a.step(from, msg))
    }

    pub fn completed(&mut self, from: &Upid) -> Vec<ClientAction> {
        self.on(from, "AuthenticationCompletedMessage", |a| a.completed(from))
    }

    pub fn failed(&mut self, from: &Upid) -> Vec<ClientAction> {
        self.on(from, "AuthenticationFailedMessage", |a| a.failed(from))
    }

    pub fn error(&mut self, from: &Upid, msg: AuthenticationErrorMessage) -> Vec<ClientAction> {
        self.on(from, "AuthenticationErrorMessage", |a| a.error(from, msg))
    }
}

#[cfg(test)]
#[path = "authenticatee_tests.rs"]
mod tests;
