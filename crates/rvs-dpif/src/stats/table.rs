//! [`FlowStatsTable`]: per-thread flow statistics with exact clears (see the `stats` module
//! documentation for the design).
//!
//! Invariants:
//! * `bucket_sets[0..n_bucket_sets]` are the bucket sets ever created; each has rows for every index
//!   below `Registry::id_capacity`. Both the rows of a new set and the rows added by growth are
//!   created under the registry mutex *before* the set is published (`n_bucket_sets`, Release) or an
//!   id beyond the old capacity is handed out, so readers and writers always find the bucket of a
//!   live id and never need to create one.
//! * A set is either owned by exactly one [`StatsWriter`] or listed as free in the registry; its
//!   buckets keep their totals when it changes hands, so an exited thread's counts stay visible.
//! * `slots[i]` exists for every `i < id_capacity`; ids are only handed out by [`FlowStatsTable::allocate`].
//! * Nothing here locks on the packet path: the mutex is taken by `allocate`, `free` (to return the
//!   index), `register_writer` and writer drop.

use std::sync::Arc;

use super::bucket::StatsBucket;
use super::flow_slot::FlowSlot;
use super::flow_stats::{Counters, FlowStats};
use super::index_pool::IndexPool;
use super::segmented::SegmentedArray;
use super::sync::{AtomicUsize, Mutex, Ordering};
use super::writer::StatsWriter;

/// log2 of the first row length of per-id arrays (64 ids; 2 under loom, so models exercise growth).
const ID_ROW_BITS: u32 = if cfg!(loom) { 1 } else { 6 };
/// log2 of the first row length of the bucket-set array (4 threads; 2 under loom).
const SET_ROW_BITS: u32 = if cfg!(loom) { 1 } else { 2 };

/// One thread's buckets, indexed by stats id.
pub(crate) type BucketSet = SegmentedArray<StatsBucket, ID_ROW_BITS>;

/// Identifies one flow's statistics in a [`FlowStatsTable`]: a small index (reused after
/// [`FlowStatsTable::free`]) plus the generation that tells this flow from later users of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatsId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl StatsId {
    /// The index part: small, dense, reused after a free.
    pub fn index(self) -> u32 {
        self.index
    }
}

/// Per-flow statistics written lock-free by each forwarding thread into its own buckets and summed
/// by readers; clears are exact (see the `stats` module documentation).
///
/// Cheap to share: wrap it in an `Arc` or clone the handle (clones see the same table).
#[derive(Clone, Debug, Default)]
pub struct FlowStatsTable {
    shared: Arc<TableShared>,
}

/// The state shared by the table handles and every writer.
#[derive(Debug, Default)]
pub(crate) struct TableShared {
    /// Per-id state: generation, clear sequence, baseline.
    slots: SegmentedArray<FlowSlot, ID_ROW_BITS>,
    /// Every bucket set ever created, in creation order.
    bucket_sets: SegmentedArray<Arc<BucketSet>, SET_ROW_BITS>,
    /// Number of bucket sets published to readers.
    n_bucket_sets: AtomicUsize,
    /// Everything that changes shape: id and set allocation, growth.
    registry: Mutex<Registry>,
}

/// What the table mutex protects.
#[derive(Debug, Default)]
struct Registry {
    /// Stats id indices.
    ids: IndexPool,
    /// Number of indices that `slots` and every bucket set have rows for.
    id_capacity: u64,
    /// Bucket set indices (a set is "taken" while a writer owns it).
    sets: IndexPool,
}

impl FlowStatsTable {
    /// An empty table: no ids, no writers, no memory beyond the handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allocates the statistics of a new flow, all zero, under the smallest free index. Returns
    /// `None` only if 2³² ids are in use.
    ///
    /// When the index is beyond the current capacity, this grows every bucket set by one row
    /// (doubling the capacity) before returning; writers and readers are not blocked meanwhile,
    /// only other `allocate`/`free`/`register_writer` calls.
    pub fn allocate(&self) -> Option<StatsId> {
        let shared = &*self.shared;
        let mut registry = shared.registry.lock();
        let index = registry.ids.take()?;
        if u64::from(index) >= registry.id_capacity {
            shared.grow(&mut registry, u64::from(index) + 1);
        }
        let Some(slot) = shared.slots.get(index) else {
            // Unreachable: `grow` covered `index`. Give the index back rather than leak it.
            registry.ids.give_back(index);
            return None;
        };
        let generation = slot.activate(|| shared.sum(index));
        Some(StatsId { index, generation })
    }

