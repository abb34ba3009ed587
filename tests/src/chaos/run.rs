//! One chaos run: build the cluster on a seeded [`Sim`], start the
//! redispatch workload, then step the world one instant at a time
//! (wherever simulated time stops: a frame, a timer, a fault, a restart),
//! injecting faults, restarting what ended, and checking the invariants
//! after every step, until every task has finished.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use libprocess::testkit::Sim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rmesos_examples::redispatch::Outcome;

use super::cluster::Cluster;
use super::faults::{Counts, Injector};
use super::invariants::{check_end, Checker};

/// Simulated time during which faults are injected: 10 minutes (the
/// workload of 500 tasks takes ~7 under faults). Then they stop, and the
/// workload must finish within [`DEFAULT_LIMIT`].
pub const DEFAULT_CHAOS_TIME: Duration = Duration::from_secs(600);
/// Simulated time a run may take after the faults stopped before it fails
/// as stuck: 1 hour (a new leader waits `--agent_reregister_timeout`, 10
/// minutes, for slaves that do not come back).
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(3600);
/// Steps in a row at one instant before the run fails as spinning.
const MAX_STEPS_PER_INSTANT: u32 = 100_000;
/// Runs of the framework (it is rerun after a framework error) before the
/// run fails as unable to finish.
const MAX_FRAMEWORK_RUNS: u32 = 50;
/// Trace lines shown with a failure.
const TAIL: usize = 40;

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Tasks in the redispatch workload.
    pub tasks: usize,
    /// Simulated time during which faults are injected.
    pub chaos_time: Duration,
    /// Simulated time after the faults stopped until which an unfinished
    /// run fails.
    pub limit: Duration,
    /// Write the run's trace (its last `MAX_TRACE_LINES` lines) here at
    /// the end, whatever the outcome: to compare two runs, or read one.
    pub trace_out: Option<std::path::PathBuf>,
}

impl Config {
    pub fn new(seed: u64, tasks: usize) -> Config {
        Config { seed, tasks, chaos_time: DEFAULT_CHAOS_TIME, limit: DEFAULT_LIMIT, trace_out: None }
    }
}

/// How a run that kept every invariant went.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub seed: u64,
    pub tasks: usize,
    pub faults: Counts,
    /// Times a task went back to pending after a failure report.
    pub redispatches: u32,
    /// Tasks launched in executors (attempts that reached one).
    pub launched: u64,
    /// Processes the supervisor restarted after they ended by themselves.
    pub restarts: u32,
    /// Runs of the framework (1, plus one per rerun after a framework error).
    pub framework_runs: u32,
    pub leader_changes: u32,
    /// FINISHED updates delivered again (at-least-once delivery).
    pub redeliveries: u64,
    pub sim_time: Duration,
    pub steps: u64,
    pub trace_len: u64,
    pub trace_hash: u64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} ok: tasks {} finished, faults {}, re-dispatches {}, launches {}, self-restarts {}, framework runs {}, \
             leaders {}, redelivered {}, simulated {:.1}s, steps {}, trace {} events hash {:016x}",
            self.seed,
            self.tasks,
            self.faults,
            self.redispatches,
            self.launched,
            self.restarts,
            self.framework_runs,
            self.leader_changes,
            self.redeliveries,
            self.sim_time.as_secs_f64(),
            self.steps,
            self.trace_len,
            self.trace_hash
        )
    }
}

/// A broken invariant.
#[derive(Clone, Debug)]
pub struct Failure {
    pub seed: u64,
    pub tasks: usize,
    /// Simulated time of the failing step.
    pub at: Duration,
    pub step: u64,
    pub what: String,
    pub faults: Counts,
    /// The last lines of the trace.
    pub tail: Vec<String>,
}

impl Failure {
    /// How to run this seed again.
    pub fn replay(&self) -> String {
        format!(
            "RMESOS_SEED={} RMESOS_CHAOS_TASKS={} cargo test -p rmesos-tests --test chaos replay -- --ignored \
             --nocapture   (or: rmesos-chaos --seed {} --seeds 1 --tasks {})",
            self.seed, self.tasks, self.seed, self.tasks
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed {} FAILED at {:.3}s (step {}): {}", self.seed, self.at.as_secs_f64(), self.step, self.what)?;
        writeln!(f, "  faults so far: {}", self.faults)?;
        writeln!(f, "  last {} trace lines:", self.tail.len())?;
        for line in &self.tail {
            writeln!(f, "    {line}")?;
        }
        write!(f, "  replay: {}", self.replay())
    }
}

/// Runs one seed (inside an actix system: `actix_rt::System::new().block_on(run(&cfg))`).
pub async fn run(cfg: &Config) -> Result<Report, Failure> {
    let sim = Rc::new(Sim::builder().seed(cfg.seed).build());
    let out = run_on(&sim, cfg).await;
    if let Some(path) = &cfg.trace_out {
        let text: String = sim.trace().iter().map(|l| format!("{l}\n")).collect();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("rmesos chaos: cannot write the trace to {}: {e}", path.display());
        }
    }
    out
}

