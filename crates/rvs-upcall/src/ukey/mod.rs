//! ukeys: userspace's record of one datapath flow (ovs-upcall.md §2).
//!
//! # Invariants
//! * A ukey is named by `(UFID, pmd_id)` ([`UkeyId`]); its key, mask, UFID and shard hash never
//!   change. Key and mask are stored packed (their nonzero words only, `packed.rs`). Everything else lives behind the ukey's own mutex ([`UkeyInner`]).
//! * `stats` holds the absolute datapath counters **already credited** to rules; it moves only
//!   together with a push of the delta (or is reset when the datapath layer changes).
//! * `dump_seq` is 0 until the ukey is first handled by a dump; `reval_seq` is the reval_seq its
//!   actions were last validated against.
//! * Lock order: shard mutex, then ukey mutex. Revalidators only ever `try_lock` a ukey.

mod packed;
mod stamps;
mod state;
mod table;
mod umap;

pub use state::{Transition, UkeyState, is_legal};
pub use umap::{InstallOutcome, UkeyMaps};

pub(crate) use state::StateTrail;

use std::fmt;

use rvs_dpif::dpif::{Actions, FlowStats};
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};

use crate::env::Env;
use crate::sync::{Mutex, MutexGuard};
use crate::xlate::XlateCache;
use packed::PackedKeyMask;

/// The name of a ukey: its flow's UFID and the forwarding thread that owns the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UkeyId {
    /// The flow's UFID.
    pub ufid: Ufid,
    /// The forwarding thread (`pmd_id`) of the flow.
    pub pmd_id: u32,
}

impl UkeyId {
    /// The shard hash (OVS hashes `ufid.u32[0]` with `pmd_id`).
    pub fn hash(&self) -> u32 {
        let x = (u64::from(self.ufid.parts[0]) | (u64::from(self.pmd_id) << 32))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (x >> 32) as u32 ^ self.ufid.parts[1]
    }
}

impl fmt::Display for UkeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ufid:{}", self.ufid)
    }
}

/// The mutable part of a ukey (guarded by its mutex). `repr(C)`: every field a steady
/// revalidation reads or writes (sequence numbers, stats, `missed_dumps`, `offloaded`, the state,
/// the datapath layer's code and the serial) comes first, in 60 bytes. With the ukey's id before
/// the mutex, the steady path's part of a ukey spans the first 108 bytes of the `Arc`'s allocation
/// (2 or 3 cache lines) instead of 3–4 lines.
#[derive(Debug)]
#[repr(C)]
pub struct UkeyInner {
    /// `dump_seq` of the dump that last handled it; 0 = never.
    pub(crate) dump_seq: u64,
    /// `reval_seq` it was last validated against.
    pub(crate) reval_seq: u64,
    /// Last datapath stats already credited.
    pub(crate) stats: FlowStats,
    /// Consecutive sweeps in which its flow was not dumped.
    pub(crate) missed_dumps: u32,
    /// Last seen "offloaded" attribute.
    pub(crate) offloaded: bool,
    /// The lifecycle state (moved only by [`Ukey::transition`]).
    state: UkeyState,
    /// [`layer_code`] of `dp_layer` (0: none yet, or a layer without a code).
    pub(crate) layer_code: u8,
    /// `xcache` is the upcall translation's, kept for
    /// [`crate::xlate::Translator::translation_unchanged`] and adopted by the first stats push
    /// (OVS has no cache until then): every OVS-visible check treats it as absent
    /// ([`UkeyInner::has_xcache`]).
    pub(crate) xcache_from_upcall: bool,
    /// The ukey's serial in its shard's table (where its dump stamp lives; set on insertion).
    pub(crate) serial: u32,
    /// Translation side-effect cache.
    pub(crate) xcache: Option<Box<dyn XlateCache>>,
    /// Last seen datapath layer (set together with `layer_code` by [`UkeyInner::set_dp_layer`]).
    pub(crate) dp_layer: Option<&'static str>,
    /// Debug trail of the last state transition.
    pub(crate) trail: StateTrail,
    /// Creation time (ms).
    pub(crate) created: u64,
    /// Datapath actions installed.
    pub(crate) actions: Actions,
}

/// The datapath layers that have a one-byte code (index + 1); others get 0.
const LAYERS_WITH_CODE: [&str; 3] = ["ovs", "tc", "dpdk"];

