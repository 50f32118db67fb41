//! The leader's part of a round (ovs-upcall.md §1.5, §4.1): sampling at the top, the dynamic flow
//! limit and `dump_seq` at the end, and the sleep between rounds.
//!
//! # Invariants
//! * `duration = max(now - start, 1)`, so the limit arithmetic never divides by zero (bug 4).
//! * The adjusted limit is clamped to `[1000, flow-limit]`; growth needs a dump rate
//!   (`n_flows * 1000 / duration`, flows counted at the round's start) above the limit (bug 17).
//! * Between two round starts at least [`MIN_ROUND_GAP_MS`] pass unless a latch is set (bug 11).
//! * Under the adaptive policy the growth step differs and the leader also sets the next round's
//!   idle cutoff from the revalidators' merged idle-age histograms (`policy.rs`); shrinking and
//!   the clamp are OVS's under both policies.
//! * Under the adaptive policy only, a round that evicted by idle age lets the next one start
//!   before its period once an install is refused by the limit again, no earlier than the end of
//!   the round plus a quarter of its duration ([`Udpif::early_round`]); OVS's policy waits for
//!   the period.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::idle_ages::IdleAges;
use super::policy::adjust_flow_limit_adaptive;
use crate::config::{FlowLimitPolicy, MIN_FLOW_LIMIT, MIN_ROUND_GAP_MS};
use crate::coverage::Counter;
use crate::log::Level;
use crate::udpif::Udpif;

/// What the leader sampled at the top of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderStart {
    /// Round start time (ms).
    pub start_time: u64,
    /// Datapath flow count at the start.
    pub n_flows: u64,
    /// reval_seq at the start (a change wakes the leader early).
    pub last_reval_seq: u64,
}

/// When an adaptive round may start before its period (see [`Udpif::early_round`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EarlyRound {
    /// Engine time from which a refused install starts the next round.
    pub due: u64,
    /// How often (ms) the sleeping leader checks for refused installs.
    pub poll_ms: u64,
}

/// How a round changed the flow limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitChange {
    /// Dump over 2000 ms: divided by the whole seconds.
    Scaled,
    /// Dump over 1300 ms: times 3/4.
    Reduced,
    /// Fast dump with a dump rate above the limit: + 1000.
    Grew,
    /// Adaptive policy only: a fast dump raised the limit by more than 1000 (towards its rate).
    Jumped,
    /// None of the above (the clamp may still apply).
    Unchanged,
}

/// The dynamic flow limit after a round of `duration_ms` that started with `n_flows` flows.
pub fn adjust_flow_limit(
    limit: u32,
    n_flows: u64,
    duration_ms: u64,
    ceiling: u32,
) -> (u32, LimitChange) {
    let duration = duration_ms.max(1);
    let mut l = u64::from(limit);
    let change = if duration > 2000 {
        l /= duration / 1000;
        LimitChange::Scaled
    } else if duration > 1300 {
        l = l * 3 / 4;
        LimitChange::Reduced
    } else if duration < 1000 && l < n_flows.saturating_mul(1000) / duration {
        l += 1000;
        LimitChange::Grew
    } else {
        LimitChange::Unchanged
    };
    let clamped = l.max(u64::from(MIN_FLOW_LIMIT)).min(u64::from(ceiling));
    (u32::try_from(clamped).unwrap_or(u32::MAX), change)
}

impl Udpif {
    /// The leader's samples at the top of a round (flow count, average, maximum, reval_seq, time).
    pub fn leader_begin(&self) -> LeaderStart {
        self.round_requested.store(false, Ordering::Release);
        self.round_evicted.store(false, Ordering::Relaxed);
        *self.idle_ages.lock() = IdleAges::default();
        let last_reval_seq = self.reval_seq();
        let n_flows = match self.config.flow_limit_policy() {
            FlowLimitPolicy::Ovs => self.n_flows(),
            FlowLimitPolicy::Adaptive => self.refresh_n_flows(),
        };
        self.max_n_flows.fetch_max(n_flows, Ordering::Relaxed);
        let avg = self.avg_n_flows.load(Ordering::Relaxed);
        self.avg_n_flows
            .store((avg + n_flows) / 2, Ordering::Relaxed);
        LeaderStart {
            start_time: self.env.now(),
            n_flows,
            last_reval_seq,
        }
    }

    /// The leader's end of a round (after the dump is destroyed): bumps `dump_seq`, records the
    /// duration, adjusts the flow limit (by the configured [`FlowLimitPolicy`]) and, under the
    /// adaptive policy, sets the next round's idle cutoff. Returns the duration.
    pub fn leader_end(&self, start: &LeaderStart) -> u64 {
        self.bump_dump_seq();
        if self.round_evicted.load(Ordering::Relaxed) {
            // The round deleted flows to make room: installs see the room now rather than when
            // the cached count next expires (up to 100 ms of refusals on a stale count, which
            // would also start an early round for nothing).
            self.refresh_n_flows();
        }
        let duration = self.env.now().saturating_sub(start.start_time).max(1);
        self.dump_duration.store(duration, Ordering::Relaxed);
        let policy = self.config.flow_limit_policy();
        let adjust = match policy {
            FlowLimitPolicy::Ovs => adjust_flow_limit,
            FlowLimitPolicy::Adaptive => adjust_flow_limit_adaptive,
        };
        let (limit, change) = adjust(
            self.flow_limit(),
            start.n_flows,
            duration,
            self.config.flow_limit_ceiling(),
        );
        match change {
            LimitChange::Scaled => self.env.coverage.inc(Counter::UpcallFlowLimitScaled),
            LimitChange::Reduced => self.env.coverage.inc(Counter::UpcallFlowLimitReduced),
            LimitChange::Grew => self.env.coverage.inc(Counter::UpcallFlowLimitGrew),
            LimitChange::Jumped => {
                self.env.coverage.inc(Counter::UpcallFlowLimitGrew);
                self.env.coverage.inc(Counter::UpcallFlowLimitJumped);
            }
            LimitChange::Unchanged => {}
        }
        self.set_flow_limit(limit);
        let ages = std::mem::take(&mut *self.idle_ages.lock());
        self.publish_idle_ages(ages, policy);
        if duration > 2000 {
            self.env.log.write(
                Level::Warn,
                format!("Spent an unreasonably long {duration}ms dumping flows"),
            );
        }
        duration
    }

