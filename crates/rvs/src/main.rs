//! The `rvs` binary.
fn main() {}
