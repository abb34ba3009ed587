//! Reading the checkpoint a previous run of the slave left under
//! `<work_dir>/meta` (layout in [`crate::paths`], written by
//! [`crate::checkpoint`]) into a [`RecoveredState`] for the core's
//! recovery ([`crate::core::recovery`]).
//!
//! A file that cannot be read or parsed (a crash cannot leave a half-written
//! one, writes are atomic; but disks and operators can) is a
//! [`RecoveryError`] naming the file. With `--strict=true` (the default, as
//! Mesos) it stops the slave at start: recovering half of the state could
//! lose tasks silently. With `--strict=false` the unreadable part (the
//! whole checkpoint, one framework, executor or task) is skipped with a
//! warning and the rest is recovered.

use std::io;
use std::path::{Path, PathBuf};

use libprocess::Upid;
use rmesos::ids::SlaveID;
use rmesos::info::{ExecutorInfo, FrameworkInfo, SlaveInfo};
use rmesos::messages::StatusUpdate;
use rmesos::task::Task;
use uuid::Uuid;

use crate::checkpoint::read_json;
use crate::core::{RecoveredExecutor, RecoveredFramework, RecoveredState, RecoveredTask};
use crate::paths;

/// A checkpoint file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot recover from {path}: {reason}")]
pub struct RecoveryError {
    pub path: PathBuf,
    pub reason: String,
}

fn err(path: &Path, reason: impl ToString) -> RecoveryError {
    RecoveryError { path: path.to_path_buf(), reason: reason.to_string() }
}

/// Reads the checkpoint of the latest slave on `work_dir`; `None` if there
/// is none (a fresh work dir, or one cleaned up).
pub fn read(work_dir: &Path, strict: bool) -> Result<Option<RecoveredState>, RecoveryError> {
    match read_slave(work_dir, strict) {
        Ok(state) => Ok(state),
        Err(e) if !strict => {
            tracing::warn!(error = %e, "Skipping the whole checkpoint (--strict=false): {e}");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// `Ok(Some)`, or: strict -> the error; not strict -> a warning and `None`.
fn lenient<T>(strict: bool, what: &str, r: Result<T, RecoveryError>) -> Result<Option<T>, RecoveryError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if strict => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "Skipping {what} (--strict=false): {e}");
            Ok(None)
        }
    }
}

/// An optional file: `None` if absent.
fn read_optional(path: &Path) -> Result<Option<String>, RecoveryError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err(path, e)),
    }
}

fn json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RecoveryError> {
    read_json(path).map_err(|e| err(path, e))
}

