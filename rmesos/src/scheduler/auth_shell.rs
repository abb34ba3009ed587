//! Authentication with the master, the scheduler driver's side: the shell
//! of its [`Authenticatee`](crate::auth::Authenticatee) (given by
//! [`SchedulerDriver::credential`](super::SchedulerDriver::credential)).
//! With a credential, every master detected is authenticated with first and
//! only then handed to the driver core, which registers as it always does.
//! A refused credential aborts the driver and calls the scheduler's
//! `error("Master refused authentication")`, as Mesos's driver does.

use actix::Context;
use libprocess::{Handlers, Upid};

use super::SchedulerProcess;
use crate::auth::messages::*;
use crate::auth::ClientAction;

pub(super) fn install(h: &mut Handlers<SchedulerProcess>) {
    libprocess::handlers!(h, SchedulerProcess, |s| &mut s.authee, SchedulerProcess::perform_auth {
        AuthenticationMechanismsMessage => mechanisms(from, msg);
        AuthenticationStepMessage => step(from, msg);
        AuthenticationCompletedMessage => completed(from);
        AuthenticationFailedMessage => failed(from);
        AuthenticationErrorMessage => error(from, msg);
    });
}

impl SchedulerProcess {
    /// A master was detected (or lost): authenticate with it first when the
    /// driver has a credential.
    pub(super) fn detected(&mut self, master: Option<Upid>, ctx: &mut Context<Self>) {
        match (&mut self.authee.0, master) {
            (Some(a), Some(m)) if self.core.is_running() => {
                let acts = a.start(&m);
                self.perform_auth(acts, ctx);
            }
            (authee, master) => {
                if let Some(a) = authee {
                    a.stop();
                }
                let out = self.core.detected(master, self.me.clock().now());
                self.perform(out, ctx);
            }
        }
    }

    pub(super) fn perform_auth(&mut self, actions: Vec<ClientAction>, ctx: &mut Context<Self>) {
        for a in actions {
            match a {
                ClientAction::Send(to, msg) => msg.send(&self.me, &to),
                ClientAction::Timer { after, attempt } => {
                    self.me.delay(ctx, after, move |act: &mut SchedulerProcess, ctx| {
                        if let Some(a) = &mut act.authee.0 {
                            let acts = a.timer(attempt);
                            act.perform_auth(acts, ctx);
                        }
                    });
                }
                ClientAction::Authenticated(master) => {
                    let out = self.core.detected(Some(master), self.me.clock().now());
                    self.perform(out, ctx);
                }
                ClientAction::Refused(master) => {
                    tracing::error!(scheduler = %self.me.pid(), "Master {master} refused authentication");
                    let out = self.core.error("Master refused authentication");
                    self.perform(out, ctx);
                }
            }
        }
    }
}
