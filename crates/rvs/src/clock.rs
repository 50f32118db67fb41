//! The real clock: milliseconds since the daemon started, plus one, plus any `time/warp`.
//!
//! OVS's `time/stop` and `time/warp` are supported the same way: `stop` freezes the monotonic
//! time (later `warp`s still move it), `warp` adds to it. Tests and the conformance runner use
//! them to step idle expiry and revalidation without waiting.
//!
//! # Invariants
//! * Monotonic: the real part comes from `std::time::Instant`, the stop point only ever freezes
//!   a value already read, and warps only add.
//! * Never 0 ("never used" in flow statistics).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rvs_dpif::clock::Clock;

/// A monotonic OS clock for the datapath and the upcall engine, with `time/stop` and `time/warp`.
#[derive(Debug)]
pub struct MonotonicClock {
    start: Instant,
    /// Milliseconds added by warps.
    warp_ms: AtomicU64,
    /// Whether the real part is frozen.
    stopped: AtomicBool,
    /// The frozen real part, in ms.
    stopped_at: AtomicU64,
}

impl MonotonicClock {
    /// A clock that reads 1 ms now.
    pub fn new() -> MonotonicClock {
        MonotonicClock {
            start: Instant::now(),
            warp_ms: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            stopped_at: AtomicU64::new(0),
        }
    }

    fn real_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// `time/stop`: freezes the real part of the clock.
    pub fn stop(&self) {
        if !self.stopped.load(Ordering::Acquire) {
            self.stopped_at.store(self.real_ms(), Ordering::Release);
            self.stopped.store(true, Ordering::Release);
        }
    }

    /// Whether `time/stop` froze the clock.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Moves the clock forward by `ms`.
    pub fn warp(&self, ms: u64) {
        self.warp_ms.fetch_add(ms, Ordering::AcqRel);
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock::new()
    }
}

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        let real = if self.stopped.load(Ordering::Acquire) {
            self.stopped_at.load(Ordering::Acquire)
        } else {
            self.real_ms()
        };
        real.saturating_add(self.warp_ms.load(Ordering::Acquire))
            .saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_freezes_and_warp_adds() {
        let c = MonotonicClock::new();
        let t0 = c.now_ms();
        assert!(t0 >= 1);
        c.stop();
        let frozen = c.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(c.now_ms(), frozen, "stopped");
        c.warp(1000);
        assert_eq!(c.now_ms(), frozen + 1000);
    }
}
