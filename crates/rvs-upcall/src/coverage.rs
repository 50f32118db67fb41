//! Coverage counters of the upcall engine, with Open vSwitch's names (ovs-upcall.md §8).
//!
//! # Invariants
//! * Counters only grow (relaxed atomic increments); a snapshot lists every counter, in
//!   [`Counter::ALL`] order, as `(name, total)` pairs, zeros included.
//! * The names are OVS's `COVERAGE_DEFINE` names, except the two `ukey_state_*` counters, which are
//!   rvs's own: OVS aborts on a backwards ukey transition and only logs other invalid ones, rvs counts
//!   both (and never aborts); and the two `upcall_flow_limit_{evict,jumped}` counters of the
//!   adaptive flow-limit policy, which OVS does not have. `packet_in_overflow` is ofproto-dpif's
//!   counter in OVS (a full queue of packets for the controller); here the queue is the engine's.
//!   `revalidate_unaffected` is rvs's own (see `Translator::translation_unchanged`).

use std::sync::atomic::{AtomicU64, Ordering};

/// One coverage counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// A dumped flow's ukey was already stamped with this dump and has an xcache: a genuine duplicate.
    DumpedDuplicateFlow,
    /// Same, but the ukey has no xcache: installed or replaced during this dump.
    DumpedNewFlow,
    /// A dumped flow's ukey is INCONSISTENT (a modify failed), so a delete is queued.
    DumpedInconsistentFlow,
    /// Install found an identical-key ukey that is not EVICTED; not installed.
    HandlerDuplicateUpcall,
    /// Install found an identical-key ukey but could not lock it.
    UkeyReplaceContention,
    /// An EVICTED ukey was replaced by a new one from an upcall.
    UpcallUkeyReplace,
    /// A revalidator could not lock a ukey (dump or sweep).
    UpcallUkeyContention,
    /// The sweep revalidated a ukey that was not dumped and needs revalidation.
    RevalidateMissedDpFlow,
    /// The sweep deleted a ukey whose flow missed 4 or more consecutive dumps.
    RevalidateMissingDpFlow,
    /// A ukey's datapath layer changed to or from an offload-provider-only layer.
    UkeyDpChange,
    /// Datapath packet counter went backwards (not a 64-bit wrap).
    UkeyInvalidStatReset,
    /// `n_flows >= flow_limit`, at install or per revalidator batch.
    UpcallFlowLimitHit,
    /// A revalidator batch saw `n_flows > 2 * flow_limit`.
    UpcallFlowLimitKill,
    /// A dump took more than 2000 ms: limit divided by the seconds.
    UpcallFlowLimitScaled,
    /// A dump took 1300 to 2000 ms: limit times 3/4.
    UpcallFlowLimitReduced,
    /// A fast dump with a dump rate above the limit: limit + 1000.
    UpcallFlowLimitGrew,
    /// rvs: a ukey transition to a lower state was refused (OVS aborts here).
    UkeyStateBackwards,
    /// rvs: an illegal forward ukey transition was refused (OVS only logs it).
    UkeyStateInvalid,
    /// rvs (adaptive policy): a revalidator batch deleted idle flows by the round's idle cutoff.
    UpcallFlowLimitEvict,
    /// rvs (adaptive policy): a fast round raised the limit by more than 1000.
    UpcallFlowLimitJumped,
    /// A packet for the controller was dropped: its queue was full (OVS's ofproto-dpif counter).
    PacketInOverflow,
    /// rvs: a ukey was kept after a change without being translated again, because the
    /// translator showed that nothing changed since its translation could affect it.
    RevalidateUnaffected,
}

