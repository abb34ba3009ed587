//! Unit tests of redispatch's core and file store.

use rmesos::{FrameworkID, Offer, OfferID, Resources, SlaveID, TaskID, TaskState, TaskStatus};

use super::core::*;
use super::store::{FileStore, TaskStore};

fn res(s: &str) -> Resources {
    Resources::parse(s).unwrap()
}

fn offer(id: &str, slave: &str, resources: &str) -> Offer {
    Offer {
        id: OfferID::new(id).unwrap(),
        framework_id: FrameworkID::new("f").unwrap(),
        slave_id: SlaveID::new(slave).unwrap(),
        hostname: format!("host-{slave}"),
        resources: res(resources),
        attributes: Default::default(),
        executor_ids: vec![],
    }
}

fn status(task_id: &str, state: TaskState) -> TaskStatus {
    TaskStatus::new(TaskID::new(task_id).unwrap(), state)
}

fn table(n: usize) -> Redispatch {
    let list = parse_task_list(&(1..=n).map(|i| format!("echo {i}\n")).collect::<String>()).unwrap();
    Redispatch::new(list, vec![], res("cpus:1;mem:32")).0
}

fn launched_ids(p: &Placement) -> Vec<String> {
    p.launch.iter().flat_map(|(_, ts)| ts.iter().map(|t| t.task_id.to_string())).collect()
}

/// A temp dir removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("redispatch-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn task_list_parsing() {
    let list = parse_task_list("# jobs\necho a\n\n  sleep 1 && echo b  \n").unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0].key.as_str(), list[0].command.as_str()), ("task-0001", "echo a"));
    assert_eq!((list[1].key.as_str(), list[1].command.as_str()), ("task-0002", "sleep 1 && echo b"));
    assert!(list.iter().all(|r| r.phase == Phase::Pending));
    assert_eq!(parse_task_list("\n# only comments\n"), Err(TaskListError::Empty));
    let long = "x".repeat(MAX_COMMAND_LEN + 1);
    assert_eq!(parse_task_list(&format!("echo\n{long}\n")), Err(TaskListError::TooLong(2)));
}

#[test]
fn first_fit_fills_offers_in_order_and_declines_the_rest() {
    let mut t = table(5);
    let offers = [
        offer("o1", "S0", "cpus:2;mem:100"),
        offer("o2", "S1", "cpus:0.5;mem:1000"),
        offer("o3", "S2", "cpus:8;mem:64"),
    ];
    let p = t.place(&offers);
    assert_eq!(launched_ids(&p), vec!["task-0001.1", "task-0002.1", "task-0003.1", "task-0004.1"]);
    assert_eq!(p.launch[0].0.as_str(), "o1");
    assert_eq!(p.launch[1].0.as_str(), "o3");
    assert_eq!(p.decline, vec![OfferID::new("o2").unwrap()]);
    assert_eq!(p.save.len(), 4);
    assert_eq!(t.pending(), 1);
    let task = &p.launch[0].1[0];
    assert_eq!(task.slave_id.as_str(), "S0");
    assert_eq!(task.command.as_ref().unwrap().value.as_deref(), Some("echo 1"));
}

#[test]
fn a_lost_task_goes_back_to_pending_and_is_relaunched() {
    let mut t = table(2);
    t.place(&[offer("o1", "S0", "cpus:4;mem:64")]);
    let out = t.update(&status("task-0001.1", TaskState::Running));
    assert!(!out.redispatched && out.save.is_some());
    let out = t.update(&status("task-0001.1", TaskState::Lost));
    assert!(out.redispatched);
    assert!(out.progress.unwrap().contains("re-dispatching"));
    assert_eq!(t.record("task-0001").unwrap().phase, Phase::Pending);
    assert_eq!(t.redispatched(), 1);
    let p = t.place(&[offer("o2", "S1", "cpus:4;mem:64")]);
    assert_eq!(launched_ids(&p), vec!["task-0001.2"]);
    assert_eq!(t.record("task-0001").unwrap().slave_id.as_ref().unwrap().as_str(), "S1");
    // The old attempt's late updates change nothing.
    assert_eq!(t.update(&status("task-0001.1", TaskState::Failed)), UpdateOutcome::default());
    // Every failed state is handled the same way.
    for (i, state) in [TaskState::Failed, TaskState::Error, TaskState::Dropped, TaskState::Unreachable, TaskState::Gone]
        .into_iter()
        .enumerate()
    {
        let id = format!("task-0001.{}", i + 2);
        assert!(t.update(&status(&id, state)).redispatched, "{state}");
        assert_eq!(launched_ids(&t.place(&[offer("o", "S0", "cpus:1;mem:32")])), vec![format!("task-0001.{}", i + 3)]);
    }
}

