//! The ACL examples of Mesos's docs/authorization.md, decided as Mesos does.

use super::*;

fn acls(json: &str) -> Acls {
    Acls::parse(json).unwrap()
}

#[test]
fn no_acls_permit_everything() {
    let a = Acls::default();
    assert!(a.allows(Action::RegisterFrameworks, Some("foo"), Some("prod")));
    assert!(a.allows(Action::RunTasks, None, Some("root")));
    assert!(!a.restricts(Action::ViewTasks));
}

#[test]
fn only_foo_may_register_in_analytics() {
    let a = acls(
        r#"{"register_frameworks": [
            {"principals": {"values": ["foo"]}, "roles": {"values": ["analytics"]}},
            {"principals": {"type": "NONE"}, "roles": {"values": ["analytics"]}}]}"#,
    );
    assert!(a.allows(Action::RegisterFrameworks, Some("foo"), Some("analytics")));
    assert!(!a.allows(Action::RegisterFrameworks, Some("bar"), Some("analytics")));
    assert!(!a.allows(Action::RegisterFrameworks, None, Some("analytics")), "no principal is ANY");
    assert!(a.allows(Action::RegisterFrameworks, Some("bar"), Some("web")), "permissive for other roles");
    assert!(a.restricts(Action::RegisterFrameworks));
    assert!(!a.restricts(Action::RunTasks));
}

#[test]
fn foo_only_in_its_roles() {
    let a = acls(
        r#"{"register_frameworks": [
            {"principals": {"values": ["foo"]}, "roles": {"values": ["analytics", "ads"]}},
            {"principals": {"values": ["foo"]}, "roles": {"type": "NONE"}}]}"#,
    );
    assert!(a.allows(Action::RegisterFrameworks, Some("foo"), Some("ads")));
    assert!(!a.allows(Action::RegisterFrameworks, Some("foo"), Some("*")));
    assert!(a.allows(Action::RegisterFrameworks, Some("bar"), Some("*")));
    assert!(a.allows(Action::RegisterFrameworks, None, Some("ads")));
}

#[test]
fn not_permissive_denies_what_no_rule_matches() {
    let a = acls(
        r#"{"permissive": false, "run_tasks": [
            {"principals": {"type": "ANY"}, "users": {"values": ["guest", "bar"]}}]}"#,
    );
    assert!(a.allows(Action::RunTasks, Some("anyone"), Some("guest")));
    assert!(a.allows(Action::RunTasks, None, Some("bar")));
    assert!(!a.allows(Action::RunTasks, Some("anyone"), Some("root")));
    assert!(!a.allows(Action::RegisterFrameworks, Some("anyone"), Some("*")), "no rule: not permissive");
    assert!(a.restricts(Action::ViewTasks), "not permissive restricts every action");
}

#[test]
fn nobody_runs_as_root() {
    let a = acls(r#"{"run_tasks": [{"principals": {"type": "NONE"}, "users": {"values": ["root"]}}]}"#);
    assert!(!a.allows(Action::RunTasks, Some("foo"), Some("root")));
    assert!(!a.allows(Action::RunTasks, None, Some("root")));
    assert!(a.allows(Action::RunTasks, Some("foo"), Some("alice")));
}

#[test]
fn order_decides() {
    let wrong = acls(
        r#"{"teardown_frameworks": [
            {"principals": {"type": "NONE"}, "framework_principals": {"type": "ANY"}},
            {"principals": {"values": ["admin"]}, "framework_principals": {"type": "ANY"}}]}"#,
    );
    assert!(!wrong.allows(Action::TeardownFrameworks, Some("admin"), Some("fw")));
    let right = acls(
        r#"{"teardown_frameworks": [
            {"principals": {"values": ["admin"]}, "framework_principals": {"type": "ANY"}},
            {"principals": {"type": "NONE"}, "framework_principals": {"type": "ANY"}}]}"#,
    );
    assert!(right.allows(Action::TeardownFrameworks, Some("admin"), Some("fw")));
    assert!(right.allows(Action::TeardownFrameworks, Some("admin"), None));
    assert!(!right.allows(Action::TeardownFrameworks, Some("ops"), Some("fw")));
}

#[test]
fn a_request_about_every_object_needs_an_any_rule() {
    let a = acls(
        r#"{"permissive": false, "get_endpoints": [
            {"principals": {"values": ["ops"]}, "paths": {"type": "ANY"}},
            {"principals": {"values": ["foo"]}, "paths": {"values": ["/logging/toggle", "/monitor/statistics"]}}]}"#,
    );
    assert!(a.allows(Action::GetEndpoints, Some("ops"), Some("/metrics/snapshot")));
    assert!(a.allows(Action::GetEndpoints, Some("ops"), None));
    assert!(a.allows(Action::GetEndpoints, Some("foo"), Some("/monitor/statistics")));
    assert!(!a.allows(Action::GetEndpoints, Some("foo"), Some("/metrics/snapshot")));
    assert!(!a.allows(Action::GetEndpoints, Some("foo"), None), "SOME does not allow ANY");
    assert!(!a.allows(Action::GetEndpoints, None, Some("/monitor/statistics")));
}

#[test]
fn mistakes_are_refused_with_the_place_named() {
    let err = |j: &str| Acls::parse(j).unwrap_err().to_string();
    assert!(err(r#"{"run_task": []}"#).contains("unknown action 'run_task'"), "{}", err(r#"{"run_task": []}"#));
    assert!(err(r#"{"run_tasks": [{"principals": {"type": "ANY"}}]}"#).contains("run_tasks[0].users is missing"));
    let e = err(r#"{"run_tasks": [{"principals": {"type": "admin"}, "users": {"type": "ANY"}}]}"#);
    assert!(e.contains("run_tasks[0].principals: unknown type 'admin'"), "{e}");
    let e =
        err(r#"{"run_tasks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}, "users": {"type": "ANY"}}]}"#);
    assert!(e.contains("unknown field 'roles'"), "{e}");
    assert!(err(r#"{"permissive": "no"}"#).contains("permissive"));
    assert!(err("[1]").contains("JSON object"));
    assert!(err("{").contains("invalid ACLs"));
    let e = err(r#"{"run_tasks": [{"principals": {"type": "ANY", "values": ["a"]}, "users": {"type": "ANY"}}]}"#);
    assert!(e.contains("takes no 'values'"), "{e}");
}

#[test]
fn load_reads_inline_json_or_a_file() {
    let inline = r#"{"permissive": false}"#;
    assert!(!Acls::load(inline).unwrap().permissive);
    let dir = std::env::temp_dir().join(format!("rmesos-acls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("acls.json");
    std::fs::write(&f, inline).unwrap();
    assert!(!Acls::load(f.to_str().unwrap()).unwrap().permissive);
    assert!(!Acls::load(&format!("file://{}", f.display())).unwrap().permissive);
    assert!(matches!(Acls::load("/nonexistent/acls.json"), Err(AclsError::Read(..))));
    std::fs::remove_dir_all(&dir).unwrap();
}
