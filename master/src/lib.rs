//! The rmesos master (binary `rmesos-master`): admits slaves and frameworks,
//! offers the slaves' resources to frameworks by Dominant Resource Fairness,
//! validates launches, routes tasks, status updates and framework messages,
//! health-checks slaves, and serves `/state`, `/health`,
//! `/metrics/snapshot`, `/redirect` and Mesos's other read endpoints (docs/endpoints.md).
//!
//! - [`flags`]: the command line (Mesos's flag names and defaults);
//! - [`allocator`]: the DRF allocator, a pure core;
//! - [`core`]: the master's state machine, a pure core;
//! - [`process`]: the libprocess process around the core (id `master`);
//! - [`leader`]: leadership through ZooKeeper (its machine a pure core);
//! - [`auth`]: authentication of frameworks and slaves (CRAM-MD5), the gate
//!   in front of the core;
//! - `http`: the operator endpoints;
//! - [`webui`]: the web UI at `/` (assets embedded in the binary).
//!
//! Starting a master in-process (what `rmesos-local` does):
//!
//! ```ignore
//! let flags = rmesos_master::Flags::defaults();           // or parsed ones
//! let master = rmesos_master::start(&flags).await?;        // binds its own node
//! println!("master at {}", master.pid);
//! // or, on a node you already have (e.g. a paused clock in tests):
//! let master = rmesos_master::spawn(&node, rmesos_master::MasterOptions::default())?;
//! ```
//!
//! With `--zk`, masters elect a leader through ZooKeeper ([`leader`]) and
//! keep the admitted slaves in a registry there ([`registry`]); embedded,
//! that is `MasterOptions { ha: Some(HaConfig { .. }), .. }` (any ZooKeeper
//! backend, e.g. the in-memory one in simulations).

pub mod allocator;
pub mod api;
pub mod auth;
pub mod core;
pub mod flags;
mod http;
pub mod leader;
pub mod process;
pub mod registry;
pub mod webui;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use libprocess::config::ConfigError;
use libprocess::{Node, NodeError, SpawnError, Upid};
use rmesos::auth::http_basic::HttpAuth;
use rmesos::auth::{Acls, Credentials};
use rmesos::detect::MASTER_ID;
use rmesos::ids::new_master_id;
use rmesos::MasterInfo;

pub use flags::Flags;
pub use leader::HaConfig;
pub use process::MasterProcess;

use crate::core::{CoreConfig, MasterCore};

/// What a master needs beyond its node (the flags' master-side part).
#[derive(Debug, Clone)]
pub struct MasterOptions {
    pub hostname: String,
    pub cluster: Option<String>,
    pub allocation_interval: Duration,
    pub agent_ping_timeout: Duration,
    pub max_agent_ping_timeouts: u32,
    pub agent_reregister_timeout: Duration,
    /// The master's id; `None` draws a fresh UUID (deterministic tests pass one).
    pub master_id: Option<String>,
    /// On lost leadership, exit the process (the binary) rather than shut
    /// the master's node down (embedded masters); see `leader.rs`.
    pub exit_on_lost_leadership: bool,
    /// Contend for leadership through ZooKeeper (`--zk`); `None`: a
    /// standalone master, leading from the start.
    pub ha: Option<HaConfig>,
    /// `--authenticate_frameworks`, `--authenticate_agents`.
    pub authenticate_frameworks: bool,
    pub authenticate_agents: bool,
    /// `--credentials`, loaded (empty: every authentication errs).
    pub credentials: Credentials,
    pub authentication_timeout: Duration,
    /// HTTP Basic authentication of the endpoints (`--authenticate_http_*`,
    /// `--http_credentials`).
    pub http_auth: HttpAuth,
    /// `--acls`, parsed (default: everything permitted).
    pub acls: Acls,
    /// The flags the master started with, by name (`/flags`).
    pub flags: std::collections::BTreeMap<String, String>,
}

