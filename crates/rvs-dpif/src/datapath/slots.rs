//! [`FlowSlots`]: the installed flows by a small dense index (their statistics index), which is what
//! flow dumps walk with a shared cursor.
//!
//! # Invariants
//! * Row `r` holds `64·2^r` slots; rows are created in order, never moved or freed, so a slot
//!   reference stays valid for the table's life and readers never wait.
//! * A slot is written only under the datapath's flow mutex, by the owner of its index (the flow
//!   whose statistics id has that index): set on install, cleared on delete. An index is reused only
//!   after the old flow's record is dropped, long after its slot was cleared.
//! * [`FlowSlots::capacity`] only grows; every index below it has a slot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwapOption;

use super::megaflow::Megaflow;

/// log2 of the first row's length.
const FIRST_ROW_BITS: u32 = 6;
/// Rows: enough for every u32 index.
const ROWS: usize = 27;

/// Installed flows indexed by their statistics index.
pub(crate) struct FlowSlots {
    rows: [OnceLock<Box<[ArcSwapOption<Megaflow>]>>; ROWS],
    capacity: AtomicU64,
}

/// Row and offset of `index`.
#[inline]
fn locate(index: u32) -> (usize, usize) {
    let i = u64::from(index) + (1 << FIRST_ROW_BITS);
    let row = (63 - i.leading_zeros() - FIRST_ROW_BITS) as usize;
    let offset = (i - ((1u64 << FIRST_ROW_BITS) << row)) as usize;
    (row, offset)
}

impl FlowSlots {
    /// No slots yet.
    pub(crate) fn new() -> FlowSlots {
        FlowSlots {
            rows: [const { OnceLock::new() }; ROWS],
            capacity: AtomicU64::new(0),
        }
    }

    /// The slot of `index`, if its row exists.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&ArcSwapOption<Megaflow>> {
        let (row, offset) = locate(index);
        self.rows.get(row)?.get()?.get(offset)
    }

    /// Stores `flow` (or clears the slot with `None`), creating rows up to `index` as needed.
    /// Callers hold the flow mutex.
    pub(crate) fn set(&self, index: u32, flow: Option<Arc<Megaflow>>) {
        let (row, _) = locate(index);
        for r in 0..=row {
            if let Some(cell) = self.rows.get(r) {
                cell.get_or_init(|| {
                    let len = (1usize << FIRST_ROW_BITS) << r;
                    self.capacity.fetch_add(len as u64, Ordering::AcqRel);
                    (0..len).map(|_| ArcSwapOption::empty()).collect()
                });
            }
        }
        if let Some(slot) = self.get(index) {
            slot.store(flow);
        }
    }

    /// Number of indices that have a slot.
    pub(crate) fn capacity(&self) -> u64 {
        self.capacity.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_double() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(63), (0, 63));
        assert_eq!(locate(64), (1, 0));
        assert_eq!(locate(191), (1, 127));
        assert_eq!(locate(192), (2, 0));
        let (row, _) = locate(u32::MAX);
        assert!(row < ROWS);
    }

    #[test]
    fn capacity_grows_with_rows() {
        let slots = FlowSlots::new();
        assert_eq!(slots.capacity(), 0);
        assert!(slots.get(0).is_none());
        slots.set(70, None);
        assert_eq!(slots.capacity(), 64 + 128);
        assert!(slots.get(191).is_some());
        assert!(slots.get(192).is_none());
    }
}
