//! `RMESOS_SEED` decides the seed of `Sim::new()`. Alone in its test binary,
//! because it sets an environment variable the other tests would read.

use std::time::Duration;

use libprocess::testkit::Sim;
use rand::Rng;

fn run(sim: Sim) -> (u64, u64) {
    actix_rt::System::new().block_on(async move {
        let a = sim.node("10.0.0.1:5050");
        let b = sim.node("10.0.0.2:5050");
        let x: u64 = sim.with_rng(|r| r.gen());
        let (pa, pb) = (a.pid("a").unwrap(), b.pid("b").unwrap());
        // Nobody runs "b": the frames still cross (and are dropped there).
        a.send(&pa, &pb, Ping { x });
        sim.advance(Duration::from_secs(1)).await;
        (sim.seed(), sim.trace_hash())
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Ping {
    x: u64,
}
libprocess::message!(Ping, "test.Ping");

#[test]
fn rmesos_seed_replays_a_run_and_a_pinned_seed_wins() {
    std::env::set_var("RMESOS_SEED", "123456789");
    let (seed1, hash1) = run(Sim::new());
    let (seed2, hash2) = run(Sim::new());
    assert_eq!((seed1, seed2), (123456789, 123456789));
    assert_eq!(hash1, hash2);
    // A seed pinned in code ignores the environment.
    let (seed3, hash3) = run(Sim::builder().seed(5).build());
    assert_eq!(seed3, 5);
    assert_ne!(hash3, hash1);
    std::env::remove_var("RMESOS_SEED");
}