/// The one-byte code of a datapath layer name: nonzero and distinct for the layers in
/// [`LAYERS_WITH_CODE`], 0 for any other (a 0 never counts as "same layer").
pub(crate) fn layer_code(layer: &str) -> u8 {
    LAYERS_WITH_CODE
        .iter()
        .position(|l| *l == layer)
        .and_then(|i| u8::try_from(i + 1).ok())
        .unwrap_or(0)
}

impl UkeyInner {
    /// True if the ukey has an xlate cache as Open vSwitch would: built by a revalidator, not
    /// the upcall's (see `xcache_from_upcall`).
    #[inline]
    pub fn has_xcache(&self) -> bool {
        self.xcache.is_some() && !self.xcache_from_upcall
    }

    /// Keeps the upcall translation's cache (for `translation_unchanged`; not an xlate cache
    /// in OVS's sense until a revalidator adopts it).
    pub(crate) fn keep_upcall_xcache(&mut self, xcache: Option<Box<dyn XlateCache>>) {
        self.xcache_from_upcall = xcache.is_some();
        self.xcache = xcache;
    }

    /// The current state.
    #[inline]
    pub fn state(&self) -> UkeyState {
        self.state
    }

    /// Records the datapath layer last seen (name and code).
    pub(crate) fn set_dp_layer(&mut self, layer: &'static str) {
        self.dp_layer = Some(layer);
        self.layer_code = layer_code(layer);
    }

    /// True if `code` is the nonzero code of the layer last seen.
    #[inline]
    pub(crate) fn same_layer_code(&self, code: u8) -> bool {
        code != 0 && self.layer_code == code
    }
}

/// One ukey. `repr(C)`: the id (compared by a map lookup), the mutex and the mutable state come
/// first, so that a revalidator that finds the ukey (touching the `Arc` counters) and locks it
/// stays on its first cache lines; the key and mask, read only for translations and ops, come last.
#[repr(C)]
pub struct Ukey {
    id: UkeyId,
    ufid_present: bool,
    pub(crate) inner: Mutex<UkeyInner>,
    flows: PackedKeyMask,
}

impl fmt::Debug for Ukey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ukey({})", self.id)
    }
}

/// Everything needed to build a ukey.
#[derive(Clone, Debug)]
pub struct UkeyParams {
    /// The unmasked flow key.
    pub key: Flow,
    /// The installed mask.
    pub mask: Wildcards,
    /// The flow's name.
    pub id: UkeyId,
    /// True if the datapath knows the flow by its UFID.
    pub ufid_present: bool,
    /// Installed actions.
    pub actions: Actions,
    /// reval_seq the actions were computed against.
    pub reval_seq: u64,
    /// Initial `stats.used` (0 for a fresh upcall, the dumped value for an adopted flow).
    pub used: u64,
}

/// A consistent copy of a ukey's mutable state (for tests and tools).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UkeyView {
    /// State.
    pub state: UkeyState,
    /// Credited stats baseline.
    pub stats: FlowStats,
    /// Last handled dump.
    pub dump_seq: u64,
    /// Last validated reval_seq.
    pub reval_seq: u64,
    /// Consecutive missed dumps.
    pub missed_dumps: u32,
    /// Creation time.
    pub created: u64,
    /// Installed actions.
    pub actions: Actions,
    /// True if it has an xlate cache.
    pub has_xcache: bool,
}

impl Ukey {
    /// A new ukey in state CREATED, `dump_seq` 0, created now.
    pub fn new(p: UkeyParams, env: &Env, location: &'static str) -> Ukey {
        Ukey::created_at(p, env.now(), location)
    }

    /// [`Ukey::new`] with the creation time given (`now_ms`, read by the caller from the
    /// engine's clock, saves a second clock read on the upcall path).
    pub fn created_at(p: UkeyParams, now_ms: u64, location: &'static str) -> Ukey {
        Ukey {
            id: p.id,
            flows: PackedKeyMask::new(&p.key, &p.mask),
            ufid_present: p.ufid_present,
            inner: Mutex::new(UkeyInner {
                stats: FlowStats {
                    used: p.used,
                    ..FlowStats::default()
                },
                created: now_ms,
                dump_seq: 0,
                reval_seq: p.reval_seq,
                state: UkeyState::Created,
                trail: StateTrail::new(location),
                missed_dumps: 0,
                actions: p.actions,
                xcache: None,
                xcache_from_upcall: false,
                dp_layer: None,
                layer_code: 0,
                serial: 0,
                offloaded: false,
            }),
        }
    }

