//! The slave's flags, named and defaulted as Mesos's agent flags; each one
//! can also come from `RMESOS_<FLAG>` (e.g. `RMESOS_WORK_DIR`). A bad value
//! is one clear error line and exit code 2 (clap's usage error).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use rmesos::{parse_duration, Attributes, MasterSpec, Resources};

pub use crate::containerizer::isolation::{self, Isolation};
pub use crate::containerizer::mesos::LauncherKind;
pub use crate::core::RecoverMode;

#[derive(Parser, Debug, Clone)]
#[command(name = "rmesos-slave", version, rename_all = "snake_case")]
#[command(about = "The rmesos slave (agent): offers this machine's resources to a master and runs tasks.")]
pub struct Flags {
    /// IP address to listen on (default: LIBPROCESS_IP, else 127.0.0.1).
    #[arg(long, env = "RMESOS_IP")]
    pub ip: Option<IpAddr>,

    /// Port to listen on (0: any free port).
    #[arg(long, env = "RMESOS_PORT", default_value_t = rmesos::info::DEFAULT_SLAVE_PORT)]
    pub port: u16,

    /// The master: host:port, ip:port, zk://host:port,.../path, or a file
    /// (path or file:///path) holding one of them. With zk:// the slave
    /// follows the leading master (and reregisters when it changes).
    #[arg(long, env = "RMESOS_MASTER", value_parser = parse_master)]
    pub master: MasterSpec,

    /// Directory for sandboxes (`slaves/`) and the checkpoint (`meta/`).
    #[arg(long, env = "RMESOS_WORK_DIR")]
    pub work_dir: PathBuf,

    /// Resources to offer, e.g. `cpus:4;mem:2048;disk:10000;ports:[31000-32000]`.
    /// cpus, mem, disk and ports left out are detected from the machine
    /// (leaving 1 GiB of memory and 5 GiB of disk to the system, as Mesos does).
    #[arg(long, env = "RMESOS_RESOURCES")]
    pub resources: Option<Resources>,

    /// Attributes, e.g. `rack:r1;zone:us-east`.
    #[arg(long, env = "RMESOS_ATTRIBUTES", default_value = "")]
    pub attributes: Attributes,

    /// Hostname to report (default: the machine's hostname).
    #[arg(long, env = "RMESOS_HOSTNAME")]
    pub hostname: Option<String>,

    /// Time an executor has to register before it is killed and its tasks fail.
    #[arg(long, env = "RMESOS_EXECUTOR_REGISTRATION_TIMEOUT", default_value = "1mins", value_parser = parse_duration)]
    pub executor_registration_timeout: Duration,

    /// Time an executor has to shut down before its process group is killed.
    #[arg(long, env = "RMESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", default_value = "5secs", value_parser = parse_duration)]
    pub executor_shutdown_grace_period: Duration,

    /// Registration retries start from a random delay in [0, this] and double, capped at 1 minute.
    #[arg(long, env = "RMESOS_REGISTRATION_BACKOFF_FACTOR", default_value = "1secs", value_parser = parse_duration)]
    pub registration_backoff_factor: Duration,

    /// Directory holding `rmesos-executor` (default: the directory of this binary).
    #[arg(long, env = "RMESOS_LAUNCHER_DIR")]
    pub launcher_dir: Option<PathBuf>,

    /// What to do with a checkpoint left by a previous run on the same
    /// `--work_dir`: `reconnect` to the executors still running (their tasks
    /// survive), or `cleanup`: kill them and register as a new slave.
    #[arg(long, env = "RMESOS_RECOVER", default_value = "reconnect", value_parser = ["reconnect", "cleanup"])]
    pub recover: String,

    /// How long an executor of a checkpointing framework waits for its
    /// slave to come back before it shuts down (passed to each executor).
    #[arg(long, env = "RMESOS_RECOVERY_TIMEOUT", default_value = "15mins", value_parser = parse_duration)]
    pub recovery_timeout: Duration,

    /// Time a recovered executor has to reregister before it is killed and
    /// its tasks are reported TASK_LOST.
    #[arg(long, env = "RMESOS_EXECUTOR_REREGISTRATION_TIMEOUT", default_value = "2secs", value_parser = parse_duration)]
    pub executor_reregistration_timeout: Duration,

