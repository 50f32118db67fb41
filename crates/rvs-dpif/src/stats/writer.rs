//! [`StatsWriter`]: a forwarding thread's handle for updating flow statistics.
//!
//! Invariants:
//! * A writer owns its bucket set exclusively from [`FlowStatsTable::register_writer`] until it is
//!   dropped; `add` takes `&mut self`, so one writer never runs two updates at once. Together this
//!   makes each bucket single-writer, which the sequence lock in `bucket.rs` requires.
//! * `add` writes only memory of its own bucket set: no lock, no read-modify-write, no store to a
//!   line that another writer stores to. It reads one shared word per call (the id's generation).
//! * Dropping a writer returns its set to the table under the table mutex; that release/acquire is
//!   what orders the next owner's updates after this one's.
//!
//! [`FlowStatsTable::register_writer`]: super::FlowStatsTable::register_writer

use std::sync::Arc;

use super::table::{BucketSet, StatsId, TableShared};

/// A forwarding thread's handle for adding to flow statistics (see the module documentation).
///
/// Keep one per thread for the thread's lifetime; drop it when the thread exits.
#[derive(Debug)]
pub struct StatsWriter {
    /// The table this writer belongs to.
    shared: Arc<TableShared>,
    /// Index of `set` in the table, returned on drop.
    set_index: u32,
    /// This writer's buckets.
    set: Arc<BucketSet>,
}

impl StatsWriter {
    /// Wraps a bucket set that the table just handed to a new writer.
    pub(crate) fn new(shared: Arc<TableShared>, set_index: u32, set: Arc<BucketSet>) -> Self {
        Self {
            shared,
            set_index,
            set,
        }
    }

    /// Adds one batch of packets to the statistics of `id`: `n_packets` packets of `n_bytes` bytes
    /// in total, processed at time `used_ms` (the datapath clock, in ms), with the TCP flags OR-ed
    /// over the batch in `tcp_flags` (bits outside [`TCP_FLAGS_MASK`] are ignored).
    ///
    /// Lock-free and wait-free. Returns `false`, counting nothing, if `id` has been freed.
    ///
    /// [`TCP_FLAGS_MASK`]: super::TCP_FLAGS_MASK
    #[inline]
    pub fn add(
        &mut self,
        id: StatsId,
        n_packets: u64,
        n_bytes: u64,
        used_ms: u64,
        tcp_flags: u16,
    ) -> bool {
        let live = self
            .shared
            .slot(id.index)
            .is_some_and(|slot| slot.is_current(id.generation));
        match self.set.get(id.index) {
            Some(bucket) if live => {
                bucket.record(n_packets, n_bytes, used_ms, tcp_flags);
                true
            }
            _ => false,
        }
    }

    /// Index of this writer's bucket set (stable while the writer lives; reused after it is dropped).
    pub fn set_index(&self) -> u32 {
        self.set_index
    }
}

impl Drop for StatsWriter {
    fn drop(&mut self) {
        self.shared.release_set(self.set_index);
    }
}
