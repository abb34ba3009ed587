//! Writing the slave's checkpoint under `<work_dir>/meta` (layout in
//! [`crate::paths`]): JSON files written atomically (a temporary file in the
//! same directory, then `rename`), so a crash leaves the old or the new
//! version, never half of one. Files are not fsynced: they survive a slave
//! process crash or restart (what recovery needs), not a machine crash.
//!
//! A restarted slave reads them back ([`recover`]). Only frameworks with
//! `checkpoint` set are written (the core decides); an executor's and a
//! framework's directories are removed once they are over.
//!
//! Everything about the checkpoint is in this folder: writing (here) and
//! reading back (`recover.rs`), with the layout in [`crate::paths`].

use std::io;
use std::path::{Path, PathBuf};

use rmesos::ids::SlaveID;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::core::Checkpoint;
use crate::paths;

pub mod recover;

/// Writes `value` as JSON to `path` atomically.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` atomically (temporary file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("checkpoint path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Reads a JSON checkpoint file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<T> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Performs one checkpoint action of the core for slave `sid`.
pub fn apply(work_dir: &Path, sid: Option<&SlaveID>, c: &Checkpoint) -> io::Result<()> {
    if let Checkpoint::Slave(info) = c {
        let id = info.id.as_ref().ok_or_else(|| io::Error::other("slave info without id"))?;
        write_json(&paths::slave_meta(work_dir, id).join("slave.info"), info)?;
        return write_atomic(&paths::latest_slave(work_dir), id.as_str().as_bytes());
    }
    if let Checkpoint::RemoveSlave(old) = c {
        remove_dir(&paths::slave_meta(work_dir, old))?;
        return match std::fs::remove_file(paths::latest_slave(work_dir)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let sid = sid.ok_or_else(|| io::Error::other("checkpoint before registration"))?;
    match c {
        Checkpoint::Slave(_) => Ok(()),
        Checkpoint::Framework { info, pid } => {
            let fid = info.id.as_ref().ok_or_else(|| io::Error::other("framework info without id"))?;
            let dir = paths::framework_meta(work_dir, sid, fid);
            write_json(&dir.join("framework.info"), info)?;
            write_atomic(&dir.join("framework.pid"), pid.as_ref().map(|p| p.to_string()).unwrap_or_default().as_bytes())
        }
        Checkpoint::Executor { framework_id, info, run } => {
            let dir = paths::executor_meta(work_dir, sid, framework_id, &info.executor_id);
            write_json(&dir.join("executor.info"), info)?;
            std::fs::create_dir_all(paths::run_meta(work_dir, sid, framework_id, &info.executor_id, *run))?;
            write_atomic(&dir.join(paths::LATEST_RUN), run.to_string().as_bytes())
        }
        Checkpoint::ExecutorPid { framework_id, executor_id, run, pid } => {
            let dir = paths::run_meta(work_dir, sid, framework_id, executor_id, *run).join("pids");
            write_atomic(&dir.join("libprocess.pid"), pid.to_string().as_bytes())
        }
        Checkpoint::Task { executor_id, run, task } => {
            let dir = paths::task_meta(work_dir, sid, &task.framework_id, executor_id, *run, &task.task_id);
            write_json(&dir.join("task.info"), task)
        }
        Checkpoint::Updates { executor_id, run, framework_id, task_id, updates } => {
            let dir = paths::task_meta(work_dir, sid, framework_id, executor_id, *run, task_id);
            write_json(&dir.join("task.updates"), updates)
        }
        Checkpoint::RemoveExecutor { framework_id, executor_id } => {
            remove_dir(&paths::executor_meta(work_dir, sid, framework_id, executor_id))
        }
        Checkpoint::RemoveFramework { framework_id } => remove_dir(&paths::framework_meta(work_dir, sid, framework_id)),
        Checkpoint::RemoveSlave(_) => Ok(()),
    }
}

/// Removes a checkpoint directory (absent already is fine).
fn remove_dir(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Records the OS pid of a launched executor run.
pub fn forked_pid(
    work_dir: &Path,
    sid: &SlaveID,
    fid: &rmesos::FrameworkID,
    eid: &rmesos::ExecutorID,
    run: uuid::Uuid,
    pid: u32,
) -> io::Result<()> {
    let dir = paths::run_meta(work_dir, sid, fid, eid, run).join("pids");
    write_atomic(&dir.join("forked.pid"), pid.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmesos::{FrameworkID, SlaveInfo, StatusUpdate, TaskID, TaskState, TaskStatus};

    #[test]
    fn checkpoints_round_trip_atomically() {
        let dir = std::env::temp_dir().join(format!("rmesos-ckpt-{}", uuid::Uuid::new_v4()));
        let sid = SlaveID::new("m-S0").unwrap();
        let mut info = SlaveInfo::new("h", 5051, Default::default(), Default::default());
        info.id = Some(sid.clone());
        apply(&dir, None, &Checkpoint::Slave(info.clone())).unwrap();
        assert_eq!(std::fs::read_to_string(paths::latest_slave(&dir)).unwrap(), "m-S0");
        let back: SlaveInfo = read_json(&paths::slave_meta(&dir, &sid).join("slave.info")).unwrap();
        assert_eq!(back, info);
        let fid = FrameworkID::new("f").unwrap();
        let st = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Running);
        let u = StatusUpdate::new(fid.clone(), None, None, st, 1.0, Some(uuid::Uuid::from_u128(1)));
        let c = Checkpoint::Updates {
            executor_id: rmesos::ExecutorID::new("e").unwrap(),
            run: uuid::Uuid::from_u128(2),
            framework_id: fid.clone(),
            task_id: TaskID::new("t").unwrap(),
            updates: vec![u.clone()],
        };
        apply(&dir, Some(&sid), &c).unwrap();
        let p = paths::task_meta(
            &dir,
            &sid,
            &fid,
            &rmesos::ExecutorID::new("e").unwrap(),
            uuid::Uuid::from_u128(2),
            &TaskID::new("t").unwrap(),
        )
        .join("task.updates");
        assert_eq!(read_json::<Vec<StatusUpdate>>(&p).unwrap(), vec![u]);
        assert!(!p.with_extension("updates.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
