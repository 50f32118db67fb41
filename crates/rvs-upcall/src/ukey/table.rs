//! The table inside one ukey shard: open addressing with linear probing over a power-of-two array
//! of 16-byte slots (an `Option<Arc<Ukey>>` and a metadata word), keyed by the ukey's [`UkeyId`].
//!
//! Why not a `HashMap<UkeyId, Arc<Ukey>>`: a lookup there reads a control group and a 32-byte
//! bucket (two cache misses at 100k+ ukeys) before the ukey itself. Here a lookup reads one slot
//! line, which also holds the slot's 16-bit tag (so probing past other ukeys does not touch their
//! memory) and its stamp (so the dump phase's stamp is written on a line already read), and then
//! the ukey itself, whose cache line the caller is about to lock anyway.
//!
//! # Invariants
//! * At most half the slots are used (the array doubles before that); at least [`MIN_SLOTS`].
//! * Every entry sits on the probe path from its home slot ([`home`]) with no empty slot between
//!   them; deletion shifts later entries back (no tombstones), which keeps this true.
//! * Each id appears at most once.
//! * A used slot's tag is [`tag`] of its ukey's id; an empty slot's metadata is 0. The id is
//!   compared only when the tags agree, so a tag is a filter, never a decision.
//! * A slot's stamp (the low [`STAMP_BITS`] bits of a `dump_seq`) is set on the ukey in that slot
//!   by the dump phase ([`UkeyTable::with_ukey_stamp`]); it is reset to 0 whenever a different ukey
//!   lands in the slot, and moves with its ukey when deletion shifts it. A stamp is only a hint
//!   that lets the sweep skip a ukey: 0 (or a lost stamp) just means "look at the ukey". A
//!   `dump_seq` whose low bits are 0 never matches (it would need 2^48 rounds).

use std::sync::Arc;

use super::{Ukey, UkeyId};

/// Smallest slot array.
const MIN_SLOTS: usize = 8;
/// Bits of a `dump_seq` kept as a slot's stamp (the metadata word's low bits).
const STAMP_BITS: u32 = 48;
/// The stamp part of a metadata word.
const STAMP_MASK: u64 = (1 << STAMP_BITS) - 1;

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
    ((hash & 0xffff) | 1) << STAMP_BITS
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

/// One slot: a ukey and its metadata word (tag in the top 16 bits, stamp in the low 48).
#[derive(Clone, Debug, Default)]
struct Slot {
    ukey: Option<Arc<Ukey>>,
    meta: u64,
}

impl Slot {
    fn stamp(&self) -> u64 {
        self.meta & STAMP_MASK
    }

    fn set_stamp(&mut self, stamp: u64) {
        self.meta = (self.meta & !STAMP_MASK) | (stamp & STAMP_MASK);
    }
}

/// An open-addressing table of ukeys.
#[derive(Debug)]
pub(crate) struct UkeyTable {
    slots: Vec<Slot>,
    bits: u32,
    len: usize,
}

