//! The runtime's one source of time: real, or paused for deterministic tests.
//!
//! Nothing else in libprocess (or in code built on it) reads the wall clock:
//! timers, timeouts and "now" all go through a [`Clock`]. A paused clock only
//! moves when a test calls [`Clock::advance`]; timers due in the window fire
//! in deadline order (ties in the order they were set), and the runtime is
//! settled after each one, so a timer set by a timer's callback inside the
//! window fires too. Advancing ten simulated minutes costs milliseconds.
//!
//! [`Clock::settle`] waits until no actor has queued work: every message queued
//! to an actor and every fired timer not yet observed holds a [`WorkGuard`],
//! and settle yields to the runtime until none is held. (libprocess's
//! Clock::settle waits the same way, on its run queue.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::ops::{Add, Sub};
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

/// Unix time (seconds) at the origin of every paused clock:
/// 2020-09-13T12:26:40Z, fixed so that simulated timestamps replay.
pub const PAUSED_UNIX_ORIGIN: f64 = 1_600_000_000.0;

/// A point in time on a clock: the time elapsed since the clock was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(Duration);

impl Time {
    /// Time since the clock's origin.
    pub fn since_origin(self) -> Duration {
        self.0
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(d))
    }
}

impl Sub<Time> for Time {
    type Output = Duration;
    fn sub(self, earlier: Time) -> Duration {
        self.saturating_since(earlier)
    }
}

/// A handle on a clock; clones share it.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    mode: Mode,
    /// Seconds since the Unix epoch at this clock's origin (see `unix_time`).
    unix_origin: f64,
    /// Work queued to actors (and fired timers) not yet processed.
    work: Arc<AtomicI64>,
}

enum Mode {
    // The one place the wall clock is read.
    Real { origin: tokio::time::Instant },
    Paused(Mutex<Paused>),
}

#[derive(Default)]
struct Paused {
    now: Duration,
    seq: u64,
    timers: BinaryHeap<Reverse<(Duration, u64)>>,
    wakers: std::collections::HashMap<u64, oneshot::Sender<WorkGuard>>,
}

/// Held while a unit of work is queued; `settle` waits until none is held.
/// Only a paused clock counts (a real clock hands out inert guards).
pub struct WorkGuard {
    work: Option<Arc<AtomicI64>>,
}

impl WorkGuard {
    fn none() -> WorkGuard {
        WorkGuard { work: None }
    }
}

