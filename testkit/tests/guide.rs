//! A framework author's failover test (docs/testing.md shows this file; guide_in_docs.rs keeps them equal).
use rmesos::scheduler::{DriverHandle, Scheduler};
use rmesos::{CommandInfo, Filters, FrameworkInfo, Offer, Resources, TaskID, TaskInfo, TaskState, TaskStatus};
use rmesos_testkit::{SchedulerEvent, SimCluster};

/// The framework under test: one task, which runs for 60 s.
#[derive(Default)]
struct OneTask {
    launched: bool,
}

impl Scheduler for OneTask {
    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers.into_iter().filter(|_| !std::mem::replace(&mut self.launched, true)) {
            let resources = Resources::parse("cpus:1;mem:128").unwrap();
            let mut task = TaskInfo::command(
                "work",
                TaskID::new("work").unwrap(),
                offer.slave_id,
                resources,
                CommandInfo::shell("sleep 60"),
            );
            task.data = Some(b"sleep:60".to_vec()); // what the simulated executor does
            driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
        }
    }
    fn status_update(&mut self, _: &DriverHandle, _: TaskStatus) {}
}

#[actix_rt::test]
async fn my_task_survives_a_master_failover() {
    let mut cluster = SimCluster::builder().seed(7).masters(3).slaves(1).build();
    let mut fw = cluster.framework(OneTask::default(), FrameworkInfo::new("me", "one-task")).await;
    let state = |want| move |e: &SchedulerEvent| matches!(e, SchedulerEvent::StatusUpdate(s) if s.state == want);
    cluster.wait_for(&mut fw, state(TaskState::Running)).await;

    let old = cluster.crash_leader();
    cluster.until("another leader", |c| c.leader().is_some_and(|new| new != old)).await;
    cluster.wait_for(&mut fw, |e| matches!(e, SchedulerEvent::Reregistered(_))).await;
    cluster.wait_for(&mut fw, state(TaskState::Finished)).await;
    assert!(!fw.seen.iter().any(|e| matches!(e, SchedulerEvent::StatusUpdate(s) if s.state == TaskState::Lost)));
}
