//! Authentication at the master: the shell of its [`Authenticator`] core
//! (rmesos's CRAM-MD5 authenticator) and the gate in front of the master
//! core. The core never sees authentication: a registration from a pid
//! that has not authenticated, when `--authenticate_frameworks` or
//! `--authenticate_agents` asks for it, is refused here ([`gate`], a pure
//! function) and never reaches it.
//!
//! A framework that did authenticate must register with that principal in
//! its FrameworkInfo (Mesos's check: the ACLs, which the core applies,
//! authorize `FrameworkInfo.principal`, so it must be the proven one).
//!
//! Refusals, as Mesos words them: a framework gets a `FrameworkErrorMessage`
//! ("Framework at <pid> is not authenticated", "Framework principal 'x'
//! does not match authenticated principal 'y'"; its driver aborts and calls
//! `error()`); a slave gets a `ShutdownMessage` saying why (Mesos drops the
//! registration silently and the slave retries forever; rmesos tells it, so
//! the error is on both sides). A removed framework or slave (the core
//! unlinks it) is forgotten by the authenticator.

use std::any::Any;

use actix::Context;
use libprocess::{Handlers, Message, Upid};
use rmesos::auth::messages::*;
use rmesos::auth::{Authenticator, ServerAction};
use rmesos::messages::*;
use rmesos::FrameworkInfo;

use crate::core::Outgoing;
use crate::process::MasterProcess;
use crate::MasterOptions;

/// Why a registration is refused: the reply and the master's log line.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub reply: Outgoing,
    pub log: String,
}

/// The FrameworkInfo of a (re)registration, if `msg` is one.
pub fn framework_of<M: Message>(msg: &M) -> Option<&FrameworkInfo> {
    let any = msg as &dyn Any;
    any.downcast_ref::<RegisterFrameworkMessage>()
        .map(|m| &m.framework)
        .or_else(|| any.downcast_ref::<ReregisterFrameworkMessage>().map(|m| &m.framework))
}

/// Whether a message named `name` from `from` may reach the core, given
/// what `from` authenticated as (and, for a framework's registration, the
/// FrameworkInfo it registers with).
pub fn gate(
    opts: &MasterOptions,
    principal: Option<&str>,
    from: &Upid,
    name: &str,
    framework: Option<&FrameworkInfo>,
) -> Result<(), Box<Refusal>> {
    if let Some(p) = principal {
        let claimed = framework.map(|f| f.principal.as_deref().unwrap_or(""));
        return match claimed {
            Some(c) if c != p => Err(Box::new(Refusal {
                reply: Outgoing::FrameworkError(FrameworkErrorMessage {
                    message: format!("Framework principal '{c}' does not match authenticated principal '{p}'"),
                }),
                log: format!(
                    "Refusing registration of framework at {from}: its principal '{c}' is not the one it \
                     authenticated as ('{p}')"
                ),
            })),
            _ => Ok(()),
        };
    }
    let framework = name == RegisterFrameworkMessage::NAME || name == ReregisterFrameworkMessage::NAME;
    let slave = name == RegisterSlaveMessage::NAME || name == ReregisterSlaveMessage::NAME;
    if framework && opts.authenticate_frameworks {
        return Err(Box::new(Refusal {
            reply: Outgoing::FrameworkError(FrameworkErrorMessage {
                message: format!("Framework at {from} is not authenticated"),
            }),
            log: format!("Refusing registration of framework at {from} because it is not authenticated"),
        }));
    }
    if slave && opts.authenticate_agents {
        return Err(Box::new(Refusal {
            reply: Outgoing::Shutdown(ShutdownMessage {
                message: Some(format!(
                    "Agent at {from} is not authenticated: this master requires authentication \
                     (--authenticate_agents); start the agent with --credential"
                )),
            }),
            log: format!("Refusing registration of agent at {from} because it is not authenticated"),
        }));
    }
    Ok(())
}

/// Wires the authentication messages to the master's authenticator.
pub(crate) fn install(h: &mut Handlers<MasterProcess>) {
    libprocess::handlers!(h, MasterProcess, |m| &mut m.auth, MasterProcess::perform_auth {
        AuthenticateMessage => authenticate(from, msg, now);
        AuthenticationStartMessage => start(from, msg);
        AuthenticationStepMessage => step(from, msg, now);
    });
}