impl Drop for WorkGuard {
    fn drop(&mut self) {
        if let Some(w) = &self.work {
            w.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Clock {
    /// A clock that follows real time.
    pub fn real() -> Clock {
        // The wall clock is read here, once, to date what people read
        // (status update timestamps, /state); timing uses `now`.
        let unix =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        Clock::with_mode(Mode::Real { origin: tokio::time::Instant::now() }, unix)
    }

    /// A clock stopped at time zero; it moves only by [`Clock::advance`].
    /// Its Unix time starts at [`PAUSED_UNIX_ORIGIN`], so runs replay exactly.
    pub fn paused() -> Clock {
        Clock::with_mode(Mode::Paused(Mutex::new(Paused::default())), PAUSED_UNIX_ORIGIN)
    }

    fn with_mode(mode: Mode, unix_origin: f64) -> Clock {
        Clock { inner: Arc::new(Inner { mode, unix_origin, work: Arc::new(AtomicI64::new(0)) }) }
    }

    /// Seconds since the Unix epoch on this clock: the wall-clock time of its
    /// origin plus `now()` (a fixed origin for paused clocks). For timestamps
    /// people read; never for timing.
    pub fn unix_time(&self) -> f64 {
        self.inner.unix_origin + self.now().since_origin().as_secs_f64()
    }

    pub fn is_paused(&self) -> bool {
        matches!(self.inner.mode, Mode::Paused(_))
    }

    /// The current time on this clock.
    pub fn now(&self) -> Time {
        match &self.inner.mode {
            Mode::Real { origin } => Time(origin.elapsed()),
            Mode::Paused(p) => Time(lock(p).now),
        }
    }

    /// A guard counting one unit of queued work (see [`Clock::settle`]).
    pub fn work(&self) -> WorkGuard {
        match self.inner.mode {
            Mode::Real { .. } => WorkGuard::none(),
            Mode::Paused(_) => {
                self.inner.work.fetch_add(1, Ordering::AcqRel);
                WorkGuard { work: Some(self.inner.work.clone()) }
            }
        }
    }

    /// Units of work queued and not yet processed (always 0 on a real clock).
    pub fn pending_work(&self) -> i64 {
        self.inner.work.load(Ordering::Acquire)
    }

    /// Completes after `d` on this clock.
    pub fn sleep(&self, d: Duration) -> Sleep {
        match &self.inner.mode {
            Mode::Real { .. } => Sleep::Real(Box::pin(tokio::time::sleep(d))),
            Mode::Paused(p) => {
                let mut p = lock(p);
                let (tx, rx) = oneshot::channel();
                let seq = p.seq;
                p.seq += 1;
                let deadline = p.now.saturating_add(d);
                p.timers.push(Reverse((deadline, seq)));
                p.wakers.insert(seq, tx);
                Sleep::Paused(rx)
            }
        }
    }

    /// Completes at time `t` on this clock (at once if `t` has passed).
    pub fn sleep_until(&self, t: Time) -> Sleep {
        self.sleep(t.saturating_since(self.now()))
    }

    /// Runs `fut` for at most `d` on this clock.
    pub async fn timeout<F: Future>(&self, d: Duration, fut: F) -> Result<F::Output, Elapsed> {
        tokio::select! {
            biased;
            out = fut => Ok(out),
            _ = self.sleep(d) => Err(Elapsed(d)),
        }
    }

    /// Moves a paused clock forward by `d`, firing the timers due on the way in
    /// order and settling after each. On a real clock this only logs a warning.
    pub async fn advance(&self, d: Duration) {
        let Mode::Paused(p) = &self.inner.mode else {
            tracing::warn!("Clock::advance called on a real clock; ignored");
            return;
        };
        let target = lock(p).now.saturating_add(d);
        loop {
            let fired = {
                let mut p = lock(p);
                match p.timers.peek() {
                    Some(Reverse((deadline, _))) if *deadline <= target => {
                        let deadline = *deadline;
                        p.now = p.now.max(deadline);
                        let mut fired = 0;
                        while let Some(Reverse((t, seq))) = p.timers.peek().copied() {
                            if t != deadline {
                                break;
                            }
                            p.timers.pop();
                            if let Some(tx) = p.wakers.remove(&seq) {
                                // A dropped receiver is a cancelled timer: no work.
                                if tx.send(self.work()).is_ok() {
                                    fired += 1;
                                }
                            }
                        }
                        Some(fired)
                    }
                    _ => {
                        p.now = target;
                        None
                    }
                }
            };
            self.settle().await;
            if fired.is_none() {
                return;
            }
        }
    }

    /// Returns once no actor has queued work and no fired timer is pending.
    /// Meaningful on a paused clock; on a real clock it yields a few times.
    pub async fn settle(&self) {
        // A few quiet rounds in a row: work started by a task that was woken
        // but not yet polled shows up within one round.
        const QUIET_ROUNDS: u32 = 3;
        let mut quiet = 0;
        while quiet < QUIET_ROUNDS {
            tokio::task::yield_now().await;
            if self.pending_work() == 0 {
                quiet += 1;
            } else {
                quiet = 0;
            }
        }
    }

    /// Deadline of the next timer of a paused clock (None if none or real).
    pub fn next_timer(&self) -> Option<Time> {
        match &self.inner.mode {
            Mode::Real { .. } => None,
            Mode::Paused(p) => {
                let mut p = lock(p);
                // Drop cancelled timers from the top so they do not count.
                while let Some(Reverse((_, seq))) = p.timers.peek().copied() {
                    if p.wakers.get(&seq).is_some_and(|tx| !tx.is_closed()) {
                        break;
                    }
                    p.timers.pop();
                    p.wakers.remove(&seq);
                }
                p.timers.peek().map(|Reverse((t, _))| Time(*t))
            }
        }
    }
}

fn lock(p: &Mutex<Paused>) -> std::sync::MutexGuard<'_, Paused> {
    // A panic while holding this lock cannot leave Paused inconsistent
    // (every update is a single push/pop), so a poisoned lock is still usable.
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// The timeout of [`Clock::timeout`] ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {0:?}")]
pub struct Elapsed(pub Duration);

/// Future returned by [`Clock::sleep`].
pub enum Sleep {
    Real(Pin<Box<tokio::time::Sleep>>),
    Paused(oneshot::Receiver<WorkGuard>),
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut() {
            Sleep::Real(s) => s.as_mut().poll(cx),
            Sleep::Paused(rx) => match Pin::new(rx).poll(cx) {
                // The guard drops here: the timer's work is now the caller's.
                Poll::Ready(_) => Poll::Ready(()),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    #[test]
    fn paused_timer_fires_only_when_advanced_past_it() {
        rt().block_on(async {
            let clock = Clock::paused();
            let fired = Arc::new(AtomicU32::new(0));
            let (c, f) = (clock.clone(), fired.clone());
            tokio::spawn(async move {
                c.sleep(Duration::from_secs(600)).await;
                f.fetch_add(1, Ordering::SeqCst);
            });
            clock.settle().await;
            clock.advance(Duration::from_secs(599)).await;
            assert_eq!(fired.load(Ordering::SeqCst), 0);
            assert_eq!(clock.now().since_origin(), Duration::from_secs(599));
            clock.advance(Duration::from_secs(1)).await;
            assert_eq!(fired.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn timers_set_by_timers_fire_within_the_window_in_order() {
        rt().block_on(async {
            let clock = Clock::paused();
            let log = Arc::new(Mutex::new(Vec::new()));
            let (c, l) = (clock.clone(), log.clone());
            tokio::spawn(async move {
                c.sleep(Duration::from_secs(1)).await;
                l.lock().unwrap().push(c.now().since_origin().as_secs());
                c.sleep(Duration::from_secs(1)).await;
                l.lock().unwrap().push(c.now().since_origin().as_secs());
            });
            let (c, l) = (clock.clone(), log.clone());
            tokio::spawn(async move {
                c.sleep(Duration::from_millis(1500)).await;
                l.lock().unwrap().push(100);
            });
            clock.settle().await;
            clock.advance(Duration::from_secs(10)).await;
            assert_eq!(*log.lock().unwrap(), vec![1, 100, 2]);
        });
    }

    #[test]
    fn timeout_and_next_timer() {
        rt().block_on(async {
            let clock = Clock::paused();
            let c = clock.clone();
            let h = tokio::spawn(async move { c.timeout(Duration::from_secs(5), std::future::pending::<()>()).await });
            clock.settle().await;
            assert_eq!(clock.next_timer(), Some(Time(Duration::from_secs(5))));
            clock.advance(Duration::from_secs(5)).await;
            assert_eq!(h.await.unwrap(), Err(Elapsed(Duration::from_secs(5))));
            assert_eq!(clock.next_timer(), None);
        });
    }
}
