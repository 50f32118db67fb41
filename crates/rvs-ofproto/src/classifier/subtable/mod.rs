//! One subtable of the tuple space: every rule with one particular mask, indexed by masked key,
//! with per-stage indexes that let a lookup give up early and un-wildcard only the stages it read.
//!
//! # Invariants
//! * `stage_maps` lists, in flow order, the word bitmaps of the lookup stages (metadata, L2, L3,
//!   L4 as cut by `STAGE_WORD_ENDS`) in which the mask has bits; empty stages are left out. The
//!   last one is the final stage, the others have an index.
//! * Stage hashes chain: the hash of stage `i` is seeded with the hash of stage `i - 1`, so the
//!   index of stage `i` answers "does some bucket agree with the packet on stages `0..=i`" (with
//!   false positives on hash collisions only, which cost bits, never correctness). The final hash
//!   keys `buckets`.
//! * `indices[i]` counts, per stage hash, the buckets having it; the ports trie holds the masked
//!   `tp_src:tp_dst` word of every bucket (with length `ports_mask_len`); the classifier's prefix
//!   tries hold the prefix of every bucket for each `trie_plens[j] > 0`.
//! * `max_priority` is the highest priority of any stored entry, visible or not, and
//!   `max_count` how many entries have it; `n_entries` counts all entries.

#[cfg(test)]
mod invariants;

use super::bucket::{Bucket, Slot};
use super::hash_index::HashIndex;
use super::prefix::MAX_TRIES;
use super::probe::{FieldTrie, TrieProbes};
use super::rule::{Entry, Outgoing, Priority, Rule, Version};
use super::trie::PrefixTrie;
use rvs_flow::flow::{STAGE_WORD_ENDS, hash_masked_words};
use rvs_flow::{FLOW_WORDS, Flow, Match, Wildcards};

/// Most stages a subtable can have (and one more than the number of stage indexes).
const MAX_STAGES: usize = STAGE_WORD_ENDS.len();

/// Word bitmap of words `start..end`.
const fn word_range(start: usize, end: usize) -> u32 {
    let upper = if end >= 32 {
        u32::MAX
    } else {
        (1u32 << end) - 1
    };
    let lower = if start >= 32 {
        u32::MAX
    } else {
        (1u32 << start) - 1
    };
    upper & !lower
}

/// The transport ports as one 32-bit value, `tp_src` in the high half (their order in the flow).
#[inline]
fn ports_of(flow: &Flow) -> u32 {
    (u32::from(flow.tp_src) << 16) | u32::from(flow.tp_dst)
}

/// ORs the mask words of `map` into `wc`.
#[inline]
fn fold_mask(wc: &mut Wildcards, mask: &Wildcards, map: u32) {
    let (w, m) = (wc.masks.words_mut(), mask.masks.words());
    let mut map = map;
    while map != 0 {
        let i = map.trailing_zeros() as usize;
        map &= map - 1;
        if let (Some(w), Some(m)) = (w.get_mut(i), m.get(i)) {
            *w |= m;
        }
    }
}

/// Hashes of a key: one per indexed stage, then the full one.
struct KeyHashes {
    stages: [u64; MAX_STAGES],
    full: u64,
}

/// Every rule with one mask.
#[derive(Debug, Clone)]
pub(crate) struct Subtable<R> {
    pub(crate) mask: Wildcards,
    full_map: u32,
    stage_maps: Vec<u32>,
    indices: Vec<HashIndex<u32>>,
    buckets: HashIndex<Slot<R>>,
    pub(crate) trie_plens: [u32; MAX_TRIES],
    ports_mask: u32,
    ports_mask_len: u32,
    ports_trie: PrefixTrie<u32>,
    pub(crate) max_priority: Priority,
    max_count: usize,
    pub(crate) n_entries: usize,
}

