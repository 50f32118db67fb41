//! The table inside one ukey shard: open addressing with linear probing over a power-of-two array
//! of 16-byte slots (an `Option<Arc<Ukey>>` and a metadata word), keyed by the ukey's [`UkeyId`].
//!
//! Why not a `HashMap<UkeyId, Arc<Ukey>>`: a lookup there reads a control group and a 32-byte
//! bucket (two cache misses at 100k+ ukeys) before the ukey itself. Here a lookup reads one slot
//! line, which also holds the slot's 16-bit tag (so probing past other ukeys does not touch their
//! memory) and the ukey's serial (where the sweep finds its dump stamp, `stamps.rs`), and then the
//! ukey itself, whose cache line the caller is about to lock anyway.
//!
//! # Invariants
//! * At most half the slots are used (the array doubles before that); at least [`MIN_SLOTS`].
//! * Every entry sits on the probe path from its home slot ([`home`]) with no empty slot between
//!   them; deletion shifts later entries back (no tombstones), which keeps this true.
//! * Each id appears at most once.
//! * A used slot's tag is [`tag`] of its ukey's id; an empty slot's metadata is 0. The id is
//!   compared only when the tags agree, so a tag is a filter, never a decision.
//! * Each ukey in the table has a serial, unique in the table, kept in its slot's metadata (it moves
//!   with the ukey when deletion shifts it or the array grows). A replacement (same id) takes over
//!   its predecessor's serial; a removed ukey's serial goes back to the free list. The caller
//!   learns a new ukey's serial from [`UkeyTable::insert`] and must reset its stamp then.

use std::sync::Arc;

use super::{Ukey, UkeyId};

/// Smallest slot array.
const MIN_SLOTS: usize = 8;
/// Where the tag starts in a metadata word (the serial takes the low 32 bits).
const TAG_SHIFT: u32 = 48;
/// The serial part of a metadata word.
const SERIAL_MASK: u64 = u32::MAX as u64;