    /// With `true`, a checkpoint that cannot be read stops the slave at
    /// start; with `false`, the unreadable parts are skipped (logged).
    #[arg(long, env = "RMESOS_STRICT", default_value_t = true, action = clap::ArgAction::Set)]
    pub strict: bool,

    /// Isolators, comma-separated: posix/cpu, posix/mem (measure only),
    /// cgroups/cpu, cgroups/mem, cgroups/pids (enforce; need root), filesystem/posix.
    #[arg(long, env = "RMESOS_ISOLATION", default_value = isolation::DEFAULT, value_parser = isolation::parse)]
    pub isolation: Isolation,

    /// How executors are started and killed: `posix` (a session each) or
    /// `linux` (also a cgroup each: nothing escapes a kill). Default:
    /// linux when an isolator uses cgroups, else posix.
    #[arg(long, env = "RMESOS_LAUNCHER", value_parser = parse_launcher)]
    pub launcher: Option<LauncherKind>,

    /// Where cgroups are mounted (v1: one directory per controller; v2: unified).
    #[arg(long, env = "RMESOS_CGROUPS_HIERARCHY", default_value = "/sys/fs/cgroup")]
    pub cgroups_hierarchy: PathBuf,

    /// The cgroup (relative to each hierarchy) under which containers get theirs.
    #[arg(long, env = "RMESOS_CGROUPS_ROOT", default_value = "rmesos")]
    pub cgroups_root: String,

    /// With cgroups/cpu: also a CFS quota, a hard cpu limit of the container's cpus.
    #[arg(long, env = "RMESOS_CGROUPS_ENABLE_CFS", default_value_t = false, action = clap::ArgAction::Set)]
    pub cgroups_enable_cfs: bool,

    /// With cgroups/pids: most processes (and threads) in one container
    /// (an rmesos flag: Mesos has no pids limit).
    #[arg(long, env = "RMESOS_CGROUPS_MAX_PIDS", default_value_t = crate::containerizer::mesos::DEFAULT_MAX_PIDS)]
    pub cgroups_max_pids: u64,

    /// Run each task as its user (CommandInfo.user, else FrameworkInfo.user);
    /// with false, as the slave's user.
    #[arg(long, env = "RMESOS_SWITCH_USER", default_value_t = true, action = clap::ArgAction::Set)]
    pub switch_user: bool,

    /// How long after its executor or framework ended a sandbox is removed
    /// (sooner as the disk fills: gc_delay x max(0, 1 - gc_disk_headroom - disk usage)).
    #[arg(long, env = "RMESOS_GC_DELAY", default_value = "1weeks", value_parser = parse_duration)]
    pub gc_delay: Duration,

    /// The fraction of the disk kept free when computing the sandboxes' age limit (0 to 1).
    #[arg(long, env = "RMESOS_GC_DISK_HEADROOM", default_value_t = crate::gc::DEFAULT_GC_DISK_HEADROOM, value_parser = parse_headroom)]
    pub gc_disk_headroom: f64,

    /// How often the disk's usage is checked (and old sandboxes pruned).
    #[arg(long, env = "RMESOS_DISK_WATCH_INTERVAL", default_value = "1mins", value_parser = parse_duration)]
    pub disk_watch_interval: Duration,

    /// File with this slave's credential (/path or file:///path), JSON
    /// {"principal": "p", "secret": "s"} or one line "principal secret": the
    /// slave authenticates (CRAM-MD5) with each master before registering [default: none]
    #[arg(long, env = "RMESOS_CREDENTIAL")]
    pub credential: Option<String>,

    /// Retries of a failed authentication wait a random time up to this
    /// factor, doubling each time (up to a minute)
    #[arg(long, env = "RMESOS_AUTHENTICATION_BACKOFF_FACTOR", default_value = "1secs", value_parser = parse_duration)]
    pub authentication_backoff_factor: Duration,

    /// Parent directory of the fetcher cache (this slave's is `<dir>/port-<port>`,
    /// emptied at start).
    #[arg(long, env = "RMESOS_FETCHER_CACHE_DIR", default_value = "/tmp/mesos/fetch")]
    pub fetcher_cache_dir: PathBuf,

    /// Size of the fetcher cache (e.g. 2GB, 512MB; 0 turns it off): the least
    /// recently used files are evicted to make room.
    #[arg(long, env = "RMESOS_FETCHER_CACHE_SIZE", default_value = "2GB", value_parser = parse_bytes)]
    pub fetcher_cache_size: u64,

