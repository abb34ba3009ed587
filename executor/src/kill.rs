//! When the command executor escalates a kill, decided without I/O or a
//! clock read (Mesos's command executor): SIGTERM at the first kill, SIGKILL
//! once the grace period is over. The grace is the kill's own
//! `kill_policy`, else the task's, else [`DEFAULT_GRACE_PERIOD`]; on a
//! shutdown it is also bounded by the slave's
//! `--executor_shutdown_grace_period` (which kills the whole executor
//! then anyway). A later kill may bring SIGKILL forward, never back.

use std::time::Duration;

use libprocess::Time;
use rmesos::info::KillPolicy;

/// Between SIGTERM and SIGKILL when neither the kill nor the task says
/// (Mesos's command executor: 3 s).
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(3);

/// The grace period of a kill.
pub fn grace_period(kill: Option<&KillPolicy>, task: Option<&KillPolicy>) -> Duration {
    kill.or(task).and_then(|p| p.grace_period).map(|g| g.duration()).unwrap_or(DEFAULT_GRACE_PERIOD)
}

/// The grace period of a shutdown: the task's, within the slave's grace.
pub fn shutdown_grace_period(task: Option<&KillPolicy>, shutdown: Duration) -> Duration {
    grace_period(None, task).min(shutdown)
}

/// What a kill makes the executor do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// SIGTERM now (and TASK_KILLING first, for frameworks that know it).
    pub terminate: bool,
    /// (Re)arm the SIGKILL for this time.
    pub escalate_at: Option<Time>,
}

/// A task's kill, from the first kill on.
#[derive(Debug, Default, Clone)]
pub struct Kill {
    escalate_at: Option<Time>,
}

impl Kill {
    pub fn is_killing(&self) -> bool {
        self.escalate_at.is_some()
    }

    /// A kill with grace `grace` arrives at `now`.
    pub fn kill(&mut self, now: Time, grace: Duration) -> Step {
        let at = now + grace;
        match self.escalate_at {
            None => {
                self.escalate_at = Some(at);
                Step { terminate: true, escalate_at: Some(at) }
            }
            Some(old) if at < old => {
                self.escalate_at = Some(at);
                Step { terminate: false, escalate_at: Some(at) }
            }
            Some(_) => Step { terminate: false, escalate_at: None },
        }
    }

    /// The SIGKILL timer armed for `at` fired: whether to SIGKILL (only the
    /// latest armed time counts; an earlier timer that was moved is stale).
    pub fn escalate(&self, at: Time) -> bool {
        self.escalate_at == Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> Time {
        Time::default() + Duration::from_secs(secs)
    }

    #[test]
    fn the_kill_s_policy_then_the_task_s_then_three_seconds() {
        let five = KillPolicy::grace(Duration::from_secs(5));
        let one = KillPolicy::grace(Duration::from_secs(1));
        assert_eq!(grace_period(Some(&one), Some(&five)), Duration::from_secs(1));
        assert_eq!(grace_period(None, Some(&five)), Duration::from_secs(5));
        assert_eq!(grace_period(None, None), DEFAULT_GRACE_PERIOD);
        assert_eq!(grace_period(Some(&KillPolicy::default()), None), DEFAULT_GRACE_PERIOD);
        assert_eq!(shutdown_grace_period(Some(&five), Duration::from_secs(2)), Duration::from_secs(2));
        assert_eq!(shutdown_grace_period(None, Duration::from_secs(5)), DEFAULT_GRACE_PERIOD);
    }

    #[test]
    fn sigterm_once_and_sigkill_only_brought_forward() {
        let mut k = Kill::default();
        assert!(!k.is_killing());
        assert_eq!(k.kill(t(10), Duration::from_secs(5)), Step { terminate: true, escalate_at: Some(t(15)) });
        assert!(k.is_killing());
        // A later, longer kill changes nothing.
        assert_eq!(k.kill(t(11), Duration::from_secs(30)), Step { terminate: false, escalate_at: None });
        // A shorter one brings SIGKILL forward; the old timer is stale.
        assert_eq!(k.kill(t(12), Duration::from_secs(1)), Step { terminate: false, escalate_at: Some(t(13)) });
        assert!(!k.escalate(t(15)));
        assert!(k.escalate(t(13)));
    }
}
