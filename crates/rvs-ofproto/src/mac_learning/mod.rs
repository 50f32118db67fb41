//! MAC learning for the NORMAL action, after Open vSwitch 3.1's `lib/mac-learning.c` and the
//! `fdb/*` commands of `ofproto-dpif.c`.
//!
//! * [`MacTable`]: (MAC, VLAN) → port, generic over the port type `P` (OVS keys by bundle).
//!   Dynamic entries age out after the idle time (default 300 s; refreshed at most once a
//!   second, when a packet arrives and the entry's age is not 0). The table has a size limit
//!   (default 8192, OVS 3.1's `MAC_DEFAULT_MAX`); inserting into a full table evicts the least
//!   recently used entry **of the port with the most entries**, so one port flooding the table
//!   with source addresses cannot push out the others' (OVS's fairness rule). Lowering the limit
//!   makes the next [`MacTable::run`] expire the globally least recently used dynamic entries.
//!   An address seen on another port moves (counted in `moved`); gratuitous ARPs lock their
//!   entry for 5 s against reflections through bonds. Static entries (`fdb/add`) never age and
//!   never move by learning; `fdb/flush` keeps them, flushing a port removes them too.
//! * [`MacLearning`]: the same behind a `parking_lot::RwLock`, with a lock-free generation
//!   counter (see [`shared`] for the locking rules).
//! * Revalidation: every change that can alter a lookup answer (new entry, move, expiry,
//!   eviction, flush, static add/delete, flood-VLAN change) sets the table's "needs
//!   revalidation" flag, which [`MacTable::run`] hands over and clears (OVS sets
//!   `REV_MAC_LEARNING` from it), bumps the generation, and records the key's [`MacTags`] bit so
//!   an upcall engine can skip cached flows whose lookups are unaffected. Refreshing an entry's
//!   age changes none of them.
//! * [`fdb_text`]: `fdb/show`, `fdb/stats-show` and `fdb/add` text, byte for byte.
//! * [`packet`]: [`is_gratuitous_arp`], the packet fact learning needs, with its wildcard bits.
//!
//! OVS logs nothing when an address moves (only the `mac_learning_moved` coverage counter and
//! `fdb/stats-show`'s moved count); translation traces "learned that MAC is on port P in VLAN
//! V" whenever [`LearnOutcome::changed`] holds.
//!
//! # Invariants
//! * No clock: every time-dependent call takes the caller's `now_ms` (monotonic milliseconds);
//!   seconds are `now_ms / 1000` as in OVS.
//! * Insertions never grow the table past its limit (after the limit is lowered, the excess
//!   waits for [`MacTable::run`]); see [`table`] for the structural invariants
//!   ([`MacTable::check_invariants`] checks them).

mod entry;
pub mod fdb_text;
pub mod packet;
pub mod shared;
pub mod table;
pub mod tags;

#[cfg(test)]
mod tests;

pub use entry::{
    EntryAge, FdbRow, FdbStats, LearnContext, LearnOutcome, MacAddr, MacEntryInfo, MacKey,
    MacLearningCounters, ReplacedEntry, is_multicast,
};
pub use fdb_text::{
    fdb_vlan_arg, format_fdb_add_reply, format_fdb_show, format_fdb_stats, ofp_port_label,
};
pub use packet::is_gratuitous_arp;
pub use shared::MacLearning;
pub use table::{DEFAULT_IDLE_TIME_S, DEFAULT_MAX_ENTRIES, GRAT_ARP_LOCK_TIME_S, MacTable};
pub use tags::{MacTags, Revalidation};
