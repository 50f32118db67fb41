//! The classifier's prefix tries and the per-lookup state that decides, stage by stage, whether a
//! subtable can be skipped because no rule prefix of its length can match the packet.
//!
//! # Invariants
//! * Each trie holds, for every subtable whose mask has a CIDR prefix of length `plen > 0` on the
//!   trie's field, the first `plen` bits of the field of every bucket (distinct masked key) of that
//!   subtable — visible or not in any version, so a trie answer is conservative for all versions.
//! * A trie is looked up at most once per classifier lookup, and only when a subtable stage that
//!   contains the field is reached, so a packet that never needs it pays nothing.
//! * A skip un-wildcards exactly the bits the trie walk examined, and only if that is no more
//!   than the subtable's own prefix length (or the bits are in the wildcards already). That is
//!   sound on its own: any flow sharing those bits has a field value that no stored prefix of the
//!   subtable's length matches, whatever its `dl_type` (so, as in Open vSwitch, the `dl_type`
//!   read for the prerequisite check needs no wildcard bit of its own).

use super::prefix::{MAX_TRIES, PrefixField};
use super::trie::{PrefixTrie, TrieLookup};
use rvs_flow::{Flow, Wildcards};

/// One configured trie: its field and its prefixes.
#[derive(Debug, Clone)]
pub(crate) struct FieldTrie {
    pub(crate) field: PrefixField,
    pub(crate) trie: AddrTrie,
}

impl FieldTrie {
    /// An empty trie for `field`, keyed as narrowly as the field allows.
    pub(crate) fn new(field: PrefixField) -> FieldTrie {
        let trie = if field.bits() <= 32 {
            AddrTrie::Narrow(PrefixTrie::default())
        } else {
            AddrTrie::Wide(PrefixTrie::default())
        };
        FieldTrie { field, trie }
    }
}

/// A prefix trie over 32-bit or 128-bit field values; the interface takes and gives values
/// left-aligned in a `u128` (see `PrefixField::get`).
#[derive(Debug, Clone)]
pub(crate) enum AddrTrie {
    /// Fields of at most 32 bits (IPv4 addresses).
    Narrow(PrefixTrie<u32>),
    /// Fields of up to 128 bits (IPv6 addresses).
    Wide(PrefixTrie<u128>),
}

impl AddrTrie {
    /// Adds one owner of the first `len` bits of `value`.
    pub(crate) fn insert(&mut self, value: u128, len: u32) {
        match self {
            AddrTrie::Narrow(t) => t.insert((value >> 96) as u32, len),
            AddrTrie::Wide(t) => t.insert(value, len),
        }
    }

    /// Removes one owner of the first `len` bits of `value`.
    pub(crate) fn remove(&mut self, value: u128, len: u32) -> bool {
        match self {
            AddrTrie::Narrow(t) => t.remove((value >> 96) as u32, len),
            AddrTrie::Wide(t) => t.remove(value, len),
        }
    }

    /// Every stored prefix, left-aligned in a `u128`, sorted (tests only).
    #[cfg(test)]
    pub(crate) fn contents(&self) -> Vec<(u128, u32)> {
        match self {
            AddrTrie::Narrow(t) => t
                .contents()
                .into_iter()
                .map(|(v, l)| (u128::from(v) << 96, l))
                .collect(),
            AddrTrie::Wide(t) => t.contents(),
        }
    }

    /// Looks a field value of `field_bits` bits up.
    pub(crate) fn lookup(&self, value: u128, field_bits: u32) -> TrieLookup {
        match self {
            AddrTrie::Narrow(t) => t.lookup((value >> 96) as u32, field_bits),
            AddrTrie::Wide(t) => t.lookup(value, field_bits),
        }
    }
}

/// Lazily computed trie answers for one packet.
pub(crate) struct TrieProbes<'a> {
    tries: &'a [FieldTrie],
    answers: [Option<TrieLookup>; MAX_TRIES],
}

impl<'a> TrieProbes<'a> {
    /// Fresh state for one lookup over `tries`.
    pub(crate) fn new(tries: &'a [FieldTrie]) -> TrieProbes<'a> {
        TrieProbes {
            tries,
            answers: [None; MAX_TRIES],
        }
    }

    fn answer(&mut self, index: usize, trie: &FieldTrie, flow: &Flow) -> TrieLookup {
        if let Some(Some(done)) = self.answers.get(index) {
            return *done;
        }
        let answer = if flow.dl_type == trie.field.required_dl_type() {
            trie.trie.lookup(trie.field.get(flow), trie.field.bits())
        } else {
            // The field means something else for this packet: allow every length, skip nothing.
            TrieLookup {
                mask_bits: 0,
                match_lens: u128::MAX,
            }
        };
        if let Some(slot) = self.answers.get_mut(index) {
            *slot = Some(answer);
        }
        answer
    }

    /// True if a subtable whose trie prefix lengths are `plens` cannot match `flow` because of
    /// what the tries say about fields in `stage_map` (a word bitmap). On true, the examined
    /// prefix bits are already in `wc`; the caller adds the subtable's earlier stages.
    pub(crate) fn can_skip(
        &mut self,
        plens: &[u32; MAX_TRIES],
        stage_map: u32,
        flow: &Flow,
        wc: &mut Wildcards,
    ) -> bool {
        let tries = self.tries;
        for (index, (trie, &plen)) in tries.iter().zip(plens).enumerate() {
            if plen == 0 || stage_map & (1u32 << trie.field.first_word()) == 0 {
                continue;
            }
            let answer = self.answer(index, trie, flow);
            if answer.has_match_len(plen) {
                continue;
            }
            // No prefix of this subtable's length matches. Skip only if that does not cost more
            // bits than the subtable itself would have un-wildcarded, or if they are in `wc`
            // already.
            if answer.mask_bits <= plen {
                trie.field.set_prefix_bits(wc, answer.mask_bits);
            } else if !trie.field.prefix_bits_set(wc, answer.mask_bits) {
                continue;
            }
            return true;
        }
        false
    }
}
