//! `rmesos-execute`: run a shell command as one task (or `--count` tasks) on
//! the cluster, print every state change with a timestamp, and exit with the
//! task's exit status (the first non-zero one of several tasks).
//!
//! The exit status comes from the final state: 0 for TASK_FINISHED, the `N`
//! of "exited with status N" in a TASK_FAILED message (the command executor
//! reports it so), and 1 for anything else (killed, lost, error...).

use std::sync::{Arc, Mutex};

use rmesos::scheduler::{DriverHandle, Scheduler};
use rmesos::{
    CommandInfo, Filters, FrameworkID, MasterInfo, Offer, Resources, TaskID, TaskInfo, TaskState, TaskStatus,
};

/// How long a declined offer stays away once every task is launched.
pub const DECLINE_WHEN_DONE_SECS: f64 = 60.0;

/// The process exit status a final task status stands for.
pub fn exit_status(status: &TaskStatus) -> i32 {
    match status.state {
        TaskState::Finished => 0,
        TaskState::Failed => status.message.as_deref().and_then(parse_exit_status).unwrap_or(1),
        _ => 1,
    }
}

/// The `N` of "... exited with status N ..." (any case), if in 1..=255
/// (0 would turn a failure into a success).
pub fn parse_exit_status(message: &str) -> Option<i32> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("exited with status")? + "exited with status".len();
    let digits: String = lower[at..].trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<i32>().ok().filter(|n| (1..=255).contains(n))
}

/// One printed line per state change.
pub fn state_line(timestamp: &str, status: &TaskStatus) -> String {
    let mut line = format!("{timestamp} {} {}", status.task_id, status.state);
    if let Some(slave) = &status.slave_id {
        line.push_str(&format!(" on {slave}"));
    }
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        line.push_str(&format!(": {m}"));
    }
    line
}

/// The task ids: `name` for one task, `name-1` .. `name-K` for several.
pub fn task_ids(name: &str, count: usize) -> Vec<String> {
    if count == 1 {
        vec![name.to_string()]
    } else {
        (1..=count).map(|i| format!("{name}-{i}")).collect()
    }
}

/// Launches the tasks on the first offers that fit them, then waits for
/// them all to end; the exit statuses land in `results`.
pub struct ExecuteScheduler {
    command: String,
    resources: Resources,
    pending: Vec<TaskID>,
    ids: Vec<TaskID>,
    results: Arc<Mutex<Vec<Option<i32>>>>,
}

impl ExecuteScheduler {
    /// `ids` must be valid task ids (see [`task_ids`]).
    pub fn new(command: String, resources: Resources, ids: Vec<TaskID>) -> ExecuteScheduler {
        let results = Arc::new(Mutex::new(vec![None; ids.len()]));
        let mut pending = ids.clone();
        pending.reverse();
        ExecuteScheduler { command, resources, pending, ids, results }
    }

    /// Exit statuses per task (None: not ended), shared with the caller.
    pub fn results(&self) -> Arc<Mutex<Vec<Option<i32>>>> {
        self.results.clone()
    }

    /// The program's exit status: the first non-zero task status, else 0;
    /// 1 if some task never ended.
    pub fn final_status(results: &[Option<i32>]) -> i32 {
        if results.iter().any(Option::is_none) {
            return 1;
        }
        results.iter().flatten().copied().find(|c| *c != 0).unwrap_or(0)
    }
}

impl Scheduler for ExecuteScheduler {
    fn registered(&mut self, _driver: &DriverHandle, id: &FrameworkID, master: &MasterInfo) {
        let pid = master.pid.as_deref().unwrap_or("?");
        println!("{} Registered as framework {id} with master {} at {pid}", crate::cli::wall_clock(), master.id);
    }

    fn reregistered(&mut self, _driver: &DriverHandle, master: &MasterInfo) {
        let pid = master.pid.as_deref().unwrap_or("?");
        println!("{} Reregistered with master {} at {pid}", crate::cli::wall_clock(), master.id);
    }

