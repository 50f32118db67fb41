//! [`FlowSlot`]: the state of one stats id that all threads share: which flow owns the id now
//! (its generation), and the baseline totals of the flow's last clear, under a sequence word.
//!
//! The state word packs `generation << 32 | live << 31 | sequence` (31-bit sequence):
//! * `live` clear: the index is not in use (never allocated, or freed); `generation` is the one the
//!   next flow on this index will get ([`FlowSlot::retire`] bumps it, [`FlowSlot::activate`] sets
//!   `live`). Reads, clears and frees answer `None` at once, whatever id they were given. An
//!   all-zero slot is a free slot whose next generation is 0, so rows of slots can come from
//!   zeroed memory (`segmented.rs`);
//! * `sequence` even: the id belongs to the flow with this generation and the baseline is stable;
//! * `sequence` odd: a clear or free of that flow is in progress (readers wait, writers do not).
//!
//! Invariants:
//! * The baseline is only written by the one thread that moved `sequence` from even to odd (a
//!   clearer or a freer, by compare-and-swap) or, while the slot is free, by the allocator under the
//!   table mutex. It is a sequence lock with that thread as the single writer (same fences as
//!   `bucket.rs`), so a reader that saw the same even word before and after reading the baseline and
//!   the buckets used the baseline of exactly that word.
//! * The baseline is a value the summed buckets had at an instant inside the clear (each bucket read
//!   after the clear took the word); since bucket totals only grow, any later read sums to at least
//!   the baseline, and "current sum − baseline" is exactly the updates not counted by the clear.
//!   Each clear returns `sum − previous baseline`: the amounts it removed, with nothing counted twice
//!   and nothing lost.
//! * A generation is never reused while an id carrying it can still be in use (it wraps only after
//!   2³² frees of one index); stale ids get `None` from reads, clears and frees.

use super::flow_stats::{Counters, FlowStats, TCP_FLAG_BITS};
use super::sync::{AtomicU32, AtomicU64, Ordering, fence, spin_wait};

/// Shared per-id state (see the module documentation). All-zero bytes are the default (free,
/// next generation 0).
#[derive(Debug)]
#[cfg_attr(not(loom), derive(zerocopy::FromZeros))]
pub(crate) struct FlowSlot {
    /// `generation << 32 | live << 31 | sequence`.
    state: AtomicU64,
    /// Baseline: summed `n_updates` at the last clear.
    base_updates: AtomicU64,
    /// Baseline: summed packets at the last clear.
    base_packets: AtomicU64,
    /// Baseline: summed bytes at the last clear.
    base_bytes: AtomicU64,
    /// Baseline: summed per-bit TCP flag counts at the last clear.
    base_flag_counts: [AtomicU32; TCP_FLAG_BITS],
}

/// The `live` bit of a state word.
const LIVE: u64 = 1 << 31;
/// The `sequence` bits of a state word.
const SEQUENCE_MASK: u32 = (1 << 31) - 1;

/// Packs a live (not free) state word.
fn pack(generation: u32, sequence: u32) -> u64 {
    (u64::from(generation) << 32) | LIVE | u64::from(sequence & SEQUENCE_MASK)
}

/// The state word of a free slot whose next flow gets `generation`.
fn free_word(generation: u32) -> u64 {
    u64::from(generation) << 32
}

