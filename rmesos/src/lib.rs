//! rmesos (work in progress): see below.

pub mod attributes;
pub mod duration;
pub mod ids;
pub mod info;
pub mod messages;
pub(crate) mod named_enum;
pub mod resources;
pub mod task;
