//! The rules of one subtable that share one masked key, and the hash slot that holds the buckets
//! whose keys hash alike.
//!
//! # Invariants
//! * A bucket is never empty. Its entries are sorted by descending priority; among equal
//!   priorities the older (retired) entries come first, and at most one of them is visible in
//!   any version (the classifier retires the previous one when it inserts a new one).
//! * Every entry of a bucket has the same normalized match (same mask as the subtable, same key).

use super::rule::{Entry, Outgoing, Priority, Version};
use rvs_flow::{Flow, Wildcards};

/// Entries with the same masked key.
#[derive(Debug, Clone)]
pub(crate) struct Bucket<R> {
    pub(crate) entries: Vec<Entry<R>>,
}

/// True if `packet & mask == key` on every word of `word_map` (`key` is already masked).
#[inline]
pub(crate) fn key_matches(key: &Flow, packet: &Flow, mask: &Wildcards, word_map: u32) -> bool {
    let (k, p, m) = (key.words(), packet.words(), mask.masks.words());
    let mut map = word_map;
    let mut diff = 0u64;
    while map != 0 {
        let i = map.trailing_zeros() as usize;
        map &= map - 1;
        if let (Some(k), Some(p), Some(m)) = (k.get(i), p.get(i), m.get(i)) {
            diff |= (p & m) ^ k;
        }
    }
    diff == 0
}

impl<R> Bucket<R> {
    /// A bucket holding one entry.
    pub(crate) fn new(entry: Entry<R>) -> Bucket<R> {
        Bucket {
            entries: vec![entry],
        }
    }

    /// The masked key all entries share.
    pub(crate) fn key(&self) -> Option<&Flow> {
        self.entries.first().map(|e| &e.rule.flow_match.flow)
    }

    /// True if this bucket's key is `packet` under `mask`.
    #[inline]
    pub(crate) fn matches(&self, packet: &Flow, mask: &Wildcards, word_map: u32) -> bool {
        self.key()
            .is_some_and(|k| key_matches(k, packet, mask, word_map))
    }

    /// The highest-priority entry visible in `version`.
    #[inline]
    pub(crate) fn first_visible(&self, version: Version) -> Option<&Entry<R>> {
        self.entries.iter().find(|e| e.visible_in(version))
    }

    /// The entry of `priority` visible in `version`.
    pub(crate) fn find(&self, priority: Priority, version: Version) -> Option<&Entry<R>> {
        self.entries
            .iter()
            .find(|e| e.rule.priority == priority && e.visible_in(version))
    }

    /// Ends the visibility, from `version` on, of every entry of `priority` still visible then.
    /// Entries that were never visible before `version` are dropped. Returns what became of the
    /// (by the caller's contract, single) such entry, and how many entries were dropped.
    pub(crate) fn retire(
        &mut self,
        priority: Priority,
        version: Version,
    ) -> (Option<Outgoing<R>>, usize) {
        let mut outcome = None;
        let mut dropped = 0;
        let mut i = 0;
        while let Some(e) = self.entries.get_mut(i) {
            if e.rule.priority != priority || e.removed <= version {
                i += 1;
                continue;
            }
            if e.added >= version {
                let gone = self.entries.remove(i);
                dropped += 1;
                outcome = Some(Outgoing::Dropped(Box::new(gone.rule)));
            } else {
                e.removed = version;
                outcome = Some(Outgoing::Retired);
                i += 1;
            }
        }
        (outcome, dropped)
    }

    /// Inserts `entry` after every entry of higher or equal priority.
    pub(crate) fn insert_sorted(&mut self, entry: Entry<R>) {
        let at = self
            .entries
            .partition_point(|e| e.rule.priority >= entry.rule.priority);
        self.entries.insert(at, entry);
    }
}

/// The buckets whose full key hash is the same (almost always exactly one).
#[derive(Debug, Clone)]
pub(crate) enum Slot<R> {
    /// The usual case.
    One(Bucket<R>),
    /// Full-hash collision between distinct keys.
    Many(Vec<Bucket<R>>),
}

impl<R> Slot<R> {
    /// The buckets of the slot.
    #[inline]
    pub(crate) fn buckets(&self) -> &[Bucket<R>] {
        match self {
            Slot::One(b) => std::slice::from_ref(b),
            Slot::Many(v) => v,
        }
    }

    /// The buckets of the slot, mutably.
    pub(crate) fn buckets_mut(&mut self) -> &mut [Bucket<R>] {
        match self {
            Slot::One(b) => std::slice::from_mut(b),
            Slot::Many(v) => v,
        }
    }

    /// Adds a bucket with a key not yet in the slot.
    pub(crate) fn push(&mut self, bucket: Bucket<R>) {
        match self {
            Slot::Many(v) => v.push(bucket),
            Slot::One(_) => {
                let one = std::mem::replace(self, Slot::Many(Vec::with_capacity(2)));
                if let (Slot::One(first), Slot::Many(v)) = (one, &mut *self) {
                    v.push(first);
                    v.push(bucket);
                }
            }
        }
    }

    /// Removes the buckets that became empty. Returns true if the slot itself is now empty.
    pub(crate) fn prune(&mut self) -> bool {
        match self {
            Slot::One(b) => b.entries.is_empty(),
            Slot::Many(v) => {
                v.retain(|b| !b.entries.is_empty());
                v.is_empty()
            }
        }
    }
}
