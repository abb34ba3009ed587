//! Finding the leading master from `--master`, in the four forms every
//! rmesos binary accepts (rmesos's `MasterSpec`): `host:port` and
//! `ip:port` (a standby answers `/redirect` with the leader, which is then
//! used), `zk://host:port,.../path` (the lowest `json.info_<seq>` member's
//! MasterInfo, Mesos's layout, read once), or a file holding one of those.

use std::time::Duration;

use libprocess::zookeeper::{Backend, RealZk, ZkUrl};
use rmesos::info::MasterInfo;
use rmesos::MasterSpec;

use crate::http::{self, Error};

/// Time to reach ZooKeeper and read the group.
pub const ZK_TIMEOUT: Duration = Duration::from_secs(10);

/// The leading master's `ip:port`.
pub async fn find(master: &str) -> Result<String, Error> {
    let spec = MasterSpec::parse(master).map_err(|e| Error::Input(format!("--master: {e}")))?;
    match spec {
        MasterSpec::Standalone { .. } => {
            let pid = spec.resolve().map_err(|e| Error::Input(format!("--master: {e}")))?;
            let addr = pid.addr().to_string();
            let a = http::request(&addr, "GET", "/redirect", None).await?;
            match a.location.as_deref().and_then(|l| l.strip_prefix("http://")) {
                Some(leader) if a.status == 307 => Ok(leader.trim_end_matches('/').to_string()),
                _ if a.status == 503 => Err(Error::Unreachable(format!("{addr} knows no leading master"))),
                _ => Ok(addr),
            }
        }
        MasterSpec::ZooKeeper(url) => {
            let url: ZkUrl = url.parse().map_err(|e| Error::Input(format!("--master: {e}")))?;
            match tokio::time::timeout(ZK_TIMEOUT, from_zk(&url)).await {
                Ok(r) => r,
                Err(_) => Err(Error::Unreachable(format!(
                    "ZooKeeper {}: no answer within {ZK_TIMEOUT:?}",
                    url.connect_string()
                ))),
            }
        }
    }
}

async fn from_zk(url: &ZkUrl) -> Result<String, Error> {
    let zk = url.connect_string();
    let unreachable = |e: &dyn std::fmt::Display| Error::Unreachable(format!("ZooKeeper {zk}: {e}"));
    let session = RealZk::new().connect(url, ZK_TIMEOUT).await.map_err(|e| unreachable(&e))?;
    let (children, _watch) = session.get_children_watch(&url.path).await.map_err(|e| unreachable(&e))?;
    let label = format!("{}_", rmesos::detect_zk::MASTER_LABEL);
    let leader = children
        .iter()
        .filter_map(|c| c.strip_prefix(&label).and_then(|seq| seq.parse::<u64>().ok()).map(|seq| (seq, c)))
        .min()
        .ok_or_else(|| Error::Unreachable(format!("no master in ZooKeeper {zk}{}", url.path)))?;
    let path = format!("{}/{}", url.path, leader.1);
    let data = session
        .get_data(&path)
        .await
        .map_err(|e| unreachable(&e))?
        .ok_or_else(|| Error::Unreachable(format!("the leader's znode {path} vanished")))?;
    let info = std::str::from_utf8(&data)
        .map_err(|e| Error::Bad(format!("{path}: {e}")))
        .and_then(|s| MasterInfo::from_json(s).map_err(|e| Error::Bad(format!("{path}: {e}"))))?;
    let pid = info.pid().map_err(|e| Error::Bad(format!("{path}: {e}")))?;
    Ok(pid.addr().to_string())
}
