//! One subtable of the megaflow classifier: every entry under one mask.
//!
//! # Invariants
//! * `word_index` lists, in increasing order, the flow words where the mask is non-zero; a [`MiniKey`] is
//!   `flow[w] & mask[w]` for exactly those words, so two flows have the same key iff they agree on the mask.
//! * `entries` maps keys to entries; at most one entry per key. Keys are hashed once, with the
//!   subtable's own random seed (see the `keys` module), so growing the map re-hashes nothing.
//! * Growth: `count` is the number of entries (kept by the serialised writers). When it reaches
//!   `reserve_at` (first [`FIRST_RESERVE`]), the map is made room for [`GROWTH_FACTOR`] times as
//!   many and `reserve_at` moves there. A copy reads every entry (a cache miss each), and the map
//!   would double by itself at about 85 % load: a burst of new flows copied each entry about once
//!   more; growing fourfold copies it a third as often, for tables at most twice the size
//!   (9 bytes a slot).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;
use rvs_flow::{FLOW_WORDS, Flow, Wildcards};

use super::InsertError;
use super::keys::{MaskedWords, PassThroughState, Probe, StoredKey};

/// The masked words of a flow under one subtable's mask, stored inline (no allocation on lookup).
#[derive(Clone, Copy)]
pub struct MiniKey {
    len: u8,
    words: [u64; FLOW_WORDS],
}

impl MiniKey {
    /// Extracts the key of `flow` for a mask whose non-zero words are `word_index`.
    #[inline]
    fn of(flow: &Flow, mask: &Wildcards, word_index: &[u8]) -> MiniKey {
        let (f, m) = (flow.words(), mask.masks.words());
        let mut words = [0u64; FLOW_WORDS];
        for (slot, &w) in words.iter_mut().zip(word_index) {
            let w = usize::from(w);
            *slot = f[w] & m[w];
        }
        MiniKey {
            len: word_index.len() as u8,
            words,
        }
    }

    /// The words in use.
    #[inline]
    pub fn as_slice(&self) -> &[u64] {
        &self.words[..usize::from(self.len)]
    }
}

/// Entries at which a subtable first reserves room ahead (below it the map grows by itself: small
/// copies).
const FIRST_RESERVE: usize = 1024;
/// How much room a subtable reserves, as a multiple of its entries, when it reaches `reserve_at`.
const GROWTH_FACTOR: usize = 4;

/// All entries that share one mask.
pub struct Subtable<T: Send + Sync + 'static> {
    mask: Wildcards,
    word_index: Box<[u8]>,
    /// Hashes the masked words of keys and probes (random per subtable).
    seed: foldhash::fast::RandomState,
    entries: papaya::HashMap<StoredKey, Arc<T>, PassThroughState>,
    /// Entries in the map (written only by the serialised writers).
    count: AtomicUsize,
    /// The entry count at which the next insert reserves room (see the module documentation).
    reserve_at: AtomicUsize,
    /// Hits since the last re-rank.
    pub(super) hits: CachePadded<AtomicU64>,
}

impl<T: Send + Sync + 'static> Subtable<T> {
    pub(super) fn new(mask: Wildcards) -> Subtable<T> {
        let map = mask.word_map();
        let word_index: Box<[u8]> = (0..FLOW_WORDS as u8)
            .filter(|i| map & (1 << i) != 0)
            .collect();
        let entries = papaya::HashMap::builder()
            .hasher(PassThroughState)
            .resize_mode(papaya::ResizeMode::Blocking)
            .build();
        Subtable {
            mask,
            word_index,
            seed: foldhash::fast::RandomState::default(),
            entries,
            count: AtomicUsize::new(0),
            reserve_at: AtomicUsize::new(FIRST_RESERVE),
            hits: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// The subtable's mask.
    pub fn mask(&self) -> &Wildcards {
        &self.mask
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the subtable holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry whose masked key equals `flow & mask`, if any.
    #[inline]
    pub fn lookup(&self, flow: &Flow) -> Option<Arc<T>> {
        let key = Probe::masked(
            MaskedWords {
                flow: flow.words(),
                mask: self.mask.masks.words(),
                word_index: &self.word_index,
            },
            &self.seed,
        );
        let guard = self.entries.guard();
        self.entries.get(&key, &guard).cloned()
    }

    pub(super) fn insert(&self, flow: &Flow, entry: Arc<T>) -> Result<(), InsertError> {
        let key = MiniKey::of(flow, &self.mask, &self.word_index);
        let stored = StoredKey::new(key.as_slice(), &self.seed);
        let guard = self.entries.guard();
        if self.entries.try_insert(stored, entry, &guard).is_err() {
            return Err(InsertError::Exists);
        }
        let count = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if count >= self.reserve_at.load(Ordering::Relaxed) {
            let target = count.saturating_mul(GROWTH_FACTOR);
            self.entries.reserve(target - count, &guard);
            self.reserve_at.store(target, Ordering::Relaxed);
        }
        Ok(())
    }

    pub(super) fn remove(&self, flow: &Flow) -> bool {
        let key = MiniKey::of(flow, &self.mask, &self.word_index);
        let guard = self.entries.guard();
        let removed = self
            .entries
            .remove(&Probe::of_words(key.as_slice(), &self.seed), &guard)
            .is_some();
        if removed {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Calls `f` on every entry (order unspecified).
    pub fn for_each(&self, mut f: impl FnMut(&Arc<T>)) {
        let guard = self.entries.guard();
        for (_, v) in self.entries.iter(&guard) {
            f(v);
        }
    }
}
