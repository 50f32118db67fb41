//! The table inside one ukey shard: open addressing with linear probing over a power-of-two array
//! of `Option<Arc<Ukey>>` (8 bytes a slot), keyed by the ukey's [`UkeyId`].
//!
//! Why not a `HashMap<UkeyId, Arc<Ukey>>`: a lookup there reads a control group and a 32-byte
//! bucket (two cache misses at 100k+ ukeys) before the ukey itself; here the slots are 4× smaller
//! (they mostly stay in cache) and the id is compared in the ukey, whose cache line the caller is
//! about to lock anyway.
//!
//! # Invariants
//! * At most half the slots are used (the array doubles before that); at least [`MIN_SLOTS`].
//! * Every entry sits on the probe path from its home slot ([`home`]) with no empty slot between
//!   them; deletion shifts later entries back (no tombstones), which keeps this true.
//! * Each id appears at most once.
//! * `stamps[i]` is a `dump_seq` stamped on the ukey in slot `i` by the dump phase
//!   ([`UkeyTable::stamp`]); it is reset to 0 whenever a different ukey lands in the slot, and
//!   moves with its ukey when deletion shifts it. A stamp is only a hint that lets the sweep skip a
//!   ukey: 0 (or a lost stamp) just means "look at the ukey".

use std::sync::Arc;

use super::{Ukey, UkeyId};

/// Smallest slot array.
const MIN_SLOTS: usize = 8;

/// The slot hash of an id: all 128 UFID bits and the pmd id, multiplicatively mixed (the top bits
/// pick the home slot; the shard index uses [`UkeyId::hash`], an independent mix).
fn slot_hash(id: &UkeyId) -> u64 {
    let p = id.ufid.parts;
    let a = u64::from(p[0]) | (u64::from(p[1]) << 32);
    let b = u64::from(p[2]) | (u64::from(p[3]) << 32);
    let x = (a ^ b.rotate_left(29) ^ u64::from(id.pmd_id)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// The home slot of `id` in an array of `2^bits` slots.
fn home(id: &UkeyId, bits: u32) -> usize {
    (slot_hash(id).wrapping_mul(0xbf58_476d_1ce4_e5b9) >> (64 - bits)) as usize
}

/// An open-addressing table of ukeys.
#[derive(Debug)]
pub(crate) struct UkeyTable {
    slots: Vec<Option<Arc<Ukey>>>,
    stamps: Vec<u64>,
    bits: u32,
    len: usize,
}

impl Default for UkeyTable {
    fn default() -> Self {
        UkeyTable {
            slots: vec![None; MIN_SLOTS],
            stamps: vec![0; MIN_SLOTS],
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
        let mask = self.mask();
        let mut i = home(id, self.bits);
        loop {
            match self.slots.get(i)? {
                None => return None,
                Some(u) if u.id() == id => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// The ukey named `id`.
    pub(crate) fn get(&self, id: &UkeyId) -> Option<&Arc<Ukey>> {
        self.find(id).and_then(|i| self.slots.get(i)?.as_ref())
    }

    /// Inserts `ukey`, returning the ukey with the same id it replaced.
    pub(crate) fn insert(&mut self, ukey: Arc<Ukey>) -> Option<Arc<Ukey>> {
        if let Some(i) = self.find(ukey.id()) {
            if let Some(stamp) = self.stamps.get_mut(i) {
                *stamp = 0;
            }
            return self.slots.get_mut(i)?.replace(ukey);
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.place(ukey);
        self.len += 1;
        None
    }

    /// Puts `ukey` (not present) in the first free slot of its probe path.
    fn place(&mut self, ukey: Arc<Ukey>) {
        let mask = self.mask();
        let mut i = home(ukey.id(), self.bits);
        while let Some(slot) = self.slots.get_mut(i) {
            if slot.is_none() {
                *slot = Some(ukey);
                if let Some(stamp) = self.stamps.get_mut(i) {
                    *stamp = 0;
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let doubled = vec![None; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.stamps = vec![0; self.slots.len()];
        self.bits += 1;
        for ukey in old.into_iter().flatten() {
            self.place(ukey);
        }
    }

    /// Removes the ukey named `id` and returns it.
    pub(crate) fn remove(&mut self, id: &UkeyId) -> Option<Arc<Ukey>> {
        let mut hole = self.find(id)?;
        let removed = self.slots.get_mut(hole)?.take();
        self.len -= 1;
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some(home_j) = self
                .slots
                .get(j)
                .and_then(|s| s.as_ref())
                .map(|u| home(u.id(), self.bits))
            else {
                break;
            };
            // The entry at j may fill the hole if the hole lies on its path from home_j to j.
            if (j.wrapping_sub(home_j) & mask) >= (j.wrapping_sub(hole) & mask) {
                let moved = self.slots.get_mut(j).and_then(Option::take);
                if let Some(slot) = self.slots.get_mut(hole) {
                    *slot = moved;
                }
                let stamp = self.stamps.get(j).copied().unwrap_or(0);
                if let Some(s) = self.stamps.get_mut(hole) {
                    *s = stamp;
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
        self.slots.iter().flatten()
    }

    /// Every ukey with its slot's stamp, in slot order.
    pub(crate) fn stamped_values(&self) -> impl Iterator<Item = (&Arc<Ukey>, u64)> {
        self.slots
            .iter()
            .zip(self.stamps.iter())
            .filter_map(|(slot, stamp)| slot.as_ref().map(|u| (u, *stamp)))
    }

    /// Calls `f` on the ukey named `id`; if it returns true, stamps the ukey's slot with
    /// `stamp`. `None` if there is no such ukey.
    pub(crate) fn with_ukey_stamp(
        &mut self,
        id: &UkeyId,
        stamp: u64,
        f: impl FnOnce(&Ukey) -> bool,
    ) -> Option<bool> {
        let i = self.find(id)?;
        let stamped = f(self.slots.get(i)?.as_ref()?);
        if stamped && let Some(s) = self.stamps.get_mut(i) {
            *s = stamp;
        }
        Some(stamped)
    }

    /// The stamp of the slot holding `id` (tests).
    #[cfg(test)]
    pub(crate) fn stamp_of(&self, id: &UkeyId) -> Option<u64> {
        self.stamps.get(self.find(id)?).copied()
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