impl<R> Subtable<R> {
    /// An empty subtable for `mask`, with trie prefix lengths for the configured `tries`.
    pub(crate) fn new(mask: &Wildcards, tries: &[FieldTrie]) -> Subtable<R> {
        let full_map = mask.word_map();
        let mut stage_maps = Vec::with_capacity(MAX_STAGES);
        let mut start = 0;
        for &end in &STAGE_WORD_ENDS {
            let map = full_map & word_range(start, end.min(FLOW_WORDS));
            if map != 0 {
                stage_maps.push(map);
            }
            start = end;
        }
        let n_indices = stage_maps.len().saturating_sub(1);
        let ports_mask = ports_of(&mask.masks);
        let mut sub = Subtable {
            mask: *mask,
            full_map,
            stage_maps,
            indices: (0..n_indices).map(|_| HashIndex::default()).collect(),
            buckets: HashIndex::default(),
            trie_plens: [0; MAX_TRIES],
            ports_mask,
            ports_mask_len: 32 - ports_mask.trailing_zeros(),
            ports_trie: PrefixTrie::default(),
            max_priority: 0,
            max_count: 0,
            n_entries: 0,
        };
        sub.set_trie_plens(tries);
        sub
    }

    /// Recomputes the prefix lengths of the mask on the configured trie fields.
    pub(crate) fn set_trie_plens(&mut self, tries: &[FieldTrie]) {
        self.trie_plens = [0; MAX_TRIES];
        for (plen, trie) in self.trie_plens.iter_mut().zip(tries) {
            *plen = trie.field.prefix_len(&self.mask);
        }
    }

    /// Adds every bucket's prefixes to `tries` (after a trie configuration change).
    pub(crate) fn add_prefixes_to(&self, tries: &mut [FieldTrie]) {
        for slot in self.buckets.values() {
            for key in slot.buckets().iter().filter_map(Bucket::key) {
                add_prefixes(&self.trie_plens, tries, key);
            }
        }
    }

    fn hashes(&self, flow: &Flow) -> KeyHashes {
        let mut out = KeyHashes {
            stages: [0; MAX_STAGES],
            full: 0,
        };
        let mut basis = 0;
        for (slot, &map) in out.stages.iter_mut().zip(&self.stage_maps) {
            basis = hash_masked_words(flow, &self.mask, map, basis);
            *slot = basis;
        }
        // The final stage's chained hash is the full hash.
        out.full = basis;
        out
    }

    /// The hash that keys `buckets` for `flow`.
    #[inline]
    fn full_hash(&self, flow: &Flow) -> u64 {
        self.stage_maps.iter().fold(0, |basis, &map| {
            hash_masked_words(flow, &self.mask, map, basis)
        })
    }

    /// Looks `flow` up without tracking wildcards.
    #[inline]
    pub(crate) fn lookup(&self, flow: &Flow, version: Version) -> Option<&Entry<R>> {
        self.find_visible(flow, self.full_hash(flow), version)
    }

    #[inline]
    fn find_visible(&self, flow: &Flow, hash: u64, version: Version) -> Option<&Entry<R>> {
        let slot = self.buckets.get(&hash)?;
        slot.buckets()
            .iter()
            .find(|b| b.matches(flow, &self.mask, self.full_map))
            .and_then(|b| b.first_visible(version))
    }

