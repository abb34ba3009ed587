//! Authentication of frameworks and slaves to the master, as Mesos does it:
//! CRAM-MD5 challenge-response over internal messages, with Mesos's
//! credential files and flags (`--authenticate_frameworks`,
//! `--authenticate_agents`, `--credentials` on the master; `--credential`
//! on a slave; a [`Credential`] given to the scheduler driver).
//!
//! Both sides are pure cores with unit tests: [`Authenticator`] (the
//! master's) and [`Authenticatee`] (a slave's or a driver's). Their shells
//! only wire the [`messages`] to them, run their timers and act on the
//! outcome: the master's shell refuses registrations of pids its
//! authenticator has not authenticated; a client registers once
//! authenticated, and stops (slave) or reports an error (driver) when
//! refused.

pub mod acls;
pub mod authenticatee;
pub mod authenticator;
pub mod cram_md5;
pub mod credentials;
pub mod http_basic;
pub mod messages;

pub use acls::{Acls, AclsError};
pub use authenticatee::{Authenticatee, ClientAction, ClientOut, MaybeAuthenticatee};
pub use authenticator::{Authenticator, ServerAction, ServerOut};
pub use credentials::{Credential, Credentials, CredentialsError};
pub use messages::*;