impl Counter {
    /// Every counter, in snapshot order.
    pub const ALL: [Counter; 22] = [
        Counter::DumpedDuplicateFlow,
        Counter::DumpedNewFlow,
        Counter::DumpedInconsistentFlow,
        Counter::HandlerDuplicateUpcall,
        Counter::UkeyReplaceContention,
        Counter::UpcallUkeyReplace,
        Counter::UpcallUkeyContention,
        Counter::RevalidateMissedDpFlow,
        Counter::RevalidateMissingDpFlow,
        Counter::UkeyDpChange,
        Counter::UkeyInvalidStatReset,
        Counter::UpcallFlowLimitHit,
        Counter::UpcallFlowLimitKill,
        Counter::UpcallFlowLimitScaled,
        Counter::UpcallFlowLimitReduced,
        Counter::UpcallFlowLimitGrew,
        Counter::UkeyStateBackwards,
        Counter::UkeyStateInvalid,
        Counter::UpcallFlowLimitEvict,
        Counter::UpcallFlowLimitJumped,
        Counter::PacketInOverflow,
        Counter::RevalidateUnaffected,
    ];

    /// The counter's name as `coverage/show` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Counter::DumpedDuplicateFlow => "dumped_duplicate_flow",
            Counter::DumpedNewFlow => "dumped_new_flow",
            Counter::DumpedInconsistentFlow => "dumped_inconsistent_flow",
            Counter::HandlerDuplicateUpcall => "handler_duplicate_upcall",
            Counter::UkeyReplaceContention => "ukey_replace_contention",
            Counter::UpcallUkeyReplace => "upcall_ukey_replace",
            Counter::UpcallUkeyContention => "upcall_ukey_contention",
            Counter::RevalidateMissedDpFlow => "revalidate_missed_dp_flow",
            Counter::RevalidateMissingDpFlow => "revalidate_missing_dp_flow",
            Counter::UkeyDpChange => "ukey_dp_change",
            Counter::UkeyInvalidStatReset => "ukey_invalid_stat_reset",
            Counter::UpcallFlowLimitHit => "upcall_flow_limit_hit",
            Counter::UpcallFlowLimitKill => "upcall_flow_limit_kill",
            Counter::UpcallFlowLimitScaled => "upcall_flow_limit_scaled",
            Counter::UpcallFlowLimitReduced => "upcall_flow_limit_reduced",
            Counter::UpcallFlowLimitGrew => "upcall_flow_limit_grew",
            Counter::UkeyStateBackwards => "ukey_state_backwards",
            Counter::UkeyStateInvalid => "ukey_state_invalid",
            Counter::UpcallFlowLimitEvict => "upcall_flow_limit_evict",
            Counter::UpcallFlowLimitJumped => "upcall_flow_limit_jumped",
            Counter::PacketInOverflow => "packet_in_overflow",
            Counter::RevalidateUnaffected => "revalidate_unaffected",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The engine's counters.
#[derive(Debug, Default)]
pub struct Coverage {
    counts: [AtomicU64; Counter::ALL.len()],
}

impl Coverage {
    /// Adds one to `counter`.
    #[inline]
    pub fn inc(&self, counter: Counter) {
        self.add(counter, 1);
    }

    /// Adds `n` to `counter`.
    #[inline]
    pub fn add(&self, counter: Counter, n: u64) {
        if let Some(c) = self.counts.get(counter.index()) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The total of `counter`.
    pub fn get(&self, counter: Counter) -> u64 {
        self.counts
            .get(counter.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// The total of the counter called `name`, if there is one.
    pub fn get_by_name(&self, name: &str) -> Option<u64> {
        Counter::ALL
            .iter()
            .find(|c| c.name() == name)
            .map(|c| self.get(*c))
    }

    /// Every counter as `(name, total)`.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        Counter::ALL
            .iter()
            .map(|c| (c.name(), self.get(*c)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_lists_every_counter_once_in_order() {
        let cov = Coverage::default();
        cov.inc(Counter::UpcallUkeyReplace);
        cov.add(Counter::UkeyStateInvalid, 3);
        let snap = cov.snapshot();
        assert_eq!(snap.len(), Counter::ALL.len());
        for (i, c) in Counter::ALL.iter().enumerate() {
            assert_eq!(c.index(), i, "ALL must follow declaration order");
        }
        assert_eq!(snap[5], ("upcall_ukey_replace", 1));
        assert_eq!(cov.get_by_name("ukey_state_invalid"), Some(3));
        assert_eq!(cov.get_by_name("no_such_counter"), None);
        let mut names: Vec<_> = snap.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Counter::ALL.len());
    }
}
