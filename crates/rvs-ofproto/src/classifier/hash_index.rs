//! Hash maps keyed by hashes the classifier already computed (masked flow hashes), so the map
//! does not hash them a second time.
//!
//! # Invariants
//! * Keys are the output of `rvs_flow::flow::hash_masked_words`, which mixes every bit into both
//!   the high bits (used by the map's control bytes) and the low bits (used for the bucket index).
//!   A collision only costs a comparison, never a wrong answer: every user compares real keys or
//!   treats a hit as "maybe".

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher that passes a `u64` key through unchanged.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u64 keys, which this module never uses; still hash them properly.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A map from a precomputed 64-bit hash to `V`.
pub(crate) type HashIndex<V> = HashMap<u64, V, BuildHasherDefault<PassThroughHasher>>;
