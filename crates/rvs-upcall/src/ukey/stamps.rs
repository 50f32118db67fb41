//! [`StampArray`]: one shard's dump stamps, a growable array of `dump_seq` values indexed by the
//! serial that the shard's table gives each of its ukeys (`table.rs`).
//!
//! A revalidator that KEEPs a ukey in the dump phase stores the round's `dump_seq` under the ukey's
//! serial; the sweep, walking the shard's table, reads the serial from the slot and skips the ukey
//! if its stamp is the round's, without touching the ukey. Stamps are written without the shard
//! lock (the dump reaches ukeys through the datapath's flow owners, not through the table).
//!
//! # Invariants
//! * Rows are allocated once and never freed or moved: row `r` holds `2^(r + FIRST_ROW_BITS)`
//!   stamps, so a serial's stamp stays at one address for the life of the array and readers never
//!   lock. Rows are created by [`StampArray::ensure`], called by the table's owner (under the shard
//!   lock) before a serial is handed out; a serial with no row reads as 0 and ignores writes.
//! * A stamp is only a hint for the sweep: 0 means "look at the ukey". The table resets a serial's
//!   stamp to 0 whenever it gives the serial to another ukey, and a stamp is only written by a
//!   thread holding the stamped ukey's lock while the ukey is OPERATIONAL and in the table, so a
//!   ukey never inherits a stamp it did not earn.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// log2 of the first row's length (small: a shard holds ~1/512 of the ukeys).
const FIRST_ROW_BITS: u32 = 3;
/// Number of rows: enough for every `u32` serial.
const ROWS: usize = (32 - FIRST_ROW_BITS + 1) as usize;

/// The stamp of a serial no ukey holds (set when its ukey leaves the table): it counts as
/// stamped by every dump.
pub(crate) const FREE: u64 = u64::MAX;

/// One shard's stamps (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct StampArray {
    rows: [OnceLock<Box<[AtomicU64]>>; ROWS],
}

/// The row and the offset in it of `serial`.
fn locate(serial: u32) -> (usize, usize) {
    let biased = u64::from(serial) + (1 << FIRST_ROW_BITS);
    let row = 63 - biased.leading_zeros() - FIRST_ROW_BITS;
    let offset = biased - (1u64 << (row + FIRST_ROW_BITS));
    (row as usize, offset as usize)
}

impl StampArray {
    fn cell(&self, serial: u32) -> Option<&AtomicU64> {
        let (row, offset) = locate(serial);
        self.rows.get(row)?.get()?.get(offset)
    }

    /// Makes sure `serial` has a cell.
    pub(crate) fn ensure(&self, serial: u32) {
        let (row, _) = locate(serial);
        if let Some(cell) = self.rows.get(row) {
            cell.get_or_init(|| {
                (0..1u64 << (row as u32 + FIRST_ROW_BITS))
                    .map(|_| AtomicU64::new(0))
                    .collect()
            });
        }
    }

    /// The stamp of `serial` (0 if none).
    pub(crate) fn get(&self, serial: u32) -> u64 {
        self.cell(serial).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// True if every serial below `bound` is stamped with `dump_seq` or [`FREE`] (then no ukey
    /// of the shard needs the sweep). Reads the rows in order, stopping at the first other stamp.
    pub(crate) fn all_stamped(&self, bound: u32, dump_seq: u64) -> bool {
        let mut left = bound as usize;
        for row in &self.rows {
            if left == 0 {
                return true;
            }
            let Some(cells) = row.get() else {
                return false;
            };
            let n = left.min(cells.len());
            let done = cells.get(..n).is_some_and(|cells| {
                cells.iter().all(|c| {
                    let stamp = c.load(Ordering::Relaxed);
                    stamp == dump_seq || stamp == FREE
                })
            });
            if !done {
                return false;
            }
            left -= n;
        }
        left == 0
    }

    /// Sets the stamp of `serial`.
    pub(crate) fn set(&self, serial: u32, stamp: u64) {
        if let Some(c) = self.cell(serial) {
            c.store(stamp, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_map_to_distinct_cells_across_rows() {
        let mut seen = std::collections::BTreeSet::new();
        for serial in (0..5000u32).chain([u32::MAX - 1, u32::MAX]) {
            let (row, offset) = locate(serial);
            assert!(row < ROWS, "serial {serial}");
            assert!(
                offset < 1 << (row as u32 + FIRST_ROW_BITS),
                "serial {serial}"
            );
            assert!(seen.insert((row, offset)), "serial {serial} shares a cell");
        }
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(7), (0, 7));
        assert_eq!(locate(8), (1, 0));
        assert_eq!(locate(23), (1, 15));
        assert_eq!(locate(24), (2, 0));
    }

    #[test]
    fn all_stamped_needs_every_serial_stamped_or_free() {
        let a = StampArray::default();
        assert!(a.all_stamped(0, 5), "no serial");
        assert!(!a.all_stamped(1, 5), "a serial without a row");
        for serial in 0..30 {
            a.ensure(serial);
            a.set(serial, 5);
        }
        assert!(a.all_stamped(30, 5));
        assert!(!a.all_stamped(30, 6), "another dump");
        a.set(17, FREE);
        assert!(a.all_stamped(30, 5), "a free serial counts as stamped");
        a.set(29, 4);
        assert!(!a.all_stamped(30, 5));
        assert!(a.all_stamped(29, 5), "only serials below the bound count");
    }

    #[test]
    fn stamps_need_a_row_and_keep_their_value() {
        let a = StampArray::default();
        a.set(70, 9);
        assert_eq!(a.get(70), 0, "no row yet: the write is ignored");
        a.ensure(70);
        a.set(70, 9);
        a.set(71, 4);
        assert_eq!((a.get(70), a.get(71), a.get(72)), (9, 4, 0));
        a.ensure(3);
        assert_eq!(a.get(70), 9, "creating another row moves nothing");
    }
}