#[test]
fn a_finished_task_is_never_relaunched_and_duplicates_are_ignored() {
    let mut t = table(1);
    t.place(&[offer("o1", "S0", "cpus:1;mem:32")]);
    let out = t.update(&status("task-0001.1", TaskState::Finished));
    assert!(out.progress.unwrap().ends_with("[finished 1 of 1, re-dispatched 0]"));
    assert!(t.is_done());
    assert_eq!(t.update(&status("task-0001.1", TaskState::Finished)), UpdateOutcome::default());
    assert_eq!(t.update(&status("task-0001.1", TaskState::Lost)), UpdateOutcome::default());
    let p = t.place(&[offer("o2", "S0", "cpus:8;mem:1024")]);
    assert!(p.launch.is_empty());
    assert_eq!(p.decline.len(), 1);
    assert_eq!(t.summary(), "finished 1 of 1, re-dispatched 0");
    // Unknown task ids are ignored.
    assert_eq!(t.update(&status("someone-else", TaskState::Lost)), UpdateOutcome::default());
    assert_eq!(t.update(&status("task-0009.1", TaskState::Lost)), UpdateOutcome::default());
}

#[test]
fn a_new_framework_id_redispatches_launched_tasks_and_reconciliation_lists_them() {
    let mut t = table(3);
    t.place(&[offer("o1", "S0", "cpus:2;mem:64")]);
    t.update(&status("task-0001.1", TaskState::Running));
    let statuses = t.reconcile_statuses();
    assert_eq!(statuses.len(), 2);
    assert_eq!((statuses[0].task_id.as_str(), statuses[0].state), ("task-0001.1", TaskState::Running));
    assert_eq!(statuses[0].slave_id.as_ref().unwrap().as_str(), "S0");
    let f1 = FrameworkID::new("f1").unwrap();
    assert!(t.registered(&f1, Some(&f1)).is_empty(), "same framework: tasks kept");
    let changed = t.registered(&FrameworkID::new("f2").unwrap(), Some(&f1));
    assert_eq!(changed, vec!["task-0001", "task-0002"]);
    assert_eq!(t.pending(), 3);
}

#[test]
fn restart_resumes_from_the_store() {
    let dir = TempDir::new();
    let list_text = "echo 1\necho 2\necho 3\n";
    let fid = FrameworkID::new("m-0001").unwrap();
    {
        let mut store = FileStore::open(&dir.0).unwrap();
        let (stored, id) = store.load().unwrap();
        assert!(stored.is_empty() && id.is_none());
        let (mut t, added) = Redispatch::new(parse_task_list(list_text).unwrap(), stored, res("cpus:1;mem:32"));
        assert_eq!(added.len(), 3);
        for k in &added {
            store.save(t.record(k).unwrap()).unwrap();
        }
        store.save_framework_id(Some(&fid)).unwrap();
        for k in t.place(&[offer("o1", "S0", "cpus:3;mem:96")]).save {
            store.save(t.record(&k).unwrap()).unwrap();
        }
        let out = t.update(&status("task-0001.1", TaskState::Finished));
        store.save(t.record(&out.save.unwrap()).unwrap()).unwrap();
        let out = t.update(&status("task-0002.1", TaskState::Failed));
        store.save(t.record(&out.save.unwrap()).unwrap()).unwrap();
    }
    // A crash mid-write leaves a temp file: ignored.
    std::fs::write(dir.0.join("tasks").join(".task-0003.json.tmp"), "{garbage").unwrap();

    let mut store = FileStore::open(&dir.0).unwrap();
    let (stored, id) = store.load().unwrap();
    assert_eq!(id, Some(fid.clone()));
    let (mut t, added) = Redispatch::new(parse_task_list(list_text).unwrap(), stored, res("cpus:1;mem:32"));
    assert!(added.is_empty());
    assert_eq!(t.finished(), 1);
    assert_eq!(t.redispatched(), 1);
    assert_eq!(t.record("task-0003").unwrap().phase, Phase::Launched);
    // Same framework after failover: task 3 stays launched, task 1 is never rerun.
    assert!(t.registered(&fid, Some(&fid)).is_empty());
    let p = t.place(&[offer("o9", "S1", "cpus:8;mem:1024")]);
    assert_eq!(launched_ids(&p), vec!["task-0002.2"]);
    assert_eq!(t.update(&status("task-0003.1", TaskState::Finished)).save.as_deref(), Some("task-0003"));
    t.update(&status("task-0002.2", TaskState::Finished));
    assert!(t.is_done());
    assert_eq!(t.summary(), "finished 3 of 3, re-dispatched 1");

    // A corrupt record is a clear error naming the file.
    std::fs::write(dir.0.join("tasks").join("task-0002.json"), "{").unwrap();
    let e = store.load().unwrap_err().to_string();
    assert!(e.contains("task-0002.json") && e.contains("corrupt"), "{e}");
    store.save_framework_id(None).unwrap();
    assert!(!dir.0.join("framework_id").exists());
}

