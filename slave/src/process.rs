//! The slave's actor (`slave(1)`, as in Mesos): installs the messages of the
//! master and of executors, feeds them to the pure [`SlaveCore`] and performs
//! its actions: sending, links, timers, launching and killing executor
//! runs through its [`Containerizer`] (noticing their exit at once by
//! awaiting each run's exit future), and checkpointing. On start it hands
//! the checkpoint read by [`crate::checkpoint::recover`] to the core before looking for
//! a master, and takes over the runs it names ([`Containerizer::recover`]).
//! Also serves `/state`, `/health` and `/files/read`, and Mesos's v1
//! executor API ([`crate::api`]).

use std::path::PathBuf;

use actix::fut::ActorFutureExt;
use actix::{Actor, ActorContext, AsyncContext, Context, Handler};
use libprocess::wiring::Shell;
use libprocess::zookeeper::LeaderMessage;
use libprocess::{Handlers, Me, Process, Request, Response, Upid};
use rmesos::detect_zk::LeaderFollower;
use rmesos::messages::*;
use tokio::sync::watch;

use crate::containerizer::{Containerizer, Launched};
use crate::core::{Action, Now, RecoverMode, RecoveredState, SlaveCore, STATUS_UPDATE_TICK};
use crate::{checkpoint, http};

/// The slave's process id.
pub const SLAVE_PROCESS_ID: &str = "slave(1)";

pub struct SlaveProcess {
    pub(crate) me: Me,
    pub(crate) core: SlaveCore,
    pub(crate) work_dir: PathBuf,
    /// The master to (re)detect: standalone, always the configured one; with
    /// ZooKeeper, the leader last detected (None: none yet, or lost).
    master: Option<Upid>,
    /// With `--master zk://...`: the detector's reports.
    follower: Option<LeaderFollower>,
    /// Starts and kills executor runs (child processes by default).
    pub(crate) containerizer: Box<dyn Containerizer>,
    stopped: watch::Sender<Option<crate::Stopped>>,
    /// The checkpoint read at start, handed to the core once started.
    recovered: Option<(Option<RecoveredState>, RecoverMode)>,
    /// Sandbox garbage collection (`--gc_delay`, the disk watch).
    gc: crate::gc::Collector,
    /// Authentication with each detected master (see `auth.rs`).
    pub(crate) authee: rmesos::auth::MaybeAuthenticatee,
    /// The fetcher and its fetches in flight (`fetcher/shell.rs`).
    pub(crate) fetches: crate::fetcher::shell::Fetches,
    /// The v1 executor API's streams (see `api/`).
    pub(crate) api: crate::api::Streams,
}

impl SlaveProcess {
    #[allow(clippy::too_many_arguments)] // the shell's parts, each built by spawn
    pub(crate) fn new(
        me: Me,
        core: SlaveCore,
        work_dir: PathBuf,
        master: crate::MasterSource,
        containerizer: Box<dyn Containerizer>,
        stopped: watch::Sender<Option<crate::Stopped>>,
        recovered: (Option<RecoveredState>, RecoverMode),
        gc: crate::gc::Collector,
    ) -> Self {
        let (master, follower) = match master {
            crate::MasterSource::Standalone(pid) => (Some(pid), None),
            crate::MasterSource::Detector(d) => (None, Some(LeaderFollower::new(d))),
        };
        let authee = rmesos::auth::MaybeAuthenticatee::default();
        SlaveProcess {
            me,
            core,
            work_dir,
            master,
            follower,
            containerizer,
            stopped,
            recovered: Some(recovered),
            gc,
            authee,
            fetches: Default::default(),
            api: crate::api::Streams::default(),
        }
    }

    /// A report of the ZooKeeper detector: a new leader (or none) is
    /// (re)registered with on the core's randomized backoff.
    fn on_leader(&mut self, from: Upid, msg: LeaderMessage, ctx: &mut Context<Self>) {
        let me = self.me.pid().clone();
        let Some(change) = self.follower.as_mut().and_then(|f| f.report(&from, msg, &me)) else { return };
        self.master = change.clone();
        self.detected(change, ctx);
    }