    /// Looks `flow` up stage by stage, ORing into `wc` every mask bit the answer depends on.
    pub(crate) fn lookup_wc(
        &self,
        flow: &Flow,
        version: Version,
        probes: &mut TrieProbes<'_>,
        wc: &mut Wildcards,
    ) -> Option<&Entry<R>> {
        let Some((&final_map, index_maps)) = self.stage_maps.split_last() else {
            // Catch-all mask: nothing to read.
            return self.find_visible(flow, 0, version);
        };
        let mut read_map = 0u32;
        let mut basis = 0u64;
        for (map, index) in index_maps.iter().zip(&self.indices) {
            if probes.can_skip(&self.trie_plens, *map, flow, wc) {
                fold_mask(wc, &self.mask, read_map);
                return None;
            }
            read_map |= map;
            basis = hash_masked_words(flow, &self.mask, *map, basis);
            if !index.contains_key(&basis) {
                fold_mask(wc, &self.mask, read_map);
                return None;
            }
        }
        if probes.can_skip(&self.trie_plens, final_map, flow, wc) {
            fold_mask(wc, &self.mask, read_map);
            return None;
        }
        let hash = hash_masked_words(flow, &self.mask, final_map, basis);
        let found = self.find_visible(flow, hash, version);
        if found.is_none() && self.ports_mask_len > 0 {
            // Instead of every port bit, only the leading ones that tell the packet's ports apart
            // from every bucket's.
            let value = ports_of(flow) & self.ports_mask;
            let answer = self.ports_trie.lookup(value, 32);
            let needed = self.ports_mask & prefix32(answer.mask_bits);
            wc.masks.tp_src |= (needed >> 16) as u16;
            wc.masks.tp_dst |= needed as u16;
            if answer.mask_bits >= self.ports_mask_len {
                // The ports equal some bucket's: the miss came from the rest of the key, which
                // was read in full.
                read_map |= final_map;
            }
            fold_mask(wc, &self.mask, read_map);
            return None;
        }
        fold_mask(wc, &self.mask, self.full_map);
        found
    }

    fn bucket_mut(&mut self, key: &Flow, hash: u64) -> Option<&mut Bucket<R>> {
        let (mask, map) = (&self.mask, self.full_map);
        self.buckets
            .get_mut(&hash)?
            .buckets_mut()
            .iter_mut()
            .find(|b| b.matches(key, mask, map))
    }

    fn bucket(&self, key: &Flow, hash: u64) -> Option<&Bucket<R>> {
        self.buckets
            .get(&hash)?
            .buckets()
            .iter()
            .find(|b| b.matches(key, &self.mask, self.full_map))
    }

    /// Inserts `rule` (normalized, with this subtable's mask) visible from `version` on, retiring
    /// the entry of the same priority it supersedes.
    pub(crate) fn insert(
        &mut self,
        rule: Rule<R>,
        version: Version,
        tries: &mut [FieldTrie],
    ) -> Option<Outgoing<R>> {
        let hashes = self.hashes(&rule.flow_match.flow);
        let priority = rule.priority;
        let entry = Entry {
            rule,
            added: version,
            removed: Version::NOT_REMOVED,
        };
        let mut outgoing = None;
        let mut dropped = 0;
        if let Some(bucket) = self.bucket_mut(&entry.rule.flow_match.flow, hashes.full) {
            (outgoing, dropped) = bucket.retire(priority, version);
            bucket.insert_sorted(entry);
        } else {
            let key = entry.rule.flow_match.flow;
            self.add_bucket_indexes(&key, &hashes, tries);
            let bucket = Bucket::new(entry);
            match self.buckets.get_mut(&hashes.full) {
                Some(slot) => slot.push(bucket),
                None => {
                    self.buckets.insert(hashes.full, Slot::One(bucket));
                }
            }
        }
        // Count the new entry first, so that a recount triggered by the dropped one is final.
        self.note_entry_added(priority);
        for _ in 0..dropped {
            self.note_entry_gone(priority);
        }
        outgoing
    }

    /// Ends the visibility from `version` on of the rule `flow_match`/`priority` visible in
    /// `version`, dropping it if it was never visible before.
    pub(crate) fn remove(
        &mut self,
        flow_match: &Match,
        priority: Priority,
        version: Version,
        tries: &mut [FieldTrie],
    ) -> Option<Outgoing<R>> {
        let hashes = self.hashes(&flow_match.flow);
        let bucket = self.bucket_mut(&flow_match.flow, hashes.full)?;
        let at = bucket
            .entries
            .iter()
            .position(|e| e.rule.priority == priority && e.visible_in(version))?;
        let entry = bucket.entries.get_mut(at)?;
        if entry.added < version {
            entry.removed = version;
            return Some(Outgoing::Retired);
        }
        let gone = bucket.entries.remove(at);
        self.after_entry_removed(&flow_match.flow, &hashes, priority, tries);
        Some(Outgoing::Dropped(Box::new(gone.rule)))
    }

