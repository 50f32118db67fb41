//! Keys, entries and the outcome types of the MAC learning table.
//!
//! # Invariants
//! * Times are whole seconds derived from the caller's millisecond clock as `now_ms / 1000`,
//!   which is how Open vSwitch's `time_now()` derives them from `time_msec()`; an entry's age is
//!   `now_s - learned_s`, so an entry learned at 1.999 s is 1 s old at 2.000 s, exactly as in OVS.
//! * A static entry has no learning time and never ages.

/// An Ethernet address, wire order.
pub type MacAddr = [u8; 6];

/// Whether `mac` is a multicast (or broadcast) address: the group bit of the first octet.
pub fn is_multicast(mac: &MacAddr) -> bool {
    mac[0] & 1 != 0
}

/// A table key: MAC address and VLAN (the VLAN inside the bridge, 0..=4095).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacKey {
    /// The address.
    pub mac: MacAddr,
    /// The VLAN.
    pub vlan: u16,
}

impl MacKey {
    /// A key.
    pub fn new(mac: MacAddr, vlan: u16) -> MacKey {
        MacKey { mac, vlan }
    }
}

/// The age of an entry as `fdb/show` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryAge {
    /// Seconds since the entry was last learned or refreshed.
    Dynamic(u64),
    /// A static entry (`fdb/add`): never ages, never moves by learning.
    Static,
}

/// What a lookup tells about one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacEntryInfo<P> {
    /// The port the address was learned on.
    pub port: P,
    /// Its age.
    pub age: EntryAge,
    /// When it was last learned or refreshed (the caller's clock, ms); `None` for static entries.
    pub learned_ms: Option<u64>,
    /// Whether a gratuitous-ARP lock is in effect (learning from gratuitous ARPs that arrive on a
    /// bond is refused until it runs out).
    pub grat_arp_locked: bool,
}

/// Facts about the packet being learned from that the table needs (beyond MAC, VLAN, port).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LearnContext {
    /// The packet is a gratuitous ARP (ARP reply to broadcast, or ARP request to broadcast
    /// whose sender and target IP are equal); see OVS's `is_gratuitous_arp`.
    pub gratuitous_arp: bool,
    /// The input port is a bond.
    pub from_bond: bool,
}

/// What learning from one packet did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LearnOutcome<P> {
    /// Nothing: the source is multicast, or learning is disabled on the VLAN.
    NotLearnable,
    /// Nothing: a static entry exists for the address (even if it names another port; OVS counts
    /// that case in the `mac_learning_static_none_move` coverage counter).
    StaticEntry,
    /// Nothing: the entry already names this port and was learned less than a second ago.
    Unchanged,
    /// A gratuitous ARP arrived on a bond while the entry's gratuitous-ARP lock holds: the port
    /// was kept (the entry's age may have been reset, as in OVS).
    GratArpLocked,
    /// The entry's age was reset; the port did not change.
    Refreshed,
    /// A new entry was created.
    Learned,
    /// The address moved from port `from` to the packet's port.
    Moved {
        /// The previous port.
        from: P,
    },
}

impl<P> LearnOutcome<P> {
    /// Whether the table now answers differently for this key (new entry or move): what OVS
    /// reports as "learned that MAC is on port P in VLAN V" and flags for revalidation.
    pub fn changed(&self) -> bool {
        matches!(self, LearnOutcome::Learned | LearnOutcome::Moved { .. })
    }
}

/// The previous entry that adding a static entry replaced, as `fdb/add` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplacedEntry<P> {
    /// The port the entry named.
    pub port: P,
    /// Whether it was static.
    pub was_static: bool,
}

/// Learning statistics (`fdb/stats-show`); cleared by `fdb/stats-clear`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MacLearningCounters {
    /// Dynamic entries created.
    pub learned: u64,
    /// Dynamic entries removed by aging or by a lowered size limit.
    pub expired: u64,
    /// Entries removed to make room for a new one.
    pub evicted: u64,
    /// Entries that moved to another port.
    pub moved: u64,
}

/// Everything `fdb/stats-show` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FdbStats {
    /// Entries in the table now.
    pub entries: usize,
    /// The size limit.
    pub max_entries: usize,
    /// Static entries in the table now.
    pub static_entries: usize,
    /// The counters.
    pub counters: MacLearningCounters,
}

/// One `fdb/show` line before formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdbRow<P> {
    /// The port.
    pub port: P,
    /// The VLAN.
    pub vlan: u16,
    /// The address.
    pub mac: MacAddr,
    /// The age.
    pub age: EntryAge,
}
