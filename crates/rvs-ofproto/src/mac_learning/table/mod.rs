//! The MAC learning table itself, single-threaded (`&mut self` for every change); see
//! [`super::MacLearning`] for the shared, locked form.
//!
//! # Invariants
//! * `entries` holds every entry; `dynamic_lru` holds exactly the dynamic ones, keyed by their
//!   `stamp`; `ports[p]` holds exactly the entries (static ones too) whose port is `p`, keyed by
//!   stamp, and no port has an empty map. Stamps are unique and grow with every learn or refresh,
//!   so both orders are least-recently-used first, like OVS's `lrus` and `port_lrus` lists.
//! * `static_count` is the number of static entries.
//! * Inserting a new key into a table at or over its limit evicts one entry first, so insertions
//!   never grow the table past `max_entries`. Lowering the limit leaves the excess until
//!   [`MacTable::run`] expires it (an insertion meanwhile keeps the size), as in OVS.
//! * Every change that can alter a lookup result sets `pending.needed`, adds the key's tag and
//!   bumps `changes`; refreshing an entry's age does none of that.

use super::entry::{
    EntryAge, LearnContext, LearnOutcome, MacAddr, MacEntryInfo, MacKey, MacLearningCounters,
    ReplacedEntry, is_multicast,
};
use super::tags::{MacTags, Revalidation};
use crate::vlan::VlanSet;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

mod report;

/// Default idle time before a dynamic entry expires, in seconds (`MAC_ENTRY_DEFAULT_IDLE_TIME`,
/// `other_config:mac-aging-time`).
pub const DEFAULT_IDLE_TIME_S: u32 = 300;
/// Default size limit (`MAC_DEFAULT_MAX` in OVS 3.1, `other_config:mac-table-size`; the oracle's
/// `fdb/stats-show` reports `0/8192` on a fresh bridge).
pub const DEFAULT_MAX_ENTRIES: usize = 8192;
/// How long a gratuitous ARP received on a non-bond port locks its entry, in seconds.
pub const GRAT_ARP_LOCK_TIME_S: u64 = 5;

/// Idle time is clamped into this range, as OVS's `normalize_idle_time` does.
const IDLE_TIME_RANGE_S: (u32, u32) = (15, 3600);
/// The size limit is clamped into this range, as OVS's `mac_learning_set_max_entries` does.
const MAX_ENTRIES_RANGE: (usize, usize) = (10, 1_000_000);

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Clone, Debug)]
struct Entry<P> {
    port: P,
    /// `None` for static entries.
    learned_ms: Option<u64>,
    stamp: u64,
    /// Gratuitous-ARP lock: in effect while `now_s < until`.
    grat_arp_lock_until_s: Option<u64>,
}

impl<P> Entry<P> {
    fn is_static(&self) -> bool {
        self.learned_ms.is_none()
    }

    fn age(&self, now_s: u64) -> EntryAge {
        match self.learned_ms {
            Some(ms) => EntryAge::Dynamic(now_s.saturating_sub(ms / 1000)),
            None => EntryAge::Static,
        }
    }

    fn grat_arp_locked(&self, now_s: u64) -> bool {
        self.grat_arp_lock_until_s
            .is_some_and(|until| now_s < until)
    }
}

/// A MAC learning table: (MAC, VLAN) → port `P`, with aging, a size limit with per-port fair
/// eviction, static entries and revalidation bookkeeping (Open vSwitch's `lib/mac-learning.c`).
#[derive(Debug)]
pub struct MacTable<P> {
    entries: FastMap<MacKey, Entry<P>>,
    dynamic_lru: BTreeMap<u64, MacKey>,
    ports: FastMap<P, BTreeMap<u64, MacKey>>,
    next_stamp: u64,
    idle_time_s: u32,
    max_entries: usize,
    static_count: usize,
    flood_vlans: Option<VlanSet>,
    counters: MacLearningCounters,
    /// Learning attempts ignored because a static entry names another port (OVS coverage
    /// counter `mac_learning_static_none_move`); atomic because it is bumped under a read lock.
    static_none_moves: AtomicU64,
    pending: Revalidation,
    changes: u64,
}