    fn disconnected(&mut self, _driver: &DriverHandle) {
        println!("{} Disconnected from the master; no offers until a master is detected", crate::cli::wall_clock());
    }

    fn slave_lost(&mut self, _driver: &DriverHandle, slave_id: &rmesos::SlaveID) {
        println!("{} Slave {slave_id} lost", crate::cli::wall_clock());
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            let mut left = offer.resources.clone();
            let mut tasks = Vec::new();
            while let Some(id) = self.pending.last() {
                let Some(rest) = left.checked_sub(&self.resources) else { break };
                left = rest;
                let task = TaskInfo::command(
                    id.as_str(),
                    id.clone(),
                    offer.slave_id.clone(),
                    self.resources.clone(),
                    CommandInfo::shell(self.command.clone()),
                );
                tasks.push(task);
                self.pending.pop();
            }
            if tasks.is_empty() {
                let refuse =
                    if self.pending.is_empty() { DECLINE_WHEN_DONE_SECS } else { Filters::default().refuse_seconds };
                driver.decline_offer(offer.id, Filters { refuse_seconds: refuse });
            } else {
                for t in &tasks {
                    println!(
                        "{} Launching {} on {} ({})",
                        crate::cli::wall_clock(),
                        t.task_id,
                        offer.hostname,
                        t.resources
                    );
                }
                driver.launch_tasks(vec![offer.id], tasks, Filters::default());
            }
        }
    }

    fn status_update(&mut self, driver: &DriverHandle, status: TaskStatus) {
        println!("{}", state_line(&crate::cli::wall_clock(), &status));
        if !status.state.is_terminal() {
            return;
        }
        let Some(i) = self.ids.iter().position(|id| *id == status.task_id) else { return };
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        if results[i].is_none() {
            results[i] = Some(exit_status(&status));
        }
        if results.iter().all(Option::is_some) {
            driver.stop(false);
        }
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        eprintln!("{} Framework error: {message}", crate::cli::wall_clock());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(state: TaskState, msg: Option<&str>) -> TaskStatus {
        let s = TaskStatus::new(TaskID::new("t").unwrap(), state);
        match msg {
            Some(m) => s.with_message(m),
            None => s,
        }
    }

    #[test]
    fn exit_status_from_final_states() {
        assert_eq!(exit_status(&st(TaskState::Finished, None)), 0);
        assert_eq!(exit_status(&st(TaskState::Failed, Some("Command exited with status 3"))), 3);
        assert_eq!(exit_status(&st(TaskState::Failed, Some("exited with status  42 (after 1s)"))), 42);
        assert_eq!(exit_status(&st(TaskState::Failed, Some("Command exited with status 0"))), 1);
        assert_eq!(exit_status(&st(TaskState::Failed, Some("killed by signal 9"))), 1);
        assert_eq!(exit_status(&st(TaskState::Failed, None)), 1);
        assert_eq!(exit_status(&st(TaskState::Lost, Some("exited with status 3"))), 1);
        assert_eq!(exit_status(&st(TaskState::Killed, None)), 1);
    }

    #[test]
    fn final_status_is_the_first_failure() {
        assert_eq!(ExecuteScheduler::final_status(&[Some(0), Some(0)]), 0);
        assert_eq!(ExecuteScheduler::final_status(&[Some(0), Some(4), Some(2)]), 4);
        assert_eq!(ExecuteScheduler::final_status(&[Some(0), None]), 1);
    }

    #[test]
    fn ids_and_lines() {
        assert_eq!(task_ids("echo", 1), vec!["echo"]);
        assert_eq!(task_ids("echo", 3), vec!["echo-1", "echo-2", "echo-3"]);
        let s = st(TaskState::Failed, Some("Command exited with status 3"))
            .with_slave_id(rmesos::SlaveID::new("S0").unwrap());
        assert_eq!(state_line("T", &s), "T t TASK_FAILED on S0: Command exited with status 3");
    }
}
