//! Forwarding-context progress: when each context entered the batch it is processing, so that a
//! context stuck inside one batch (an inline miss that never returns, a loop) can be noticed from
//! outside ([`super::Datapath::stalled_contexts`]) instead of only by its effects (no installs,
//! no forwarding, a daemon that cannot shut down).
//!
//! # Invariants
//! * Each context owns one [`BatchClock`] and is its only writer: one relaxed store when a batch
//!   starts (its time, at least 1) and one when it ends (0). Nothing else on the packet path.
//! * The registry holds the clocks of live contexts, plus those of contexts that exited since the
//!   last registration (pruned there, as the counter registry does): its size is bounded by the
//!   contexts alive at once. An exited context's clock reads 0 (its last batch ended).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// When one context's current batch started (ms on the datapath clock), 0 between batches.
#[derive(Debug)]
pub(crate) struct BatchClock {
    pmd_id: u32,
    busy_since_ms: AtomicU64,
}

impl BatchClock {
    /// The context starts a batch at `now_ms`.
    #[inline]
    pub(crate) fn enter(&self, now_ms: u64) {
        self.busy_since_ms.store(now_ms.max(1), Ordering::Relaxed);
    }

    /// The context finished its batch.
    #[inline]
    pub(crate) fn leave(&self) {
        self.busy_since_ms.store(0, Ordering::Relaxed);
    }
}

/// A context that has been inside one batch for a long time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    /// The context's id.
    pub pmd_id: u32,
    /// When its current batch started (datapath clock, ms).
    pub since_ms: u64,
    /// How long it has been in that batch (ms).
    pub busy_ms: u64,
}

/// Every live context's batch clock.
#[derive(Debug, Default)]
pub(crate) struct ProgressRegistry {
    live: Mutex<Vec<Arc<BatchClock>>>,
}

impl ProgressRegistry {
    /// Registers a new context's clock (dropping the clocks of contexts that exited).
    pub(crate) fn register(&self, pmd_id: u32) -> Arc<BatchClock> {
        let clock = Arc::new(BatchClock {
            pmd_id,
            busy_since_ms: AtomicU64::new(0),
        });
        let mut live = self.live.lock();
        live.retain(|c| Arc::strong_count(c) > 1);
        live.push(Arc::clone(&clock));
        clock
    }

    /// Contexts inside a batch that started at least `min_ms` before `now_ms`, by id.
    pub(crate) fn stalled(&self, now_ms: u64, min_ms: u64) -> Vec<Stall> {
        let mut out: Vec<Stall> = self
            .live
            .lock()
            .iter()
            .filter_map(|c| {
                let since_ms = c.busy_since_ms.load(Ordering::Relaxed);
                let busy_ms = now_ms.saturating_sub(since_ms);
                (since_ms != 0 && busy_ms >= min_ms).then_some(Stall {
                    pmd_id: c.pmd_id,
                    since_ms,
                    busy_ms,
                })
            })
            .collect();
        out.sort_by_key(|s| s.pmd_id);
        out
    }

    /// Number of clocks held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.live.lock().len()
    }
}
