//! Revalidation tags: a 64-bit Bloom filter over MAC table keys that says which cached
//! forwarding decisions a batch of table changes may have affected.
//!
//! A translation that consults the table for key K (the destination lookup of NORMAL, and the
//! source lookup of SLB-bond admissibility) adds `MacTags::of(K)` to the flow's tags. Every
//! table change that can alter the answer for K (learning K, K moving, K expiring, being evicted,
//! flushed, added or deleted as static) adds K's tag to the table's pending set; changes that
//! affect every key (flood-VLAN changes) add [`MacTags::ALL`]. A cached flow whose tags do not
//! intersect the pending set cannot have been affected.
//!
//! # Invariants
//! * `MacTags::of` sets exactly one bit, a pure function of the key (no per-process seed), so
//!   tags computed by different threads agree.
//! * Intersection is conservative: a false positive only costs a needless revalidation; a false
//!   negative is impossible as long as both sides follow the rules above.

use super::entry::MacKey;

/// A set of revalidation tags (one bit per tag; 64 tags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MacTags(pub u64);

impl MacTags {
    /// No tags.
    pub const NONE: MacTags = MacTags(0);
    /// Every tag: "anything may have changed".
    pub const ALL: MacTags = MacTags(u64::MAX);

    /// The tag of one key.
    pub fn of(key: &MacKey) -> MacTags {
        let [a, b, c, d, e, f] = key.mac;
        let word = u64::from_be_bytes([0, 0, a, b, c, d, e, f]) | (u64::from(key.vlan) << 48);
        // Multiply-shift hash: the top 6 bits of the product pick the bit.
        let bit = word.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58;
        MacTags(1 << bit)
    }

    /// Adds `other` to `self`.
    pub fn insert(&mut self, other: MacTags) {
        self.0 |= other.0;
    }

    /// The union.
    pub fn union(self, other: MacTags) -> MacTags {
        MacTags(self.0 | other.0)
    }

    /// Whether the two sets share a tag.
    pub fn intersects(self, other: MacTags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What [`super::MacTable::run`] hands the caller: whether anything changed since the previous
/// call that may affect cached forwarding decisions (OVS sets `REV_MAC_LEARNING` then), and the
/// tags of the keys that changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revalidation {
    /// Some change may affect cached flows.
    pub needed: bool,
    /// The tags of the changed keys (empty when `needed` is false).
    pub tags: MacTags,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bit_per_key_and_spread() {
        let mut seen = MacTags::NONE;
        for i in 0..256u32 {
            let key = MacKey::new([0x50, 0x54, 0, 0, (i >> 8) as u8, i as u8], 0);
            let tag = MacTags::of(&key);
            assert_eq!(tag.0.count_ones(), 1);
            assert_eq!(tag, MacTags::of(&key), "deterministic");
            seen.insert(tag);
        }
        // 256 consecutive MACs should reach most of the 64 bits.
        assert!(seen.0.count_ones() > 48, "poor spread: {:#x}", seen.0);
        let a = MacTags::of(&MacKey::new([0, 0, 0, 0, 0, 1], 10));
        assert!(a.intersects(MacTags::ALL) && !a.intersects(MacTags::NONE));
        assert!(MacTags::NONE.is_empty() && !a.union(MacTags::NONE).is_empty());
    }
}
