//! [`IndexPool`]: hands out small `u32` indices and takes them back for reuse.
//!
//! Invariants:
//! * An index is either handed out or available, never both; [`IndexPool::take`] returns the
//!   smallest available index, so the indices in use stay packed at the bottom of the range
//!   (arrays indexed by them need only `high_water` entries).
//! * `high_water` (one past the largest index ever handed out) never decreases.
//! * Not thread-safe by itself: the stats table keeps it under its mutex.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A pool of reusable indices (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct IndexPool {
    /// Indices below `high_water` that were given back.
    returned: BinaryHeap<Reverse<u32>>,
    /// One past the largest index ever handed out (≤ 2³²).
    high_water: u64,
}

impl IndexPool {
    /// The smallest available index, or `None` if all 2³² are in use.
    pub(crate) fn take(&mut self) -> Option<u32> {
        if let Some(Reverse(index)) = self.returned.pop() {
            return Some(index);
        }
        let index = u32::try_from(self.high_water).ok()?;
        self.high_water += 1;
        Some(index)
    }

    /// Makes `index` available again. The caller guarantees it was handed out and not yet returned.
    pub(crate) fn give_back(&mut self, index: u32) {
        debug_assert!(u64::from(index) < self.high_water);
        self.returned.push(Reverse(index));
    }

    /// One past the largest index ever handed out.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn high_water(&self) -> u64 {
        self.high_water
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn reuses_smallest_first() {
        let mut pool = IndexPool::default();
        let taken: Vec<_> = (0..5).map(|_| pool.take()).collect();
        assert_eq!(taken, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
        pool.give_back(3);
        pool.give_back(1);
        assert_eq!(pool.take(), Some(1));
        assert_eq!(pool.take(), Some(3));
        assert_eq!(pool.take(), Some(5));
        assert_eq!(pool.high_water(), 6);
    }

    #[test]
    fn exhaustion_is_an_answer_not_a_panic() {
        let mut pool = IndexPool {
            high_water: u64::from(u32::MAX),
            ..IndexPool::default()
        };
        assert_eq!(pool.take(), Some(u32::MAX));
        assert_eq!(pool.take(), None);
        pool.give_back(7);
        assert_eq!(pool.take(), Some(7));
    }
}
