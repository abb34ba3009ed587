//! `Upid`: the address of every actor, `id@ip:port` (IPv6 as `id@[::1]:port`).
//!
//! A Upid names an actor on a node; it does not carry the node's incarnation
//! (a restarted node reuses its address). The incarnation travels in the
//! connection handshake instead, so that a peer that restarted is detected as
//! a new node: links to the old one's actors fire `Exited` (see `transport`).

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::MAX_ID_LEN;

/// The address of an actor: its id, unique on its node, and its node's address.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Upid {
    id: Arc<str>,
    addr: SocketAddr,
}

/// Why a string is not a valid `Upid` (or id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PidError {
    #[error("'{0}' is not a pid: expected id@ip:port")]
    MissingAt(String),
    #[error("'{0}' is not a pid: the id before '@' is empty")]
    EmptyId(String),
    #[error("actor id '{0}' is longer than {MAX_ID_LEN} bytes")]
    IdTooLong(String),
    #[error("actor id '{0}' has a character outside [A-Za-z0-9._()-]")]
    BadIdChar(String),
    #[error("'{0}' is not a pid: '{1}' is not ip:port (IPv6 goes in brackets: [::1]:5050)")]
    BadAddress(String, String),
}

/// Checks an actor id: 1..=MAX_ID_LEN bytes of `[A-Za-z0-9._()-]`. Mesos ids
/// such as `scheduler-6c0d...` and `slave(1)` pass; `/`, `@`, spaces do not,
/// because ids are also the first segment of HTTP paths.
pub fn validate_id(id: &str) -> Result<(), PidError> {
    if id.is_empty() {
        return Err(PidError::EmptyId(id.to_string()));
    }
    if id.len() > MAX_ID_LEN {
        return Err(PidError::IdTooLong(format!("{}...", &id[..32.min(id.len())])));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '(' | ')');
    if !id.chars().all(ok) {
        return Err(PidError::BadIdChar(id.to_string()));
    }
    Ok(())
}

impl Upid {
    /// A Upid from an id and an address; the id is validated.
    pub fn new(id: &str, addr: SocketAddr) -> Result<Upid, PidError> {
        validate_id(id)?;
        Ok(Upid { id: Arc::from(id), addr })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn id_arc(&self) -> &Arc<str> {
        &self.id
    }

    /// The node's (advertised) address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SocketAddr already brackets IPv6: "id@[::1]:5050".
        write!(f, "{}@{}", self.id, self.addr)
    }
}

impl fmt::Debug for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Upid {
    type Err = PidError;

    fn from_str(s: &str) -> Result<Upid, PidError> {
        let (id, addr) = s.split_once('@').ok_or_else(|| PidError::MissingAt(s.to_string()))?;
        if id.is_empty() {
            return Err(PidError::EmptyId(s.to_string()));
        }
        let addr: SocketAddr = addr.parse().map_err(|_| PidError::BadAddress(s.to_string(), addr.to_string()))?;
        Upid::new(id, addr)
    }
}

impl Serialize for Upid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Upid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Upid, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_ipv4() {
        let p: Upid = "master@127.0.0.1:5050".parse().unwrap();
        assert_eq!(p.id(), "master");
        assert_eq!(p.addr(), "127.0.0.1:5050".parse().unwrap());
        assert_eq!(p.to_string(), "master@127.0.0.1:5050");
    }

    #[test]
    fn parses_and_displays_ipv6() {
        let p: Upid = "slave(1)@[::1]:5051".parse().unwrap();
        assert_eq!(p.id(), "slave(1)");
        assert_eq!(p.to_string(), "slave(1)@[::1]:5051");
        assert_eq!(p, p.to_string().parse().unwrap());
    }

    #[test]
    fn rejects_bad_input_with_clear_errors() {
        assert!(matches!("master".parse::<Upid>(), Err(PidError::MissingAt(_))));
        assert!(matches!("@1.2.3.4:5".parse::<Upid>(), Err(PidError::EmptyId(_))));
        assert!(matches!("m@1.2.3.4".parse::<Upid>(), Err(PidError::BadAddress(..))));
        assert!(matches!("m@::1:5050".parse::<Upid>(), Err(PidError::BadAddress(..))));
        assert!(matches!("m@300.0.0.1:1".parse::<Upid>(), Err(PidError::BadAddress(..))));
        assert!(matches!("m@1.2.3.4:70000".parse::<Upid>(), Err(PidError::BadAddress(..))));
        assert!(matches!("a/b@1.2.3.4:5".parse::<Upid>(), Err(PidError::BadIdChar(_))));
        let long = format!("{}@1.2.3.4:5", "x".repeat(MAX_ID_LEN + 1));
        assert!(matches!(long.parse::<Upid>(), Err(PidError::IdTooLong(_))));
        let e = "master".parse::<Upid>().unwrap_err().to_string();
        assert!(e.contains("expected id@ip:port"), "{e}");
    }

    #[test]
    fn serde_as_string() {
        let p: Upid = "scheduler-1@10.0.0.1:3000".parse().unwrap();
        let j = serde_json::to_string(&p).unwrap();
        assert_eq!(j, "\"scheduler-1@10.0.0.1:3000\"");
        assert_eq!(serde_json::from_str::<Upid>(&j).unwrap(), p);
        let b = rmp_serde::to_vec(&p).unwrap();
        assert_eq!(rmp_serde::from_slice::<Upid>(&b).unwrap(), p);
        assert!(serde_json::from_str::<Upid>("\"nope\"").is_err());
    }
}