    pub(crate) fn now(&self) -> Now {
        Now { time: self.me.clock().now(), unix: self.me.clock().unix_time() }
    }

    pub(crate) fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for action in actions {
            match action {
                Action::Send(to, msg) => msg.send(&self.me, &to),
                Action::Link(pid) => self.me.link(&pid),
                Action::Unlink(pid) => self.me.unlink(&pid),
                Action::SetTimer(d, timer) => {
                    self.me.delay(ctx, d, move |act: &mut Self, ctx| {
                        let now = act.now();
                        let a = act.core.timer(timer, now);
                        act.perform(a, ctx);
                    });
                }
                Action::Launch(l) => {
                    self.gc.gc.in_use(&l.directory);
                    self.fetch_then_launch(l, ctx)
                }
                Action::ScheduleGc(path) => {
                    self.gc.gc.schedule(path, self.me.clock().now());
                    let delay = self.gc.gc.delay();
                    self.me.delay(ctx, delay, |act: &mut Self, _| {
                        let core = &act.core;
                        act.gc.collect_due(act.me.clock().now(), |p| in_use(core, p));
                    });
                }
                Action::Kill { framework_id, executor_id, run } => {
                    if self.kill_fetching(&framework_id, &executor_id, run, ctx) {
                        continue;
                    }
                    tracing::info!(executor = %executor_id, framework = %framework_id, %run, "Killing executor run {run}");
                    self.containerizer.kill(run);
                }
                Action::Update { run, resources, .. } => self.containerizer.update(run, &resources),
                Action::Checkpoint(c) => {
                    if let Err(e) = checkpoint::apply(&self.work_dir, self.core.slave_id(), &c) {
                        tracing::error!(error = %e, "Failed to checkpoint {c:?}");
                    }
                }
                Action::Recover { framework_id, executor_id, run, forked_pid, kill } => {
                    self.recover_run(framework_id, executor_id, run, forked_pid, kill, ctx)
                }
                Action::Redetect => {
                    // Standalone: the configured master; ZooKeeper: the
                    // leader last detected (the detector reports changes).
                    self.detected(self.master.clone(), ctx);
                }
                Action::Terminate(why) => {
                    tracing::warn!("Slave terminating: {why}");
                    let grace = self.core_grace();
                    self.me.delay(ctx, grace, |act: &mut Self, ctx| act.stop(true, crate::Stopped::Terminated, ctx));
                }
            }
        }
    }

    fn core_grace(&self) -> std::time::Duration {
        self.core.grace_period()
    }

    pub(crate) fn launch(&mut self, l: crate::core::Launch, ctx: &mut Context<Self>) {
        let (fid, eid, run) = (l.framework_id.clone(), l.executor_id.clone(), l.run);
        let Launched { pid, exit } = match self.containerizer.launch(&l) {
            Ok(launched) => launched,
            Err(e) => {
                let now = self.now();
                let a = self.core.launch_failed(&fid, &eid, run, &e.to_string(), now);
                self.perform(a, ctx);
                return;
            }
        };
        match pid {
            Some(pid) => {
                tracing::info!(executor = %eid, framework = %fid, pid, "Launched executor '{eid}' as pid {pid} in {}", l.directory.display());
                if let Some(sid) = self.core.slave_id() {
                    if let Err(e) = checkpoint::forked_pid(&self.work_dir, sid, &fid, &eid, run, pid) {
                        tracing::error!(error = %e, "Failed to checkpoint the executor's pid");
                    }
                }
            }
            None => {
                tracing::info!(executor = %eid, framework = %fid, "Launched executor '{eid}' in {}", l.directory.display())
            }
        }
        // Awaited on the actor: the run's end is reported at once.
        ctx.spawn(actix::fut::wrap_future::<_, Self>(exit).map(move |code, act, ctx| {
            act.check_limitation(&fid, &eid, run, ctx);
            act.containerizer.reaped(run);
            let now = act.now();
            let a = act.core.executor_exited(&fid, &eid, run, code, now);
            act.perform(a, ctx);
        }));
    }

    /// Checks the disk and prunes sandboxes as its usage says.
    fn watch_disk(&mut self) {
        let core = &self.core;
        self.gc.watch_disk(self.me.clock().now(), |p| in_use(core, p));
    }

    /// Asks the containerizer whether run `run` hit a limit, and tells the
    /// core (which fails its tasks with the limitation's reason).
    fn check_limitation(
        &mut self,
        fid: &rmesos::FrameworkID,
        eid: &rmesos::ExecutorID,
        run: uuid::Uuid,
        ctx: &mut Context<Self>,
    ) {
        if let Some(l) = self.containerizer.limitation(run) {
            let now = self.now();
            let a = self.core.container_limited(fid, eid, run, l.reason, &l.message, now);
            self.perform(a, ctx);
        }
    }

    /// An executor's status update: a terminal one first asks whether the
    /// container hit a limit (the kernel's OOM kill is why the task died).
    pub(crate) fn on_status_update(&mut self, from: Upid, msg: StatusUpdateMessage, ctx: &mut Context<Self>) {
        if msg.update.status.state.is_terminal() {
            let fid = msg.update.framework_id.clone();
            let eid = msg.update.executor_id.clone().or_else(|| msg.update.status.executor_id.clone());
            if let Some(eid) = eid {
                if let Some(run) = self.core.run_of(&fid, &eid) {
                    self.check_limitation(&fid, &eid, run, ctx);
                }
            }
        }
        let now = self.now();
        let a = self.core.status_update(&from, msg, now);
        self.perform(a, ctx);
    }

    /// Takes over a run of the previous slave process: watches its end
    /// (reported to the core at once if it is gone already), or kills it.
    fn recover_run(
        &mut self,
        fid: rmesos::FrameworkID,
        eid: rmesos::ExecutorID,
        run: uuid::Uuid,
        forked_pid: Option<u32>,
        kill: bool,
        ctx: &mut Context<Self>,
    ) {
        let exit = self.containerizer.recover(run, forked_pid, self.me.clock());
        if kill {
            if exit.is_some() {
                tracing::info!(executor = %eid, framework = %fid, pid = ?forked_pid, "Killing executor run {run} of the previous slave");
                self.containerizer.kill(run);
                self.containerizer.reaped(run);
            }
            return;
        }
        let Some(exit) = exit else {
            tracing::info!(executor = %eid, framework = %fid, pid = ?forked_pid, "Recovered executor '{eid}' is not running any more");
            let now = self.now();
            let a = self.core.executor_exited(&fid, &eid, run, crate::containerizer::UNKNOWN_EXIT_STATUS, now);
            self.perform(a, ctx);
            return;
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(exit).map(move |code, act, ctx| {
            act.check_limitation(&fid, &eid, run, ctx);
            act.containerizer.reaped(run);
            let now = act.now();
            let a = act.core.executor_exited(&fid, &eid, run, code, now);
            act.perform(a, ctx);
        }));
    }

    /// Stops the slave; with `kill_executors`, every executor session too
    /// (otherwise they are left running, as Mesos leaves them for recovery;
    /// executors of non-checkpointing frameworks shut down on their own
    /// when they see the slave go).
    pub(crate) fn stop(&mut self, kill_executors: bool, why: crate::Stopped, ctx: &mut Context<Self>) {
        if kill_executors {
            self.containerizer.kill_all();
        }
        tracing::info!(slave = %self.me.pid(), "Slave stopped ({why:?})");
        let _ = self.stopped.send(Some(why));
        ctx.stop();
    }
}

