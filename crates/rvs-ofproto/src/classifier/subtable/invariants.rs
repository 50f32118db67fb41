//! Test-only consistency checks of a subtable: its counters, maximum priority, stage indexes and
//! ports trie recomputed from the buckets.
//!
//! # Invariants
//! * Compiled for tests only; every check panics with the name of the broken invariant.

use super::super::probe::FieldTrie;
use super::super::rule::Entry;
use super::super::trie::prefix_mask;
use super::{Bucket, HashIndex, Subtable, ports_of, prefix32};

impl<R> Subtable<R> {
    /// Panics if a structural invariant of the subtable does not hold (tests only).
    pub(crate) fn check_invariants(&self) {
        let entries: Vec<&Entry<R>> = self.buckets().flat_map(|b| &b.entries).collect();
        assert_eq!(entries.len(), self.n_entries, "entry count");
        let max = entries.iter().map(|e| e.rule.priority).max().unwrap_or(0);
        assert_eq!(self.max_priority, max, "max priority");
        let at_max = entries.iter().filter(|e| e.rule.priority == max).count();
        assert_eq!(self.max_count, at_max, "max count");
        let mut per_stage: Vec<HashIndex<u32>> =
            self.indices.iter().map(|_| HashIndex::default()).collect();
        for (hash, slot) in &self.buckets {
            for bucket in slot.buckets() {
                assert!(!bucket.entries.is_empty(), "empty bucket");
                let key = bucket.key().copied().unwrap_or_default();
                let hashes = self.hashes(&key);
                assert_eq!(hashes.full, *hash, "bucket under its hash");
                for (index, h) in per_stage.iter_mut().zip(hashes.stages) {
                    *index.entry(h).or_insert(0) += 1;
                }
                let sorted = bucket
                    .entries
                    .windows(2)
                    .all(|w| w[0].rule.priority >= w[1].rule.priority);
                assert!(sorted, "bucket order");
                for e in &bucket.entries {
                    assert_eq!(e.rule.flow_match.wc, self.mask, "entry mask");
                    assert_eq!(e.rule.flow_match.flow, key, "entry key");
                }
            }
        }
        assert_eq!(per_stage, self.indices, "stage indexes");
        let mut ports: Vec<(u32, u32)> = Vec::new();
        if self.ports_mask_len > 0 {
            for key in self.buckets().filter_map(Bucket::key) {
                let value = ports_of(key) & self.ports_mask;
                ports.push((value & prefix32(self.ports_mask_len), self.ports_mask_len));
            }
        }
        ports.sort_unstable();
        assert_eq!(self.ports_trie.contents(), ports, "ports trie");
    }

    /// The prefixes this subtable contributes to trie `index` of `tries` (tests only).
    pub(crate) fn expected_prefixes(&self, index: usize, tries: &[FieldTrie]) -> Vec<(u128, u32)> {
        let (Some(&plen), Some(trie)) = (self.trie_plens.get(index), tries.get(index)) else {
            return Vec::new();
        };
        if plen == 0 {
            return Vec::new();
        }
        let cut = prefix_mask(plen);
        self.buckets()
            .filter_map(Bucket::key)
            .map(|key| (trie.field.get(key) & cut, plen))
            .collect()
    }
}
