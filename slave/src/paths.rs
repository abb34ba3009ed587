//! Where things live under `--work_dir`, as Mesos lays them out:
//!
//! ```text
//! <work_dir>/slaves/<slave_id>/frameworks/<fid>/executors/<eid>/runs/<run>   sandbox (stdout, stderr)
//! <work_dir>/meta/slaves/latest                                              id of the latest slave
//! <work_dir>/meta/slaves/<slave_id>/slave.info                               SlaveInfo (JSON)
//! <work_dir>/meta/slaves/<slave_id>/frameworks/<fid>/framework.info          FrameworkInfo + scheduler pid
//! <work_dir>/meta/.../frameworks/<fid>/executors/<eid>/executor.info         ExecutorInfo
//! <work_dir>/meta/.../frameworks/<fid>/executors/<eid>/latest                id of its latest run
//! <work_dir>/meta/.../executors/<eid>/runs/<run>/pids/forked.pid             OS pid of the executor
//! <work_dir>/meta/.../executors/<eid>/runs/<run>/pids/libprocess.pid         Upid of its driver
//! <work_dir>/meta/.../runs/<run>/tasks/<tid>/task.info                       Task
//! <work_dir>/meta/.../runs/<run>/tasks/<tid>/task.updates                    unacknowledged updates
//! ```
//!
//! Only sandboxes (under `<work_dir>/slaves`) are served by `/files/read`;
//! the checkpoint under `<work_dir>/meta` is not. Ids are validated by rmesos
//! (no `/`, no `..`), so joining them cannot leave these trees.

use std::path::{Path, PathBuf};

use rmesos::ids::{ExecutorID, FrameworkID, SlaveID, TaskID};
use uuid::Uuid;

/// File naming an executor's latest run (in its meta directory).
pub const LATEST_RUN: &str = "latest";

/// The root of every sandbox.
pub fn sandboxes_root(work_dir: &Path) -> PathBuf {
    work_dir.join("slaves")
}

/// The sandboxes of one framework (every executor and run of it).
pub fn framework_sandbox(work_dir: &Path, sid: &SlaveID, fid: &FrameworkID) -> PathBuf {
    sandboxes_root(work_dir).join(sid.as_str()).join("frameworks").join(fid.as_str())
}

/// The sandbox of one executor run.
pub fn sandbox(work_dir: &Path, sid: &SlaveID, fid: &FrameworkID, eid: &ExecutorID, run: Uuid) -> PathBuf {
    sandboxes_root(work_dir)
        .join(sid.as_str())
        .join("frameworks")
        .join(fid.as_str())
        .join("executors")
        .join(eid.as_str())
        .join("runs")
        .join(run.to_string())
}

/// The checkpoint root.
pub fn meta_root(work_dir: &Path) -> PathBuf {
    work_dir.join("meta")
}

pub fn latest_slave(work_dir: &Path) -> PathBuf {
    meta_root(work_dir).join("slaves").join("latest")
}

pub fn slave_meta(work_dir: &Path, sid: &SlaveID) -> PathBuf {
    meta_root(work_dir).join("slaves").join(sid.as_str())
}

pub fn framework_meta(work_dir: &Path, sid: &SlaveID, fid: &FrameworkID) -> PathBuf {
    slave_meta(work_dir, sid).join("frameworks").join(fid.as_str())
}

pub fn executor_meta(work_dir: &Path, sid: &SlaveID, fid: &FrameworkID, eid: &ExecutorID) -> PathBuf {
    framework_meta(work_dir, sid, fid).join("executors").join(eid.as_str())
}

pub fn run_meta(work_dir: &Path, sid: &SlaveID, fid: &FrameworkID, eid: &ExecutorID, run: Uuid) -> PathBuf {
    executor_meta(work_dir, sid, fid, eid).join("runs").join(run.to_string())
}

pub fn task_meta(
    work_dir: &Path,
    sid: &SlaveID,
    fid: &FrameworkID,
    eid: &ExecutorID,
    run: Uuid,
    tid: &TaskID,
) -> PathBuf {
    run_meta(work_dir, sid, fid, eid, run).join("tasks").join(tid.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_follows_the_mesos_layout() {
        let p = sandbox(
            Path::new("/w"),
            &SlaveID::new("m-S0").unwrap(),
            &FrameworkID::new("m-0000").unwrap(),
            &ExecutorID::new("t1").unwrap(),
            Uuid::from_u128(0),
        );
        assert_eq!(
            p,
            Path::new("/w/slaves/m-S0/frameworks/m-0000/executors/t1/runs/00000000-0000-0000-0000-000000000000")
        );
        assert!(task_meta(
            Path::new("/w"),
            &SlaveID::new("s").unwrap(),
            &FrameworkID::new("f").unwrap(),
            &ExecutorID::new("e").unwrap(),
            Uuid::from_u128(1),
            &TaskID::new("t").unwrap()
        )
        .starts_with("/w/meta/slaves/s/frameworks/f/executors/e/runs/"));
    }
}
