//! A path-compressed binary trie of bit prefixes, counting how many subtable buckets own each
//! prefix, and the "how many leading bits did I have to look at" lookup that lets the classifier
//! skip a subtable while un-wildcarding only those bits.
//!
//! # Invariants
//! * Keys are left-aligned in their integer type `K` (`u32` for IPv4 addresses and transport
//!   ports, `u128` for IPv6): the most significant bit is the first bit of the field. A node's
//!   `bits` hold its own `n_bits` bits left-aligned, the rest are zero.
//! * Nodes live in one arena (`Vec`) and refer to each other by index, which keeps them small
//!   (20 bytes for `u32` keys) and close together: the lookup walk is a chain of dependent loads.
//! * A node either owns at least one prefix (`n_owners > 0`) or has two children, so every leaf
//!   owns a prefix. Insert and remove restore this shape, merging single-child nodes upward.
//! * The answer of [`PrefixTrie::lookup`] depends only on the multiset of stored prefixes, never on
//!   how they happen to be split into nodes (a property test checks it against a brute-force scan).

use std::fmt::Debug;
use std::ops::{BitAnd, BitOr, BitXor, Not};

/// An unsigned integer used as a left-aligned bit string.
pub(crate) trait PrefixBits:
    Copy
    + Debug
    + Eq
    + Default
    + BitXor<Output = Self>
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
    + Not<Output = Self>
{
    /// Number of bits.
    const BITS: u32;
    /// All bits set.
    const ONES: Self;
    /// `self << n`, zero when every bit is shifted out.
    fn shl(self, n: u32) -> Self;
    /// `self >> n`, zero when every bit is shifted out.
    fn shr(self, n: u32) -> Self;
    /// Number of leading zero bits.
    fn leading_zeros(self) -> u32;
    /// Bit `ofs` (0 = most significant) as a child index.
    #[inline]
    fn bit_at(self, ofs: u32) -> usize {
        usize::from(self.shl(ofs).leading_zeros() == 0 && ofs < Self::BITS)
    }
    /// The top `n` bits set (`n` in `0..=BITS`).
    #[inline]
    fn prefix_mask(n: u32) -> Self {
        if n == 0 {
            Self::default()
        } else {
            Self::ONES.shl(Self::BITS - n.min(Self::BITS))
        }
    }
}

macro_rules! prefix_bits {
    ($t:ty) => {
        impl PrefixBits for $t {
            const BITS: u32 = <$t>::BITS;
            const ONES: $t = <$t>::MAX;
            #[inline]
            fn shl(self, n: u32) -> $t {
                self.checked_shl(n).unwrap_or(0)
            }
            #[inline]
            fn shr(self, n: u32) -> $t {
                self.checked_shr(n).unwrap_or(0)
            }
            #[inline]
            fn leading_zeros(self) -> u32 {
                <$t>::leading_zeros(self)
            }
        }
    };
}
prefix_bits!(u32);
prefix_bits!(u128);

/// The top `n` bits of a left-aligned `u128` set (`n` in `0..=128`).
#[inline]
pub(crate) fn prefix_mask(n: u32) -> u128 {
    <u128 as PrefixBits>::prefix_mask(n)
}

/// "No node" in child and root links.
const NIL: u32 = u32::MAX;

/// One node: a run of `n_bits` prefix bits, its owner count and its two subtrees.
#[derive(Debug, Clone, Copy)]
struct Node<K> {
    bits: K,
    children: [u32; 2],
    n_owners: u32,
    n_bits: u8,
}

impl<K: PrefixBits> Node<K> {
    fn is_leaf(&self) -> bool {
        self.children == [NIL, NIL]
    }
}

/// Where a node hangs: the root link or a child link of a node.
#[derive(Debug, Clone, Copy)]
enum Link {
    Root,
    Child(u32, usize),
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
        (1..=128).contains(&len) && (self.match_lens >> (len - 1)) & 1 == 1
    }
}

