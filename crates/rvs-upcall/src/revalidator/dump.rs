//! The dump phase of one revalidator (OVS's `revalidate()`, ovs-upcall.md §3.2) and
//! `ukey_acquire` (§2.5).
//!
//! # Invariants
//! * A flow whose ukey is busy is skipped (`upcall_ukey_contention`); a ukey is never waited for.
//! * A ukey already stamped with this round's `dump_seq` is skipped without touching statistics.
//! * An INCONSISTENT ukey is stamped and deleted; one above OPERATIONAL (being or already evicted)
//!   is skipped with an INFO; the others become OPERATIONAL ("seen in the datapath").
//! * Datapath ops of a batch are pushed before the next batch is dumped; ukeys are not freed here.
//! * The steady case (KEEP without translation, `Steady::keep_in_place`) makes the same changes
//!   the full path would, without cloning the ukey's `Arc`. In a terse dump it is tried first for
//!   each flow as the datapath hands it over, on the ukey the flow's installer attached as its
//!   owner (`Steady::keep_owned`: no map lookup, no shard lock; the owner is only used if it names
//!   this flow, and only try-locked). The flows not kept that way get it for the rest of the batch
//!   (one pass under the batch's shard locks, `UkeyMaps::with_ukeys_stamp`); the flows still not
//!   kept then take the full path, in dump order. Every steady KEEP stamps the ukey for the sweep
//!   while holding its lock.
//! * The idle limit of a batch comes from the round's flow-limit policy (`policy.rs`); under the
//!   adaptive policy every flow the dump keeps records its `used` time in the revalidator's own
//!   idle-age histogram ([`AdaptiveDump`]), merged into the engine's when the cursor is dropped.

use std::any::Any;
use std::sync::Arc;

use rvs_dpif::dpif::{DpifError, DpifFlow, FlowDumpThread, FlowGet, FlowRef, FlowStats, TerseFlow};
use rvs_flow::odp::OdpAction;

use super::policy::AdaptiveDump;
use super::reval::counter_delta;
use super::{DelReason, RevalResult, RoundCtx, UkeyOp};
use crate::config::REVALIDATE_MAX_BATCH;
use crate::coverage::Counter;
use crate::log::Level;
use crate::sync::MutexGuard;
use crate::udpif::Udpif;
use crate::ukey::{Ukey, UkeyId, UkeyInner, UkeyParams, UkeyState, layer_code};

/// What a datapath flow's owner is, seen through a dump.
type OwnerRef = dyn Any + Send + Sync;

/// After a batch in which most flows' owners were found but not in the steady case, this many
/// batches are dumped without trying owners (then owners are tried again).
const OWNER_BACKOFF_BATCHES: u32 = 16;

/// Why no ukey could be acquired for a dumped flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcquireError {
    /// Another thread holds the ukey (or won the race to create it).
    Busy,
    /// The flow vanished while being fetched (`ENOENT`): nothing to do.
    NotFound,
    /// The flow cannot be adopted (recirculation, or a terse flow without UFID): delete it.
    Invalid(String),
    /// Fetching the flow failed otherwise: delete it.
    Dpif(DpifError),
}

impl std::fmt::Display for AcquireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AcquireError::Busy => f.write_str("Device or resource busy"),
            AcquireError::NotFound => f.write_str("No such file or directory"),
            AcquireError::Invalid(_) => f.write_str("Invalid argument"),
            AcquireError::Dpif(e) => write!(f, "{e}"),
        }
    }
}

/// True if moving between these datapath layers resets the statistics baseline: one of them is a
/// flows-provider-only offload layer (`tc`), the other is not.
fn layer_change_resets_stats(old: &str, new: &str) -> bool {
    old != new && (old == "tc" || new == "tc")
}

/// One revalidator's cursor on the round's dump, with its per-call state.
pub struct RevalidatorDump<'d> {
    udpif: &'d Udpif,
    ctx: RoundCtx,
    thread: Box<dyn FlowDumpThread + 'd>,
    /// The full records of the batch (non-terse dumps only; reused per batch).
    flows: Vec<DpifFlow>,
    /// The terse part of the batch's flows (reused per batch).
    terse: Vec<TerseFlow>,
    /// The ukey names of `flows` (reused per batch).
    ids: Vec<UkeyId>,
    /// Which of `flows` were KEPT in place (reused per batch).
    kept: Vec<bool>,
    /// Ukeys the full path KEPT (reused per batch): settled for the sweep right away.
    settled: Vec<UkeyId>,
    kill_warned: bool,
    /// Batches left to dump without trying flow owners (see [`OWNER_BACKOFF_BATCHES`]).
    owner_backoff: u32,
    /// The adaptive policy's per-revalidator state (`None` under OVS's policy).
    adaptive: Option<AdaptiveDump>,
}