    /// Makes visible again the rule `flow_match`/`priority` that was removed at `version`, if no
    /// other rule of that match and priority is visible from `version` on.
    pub(crate) fn restore(
        &mut self,
        flow_match: &Match,
        priority: Priority,
        version: Version,
    ) -> bool {
        let full = self.full_hash(&flow_match.flow);
        let Some(bucket) = self.bucket_mut(&flow_match.flow, full) else {
            return false;
        };
        let same = |e: &&mut Entry<R>| e.rule.priority == priority;
        if bucket
            .entries
            .iter_mut()
            .filter(same)
            .any(|e| e.removed > version)
        {
            return false;
        }
        match bucket
            .entries
            .iter_mut()
            .filter(same)
            .find(|e| e.removed == version)
        {
            Some(e) => {
                e.removed = Version::NOT_REMOVED;
                true
            }
            None => false,
        }
    }

    /// The rule `flow_match`/`priority` visible in `version`.
    pub(crate) fn find_exactly(
        &self,
        flow_match: &Match,
        priority: Priority,
        version: Version,
    ) -> Option<&Entry<R>> {
        let full = self.full_hash(&flow_match.flow);
        self.bucket(&flow_match.flow, full)?.find(priority, version)
    }

    /// Drops every entry invisible in all versions from `oldest_in_use` on, appending the rules
    /// to `out`.
    pub(crate) fn purge(
        &mut self,
        oldest_in_use: Version,
        tries: &mut [FieldTrie],
        out: &mut Vec<Rule<R>>,
    ) {
        let mut emptied: Vec<Flow> = Vec::new();
        let mut n_gone = 0;
        let mut max_gone = false;
        for slot in self.buckets.values_mut() {
            for bucket in slot.buckets_mut() {
                if bucket.entries.iter().all(|e| e.removed > oldest_in_use) {
                    continue;
                }
                let key = bucket.key().copied();
                let (keep, drop): (Vec<_>, Vec<_>) = std::mem::take(&mut bucket.entries)
                    .into_iter()
                    .partition(|e| e.removed > oldest_in_use);
                bucket.entries = keep;
                for e in drop {
                    n_gone += 1;
                    max_gone |= e.rule.priority == self.max_priority;
                    out.push(e.rule);
                }
                if bucket.entries.is_empty() {
                    emptied.extend(key);
                }
            }
        }
        self.buckets.retain(|_, slot| !slot.prune());
        for key in emptied {
            let hashes = self.hashes(&key);
            self.remove_bucket_indexes(&key, &hashes, tries);
        }
        self.n_entries -= n_gone.min(self.n_entries);
        if max_gone {
            self.recount_max_priority();
        }
    }

    /// Every bucket, in no particular order.
    pub(crate) fn buckets(&self) -> impl Iterator<Item = &Bucket<R>> {
        self.buckets.values().flat_map(Slot::buckets)
    }

    fn after_entry_removed(
        &mut self,
        key: &Flow,
        hashes: &KeyHashes,
        priority: Priority,
        tries: &mut [FieldTrie],
    ) {
        if let Some(slot) = self.buckets.get_mut(&hashes.full)
            && slot.prune()
        {
            self.buckets.remove(&hashes.full);
        }
        if self.bucket(key, hashes.full).is_none() {
            self.remove_bucket_indexes(key, hashes, tries);
        }
        self.note_entry_gone(priority);
    }

