//! `rmesos-local`: a whole cluster in one process, a master and
//! `--num_slaves` slaves, each on a node of its own (the slaves on any free
//! port), each slave with its own work directory `<work_dir>/slaves/<i>`
//! and the same `--resources`.
//!
//! The command executor: slaves start `rmesos-executor` from
//! `--launcher_dir`. Without that flag rmesos-local uses its own directory
//! when `rmesos-executor` is there (a `cargo build --workspace` puts it
//! there); otherwise it serves as the command executor itself: it links
//! `<work_dir>/bin/rmesos-executor` to its own binary, and a binary started
//! under the name `rmesos-executor` runs the command executor
//! ([`is_command_executor`]). So `cargo run -p rmesos-examples --bin
//! rmesos-local` works on a fresh clone, with nothing else built.
//!
//! Stopping (Ctrl+C or SIGTERM) stops every slave, killing every executor
//! it started, then the master.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use rmesos::{MasterSpec, Resources};

/// Most slaves one rmesos-local runs.
pub const MAX_SLAVES: u32 = 64;

/// What each slave offers by default: a small share of a machine, so that
/// several slaves on one machine do not each claim all of it.
pub const DEFAULT_RESOURCES: &str = "cpus:2;mem:1024;disk:4096;ports:[31000-32000]";

/// The flags of `rmesos-local`.
#[derive(Parser, Debug, Clone)]
#[command(name = "rmesos-local", version, rename_all = "snake_case")]
#[command(about = "Runs an rmesos cluster in one process: a master and N slaves. Ctrl+C stops it and kills its tasks.")]
pub struct Flags {
    /// IP address the master and the slaves listen on.
    #[arg(long, env = "RMESOS_IP", default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// The master's port (0: any free port; the slaves always take free ones).
    #[arg(long, env = "RMESOS_PORT", default_value_t = rmesos::info::DEFAULT_MASTER_PORT)]
    pub port: u16,
    /// Number of slaves.
    #[arg(long, env = "RMESOS_NUM_SLAVES", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=MAX_SLAVES as i64))]
    pub num_slaves: u32,
    /// Work directory: `master/`, `slaves/<i>/` for each slave [default: a fresh directory under the system's temp dir]
    #[arg(long, env = "RMESOS_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Resources each slave offers.
    #[arg(long, env = "RMESOS_RESOURCES", default_value = DEFAULT_RESOURCES)]
    pub resources: Resources,
    /// Directory holding `rmesos-executor` [default: this binary's directory if it is there, else this binary serves as the command executor]
    #[arg(long, env = "RMESOS_LAUNCHER_DIR")]
    pub launcher_dir: Option<PathBuf>,
}

/// True if this process was started under the name `rmesos-executor`
/// (by a slave of rmesos-local, through the link of [`launcher_dir`]).
pub fn is_command_executor(argv0: &str) -> bool {
    Path::new(argv0).file_name().is_some_and(|n| n == rmesos_slave::COMMAND_EXECUTOR)
}

/// The slaves' launcher directory (see the module doc). `own_exe` is this
/// binary; the link, if needed, goes under `work_dir/bin`.
pub fn launcher_dir(given: Option<&Path>, own_exe: &Path, work_dir: &Path) -> std::io::Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = own_exe.parent().filter(|d| d.join(rmesos_slave::COMMAND_EXECUTOR).is_file()) {
        return Ok(dir.to_path_buf());
    }
    let bin = work_dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let link = bin.join(rmesos_slave::COMMAND_EXECUTOR);
    if std::fs::symlink_metadata(&link).is_ok() {
        std::fs::remove_file(&link)?;
    }
    std::os::unix::fs::symlink(own_exe, &link)?;
    Ok(bin)
}

/// A fresh work directory under the system's temp dir.
pub fn fresh_work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("rmesos-local-{}", uuid::Uuid::new_v4()))
}

