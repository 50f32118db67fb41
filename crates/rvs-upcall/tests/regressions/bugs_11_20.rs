//! Bugs 11–20 of ovs-upcall.md §10.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rvs_dpif::clock::Clock;
use rvs_dpif::dpif::{Dpif, DpifOp, FlowPut, NON_PMD_CORE_ID, PutFlags};
use rvs_flow::odp::OdpAction;
use rvs_upcall::config::FlowLimitPolicy;
use rvs_upcall::coverage::Counter;
use rvs_upcall::log::Level;
use rvs_upcall::testing::SendResult;
use rvs_upcall::ukey::UkeyState;
use rvs_upcall::xlate::{SLOW_MATCH, Translator};
use rvs_upcall::{UpcallEngine, VirtualClock};

use super::bugs_01_10::hooked;
use super::*;

#[test]
fn bug_11_rounds_start_at_least_5ms_apart() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    round.sweep_all();
    let start = h.clock.now_ms();
    round.finish();
    // A flow-mod right after the round: the leader is woken, but must still wait 5 ms.
    h.udpif.revalidate();
    let clock = h.clock.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                clock.advance(1);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let ls = rvs_upcall::revalidator::LeaderStart {
        start_time: start,
        n_flows: 1,
        last_reval_seq: h.udpif.reval_seq() - 1,
    };
    let (due, earliest) = h.udpif.next_round_due(&ls);
    assert_eq!((due, earliest), (start + 500, start + 5));
    h.udpif.leader_wait(&ls, &|| false);
    let engine_wait = h.clock.now_ms();
    stop.store(true, Ordering::Relaxed);
    let _ = ticker.join();
    assert!(
        engine_wait >= start + 5,
        "woke at {engine_wait}, start {start}"
    );
    assert!(
        engine_wait < start + 500,
        "woken early by the reval_seq change"
    );
}

#[test]
fn bug_12_flows_adopted_from_the_datapath_are_validated() {
    let (h, f) = one_rule();
    // A flow left in the datapath by a previous run, with outdated actions.
    let put = FlowPut {
        owner: None,
        flags: PutFlags::CREATE,
        key: f,
        mask: rvs_upcall::handler::datapath_wildcards(in_port_mask()),
        actions: Arc::from(vec![OdpAction::Output(9)]),
        ufid: Some(h.dpif.ufid_of(&f)),
        pmd_id: NON_PMD_CORE_ID,
    };
    assert!(h.dpif.operate(vec![DpifOp::Put(put)])[0].error.is_none());
    h.advance(100);
    h.round();
    let dp = h
        .dpif
        .flow(h.dpif.ufid_of(&f), NON_PMD_CORE_ID)
        .expect("flow");
    assert_eq!(
        *dp.actions,
        [OdpAction::Output(2)],
        "adopted flow re-translated and fixed"
    );
    assert_eq!(view(&h, &f).reval_seq, h.udpif.reval_seq());
}

#[test]
fn bug_13_handler_only_moves_a_ukey_forward() {
    let (dpif, xlate, udpif, _clock) = hooked();
    let f = udp_flow(1, 1, 1, 80);
    // Between the handler's ukey install and its put, a purge evicts the (VISIBLE) ukey.
    let u2 = udpif.clone();
    dpif.set_hook(Box::new(move || u2.purge_all(1)));
    assert_eq!(dpif.inner.send(&f, 100), SendResult::Miss);
    let mut buf = Vec::new();
    udpif.recv_upcalls(0, &mut buf);
    assert_eq!(udpif.coverage().get(Counter::UkeyStateBackwards), 0);
    assert_eq!(udpif.coverage().get(Counter::UkeyStateInvalid), 0);
    assert!(udpif.ukeys().is_empty(), "purged ukey stays gone");
    // The flow did get installed; the next dump adopts it.
    assert_eq!(dpif.inner.n_flows_real(), 1);
    udpif.run_round(1);
    assert_eq!(udpif.ukeys().len(), 1);
    let _ = xlate;
}

#[test]
fn bug_14_failed_delete_leaves_evicting() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    h.dpif.fail_next_dels(1);
    h.advance(10_001);
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    assert_eq!(
        view(&h, &f).state,
        UkeyState::Evicted,
        "not stuck in EVICTING"
    );
    round.sweep_all();
    round.finish();
    assert!(h.ukey_of(&f).is_none(), "swept");
    assert!(dp_has(&h, &f), "the flow survived the failed delete");
    // The survivor is re-adopted by the next dump (a new ukey, created now) ...
    h.advance(100);
    h.round();
    assert_eq!(view(&h, &f).state, UkeyState::Operational);
    // ... and, still idle, deleted for good once max-idle passes again.
    h.advance(10_001);
    h.round();
    assert!(!dp_has(&h, &f));
    assert!(h.ukey_of(&f).is_none());
    assert_no_bad_transitions(&h);
}

