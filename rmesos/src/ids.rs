//! The five identifiers of a Mesos cluster: framework, slave, offer, task and
//! executor ids.
//!
//! Each is a newtype over `String` (serialized as the bare string, as Mesos's
//! `{"value": ..}` protobufs appear in its JSON endpoints only by their value),
//! so that a `TaskID` can never be passed where a `SlaveID` is expected.
//!
//! Who makes them, following Mesos:
//! - the master generates FrameworkIDs (`<master-id>-<nnnn>`), SlaveIDs
//!   (`<master-id>-S<n>`) and OfferIDs (`<master-id>-O<n>`) from its own id, a
//!   random UUID ([`new_master_id`]), and a counter; ids stay unique across
//!   master failovers because each master has a fresh id;
//! - frameworks choose TaskIDs and ExecutorIDs. Those are untrusted input and
//!   become sandbox path components on the slave, so [`validate`](TaskID::validate)
//!   rejects empty ids, `.`/`..`, `/`, whitespace and control characters and
//!   anything longer than [`MAX_ID_LEN`].
//!
//! Construction from a string (`new`, `FromStr`) validates; deserialization
//! does not (so that a master can answer a bad TaskID with TASK_ERROR instead
//! of dropping the whole message): receivers call `validate()` on ids that
//! came from the network.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest id accepted, in bytes: 255, the longest file name most file
/// systems accept (ids become directory names in a slave's sandbox paths).
pub const MAX_ID_LEN: usize = 255;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} '{prefix}...' is longer than {MAX_ID_LEN} bytes")]
    TooLong { kind: &'static str, prefix: String },
    #[error("{kind} '{id}' must not be '.' or '..'")]
    Dots { kind: &'static str, id: String },
    #[error("{kind} '{id}' contains '/'")]
    Slash { kind: &'static str, id: String },
    #[error("{kind} '{id}' contains whitespace or a control character")]
    Whitespace { kind: &'static str, id: String },
}

/// Checks `id` as an id of type `kind` (see the module doc for the rules).
pub fn validate_id(kind: &'static str, id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if id.len() > MAX_ID_LEN {
        let prefix: String = id.chars().take(32).collect();
        return Err(IdError::TooLong { kind, prefix });
    }
    if id == "." || id == ".." {
        return Err(IdError::Dots { kind, id: id.to_string() });
    }
    if id.contains('/') {
        return Err(IdError::Slash { kind, id: id.to_string() });
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdError::Whitespace { kind, id: id.to_string() });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A validated id.
            pub fn new(value: impl Into<String>) -> Result<$name, IdError> {
                let value = value.into();
                validate_id(stringify!($name), &value)?;
                Ok($name(value))
            }

            /// Checks an id that was deserialized from untrusted input.
            pub fn validate(&self) -> Result<(), IdError> {
                validate_id(stringify!($name), &self.0)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<$name, IdError> {
                $name::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A framework's id, assigned by the master at first registration
    /// (`<master-id>-0000`) and kept by the framework across failovers.
    FrameworkID
);
id_type!(
    /// A slave's id, assigned by the master at registration (`<master-id>-S0`).
    SlaveID
);
id_type!(
    /// An offer's id, assigned by the master (`<master-id>-O0`).
    OfferID
);
id_type!(
    /// A task's id, chosen by its framework; unique within the framework.
    TaskID
);
id_type!(
    /// An executor's id, chosen by its framework (the command executor uses
    /// its task's id); unique within the framework.
    ExecutorID
);

/// A master's id: a random UUID, fresh for every master process (Mesos does
/// the same), so that ids derived from it never collide across failovers.
pub fn new_master_id() -> String {
    master_id_from(Uuid::new_v4())
}

/// A version-4 UUID drawn from `rng`. Processes that make ids (status update
/// uuids, a scheduler's process id) draw them from a generator seeded by
/// their node's incarnation or a given seed, which a simulation draws from
/// its own seed: the same seed then gives the same ids.
pub fn uuid_from(rng: &mut impl rand::RngCore) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A master id from a given UUID (deterministic simulations pass a seeded one).
pub fn master_id_from(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}

impl FrameworkID {
    /// The `n`th framework id of master `master_id`: `<master-id>-<nnnn>`
    /// (at least four digits, zero padded, as Mesos prints it).
    pub fn generate(master_id: &str, n: u64) -> FrameworkID {
        FrameworkID(format!("{master_id}-{n:04}"))
    }
}

impl SlaveID {
    /// The `n`th slave id of master `master_id`: `<master-id>-S<n>`.
    pub fn generate(master_id: &str, n: u64) -> SlaveID {
        SlaveID(format!("{master_id}-S{n}"))
    }
}

impl OfferID {
    /// The `n`th offer id of master `master_id`: `<master-id>-O<n>`.
    pub fn generate(master_id: &str, n: u64) -> OfferID {
        OfferID(format!("{master_id}-O{n}"))
    }
}

impl TaskID {
    /// A fresh random task id (a UUID), for frameworks with no naming scheme.
    pub fn random() -> TaskID {
        TaskID(Uuid::new_v4().hyphenated().to_string())
    }
}

impl ExecutorID {
    /// A fresh random executor id (a UUID).
    pub fn random() -> ExecutorID {
        ExecutorID(Uuid::new_v4().hyphenated().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "8a1c5e52-3c1e-4f61-9c2a-0e3d3f1b2c4d";

    #[test]
    fn uuids_from_a_seeded_generator_replay_and_are_version_4() {
        use rand::SeedableRng;
        let draw = |seed| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            (uuid_from(&mut rng), uuid_from(&mut rng))
        };
        let (a, b) = draw(7);
        assert_eq!(draw(7), (a, b));
        assert_ne!(a, b);
        assert_ne!(draw(8).0, a);
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn generated_ids_follow_mesos_formats() {
        assert_eq!(FrameworkID::generate(MASTER, 0).as_str(), format!("{MASTER}-0000"));
        assert_eq!(FrameworkID::generate(MASTER, 42).as_str(), format!("{MASTER}-0042"));
        assert_eq!(FrameworkID::generate(MASTER, 12345).as_str(), format!("{MASTER}-12345"));
        assert_eq!(SlaveID::generate(MASTER, 3).as_str(), format!("{MASTER}-S3"));
        assert_eq!(OfferID::generate(MASTER, 17).as_str(), format!("{MASTER}-O17"));
        for id in [
            FrameworkID::generate(MASTER, 1).validate(),
            SlaveID::generate(MASTER, 1).validate(),
            OfferID::generate(MASTER, 1).validate(),
        ] {
            id.unwrap();
        }
    }

    #[test]
    fn master_ids_are_uuids_and_fresh() {
        let a = new_master_id();
        let b = new_master_id();
        assert_ne!(a, b);
        assert!(Uuid::parse_str(&a).is_ok());
        assert_eq!(master_id_from(Uuid::nil()), "00000000-0000-0000-0000-000000000000");
        assert_ne!(TaskID::random(), TaskID::random());
        ExecutorID::random().validate().unwrap();
    }

    #[test]
    fn user_ids_are_validated() {
        assert_eq!(TaskID::new("task-1").unwrap().as_str(), "task-1");
        assert_eq!("web.1_a:b".parse::<ExecutorID>().unwrap().to_string(), "web.1_a:b");
        assert_eq!(TaskID::new(""), Err(IdError::Empty { kind: "TaskID" }));
        assert!(matches!(TaskID::new("a/b"), Err(IdError::Slash { .. })));
        assert!(matches!(TaskID::new("a b"), Err(IdError::Whitespace { .. })));
        assert!(matches!(TaskID::new("a\tb"), Err(IdError::Whitespace { .. })));
        assert!(matches!(TaskID::new("a\nb"), Err(IdError::Whitespace { .. })));
        assert!(matches!(TaskID::new("a\u{7}b"), Err(IdError::Whitespace { .. })));
        assert!(matches!(ExecutorID::new(".."), Err(IdError::Dots { .. })));
        assert!(matches!(ExecutorID::new("."), Err(IdError::Dots { .. })));
        TaskID::new("x".repeat(MAX_ID_LEN)).unwrap();
        assert!(matches!(TaskID::new("x".repeat(MAX_ID_LEN + 1)), Err(IdError::TooLong { .. })));
        let e = ExecutorID::new("a/b").unwrap_err().to_string();
        assert_eq!(e, "ExecutorID 'a/b' contains '/'");
    }

    #[test]
    fn serde_is_the_bare_string_and_does_not_validate() {
        let t = TaskID::new("t1").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"t1\"");
        assert_eq!(serde_json::from_str::<TaskID>("\"t1\"").unwrap(), t);
        let bad: TaskID = serde_json::from_str("\"a/b\"").unwrap();
        assert!(bad.validate().is_err());
        assert_eq!(format!("{t:?}"), "TaskID(\"t1\")");
    }
}
