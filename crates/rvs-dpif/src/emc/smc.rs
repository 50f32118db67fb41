//! The signature-match cache (SMC) of one forwarding thread, after OVS's `smc_cache`: a large,
//! set-associative table from a packet's whole-key hash to the megaflow it matched, consulted after
//! the exact-match cache and before the megaflow classifier, so that a flow whose packets come from
//! many 5-tuples costs one probe however many subtables (masks) the classifier holds.
//!
//! # Shape
//! * [`SMC_ENTRIES`] = 2¹⁸ entries in buckets of [`SMC_WAYS`] = 4, the bucket chosen by the low
//!   16 bits of the key's [`flow_hash`](super::flow_hash). An entry stores only the 32-bit hash (the
//!   "signature") and its target, not the key: 16 bytes, 4 MiB per thread, allocated at the first
//!   insertion.
//! * Insertion (every classifier hit): an entry with the same signature is overwritten; otherwise
//!   the first empty or dead way is taken, else the ways are replaced in turn.
//!
//! # Invariants
//! * A lookup returns a target only if it is alive **and** [`Covers::covers`] the packet's key
//!   (the megaflow's masked key equals the packet's under the megaflow's mask, same input port).
//!   Megaflows never overlap, so a live covering megaflow is the one the classifier would return:
//!   a signature collision or a stale entry can cost a classifier lookup, never a wrong answer.
//! * At most one entry per signature in a bucket.
//! * Owned by one thread (`&mut self` to insert); entries hold strong references (dead ones are
//!   dropped by the slow sweep or when their way is reused).

use std::sync::Arc;

use rvs_flow::Flow;

use super::Liveness;

/// Candidate entries per bucket.
pub const SMC_WAYS: usize = 4;
/// Number of entries of one cache.
pub const SMC_ENTRIES: usize = SMC_WAYS << SMC_BUCKET_BITS;

const SMC_BUCKET_BITS: u32 = 16;
const SMC_BUCKET_MASK: u32 = (1 << SMC_BUCKET_BITS) - 1;

/// A cache target that can say whether it matches a packet (for a megaflow: `packet & mask ==
/// key & mask` and the same input port).
pub trait Covers: Liveness {
    /// True if the target matches every packet with key `packet`.
    fn covers(&self, packet: &Flow) -> bool;
}

/// One cached signature.
struct Entry<T> {
    hash: u32,
    target: Arc<T>,
}

/// A signature-match cache owned by one forwarding thread.
pub struct Smc<T> {
    /// `SMC_ENTRIES` entries once anything was inserted, empty before.
    entries: Vec<Option<Entry<T>>>,
    /// Way replaced next when a bucket is full of live entries.
    next_victim: usize,
    /// Next entry the slow sweep looks at.
    sweep_pos: usize,
}

impl<T> Default for Smc<T> {
    fn default() -> Self {
        Smc {
            entries: Vec::new(),
            next_victim: 0,
            sweep_pos: 0,
        }
    }
}

/// First entry of `hash`'s bucket.
#[inline]
fn bucket_start(hash: u32) -> usize {
    (hash & SMC_BUCKET_MASK) as usize * SMC_WAYS
}

impl<T: Covers> Smc<T> {
    /// An empty cache (it allocates its table at the first insertion).
    pub fn new() -> Smc<T> {
        Smc::default()
    }

    /// The entry whose live target covers `key` (whose [`flow_hash`](super::flow_hash) is
    /// `hash`), for [`Smc::target`]: lets a caller refer to the target without cloning its `Arc`
    /// while it does not modify the cache.
    #[inline]
    pub fn lookup_slot(&self, key: &Flow, hash: u32) -> Option<usize> {
        let start = bucket_start(hash);
        let bucket = self.entries.get(start..start + SMC_WAYS)?;
        bucket
            .iter()
            .position(|e| {
                matches!(e, Some(e) if e.hash == hash && e.target.is_alive() && e.target.covers(key))
            })
            .map(|way| start + way)
    }

    /// The live target covering `key`, if cached.
    #[inline]
    pub fn lookup(&self, key: &Flow, hash: u32) -> Option<&Arc<T>> {
        self.lookup_slot(key, hash)
            .and_then(|slot| self.target(slot))
    }

    /// The target in entry `slot` (as returned by [`Smc::lookup_slot`]), alive or not.
    #[inline]
    pub fn target(&self, slot: usize) -> Option<&Arc<T>> {
        match self.entries.get(slot) {
            Some(Some(e)) => Some(&e.target),
            _ => None,
        }
    }

    /// Caches `hash → target` (the caller found `target` for a key with this hash).
    pub fn insert(&mut self, hash: u32, target: &Arc<T>) {
        if self.entries.is_empty() {
            self.entries.resize_with(SMC_ENTRIES, || None);
        }
        let start = bucket_start(hash);
        let Some(bucket) = self.entries.get_mut(start..start + SMC_WAYS) else {
            return;
        };
        let same = bucket
            .iter()
            .position(|e| matches!(e, Some(e) if e.hash == hash));
        if let Some(way) = same
            && let Some(Some(e)) = bucket.get(way)
            && Arc::ptr_eq(&e.target, target)
        {
            return;
        }
        let way = same
            .or_else(|| {
                bucket
                    .iter()
                    .position(|e| e.as_ref().is_none_or(|e| !e.target.is_alive()))
            })
            .unwrap_or_else(|| {
                self.next_victim = (self.next_victim + 1) % SMC_WAYS;
                self.next_victim
            });
        if let Some(e) = bucket.get_mut(way) {
            *e = Some(Entry {
                hash,
                target: Arc::clone(target),
            });
        }
    }

    /// Entries a full sweep visits (0 until something was inserted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True while nothing was ever inserted (the entries are not allocated yet).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Frees up to `n` entries' worth of dead targets, resuming where the previous call stopped;
    /// returns how many entries it dropped.
    pub fn sweep_dead(&mut self, n: usize) -> usize {
        let len = self.entries.len();
        if len == 0 {
            return 0;
        }
        let mut dropped = 0;
        for _ in 0..n.min(len) {
            let pos = self.sweep_pos;
            self.sweep_pos = (pos + 1) % len;
            if let Some(e) = self.entries.get_mut(pos)
                && e.as_ref().is_some_and(|e| !e.target.is_alive())
            {
                *e = None;
                dropped += 1;
            }
        }
        dropped
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.entries.iter_mut().for_each(|e| *e = None);
    }

    /// Number of occupied entries (live or dead).
    pub fn occupied(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }
}

#[cfg(test)]
mod tests;
