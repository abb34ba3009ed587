//! Where a node listens and what address it advertises, from code or from
//! libprocess's environment variables.
//!
//! | variable                   | meaning                                   | default      |
//! |----------------------------|-------------------------------------------|--------------|
//! | `LIBPROCESS_IP`            | IP to bind                                | `127.0.0.1`  |
//! | `LIBPROCESS_PORT`          | port to bind, 0 = any free port           | `0`          |
//! | `LIBPROCESS_ADVERTISE_IP`  | IP put in this node's Upids               | the bound IP |
//! | `LIBPROCESS_ADVERTISE_PORT`| port put in this node's Upids             | bound port   |
//!
//! The default IP is loopback, not libprocess's "IP of the hostname": a node
//! is reachable from other machines only when an operator says so. Binding the
//! wildcard (`0.0.0.0`, `::`) needs an advertised IP, since a Upid must name an
//! address peers can connect to.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// How a node binds and advertises itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub ip: IpAddr,
    pub port: u16,
    pub advertise_ip: Option<IpAddr>,
    pub advertise_port: Option<u16>,
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}='{value}' is not {what}")]
    BadValue { var: &'static str, value: String, what: &'static str },
    #[error("binding {0} (any address) needs an advertised IP (LIBPROCESS_ADVERTISE_IP / --advertise_ip)")]
    WildcardWithoutAdvertise(IpAddr),
}

impl Default for Config {
    fn default() -> Config {
        Config { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port: 0, advertise_ip: None, advertise_port: None }
    }
}

impl Config {
    /// Loopback, the given port.
    pub fn loopback(port: u16) -> Config {
        Config { port, ..Config::default() }
    }

    /// Reads `LIBPROCESS_IP`, `LIBPROCESS_PORT`, `LIBPROCESS_ADVERTISE_IP`,
    /// `LIBPROCESS_ADVERTISE_PORT` over the defaults.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// As `from_env`, reading variables through `get` (testable).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        if let Some(v) = get("LIBPROCESS_IP") {
            c.ip = parse(&v, "LIBPROCESS_IP", "an IP address")?;
        }
        if let Some(v) = get("LIBPROCESS_PORT") {
            c.port = parse(&v, "LIBPROCESS_PORT", "a port (0-65535)")?;
        }
        if let Some(v) = get("LIBPROCESS_ADVERTISE_IP") {
            c.advertise_ip = Some(parse(&v, "LIBPROCESS_ADVERTISE_IP", "an IP address")?);
        }
        if let Some(v) = get("LIBPROCESS_ADVERTISE_PORT") {
            c.advertise_port = Some(parse(&v, "LIBPROCESS_ADVERTISE_PORT", "a port (0-65535)")?);
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks the combination (wildcard needs an advertised IP).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.ip.is_unspecified() && self.advertise_ip.is_none() {
            return Err(ConfigError::WildcardWithoutAdvertise(self.ip));
        }
        Ok(())
    }

    /// The address put in Upids once the socket is bound at `bound`.
    pub fn advertised(&self, bound: SocketAddr) -> SocketAddr {
        SocketAddr::new(self.advertise_ip.unwrap_or(bound.ip()), self.advertise_port.unwrap_or(bound.port()))
    }
}

fn parse<T: std::str::FromStr>(v: &str, var: &'static str, what: &'static str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::BadValue { var, value: v.to_string(), what })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn reads_libprocess_variables() {
        let c = Config::from_lookup(env(&[
            ("LIBPROCESS_IP", "127.0.0.2"),
            ("LIBPROCESS_PORT", "5050"),
            ("LIBPROCESS_ADVERTISE_IP", "10.1.2.3"),
            ("LIBPROCESS_ADVERTISE_PORT", "15050"),
        ]))
        .unwrap();
        assert_eq!(c.ip.to_string(), "127.0.0.2");
        assert_eq!(c.port, 5050);
        assert_eq!(c.advertised("127.0.0.2:5050".parse().unwrap()).to_string(), "10.1.2.3:15050");
        assert_eq!(Config::from_lookup(env(&[])).unwrap(), Config::default());
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let e = Config::from_lookup(env(&[("LIBPROCESS_PORT", "http")])).unwrap_err();
        assert_eq!(e.to_string(), "LIBPROCESS_PORT='http' is not a port (0-65535)");
        assert!(Config::from_lookup(env(&[("LIBPROCESS_IP", "1.2.3")])).is_err());
        let e = Config::from_lookup(env(&[("LIBPROCESS_IP", "0.0.0.0")])).unwrap_err();
        assert!(matches!(e, ConfigError::WildcardWithoutAdvertise(_)));
    }
}
