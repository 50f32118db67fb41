//! Bugs 21–30 of ovs-upcall.md §10.

use std::time::Duration;

use rvs_dpif::dpif::{FlowStats, NON_PMD_CORE_ID};
use rvs_upcall::UpcallEngine;
use rvs_upcall::coverage::Counter;
use rvs_upcall::revalidator::DelReason;
use rvs_upcall::testing::SendResult;
use rvs_upcall::ukey::UkeyState;

use super::*;

fn hits(h: &Harness, flow: &Flow, n: usize) {
    for _ in 0..n {
        assert!(matches!(h.send(flow), SendResult::Hit(_)));
    }
}

#[test]
fn bug_21_replacement_inherits_dump_seq() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 5);
    h.advance(100);
    h.round(); // baseline 5
    hits(&h, &f, 3); // datapath 8
    let ufid = h.dpif.ufid_of(&f);
    h.dpif.duplicate_in_dumps(ufid, true);
    h.dpif.limit_dump_batches(Some(1));
    h.advance(10_001);
    let round = h.udpif.begin_round(1);
    let mut d = round.dumpers();
    assert_eq!(d.batch(0), 1); // first copy: idle, deleted, 3 credited, EVICTED
    assert!(!dp_has(&h, &f));
    h.send(&f);
    h.run_handlers(); // replaced; a new flow is installed under the same UFID
    assert_eq!(cov(&h, Counter::UpcallUkeyReplace), 1);
    assert_eq!(d.batch(0), 1); // second copy: the old flow's stale stats (8 packets)
    d.run_all();
    drop(d);
    round.sweep_all();
    round.finish();
    assert_eq!(
        cov(&h, Counter::DumpedNewFlow),
        1,
        "skipped as already handled"
    );
    assert_conserved(&h);
    assert_eq!(
        view(&h, &f).stats.n_packets,
        0,
        "the stale stats were not taken"
    );
}

#[test]
fn bug_22_missed_flows_revalidated_with_their_own_stats() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 5);
    h.advance(100);
    h.round(); // baseline 5
    h.dpif.hide_from_dumps(h.dpif.ufid_of(&f), true);
    h.udpif.revalidate();
    h.advance(100);
    h.round(); // sweep revalidates it with its own stats
    assert_eq!(cov(&h, Counter::RevalidateMissedDpFlow), 1);
    assert_eq!(
        view(&h, &f).stats.n_packets,
        5,
        "baseline kept, not reset to 0"
    );
    h.dpif.hide_from_dumps(h.dpif.ufid_of(&f), false);
    hits(&h, &f, 2);
    h.advance(100);
    h.round();
    assert_conserved(&h);
    assert_eq!(h.xlate.credited(1).n_packets, 8);
}

#[test]
fn bug_23_counters_going_backwards_keep_the_baseline_and_the_flow() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 5);
    h.advance(100);
    h.round(); // baseline 5
    // Make dumps slow, so that a bogus "0 packets" delta would get the flow deleted.
    let r = h.udpif.begin_round(1);
    h.advance(400);
    r.finish();
    let ufid = h.dpif.ufid_of(&f);
    let now = rvs_dpif::clock::Clock::now_ms(&*h.clock);
    h.dpif.set_stats(
        ufid,
        NON_PMD_CORE_ID,
        FlowStats {
            n_packets: 2,
            n_bytes: 200,
            used: now,
            tcp_flags: 0,
        },
    );
    h.advance(1000);
    h.udpif.revalidate();
    let credited = h.xlate.credited_packets();
    h.round();
    assert_eq!(cov(&h, Counter::UkeyInvalidStatReset), 1);
    assert!(
        h.udpif
            .log()
            .contains("Unexpected jump in packet stats from 5 to 2 when handling ukey")
    );
    assert!(h.ukey_of(&f).is_some(), "not deleted as too expensive");
    assert_eq!(
        h.xlate.credited_packets(),
        credited,
        "nothing credited for a backwards jump"
    );
    // A genuine 64-bit wrap is not reported.
    h.dpif.set_stats(
        ufid,
        NON_PMD_CORE_ID,
        FlowStats {
            n_packets: u64::MAX - 1,
            n_bytes: 0,
            used: now,
            tcp_flags: 0,
        },
    );
    h.advance(100);
    h.round();
    h.dpif.set_stats(
        ufid,
        NON_PMD_CORE_ID,
        FlowStats {
            n_packets: 3,
            n_bytes: 0,
            used: now,
            tcp_flags: 0,
        },
    );
    h.advance(100);
    h.round();
    assert_eq!(
        cov(&h, Counter::UkeyInvalidStatReset),
        1,
        "wrap is not a bogus jump"
    );
}

