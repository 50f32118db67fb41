//! Loom models of the grace-period handshake (`grace.rs`): a forwarding context classifies a packet
//! to a flow and counts it, while a deleter takes the flow out, starts a grace period and polls it.
//! Invariant checked: whenever a poll says the grace period is over, the count the deleter then
//! reads is final (nothing is added later), whatever the interleaving and whatever stale values
//! relaxed loads return.
//!
//! Run with the other statistics models:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p rvs-dpif --release --lib stats::`
//!
//! The models poll a bounded number of times instead of running [`GracePeriods::synchronize`]'s
//! spin loop: loom 0.7 reports a spin loop of RMWs as a livelock even when the other thread can
//! finish. The flow's presence and its count are relaxed atomics, so only the grace period's own
//! synchronization can order them. Each model asserts at the end that the interesting outcomes
//! (a poll said "over" before the context finished, the context counted or found the flow gone)
//! were explored.

use std::collections::BTreeSet;
use std::sync::Arc;

use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use loom::thread;

use super::grace::{GracePeriods, QuiescentReader};

/// One batch of the forwarding context: classify (is the flow still there?) and count.
fn batch(present: &AtomicBool, count: &AtomicU64) -> u64 {
    if present.load(Ordering::Relaxed) {
        let now = count.load(Ordering::Relaxed);
        count.store(now + 1, Ordering::Relaxed);
        1
    } else {
        0
    }
}

/// Runs `model` under loom with at most 3 preemptions unless `LOOM_MAX_PREEMPTIONS` is set, and
/// returns the outcomes it recorded.
fn explore(
    model: impl Fn(&std::sync::Mutex<BTreeSet<(bool, u64)>>) + Sync + Send + 'static,
) -> BTreeSet<(bool, u64)> {
    let outcomes = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let seen = Arc::clone(&outcomes);
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(move || model(&seen));
    outcomes.lock().expect("outcomes").clone()
}

/// The deleter's side, run while `context` runs: unlink, start a grace period, poll it twice; if
/// a poll says it is over, the count read then must be the final one. Records (over before the
/// context finished, packets counted).
fn delete_and_check(
    grace: &GracePeriods,
    present: &AtomicBool,
    count: &AtomicU64,
    context: thread::JoinHandle<u64>,
    outcomes: &std::sync::Mutex<BTreeSet<(bool, u64)>>,
) {
    present.store(false, Ordering::Relaxed);
    let mut wait = grace.begin();
    let read_when_over = (0..2).find_map(|_| wait.poll().then(|| count.load(Ordering::Relaxed)));
    let counted = context.join().expect("context");
    assert_eq!(count.load(Ordering::Relaxed), counted);
    if let Some(read) = read_when_over {
        assert_eq!(read, counted, "a hit was counted after the grace period");
    }
    assert!(wait.poll(), "over once the context has finished");
    outcomes
        .lock()
        .expect("outcomes")
        .insert((read_when_over.is_some(), counted));
}

/// A context going online from offline (the swap path) races with a delete.
#[test]
fn offline_context_coming_online() {
    let met = explore(|outcomes| {
        let grace = GracePeriods::new();
        let present = Arc::new(AtomicBool::new(true));
        let count = Arc::new(AtomicU64::new(0));
        let mut reader: QuiescentReader = grace.register();
        let context = {
            let (present, count) = (Arc::clone(&present), Arc::clone(&count));
            thread::spawn(move || {
                reader.enter();
                let counted = batch(&present, &count);
                reader.leave();
                counted
            })
        };
        delete_and_check(&grace, &present, &count, context, outcomes);
    });
    for outcome in [(true, 0), (true, 1), (false, 1)] {
        assert!(met.contains(&outcome), "{outcome:?} not explored: {met:?}");
    }
}

/// A context already online passes a quiescent point (the plain-store path) between two batches,
/// goes offline, and comes back online (possibly at an old epoch) for a third.
#[test]
fn online_context_passing_a_quiescent_point_and_coming_back() {
    let met = explore(|outcomes| {
        let grace = GracePeriods::new();
        let present = Arc::new(AtomicBool::new(true));
        let count = Arc::new(AtomicU64::new(0));
        let mut reader = grace.register();
        reader.enter();
        let context = {
            let (present, count) = (Arc::clone(&present), Arc::clone(&count));
            thread::spawn(move || {
                let mut counted = batch(&present, &count);
                reader.enter();
                counted += batch(&present, &count);
                reader.leave();
                reader.enter();
                counted += batch(&present, &count);
                reader.leave();
                counted
            })
        };
        delete_and_check(&grace, &present, &count, context, outcomes);
    });
    for outcome in [(true, 1), (true, 2), (false, 3)] {
        assert!(met.contains(&outcome), "{outcome:?} not explored: {met:?}");
    }
}
