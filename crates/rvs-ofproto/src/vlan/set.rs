//! A set of 802.1Q VLAN IDs (0..=4095), as a fixed 4096-bit bitmap.
//!
//! # Invariants
//! * Only bits 0..=4095 exist; inserting or asking about a larger number is a no-op / `false`
//!   (Open vSwitch's `vlan_bitmap_from_array` also skips out-of-range numbers).

use std::fmt;

/// Number of VLAN IDs (12 bits).
pub const VLAN_COUNT: usize = 4096;

const WORDS: usize = VLAN_COUNT / 64;

/// A set of VLAN IDs: Open vSwitch's 4096-bit VLAN bitmaps (`trunks`, `cvlans`, `flood_vlans`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VlanSet {
    bits: Box<[u64; WORDS]>,
}

impl VlanSet {
    /// The empty set.
    pub fn new() -> VlanSet {
        VlanSet {
            bits: Box::new([0; WORDS]),
        }
    }

    /// Builds a set from VLAN numbers, skipping any outside 0..=4095 (like OVS's
    /// `vlan_bitmap_from_array__`).
    pub fn from_vlans<I: IntoIterator<Item = i64>>(vlans: I) -> VlanSet {
        let mut set = VlanSet::new();
        for vlan in vlans {
            if let Ok(vid) = u16::try_from(vlan) {
                set.insert(vid);
            }
        }
        set
    }

    /// Adds `vid`; returns whether it was newly added. VIDs above 4095 are ignored.
    pub fn insert(&mut self, vid: u16) -> bool {
        let Some((word, bit)) = locate(vid) else {
            return false;
        };
        let had = self.bits[word] & bit != 0;
        self.bits[word] |= bit;
        !had
    }

    /// Removes `vid`; returns whether it was present.
    pub fn remove(&mut self, vid: u16) -> bool {
        let Some((word, bit)) = locate(vid) else {
            return false;
        };
        let had = self.bits[word] & bit != 0;
        self.bits[word] &= !bit;
        had
    }

    /// Whether `vid` is in the set.
    pub fn contains(&self, vid: u16) -> bool {
        locate(vid).is_some_and(|(word, bit)| self.bits[word] & bit != 0)
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..VLAN_COUNT as u16).filter(|vid| self.contains(*vid))
    }
}

impl Default for VlanSet {
    fn default() -> VlanSet {
        VlanSet::new()
    }
}

impl fmt::Debug for VlanSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<u16> for VlanSet {
    fn from_iter<I: IntoIterator<Item = u16>>(iter: I) -> VlanSet {
        let mut set = VlanSet::new();
        for vid in iter {
            set.insert(vid);
        }
        set
    }
}

/// Word index and bit mask of `vid`, `None` if it is not a 12-bit VID.
fn locate(vid: u16) -> Option<(usize, u64)> {
    let vid = usize::from(vid);
    (vid < VLAN_COUNT).then(|| (vid / 64, 1u64 << (vid % 64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_contains() {
        let mut set = VlanSet::new();
        assert!(set.is_empty());
        assert!(set.insert(0));
        assert!(set.insert(4095));
        assert!(!set.insert(4095));
        assert!(!set.insert(4096), "out of range VIDs are ignored");
        assert!(set.contains(0) && set.contains(4095) && !set.contains(1) && !set.contains(4096));
        assert_eq!(set.len(), 2);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![0, 4095]);
        assert!(set.remove(0));
        assert!(!set.remove(0));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn from_vlans_skips_out_of_range() {
        let set = VlanSet::from_vlans([-1, 10, 4096, 20, 10]);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![10, 20]);
    }
}
