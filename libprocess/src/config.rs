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
//!
//! TLS is read from libprocess's `LIBPROCESS_SSL_*` variables (each also
//! as the pre-1.0 `SSL_*`, as libprocess accepts) into [`SslConfig`]: plain
//! values here; `tls` loads the files they name. See docs/libprocess.md
//! ("TLS") for every variable and where rmesos differs from libprocess.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// How a node binds and advertises itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub ip: IpAddr,
    pub port: u16,
    pub advertise_ip: Option<IpAddr>,
    pub advertise_port: Option<u16>,
    /// TLS for messages and HTTP on the node's port (off by default).
    pub ssl: SslConfig,
}

/// libprocess's TLS settings, as its environment gives them. Defaults are
/// libprocess's, except that TLS 1.3 is on (rustls speaks it; libprocess's
/// OpenSSL socket did not yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslConfig {
    /// `LIBPROCESS_SSL_ENABLED`: outgoing connections speak TLS, incoming
    /// ones must (unless `support_downgrade`).
    pub enabled: bool,
    /// `LIBPROCESS_SSL_SUPPORT_DOWNGRADE`: accept plaintext beside TLS on the
    /// same port (told apart by the first byte), and retry in plaintext an
    /// outgoing connection whose TLS handshake failed.
    pub support_downgrade: bool,
    /// `LIBPROCESS_SSL_CERT_FILE`: this node's certificate chain (PEM).
    pub cert_file: Option<PathBuf>,
    /// `LIBPROCESS_SSL_KEY_FILE`: its private key (PEM, unencrypted).
    pub key_file: Option<PathBuf>,
    /// `LIBPROCESS_SSL_CA_FILE`: trusted CA certificates (PEM).
    pub ca_file: Option<PathBuf>,
    /// `LIBPROCESS_SSL_CA_DIR`: a directory of trusted CA certificates.
    pub ca_dir: Option<PathBuf>,
    /// `LIBPROCESS_SSL_VERIFY_SERVER_CERT` (legacy `LIBPROCESS_SSL_VERIFY_CERT`):
    /// outgoing connections check the peer's certificate (chain, dates, and
    /// that it names the IP dialled). Implied by `require_client_cert`.
    pub verify_server_cert: bool,
    /// `LIBPROCESS_SSL_REQUIRE_CLIENT_CERT` (legacy `LIBPROCESS_SSL_REQUIRE_CERT`):
    /// incoming connections must present a certificate the CAs sign; a
    /// libprocess peer's must name the IP its handshake claims.
    pub require_client_cert: bool,
    /// `LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME` (`legacy` or `openssl`).
    pub hostname_validation: HostnameValidation,
    /// `LIBPROCESS_SSL_ENABLE_TLS_V1_2`.
    pub tls_v1_2: bool,
    /// `LIBPROCESS_SSL_ENABLE_TLS_V1_3`.
    pub tls_v1_3: bool,
}

impl Default for SslConfig {
    fn default() -> SslConfig {
        SslConfig {
            enabled: false,
            support_downgrade: false,
            cert_file: None,
            key_file: None,
            ca_file: None,
            ca_dir: None,
            verify_server_cert: false,
            require_client_cert: false,
            hostname_validation: HostnameValidation::Legacy,
            tls_v1_2: true,
            tls_v1_3: true,
        }
    }
}

/// How a certificate is matched to its peer's address, as libprocess's two
/// schemes split it. A Upid names an IP, never a host name, so a match is
/// always the IP as a subject alternative name; rmesos does no reverse DNS
/// lookup (libprocess's `legacy` does one, which whoever controls DNS can
/// forge).
/// - `Legacy` (libprocess's default): outgoing connections check the IP
///   dialled, incoming libprocess connections the IP their handshake claims.
/// - `Openssl`: outgoing connections check the IP dialled; incoming ones
///   only the chain (libprocess's `openssl` does no check in server mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostnameValidation {
    Legacy,
    Openssl,
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
        Config {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            advertise_ip: None,
            advertise_port: None,
            ssl: SslConfig::default(),
        }
    }
}