impl Default for MasterOptions {
    /// Mesos's defaults and the machine's hostname.
    fn default() -> MasterOptions {
        MasterOptions::from_flags(&Flags::defaults())
    }
}

impl MasterOptions {
    pub fn from_flags(f: &Flags) -> MasterOptions {
        MasterOptions {
            hostname: f.hostname.clone().or_else(flags::system_hostname).unwrap_or_else(|| "localhost".into()),
            cluster: f.cluster.clone(),
            allocation_interval: f.allocation_interval,
            agent_ping_timeout: f.agent_ping_timeout,
            max_agent_ping_timeouts: f.max_agent_ping_timeouts,
            agent_reregister_timeout: f.agent_reregister_timeout,
            master_id: None,
            exit_on_lost_leadership: false,
            ha: None,
            authenticate_frameworks: f.authenticate_frameworks,
            authenticate_agents: f.authenticate_agents,
            credentials: Credentials::default(),
            authentication_timeout: f.authentication_v0_timeout,
            http_auth: HttpAuth {
                readonly: f.authenticate_http_readonly,
                readwrite: f.authenticate_http_readwrite,
                frameworks: f.authenticate_http_frameworks,
                credentials: Credentials::default(),
            },
            acls: Acls::default(),
            flags: f.values(),
        }
    }

    /// As [`MasterOptions::from_flags`], with `--credentials` read (and the
    /// combination checked: authentication required needs credentials).
    pub fn load(f: &Flags) -> Result<MasterOptions, StartError> {
        let mut opts = MasterOptions::from_flags(f);
        if let Some(path) = &f.credentials {
            opts.credentials = Credentials::load(path).map_err(|e| StartError::Credentials(e.to_string()))?;
            tracing::info!("Loaded {} credential(s) from --credentials", opts.credentials.len());
        }
        if let Some(acls) = &f.acls {
            opts.acls = Acls::load(acls).map_err(|e| StartError::Acls(e.to_string()))?;
            tracing::info!("Loaded ACLs from --acls (permissive: {})", opts.acls.permissive);
        }
        if let Some(path) = &f.http_credentials {
            opts.http_auth.credentials =
                Credentials::load(path).map_err(|e| StartError::Credentials(format!("--http_credentials: {e}")))?;
        }
        let h = &opts.http_auth;
        if (h.readonly || h.readwrite || h.frameworks) && h.credentials.is_empty() {
            return Err(StartError::Credentials(
                "--authenticate_http_* need --http_credentials with at least one credential".into(),
            ));
        }
        if (f.authenticate_frameworks || f.authenticate_agents) && opts.credentials.is_empty() {
            return Err(StartError::Credentials(
                "--authenticate_frameworks / --authenticate_agents need --credentials with at least one credential"
                    .into(),
            ));
        }
        Ok(opts)
    }
}

/// A running master.
pub struct RunningMaster {
    /// The node it runs on (shut it down to stop the master).
    pub node: Node,
    /// `master@ip:port`.
    pub pid: Upid,
    /// The master's id (a UUID).
    pub id: String,
    pub addr: Addr<MasterProcess>,
    role: leader::RoleCell,
}

impl RunningMaster {
    /// The master's role now, read without a message: `Standby` once its
    /// process is gone (stopped, crashed, or ended after losing leadership).
    pub fn role(&self) -> leader::Role {
        if self.addr.connected() {
            self.role.get()
        } else {
            leader::Role::Standby
        }
    }

    /// Stops the master gracefully: it stops acting at once, leaves the
    /// election (its znode deleted, so the next master leads within
    /// milliseconds; bounded by [`leader::WITHDRAW_TIMEOUT`]), then its node
    /// shuts down.
    pub async fn stop(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.addr.send(leader::Withdraw(tx)).await.is_ok()
            && self.node.clock().timeout(leader::WITHDRAW_TIMEOUT, rx).await.is_err()
        {
            tracing::warn!("withdraw not confirmed within {:?}; stopping anyway", leader::WITHDRAW_TIMEOUT);
        }
        self.node.shutdown();
    }
}

