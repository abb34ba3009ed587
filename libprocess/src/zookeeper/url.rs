//! `zk://[user:pass@]host1:port1,host2:port2/path`: where a group lives.
//!
//! The form Mesos's `--zk` and `--master` flags take. The servers part is
//! handed to the ZooKeeper client as its connect string; `user:pass` becomes
//! digest authentication; the path is the group's znode. The root path `/`
//! is rejected: members are created as children of the path, and a group at
//! the root would mix with every other znode of the ensemble.

use std::fmt;
use std::str::FromStr;

/// Longest URL accepted (flags and files are untrusted input).
pub const MAX_ZK_URL_LEN: usize = 4096;

/// A parsed `zk://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkUrl {
    /// `host:port` entries, in the order given (at least one).
    pub servers: Vec<String>,
    /// Digest credentials `user:pass`, if given.
    pub auth: Option<DigestAuth>,
    /// Absolute znode path without a trailing slash, never `/`.
    pub path: String,
}

/// Digest authentication credentials (`user:pass`).
#[derive(Clone, PartialEq, Eq)]
pub struct DigestAuth {
    pub user: String,
    pub password: String,
}

impl DigestAuth {
    /// The bytes ZooKeeper's `digest` scheme expects: `user:pass`.
    pub fn credentials(&self) -> Vec<u8> {
        format!("{}:{}", self.user, self.password).into_bytes()
    }
}

// Never print the password.
impl fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DigestAuth({}:***)", self.user)
    }
}

impl fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZkUrl({self})")
    }
}

/// Why a `zk://` URL was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZkUrlError {
    #[error("ZooKeeper URL is longer than {MAX_ZK_URL_LEN} bytes")]
    TooLong,
    #[error("ZooKeeper URL must start with 'zk://': '{0}'")]
    Scheme(String),
    #[error("ZooKeeper URL has no path (expected zk://host:port/path): '{0}'")]
    NoPath(String),
    #[error("ZooKeeper URL path '/' is not allowed: give a znode such as zk://host:2181/mesos")]
    RootPath,
    #[error("ZooKeeper URL path '{0}' is invalid (empty segment, '.' or '..', or a control character)")]
    BadPath(String),
    #[error("ZooKeeper URL has no servers: '{0}'")]
    NoServers(String),
    #[error("ZooKeeper server '{0}' is not host:port with a port in 1..65535")]
    BadServer(String),
    #[error("ZooKeeper credentials must be 'user:pass@' with a non-empty user")]
    BadAuth,
}

impl ZkUrl {
    /// The connect string for a client: `host1:p1,host2:p2`.
    pub fn connect_string(&self) -> String {
        self.servers.join(",")
    }

    /// The same ensemble and credentials with another path.
    pub fn with_path(&self, path: &str) -> Result<ZkUrl, ZkUrlError> {
        Ok(ZkUrl { path: parse_path(path)?, ..self.clone() })
    }
}

impl FromStr for ZkUrl {
    type Err = ZkUrlError;

    fn from_str(s: &str) -> Result<ZkUrl, ZkUrlError> {
        if s.len() > MAX_ZK_URL_LEN {
            return Err(ZkUrlError::TooLong);
        }
        let s = s.trim();
        let rest = s.strip_prefix("zk://").ok_or_else(|| ZkUrlError::Scheme(s.to_string()))?;
        let slash = rest.find('/').ok_or_else(|| ZkUrlError::NoPath(s.to_string()))?;
        let (authority, path) = rest.split_at(slash);
        // Credentials end at the last '@' so a password may contain '@'.
        let (auth, hosts) = match authority.rfind('@') {
            Some(at) => {
                let (user, password) = authority[..at].split_once(':').ok_or(ZkUrlError::BadAuth)?;
                if user.is_empty() {
                    return Err(ZkUrlError::BadAuth);
                }
                (Some(DigestAuth { user: user.into(), password: password.into() }), &authority[at + 1..])
            }
            None => (None, authority),
        };
        if hosts.is_empty() {
            return Err(ZkUrlError::NoServers(s.to_string()));
        }
        let servers = hosts.split(',').map(parse_server).collect::<Result<Vec<_>, _>>()?;
        Ok(ZkUrl { servers, auth, path: parse_path(path)? })
    }
}

