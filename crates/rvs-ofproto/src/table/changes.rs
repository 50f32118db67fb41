//! What committed flow-table changes can affect: per table, the highest priority at which a
//! lookup could now see a difference, and whether the prefix tries changed.
//!
//! A lookup in a table scans subtables in descending order of their highest priority and stops
//! once its best match has a priority at least as high as the next subtable's (see
//! [`crate::classifier`]). A rule added to or removed from a subtable whose highest priority is
//! *below* the priority a lookup hit is therefore never scanned by that lookup, before or after
//! the change: its result and its wildcards stay the same, unless the rule's match has bits in a
//! prefix-trie field (the tries are shared by every subtable a lookup scans).
//!
//! # Invariants
//! * [`TableChanges`] holds at most one [`TableChange`] per table: merging keeps the highest
//!   scan priority and ORs `touches_tries`, which answers [`TableChange::may_affect`] exactly as
//!   the separate changes would together.
//! * A change is recorded with the highest priority of its rule's subtable *including* the rule
//!   (after an insertion, before a removal), so the hit rule's own subtable always counts.

use crate::classifier::{Classifier, Priority};
use rvs_flow::Match;

/// The summary of the rule changes one or more commits made in one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableChange {
    /// The OpenFlow table.
    pub table_id: u8,
    /// The highest priority of a subtable a changed rule is (or was) in, when it changed.
    pub scan_priority: Priority,
    /// A changed rule's match has bits in a prefix-trie field of the table.
    pub touches_tries: bool,
}

impl TableChange {
    /// True if a lookup in `table_id` that hit a rule of priority `hit_priority` could give a
    /// different rule or different wildcards after this change.
    pub fn may_affect(&self, table_id: u8, hit_priority: Priority) -> bool {
        table_id == self.table_id && (self.touches_tries || self.scan_priority >= hit_priority)
    }
}

/// The changes not yet taken by the owner of the tables, at most one per table.
#[derive(Clone, Debug, Default)]
pub struct TableChanges {
    changes: Vec<TableChange>,
}

impl TableChanges {
    /// Records that a rule with `flow_match` changed in table `table_id` of `cls` (call after an
    /// insertion and before a removal). A rule whose subtable is gone is recorded with its own
    /// `priority`.
    pub(crate) fn record<R>(
        &mut self,
        table_id: u8,
        cls: &Classifier<R>,
        flow_match: &Match,
        priority: Priority,
    ) {
        let scan_priority = cls
            .subtable_max_priority(&flow_match.wc)
            .map_or(priority, |max| max.max(priority));
        let touches_tries = cls.mask_in_prefix_tries(&flow_match.wc);
        match self.changes.iter_mut().find(|c| c.table_id == table_id) {
            Some(c) => {
                c.scan_priority = c.scan_priority.max(scan_priority);
                c.touches_tries |= touches_tries;
            }
            None => self.changes.push(TableChange {
                table_id,
                scan_priority,
                touches_tries,
            }),
        }
    }

    /// The recorded changes, leaving none.
    pub fn take(&mut self) -> Vec<TableChange> {
        std::mem::take(&mut self.changes)
    }

    /// The recorded changes.
    pub fn as_slice(&self) -> &[TableChange] {
        &self.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_the_widest_reach_per_table() {
        let a = TableChange {
            table_id: 0,
            scan_priority: 5,
            touches_tries: false,
        };
        assert!(a.may_affect(0, 5));
        assert!(a.may_affect(0, 1));
        assert!(!a.may_affect(0, 6));
        assert!(!a.may_affect(1, 1));
        let mut changes = TableChanges::default();
        changes.changes.push(a);
        let cls: Classifier<u32> = Classifier::new();
        let mut m = Match::default();
        m.flow.nw_dst = 0x0a00_0000;
        m.wc.masks.nw_dst = 0xff00_0000;
        changes.record(0, &cls, &m, 3);
        changes.record(2, &cls, &Match::default(), 9);
        let got = changes.take();
        assert_eq!(
            got,
            vec![
                TableChange {
                    table_id: 0,
                    scan_priority: 5,
                    touches_tries: true
                },
                TableChange {
                    table_id: 2,
                    scan_priority: 9,
                    touches_tries: false
                }
            ]
        );
        assert!(got[0].may_affect(0, 100));
        assert!(changes.as_slice().is_empty());
    }
}
