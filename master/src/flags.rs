//! `rmesos-master` flags: Mesos's names and defaults, each also read from
//! `RMESOS_<FLAG>` (`RMESOS_PORT=5050`). Durations take Mesos's forms
//! (`15secs`, `10mins`, `500ms`) and short ones (`15s`, `10m`). A bad value
//! is one clear error line and exit code 2 (clap's usage error).
//!
//! The listen address: `--ip`/`--port`/`--advertise_*` win over
//! `LIBPROCESS_IP`/`LIBPROCESS_PORT`/`LIBPROCESS_ADVERTISE_*`, which win over
//! the defaults (127.0.0.1, 5050).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use libprocess::config::ConfigError;
use libprocess::Config;
use rmesos::{parse_duration, DurationError, MasterSpec};

/// The master's default port (Mesos's).
pub const DEFAULT_PORT: u16 = rmesos::info::DEFAULT_MASTER_PORT;

fn positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s) {
        Ok(d) if d.is_zero() => Err(format!("'{s}' must be more than zero")),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

fn duration(s: &str) -> Result<Duration, DurationError> {
    parse_duration(s)
}

/// `--zk`: a `zk://host:port[,host:port]/path` URL, or a file holding one.
fn zk_url(s: &str) -> Result<String, String> {
    match MasterSpec::parse(s) {
        Ok(MasterSpec::ZooKeeper(url)) => Ok(url),
        Ok(MasterSpec::Standalone { .. }) => {
            Err(format!("'{s}' is not a ZooKeeper URL: expected zk://host:port[,host:port...]/path"))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn non_empty(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() || t.chars().any(char::is_whitespace) {
        return Err(format!("'{s}' must be non-empty and without whitespace"));
    }
    Ok(t.to_string())
}

/// The flags of `rmesos-master`.
#[derive(Parser, Debug, Clone, PartialEq)]
#[command(
    name = "rmesos-master",
    version,
    about = "The rmesos master: admits slaves and frameworks, offers resources by DRF, \
             routes tasks and status updates, serves /state, /health, /metrics/snapshot.",
    rename_all = "snake_case"
)]
pub struct Flags {
    /// IP address to listen on [default: LIBPROCESS_IP, else 127.0.0.1]
    #[arg(long, env = "RMESOS_IP")]
    pub ip: Option<IpAddr>,

    /// Port to listen on [default: LIBPROCESS_PORT, else 5050]
    #[arg(long, env = "RMESOS_PORT")]
    pub port: Option<u16>,

    /// IP address advertised to reach this master (behind NAT, or when
    /// listening on 0.0.0.0) [default: LIBPROCESS_ADVERTISE_IP, else --ip]
    #[arg(long, env = "RMESOS_ADVERTISE_IP")]
    pub advertise_ip: Option<IpAddr>,

    /// Port advertised to reach this master [default: LIBPROCESS_ADVERTISE_PORT, else --port]
    #[arg(long, env = "RMESOS_ADVERTISE_PORT")]
    pub advertise_port: Option<u16>,

    /// ZooKeeper URL for leader election among masters
    /// (zk://host1:port1,host2:port2/path, or a file holding one). The
    /// elected master leads; the others are standbys; the registry of admitted
    /// slaves is kept under <path>/registry. Without --zk the master is
    /// standalone and leads at once.
    #[arg(long, env = "RMESOS_ZK", value_parser = zk_url)]
    pub zk: Option<String>,

    /// ZooKeeper session timeout (used with --zk)
    #[arg(long, env = "RMESOS_ZK_SESSION_TIMEOUT", default_value = "10secs", value_parser = positive_duration)]
    pub zk_session_timeout: Duration,

    /// Directory for the master's persistent state (the registry, in a later
    /// release); created if missing. Optional in standalone mode.
    #[arg(long, env = "RMESOS_WORK_DIR")]
    pub work_dir: Option<PathBuf>,

    /// Time between allocation cycles (offers are also made at once when a
    /// slave registers, resources are recovered or a framework revives)
    #[arg(long, env = "RMESOS_ALLOCATION_INTERVAL", default_value = "1secs", value_parser = positive_duration)]
    pub allocation_interval: Duration,

    /// Time between pings of each slave; a ping unanswered by the next one is a miss
    #[arg(long, env = "RMESOS_AGENT_PING_TIMEOUT", default_value = "15secs", value_parser = positive_duration)]
    pub agent_ping_timeout: Duration,

    /// Missed pings after which a slave is removed (its tasks TASK_LOST)
    #[arg(long, env = "RMESOS_MAX_AGENT_PING_TIMEOUTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_agent_ping_timeouts: u32,

    /// Time a newly elected master waits for admitted slaves to reregister
    /// (used with the registry, in a later release)
    #[arg(long, env = "RMESOS_AGENT_REREGISTER_TIMEOUT", default_value = "10mins", value_parser = duration)]
    pub agent_reregister_timeout: Duration,

    /// Accepted for compatibility with Mesos (its replicated log's quorum); no
    /// effect: rmesos keeps its registry in ZooKeeper, whose ensemble is the quorum [default: none]
    #[arg(long, env = "RMESOS_QUORUM", value_parser = clap::value_parser!(u32).range(1..))]
    pub quorum: Option<u32>,

    /// Hostname advertised in MasterInfo and /state [default: the machine's hostname]
    #[arg(long, env = "RMESOS_HOSTNAME", value_parser = non_empty)]
    pub hostname: Option<String>,

    /// Human-readable cluster name shown in /state [default: none]
    #[arg(long, env = "RMESOS_CLUSTER")]
    pub cluster: Option<String>,

    /// Only frameworks that authenticated (CRAM-MD5, --credentials) may register
    #[arg(long, env = "RMESOS_AUTHENTICATE_FRAMEWORKS", default_value_t = false, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    pub authenticate_frameworks: bool,

    /// Only slaves that authenticated (CRAM-MD5, --credentials) may register
    #[arg(long, visible_alias = "authenticate_slaves", env = "RMESOS_AUTHENTICATE_AGENTS", default_value_t = false,
          action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub authenticate_agents: bool,

    /// File of the principals and secrets frameworks and slaves authenticate
    /// with (/path or file:///path): Mesos's JSON {"credentials": [{"principal":
    /// "p", "secret": "s"}]} or lines "principal secret" [default: none]
    #[arg(long, env = "RMESOS_CREDENTIALS")]
    pub credentials: Option<String>,

    /// Time a framework or slave has to complete its authentication
    #[arg(long, env = "RMESOS_AUTHENTICATION_V0_TIMEOUT", default_value = "15secs", value_parser = positive_duration)]
    pub authentication_v0_timeout: Duration,

    /// Read-only endpoints (/state, /metrics/snapshot) need HTTP Basic
    /// credentials from --http_credentials (401 otherwise)
    #[arg(long, env = "RMESOS_AUTHENTICATE_HTTP_READONLY", default_value_t = false, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    pub authenticate_http_readonly: bool,

    /// Endpoints that change state need HTTP Basic credentials (none are
    /// served over v0 HTTP yet)
    #[arg(long, visible_alias = "authenticate_http", env = "RMESOS_AUTHENTICATE_HTTP_READWRITE",
          default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub authenticate_http_readwrite: bool,

    /// HTTP frameworks (the v1 scheduler API) need HTTP Basic credentials
    #[arg(long, env = "RMESOS_AUTHENTICATE_HTTP_FRAMEWORKS", default_value_t = false, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    pub authenticate_http_frameworks: bool,

    /// File of the principals and secrets of HTTP clients (the --credentials format) [default: none]
    #[arg(long, env = "RMESOS_HTTP_CREDENTIALS")]
    pub http_credentials: Option<String>,

    /// Access control lists, Mesos's JSON, inline or a file (/path or
    /// file:///path): {"permissive": true, "register_frameworks": [...],
    /// "run_tasks": [...], ...} (docs/security.md) [default: none, all permitted]
    #[arg(long, env = "RMESOS_ACLS")]
    pub acls: Option<String>,
}

impl Flags {
    /// Parses flags with the built-in defaults only (for code that starts a
    /// master in-process, e.g. `rmesos-local`).
    pub fn defaults() -> Flags {
        Flags::parse_from(["rmesos-master"])
    }

    /// The node's listen configuration: flags over `LIBPROCESS_*` (read
    /// through `env`) over the defaults.
    pub fn libprocess_config(&self, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        // Flags take the place of the variables they override; the port
        // defaults to 5050 rather than libprocess's "any".
        Config::from_lookup(|k| match k {
            "LIBPROCESS_IP" => self.ip.map(|v| v.to_string()).or_else(|| env(k)),
            "LIBPROCESS_PORT" => {
                self.port.map(|v| v.to_string()).or_else(|| env(k)).or_else(|| Some(DEFAULT_PORT.to_string()))
            }
            "LIBPROCESS_ADVERTISE_IP" => self.advertise_ip.map(|v| v.to_string()).or_else(|| env(k)),
            "LIBPROCESS_ADVERTISE_PORT" => self.advertise_port.map(|v| v.to_string()).or_else(|| env(k)),
            _ => env(k),
        })
    }
}

impl Flags {
    /// Every flag that has a value, by name, as strings (Mesos's `/flags`:
    /// durations in Mesos's form, unset optional flags absent).
    pub fn values(&self) -> std::collections::BTreeMap<String, String> {
        let d = |v: Duration| rmesos::format_duration(v);
        let mut m = std::collections::BTreeMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("ip", self.ip.map(|v| v.to_string()));
        put("port", self.port.map(|v| v.to_string()));
        put("advertise_ip", self.advertise_ip.map(|v| v.to_string()));
        put("advertise_port", self.advertise_port.map(|v| v.to_string()));
        put("zk", self.zk.clone());
        put("zk_session_timeout", Some(d(self.zk_session_timeout)));
        put("work_dir", self.work_dir.as_ref().map(|p| p.display().to_string()));
        put("allocation_interval", Some(d(self.allocation_interval)));
        put("agent_ping_timeout", Some(d(self.agent_ping_timeout)));
        put("max_agent_ping_timeouts", Some(self.max_agent_ping_timeouts.to_string()));
        put("agent_reregister_timeout", Some(d(self.agent_reregister_timeout)));
        put("quorum", self.quorum.map(|v| v.to_string()));
        put("hostname", self.hostname.clone());
        put("cluster", self.cluster.clone());
        put("authenticate_frameworks", Some(self.authenticate_frameworks.to_string()));
        put("authenticate_agents", Some(self.authenticate_agents.to_string()));
        put("credentials", self.credentials.clone());
        put("authentication_v0_timeout", Some(d(self.authentication_v0_timeout)));
        put("authenticate_http_readonly", Some(self.authenticate_http_readonly.to_string()));
        put("authenticate_http_readwrite", Some(self.authenticate_http_readwrite.to_string()));
        put("authenticate_http_frameworks", Some(self.authenticate_http_frameworks.to_string()));
        put("http_credentials", self.http_credentials.clone());
        put("acls", self.acls.clone());
        m
    }
}

/// The machine's hostname (for MasterInfo when `--hostname` is not given).
pub fn system_hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for buf.len() bytes; gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
        Flags::try_parse_from(std::iter::once("rmesos-master").chain(args.iter().copied()))
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn values_name_every_flag() {
        use clap::CommandFactory;
        let all = parse(&[
            "--port=5",
            "--zk=zk://h:1/m",
            "--work_dir=/w",
            "--quorum=1",
            "--hostname=h",
            "--cluster=c",
            "--credentials=/c",
            "--http_credentials=/h",
            "--acls={}",
            "--ip=127.0.0.1",
            "--advertise_ip=127.0.0.2",
            "--advertise_port=6",
        ])
        .unwrap()
        .values();
        let names: std::collections::BTreeSet<String> = Flags::command()
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .filter(|id| id != "help" && id != "version")
            .collect();
        assert_eq!(all.keys().cloned().collect::<std::collections::BTreeSet<_>>(), names);
        assert_eq!(all["agent_ping_timeout"], "15secs");
        assert_eq!(all["port"], "5");
        assert!(!parse(&[]).unwrap().values().contains_key("zk"), "unset flags are absent");
    }

    #[test]
    fn defaults_are_mesos_defaults() {
        let f = parse(&[]).unwrap();
        assert_eq!(f.zk_session_timeout, Duration::from_secs(10));
        assert_eq!(f.allocation_interval, Duration::from_secs(1));
        assert_eq!(f.agent_ping_timeout, Duration::from_secs(15));
        assert_eq!(f.max_agent_ping_timeouts, 5);
        assert_eq!(f.agent_reregister_timeout, Duration::from_secs(600));
        assert_eq!((f.ip, f.port, f.zk.clone(), f.quorum), (None, None, None, None));
        let c = f.libprocess_config(env(&[])).unwrap();
        assert_eq!((c.ip.to_string(), c.port), ("127.0.0.1".to_string(), 5050));
        assert_eq!(Flags::defaults().agent_ping_timeout, Duration::from_secs(15));
    }

    #[test]
    fn values_in_mesos_and_short_forms() {
        let f = parse(&[
            "--ip=127.0.0.2",
            "--port",
            "15050",
            "--zk=zk://a:2181,b:2181/rmesos",
            "--allocation_interval=500ms",
            "--agent_ping_timeout",
            "2s",
            "--max_agent_ping_timeouts=3",
            "--agent_reregister_timeout=10m",
            "--quorum=2",
            "--hostname=m1.example",
            "--cluster=prod",
            "--work_dir=/tmp/x",
        ])
        .unwrap();
        assert_eq!(f.zk.as_deref(), Some("zk://a:2181,b:2181/rmesos"));
        assert_eq!(f.allocation_interval, Duration::from_millis(500));
        assert_eq!(f.agent_ping_timeout, Duration::from_secs(2));
        assert_eq!(f.max_agent_ping_timeouts, 3);
        assert_eq!(f.agent_reregister_timeout, Duration::from_secs(600));
        assert_eq!(
            (f.quorum, f.hostname.as_deref(), f.cluster.as_deref()),
            (Some(2), Some("m1.example"), Some("prod"))
        );
        let c = f.libprocess_config(env(&[])).unwrap();
        assert_eq!((c.ip.to_string(), c.port), ("127.0.0.2".to_string(), 15050));
    }

    #[test]
    fn flags_override_libprocess_environment() {
        let e = env(&[
            ("LIBPROCESS_IP", "127.0.0.3"),
            ("LIBPROCESS_PORT", "7000"),
            ("LIBPROCESS_ADVERTISE_IP", "10.0.0.1"),
        ]);
        let c = parse(&[]).unwrap().libprocess_config(&e).unwrap();
        assert_eq!((c.ip.to_string(), c.port), ("127.0.0.3".to_string(), 7000));
        assert_eq!(c.advertise_ip.map(|i| i.to_string()), Some("10.0.0.1".to_string()));
        let c = parse(&["--ip=127.0.0.4", "--port=0", "--advertise_ip=10.0.0.2", "--advertise_port=80"])
            .unwrap()
            .libprocess_config(&e)
            .unwrap();
        assert_eq!((c.ip.to_string(), c.port), ("127.0.0.4".to_string(), 0));
        assert_eq!((c.advertise_ip.unwrap().to_string(), c.advertise_port), ("10.0.0.2".to_string(), Some(80)));
        // Wildcard needs an advertised IP; a flag can give it.
        assert!(parse(&["--ip=0.0.0.0"]).unwrap().libprocess_config(env(&[])).is_err());
        let c = parse(&["--advertise_ip=10.0.0.9"]).unwrap().libprocess_config(env(&[("LIBPROCESS_IP", "0.0.0.0")]));
        assert_eq!(c.unwrap().ip.to_string(), "0.0.0.0");
    }

    #[test]
    fn bad_values_are_one_clear_line_and_exit_code_2() {
        let cases: &[(&[&str], &str)] = &[
            (&["--port=http"], "invalid value 'http'"),
            (&["--port=70000"], "70000"),
            (&["--ip=1.2.3"], "invalid value '1.2.3'"),
            (&["--agent_ping_timeout=15"], "has no unit"),
            (&["--agent_ping_timeout=0secs"], "more than zero"),
            (&["--allocation_interval=fast"], "does not start with a number"),
            (&["--zk_session_timeout=10parsecs"], "unknown unit"),
            (&["--max_agent_ping_timeouts=0"], "0"),
            (&["--max_agent_ping_timeouts=-1"], "-1"),
            (&["--quorum=0"], "0"),
            (&["--zk=127.0.0.1:2181"], "is not a ZooKeeper URL"),
            (&["--zk=zk://a:2181/"], "ZooKeeper path"),
            (&["--hostname= "], "non-empty"),
            (&["--no_such_flag"], "unexpected argument"),
        ];
        for (args, expected) in cases {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
            let text = e.to_string();
            assert!(text.contains(expected), "{args:?}: {text}");
            assert!(text.lines().next().unwrap().starts_with("error:"), "{text}");
        }
    }

    #[test]
    fn help_shows_every_default() {
        let help = <Flags as clap::CommandFactory>::command().render_long_help().to_string();
        for needle in [
            "--port",
            "5050",
            "10secs",
            "1secs",
            "15secs",
            "[default: 5]",
            "10mins",
            "<path>/registry",
            "RMESOS_AGENT_PING_TIMEOUT",
            "127.0.0.1",
        ] {
            assert!(help.contains(needle), "help lacks {needle}:\n{help}");
        }
    }

    #[test]
    fn hostname_of_the_machine() {
        assert!(system_hostname().is_some_and(|h| !h.is_empty()));
    }
}
