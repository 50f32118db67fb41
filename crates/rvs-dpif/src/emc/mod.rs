//! The exact-match cache (EMC) of one forwarding thread, after OVS's `emc_cache` (dpif-netdev-dfc.h).
//!
//! A small direct-mapped, 2-way cache from a packet's **whole** flow key to the megaflow it matched,
//! so that the packets of a busy connection skip the megaflow classifier.
//!
//! # Shape (as OVS)
//! * [`EMC_ENTRIES`] = 8192 entries; a key may live in one of [`EMC_WAYS`] = 2 slots, taken from
//!   consecutive 13-bit slices of its 32-bit hash ([`flow_hash`]).
//! * Insertion is probabilistic: with an inverse probability `p` (OVS's
//!   `other_config:emc-insert-inv-prob`, default [`DEFAULT_INSERT_INV_PROB`] = 100), a packet that
//!   was classified by the megaflow classifier is inserted with probability 1/p; `p = 1` inserts
//!   always, `p = 0` turns the cache off (no lookups, no inserts).
//! * Replacement: a slot that already holds the key is updated in place; otherwise the first dead or
//!   empty candidate is taken, else the live candidate with the smaller stored hash.
//!
//! # Invariants
//! * An entry holds a strong reference to its target; a target that is no longer alive
//!   ([`Liveness::is_alive`], e.g. a deleted megaflow) is never returned by [`Emc::lookup`] and its slot
//!   counts as free for insertion. So the cache never needs to be told about deletions.
//! * A hit requires the stored hash **and** the whole key to be equal: hash collisions cannot
//!   return a wrong target.
//! * Owned by one thread (`&mut self` to insert); no locks, no atomics except the target's liveness.
//! * `tags[i]` is the hash of the entry in slot `i` whenever the slot is occupied (any value when
//!   it is empty). A lookup reads a candidate's entry only when its tag equals the key's hash, so a
//!   packet missing the cache reads only the 32 KiB tag array, not two 256-byte entries far apart
//!   (two cache misses per missed packet). The tag is a filter, never a decision.

mod smc;

use std::sync::Arc;

use rvs_flow::Flow;

pub use smc::{Covers, SMC_ENTRIES, SMC_WAYS, Smc};

/// Number of entries of one cache.
pub const EMC_ENTRIES: usize = 1 << EMC_HASH_BITS;
/// Candidate slots per key.
pub const EMC_WAYS: usize = 2;
/// OVS's default `emc-insert-inv-prob`: insert one classified packet in 100.
pub const DEFAULT_INSERT_INV_PROB: u32 = 100;

/// Bits of the hash used per candidate slot.
const EMC_HASH_BITS: u32 = 13;
const EMC_INDEX_MASK: u32 = (1 << EMC_HASH_BITS) - 1;

/// Something an EMC entry can point at, which may die while cached.
pub trait Liveness {
    /// False once the target must no longer be used (a deleted or replaced megaflow).
    fn is_alive(&self) -> bool;
}

/// The 32-bit hash of a whole flow key that picks the EMC slots (and, in the datapath, the handler
/// a miss is queued to). Equal flows hash equally; all 30 words take part.
#[inline]
pub fn flow_hash(flow: &Flow) -> u32 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let words = flow.words();
    // Four independent lanes keep the multiply chain short.
    let mut lanes = [
        0x243f_6a88_85a3_08d3u64,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    ];
    for chunk in words.chunks(4) {
        for (lane, w) in lanes.iter_mut().zip(chunk) {
            *lane = (*lane ^ w).wrapping_mul(K).rotate_left(29);
        }
    }
    let mut h =
        lanes[0] ^ lanes[1].rotate_left(17) ^ lanes[2].rotate_left(31) ^ lanes[3].rotate_left(47);
    h ^= h >> 32;
    h = h.wrapping_mul(K);
    (h >> 32) as u32
}

/// One cached key.
struct Entry<T> {
    hash: u32,
    key: Flow,
    target: Arc<T>,
}

impl<T: Liveness> Entry<T> {
    #[inline]
    fn is_alive(&self) -> bool {
        self.target.is_alive()
    }
}

