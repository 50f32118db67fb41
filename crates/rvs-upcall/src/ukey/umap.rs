//! The ukey maps: [`N_UMAPS`] shards, each a mutex-guarded open-addressing table (`table.rs`) from [`UkeyId`] to ukey
//! (ovs-upcall.md §2.3, §2.4).
//!
//! # Invariants
//! * A ukey is in the shard `hash % N_UMAPS`. Every access, readers included, locks that shard
//!   briefly (OVS reads its cmaps lock-free under RCU; here `Arc` keeps a ukey alive for whoever
//!   still holds it after removal, which is what RCU gives OVS). The longest holds are the dump's
//!   in-place KEEP of a batch ([`UkeyMaps::with_ukeys_stamp`]: the batch's shards held together,
//!   a try-lock of each ukey and a stats push, no translation) and the sweep's visit of a shard
//!   ([`UkeyMaps::visit_shard`]: try-locks only).
//! * Lock order: shard, then ukey. Only [`UkeyMaps::with_ukeys_stamp`] holds several shards; it
//!   only try-locks them (and the ukeys under them), so it never waits while holding a lock.
//! * Each shard has its [`StampArray`] beside its mutex: the dump stamps of its ukeys, indexed by
//!   their serials (`table.rs`). A stamp is written only by a thread holding the ukey's lock, for an
//!   OPERATIONAL ukey handled in that dump with `missed_dumps` 0 ([`UkeyMaps::stamp_kept`]); it
//!   lets the sweep skip the ukey without touching it. A serial's stamp is reset to 0 (under the
//!   shard lock and the new ukey's lock) whenever the serial goes to another ukey.
//! * Insert, replace and remove happen under the shard lock; a ukey leaves its map only through
//!   [`UkeyMaps::delete`] (the sweep, purge, or the replace path), which acts once: only if the
//!   ukey's state is below DELETED, checked under the ukey lock, and only removing the very same
//!   ukey (a replacement already in its slot is left alone).
//! * A replacement takes over the old ukey's `dump_seq`, so a flow dumped twice in one dump is never
//!   credited twice.
//! * Revalidator `i` of `n` owns shards `i, i+n, i+2n, ...` for the sweep.

use std::sync::Arc;

use super::stamps::{FREE, StampArray};
use super::table::UkeyTable;
use super::{Ukey, UkeyId, UkeyInner, UkeyState};
use crate::config::N_UMAPS;
use crate::coverage::Counter;
use crate::env::Env;
use crate::log::Level;
use crate::sync::{Mutex, MutexGuard};

type Shard = UkeyTable;

/// What an install attempt did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallOutcome {
    /// No ukey had this name: inserted, now VISIBLE.
    Inserted,
    /// An EVICTED ukey with the same key was replaced (`upcall_ukey_replace`).
    Replaced,
    /// A live ukey with the same key exists (`handler_duplicate_upcall`).
    Duplicate,
    /// A ukey with the same key exists but is locked (`ukey_replace_contention`).
    Contention,
    /// A ukey with the same name but a different key exists (a UFID collision).
    Conflict,
}

impl InstallOutcome {
    /// True if the new ukey is now in the map.
    pub fn installed(self) -> bool {
        matches!(self, InstallOutcome::Inserted | InstallOutcome::Replaced)
    }
}

/// The sharded ukey maps of one engine.
pub struct UkeyMaps {
    shards: Box<[Mutex<Shard>]>,
    /// Per shard, the dump stamps of its ukeys (by serial).
    stamps: Box<[StampArray]>,
}

impl std::fmt::Debug for UkeyMaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UkeyMaps({} ukeys)", self.len())
    }
}

impl Default for UkeyMaps {
    /// [`N_UMAPS`] shards (2 under loom, to keep the models small).
    fn default() -> Self {
        UkeyMaps::with_shards(if cfg!(loom) { 2 } else { N_UMAPS })
    }
}

impl UkeyMaps {
    /// Maps with `n` shards (the engine uses [`N_UMAPS`]; models use fewer).
    pub fn with_shards(n: usize) -> UkeyMaps {
        UkeyMaps {
            shards: (0..n.max(1))
                .map(|_| Mutex::new(UkeyTable::default()))
                .collect(),
            stamps: (0..n.max(1)).map(|_| StampArray::default()).collect(),
        }
    }

    /// Number of shards.
    pub fn n_shards(&self) -> usize {
        self.shards.len()
    }

    /// The shard index of `id`.
    pub fn shard_of(&self, id: &UkeyId) -> usize {
        id.hash() as usize % self.shards.len()
    }

