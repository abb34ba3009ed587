//! The authenticator core against hand-written clients and against the
//! real authenticatee core: success, wrong secrets, replays, sessions
//! replaced and timed out, fuzzed messages, and 1,000 failed attempts.

use std::time::Duration;

use libprocess::{Time, Upid};
use rand::{Rng, SeedableRng};

use super::*;
use crate::auth::authenticatee::{Authenticatee, ClientAction, ClientOut};
use crate::auth::credentials::{Credential, Credentials};

fn pid(s: &str) -> Upid {
    s.parse().unwrap()
}

fn server() -> Authenticator {
    let creds = Credentials::new([Credential::new("slave", "s3cret"), Credential::new("fw", "other")]);
    Authenticator::new(creds, DEFAULT_TIMEOUT, [9; 32])
}

fn at(secs: u64) -> Time {
    Time::default() + Duration::from_secs(secs)
}

/// The messages `acts` send, to whom.
fn sent(acts: &[ServerAction]) -> Vec<(Upid, ServerOut)> {
    acts.iter()
        .filter_map(|a| match a {
            ServerAction::Send(to, m) => Some((to.clone(), m.clone())),
            _ => None,
        })
        .collect()
}

/// Runs one exchange by hand up to the challenge; returns it.
fn challenge(a: &mut Authenticator, client: &Upid, now: Time) -> Vec<u8> {
    let acts = a.authenticate(client, AuthenticateMessage { pid: client.clone() }, now);
    assert!(matches!(&sent(&acts)[0].1, ServerOut::Mechanisms(m) if m.mechanisms == ["CRAM-MD5"]), "{acts:?}");
    let acts = a.start(client, AuthenticationStartMessage { mechanism: "CRAM-MD5".into(), data: vec![] });
    match &sent(&acts)[..] {
        [(_, ServerOut::Step(s))] => s.data.clone(),
        other => panic!("{other:?}"),
    }
}

fn answer(a: &mut Authenticator, client: &Upid, data: Vec<u8>, now: Time) -> ServerOut {
    let acts = a.step(client, AuthenticationStepMessage { data }, now);
    sent(&acts).pop().expect("an answer").1
}

/// Drives an authenticatee and the authenticator against each other until
/// the client's outcome.
fn exchange(a: &mut Authenticator, c: &mut Authenticatee, master: &Upid, client: &Upid, now: Time) -> ClientAction {
    let mut to_server: Vec<ClientOut> = Vec::new();
    let collect = |acts: Vec<ClientAction>, to_server: &mut Vec<ClientOut>| -> Option<ClientAction> {
        for act in acts {
            match act {
                ClientAction::Send(_, m) => to_server.push(m),
                ClientAction::Timer { .. } => {}
                done => return Some(done),
            }
        }
        None
    };
    collect(c.start(master), &mut to_server);
    loop {
        let m = to_server.remove(0);
        let acts = match m {
            ClientOut::Authenticate(m) => a.authenticate(client, m, now),
            ClientOut::Start(m) => a.start(client, m),
            ClientOut::Step(m) => a.step(client, m, now),
        };
        for (_, out) in sent(&acts) {
            let acts = match out {
                ServerOut::Mechanisms(m) => c.mechanisms(master, m),
                ServerOut::Step(m) => c.step(master, m),
                ServerOut::Completed(_) => c.completed(master),
                ServerOut::Failed(_) => c.failed(master),
                ServerOut::Error(m) => c.error(master, m),
            };
            if let Some(done) = collect(acts, &mut to_server) {
                return done;
            }
        }
        if to_server.is_empty() {
            panic!("the exchange stalled");
        }
    }
}

