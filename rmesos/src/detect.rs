//! Where the master is: the `--master` flag's forms (SEED.md section 3).
//!
//! - `host:5050` or `127.0.0.1:5050` (also `master@host:5050`, `[::1]:5050`):
//!   one master, no ZooKeeper (standalone detection);
//! - `zk://ZK1:P1,ZK2:P2,ZK3:P3/mesos` (optionally `zk://user:pass@...`): the
//!   leading master is found in ZooKeeper under that path;
//! - a file path (`/etc/mesos/zk`, `./master`, `../m`) or `file:///path`
//!   holding one of the forms above, surrounding whitespace and newlines
//!   ignored. A file may not point at another file: one level only, so a
//!   file can never loop.
//!
//! Parsing ([`MasterSpec::parse`]) only reads the file, if any; name
//! resolution is separate ([`MasterSpec::resolve`], DNS via
//! `std::net::ToSocketAddrs`, IPv4 preferred as libprocess binds IPv4 by
//! default), so callers choose when to block and tests stay pure. The
//! ZooKeeper URL is kept as a validated string here; the ZooKeeper detector in
//! libprocess parses it further.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use libprocess::Upid;

/// The master's actor id (its Upid is `master@ip:port`, as in Mesos).
pub const MASTER_ID: &str = "master";

/// Largest `--master` file read: 64 KiB (a ZooKeeper URL of many hosts is
/// well under 1 KiB; a larger file is the wrong file).
pub const MAX_MASTER_FILE_LEN: u64 = 64 * 1024;

/// How to find the master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterSpec {
    /// One master at `host:port` (host is a name or an IP; IPv6 without brackets).
    Standalone { host: String, port: u16 },
    /// A `zk://hosts/path` URL, validated.
    ZooKeeper(String),
}

/// Why a `--master` value is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error("--master is empty: expected host:port, zk://host:port,.../path, or a file holding one of them")]
    Empty,
    #[error("'{0}' has no port: expected host:port (e.g. 127.0.0.1:5050)")]
    MissingPort(String),
    #[error("'{input}': '{port}' is not a port (1-65535)")]
    BadPort { input: String, port: String },
    #[error("'{input}': '{host}' is not a hostname or IP address")]
    BadHost { input: String, host: String },
    #[error("'{0}': unsupported scheme (expected zk:// or file://)")]
    UnknownScheme(String),
    #[error("'{0}': expected zk://host:port[,host:port...]/path with at least one host")]
    ZkNoHosts(String),
    #[error("'{input}': ZooKeeper host '{host}' is not host[:port]")]
    ZkBadHost { input: String, host: String },
    #[error(
        "'{0}': the ZooKeeper path must be absolute, not '/', without empty segments or trailing '/' (e.g. /mesos)"
    )]
    ZkBadPath(String),
    #[error("cannot read master file {path}: {reason}")]
    FileUnreadable { path: PathBuf, reason: String },
    #[error("master file {0} is empty")]
    FileEmpty(PathBuf),
    #[error("master file {0} is larger than {MAX_MASTER_FILE_LEN} bytes")]
    FileTooLarge(PathBuf),
    #[error("master file {0} points at another file; it must hold host:port or zk://...")]
    NestedFile(PathBuf),
    #[error("cannot resolve master host '{host}': {reason}")]
    Unresolvable { host: String, reason: String },
    #[error("'{0}' is a ZooKeeper URL: the leading master must be detected through ZooKeeper")]
    NeedsZooKeeper(String),
}

impl MasterSpec {
    /// Parses a `--master` value, reading it from a file when it is a path or
    /// a `file://` URL.
    pub fn parse(input: &str) -> Result<MasterSpec, DetectError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(DetectError::Empty);
        }
        match file_reference(s) {
            Some(path) => {
                let content = read_master_file(&path)?;
                if file_reference(&content).is_some() {
                    return Err(DetectError::NestedFile(path));
                }
                parse_value(&content)
            }
            None => parse_value(s),
        }
    }

    /// The master's Upid for a standalone spec: the host resolved (IPv4
    /// preferred) and `master@ip:port`. A ZooKeeper spec is an error.
    pub fn resolve(&self) -> Result<Upid, DetectError> {
        match self {
            MasterSpec::Standalone { host, port } => resolve_master(host, *port),
            MasterSpec::ZooKeeper(url) => Err(DetectError::NeedsZooKeeper(url.clone())),
        }
    }
}

impl fmt::Display for MasterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterSpec::Standalone { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            MasterSpec::Standalone { host, port } => write!(f, "{host}:{port}"),
            MasterSpec::ZooKeeper(url) => f.write_str(url),
        }
    }
}

impl std::str::FromStr for MasterSpec {
    type Err = DetectError;
    fn from_str(s: &str) -> Result<MasterSpec, DetectError> {
        MasterSpec::parse(s)
    }
}