impl MasterProcess {
    /// A new authenticator for these options, its challenges seeded from
    /// the OS.
    pub(crate) fn authenticator(opts: &MasterOptions) -> Authenticator {
        Authenticator::new(opts.credentials.clone(), opts.authentication_timeout, rand::random())
    }

    pub(crate) fn perform_auth(&mut self, actions: Vec<ServerAction>, ctx: &mut Context<Self>) {
        for a in actions {
            match a {
                ServerAction::Send(to, msg) => msg.send(&self.me, &to),
                ServerAction::Timeout { pid, session, after } => {
                    self.me.delay(ctx, after, move |act: &mut MasterProcess, ctx| {
                        let acts = act.auth.timeout(&pid, session);
                        act.perform_auth(acts, ctx);
                    });
                }
            }
        }
    }

    /// The gate, performed: false (with the refusal sent and logged) if
    /// the message must not reach the core.
    pub(crate) fn admits<M: Message>(&mut self, from: &Upid, msg: &M) -> bool {
        match gate(&self.opts, self.auth.principal(from), from, M::NAME, framework_of(msg)) {
            Ok(()) => true,
            Err(refusal) => {
                tracing::warn!(%from, "{}", refusal.log);
                refusal.reply.send(&self.me, from);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthenticated_registrations_are_refused_only_when_the_flags_ask() {
        let from: Upid = "slave(1)@127.0.0.2:5051".parse().unwrap();
        let off = MasterOptions::default();
        let on = MasterOptions { authenticate_frameworks: true, authenticate_agents: true, ..MasterOptions::default() };
        for name in [RegisterSlaveMessage::NAME, ReregisterFrameworkMessage::NAME, LaunchTasksMessage::NAME] {
            assert_eq!(gate(&off, None, &from, name, None), Ok(()));
            assert_eq!(gate(&on, Some("p"), &from, name, None), Ok(()));
        }
        assert_eq!(gate(&on, None, &from, LaunchTasksMessage::NAME, None), Ok(()), "only registrations are gated");
        let r = gate(&on, None, &from, RegisterFrameworkMessage::NAME, None).unwrap_err();
        assert_eq!(
            r.reply,
            Outgoing::FrameworkError(FrameworkErrorMessage {
                message: "Framework at slave(1)@127.0.0.2:5051 is not authenticated".into()
            })
        );
        let r = gate(&on, None, &from, ReregisterSlaveMessage::NAME, None).unwrap_err();
        assert!(
            matches!(r.reply, Outgoing::Shutdown(ShutdownMessage { message: Some(m) }) if m.contains("--credential"))
        );
        assert_eq!(r.log, "Refusing registration of agent at slave(1)@127.0.0.2:5051 because it is not authenticated");
        let agents_only = MasterOptions { authenticate_agents: true, ..MasterOptions::default() };
        assert_eq!(gate(&agents_only, None, &from, RegisterFrameworkMessage::NAME, None), Ok(()));
    }

    #[test]
    fn an_authenticated_framework_registers_with_its_own_principal() {
        let from: Upid = "scheduler-1@127.0.0.2:7000".parse().unwrap();
        let on = MasterOptions { authenticate_frameworks: true, ..MasterOptions::default() };
        let mut info = FrameworkInfo::new("u", "f");
        let reg = |info: &FrameworkInfo| gate(&on, Some("alice"), &from, RegisterFrameworkMessage::NAME, Some(info));
        let r = reg(&info).unwrap_err();
        assert_eq!(
            r.reply,
            Outgoing::FrameworkError(FrameworkErrorMessage {
                message: "Framework principal '' does not match authenticated principal 'alice'".into()
            })
        );
        info.principal = Some("bob".into());
        assert!(reg(&info).unwrap_err().log.contains("its principal 'bob' is not the one it authenticated as"));
        info.principal = Some("alice".into());
        assert_eq!(reg(&info), Ok(()));
        let msg = ReregisterFrameworkMessage { framework: info.clone(), failover: true };
        assert_eq!(framework_of(&msg), Some(&info));
        assert_eq!(framework_of(&ShutdownMessage { message: None }), None);
    }
}
