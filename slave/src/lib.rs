//! The rmesos slave (agent).
pub mod core;
pub mod paths;
pub mod status_update_manager;
pub mod flags;
pub mod machine;
