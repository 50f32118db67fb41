//! A path-compressed binary trie of bit prefixes, counting how many subtable buckets own each
//! prefix, and the "how many leading bits did I have to look at" lookup that lets the classifier
//! skip a subtable while un-wildcarding only those bits.
//!
//! # Invariants
//! * Prefixes and values are left-aligned in a `u128`: bit 127 is the first (most significant)
//!   bit of the field. A node's `bits` hold its own `n_bits` bits left-aligned, the rest are zero.
//! * A node either owns at least one prefix (`n_owners > 0`) or has two children, so every leaf
//!   owns a prefix. Insert and remove restore this shape, merging single-child nodes upward.
//! * The answer of [`PrefixTrie::lookup`] depends only on the multiset of stored prefixes, never on
//!   how they happen to be split into nodes (a property test checks it against a brute-force scan).

/// Number of bits in the widest field a trie can index (an IPv6 address).
pub(crate) const MAX_PREFIX_BITS: u32 = 128;

/// `value << n`, zero when `n` shifts every bit out.
#[inline]
fn shl(value: u128, n: u32) -> u128 {
    value.checked_shl(n).unwrap_or(0)
}

/// `value >> n`, zero when `n` shifts every bit out.
#[inline]
fn shr(value: u128, n: u32) -> u128 {
    value.checked_shr(n).unwrap_or(0)
}

/// The top `n` bits of a left-aligned value set, the rest clear (`n` in `0..=128`).
#[inline]
pub(crate) fn prefix_mask(n: u32) -> u128 {
    if n == 0 {
        0
    } else {
        shl(u128::MAX, MAX_PREFIX_BITS - n.min(MAX_PREFIX_BITS))
    }
}

/// Bit `ofs` (0 = most significant) of a left-aligned value, as a child index.
#[inline]
fn bit_at(value: u128, ofs: u32) -> usize {
    usize::from(shl(value, ofs) >> 127 == 1)
}

/// One node: a run of `n_bits` prefix bits, its owner count and its two subtrees.
#[derive(Debug, Clone)]
struct Node {
    bits: u128,
    n_bits: u32,
    n_owners: u32,
    children: [Option<Box<Node>>; 2],
}

impl Node {
    /// A leaf for the bits of `value` starting at `ofs`, `n_bits` long, owned once.
    fn leaf(value: u128, ofs: u32, n_bits: u32) -> Box<Node> {
        Box::new(Node {
            bits: shl(value, ofs) & prefix_mask(n_bits),
            n_bits,
            n_owners: 1,
            children: [None, None],
        })
    }

    fn is_leaf(&self) -> bool {
        self.children[0].is_none() && self.children[1].is_none()
    }
}

/// What a trie lookup learned about one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TrieLookup {
    /// Number of leading bits of the value that decide the answer: no stored prefix that the
    /// examined bits rule out can match any value sharing these bits.
    pub(crate) mask_bits: u32,
    /// Bit `len - 1` is set for every stored prefix length `len` whose prefix the value matches.
    pub(crate) match_lens: u128,
}

impl TrieLookup {
    /// True if some stored prefix of length `len` (>= 1) matches the value.
    #[inline]
    pub(crate) fn has_match_len(&self, len: u32) -> bool {
        (1..=MAX_PREFIX_BITS).contains(&len) && (self.match_lens >> (len - 1)) & 1 == 1
    }
}

/// A multiset of left-aligned bit prefixes of length 1..=128.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixTrie {
    root: Option<Box<Node>>,
}

impl PrefixTrie {
    /// True if no prefix is stored.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// Adds one owner of the first `len` bits of `prefix` (`len` in `1..=128`; bits past `len`
    /// are ignored).
    pub(crate) fn insert(&mut self, prefix: u128, len: u32) {
        let len = len.min(MAX_PREFIX_BITS);
        if len == 0 {
            return;
        }
        insert_at(&mut self.root, prefix & prefix_mask(len), len, 0);
    }

    /// Removes one owner of the first `len` bits of `prefix`. Returns false (and changes
    /// nothing) if the prefix was not stored.
    pub(crate) fn remove(&mut self, prefix: u128, len: u32) -> bool {
        let len = len.min(MAX_PREFIX_BITS);
        if len == 0 {
            return false;
        }
        remove_at(&mut self.root, prefix & prefix_mask(len), len, 0)
    }