#[test]
fn bug_24_datapath_layer_change_resets_the_baseline() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 5);
    h.advance(100);
    h.round(); // baseline 5 on layer "ovs"
    let ufid = h.dpif.ufid_of(&f);
    // The flow moved to tc: its counters start again from 0; 2 packets there.
    h.dpif.set_layer(ufid, NON_PMD_CORE_ID, "tc");
    let now = rvs_dpif::clock::Clock::now_ms(&*h.clock);
    h.dpif.set_stats(
        ufid,
        NON_PMD_CORE_ID,
        FlowStats {
            n_packets: 2,
            n_bytes: 200,
            used: now,
            tcp_flags: 0,
        },
    );
    h.advance(100);
    h.round();
    assert_eq!(cov(&h, Counter::UkeyDpChange), 1);
    assert_eq!(cov(&h, Counter::UkeyInvalidStatReset), 0);
    assert_eq!(
        h.xlate.credited(1).n_packets,
        1 + 5 + 2,
        "the 2 tc packets are credited"
    );
}

#[test]
fn bug_25_failed_modify_makes_the_ukey_inconsistent_then_deleted() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    hits(&h, &f, 2);
    h.advance(100);
    h.round();
    h.xlate.set_rules(vec![port_rule(1, 10, 1, 3)]);
    h.udpif.revalidate();
    h.dpif.fail_next_modifies(1);
    h.advance(100);
    let round = h.udpif.begin_round(1);
    round.dumpers().run_all();
    assert_eq!(view(&h, &f).state, UkeyState::Inconsistent);
    hits(&h, &f, 1);
    round.sweep_all(); // INCONSISTENT → deleted by the sweep
    round.finish();
    assert!(h.ukey_of(&f).is_none());
    assert!(
        !dp_has(&h, &f),
        "flow deleted, not left disagreeing with its ukey"
    );
    assert_eq!(h.udpif.deletions(DelReason::UpdateFail), 1);
    assert_conserved(&h);
    assert_no_bad_transitions(&h);
}

