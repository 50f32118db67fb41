//! The change journal: which changes happened since a translation, and whether any of them can
//! make translating the same flow again give something else.
//!
//! Every change that must revalidate cached flows gets the next sequence number. Flow-table
//! changes are kept as their per-table summaries ([`TableChange`]); any other change (ports,
//! bridges, MAC learning, prefix-trie settings, a table change without a summary) is *opaque*:
//! every translation made before it counts as affected. A translation notes the sequence number
//! before it reads anything (its *epoch*); later, [`ChangeJournal::unaffected_since`] tells
//! whether every change after that epoch left each of its table lookups alone.
//!
//! # Invariants
//! * A change is recorded after it is visible to translations and before the change hook runs,
//!   so a revalidator that sees the hook's `reval_seq` bump also sees the change here, and a
//!   translation that read sequence number `s` may have seen changes after `s` (which are then
//!   checked for nothing) but never misses one at or below `s`.
//! * The published snapshot covers every change after `covered_from`: an opaque change sets
//!   `covered_from` to its own number and drops older entries; when more than [`MAX_ENTRIES`]
//!   table changes are kept, the oldest are dropped and `covered_from` moves past them. A
//!   translation older than `covered_from` is never called unaffected.
//! * A lookup is unaffected by a table change only if it hit a rule whose priority is above the
//!   change's scan priority and the change left the prefix tries alone
//!   ([`TableChange::may_affect`]); a translation with a table miss is affected by any table
//!   change.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use rvs_ofproto::table::{Rule, TableChange};

/// Most table changes a snapshot keeps.
pub(super) const MAX_ENTRIES: usize = 64;

/// Unique journal ids (for the per-thread snapshot cache).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One immutable state of the journal.
#[derive(Debug)]
struct Snapshot {
    /// Sequence number of the newest change.
    seq: u64,
    /// Every change numbered above this is in `entries`.
    covered_from: u64,
    /// Table changes numbered above `covered_from`, oldest first.
    entries: Vec<(u64, TableChange)>,
}

thread_local! {
    /// The snapshot this thread used last, with the id of its journal.
    static CACHED: RefCell<Option<(u64, Arc<Snapshot>)>> = const { RefCell::new(None) };
}

/// The changes of one `OfprotoDpif`.
#[derive(Debug)]
pub(super) struct ChangeJournal {
    id: u64,
    seq: AtomicU64,
    current: RwLock<Arc<Snapshot>>,
}

impl Default for ChangeJournal {
    fn default() -> ChangeJournal {
        ChangeJournal {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            seq: AtomicU64::new(0),
            current: RwLock::new(Arc::new(Snapshot {
                seq: 0,
                covered_from: 0,
                entries: Vec::new(),
            })),
        }
    }
}

impl ChangeJournal {
    /// The sequence number of the newest change: a translation reads it before anything else.
    pub(super) fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// Records a change whose effect on translations is unknown.
    pub(super) fn record_opaque(&self) {
        let mut current = self.current.write();
        let seq = current.seq + 1;
        *current = Arc::new(Snapshot {
            seq,
            covered_from: seq,
            entries: Vec::new(),
        });
        self.seq.store(seq, Ordering::Release);
    }

    /// Records one commit's flow-table changes (no summary = opaque).
    pub(super) fn record_tables(&self, changes: Vec<TableChange>) {
        if changes.is_empty() {
            self.record_opaque();
            return;
        }
        let mut current = self.current.write();
        let seq = current.seq + 1;
        let mut entries = current.entries.clone();
        entries.extend(changes.into_iter().map(|c| (seq, c)));
        let mut covered_from = current.covered_from;
        if entries.len() > MAX_ENTRIES {
            let excess = entries.len() - MAX_ENTRIES;
            // Keep whole commits: drop every entry of the newest commit the excess reaches.
            let last_dropped = entries.get(excess - 1).map_or(covered_from, |e| e.0);
            entries.retain(|e| e.0 > last_dropped);
            covered_from = last_dropped;
        }
        *current = Arc::new(Snapshot {
            seq,
            covered_from,
            entries,
        });
        self.seq.store(seq, Ordering::Release);
    }

    /// If no change after `epoch` can affect a translation that hit `rules` (every lookup but
    /// `lookup_misses` of them), the sequence number it is now current at; `None` otherwise.
    pub(super) fn unaffected_since(
        &self,
        epoch: u64,
        rules: &[Arc<Rule>],
        lookup_misses: u32,
    ) -> Option<u64> {
        self.with_snapshot(|snap| {
            if epoch >= snap.seq {
                return Some(epoch);
            }
            if epoch < snap.covered_from {
                return None;
            }
            for (seq, change) in snap.entries.iter().rev() {
                if *seq <= epoch {
                    break;
                }
                if lookup_misses > 0
                    || rules
                        .iter()
                        .any(|r| change.may_affect(r.table_id, u32::from(r.priority)))
                {
                    return None;
                }
            }
            Some(snap.seq)
        })
    }

