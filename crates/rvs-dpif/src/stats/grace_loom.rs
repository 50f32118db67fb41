//! Loom models of the grace-period handshake (`grace.rs`): a forwarding context classifies a packet
//! to a flow and counts it, while a deleter takes the flow out, waits for a grace period and reads
//! the final count. Invariant checked: the count read after the grace period is the final count
//! (nothing is added later), whatever the interleaving and whatever stale values relaxed loads return.
//!
//! Run with the other statistics models:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p rvs-dpif --release --lib stats::`
//!
//! The flow's presence and its count are relaxed atomics, so only the grace period's own
//! synchronization can order them. Each model asserts at the end that both outcomes (the context
//! counted the packet, or found the flow gone) were explored.

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
    model: impl Fn(&std::sync::Mutex<BTreeSet<u64>>) + Sync + Send + 'static,
) -> BTreeSet<u64> {
    let outcomes = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let seen = Arc::clone(&outcomes);
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(move || model(&seen));
    let met = outcomes.lock().expect("outcomes").clone();
    met
}

/// The deleter's side: remove, synchronize, read; returns the count it read.
fn delete(grace: &GracePeriods, present: &AtomicBool, count: &AtomicU64) -> u64 {
    present.store(false, Ordering::Relaxed);
    assert!(grace.synchronize(std::time::Duration::ZERO));
    count.load(Ordering::Relaxed)
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
        let read = delete(&grace, &present, &count);
        let counted = context.join().expect("context");
        assert_eq!(
            read,
            count.load(Ordering::Relaxed),
            "counted after the grace period"
        );
        assert_eq!(read, counted);
        outcomes.lock().expect("outcomes").insert(counted);
    });
    assert_eq!(met, BTreeSet::from([0, 1]), "both outcomes explored");
}

/// A context already online passes a quiescent point (the plain-store path) between two batches.
#[test]
fn online_context_passing_a_quiescent_point() {
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
                counted
            })
        };
        let read = delete(&grace, &present, &count);
        let counted = context.join().expect("context");
        assert_eq!(
            read,
            count.load(Ordering::Relaxed),
            "counted after the grace period"
        );
        assert_eq!(read, counted);
        outcomes.lock().expect("outcomes").insert(counted);
    });
    assert!(
        met.contains(&0) && met.contains(&2),
        "outcomes met: {met:?}"
    );
}
