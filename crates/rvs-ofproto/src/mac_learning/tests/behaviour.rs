//! Unit behaviour of the table, following `lib/mac-learning.c` (OVS 3.1) where the oracle cannot
//! easily show it (second boundaries, gratuitous-ARP locks, revalidation bookkeeping).

use super::*;
use crate::vlan::VlanSet;
use std::sync::Arc;

const GRAT: LearnContext = LearnContext {
    gratuitous_arp: true,
    from_bond: false,
};
const GRAT_BOND: LearnContext = LearnContext {
    gratuitous_arp: true,
    from_bond: true,
};
const BOND: LearnContext = LearnContext {
    gratuitous_arp: false,
    from_bond: true,
};

#[test]
fn ages_count_whole_seconds_of_the_clock() {
    let mut t = MacTable::<u16>::new();
    t.learn(&mac(1), 0, 1, PLAIN, 1_999);
    let age = |t: &MacTable<u16>, now| t.entry(&mac(1), 0, now).map(|e| e.age);
    assert_eq!(age(&t, 1_999), Some(EntryAge::Dynamic(0)));
    assert_eq!(
        age(&t, 2_000),
        Some(EntryAge::Dynamic(1)),
        "1.999 s and 2.000 s are a second apart"
    );
    assert_eq!(
        t.entry(&mac(1), 0, 2_000).and_then(|e| e.learned_ms),
        Some(1_999)
    );
    // Expires when now_s >= learned_s + idle: 1 + 300 = 301 s.
    assert_eq!(
        t.next_run_ms(),
        Some(0),
        "the learning is still to be handed over"
    );
    assert!(t.run(300_999).needed);
    assert_eq!(t.len(), 1);
    assert_eq!(t.next_run_ms(), Some(301_000));
    assert!(t.run(301_000).needed, "the expiry is handed over at once");
    assert!(t.is_empty());
    assert_eq!(t.counters().expired, 1);
    assert_eq!(t.next_run_ms(), None);
}

#[test]
fn idle_time_and_size_are_clamped_and_idle_time_moves_expiry() {
    let mut t = MacTable::<u16>::new();
    assert_eq!(
        (t.idle_time(), t.max_entries()),
        (DEFAULT_IDLE_TIME_S, DEFAULT_MAX_ENTRIES)
    );
    t.set_idle_time(5);
    assert_eq!(t.idle_time(), 15);
    t.set_idle_time(5000);
    assert_eq!(t.idle_time(), 3600);
    t.set_max_entries(1);
    assert_eq!(t.max_entries(), 10);
    t.set_max_entries(5_000_000);
    assert_eq!(t.max_entries(), 1_000_000);

    t.set_idle_time(60);
    t.learn(&mac(1), 0, 1, PLAIN, T0);
    t.add_static(&mac(2), 0, 1);
    t.set_idle_time(30);
    t.run(T0 + 29_999);
    assert_eq!(t.len(), 2);
    t.run(T0 + 30_000);
    assert_eq!(t.len(), 1, "only the static entry is left");
    assert_eq!(
        t.entry(&mac(2), 0, T0 + 30_000).map(|e| e.age),
        Some(EntryAge::Static)
    );
}

#[test]
fn refresh_happens_once_a_second_and_moves_lru_position() {
    let mut t = MacTable::<u16>::new();
    t.set_max_entries(10);
    for i in 0..10 {
        t.learn(&mac(i), 0, 1, PLAIN, T0);
    }
    assert_eq!(
        t.learn(&mac(0), 0, 1, PLAIN, T0 + 999),
        LearnOutcome::Unchanged
    );
    t.run(T0);
    assert_eq!(
        t.learn(&mac(0), 0, 1, PLAIN, T0 + 1000),
        LearnOutcome::Refreshed
    );
    assert!(!t.pending().needed, "a refresh changes no lookup");
    // mac(0) is now the most recently used: the next insertion evicts mac(1).
    t.learn(&mac(0x40), 0, 1, PLAIN, T0 + 1000);
    assert_eq!(t.lookup(&mac(0), 0), Some(1));
    assert_eq!(t.lookup(&mac(1), 0), None);
    assert_eq!(t.counters().evicted, 1);
    t.check_invariants().expect("invariants");
}

#[test]
fn moves_are_immediate_and_counted() {
    let mut t = MacTable::<u16>::new();
    t.learn(&mac(1), 5, 1, PLAIN, T0);
    assert_eq!(
        t.learn(&mac(1), 5, 2, PLAIN, T0),
        LearnOutcome::Moved { from: 1 }
    );
    assert_eq!(
        t.learn(&mac(1), 5, 1, PLAIN, T0 + 10),
        LearnOutcome::Moved { from: 2 }
    );
    assert_eq!(t.counters().moved, 2);
    assert_eq!(t.lookup(&mac(1), 5), Some(1));
    assert_eq!((t.port_entries(&1), t.port_entries(&2)), (1, 0));
    t.check_invariants().expect("invariants");
}