    /// Runs `f` on the newest snapshot, kept per thread while the sequence number is unchanged
    /// (no lock and no reference count per call).
    fn with_snapshot<T>(&self, f: impl FnOnce(&Snapshot) -> T) -> T {
        let seq = self.seq();
        CACHED.with(|cell| {
            let Ok(mut cached) = cell.try_borrow_mut() else {
                return f(&self.current.read());
            };
            match cached.as_ref() {
                Some((id, snap)) if *id == self.id && snap.seq == seq => f(snap),
                _ => {
                    let snap = Arc::clone(&self.current.read());
                    let out = f(&snap);
                    *cached = Some((self.id, snap));
                    out
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_ofproto::table::Tables;

    fn change(table_id: u8, scan_priority: u32, touches_tries: bool) -> TableChange {
        TableChange {
            table_id,
            scan_priority,
            touches_tries,
        }
    }

    /// A rule of `table` at `priority` (added through a flow mod, as the daemon does).
    fn rule(table: u8, priority: u16) -> Arc<Rule> {
        let mut tables = Tables::new();
        rvs_ofproto::table::Ofctl::new(rvs_ofproto::actions::Dialect::OpenFlow13)
            .add_flow(
                &mut tables,
                &format!("table={table},priority={priority},udp,actions=drop"),
                0,
            )
            .expect("valid flow");
        let version = tables.version();
        let hit = tables.rules(version).next().cloned();
        hit.expect("one rule")
    }

    #[test]
    fn lower_scan_priorities_in_the_same_table_leave_a_hit_alone() {
        let j = ChangeJournal::default();
        let r = rule(0, 10);
        let epoch = j.seq();
        assert_eq!(j.unaffected_since(epoch, &[Arc::clone(&r)], 0), Some(epoch));
        j.record_tables(vec![change(0, 9, false), change(1, 100, false)]);
        let now = j.seq();
        assert_eq!(now, epoch + 1);
        assert_eq!(j.unaffected_since(epoch, &[Arc::clone(&r)], 0), Some(now));
        // The same changes affect a translation with a table miss...
        assert_eq!(j.unaffected_since(epoch, &[Arc::clone(&r)], 1), None);
        // ... and one that hit at or below the scan priority, or in a trie-touching table.
        j.record_tables(vec![change(0, 10, false)]);
        assert_eq!(j.unaffected_since(epoch, &[Arc::clone(&r)], 0), None);
        assert_eq!(j.unaffected_since(now, &[Arc::clone(&r)], 0), None);
        let later = j.seq();
        j.record_tables(vec![change(0, 1, true)]);
        assert_eq!(j.unaffected_since(later, &[Arc::clone(&r)], 0), None);
    }

    #[test]
    fn opaque_changes_and_dropped_entries_affect_older_translations() {
        let j = ChangeJournal::default();
        let r = rule(0, 10);
        let before = j.seq();
        j.record_opaque();
        assert_eq!(j.unaffected_since(before, &[Arc::clone(&r)], 0), None);
        let after = j.seq();
        assert_eq!(j.unaffected_since(after, &[Arc::clone(&r)], 0), Some(after));
        // An empty summary is opaque too.
        j.record_tables(Vec::new());
        assert_eq!(j.unaffected_since(after, &[Arc::clone(&r)], 0), None);
        let start = j.seq();
        for _ in 0..MAX_ENTRIES {
            j.record_tables(vec![change(0, 1, false)]);
        }
        // Exactly MAX_ENTRIES kept: still covered.
        assert!(j.unaffected_since(start, &[Arc::clone(&r)], 0).is_some());
        j.record_tables(vec![change(0, 1, false)]);
        assert_eq!(j.unaffected_since(start, &[Arc::clone(&r)], 0), None);
        assert!(j.unaffected_since(start + 1, &[r], 0).is_some());
    }

    #[test]
    fn the_per_thread_snapshot_follows_every_journal_separately() {
        let a = ChangeJournal::default();
        let b = ChangeJournal::default();
        let r = rule(0, 10);
        let ea = a.seq();
        b.record_opaque();
        assert_eq!(a.unaffected_since(ea, &[Arc::clone(&r)], 0), Some(ea));
        assert_eq!(b.unaffected_since(0, &[Arc::clone(&r)], 0), None);
        a.record_opaque();
        assert_eq!(a.unaffected_since(ea, &[r], 0), None);
    }
}
