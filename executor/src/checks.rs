//! The task's health check and check, run by the command executor on the
//! driver's clock (paused in simulations): after `delay_seconds`, one
//! probe ([`crate::probe`]) every `interval_seconds` (counted from the end
//! of the previous one), each within `timeout_seconds`, while the task
//! runs. Results go through the pure [`crate::health`] states: a change of
//! health is a TASK_RUNNING update with `healthy` and
//! REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, a check's new status one with
//! `check_status` and REASON_TASK_CHECK_STATUS_UPDATED; too many failed
//! health checks kill the task with its own kill policy.

use std::sync::atomic::Ordering;

use rmesos::executor::ExecutorDriver;
use rmesos::task::Reason;
use rmesos::{TaskID, TaskInfo, TaskState, TaskStatus};

use crate::health::{Action, CheckState, HealthState};
use crate::probe::Probe;
use crate::{kill, Killer};

fn send(driver: &ExecutorDriver, st: TaskStatus) {
    if let Err(e) = driver.send_status_update(st) {
        tracing::error!(error = %e, "cannot send status update");
    }
}

fn running(id: &TaskID, reason: Reason) -> TaskStatus {
    TaskStatus::new(id.clone(), TaskState::Running).with_reason(reason)
}

/// Starts the task's health check and check, if it has them.
pub(crate) fn start(driver: &ExecutorDriver, task: &TaskInfo, killer: Killer) {
    let id = task.task_id.clone();
    if let Some(h) = task.health_check.clone() {
        match Probe::of_health_check(&h) {
            Err(e) => tracing::warn!(task = %id, "Not health checking the task: {e}"),
            Ok(probe) => {
                let (driver, killer, id) = (driver.clone(), killer.clone(), id.clone());
                let grace = kill::grace_period(None, task.kill_policy.as_ref());
                actix_rt::spawn(async move {
                    let clock = driver.clock().clone();
                    let mut state = HealthState::new(&h, clock.now());
                    clock.sleep(h.delay()).await;
                    while killer.group.is_running() && !killer.killed.load(Ordering::SeqCst) {
                        let seen = probe.run(h.timeout(), &clock).await;
                        if !killer.group.is_running() || killer.killed.load(Ordering::SeqCst) {
                            break;
                        }
                        for a in state.result(clock.now(), seen.outcome()) {
                            match a {
                                Action::Report { healthy } => {
                                    tracing::info!(task = %id, healthy, "Task health changed: {seen:?}");
                                    let mut st = running(&id, Reason::TaskHealthCheckStatusUpdated);
                                    st.healthy = Some(healthy);
                                    send(&driver, st);
                                }
                                Action::Kill { message } => {
                                    tracing::warn!(task = %id, "{message}; killing the task");
                                    killer.unhealthy.store(true, Ordering::SeqCst);
                                    killer.kill(&driver, &id, grace);
                                }
                            }
                        }
                        if state.killed() {
                            break;
                        }
                        clock.sleep(h.interval()).await;
                    }
                });
            }
        }
    }
    if let Some(c) = task.check.clone() {
        match Probe::of_check(&c) {
            Err(e) => tracing::warn!(task = %id, "Not checking the task: {e}"),
            Ok(probe) => {
                let driver = driver.clone();
                actix_rt::spawn(async move {
                    let clock = driver.clock().clone();
                    let mut state = CheckState::default();
                    clock.sleep(c.delay()).await;
                    while killer.group.is_running() && !killer.killed.load(Ordering::SeqCst) {
                        let seen = probe.run(c.timeout(), &clock).await;
                        if !killer.group.is_running() {
                            break;
                        }
                        if let Some(status) = state.result(seen.check_status(&probe)) {
                            let mut st = running(&id, Reason::TaskCheckStatusUpdated);
                            st.check_status = Some(status);
                            send(&driver, st);
                        }
                        clock.sleep(c.interval()).await;
                    }
                });
            }
        }
    }
}