    /// The ukey's name.
    pub fn id(&self) -> &UkeyId {
        &self.id
    }
    /// The shard hash (computed from the id; not stored, to keep the ukey small).
    pub fn hash(&self) -> u32 {
        self.id.hash()
    }
    /// The unmasked key (unpacked on each call: the ukey stores only its nonzero words).
    pub fn key(&self) -> Flow {
        self.flows.key()
    }
    /// The installed mask (unpacked on each call).
    pub fn mask(&self) -> Wildcards {
        self.flows.mask()
    }
    /// Reads the first word of the packed key and mask (their own allocation) and, if the ukey's
    /// lock is free, of its xlate cache, so that a full revalidation soon after finds them in
    /// the processor's cache; the value means nothing.
    pub fn touch_for_revalidation(&self) -> u64 {
        let cache = self
            .try_lock()
            .and_then(|g| g.xcache.as_deref().map(XlateCache::touch))
            .unwrap_or(0);
        self.flows.first_word() ^ cache
    }

    /// True if `wc` has a bit the installed mask does not (compared packed).
    pub fn mask_lacks_bits_of(&self, wc: &Wildcards) -> bool {
        self.flows.mask_lacks_bits_of(wc)
    }
    /// True if this ukey's key equals `other`'s (compared packed).
    pub fn same_key(&self, other: &Ukey) -> bool {
        self.flows.key_eq(&other.flows)
    }
    /// Bytes the ukey occupies on the heap: itself, its `Arc` counters and its packed key and
    /// mask (not its actions, shared with the datapath, nor its xlate cache).
    pub fn heap_bytes(&self) -> usize {
        size_of::<Ukey>() + 2 * size_of::<usize>() + self.flows.heap_bytes()
    }
    /// True if the datapath knows the flow by UFID.
    pub fn ufid_present(&self) -> bool {
        self.ufid_present
    }

    /// Blocks for the ukey's lock (handlers, tools and tests; revalidators only try-lock).
    pub fn lock(&self) -> MutexGuard<'_, UkeyInner> {
        self.inner.lock()
    }

    /// Takes the lock if free.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, UkeyInner>> {
        self.inner.try_lock()
    }

    /// Moves the (locked) ukey to `dst` under the transition rules.
    pub(crate) fn transition(
        &self,
        inner: &mut UkeyInner,
        dst: UkeyState,
        location: &'static str,
        env: &Env,
    ) -> Transition {
        state::transition(
            &mut inner.state,
            &mut inner.trail,
            dst,
            &self.id,
            location,
            env,
        )
    }

    /// A copy of the mutable state (takes the lock).
    pub fn view(&self) -> UkeyView {
        let g = self.lock();
        UkeyView {
            state: g.state(),
            stats: g.stats,
            dump_seq: g.dump_seq,
            reval_seq: g.reval_seq,
            missed_dumps: g.missed_dumps,
            created: g.created,
            actions: g.actions.clone(),
            has_xcache: g.has_xcache(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_path_fields_come_first_in_64_bytes() {
        use std::mem::offset_of;
        for hot in [
            offset_of!(UkeyInner, dump_seq),
            offset_of!(UkeyInner, reval_seq),
            offset_of!(UkeyInner, stats),
            offset_of!(UkeyInner, missed_dumps),
            offset_of!(UkeyInner, offloaded),
            offset_of!(UkeyInner, state),
            offset_of!(UkeyInner, layer_code),
            offset_of!(UkeyInner, xcache_from_upcall),
            offset_of!(UkeyInner, serial),
        ] {
            assert!(hot < 60, "hot field at {hot}");
        }
        assert_eq!(offset_of!(UkeyInner, xcache), 64);
    }

    #[test]
    fn layer_codes_are_distinct_nonzero_for_known_layers_and_zero_otherwise() {
        let codes: Vec<u8> = LAYERS_WITH_CODE.iter().map(|l| layer_code(l)).collect();
        assert!(codes.iter().all(|&c| c != 0));
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        assert_eq!(layer_code("something-else"), 0);
        assert_eq!(layer_code(""), 0);
    }
}
