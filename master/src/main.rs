//! `rmesos-master`: see the library crate.
fn main() {}