/// The subdirectories of `dir` (none if it does not exist).
fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, RecoveryError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| err(dir, e))?;
        if entry.file_type().map_err(|e| err(&entry.path(), e))?.is_dir() {
            out.push((entry.file_name().to_string_lossy().into_owned(), entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn read_slave(work_dir: &Path, strict: bool) -> Result<Option<RecoveredState>, RecoveryError> {
    let latest = paths::latest_slave(work_dir);
    let Some(id) = read_optional(&latest)? else { return Ok(None) };
    let sid = SlaveID::new(id).map_err(|e| err(&latest, e))?;
    let path = paths::slave_meta(work_dir, &sid).join("slave.info");
    let info: SlaveInfo = json(&path)?;
    if info.id.as_ref() != Some(&sid) {
        return Err(err(&path, format!("holds the info of slave {:?}, not {sid}", info.id)));
    }
    let mut frameworks = Vec::new();
    for (_, dir) in subdirs(&paths::slave_meta(work_dir, &sid).join("frameworks"))? {
        if let Some(f) = lenient(strict, "a framework", read_framework(&dir, strict))? {
            frameworks.push(f);
        }
    }
    Ok(Some(RecoveredState { info, frameworks }))
}

fn read_framework(dir: &Path, strict: bool) -> Result<RecoveredFramework, RecoveryError> {
    let info: FrameworkInfo = json(&dir.join("framework.info"))?;
    let pid_path = dir.join("framework.pid");
    let pid = match read_optional(&pid_path)? {
        Some(p) if !p.is_empty() => Some(p.parse::<Upid>().map_err(|e| err(&pid_path, e))?),
        _ => None,
    };
    let mut executors = Vec::new();
    for (_, edir) in subdirs(&dir.join("executors"))? {
        if let Some(e) = lenient(strict, "an executor", read_executor(&edir, strict))? {
            executors.push(e);
        }
    }
    Ok(RecoveredFramework { info, pid, executors })
}

fn read_executor(dir: &Path, strict: bool) -> Result<RecoveredExecutor, RecoveryError> {
    let info: ExecutorInfo = json(&dir.join("executor.info"))?;
    let latest = dir.join(paths::LATEST_RUN);
    let run = match read_optional(&latest)? {
        Some(r) => r.parse::<Uuid>().map_err(|e| err(&latest, e))?,
        None => {
            // Written before `latest` existed: the only run, if one.
            let runs = subdirs(&dir.join("runs"))?;
            match runs.as_slice() {
                [(name, p)] => name.parse::<Uuid>().map_err(|e| err(p, e))?,
                _ => return Err(err(&latest, "missing, and the executor has no single run")),
            }
        }
    };
    let run_dir = dir.join("runs").join(run.to_string());
    let forked = run_dir.join("pids").join("forked.pid");
    let forked_pid = match read_optional(&forked)? {
        Some(p) => Some(p.parse::<u32>().map_err(|e| err(&forked, e))?),
        None => None,
    };
    let lp = run_dir.join("pids").join("libprocess.pid");
    let pid = match read_optional(&lp)? {
        Some(p) => Some(p.parse::<Upid>().map_err(|e| err(&lp, e))?),
        None => None,
    };
    let mut tasks = Vec::new();
    for (_, tdir) in subdirs(&run_dir.join("tasks"))? {
        let r = (|| {
            let task: Task = json(&tdir.join("task.info"))?;
            let up = tdir.join("task.updates");
            let updates: Vec<StatusUpdate> = if up.exists() { json(&up)? } else { Vec::new() };
            Ok(RecoveredTask { task, updates })
        })();
        if let Some(t) = lenient(strict, "a task", r)? {
            tasks.push(t);
        }
    }
    Ok(RecoveredExecutor { info, run, forked_pid, pid, tasks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{apply, forked_pid, write_atomic};
    use crate::core::Checkpoint;
    use rmesos::ids::{ExecutorID, FrameworkID, TaskID};
    use rmesos::info::{CommandInfo, TaskInfo};
    use rmesos::task::{TaskState, TaskStatus};
    use rmesos::Resources;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A checkpoint with one framework, executor and task (RUNNING pending).
    fn written() -> (Dir, SlaveID) {
        let dir = Dir(std::env::temp_dir().join(format!("rmesos-recover-{}", Uuid::new_v4())));
        let w = &dir.0;
        let sid = SlaveID::new("m-S0").unwrap();
        let mut info = SlaveInfo::new("h", 5051, Default::default(), Default::default());
        info.id = Some(sid.clone());
        apply(w, None, &Checkpoint::Slave(info)).unwrap();
        let fid = FrameworkID::new("f").unwrap();
        let mut finfo = FrameworkInfo::new("u", "fw");
        finfo.id = Some(fid.clone());
        finfo.checkpoint = true;
        let pid: Upid = "scheduler(1)@127.0.0.1:1".parse().unwrap();
        apply(w, Some(&sid), &Checkpoint::Framework { info: finfo, pid: Some(pid) }).unwrap();
        let eid = ExecutorID::new("e").unwrap();
        let einfo = ExecutorInfo::new(eid.clone(), CommandInfo::shell("x"));
        let run = Uuid::from_u128(5);
        apply(w, Some(&sid), &Checkpoint::Executor { framework_id: fid.clone(), info: einfo, run }).unwrap();
        forked_pid(w, &sid, &fid, &eid, run, 4242).unwrap();
        let epid: Upid = "executor(1)@127.0.0.1:2".parse().unwrap();
        let c = Checkpoint::ExecutorPid { framework_id: fid.clone(), executor_id: eid.clone(), run, pid: epid };
        apply(w, Some(&sid), &c).unwrap();
        let tinfo = TaskInfo::command(
            "t",
            TaskID::new("t").unwrap(),
            sid.clone(),
            Resources::default(),
            CommandInfo::shell("x"),
        );
        let task = Task::new(&tinfo, fid.clone(), TaskState::Running);
        apply(w, Some(&sid), &Checkpoint::Task { executor_id: eid.clone(), run, task }).unwrap();
        let st = TaskStatus::new(TaskID::new("t").unwrap(), TaskState::Running);
        let u = StatusUpdate::new(fid.clone(), Some(eid.clone()), Some(sid.clone()), st, 1.0, Some(Uuid::from_u128(9)));
        let c = Checkpoint::Updates {
            executor_id: eid,
            run,
            framework_id: fid,
            task_id: TaskID::new("t").unwrap(),
            updates: vec![u],
        };
        apply(w, Some(&sid), &c).unwrap();
        (dir, sid)
    }

    #[test]
    fn nothing_checkpointed_is_none() {
        let dir = std::env::temp_dir().join(format!("rmesos-recover-none-{}", Uuid::new_v4()));
        assert!(read(&dir, true).unwrap().is_none());
    }

    #[test]
    fn reads_back_what_was_checkpointed() {
        let (dir, sid) = written();
        let s = read(&dir.0, true).unwrap().unwrap();
        assert_eq!(s.info.id, Some(sid));
        assert_eq!(s.frameworks.len(), 1);
        let f = &s.frameworks[0];
        assert_eq!(f.pid.as_ref().unwrap().to_string(), "scheduler(1)@127.0.0.1:1");
        let e = &f.executors[0];
        assert_eq!((e.run, e.forked_pid), (Uuid::from_u128(5), Some(4242)));
        assert_eq!(e.pid.as_ref().unwrap().to_string(), "executor(1)@127.0.0.1:2");
        assert_eq!(e.tasks.len(), 1);
        assert_eq!(e.tasks[0].task.state, TaskState::Running);
        assert_eq!(e.tasks[0].updates[0].uuid, Some(Uuid::from_u128(9)));
    }

    #[test]
    fn a_corrupt_file_is_an_error_when_strict_and_skipped_otherwise() {
        let (dir, sid) = written();
        let fid = FrameworkID::new("f").unwrap();
        let eid = ExecutorID::new("e").unwrap();
        let p = paths::executor_meta(&dir.0, &sid, &fid, &eid).join("executor.info");
        write_atomic(&p, b"{ not json").unwrap();
        let e = read(&dir.0, true).unwrap_err();
        assert_eq!(e.path, p);
        assert!(e.to_string().contains("executor.info"), "{e}");
        let s = read(&dir.0, false).unwrap().unwrap();
        assert_eq!(s.frameworks.len(), 1);
        assert!(s.frameworks[0].executors.is_empty(), "the bad executor is skipped");
        // A corrupt slave info: strict fails, lenient starts afresh.
        write_atomic(&paths::slave_meta(&dir.0, &sid).join("slave.info"), b"").unwrap();
        assert!(read(&dir.0, true).is_err());
        assert!(read(&dir.0, false).unwrap().is_none());
    }

    #[test]
    fn removed_slave_checkpoint_reads_as_none() {
        let (dir, sid) = written();
        apply(&dir.0, None, &Checkpoint::RemoveSlave(sid.clone())).unwrap();
        assert!(read(&dir.0, true).unwrap().is_none());
        assert!(!paths::slave_meta(&dir.0, &sid).exists());
    }
}