#[test]
fn progress_lines_say_where_a_task_was_lost_why_and_which_attempt_comes_next() {
    let mut t = table(2);
    t.place(&[offer("o1", "S0", "cpus:2;mem:64")]);
    let running = t.update(&status("task-0001.1", TaskState::Running)).progress.unwrap();
    assert_eq!(running, "task-0001 (attempt 1) TASK_RUNNING on slave S0 [finished 0 of 2, re-dispatched 0]");
    let lost = status("task-0001.1", TaskState::Lost)
        .with_slave_id(SlaveID::new("S0").unwrap())
        .with_reason(rmesos::Reason::SlaveRemoved)
        .with_message("Slave S0 (a) removed: health check timed out");
    assert_eq!(
        t.update(&lost).progress.unwrap(),
        "task-0001 (attempt 1) TASK_LOST on slave S0 (REASON_SLAVE_REMOVED: Slave S0 (a) removed: health check \
         timed out); re-dispatching (attempt 2) [finished 0 of 2, re-dispatched 1]"
    );
    // The next attempt runs elsewhere and fails with a message only.
    t.place(&[offer("o2", "S1", "cpus:1;mem:32")]);
    let failed = status("task-0001.2", TaskState::Failed).with_message("Command exited with status 3");
    assert_eq!(
        t.update(&failed).progress.unwrap(),
        "task-0001 (attempt 2) TASK_FAILED on slave S1 (Command exited with status 3); re-dispatching (attempt 3) \
         [finished 0 of 2, re-dispatched 2]"
    );
    t.place(&[offer("o3", "S1", "cpus:2;mem:64")]);
    t.update(&status("task-0001.3", TaskState::Finished));
    t.update(&status("task-0002.1", TaskState::Finished));
    assert!(t.is_done());
    assert_eq!(
        t.report(),
        "Done: 2 of 2 tasks finished after 4 launches; 1 task(s) re-dispatched: task-0001 (3 attempts)"
    );
    assert_eq!(t.summary(), "finished 2 of 2, re-dispatched 2");
}

#[test]
fn the_report_names_at_most_a_bounded_number_of_tasks() {
    let n = MAX_REPORTED_TASKS + 2;
    let mut t = table(n);
    t.place(&[offer("o1", "S0", &format!("cpus:{n};mem:{}", 32 * n))]);
    for i in 1..=n {
        t.update(&status(&format!("task-{i:04}.1"), TaskState::Lost));
    }
    let report = t.report();
    assert!(report.contains(&format!("; {n} task(s) re-dispatched: task-0001 (1 attempts)")), "{report}");
    assert!(report.ends_with(" and 2 more"), "{report}");
    assert!(!report.contains(&format!("task-{n:04}")), "{report}");
}

#[test]
fn a_lost_slave_s_launched_tasks_are_listed_for_reconciliation() {
    let mut t = table(3);
    t.place(&[offer("o1", "S0", "cpus:1;mem:32"), offer("o2", "S1", "cpus:2;mem:64")]);
    t.update(&status("task-0002.1", TaskState::Running));
    let on_s1 = t.reconcile_statuses_on(&SlaveID::new("S1").unwrap());
    let ids: Vec<&str> = on_s1.iter().map(|s| s.task_id.as_str()).collect();
    assert_eq!(ids, vec!["task-0002.1", "task-0003.1"]);
    assert_eq!(on_s1[0].state, TaskState::Running);
    assert!(t.reconcile_statuses_on(&SlaveID::new("S9").unwrap()).is_empty());
}