/// A running local cluster.
pub struct Cluster {
    pub master: rmesos_master::RunningMaster,
    pub slaves: Vec<rmesos_slave::Slave>,
    pub work_dir: PathBuf,
}

impl Cluster {
    /// The line rmesos-local prints once everything runs.
    pub fn banner(&self) -> String {
        let addr = self.master.pid.addr();
        format!(
            "rmesos-local: master {}, {} slaves; state at http://{addr}/state; work_dir {}",
            self.master.pid,
            self.slaves.len(),
            self.work_dir.display()
        )
    }

    /// Stops every slave (killing its executors), then the master.
    pub async fn stop(self) {
        for slave in &self.slaves {
            slave.stop(true).await;
        }
        self.master.node.shutdown();
    }
}

/// Starts the master, then the slaves (a failure stops what started).
/// Must run inside an actix system.
pub async fn start(flags: &Flags, work_dir: PathBuf, launcher_dir: PathBuf) -> Result<Cluster, String> {
    let mut mflags = rmesos_master::Flags::defaults();
    mflags.ip = Some(flags.ip);
    mflags.port = Some(flags.port);
    mflags.work_dir = Some(work_dir.join("master"));
    let master = rmesos_master::start(&mflags).await.map_err(|e| format!("cannot start the master: {e}"))?;
    let spec = MasterSpec::Standalone { host: flags.ip.to_string(), port: master.pid.addr().port() };
    let mut slaves = Vec::new();
    for i in 0..flags.num_slaves {
        let mut sflags = rmesos_slave::Flags::local(
            spec.clone(),
            work_dir.join("slaves").join(i.to_string()),
            Some(flags.resources.clone()),
        );
        sflags.ip = Some(flags.ip);
        sflags.launcher_dir = Some(launcher_dir.clone());
        match rmesos_slave::start(sflags).await {
            Ok(s) => slaves.push(s),
            Err(e) => {
                let started = Cluster { master, slaves, work_dir };
                started.stop().await;
                return Err(format!("cannot start slave {i}: {e}"));
            }
        }
    }
    Ok(Cluster { master, slaves, work_dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
        Flags::try_parse_from(std::iter::once("rmesos-local").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_and_bad_values() {
        let f = parse(&[]).unwrap();
        assert_eq!((f.ip.to_string(), f.port, f.num_slaves), ("127.0.0.1".to_string(), 5050, 2));
        assert_eq!(f.resources, Resources::parse(DEFAULT_RESOURCES).unwrap());
        for args in
            [&["--num_slaves", "0"][..], &["--resources", "cpus:x"], &["--ip", "localhost"], &["--port", "70000"]]
        {
            assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn executor_name_and_launcher_dir() {
        assert!(is_command_executor("rmesos-executor"));
        assert!(is_command_executor("/a/b/rmesos-executor"));
        assert!(!is_command_executor("/a/b/rmesos-local"));
        let dir = fresh_work_dir();
        let exe_dir = dir.join("exe");
        std::fs::create_dir_all(&exe_dir).unwrap();
        let exe = exe_dir.join("rmesos-local");
        std::fs::write(&exe, "").unwrap();
        // Given: used as is.
        assert_eq!(launcher_dir(Some(Path::new("/x")), &exe, &dir).unwrap(), PathBuf::from("/x"));
        // No rmesos-executor beside us: a link to ourselves under work_dir/bin (twice: replaced).
        for _ in 0..2 {
            let bin = launcher_dir(None, &exe, &dir).unwrap();
            assert_eq!(bin, dir.join("bin"));
            assert_eq!(std::fs::read_link(bin.join("rmesos-executor")).unwrap(), exe);
        }
        // rmesos-executor beside us: that directory.
        std::fs::write(exe_dir.join("rmesos-executor"), "").unwrap();
        assert_eq!(launcher_dir(None, &exe, &dir).unwrap(), exe_dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