/// Why a master could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("--zk: {0}")]
    ZkUrl(#[from] libprocess::zookeeper::ZkUrlError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error("cannot create --work_dir {path}: {source}")]
    WorkDir { path: PathBuf, source: std::io::Error },
    #[error("--acls: {0}")]
    Acls(String),
    #[error("--credentials: {0}")]
    Credentials(String),
}

/// Binds a node as the flags say (flags over `LIBPROCESS_*`), on the real
/// clock, and starts a master on it: standalone, or a contender for
/// leadership through ZooKeeper with `--zk`. Must run inside an actix system.
pub async fn start(flags: &Flags) -> Result<RunningMaster, StartError> {
    let ha = match &flags.zk {
        Some(url) => Some(HaConfig {
            backend: Arc::new(libprocess::zookeeper::RealZk::new()),
            url: url.parse()?,
            session_timeout: flags.zk_session_timeout,
        }),
        None => None,
    };
    if let Some(dir) = &flags.work_dir {
        std::fs::create_dir_all(dir).map_err(|source| StartError::WorkDir { path: dir.clone(), source })?;
    }
    // A master started from flags owns its process: it exits on lost
    // leadership, as Mesos's does.
    let opts = MasterOptions { exit_on_lost_leadership: true, ha, ..MasterOptions::load(flags)? };
    let config = flags.libprocess_config(|k| std::env::var(k).ok())?;
    let node = Node::bind(config).await?;
    spawn(&node, opts).inspect_err(|_| node.shutdown())
}

/// Starts a master (process id `master`) on `node` and makes it the node's
/// default HTTP process (so `/state` works): standalone, or with
/// `opts.ha` a contender for leadership through ZooKeeper (processes
/// `master`, `contender`, `detector`) that serves once elected (see
/// [`leader`]). Must run inside an actix system.
pub fn spawn(node: &Node, mut opts: MasterOptions) -> Result<RunningMaster, StartError> {
    let ha = opts.ha.take();
    let id = opts.master_id.clone().unwrap_or_else(new_master_id);
    let pid = node.pid(MASTER_ID).map_err(SpawnError::from)?;
    let info = MasterInfo::new(&id, &pid, Some(opts.hostname.clone()), Some(env!("CARGO_PKG_VERSION").to_string()));
    // Timestamps people and frameworks read (status updates, /state) are the
    // clock's Unix time; all timing uses the clock itself.
    let epoch_base = node.clock().unix_time() - node.clock().now().since_origin().as_secs_f64();
    let core = MasterCore::new(CoreConfig {
        master_id: id.clone(),
        info,
        agent_ping_timeout: opts.agent_ping_timeout,
        max_agent_ping_timeouts: opts.max_agent_ping_timeouts,
        agent_reregister_timeout: opts.agent_reregister_timeout,
        epoch_base,
        acls: opts.acls.clone(),
    });
    let hostname = opts.hostname.clone();
    let elected = match &ha {
        Some(ha) => Some(leader::start(node, &pid, ha, core.info())?),
        None => None,
    };
    let standalone = elected.is_none();
    let mut role = None;
    let spawned = node.spawn(MASTER_ID, |me| {
        let p = MasterProcess::new(me, core, opts);
        let p = match elected {
            Some((ha, registry)) => p.with_ha(ha, registry),
            None => p,
        };
        role = Some(p.ha().role_cell());
        p
    })?;
    let role = role.unwrap_or_default();
    node.set_default_http(MASTER_ID);
    tracing::info!("Master {id} ({hostname}) started on {}", pid.addr());
    if standalone {
        tracing::info!("The master's pid is {pid}; no --zk given: standalone");
        tracing::info!("Elected as the leading master!");
    } else {
        tracing::info!("The master's pid is {pid}; contending for leadership through ZooKeeper");
    }
    Ok(RunningMaster { node: node.clone(), pid: spawned.pid, id, addr: spawned.addr, role })
}