impl Drop for RevalidatorDump<'_> {
    fn drop(&mut self) {
        if let Some(adaptive) = self.adaptive.take() {
            adaptive.finish(self.udpif);
        }
    }
}

impl<'d> RevalidatorDump<'d> {
    /// A cursor for one revalidator.
    pub fn new(udpif: &'d Udpif, ctx: RoundCtx, thread: Box<dyn FlowDumpThread + 'd>) -> Self {
        RevalidatorDump {
            udpif,
            ctx,
            thread,
            flows: Vec::with_capacity(REVALIDATE_MAX_BATCH),
            terse: Vec::with_capacity(REVALIDATE_MAX_BATCH),
            ids: Vec::with_capacity(REVALIDATE_MAX_BATCH),
            kept: Vec::with_capacity(REVALIDATE_MAX_BATCH),
            settled: Vec::with_capacity(REVALIDATE_MAX_BATCH),
            kill_warned: false,
            owner_backoff: 0,
            adaptive: AdaptiveDump::for_round(udpif, &ctx),
        }
    }

    /// Dumps and handles batches until the dump ends; returns the flows dumped.
    pub fn run(&mut self) -> usize {
        let mut total = 0;
        loop {
            let n = self.batch();
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// Dumps and handles one batch of up to [`REVALIDATE_MAX_BATCH`] flows; 0 = end of dump.
    pub fn batch(&mut self) -> usize {
        let udpif = self.udpif;
        self.flows.clear();
        self.terse.clear();
        let env = &udpif.env;
        let n_dp_flows = udpif.n_flows();
        let limit = u64::from(self.ctx.flow_limit);
        let kill_all_limit = limit.saturating_mul(2);
        let kill_them_all = n_dp_flows > kill_all_limit;
        let now = env.now();
        // Computed for the first flow of the batch (the adaptive policy counts each batch).
        let mut batch_max_idle = None;
        // A terse dump only needs the terse records (a missing ukey fetches its flow); others keep
        // the full records for the flows that take the full path. In a terse dump, a flow whose
        // owner is its ukey is first tried for the steady case right there (`keep_owned`); only
        // the flows it does not keep are collected for the rest of this function.
        let try_owners = self.owner_backoff == 0;
        self.owner_backoff = self.owner_backoff.saturating_sub(1);
        let n = if self.ctx.terse && !kill_them_all && try_owners {
            let mut not_steady = 0usize;
            let RevalidatorDump {
                thread,
                terse,
                ctx,
                adaptive,
                ..
            } = self;
            let ctx = *ctx;
            let mut visit = |flows: &[TerseFlow], owners: &[Option<&OwnerRef>]| {
                let max_idle = *batch_max_idle.get_or_insert_with(|| {
                    udpif.batch_max_idle(&ctx, adaptive.as_mut(), n_dp_flows, now)
                });
                let steady = Steady {
                    udpif,
                    ctx: &ctx,
                    adaptive: adaptive.as_ref(),
                    max_idle,
                    now,
                };
                not_steady += steady.keep_owned(flows, owners, terse);
            };
            let n = thread.next_terse_visit(REVALIDATE_MAX_BATCH, &mut visit);
            if not_steady * 2 > n {
                // Most owners were found but not steady (a round after a flow-mod): locking them
                // here only doubles the full path's locking. Dump plainly for a while.
                self.owner_backoff = OWNER_BACKOFF_BATCHES;
            }
            n
        } else if self.ctx.terse {
            self.thread
                .next_terse(&mut self.terse, REVALIDATE_MAX_BATCH)
        } else {
            let n = self.thread.next(&mut self.flows, REVALIDATE_MAX_BATCH);
            self.terse.extend(self.flows.iter().map(TerseFlow::of));
            n
        };
        if n == 0 {
            return 0;
        }
        if n_dp_flows >= limit {
            env.coverage.inc(Counter::UpcallFlowLimitHit);
        }
        if kill_them_all {
            env.coverage.inc(Counter::UpcallFlowLimitKill);
            if !self.kill_warned {
                self.kill_warned = true;
                env.log_rl(
                    &env.rl.kill,
                    Level::Warn,
                    format!(
                        "Number of datapath flows ({n_dp_flows}) twice as high as current dynamic \
                         flow limit ({kill_all_limit}).  Starting to delete flows unconditionally \
                         as an emergency measure."
                    ),
                );
            }
        }
        let max_idle = match batch_max_idle {
            Some(max_idle) => max_idle,
            None => udpif.batch_max_idle(&self.ctx, self.adaptive.as_mut(), n_dp_flows, now),
        };
        let mut ops = Vec::new();
        let flows = std::mem::take(&mut self.flows);
        let terse = std::mem::take(&mut self.terse);
        let mut ids = std::mem::take(&mut self.ids);
        let mut kept = std::mem::take(&mut self.kept);
        let mut settled = std::mem::take(&mut self.settled);
        settled.clear();
        ids.clear();
        ids.extend(terse.iter().map(|f| UkeyId {
            ufid: f.ufid,
            pmd_id: f.pmd_id,
        }));
        kept.clear();
        if !kill_them_all {
            // The steady case of the rest of the batch, under the batch's shard locks.
            let steady = Steady {
                udpif,
                ctx: &self.ctx,
                adaptive: self.adaptive.as_ref(),
                max_idle,
                now,
            };
            udpif
                .ukeys
                .with_ukeys_stamp(&ids, self.ctx.dump_seq, &mut kept, |i, ukey, g| {
                    terse
                        .get(i)
                        .is_some_and(|f| steady.keep_in_place(ukey, g, f))
                });
        }
        for (i, t) in terse.iter().enumerate() {
            if kept.get(i).copied().unwrap_or(false) {
                continue;
            }
            let built;
            let f = match flows.get(i) {
                Some(f) => f,
                None => {
                    built = t.to_flow();
                    &built
                }
            };
            if self.revalidate_flow(f, kill_them_all, max_idle, now, &mut ops)
                && let Some(id) = ids.get(i)
            {
                settled.push(*id);
            }
        }
        if !settled.is_empty() {
            // What this round's sweep would do to these ukeys, done now while they are in cache;
            // their stamped slots then let the sweep skip them.
            let dump_seq = self.ctx.dump_seq;
            udpif
                .ukeys
                .with_ukeys_stamp(&settled, dump_seq, &mut kept, |_, _, g| {
                    if g.state() == UkeyState::Operational && g.dump_seq == dump_seq {
                        g.missed_dumps = 0;
                        true
                    } else {
                        false
                    }
                });
        }
        self.flows = flows;
        self.terse = terse;
        self.ids = ids;
        self.kept = kept;
        self.settled = settled;
        if !ops.is_empty() {
            udpif.push_dp_ops(ops);
        }
        n
    }

    /// The full path for one dumped flow; true if it KEPT an OPERATIONAL ukey (handled in this
    /// dump), which the caller may then settle for the sweep.
    fn revalidate_flow(
        &self,
        f: &DpifFlow,
        kill_them_all: bool,
        max_idle: u64,
        now: u64,
        ops: &mut Vec<UkeyOp>,
    ) -> bool {
        let udpif = self.udpif;
        let env = &udpif.env;
        let ukey = match udpif.ukey_acquire(f) {
            Ok(ukey) => ukey,
            Err(AcquireError::Busy) => {
                env.coverage.inc(Counter::UpcallUkeyContention);
                return false;
            }
            Err(e) => {
                env.log_rl(
                    &env.rl.unexpected_flow,
                    Level::Warn,
                    format!(
                        "Failed to acquire udpif_key corresponding to unexpected flow ({e}): ufid:{}",
                        f.ufid
                    ),
                );
                if e != AcquireError::NotFound {
                    ops.push(UkeyOp::delete_unowned(udpif, f));
                }
                return false;
            }
        };
        let Some(mut g) = ukey.try_lock() else {
            env.coverage.inc(Counter::UpcallUkeyContention);
            return false;
        };
        g.offloaded = f.attrs.offloaded;
        let layer = f.attrs.dp_layer;
        match g.dp_layer {
            None => g.set_dp_layer(layer),
            Some(old) if layer_change_resets_stats(old, layer) => {
                env.coverage.inc(Counter::UkeyDpChange);
                g.stats = FlowStats::default();
                g.set_dp_layer(layer);
            }
            Some(_) => {}
        }

        if g.dump_seq == self.ctx.dump_seq {
            env.coverage.inc(if g.xcache.is_some() {
                Counter::DumpedDuplicateFlow
            } else {
                Counter::DumpedNewFlow
            });
            return false;
        }
        let state = g.state();
        if state == UkeyState::Inconsistent {
            g.dump_seq = self.ctx.dump_seq;
            ops.extend(UkeyOp::for_result(
                udpif,
                &ukey,
                &mut g,
                RevalResult::Delete(DelReason::UpdateFail),
            ));
            env.coverage.inc(Counter::DumpedInconsistentFlow);
            return false;
        }
        if state <= UkeyState::Operational {
            ukey.transition(&mut g, UkeyState::Operational, "revalidate", env);
        } else {
            env.log.write(
                Level::Info,
                format!(
                    "Unexpected ukey transition from state {} (last transitioned from thread {} at {})",
                    state, g.trail.thread, g.trail.location
                ),
            );
            return false;
        }

        let mut stats = f.stats;
        let mut used = stats.used;
        if used == 0 {
            used = update_used(&g, &mut stats, self.ctx.terse, now);
        }
        let result = if kill_them_all {
            RevalResult::Delete(DelReason::FlowLimit)
        } else if used != 0 && used < now.saturating_sub(max_idle) {
            RevalResult::Delete(DelReason::FlowIdle)
        } else {
            udpif.revalidate_ukey(&ukey, &mut g, &stats, self.ctx.reval_seq)
        };
        g.dump_seq = self.ctx.dump_seq;
        if !matches!(result, RevalResult::Delete(_)) {
            self.record_kept(used);
        }
        if result != RevalResult::Keep {
            ops.extend(UkeyOp::for_result(udpif, &ukey, &mut g, result));
            return false;
        }
        true
    }
}

impl RevalidatorDump<'_> {
    /// Records the `used` time of a flow the dump keeps (adaptive policy only).
    #[inline]
    fn record_kept(&self, used: u64) {
        if let Some(adaptive) = &self.adaptive {
            adaptive.record(used);
        }
    }
}

/// What the steady case of one batch needs (see [`Steady::keep_in_place`]).
struct Steady<'a> {
    udpif: &'a Udpif,
    ctx: &'a RoundCtx,
    adaptive: Option<&'a AdaptiveDump>,
    max_idle: u64,
    now: u64,
}

