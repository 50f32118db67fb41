//! Bugs 1–10 of ovs-upcall.md §10.

use std::sync::Arc;

use rvs_dpif::dpif::NON_PMD_CORE_ID;
use rvs_upcall::Udpif;
use rvs_upcall::VirtualClock;
use rvs_upcall::config::FlowLimitPolicy;
use rvs_upcall::coverage::Counter;
use rvs_upcall::revalidator::DelReason;
use rvs_upcall::testing::{FakeDpif, FakeTranslator, SendResult};
use rvs_upcall::ukey::{UkeyId, UkeyState};

use super::hooks::HookDpif;
use super::*;

/// Sends `n` hits of `flow` (which must be installed).
fn hits(h: &Harness, flow: &Flow, n: usize) {
    for _ in 0..n {
        assert!(matches!(h.send(flow), SendResult::Hit(_)));
    }
}

/// Makes the last round look slow (dump_duration 400 ms ≥ max_revalidator/2).
fn slow_round(h: &Harness) {
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    round.sweep_all();
    h.advance(400);
    round.finish();
    assert!(h.udpif.dump_duration() >= 250);
}

#[test]
fn bug_01_duplicate_dump_skipped_by_dump_seq() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 5);
    h.dpif.duplicate_in_dumps(h.dpif.ufid_of(&f), true);
    h.advance(100);
    h.round();
    assert_eq!(
        h.xlate.credited(1).n_packets,
        6,
        "the duplicate must not be credited again"
    );
    assert_eq!(cov(&h, Counter::DumpedDuplicateFlow), 1);
    // A duplicate of a flow being deleted must not be deleted twice.
    h.advance(10_001);
    h.round();
    assert_eq!(
        h.dpif
            .counters
            .dels
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_conserved(&h);
    assert_no_bad_transitions(&h);
}

#[test]
fn bug_02_baseline_moves_only_with_a_push() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 3);
    h.advance(100);
    h.round(); // baseline 3, credited 4
    hits(&h, &f, 2); // datapath at 5
    slow_round(&h); // credited 6, baseline 5, dump_duration 400
    hits(&h, &f, 1); // datapath at 6, one packet in 2 s: below min-revalidate-pps
    h.advance(2000);
    h.udpif.revalidate();
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    // DELETE (too expensive): the delta was not pushed, so the baseline must not have moved.
    assert_eq!(h.udpif.deletions(DelReason::TooExpensive), 1);
    round.sweep_all();
    round.finish();
    assert_conserved(&h);
    assert_eq!(h.xlate.credited(1).n_packets, 7);
}

#[test]
fn bug_03_missed_flow_deleted_together_with_its_ukey() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 3);
    h.advance(100);
    h.round();
    h.dpif.hide_from_dumps(h.dpif.ufid_of(&f), true);
    hits(&h, &f, 3);
    for _ in 0..4 {
        h.advance(100);
        h.round();
    }
    assert!(h.ukey_of(&f).is_none(), "ukey dropped after 4 missed dumps");
    assert!(!dp_has(&h, &f), "and its datapath flow deleted with it");
    assert_eq!(cov(&h, Counter::RevalidateMissingDpFlow), 1);
    assert_conserved(&h);
    // Nothing left that a later dump could credit twice.
    h.dpif.hide_from_dumps(h.dpif.ufid_of(&f), false);
    h.advance(100);
    h.round();
    assert_conserved(&h);
}

#[test]
fn bug_04_zero_duration_round_does_not_divide_by_zero() {
    let (h, f) = one_rule();
    // OVS's growth rule (+1000 per fast round) is what this seed pins down.
    h.udpif.config().set_flow_limit_policy(FlowLimitPolicy::Ovs);
    h.send_and_handle(&f);
    h.dpif.override_n_flows(Some(50_000));
    h.advance(200);
    let stats = h.round(); // no virtual time passes during the round
    assert_eq!(stats.duration_ms, 1);
    assert_eq!(h.udpif.dump_duration(), 1);
    // 50000 flows in 1 ms is a dump rate far above the limit: it grows.
    assert_eq!(h.udpif.flow_limit(), 11_000);
}

