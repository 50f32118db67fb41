//! [`Megaflow`]: one installed datapath flow, shared by the classifier, the UFID index, the dump
//! slots and every forwarding thread's exact-match cache.
//!
//! # Invariants
//! * Key, mask, UFID and statistics id never change; the actions are swapped atomically by a modify
//!   (`ArcSwap`), so a reader sees either the old or the new list, never a mix, and cached references
//!   (EMC) pick up the new actions at once.
//! * `dead` is set (under the flow mutex) before the flow leaves the classifier and the index; once
//!   set it is never cleared. Forwarding threads ignore dead flows found in their caches.
//! * The key is stored packed ([`PackedFlow`]: bit `i` of its map is set exactly when word `i` of
//!   the key is nonzero, and its words are those nonzero words in index order); unpacking gives back
//!   the unmasked key exactly as installed.
//! * The fields a dump reads (`dead`, statistics id, UFID) come first (`repr(C)`), on the
//!   record's first cache line.
//! * The statistics id stays allocated while any reference to the record exists: it is handed back
//!   (through a lock-free channel, to be freed by the next writer) only when the last reference
//!   drops, so an update racing with a delete can never be counted for a later flow that reuses the
//!   index.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use crossbeam_channel::Sender;
use rvs_flow::flow::FLOW_WORDS;
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};

use crate::dpif::Actions;
use crate::emc::Liveness;
use crate::stats::StatsId;

/// An installed megaflow.
#[repr(C)]
pub struct Megaflow {
    /// Set when the flow is deleted.
    dead: AtomicBool,
    /// Where the flow's statistics are counted.
    pub(crate) stats_id: StatsId,
    /// The flow's UFID.
    pub(crate) ufid: Ufid,
    /// The current actions.
    pub(crate) actions: ArcSwap<Actions>,
    /// The mask (shared by every flow with the same mask).
    pub(crate) mask: Arc<Wildcards>,
    /// The unmasked key, exactly as installed, packed.
    key: PackedFlow,
    /// The key's input port (kept unpacked: the signature cache checks it on every hit).
    in_port: u32,
    /// Where the statistics id goes when the record is dropped.
    release: Sender<StatsId>,
}

impl Megaflow {
    /// A live record. `actions` may be shared with other records (see `WriterState`): a modify
    /// replaces this record's pointer only.
    pub(crate) fn new(
        ufid: Ufid,
        key: Flow,
        mask: Arc<Wildcards>,
        actions: Arc<Actions>,
        stats_id: StatsId,
        release: Sender<StatsId>,
    ) -> Megaflow {
        Megaflow {
            ufid,
            key: PackedFlow::new(&key),
            in_port: key.in_port,
            mask,
            actions: ArcSwap::new(actions),
            stats_id,
            dead: AtomicBool::new(false),
            release,
        }
    }

    /// Marks the flow deleted (forwarding threads stop using cached references to it).
    pub(crate) fn kill(&self) {
        self.dead.store(true, Ordering::Release);
    }

    /// True once the flow was deleted.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// The unmasked key, exactly as installed.
    pub(crate) fn key(&self) -> Flow {
        self.key.unpack()
    }

    /// True when `packet` arrived on the flow's input port and agrees with the flow's key on
    /// every bit of its mask (without unpacking the key).
    #[inline]
    pub(crate) fn covers_packet(&self, packet: &Flow) -> bool {
        packet.in_port == self.in_port && self.key.agrees_under(packet, &self.mask.masks)
    }

    /// The current actions.
    pub(crate) fn actions(&self) -> Actions {
        Arc::clone(&self.actions.load())
    }
}

impl Liveness for Megaflow {
    #[inline]
    fn is_alive(&self) -> bool {
        !self.is_dead()
    }
}

impl Drop for Megaflow {
    fn drop(&mut self) {
        // The receiver lives as long as the datapath; if it is gone, so is the statistics table.
        let _ = self.release.send(self.stats_id);
    }
}

impl std::fmt::Debug for Megaflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Megaflow(ufid:{}, in_port({}), dead={})",
            self.ufid,
            self.key().in_port,
            self.is_dead()
        )
    }
}

/// Nonzero key words kept inside the record (an IPv4 5-tuple key has 8); longer keys (IPv6, ARP,
/// tunnels) are kept in their own allocation.
const INLINE_KEY_WORDS: usize = 8;

/// The nonzero words of a packed key.
#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyWords {
    /// At most [`INLINE_KEY_WORDS`] words: as many as the map has bits are in use, the rest
    /// are zero.
    Inline([u64; INLINE_KEY_WORDS]),
    /// More words.
    Heap(Box<[u64]>),
}