impl Steady<'_> {
    /// The steady case for a group of dumped flows reached through their datapath owners: each
    /// flow whose owner is the ukey of this very flow (same UFID and pmd id; anything else, or no
    /// owner, is left to the map lookup), whose lock is free and which [`Steady::keep_in_place`]
    /// KEEPs is stamped for the sweep under its lock; every other flow is appended to `rest`.
    /// Returns how many flows were reached through their owner but not KEPT (not steady).
    /// Never waits; touches no shard. Like [`UkeyMaps::with_ukeys_stamp`], it works in passes of
    /// plain loads first (owners' ids, then the locked ukeys' fields) so that the cache misses of
    /// the group overlap, and takes the ukey locks only once their lines are loaded.
    ///
    /// [`UkeyMaps::with_ukeys_stamp`]: crate::ukey::UkeyMaps::with_ukeys_stamp
    fn keep_owned(
        &self,
        flows: &[TerseFlow],
        owners: &[Option<&OwnerRef>],
        rest: &mut Vec<TerseFlow>,
    ) -> usize {
        let owned: Vec<(usize, &Ukey)> = flows
            .iter()
            .zip(owners)
            .enumerate()
            .filter_map(|(i, (f, owner))| {
                let ukey = (*owner)?.downcast_ref::<Ukey>()?;
                let id = ukey.id();
                (id.ufid == f.ufid && id.pmd_id == f.pmd_id).then_some((i, ukey))
            })
            .collect();
        let mut locked: Vec<(usize, &Ukey, MutexGuard<'_, UkeyInner>)> = owned
            .into_iter()
            .filter_map(|(i, ukey)| Some((i, ukey, ukey.try_lock()?)))
            .collect();
        let touched = locked.iter().fold(0u64, |acc, (.., g)| {
            acc ^ g.dump_seq ^ g.reval_seq ^ g.stats.n_packets ^ u64::from(g.serial)
        });
        std::hint::black_box(touched);
        let mut kept = [false; REVALIDATE_MAX_BATCH];
        let not_steady = locked.len();
        let mut n_kept = 0;
        for (i, ukey, g) in &mut locked {
            if let (Some(f), Some(k)) = (flows.get(*i), kept.get_mut(*i))
                && self.keep_in_place(ukey, g, f)
            {
                self.udpif.ukeys.stamp_kept(ukey, g, self.ctx.dump_seq);
                *k = true;
                n_kept += 1;
            }
        }
        drop(locked);
        for (i, f) in flows.iter().enumerate() {
            if !kept.get(i).copied().unwrap_or(false) {
                rest.push(*f);
            }
        }
        not_steady - n_kept
    }

    /// The steady case, for a ukey the caller has locked (`g`): an OPERATIONAL ukey, not yet
    /// handled in this dump, validated against the current `reval_seq`, not idle, on the same
    /// datapath layer, whose counters did not go backwards and which needs no xlate cache to credit
    /// its delta. It is KEPT exactly as `revalidate_flow` would (delta credited, baseline moved,
    /// `dump_seq` stamped). Returns false, having changed nothing but `offloaded`, for every other
    /// case (the caller then takes the full path). When it returns true it also zeroes
    /// `missed_dumps`, the sweep's only change to such a ukey, so the caller may stamp the ukey
    /// for the sweep to skip.
    fn keep_in_place(&self, ukey: &Ukey, g: &mut UkeyInner, f: &TerseFlow) -> bool {
        if g.state() != UkeyState::Operational
            || g.dump_seq == self.ctx.dump_seq
            || g.reval_seq != self.ctx.reval_seq
            || !g.same_layer_code(layer_code(f.attrs.dp_layer))
        {
            return false;
        }
        let (packets, packets_back) = counter_delta(f.stats.n_packets, g.stats.n_packets);
        if packets_back || (packets > 0 && g.xcache.is_none()) {
            return false;
        }
        g.offloaded = f.attrs.offloaded;
        let mut stats = f.stats;
        let mut used = stats.used;
        if used == 0 {
            used = update_used(g, &mut stats, self.ctx.terse, self.now);
        }
        if used != 0 && used < self.now.saturating_sub(self.max_idle) {
            return false;
        }
        let result = self
            .udpif
            .revalidate_ukey(ukey, g, &stats, self.ctx.reval_seq);
        debug_assert_eq!(result, RevalResult::Keep);
        if let Some(adaptive) = self.adaptive {
            adaptive.record(used);
        }
        g.dump_seq = self.ctx.dump_seq;
        // What the sweep would do for a ukey dumped in its round.
        g.missed_dumps = 0;
        true
    }
}