    /// A download that receives no byte for this long is aborted.
    #[arg(long, env = "RMESOS_FETCHER_STALL_TIMEOUT", default_value = "1mins", value_parser = parse_duration)]
    pub fetcher_stall_timeout: Duration,

    /// The largest download, and the most an archive may unpack to (an
    /// rmesos flag: Mesos has no such bound).
    #[arg(long, env = "RMESOS_FETCHER_MAX_SIZE", default_value = "10GB", value_parser = parse_bytes)]
    pub fetcher_max_size: u64,

    /// Time an authentication attempt may take before it is retried
    #[arg(long, env = "RMESOS_AUTHENTICATION_TIMEOUT_MIN", default_value = "5secs", value_parser = parse_duration)]
    pub authentication_timeout_min: Duration,
}

impl Flags {
    /// The containerizer's part of the flags.
    pub fn containerizer(&self) -> crate::containerizer::MesosConfig {
        crate::containerizer::MesosConfig {
            isolation: self.isolation.clone(),
            launcher: self.launcher,
            cgroups_hierarchy: self.cgroups_hierarchy.clone(),
            cgroups_root: self.cgroups_root.clone(),
            cgroups_enable_cfs: self.cgroups_enable_cfs,
            cgroups_max_pids: self.cgroups_max_pids,
        }
    }

    /// The fetcher's part of the flags.
    pub fn fetcher(&self) -> crate::fetcher::FetcherConfig {
        crate::fetcher::FetcherConfig {
            cache_dir: self.fetcher_cache_dir.clone(),
            cache_size: self.fetcher_cache_size,
            stall_timeout: self.fetcher_stall_timeout,
            max_size: self.fetcher_max_size,
        }
    }

    pub fn recover_mode(&self) -> RecoverMode {
        if self.recover == "cleanup" {
            RecoverMode::Cleanup
        } else {
            RecoverMode::Reconnect
        }
    }
}

/// A size as Mesos writes one: `2GB`, `512MB`, `64KB`, `100B` or plain bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("'{s}' is not a size (e.g. 2GB, 512MB, 100B)"))?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return Err(format!("'{s}' is not a size (units: B, KB, MB, GB, TB)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("'{s}' is too large"))
}

fn parse_headroom(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(h) if (0.0..=1.0).contains(&h) => Ok(h),
        _ => Err(format!("'{s}' is not a fraction between 0 and 1")),
    }
}

fn parse_launcher(s: &str) -> Result<LauncherKind, String> {
    match s {
        "posix" => Ok(LauncherKind::Posix),
        "linux" => Ok(LauncherKind::Linux),
        other => Err(format!("unknown launcher '{other}' (posix or linux)")),
    }
}

/// `--master`: host:port, zk://... (validated as a ZooKeeper URL), or a file.
fn parse_master(s: &str) -> Result<MasterSpec, String> {
    match MasterSpec::parse(s).map_err(|e| e.to_string())? {
        MasterSpec::ZooKeeper(url) => {
            url.parse::<libprocess::zookeeper::ZkUrl>().map_err(|e| e.to_string())?;
            Ok(MasterSpec::ZooKeeper(url))
        }
        spec => Ok(spec),
    }
}