fn parse_server(s: &str) -> Result<String, ZkUrlError> {
    let bad = || ZkUrlError::BadServer(s.to_string());
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host_ok = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'));
    if port == 0 || !host_ok {
        return Err(bad());
    }
    Ok(s.to_string())
}

fn parse_path(path: &str) -> Result<String, ZkUrlError> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(ZkUrlError::RootPath);
    }
    let bad = || ZkUrlError::BadPath(path.to_string());
    if !trimmed.starts_with('/') {
        return Err(bad());
    }
    for seg in trimmed[1..].split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || seg.chars().any(char::is_control) {
            return Err(bad());
        }
    }
    Ok(trimmed.to_string())
}

impl fmt::Display for ZkUrl {
    /// Prints the URL with the password masked (safe for logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zk://")?;
        if let Some(a) = &self.auth {
            write!(f, "{}:***@", a.user)?;
        }
        write!(f, "{}{}", self.connect_string(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_servers_and_path() {
        let u: ZkUrl = "zk://10.0.0.1:2181,zk2:2182/mesos".parse().unwrap();
        assert_eq!(u.servers, vec!["10.0.0.1:2181", "zk2:2182"]);
        assert_eq!(u.path, "/mesos");
        assert_eq!(u.auth, None);
        assert_eq!(u.connect_string(), "10.0.0.1:2181,zk2:2182");
        let u: ZkUrl = "zk://h:1/a/b/".parse().unwrap();
        assert_eq!(u.path, "/a/b");
    }

    #[test]
    fn parses_digest_auth_and_masks_it() {
        let u: ZkUrl = "zk://alice:s3c@r3t@h1:2181,h2:2181/mesos".parse().unwrap();
        let a = u.auth.clone().unwrap();
        assert_eq!((a.user.as_str(), a.password.as_str()), ("alice", "s3c@r3t"));
        assert_eq!(a.credentials(), b"alice:s3c@r3t");
        assert_eq!(u.servers, vec!["h1:2181", "h2:2181"]);
        assert_eq!(u.to_string(), "zk://alice:***@h1:2181,h2:2181/mesos");
        assert!(!format!("{u:?}").contains("s3c"));
    }

    #[test]
    fn rejects_root_path_with_a_clear_error() {
        let e = "zk://h:2181/".parse::<ZkUrl>().unwrap_err();
        assert_eq!(e, ZkUrlError::RootPath);
        assert!(e.to_string().contains("'/' is not allowed"));
        assert_eq!("zk://h:2181//".parse::<ZkUrl>().unwrap_err(), ZkUrlError::RootPath);
    }

    #[test]
    fn rejects_bad_inputs() {
        use ZkUrlError::*;
        type Check = fn(&ZkUrlError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("http://h:1/m", |e| matches!(e, Scheme(_))),
            ("h:1/m", |e| matches!(e, Scheme(_))),
            ("zk://h:1", |e| matches!(e, NoPath(_))),
            ("zk:///m", |e| matches!(e, NoServers(_))),
            ("zk://u:p@/m", |e| matches!(e, NoServers(_))),
            ("zk://h/m", |e| matches!(e, BadServer(_))),
            ("zk://h:0/m", |e| matches!(e, BadServer(_))),
            ("zk://h:70000/m", |e| matches!(e, BadServer(_))),
            ("zk://h:x/m", |e| matches!(e, BadServer(_))),
            ("zk://h:1,/m", |e| matches!(e, BadServer(_))),
            ("zk://:1/m", |e| matches!(e, BadServer(_))),
            ("zk://h o:1/m", |e| matches!(e, BadServer(_))),
            ("zk://nopass@h:1/m", |e| matches!(e, BadAuth)),
            ("zk://:p@h:1/m", |e| matches!(e, BadAuth)),
            ("zk://h:1/a//b", |e| matches!(e, BadPath(_))),
            ("zk://h:1/a/../b", |e| matches!(e, BadPath(_))),
            ("zk://h:1/a\tb", |e| matches!(e, BadPath(_))),
        ];
        for (input, ok) in cases {
            let e = input.parse::<ZkUrl>().expect_err(input);
            assert!(ok(&e), "{input}: unexpected {e:?}");
        }
        let long = format!("zk://h:1/{}", "a".repeat(MAX_ZK_URL_LEN));
        assert_eq!(long.parse::<ZkUrl>().unwrap_err(), TooLong);
    }
}
