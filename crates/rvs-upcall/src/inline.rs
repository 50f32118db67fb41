//! Inline misses: the engine's [`UpcallCallback`], which a datapath's forwarding threads call on
//! a miss instead of queueing it to a handler (OVS's `upcall_cb` registered with
//! `dpif_register_upcall_cb` by the userspace datapath).
//!
//! # Why
//! A queued miss costs a packet copy, a queue hand-off, a wake-up of a handler thread, and an
//! `execute` that re-parses the packet under the datapath's non-forwarding-thread mutex; a burst
//! of new flows faster than the handlers fills the queue and loses upcalls. Inline, the thread
//! that missed translates, installs and executes at once: nothing to overflow, nothing copied.
//! The daemon registers the callback by default ([`Udpif::enable_inline_upcalls`]); handler
//! threads stay for `userspace()` action upcalls (slow path, controller, samples) and for
//! datapaths without callback support (the fake dpif of [`crate::testing`]), which keep queueing.
//!
//! # Invariants (the same as the queued path's, same code: `Udpif::plan_upcall`)
//! * `reval_seq` is read before translating; the miss packet is credited once, through the
//!   translation's cache, and executed (by the forwarding thread) even when no flow is installed.
//! * A flow is put only if the flow limit allows it and its ukey went into the map, so two
//!   threads missing on one flow at once install it once: the later ukey is a duplicate
//!   (`handler_duplicate_upcall`), or replaces an EVICTED one (inheriting its `dump_seq`).
//! * Megaflows disabled → exact masks; UFIDs are always sent with the put (as the handlers do).
//! * After the put the ukey goes to OPERATIONAL (success) or EVICTED (failure), only if still below
//!   OPERATIONAL.
//! * Every inline miss counts as handled ([`Udpif::upcalls_handled`]), once per batch, before
//!   the datapath publishes the batch's `missed` counter.
//! * A miss whose translation failed (or whose port belongs to no bridge, or that came after the
//!   engine was dropped) is reported as failed: the datapath drops the packet and counts it lost,
//!   as dpif-netdev does for an upcall error. Deviation: dpif-netdev also counts as lost a miss
//!   refused by the flow limit or whose ukey was a duplicate (its `ENOSPC`, the packet is still
//!   executed); rvs counts those as missed (they are executed and credited like any miss), and
//!   they show in `upcall_flow_limit_hit` / `handler_duplicate_upcall`.
//! * The callback holds the engine weakly: no reference cycle datapath → engine → datapath.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use rvs_dpif::dpif::{FlowInstaller, MissOutcome, MissUpcall, UpcallCallback};

use crate::udpif::Udpif;

/// The callback a datapath calls on a miss; holds the engine weakly.
#[derive(Debug)]
pub struct InlineUpcalls {
    udpif: Weak<Udpif>,
}

impl InlineUpcalls {
    /// A callback for `udpif`.
    pub fn new(udpif: &Arc<Udpif>) -> InlineUpcalls {
        InlineUpcalls {
            udpif: Arc::downgrade(udpif),
        }
    }
}

impl UpcallCallback for InlineUpcalls {
    fn miss(&self, miss: &MissUpcall<'_>, install: &mut FlowInstaller<'_>) -> MissOutcome {
        match self.udpif.upgrade() {
            Some(udpif) => udpif.handle_miss_inline(miss, install),
            None => MissOutcome::Failed,
        }
    }

    fn batch_done(&self, n: usize) {
        if let Some(udpif) = self.udpif.upgrade() {
            udpif
                .upcall_counts
                .handled
                .fetch_add(n as u64, Ordering::Release);
            udpif.handled_wake.ring();
        }
    }
}

impl Udpif {
    /// Asks the datapath to hand misses to this engine inline; false if it cannot (misses then
    /// keep going to the handler queues).
    pub fn enable_inline_upcalls(self: &Arc<Self>) -> bool {
        self.dpif
            .register_upcall_cb(Some(Arc::new(InlineUpcalls::new(self))))
    }

    /// Stops inline misses: the datapath queues them to the handlers again.
    pub fn disable_inline_upcalls(&self) {
        self.dpif.register_upcall_cb(None);
    }

    /// Handles one miss on the calling (forwarding) thread: translate, create and install the
    /// ukey, put the flow through `install`, settle the ukey's state; returns the actions to
    /// execute the packet with, or a failure (no translation, unknown port).
    pub fn handle_miss_inline(
        &self,
        miss: &MissUpcall<'_>,
        install: &mut FlowInstaller<'_>,
    ) -> MissOutcome {
        let Some(plan) =
            self.plan_upcall(true, miss.flow, miss.packet.len(), miss.ufid, miss.pmd_id)
        else {
            return MissOutcome::Failed;
        };
        if let Some(put) = &plan.bare_put {
            // The drop flow of an unassociated port: nothing tracks it, a failure changes nothing.
            // The packet itself is dropped as an upcall error, as in dpif-netdev.
            let _ = install(put);
            return MissOutcome::Failed;
        }
        if let Some((put, ukey)) = &plan.install {
            let ok = install(put).is_ok();
            self.finish_install(ukey, ok);
        }
        MissOutcome::Execute(plan.execute)
    }
}
