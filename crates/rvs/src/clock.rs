//! The real clock: milliseconds since the daemon started, plus one.
//!
//! # Invariants
//! * Monotonic (`std::time::Instant`), never 0 ("never used" in flow statistics).

use std::time::Instant;

use rvs_dpif::clock::Clock;

/// A monotonic OS clock for the datapath and the upcall engine.
#[derive(Debug)]
pub struct MonotonicClock {
    start: Instant,
}

impl MonotonicClock {
    /// A clock that reads 1 ms now.
    pub fn new() -> MonotonicClock {
        MonotonicClock {
            start: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock::new()
    }
}

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }
}
