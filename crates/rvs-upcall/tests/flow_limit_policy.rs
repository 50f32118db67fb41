//! The flow-limit policies (`docs/flow-limit-policy.md`) on the deterministic harness: a churn of
//! short-lived flows over a set of hot ones, with OVS's policy (the sawtooth) and the adaptive one
//! (the count stays just under the limit, the hot flows are never evicted), exact statistics,
//! the twice-the-limit emergency, and the growth of a fresh engine's limit.

use rvs_flow::{Flow, Wildcards};
use rvs_upcall::Clock;
use rvs_upcall::config::FlowLimitPolicy;
use rvs_upcall::coverage::Counter;
use rvs_upcall::revalidator::DelReason;
use rvs_upcall::testing::{FakeRule, Harness, SendResult, udp_flow};

/// The limit of the churn scenario (the ceiling, so the dynamic limit sits on it).
const LIMIT: u32 = 2000;
/// Hot flows: one packet every tick.
const HOT: u32 = 300;
/// New flows per 10 ms tick (each gets two packets: the miss and one hit).
const NEW_PER_TICK: u32 = 25;
/// Ticks per revalidation round (100 ms).
const TICKS_PER_ROUND: u32 = 10;

/// Rule 1 forwards everything from port 1; rule 2 never matches but makes every flow's megaflow
/// exact on addresses and port, so each flow of [`flow`] is its own datapath flow.
fn rules() -> Vec<FakeRule> {
    let mut in_port = Wildcards::default();
    in_port.masks.in_port = u32::MAX;
    let forward = FakeRule::output(
        1,
        10,
        &Flow {
            in_port: 1,
            ..Flow::default()
        },
        in_port,
        2,
    );
    let mut exact = Wildcards::default();
    exact.masks.nw_src = u32::MAX;
    exact.masks.nw_dst = u32::MAX;
    exact.masks.tp_dst = u16::MAX;
    let widen = FakeRule::output(2, 0, &Flow::default(), exact, 3);
    vec![forward, widen]
}

/// Flow number `n` (distinct for every `n < 2^24`); hot flows are `0..HOT`.
fn flow(n: u32) -> Flow {
    udp_flow(1, (n >> 16) as u8, 7, n as u16)
}

/// What a churn run saw.
#[derive(Debug, Default)]
struct Trace {
    /// Datapath flow count right after each round.
    after_round: Vec<usize>,
    /// Largest flow count seen at any tick.
    max_seen: usize,
    /// Misses of hot flows after warm-up (a hot flow was evicted).
    hot_misses_after_warmup: u64,
}

/// Runs `rounds` rounds of churn under `policy`; the first `warmup` rounds are not judged.
fn churn(policy: FlowLimitPolicy, rounds: u32, warmup: u32) -> (Harness, Trace) {
    let h = Harness::new(rules());
    h.udpif.config().set_flow_limit_policy(policy);
    h.udpif.config().set_flow_limit_ceiling(LIMIT);
    h.udpif.set_flow_limit(LIMIT);
    let mut trace = Trace::default();
    let mut next_new = HOT;
    for round in 0..rounds {
        for _ in 0..TICKS_PER_ROUND {
            h.advance(10);
            for n in 0..HOT {
                if h.send(&flow(n)) == SendResult::Miss && round >= warmup {
                    trace.hot_misses_after_warmup += 1;
                }
            }
            for _ in 0..NEW_PER_TICK {
                h.send(&flow(next_new));
                next_new += 1;
            }
            h.run_handlers();
            for n in next_new - NEW_PER_TICK..next_new {
                h.send(&flow(n));
            }
            h.run_handlers();
            trace.max_seen = trace.max_seen.max(h.dpif.n_flows_real());
        }
        let stats = h.round();
        assert_eq!(stats.flow_limit, LIMIT, "the limit sits on its ceiling");
        trace.max_seen = trace.max_seen.max(h.dpif.n_flows_real());
        if round >= warmup {
            trace.after_round.push(h.dpif.n_flows_real());
        }
    }
    (h, trace)
}

/// Purges everything and checks that every packet was credited exactly once.
fn assert_exact_statistics(h: &Harness) {
    h.udpif.purge_all(1);
    assert_eq!(h.dpif.n_flows_real(), 0);
    let (credited, seen) = h.conservation();
    assert_eq!(credited, seen, "every packet credited exactly once");
    assert_eq!(h.udpif.coverage().get(Counter::UkeyStateBackwards), 0);
    assert_eq!(h.udpif.coverage().get(Counter::UkeyStateInvalid), 0);
}