#[test]
fn a_right_secret_authenticates_its_principal_and_a_wrong_one_is_refused() {
    let mut a = server();
    let master = pid("master@127.0.0.1:5050");
    let good = pid("slave(1)@127.0.0.2:5051");
    let mut c = Authenticatee::new(good.clone(), Credential::new("slave", "s3cret"), 1);
    assert_eq!(exchange(&mut a, &mut c, &master, &good, at(0)), ClientAction::Authenticated(master.clone()));
    assert_eq!(a.principal(&good), Some("slave"));
    assert_eq!(a.sessions(), 0);

    let bad = pid("slave(1)@127.0.0.3:5051");
    let mut c = Authenticatee::new(bad.clone(), Credential::new("slave", "guess"), 2);
    assert_eq!(exchange(&mut a, &mut c, &master, &bad, at(0)), ClientAction::Refused(master.clone()));
    assert_eq!(a.principal(&bad), None);
    // An unknown principal is refused the same way.
    let mut c = Authenticatee::new(bad.clone(), Credential::new("nobody", "s3cret"), 3);
    assert_eq!(exchange(&mut a, &mut c, &master, &bad, at(0)), ClientAction::Refused(master));
    a.forget(&good);
    assert_eq!(a.principal(&good), None);
}

#[test]
fn every_attempt_gets_a_fresh_challenge_so_a_recorded_response_fails() {
    let mut a = server();
    let client = pid("scheduler-1@127.0.0.2:40000");
    let first = challenge(&mut a, &client, at(0));
    let response = cram_md5::respond("fw", "other", &first);
    assert!(matches!(answer(&mut a, &client, response.clone(), at(0)), ServerOut::Completed(_)));
    // An eavesdropper replays the response on a new exchange.
    let second = challenge(&mut a, &client, at(1));
    assert_ne!(first, second);
    assert!(matches!(answer(&mut a, &client, response, at(1)), ServerOut::Failed(_)));
    assert_eq!(a.principal(&client), None, "a new attempt clears the earlier authentication");
}

#[test]
fn a_session_is_replaced_by_a_new_attempt_and_ends_when_it_times_out() {
    let mut a = server();
    let client = pid("slave(1)@127.0.0.2:5051");
    let acts = a.authenticate(&client, AuthenticateMessage { pid: client.clone() }, at(0));
    let Some(ServerAction::Timeout { session: first, after, .. }) = acts.get(1).cloned() else { panic!("{acts:?}") };
    assert_eq!(after, DEFAULT_TIMEOUT);
    let acts = a.authenticate(&client, AuthenticateMessage { pid: client.clone() }, at(1));
    let Some(ServerAction::Timeout { session: second, .. }) = acts.get(1).cloned() else { panic!("{acts:?}") };
    assert_eq!(a.timeout(&client, first), vec![], "the replaced session's timer is stale");
    assert_eq!(a.sessions(), 1);
    assert!(matches!(&sent(&a.timeout(&client, second))[0].1, ServerOut::Error(e) if e.error.contains("timed out")));
    assert_eq!(a.sessions(), 0);
}