impl Config {
    /// Loopback, the given port.
    pub fn loopback(port: u16) -> Config {
        Config { port, ..Config::default() }
    }

    /// Reads `LIBPROCESS_IP`, `LIBPROCESS_PORT`, `LIBPROCESS_ADVERTISE_IP`,
    /// `LIBPROCESS_ADVERTISE_PORT` and the `LIBPROCESS_SSL_*` variables over
    /// the defaults.
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
        c.ssl = SslConfig::from_lookup(&get)?;
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

impl SslConfig {
    /// The `LIBPROCESS_SSL_*` variables (or their `SSL_*` forms) through
    /// `get`, over the defaults.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<SslConfig, ConfigError> {
        // libprocess reads `SSL_<NAME>` too (its names before 1.0); the
        // LIBPROCESS_ form wins when both are set.
        let var = |long: &'static str| -> Option<(&'static str, String)> {
            let short = long.strip_prefix("LIBPROCESS_").unwrap_or(long);
            get(long).map(|v| (long, v)).or_else(|| get(short).map(|v| (short, v)))
        };
        let flag = |name: &'static str, default: bool| -> Result<bool, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some((var, v)) => match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" => Ok(true),
                    "false" | "0" => Ok(false),
                    _ => Err(ConfigError::BadValue { var, value: v, what: "true, false, 1 or 0" }),
                },
            }
        };
        let path = |name: &'static str| var(name).map(|(_, v)| PathBuf::from(v.trim()));
        let d = SslConfig::default();
        let mut c = SslConfig {
            enabled: flag("LIBPROCESS_SSL_ENABLED", d.enabled)?,
            support_downgrade: flag("LIBPROCESS_SSL_SUPPORT_DOWNGRADE", d.support_downgrade)?,
            cert_file: path("LIBPROCESS_SSL_CERT_FILE"),
            key_file: path("LIBPROCESS_SSL_KEY_FILE"),
            ca_file: path("LIBPROCESS_SSL_CA_FILE"),
            ca_dir: path("LIBPROCESS_SSL_CA_DIR"),
            verify_server_cert: flag("LIBPROCESS_SSL_VERIFY_SERVER_CERT", d.verify_server_cert)?
                || flag("LIBPROCESS_SSL_VERIFY_CERT", false)?,
            require_client_cert: flag("LIBPROCESS_SSL_REQUIRE_CLIENT_CERT", d.require_client_cert)?
                || flag("LIBPROCESS_SSL_REQUIRE_CERT", false)?,
            hostname_validation: match var("LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME") {
                None => d.hostname_validation,
                Some((var, v)) => match v.trim() {
                    "legacy" => HostnameValidation::Legacy,
                    "openssl" => HostnameValidation::Openssl,
                    _ => return Err(ConfigError::BadValue { var, value: v, what: "legacy or openssl" }),
                },
            },
            tls_v1_2: flag("LIBPROCESS_SSL_ENABLE_TLS_V1_2", d.tls_v1_2)?,
            tls_v1_3: flag("LIBPROCESS_SSL_ENABLE_TLS_V1_3", d.tls_v1_3)?,
        };
        // As libprocess: requiring client certificates implies verifying
        // server certificates.
        c.verify_server_cert |= c.require_client_cert;
        // Protocols rustls does not speak (all broken): asking for one is an
        // error, not a silent downgrade of what the operator wanted.
        for old in ["LIBPROCESS_SSL_ENABLE_SSL_V3", "LIBPROCESS_SSL_ENABLE_TLS_V1_0", "LIBPROCESS_SSL_ENABLE_TLS_V1_1"]
        {
            if flag(old, false)? {
                let (var, value) = var(old).expect("set, since it is true");
                return Err(ConfigError::BadValue { var, value, what: "supported: only TLS 1.2 and 1.3 are" });
            }
        }
        Ok(c)
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