    /// When the next round may start: `start + min(max_idle, max_revalidator)`, or earlier on a
    /// reval_seq change, but never before `start + 5 ms`.
    pub fn next_round_due(&self, start: &LeaderStart) -> (u64, u64) {
        let period = self
            .config
            .max_idle_ms()
            .min(self.config.max_revalidator_ms());
        (
            start.start_time.saturating_add(period),
            start.start_time.saturating_add(MIN_ROUND_GAP_MS),
        )
    }

    /// Under the adaptive policy, after a round that evicted by idle age: when the next round may
    /// start early if installs are refused by the limit again (the table is full again), and how
    /// often the sleeping leader looks. The early start is the round's end plus a quarter of its
    /// duration (at least [`MIN_ROUND_GAP_MS`]), so at the limit the revalidators dump at most
    /// about 80 % of the time. `None` otherwise (OVS's policy: a round per period only).
    pub fn early_round(&self, start: &LeaderStart) -> Option<EarlyRound> {
        if self.config.flow_limit_policy() != FlowLimitPolicy::Adaptive
            || !self.round_evicted.load(Ordering::Relaxed)
        {
            return None;
        }
        let duration = self.dump_duration.load(Ordering::Relaxed).max(1);
        let gap = (duration / 4).max(MIN_ROUND_GAP_MS);
        Some(EarlyRound {
            due: start
                .start_time
                .saturating_add(duration)
                .saturating_add(gap),
            poll_ms: gap.clamp(MIN_ROUND_GAP_MS, 50),
        })
    }

    /// The leader's sleep between rounds (real-time waits, re-checking the engine's clock):
    /// returns when the next round is due, or when reval_seq moved past `start.last_reval_seq` but
    /// no earlier than 5 ms after the round start, or, under the adaptive policy after an evicting
    /// round, once an install was refused after this call began and [`Udpif::early_round`]'s time
    /// has come, or as soon as `interrupted()` (a set pause or exit latch) is true.
    pub fn leader_wait(&self, start: &LeaderStart, interrupted: &dyn Fn() -> bool) {
        let (due, earliest) = self.next_round_due(start);
        let early = self.early_round(start);
        let refusals = self.limit_refusals.load(Ordering::Relaxed);
        let poll_ms = early.map_or(50, |e| e.poll_ms);
        let woke = |this: &Udpif| {
            let now = this.env.now();
            interrupted()
                || this.reval_seq() != start.last_reval_seq
                || now >= due
                || this.round_requested.load(Ordering::Acquire)
                || early.is_some_and(|e| {
                    now >= e.due && this.limit_refusals.load(Ordering::Relaxed) != refusals
                })
        };
        while !woke(self) {
            let left = due.saturating_sub(self.env.now()).clamp(1, poll_ms);
            self.wake
                .wait_until(Duration::from_millis(left), || woke(self));
        }
        if interrupted() {
            return;
        }
        // A requested round (the daemon's real-time tick while its clock is stopped) does not
        // wait for the 5 ms gap on a clock that may not move.
        while self.env.now() < earliest
            && !interrupted()
            && !self.round_requested.load(Ordering::Acquire)
        {
            let left = earliest.saturating_sub(self.env.now()).clamp(1, 5);
            self.wake
                .wait_until(Duration::from_millis(left), interrupted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_limit_rules_of_section_4_1() {
        // Grow: 9000 flows dumped in 500 ms is 18000/s > 10000.
        assert_eq!(
            adjust_flow_limit(10_000, 9000, 500, 200_000),
            (11_000, LimitChange::Grew)
        );
        // Quiet system: stays.
        assert_eq!(
            adjust_flow_limit(10_000, 1, 1, 200_000),
            (10_000, LimitChange::Unchanged)
        );
        // 1000..=1300 ms: unchanged.
        assert_eq!(
            adjust_flow_limit(10_000, 1_000_000, 1000, 200_000).1,
            LimitChange::Unchanged
        );
        assert_eq!(
            adjust_flow_limit(10_000, 1_000_000, 1300, 200_000).1,
            LimitChange::Unchanged
        );
        assert_eq!(
            adjust_flow_limit(10_000, 0, 1301, 200_000),
            (7500, LimitChange::Reduced)
        );
        assert_eq!(
            adjust_flow_limit(10_000, 0, 2000, 200_000),
            (7500, LimitChange::Reduced)
        );
        // Integer seconds: 2999 ms → /2, 3000 → /3.
        assert_eq!(
            adjust_flow_limit(10_000, 0, 2999, 200_000),
            (5000, LimitChange::Scaled)
        );
        assert_eq!(
            adjust_flow_limit(9000, 0, 3000, 200_000),
            (3000, LimitChange::Scaled)
        );
        // Clamps.
        assert_eq!(adjust_flow_limit(100, 0, 1100, 200_000).0, 1000);
        assert_eq!(
            adjust_flow_limit(200_000, 10_000_000, 10, 150_000).0,
            150_000
        );
        // Zero duration is treated as 1 ms.
        assert_eq!(
            adjust_flow_limit(10_000, 20, 0, 200_000),
            (11_000, LimitChange::Grew)
        );
    }
}
