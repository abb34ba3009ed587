//! Resources: parser cases, error cases, and property-style checks of the
//! arithmetic over a deterministic pseudo-random sample of bags.

use super::*;

fn res(s: &str) -> Resources {
    Resources::parse(s).unwrap()
}

#[test]
fn parses_the_mesos_forms() {
    let r = res("cpus:4;mem:2048;disk:1000;ports:[31000-32000]");
    assert_eq!(r.cpus(), 4.0);
    assert_eq!(r.mem(), 2048.0);
    assert_eq!(r.disk(), 1000.0);
    assert_eq!(r.ports(), Ranges::interval(31000, 32000));
    let r = res(" cpus : 0.5 ;\n mem:32 ; ports: [21000-24000, 30000-34000] ; gpus:2;");
    assert_eq!(r.cpus(), 0.5);
    assert_eq!(r.scalar("gpus"), Scalar::from_units(2));
    assert_eq!(r.ports().intervals(), &[(21000, 24000), (30000, 34000)]);
    assert_eq!(res("cpus(*):2").cpus(), 2.0);
    assert!(res("").is_empty());
    assert!(res("cpus:0").is_empty());
    assert_eq!(res("cpus:0.0001;mem:1").to_string(), "mem:1");
}

#[test]
fn displays_back_to_the_parsed_form() {
    for s in
        ["cpus:4;disk:1000;mem:2048;ports:[31000-32000]", "cpus:0.125;mem:32", "ports:[21000-24000,30000-34000]", ""]
    {
        assert_eq!(res(s).to_string(), s);
        assert_eq!(res(&res(s).to_string()), res(s));
    }
    assert_eq!(res("mem:2048;cpus:4").to_string(), "cpus:4;mem:2048");
}

#[test]
fn reports_each_mistake_clearly() {
    use ResourcesError::*;
    let err = |s: &str| Resources::parse(s).unwrap_err();
    assert!(matches!(err("cpus=4"), UnknownFormat { .. }));
    assert!(matches!(err(":4"), BadName { .. }));
    assert!(matches!(err("cp us:4"), BadName { .. }));
    assert!(matches!(err("cpus:four"), BadScalar { .. }));
    assert!(matches!(err("cpus:"), BadScalar { .. }));
    assert!(matches!(err("cpus:-1"), Negative { .. }));
    assert!(matches!(err("cpus:NaN"), NotFinite { .. }));
    assert!(matches!(err("cpus:inf"), NotFinite { .. }));
    assert!(matches!(err("mem:1e13"), TooLarge { .. }));
    assert!(matches!(err("ports:[1-2"), BadRanges { .. }));
    assert!(matches!(err("ports:[x-2]"), BadRanges { .. }));
    assert!(matches!(err("ports:[5-1]"), ReversedRange { begin: 5, end: 1, .. }));
    assert!(matches!(err("ports:[1-10,5-6]"), OverlappingRanges { .. }));
    assert!(matches!(err("cpus:1;cpus:2"), Duplicate { .. }));
    assert!(matches!(err("cpus:[1-2]"), WrongKind { .. }));
    assert!(matches!(err("ports:80"), WrongKind { .. }));
    assert!(matches!(err("disks:{a,b}"), UnsupportedSet { .. }));
    assert!(matches!(err("cpus(web):2"), UnsupportedRole { .. }));
    let many: String = (0..=MAX_RESOURCE_NAMES).map(|i| format!("r{i}:1;")).collect();
    assert_eq!(err(&many), TooMany);
    assert_eq!(err("ports:[1-10,5-6]").to_string(), "resource 'ports': ranges 1-10 and 5-6 overlap");
    assert_eq!(err("cpus:-1").to_string(), "resource 'cpus': -1 is negative");
    assert_eq!(err("cpus").to_string(), "resource 'cpus' is not name:value (e.g. cpus:4;mem:2048;ports:[31000-32000])");
}