    fn add_bucket_indexes(&mut self, key: &Flow, hashes: &KeyHashes, tries: &mut [FieldTrie]) {
        for (index, hash) in self.indices.iter_mut().zip(hashes.stages) {
            *index.entry(hash).or_insert(0) += 1;
        }
        if self.ports_mask_len > 0 {
            self.ports_trie
                .insert(ports_of(key) & self.ports_mask, self.ports_mask_len);
        }
        add_prefixes(&self.trie_plens, tries, key);
    }

    fn remove_bucket_indexes(&mut self, key: &Flow, hashes: &KeyHashes, tries: &mut [FieldTrie]) {
        for (index, hash) in self.indices.iter_mut().zip(hashes.stages) {
            if let Some(count) = index.get_mut(&hash) {
                *count -= 1;
                if *count == 0 {
                    index.remove(&hash);
                }
            }
        }
        if self.ports_mask_len > 0 {
            self.ports_trie
                .remove(ports_of(key) & self.ports_mask, self.ports_mask_len);
        }
        for (trie, &plen) in tries.iter_mut().zip(&self.trie_plens) {
            if plen > 0 {
                trie.trie.remove(trie.field.get(key), plen);
            }
        }
    }

    fn note_entry_added(&mut self, priority: Priority) {
        if self.n_entries == 0 || priority > self.max_priority {
            self.max_priority = priority;
            self.max_count = 1;
        } else if priority == self.max_priority {
            self.max_count += 1;
        }
        self.n_entries += 1;
    }

    fn note_entry_gone(&mut self, priority: Priority) {
        self.n_entries = self.n_entries.saturating_sub(1);
        if priority == self.max_priority {
            self.max_count = self.max_count.saturating_sub(1);
            if self.max_count == 0 {
                self.recount_max_priority();
            }
        }
    }

    fn recount_max_priority(&mut self) {
        let (mut max, mut count) = (0, 0);
        for e in self.buckets().flat_map(|b| &b.entries) {
            if count == 0 || e.rule.priority > max {
                (max, count) = (e.rule.priority, 1);
            } else if e.rule.priority == max {
                count += 1;
            }
        }
        self.max_priority = max;
        self.max_count = count;
    }
}

/// Adds the prefixes of `key` to every trie its subtable uses.
fn add_prefixes(plens: &[u32; MAX_TRIES], tries: &mut [FieldTrie], key: &Flow) {
    for (trie, &plen) in tries.iter_mut().zip(plens) {
        if plen > 0 {
            trie.trie.insert(trie.field.get(key), plen);
        }
    }
}

/// The first `n` bits of a 32-bit value set (`n` in `0..=32`).
#[inline]
fn prefix32(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        u32::MAX << (32 - n.min(32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_maps_skip_empty_stages() {
        let mut wc = Wildcards::default();
        wc.masks.dl_type = u16::MAX;
        wc.masks.nw_dst = u32::MAX;
        let sub: Subtable<()> = Subtable::new(&wc, &[]);
        assert_eq!(sub.stage_maps.len(), 2);
        assert_eq!(sub.indices.len(), 1);
        assert_eq!(sub.stage_maps[0], 1 << 16); // dl_type is at byte 132
        assert_eq!(sub.stage_maps[1], 1 << 19);
        assert_eq!(sub.ports_mask_len, 0);
        wc.masks.tp_src = 0xff00;
        let sub: Subtable<()> = Subtable::new(&wc, &[]);
        assert_eq!(sub.stage_maps.len(), 3);
        assert_eq!(sub.ports_mask_len, 8);
        let catchall: Subtable<()> = Subtable::new(&Wildcards::default(), &[]);
        assert!(catchall.stage_maps.is_empty());
        assert!(catchall.indices.is_empty());
    }

    #[test]
    fn word_range_and_prefix32_edges() {
        assert_eq!(word_range(0, 15), 0x7fff);
        assert_eq!(word_range(29, 30), 1 << 29);
        assert_eq!(prefix32(0), 0);
        assert_eq!(prefix32(24), 0xffff_ff00);
        assert_eq!(prefix32(32), u32::MAX);
    }
}
