//! What the command executor makes of its task's health check and check
//! results, decided without I/O or a clock read (Mesos's health checker and
//! checker): failures before a first success are ignored during the grace
//! period (counted from launch); `healthy` is reported when it changes
//! (the first success included); `consecutive_failures` failures in a row
//! kill the task. A check ([`CheckState`]) only reports its status when
//! it changes. The times come from the caller (the libprocess clock), so
//! the tests step through them.

use std::time::Duration;

use libprocess::Time;
use rmesos::info::{CheckStatusInfo, HealthCheck};

/// One health check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Healthy,
    /// Failed (or timed out), and why.
    Unhealthy(String),
}

/// What to do after a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send TASK_RUNNING with `healthy` (REASON_TASK_HEALTH_CHECK_STATUS_UPDATED).
    Report { healthy: bool },
    /// Kill the task: it failed `consecutive_failures` checks in a row.
    Kill { message: String },
}

/// A task's health check state.
#[derive(Debug, Clone)]
pub struct HealthState {
    launched: Time,
    grace: Duration,
    max_failures: u32,
    failures: u32,
    healthy: Option<bool>,
    succeeded: bool,
    killed: bool,
}

impl HealthState {
    /// The state of `check` for a task launched at `launched`.
    pub fn new(check: &HealthCheck, launched: Time) -> HealthState {
        HealthState {
            launched,
            grace: check.grace_period(),
            max_failures: check.consecutive_failures().max(1),
            failures: 0,
            healthy: None,
            succeeded: false,
            killed: false,
        }
    }

    /// Whether the task was killed for failing (no more checks).
    pub fn killed(&self) -> bool {
        self.killed
    }

    /// A result at `now`.
    pub fn result(&mut self, now: Time, outcome: Outcome) -> Vec<Action> {
        if self.killed {
            return vec![];
        }
        let mut out = Vec::new();
        match outcome {
            Outcome::Healthy => {
                self.succeeded = true;
                self.failures = 0;
                if self.healthy != Some(true) {
                    self.healthy = Some(true);
                    out.push(Action::Report { healthy: true });
                }
            }
            Outcome::Unhealthy(why) => {
                if !self.succeeded && now.saturating_since(self.launched) < self.grace {
                    tracing::info!("Ignoring a failed health check within the grace period: {why}");
                    return out;
                }
                self.failures += 1;
                if self.healthy != Some(false) {
                    self.healthy = Some(false);
                    out.push(Action::Report { healthy: false });
                }
                if self.failures >= self.max_failures {
                    self.killed = true;
                    out.push(Action::Kill {
                        message: format!("Task failed {} consecutive health checks: {why}", self.failures),
                    });
                }
            }
        }
        out
    }
}

/// A task's check (`TaskInfo.check`): the last status reported.
#[derive(Debug, Clone, Default)]
pub struct CheckState {
    last: Option<CheckStatusInfo>,
}

impl CheckState {
    /// A result: the status to report if it changed.
    pub fn result(&mut self, status: CheckStatusInfo) -> Option<CheckStatusInfo> {
        if self.last.as_ref() == Some(&status) {
            return None;
        }
        self.last = Some(status.clone());
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmesos::info::{CheckType, TcpCheckStatus};

    fn at(s: u64) -> Time {
        Time::default() + Duration::from_secs(s)
    }

    fn bad() -> Outcome {
        Outcome::Unhealthy("connection refused".into())
    }

    #[test]
    fn changes_are_reported_and_three_failures_kill() {
        // Mesos's defaults: grace 10 s, 3 failures.
        let mut h = HealthState::new(&HealthCheck::default(), at(0));
        assert_eq!(h.result(at(15), Outcome::Healthy), vec![Action::Report { healthy: true }]);
        assert_eq!(h.result(at(25), Outcome::Healthy), vec![], "no change, no update");
        assert_eq!(h.result(at(35), bad()), vec![Action::Report { healthy: false }]);
        assert_eq!(h.result(at(45), bad()), vec![]);
        assert_eq!(
            h.result(at(55), Outcome::Healthy),
            vec![Action::Report { healthy: true }],
            "a success resets the count"
        );
        assert_eq!(h.result(at(65), bad()), vec![Action::Report { healthy: false }]);
        assert_eq!(h.result(at(75), bad()), vec![]);
        let a = h.result(at(85), bad());
        assert!(
            matches!(&a[..], [Action::Kill { message }] if message.contains("3 consecutive health checks")),
            "{a:?}"
        );
        assert!(h.killed());
        assert_eq!(h.result(at(95), bad()), vec![], "nothing after the kill");
    }

    #[test]
    fn failures_in_the_grace_period_before_a_success_are_ignored() {
        let check =
            HealthCheck { grace_period_seconds: Some(30.0), consecutive_failures: Some(1), ..Default::default() };
        let mut h = HealthState::new(&check, at(100));
        assert_eq!(h.result(at(110), bad()), vec![], "within grace");
        assert_eq!(h.result(at(129), bad()), vec![]);
        let a = h.result(at(130), bad());
        assert_eq!(a.len(), 2, "the grace is over: unhealthy, and one failure kills: {a:?}");
        // Once it succeeded, the grace no longer applies.
        let mut h = HealthState::new(&check, at(0));
        h.result(at(1), Outcome::Healthy);
        assert!(matches!(h.result(at(2), bad()).last(), Some(Action::Kill { .. })));
    }

    #[test]
    fn checks_report_only_changes() {
        let tcp = |ok| CheckStatusInfo {
            kind: Some(CheckType::Tcp),
            tcp: Some(TcpCheckStatus { succeeded: Some(ok) }),
            ..Default::default()
        };
        let mut c = CheckState::default();
        assert_eq!(c.result(tcp(true)), Some(tcp(true)));
        assert_eq!(c.result(tcp(true)), None);
        assert_eq!(c.result(tcp(false)), Some(tcp(false)));
    }
}