    /// Looks `value` (a field of `field_bits` bits, left-aligned) up.
    ///
    /// `mask_bits` is the depth the walk reached, plus one when a stored prefix continues past that
    /// depth on the other branch (its first differing bit had to be looked at), capped at
    /// `field_bits`.
    pub(crate) fn lookup(&self, value: u128, field_bits: u32) -> TrieLookup {
        let field_bits = field_bits.min(MAX_PREFIX_BITS);
        let mut out = TrieLookup::default();
        let mut node = self.root.as_deref();
        let mut depth = 0u32;
        let mut last_was_leaf = true;
        while let Some(n) = node {
            let differing = (n.bits ^ shl(value, depth)).leading_zeros();
            let equal = differing.min(n.n_bits);
            depth += equal;
            if equal < n.n_bits {
                // The first differing bit separates the value from everything below this node.
                out.mask_bits = depth + 1;
                return out;
            }
            if n.n_owners > 0 && depth >= 1 {
                out.match_lens |= 1u128 << (depth - 1);
            }
            if depth >= field_bits {
                out.mask_bits = field_bits;
                return out;
            }
            last_was_leaf = n.is_leaf();
            node = n.children[bit_at(value, depth)].as_deref();
        }
        // Fell off the trie: if the node we left has a subtree on the other side, the bit at
        // `depth` is what tells the value apart from it.
        out.mask_bits = if last_was_leaf { depth } else { depth + 1 };
        out
    }
}

fn insert_at(slot: &mut Option<Box<Node>>, prefix: u128, len: u32, ofs: u32) {
    let Some(node) = slot else {
        *slot = Some(Node::leaf(prefix, ofs, len - ofs));
        return;
    };
    let rest = shl(prefix, ofs);
    let comparable = node.n_bits.min(len - ofs);
    let equal = (node.bits ^ rest).leading_zeros().min(comparable);
    if equal < node.n_bits {
        // Split `node` after `equal` bits: a new parent keeps the common part.
        let Some(mut old) = slot.take() else { return };
        let old_branch = bit_at(old.bits, equal);
        old.bits = shl(old.bits, equal);
        old.n_bits -= equal;
        let ends_here = ofs + equal == len;
        let mut parent = Box::new(Node {
            bits: rest & prefix_mask(equal),
            n_bits: equal,
            n_owners: u32::from(ends_here),
            children: [None, None],
        });
        if !ends_here {
            parent.children[1 - old_branch] =
                Some(Node::leaf(prefix, ofs + equal, len - ofs - equal));
        }
        parent.children[old_branch] = Some(old);
        *slot = Some(parent);
        return;
    }
    let ofs = ofs + node.n_bits;
    if ofs == len {
        node.n_owners += 1;
    } else {
        insert_at(&mut node.children[bit_at(prefix, ofs)], prefix, len, ofs);
    }
}

fn remove_at(slot: &mut Option<Box<Node>>, prefix: u128, len: u32, ofs: u32) -> bool {
    let Some(node) = slot else { return false };
    let rest = shl(prefix, ofs);
    if node.n_bits > len - ofs || (node.bits ^ rest).leading_zeros() < node.n_bits {
        return false;
    }
    let ofs = ofs + node.n_bits;
    let removed = if ofs == len {
        if node.n_owners == 0 {
            return false;
        }
        node.n_owners -= 1;
        true
    } else {
        remove_at(&mut node.children[bit_at(prefix, ofs)], prefix, len, ofs)
    };
    if removed {
        normalize(slot);
    }
    removed
}