#[test]
fn bug_15_imprecise_match_is_slow_pathed() {
    // Not applicable as such: rvs keys are whole `Flow`s, so a datapath never parses "too little"
    // of them. The closest rule: a translation that asks for the slow path installs an upcall
    // action, and its packets are executed by handlers without new installs.
    let mut rule = port_rule(1, 10, 1, 2);
    rule.slow_path = SLOW_MATCH;
    let h = Harness::new(vec![rule]);
    let f = udp_flow(1, 1, 1, 80);
    h.send_and_handle(&f);
    let dp = h
        .dpif
        .flow(h.dpif.ufid_of(&f), NON_PMD_CORE_ID)
        .expect("flow");
    assert_eq!(dp.actions, h.xlate.slow_path_actions(&f, SLOW_MATCH));
    assert!(matches!(h.send(&f), SendResult::Hit(_)));
    let r = h.run_handlers();
    assert_eq!((r.upcalls, r.puts, r.executes), (1, 0, 1));
    assert_eq!(h.udpif.upcall_counts().0, 1, "a slow-path upcall");
}

#[test]
fn bug_16_new_ukeys_start_with_dump_seq_zero() {
    let (h, f) = one_rule();
    h.advance(100);
    h.round();
    h.send_and_handle(&f);
    assert_eq!(view(&h, &f).dump_seq, 0);
    // A table change in the same period must reach the new flow in the next round.
    h.xlate.set_rules(vec![port_rule(1, 10, 1, 3)]);
    h.udpif.revalidate();
    h.advance(100);
    h.round();
    let dp = h
        .dpif
        .flow(h.dpif.ufid_of(&f), NON_PMD_CORE_ID)
        .expect("flow");
    assert_eq!(*dp.actions, [OdpAction::Output(3)]);
}

#[test]
fn bug_17_flow_limit_recovers_after_a_slow_period() {
    let (h, _f) = one_rule();
    // OVS's growth rule (+1000 per fast round) is what this seed pins down.
    h.udpif.config().set_flow_limit_policy(FlowLimitPolicy::Ovs);
    h.dpif.override_n_flows(Some(5000));
    let slow = h.udpif.begin_round(1);
    h.advance(3000);
    slow.finish();
    assert_eq!(h.udpif.flow_limit(), 3333);
    assert_eq!(cov(&h, Counter::UpcallFlowLimitScaled), 1);
    for i in 0..5 {
        h.advance(200);
        let r = h.udpif.begin_round(1);
        h.advance(100); // 5000 flows in 100 ms: 50000 per second
        r.finish();
        assert_eq!(h.udpif.flow_limit(), 3333 + 1000 * (i + 1));
    }
    assert_eq!(cov(&h, Counter::UpcallFlowLimitGrew), 5);
}

#[test]
fn bug_18_purge_cannot_free_a_ukey_in_use() {
    // Not applicable as such (no RCU): a ukey is an `Arc`, so whoever still holds one after a purge
    // holds valid memory. The rule that remains: purge frees from the map, the holder sees DELETED.
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    let held = h.ukey_of(&f).expect("ukey");
    h.udpif.purge_all(3);
    assert!(h.udpif.ukeys().is_empty());
    assert_eq!(held.view().state, UkeyState::Deleted);
    assert!(!dp_has(&h, &f));
    assert_conserved(&h);
}

#[test]
fn bug_19_stopping_keeps_flows_and_frees_ukeys() {
    let (h, f) = one_rule();
    let engine = UpcallEngine::new(h.udpif.clone());
    engine.start(1, 1);
    h.send(&f);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while h.ukey_of(&f).is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let weak = Arc::downgrade(&h.ukey_of(&f).expect("installed by a handler thread"));
    engine.stop();
    drop(engine);
    assert!(dp_has(&h, &f), "flows stay in the datapath on exit");
    let Harness { udpif, .. } = h;
    drop(udpif);
    assert!(weak.upgrade().is_none(), "ukeys are freed with the engine");
}

#[test]
fn bug_20_flow_limit_storms_are_visible() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    h.udpif.set_flow_limit(1);
    h.advance(200);
    let g = udp_flow(2, 2, 2, 80); // another input port: another megaflow
    h.send_and_handle(&g);
    assert!(h.ukey_of(&g).is_none(), "not installed over the limit");
    assert_eq!(cov(&h, Counter::UpcallFlowLimitHit), 1);
    assert!(
        h.udpif
            .log()
            .contains("upcall: datapath reached the dynamic limit of 1 flows.")
    );
    h.dpif.override_n_flows(Some(3));
    h.advance(200);
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    round.sweep_all();
    h.advance(1500);
    round.finish();
    assert_eq!(cov(&h, Counter::UpcallFlowLimitKill), 1);
    assert!(h.udpif.log().contains(
        "Number of datapath flows (3) twice as high as current dynamic flow limit (2).  \
         Starting to delete flows unconditionally as an emergency measure."
    ));
    assert!(!dp_has(&h, &f), "emergency deletion");
    assert_eq!(cov(&h, Counter::UpcallFlowLimitReduced), 1);
    let slow = h.udpif.begin_round(1);
    h.advance(2500);
    slow.finish();
    assert_eq!(cov(&h, Counter::UpcallFlowLimitScaled), 1);
    assert!(
        h.udpif
            .log()
            .contains("Spent an unreasonably long 2500ms dumping flows")
    );
    assert!(h.udpif.log().total(Level::Warn) >= 3);
    let _ = VirtualClock::default();
}
