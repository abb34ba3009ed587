//! The scheduler driver's operator log lines (issue 6): a master detected or
//! none, disconnected, registered and re-registered, a master's exit and a
//! framework error, each with the driver's own pid (`scheduler=<pid>`) and
//! the master's. docs/operations.md "What the logs say" lists them.

use libprocess::testkit::LogCapture;

use super::*;

const ME: &str = "scheduler-1@127.0.0.1:6000";

fn named() -> DriverCore {
    let mut c = core();
    c.set_pid(&pid(ME));
    c
}

#[test]
fn detection_registration_and_disconnection_lines_name_both_pids() {
    let cap = LogCapture::start();
    let mut c = named();
    c.start();
    c.detected(Some(master()), at(0));
    let line = cap.line_at("INFO", &["New master detected at master@127.0.0.1:5050"]);
    assert!(line.contains(&format!("scheduler={ME}")), "{line}");

    c.framework_registered(&master(), FrameworkRegisteredMessage { framework_id: fid(), master_info: info(&master()) });
    let line = cap.line_at("INFO", &["Framework registered with m1-0000"]);
    assert!(line.contains(&format!("scheduler={ME}")) && line.contains("master=master@127.0.0.1:5050"), "{line}");

    // The leader goes away: disconnected, then no master.
    c.detected(None, at(1));
    let line = cap.line_at("INFO", &["Disconnected from master master@127.0.0.1:5050"]);
    assert!(line.contains(&format!("scheduler={ME}")) && line.contains("framework_id=m1-0000"), "{line}");
    let line = cap.line_at("INFO", &["No master detected; detecting again in 1s"]);
    assert!(line.contains(&format!("scheduler={ME}")), "{line}");

    // A new leader: detected, re-registered.
    let second = pid("master@127.0.0.2:5050");
    c.detected(Some(second.clone()), at(2));
    cap.line_at("INFO", &["New master detected at master@127.0.0.2:5050"]);
    c.framework_reregistered(&second, FrameworkReregisteredMessage { framework_id: fid(), master_info: info(&second) });
    let line = cap.line_at("INFO", &["Framework reregistered with m1-0000"]);
    assert!(line.contains(&format!("scheduler={ME}")) && line.contains("master=master@127.0.0.2:5050"), "{line}");

    // The master's process exits: disconnected again, detecting.
    c.exited(&second, at(3));
    cap.line_at("INFO", &["Master master@127.0.0.2:5050 exited; detecting the master again"]);
    assert_eq!(cap.matching(&["Disconnected from master"]).len(), 2, "{:?}", cap.lines());
}

#[test]
fn a_framework_error_is_an_error_line_with_the_message() {
    let cap = LogCapture::start();
    let mut c = named();
    c.start();
    c.detected(Some(master()), at(0));
    c.framework_registered(&master(), FrameworkRegisteredMessage { framework_id: fid(), master_info: info(&master()) });
    c.framework_error(&master(), FrameworkErrorMessage { message: "Framework failed over".into() });
    let line = cap.line_at("ERROR", &["Framework error from master: Framework failed over"]);
    assert!(line.contains(&format!("scheduler={ME}")), "{line}");
    cap.line_at("INFO", &["Aborting framework m1-0000", &format!("scheduler={ME}")]);
}

#[test]
fn a_dead_master_still_named_by_the_detector_is_one_info_line_not_one_per_retry() {
    let cap = LogCapture::start();
    let mut c = named();
    c.start();
    c.detected(Some(master()), at(0));
    c.framework_registered(&master(), FrameworkRegisteredMessage { framework_id: fid(), master_info: info(&master()) });
    // Its ZooKeeper session outlives it: the detector names it again after
    // each link failure, until the session expires.
    for i in 1..5 {
        c.exited(&master(), at(i));
        c.detected(Some(master()), at(i));
    }
    assert_eq!(cap.matching(&["exited; detecting the master again"]).len(), 1, "{:?}", cap.lines());
    assert_eq!(cap.matching(&["New master detected"]).len(), 1, "{:?}", cap.lines());
    // Then a new leader is one INFO line again.
    let second = pid("master@127.0.0.2:5050");
    c.detected(Some(second), at(6));
    cap.line_at("INFO", &["New master detected at master@127.0.0.2:5050"]);
}
