//! Constants and run-time settings of the engine (ovs-upcall.md §3.1, §1.7).
//!
//! # Invariants
//! * Settings are atomics read where OVS reads its globals, so a change applies from the next use
//!   (next batch, next round) without stopping threads.
//! * `max_revalidator` values below 100 ms are ignored, as OVS ignores them; the flow-limit ceiling is
//!   at least 1 (OVS's schema minimum is 0, but a 0 ceiling would make every clamp end at 1000 anyway).
//! * The flow-limit policy ([`FlowLimitPolicy`]) is read once per round (into the round's context)
//!   and once per leader end, so a change applies from the next round.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

/// Packets for the controller queued for ofproto before further ones are dropped (OVS's limit of
/// its asynchronous message list, counted as `packet_in_overflow`).
pub const MAX_CONTROLLER_UPCALLS: usize = 1024;
/// Upcalls per handler batch (`UPCALL_MAX_BATCH`).
pub const UPCALL_MAX_BATCH: usize = 64;
/// Flows per dump call and per ops batch (`REVALIDATE_MAX_BATCH`).
pub const REVALIDATE_MAX_BATCH: usize = 50;
/// Number of ukey map shards (`N_UMAPS`).
pub const N_UMAPS: usize = 512;
/// Consecutive missed dumps after which the sweep deletes a ukey.
pub const MISSED_DUMPS_LIMIT: u32 = 4;
/// Minimum time between two round starts, in ms.
pub const MIN_ROUND_GAP_MS: u64 = 5;
/// Idle time used instead of `max_idle` while the flow count is above the limit, in ms.
pub const OVER_LIMIT_MAX_IDLE_MS: u64 = 100;
/// Age after which the cached datapath flow count is refreshed, in ms.
pub const N_FLOWS_CACHE_MS: u64 = 100;
/// Initial dynamic flow limit (before the ceiling is applied).
pub const INITIAL_FLOW_LIMIT: u32 = 10_000;
/// Lowest dynamic flow limit after a round's adjustment.
pub const MIN_FLOW_LIMIT: u32 = 1000;
/// A prior packet count at or above this is assumed to have wrapped, not jumped back.
pub const UINT64_THREE_QUARTERS: u64 = u64::MAX / 4 * 3;

/// Under [`FlowLimitPolicy::Adaptive`], eviction aims `limit / ADAPTIVE_EVICT_MARGIN_DIVISOR` flows
/// below the limit (5%), so new flows can be installed until the next round.
pub const ADAPTIVE_EVICT_MARGIN_DIVISOR: u32 = 20;
/// Under [`FlowLimitPolicy::Adaptive`], the most a fast round may multiply the limit by.
pub const ADAPTIVE_MAX_GROWTH_FACTOR: u32 = 4;

/// How the engine keeps the datapath flow count near the dynamic limit and how the limit grows
/// (see `docs/flow-limit-policy.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FlowLimitPolicy {
    /// rvs's own: above the limit only the flows idle longest are deleted, just enough to get 5%
    /// under it; a fast round may raise the limit to what its dump rate sustains (at most ×4).
    #[default]
    Adaptive,
    /// Open vSwitch's rules exactly (ovs-upcall.md §4): above the limit every flow idle for more
    /// than 100 ms is deleted; the limit grows by 1000 per fast round.
    Ovs,
}

impl FlowLimitPolicy {
    /// Every policy, in the order of [`FlowLimitPolicy::index`].
    pub const ALL: [FlowLimitPolicy; 2] = [FlowLimitPolicy::Adaptive, FlowLimitPolicy::Ovs];