#[test]
fn bug_26_purge_pauses_running_revalidators() {
    let (h, _f) = one_rule();
    let clock_driver = h.clock.clone();
    let engine = UpcallEngine::new(h.udpif.clone());
    engine.start(2, 2);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                clock_driver.advance(10);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    for round in 0..20u8 {
        for i in 0..30u8 {
            h.send(&udp_flow(u32::from(i % 8) + 1, i, round, 80));
        }
        std::thread::sleep(Duration::from_millis(2));
        engine.purge();
    }
    assert!(
        engine.wait(Duration::from_secs(10)),
        "revalidators run again after purge"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = ticker.join();
    engine.stop();
    h.run_handlers();
    h.udpif.purge_all(1);
    // A handler's put can land after a purge removed its (not yet operational) ukey, leaving a
    // flow without a ukey, as in OVS; the next round adopts it and a purge then deletes it.
    h.udpif.run_round(1);
    h.udpif.purge_all(1);
    assert_no_bad_transitions(&h);
    assert_eq!(h.dpif.n_flows_real(), 0);
    assert_conserved(&h);
}

#[test]
fn bug_27_contention_is_counted_apart_from_duplicates() {
    let (h, f) = one_rule();
    // Two packets miss before the flow is installed: the second upcall is a duplicate.
    assert_eq!(h.send(&f), SendResult::Miss);
    assert_eq!(h.send(&f), SendResult::Miss);
    h.run_handlers();
    assert_eq!(cov(&h, Counter::HandlerDuplicateUpcall), 1);
    assert_eq!(cov(&h, Counter::UkeyReplaceContention), 0);
    let ukey = h.ukey_of(&f).expect("ukey");
    let ufid = h.dpif.ufid_of(&f);
    let flow = h.dpif.remove_silently(ufid, NON_PMD_CORE_ID).expect("flow");
    {
        let _held = ukey.lock();
        // A miss while another thread holds the ukey: contention, not a duplicate.
        assert_eq!(h.send(&f), SendResult::Miss);
        h.run_handlers();
        assert_eq!(cov(&h, Counter::UkeyReplaceContention), 1);
        assert_eq!(cov(&h, Counter::HandlerDuplicateUpcall), 1);
        // With the flow back in the datapath, contention in the dump and in the sweep both count.
        let put = rvs_dpif::dpif::FlowPut {
            owner: None,
            flags: rvs_dpif::dpif::PutFlags::CREATE,
            key: flow.key,
            mask: flow.mask,
            actions: flow.actions.clone(),
            ufid: Some(ufid),
            pmd_id: NON_PMD_CORE_ID,
        };
        let r = rvs_dpif::dpif::Dpif::operate(&*h.dpif, vec![rvs_dpif::dpif::DpifOp::Put(put)]);
        assert!(r[0].error.is_none());
        h.advance(100);
        h.round();
        assert_eq!(cov(&h, Counter::UpcallUkeyContention), 2);
    }
    assert!(!h.udpif.log().contains("ukey installation fails"));
    assert_conserved(&h);
}

#[test]
fn bug_28_ukeys_of_flows_gone_from_the_datapath_are_dropped() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    assert_eq!(view(&h, &f).missed_dumps, 0, "initialised");
    h.advance(100);
    h.round();
    h.dpif.remove_silently(h.dpif.ufid_of(&f), NON_PMD_CORE_ID);
    for i in 1..=3 {
        h.advance(100);
        h.round();
        assert_eq!(view(&h, &f).missed_dumps, i);
    }
    h.advance(100);
    h.round();
    assert!(h.ukey_of(&f).is_none(), "deleted after 4 missed dumps");
    assert_eq!(cov(&h, Counter::RevalidateMissingDpFlow), 1);
    assert_eq!(
        h.udpif.deletions(DelReason::FlowMissingDp),
        0,
        "its delete found no flow"
    );
}

#[test]
fn bug_29_no_idle_handler_threads() {
    // Not applicable as such: rvs's datapath always queues upcalls to handlers (there is no inline
    // upcall path). The rule that remains: an engine may run with 0 handler threads, and then
    // tells the datapath so, instead of starting idle ones.
    let (h, _f) = one_rule();
    let engine = UpcallEngine::new(h.udpif.clone());
    engine.start(0, 1);
    assert_eq!(engine.thread_counts(), Some((0, 1)));
    assert_eq!(h.dpif.n_queues(), 1, "the fake keeps at least one queue");
    engine.stop();
}

#[test]
fn bug_30_show_iterates_over_live_revalidators() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    let engine = UpcallEngine::new(h.udpif.clone());
    let lines = |s: &str| s.lines().filter(|l| l.contains("(keys")).count();
    assert_eq!(lines(&engine.show()), 0, "before the threads exist");
    engine.start(1, 2);
    assert_eq!(lines(&engine.show()), 2);
    engine.set_threads(1, 3);
    assert_eq!(lines(&engine.show()), 3);
    assert!(h.ukey_of(&f).is_some(), "thread change keeps ukeys");
    assert!(dp_has(&h, &f), "and flows");
    engine.stop();
    assert_eq!(lines(&engine.show()), 0);
}