/// A multiset of left-aligned bit prefixes of length `1..=K::BITS`.
#[derive(Debug, Clone)]
pub(crate) struct PrefixTrie<K> {
    nodes: Vec<Node<K>>,
    free: Vec<u32>,
    root: u32,
}

impl<K: PrefixBits> Default for PrefixTrie<K> {
    fn default() -> PrefixTrie<K> {
        PrefixTrie {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
        }
    }
}

impl<K: PrefixBits> PrefixTrie<K> {
    /// True if no prefix is stored.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.root == NIL
    }

    /// Every stored prefix as left-aligned (value, length), once per owner, sorted (tests only).
    #[cfg(test)]
    pub(crate) fn contents(&self) -> Vec<(K, u32)>
    where
        K: Ord,
    {
        let mut out = Vec::new();
        let mut stack = vec![(self.root, K::default(), 0u32)];
        while let Some((idx, above, depth)) = stack.pop() {
            let Some(n) = self.nodes.get(idx as usize) else {
                continue;
            };
            let bits = above | n.bits.shr(depth);
            let depth = depth + u32::from(n.n_bits);
            out.extend(std::iter::repeat_n((bits, depth), n.n_owners as usize));
            stack.extend(n.children.iter().map(|&c| (c, bits, depth)));
        }
        out.sort_unstable();
        out
    }

    fn get(&self, link: Link) -> u32 {
        match link {
            Link::Root => self.root,
            Link::Child(parent, dir) => self.nodes[parent as usize].children[dir],
        }
    }

    fn set(&mut self, link: Link, to: u32) {
        match link {
            Link::Root => self.root = to,
            Link::Child(parent, dir) => self.nodes[parent as usize].children[dir] = to,
        }
    }

    fn alloc(&mut self, node: Node<K>) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// A node for the `n_bits` bits of `value` starting at `ofs`, owned `n_owners` times.
    fn alloc_run(&mut self, value: K, ofs: u32, n_bits: u32, n_owners: u32) -> u32 {
        self.alloc(Node {
            bits: value.shl(ofs) & K::prefix_mask(n_bits),
            children: [NIL, NIL],
            n_owners,
            n_bits: n_bits as u8,
        })
    }

    /// Adds one owner of the first `len` bits of `prefix` (`len` in `1..=K::BITS`; bits past
    /// `len` are ignored).
    pub(crate) fn insert(&mut self, prefix: K, len: u32) {
        let len = len.min(K::BITS);
        if len == 0 {
            return;
        }
        let prefix = prefix & K::prefix_mask(len);
        let mut link = Link::Root;
        let mut ofs = 0u32;
        loop {
            let idx = self.get(link);
            if idx == NIL {
                let leaf = self.alloc_run(prefix, ofs, len - ofs, 1);
                self.set(link, leaf);
                return;
            }
            let node = self.nodes[idx as usize];
            let n_bits = u32::from(node.n_bits);
            let equal = (node.bits ^ prefix.shl(ofs))
                .leading_zeros()
                .min(n_bits)
                .min(len - ofs);
            if equal < n_bits {
                // Split the node after `equal` bits under a new parent holding the common part.
                let old_branch = node.bits.bit_at(equal);
                let lower = &mut self.nodes[idx as usize];
                lower.bits = lower.bits.shl(equal);
                lower.n_bits -= equal as u8;
                let ends_here = ofs + equal == len;
                let parent = self.alloc_run(prefix, ofs, equal, u32::from(ends_here));
                self.nodes[parent as usize].children[old_branch] = idx;
                if !ends_here {
                    let leaf = self.alloc_run(prefix, ofs + equal, len - ofs - equal, 1);
                    self.nodes[parent as usize].children[1 - old_branch] = leaf;
                }
                self.set(link, parent);
                return;
            }
            ofs += n_bits;
            if ofs == len {
                self.nodes[idx as usize].n_owners += 1;
                return;
            }
            link = Link::Child(idx, prefix.bit_at(ofs));
        }
    }

    /// Removes one owner of the first `len` bits of `prefix`. Returns false (and changes
    /// nothing) if the prefix was not stored.
    pub(crate) fn remove(&mut self, prefix: K, len: u32) -> bool {
        let len = len.min(K::BITS);
        if len == 0 {
            return false;
        }
        let prefix = prefix & K::prefix_mask(len);
        let mut path = Vec::with_capacity(32);
        let mut link = Link::Root;
        let mut ofs = 0u32;
        loop {
            let idx = self.get(link);
            if idx == NIL {
                return false;
            }
            let node = self.nodes[idx as usize];
            let n_bits = u32::from(node.n_bits);
            if n_bits > len - ofs || (node.bits ^ prefix.shl(ofs)).leading_zeros() < n_bits {
                return false;
            }
            path.push(link);
            ofs += n_bits;
            if ofs == len {
                if node.n_owners == 0 {
                    return false;
                }
                self.nodes[idx as usize].n_owners -= 1;
                break;
            }
            link = Link::Child(idx, prefix.bit_at(ofs));
        }
        for link in path.into_iter().rev() {
            self.normalize(link);
        }
        true
    }

    /// Restores the shape invariant at `link` after one of its owners or children went away.
    fn normalize(&mut self, link: Link) {
        let idx = self.get(link);
        if idx == NIL {
            return;
        }
        let node = self.nodes[idx as usize];
        if node.n_owners > 0 {
            return;
        }
        let replacement = match node.children {
            [NIL, NIL] => NIL,
            [only, NIL] | [NIL, only] => {
                // Merge this ownerless pass-through node into its only child.
                let child = &mut self.nodes[only as usize];
                child.bits = node.bits | child.bits.shr(u32::from(node.n_bits));
                child.n_bits += node.n_bits;
                only
            }
            _ => return,
        };
        self.set(link, replacement);
        self.free.push(idx);
    }

    /// Looks `value` (a field of `field_bits` bits, left-aligned) up.
    ///
    /// `mask_bits` is the depth the walk reached, plus one when a stored prefix continues past that
    /// depth on the other branch (its first differing bit had to be looked at), capped at
    /// `field_bits`.
    pub(crate) fn lookup(&self, value: K, field_bits: u32) -> TrieLookup {
        let field_bits = field_bits.min(K::BITS);
        let mut out = TrieLookup::default();
        let mut idx = self.root;
        let mut depth = 0u32;
        let mut last_was_leaf = true;
        while let Some(n) = self.nodes.get(idx as usize) {
            let n_bits = u32::from(n.n_bits);
            let equal = (n.bits ^ value.shl(depth)).leading_zeros().min(n_bits);
            depth += equal;
            if equal < n_bits {
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
            idx = n.children[value.bit_at(depth)];
        }
        // Fell off the trie: if the node we left has a subtree on the other side, the bit at
        // `depth` is what tells the value apart from it.
        out.mask_bits = if last_was_leaf { depth } else { depth + 1 };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force over the stored multiset: the definition the trie walk must agree with.
    fn brute_lookup<K: PrefixBits>(stored: &[(K, u32)], value: K, field_bits: u32) -> TrieLookup {
        let agree = |p: K, n: u32| (p ^ value) & K::prefix_mask(n) == K::default();
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
        let mut t = PrefixTrie::<u32>::default();
        t.insert(0x0a00_0000, 24);
        // 192.168.1.1 differs from 10.0.0.0 in the very first bit.
        let r = t.lookup(0xc0a8_0101, 32);
        assert_eq!(r.mask_bits, 1);
        assert!(!r.has_match_len(24));
        // 10.0.0.5 matches the /24 and nothing is longer.
        let r = t.lookup(0x0a00_0005, 32);
        assert_eq!(r.mask_bits, 24);
        assert!(r.has_match_len(24));
    }

    #[test]
    fn nested_prefixes_walk_past_the_shorter_one() {
        let mut t = PrefixTrie::<u32>::default();
        t.insert(0x0a00_0000, 8);
        t.insert(0x0a01_0000, 16);
        // 10.2.3.4: matches /8, leaves the /16 at bit 14 (10.1 vs 10.2).
        let r = t.lookup(0x0a02_0304, 32);
        assert!(r.has_match_len(8));
        assert!(!r.has_match_len(16));
        assert_eq!(r.mask_bits, 15);
    }

    #[test]
    fn remove_restores_previous_answers_and_reuses_nodes() {
        let mut t = PrefixTrie::<u32>::default();
        t.insert(0x0a00_0000, 8);
        t.insert(0x0a01_0000, 16);
        t.insert(0x0a01_0000, 16);
        assert!(t.remove(0x0a01_0000, 16));
        assert!(t.lookup(0x0a01_0101, 32).has_match_len(16));
        assert!(t.remove(0x0a01_0000, 16));
        assert!(!t.remove(0x0a01_0000, 16));
        let only_8 = [(0x0a00_0000u32, 8)];
        assert_eq!(
            t.lookup(0x0a02_0304, 32),
            brute_lookup(&only_8, 0x0a02_0304, 32)
        );
        assert!(t.remove(0x0a00_0000, 8));
        assert!(t.is_empty());
        let arena = t.nodes.len();
        t.insert(0x0a01_0000, 16);
        t.insert(0x0b00_0000, 8);
        assert!(t.nodes.len() <= arena.max(3));
    }

    /// Prefixes with few distinct leading bits, so that they share paths and split nodes.
    fn arb_prefix() -> impl Strategy<Value = (u128, u32)> {
        (0u8..8, any::<u128>(), 1..=128u32, 0u32..=128).prop_map(|(top, noise, len, zeros)| {
            let v = (u128::from(top) << 125) | (noise.shr(3) & !prefix_mask(zeros));
            (v & prefix_mask(len), len)
        })
    }

    fn check_against_brute_force<K: PrefixBits + Ord>(
        narrow: impl Fn(u128) -> K,
        ops: &[(bool, usize)],
        pool: &[(u128, u32)],
        values: &[(u8, u128, usize)],
    ) -> Result<(), TestCaseError> {
        let bits = K::BITS;
        let pool: Vec<(K, u32)> = pool
            .iter()
            .map(|&(p, l)| (narrow(p), l.min(bits)))
            .collect();
        let pool: Vec<(K, u32)> = pool
            .into_iter()
            .map(|(p, l)| (p & K::prefix_mask(l), l))
            .collect();
        let mut trie = PrefixTrie::<K>::default();
        let mut stored: Vec<(K, u32)> = Vec::new();
        for &(add, i) in ops {
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
            for &(mode, noise, j) in values {
                // Values near stored prefixes, so that walks go deep.
                let base = pool[j % pool.len()].0;
                let keep = u32::from(mode) % (bits + 1);
                let value = (base & K::prefix_mask(keep)) | (narrow(noise) & !K::prefix_mask(keep));
                prop_assert_eq!(trie.lookup(value, bits), brute_lookup(&stored, value, bits));
            }
        }
        prop_assert_eq!(trie.is_empty(), stored.is_empty());
        stored.sort_unstable();
        prop_assert_eq!(trie.contents(), stored);
        Ok(())
    }

    proptest! {
        #[test]
        fn lookup_agrees_with_brute_force(
            ops in prop::collection::vec((any::<bool>(), 0usize..64), 1..60),
            pool in prop::collection::vec(arb_prefix(), 1..24),
            values in prop::collection::vec(any::<(u8, u128, usize)>(), 1..24),
        ) {
            check_against_brute_force::<u128>(|v| v, &ops, &pool, &values)?;
            check_against_brute_force::<u32>(|v| (v >> 96) as u32, &ops, &pool, &values)?;
        }
    }
}
