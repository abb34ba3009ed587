//! Unit tests of the status-update manager: retry schedule, ordering, one
//! update in flight per task, pause/resume, duplicates, terminal streams.

use std::time::Duration;

use libprocess::Time;
use rmesos::ids::{FrameworkID, TaskID};
use rmesos::{StatusUpdate, TaskState, TaskStatus};
use uuid::Uuid;

use super::*;

fn fid() -> FrameworkID {
    FrameworkID::new("f").unwrap()
}

fn upd(task: &str, state: TaskState, n: u128) -> StatusUpdate {
    let st = TaskStatus::new(TaskID::new(task).unwrap(), state);
    StatusUpdate::new(fid(), None, None, st, 1.0, Some(Uuid::from_u128(n)))
}

fn at(secs: u64) -> Time {
    Time::default() + Duration::from_secs(secs)
}

fn uuids(out: &Output) -> Vec<u128> {
    out.forward.iter().map(|u| u.uuid.unwrap().as_u128()).collect()
}

fn running() -> StatusUpdateManager {
    let mut m = StatusUpdateManager::new();
    m.resume(at(0));
    m
}

#[test]
fn first_update_is_forwarded_at_once_and_the_rest_wait_for_acks() {
    let mut m = running();
    let (r, out) = m.update(upd("t", TaskState::Starting, 1), at(0)).unwrap();
    assert_eq!(r, Received::New);
    assert_eq!(uuids(&out), [1]);
    assert_eq!(out.changed, vec![(fid(), TaskID::new("t").unwrap())]);
    let (_, out) = m.update(upd("t", TaskState::Running, 2), at(0)).unwrap();
    assert!(out.forward.is_empty(), "one update in flight per task");
    let (_, out) = m.update(upd("t", TaskState::Finished, 3), at(0)).unwrap();
    assert!(out.forward.is_empty());
    // The front carries the stream's latest state.
    let (_, out) = m.update(upd("other", TaskState::Running, 9), at(0)).unwrap();
    assert_eq!(uuids(&out), [9], "streams are independent");

    let t = TaskID::new("t").unwrap();
    let (acked, out) = m.acknowledge(&fid(), &t, Uuid::from_u128(1), at(1)).unwrap();
    assert!(!acked.terminated);
    assert_eq!(uuids(&out), [2]);
    assert_eq!(out.forward[0].latest_state, Some(TaskState::Finished));
    let (_, out) = m.acknowledge(&fid(), &t, Uuid::from_u128(2), at(2)).unwrap();
    assert_eq!(uuids(&out), [3]);
    let (acked, out) = m.acknowledge(&fid(), &t, Uuid::from_u128(3), at(3)).unwrap();
    assert!(acked.terminated && out.forward.is_empty());
    assert!(!m.has_pending(&fid(), &t));
    assert_eq!(
        m.acknowledge(&fid(), &t, Uuid::from_u128(3), at(3)).unwrap_err(),
        UpdateError::UnknownStream(t.clone())
    );
}

#[test]
fn retries_start_at_10s_and_double_up_to_10_minutes() {
    let mut m = running();
    m.update(upd("t", TaskState::Running, 1), at(0)).unwrap();
    assert_eq!(m.next_retry(), Some(at(10)));
    assert!(m.tick(at(9)).forward.is_empty());
    let mut sent_at = Vec::new();
    let mut now = 0;
    while sent_at.len() < 9 {
        now += 1;
        if !m.tick(at(now)).forward.is_empty() {
            sent_at.push(now);
        }
    }
    // 10, +20, +40, +80, +160, +320, then capped at +600.
    assert_eq!(sent_at, [10, 30, 70, 150, 310, 630, 1230, 1830, 2430]);
    // An ack stops the retries.
    m.acknowledge(&fid(), &TaskID::new("t").unwrap(), Uuid::from_u128(1), at(now)).unwrap();
    assert_eq!(m.next_retry(), None);
    assert!(m.tick(at(now + 10_000)).forward.is_empty());
}

#[test]
fn paused_manager_sends_nothing_and_resume_resends_fronts_in_order() {
    let mut m = StatusUpdateManager::new();
    assert!(m.is_paused(), "starts paused until registered");
    let (_, out) = m.update(upd("a", TaskState::Running, 1), at(0)).unwrap();
    assert!(out.forward.is_empty());
    m.update(upd("a", TaskState::Finished, 2), at(0)).unwrap();
    m.update(upd("b", TaskState::Running, 3), at(0)).unwrap();
    assert!(m.tick(at(1000)).forward.is_empty());
    let out = m.resume(at(1000));
    assert_eq!(uuids(&out), [1, 3], "only the front of each stream");
    assert_eq!(m.next_retry(), Some(at(1010)));
    m.pause();
    assert!(m.tick(at(5000)).forward.is_empty());
    // An ack while paused advances the stream but does not send.
    let (_, out) = m.acknowledge(&fid(), &TaskID::new("a").unwrap(), Uuid::from_u128(1), at(5000)).unwrap();
    assert!(out.forward.is_empty());
    assert_eq!(uuids(&m.resume(at(6000))), [2, 3]);
}

#[test]
fn duplicates_wrong_acks_and_closed_streams_are_refused() {
    let mut m = running();
    m.update(upd("t", TaskState::Running, 1), at(0)).unwrap();
    let (r, out) = m.update(upd("t", TaskState::Running, 1), at(0)).unwrap();
    assert_eq!(r, Received::Duplicate);
    assert_eq!(out, Output::default());
    let t = TaskID::new("t").unwrap();
    assert!(matches!(m.acknowledge(&fid(), &t, Uuid::from_u128(7), at(0)), Err(UpdateError::UnexpectedAck { .. })));
    m.update(upd("t", TaskState::Failed, 2), at(0)).unwrap();
    assert_eq!(m.update(upd("t", TaskState::Running, 3), at(0)).unwrap_err(), UpdateError::StreamClosed(t.clone()));
    let mut no_uuid = upd("t", TaskState::Running, 4);
    no_uuid.uuid = None;
    assert_eq!(m.update(no_uuid, at(0)).unwrap_err(), UpdateError::NoUuid(t));
}

#[test]
fn pending_list_is_bounded() {
    let mut m = StatusUpdateManager::new();
    for n in 0..MAX_PENDING_UPDATES_PER_TASK as u128 {
        m.update(upd("t", TaskState::Running, n), at(0)).unwrap();
    }
    assert!(matches!(m.update(upd("t", TaskState::Running, 1_000_000), at(0)), Err(UpdateError::TooManyPending(_))));
}

#[test]
fn checkpointed_pending_updates_recover_and_cleanup_drops_a_framework() {
    let mut m = StatusUpdateManager::new();
    m.update(upd("t", TaskState::Running, 1), at(0)).unwrap();
    m.update(upd("t", TaskState::Finished, 2), at(0)).unwrap();
    let saved = m.pending(&fid(), &TaskID::new("t").unwrap());
    assert_eq!(saved.len(), 2);
    let mut r = StatusUpdateManager::new();
    r.recover(saved.clone());
    r.recover(saved);
    assert_eq!(uuids(&r.resume(at(0))), [1]);
    assert_eq!(r.pending(&fid(), &TaskID::new("t").unwrap()).len(), 2, "recovery is idempotent");
    assert_eq!(r.cleanup(&fid()).len(), 1);
    assert!(r.resume(at(1)).forward.is_empty());
}
