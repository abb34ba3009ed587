//! The rmesos master (binary `rmesos-master`).

pub mod allocator;
pub mod core;