impl<P: Copy + Eq + Hash> Default for MacTable<P> {
    fn default() -> MacTable<P> {
        MacTable::new()
    }
}

impl<P: Copy + Eq + Hash> MacTable<P> {
    /// An empty table with OVS's defaults (300 s idle time, 8192 entries).
    pub fn new() -> MacTable<P> {
        MacTable {
            entries: FastMap::default(),
            dynamic_lru: BTreeMap::new(),
            ports: FastMap::default(),
            next_stamp: 0,
            idle_time_s: DEFAULT_IDLE_TIME_S,
            max_entries: DEFAULT_MAX_ENTRIES,
            static_count: 0,
            flood_vlans: None,
            counters: MacLearningCounters::default(),
            static_none_moves: AtomicU64::new(0),
            pending: Revalidation::default(),
            changes: 0,
        }
    }

    // ---- configuration ----

    /// Sets the idle time, clamped to 15..=3600 s. Dynamic entries keep their learning time, so
    /// their age is unchanged and their expiry moves by the difference, as in OVS. (OVS also
    /// shifts static entries' expiry sentinel here, which breaks them; rvs does not.)
    pub fn set_idle_time(&mut self, idle_time_s: u32) {
        self.idle_time_s = idle_time_s.clamp(IDLE_TIME_RANGE_S.0, IDLE_TIME_RANGE_S.1);
    }

    /// The idle time in seconds.
    pub fn idle_time(&self) -> u32 {
        self.idle_time_s
    }

    /// Sets the size limit, clamped to 10..=1000000. Excess entries are expired by the next
    /// [`MacTable::run`].
    pub fn set_max_entries(&mut self, max_entries: usize) {
        self.max_entries = max_entries.clamp(MAX_ENTRIES_RANGE.0, MAX_ENTRIES_RANGE.1);
    }

    /// The size limit.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Sets the VLANs on which learning is disabled (everything floods); `None` or an empty set
    /// disables none. When the set changes, flushes the dynamic entries (as `ofproto-dpif.c`'s
    /// `set_flood_vlans` does) and returns true.
    pub fn set_flood_vlans(&mut self, vlans: Option<VlanSet>) -> bool {
        let vlans = vlans.filter(|v| !v.is_empty());
        if vlans == self.flood_vlans {
            return false;
        }
        self.flood_vlans = vlans;
        self.flush();
        self.mark_changed(MacTags::ALL);
        true
    }

    fn is_learning_vlan(&self, vlan: u16) -> bool {
        self.flood_vlans.as_ref().is_none_or(|v| !v.contains(vlan))
    }

    /// Whether `mac` may be learned on `vlan`: not multicast, and learning is enabled there.
    pub fn may_learn(&self, mac: &MacAddr, vlan: u16) -> bool {
        self.is_learning_vlan(vlan) && !is_multicast(mac)
    }

    // ---- lookups ----

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The port `mac` was learned on in `vlan`; `None` for multicast addresses, VLANs with
    /// learning disabled and unknown addresses (OVS's `mac_learning_lookup`). Not a "use": it does
    /// not change the entry's LRU position.
    pub fn lookup(&self, mac: &MacAddr, vlan: u16) -> Option<P> {
        self.lookup_entry(mac, vlan).map(|e| e.port)
    }

    fn lookup_entry(&self, mac: &MacAddr, vlan: u16) -> Option<&Entry<P>> {
        if is_multicast(mac) || !self.is_learning_vlan(vlan) {
            return None;
        }
        self.entries.get(&MacKey::new(*mac, vlan))
    }

    /// Like [`MacTable::lookup`], with the entry's age and lock state at `now_ms`.
    pub fn entry(&self, mac: &MacAddr, vlan: u16, now_ms: u64) -> Option<MacEntryInfo<P>> {
        let now_s = now_ms / 1000;
        self.lookup_entry(mac, vlan).map(|e| MacEntryInfo {
            port: e.port,
            age: e.age(now_s),
            learned_ms: e.learned_ms,
            grat_arp_locked: e.grat_arp_locked(now_s),
        })
    }

