//! A wake-up signal for sleeping engine threads (OVS's `seq_wait` + `poll_block`): the leader's
//! wait between rounds and `revalidator/wait` callers sleep on it; sequence changes and latches ring it.
//!
//! # Invariants
//! * A ring between a waiter's check of its condition and its sleep is never lost: the generation
//!   is read under the same mutex the ringer bumps it under.
//! * Waits are bounded by real time; callers re-check their own condition (and clock) after every
//!   wake-up, so spurious wake-ups are harmless.

use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// A condition-variable doorbell with a generation counter.
#[derive(Debug, Default)]
pub struct Notifier {
    generation: Mutex<u64>,
    cv: Condvar,
}

impl Notifier {
    /// Wakes every waiter.
    pub fn ring(&self) {
        let mut g = self.generation.lock();
        *g = g.wrapping_add(1);
        self.cv.notify_all();
    }

    /// Sleeps until `done()` is true or `timeout` passes; returns `done()`'s last value.
    pub fn wait_until(&self, timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.generation.lock();
        loop {
            if done() {
                return true;
            }
            let seen = *g;
            while *g == seen {
                if self.cv.wait_until(&mut g, deadline).timed_out() {
                    drop(g);
                    return done();
                }
            }
        }
    }
}