#[test]
fn ovs_policy_saws_under_churn() {
    let (h, trace) = churn(FlowLimitPolicy::Ovs, 60, 10);
    let low = *trace.after_round.iter().min().expect("rounds");
    let high = trace.max_seen;
    eprintln!(
        "ovs: after rounds {:?}, max {high}",
        &trace.after_round[..12]
    );
    // Above the limit every flow idle for 100 ms goes: the count falls far below the limit...
    assert!(
        low < LIMIT as usize / 2,
        "count falls to {low}, far under {LIMIT}"
    );
    // ...and climbs back to it.
    assert!(high >= LIMIT as usize, "count climbs back to {high}");
    assert_eq!(h.udpif.coverage().get(Counter::UpcallFlowLimitEvict), 0);
    assert_exact_statistics(&h);
}

#[test]
fn adaptive_policy_keeps_the_count_just_under_the_limit() {
    let (h, trace) = churn(FlowLimitPolicy::Adaptive, 60, 10);
    eprintln!(
        "adaptive: after rounds {:?}..., min {:?}, max after a round {:?}, max {}",
        &trace.after_round[..12],
        trace.after_round.iter().min(),
        trace.after_round.iter().max(),
        trace.max_seen
    );
    let lo = LIMIT as usize * 9 / 10;
    for (i, n) in trace.after_round.iter().enumerate() {
        assert!(
            (lo..=LIMIT as usize).contains(n),
            "round {}: {n} flows outside [{lo}, {LIMIT}]",
            i + 10
        );
    }
    assert!(trace.max_seen <= 2 * LIMIT as usize);
    // Only flows idle longest are evicted: the hot ones never are.
    assert_eq!(trace.hot_misses_after_warmup, 0);
    let cov = |c| h.udpif.coverage().get(c);
    // Batches that evicted by idle age: about one round in two or more.
    assert!(cov(Counter::UpcallFlowLimitEvict) >= 25);
    assert!(h.udpif.deletions(DelReason::FlowIdle) > 0);
    assert_eq!(cov(Counter::UpcallFlowLimitKill), 0);
    assert_exact_statistics(&h);
}

#[test]
fn adaptive_policy_still_kills_everything_above_twice_the_limit() {
    let (h, _trace) = churn(FlowLimitPolicy::Adaptive, 20, 0);
    let before = h.dpif.n_flows_real();
    assert!(before > 1000);
    // The limit drops to a quarter: the count is now more than twice the limit.
    h.udpif.set_flow_limit(LIMIT / 4);
    h.advance(200);
    h.round();
    assert!(h.udpif.coverage().get(Counter::UpcallFlowLimitKill) > 0);
    assert_eq!(h.dpif.n_flows_real(), 0, "every dumped flow was deleted");
    assert!(h.udpif.deletions(DelReason::FlowLimit) >= before as u64);
    assert_exact_statistics(&h);
}

#[test]
fn adaptive_policy_without_pressure_deletes_only_idle_flows() {
    // Under the limit both policies keep flows until max-idle.
    for policy in FlowLimitPolicy::ALL {
        let h = Harness::new(rules());
        h.udpif.config().set_flow_limit_policy(policy);
        for n in 0..100 {
            h.send_and_handle(&flow(n));
        }
        h.advance(5000);
        h.round();
        assert_eq!(h.dpif.n_flows_real(), 100, "{policy:?}");
        assert_eq!(h.udpif.coverage().get(Counter::UpcallFlowLimitEvict), 0);
        h.advance(6000);
        h.round();
        assert_eq!(h.dpif.n_flows_real(), 0, "{policy:?}: idle past max-idle");
        assert_exact_statistics(&h);
    }
}

/// Rounds with the datapath reporting as many flows as the limit, each dumping in `duration` ms.
fn grow(policy: FlowLimitPolicy, rounds: usize, duration: u64) -> Vec<u32> {
    let h = Harness::new(rules());
    h.udpif.config().set_flow_limit_policy(policy);
    let mut limits = Vec::new();
    for _ in 0..rounds {
        h.dpif
            .override_n_flows(Some(u64::from(h.udpif.flow_limit())));
        h.advance(500);
        let round = h.udpif.begin_round(1);
        h.advance(duration);
        limits.push(round.finish().flow_limit);
    }
    limits
}

#[test]
fn a_fresh_adaptive_engine_reaches_the_ceiling_in_a_few_fast_rounds() {
    // 10000 flows dumped in 50 ms is 200000 flows per second.
    assert_eq!(
        grow(FlowLimitPolicy::Adaptive, 4, 50),
        [40_000, 160_000, 200_000, 200_000]
    );
    // OVS: one thousand per round.
    assert_eq!(
        grow(FlowLimitPolicy::Ovs, 4, 50),
        [11_000, 12_000, 13_000, 14_000]
    );
    // A dump rate just above the limit gives just that much.
    assert_eq!(grow(FlowLimitPolicy::Adaptive, 1, 800), [12_500]);
}

