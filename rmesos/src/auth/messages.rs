//! The authentication messages, as Mesos's `messages.proto` and
//! `authentication.proto` name them (`mesos.internal.` becomes
//! `rmesos.internal.`). The exchange, client (authenticatee: a slave or a
//! scheduler driver) to server (authenticator: the master):
//!
//! ```text
//! client  AuthenticateMessage { pid }                 -> master
//! master  AuthenticationMechanismsMessage ["CRAM-MD5"] -> client
//! client  AuthenticationStartMessage { "CRAM-MD5" }   -> master
//! master  AuthenticationStepMessage { challenge }     -> client
//! client  AuthenticationStepMessage { response }      -> master
//! master  AuthenticationCompletedMessage | AuthenticationFailedMessage -> client
//! ```
//!
//! `AuthenticationErrorMessage` ends an exchange that could not be carried
//! out (no authenticator, an unexpected message, rate limiting): the client
//! retries later, unlike after `AuthenticationFailedMessage` (wrong
//! credentials), which is final.

use libprocess::Upid;
use serde::{Deserialize, Serialize};

/// Client -> master: authenticate `pid` (the sender itself in rmesos).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticateMessage {
    pub pid: Upid,
}
libprocess::message!(AuthenticateMessage, "rmesos.internal.AuthenticateMessage");

/// Master -> client: the mechanisms it offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationMechanismsMessage {
    #[serde(default)]
    pub mechanisms: Vec<String>,
}
libprocess::message!(AuthenticationMechanismsMessage, "rmesos.internal.AuthenticationMechanismsMessage");

/// Client -> master: start `mechanism` (with its first data, none for
/// CRAM-MD5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationStartMessage {
    pub mechanism: String,
    #[serde(default, with = "serde_bytes", skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<u8>,
}
libprocess::message!(AuthenticationStartMessage, "rmesos.internal.AuthenticationStartMessage");

/// Either way: one step of the mechanism (the challenge, then the response).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationStepMessage {
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}
libprocess::message!(AuthenticationStepMessage, "rmesos.internal.AuthenticationStepMessage");

/// Master -> client: authenticated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationCompletedMessage {}
libprocess::message!(AuthenticationCompletedMessage, "rmesos.internal.AuthenticationCompletedMessage");

/// Master -> client: the credentials are wrong (final).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationFailedMessage {}
libprocess::message!(AuthenticationFailedMessage, "rmesos.internal.AuthenticationFailedMessage");

/// Master -> client: the exchange could not be carried out (retry later).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationErrorMessage {
    #[serde(default)]
    pub error: String,
}
libprocess::message!(AuthenticationErrorMessage, "rmesos.internal.AuthenticationErrorMessage");
