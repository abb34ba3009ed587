//! The `Message` trait: a type with a stable wire name, encoded with serde.
//!
//! The name (for rmesos, `rmesos.internal.<Name>Message`) is what travels and
//! what a receiver dispatches on; the Rust type name never does, so a message
//! type can be renamed or moved without breaking the wire. Bodies are encoded
//! as msgpack maps (field names included) so that adding an optional field with
//! `#[serde(default)]` stays compatible with older peers, as protobuf did for
//! Mesos.

use std::any::Any;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A message actors exchange. Implement it with [`crate::message!`].
pub trait Message: Serialize + DeserializeOwned + Send + 'static {
    /// The stable wire name, at most `limits::MAX_MESSAGE_NAME_LEN` bytes.
    const NAME: &'static str;
}

/// `message!(Ping, "example.Ping");` implements [`Message`] for `Ping`.
#[macro_export]
macro_rules! message {
    ($t:ty, $name:expr) => {
        impl $crate::Message for $t {
            const NAME: &'static str = $name;
        }
    };
}

/// A message body on its way to a handler: still typed when it never left the
/// node (no encoding at all, not even a box: the sender's `Option<M>`, which
/// the receiver takes), or the encoded bytes of a remote frame (decoded
/// before `deliver` returns, so borrowed from the frame).
pub enum Body<'a> {
    Local(&'a mut (dyn Any + Send)),
    Wire(&'a [u8]),
}

/// Why a body could not become the handler's message type.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed body: {0}")]
    Malformed(#[from] rmp_serde::decode::Error),
    #[error("a local message was not of the type its name is installed for")]
    WrongType,
}

impl Body<'_> {
    /// The typed message this body holds.
    pub fn decode<M: Message>(self) -> Result<M, DecodeError> {
        match self {
            Body::Local(any) => any.downcast_mut::<Option<M>>().and_then(Option::take).ok_or(DecodeError::WrongType),
            Body::Wire(bytes) => Ok(rmp_serde::from_slice(bytes)?),
        }
    }
}

/// Encodes a message body as the wire carries it (a msgpack map).
pub fn encode<M: Message>(msg: &M) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64);
    if let Err(e) = encode_into(msg, &mut buf) {
        tracing::error!(message = M::NAME, error = %e, "cannot encode message; the body is empty");
        buf.clear();
    }
    buf
}

/// Appends a message body to `w`. Encoding into memory fails only for a
/// hand-written `Serialize` that errors (a bug in that type); callers log it
/// and drop the message rather than panic.
pub(crate) fn encode_into<M: Message, W: std::io::Write>(msg: &M, w: &mut W) -> Result<(), rmp_serde::encode::Error> {
    rmp_serde::encode::write_named(w, msg)
}