    /// Number of entries (static ones included) on `port`.
    pub fn port_entries(&self, port: &P) -> usize {
        self.ports.get(port).map_or(0, BTreeMap::len)
    }

    // ---- learning ----

    /// The read-only half of learning (OVS's `is_mac_learning_update_needed`): `Err(outcome)` when
    /// learning from this packet would change nothing, `Ok(())` when [`MacTable::learn`] has work.
    /// Needs only shared access, so handlers can skip the write lock in the common case.
    pub fn check_learn(
        &self,
        mac: &MacAddr,
        vlan: u16,
        port: P,
        ctx: LearnContext,
        now_ms: u64,
    ) -> Result<(), LearnOutcome<P>> {
        if !self.may_learn(mac, vlan) {
            return Err(LearnOutcome::NotLearnable);
        }
        let Some(entry) = self.entries.get(&MacKey::new(*mac, vlan)) else {
            return Ok(());
        };
        let now_s = now_ms / 1000;
        match entry.age(now_s) {
            EntryAge::Static => {
                if entry.port != port {
                    self.static_none_moves.fetch_add(1, Ordering::Relaxed);
                }
                Err(LearnOutcome::StaticEntry)
            }
            EntryAge::Dynamic(age) if age > 0 => Ok(()),
            EntryAge::Dynamic(_) => {
                if ctx.gratuitous_arp {
                    if !ctx.from_bond {
                        return Ok(()); // Sets the gratuitous-ARP lock.
                    }
                    if entry.grat_arp_locked(now_s) {
                        return Err(LearnOutcome::GratArpLocked);
                    }
                }
                if entry.port != port {
                    Ok(())
                } else {
                    Err(LearnOutcome::Unchanged)
                }
            }
        }
    }

    /// Learns that `mac` in `vlan` is on `port` (OVS's `mac_learning_update` for a real port):
    /// creates the entry (evicting one first if the table is full), refreshes its age, moves it,
    /// or does nothing, as the [`LearnOutcome`] says.
    pub fn learn(
        &mut self,
        mac: &MacAddr,
        vlan: u16,
        port: P,
        ctx: LearnContext,
        now_ms: u64,
    ) -> LearnOutcome<P> {
        if let Err(outcome) = self.check_learn(mac, vlan, port, ctx, now_ms) {
            return outcome;
        }
        let key = MacKey::new(*mac, vlan);
        let previous = self.insert(key, port, Some(now_ms));
        let now_s = now_ms / 1000;
        let mut locked = false;
        if let Some(entry) = self.entries.get_mut(&key)
            && ctx.gratuitous_arp
        {
            if !ctx.from_bond {
                entry.grat_arp_lock_until_s = Some(now_s + GRAT_ARP_LOCK_TIME_S);
            } else {
                locked = entry.grat_arp_locked(now_s);
            }
        }
        match previous {
            None => {
                self.counters.learned += 1;
                LearnOutcome::Learned
            }
            Some(_) if locked => LearnOutcome::GratArpLocked,
            Some(from) if from != port => {
                self.counters.moved += 1;
                self.set_port(key, port);
                LearnOutcome::Moved { from }
            }
            Some(_) => LearnOutcome::Refreshed,
        }
    }