async fn run_on(sim: &Rc<Sim>, cfg: &Config) -> Result<Report, Failure> {
    // Separate generators for the fault plan and the task times, so that
    // neither shifts when the network draws more or fewer latencies.
    let mut seeds = ChaCha8Rng::seed_from_u64(cfg.seed);
    let faults = ChaCha8Rng::seed_from_u64(seeds.gen());
    let times = ChaCha8Rng::seed_from_u64(seeds.gen());
    let mut c = Cluster::new(sim.clone(), times);
    for i in 0..c.masters.len() {
        c.start_master(i);
    }
    for i in 0..c.slaves.len() {
        c.start_slave(i);
    }
    c.start_scheduler(cfg.tasks).await;
    let start = sim.now();
    let mut injector = Injector::new(faults, start, cfg.chaos_time);
    let mut checker = Checker::default();
    let (mut restarts, mut same_instant) = (0, 0u32);
    let fail = |what: String, checker: &Checker, injector: &Injector| Failure {
        seed: cfg.seed,
        tasks: cfg.tasks,
        at: sim.now().saturating_since(start),
        step: checker.steps,
        what,
        faults: injector.counts.clone(),
        tail: sim.trace().iter().rev().take(TAIL).rev().cloned().collect(),
    };
    loop {
        let now = sim.now();
        if std::env::var_os("RMESOS_CHAOS_DEBUG").is_some() && checker.steps % 10_000 == 0 {
            eprintln!("chaos debug: step {} at {:?}, trace {}", checker.steps, now.since_origin(), sim.trace_len());
        }
        injector.act(now, &mut c);
        restarts += c.supervise(now);
        if c.supervise_framework(now).await && c.framework_runs > MAX_FRAMEWORK_RUNS {
            return Err(fail(format!("(c) the framework was run {MAX_FRAMEWORK_RUNS} times"), &checker, &injector));
        }
        sim.settle().await;
        if let Err(what) = checker.step(&c).await {
            return Err(fail(what, &checker, &injector));
        }
        match c.outcome() {
            Outcome::Done => break,
            Outcome::Running | Outcome::FrameworkError(_) => {}
            other => return Err(fail(format!("(c) the framework ended: {other:?}"), &checker, &injector)),
        }
        if now.saturating_since(start) > cfg.chaos_time + cfg.limit {
            let store = c.store.records();
            let left: Vec<String> = store
                .iter()
                .filter(|r| r.phase != rmesos_examples::redispatch::Phase::Finished)
                .map(|r| format!("{:?} {:?} on {:?}, last {:?}", r.task_id, r.phase, r.slave_id, r.last_state))
                .collect();
            let shown = left.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
            let what = format!(
                "(c) {} of {} tasks not finished {:?} (simulated) after the faults stopped: {shown}",
                left.len(),
                cfg.tasks,
                cfg.limit
            );
            return Err(fail(what, &checker, &injector));
        }
        let next = [sim.clock().next_timer(), injector.next_due(), c.next_restart()].into_iter().flatten().min();
        let Some(next) = next else {
            return Err(fail("nothing left to run and the workload is not done".into(), &checker, &injector));
        };
        same_instant = if next <= now { same_instant + 1 } else { 0 };
        if same_instant > MAX_STEPS_PER_INSTANT {
            return Err(fail("the world spins at one instant".into(), &checker, &injector));
        }
        sim.advance(next.saturating_since(now)).await;
    }
    if let Err(what) = check_end(&c, cfg.tasks) {
        return Err(fail(what, &checker, &injector));
    }
    let log = c.log.borrow();
    let report = Report {
        seed: cfg.seed,
        tasks: cfg.tasks,
        faults: injector.counts.clone(),
        redispatches: c.store.records().iter().map(|r| r.redispatches).sum(),
        launched: c.shared.ledger.borrow().launched,
        restarts,
        framework_runs: c.framework_runs,
        leader_changes: checker.leader_changes,
        redeliveries: log.redeliveries,
        sim_time: sim.now().saturating_since(start),
        steps: checker.steps,
        trace_len: sim.trace_len(),
        trace_hash: sim.trace_hash(),
    };
    drop(log);
    c.stop_driver();
    Ok(report)
}