impl Actor for SlaveProcess {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::info!(slave = %self.me.pid(), resources = %self.core.info().resources,
            attributes = %self.core.info().attributes, "Slave started at {} (hostname {})", self.me.pid(), self.core.info().hostname);
        self.me.every(ctx, STATUS_UPDATE_TICK, |act: &mut Self, ctx| {
            let now = act.now();
            let a = act.core.tick(now);
            act.perform(a, ctx);
        });
        let interval = self.gc.interval;
        self.me.every(ctx, interval, |act: &mut Self, _| act.watch_disk());
        // Recovery first: registration waits for the recovered executors.
        if let Some((state, mode)) = self.recovered.take() {
            let now = self.now();
            let a = self.core.recover(state, mode, now);
            self.perform(a, ctx);
            // Every recovered run was offered: the rest are orphans.
            self.containerizer.recovered();
        }
        // With ZooKeeper, the detector's first report starts registration.
        if let Some(master) = self.master.clone() {
            self.detected(Some(master), ctx);
        }
    }
}

/// Whether `path` holds the sandbox of an executor the slave still knows
/// (such a path is never garbage collected).
fn in_use(core: &SlaveCore, path: &std::path::Path) -> bool {
    core.frameworks().values().any(|f| f.executors.values().any(|e| e.directory.starts_with(path)))
}

