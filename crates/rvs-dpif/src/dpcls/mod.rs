//! The megaflow classifier of the userspace datapath ("dpcls"): one subtable per distinct mask.
//!
//! Megaflows never overlap (the translation derives each from one packet and the bits it looked at), so
//! a lookup can stop at the first subtable that holds the packet's masked key: there are no priorities.
//!
//! # Invariants
//! * Readers never block: the subtable list is an immutable snapshot published with `arc-swap`, and each
//!   subtable's entries live in a lock-free `papaya` map (blocking resize: the single writer copies a
//!   growing map at once; readers never help). A lookup returns a clone of the entry's `Arc`,
//!   so nothing it returns depends on a guard or on the subtable staying published. (Each map keeps its
//!   own `seize` collector on purpose: papaya reclaims a shared collector's garbage when any one map drops.)
//! * Writers (insert, remove, re-rank) are serialised by the caller (`&self` methods, but the datapath
//!   calls them under its flow mutex); a new subtable is published only after its first entry is in it,
//!   and an empty subtable is unpublished before it is dropped.
//! * A subtable's key is the list of its mask's non-zero words of `flow & mask` (a "miniflow"), so a
//!   5-tuple megaflow hashes and compares 5–6 words, not 30.
//! * Ranking: every subtable counts its hits; [`Dpcls::rerank`] republishes the list sorted by hits since
//!   the previous re-rank (busiest first) and resets the counts.

mod keys;
mod subtable;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arc_swap::ArcSwap;
use rvs_flow::{Flow, Wildcards};

pub use subtable::{MiniKey, Subtable};

/// A megaflow classifier holding entries of type `T` (the datapath's flow record).
pub struct Dpcls<T: Send + Sync + 'static> {
    subtables: ArcSwap<Vec<Arc<Subtable<T>>>>,
}

/// Why an insert was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertError {
    /// An entry with the same mask and masked key exists already.
    Exists,
}

impl<T: Send + Sync + 'static> Default for Dpcls<T> {
    fn default() -> Self {
        Dpcls::new()
    }
}

impl<T: Send + Sync + 'static> Dpcls<T> {
    /// An empty classifier.
    pub fn new() -> Dpcls<T> {
        Dpcls {
            subtables: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Finds the entry matching `flow`, scanning subtables in rank order, and counts the hit.
    #[inline]
    pub fn lookup(&self, flow: &Flow) -> Option<Arc<T>> {
        let subtables = self.subtables.load();
        subtables.iter().find_map(|st| {
            let hit = st.lookup(flow);
            if hit.is_some() {
                st.hits.fetch_add(1, Ordering::Relaxed);
            }
            hit
        })
    }

    /// Like [`Dpcls::lookup`], and also says how many subtables were searched (1 = the first), which
    /// the datapath reports as its "masks hit" count.
    #[inline]
    pub fn lookup_ranked(&self, flow: &Flow) -> Option<(Arc<T>, usize)> {
        let subtables = self.subtables.load();
        subtables.iter().enumerate().find_map(|(i, st)| {
            let hit = st.lookup(flow)?;
            st.hits.fetch_add(1, Ordering::Relaxed);
            Some((hit, i + 1))
        })
    }

    /// Like [`Dpcls::lookup_ranked`], searching only the subtables at rank positions `ranks`
    /// (0-based); the count returned is still from the first subtable (so `ranks.start + 1` for
    /// a hit in the first one searched).
    #[inline]
    pub fn lookup_ranked_in(
        &self,
        flow: &Flow,
        ranks: std::ops::Range<usize>,
    ) -> Option<(Arc<T>, usize)> {
        let subtables = self.subtables.load();
        let start = ranks.start;
        subtables
            .iter()
            .enumerate()
            .skip(start)
            .take(ranks.end.saturating_sub(start))
            .find_map(|(i, st)| {
                let hit = st.lookup(flow)?;
                st.hits.fetch_add(1, Ordering::Relaxed);
                Some((hit, i + 1))
            })
    }

    /// Inserts `entry` under `mask` for the packet `key` (the key is masked here).
    pub fn insert(&self, key: &Flow, mask: &Wildcards, entry: Arc<T>) -> Result<(), InsertError> {
        let current = self.subtables.load_full();
        if let Some(st) = current.iter().find(|st| st.mask() == mask) {
            return st.insert(key, entry);
        }
        let st = Arc::new(Subtable::new(*mask));
        st.insert(key, entry)?;
        let mut next: Vec<Arc<Subtable<T>>> = current.as_ref().clone();
        next.push(st);
        self.subtables.store(Arc::new(next));
        Ok(())
    }

    /// Removes the entry for `key` under `mask`; returns true if it was present. An emptied subtable is
    /// unpublished.
    pub fn remove(&self, key: &Flow, mask: &Wildcards) -> bool {
        let current = self.subtables.load_full();
        let Some(pos) = current.iter().position(|st| st.mask() == mask) else {
            return false;
        };
        let removed = current[pos].remove(key);
        if removed && current[pos].is_empty() {
            let mut next: Vec<Arc<Subtable<T>>> = current.as_ref().clone();
            next.remove(pos);
            self.subtables.store(Arc::new(next));
        }
        removed
    }

    /// Number of subtables (distinct masks).
    pub fn subtable_count(&self) -> usize {
        self.subtables.load().len()
    }

    /// Number of entries over all subtables.
    pub fn len(&self) -> usize {
        self.subtables.load().iter().map(|st| st.len()).sum()
    }

    /// True if no entry is installed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Re-sorts the subtables by hits since the last re-rank (busiest first) and resets the counters.
    pub fn rerank(&self) {
        let current = self.subtables.load_full();
        let mut ranked: Vec<(u64, Arc<Subtable<T>>)> = current
            .iter()
            .map(|st| (st.hits.swap(0, Ordering::Relaxed), Arc::clone(st)))
            .collect();
        ranked.sort_by_key(|(hits, _)| std::cmp::Reverse(*hits));
        self.subtables
            .store(Arc::new(ranked.into_iter().map(|(_, st)| st).collect()));
    }

    /// A snapshot of the subtables in rank order (for dumps and statistics).
    pub fn subtables(&self) -> Arc<Vec<Arc<Subtable<T>>>> {
        self.subtables.load_full()
    }
}

#[cfg(test)]
mod tests;
