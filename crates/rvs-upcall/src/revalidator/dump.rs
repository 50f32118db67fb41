//! The dump phase of one revalidator (OVS's `revalidate()`, ovs-upcall.md §3.2) and
//! `ukey_acquire` (§2.5).
//!
//! # Invariants
//! * A flow whose ukey is busy is skipped (`upcall_ukey_contention`); a ukey is never waited for.
//! * A ukey already stamped with this round's `dump_seq` is skipped without touching statistics.
//! * An INCONSISTENT ukey is stamped and deleted; one above OPERATIONAL (being or already evicted)
//!   is skipped with an INFO; the others become OPERATIONAL ("seen in the datapath").
//! * Datapath ops of a batch are started before the next batch is dumped; their results (a
//!   delete's final statistics need a grace period of the datapath's forwarding threads) are
//!   handled as soon as they are ready, at a later batch, and all of them before the dump phase
//!   ends (`run`, or the cursor's drop), so the sweep sees every op's outcome. Ukeys are not freed
//!   here.
//! * The steady case (KEEP without translation, `Steady::keep_in_place`) makes the same changes
//!   the full path would, without cloning the ukey's `Arc`. In a terse dump it is tried first for
//!   each flow as the datapath hands it over, on the ukey the flow's installer attached as its
//!   owner (`Steady::keep_owned`: no map lookup, no shard lock; the owner is only used if it names
//!   this flow, and only try-locked). The flows without such an owner get it for the rest of the
//!   batch (one pass under the batch's shard locks, `UkeyMaps::with_ukeys_stamp`); the flows still
//!   not kept take the full path (those with an owner without a map lookup). Every KEEP stamps the
//!   ukey for the sweep while holding its lock.
//! * The idle limit of a batch comes from the round's flow-limit policy (`policy.rs`); under the
//!   adaptive policy every flow the dump keeps records its `used` time in the revalidator's own
//!   idle-age histogram ([`AdaptiveDump`]), merged into the engine's when the cursor is dropped.

use std::collections::VecDeque;
use std::sync::Arc;

use rvs_dpif::dpif::{
    DpifError, DpifFlow, FlowDumpThread, FlowGet, FlowOwner, FlowRef, FlowStats, TerseFlow,
};
use rvs_flow::odp::OdpAction;

use super::ops::OpsInFlight;
use super::policy::AdaptiveDump;
use super::reval::counter_delta;
use super::{DelReason, RevalResult, RoundCtx, UkeyOp};
use crate::config::REVALIDATE_MAX_BATCH;
use crate::coverage::Counter;
use crate::log::Level;
use crate::sync::MutexGuard;
use crate::udpif::Udpif;
use crate::ukey::{Ukey, UkeyId, UkeyInner, UkeyParams, UkeyState, layer_code};

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
    /// Flows reached through their owner but not in the steady case, with that owner (reused
    /// per batch): they take the full path without a map lookup.
    owned: Vec<(TerseFlow, Arc<Ukey>)>,
    /// Datapath ops of earlier batches whose results (deletes' final statistics) are not handled
    /// yet, oldest first; all are handled before the dump phase ends.
    in_flight: VecDeque<OpsInFlight<'d>>,
    kill_warned: bool,
    /// The adaptive policy's per-revalidator state (`None` under OVS's policy).
    adaptive: Option<AdaptiveDump>,
}

