//! Datapath counters: each forwarding context owns one [`PmdCounters`] (it alone writes it, once per
//! batch); readers sum every context's counters, including those of contexts that have exited.
//!
//! # Invariants
//! * Counters only grow; a context's counts still count after it exits (folded into a retired
//!   total at the next registration), so totals never go backwards, and the registry holds at most
//!   the live contexts plus those that exited since the last registration.
//! * `hit + missed + lost` = packets looked up (recirculations included); runts are dropped before
//!   lookup and counted only as `rx_invalid`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::execute::ExecCounters;

macro_rules! counters {
    ($(#[$doc:meta] $field:ident => $name:expr,)*) => {
        /// One forwarding context's counters (atomics, written by that context only).
        #[derive(Debug, Default)]
        pub(crate) struct PmdCounters {
            $(#[$doc] pub(crate) $field: AtomicU64,)*
        }

        /// A batch's worth of counts, added to [`PmdCounters`] in one go.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub(crate) struct Counts {
            $(#[$doc] pub(crate) $field: u64,)*
        }

        impl PmdCounters {
            /// Adds `c` (single writer: relaxed adds).
            pub(crate) fn add(&self, c: &Counts) {
                $(if c.$field != 0 { self.$field.fetch_add(c.$field, Ordering::Relaxed); })*
            }

            fn read(&self) -> Counts {
                Counts { $($field: self.$field.load(Ordering::Relaxed),)* }
            }
        }

        impl Counts {
            fn accumulate(&mut self, o: &Counts) {
                $(self.$field = self.$field.wrapping_add(o.$field);)*
            }

            /// The coverage counters, with OVS's names where OVS has the counter.
            pub(crate) fn coverage(&self) -> Vec<(&'static str, u64)> {
                vec![$(($name, self.$field),)*]
            }
        }
    };
}

counters! {
    /// Packets that matched a flow (exact-match cache or classifier).
    hit => "datapath_hit",
    /// Packets that missed and were queued to a handler.
    missed => "datapath_miss",
    /// Packets that missed and could not be queued (full queue, no handler).
    lost => "datapath_drop_upcall_error",
    /// Subtables searched for classifier hits.
    mask_hit => "datapath_mask_hit",
    /// Packets that hit in the exact-match cache.
    cache_hit => "datapath_cache_hit",
    /// Frames shorter than an Ethernet header, dropped on receive.
    rx_invalid => "datapath_drop_rx_invalid_packet",
    /// `userspace` actions whose upcall could not be queued.
    userspace_lost => "datapath_drop_userspace_action_error",
    /// Outputs to a port that does not exist.
    invalid_port => "datapath_drop_invalid_port",
    /// Recirculations refused (too deep).
    recirc_error => "datapath_drop_recirc_error",
    /// Rewrites skipped because the packet lacked the header or was too short.
    write_skipped => "datapath_action_write_skipped",
    /// Unsupported actions met (a `ct` drops the packet).
    unsupported => "datapath_drop_unsupported_action",
    /// Packets dropped because `clone`/`sample` nested too deeply.
    too_deep => "datapath_drop_nesting_too_deep",
    /// Frames a port refused to send (or sent with an error).
    tx_failed => "datapath_drop_tx_error",
    /// Grace periods that gave up waiting for a forwarding context (deletes may then miss hits).
    grace_timeout => "datapath_grace_period_timeout",
    /// Flows created in the datapath by any flow put, once each (rvs only; not in dpif-netdev).
    flow_added => "datapath_flow_add",
    /// Flows taken out (deleted, flushed, gone with their port), once each (rvs only).
    flow_removed => "datapath_flow_del",
}

impl Counts {
    /// Adds the executor's counters accumulated since `before`.
    pub(crate) fn add_exec(&mut self, now: &ExecCounters, before: &ExecCounters) {
        self.write_skipped += now.skipped_writes.wrapping_sub(before.skipped_writes);
        self.unsupported += now.unsupported.wrapping_sub(before.unsupported);
        self.too_deep += now.too_deep.wrapping_sub(before.too_deep);
    }
}

/// The counters of every live context, and the sum of those of contexts that have exited.
#[derive(Default)]
pub(crate) struct CounterRegistry {
    inner: Mutex<Registered>,
}

/// What the registry's mutex protects.
#[derive(Default)]
struct Registered {
    /// Counters of contexts that may still write (the registry holds one reference of each).
    live: Vec<Arc<PmdCounters>>,
    /// The final counts of contexts whose counters nobody but the registry holds any more.
    retired: Counts,
}

impl CounterRegistry {
    /// Registers a new context's counters. Counters of contexts that have exited are folded into
    /// the retired total first, so the list holds only live contexts however many are created
    /// over time (forwarding threads restarted by a configuration change).
    pub(crate) fn register(&self) -> Arc<PmdCounters> {
        let c = Arc::new(PmdCounters::default());
        let mut inner = self.inner.lock();
        let Registered { live, retired } = &mut *inner;
        live.retain_mut(|counters| match Arc::get_mut(counters) {
            // Unique (with acquire ordering): the exited context's last writes are visible.
            Some(exited) => {
                retired.accumulate(&exited.read());
                false
            }
            None => true,
        });
        live.push(Arc::clone(&c));
        c
    }

    /// The sum over every context, live or exited.
    pub(crate) fn total(&self) -> Counts {
        let inner = self.inner.lock();
        let mut total = inner.retired;
        for c in &inner.live {
            total.accumulate(&c.read());
        }
        total
    }

    /// Number of counter sets held (live contexts, and exited ones not folded yet).
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.inner.lock().live.len()
    }
}
