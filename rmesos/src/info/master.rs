//! `MasterInfo`: who the master is. The leading master writes it as JSON into
//! its ZooKeeper znode (`json.info_<seq>`), and sends it to frameworks when
//! they (re)register; detectors read it to find the leader's pid.
//!
//! The JSON must be exactly Mesos's so that Mesos tools reading the znode
//! work: `{"id":..,"ip":16777343,"port":5050,"pid":"master@127.0.0.1:5050",
//! "hostname":..,"version":..,"address":{"hostname":..,"ip":"127.0.0.1",
//! "port":5050}}`. Mesos's `ip` field is a `uint32` holding the IPv4 address in
//! network byte order as it lies in memory (`in_addr.s_addr`), read as a
//! number on a little-endian host: 127.0.0.1 is bytes 7f 00 00 01, read
//! little-endian 0x0100007f = 16777343. rmesos writes that same number on
//! every host. IPv6 masters write `ip` 0 and rely on `address.ip`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use libprocess::Upid;
use serde::{Deserialize, Serialize};

/// The master's default port.
pub const DEFAULT_MASTER_PORT: u16 = 5050;

fn default_port() -> u32 {
    u32::from(DEFAULT_MASTER_PORT)
}

/// A network address (Mesos's `Address`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub port: u32,
}

/// A master's description (Mesos's `MasterInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterInfo {
    /// A random UUID, fresh per master process ([`crate::ids::new_master_id`]).
    pub id: String,
    /// IPv4 in network byte order as Mesos writes it (see the module doc).
    pub ip: u32,
    #[serde(default = "default_port")]
    pub port: u32,
    /// The master's Upid, `master@ip:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// Why a MasterInfo could not be read or does not name a master.
#[derive(Debug, thiserror::Error)]
pub enum MasterInfoError {
    #[error("invalid MasterInfo JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("MasterInfo '{0}' has no usable pid or address")]
    NoAddress(String),
}

/// Mesos's `ip` number for an IPv4 address (see the module doc).
pub fn ip_to_mesos_u32(ip: Ipv4Addr) -> u32 {
    u32::from_le_bytes(ip.octets())
}

/// The IPv4 address of a Mesos `ip` number.
pub fn mesos_u32_to_ip(ip: u32) -> Ipv4Addr {
    Ipv4Addr::from(ip.to_le_bytes())
}

impl MasterInfo {
    /// The description of the master `pid` with id `id`.
    pub fn new(id: impl Into<String>, pid: &Upid, hostname: Option<String>, version: Option<String>) -> MasterInfo {
        let addr = pid.addr();
        let ip = match addr.ip() {
            IpAddr::V4(v4) => ip_to_mesos_u32(v4),
            IpAddr::V6(_) => 0,
        };
        MasterInfo {
            id: id.into(),
            ip,
            port: u32::from(addr.port()),
            pid: Some(pid.to_string()),
            hostname: hostname.clone(),
            version,
            address: Some(Address { hostname, ip: Some(addr.ip().to_string()), port: u32::from(addr.port()) }),
        }
    }

    /// The master's Upid: the `pid` field if valid, else `master@<address.ip or
    /// ip>:<port>` (Mesos's detectors fall back the same way).
    pub fn pid(&self) -> Result<Upid, MasterInfoError> {
        if let Some(pid) = self.pid.as_deref().and_then(|p| p.parse::<Upid>().ok()) {
            return Ok(pid);
        }
        let no_address = || MasterInfoError::NoAddress(self.id.clone());
        let (ip, port) = match &self.address {
            Some(Address { ip: Some(ip), port, .. }) => (ip.parse::<IpAddr>().map_err(|_| no_address())?, *port),
            _ if self.ip != 0 => (IpAddr::V4(mesos_u32_to_ip(self.ip)), self.port),
            _ => return Err(no_address()),
        };
        let port = u16::try_from(port).map_err(|_| no_address())?;
        Upid::new("master", SocketAddr::new(ip, port)).map_err(|_| no_address())
    }

    /// The JSON Mesos writes into ZooKeeper.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("MasterInfo has only strings and numbers")
    }

    pub fn from_json(s: &str) -> Result<MasterInfo, MasterInfoError> {
        Ok(serde_json::from_str(s)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_exactly_mesos_form_with_network_order_ip() {
        let pid: Upid = "master@127.0.0.1:5050".parse().unwrap();
        let info = MasterInfo::new("abc", &pid, Some("localhost".into()), Some("1.11.0".into()));
        assert_eq!(info.ip, 16777343);
        assert_eq!(
            info.to_json(),
            r#"{"id":"abc","ip":16777343,"port":5050,"pid":"master@127.0.0.1:5050","hostname":"localhost","version":"1.11.0","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050}}"#
        );
        assert_eq!(MasterInfo::from_json(&info.to_json()).unwrap(), info);
        assert_eq!(info.pid().unwrap(), pid);
    }

    #[test]
    fn ip_numbers_match_mesos() {
        assert_eq!(ip_to_mesos_u32(Ipv4Addr::new(127, 0, 0, 1)), 16777343);
        assert_eq!(ip_to_mesos_u32(Ipv4Addr::new(10, 0, 0, 1)), 0x0100000a);
        assert_eq!(ip_to_mesos_u32(Ipv4Addr::new(192, 168, 1, 2)), 0x0201a8c0);
        for ip in [Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(255, 0, 0, 7)] {
            assert_eq!(mesos_u32_to_ip(ip_to_mesos_u32(ip)), ip);
        }
    }

    #[test]
    fn pid_falls_back_to_address_then_ip() {
        // As an older Mesos master would write it: no pid, no address.
        let old = MasterInfo::from_json(r#"{"id":"x","ip":16777343,"port":5050}"#).unwrap();
        assert_eq!(old.pid().unwrap().to_string(), "master@127.0.0.1:5050");
        let addr = MasterInfo::from_json(r#"{"id":"x","ip":0,"address":{"ip":"10.1.2.3","port":5051}}"#).unwrap();
        assert_eq!(addr.port, 5050);
        assert_eq!(addr.pid().unwrap().to_string(), "master@10.1.2.3:5051");
        let none = MasterInfo::from_json(r#"{"id":"x","ip":0}"#).unwrap();
        assert!(matches!(none.pid(), Err(MasterInfoError::NoAddress(_))));
        assert!(MasterInfo::from_json("{").is_err());
        let v6: Upid = "master@[::1]:5050".parse().unwrap();
        let info = MasterInfo::new("y", &v6, None, None);
        assert_eq!(info.ip, 0);
        assert_eq!(info.pid().unwrap(), v6);
    }
}
