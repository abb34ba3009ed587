//! The authenticatee core against a scripted master: the happy path, a
//! refusal, errors and timeouts retried with a growing backoff, and
//! messages from others or from a finished attempt ignored.

use std::time::Duration;

use libprocess::Upid;

use super::*;

fn pid(s: &str) -> Upid {
    s.parse().unwrap()
}

fn client() -> (Authenticatee, Upid) {
    let me = pid("slave(1)@127.0.0.2:5051");
    (Authenticatee::new(me, Credential::new("p", "s"), 7), pid("master@127.0.0.1:5050"))
}

fn timers(acts: &[ClientAction]) -> Vec<(Duration, u64)> {
    acts.iter()
        .filter_map(|a| match a {
            ClientAction::Timer { after, attempt } => Some((*after, *attempt)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_exchange_in_order_ends_authenticated() {
    let (mut c, m) = client();
    let acts = c.start(&m);
    assert!(
        matches!(&acts[0], ClientAction::Send(to, ClientOut::Authenticate(a)) if *to == m && a.pid.to_string() == "slave(1)@127.0.0.2:5051")
    );
    assert_eq!(timers(&acts), vec![(DEFAULT_ATTEMPT_TIMEOUT, 1)]);
    let acts = c.mechanisms(&m, AuthenticationMechanismsMessage { mechanisms: vec!["CRAM-MD5".into()] });
    assert!(matches!(&acts[..], [ClientAction::Send(_, ClientOut::Start(s))] if s.mechanism == "CRAM-MD5"));
    let challenge = b"<abc.1@rmesos>".to_vec();
    let acts = c.step(&m, AuthenticationStepMessage { data: challenge.clone() });
    assert_eq!(
        acts,
        vec![ClientAction::Send(
            m.clone(),
            ClientOut::Step(AuthenticationStepMessage { data: cram_md5::respond("p", "s", &challenge) })
        )]
    );
    assert_eq!(c.completed(&m), vec![ClientAction::Authenticated(m.clone())]);
    // Late timers and repeated answers change nothing.
    assert_eq!(c.timer(1), vec![]);
    assert_eq!(c.completed(&m), vec![]);
}

#[test]
fn a_refusal_is_final() {
    let (mut c, m) = client();
    c.start(&m);
    c.mechanisms(&m, AuthenticationMechanismsMessage { mechanisms: vec!["CRAM-MD5".into()] });
    c.step(&m, AuthenticationStepMessage { data: b"x".to_vec() });
    assert_eq!(c.failed(&m), vec![ClientAction::Refused(m.clone())]);
    assert_eq!(c.timer(1), vec![]);
}

#[test]
fn errors_and_timeouts_retry_with_a_growing_backoff() {
    let (mut c, m) = client();
    c.start(&m);
    let acts = c.error(&m, AuthenticationErrorMessage { error: "too many failed authentications".into() });
    let [(after, attempt)] = timers(&acts)[..] else { panic!("{acts:?}") };
    assert!(after >= DEFAULT_BACKOFF_FACTOR / 2 && after <= DEFAULT_BACKOFF_FACTOR, "{after:?}");
    // The first attempt's own timeout is stale now.
    assert_eq!(c.timer(1), vec![]);
    // The backoff ends: a new attempt, which times out.
    let acts = c.timer(attempt);
    assert!(matches!(&acts[0], ClientAction::Send(_, ClientOut::Authenticate(_))));
    let [(_, attempt)] = timers(&acts)[..] else { panic!("{acts:?}") };
    let acts = c.timer(attempt);
    let [(after, _)] = timers(&acts)[..] else { panic!("{acts:?}") };
    assert!(after >= DEFAULT_BACKOFF_FACTOR && after <= DEFAULT_BACKOFF_FACTOR * 2, "doubled: {after:?}");
    // No CRAM-MD5 offered: retried too.
    let (mut c, m) = client();
    c.start(&m);
    assert_eq!(
        timers(&c.mechanisms(&m, AuthenticationMechanismsMessage { mechanisms: vec!["PLAIN".into()] })).len(),
        1
    );
}

#[test]
fn messages_from_another_pid_or_out_of_turn_are_ignored() {
    let (mut c, m) = client();
    let stranger = pid("master@127.0.0.9:5050");
    c.start(&m);
    assert_eq!(
        c.mechanisms(&stranger, AuthenticationMechanismsMessage { mechanisms: vec!["CRAM-MD5".into()] }),
        vec![]
    );
    assert_eq!(c.step(&m, AuthenticationStepMessage { data: b"early".to_vec() }), vec![]);
    assert_eq!(c.completed(&m), vec![], "no response was sent yet");
    assert_eq!(c.failed(&stranger), vec![]);
    assert_eq!(c.error(&stranger, AuthenticationErrorMessage { error: "x".into() }), vec![]);
    c.stop();
    assert_eq!(c.mechanisms(&m, AuthenticationMechanismsMessage { mechanisms: vec!["CRAM-MD5".into()] }), vec![]);
}
