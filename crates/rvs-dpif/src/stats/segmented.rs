//! [`SegmentedArray`]: a grow-only array, indexed by `u32`, whose elements never move.
//!
//! Row `r` holds `2^(FIRST_ROW_BITS + r)` elements, so index `i` lives in row
//! `floor(log2(i + 2^FIRST_ROW_BITS)) - FIRST_ROW_BITS`: each row doubles the capacity, and 33 rows
//! cover every `u32`. Rows are allocated on demand and published through a `OnceLock`.
//!
//! Invariants:
//! * A row, once published, is never replaced, moved or freed before the array: a reference to an
//!   element stays valid, and a thread writing through it never races with growth. Growing is
//!   appending a row; it neither copies nor locks anything that readers or writers use.
//! * `get` is wait-free (one acquire load per call plus index arithmetic).
//! * Rows are initialized by [`SegmentedArray::ensure_covers`] (or `ensure_covers_zeroed`), which
//!   callers serialize (the stats table calls them only under its mutex), so no one ever waits on
//!   another thread's row init.
//! * `ensure_covers_zeroed` rows come from one zeroed allocation each and are not written: a large
//!   row's pages are mapped by the OS on first touch, so capacity that no index uses yet costs
//!   address space, not resident memory (rows double, so up to half a row can be unused).

use std::sync::OnceLock;

/// Number of rows: enough for every `u32` index even when `FIRST_ROW_BITS` is 0.
const ROW_COUNT: usize = 33;

/// A grow-only array of `T` (see the module documentation).
#[derive(Debug)]
pub(crate) struct SegmentedArray<T, const FIRST_ROW_BITS: u32> {
    rows: [OnceLock<Box<[T]>>; ROW_COUNT],
}

impl<T, const FIRST_ROW_BITS: u32> Default for SegmentedArray<T, FIRST_ROW_BITS> {
    fn default() -> Self {
        Self {
            rows: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl<T, const FIRST_ROW_BITS: u32> SegmentedArray<T, FIRST_ROW_BITS> {
    /// Row and offset within the row of `index`.
    #[inline]
    fn locate(index: u32) -> (usize, usize) {
        let biased = u64::from(index) + (1u64 << FIRST_ROW_BITS);
        let row_bits = 63 - biased.leading_zeros();
        let row = row_bits - FIRST_ROW_BITS;
        let offset = biased - (1u64 << row_bits);
        (row as usize, offset as usize)
    }

    /// Number of elements in row `row`.
    fn row_len(row: usize) -> u64 {
        1u64 << (FIRST_ROW_BITS as usize + row)
    }

    /// Number of indices covered by rows `0..rows`.
    fn covered_by(rows: usize) -> u64 {
        (1u64 << (FIRST_ROW_BITS as usize + rows)) - (1u64 << FIRST_ROW_BITS)
    }

    /// The element at `index`, or `None` if its row has not been allocated.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        let (row, offset) = Self::locate(index);
        self.rows.get(row)?.get()?.get(offset)
    }

    /// Allocates the rows needed for every index below `len` (at most `2^32`), building new
    /// elements with `make`. Returns the number of indices now covered (≥ `len`, a row boundary).
    ///
    /// Callers must not run this concurrently with itself on the same array (they would only wait on
    /// each other, but the table relies on never waiting).
    pub(crate) fn ensure_covers(&self, len: u64, mut make: impl FnMut() -> T) -> u64 {
        self.ensure_rows(len, |n| (0..n).map(|_| make()).collect())
    }

    /// [`SegmentedArray::ensure_covers`] for elements whose all-zero bytes are their initial
    /// value: each new row is one zeroed allocation, never written here (see the module
    /// invariants on resident memory).
    #[cfg(not(loom))]
    pub(crate) fn ensure_covers_zeroed(&self, len: u64) -> u64
    where
        T: zerocopy::FromZeros,
    {
        self.ensure_rows(len, |n| {
            // On allocation failure, build the row element by element, which aborts on
            // out-of-memory like every other allocation of the daemon.
            <[T] as zerocopy::FromZeros>::new_box_zeroed_with_elems(n)
                .unwrap_or_else(|_| (0..n).map(|_| T::new_zeroed()).collect())
        })
    }

    /// Creates the missing rows below `len` with `build_row(row length)`; returns the indices
    /// covered.
    fn ensure_rows(&self, len: u64, mut build_row: impl FnMut(usize) -> Box<[T]>) -> u64 {
        let mut rows = 0;
        while rows < ROW_COUNT && Self::covered_by(rows) < len {
            let Some(slot) = self.rows.get(rows) else {
                break;
            };
            slot.get_or_init(|| build_row(Self::row_len(rows) as usize));
            rows += 1;
        }
        Self::covered_by(rows)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Small = SegmentedArray<u32, 2>;

    #[test]
    fn rows_double() {
        assert_eq!(Small::locate(0), (0, 0));
        assert_eq!(Small::locate(3), (0, 3));
        assert_eq!(Small::locate(4), (1, 0));
        assert_eq!(Small::locate(11), (1, 7));
        assert_eq!(Small::locate(12), (2, 0));
        assert_eq!(
            Small::locate(u32::MAX),
            (30, (u64::from(u32::MAX) + 4 - (1 << 32)) as usize)
        );
        assert_eq!(SegmentedArray::<u8, 0>::locate(u32::MAX), (32, 0));
    }

    #[test]
    fn grows_on_demand_and_keeps_elements() {
        let array = Small::default();
        assert!(array.get(0).is_none());
        let mut next = 0;
        assert_eq!(
            array.ensure_covers(5, || {
                next += 1;
                next
            }),
            12
        );
        assert_eq!(array.get(0), Some(&1));
        assert_eq!(array.get(11), Some(&12));
        assert!(array.get(12).is_none());
        let first = array.get(7).map(|e| e as *const u32);
        assert_eq!(array.ensure_covers(13, || 0), 28);
        assert_eq!(
            array.get(7).map(|e| e as *const u32),
            first,
            "growth must not move elements"
        );
        assert_eq!(array.get(11), Some(&12));
        assert_eq!(array.ensure_covers(0, || 0), 0);
    }

    #[test]
    fn zeroed_rows_cover_like_built_rows() {
        let array = Small::default();
        assert_eq!(array.ensure_covers_zeroed(5), 12);
        assert_eq!(array.get(11), Some(&0));
        assert!(array.get(12).is_none());
        let first = array.get(3).map(|e| e as *const u32);
        assert_eq!(array.ensure_covers_zeroed(13), 28);
        assert_eq!(array.get(3).map(|e| e as *const u32), first);
        assert_eq!(array.get(27), Some(&0));
    }

    proptest! {
        #[test]
        fn locate_is_a_bijection(index in any::<u32>()) {
            let (row, offset) = Small::locate(index);
            prop_assert!(row < ROW_COUNT);
            prop_assert!((offset as u64) < Small::row_len(row));
            prop_assert_eq!(Small::covered_by(row) + offset as u64, u64::from(index));
        }
    }
}
