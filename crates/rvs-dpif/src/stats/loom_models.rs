//! Loom models of the statistics table: the interleavings of a few threads, and every stale value
//! the memory model lets a relaxed load return, over the real code (atomics come from `sync.rs`).
//!
//! Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p rvs-dpif --release --lib stats::`
//! (about a minute; the `stats::` filter leaves out tests of other modules, which use the table
//! outside a loom model and cannot run under `--cfg loom`). Interleavings are bounded to 3
//! preemptions unless `LOOM_MAX_PREEMPTIONS` says otherwise; relaxed loads are explored
//! exhaustively.
//!
//! Two things keep these models honest:
//! * Each update has distinct packets, bytes, use time and flag bit, so a read that mixes two states
//!   (a torn bucket, a half-applied clear) is not the total of any set of updates and fails.
//! * Each model records the outcomes it met and asserts at the end that every legal outcome was met
//!   (e.g. a reader saw 0, 1 and 2 updates). This guards against loom exploring too little: loom
//!   0.7 misses races when a thread that loads-then-stores an atomic runs *after* a thread that only
//!   loads it (tokio-rs/loom#166, #392), so the thread that writes runs first (the model's main
//!   thread) and the pure readers are spawned; the coverage assertions check that this works.

use std::collections::BTreeSet;
use std::sync::Arc;

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;

use super::bucket::StatsBucket;
use super::flow_stats::Counters;
use super::{FlowStats, FlowStatsTable, StatsId, StatsWriter};

/// One `add` call of a model.
#[derive(Clone, Copy, Debug)]
struct Update {
    packets: u64,
    bytes: u64,
    used_ms: u64,
    flags: u16,
}

/// Updates whose every field tells them apart.
const UPDATES: [Update; 2] = [
    Update {
        packets: 1,
        bytes: 100,
        used_ms: 5,
        flags: 0x001,
    },
    Update {
        packets: 10,
        bytes: 1000,
        used_ms: 7,
        flags: 0x002,
    },
];

/// The statistics of exactly `updates`.
fn total(updates: &[Update]) -> FlowStats {
    let mut sum = FlowStats::default();
    for u in updates {
        sum.merge(&FlowStats {
            n_packets: u.packets,
            n_bytes: u.bytes,
            used_ms: u.used_ms,
            tcp_flags: u.flags,
        });
    }
    sum
}

/// The `k` such that `stats` is the total of `updates[..k]`; panics if there is none (a torn read).
fn prefix_len(stats: &FlowStats, updates: &[Update]) -> usize {
    (0..=updates.len())
        .find(|&k| total(&updates[..k]) == *stats)
        .unwrap_or_else(|| panic!("{stats:?} is not the total of a prefix of {updates:?}"))
}

fn add(writer: &mut StatsWriter, id: StatsId, u: Update) {
    assert!(writer.add(id, u.packets, u.bytes, u.used_ms, u.flags));
}

/// Outcomes met across all explored executions of one model.
#[derive(Clone, Default)]
struct Outcomes(Arc<std::sync::Mutex<BTreeSet<Vec<usize>>>>);

impl Outcomes {
    fn record(&self, outcome: Vec<usize>) {
        self.0.lock().expect("outcomes").insert(outcome);
    }

    /// Asserts that every outcome in `expected` was met (and reports how many were).
    fn assert_met(&self, expected: &[&[usize]]) {
        let met = self.0.lock().expect("outcomes");
        for outcome in expected {
            assert!(
                met.contains(*outcome),
                "outcome {outcome:?} never explored; met {met:?}"
            );
        }
    }
}

/// Runs `model` under loom, with at most 3 preemptions unless `LOOM_MAX_PREEMPTIONS` is set.
fn explore(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(model);
}

/// (a) One writer, one reader, on a bare bucket: a snapshot is always the totals after a whole
/// number of updates.
#[test]
fn bucket_snapshot_is_never_torn() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    explore(move || {
        let bucket = Arc::new(StatsBucket::default());
        let reader = {
            let bucket = Arc::clone(&bucket);
            thread::spawn(move || bucket.snapshot())
        };
        for u in &UPDATES {
            bucket.record(u.packets, u.bytes, u.used_ms, u.flags);
        }
        let snapshot = reader.join().expect("reader");
        let k = prefix_len(&snapshot.since(&Counters::default()), &UPDATES);
        assert_eq!(snapshot.n_updates, k as u64);
        seen.record(vec![k]);
    });
    outcomes.assert_met(&[&[0], &[1], &[2]]);
}

/// (a) The same through the table: a reader racing with one writer sees a prefix of its updates.
#[test]
fn table_read_is_never_torn() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    explore(move || {
        let table = FlowStatsTable::new();
        let id = table.allocate().expect("id");
        let mut writer = table.register_writer().expect("writer");
        let reader = {
            let table = table.clone();
            thread::spawn(move || table.read(id).expect("live"))
        };
        for u in &UPDATES {
            add(&mut writer, id, *u);
        }
        let k = prefix_len(&reader.join().expect("reader"), &UPDATES);
        assert_eq!(table.read(id), Some(total(&UPDATES)));
        seen.record(vec![k]);
    });
    outcomes.assert_met(&[&[0], &[1], &[2]]);
}

