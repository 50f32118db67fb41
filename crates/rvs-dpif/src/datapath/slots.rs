//! [`FlowSlots`]: the installed flows by a small dense index (their statistics index), which is what
//! flow dumps walk with a shared cursor.
//!
//! # Invariants
//! * Row `r` holds `64·2^r` slots in chunks of [`CHUNK`] slots, each chunk behind its own
//!   reader-writer lock; rows are created in order, never moved or freed, so a chunk reference stays
//!   valid for the table's life. Chunks start at multiples of [`CHUNK`].
//! * A slot is written only under the datapath's flow mutex, by the owner of its index (the flow
//!   whose statistics id has that index): set on install, cleared on delete, with the chunk's write
//!   lock held only for the store (a replaced record is dropped after the lock is released). An
//!   index is reused only after the old flow's record is dropped, long after its slot was cleared.
//! * Dumps read a whole chunk under one read lock (one atomic read-modify-write per [`CHUNK`]
//!   slots, none per flow, so the cache misses of a chunk's records can overlap); they hold it only
//!   while copying out at most one batch.
//! * [`FlowSlots::capacity`] only grows; every index below it has a slot.
//! * A slot's UFID and statistics id are those of its record (copied on install; a record's never
//!   change).
//! * A slot also holds the flow's owner (what its installer attached, [`FlowOwner`]), read by
//!   dumps under the same read lock; [`FlowSlots::clear_owners`] drops every owner (the installer
//!   is going away), each chunk under its write lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;

use rvs_flow::ufid::Ufid;

use super::megaflow::Megaflow;
use crate::dpif::FlowOwner;
use crate::stats::StatsId;

/// Slots per chunk (one lock each).
pub(crate) const CHUNK: usize = 64;

/// An occupied slot: the flow's record, its owner, and copies of the record's UFID and
/// statistics id (both never change), so that a terse dump reads the slots only, not the records.
pub(crate) struct SlotEntry {
    /// The record.
    pub(crate) flow: Arc<Megaflow>,
    /// What the installer attached, if anything.
    pub(crate) owner: Option<FlowOwner>,
    /// `flow.ufid`.
    pub(crate) ufid: Ufid,
    /// `flow.stats_id`.
    pub(crate) stats_id: StatsId,
}

impl SlotEntry {
    /// The entry of `flow` with `owner`.
    pub(crate) fn new(flow: Arc<Megaflow>, owner: Option<FlowOwner>) -> SlotEntry {
        SlotEntry {
            ufid: flow.ufid,
            stats_id: flow.stats_id,
            flow,
            owner,
        }
    }
}

/// A chunk of [`CHUNK`] slots.
pub(crate) type Chunk = RwLock<[Option<SlotEntry>; CHUNK]>;

/// log2 of the first row's length.
const FIRST_ROW_BITS: u32 = 6;
/// Rows: enough for every u32 index.
const ROWS: usize = 27;

/// Installed flows indexed by their statistics index.
pub(crate) struct FlowSlots {
    rows: [OnceLock<Box<[Chunk]>>; ROWS],
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

    /// The chunk holding `index` (and the slot's position in it), if its row exists.
    #[inline]
    pub(crate) fn chunk(&self, index: u32) -> Option<(&Chunk, usize)> {
        let (row, offset) = locate(index);
        let chunk = self.rows.get(row)?.get()?.get(offset / CHUNK)?;
        Some((chunk, offset % CHUNK))
    }

    /// Stores `flow` (or clears the slot with `None`), creating rows up to `index` as needed;
    /// returns what the slot held. Callers hold the flow mutex.
    pub(crate) fn set(&self, index: u32, flow: Option<SlotEntry>) -> Option<SlotEntry> {
        let (row, _) = locate(index);
        for r in 0..=row {
            if let Some(cell) = self.rows.get(r) {
                cell.get_or_init(|| {
                    let len = (1usize << FIRST_ROW_BITS) << r;
                    self.capacity.fetch_add(len as u64, Ordering::AcqRel);
                    (0..len / CHUNK)
                        .map(|_| RwLock::new([const { None }; CHUNK]))
                        .collect()
                });
            }
        }
        let (chunk, at) = self.chunk(index)?;
        let mut slots = chunk.write();
        std::mem::replace(slots.get_mut(at)?, flow)
    }

    /// Number of indices that have a slot.
    pub(crate) fn capacity(&self) -> u64 {
        self.capacity.load(Ordering::Acquire)
    }

    /// Drops every flow's owner (the flows stay). Owners are released after each chunk's lock.
    pub(crate) fn clear_owners(&self) {
        let chunks = self
            .rows
            .iter()
            .filter_map(OnceLock::get)
            .flat_map(|r| r.iter());
        for chunk in chunks {
            let taken: Vec<FlowOwner> = chunk
                .write()
                .iter_mut()
                .flatten()
                .filter_map(|e| e.owner.take())
                .collect();
            drop(taken);
        }
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
        assert!(slots.chunk(0).is_none());
        assert!(slots.set(70, None).is_none());
        assert_eq!(slots.capacity(), 64 + 128);
        assert_eq!(slots.chunk(191).map(|(_, at)| at), Some(63));
        assert_eq!(slots.chunk(128).map(|(_, at)| at), Some(0));
        assert!(slots.chunk(192).is_none());
    }
}
