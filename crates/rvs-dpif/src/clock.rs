//! Time for the datapath: a [`Clock`] trait, and a [`VirtualClock`] that tests move by hand.
//!
//! The core crates never read the OS clock. The daemon hands the datapath (and the upcall engine) a
//! clock that reads a monotonic OS clock; tests hand them a [`VirtualClock`], which is what lets them
//! step time the way OVS's `time/warp` does.
//!
//! The real clock belongs to the binary (it cannot live in `rvs-netdev`, which this crate depends
//! on, since it implements this crate's trait): a struct holding a start `std::time::Instant` whose
//! `now_ms` is the elapsed milliseconds plus 1 (so that it never reads 0, "never used").
//!
//! # Invariants
//! * `now_ms` never goes backwards on one clock (a [`VirtualClock`] only moves forward).
//! * Times are milliseconds; 0 is reserved by flow statistics for "never used", so a clock used with
//!   a datapath should start above 0 (as a monotonic OS clock does).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A source of the current time in milliseconds.
pub trait Clock: Send + Sync {
    /// The current time, in ms, on this clock's monotonic scale.
    fn now_ms(&self) -> u64;
}

/// A clock that moves only when told to (tests, deterministic runs).
pub struct VirtualClock {
    now: AtomicU64,
}

impl VirtualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> VirtualClock {
        VirtualClock {
            now: AtomicU64::new(start_ms),
        }
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::AcqRel);
    }

    /// Moves the clock to `ms` if that is later than now; an earlier time is ignored.
    pub fn set(&self, ms: u64) {
        self.now.fetch_max(ms, Ordering::AcqRel);
    }
}

impl Default for VirtualClock {
    /// A clock at 1 ms: above the "never used" 0 of flow statistics.
    fn default() -> Self {
        VirtualClock::new(1)
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::Acquire)
    }
}

impl fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VirtualClock({} ms)", self.now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_moves_only_forward() {
        let clock = VirtualClock::new(100);
        assert_eq!(clock.now_ms(), 100);
        clock.advance(50);
        assert_eq!(clock.now_ms(), 150);
        clock.set(120);
        assert_eq!(clock.now_ms(), 150);
        clock.set(500);
        assert_eq!(clock.now_ms(), 500);
        assert_eq!(VirtualClock::default().now_ms(), 1);
    }
}