#[test]
fn bug_05_min_revalidate_pps_deletes_slow_flows_on_slow_dumps_only() {
    let rules = vec![port_rule(1, 10, 1, 2)];
    let h = Harness::new(rules);
    // Different input ports: the rules' wildcards make one megaflow per port.
    let slow = udp_flow(1, 1, 1, 80);
    let fast = udp_flow(2, 2, 2, 80);
    let fresh = udp_flow(3, 3, 3, 80);
    let offloaded = udp_flow(4, 4, 4, 80);
    for f in [&slow, &fast, &offloaded] {
        h.send_and_handle(f);
    }
    hits(&h, &slow, 1);
    hits(&h, &offloaded, 1);
    h.advance(100);
    h.round();
    slow_round(&h);
    h.dpif
        .set_offloaded(h.dpif.ufid_of(&offloaded), NON_PMD_CORE_ID, true);
    h.advance(1000);
    hits(&h, &fast, 20); // 20 packets in ~1.4 s: 70 ms per packet < 200
    hits(&h, &offloaded, 1);
    h.send_and_handle(&fresh); // never dumped: its ukey has stats.used == 0
    h.udpif.revalidate();
    h.round();
    assert!(
        h.ukey_of(&slow).is_none(),
        "slow flow deleted (too expensive)"
    );
    assert!(h.ukey_of(&fast).is_some(), "fast flow revalidated and kept");
    assert!(
        h.ukey_of(&fresh).is_some(),
        "never-used flow always revalidated"
    );
    assert!(h.ukey_of(&offloaded).is_some(), "young offloaded flow kept");
    assert_eq!(h.udpif.deletions(DelReason::TooExpensive), 1);

    // Fast dumps revalidate everything.
    let h2 = Harness::new(vec![port_rule(1, 10, 1, 2)]);
    h2.send_and_handle(&slow);
    hits(&h2, &slow, 1);
    h2.advance(100);
    h2.round();
    h2.advance(2000);
    h2.udpif.revalidate();
    h2.round();
    assert!(
        h2.ukey_of(&slow).is_some(),
        "fast dump: no heuristic deletion"
    );

    // min-revalidate-pps 0 disables the heuristic even on slow dumps.
    let h3 = Harness::new(vec![port_rule(1, 10, 1, 2)]);
    h3.udpif.config().set_min_revalidate_pps(0);
    h3.send_and_handle(&slow);
    hits(&h3, &slow, 1);
    h3.advance(100);
    h3.round();
    slow_round(&h3);
    h3.advance(2000);
    h3.udpif.revalidate();
    h3.round();
    assert!(h3.ukey_of(&slow).is_some(), "pps 0 disables the heuristic");
}

#[test]
fn bug_06_failed_delete_attributes_nothing() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 5);
    h.advance(100);
    h.round();
    let before = h.xlate.credited(1);
    h.dpif.fail_next_dels(1);
    h.advance(10_001);
    h.round();
    let after = h.xlate.credited(1);
    assert_eq!(
        after, before,
        "a failed delete carries zero stats and credits nothing"
    );
    assert!(after.n_packets < 1000, "no underflowed delta");
}

#[test]
fn bug_07_ukey_delete_acts_once() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    let ukey = h.ukey_of(&f).expect("ukey");
    assert_eq!(ukey.view().state, UkeyState::Operational);
    // Idle deletion moves it to EVICTED during the dump; then an upcall replaces it before the
    // sweep (the second critical section of the sweep must not delete the replacement).
    h.advance(10_001);
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    assert_eq!(ukey.view().state, UkeyState::Evicted);
    assert_eq!(h.send(&f), SendResult::Miss);
    h.run_handlers();
    assert_eq!(
        ukey.view().state,
        UkeyState::Deleted,
        "replaced ukey is deleted once"
    );
    assert!(
        !h.udpif.ukeys().delete(&ukey, h.udpif.env()),
        "second delete is a no-op"
    );
    round.sweep_all();
    round.finish();
    let new = h.ukey_of(&f).expect("replacement still in the map");
    assert!(!Arc::ptr_eq(&new, &ukey));
    assert_eq!(new.view().state, UkeyState::Operational);
    assert_no_bad_transitions(&h);
}

