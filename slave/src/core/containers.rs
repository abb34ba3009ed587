//! The core's decisions about containers (pure, like the rest of the
//! core): what a container's resources are, which user it runs as, when
//! its limits change, and what a limit it hit does to its tasks.
//!
//! - Resources: the executor's own plus those of its tasks not yet
//!   terminal (Mesos's `allocatedResources`); the command executor adds
//!   Mesos's overhead of [`COMMAND_EXECUTOR_CPUS`] and
//!   [`COMMAND_EXECUTOR_MEM_MB`] (the master does not count it, as in
//!   Mesos). A task added to or ending in an executor is an
//!   [`Action::Update`] with the new sum.
//! - User (`--switch_user`, default true): `CommandInfo.user`, else
//!   `FrameworkInfo.user`; with `--switch_user=false`, none (the slave's).
//! - Limitation (e.g. an OOM kill, told by the containerizer): the
//!   container is killed, and its tasks end `TASK_FAILED` from
//!   `SOURCE_SLAVE` with the limitation's reason and message, including a
//!   terminal update the executor itself sends after the kernel killed its
//!   task (the executor only saw a signal; the slave knows why).

use rmesos::ids::{ExecutorID, FrameworkID};
use rmesos::info::{CommandInfo, FrameworkInfo};
use rmesos::task::{Reason, Source, TaskState};
use rmesos::{Resources, StatusUpdate};
use uuid::Uuid;

use super::state::{Executor, Termination};
use super::{Action, Now, SlaveCore};

/// The command executor's own cpus (Mesos's `DEFAULT_EXECUTOR_CPUS`).
pub const COMMAND_EXECUTOR_CPUS: f64 = 0.1;
/// The command executor's own memory in MB (Mesos's `DEFAULT_EXECUTOR_MEM`).
pub const COMMAND_EXECUTOR_MEM_MB: f64 = 32.0;

/// The container's resources: executor + live tasks (see the module doc).
pub fn container_resources(e: &Executor) -> Resources {
    let mut r = e.info.resources.clone();
    if e.command_executor {
        r.add(&command_executor_overhead());
    }
    for t in e.queued.values() {
        r.add(&t.resources);
    }
    for t in e.launched.values() {
        r.add(&t.resources);
    }
    r
}

pub fn command_executor_overhead() -> Resources {
    Resources::new()
        .with_scalar("cpus", COMMAND_EXECUTOR_CPUS)
        .and_then(|r| r.with_scalar("mem", COMMAND_EXECUTOR_MEM_MB))
        .expect("valid constants")
}

/// The user a container runs as (None: the slave's own).
pub fn launch_user(switch_user: bool, framework: &FrameworkInfo, command: &CommandInfo) -> Option<String> {
    if !switch_user {
        return None;
    }
    command.user.clone().filter(|u| !u.is_empty()).or_else(|| Some(framework.user.clone()).filter(|u| !u.is_empty()))
}

/// Whether a termination is a container limitation (its reason is one of
/// Mesos's `REASON_CONTAINER_LIMITATION*`).
pub fn is_limitation(t: &Termination) -> bool {
    matches!(
        t.reason,
        Reason::ContainerLimitation | Reason::ContainerLimitationMemory | Reason::ContainerLimitationDisk
    )
}

impl SlaveCore {
    /// The run of executor `eid` (what the shell asks its containerizer about).
    pub fn run_of(&self, fid: &FrameworkID, eid: &ExecutorID) -> Option<Uuid> {
        self.frameworks.get(fid)?.executors.get(eid).map(|e| e.run)
    }

    /// The containerizer found that run `run` hit a limit: its tasks fail
    /// with `reason` and `message`, and it is killed (once).
    pub fn container_limited(
        &mut self,
        fid: &FrameworkID,
        eid: &ExecutorID,
        run: Uuid,
        reason: Reason,
        message: &str,
        now: Now,
    ) -> Vec<Action> {
        let _ = now;
        let Some(e) = self.executor_mut(fid, eid) else { return self.take() };
        if e.run != run || e.termination.as_ref().is_some_and(is_limitation) {
            return self.take();
        }
        tracing::warn!(executor = %eid, framework = %fid, "Container of executor '{eid}' of framework {fid} hit a limit: {message}");
        e.termination = Some(Termination { state: TaskState::Failed, reason, message: message.to_string() });
        self.push(Action::Kill { framework_id: fid.clone(), executor_id: eid.clone(), run });
        self.take()
    }

    /// A terminal update an executor sends after its container hit a
    /// limit becomes the limitation's (see the module doc).
    pub(super) fn limited(&self, fid: &FrameworkID, eid: &ExecutorID, mut update: StatusUpdate) -> StatusUpdate {
        let Some(e) = self.frameworks.get(fid).and_then(|f| f.executors.get(eid)) else { return update };
        let Some(t) = e.termination.as_ref().filter(|t| is_limitation(t)) else { return update };
        if update.status.state.is_terminal() {
            update.status.state = t.state;
            update.status.reason = Some(t.reason);
            update.status.message = Some(t.message.clone());
            update.status.source = Some(Source::Slave);
        }
        update
    }