/// `used` of a flow the datapath reports as never used (OVS's `udpif_update_used`): non-terse,
/// the ukey's creation time (stats untouched); terse, now if the packet count grew, else the last
/// known use, else the creation time (and `stats.used` is set to match).
fn update_used(g: &UkeyInner, stats: &mut FlowStats, terse: bool, now: u64) -> u64 {
    if !terse {
        return g.created;
    }
    stats.used = if stats.n_packets > g.stats.n_packets {
        now
    } else if g.stats.used != 0 {
        g.stats.used
    } else {
        g.created
    };
    stats.used
}

impl Udpif {
    /// Finds the ukey of a dumped flow, adopting the flow with a new ukey if there is none
    /// (created with `reval_seq - 1`, so it is validated in this round).
    pub fn ukey_acquire(&self, f: &DpifFlow) -> Result<Arc<Ukey>, AcquireError> {
        let id = UkeyId {
            ufid: f.ufid,
            pmd_id: f.pmd_id,
        };
        if let Some(ukey) = self.ukeys.lookup(&id) {
            return Ok(ukey);
        }
        let fetched;
        let full = if f.key.is_none() || f.mask.is_none() || f.actions.is_none() {
            if !f.ufid_present {
                return Err(AcquireError::Invalid("terse flow without UFID".into()));
            }
            fetched = self
                .dpif
                .flow_get(FlowGet {
                    flow: FlowRef::Ufid(f.ufid),
                    pmd_id: f.pmd_id,
                })
                .map_err(|e| match e {
                    DpifError::NotFound => AcquireError::NotFound,
                    e => AcquireError::Dpif(e),
                })?;
            &fetched
        } else {
            f
        };
        let (Some(key), Some(mask), Some(actions)) = (&full.key, &full.mask, &full.actions) else {
            return Err(AcquireError::Invalid("incomplete flow".into()));
        };
        if key.recirc_id != 0 || actions.iter().any(|a| matches!(a, OdpAction::Recirc(_))) {
            return Err(AcquireError::Invalid("recirculation".into()));
        }
        let ukey = Arc::new(Ukey::new(
            UkeyParams {
                key: *key,
                mask: *mask,
                id,
                ufid_present: f.ufid_present,
                actions: actions.clone(),
                reval_seq: self.reval_seq().wrapping_sub(1),
                used: f.stats.used,
            },
            &self.env,
            "ukey_create_from_dpif_flow",
        ));
        if self.ukeys.install(&ukey, &self.env).installed() {
            Ok(ukey)
        } else {
            Err(AcquireError::Busy)
        }
    }
}
