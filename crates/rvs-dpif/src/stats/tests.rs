//! Sequential behaviour of the whole table (concurrency is covered by `loom_models.rs` and the
//! stress test in `tests/stats_stress.rs`).

use super::*;

const FIN: u16 = 0x001;
const SYN: u16 = 0x002;
const ACK: u16 = 0x010;

fn stats(n_packets: u64, n_bytes: u64, used_ms: u64, tcp_flags: u16) -> FlowStats {
    FlowStats {
        n_packets,
        n_bytes,
        used_ms,
        tcp_flags,
    }
}

#[test]
fn new_flow_reads_zero() {
    let table = FlowStatsTable::new();
    let id = table.allocate().expect("id");
    assert_eq!(id.index(), 0);
    assert_eq!(table.read(id), Some(FlowStats::default()));
}

#[test]
fn read_sums_all_writers() {
    let table = FlowStatsTable::new();
    let id = table.allocate().expect("id");
    let other = table.allocate().expect("id");
    let mut a = table.register_writer().expect("writer");
    let mut b = table.register_writer().expect("writer");
    assert!(a.add(id, 2, 120, 100, SYN));
    assert!(b.add(id, 3, 300, 90, ACK));
    assert!(b.add(other, 1, 60, 200, FIN));
    assert_eq!(table.read(id), Some(stats(5, 420, 100, SYN | ACK)));
    assert_eq!(table.read(other), Some(stats(1, 60, 200, FIN)));
}

#[test]
fn clear_returns_what_it_removed() {
    let table = FlowStatsTable::new();
    let id = table.allocate().expect("id");
    let mut a = table.register_writer().expect("writer");
    let mut b = table.register_writer().expect("writer");
    a.add(id, 2, 120, 100, SYN);
    b.add(id, 3, 300, 110, ACK);
    assert_eq!(table.clear(id), Some(stats(5, 420, 110, SYN | ACK)));
    assert_eq!(
        table.read(id),
        Some(FlowStats::default()),
        "used is 'never' again after a clear"
    );
    assert_eq!(table.clear(id), Some(FlowStats::default()));
    b.add(id, 1, 40, 120, ACK);
    assert_eq!(
        table.read(id),
        Some(stats(1, 40, 120, ACK)),
        "only flags seen since the clear"
    );
    a.add(id, 1, 50, 130, FIN | ACK);
    assert_eq!(table.read(id), Some(stats(2, 90, 130, FIN | ACK)));
    assert_eq!(table.free(id), Some(stats(2, 90, 130, FIN | ACK)));
}

#[test]
fn freed_ids_are_stale_and_indices_are_reused_smallest_first() {
    let table = FlowStatsTable::new();
    let ids: Vec<_> = (0..4).map(|_| table.allocate().expect("id")).collect();
    let mut w = table.register_writer().expect("writer");
    w.add(ids[2], 7, 700, 5, SYN);
    w.add(ids[1], 1, 100, 5, 0);
    assert_eq!(table.free(ids[2]), Some(stats(7, 700, 5, SYN)));
    assert_eq!(table.free(ids[1]), Some(stats(1, 100, 5, 0)));
    assert_eq!(table.free(ids[2]), None, "double free");
    assert_eq!(table.read(ids[2]), None);
    assert_eq!(table.clear(ids[2]), None);
    assert!(
        !w.add(ids[2], 1, 1, 1, 0),
        "updates to a freed id are dropped"
    );

    let again = table.allocate().expect("id");
    assert_eq!(again.index(), 1);
    let next = table.allocate().expect("id");
    assert_eq!(next.index(), 2);
    assert_ne!(next, ids[2]);
    assert_eq!(
        table.read(next),
        Some(FlowStats::default()),
        "a reused index starts from zero"
    );
    assert!(
        !w.add(ids[2], 1, 1, 1, 0),
        "the old id stays stale after reuse"
    );
    assert_eq!(table.read(next), Some(FlowStats::default()));
    assert_eq!(table.allocate().expect("id").index(), 4);
}

#[test]
fn exited_writers_keep_their_counts_and_their_set_is_reused() {
    let table = FlowStatsTable::new();
    let id = table.allocate().expect("id");
    let mut a = table.register_writer().expect("writer");
    let b = table.register_writer().expect("writer");
    a.add(id, 4, 400, 10, SYN);
    let a_set = a.set_index();
    drop(a);
    assert_eq!(
        table.read(id),
        Some(stats(4, 400, 10, SYN)),
        "counts of an exited thread stay"
    );
    let mut c = table.register_writer().expect("writer");
    assert_eq!(c.set_index(), a_set, "the free set is recycled");
    assert_eq!(table.bucket_sets(), 2);
    c.add(id, 1, 100, 20, ACK);
    assert_eq!(table.read(id), Some(stats(5, 500, 20, SYN | ACK)));
    drop(b);
    drop(c);
    assert_eq!(table.read(id), Some(stats(5, 500, 20, SYN | ACK)));
}

#[test]
fn growth_keeps_counts_and_serves_new_and_old_writers() {
    let table = FlowStatsTable::new();
    let mut early = table.register_writer().expect("writer");
    let first = table.allocate().expect("id");
    early.add(first, 1, 10, 1, 0);
    let initial = table.capacity();
    let ids: Vec<_> = (0..1000).map(|_| table.allocate().expect("id")).collect();
    assert!(table.capacity() > initial);
    assert!(table.capacity() >= 1001);
    let mut late = table.register_writer().expect("writer");
    for (n, &id) in ids.iter().enumerate() {
        assert!(early.add(id, 1, n as u64, 1, 0));
        assert!(late.add(id, 2, n as u64, 2, 0));
    }
    early.add(first, 1, 10, 3, 0);
    assert_eq!(table.read(first), Some(stats(2, 20, 3, 0)));
    for (n, &id) in ids.iter().enumerate() {
        assert_eq!(table.read(id), Some(stats(3, 2 * n as u64, 2, 0)));
    }
}

#[test]
fn clones_share_the_table() {
    let table = FlowStatsTable::new();
    let view = table.clone();
    let id = table.allocate().expect("id");
    let mut w = view.register_writer().expect("writer");
    w.add(id, 1, 64, 9, 0);
    assert_eq!(table.read(id), Some(stats(1, 64, 9, 0)));
}

/// Allocates `n` ids in `table` and returns the last.
fn nth_id(table: &FlowStatsTable, n: usize) -> StatsId {
    let mut last = table.allocate().expect("id");
    for _ in 1..n {
        last = table.allocate().expect("id");
    }
    last
}

#[test]
fn ids_from_another_table_are_refused() {
    let table = FlowStatsTable::new();
    let other = FlowStatsTable::new();
    let mut w = table.register_writer().expect("writer");
    let _ = table.allocate().expect("id");
    let foreign = nth_id(&other, 100);
    assert!(!w.add(foreign, 1, 1, 1, 0));
    assert_eq!(table.read(foreign), None);
    // An index the table covers but never handed out: answered at once, not waited on.
    let third = FlowStatsTable::new();
    let unallocated = nth_id(&third, 3);
    assert!(unallocated.index() < table.capacity() as u32);
    assert_eq!(table.read(unallocated), None);
    assert_eq!(table.clear(unallocated), None);
    assert_eq!(table.free(unallocated), None);
    assert!(!w.add(unallocated, 1, 1, 1, 0));
}