impl Default for UkeyTable {
    fn default() -> Self {
        UkeyTable {
            slots: vec![Slot::default(); MIN_SLOTS],
            bits: MIN_SLOTS.trailing_zeros(),
            len: 0,
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
                Some(u) if slot.meta & !STAMP_MASK == tag && u.id() == id => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// The ukey named `id`.
    pub(crate) fn get(&self, id: &UkeyId) -> Option<&Arc<Ukey>> {
        self.find(id).and_then(|i| self.slots.get(i)?.ukey.as_ref())
    }

    /// Inserts `ukey`, returning the ukey with the same id it replaced.
    pub(crate) fn insert(&mut self, ukey: Arc<Ukey>) -> Option<Arc<Ukey>> {
        if let Some(i) = self.find(ukey.id()) {
            let slot = self.slots.get_mut(i)?;
            slot.set_stamp(0);
            return slot.ukey.replace(ukey);
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.place(ukey);
        self.len += 1;
        None
    }

    /// Puts `ukey` (not present) in the first free slot of its probe path, unstamped.
    fn place(&mut self, ukey: Arc<Ukey>) {
        let hash = slot_hash(ukey.id());
        let mask = self.mask();
        let mut i = home_of_hash(hash, self.bits);
        while let Some(slot) = self.slots.get_mut(i) {
            if slot.ukey.is_none() {
                *slot = Slot {
                    ukey: Some(ukey),
                    meta: tag_of_hash(hash),
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
        for ukey in old.into_iter().filter_map(|s| s.ukey) {
            self.place(ukey);
        }
    }

    /// Removes the ukey named `id` and returns it.
    pub(crate) fn remove(&mut self, id: &UkeyId) -> Option<Arc<Ukey>> {
        let mut hole = self.find(id)?;
        let removed = std::mem::take(self.slots.get_mut(hole)?).ukey;
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

    /// Every ukey with its slot's stamp, in slot order.
    pub(crate) fn stamped_values(&self) -> impl Iterator<Item = (&Arc<Ukey>, u64)> {
        self.slots
            .iter()
            .filter_map(|slot| slot.ukey.as_ref().map(|u| (u, slot.stamp())))
    }

    /// True if a slot stamp `stamp` (from [`UkeyTable::stamped_values`]) records `dump_seq`.
    pub(crate) fn stamp_matches(stamp: u64, dump_seq: u64) -> bool {
        stamp != 0 && stamp == dump_seq & STAMP_MASK
    }

    /// Calls `f` on the ukey named `id`; if it returns true, stamps the ukey's slot with
    /// `stamp` (a `dump_seq`). `None` if there is no such ukey.
    pub(crate) fn with_ukey_stamp(
        &mut self,
        id: &UkeyId,
        stamp: u64,
        f: impl FnOnce(&Ukey) -> bool,
    ) -> Option<bool> {
        let i = self.find(id)?;
        let slot = self.slots.get_mut(i)?;
        let stamped = f(slot.ukey.as_ref()?);
        if stamped {
            slot.set_stamp(stamp);
        }
        Some(stamped)
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

    /// Stamps slot `slot` (an index from [`UkeyTable::find_from`] since the last change) with
    /// `stamp` (a `dump_seq`); nothing if the slot is empty.
    pub(crate) fn set_slot_stamp(&mut self, slot: usize, stamp: u64) {
        if let Some(slot) = self.slots.get_mut(slot)
            && slot.ukey.is_some()
        {
            slot.set_stamp(stamp);
        }
    }

    /// The stamp of the slot holding `id` (tests).
    #[cfg(test)]
    pub(crate) fn stamp_of(&self, id: &UkeyId) -> Option<u64> {
        self.slots.get(self.find(id)?).map(Slot::stamp)
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

    #[test]
    fn stamps_compare_the_low_bits() {
        let seq = (1u64 << STAMP_BITS) + 7;
        assert!(UkeyTable::stamp_matches(seq & STAMP_MASK, seq));
        assert!(!UkeyTable::stamp_matches(6, seq));
        // A dump_seq whose low bits are 0 matches no stamp, not even an unstamped slot.
        assert!(!UkeyTable::stamp_matches(0, 1 << STAMP_BITS));
        let mut slot = Slot {
            ukey: None,
            meta: tag_of_hash(u64::MAX),
        };
        slot.set_stamp(seq);
        assert_eq!(slot.stamp(), 7);
        assert_eq!(slot.meta & !STAMP_MASK, tag_of_hash(u64::MAX));
    }

    proptest! {
        /// Inserts and removes of few distinct ids (many collisions) agree with a BTreeMap model.
        #[test]
        fn behaves_like_a_map(ops in prop::collection::vec((any::<bool>(), 0u32..40), 0..400)) {
            let env = Env::new(Arc::new(VirtualClock::new(1)));
            let mut table = UkeyTable::default();
            let mut model: BTreeMap<u32, Arc<Ukey>> = BTreeMap::new();
            for (insert, k) in ops {
                let parts = [k % 3, 0, k, 0];
                let id = UkeyId { ufid: Ufid { parts }, pmd_id: 0 };
                if insert {
                    let u = ukey(&env, parts);
                    let old = table.insert(Arc::clone(&u));
                    let model_old = model.insert(k, u);
                    prop_assert_eq!(old.map(|o| Arc::as_ptr(&o)), model_old.map(|o| Arc::as_ptr(&o)));
                } else {
                    let old = table.remove(&id);
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
                // Every used slot carries its ukey's tag; empty slots carry nothing.
                for slot in &table.slots {
                    match &slot.ukey {
                        Some(u) => prop_assert_eq!(slot.meta & !STAMP_MASK, tag(u.id())),
                        None => prop_assert_eq!(slot.meta, 0),
                    }
                }
                // A stamp stays with its ukey; a new or replaced ukey starts unstamped.
                if insert {
                    prop_assert_eq!(table.stamp_of(&id), Some(0));
                    let stamp = u64::from(k) + 1;
                    prop_assert_eq!(table.with_ukey_stamp(&id, stamp, |_| true), Some(true));
                }
                for (u, stamp) in table.stamped_values() {
                    let k = u.id().ufid.parts[2];
                    prop_assert!(stamp == 0 || stamp == u64::from(k) + 1);
                }
            }
        }
    }
}
