//! Stress test of the per-thread flow statistics: writers add fixed amounts while readers read, a
//! clearer clears, writer threads exit and are replaced, and another thread churns ids so that the
//! table grows and reuses indices underneath everybody.
//!
//! The final check is an exact equation per flow: what the writers added = what every `clear`
//! returned + what a read returns at the end. Losing an update or counting one twice anywhere
//! (torn snapshot, clear racing an update, growth, an exited thread's set) breaks it.
#![cfg(not(loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use rvs_dpif::stats::{FlowStats, FlowStatsTable, StatsId, TCP_FLAGS_MASK};

/// Logical forwarding threads; each runs as two OS threads in turn (the first exits halfway).
const WRITERS: usize = 4;
/// Flows that everybody updates.
const FLOWS: usize = 8;
/// `add` calls per OS writer thread.
const ROUNDS: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    200_000
};

/// Every packet of flow `f` is `bytes_per_packet(f)` bytes, so any consistent value has
/// `n_bytes == n_packets * bytes_per_packet(f)`, and a torn one almost never does.
fn bytes_per_packet(flow: usize) -> u64 {
    60 + 7 * flow as u64
}

/// The update a writer makes in round `round`: 1..=3 packets, one TCP flag bit.
fn update(flow: usize, round: u64) -> (u64, u64, u16) {
    let packets = 1 + round % 3;
    (packets, packets * bytes_per_packet(flow), 1 << (round % 12))
}

fn assert_consistent(flow: usize, stats: &FlowStats, what: &str) {
    assert_eq!(
        stats.n_bytes,
        stats.n_packets * bytes_per_packet(flow),
        "{what} of flow {flow} is torn: {stats:?}"
    );
    assert_eq!(stats.tcp_flags & !TCP_FLAGS_MASK, 0);
    if stats.n_packets == 0 {
        assert_eq!(
            *stats,
            FlowStats::default(),
            "{what} of flow {flow}: no packets but {stats:?}"
        );
    } else {
        assert!(
            stats.used_ms > 0 && stats.tcp_flags != 0,
            "{what} of flow {flow}: packets but {stats:?}"
        );
    }
}

/// Runs one OS writer thread: `ROUNDS` updates spread over the flows, returns (packets, bytes) added
/// per flow.
fn write(table: &FlowStatsTable, ids: &[StatsId], writer_no: usize, phase: u64) -> Vec<(u64, u64)> {
    let mut writer = table.register_writer().expect("writer");
    let mut added = vec![(0, 0); ids.len()];
    for round in 0..ROUNDS {
        let flow = (round as usize + writer_no) % ids.len();
        let (packets, bytes, flags) = update(flow, round);
        let used_ms = phase * ROUNDS + round + 1;
        assert!(writer.add(ids[flow], packets, bytes, used_ms, flags));
        added[flow].0 += packets;
        added[flow].1 += bytes;
    }
    added
}

#[test]
fn clears_reads_and_thread_churn_account_for_every_update() {
    let table = FlowStatsTable::new();
    let ids: Arc<Vec<StatsId>> =
        Arc::new((0..FLOWS).map(|_| table.allocate().expect("id")).collect());
    let done = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer_no| {
            let (table, ids) = (table.clone(), Arc::clone(&ids));
            thread::spawn(move || {
                let mut added = write(&table, &ids, writer_no, 0);
                // The first thread has exited (its writer was dropped); a new one takes over.
                let (table2, ids2) = (table.clone(), Arc::clone(&ids));
                let more = thread::spawn(move || write(&table2, &ids2, writer_no, 1))
                    .join()
                    .expect("writer");
                for (sum, extra) in added.iter_mut().zip(more) {
                    sum.0 += extra.0;
                    sum.1 += extra.1;
                }
                added
            })
        })
        .collect();

    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (table, ids, done) = (table.clone(), Arc::clone(&ids), Arc::clone(&done));
            thread::spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    for (flow, &id) in ids.iter().enumerate() {
                        assert_consistent(flow, &table.read(id).expect("live"), "read");
                        reads += 1;
                    }
                }
                reads
            })
        })
        .collect();

    let clearer = {
        let (table, ids, done) = (table.clone(), Arc::clone(&ids), Arc::clone(&done));
        thread::spawn(move || {
            let mut cleared = vec![(0u64, 0u64); FLOWS];
            let mut clears = 0u64;
            // Stops as soon as the writers are done, so that the final read has the updates made
            // after each flow's last clear.
            'outer: loop {
                for (flow, &id) in ids.iter().enumerate() {
                    if done.load(Ordering::Relaxed) {
                        break 'outer;
                    }
                    let removed = table.clear(id).expect("live");
                    assert_consistent(flow, &removed, "clear");
                    cleared[flow].0 += removed.n_packets;
                    cleared[flow].1 += removed.n_bytes;
                    clears += 1;
                }
            }
            (cleared, clears)
        })
    };

    // Allocates and frees ids in waves so the table grows and reuses indices under the writers;
    // the churned flows have a single writer and no clears, so `free` must return exactly what it
    // added.
    let churner = {
        let (table, done) = (table.clone(), Arc::clone(&done));
        thread::spawn(move || {
            let mut writer = table.register_writer().expect("writer");
            let mut waves = 0u64;
            while !done.load(Ordering::Relaxed) || waves < 2 {
                let churn: Vec<_> = (0..300).map(|_| table.allocate().expect("id")).collect();
                for (n, &id) in churn.iter().enumerate() {
                    assert!(writer.add(id, n as u64 + 1, 64 * (n as u64 + 1), 1, 0));
                }
                for (n, &id) in churn.iter().enumerate() {
                    let last = table.free(id).expect("live");
                    assert_eq!(
                        (last.n_packets, last.n_bytes),
                        (n as u64 + 1, 64 * (n as u64 + 1))
                    );
                    assert!(!writer.add(id, 1, 1, 1, 0), "add to a freed id");
                }
                waves += 1;
            }
            waves
        })
    };

    let mut added = vec![(0u64, 0u64); FLOWS];
    for writer in writers {
        for (sum, part) in added.iter_mut().zip(writer.join().expect("writer")) {
            sum.0 += part.0;
            sum.1 += part.1;
        }
    }
    done.store(true, Ordering::Relaxed);
    let reads: u64 = readers.into_iter().map(|r| r.join().expect("reader")).sum();
    let (cleared, clears) = clearer.join().expect("clearer");
    let waves = churner.join().expect("churner");

    eprintln!(
        "{reads} reads, {clears} clears, {waves} churn waves; cleared {cleared:?} of {added:?}"
    );
    assert!(reads > 0 && clears > 0 && waves >= 2);
    assert!(
        cleared.iter().any(|c| c.0 > 0),
        "no clear ever removed anything: the test proves nothing"
    );
    assert!(
        table.bucket_sets() <= WRITERS + 1,
        "exited threads' bucket sets were not reused"
    );
    for (flow, &id) in ids.iter().enumerate() {
        let last = table.read(id).expect("live");
        assert_consistent(flow, &last, "final read");
        assert_eq!(
            (
                last.n_packets + cleared[flow].0,
                last.n_bytes + cleared[flow].1
            ),
            added[flow],
            "flow {flow}: final read {last:?} + cleared {:?} != added {:?}",
            cleared[flow],
            added[flow]
        );
    }
}