/// The generation half of a state word.
fn generation_of(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The sequence of a state word.
fn sequence_of(word: u64) -> u32 {
    word as u32 & SEQUENCE_MASK
}

/// Whether a state word belongs to the live flow of generation `generation`.
fn is_live(word: u64, generation: u32) -> bool {
    generation_of(word) == generation && word & LIVE != 0
}

/// Whether a state word says "clear or free in progress".
fn is_busy(word: u64) -> bool {
    word & 1 == 1
}

impl Default for FlowSlot {
    fn default() -> Self {
        Self {
            state: AtomicU64::new(free_word(0)),
            base_updates: AtomicU64::new(0),
            base_packets: AtomicU64::new(0),
            base_bytes: AtomicU64::new(0),
            base_flag_counts: Default::default(),
        }
    }
}

impl FlowSlot {
    /// Whether `generation` still owns the slot (a hint for writers: it can change right after).
    #[inline]
    pub(crate) fn is_current(&self, generation: u32) -> bool {
        is_live(self.state.load(Ordering::Relaxed), generation)
    }

    /// Starts a new flow on a free slot: baseline := `sum()` (so updates made before, e.g. by stale
    /// writers of the previous flow, are not counted) and returns the new flow's generation.
    ///
    /// The caller holds the table mutex, which also orders this after the [`FlowSlot::retire`] that
    /// freed the slot.
    pub(crate) fn activate(&self, sum: impl FnOnce() -> Counters) -> u32 {
        let word = self.state.load(Ordering::Relaxed);
        debug_assert!(word & LIVE == 0, "activating a slot that is in use");
        let generation = generation_of(word);
        // Anyone still reading the old baseline has seen a word older than `word` and will retry.
        fence(Ordering::Release);
        let old = self.load_baseline();
        self.store_baseline(&sum(), &old);
        self.state.store(pack(generation, 0), Ordering::Release);
        generation
    }

    /// The flow's statistics since its last clear, or `None` if `generation` no longer owns the slot.
    pub(crate) fn read(&self, generation: u32, sum: impl Fn() -> Counters) -> Option<FlowStats> {
        loop {
            let word = self.state.load(Ordering::Acquire);
            if !is_live(word, generation) {
                return None;
            }
            if is_busy(word) {
                spin_wait();
                continue;
            }
            let baseline = self.load_baseline();
            let now = sum();
            fence(Ordering::Acquire);
            if self.state.load(Ordering::Relaxed) == word {
                return Some(now.since(&baseline));
            }
            spin_wait();
        }
    }

    /// Zeroes the flow's statistics and returns what was zeroed, or `None` if `generation` no
    /// longer owns the slot.
    pub(crate) fn clear(
        &self,
        generation: u32,
        sum: impl FnOnce() -> Counters,
    ) -> Option<FlowStats> {
        let locked = self.lock(generation)?;
        let baseline = self.load_baseline();
        let now = sum();
        self.store_baseline(&now, &baseline);
        self.state.store(
            pack(generation, sequence_of(locked).wrapping_add(1)),
            Ordering::Release,
        );
        Some(now.since(&baseline))
    }

    /// Ends the flow: returns its final statistics (since its last clear) and leaves the slot free
    /// under the next generation, or returns `None` if `generation` no longer owns the slot.
    pub(crate) fn retire(
        &self,
        generation: u32,
        sum: impl FnOnce() -> Counters,
    ) -> Option<FlowStats> {
        self.lock(generation)?;
        let baseline = self.load_baseline();
        let now = sum();
        self.state
            .store(free_word(generation.wrapping_add(1)), Ordering::Release);
        Some(now.since(&baseline))
    }

    /// Moves the sequence from even to odd for `generation`, waiting out another clear. Returns the
    /// odd word, or `None` if `generation` no longer owns the slot.
    fn lock(&self, generation: u32) -> Option<u64> {
        loop {
            let word = self.state.load(Ordering::Acquire);
            if !is_live(word, generation) {
                return None;
            }
            if is_busy(word) {
                spin_wait();
                continue;
            }
            let locked = pack(generation, sequence_of(word).wrapping_add(1));
            // Acquire: see the previous holder's baseline, and read buckets no older than it did.
            if self
                .state
                .compare_exchange(word, locked, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                // Release fence: a reader that sees any baseline store made after this point also
                // sees `locked` (or later) when it re-checks the word, and retries.
                fence(Ordering::Release);
                return Some(locked);
            }
        }
    }

    /// The current baseline (`used_ms` is not part of it and reads as 0).
    fn load_baseline(&self) -> Counters {
        let mut baseline = Counters {
            n_updates: self.base_updates.load(Ordering::Relaxed),
            n_packets: self.base_packets.load(Ordering::Relaxed),
            n_bytes: self.base_bytes.load(Ordering::Relaxed),
            ..Counters::default()
        };
        for (dst, src) in baseline.flag_counts.iter_mut().zip(&self.base_flag_counts) {
            *dst = src.load(Ordering::Relaxed);
        }
        baseline
    }

    /// Replaces the baseline `old` with `new`, storing only the fields that change (fewer stores
    /// for readers to race with; a field left alone reads the same either way).
    fn store_baseline(&self, new: &Counters, old: &Counters) {
        let cells = [
            (&self.base_updates, new.n_updates, old.n_updates),
            (&self.base_packets, new.n_packets, old.n_packets),
            (&self.base_bytes, new.n_bytes, old.n_bytes),
        ];
        for (cell, new, old) in cells {
            if new != old {
                cell.store(new, Ordering::Relaxed);
            }
        }
        for ((cell, new), old) in self
            .base_flag_counts
            .iter()
            .zip(new.flag_counts)
            .zip(old.flag_counts)
        {
            if new != old {
                cell.store(new, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn totals(n_updates: u64, n_packets: u64) -> Counters {
        Counters {
            n_updates,
            n_packets,
            n_bytes: 10 * n_packets,
            used_ms: n_updates,
            ..Counters::default()
        }
    }

    #[test]
    fn lifecycle() {
        let slot = FlowSlot::default();
        assert_eq!(slot.read(0, || totals(0, 0)), None, "a fresh slot is free");
        assert_eq!(slot.clear(0, || totals(0, 0)), None);
        assert_eq!(slot.retire(0, || totals(0, 0)), None);
        let generation = slot.activate(|| totals(2, 5));
        assert_eq!(generation, 0);
        assert!(slot.is_current(0));
        assert_eq!(
            slot.read(0, || totals(2, 5)),
            Some(FlowStats::default()),
            "stale updates are not counted"
        );
        let stats = slot.read(0, || totals(3, 8)).expect("live");
        assert_eq!((stats.n_packets, stats.n_bytes, stats.used_ms), (3, 30, 3));
        let cleared = slot.clear(0, || totals(4, 9)).expect("live");
        assert_eq!(cleared.n_packets, 4);
        assert_eq!(slot.read(0, || totals(4, 9)), Some(FlowStats::default()));
        let last = slot.retire(0, || totals(6, 12)).expect("live");
        assert_eq!(last.n_packets, 3);
        assert!(!slot.is_current(0));
        assert_eq!(slot.read(0, || totals(6, 12)), None);
        assert_eq!(slot.clear(0, || totals(6, 12)), None);
        assert_eq!(
            slot.retire(0, || totals(6, 12)),
            None,
            "double free is refused"
        );
        assert_eq!(slot.activate(|| totals(7, 13)), 1);
        assert_eq!(slot.read(1, || totals(7, 13)), Some(FlowStats::default()));
    }

    #[test]
    fn a_zeroed_slot_is_a_free_default_slot() {
        use zerocopy::FromZeros;
        let zeroed = FlowSlot::new_zeroed();
        assert_eq!(
            zeroed.state.load(Ordering::Relaxed),
            FlowSlot::default().state.load(Ordering::Relaxed)
        );
        assert_eq!(zeroed.read(0, || totals(0, 0)), None, "free");
        assert_eq!(zeroed.activate(|| totals(0, 0)), 0);
        assert!(zeroed.is_current(0));
    }

    #[test]
    fn sequence_wraps_without_touching_the_generation() {
        let slot = FlowSlot::default();
        slot.state
            .store(pack(5, SEQUENCE_MASK - 1), Ordering::Relaxed);
        assert!(slot.clear(5, Counters::default).is_some());
        assert_eq!(slot.state.load(Ordering::Relaxed), pack(5, 0));
        assert!(slot.read(5, Counters::default).is_some());
    }
}