    /// Inserts `key` or marks it most recently used (OVS's `mac_learning_insert__`). A new entry
    /// gets `port` (and the counters and tags say so); an existing one keeps its port, which is
    /// returned. `learned_ms == None` makes (or converts to) a static entry.
    fn insert(&mut self, key: MacKey, port: P, learned_ms: Option<u64>) -> Option<P> {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let previous = match self.entries.get_mut(&key) {
            Some(entry) => {
                let old_stamp = entry.stamp;
                let was_static = entry.is_static();
                entry.stamp = stamp;
                entry.learned_ms = learned_ms;
                let port = entry.port;
                if !was_static {
                    self.dynamic_lru.remove(&old_stamp);
                }
                if let Some(lru) = self.ports.get_mut(&port) {
                    lru.remove(&old_stamp);
                    lru.insert(stamp, key);
                }
                if was_static && learned_ms.is_some() {
                    self.static_count -= 1;
                }
                if !was_static && learned_ms.is_none() {
                    self.static_count += 1;
                }
                Some(port)
            }
            None => {
                if self.entries.len() >= self.max_entries {
                    self.evict_fairly();
                }
                let entry = Entry {
                    port,
                    learned_ms,
                    stamp,
                    grat_arp_lock_until_s: None,
                };
                self.entries.insert(key, entry);
                self.ports.entry(port).or_default().insert(stamp, key);
                if learned_ms.is_none() {
                    self.static_count += 1;
                }
                self.mark_changed(MacTags::of(&key));
                None
            }
        };
        if learned_ms.is_some() {
            self.dynamic_lru.insert(stamp, key);
        }
        previous
    }

    /// Changes an existing entry's port (OVS's `mac_entry_set_port`).
    fn set_port(&mut self, key: MacKey, port: P) {
        let Some(entry) = self.entries.get_mut(&key) else {
            return;
        };
        if entry.port == port {
            return;
        }
        let (old, stamp) = (entry.port, entry.stamp);
        entry.port = port;
        self.unlink_port(old, stamp);
        self.ports.entry(port).or_default().insert(stamp, key);
        self.mark_changed(MacTags::of(&key));
    }

    fn unlink_port(&mut self, port: P, stamp: u64) {
        if let Some(lru) = self.ports.get_mut(&port) {
            lru.remove(&stamp);
            if lru.is_empty() {
                self.ports.remove(&port);
            }
        }
    }

    /// Evicts the least recently used entry of the port that has the most entries (OVS's
    /// `evict_mac_entry_fairly`; static entries are not spared, as in OVS). OVS breaks ties
    /// between equally loaded ports arbitrarily (heap order); rvs picks the port whose oldest
    /// entry is the oldest, which makes eviction deterministic.
    fn evict_fairly(&mut self) {
        let victim = self
            .ports
            .values()
            .filter_map(|lru| {
                lru.first_key_value()
                    .map(|(stamp, key)| (lru.len(), *stamp, *key))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, _, key)| key);
        if let Some(key) = victim {
            self.counters.evicted += 1;
            self.remove(&key);
        }
    }

    /// Removes one entry (OVS's `mac_learning_expire`); returns whether it existed.
    pub fn remove(&mut self, key: &MacKey) -> bool {
        let Some(entry) = self.entries.remove(key) else {
            return false;
        };
        if entry.is_static() {
            self.static_count -= 1;
        } else {
            self.dynamic_lru.remove(&entry.stamp);
        }
        self.unlink_port(entry.port, entry.stamp);
        self.mark_changed(MacTags::of(key));
        true
    }

    fn mark_changed(&mut self, tags: MacTags) {
        self.pending.needed = true;
        self.pending.tags.insert(tags);
        self.changes += 1;
    }

    // ---- static entries ----

    /// Adds a static entry (`fdb/add`), converting a dynamic one and taking it to `port`; a new
    /// key evicts first if the table is full. Returns the entry it replaced as OVS's `fdb/add`
    /// sees it: found with the filtering [`MacTable::lookup`], so `None` for multicast addresses
    /// and flood VLANs even though the static entry is added there too (as in OVS).
    pub fn add_static(&mut self, mac: &MacAddr, vlan: u16, port: P) -> Option<ReplacedEntry<P>> {
        let replaced = self.lookup_entry(mac, vlan).map(|e| ReplacedEntry {
            port: e.port,
            was_static: e.is_static(),
        });
        let key = MacKey::new(*mac, vlan);
        if self.insert(key, port, None).is_some() {
            self.set_port(key, port);
        }
        replaced
    }

