//! [`Megaflow`]: one installed datapath flow, shared by the classifier, the UFID index, the dump
//! slots and every forwarding thread's exact-match cache.
//!
//! # Invariants
//! * Key, mask, UFID and statistics id never change; the actions are swapped atomically by a modify
//!   (`ArcSwap`), so a reader sees either the old or the new list, never a mix, and cached references
//!   (EMC) pick up the new actions at once.
//! * `dead` is set (under the flow mutex) before the flow leaves the classifier and the index; once
//!   set it is never cleared. Forwarding threads ignore dead flows found in their caches.
//! * The statistics id stays allocated while any reference to the record exists: it is handed back
//!   (through a lock-free channel, to be freed by the next writer) only when the last reference
//!   drops, so an update racing with a delete can never be counted for a later flow that reuses the
//!   index.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use crossbeam_channel::Sender;
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};

use crate::dpif::Actions;
use crate::emc::Liveness;
use crate::stats::StatsId;

/// An installed megaflow.
pub struct Megaflow {
    /// The flow's UFID.
    pub(crate) ufid: Ufid,
    /// The unmasked key, exactly as installed.
    pub(crate) key: Flow,
    /// The mask (shared by every flow with the same mask).
    pub(crate) mask: Arc<Wildcards>,
    /// The current actions.
    pub(crate) actions: ArcSwap<Actions>,
    /// Where the flow's statistics are counted.
    pub(crate) stats_id: StatsId,
    /// Set when the flow is deleted.
    dead: AtomicBool,
    /// Where the statistics id goes when the record is dropped.
    release: Sender<StatsId>,
}

impl Megaflow {
    /// A live record.
    pub(crate) fn new(
        ufid: Ufid,
        key: Flow,
        mask: Arc<Wildcards>,
        actions: Actions,
        stats_id: StatsId,
        release: Sender<StatsId>,
    ) -> Megaflow {
        Megaflow {
            ufid,
            key,
            mask,
            actions: ArcSwap::from_pointee(actions),
            stats_id,
            dead: AtomicBool::new(false),
            release,
        }
    }

    /// Marks the flow deleted (forwarding threads stop using cached references to it).
    pub(crate) fn kill(&self) {
        self.dead.store(true, Ordering::Release);
    }

    /// True once the flow was deleted.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// The current actions.
    pub(crate) fn actions(&self) -> Actions {
        Arc::clone(&self.actions.load())
    }
}

impl Liveness for Megaflow {
    #[inline]
    fn is_alive(&self) -> bool {
        !self.is_dead()
    }
}

impl Drop for Megaflow {
    fn drop(&mut self) {
        // The receiver lives as long as the datapath; if it is gone, so is the statistics table.
        let _ = self.release.send(self.stats_id);
    }
}

impl std::fmt::Debug for Megaflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Megaflow(ufid:{}, in_port({}), dead={})",
            self.ufid,
            self.key.in_port,
            self.is_dead()
        )
    }
}
