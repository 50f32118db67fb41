//! The adaptive flow-limit policy (`docs/flow-limit-policy.md`): the idle limit each revalidator
//! batch applies (by the idle ages the previous round recorded, published by the leader after
//! barrier #3), and the limit's growth.
//! Under [`FlowLimitPolicy::Ovs`] everything here reproduces ovs-upcall.md §4 exactly.
//!
//! # Invariants
//! * Emergency deletion above twice the limit (kill-them-all) is the same under both policies.
//! * The adaptive idle limit of a batch is never below [`OVER_LIMIT_MAX_IDLE_MS`] and never above
//!   `max-idle`: adaptive eviction deletes a subset of the flows OVS's rule would delete.
//! * An evicted flow goes through the ordinary idle deletion ([`DelReason::FlowIdle`]), so its
//!   final statistics are pushed exactly once.
//! * The limit shrinks by OVS's rules under both policies; only growth differs, and adaptive
//!   growth is at least OVS's +1000, at most ×[`ADAPTIVE_MAX_GROWTH_FACTOR`], and never beyond the
//!   flows per second the round's dump rate measured.
//!
//! [`DelReason::FlowIdle`]: super::DelReason::FlowIdle

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::idle_ages::IdleAges;
use super::{LimitChange, RoundCtx, adjust_flow_limit};
use crate::config::{
    ADAPTIVE_EVICT_MARGIN_DIVISOR, ADAPTIVE_MAX_GROWTH_FACTOR, FlowLimitPolicy, MIN_FLOW_LIMIT,
    OVER_LIMIT_MAX_IDLE_MS,
};
use crate::coverage::Counter;
use crate::udpif::Udpif;

/// The flow count adaptive eviction aims for under `limit` (5% below it).
pub fn eviction_target(limit: u32) -> u64 {
    let limit = u64::from(limit);
    limit - limit / u64::from(ADAPTIVE_EVICT_MARGIN_DIVISOR)
}

/// The adaptive policy's dynamic flow limit after a round (same arguments as
/// [`adjust_flow_limit`]). Slow rounds shrink it exactly as OVS does. A fast round (under
/// 1000 ms) whose dump rate `n_flows * 1000 / duration` beats the limit raises it to that rate
/// (the flows a 1000 ms dump would handle at this speed), but by at least 1000 and to at most
/// [`ADAPTIVE_MAX_GROWTH_FACTOR`] times the limit, then clamps as OVS does.
pub fn adjust_flow_limit_adaptive(
    limit: u32,
    n_flows: u64,
    duration_ms: u64,
    ceiling: u32,
) -> (u32, LimitChange) {
    let (ovs_limit, change) = adjust_flow_limit(limit, n_flows, duration_ms, ceiling);
    if change != LimitChange::Grew {
        return (ovs_limit, change);
    }
    let old = u64::from(limit);
    let rate = n_flows.saturating_mul(1000) / duration_ms.max(1);
    let bound = old.saturating_mul(u64::from(ADAPTIVE_MAX_GROWTH_FACTOR));
    let grown = rate.min(bound).max(old + 1000);
    let clamped = grown.max(u64::from(MIN_FLOW_LIMIT)).min(u64::from(ceiling));
    let new = u32::try_from(clamped).unwrap_or(u32::MAX);
    if u64::from(new) > old + 1000 {
        (new, LimitChange::Jumped)
    } else {
        (new, LimitChange::Grew)
    }
}

/// One revalidator's state under the adaptive policy: the idle ages of the flows it keeps (for
/// the next round) and the previous round's merged ages it evicts by.
#[derive(Debug)]
pub(crate) struct AdaptiveDump {
    recorded: RefCell<IdleAges>,
    previous: Option<Arc<IdleAges>>,
    /// Set once a batch of this round saw the count at or above the limit.
    evicting: bool,
    /// The last `(excess, cutoff)` computed (the cached count changes at most every 100 ms).
    cached: Option<(u64, u64)>,
}

impl AdaptiveDump {
    /// The state for a round, or `None` under OVS's policy.
    pub(crate) fn for_round(udpif: &Udpif, ctx: &RoundCtx) -> Option<AdaptiveDump> {
        (ctx.policy == FlowLimitPolicy::Adaptive).then(|| AdaptiveDump {
            recorded: RefCell::new(IdleAges::new(ctx.start_ms)),
            previous: udpif.eviction_ages.lock().clone(),
            evicting: false,
            cached: None,
        })
    }

    /// Records the `used` time of a flow the dump keeps.
    #[inline]
    pub(crate) fn record(&self, used: u64) {
        self.recorded.borrow_mut().record(used);
    }

    /// Hands the recorded ages to the leader (once, when the revalidator's dump ends).
    pub(crate) fn finish(self, udpif: &Udpif) {
        let recorded = self.recorded.into_inner();
        if recorded.total() > 0 {
            udpif.idle_ages.lock().merge(&recorded);
        }
    }