/// Restores the shape invariant at `slot` after one of its owners or children went away.
fn normalize(slot: &mut Option<Box<Node>>) {
    let Some(node) = slot else { return };
    if node.n_owners > 0 {
        return;
    }
    match (node.children[0].take(), node.children[1].take()) {
        (None, None) => *slot = None,
        (Some(mut only), None) | (None, Some(mut only)) => {
            // Merge this ownerless pass-through node into its only child.
            only.bits = node.bits | shr(only.bits, node.n_bits);
            only.n_bits += node.n_bits;
            *slot = Some(only);
        }
        (Some(a), Some(b)) => node.children = [Some(a), Some(b)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(a: u32) -> u128 {
        u128::from(a) << 96
    }

    /// Brute force over the stored multiset: the definition the trie walk must agree with.
    fn brute_lookup(stored: &[(u128, u32)], value: u128, field_bits: u32) -> TrieLookup {
        let agree = |p: u128, n: u32| (p ^ value) & prefix_mask(n) == 0;
        let mut out = TrieLookup::default();
        for &(p, len) in stored {
            if agree(p, len) {
                out.match_lens |= 1 << (len - 1);
            }
        }
        // Deepest k such that some stored prefix at least k long agrees with the value on k bits.
        let depth = (0..=field_bits)
            .rev()
            .find(|&k| stored.iter().any(|&(p, len)| len >= k && agree(p, k)))
            .unwrap_or(0);
        let continues = stored
            .iter()
            .any(|&(p, len)| len > depth && agree(p, depth));
        out.mask_bits = if depth >= field_bits {
            field_bits
        } else if continues {
            depth + 1
        } else {
            depth
        };
        out
    }

    #[test]
    fn single_prefix_mismatch_needs_first_differing_bit_only() {
        let mut t = PrefixTrie::default();
        t.insert(v4(0x0a00_0000), 24);
        // 192.168.1.1 differs from 10.0.0.0 in the very first bit.
        let r = t.lookup(v4(0xc0a8_0101), 32);
        assert_eq!(r.mask_bits, 1);
        assert!(!r.has_match_len(24));
        // 10.0.0.5 matches the /24 and nothing is longer.
        let r = t.lookup(v4(0x0a00_0005), 32);
        assert_eq!(r.mask_bits, 24);
        assert!(r.has_match_len(24));
    }

    #[test]
    fn nested_prefixes_walk_past_the_shorter_one() {
        let mut t = PrefixTrie::default();
        t.insert(v4(0x0a00_0000), 8);
        t.insert(v4(0x0a01_0000), 16);
        // 10.2.3.4: matches /8, leaves the /16 at bit 14 (10.1 vs 10.2).
        let r = t.lookup(v4(0x0a02_0304), 32);
        assert!(r.has_match_len(8));
        assert!(!r.has_match_len(16));
        assert_eq!(r.mask_bits, 15);
    }

    #[test]
    fn remove_restores_previous_answers() {
        let mut t = PrefixTrie::default();
        t.insert(v4(0x0a00_0000), 8);
        t.insert(v4(0x0a01_0000), 16);
        t.insert(v4(0x0a01_0000), 16);
        assert!(t.remove(v4(0x0a01_0000), 16));
        assert!(t.lookup(v4(0x0a01_0101), 32).has_match_len(16));
        assert!(t.remove(v4(0x0a01_0000), 16));
        assert!(!t.remove(v4(0x0a01_0000), 16));
        assert_eq!(
            t.lookup(v4(0x0a02_0304), 32),
            brute_lookup(&[(v4(0x0a00_0000), 8)], v4(0x0a02_0304), 32)
        );
        assert!(t.remove(v4(0x0a00_0000), 8));
        assert!(t.is_empty());
    }

    /// Prefixes with few distinct leading bits, so that they share paths and split nodes.
    fn arb_prefix() -> impl Strategy<Value = (u128, u32)> {
        (0u8..8, any::<u128>(), 1..=128u32, 0u32..=128).prop_map(|(top, noise, len, zeros)| {
            let v = (u128::from(top) << 125) | (shr(noise, 3) & !prefix_mask(zeros));
            (v & prefix_mask(len), len)
        })
    }

    proptest! {
        #[test]
        fn lookup_agrees_with_brute_force(
            field_bits in prop_oneof![Just(32u32), Just(128u32)],
            ops in prop::collection::vec((any::<bool>(), 0usize..64), 1..60),
            pool in prop::collection::vec(arb_prefix(), 1..24),
            values in prop::collection::vec(any::<(u8, u128, usize)>(), 1..24),
        ) {
            let pool: Vec<(u128, u32)> = pool
                .into_iter()
                .map(|(p, l)| {
                    let l = l.min(field_bits);
                    (p & prefix_mask(l) & prefix_mask(field_bits), l)
                })
                .collect();
            let mut trie = PrefixTrie::default();
            let mut stored: Vec<(u128, u32)> = Vec::new();
            for (add, i) in ops {
                let (p, l) = pool[i % pool.len()];
                if add {
                    trie.insert(p, l);
                    stored.push((p, l));
                } else {
                    let was = stored.iter().position(|&x| x == (p, l));
                    prop_assert_eq!(trie.remove(p, l), was.is_some());
                    if let Some(at) = was {
                        stored.swap_remove(at);
                    }
                }
                for &(mode, noise, j) in &values {
                    // Values near stored prefixes, so that walks go deep.
                    let base = pool[j % pool.len()].0;
                    let keep = u32::from(mode) % (field_bits + 1);
                    let value = ((base & prefix_mask(keep)) | (noise & !prefix_mask(keep))) & prefix_mask(field_bits);
                    prop_assert_eq!(trie.lookup(value, field_bits), brute_lookup(&stored, value, field_bits));
                }
            }
            prop_assert_eq!(trie.is_empty(), stored.is_empty());
        }
    }
}