/// Asks the slave to stop (see [`SlaveProcess::stop`]).
pub(crate) struct Stop {
    pub kill_executors: bool,
}

impl actix::Message for Stop {
    type Result = ();
}

impl Handler<Stop> for SlaveProcess {
    type Result = ();
    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) {
        self.stop(msg.kill_executors, crate::Stopped::Asked, ctx);
    }
}

impl Shell for SlaveProcess {
    type Core = SlaveCore;
    type Action = Action;
    type Now = Now;

    fn core_mut(&mut self) -> &mut SlaveCore {
        &mut self.core
    }

    fn now(&self) -> Now {
        SlaveProcess::now(self)
    }

    fn perform(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        SlaveProcess::perform(self, actions, ctx)
    }
}

impl Process for SlaveProcess {
    fn install(h: &mut Handlers<Self>) {
        libprocess::handlers!(h, Self {
            SlaveRegisteredMessage => registered(from, msg, now);
            SlaveReregisteredMessage => reregistered(from, msg, now);
            PingSlaveMessage => ping(from, msg, now);
            RunTaskMessage => run_task(from, msg, now);
            RegisterExecutorMessage => register_executor(from, msg, now);
            ReregisterExecutorMessage => reregister_executor(from, msg, now);
            StatusUpdateAcknowledgementMessage => acknowledge(from, msg, now);
            KillTaskMessage => kill_task(from, msg, now);
            ShutdownFrameworkMessage => shutdown_framework(from, msg, now);
            ShutdownExecutorMessage => shutdown_executor(from, msg, now);
            ExecutorToFrameworkMessage => executor_message(from, msg);
            FrameworkToExecutorMessage => framework_message(from, msg);
            UpdateFrameworkMessage => update_framework(from, msg);
            ShutdownMessage => shutdown(from, msg);
        });
        crate::auth::install(h);
        crate::api::install(h);
        h.install(Self::on_leader)
            .install(Self::on_status_update)
            .route("state", Self::state)
            .route("monitor/statistics", Self::statistics)
            .route("monitor/statistics.json", Self::statistics)
            .route("health", |_, _, _| http::health())
            .route("version", |_, _, _| http::version())
            .route("metrics/snapshot", |a: &mut Self, _, _| Response::json(&a.fetches.metrics(a.core.metrics_json())))
            .route("files/read", Self::files_read)
            .route("files/browse", |a: &mut Self, req, _| http::cross_origin(http::files_browse(&a.work_dir, &req)))
            .route("files/download", |a: &mut Self, req, _| http::files_download(&a.work_dir, &req));
    }

    fn exited(&mut self, pid: &Upid, ctx: &mut Context<Self>) {
        let a = self.core.exited(pid);
        self.perform(a, ctx);
    }
}

impl SlaveProcess {
    fn state(&mut self, _req: Request, _ctx: &mut Context<Self>) -> Response {
        http::cross_origin(Response::json(&self.core.state_json()))
    }

    fn statistics(&mut self, _req: Request, _ctx: &mut Context<Self>) -> Response {
        http::cross_origin(Response::json(&crate::monitor::statistics(&self.core, self.containerizer.as_ref())))
    }

    fn files_read(&mut self, req: Request, _ctx: &mut Context<Self>) -> Response {
        http::cross_origin(http::files_read(&self.work_dir, &req))
    }
}