/// `master@ip:port` for `host:port`, resolving names (IPv4 preferred).
pub fn resolve_master(host: &str, port: u16) -> Result<Upid, DetectError> {
    let unresolvable = |reason: String| DetectError::Unresolvable { host: host.to_string(), reason };
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().map_err(|e| unresolvable(e.to_string()))?.collect();
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| unresolvable("no address".to_string()))?;
    Upid::new(MASTER_ID, addr).map_err(|e| unresolvable(e.to_string()))
}

/// The path a value refers to, if it is a file reference.
fn file_reference(s: &str) -> Option<PathBuf> {
    if let Some(path) = s.strip_prefix("file://") {
        return Some(PathBuf::from(path));
    }
    (s.starts_with('/') || s.starts_with("./") || s.starts_with("../")).then(|| PathBuf::from(s))
}

fn read_master_file(path: &Path) -> Result<String, DetectError> {
    let unreadable =
        |e: std::io::Error| DetectError::FileUnreadable { path: path.to_path_buf(), reason: e.to_string() };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(DetectError::FileUnreadable { path: path.to_path_buf(), reason: "not a regular file".into() });
    }
    if meta.len() > MAX_MASTER_FILE_LEN {
        return Err(DetectError::FileTooLarge(path.to_path_buf()));
    }
    let content = std::fs::read_to_string(path).map_err(unreadable)?;
    let content = content.trim();
    if content.is_empty() {
        return Err(DetectError::FileEmpty(path.to_path_buf()));
    }
    Ok(content.to_string())
}

fn parse_value(s: &str) -> Result<MasterSpec, DetectError> {
    if s.starts_with("zk://") {
        return validate_zk(s).map(|()| MasterSpec::ZooKeeper(s.to_string()));
    }
    if s.contains("://") {
        return Err(DetectError::UnknownScheme(s.to_string()));
    }
    let hostport = s.strip_prefix("master@").unwrap_or(s);
    let (host, port) = split_host_port(s, hostport)?;
    let port = port.ok_or_else(|| DetectError::MissingPort(s.to_string()))?;
    Ok(MasterSpec::Standalone { host, port })
}

/// Splits `host[:port]` / `[v6][:port]`, validating both parts.
fn split_host_port(input: &str, hp: &str) -> Result<(String, Option<u16>), DetectError> {
    let bad_host = |h: &str| DetectError::BadHost { input: input.to_string(), host: h.to_string() };
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(|| bad_host(hp))?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad_host(h));
        }
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':').ok_or_else(|| bad_host(hp))?)),
        }
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hp, None),
        }
    };
    if !hp.starts_with('[') {
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
        if host.is_empty() || host.len() > 253 || !host.chars().all(ok) || host.starts_with('-') {
            return Err(bad_host(host));
        }
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(DetectError::BadPort { input: input.to_string(), port: p.to_string() }),
        },
    };
    Ok((host.to_string(), port))
}

