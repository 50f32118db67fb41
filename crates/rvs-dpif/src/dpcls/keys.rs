//! How a subtable's entries are keyed: the masked words of a flow, hashed once.
//!
//! # Invariants
//! * A [`StoredKey`] carries the hash of its words, computed with its subtable's seed when it was
//!   made; the map's hasher ([`PassThroughState`]) just returns that value, so growing the map
//!   never re-reads or re-hashes the words.
//! * A [`Probe`] (lookup or remove) is hashed with the same seed over the same words, so it hashes
//!   exactly as the stored key of the same words, and is equivalent to it iff the words are equal.
//! * Keys of at most [`INLINE_WORDS`] words (every L2–L4 megaflow of a usual pipeline) are stored
//!   inside the entry, longer ones in their own allocation.

use std::hash::{BuildHasher, Hash, Hasher};

use rvs_flow::FLOW_WORDS;

/// Words a key stores without a separate allocation.
pub(super) const INLINE_WORDS: usize = 8;

/// The words of a stored key.
#[derive(Clone, PartialEq, Eq)]
enum Words {
    /// Short keys: the first `len` words are in use (the rest are zero).
    Inline { len: u8, words: [u64; INLINE_WORDS] },
    /// Longer keys.
    Heap(Box<[u64]>),
}

/// Stored form of a key: its words and their hash under the subtable's seed.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct StoredKey {
    hash: u64,
    words: Words,
}

impl StoredKey {
    /// The key of `words`, hashed with `seed`.
    pub(super) fn new(words: &[u64], seed: &foldhash::fast::RandomState) -> StoredKey {
        let hash = seed.hash_one(WordsRef(words));
        let stored = if words.len() <= INLINE_WORDS {
            let mut inline = [0u64; INLINE_WORDS];
            inline[..words.len()].copy_from_slice(words);
            Words::Inline {
                len: words.len() as u8,
                words: inline,
            }
        } else {
            Words::Heap(words.into())
        };
        StoredKey {
            hash,
            words: stored,
        }
    }

    /// The words in use.
    fn words(&self) -> &[u64] {
        match &self.words {
            Words::Inline { len, words } => words.get(..usize::from(*len)).unwrap_or(&[]),
            Words::Heap(words) => words,
        }
    }
}

impl Hash for StoredKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// A slice of words, hashed word by word (what the seed hashes for both stored keys and probes).
struct WordsRef<'a>(&'a [u64]);

impl Hash for WordsRef<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        for w in self.0 {
            state.write_u64(*w);
        }
    }
}

/// A packet's key under a subtable's mask, computed word by word while hashing and comparing
/// (no copy of the key).
pub(super) struct MaskedWords<'a> {
    /// The packet's flow words.
    pub(super) flow: &'a [u64; FLOW_WORDS],
    /// The subtable's mask words.
    pub(super) mask: &'a [u64; FLOW_WORDS],
    /// The words where the mask is non-zero.
    pub(super) word_index: &'a [u8],
}

impl MaskedWords<'_> {
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

impl Hash for MaskedWords<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        for w in self.words() {
            state.write_u64(w);
        }
    }
}

/// A lookup or removal key: the words (masked on the fly, or already masked) and their hash.
pub(super) struct Probe<W> {
    hash: u64,
    words: W,
}

impl<'a> Probe<MaskedWords<'a>> {
    /// Probe for a packet's key under a subtable's mask.
    #[inline]
    pub(super) fn masked(
        words: MaskedWords<'a>,
        seed: &foldhash::fast::RandomState,
    ) -> Probe<MaskedWords<'a>> {
        Probe {
            hash: seed.hash_one(&words),
            words,
        }
    }
}

impl<'a> Probe<&'a [u64]> {
    /// Probe for already masked words.
    pub(super) fn of_words(
        words: &'a [u64],
        seed: &foldhash::fast::RandomState,
    ) -> Probe<&'a [u64]> {
        Probe {
            hash: seed.hash_one(WordsRef(words)),
            words,
        }
    }
}

impl<W> Hash for Probe<W> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl papaya::Equivalent<StoredKey> for Probe<MaskedWords<'_>> {
    #[inline]
    fn equivalent(&self, key: &StoredKey) -> bool {
        let stored = key.words();
        self.hash == key.hash
            && stored.len() == self.words.word_index.len()
            && self.words.words().zip(stored).all(|(a, &b)| a == b)
    }
}

impl papaya::Equivalent<StoredKey> for Probe<&[u64]> {
    #[inline]
    fn equivalent(&self, key: &StoredKey) -> bool {
        self.hash == key.hash && self.words == key.words()
    }
}

/// The map's hasher: keys and probes write their precomputed hash, which this returns as is.
#[derive(Clone, Copy, Default)]
pub(super) struct PassThroughState;

impl BuildHasher for PassThroughState {
    type Hasher = PassThroughHasher;

    #[inline]
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

/// See [`PassThroughState`].
pub(super) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by the keys of this module; fold anything else in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use papaya::Equivalent;

    #[test]
    fn probes_hash_and_compare_like_the_stored_key_of_the_same_words() {
        let seed = foldhash::fast::RandomState::default();
        for len in [0usize, 1, 5, INLINE_WORDS, INLINE_WORDS + 1, FLOW_WORDS] {
            let words: Vec<u64> = (0..len as u64).map(|i| i * 0x9e37 + 1).collect();
            let stored = StoredKey::new(&words, &seed);
            assert_eq!(stored.words(), &words[..]);
            let probe = Probe::of_words(&words, &seed);
            assert_eq!(
                PassThroughState.hash_one(&probe),
                PassThroughState.hash_one(&stored)
            );
            assert!(probe.equivalent(&stored));
            let mut other = words.clone();
            if let Some(last) = other.last_mut() {
                *last ^= 1;
                assert!(!Probe::of_words(&other, &seed).equivalent(&stored));
            }
        }
    }

    #[test]
    fn a_masked_probe_matches_the_stored_key_of_the_masked_words() {
        let seed = foldhash::fast::RandomState::default();
        let flow: [u64; FLOW_WORDS] = std::array::from_fn(|i| 0xff00 + i as u64);
        let mut mask = [0u64; FLOW_WORDS];
        mask[2] = 0xf0;
        mask[7] = u64::MAX;
        let word_index = [2u8, 7];
        let stored = StoredKey::new(&[flow[2] & 0xf0, flow[7]], &seed);
        let probe = Probe::masked(
            MaskedWords {
                flow: &flow,
                mask: &mask,
                word_index: &word_index,
            },
            &seed,
        );
        assert_eq!(
            PassThroughState.hash_one(&probe),
            PassThroughState.hash_one(&stored)
        );
        assert!(probe.equivalent(&stored));
        let shorter = StoredKey::new(&[flow[2] & 0xf0], &seed);
        assert!(!probe.equivalent(&shorter));
    }
}
