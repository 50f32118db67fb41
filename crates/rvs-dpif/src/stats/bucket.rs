//! [`StatsBucket`]: one thread's running totals for one flow, published through a sequence lock.
//!
//! Invariants:
//! * Exactly one thread writes a bucket at a time (the owner of the [`StatsWriter`] whose bucket set
//!   holds it; a later owner of the set is ordered after the previous one by the table mutex). Any
//!   number of threads read it.
//! * `seq` is even when no update is in progress and odd while one is; it grows by 2 per update, so
//!   `seq / 2` is the number of updates ever applied.
//! * Every payload field is an atomic, written with `Relaxed` stores between the odd and the even
//!   `seq` store. There is no `UnsafeCell` and no data race, only a retry when a reader overlaps an
//!   update: a reader returns a set of values iff `seq` was the same even number before and after
//!   it loaded them, and then those values are exactly the totals after update `seq / 2`.
//! * Ordering (Boehm, "Can seqlocks get along with programming language memory models?", 2012):
//!   writer = `seq := odd` (Relaxed), `fence(Release)`, payload stores, `seq := even` (Release);
//!   reader = `seq` (Acquire), payload loads, `fence(Acquire)`, `seq` (Relaxed). If the reader sees
//!   any store of an update, the fence pair makes it see that update's odd `seq` (or later) on the
//!   second load, so it retries; if its first load saw the even `seq` ending an update, it sees all
//!   of that update's stores.
//! * Buckets are not cache-padded (80 bytes, not 128: this is per flow and per forwarding thread).
//!   The buckets of different threads live in different bucket sets (separate allocations), so
//!   a line is shared only by buckets of the same writer; a reader may pull a neighbour's line
//!   from that writer, which costs the writer one line transfer, never a wrong value.
//!
//! [`StatsWriter`]: super::StatsWriter

use super::flow_stats::{Counters, TCP_FLAG_BITS, TCP_FLAGS_MASK};
use super::sync::{AtomicU32, AtomicU64, Ordering, fence, spin_wait};

/// One thread's running totals for one flow (see the module documentation). All-zero bytes are
/// the default (no update yet).
#[derive(Debug, Default)]
#[cfg_attr(not(loom), derive(zerocopy::FromZeros))]
pub(crate) struct StatsBucket {
    cells: BucketCells,
}

/// The atomics of a bucket.
#[derive(Debug, Default)]
#[cfg_attr(not(loom), derive(zerocopy::FromZeros))]
struct BucketCells {
    /// Sequence counter: odd while an update is in progress.
    seq: AtomicU64,
    /// Total packets.
    n_packets: AtomicU64,
    /// Total bytes.
    n_bytes: AtomicU64,
    /// Largest use time seen, in ms (0 = never).
    used_ms: AtomicU64,
    /// Per TCP flag bit, the number of updates that carried it.
    flag_counts: [AtomicU32; TCP_FLAG_BITS],
}

impl StatsBucket {
    /// Adds one update to the totals. Must only be called by the bucket's single writer.
    ///
    /// Lock-free and free of read-modify-write instructions: only plain loads and stores of memory
    /// that no other thread writes.
    #[inline]
    pub(crate) fn record(&self, n_packets: u64, n_bytes: u64, used_ms: u64, tcp_flags: u16) {
        let c = &self.cells;
        // Only this thread stores to `seq`, so a relaxed load returns its own last store.
        let seq = c.seq.load(Ordering::Relaxed);
        c.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);

        bump(&c.n_packets, n_packets);
        bump(&c.n_bytes, n_bytes);
        if used_ms > c.used_ms.load(Ordering::Relaxed) {
            c.used_ms.store(used_ms, Ordering::Relaxed);
        }
        let mut bits = tcp_flags & TCP_FLAGS_MASK;
        while bits != 0 {
            let count = &c.flag_counts[bits.trailing_zeros() as usize];
            count.store(
                count.load(Ordering::Relaxed).wrapping_add(1),
                Ordering::Relaxed,
            );
            bits &= bits - 1;
        }

        c.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// A consistent copy of the totals, retrying while the writer is in the middle of an update.
    ///
    /// Waits only as long as one `record` call takes (unless the writer is preempted inside it).
    pub(crate) fn snapshot(&self) -> Counters {
        let c = &self.cells;
        loop {
            let before = c.seq.load(Ordering::Acquire);
            if before == 0 {
                // Never updated (the sequence only grows): every total is zero.
                return Counters::default();
            }
            if before & 1 == 1 {
                spin_wait();
                continue;
            }
            let mut copy = Counters {
                n_updates: before / 2,
                n_packets: c.n_packets.load(Ordering::Relaxed),
                n_bytes: c.n_bytes.load(Ordering::Relaxed),
                used_ms: c.used_ms.load(Ordering::Relaxed),
                flag_counts: [0; TCP_FLAG_BITS],
            };
            for (dst, src) in copy.flag_counts.iter_mut().zip(&c.flag_counts) {
                *dst = src.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if c.seq.load(Ordering::Relaxed) == before {
                return copy;
            }
            spin_wait();
        }
    }
}

/// `cell += delta` for a cell that only the calling thread writes.
#[inline]
fn bump(cell: &AtomicU64, delta: u64) {
    cell.store(
        cell.load(Ordering::Relaxed).wrapping_add(delta),
        Ordering::Relaxed,
    );
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fresh_bucket_is_empty() {
        assert_eq!(StatsBucket::default().snapshot(), Counters::default());
    }

    #[test]
    fn record_accumulates() {
        let bucket = StatsBucket::default();
        bucket.record(3, 180, 10, 0x012);
        bucket.record(1, 60, 5, 0x010 | 0x8000);
        let c = bucket.snapshot();
        assert_eq!(
            (c.n_updates, c.n_packets, c.n_bytes, c.used_ms),
            (2, 4, 240, 10)
        );
        let mut flags = [0; TCP_FLAG_BITS];
        flags[1] = 1;
        flags[4] = 2;
        assert_eq!(c.flag_counts, flags, "bit 15 is outside the tracked mask");
    }

    #[test]
    fn bucket_is_unpadded() {
        // Per flow and per forwarding thread: no padding beyond the counters themselves.
        assert_eq!(size_of::<StatsBucket>(), size_of::<BucketCells>());
        assert_eq!(size_of::<StatsBucket>(), 32 + 4 * TCP_FLAG_BITS);
    }
}