/// `zk://[auth@]host[:port][,host[:port]...]/path` with a path other than `/`.
fn validate_zk(url: &str) -> Result<(), DetectError> {
    let rest = &url["zk://".len()..];
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hosts.is_empty() {
        return Err(DetectError::ZkNoHosts(url.to_string()));
    }
    for host in hosts.split(',') {
        split_host_port(url, host.trim())
            .map_err(|_| DetectError::ZkBadHost { input: url.to_string(), host: host.to_string() })?;
    }
    let bad_path =
        path.len() <= 1 || path.ends_with('/') || path.contains("//") || path.chars().any(char::is_whitespace);
    if bad_path {
        return Err(DetectError::ZkBadPath(url.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn standalone(host: &str, port: u16) -> MasterSpec {
        MasterSpec::Standalone { host: host.into(), port }
    }

    /// A file under the system temp dir, unique per test, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(content: &str) -> TempFile {
            static N: AtomicUsize = AtomicUsize::new(0);
            let name = format!("rmesos-detect-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, content).unwrap();
            TempFile(path)
        }
        fn path(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn host_and_ip_forms() {
        assert_eq!(MasterSpec::parse("127.0.0.1:5050"), Ok(standalone("127.0.0.1", 5050)));
        assert_eq!(MasterSpec::parse(" master1.example.com:5050\n"), Ok(standalone("master1.example.com", 5050)));
        assert_eq!(MasterSpec::parse("master@10.0.0.1:5050"), Ok(standalone("10.0.0.1", 5050)));
        assert_eq!(MasterSpec::parse("[::1]:5050"), Ok(standalone("::1", 5050)));
        assert_eq!(MasterSpec::parse("[::1]:5050").unwrap().to_string(), "[::1]:5050");
        assert_eq!(MasterSpec::parse("localhost:5050").unwrap().to_string(), "localhost:5050");
    }

    #[test]
    fn resolves_to_a_master_upid_preferring_ipv4() {
        let pid = MasterSpec::parse("127.0.0.1:5050").unwrap().resolve().unwrap();
        assert_eq!(pid.to_string(), "master@127.0.0.1:5050");
        let pid = MasterSpec::parse("localhost:5051").unwrap().resolve().unwrap();
        assert_eq!(pid.to_string(), "master@127.0.0.1:5051");
        let pid = MasterSpec::parse("[::1]:5050").unwrap().resolve().unwrap();
        assert_eq!(pid.to_string(), "master@[::1]:5050");
        let e = MasterSpec::parse("no-such-host.invalid:5050").unwrap().resolve().unwrap_err();
        assert!(matches!(e, DetectError::Unresolvable { .. }), "{e}");
        let zk = MasterSpec::parse("zk://h:2181/mesos").unwrap();
        assert!(matches!(zk.resolve(), Err(DetectError::NeedsZooKeeper(_))));
    }

    #[test]
    fn zookeeper_form() {
        let url = "zk://10.0.0.1:2181,10.0.0.2:2181,zk3:2181/mesos";
        assert_eq!(MasterSpec::parse(url), Ok(MasterSpec::ZooKeeper(url.into())));
        assert!(MasterSpec::parse("zk://u:p@zk1:2181/mesos/prod").is_ok());
        assert!(MasterSpec::parse("zk://zk1/mesos").is_ok(), "port optional: ZooKeeper defaults to 2181");
        assert_eq!(MasterSpec::parse(url).unwrap().to_string(), url);
    }

    #[test]
    fn bad_inputs_give_clear_errors() {
        use DetectError::*;
        let err = |s: &str| MasterSpec::parse(s).unwrap_err();
        assert_eq!(err(""), Empty);
        assert_eq!(err("  \n"), Empty);
        assert!(matches!(err("127.0.0.1"), MissingPort(_)));
        assert!(matches!(err("host:"), BadPort { .. }));
        assert!(matches!(err("host:0"), BadPort { .. }));
        assert!(matches!(err("host:70000"), BadPort { .. }));
        assert!(matches!(err("host:http"), BadPort { .. }));
        assert!(matches!(err(":5050"), BadHost { .. }));
        assert!(matches!(err("ho st:5050"), BadHost { .. }));
        assert!(matches!(err("[zz]:5050"), BadHost { .. }));
        assert!(matches!(err("http://h:5050"), UnknownScheme(_)));
        assert!(matches!(err("zk:///mesos"), ZkNoHosts(_)));
        assert!(matches!(err("zk://h:2181/"), ZkBadPath(_)));
        assert!(matches!(err("zk://h:2181"), ZkBadPath(_)));
        assert!(matches!(err("zk://h:2181/mesos/"), ZkBadPath(_)));
        assert!(matches!(err("zk://h:2181//mesos"), ZkBadPath(_)));
        assert!(matches!(err("zk://h:99999/mesos"), ZkBadHost { .. }));
        assert!(matches!(err("zk://h1:2181,,h2:2181/mesos"), ZkBadHost { .. }));
        assert_eq!(err("127.0.0.1").to_string(), "'127.0.0.1' has no port: expected host:port (e.g. 127.0.0.1:5050)");
    }

    #[test]
    fn file_forms() {
        let f = TempFile::new("zk://zk1:2181,zk2:2181/mesos\n");
        let zk = MasterSpec::ZooKeeper("zk://zk1:2181,zk2:2181/mesos".into());
        assert_eq!(MasterSpec::parse(&f.path()), Ok(zk.clone()));
        assert_eq!(MasterSpec::parse(&format!("file://{}", f.path())), Ok(zk));
        let f = TempFile::new("  127.0.0.1:5050 \n\n");
        assert_eq!(MasterSpec::parse(&f.path()), Ok(standalone("127.0.0.1", 5050)));
    }

    #[test]
    fn file_errors() {
        let err = |s: &str| MasterSpec::parse(s).unwrap_err();
        assert!(matches!(err("/no/such/rmesos/master/file"), DetectError::FileUnreadable { .. }));
        assert!(matches!(err("file:///no/such/file"), DetectError::FileUnreadable { .. }));
        assert!(matches!(err(&std::env::temp_dir().display().to_string()), DetectError::FileUnreadable { .. }));
        let empty = TempFile::new(" \n");
        assert!(matches!(err(&empty.path()), DetectError::FileEmpty(_)));
        let inner = TempFile::new("127.0.0.1:5050");
        let outer = TempFile::new(&inner.path());
        assert!(matches!(err(&outer.path()), DetectError::NestedFile(_)));
        let outer = TempFile::new(&format!("file://{}", inner.path()));
        assert!(matches!(err(&outer.path()), DetectError::NestedFile(_)));
        let bad = TempFile::new("host:nope");
        assert!(matches!(err(&bad.path()), DetectError::BadPort { .. }));
        let big = TempFile::new(&"x".repeat(MAX_MASTER_FILE_LEN as usize + 1));
        assert!(matches!(err(&big.path()), DetectError::FileTooLarge(_)));
    }
}
