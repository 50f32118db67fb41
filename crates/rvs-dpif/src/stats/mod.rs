//! Per-thread flow statistics of the userspace datapath (after OVS's "thread local statistics"
//! proposal): each forwarding thread adds to its own copy of a flow's counters without locks or
//! shared writes, and readers sum the copies.
//!
//! # Shape
//! * A [`FlowStatsTable`] hands out a [`StatsId`] per flow ([`FlowStatsTable::allocate`]; the
//!   smallest free index, reused after [`FlowStatsTable::free`], tagged with a generation so that a
//!   stale id is recognized).
//! * Each forwarding thread registers once and gets a [`StatsWriter`], which owns a *bucket set*:
//!   one cache-padded bucket per id. [`StatsWriter::add`] updates the thread's own bucket under a
//!   per-bucket sequence counter (`bucket.rs`): plain loads and stores, no atomic read-modify-write,
//!   no lock, no store to a line another thread stores to.
//! * [`FlowStatsTable::read`] sums the id's bucket over all sets, each copied consistently by the
//!   sequence-lock retry. Packets and bytes add up, `used_ms` is the maximum, TCP flags are OR-ed.
//! * When a writer is dropped (its thread exits), its set goes back to the table with its counts
//!   in place, still summed by readers, and the next registered writer continues in it.
//!
//! # Exact clears
//! A bucket holds running totals that only grow, including one count per TCP flag bit (so that
//! OR-ed flags can be "subtracted"). [`FlowStatsTable::clear`] does not touch the buckets: it takes
//! a per-id sequence word (`flow_slot.rs`), sums the buckets, stores that sum as the id's
//! *baseline*, and returns sum − old baseline; reads return sum − baseline. Hence:
//! * every update is counted exactly once, either in what some `clear` returned or in later reads
//!   (the sum of the cleared amounts plus a final read is the total ever added);
//! * a read that starts after a clear returns never includes an update the clear counted, and an
//!   update that starts after the clear returns is always included;
//! * readers never see half a clear: they retry if the word changed while they read, and wait while
//!   it is odd (a clear in progress). Writers never wait for a clear and never look at it.
//!
//! This differs from the seed, where a clear sets a flag in every thread's bucket and the owning
//! thread zeroes its data on its next update. That needs the clearer to write into every writer's
//! cache line, lets readers see a clear applied to some threads and not others, and cannot tell
//! what it cleared (an update in flight may land before or after the flag); the baseline costs a
//! little more memory per bucket (12 flag counts instead of one OR-ed word) and per id.
//!
//! # Growth
//! Per-id arrays are segmented (`segmented.rs`): row `r` holds `64·2^r` entries,
//! rows are never moved or freed, and a new row is appended (to the per-id state and to every
//! bucket set) by `allocate` under the table mutex *before* it returns an id that needs the row.
//! This is the seed's row-table expansion without the pointer swap: writers and readers never wait
//! for growth and no count can be lost, because the memory they use never changes. Rows of
//! buckets and of per-id state are zeroed allocations (all zeros is their initial value), so the
//! part of the last row that no id uses yet is not resident. A writer never
//! has to create a row itself (the seed's "expand on demand" race fix) because a set registered
//! concurrently with growth is created, under the same mutex, with all rows up to the capacity.
//!
//! # Invariants
//! * Each bucket has exactly one writer at a time; everything else only reads it.
//! * Bucket totals only grow; baselines are values those sums actually had.
//! * Nothing on the [`StatsWriter::add`] path blocks or allocates.
//! * A flow's final statistics are read only after a grace period ([`GracePeriods`], `grace.rs`):
//!   every forwarding context has passed a quiescent point or gone offline since the flow became
//!   unreachable, so no update to it can still be in flight.
//! * No `unsafe`; every payload is an atomic. The sequence locks are checked with `loom`
//!   (`RUSTFLAGS="--cfg loom" cargo test -p rvs-dpif --release --lib stats::`), which swaps in its
//!   atomics through `sync.rs`.

mod bucket;
mod flow_slot;
mod flow_stats;
mod grace;
mod index_pool;
mod segmented;
mod sync;
mod table;
mod writer;

#[cfg(all(test, loom))]
mod grace_loom;
#[cfg(all(test, loom))]
mod loom_models;
#[cfg(all(test, not(loom)))]
mod tests;

pub use flow_stats::{FlowStats, TCP_FLAG_BITS, TCP_FLAGS_MASK};
pub(crate) use grace::GraceWait;
pub use grace::{GracePeriods, QuiescentReader};
pub use table::{FlowStatsTable, StatsId};
pub use writer::StatsWriter;
