//! The default executor of a [`SimCluster`](crate::SimCluster): an
//! in-process executor that runs each task as its `data` says, so a
//! framework's test chooses how its tasks behave without an OS process:
//!
//! - none, or `finish`: TASK_RUNNING, then TASK_FINISHED at once;
//! - `sleep:<seconds>`: TASK_RUNNING, then TASK_FINISHED after that much
//!   simulated time (unless killed first);
//! - `fail`: TASK_RUNNING, then TASK_FAILED;
//! - `run`: TASK_RUNNING, then runs until killed.
//!
//! A kill is answered TASK_KILLED; a shutdown kills every task and ends
//! the executor (once its updates are acknowledged, within a minute).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use rmesos::executor::{Executor, ExecutorDriver};
use rmesos::{TaskID, TaskInfo, TaskState, TaskStatus};

/// How long a finishing executor waits for its updates to be acknowledged.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// See the module doc.
#[derive(Default)]
pub struct TaskExecutor {
    /// Tasks running (ended ones removed).
    running: Rc<RefCell<Vec<TaskID>>>,
}

/// What a task's `data` asks for.
#[derive(Debug, PartialEq)]
enum Script {
    Finish,
    Sleep(Duration),
    Fail,
    Run,
}

fn script(data: Option<&[u8]>) -> Result<Script, String> {
    let text = std::str::from_utf8(data.unwrap_or(b"finish")).map_err(|_| "task data is not UTF-8".to_string())?;
    match text {
        "" | "finish" => Ok(Script::Finish),
        "fail" => Ok(Script::Fail),
        "run" => Ok(Script::Run),
        _ => match text.strip_prefix("sleep:").map(str::parse::<f64>) {
            Some(Ok(s)) if s.is_finite() && s >= 0.0 => Ok(Script::Sleep(Duration::from_secs_f64(s))),
            _ => Err(format!("task data {text:?}: expected finish, sleep:<seconds>, fail or run")),
        },
    }
}

fn update(driver: &ExecutorDriver, id: &TaskID, state: TaskState) {
    let _ = driver.send_status_update(TaskStatus::new(id.clone(), state));
}

impl Executor for TaskExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let id = task.task_id.clone();
        let script = match script(task.data.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                let _ = driver.send_status_update(TaskStatus::new(id, TaskState::Failed).with_message(e));
                return;
            }
        };
        update(driver, &id, TaskState::Running);
        match script {
            Script::Finish => update(driver, &id, TaskState::Finished),
            Script::Fail => update(driver, &id, TaskState::Failed),
            Script::Run => self.running.borrow_mut().push(id),
            Script::Sleep(d) => {
                self.running.borrow_mut().push(id.clone());
                let (driver, running) = (driver.clone(), self.running.clone());
                actix_rt::spawn(async move {
                    driver.clock().sleep(d).await;
                    if running.borrow().contains(&id) {
                        running.borrow_mut().retain(|t| *t != id);
                        update(&driver, &id, TaskState::Finished);
                    }
                });
            }
        }
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskID) {
        self.running.borrow_mut().retain(|t| t != task_id);
        update(driver, task_id, TaskState::Killed);
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        let ids = std::mem::take(&mut *self.running.borrow_mut());
        for id in &ids {
            update(driver, id, TaskState::Killed);
        }
        let driver = driver.clone();
        actix_rt::spawn(async move {
            driver.flush(FLUSH_TIMEOUT).await;
            driver.stop();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_data_scripts_the_task() {
        assert_eq!(script(None), Ok(Script::Finish));
        assert_eq!(script(Some(b"finish")), Ok(Script::Finish));
        assert_eq!(script(Some(b"fail")), Ok(Script::Fail));
        assert_eq!(script(Some(b"run")), Ok(Script::Run));
        assert_eq!(script(Some(b"sleep:2.5")), Ok(Script::Sleep(Duration::from_millis(2500))));
        assert!(script(Some(b"sleep:-1")).is_err());
        assert!(script(Some(b"sleep:x")).is_err());
        assert!(script(Some(b"dance")).is_err());
        assert!(script(Some(&[0xff])).is_err());
    }
}