#[test]
fn adaptive_limit_still_shrinks_on_slow_dumps() {
    let h = Harness::new(rules());
    h.dpif.override_n_flows(Some(10_000));
    let slow = h.udpif.begin_round(1);
    h.advance(1500);
    assert_eq!(slow.finish().flow_limit, 7500, "1300..2000 ms: ×3/4");
    let slower = h.udpif.begin_round(1);
    h.advance(3000);
    assert_eq!(slower.finish().flow_limit, 2500, "3000 ms: /3");
    let cov = |c| h.udpif.coverage().get(c);
    assert_eq!(cov(Counter::UpcallFlowLimitReduced), 1);
    assert_eq!(cov(Counter::UpcallFlowLimitScaled), 1);
    // Fast again: it jumps back up, counted both as growth and as a jump.
    h.dpif.override_n_flows(Some(2500));
    let fast = h.udpif.begin_round(1);
    h.advance(100);
    assert_eq!(fast.finish().flow_limit, 10_000);
    assert_eq!(cov(Counter::UpcallFlowLimitGrew), 1);
    assert_eq!(cov(Counter::UpcallFlowLimitJumped), 1);
}

/// After the churn, a leader sleeping for its next round while a helper thread moves the virtual
/// clock (1 ms every 2 ms) and, from `refuse_after` ms on, keeps asking to install a flow with
/// the datapath over the (lowered) limit. Returns the virtual ms the leader slept.
fn sleep_after_churn(policy_at_wait: FlowLimitPolicy, refuse_after: Option<u64>) -> u64 {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let (h, _) = churn(FlowLimitPolicy::Adaptive, 12, 0);
    h.udpif.config().set_flow_limit_policy(policy_at_wait);
    // Every install is refused from now on: the datapath holds far more than 1000 flows.
    h.udpif.set_flow_limit(1000);
    let start = h.clock.now_ms();
    let ls = rvs_upcall::revalidator::LeaderStart {
        start_time: start,
        n_flows: h.dpif.n_flows_real() as u64,
        last_reval_seq: h.udpif.reval_seq(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (stop, clock, udpif) = (stop.clone(), h.clock.clone(), h.udpif.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                clock.advance(1);
                if refuse_after.is_some_and(|t| clock.now_ms() >= start + t) {
                    assert!(!udpif.should_install_flow(), "installs are refused");
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    h.udpif.leader_wait(&ls, &|| false);
    let slept = h.clock.now_ms() - start;
    stop.store(true, Ordering::Relaxed);
    ticker.join().expect("ticker");
    slept
}

#[test]
fn adaptive_rounds_start_early_while_the_limit_refuses_installs() {
    let (h, _) = churn(FlowLimitPolicy::Adaptive, 12, 0);
    assert!(h.udpif.coverage().get(Counter::UpcallFlowLimitEvict) > 0);
    let now = h.clock.now_ms();
    let ls = rvs_upcall::revalidator::LeaderStart {
        start_time: now,
        n_flows: 0,
        last_reval_seq: h.udpif.reval_seq(),
    };
    // The harness's rounds take no virtual time (duration 1 ms): the early start is the round's
    // end plus the minimum gap.
    let early = h.udpif.early_round(&ls).expect("the last round evicted");
    assert_eq!(early.due, now + 1 + 5);
    // OVS's policy never starts a round before its period.
    h.udpif.config().set_flow_limit_policy(FlowLimitPolicy::Ovs);
    assert_eq!(h.udpif.early_round(&ls), None);

    // With installs refused from 20 ms on, the adaptive leader wakes then, long before the
    // 500 ms period; without refusals, or under OVS's policy, it sleeps the whole period.
    let refused = sleep_after_churn(FlowLimitPolicy::Adaptive, Some(20));
    // (The leader looks every 5 ms of real time, the clock moves 1 ms per 2 ms: it wakes within a
    // few ms of the first refusal; the bound leaves room for a loaded machine.)
    assert!((20..300).contains(&refused), "woke after {refused} ms");
    assert!(sleep_after_churn(FlowLimitPolicy::Adaptive, None) >= 500);
    assert!(sleep_after_churn(FlowLimitPolicy::Ovs, Some(20)) >= 500);
}

#[test]
fn an_adaptive_round_that_evicted_nothing_does_not_start_the_next_early() {
    // No churn: nothing is ever over the limit, so no round evicts.
    let h = Harness::new(rules());
    h.udpif
        .config()
        .set_flow_limit_policy(FlowLimitPolicy::Adaptive);
    for n in 0..10 {
        h.send_and_handle(&flow(n));
    }
    h.advance(100);
    h.round();
    let ls = rvs_upcall::revalidator::LeaderStart {
        start_time: h.clock.now_ms(),
        n_flows: 10,
        last_reval_seq: h.udpif.reval_seq(),
    };
    assert_eq!(h.udpif.early_round(&ls), None);
}
