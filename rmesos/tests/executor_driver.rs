//! The ExecutorDriver's actor against a fake slave (the test kit's) on the same node:
//! registration, a task launched through the `Executor` callbacks, status
//! updates with uuids, `flush` waiting for the acknowledgement, framework
//! messages, and stop. Waits on messages only.

use std::path::PathBuf;
use std::time::Duration;

use libprocess::{Config, Node};
use rmesos::executor::{DriverStatus, Executor, ExecutorDriver, ExecutorEnv, ExecutorOptions};
use rmesos::messages::*;
use rmesos::{
    Attributes, CommandInfo, ExecutorID, ExecutorInfo, FrameworkID, FrameworkInfo, Resources, SlaveID, SlaveInfo,
    TaskID, TaskInfo, TaskState, TaskStatus,
};
use rmesos_testkit::fakes::fake;
use rmesos_testkit::Heard;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

/// Runs every task at once to TASK_FINISHED and echoes framework messages.
struct Echo {
    calls: mpsc::UnboundedSender<String>,
}

impl Executor for Echo {
    fn registered(&mut self, _d: &ExecutorDriver, e: &ExecutorInfo, _f: &FrameworkInfo, s: &SlaveInfo) {
        let _ = self.calls.send(format!("registered {} on {}", e.executor_id, s.hostname));
    }
    fn launch_task(&mut self, d: &ExecutorDriver, task: TaskInfo) {
        let _ = self.calls.send(format!("launch {}", task.task_id));
        d.send_status_update(TaskStatus::new(task.task_id, TaskState::Finished)).unwrap();
    }
    fn framework_message(&mut self, d: &ExecutorDriver, data: &[u8]) {
        d.send_framework_message(data.to_vec());
    }
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(WAIT, rx.recv()).await.expect("within the safety timeout").expect("open")
}

#[actix_rt::test]
async fn driver_registers_runs_a_task_and_flushes_after_the_ack() {
    let node = Node::bind(Config::loopback(0)).await.unwrap();
    let (slave, mut at_slave) = fake().spawn(&node, "slave(1)");
    let env = ExecutorEnv {
        slave_pid: slave.clone(),
        slave_id: SlaveID::new("s-S0").unwrap(),
        framework_id: FrameworkID::new("f-0000").unwrap(),
        executor_id: ExecutorID::new("e1").unwrap(),
        directory: PathBuf::from("/tmp"),
        checkpoint: false,
        shutdown_grace_period: Duration::from_secs(5),
        recovery_timeout: Duration::from_secs(900),
    };
    let (calls_tx, mut calls) = mpsc::unbounded_channel();
    let driver = ExecutorDriver::spawn(&node, ExecutorOptions { env, executor: Echo { calls: calls_tx } }).unwrap();

    let Heard::RegisterExecutor(executor, reg) = at_slave.next().await else { panic!("expected registration") };
    assert_eq!(executor, *driver.pid());
    assert_eq!(reg.executor_id.as_str(), "e1");
    let framework = FrameworkInfo { id: Some(FrameworkID::new("f-0000").unwrap()), ..FrameworkInfo::new("u", "f") };
    let executor_info = ExecutorInfo::new(ExecutorID::new("e1").unwrap(), CommandInfo::shell("x"));
    let slave_info = SlaveInfo::new("host1", 5051, Resources::new(), Attributes::new());
    node.send(
        &slave,
        &executor,
        ExecutorRegisteredMessage {
            executor_info,
            framework_id: FrameworkID::new("f-0000").unwrap(),
            framework_info: framework.clone(),
            slave_id: SlaveID::new("s-S0").unwrap(),
            slave_info,
        },
    );
    assert_eq!(next(&mut calls).await, "registered e1 on host1");

    let task = TaskInfo::command(
        "t",
        TaskID::new("t1").unwrap(),
        SlaveID::new("s-S0").unwrap(),
        Resources::parse("cpus:1").unwrap(),
        CommandInfo::shell("true"),
    );
    node.send(&slave, &executor, RunTaskMessage { framework, task, pid: None });
    assert_eq!(next(&mut calls).await, "launch t1");
    let Heard::StatusUpdate(_, m) = at_slave.next().await else { panic!("expected an update") };
    assert_eq!(m.pid.as_ref(), Some(&executor));
    assert_eq!(m.update.status.state, TaskState::Finished);
    assert_eq!(m.update.executor_id.as_ref().unwrap().as_str(), "e1");
    assert_eq!(driver.unacknowledged(), 1);

    // flush waits for the acknowledgement the slave forwards.
    let flushing = {
        let d = driver.clone();
        actix_rt::spawn(async move { d.flush(WAIT).await })
    };
    node.send(
        &slave,
        &executor,
        StatusUpdateAcknowledgementMessage {
            slave_id: SlaveID::new("s-S0").unwrap(),
            framework_id: FrameworkID::new("f-0000").unwrap(),
            task_id: TaskID::new("t1").unwrap(),
            uuid: m.update.uuid.unwrap(),
        },
    );
    assert!(flushing.await.unwrap(), "every update acknowledged");
    assert_eq!(driver.unacknowledged(), 0);

    node.send(
        &slave,
        &executor,
        FrameworkToExecutorMessage {
            slave_id: SlaveID::new("s-S0").unwrap(),
            framework_id: FrameworkID::new("f-0000").unwrap(),
            executor_id: ExecutorID::new("e1").unwrap(),
            data: b"ping".to_vec(),
        },
    );
    let Heard::ExecutorToFramework(_, m) = at_slave.next().await else { panic!("expected data") };
    assert_eq!(m.data, b"ping");

    assert!(driver.send_status_update(TaskStatus::new(TaskID::new("t1").unwrap(), TaskState::Staging)).is_err());
    driver.stop();
    assert!(matches!(tokio::time::timeout(WAIT, driver.join()).await.unwrap(), DriverStatus::Stopped(_)));
}
