//! Fakes that speak rmesos's messages: one [`libprocess::testkit::Fake`]
//! plays a master, a slave, a framework or an executor's slave, recording
//! every rmesos message it hears as a [`Heard`] (with the sender), and
//! answering what a test tells it to (`Fake::<Heard>::builder().on(..)`).
//! The answers tests give most often are here once ([`answer_pings`],
//! [`finish_tasks`], [`ack_updates`]), and so are the fixtures ([`offer`],
//! [`framework_id`], [`status_update`]).

use libprocess::testkit::{Fake, FakeBuilder};
use libprocess::{Me, Upid};
use rmesos::messages::*;
use rmesos::{FrameworkID, Offer, OfferID, Resources, SlaveID, StatusUpdate, TaskState, TaskStatus};
use uuid::Uuid;

libprocess::recorded! {
    /// Every message a fake may hear (the Upid is the sender's); `Exited`
    /// is a link's end.
    pub enum Heard {
        @exited Exited,
        RegisterSlave(RegisterSlaveMessage),
        ReregisterSlave(ReregisterSlaveMessage),
        SlaveRegistered(SlaveRegisteredMessage),
        SlaveReregistered(SlaveReregisteredMessage),
        UnregisterSlave(UnregisterSlaveMessage),
        PingSlave(PingSlaveMessage),
        PongSlave(PongSlaveMessage),
        RunTask(RunTaskMessage),
        ShutdownFramework(ShutdownFrameworkMessage),
        Shutdown(ShutdownMessage),
        StatusUpdate(StatusUpdateMessage),
        Ack(StatusUpdateAcknowledgementMessage),
        RegisterExecutor(RegisterExecutorMessage),
        ExecutorRegistered(ExecutorRegisteredMessage),
        ReregisterExecutor(ReregisterExecutorMessage),
        ExecutorReregistered(ExecutorReregisteredMessage),
        ReconnectExecutor(ReconnectExecutorMessage),
        ShutdownExecutor(ShutdownExecutorMessage),
        RegisterFramework(RegisterFrameworkMessage),
        ReregisterFramework(ReregisterFrameworkMessage),
        FrameworkRegistered(FrameworkRegisteredMessage),
        FrameworkReregistered(FrameworkReregisteredMessage),
        UnregisterFramework(UnregisterFrameworkMessage),
        DeactivateFramework(DeactivateFrameworkMessage),
        ResourceOffers(ResourceOffersMessage),
        RescindResourceOffer(RescindResourceOfferMessage),
        LaunchTasks(LaunchTasksMessage),
        ReviveOffers(ReviveOffersMessage),
        SuppressOffers(SuppressOffersMessage),
        KillTask(KillTaskMessage),
        ReconcileTasks(ReconcileTasksMessage),
        FrameworkError(FrameworkErrorMessage),
        FrameworkToExecutor(FrameworkToExecutorMessage),
        ExecutorToFramework(ExecutorToFrameworkMessage),
        LostSlave(LostSlaveMessage),
        ExitedExecutor(ExitedExecutorMessage),
        UpdateFramework(UpdateFrameworkMessage),
    }
}

/// A fake that records everything and answers nothing yet.
pub fn fake() -> FakeBuilder<Heard> {
    Fake::<Heard>::builder()
}

/// Answers every `PingSlaveMessage` with a `PongSlaveMessage` (a live slave).
pub fn answer_pings(b: FakeBuilder<Heard>) -> FakeBuilder<Heard> {
    b.on(|me: &Me, from: &Upid, _: &PingSlaveMessage| me.send(from, PongSlaveMessage {}))
}

/// Runs every task the master sends at once: a TASK_FINISHED update made
/// by this (slave) fake, with a fresh uuid.
pub fn finish_tasks(b: FakeBuilder<Heard>) -> FakeBuilder<Heard> {
    b.on(|me: &Me, from: &Upid, m: &RunTaskMessage| {
        let fid = m.framework.id.clone().expect("the master sends the framework id");
        let update =
            status_update(fid, m.task.slave_id.clone(), TaskStatus::new(m.task.task_id.clone(), TaskState::Finished));
        me.send(from, StatusUpdateMessage { update, pid: Some(me.pid().clone()) });
    })
}

/// Acknowledges every status update that carries a uuid and a slave (a
/// framework with implicit acknowledgements).
pub fn ack_updates(b: FakeBuilder<Heard>) -> FakeBuilder<Heard> {
    b.on(|me: &Me, from: &Upid, m: &StatusUpdateMessage| {
        let u = &m.update;
        if let (Some(uuid), Some(slave_id)) = (u.uuid, u.slave_id.clone()) {
            let (framework_id, task_id) = (u.framework_id.clone(), u.status.task_id.clone());
            me.send(from, StatusUpdateAcknowledgementMessage { slave_id, framework_id, task_id, uuid });
        }
    })
}

/// The framework id fakes hand out: `fake-0000`.
pub fn framework_id() -> FrameworkID {
    FrameworkID::new("fake-0000").expect("a valid id")
}

/// An offer `id` of `resources` on slave `fake-S0` (host `localhost`) to
/// [`framework_id`].
pub fn offer(id: &str, resources: &str) -> Offer {
    Offer {
        id: OfferID::new(id).expect("a valid offer id"),
        framework_id: framework_id(),
        slave_id: SlaveID::new("fake-S0").expect("a valid slave id"),
        hostname: "localhost".into(),
        resources: Resources::parse(resources).expect("valid resources"),
        attributes: Default::default(),
        executor_ids: vec![],
    }
}

/// A slave-made update (a fresh uuid, timestamp 1) of `status`.
pub fn status_update(framework: FrameworkID, slave: SlaveID, status: TaskStatus) -> StatusUpdate {
    StatusUpdate::new(framework, None, Some(slave), status, 1.0, Some(Uuid::new_v4()))
}
