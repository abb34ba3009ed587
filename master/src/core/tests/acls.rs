//! Authorization in the core (`--acls`): `register_frameworks` refuses a
//! principal a role, `run_tasks` refuses a user with TASK_ERROR
//! REASON_TASK_UNAUTHORIZED, as Mesos's master does.

use super::*;

fn with_acls(json: &str) -> MasterCore {
    let mut m = core();
    m.cfg.acls = rmesos::auth::Acls::parse(json).unwrap();
    m
}

fn errors(acts: &[Action], to: &Upid) -> Vec<String> {
    sent(acts, to, |m| match m {
        Outgoing::FrameworkError(e) => Some(e.message.clone()),
        _ => None,
    })
}

#[test]
fn register_frameworks_refuses_a_principal_its_role() {
    let mut m = with_acls(
        r#"{"register_frameworks": [
            {"principals": {"values": ["ops"]}, "roles": {"values": ["prod"]}},
            {"principals": {"type": "NONE"}, "roles": {"values": ["prod"]}}]}"#,
    );
    let p = pid("scheduler-1@127.0.0.1:6000");
    let mut info = FrameworkInfo::new("u", "f");
    info.role = "prod".into();
    info.principal = Some("bob".into());
    let acts = m.register_framework(&p, RegisterFrameworkMessage { framework: info.clone() }, at(0));
    assert_eq!(errors(&acts, &p), vec!["Not authorized to use role 'prod' (principal 'bob')".to_string()]);
    assert_eq!(m.frameworks().count(), 0);
    // Reregistration is authorized the same way.
    info.id = Some(FrameworkID::new("m-0007").unwrap());
    let msg = ReregisterFrameworkMessage { framework: info.clone(), failover: true };
    let acts = m.reregister_framework(&p, msg, at(0));
    assert_eq!(errors(&acts, &p), vec!["Not authorized to use role 'prod' (principal 'bob')".to_string()]);
    assert_eq!(m.frameworks().count(), 0);
    // Without a principal: matched as ANY, refused by the NONE rule too.
    info.id = None;
    info.principal = None;
    let acts = m.register_framework(&p, RegisterFrameworkMessage { framework: info.clone() }, at(0));
    assert_eq!(errors(&acts, &p), vec!["Not authorized to use role 'prod'".to_string()]);
    // The principal the rule names gets in; other roles stay open.
    info.principal = Some("ops".into());
    register_framework(&mut m, &p, info.clone());
    let q = pid("scheduler-2@127.0.0.1:6001");
    let mut other = FrameworkInfo::new("u", "g");
    other.principal = Some("bob".into());
    register_framework(&mut m, &q, other);
    assert_eq!(m.frameworks().count(), 2);
}

#[test]
fn run_tasks_refuses_a_user_with_task_unauthorized() {
    let mut w = world_with({
        let mut i = FrameworkInfo::new("alice", "f");
        i.principal = Some("web".into());
        i
    });
    w.m.cfg.acls = rmesos::auth::Acls::parse(
        r#"{"run_tasks": [{"principals": {"type": "NONE"}, "users": {"values": ["root"]}}]}"#,
    )
    .unwrap();
    let offer = w.offer(at(0));
    let mut as_root = w.task("t-root", "cpus:1;mem:128");
    as_root.command.as_mut().unwrap().user = Some("root".into());
    let as_alice = w.task("t-alice", "cpus:1;mem:128");
    let acts = w.launch(vec![offer.id.clone()], vec![as_root, as_alice]);
    let ups = updates(&acts, &w.sched);
    assert_eq!(ups.len(), 1, "{acts:?}");
    assert_eq!(ups[0].status.task_id.as_str(), "t-root");
    assert_eq!(ups[0].status.state, TaskState::Error);
    assert_eq!(ups[0].status.reason, Some(Reason::TaskUnauthorized));
    assert_eq!(ups[0].status.message.as_deref(), Some("Not authorized to launch as user 'root'"));
    // The framework's own user is allowed: that task goes to the slave.
    let runs = run_tasks(&acts, &w.slave);
    assert_eq!(runs.iter().map(|r| r.task.task_id.as_str()).collect::<Vec<_>>(), vec!["t-alice"]);
}

#[test]
fn teardown_frameworks_decides_who_may_end_which_framework() {
    let mut w = world_with({
        let mut i = FrameworkInfo::new("alice", "f");
        i.principal = Some("web".into());
        i
    });
    w.m.cfg.acls = rmesos::auth::Acls::parse(
        r#"{"teardown_frameworks": [
            {"principals": {"values": ["ops"]}, "framework_principals": {"values": ["web"]}},
            {"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}}]}"#,
    )
    .unwrap();
    let offer = w.offer(at(0));
    let t = w.task("t1", "cpus:1;mem:128");
    w.launch(vec![offer.id.clone()], vec![t]);
    let fid = w.fid.clone();
    assert_eq!(w.m.teardown_framework(Some("bob"), &fid, at(1)).unwrap_err(), Teardown::Forbidden);
    assert_eq!(w.m.teardown_framework(None, &fid, at(1)).unwrap_err(), Teardown::Forbidden);
    assert!(w.m.framework(&fid).is_some(), "a refused teardown changes nothing");
    let unknown = FrameworkID::new("nope").unwrap();
    assert_eq!(w.m.teardown_framework(Some("ops"), &unknown, at(1)).unwrap_err(), Teardown::Unknown);
    let acts = w.m.teardown_framework(Some("ops"), &fid, at(1)).unwrap();
    assert_eq!(errors(&acts, &w.sched), vec!["Framework has been removed".to_string()]);
    let shutdowns = sent(&acts, &w.slave, |m| match m {
        Outgoing::ShutdownFramework(s) => Some(s.framework_id.clone()),
        _ => None,
    });
    assert_eq!(shutdowns, vec![fid.clone()]);
    assert!(w.m.framework(&fid).is_none());
    let done = w.m.completed_frameworks().find(|f| f.id == fid).expect("kept among the completed");
    assert_eq!(done.completed_tasks.iter().map(|t| t.state).collect::<Vec<_>>(), vec![TaskState::Killed]);
    assert_eq!(w.m.teardown_framework(Some("ops"), &fid, at(2)).unwrap_err(), Teardown::Unknown, "only once");
}