impl Drop for RevalidatorDump<'_> {
    fn drop(&mut self) {
        self.finish_ops(true);
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
            owned: Vec::with_capacity(REVALIDATE_MAX_BATCH),
            in_flight: VecDeque::new(),
            kill_warned: false,
            adaptive: AdaptiveDump::for_round(udpif, &ctx),
        }
    }

    /// Dumps and handles batches until the dump ends; returns the flows dumped. Every datapath
    /// op it started is handled when it returns.
    pub fn run(&mut self) -> usize {
        let mut total = 0;
        loop {
            let n = self.batch();
            if n == 0 {
                self.finish_ops(true);
                return total;
            }
            total += n;
        }
    }

    /// Handles the results of the ops in flight: all of them with `all` (waiting for the
    /// datapath if needed), else those that are ready, oldest first.
    fn finish_ops(&mut self, all: bool) {
        while let Some(front) = self.in_flight.front_mut() {
            if !all && !front.ready() {
                return;
            }
            if let Some(ops) = self.in_flight.pop_front() {
                ops.finish(self.udpif);
            }
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
        self.owned.clear();
        let n = if self.ctx.terse && !kill_them_all {
            let RevalidatorDump {
                thread,
                terse,
                owned,
                ctx,
                adaptive,
                ..
            } = self;
            let ctx = *ctx;
            let mut visit = |flows: &[TerseFlow], owners: &[Option<&FlowOwner>]| {
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
                steady.keep_owned(flows, owners, terse, owned);
            };
            thread.next_terse_visit(REVALIDATE_MAX_BATCH, &mut visit)
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
            if let Some(ukey) = self.acquire(f, &mut ops) {
                self.revalidate_flow(f, &ukey, kill_them_all, max_idle, now, &mut ops);
            }
        }
        let owned = std::mem::take(&mut self.owned);
        // The full path starts by unpacking each ukey's key and reading its xlate cache: one pass
        // of independent loads brings the batch's into the cache together instead of one miss at
        // a time.
        let touched = owned
            .iter()
            .fold(0u64, |acc, (_, ukey)| acc ^ ukey.touch_for_revalidation());
        std::hint::black_box(touched);
        for (t, ukey) in &owned {
            self.revalidate_flow(&t.to_flow(), ukey, kill_them_all, max_idle, now, &mut ops);
        }
        self.owned = owned;
        self.flows = flows;
        self.terse = terse;
        self.ids = ids;
        self.kept = kept;
        if !ops.is_empty() {
            // Deletes wait for the forwarding threads before their final statistics are read:
            // this batch's are handled at a later batch (or the end of the dump), not waited for.
            self.in_flight.push_back(udpif.push_dp_ops_begin(ops));
        }
        self.finish_ops(false);
        n
    }

    /// The ukey of a dumped flow for the full path (`ukey_acquire`, with its failures counted,
    /// logged and, for a flow that cannot be adopted, a delete queued).
    fn acquire(&self, f: &DpifFlow, ops: &mut Vec<UkeyOp>) -> Option<Arc<Ukey>> {
        let udpif = self.udpif;
        let env = &udpif.env;
        match udpif.ukey_acquire(f) {
            Ok(ukey) => Some(ukey),
            Err(AcquireError::Busy) => {
                env.coverage.inc(Counter::UpcallUkeyContention);
                None
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
                None
            }
        }
    }

    /// The full path for one dumped flow and its ukey. A ukey it KEEPs is settled for the sweep
    /// right away (what the sweep would do to it, done while it is locked and in cache: its
    /// stamp then lets the sweep skip it).
    fn revalidate_flow(
        &self,
        f: &DpifFlow,
        ukey: &Arc<Ukey>,
        kill_them_all: bool,
        max_idle: u64,
        now: u64,
        ops: &mut Vec<UkeyOp>,
    ) {
        let udpif = self.udpif;
        let env = &udpif.env;
        let Some(mut g) = ukey.try_lock() else {
            env.coverage.inc(Counter::UpcallUkeyContention);
            return;
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
            env.coverage.inc(if g.has_xcache() {
                Counter::DumpedDuplicateFlow
            } else {
                Counter::DumpedNewFlow
            });
            return;
        }
        let state = g.state();
        if state == UkeyState::Inconsistent {
            g.dump_seq = self.ctx.dump_seq;
            ops.extend(UkeyOp::for_result(
                udpif,
                ukey,
                &mut g,
                RevalResult::Delete(DelReason::UpdateFail),
            ));
            env.coverage.inc(Counter::DumpedInconsistentFlow);
            return;
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
            return;
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
            udpif.revalidate_ukey(ukey, &mut g, &stats, self.ctx.reval_seq)
        };
        g.dump_seq = self.ctx.dump_seq;
        if !matches!(result, RevalResult::Delete(_)) {
            self.record_kept(used);
        }
        if result != RevalResult::Keep {
            ops.extend(UkeyOp::for_result(udpif, ukey, &mut g, result));
            return;
        }
        if g.state() == UkeyState::Operational {
            g.missed_dumps = 0;
            udpif.ukeys.stamp_kept(ukey, &g, self.ctx.dump_seq);
        }
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
    /// KEEPs is stamped for the sweep under its lock. A flow reached through its owner but not in
    /// the steady case (e.g. every flow of a round after a flow-mod) is appended to `owned` with
    /// its ukey, for the full path; every other flow to `rest`.
    /// Never waits; touches no shard. Like [`UkeyMaps::with_ukeys_stamp`], it works in passes of
    /// plain loads first (owners' ids, then the locked ukeys' fields) so that the cache misses of
    /// the group overlap, and takes the ukey locks only once their lines are loaded.
    ///
    /// [`UkeyMaps::with_ukeys_stamp`]: crate::ukey::UkeyMaps::with_ukeys_stamp
    fn keep_owned(
        &self,
        flows: &[TerseFlow],
        owners: &[Option<&FlowOwner>],
        rest: &mut Vec<TerseFlow>,
        owned: &mut Vec<(TerseFlow, Arc<Ukey>)>,
    ) {
        // No allocation: a group has at most REVALIDATE_MAX_BATCH flows (any beyond take `rest`).
        let mut found: [Option<&Ukey>; REVALIDATE_MAX_BATCH] = [None; REVALIDATE_MAX_BATCH];
        for (slot, (f, owner)) in found.iter_mut().zip(flows.iter().zip(owners)) {
            *slot = owner
                .and_then(|o| o.0.downcast_ref::<Ukey>())
                .filter(|u| u.id().ufid == f.ufid && u.id().pmd_id == f.pmd_id);
        }
        let mut locked: [Option<MutexGuard<'_, UkeyInner>>; REVALIDATE_MAX_BATCH] =
            [const { None }; REVALIDATE_MAX_BATCH];
        for (g, ukey) in locked.iter_mut().zip(&found) {
            *g = ukey.and_then(Ukey::try_lock);
        }
        let touched = locked.iter().flatten().fold(0u64, |acc, g| {
            acc ^ g.dump_seq ^ g.reval_seq ^ g.stats.n_packets ^ u64::from(g.serial)
        });
        std::hint::black_box(touched);
        // Per flow of the group: not reached through its owner, KEPT, or found but not steady.
        const KEPT: u8 = 1;
        const FOUND: u8 = 2;
        let mut outcome = [0u8; REVALIDATE_MAX_BATCH];
        for (((o, g), ukey), f) in outcome.iter_mut().zip(&mut locked).zip(&found).zip(flows) {
            let (Some(g), Some(ukey)) = (g.as_mut(), ukey) else {
                continue;
            };
            *o = if self.keep_in_place(ukey, g, f) {
                self.udpif.ukeys.stamp_kept(ukey, g, self.ctx.dump_seq);
                KEPT
            } else if g.state() == UkeyState::Deleted {
                // Out of the maps (its flow outlived it): the map path adopts the flow.
                0
            } else {
                FOUND
            };
        }
        drop(locked);
        for (i, (f, owner)) in flows.iter().zip(owners).enumerate() {
            match outcome.get(i).copied().unwrap_or(0) {
                KEPT => {}
                FOUND => match owner.and_then(|o| Arc::clone(&o.0).downcast::<Ukey>().ok()) {
                    Some(ukey) => owned.push((*f, ukey)),
                    None => rest.push(*f),
                },
                _ => rest.push(*f),
            }
        }
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
        if packets_back || (packets > 0 && !g.has_xcache()) {
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
        // Statistics equal to the baseline: `revalidate_ukey` would push nothing and store the
        // same baseline and reval_seq (its KEEP without a change), so it is not called.
        if stats != g.stats {
            let result = self
                .udpif
                .revalidate_ukey(ukey, g, &stats, self.ctx.reval_seq);
            debug_assert_eq!(result, RevalResult::Keep);
        }
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