#[test]
fn multicast_and_flood_vlans_are_not_learned_or_found() {
    let mut t = MacTable::<u16>::new();
    let group = [0x01, 0x00, 0x5e, 0, 0, 1];
    assert_eq!(t.learn(&group, 0, 1, PLAIN, T0), LearnOutcome::NotLearnable);
    t.learn(&mac(1), 7, 1, PLAIN, T0);
    t.add_static(&mac(2), 7, 1);
    t.run(T0);
    assert!(t.set_flood_vlans(Some([7].into_iter().collect())));
    assert!(
        !t.set_flood_vlans(Some([7].into_iter().collect())),
        "unchanged"
    );
    assert_eq!(
        t.run(T0),
        Revalidation {
            needed: true,
            tags: MacTags::ALL
        }
    );
    assert_eq!(
        t.len(),
        1,
        "the change flushed the dynamic entry, not the static one"
    );
    assert_eq!(t.lookup(&mac(2), 7), None, "no lookups on a flood VLAN");
    assert_eq!(
        t.learn(&mac(3), 7, 1, PLAIN, T0),
        LearnOutcome::NotLearnable
    );
    assert!(
        t.set_flood_vlans(Some(VlanSet::new())),
        "an empty set means none"
    );
    assert_eq!(t.lookup(&mac(2), 7), Some(1));
    assert_eq!(t.lookup(&[0xff; 6], 7), None);
}

#[test]
fn gratuitous_arp_locks_against_bond_reflections() {
    let mut t = MacTable::<u16>::new();
    // A gratuitous ARP on a plain port (1) creates the entry and locks it for 5 s.
    assert_eq!(t.learn(&mac(1), 0, 1, GRAT, T0), LearnOutcome::Learned);
    assert!(t.entry(&mac(1), 0, T0).is_some_and(|e| e.grat_arp_locked));
    // Its reflection through bond 9 is refused while locked...
    assert_eq!(
        t.learn(&mac(1), 0, 9, GRAT_BOND, T0 + 100),
        LearnOutcome::GratArpLocked
    );
    // ...also once the entry is a second old (the entry is refreshed, the port kept).
    assert_eq!(
        t.learn(&mac(1), 0, 9, GRAT_BOND, T0 + 2000),
        LearnOutcome::GratArpLocked
    );
    assert_eq!(t.lookup(&mac(1), 0), Some(1));
    // Ordinary traffic from the bond is not subject to the lock.
    assert_eq!(
        t.learn(&mac(1), 0, 9, BOND, T0 + 2000),
        LearnOutcome::Moved { from: 1 }
    );
    // A new lock from port 1, then after 5 s the bond may take it.
    assert_eq!(
        t.learn(&mac(1), 0, 1, GRAT, T0 + 3000),
        LearnOutcome::Moved { from: 9 }
    );
    assert_eq!(
        t.learn(&mac(1), 0, 9, GRAT_BOND, T0 + 7999),
        LearnOutcome::GratArpLocked
    );
    assert!(
        t.entry(&mac(1), 0, T0 + 8000)
            .is_some_and(|e| !e.grat_arp_locked)
    );
    assert_eq!(
        t.learn(&mac(1), 0, 9, GRAT_BOND, T0 + 8000),
        LearnOutcome::Moved { from: 1 }
    );
    // A gratuitous ARP on a plain port re-locks even when nothing else changes.
    assert_eq!(
        t.learn(&mac(1), 0, 9, GRAT, T0 + 8000),
        LearnOutcome::Refreshed
    );
    assert!(
        t.entry(&mac(1), 0, T0 + 8000)
            .is_some_and(|e| e.grat_arp_locked)
    );
}

#[test]
fn flushes_and_port_moves() {
    let mut t = MacTable::<u16>::new();
    t.learn(&mac(1), 10, 1, PLAIN, T0);
    t.learn(&mac(2), 10, 2, PLAIN, T0);
    t.learn(&mac(3), 20, 1, PLAIN, T0);
    t.add_static(&mac(4), 10, 1);
    assert_eq!(t.flush_vlan(10), 2, "static entries stay");
    assert_eq!(t.lookup(&mac(4), 10), Some(1));
    assert_eq!(t.lookup(&mac(3), 20), Some(1));
    assert_eq!(t.move_port(&1, 3), 2);
    assert_eq!(
        (t.lookup(&mac(3), 20), t.lookup(&mac(4), 10)),
        (Some(3), Some(3))
    );
    assert_eq!(t.port_entries(&1), 0);
    assert_eq!(t.flush_port(&3), 2, "port flush takes static entries");
    assert_eq!((t.len(), t.static_entries()), (0, 0));
    assert!(!t.remove(&MacKey::new(mac(4), 10)));
    t.check_invariants().expect("invariants");
}