    /// The container's limits follow its tasks: an update with the new sum.
    pub(super) fn update_container(&mut self, fid: &FrameworkID, eid: &ExecutorID) {
        let Some(e) = self.frameworks.get(fid).and_then(|f| f.executors.get(eid)) else { return };
        let (run, resources) = (e.run, container_resources(e));
        self.push(Action::Update { framework_id: fid.clone(), executor_id: eid.clone(), run, resources });
    }
}

#[cfg(test)]
mod tests {
    use rmesos::messages::*;
    use rmesos::task::{Reason, Source, TaskState};
    use rmesos::Resources;

    use super::super::tests::*;
    use super::super::Action;
    use super::*;

    #[test]
    fn the_launch_carries_the_container_resources_and_user() {
        let mut c = registered();
        let mut task = command_task("true");
        task.resources = Resources::parse("cpus:0.5;mem:64").unwrap();
        task.command.as_mut().unwrap().user = Some("alice".into());
        let a = c.run_task(&master(), RunTaskMessage { framework: framework(), task, pid: None }, now(2));
        let l = a.iter().find_map(|a| if let Action::Launch(l) = a { Some(l.clone()) } else { None }).unwrap();
        assert!((l.resources.cpus() - 0.6).abs() < 1e-9, "task + the command executor's 0.1: {}", l.resources);
        assert!((l.resources.mem() - 96.0).abs() < 1e-9, "task + the command executor's 32 MB: {}", l.resources);
        assert_eq!(l.user.as_deref(), Some("alice"), "CommandInfo.user first");
    }

    #[test]
    fn the_user_is_the_command_s_then_the_framework_s_unless_switch_user_is_off() {
        let mut cmd = CommandInfo::shell("true");
        let fw = FrameworkInfo::new("fwuser", "f");
        assert_eq!(launch_user(true, &fw, &cmd).as_deref(), Some("fwuser"));
        cmd.user = Some("bob".into());
        assert_eq!(launch_user(true, &fw, &cmd).as_deref(), Some("bob"));
        assert_eq!(launch_user(false, &fw, &cmd), None);
        let nobody = FrameworkInfo::new("", "f");
        assert_eq!(launch_user(true, &nobody, &CommandInfo::shell("x")), None);
    }

    #[test]
    fn a_task_with_zero_resources_is_an_error_not_a_container() {
        let mut c = registered();
        let mut task = command_task("true");
        task.resources = Resources::parse("cpus:0;mem:0").unwrap_or_default();
        let a = c.run_task(&master(), RunTaskMessage { framework: framework(), task, pid: None }, now(2));
        assert!(!a.iter().any(|a| matches!(a, Action::Launch(_))), "nothing is launched");
        let u = updates_to_master(&a).pop().expect("an update");
        assert_eq!((u.status.state, u.status.reason), (TaskState::Error, Some(Reason::TaskInvalid)));
        assert!(u.status.message.unwrap_or_default().contains("resources"), "a clear message");
    }

    #[test]
    fn a_terminal_task_shrinks_the_container() {
        let (mut c, run) = running_task();
        let a = c.status_update(&exec_pid(), executor_update(TaskState::Finished, 1), now(4));
        let update = a.iter().find_map(|a| match a {
            Action::Update { run: r, resources, .. } if *r == run => Some(resources.clone()),
            _ => None,
        });
        let left = update.expect("an update of the container");
        assert!((left.cpus() - COMMAND_EXECUTOR_CPUS).abs() < 1e-9, "only the executor's own: {left}");
    }

    #[test]
    fn a_limitation_fails_the_tasks_even_when_the_executor_reports_first() {
        let (mut c, run) = running_task();
        let a = c.container_limited(
            &fid(),
            &eid(),
            run,
            Reason::ContainerLimitationMemory,
            "Memory limit exceeded",
            now(4),
        );
        assert!(a.iter().any(|a| matches!(a, Action::Kill { run: r, .. } if *r == run)));
        // Told twice (the poll and the exit), killed once.
        let again = c.container_limited(&fid(), &eid(), run, Reason::ContainerLimitationMemory, "x", now(4));
        assert!(again.is_empty());
        // The executor saw its task killed by a signal and says FAILED.
        let a = c.status_update(&exec_pid(), executor_update(TaskState::Failed, 9), now(5));
        let u = updates_to_master(&a).pop().expect("forwarded");
        assert_eq!(u.status.state, TaskState::Failed);
        assert_eq!(u.status.reason, Some(Reason::ContainerLimitationMemory));
        assert_eq!(u.status.source, Some(Source::Slave));
        assert_eq!(u.status.message.as_deref(), Some("Memory limit exceeded"));
        // A non-terminal update is left as it is.
        let (mut c2, run2) = running_task();
        c2.container_limited(&fid(), &eid(), run2, Reason::ContainerLimitationMemory, "m", now(4));
        let a = c2.status_update(&exec_pid(), executor_update(TaskState::Running, 3), now(5));
        let u = updates_to_master(&a).pop().expect("forwarded");
        assert_eq!((u.status.state, u.status.reason), (TaskState::Running, None));
    }
}
