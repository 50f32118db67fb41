//! What every part of the engine reports to: coverage counters, the log with its rate limits, and
//! the clock; plus rvs's own thread ids (OVS's `ovsthread_id_self`).
//!
//! # Invariants
//! * Thread ids are small integers handed out once per OS thread, in creation order, starting at 1;
//!   they never repeat within a process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rvs_dpif::clock::Clock;

use crate::coverage::Coverage;
use crate::log::{Level, Log, RateLimit};

/// The calling thread's rvs id (assigned on first use).
pub fn thread_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ID: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    ID.with(|id| *id)
}

/// The rate limits OVS uses in `ofproto-dpif-upcall.c`.
#[derive(Debug)]
pub(crate) struct RateLimits {
    /// The file-wide `rl = (1, 5)`.
    pub(crate) common: RateLimit,
    /// `log_unexpected_flow`: (10, 60).
    pub(crate) unexpected_flow: RateLimit,
    /// The emergency flow-limit kill warning: (1, 1).
    pub(crate) kill: RateLimit,
    /// `Unexpected jump in packet stats`: (1, 5).
    pub(crate) stats_jump: RateLimit,
    /// `xlate_key failed`: (1, 5).
    pub(crate) xlate_failed: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            common: RateLimit::new(1, 5),
            unexpected_flow: RateLimit::new(10, 60),
            kill: RateLimit::new(1, 1),
            stats_jump: RateLimit::new(1, 5),
            xlate_failed: RateLimit::new(1, 5),
        }
    }
}

/// Counters, log and clock, shared by every part of one engine.
pub struct Env {
    /// Coverage counters.
    pub coverage: Coverage,
    /// The log.
    pub log: Log,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    pub(crate) rl: RateLimits,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Env(now {} ms)", self.clock.now_ms())
    }
}

impl Env {
    /// An environment reading `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Env {
        Env {
            coverage: Coverage::default(),
            log: Log::default(),
            clock,
            rl: RateLimits::default(),
        }
    }

    /// The current time in ms.
    #[inline]
    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Logs through a rate limit at the current time.
    pub(crate) fn log_rl(&self, limit: &RateLimit, level: Level, message: String) {
        self.log.write_rl(limit, self.now(), level, message);
    }
}