    /// Registers a forwarding thread: returns the handle through which it updates statistics,
    /// reusing the bucket set of a writer that was dropped if there is one (its counts stay where
    /// they are and keep being summed). Returns `None` only if 2³² writers are registered.
    pub fn register_writer(&self) -> Option<StatsWriter> {
        let shared = &*self.shared;
        let mut registry = shared.registry.lock();
        let set_index = registry.sets.take()?;
        let published = shared.n_bucket_sets.load(Ordering::Relaxed);
        if set_index as usize >= published {
            shared
                .bucket_sets
                .ensure_covers(u64::from(set_index) + 1, || Arc::new(BucketSet::default()));
            let Some(set) = shared.bucket_sets.get(set_index) else {
                registry.sets.give_back(set_index);
                return None;
            };
            cover(set, registry.id_capacity);
            shared
                .n_bucket_sets
                .store(set_index as usize + 1, Ordering::Release);
        }
        let set = Arc::clone(shared.bucket_sets.get(set_index)?);
        drop(registry);
        Some(StatsWriter::new(Arc::clone(&self.shared), set_index, set))
    }

    /// The statistics of `id` since it was allocated or last cleared: packets and bytes summed over
    /// all threads, `used_ms` the latest use (0 if none since the clear), TCP flags OR-ed. `None` if
    /// `id` has been freed.
    ///
    /// Never blocks writers; waits only while a clear of the same id is in progress.
    pub fn read(&self, id: StatsId) -> Option<FlowStats> {
        let shared = &*self.shared;
        shared
            .slots
            .get(id.index)?
            .read(id.generation, || shared.sum(id.index))
    }

    /// Zeroes the statistics of `id` and returns exactly what was zeroed. Any thread may call it.
    ///
    /// Every update is counted either in the returned value or in later reads, never both, never
    /// neither; a read that starts after `clear` returns sees no update counted by it, and an update
    /// that starts after `clear` returns is always counted. `None` if `id` has been freed.
    pub fn clear(&self, id: StatsId) -> Option<FlowStats> {
        let shared = &*self.shared;
        shared
            .slots
            .get(id.index)?
            .clear(id.generation, || shared.sum(id.index))
    }

    /// Frees `id` and returns its final statistics (since the last clear); its index becomes
    /// available to [`FlowStatsTable::allocate`]. `None` (and no effect) if `id` was already freed.
    ///
    /// After `free`, writers' updates to `id` are dropped (`add` returns `false`). An update that
    /// races with `free` itself may be lost, or, if the index is reallocated at once, be counted for
    /// the next flow: free a flow's stats only once no forwarding thread can still reach the flow (as
    /// the datapath frees flows after an RCU grace period).
    pub fn free(&self, id: StatsId) -> Option<FlowStats> {
        let shared = &*self.shared;
        let last = shared
            .slots
            .get(id.index)?
            .retire(id.generation, || shared.sum(id.index))?;
        shared.registry.lock().ids.give_back(id.index);
        Some(last)
    }

    /// Number of ids the table has memory for without growing.
    pub fn capacity(&self) -> u64 {
        self.shared.registry.lock().id_capacity
    }

    /// Number of bucket sets created so far: the largest number of writers registered at once.
    pub fn bucket_sets(&self) -> usize {
        self.shared.n_bucket_sets.load(Ordering::Acquire)
    }
}

/// Makes `array` cover `len` indices with default elements: from zeroed rows (resident only once
/// touched), or, under loom, whose atomics have no zeroed form, element by element.
#[cfg(not(loom))]
fn cover<T: zerocopy::FromZeros, const BITS: u32>(
    array: &SegmentedArray<T, BITS>,
    len: u64,
) -> u64 {
    array.ensure_covers_zeroed(len)
}

/// Makes `array` cover `len` indices with default elements (loom build: element by element).
#[cfg(loom)]
fn cover<T: Default, const BITS: u32>(array: &SegmentedArray<T, BITS>, len: u64) -> u64 {
    array.ensure_covers(len, T::default)
}

impl TableShared {
    /// The state of id index `index`.
    #[inline]
    pub(crate) fn slot(&self, index: u32) -> Option<&FlowSlot> {
        self.slots.get(index)
    }

    /// Gives a dropped writer's bucket set back for reuse.
    pub(crate) fn release_set(&self, set_index: u32) {
        self.registry.lock().sets.give_back(set_index);
    }

    /// Makes `slots` and every bucket set cover at least `len` indices.
    fn grow(&self, registry: &mut Registry, len: u64) {
        let capacity = cover(&self.slots, len);
        let published = self.n_bucket_sets.load(Ordering::Relaxed);
        for set_index in 0..published {
            if let Some(set) = u32::try_from(set_index)
                .ok()
                .and_then(|i| self.bucket_sets.get(i))
            {
                cover(set, capacity);
            }
        }
        registry.id_capacity = capacity;
    }

    /// The totals of index `index` summed over every bucket set.
    fn sum(&self, index: u32) -> Counters {
        let mut total = Counters::default();
        let published = self.n_bucket_sets.load(Ordering::Acquire);
        for set_index in 0..published {
            let bucket = u32::try_from(set_index)
                .ok()
                .and_then(|i| self.bucket_sets.get(i))
                .and_then(|set| set.get(index));
            if let Some(bucket) = bucket {
                total.accumulate(&bucket.snapshot());
            }
        }
        total
    }
}