/// An exact-match cache owned by one forwarding thread.
pub struct Emc<T> {
    entries: Box<[Option<Entry<T>>]>,
    /// The hash of each occupied slot's entry (see the invariants).
    tags: Box<[u32]>,
    /// Insert when a random u32 is `<= insert_min`; 0 = cache off.
    insert_min: u32,
    /// xorshift32 state (never 0).
    rng: u32,
    /// Next slot the slow sweep looks at.
    sweep_pos: usize,
}

/// Candidate slots of `hash`.
#[inline]
fn candidates(hash: u32) -> [usize; EMC_WAYS] {
    [
        (hash & EMC_INDEX_MASK) as usize,
        ((hash >> EMC_HASH_BITS) & EMC_INDEX_MASK) as usize,
    ]
}

/// `insert_min` for an inverse probability (OVS: `UINT32_MAX / p`, 0 when off).
fn insert_min_of(inv_prob: u32) -> u32 {
    u32::MAX.checked_div(inv_prob).unwrap_or(0)
}

impl<T: Liveness> Emc<T> {
    /// An empty cache inserting with probability `1 / insert_inv_prob` (0 = off); `seed` seeds the
    /// insertion coin (any value; equal seeds give equal decisions, which tests rely on).
    pub fn new(insert_inv_prob: u32, seed: u32) -> Emc<T> {
        let entries: Box<[Option<Entry<T>>]> = (0..EMC_ENTRIES).map(|_| None).collect();
        Emc {
            entries,
            tags: vec![0; EMC_ENTRIES].into_boxed_slice(),
            insert_min: insert_min_of(insert_inv_prob),
            rng: seed | 1,
            sweep_pos: 0,
        }
    }

    /// Changes the insertion probability to `1 / insert_inv_prob`; 0 turns the cache off and empties it.
    pub fn set_insert_inv_prob(&mut self, insert_inv_prob: u32) {
        self.insert_min = insert_min_of(insert_inv_prob);
        if self.insert_min == 0 {
            self.clear();
        }
    }