/// (b) A clear racing with a writer. The writer adds U0, then U1; another thread clears, then
/// reads; after both end, a final read. Checked:
/// * the clear removed exactly a prefix `U[..k]` and the final read is exactly the rest `U[k..]`
///   (nothing lost, nothing counted twice);
/// * if U0 finished before the clear started, the clear removed it (it is never seen again);
/// * if U1 started after the clear returned, the final read has it (it is not lost);
/// * the read right after the clear is a prefix of `U[k..]`: no cleared update in it.
#[test]
fn clear_racing_with_a_writer_is_exact() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    explore(move || {
        let table = FlowStatsTable::new();
        let id = table.allocate().expect("id");
        let mut writer = table.register_writer().expect("writer");
        let first_done = Arc::new(AtomicBool::new(false));
        let cleared = Arc::new(AtomicBool::new(false));
        let clearer = {
            let (table, first_done, cleared) =
                (table.clone(), Arc::clone(&first_done), Arc::clone(&cleared));
            thread::spawn(move || {
                let first_before_clear = first_done.load(Ordering::Acquire);
                let removed = table.clear(id).expect("live");
                cleared.store(true, Ordering::Release);
                let after = table.read(id).expect("live");
                (first_before_clear, removed, after)
            })
        };
        add(&mut writer, id, UPDATES[0]);
        first_done.store(true, Ordering::Release);
        let second_after_clear = cleared.load(Ordering::Acquire);
        add(&mut writer, id, UPDATES[1]);
        let (first_before_clear, removed, after) = clearer.join().expect("clearer");
        let last = table.read(id).expect("live");

        let k = prefix_len(&removed, &UPDATES);
        assert_eq!(
            last,
            total(&UPDATES[k..]),
            "removed {removed:?}, left {last:?}"
        );
        if first_before_clear {
            assert!(k >= 1, "an update finished before the clear survived it");
        }
        if second_after_clear {
            assert!(k <= 1, "an update started after the clear was cleared");
        }
        let after_len = prefix_len(&after, &UPDATES[k..]);
        seen.record(vec![k, after_len]);
    });
    outcomes.assert_met(&[&[0, 0], &[0, 1], &[0, 2], &[1, 0], &[1, 1], &[2, 0]]);
}

/// (c) Readers never see half a clear: two threads' buckets hold U0 and U1 (their writers have
/// exited, which must not lose them); one thread clears while another reads. The read is all or
/// nothing, and the clear returns everything.
#[test]
fn reader_sees_all_or_nothing_of_a_clear() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    explore(move || {
        let table = FlowStatsTable::new();
        let id = table.allocate().expect("id");
        let mut a = table.register_writer().expect("writer");
        let mut b = table.register_writer().expect("writer");
        add(&mut a, id, UPDATES[0]);
        add(&mut b, id, UPDATES[1]);
        drop((a, b));
        let reader = {
            let table = table.clone();
            thread::spawn(move || table.read(id).expect("live"))
        };
        let removed = table.clear(id).expect("live");
        let read = reader.join().expect("reader");
        let everything = total(&UPDATES);
        assert_eq!(removed, everything);
        assert!(
            read == everything || read == FlowStats::default(),
            "half a clear: {read:?}"
        );
        assert_eq!(table.read(id), Some(FlowStats::default()));
        seen.record(vec![usize::from(read == everything)]);
    });
    outcomes.assert_met(&[&[0], &[1]]);
}

/// Growth racing with a writer: a second thread allocates ids until the table grows and reads the
/// first id while the writer adds to it; no update is lost and reads stay whole.
#[test]
fn growth_neither_blocks_nor_loses_updates() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    explore(move || {
        let table = FlowStatsTable::new();
        let id = table.allocate().expect("id");
        let mut writer = table.register_writer().expect("writer");
        let before = table.capacity();
        let grower = {
            let table = table.clone();
            thread::spawn(move || {
                let more: Vec<_> = (0..before).map(|_| table.allocate().expect("id")).collect();
                assert!(table.capacity() > before);
                assert!(
                    more.iter()
                        .all(|&other| table.read(other) == Some(FlowStats::default()))
                );
                prefix_len(&table.read(id).expect("live"), &UPDATES)
            })
        };
        for u in &UPDATES {
            add(&mut writer, id, *u);
        }
        let k = grower.join().expect("grower");
        assert_eq!(table.read(id), Some(total(&UPDATES)));
        seen.record(vec![k]);
    });
    outcomes.assert_met(&[&[0], &[2]]);
}

/// A thread exits while another registers (and may inherit its bucket set) and writes: the exited
/// thread's counts stay, and the two never write one bucket at the same time.
#[test]
fn exited_thread_counts_stay_when_its_set_is_reused() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    explore(move || {
        let table = FlowStatsTable::new();
        let id = table.allocate().expect("id");
        let mut first = table.register_writer().expect("writer");
        let joining = {
            let table = table.clone();
            thread::spawn(move || {
                let mut second = table.register_writer().expect("writer");
                add(&mut second, id, UPDATES[1]);
            })
        };
        add(&mut first, id, UPDATES[0]);
        drop(first);
        joining.join().expect("second writer");
        assert_eq!(table.read(id), Some(total(&UPDATES)));
        seen.record(vec![table.bucket_sets()]);
    });
    outcomes.assert_met(&[&[1], &[2]]);
}