#[test]
fn json_is_the_mesos_state_shape_and_decoding_validates() {
    let r = res("cpus:4;mem:2048.5;ports:[31000-32000]");
    let j = serde_json::to_string(&r).unwrap();
    assert_eq!(j, r#"{"cpus":4.0,"mem":2048.5,"ports":"[31000-32000]"}"#);
    assert_eq!(serde_json::from_str::<Resources>(&j).unwrap(), r);
    assert_eq!(serde_json::from_str::<Resources>(r#"{"cpus":2}"#).unwrap(), res("cpus:2"));
    assert!(serde_json::from_str::<Resources>(r#"{"cpus":-1.0}"#).is_err());
    assert!(serde_json::from_str::<Resources>(r#"{"ports":"[5-1]"}"#).is_err());
    assert!(serde_json::from_str::<Resources>(r#"{"a b":1}"#).is_err());
    assert!(serde_json::from_str::<Resources>(r#"{"cpus":true}"#).is_err());
    let b = rmp_serde::to_vec_named(&r).unwrap();
    assert_eq!(rmp_serde::from_slice::<Resources>(&b).unwrap(), r);
}

#[test]
fn arithmetic_examples() {
    let total = res("cpus:4;mem:2048;ports:[31000-32000]");
    let task = res("cpus:0.1;mem:32;ports:[31000-31000]");
    let left = total.checked_sub(&task).unwrap();
    assert_eq!(left, res("cpus:3.9;mem:2016;ports:[31001-32000]"));
    assert!(left.checked_sub(&task).is_none(), "port 31000 is gone");
    assert_eq!(&left + &task, total);
    assert!(res("cpus:1").checked_sub(&res("cpus:1.001")).is_none());
    assert!(res("cpus:1").checked_sub(&res("mem:1")).is_none());
    assert_eq!(res("cpus:1").checked_sub(&res("cpus:1")), Some(Resources::new()));
    assert_eq!(&res("cpus:1") - &res("cpus:5;mem:3"), Resources::new());
    let all: Resources = [res("cpus:1"), res("cpus:2;mem:3")].iter().sum();
    assert_eq!(all, res("cpus:3;mem:3"));
    assert_eq!(Resources::new().with_scalar("cpus", 2.0).unwrap(), res("cpus:2"));
    assert!(Resources::new().with_scalar("cpus", -2.0).is_err());
}

#[test]
fn dominant_share() {
    let total = res("cpus:10;mem:1000;ports:[1-100]");
    assert_eq!(res("cpus:1;mem:500").shares(&total), 0.5);
    assert_eq!(res("cpus:5;mem:100").shares(&total), 0.5);
    assert_eq!(res("cpus:2;ports:[1-100]").shares(&total), 0.2);
    assert_eq!(Resources::new().shares(&total), 0.0);
    assert_eq!(res("gpus:1").shares(&total), 0.0);
    assert_eq!(res("cpus:1").shares(&Resources::new()), 0.0);
}

/// A small deterministic generator (no dependency, same bags every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn resources(&mut self) -> Resources {
        let mut r = Resources::new();
        for name in ["cpus", "mem", "disk", "gpus"] {
            if self.below(3) > 0 {
                r.set_scalar(name, Scalar::from_milli(self.below(20_000)));
            }
        }
        if self.below(2) == 0 {
            let n = self.below(4);
            let ranges = Ranges::from_intervals((0..n).map(|_| {
                let b = self.below(200);
                (b, b + self.below(30))
            }));
            r.set_ranges("ports", ranges);
        }
        r
    }
}

#[test]
fn property_add_then_subtract_is_identity() {
    let mut g = Lcg(1);
    for _ in 0..2000 {
        let (a, b) = (g.resources(), g.resources());
        let sum = &a + &b;
        assert!(sum.contains(&a) && sum.contains(&b), "{a} + {b} = {sum}");
        assert_eq!(&a + &b, &b + &a);
        // Ranges may overlap: removing b's ports also removes a's shared ones,
        // so the identity holds exactly for scalars and for disjoint ports.
        let back = sum.checked_sub(&b).unwrap();
        let a_ports = a.ports();
        if a_ports.difference(&b.ports()) == a_ports {
            assert_eq!(back, a, "({a} + {b}) - {b}");
        }
        for (name, v) in a.scalars() {
            assert_eq!(back.scalar(name), v);
        }
    }
}

#[test]
fn property_contains_matches_checked_sub() {
    let mut g = Lcg(2);
    for _ in 0..2000 {
        let (a, b) = (g.resources(), g.resources());
        assert_eq!(a.contains(&b), a.checked_sub(&b).is_some(), "{a} vs {b}");
        assert!(a.contains(&a));
        assert!(a.contains(&Resources::new()));
        let rest = a.saturating_sub(&b);
        assert!(a.contains(&rest));
        if let Some(rest) = a.checked_sub(&b) {
            assert_eq!(&rest + &b, a, "{a} - {b} + {b}");
        }
    }
}

#[test]
fn property_text_and_json_round_trip() {
    let mut g = Lcg(3);
    for _ in 0..1000 {
        let a = g.resources();
        assert_eq!(res(&a.to_string()), a, "{a}");
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Resources>(&j).unwrap(), a, "{j}");
        assert_eq!(a.is_empty(), a.to_string().is_empty());
    }
}

#[test]
fn property_shares_bounded_and_monotone() {
    let mut g = Lcg(4);
    for _ in 0..1000 {
        let (total, a, b) = (g.resources(), g.resources(), g.resources());
        let part = a.saturating_sub(&a.saturating_sub(&total));
        let s = part.shares(&total);
        assert!((0.0..=1.0).contains(&s), "{part} of {total}: {s}");
        assert!((&a + &b).shares(&total) >= a.shares(&total));
    }
}