    /// True unless the cache was turned off.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.insert_min != 0
    }

    /// The live target cached for `key` (whose [`flow_hash`] is `hash`), if any.
    #[inline]
    pub fn lookup(&self, key: &Flow, hash: u32) -> Option<&Arc<T>> {
        candidates(hash)
            .into_iter()
            .find_map(|i| match self.entry_tagged(i, hash) {
                Some(e) if e.hash == hash && e.key == *key && e.is_alive() => Some(&e.target),
                _ => None,
            })
    }

    /// Like [`Emc::lookup`], but returns the slot, for [`Emc::target`]: lets a caller refer to the
    /// target without cloning its `Arc` (no shared write) while it does not modify the cache.
    #[inline]
    pub fn lookup_slot(&self, key: &Flow, hash: u32) -> Option<usize> {
        candidates(hash).into_iter().find(|&i| {
            matches!(self.entry_tagged(i, hash), Some(e) if e.hash == hash && e.key == *key && e.is_alive())
        })
    }

    /// The entry in slot `i` if its tag is `hash` (the entry itself is not read otherwise).
    #[inline]
    fn entry_tagged(&self, i: usize, hash: u32) -> Option<&Entry<T>> {
        if self.tags.get(i) != Some(&hash) {
            return None;
        }
        self.entries.get(i)?.as_ref()
    }

    /// The target in slot `slot` (as returned by [`Emc::lookup_slot`]), alive or not.
    #[inline]
    pub fn target(&self, slot: usize) -> Option<&Arc<T>> {
        match self.entries.get(slot) {
            Some(Some(e)) => Some(&e.target),
            _ => None,
        }
    }

    /// Caches `key → target` unconditionally.
    pub fn insert(&mut self, key: &Flow, hash: u32, target: &Arc<T>) {
        let slots = candidates(hash);
        let mut victim = slots[0];
        for (n, &i) in slots.iter().enumerate() {
            let Some(slot) = self.entries.get_mut(i) else {
                continue;
            };
            if let Some(e) = slot
                && e.hash == hash
                && e.key == *key
            {
                e.target = Arc::clone(target);
                return;
            }
            if n > 0
                && self.slot_alive(victim)
                && (!self.slot_alive(i) || self.slot_hash(i) < self.slot_hash(victim))
            {
                victim = i;
            }
        }
        if let Some(tag) = self.tags.get_mut(victim) {
            *tag = hash;
        }
        if let Some(slot) = self.entries.get_mut(victim) {
            *slot = Some(Entry {
                hash,
                key: *key,
                target: Arc::clone(target),
            });
        }
    }

    /// Caches `key → target` with the configured probability; returns whether it did.
    #[inline]
    pub fn probabilistic_insert(&mut self, key: &Flow, hash: u32, target: &Arc<T>) -> bool {
        if self.insert_min == 0 {
            return false;
        }
        if self.insert_min != u32::MAX && self.next_random() > self.insert_min {
            return false;
        }
        self.insert(key, hash, target);
        true
    }

    /// Frees up to `n` slots' worth of dead entries (OVS's slow sweep), resuming where the previous
    /// call stopped; returns how many entries it dropped. Dead entries are harmless but keep their
    /// target's memory.
    pub fn sweep_dead(&mut self, n: usize) -> usize {
        let mut dropped = 0;
        for _ in 0..n.min(EMC_ENTRIES) {
            let pos = self.sweep_pos;
            self.sweep_pos = (pos + 1) % EMC_ENTRIES;
            if let Some(slot) = self.entries.get_mut(pos)
                && slot.as_ref().is_some_and(|e| !e.is_alive())
            {
                *slot = None;
                dropped += 1;
            }
        }
        dropped
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.entries.iter_mut().for_each(|e| *e = None);
    }

    /// Number of occupied slots (live or dead).
    pub fn occupied(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }

    fn slot_alive(&self, i: usize) -> bool {
        matches!(self.entries.get(i), Some(Some(e)) if e.is_alive())
    }

    fn slot_hash(&self, i: usize) -> u32 {
        match self.entries.get(i) {
            Some(Some(e)) => e.hash,
            _ => 0,
        }
    }

    /// xorshift32.
    #[inline]
    fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    struct Target {
        id: u32,
        alive: AtomicBool,
    }

    impl Liveness for Target {
        fn is_alive(&self) -> bool {
            self.alive.load(Ordering::Acquire)
        }
    }

    fn target(id: u32) -> Arc<Target> {
        Arc::new(Target {
            id,
            alive: AtomicBool::new(true),
        })
    }

    fn key(n: u32) -> Flow {
        Flow {
            in_port: 1,
            nw_src: n,
            dl_type: 0x0800,
            ..Flow::default()
        }
    }

    #[test]
    fn hit_after_insert_and_miss_on_other_key() {
        let mut emc = Emc::new(1, 7);
        let (k, t) = (key(1), target(1));
        let h = flow_hash(&k);
        assert!(emc.lookup(&k, h).is_none());
        assert!(emc.probabilistic_insert(&k, h, &t));
        assert_eq!(emc.lookup(&k, h).map(|t| t.id), Some(1));
        let other = key(2);
        assert!(emc.lookup(&other, flow_hash(&other)).is_none());
    }

    #[test]
    fn equal_hash_different_key_is_a_miss() {
        let mut emc = Emc::new(1, 7);
        let (k, t) = (key(1), target(1));
        emc.insert(&k, 42, &t);
        assert!(emc.lookup(&key(2), 42).is_none());
        assert!(emc.lookup(&k, 42).is_some());
    }

    #[test]
    fn dead_target_is_ignored_and_its_slot_reused() {
        let mut emc = Emc::new(1, 7);
        let k = key(1);
        let h = flow_hash(&k);
        let old = target(1);
        emc.insert(&k, h, &old);
        old.alive.store(false, Ordering::Release);
        assert!(emc.lookup(&k, h).is_none());
        let new = target(2);
        emc.insert(&k, h, &new);
        assert_eq!(emc.lookup(&k, h).map(|t| t.id), Some(2));
        assert_eq!(emc.occupied(), 1);
    }

    #[test]
    fn two_ways_then_replace_smaller_hash() {
        let mut emc = Emc::new(1, 7);
        // Hashes sharing the first slot (low 13 bits 5) with different second slots.
        let (h1, h2, h3) = (
            5 | (100 << 13),
            5 | (200 << 13),
            5 | (100 << 13) | (1 << 30),
        );
        let (t1, t2, t3) = (target(1), target(2), target(3));
        emc.insert(&key(1), h1, &t1);
        // slot 5 is live with h1; slot 200 is free: taken.
        emc.insert(&key(2), h2, &t2);
        assert!(emc.lookup(&key(1), h1).is_some() && emc.lookup(&key(2), h2).is_some());
        // h3's slots are 5 (h1) and 100 (free): the free one is taken.
        emc.insert(&key(3), h3, &t3);
        assert!(emc.lookup(&key(1), h1).is_some());
        assert!(emc.lookup(&key(3), h3).is_some());
        // A fourth key on slots 5 and 100, both live: the smaller stored hash (h1 in slot 5) goes.
        let t4 = target(4);
        emc.insert(&key(4), h3, &t4);
        assert!(emc.lookup(&key(1), h1).is_none());
        assert!(emc.lookup(&key(3), h3).is_some() && emc.lookup(&key(4), h3).is_some());
    }

    #[test]
    fn probability_off_and_one_in_n() {
        let mut off: Emc<Target> = Emc::new(0, 1);
        assert!(!off.is_enabled());
        assert!(!off.probabilistic_insert(&key(1), 1, &target(1)));
        let mut emc: Emc<Target> = Emc::new(100, 12345);
        let t = target(1);
        let inserted = (0..100_000u32)
            .filter(|&i| emc.probabilistic_insert(&key(i), flow_hash(&key(i)), &t))
            .count();
        assert!(
            (700..1300).contains(&inserted),
            "{inserted} of 100000 inserted at 1/100"
        );
        emc.set_insert_inv_prob(0);
        assert_eq!(emc.occupied(), 0);
    }

    #[test]
    fn sweep_drops_only_dead_entries() {
        let mut emc = Emc::new(1, 3);
        let (a, b) = (target(1), target(2));
        emc.insert(&key(1), flow_hash(&key(1)), &a);
        emc.insert(&key(2), flow_hash(&key(2)), &b);
        a.alive.store(false, Ordering::Release);
        assert_eq!(emc.sweep_dead(EMC_ENTRIES), 1);
        assert_eq!(emc.occupied(), 1);
        assert_eq!(Arc::strong_count(&a), 1);
    }

    /// The lookup without the tag filter: every candidate entry read.
    fn lookup_unfiltered<'a>(
        emc: &'a Emc<Target>,
        key: &Flow,
        hash: u32,
    ) -> Option<&'a Arc<Target>> {
        candidates(hash)
            .into_iter()
            .find_map(|i| match emc.entries.get(i) {
                Some(Some(e)) if e.hash == hash && e.key == *key && e.is_alive() => Some(&e.target),
                _ => None,
            })
    }

    proptest::proptest! {
        /// The tag filter never changes an answer: after any sequence of inserts (with hashes
        /// drawn from a few values, so keys share and steal slots), kills, sweeps and clears,
        /// every lookup equals the one that reads every candidate entry.
        #[test]
        fn tags_never_change_a_lookup(
            ops in proptest::collection::vec((0u8..4, 0u32..6, 0u32..5), 1..200),
        ) {
            let mut emc = Emc::new(1, 11);
            let targets: Vec<Arc<Target>> = (0..6).map(target).collect();
            // Hashes whose candidate slots overlap: slot 0 (low bits) or 1, second way 0..2.
            let hash_of = |h: u32| (h % 2) | ((h % 3) << EMC_HASH_BITS);
            for (op, k, h) in ops {
                let t = &targets[k as usize];
                match op {
                    0 | 1 => emc.insert(&key(k), hash_of(h), t),
                    2 => t.alive.store(false, Ordering::Release),
                    _ if h == 0 => emc.clear(),
                    _ => { emc.sweep_dead(EMC_ENTRIES); }
                }
                for k in 0..6 {
                    for h in 0..5 {
                        let got = emc.lookup(&key(k), hash_of(h)).map(Arc::as_ptr);
                        let want = lookup_unfiltered(&emc, &key(k), hash_of(h)).map(Arc::as_ptr);
                        proptest::prop_assert_eq!(got, want);
                        let slot = emc.lookup_slot(&key(k), hash_of(h));
                        proptest::prop_assert_eq!(
                            slot.and_then(|s| emc.target(s)).map(Arc::as_ptr),
                            want
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn flow_hash_depends_on_every_word() {
        let base = Flow::default();
        let h0 = flow_hash(&base);
        for w in 0..rvs_flow::FLOW_WORDS {
            let mut words = *base.words();
            words[w] = 1;
            assert_ne!(flow_hash(&Flow::from_words(words)), h0, "word {w}");
        }
    }
}