#[test]
fn revalidation_tags_name_the_changed_keys() {
    let mut t = MacTable::<u16>::new();
    let k1 = MacKey::new(mac(1), 0);
    let k2 = MacKey::new(mac(2), 0);
    t.learn(&k1.mac, 0, 1, PLAIN, T0);
    assert_eq!(
        t.run(T0),
        Revalidation {
            needed: true,
            tags: MacTags::of(&k1)
        }
    );
    assert_eq!(t.run(T0), Revalidation::default());
    let before = t.changes();
    t.learn(&k1.mac, 0, 1, PLAIN, T0 + 1000); // refresh
    assert_eq!(
        (t.run(T0 + 1000), t.changes()),
        (Revalidation::default(), before)
    );
    t.learn(&k1.mac, 0, 2, PLAIN, T0 + 1000); // move
    t.learn(&k2.mac, 0, 2, PLAIN, T0 + 1000); // learn
    let r = t.run(T0 + 1000);
    assert!(r.needed && r.tags == MacTags::of(&k1).union(MacTags::of(&k2)));
    // A cached flow that looked up only k1 is affected; one that looked up neither may not be.
    assert!(MacTags::of(&k1).intersects(r.tags));
    t.add_static(&k2.mac, 0, 2); // same port: no change of answer
    assert!(!t.pending().needed);
    assert!(t.remove_static(&k2.mac, 0));
    assert_eq!(t.run(T0 + 1000).tags, MacTags::of(&k2));
    // Expiry.
    t.run(T0 + 301_000);
    assert_eq!(t.changes(), before + 4);
    assert_eq!(
        t.pending(),
        Revalidation::default(),
        "run hands over its own expiries"
    );
}

#[test]
fn shared_table_generation_and_two_phase_learning() {
    let ml = MacLearning::<u16>::new();
    assert_eq!(ml.generation(), 0);
    assert_eq!(ml.learn(&mac(1), 0, 1, PLAIN, T0), LearnOutcome::Learned);
    assert_eq!(ml.generation(), 1);
    assert_eq!(ml.learn(&mac(1), 0, 1, PLAIN, T0), LearnOutcome::Unchanged);
    assert_eq!(
        ml.learn(&mac(1), 0, 1, PLAIN, T0 + 1000),
        LearnOutcome::Refreshed
    );
    assert_eq!(ml.generation(), 1, "refreshes do not bump the generation");
    assert_eq!(ml.lookup(&mac(1), 0), Some(1));
    assert_eq!(ml.add_static(&mac(2), 0, 3), None);
    assert!(ml.remove_static(&mac(2), 0));
    assert_eq!(ml.generation(), 3);
    assert!(ml.run(T0).needed);
    assert_eq!(ml.flush(), 1);
    assert_eq!(ml.generation(), 4);
    assert_eq!(ml.stats().counters.learned, 1);
    ml.clear_counters();
    assert_eq!(ml.stats().counters.learned, 0);
    ml.set_max_entries(20);
    ml.set_idle_time(20);
    assert_eq!((ml.read().max_entries(), ml.read().idle_time()), (20, 20));
    assert_eq!(
        ml.fdb_show(T0, |p| ofp_port_label(*p)),
        " port  VLAN  MAC                Age\n"
    );
}

#[test]
fn concurrent_learning_and_lookups_keep_the_table_consistent() {
    let ml = Arc::new(MacLearning::<u16>::new());
    ml.set_max_entries(64);
    let threads: Vec<_> = (0..4u16)
        .map(|t| {
            let ml = Arc::clone(&ml);
            std::thread::spawn(move || {
                for i in 0..2000u32 {
                    let m = mac((i % 100) as u8);
                    let port = (t + (i as u16 / 7)) % 5;
                    ml.learn(&m, (i % 3) as u16, port, PLAIN, T0 + u64::from(i));
                    let _ = ml.lookup(&m, 0);
                    if i % 500 == 0 {
                        ml.run(T0 + u64::from(i));
                    }
                }
            })
        })
        .collect();
    for th in threads {
        th.join().expect("thread");
    }
    let t = ml.read();
    assert!(t.len() <= 64);
    t.check_invariants().expect("invariants");
    assert_eq!(ml.generation(), t.changes());
}
