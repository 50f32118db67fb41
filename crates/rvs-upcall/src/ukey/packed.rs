//! Compact storage of a ukey's key and mask: only their nonzero 64-bit words, with one bit map
//! each (a `Flow` is 30 words, 240 bytes, and a typical megaflow key has fewer than 10 nonzero
//! words and its mask fewer than 6).
//!
//! # Invariants
//! * `key_map` / `mask_map` have bit `i` set exactly when word `i` of the key / mask is nonzero;
//!   `words` holds the key's nonzero words in index order, then the mask's.
//! * Unpacking gives back the very key and mask that were packed.

use rvs_flow::flow::FLOW_WORDS;
use rvs_flow::{Flow, Wildcards};

/// A key and a mask, packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PackedKeyMask {
    key_map: u32,
    mask_map: u32,
    words: Box<[u64]>,
}

/// The bit map of the nonzero words of `words`.
fn word_map(words: &[u64; FLOW_WORDS]) -> u32 {
    words
        .iter()
        .enumerate()
        .filter(|(_, w)| **w != 0)
        .fold(0, |map, (i, _)| map | (1 << i))
}

/// The words of a packed flow whose nonzero words are `packed`, in the order of `map`'s bits.
fn unpack(map: u32, packed: &[u64]) -> [u64; FLOW_WORDS] {
    let mut words = [0u64; FLOW_WORDS];
    let mut rest = map;
    for &w in packed {
        if rest == 0 {
            break;
        }
        let i = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        if let Some(slot) = words.get_mut(i) {
            *slot = w;
        }
    }
    words
}

impl PackedKeyMask {
    /// Packs `key` and `mask`.
    pub(crate) fn new(key: &Flow, mask: &Wildcards) -> PackedKeyMask {
        let key_map = word_map(key.words());
        let mask_map = word_map(mask.masks.words());
        // One exact-size allocation (no growth, no shrink).
        let mut words = Vec::with_capacity((key_map.count_ones() + mask_map.count_ones()) as usize);
        words.extend(
            key.words()
                .iter()
                .chain(mask.masks.words().iter())
                .filter(|w| **w != 0),
        );
        PackedKeyMask {
            key_map,
            mask_map,
            words: words.into_boxed_slice(),
        }
    }

    fn n_key_words(&self) -> usize {
        self.key_map.count_ones() as usize
    }

    /// The key.
    pub(crate) fn key(&self) -> Flow {
        let n = self.n_key_words().min(self.words.len());
        Flow::from_words(unpack(
            self.key_map,
            self.words.get(..n).unwrap_or_default(),
        ))
    }

    /// The mask.
    pub(crate) fn mask(&self) -> Wildcards {
        let n = self.n_key_words().min(self.words.len());
        Wildcards {
            masks: Flow::from_words(unpack(
                self.mask_map,
                self.words.get(n..).unwrap_or_default(),
            )),
        }
    }

    /// The key's first stored word (0 if none): reading it brings the packed words into the
    /// cache.
    pub(crate) fn first_word(&self) -> u64 {
        self.words.first().copied().unwrap_or(0)
    }

    /// True if `wc` has a bit the mask does not (`wc.has_extra(&mask)`, without unpacking).
    pub(crate) fn mask_lacks_bits_of(&self, wc: &Wildcards) -> bool {
        let n = self.n_key_words().min(self.words.len());
        let mask_words = self.words.get(n..).unwrap_or_default();
        wc.masks.words().iter().enumerate().any(|(i, &w)| {
            if w == 0 {
                return false;
            }
            let bit = 1u32 << i;
            let mask = if self.mask_map & bit == 0 {
                0
            } else {
                let rank = (self.mask_map & (bit - 1)).count_ones() as usize;
                mask_words.get(rank).copied().unwrap_or(0)
            };
            w & !mask != 0
        })
    }

    /// True if the packed key equals `key` (without unpacking).
    pub(crate) fn key_eq(&self, other: &PackedKeyMask) -> bool {
        let n = self.n_key_words();
        self.key_map == other.key_map && self.words.get(..n) == other.words.get(..n)
    }

    /// Heap bytes used besides the struct itself.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words() -> impl Strategy<Value = [u64; FLOW_WORDS]> {
        // Mostly zero words, as in real keys and masks.
        prop::array::uniform30(prop_oneof![3 => Just(0u64), 1 => any::<u64>()])
    }

    proptest! {
        #[test]
        fn unpacks_to_what_was_packed(k in words(), m in words(), k2 in words()) {
            let key = Flow::from_words(k);
            let mask = Wildcards { masks: Flow::from_words(m) };
            let p = PackedKeyMask::new(&key, &mask);
            prop_assert_eq!(p.key(), key);
            prop_assert_eq!(p.mask(), mask);
            prop_assert!(p.key_eq(&PackedKeyMask::new(&key, &Wildcards::default())));
            let other = PackedKeyMask::new(&Flow::from_words(k2), &mask);
            prop_assert_eq!(p.key_eq(&other), k == k2);
            prop_assert_eq!(
                p.heap_bytes(),
                8 * (k.iter().filter(|w| **w != 0).count() + m.iter().filter(|w| **w != 0).count())
            );
        }

        #[test]
        fn mask_check_equals_has_extra(k in words(), m in words(), w in words(), narrow in any::<bool>()) {
            let mask = Wildcards { masks: Flow::from_words(m) };
            let p = PackedKeyMask::new(&Flow::from_words(k), &mask);
            // Half the cases: a subset of the mask (never extra).
            let wc_words = if narrow { std::array::from_fn(|i| w[i] & m[i]) } else { w };
            let wc = Wildcards { masks: Flow::from_words(wc_words) };
            prop_assert_eq!(p.mask_lacks_bits_of(&wc), wc.has_extra(&mask));
        }
    }
}
