//! One subtable of the megaflow classifier: every entry under one mask.
//!
//! # Invariants
//! * `word_index` lists, in increasing order, the flow words where the mask is non-zero; a [`MiniKey`] is
//!   `flow[w] & mask[w]` for exactly those words, so two flows have the same key iff they agree on the mask.
//! * `entries` maps keys to entries; at most one entry per key.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crossbeam_utils::CachePadded;
use rvs_flow::{FLOW_WORDS, Flow, Wildcards};

use super::InsertError;

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

/// Stored form of a key: just the words in use.
#[derive(Clone, PartialEq, Eq)]
struct StoredKey(Box<[u64]>);

impl Hash for StoredKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_words(&self.0, state);
    }
}

/// Borrowed form used for lookups, hashing exactly as [`StoredKey`].
struct KeyRef<'a>(&'a [u64]);

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_words(self.0, state);
    }
}

impl papaya::Equivalent<StoredKey> for KeyRef<'_> {
    fn equivalent(&self, key: &StoredKey) -> bool {
        *self.0 == *key.0
    }
}

/// A packet's key under a subtable's mask, computed word by word while hashing and comparing
/// (no copy of the key): hashes and compares exactly as the [`StoredKey`] of the same words.
struct MaskedRef<'a> {
    flow: &'a [u64; FLOW_WORDS],
    mask: &'a [u64; FLOW_WORDS],
    word_index: &'a [u8],
}

impl MaskedRef<'_> {
    #[inline]
    fn words(&self) -> impl Iterator<Item = u64> + '_ {
        self.word_index.iter().map(|&w| {
            let w = usize::from(w);
            match (self.flow.get(w), self.mask.get(w)) {
                (Some(f), Some(m)) => f & m,
                _ => 0,
            }
        })
    }
}

impl Hash for MaskedRef<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        for w in self.words() {
            state.write_u64(w);
        }
    }
}

impl papaya::Equivalent<StoredKey> for MaskedRef<'_> {
    #[inline]
    fn equivalent(&self, key: &StoredKey) -> bool {
        key.0.len() == self.word_index.len() && self.words().zip(key.0.iter()).all(|(a, &b)| a == b)
    }
}

#[inline]
fn hash_words<H: Hasher>(words: &[u64], state: &mut H) {
    for w in words {
        state.write_u64(*w);
    }
}

/// All entries that share one mask.
pub struct Subtable<T: Send + Sync + 'static> {
    mask: Wildcards,
    word_index: Box<[u8]>,
    entries: papaya::HashMap<StoredKey, Arc<T>, foldhash::fast::RandomState>,
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
            .hasher(foldhash::fast::RandomState::default())
            .resize_mode(papaya::ResizeMode::Blocking)
            .build();
        Subtable {
            mask,
            word_index,
            entries,
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
        let key = MaskedRef {
            flow: flow.words(),
            mask: self.mask.masks.words(),
            word_index: &self.word_index,
        };
        let guard = self.entries.guard();
        self.entries.get(&key, &guard).cloned()
    }

    pub(super) fn insert(&self, flow: &Flow, entry: Arc<T>) -> Result<(), InsertError> {
        let key = MiniKey::of(flow, &self.mask, &self.word_index);
        let stored = StoredKey(key.as_slice().into());
        let guard = self.entries.guard();
        match self.entries.try_insert(stored, entry, &guard) {
            Ok(_) => Ok(()),
            Err(_) => Err(InsertError::Exists),
        }
    }

    pub(super) fn remove(&self, flow: &Flow) -> bool {
        let key = MiniKey::of(flow, &self.mask, &self.word_index);
        let guard = self.entries.guard();
        self.entries
            .remove(&KeyRef(key.as_slice()), &guard)
            .is_some()
    }

    /// Calls `f` on every entry (order unspecified).
    pub fn for_each(&self, mut f: impl FnMut(&Arc<T>)) {
        let guard = self.entries.guard();
        for (_, v) in self.entries.iter(&guard) {
            f(v);
        }
    }
}
