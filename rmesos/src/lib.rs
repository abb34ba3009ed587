//! rmesos (work in progress): see below.

pub mod ids;
pub(crate) mod named_enum;
pub mod resources;