/// A flow key, packed (stored inside the record when short: no allocation of its own, and no
/// pointer to follow when a cache checks that a packet is covered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PackedFlow {
    map: u32,
    words: KeyWords,
}

impl PackedFlow {
    /// Packs `key`.
    pub(crate) fn new(key: &Flow) -> PackedFlow {
        let map = key
            .words()
            .iter()
            .enumerate()
            .filter(|(_, w)| **w != 0)
            .fold(0u32, |map, (i, _)| map | (1 << i));
        let nonzero = key.words().iter().copied().filter(|w| *w != 0);
        let words = if map.count_ones() as usize <= INLINE_KEY_WORDS {
            let mut words = [0u64; INLINE_KEY_WORDS];
            for (slot, w) in words.iter_mut().zip(nonzero) {
                *slot = w;
            }
            KeyWords::Inline(words)
        } else {
            KeyWords::Heap(nonzero.collect())
        };
        PackedFlow { map, words }
    }

    /// The nonzero words, in index order.
    #[inline]
    fn words(&self) -> &[u64] {
        match &self.words {
            KeyWords::Inline(words) => words.get(..self.map.count_ones() as usize).unwrap_or(words),
            KeyWords::Heap(words) => words,
        }
    }

    /// The key.
    pub(crate) fn unpack(&self) -> Flow {
        let mut out = [0u64; FLOW_WORDS];
        let mut rest = self.map;
        for &w in self.words() {
            if rest == 0 {
                break;
            }
            let i = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            if let Some(slot) = out.get_mut(i) {
                *slot = w;
            }
        }
        Flow::from_words(out)
    }

    /// True when `packet` equals this key on every bit set in `mask` (words absent from the
    /// packed map are zero in the key).
    #[inline]
    pub(crate) fn agrees_under(&self, packet: &Flow, mask: &Flow) -> bool {
        let mut packed = self.words().iter();
        let mut diff = 0u64;
        for (i, (p, m)) in packet.words().iter().zip(mask.words()).enumerate() {
            let k = if self.map & (1 << i) != 0 {
                packed.next().copied().unwrap_or(0)
            } else {
                0
            };
            diff |= (p ^ k) & m;
        }
        diff == 0
    }

    /// Heap bytes used besides the struct itself.
    #[cfg(all(test, not(loom)))]
    fn heap_bytes(&self) -> usize {
        match &self.words {
            KeyWords::Inline(_) => 0,
            KeyWords::Heap(words) => words.len() * 8,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_ipv4_udp_key_is_kept_inline() {
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ethernet2([0x50, 0x54, 0, 0, 0, 1], [0x50, 0x54, 0, 0, 0, 2])
            .ipv4([198, 18, 0, 1], [198, 19, 0, 1], 64)
            .udp(1024, 80)
            .write(&mut frame, &[0; 18])
            .expect("build");
        let md = rvs_flow::extract::PacketMetadata::from_port(2);
        let key = rvs_flow::extract::extract(&frame, &md);
        let packed = PackedFlow::new(&key);
        assert_eq!(packed.heap_bytes(), 0, "{} words", packed.words().len());
        assert_eq!(packed.unpack(), key);
    }

    proptest! {
        #[test]
        fn unpacks_to_what_was_packed(
            k in prop::array::uniform30(prop_oneof![3 => Just(0u64), 1 => any::<u64>()])
        ) {
            let key = Flow::from_words(k);
            let p = PackedFlow::new(&key);
            prop_assert_eq!(p.unpack(), key);
            let nonzero = k.iter().filter(|w| **w != 0).count();
            let heap = if nonzero <= INLINE_KEY_WORDS { 0 } else { 8 * nonzero };
            prop_assert_eq!(p.heap_bytes(), heap);
        }

        #[test]
        fn agrees_under_is_masked_equality_with_the_unpacked_key(
            k in prop::array::uniform30(prop_oneof![3 => Just(0u64), 1 => any::<u64>()]),
            m in prop::array::uniform30(prop_oneof![1 => Just(0u64), 1 => Just(u64::MAX), 1 => any::<u64>()]),
            flips in prop::array::uniform30(prop_oneof![4 => Just(0u64), 1 => any::<u64>()]),
        ) {
            let key = Flow::from_words(k);
            let mask = Flow::from_words(m);
            let mut pw = k;
            for (w, f) in pw.iter_mut().zip(flips) {
                *w ^= f;
            }
            let packet = Flow::from_words(pw);
            let expected = key
                .words()
                .iter()
                .zip(packet.words())
                .zip(mask.words())
                .all(|((k, p), m)| (k ^ p) & m == 0);
            prop_assert_eq!(PackedFlow::new(&key).agrees_under(&packet, &mask), expected);
        }
    }
}