    fn shard(&self, index: usize) -> Option<&Mutex<Shard>> {
        self.shards.get(index)
    }

    /// The ukey named `id`, if any.
    pub fn lookup(&self, id: &UkeyId) -> Option<Arc<Ukey>> {
        self.shard(self.shard_of(id))?.lock().get(id).cloned()
    }

    /// Records that `ukey` (locked by the caller: `g` is its inner part) was handled in dump
    /// `dump_seq` and needs nothing from this round's sweep, which then skips it. The caller
    /// guarantees what the sweep would otherwise check: the ukey is OPERATIONAL, in its map, its
    /// `dump_seq` is `dump_seq` and `missed_dumps` is 0. No shard lock is taken.
    pub fn stamp_kept(&self, ukey: &Ukey, g: &UkeyInner, dump_seq: u64) {
        if let Some(stamps) = self.stamps.get(self.shard_of(ukey.id())) {
            stamps.set(g.serial, dump_seq);
        }
    }

    /// Calls `f(i, ukey, inner)` with the ukey named `ids[i]` for a whole dump batch, if there is
    /// one and its lock was free (`inner` is its locked inner part), and `kept[i]` (resized to
    /// `ids.len()`) records whether it returned true (the ukey is then stamped with `dump_seq`, see
    /// [`UkeyMaps::stamp_kept`]: `f` returns true only for a ukey it left OPERATIONAL, handled in
    /// dump `dump_seq`, with `missed_dumps` 0). `f` must not touch the maps or lock other ukeys.
    ///
    /// The batch's shards are try-locked once each, in flow order (a busy shard's flows are left
    /// out: `f` is not called for them and their `kept` stays false, so the caller takes its
    /// one-by-one path) and held together while the slots are read. This is the only place that
    /// holds more than one shard lock, and it never waits for one, so it cannot deadlock, and two
    /// revalidators whose batches share shards do not wait for each other. The ukeys are only
    /// try-locked (never waited for), all of the batch's before `f` runs, and released before the
    /// shards are. Between the lock-prefixed instructions the work is plain loads (slots, then ukey
    /// ids, then the locked ukeys' fields), so the cache misses of a batch overlap instead of
    /// following one another.
    pub fn with_ukeys_stamp(
        &self,
        ids: &[UkeyId],
        dump_seq: u64,
        kept: &mut Vec<bool>,
        mut f: impl FnMut(usize, &Ukey, &mut UkeyInner) -> bool,
    ) {
        kept.clear();
        kept.resize(ids.len(), false);
        if ids.is_empty() {
            return;
        }
        // Per shard, 1 + the index of its guard in `guards`, or 0 (not tried yet) or NOT_LOCKED.
        const NOT_LOCKED: u8 = u8::MAX;
        let mut guard_of = vec![0u8; self.shards.len()];
        let mut guards = Vec::with_capacity(ids.len());
        // (guard index, flow index, probe) for each flow whose shard exists and was free.
        let mut flows = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let index = self.shard_of(id);
            let Some(entry) = guard_of.get_mut(index) else {
                continue;
            };
            if *entry == 0 {
                *entry = NOT_LOCKED;
                // At most 254 shards per batch get a guard; a larger batch's rest takes the
                // one-by-one path.
                if guards.len() < usize::from(NOT_LOCKED - 1)
                    && let Some(guard) = self.shard(index).and_then(Mutex::try_lock)
                {
                    guards.push(guard);
                    *entry = u8::try_from(guards.len()).unwrap_or(NOT_LOCKED);
                }
            }
            if *entry != NOT_LOCKED {
                let g = usize::from(*entry) - 1;
                if let Some(map) = guards.get(g) {
                    flows.push((g, i, map.probe(id)));
                }
            }
        }
        // First touch every home slot, then find: both passes are plain loads. The probes are
        // computed above, so the touch loop is a few instructions per flow and many of its cache
        // misses are in flight together.
        let mut touched = 0u64;
        for &(g, _, probe) in &flows {
            if let Some(map) = guards.get(g) {
                touched = touched.wrapping_add(map.touch(probe));
            }
        }
        std::hint::black_box(touched);
        let mut locked: Vec<(usize, &Ukey, MutexGuard<'_, UkeyInner>)> = flows
            .iter()
            .filter_map(|&(g, i, probe)| {
                let map = guards.get(g)?;
                let slot = map.find_from(probe, ids.get(i)?)?;
                Some((i, map.ukey_at(slot)?))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|(i, ukey)| Some((i, ukey, ukey.try_lock()?)))
            .collect();
        // Every field of the steady path, whichever cache line it is on.
        let touched = locked.iter().fold(0u64, |acc, (.., inner)| {
            acc ^ inner.dump_seq
                ^ inner.reval_seq
                ^ inner.stats.n_packets
                ^ u64::from(inner.missed_dumps)
                ^ u64::from(inner.layer_code)
                ^ inner.state() as u64
        });
        std::hint::black_box(touched);
        for (i, ukey, inner) in &mut locked {
            if f(*i, ukey, inner)
                && let Some(k) = kept.get_mut(*i)
            {
                self.stamp_kept(ukey, inner, dump_seq);
                *k = true;
            }
        }
    }

    /// Inserts `new` (state CREATED), replacing an EVICTED ukey with the same key (§2.4).
    pub fn install(&self, new: &Arc<Ukey>, env: &Env) -> InstallOutcome {
        let Some(shard) = self.shard(self.shard_of(new.id())) else {
            return InstallOutcome::Conflict;
        };
        let mut map = shard.lock();
        let stamps = self.stamps.get(self.shard_of(new.id()));
        let Some(old) = map.get(new.id()).cloned() else {
            let mut inner = new.lock();
            let (_, serial) = map.insert(Arc::clone(new));
            Self::take_serial(stamps, &mut inner, serial);
            new.transition(&mut inner, UkeyState::Visible, "ukey_install", env);
            return InstallOutcome::Inserted;
        };
        if !old.same_key(new) {
            env.log_rl(
                &env.rl.common,
                Level::Warn,
                format!(
                    "Conflicting ukey for flows:\n{} in_port({})\n{} in_port({})",
                    old.id(),
                    old.key().in_port,
                    new.id(),
                    new.key().in_port
                ),
            );
            return InstallOutcome::Conflict;
        }
        let Some(mut old_inner) = old.try_lock() else {
            env.coverage.inc(Counter::UkeyReplaceContention);
            return InstallOutcome::Contention;
        };
        if old_inner.state() != UkeyState::Evicted {
            env.coverage.inc(Counter::HandlerDuplicateUpcall);
            return InstallOutcome::Duplicate;
        }
        let mut new_inner = new.lock();
        new_inner.dump_seq = old_inner.dump_seq;
        let (_, serial) = map.insert(Arc::clone(new));
        Self::take_serial(stamps, &mut new_inner, serial);
        old.transition(&mut old_inner, UkeyState::Deleted, "try_ukey_replace", env);
        new.transition(&mut new_inner, UkeyState::Visible, "try_ukey_replace", env);
        env.coverage.inc(Counter::UpcallUkeyReplace);
        InstallOutcome::Replaced
    }

    /// Gives `serial` to a ukey just inserted (its lock held as `inner`, its shard's lock held):
    /// the serial's stamp, maybe a removed ukey's, is reset first.
    fn take_serial(stamps: Option<&StampArray>, inner: &mut UkeyInner, serial: u32) {
        if let Some(stamps) = stamps {
            stamps.ensure(serial);
            stamps.set(serial, 0);
        }
        inner.serial = serial;
    }

    /// Removes `ukey` from its map and moves it to DELETED, once (§2.2 `ukey_delete`).
    /// Returns true if this call deleted it.
    pub fn delete(&self, ukey: &Arc<Ukey>, env: &Env) -> bool {
        let Some(shard) = self.shard(self.shard_of(ukey.id())) else {
            return false;
        };
        let mut map = shard.lock();
        let mut inner = ukey.lock();
        if inner.state() >= UkeyState::Deleted {
            return false;
        }
        if map.get(ukey.id()).is_some_and(|cur| Arc::ptr_eq(cur, ukey))
            && let Some((_, serial)) = map.remove_with_serial(ukey.id())
            && let Some(stamps) = self.stamps.get(self.shard_of(ukey.id()))
        {
            stamps.set(serial, FREE);
        }
        ukey.transition(&mut inner, UkeyState::Deleted, "ukey_delete", env);
        true
    }

    /// The ukeys of shard `index` at this moment.
    pub fn shard_ukeys(&self, index: usize) -> Vec<Arc<Ukey>> {
        self.shard(index)
            .map(|s| s.lock().values().cloned().collect())
            .unwrap_or_default()
    }

    /// Visits shard `index` under its lock: `settle` is called on every ukey and returns true if it
    /// dealt with the ukey in place (it may only `try_lock` the ukey: lock order shard, then ukey);
    /// the ukeys it returns false for are appended to `rest`, to be handled after the shard lock is
    /// released. No allocation unless `rest` grows.
    /// With `skip_stamp` = `Some(dump_seq)`, ukeys stamped with that dump (see
    /// [`UkeyMaps::stamp_kept`]) are passed over without being looked at.
    pub fn visit_shard(
        &self,
        index: usize,
        skip_stamp: Option<u64>,
        rest: &mut Vec<Arc<Ukey>>,
        mut settle: impl FnMut(&Ukey) -> bool,
    ) {
        let Some(shard) = self.shard(index) else {
            return;
        };
        let stamps = self.stamps.get(index);
        let map = shard.lock();
        if let (Some(seq), Some(stamps)) = (skip_stamp, stamps)
            && seq != 0
            && stamps.all_stamped(map.serial_bound(), seq)
        {
            // Every ukey of the shard was stamped in this dump: nothing to visit.
            return;
        }
        for (ukey, serial) in map.values_with_serials() {
            if let (Some(seq), Some(stamps)) = (skip_stamp, stamps)
                && seq != 0
                && stamps.get(serial) == seq
            {
                continue;
            }
            if !settle(ukey) {
                rest.push(Arc::clone(ukey));
            }
        }
    }

    /// The shard indices swept by revalidator `slice` of `n`.
    pub fn slice_shards(&self, slice: usize, n: usize) -> impl Iterator<Item = usize> + use<> {
        (slice..self.shards.len()).step_by(n.max(1))
    }

    /// Number of ukeys in revalidator `slice`'s shards (`upcall/show`'s `keys`).
    pub fn slice_len(&self, slice: usize, n: usize) -> usize {
        self.slice_shards(slice, n)
            .filter_map(|i| self.shard(i))
            .map(|s| s.lock().len())
            .sum()
    }

    /// Total number of ukeys.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// True if there is no ukey.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every ukey (a snapshot; for tools and tests).
    pub fn all(&self) -> Vec<Arc<Ukey>> {
        (0..self.shards.len())
            .flat_map(|i| self.shard_ukeys(i))
            .collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::ukey::UkeyParams;
    use rvs_dpif::clock::VirtualClock;
    use rvs_flow::ufid::Ufid;
    use rvs_flow::{Flow, Wildcards};

    fn ukey(env: &Env, n: u32) -> Arc<Ukey> {
        Arc::new(Ukey::new(
            UkeyParams {
                key: Flow::default(),
                mask: Wildcards::default(),
                id: UkeyId {
                    ufid: Ufid {
                        parts: [n, n.wrapping_mul(0x9e37_79b9), !n, 1],
                    },
                    pmd_id: 0,
                },
                ufid_present: true,
                actions: Arc::from(Vec::new()),
                reval_seq: 0,
                used: 0,
            },
            env,
            "test",
        ))
    }

    #[test]
    fn batch_skips_busy_ukeys_and_busy_shards_and_stamps_the_kept() {
        let env = Env::new(Arc::new(VirtualClock::new(1)));
        let maps = UkeyMaps::with_shards(8);
        let ukeys: Vec<Arc<Ukey>> = (0..40).map(|n| ukey(&env, n)).collect();
        for u in &ukeys {
            assert!(maps.install(u, &env).installed());
        }
        let mut ids: Vec<UkeyId> = ukeys.iter().map(|u| *u.id()).collect();
        // A name with no ukey.
        ids.push(*ukey(&env, 1000).id());
        let busy_ukey = 3;
        let busy_shard = maps.shard_of(ukeys[busy_ukey + 1].id());
        let held_ukey = ukeys[busy_ukey].lock();
        let held_shard = maps.shards[busy_shard].lock();
        let mut kept = Vec::new();
        let mut called = Vec::new();
        maps.with_ukeys_stamp(&ids, 5, &mut kept, |i, u, _inner| {
            assert_eq!(u.id(), &ids[i]);
            called.push(i);
            i % 2 == 0
        });
        drop(held_shard);
        drop(held_ukey);
        assert_eq!(kept.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            let expect_call = i < ukeys.len() && i != busy_ukey && maps.shard_of(id) != busy_shard;
            assert_eq!(called.contains(&i), expect_call, "flow {i}");
            assert_eq!(kept[i], expect_call && i % 2 == 0, "flow {i}");
            let shard = maps.shard_of(id);
            let serial = maps.shards[shard].lock().serial_of(id);
            if i < ukeys.len() {
                let stamp = serial.map(|s| maps.stamps[shard].get(s));
                assert_eq!(stamp, Some(if kept[i] { 5 } else { 0 }), "flow {i}");
            }
        }
        assert_eq!(
            called.len(),
            called
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
    }
}
