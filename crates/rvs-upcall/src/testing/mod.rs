//! Test support shipped with the crate (so that integration tests and benches can use it): an
//! in-memory datapath ([`FakeDpif`]), a rule-list translator ([`FakeTranslator`]) and the
//! deterministic [`Harness`] that drives an engine over them on a virtual clock.
//!
//! # Invariants
//! * Nothing here starts a thread or reads the OS clock.

mod fake_dpif;
mod fake_xlate;
mod harness;

pub use fake_dpif::{FakeCounters, FakeDpif, FakeFlow, SendResult};
pub use fake_xlate::{FakeCache, FakeRule, FakeTranslator, TABLE_MISS};
pub use harness::{Harness, udp_flow};