#[test]
fn out_of_order_foreign_and_garbage_messages_get_errors_never_a_pass() {
    let mut a = server();
    let client = pid("slave(1)@127.0.0.2:5051");
    let other = pid("slave(2)@127.0.0.2:5052");
    // Steps with no session, a start with no session.
    assert!(matches!(
        &sent(&a.step(&client, AuthenticationStepMessage { data: b"slave x".to_vec() }, at(0)))[0].1,
        ServerOut::Error(_)
    ));
    assert!(matches!(
        &sent(&a.start(&client, AuthenticationStartMessage { mechanism: "CRAM-MD5".into(), data: vec![] }))[0].1,
        ServerOut::Error(_)
    ));
    // Someone authenticating for another pid.
    let acts = a.authenticate(&client, AuthenticateMessage { pid: other.clone() }, at(0));
    assert!(matches!(&sent(&acts)[0].1, ServerOut::Error(e) if e.error.contains("only the sender")));
    // A mechanism nobody offered.
    a.authenticate(&client, AuthenticateMessage { pid: client.clone() }, at(0));
    let acts = a.start(&client, AuthenticationStartMessage { mechanism: "PLAIN".into(), data: vec![] });
    assert!(matches!(&sent(&acts)[0].1, ServerOut::Error(e) if e.error.contains("unsupported mechanism")));
    // A step before the start.
    a.authenticate(&client, AuthenticateMessage { pid: client.clone() }, at(0));
    assert!(matches!(
        &sent(&a.step(&client, AuthenticationStepMessage { data: vec![] }, at(0)))[0].1,
        ServerOut::Error(_)
    ));

    // Fuzzed responses: random bytes, random lengths, never a pass.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    for i in 0..2000u32 {
        let c = pid(&format!("fuzz@10.{}.{}.{}:1", i % 7, (i / 7) % 250, i % 250));
        challenge(&mut a, &c, at(0));
        let len = rng.gen_range(0..80);
        let mut data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if i % 3 == 0 {
            data = format!("slave {}", String::from_utf8_lossy(&data)).into_bytes();
        }
        assert!(matches!(answer(&mut a, &c, data, at(0)), ServerOut::Failed(_)));
        assert_eq!(a.principal(&c), None);
    }
    assert_eq!(a.sessions(), 0);
}

#[test]
fn a_thousand_failed_attempts_from_one_ip_are_slowed_while_others_get_in() {
    let mut a = server();
    let attacker = pid("x@127.0.0.66:1");
    let (mut checked, mut slowed) = (0, 0);
    let mut now = at(0);
    for _ in 0..1000 {
        now = now + Duration::from_millis(100);
        let acts = a.authenticate(&attacker, AuthenticateMessage { pid: attacker.clone() }, now);
        match &sent(&acts)[0].1 {
            ServerOut::Mechanisms(_) => {
                let c = match &sent(
                    &a.start(&attacker, AuthenticationStartMessage { mechanism: "CRAM-MD5".into(), data: vec![] }),
                )[0]
                .1
                {
                    ServerOut::Step(s) => s.data.clone(),
                    other => panic!("{other:?}"),
                };
                assert!(matches!(
                    answer(&mut a, &attacker, cram_md5::respond("slave", "guess", &c), now),
                    ServerOut::Failed(_)
                ));
                checked += 1;
            }
            ServerOut::Error(e) => {
                assert!(e.error.starts_with("too many failed authentications from 127.0.0.66"), "{e:?}");
                slowed += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    // 100 s of attempts: the free ones, then one per doubling backoff
    // (1, 2, 4, 8, 16, 32, 60, ... s).
    assert!(checked <= FREE_FAILURES as usize + 8, "{checked} responses were checked");
    assert_eq!(checked + slowed, 1000);
    // Another host is not slowed down.
    let good = pid("slave(1)@127.0.0.2:5051");
    let mut c = Authenticatee::new(good.clone(), Credential::new("slave", "s3cret"), 1);
    let master = pid("master@127.0.0.1:5050");
    assert_eq!(exchange(&mut a, &mut c, &master, &good, now), ClientAction::Authenticated(master.clone()));
    // Once the backoff is over, the attacker's host may try again.
    let later = now + MAX_BACKOFF;
    let acts = a.authenticate(&attacker, AuthenticateMessage { pid: attacker.clone() }, later);
    assert!(matches!(&sent(&acts)[0].1, ServerOut::Mechanisms(_)));
}

#[test]
fn without_credentials_every_attempt_errs() {
    let mut a = Authenticator::new(Credentials::default(), DEFAULT_TIMEOUT, [0; 32]);
    let client = pid("slave(1)@127.0.0.2:5051");
    let acts = a.authenticate(&client, AuthenticateMessage { pid: client.clone() }, at(0));
    assert!(matches!(&sent(&acts)[0].1, ServerOut::Error(e) if e.error.starts_with("No authenticator loaded")));
}