    /// The idle cutoff for a batch that sees `n_dp_flows`, if this batch evicts.
    fn cutoff(&mut self, n_dp_flows: u64, limit: u32) -> Option<u64> {
        if n_dp_flows >= u64::from(limit) {
            self.evicting = true;
        }
        let target = eviction_target(limit);
        if !self.evicting || n_dp_flows <= target {
            return None;
        }
        let excess = n_dp_flows - target;
        if let Some((e, c)) = self.cached
            && e == excess
        {
            return Some(c);
        }
        let cutoff = self.previous.as_ref()?.cutoff_for(excess)?;
        self.cached = Some((excess, cutoff));
        Some(cutoff)
    }
}

impl Udpif {
    /// The idle limit (ms) a revalidator batch applies, given the cached datapath flow count.
    ///
    /// OVS: 100 ms above the limit, else `max-idle`. Adaptive: once a batch of the round saw the
    /// count at or above the limit, and while it stays above the eviction target, the flows idle
    /// longest are idle: those last used before the cutoff that the previous round's idle ages
    /// give for `count - target` flows (the limit is `now - cutoff`, kept within
    /// `[100 ms, max-idle]`); otherwise `max-idle`, even above the limit with no ages recorded
    /// yet (twice the limit still deletes everything).
    pub(crate) fn batch_max_idle(
        &self,
        ctx: &RoundCtx,
        adaptive: Option<&mut AdaptiveDump>,
        n_dp_flows: u64,
        now: u64,
    ) -> u64 {
        let max_idle = self.config.max_idle_ms();
        match adaptive {
            None => {
                if n_dp_flows > u64::from(ctx.flow_limit) {
                    OVER_LIMIT_MAX_IDLE_MS
                } else {
                    max_idle
                }
            }
            Some(adaptive) => match adaptive.cutoff(n_dp_flows, ctx.flow_limit) {
                Some(cutoff) => {
                    self.env.coverage.inc(Counter::UpcallFlowLimitEvict);
                    self.round_evicted.store(true, Ordering::Relaxed);
                    now.saturating_sub(cutoff)
                        .max(OVER_LIMIT_MAX_IDLE_MS)
                        .min(max_idle)
                }
                None => max_idle,
            },
        }
    }

    /// The leader, after barrier #3: under the adaptive policy, publishes the idle ages the
    /// round's revalidators recorded for the next round to evict by; otherwise drops them.
    pub(crate) fn publish_idle_ages(&self, ages: IdleAges, policy: FlowLimitPolicy) {
        let published =
            (policy == FlowLimitPolicy::Adaptive && ages.total() > 0).then(|| Arc::new(ages));
        *self.eviction_ages.lock() = published;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_growth_follows_the_dump_rate() {
        // 10000 flows dumped in 50 ms = 200000/s: ×4 at most in one round.
        assert_eq!(
            adjust_flow_limit_adaptive(10_000, 10_000, 50, 200_000),
            (40_000, LimitChange::Jumped)
        );
        // 40000 flows in 100 ms = 400000/s: up to the ceiling.
        assert_eq!(
            adjust_flow_limit_adaptive(40_000, 40_000, 100, 200_000),
            (160_000, LimitChange::Jumped)
        );
        assert_eq!(
            adjust_flow_limit_adaptive(160_000, 160_000, 400, 200_000),
            (200_000, LimitChange::Jumped)
        );
        // The rate bounds the jump: 10000 flows in 800 ms = 12500/s.
        assert_eq!(
            adjust_flow_limit_adaptive(10_000, 10_000, 800, 200_000),
            (12_500, LimitChange::Jumped)
        );
        // At least OVS's +1000: 9000 in 500 ms = 18000/s > 10000... is a jump to 18000.
        assert_eq!(
            adjust_flow_limit_adaptive(10_000, 9000, 500, 200_000),
            (18_000, LimitChange::Jumped)
        );
        // 10000 in 990 ms = 10101/s: only +1000 (OVS's step) and counted as growth.
        assert_eq!(
            adjust_flow_limit_adaptive(10_000, 10_000, 990, 200_000),
            (11_000, LimitChange::Grew)
        );
        // Quiet system: stays, as in OVS.
        assert_eq!(
            adjust_flow_limit_adaptive(10_000, 1, 1, 200_000),
            (10_000, LimitChange::Unchanged)
        );
    }

    #[test]
    fn adaptive_shrinks_exactly_as_ovs() {
        for (limit, n, d) in [
            (10_000, 0, 1301),
            (10_000, 5_000_000, 2000),
            (10_000, 0, 2999),
            (9000, 0, 3000),
            (100, 0, 1100),
            (200_000, 1_000_000, 1200),
        ] {
            assert_eq!(
                adjust_flow_limit_adaptive(limit, n, d, 200_000),
                adjust_flow_limit(limit, n, d, 200_000),
                "{limit} {n} {d}"
            );
        }
        // The ceiling still caps growth.
        assert_eq!(
            adjust_flow_limit_adaptive(100_000, 10_000_000, 10, 150_000).0,
            150_000
        );
    }

    #[test]
    fn eviction_target_is_five_percent_under() {
        assert_eq!(eviction_target(200_000), 190_000);
        assert_eq!(eviction_target(1000), 950);
    }
}