impl Flags {
    /// Flags for a slave of an in-process cluster (rmesos-local): the given
    /// master, work dir and resources, Mesos defaults for the rest, any port.
    /// The fetcher cache is under the work dir (`<work_dir>/fetch`), so that
    /// slaves of one process never share one.
    pub fn local(master: MasterSpec, work_dir: PathBuf, resources: Option<Resources>) -> Flags {
        let work_dir_fetch = work_dir.join("fetch");
        Flags {
            ip: None,
            port: 0,
            master,
            work_dir,
            resources,
            attributes: Attributes::new(),
            hostname: None,
            executor_registration_timeout: Duration::from_secs(60),
            executor_shutdown_grace_period: Duration::from_secs(5),
            registration_backoff_factor: Duration::from_secs(1),
            launcher_dir: None,
            recover: "reconnect".into(),
            recovery_timeout: Duration::from_secs(15 * 60),
            executor_reregistration_timeout: Duration::from_secs(2),
            strict: true,
            isolation: isolation::parse(isolation::DEFAULT).expect("the default parses"),
            launcher: None,
            cgroups_hierarchy: PathBuf::from("/sys/fs/cgroup"),
            cgroups_root: "rmesos".into(),
            cgroups_enable_cfs: false,
            cgroups_max_pids: crate::containerizer::mesos::DEFAULT_MAX_PIDS,
            switch_user: true,
            gc_delay: crate::gc::DEFAULT_GC_DELAY,
            gc_disk_headroom: crate::gc::DEFAULT_GC_DISK_HEADROOM,
            disk_watch_interval: crate::gc::DEFAULT_DISK_WATCH_INTERVAL,
            credential: None,
            authentication_backoff_factor: Duration::from_secs(1),
            authentication_timeout_min: Duration::from_secs(5),
            fetcher_cache_dir: work_dir_fetch,
            fetcher_cache_size: crate::fetcher::DEFAULT_CACHE_SIZE,
            fetcher_stall_timeout: crate::fetcher::DEFAULT_STALL_TIMEOUT,
            fetcher_max_size: crate::fetcher::DEFAULT_MAX_SIZE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
        Flags::try_parse_from(std::iter::once("rmesos-slave").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_mesos_defaults() {
        let f = parse(&["--master", "127.0.0.1:5050", "--work_dir", "/tmp/w"]).unwrap();
        assert_eq!(f.port, 5051);
        assert_eq!(f.executor_registration_timeout, Duration::from_secs(60));
        assert_eq!(f.executor_shutdown_grace_period, Duration::from_secs(5));
        assert_eq!(f.registration_backoff_factor, Duration::from_secs(1));
        assert!(f.resources.is_none() && f.attributes.is_empty());
        assert_eq!(f.recover_mode(), RecoverMode::Reconnect);
        assert_eq!(f.recovery_timeout, Duration::from_secs(900));
        assert_eq!(f.executor_reregistration_timeout, Duration::from_secs(2));
        assert!(f.strict);
        assert_eq!(f.isolation.to_string(), "posix/cpu,posix/mem");
        assert_eq!(
            (f.launcher, f.cgroups_hierarchy.to_str(), f.cgroups_root.as_str()),
            (None, Some("/sys/fs/cgroup"), "rmesos")
        );
        assert!(!f.cgroups_enable_cfs && f.switch_user);
        assert_eq!(f.gc_delay, Duration::from_secs(7 * 24 * 3600));
        assert_eq!((f.gc_disk_headroom, f.disk_watch_interval), (0.1, Duration::from_secs(60)));
        assert_eq!(f.fetcher_cache_dir, PathBuf::from("/tmp/mesos/fetch"));
        assert_eq!((f.fetcher_cache_size, f.fetcher_stall_timeout), (2 << 30, Duration::from_secs(60)));
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("100B"), Ok(100));
        assert_eq!(parse_bytes("0"), Ok(0));
        assert!(parse_bytes("2XB").is_err() && parse_bytes("GB").is_err());
        let f = parse(&["--master", "a:1", "--work_dir", "/w", "--recover", "cleanup", "--strict", "false"]).unwrap();
        assert_eq!(f.recover_mode(), RecoverMode::Cleanup);
        assert!(!f.strict);
        assert_eq!(parse(&["--master", "a:1", "--work_dir", "/w", "--recover", "x"]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn bad_values_are_one_line_usage_errors() {
        for (args, expected) in [
            (vec!["--master", "localhost", "--work_dir", "/w"], "has no port"),
            (vec!["--master", "zk://a:2181/", "--work_dir", "/w"], "ZooKeeper path"),
            (vec!["--master", "a:1", "--work_dir", "/w", "--resources", "cpus:x"], "cpus"),
            (vec!["--master", "a:1", "--work_dir", "/w", "--attributes", "rack"], "name:value"),
            (
                vec!["--master", "a:1", "--work_dir", "/w", "--isolation", "cgroups/cpu,gpu/nvidia"],
                "Unknown or unsupported isolator 'gpu/nvidia'",
            ),
            (vec!["--master", "a:1", "--work_dir", "/w", "--launcher", "docker"], "unknown launcher"),
            (vec!["--master", "a:1", "--work_dir", "/w", "--gc_disk_headroom", "1.5"], "between 0 and 1"),
        ] {
            let e = parse(&args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
            assert!(e.to_string().lines().next().unwrap().contains(expected), "{args:?}: {e}");
        }
        let e = parse(&["--master", "a:1"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--work_dir"), "--work_dir is required");
    }
}
