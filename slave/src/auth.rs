//! Authentication with the master, the slave's side: the shell of its
//! [`Authenticatee`] core (rmesos's CRAM-MD5 client). With `--credential`,
//! every master the slave detects is authenticated with first, and only
//! then handed to the slave core ([`SlaveCore::master_detected`]), which
//! registers as it always does; the core never sees authentication.
//!
//! A refused credential stops the slave with an error line and leaves its
//! executors running (as Mesos's slave exits, so that a corrected restart
//! recovers them). Errors and timeouts are retried by the core with a
//! growing backoff.
//!
//! [`SlaveCore::master_detected`]: crate::core::SlaveCore::master_detected

use actix::Context;
use libprocess::{Handlers, Upid};
use rmesos::auth::messages::*;
use rmesos::auth::ClientAction;

use crate::process::SlaveProcess;

/// Wires the master's authentication messages to the authenticatee (a
/// slave without `--credential` has none: the messages are dropped).
pub(crate) fn install(h: &mut Handlers<SlaveProcess>) {
    libprocess::handlers!(h, SlaveProcess, |s| &mut s.authee, SlaveProcess::perform_auth {
        AuthenticationMechanismsMessage => mechanisms(from, msg);
        AuthenticationStepMessage => step(from, msg);
        AuthenticationCompletedMessage => completed(from);
        AuthenticationFailedMessage => failed(from);
        AuthenticationErrorMessage => error(from, msg);
    });
}

impl SlaveProcess {
    /// A master was detected (or lost): authenticate with it first when
    /// the slave has a credential.
    pub(crate) fn detected(&mut self, master: Option<Upid>, ctx: &mut Context<Self>) {
        match (&mut self.authee.0, master) {
            (Some(a), Some(m)) => {
                let acts = a.start(&m);
                self.perform_auth(acts, ctx);
            }
            (authee, master) => {
                if let Some(a) = authee {
                    a.stop();
                }
                let now = self.now();
                let acts = self.core.master_detected(master, now);
                self.perform(acts, ctx);
            }
        }
    }

    pub(crate) fn perform_auth(&mut self, actions: Vec<ClientAction>, ctx: &mut Context<Self>) {
        for a in actions {
            match a {
                ClientAction::Send(to, msg) => msg.send(&self.me, &to),
                ClientAction::Timer { after, attempt } => {
                    self.me.delay(ctx, after, move |act: &mut SlaveProcess, ctx| {
                        if let Some(a) = &mut act.authee.0 {
                            let acts = a.timer(attempt);
                            act.perform_auth(acts, ctx);
                        }
                    });
                }
                ClientAction::Authenticated(master) => {
                    let now = self.now();
                    let acts = self.core.master_detected(Some(master), now);
                    self.perform(acts, ctx);
                }
                ClientAction::Refused(master) => {
                    tracing::error!(slave = %self.me.pid(),
                        "Master {master} refused authentication; stopping (executors keep running): check --credential");
                    self.stop(false, crate::Stopped::AuthenticationRefused, ctx);
                }
            }
        }
    }
}
