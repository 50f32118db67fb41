//! Deletes under concurrent hits: a delete returns final statistics that include every hit
//! classified before it (the grace period of `stats::grace`).

use std::sync::Mutex;

use super::*;
use crate::dpif::{FlowDel, FlowInstaller, FlowRef, MissOutcome, MissUpcall, UpcallCallback};

fn del_by_key(dp: &Datapath, key: Flow) -> crate::dpif::FlowStats {
    dp.flow_del(FlowDel {
        flow: FlowRef::Key(Box::new(key)),
        pmd_id: PMD_ID_NULL,
    })
    .expect("del")
}

fn grace_timeouts(dp: &Datapath) -> u64 {
    coverage_total(dp, "datapath_grace_period_timeout")
}

/// One installed flow and a forwarding context driven by hand, online, that has classified a
/// packet to the flow and not counted it yet.
struct HandDriven {
    fx: Fixture,
    frame: Vec<u8>,
    key: Flow,
    shared: Arc<crate::datapath::Shared>,
    quiescent: crate::stats::QuiescentReader,
    writer: crate::stats::StatsWriter,
    flow: Arc<crate::datapath::megaflow::Megaflow>,
}

fn hand_driven() -> HandDriven {
    let fx = fixture(2);
    let frame = udp_frame(7, 50);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let key = key_of(&frame, 1);
    let shared = Arc::clone(&fx.dp.shared);
    let mut quiescent = shared.grace.register();
    let writer = shared.stats.register_writer().expect("writer");
    quiescent.enter();
    let flow = shared
        .classifier(1)
        .and_then(|c| c.lookup(&key))
        .expect("classified");
    HandDriven {
        fx,
        frame,
        key,
        shared,
        quiescent,
        writer,
        flow,
    }
}

/// The exact ordering of the race: a context classifies a packet to a flow, the delete starts (the
/// flow is dead and unlinked), and only then the context adds the hit. The delete must wait and
/// return statistics that include it.
#[test]
fn delete_returns_a_hit_added_after_it_started() {
    let HandDriven {
        fx,
        frame,
        key,
        shared,
        mut quiescent,
        mut writer,
        flow,
    } = hand_driven();
    std::thread::scope(|s| {
        let deleter = s.spawn(|| del_by_key(&fx.dp, key));
        // The deleter marks the flow dead, then unlinks it, then waits for the grace period:
        // wait (bounded) until both are visible, while the context still has not quiesced.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !(flow.is_dead() && shared.classifier(1).and_then(|c| c.lookup(&key)).is_none()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the delete neither marked nor unlinked the flow"
            );
            std::thread::yield_now();
        }
        assert!(!deleter.is_finished(), "the delete waits for the context");
        assert!(writer.add(flow.stats_id, 3, 3 * frame.len() as u64, 1000, 0));
        quiescent.leave();
        let stats = deleter.join().expect("deleter");
        assert_eq!(stats.n_packets, 3, "the hit added after the delete started");
        assert_eq!(stats.n_bytes, 3 * frame.len() as u64);
    });
    assert_eq!(grace_timeouts(&fx.dp), 0);
}

/// `operate_begin` returns at once with the flow unlinked; it is not ready while a context that
/// may still count a hit has not passed a quiescent point, and its final statistics, read when it
/// finishes, include the hit that context added after the delete started.
#[test]
fn a_started_delete_is_ready_after_the_grace_period_and_counts_late_hits() {
    let HandDriven {
        fx,
        frame,
        key,
        shared,
        mut quiescent,
        mut writer,
        flow,
    } = hand_driven();
    let mut pending = fx.dp.operate_begin(vec![crate::dpif::DpifOp::Del(FlowDel {
        flow: FlowRef::Key(Box::new(key)),
        pmd_id: PMD_ID_NULL,
    })]);
    assert!(flow.is_dead(), "unlinked when operate_begin returns");
    assert!(shared.classifier(1).and_then(|c| c.lookup(&key)).is_none());
    assert!(!pending.ready(), "the context may still count a hit");
    assert!(writer.add(flow.stats_id, 2, 2 * frame.len() as u64, 1000, 0));
    quiescent.enter();
    assert!(pending.ready(), "the context passed a quiescent point");
    let results = pending.finish();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].error, None);
    assert_eq!(
        results[0].stats.n_packets, 2,
        "the late hit is in the final statistics"
    );
    assert_eq!(grace_timeouts(&fx.dp), 0);
}

/// An offline context (idle, or between `process_batch` calls) never holds a delete up, and a
/// context whose batch started before the bump is given up on after the timeout only, counted.
#[test]
fn idle_contexts_do_not_block_deletes() {
    let fx = fixture(2);
    let frame = udp_frame(7, 50);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let mut ctx = fx.dp.forwarding_thread(0).expect("context");
    ctx.process_batch(1, &mut batch(&[frame.clone(), frame.clone()]), 1000);
    let stats = del_by_key(&fx.dp, key_of(&frame, 1));
    assert_eq!(stats.n_packets, 2);
    assert_eq!(grace_timeouts(&fx.dp), 0);
}

/// Deletes the flow of `target` from inside the miss callback (as a revalidator may while a
/// forwarding thread is in a callback) and records what the delete returned.
struct DeletingCallback {
    dp: Datapath,
    target: Flow,
    returned: Mutex<Vec<u64>>,
}

impl UpcallCallback for DeletingCallback {
    fn miss(&self, _miss: &MissUpcall<'_>, _install: &mut FlowInstaller<'_>) -> MissOutcome {
        let stats = del_by_key(&self.dp, self.target);
        self.returned.lock().expect("lock").push(stats.n_packets);
        MissOutcome::Execute(None)
    }

    fn batch_done(&self, _n: usize) {}
}

/// A batch with hits of flow F and a miss whose callback deletes F: the context goes offline for
/// the callback (no deadlock, no timeout) after adding the batch's hits, which the delete returns.
#[test]
fn delete_from_a_miss_callback_sees_the_batch_hits() {
    let fx = fixture(2);
    let hit = udp_frame(7, 50);
    let miss = udp_frame(8, 50);
    install(&fx.dp, &hit, 1, vec![OdpAction::Output(2)]);
    let cb = Arc::new(DeletingCallback {
        dp: fx.dp.clone(),
        target: key_of(&hit, 1),
        returned: Mutex::new(Vec::new()),
    });
    assert!(fx.dp.register_upcall_cb(Some(cb.clone())));
    let mut ctx = fx.dp.forwarding_thread(0).expect("context");
    ctx.process_batch(
        1,
        &mut batch(&[hit.clone(), hit.clone(), miss, hit.clone()]),
        1000,
    );
    assert_eq!(*cb.returned.lock().expect("lock"), vec![3]);
    assert_eq!(grace_timeouts(&fx.dp), 0);
    assert!(fx.dp.register_upcall_cb(None));
}