/// The slot hash of an id: all 128 UFID bits and the pmd id, multiplicatively mixed (the top bits
/// pick the home slot, the low bits give the tag; the shard index uses [`UkeyId::hash`], an
/// independent mix).
fn slot_hash(id: &UkeyId) -> u64 {
    let p = id.ufid.parts;
    let a = u64::from(p[0]) | (u64::from(p[1]) << 32);
    let b = u64::from(p[2]) | (u64::from(p[3]) << 32);
    let x = (a ^ b.rotate_left(29) ^ u64::from(id.pmd_id)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// The home slot of a slot hash in an array of `2^bits` slots.
fn home_of_hash(hash: u64, bits: u32) -> usize {
    (hash.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> (64 - bits)) as usize
}

/// The home slot of `id` in an array of `2^bits` slots.
fn home(id: &UkeyId, bits: u32) -> usize {
    home_of_hash(slot_hash(id), bits)
}

/// The tag of a slot hash, already shifted into a metadata word's top bits; never 0.
fn tag_of_hash(hash: u64) -> u64 {
    ((hash & 0xffff) | 1) << TAG_SHIFT
}

/// The tag (metadata word's top bits) of `id`.
#[cfg(test)]
fn tag(id: &UkeyId) -> u64 {
    tag_of_hash(slot_hash(id))
}

/// Where a search for one id starts: its home slot and its tag (computed once per table state, so
/// that a batch can touch its home slots in a loop of plain loads and search them later).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe {
    home: usize,
    tag: u64,
}

/// One slot: a ukey and its metadata word (tag in the top 16 bits, serial in the low 32).
#[derive(Clone, Debug, Default)]
struct Slot {
    ukey: Option<Arc<Ukey>>,
    meta: u64,
}

impl Slot {
    fn serial(&self) -> u32 {
        (self.meta & SERIAL_MASK) as u32
    }

    fn tag(&self) -> u64 {
        self.meta & !SERIAL_MASK
    }
}

/// An open-addressing table of ukeys.
#[derive(Debug)]
pub(crate) struct UkeyTable {
    slots: Vec<Slot>,
    bits: u32,
    len: usize,
    /// Serials given back by removed ukeys.
    free_serials: Vec<u32>,
    /// The lowest serial never handed out.
    next_serial: u32,
}

impl Default for UkeyTable {
    fn default() -> Self {
        UkeyTable {
            slots: vec![Slot::default(); MIN_SLOTS],
            bits: MIN_SLOTS.trailing_zeros(),
            len: 0,
            free_serials: Vec::new(),
            next_serial: 0,
        }
    }
}

impl UkeyTable {
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `id`, if any.
    fn find(&self, id: &UkeyId) -> Option<usize> {
        self.find_from(self.probe(id), id)
    }

    /// Where the search for `id` starts in this table, valid until the table changes.
    pub(crate) fn probe(&self, id: &UkeyId) -> Probe {
        let hash = slot_hash(id);
        Probe {
            home: home_of_hash(hash, self.bits),
            tag: tag_of_hash(hash),
        }
    }

    /// The slot holding `id`, searching from `probe` ([`UkeyTable::probe`] of `id` since the
    /// last change of the table).
    pub(crate) fn find_from(&self, probe: Probe, id: &UkeyId) -> Option<usize> {
        let Probe { home, tag } = probe;
        let mask = self.mask();
        let mut i = home;
        loop {
            let slot = self.slots.get(i)?;
            match &slot.ukey {
                None => return None,
                Some(u) if slot.tag() == tag && u.id() == id => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// The ukey named `id`.
    pub(crate) fn get(&self, id: &UkeyId) -> Option<&Arc<Ukey>> {
        self.find(id).and_then(|i| self.slots.get(i)?.ukey.as_ref())
    }

    /// Inserts `ukey`, returning the ukey with the same id it replaced (whose serial it takes
    /// over) and the serial of `ukey`.
    pub(crate) fn insert(&mut self, ukey: Arc<Ukey>) -> (Option<Arc<Ukey>>, u32) {
        if let Some(i) = self.find(ukey.id())
            && let Some(slot) = self.slots.get_mut(i)
        {
            return (slot.ukey.replace(ukey), slot.serial());
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let serial = self.free_serials.pop().unwrap_or_else(|| {
            self.next_serial += 1;
            self.next_serial - 1
        });
        self.place(ukey, serial);
        self.len += 1;
        (None, serial)
    }

    /// Puts `ukey` (not present) with `serial` in the first free slot of its probe path.
    fn place(&mut self, ukey: Arc<Ukey>, serial: u32) {
        let hash = slot_hash(ukey.id());
        let mask = self.mask();
        let mut i = home_of_hash(hash, self.bits);
        while let Some(slot) = self.slots.get_mut(i) {
            if slot.ukey.is_none() {
                *slot = Slot {
                    ukey: Some(ukey),
                    meta: tag_of_hash(hash) | u64::from(serial),
                };
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let doubled = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.bits += 1;
        for slot in old {
            let serial = slot.serial();
            if let Some(ukey) = slot.ukey {
                self.place(ukey, serial);
            }
        }
    }

    /// Removes the ukey named `id` and returns it.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, id: &UkeyId) -> Option<Arc<Ukey>> {
        self.remove_with_serial(id).map(|(ukey, _)| ukey)
    }

    /// The serials handed out so far are all below this bound.
    pub(crate) fn serial_bound(&self) -> u32 {
        self.next_serial
    }

    /// Removes the ukey named `id` and returns it with the serial it gave back.
    pub(crate) fn remove_with_serial(&mut self, id: &UkeyId) -> Option<(Arc<Ukey>, u32)> {
        let mut hole = self.find(id)?;
        let removed_slot = std::mem::take(self.slots.get_mut(hole)?);
        let serial = removed_slot.serial();
        self.free_serials.push(serial);
        let removed = removed_slot.ukey.map(|ukey| (ukey, serial));
        self.len -= 1;
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some(home_j) = self
                .slots
                .get(j)
                .and_then(|s| s.ukey.as_ref())
                .map(|u| home(u.id(), self.bits))
            else {
                break;
            };
            // The entry at j may fill the hole if the hole lies on its path from home_j to j.
            if (j.wrapping_sub(home_j) & mask) >= (j.wrapping_sub(hole) & mask) {
                let moved = self
                    .slots
                    .get_mut(j)
                    .map(std::mem::take)
                    .unwrap_or_default();
                if let Some(slot) = self.slots.get_mut(hole) {
                    *slot = moved;
                }
                hole = j;
            }
        }
        removed
    }

    /// Number of ukeys.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every ukey, in slot order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Arc<Ukey>> {
        self.slots.iter().filter_map(|s| s.ukey.as_ref())
    }

    /// Every ukey with its serial, in slot order.
    pub(crate) fn values_with_serials(&self) -> impl Iterator<Item = (&Arc<Ukey>, u32)> {
        self.slots
            .iter()
            .filter_map(|slot| slot.ukey.as_ref().map(|u| (u, slot.serial())))
    }

    /// The serial of the ukey named `id` (tests).
    #[cfg(test)]
    pub(crate) fn serial_of(&self, id: &UkeyId) -> Option<u32> {
        self.slots.get(self.find(id)?).map(Slot::serial)
    }

    /// Reads the home slot of `probe` and returns its metadata word, so that the slot's cache line
    /// is on its way before [`UkeyTable::find_from`] needs it (a batch touches all its slots first,
    /// then their misses overlap). The value means nothing.
    pub(crate) fn touch(&self, probe: Probe) -> u64 {
        self.slots.get(probe.home).map_or(0, |slot| slot.meta)
    }

    /// The ukey in slot `slot` (an index from [`UkeyTable::find_from`] since the last change).
    pub(crate) fn ukey_at(&self, slot: usize) -> Option<&Ukey> {
        self.slots.get(slot)?.ukey.as_deref()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::ukey::UkeyParams;
    use proptest::prelude::*;
    use rvs_dpif::clock::VirtualClock;
    use rvs_flow::ufid::Ufid;
    use rvs_flow::{Flow, Wildcards};
    use std::collections::BTreeMap;

    fn ukey(env: &Env, parts: [u32; 4]) -> Arc<Ukey> {
        Arc::new(Ukey::new(
            UkeyParams {
                key: Flow::default(),
                mask: Wildcards::default(),
                id: UkeyId {
                    ufid: Ufid { parts },
                    pmd_id: 0,
                },
                ufid_present: true,
                actions: Arc::from(Vec::new()),
                reval_seq: 0,
                used: 0,
            },
            env,
            "test",
        ))
    }

    proptest! {
        /// Inserts and removes of few distinct ids (many collisions) agree with a BTreeMap model.
        #[test]
        fn behaves_like_a_map(ops in prop::collection::vec((any::<bool>(), 0u32..40), 0..400)) {
            let env = Env::new(Arc::new(VirtualClock::new(1)));
            let mut table = UkeyTable::default();
            let mut model: BTreeMap<u32, Arc<Ukey>> = BTreeMap::new();
            let mut serials: BTreeMap<u32, u32> = BTreeMap::new();
            for (insert, k) in ops {
                let parts = [k % 3, 0, k, 0];
                let id = UkeyId { ufid: Ufid { parts }, pmd_id: 0 };
                if insert {
                    let u = ukey(&env, parts);
                    let (old, serial) = table.insert(Arc::clone(&u));
                    if let Some(o) = &old {
                        prop_assert_eq!(serials.get(&k).copied(), Some(serial), "a replacement keeps the serial");
                        prop_assert!(Arc::ptr_eq(o, &model[&k]));
                    } else {
                        prop_assert!(!serials.values().any(|s| *s == serial), "serial {} in use", serial);
                    }
                    serials.insert(k, serial);
                    let model_old = model.insert(k, u);
                    prop_assert_eq!(old.map(|o| Arc::as_ptr(&o)), model_old.map(|o| Arc::as_ptr(&o)));
                } else {
                    let old = table.remove(&id);
                    serials.remove(&k);
                    let model_old = model.remove(&k);
                    prop_assert_eq!(old.map(|o| Arc::as_ptr(&o)), model_old.map(|o| Arc::as_ptr(&o)));
                }
                prop_assert_eq!(table.len(), model.len());
                prop_assert_eq!(table.values().count(), model.len());
                for (k, u) in &model {
                    let id = UkeyId { ufid: Ufid { parts: [k % 3, 0, *k, 0] }, pmd_id: 0 };
                    prop_assert!(table.get(&id).is_some_and(|t| Arc::ptr_eq(t, u)));
                }
                prop_assert!(table.len() * 2 <= table.slots.len());
                // Every used slot carries its ukey's tag and serial; empty slots carry nothing.
                for slot in &table.slots {
                    match &slot.ukey {
                        Some(u) => {
                            prop_assert_eq!(slot.tag(), tag(u.id()));
                            prop_assert_eq!(Some(slot.serial()), serials.get(&u.id().ufid.parts[2]).copied());
                        }
                        None => prop_assert_eq!(slot.meta, 0),
                    }
                }
                for (k, serial) in &serials {
                    let id = UkeyId { ufid: Ufid { parts: [k % 3, 0, *k, 0] }, pmd_id: 0 };
                    prop_assert_eq!(table.serial_of(&id), Some(*serial));
                }
                // Serials are reused: never more handed out than ukeys ever present at once.
                prop_assert!(table.next_serial as usize <= 40);
            }
        }
    }
}