    /// The configuration name: `adaptive` or `ovs`.
    pub fn name(self) -> &'static str {
        match self {
            FlowLimitPolicy::Adaptive => "adaptive",
            FlowLimitPolicy::Ovs => "ovs",
        }
    }

    /// The policy called `name` (as [`FlowLimitPolicy::name`] spells it).
    pub fn from_name(name: &str) -> Option<FlowLimitPolicy> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Position in [`FlowLimitPolicy::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The policy at `index` of [`FlowLimitPolicy::ALL`], if any.
    pub fn from_index(index: usize) -> Option<FlowLimitPolicy> {
        Self::ALL.get(index).copied()
    }
}

/// Run-time settings (OVS's `other_config` knobs and `upcall/*` switches).
#[derive(Debug)]
pub struct UpcallConfig {
    max_idle_ms: AtomicU64,
    max_revalidator_ms: AtomicU64,
    min_revalidate_pps: AtomicU64,
    offloaded_stats_delay_ms: AtomicU64,
    flow_limit_ceiling: AtomicU64,
    enable_megaflows: AtomicBool,
    enable_ufid: AtomicBool,
    flow_limit_policy: AtomicU8,
    retranslate_all: AtomicBool,
}

impl Default for UpcallConfig {
    fn default() -> Self {
        UpcallConfig {
            max_idle_ms: AtomicU64::new(10_000),
            max_revalidator_ms: AtomicU64::new(500),
            min_revalidate_pps: AtomicU64::new(5),
            offloaded_stats_delay_ms: AtomicU64::new(2000),
            flow_limit_ceiling: AtomicU64::new(200_000),
            enable_megaflows: AtomicBool::new(true),
            enable_ufid: AtomicBool::new(true),
            flow_limit_policy: AtomicU8::new(FlowLimitPolicy::default().index() as u8),
            retranslate_all: AtomicBool::new(false),
        }
    }
}

impl UpcallConfig {
    /// `other_config:max-idle` in ms (default 10000).
    pub fn max_idle_ms(&self) -> u64 {
        self.max_idle_ms.load(Ordering::Relaxed)
    }
    /// Sets `max-idle`.
    pub fn set_max_idle_ms(&self, ms: u64) {
        self.max_idle_ms.store(ms, Ordering::Relaxed);
    }
    /// `other_config:max-revalidator` in ms (default 500).
    pub fn max_revalidator_ms(&self) -> u64 {
        self.max_revalidator_ms.load(Ordering::Relaxed)
    }
    /// Sets `max-revalidator`; values below 100 are ignored (returns false).
    pub fn set_max_revalidator_ms(&self, ms: u64) -> bool {
        if ms < 100 {
            return false;
        }
        self.max_revalidator_ms.store(ms, Ordering::Relaxed);
        true
    }
    /// `other_config:min-revalidate-pps` (default 5; 0 disables the heuristic).
    pub fn min_revalidate_pps(&self) -> u64 {
        self.min_revalidate_pps.load(Ordering::Relaxed)
    }
    /// Sets `min-revalidate-pps`.
    pub fn set_min_revalidate_pps(&self, pps: u64) {
        self.min_revalidate_pps.store(pps, Ordering::Relaxed);
    }
    /// `other_config:offloaded-stats-delay` in ms (default 2000).
    pub fn offloaded_stats_delay_ms(&self) -> u64 {
        self.offloaded_stats_delay_ms.load(Ordering::Relaxed)
    }
    /// Sets `offloaded-stats-delay`.
    pub fn set_offloaded_stats_delay_ms(&self, ms: u64) {
        self.offloaded_stats_delay_ms.store(ms, Ordering::Relaxed);
    }
    /// `other_config:flow-limit`, the ceiling of the dynamic limit (default 200000).
    pub fn flow_limit_ceiling(&self) -> u32 {
        u32::try_from(self.flow_limit_ceiling.load(Ordering::Relaxed)).unwrap_or(u32::MAX)
    }
    /// Sets `flow-limit` (at least 1).
    pub fn set_flow_limit_ceiling(&self, limit: u32) {
        self.flow_limit_ceiling
            .store(u64::from(limit.max(1)), Ordering::Relaxed);
    }
    /// True unless `upcall/disable-megaflows` is in force.
    pub fn megaflows_enabled(&self) -> bool {
        self.enable_megaflows.load(Ordering::Relaxed)
    }
    /// `upcall/enable-megaflows` / `disable-megaflows` (the caller flushes the datapath, as OVS does).
    pub fn set_megaflows_enabled(&self, on: bool) {
        self.enable_megaflows.store(on, Ordering::Relaxed);
    }
    /// True unless `upcall/disable-ufid` is in force.
    pub fn ufid_enabled(&self) -> bool {
        self.enable_ufid.load(Ordering::Relaxed)
    }
    /// `upcall/enable-ufid` / `disable-ufid`: only whether dumps are terse changes.
    pub fn set_ufid_enabled(&self, on: bool) {
        self.enable_ufid.store(on, Ordering::Relaxed);
    }
    /// The flow-limit policy (default [`FlowLimitPolicy::Adaptive`]).
    pub fn flow_limit_policy(&self) -> FlowLimitPolicy {
        FlowLimitPolicy::from_index(usize::from(self.flow_limit_policy.load(Ordering::Relaxed)))
            .unwrap_or_default()
    }
    /// True if every ukey is translated again after a change, as in Open vSwitch, even when the
    /// translator shows that the change cannot affect it (`other_config:revalidation-scope=all`;
    /// default false: `affected`).
    pub fn retranslate_all(&self) -> bool {
        self.retranslate_all.load(Ordering::Relaxed)
    }
    /// Sets whether every ukey is translated again after a change.
    pub fn set_retranslate_all(&self, all: bool) {
        self.retranslate_all.store(all, Ordering::Relaxed);
    }
    /// Sets the flow-limit policy (applies from the next round).
    pub fn set_flow_limit_policy(&self, policy: FlowLimitPolicy) {
        self.flow_limit_policy
            .store(policy.index() as u8, Ordering::Relaxed);
    }
}

/// Thread counts from the configured values (0 = unset) and the CPU count, as
/// `udpif_set_threads` computes them when the datapath does not force the handler count:
/// `threads = max(cores, 2)`; revalidators `threads/4 + 1` (or `max(threads - handlers, 1)` if only
/// handlers are set); handlers `max(threads - revalidators, 1)`. Returns `(handlers, revalidators)`.
pub fn default_thread_counts(
    cores: usize,
    n_handlers: usize,
    n_revalidators: usize,
) -> (usize, usize) {
    let threads = cores.max(2);
    let revalidators = if n_revalidators > 0 {
        n_revalidators
    } else if n_handlers > 0 {
        threads.saturating_sub(n_handlers).max(1)
    } else {
        threads / 4 + 1
    };
    let handlers = if n_handlers > 0 {
        n_handlers
    } else {
        threads.saturating_sub(revalidators).max(1)
    };
    (handlers, revalidators)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_follow_ovs() {
        // ovs-upcall.md §1.7: 16 cores, nothing configured → 11 handlers, 5 revalidators.
        assert_eq!(default_thread_counts(16, 0, 0), (11, 5));
        // seed 004: 4 CPUs → 2 handlers and 2 revalidators.
        assert_eq!(default_thread_counts(4, 0, 0), (2, 2));
        assert_eq!(default_thread_counts(1, 0, 0), (1, 1));
        assert_eq!(default_thread_counts(8, 6, 0), (6, 2));
        assert_eq!(default_thread_counts(8, 10, 0), (10, 1));
        assert_eq!(default_thread_counts(8, 0, 4), (4, 4));
    }

    #[test]
    fn flow_limit_policy_names_and_setting() {
        let c = UpcallConfig::default();
        assert_eq!(c.flow_limit_policy(), FlowLimitPolicy::Adaptive);
        c.set_flow_limit_policy(FlowLimitPolicy::Ovs);
        assert_eq!(c.flow_limit_policy(), FlowLimitPolicy::Ovs);
        for p in FlowLimitPolicy::ALL {
            assert_eq!(FlowLimitPolicy::from_name(p.name()), Some(p));
            assert_eq!(FlowLimitPolicy::from_index(p.index()), Some(p));
        }
        assert_eq!(FlowLimitPolicy::from_name("OVS"), None);
        assert_eq!(FlowLimitPolicy::from_index(2), None);
    }

    #[test]
    fn max_revalidator_below_100_is_ignored() {
        let c = UpcallConfig::default();
        assert!(!c.set_max_revalidator_ms(99));
        assert_eq!(c.max_revalidator_ms(), 500);
        assert!(c.set_max_revalidator_ms(100));
        assert_eq!(c.max_revalidator_ms(), 100);
    }
}