#[test]
fn bug_08_only_delete_ops_free_their_ukey() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    h.advance(100);
    h.round();
    // Not dumped this round and in need of revalidation: the sweep revalidates it, and the new
    // actions make it a MODIFY, which must not free the ukey.
    h.dpif.hide_from_dumps(h.dpif.ufid_of(&f), true);
    h.xlate.set_rules(vec![port_rule(1, 10, 1, 3)]);
    h.udpif.revalidate();
    h.advance(100);
    h.round();
    assert_eq!(cov(&h, Counter::RevalidateMissedDpFlow), 1);
    let v = view(&h, &f);
    assert_eq!(v.state, UkeyState::Operational);
    let dp = h
        .dpif
        .flow(h.dpif.ufid_of(&f), NON_PMD_CORE_ID)
        .expect("flow");
    assert_eq!(*dp.actions, [rvs_flow::odp::OdpAction::Output(3)]);
    assert_eq!(*v.actions, *dp.actions);
}

#[test]
fn bug_09_pmd_id_is_part_of_the_ukey_name() {
    let (h, f) = one_rule();
    assert_eq!(h.dpif.send_from(1, &f, 100), SendResult::Miss);
    assert_eq!(h.dpif.send_from(2, &f, 100), SendResult::Miss);
    let r = h.run_handlers();
    assert_eq!(
        r.puts, 2,
        "each forwarding thread gets its own flow and ukey"
    );
    let ufid = h.dpif.ufid_of(&f);
    for pmd in [1, 2] {
        assert!(h.udpif.ukey(&UkeyId { ufid, pmd_id: pmd }).is_some());
    }
    assert!(matches!(h.dpif.send_from(2, &f, 100), SendResult::Hit(_)));
    assert_eq!(cov(&h, Counter::HandlerDuplicateUpcall), 0);
}

#[test]
fn bug_10_evicted_ukey_is_replaced_by_an_upcall() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 2);
    h.advance(10_001);
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    assert!(!dp_has(&h, &f), "deleted in the dump phase");
    assert_eq!(view(&h, &f).state, UkeyState::Evicted);
    // Traffic comes back before the sweep: the flow is installed again right away.
    assert_eq!(h.send(&f), SendResult::Miss);
    let r = h.run_handlers();
    assert_eq!(r.puts, 1, "installed, not slow-pathed until the sweep");
    assert_eq!(cov(&h, Counter::UpcallUkeyReplace), 1);
    assert!(dp_has(&h, &f));
    round.sweep_all();
    round.finish();
    assert_eq!(view(&h, &f).state, UkeyState::Operational);
    assert!(matches!(h.send(&f), SendResult::Hit(_)));
    h.advance(100);
    h.round();
    assert_conserved(&h);
    assert_no_bad_transitions(&h);
}

/// Bug 13 needs a hook inside the handler's operate; see bugs_11_20.
pub(crate) fn hooked() -> (
    Arc<HookDpif>,
    Arc<FakeTranslator>,
    Arc<Udpif>,
    Arc<VirtualClock>,
) {
    let clock = Arc::new(VirtualClock::new(Harness::START_MS));
    let fake = Arc::new(FakeDpif::new(clock.clone()));
    let dpif = Arc::new(HookDpif::new(fake));
    let xlate = Arc::new(FakeTranslator::with_rules(vec![port_rule(1, 10, 1, 2)]));
    let udpif = Arc::new(Udpif::new(dpif.clone(), xlate.clone(), clock.clone()));
    (dpif, xlate, udpif, clock)
}