    /// Deletes a static entry (`fdb/del`); returns false when there is none (no entry, a
    /// dynamic one, or one [`MacTable::lookup`] does not see).
    pub fn remove_static(&mut self, mac: &MacAddr, vlan: u16) -> bool {
        match self.lookup_entry(mac, vlan) {
            Some(e) if e.is_static() => self.remove(&MacKey::new(*mac, vlan)),
            _ => false,
        }
    }

    /// Number of static entries.
    pub fn static_entries(&self) -> usize {
        self.static_count
    }

    // ---- flushing and periodic work ----

    /// Removes every dynamic entry (OVS's `mac_learning_flush`, `fdb/flush`); static entries
    /// stay. Returns the number removed. Not counted as expiry.
    pub fn flush(&mut self) -> usize {
        let keys: Vec<MacKey> = self.dynamic_lru.values().copied().collect();
        keys.iter().filter(|k| self.remove(k)).count()
    }

    /// Removes every entry on `port`, static ones included (OVS's `bundle_flush_macs`, used when
    /// a port is reconfigured or removed). Returns the number removed.
    pub fn flush_port(&mut self, port: &P) -> usize {
        let keys: Vec<MacKey> = self
            .ports
            .get(port)
            .map(|lru| lru.values().copied().collect())
            .unwrap_or_default();
        keys.iter().filter(|k| self.remove(k)).count()
    }

    /// Removes the dynamic entries of `vlan` (no OVS counterpart; static entries stay, as with
    /// [`MacTable::flush`]). Returns the number removed.
    pub fn flush_vlan(&mut self, vlan: u16) -> usize {
        let keys: Vec<MacKey> = self
            .dynamic_lru
            .values()
            .filter(|k| k.vlan == vlan)
            .copied()
            .collect();
        keys.iter().filter(|k| self.remove(k)).count()
    }

    /// Moves every entry of port `old` to port `new` (OVS's `bundle_move`). Returns how many.
    pub fn move_port(&mut self, old: &P, new: P) -> usize {
        let keys: Vec<MacKey> = self
            .ports
            .get(old)
            .map(|lru| lru.values().copied().collect())
            .unwrap_or_default();
        for key in &keys {
            self.set_port(*key, new);
        }
        keys.len()
    }

    /// Periodic work (OVS's `mac_learning_run`): expires dynamic entries, least recently used
    /// first, while the table is over its limit or the entry's idle time has passed; then hands
    /// over and clears what changed since the previous call.
    pub fn run(&mut self, now_ms: u64) -> Revalidation {
        let now_s = now_ms / 1000;
        while let Some((_, key)) = self.dynamic_lru.first_key_value() {
            let key = *key;
            let over_limit = self.entries.len() > self.max_entries;
            if !over_limit && !self.is_expired(&key, now_s) {
                break;
            }
            self.counters.expired += 1;
            self.remove(&key);
        }
        std::mem::take(&mut self.pending)
    }

    fn is_expired(&self, key: &MacKey, now_s: u64) -> bool {
        self.entries
            .get(key)
            .and_then(|e| e.learned_ms)
            .is_some_and(|ms| now_s >= ms / 1000 + u64::from(self.idle_time_s))
    }

    /// When [`MacTable::run`] next has work (OVS's `mac_learning_wait`), in the caller's ms
    /// clock: right away (`Some(0)`) when changes are pending or the table is over its limit,
    /// else the expiry of the least recently used dynamic entry, `None` when there is none.
    pub fn next_run_ms(&self) -> Option<u64> {
        if self.pending.needed || self.entries.len() > self.max_entries {
            return Some(0);
        }
        let (_, key) = self.dynamic_lru.first_key_value()?;
        let learned_ms = self.entries.get(key)?.learned_ms?;
        Some((learned_ms / 1000 + u64::from(self.idle_time_s)) * 1000)
    }

    /// Changes not yet handed over by [`MacTable::run`].
    pub fn pending(&self) -> Revalidation {
        self.pending
    }

    /// Number of lookup-affecting changes since creation (never reset).
    pub fn changes(&self) -> u64 {
        self.changes
    }
}
