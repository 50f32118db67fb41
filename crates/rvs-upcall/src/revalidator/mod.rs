//! Revalidation (ovs-upcall.md §1.5, §3): the per-round context, the dump phase, the sweep, the
//! leader's bookkeeping, and a step-by-step [`Round`] API that runs a whole round on the calling
//! thread (the deterministic harness; the threaded loop in `threads` calls the same functions).
//!
//! # Invariants
//! * ukeys are removed from the maps only in the sweep (or purge), never in the dump phase: an
//!   EVICTED ukey is a tombstone that makes a duplicate dump of its flow harmless.
//! * Every flow is credited only as deltas over the ukey's baseline; a failed datapath op carries
//!   zero statistics and credits nothing.
//! * Within a round every participant sees the same `dump_seq`, `reval_seq`, flow limit and
//!   terse flag and flow-limit policy ([`RoundCtx`], read once by the leader before the dump
//!   starts).

mod dump;
mod idle_ages;
mod leader;
mod ops;
mod policy;
mod reval;
mod sweep;

pub use dump::{AcquireError, RevalidatorDump};
pub use idle_ages::IdleAges;
pub use leader::{EarlyRound, LeaderStart, LimitChange, adjust_flow_limit};
pub use ops::UkeyOp;
pub use policy::{adjust_flow_limit_adaptive, eviction_target};
pub use reval::RevalResult;

use parking_lot::Mutex;
use rvs_dpif::dpif::FlowDump;

use crate::config::FlowLimitPolicy;
use crate::udpif::Udpif;

/// Why a flow was deleted (OVS's `flow_del_reason`); counted per reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DelReason {
    /// Idle longer than `max_idle` (`FDR_FLOW_IDLE`).
    FlowIdle,
    /// Emergency deletion above twice the flow limit (`FDR_FLOW_LIMIT`).
    FlowLimit,
    /// Needs revalidation but is too slow to deserve it (`FDR_TOO_EXPENSIVE`).
    TooExpensive,
    /// Translation failed (`FDR_XLATION_ERROR`).
    XlationError,
    /// The translation must not be cached (`FDR_AVOID_CACHING`).
    AvoidCaching,
    /// The installed mask is too wide for the new translation (`FDR_FLOW_WILDCARDED`).
    FlowWildcarded,
    /// Purge (`FDR_PURGE`).
    Purge,
    /// A modify failed earlier (`FDR_UPDATE_FAIL`).
    UpdateFail,
    /// Missed 4 dumps in a row (`FDR_FLOW_MISSING_DP`).
    FlowMissingDp,
    /// A dumped flow no ukey could be made for.
    Unexpected,
}

impl DelReason {
    /// Every reason, in counter order.
    pub const ALL: [DelReason; 10] = [
        DelReason::FlowIdle,
        DelReason::FlowLimit,
        DelReason::TooExpensive,
        DelReason::XlationError,
        DelReason::AvoidCaching,
        DelReason::FlowWildcarded,
        DelReason::Purge,
        DelReason::UpdateFail,
        DelReason::FlowMissingDp,
        DelReason::Unexpected,
    ];
}

/// What every participant of one round reads once at its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundCtx {
    /// The round's dump sequence number (a ukey stamped with it was handled in this round).
    pub dump_seq: u64,
    /// The reval_seq ukeys are validated against.
    pub reval_seq: u64,
    /// The dynamic flow limit.
    pub flow_limit: u32,
    /// True if the dump is terse (UFID + stats only).
    pub terse: bool,
    /// When the round started (ms): the reference of the idle ages revalidators record.
    pub start_ms: u64,
    /// The flow-limit policy in force for the round.
    pub policy: FlowLimitPolicy,
}

impl Udpif {
    /// The context of a round starting now.
    pub fn round_ctx(&self) -> RoundCtx {
        RoundCtx {
            dump_seq: self.dump_seq(),
            reval_seq: self.reval_seq(),
            flow_limit: self.flow_limit(),
            terse: self.use_ufid(),
            start_ms: self.env.now(),
            policy: self.config.flow_limit_policy(),
        }
    }

    /// Starts a round run step by step on the calling thread by `n_revalidators` pretend
    /// revalidators (the leader's part: samples, then creates the dump).
    pub fn begin_round(&self, n_revalidators: usize) -> Round<'_> {
        let start = self.leader_begin();
        let ctx = self.round_ctx();
        Round {
            udpif: self,
            n: n_revalidators.max(1),
            start,
            ctx,
            dump: Some(self.dpif.flow_dump(ctx.terse)),
            stats: Mutex::new(RoundStats::default()),
        }
    }

    /// Runs one whole round on the calling thread (dump by all, sweep by all, leader's end).
    pub fn run_round(&self, n_revalidators: usize) -> RoundStats {
        let round = self.begin_round(n_revalidators);
        round.dumpers().run_all();
        round.sweep_all();
        round.finish()
    }

    /// Runs one whole round with `n_revalidators` real threads (scoped, started for this round):
    /// parallel dump, barrier, parallel sweep, barrier, the leader's end on the calling thread.
    pub fn run_round_parallel(&self, n_revalidators: usize) -> RoundStats {
        let round = self.begin_round(n_revalidators);
        let dumped: usize = {
            let dumpers = round.dumpers();
            std::thread::scope(|s| {
                let handles: Vec<_> = dumpers
                    .threads
                    .into_iter()
                    .map(|mut d| s.spawn(move || d.run()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
            })
        };
        round.stats.lock().dumped += dumped;
        std::thread::scope(|s| {
            for slice in 0..round.n {
                let round = &round;
                s.spawn(move || round.sweep(slice));
            }
        });
        round.finish()
    }

    /// Purges every ukey (OVS's `revalidator_purge` on every slice): deletes their flows with
    /// statistics credited and frees them. Callers with running revalidators pause them first.
    pub fn purge_all(&self, n_slices: usize) {
        for slice in 0..n_slices.max(1) {
            self.sweep_slice(slice, n_slices.max(1), true);
        }
    }
}

/// What a round did (for the harness and the bench).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundStats {
    /// Flows dumped.
    pub dumped: usize,
    /// The round's duration as the leader computed it (ms, at least 1).
    pub duration_ms: u64,
    /// The flow limit after the round.
    pub flow_limit: u32,
}

/// One round run step by step (see [`Udpif::begin_round`]).
pub struct Round<'u> {
    udpif: &'u Udpif,
    n: usize,
    start: LeaderStart,
    ctx: RoundCtx,
    dump: Option<Box<dyn FlowDump + 'u>>,
    stats: Mutex<RoundStats>,
}

impl<'u> Round<'u> {
    /// The round's context.
    pub fn ctx(&self) -> RoundCtx {
        self.ctx
    }

    /// One dump cursor per pretend revalidator.
    pub fn dumpers(&self) -> Dumpers<'_> {
        let threads = match &self.dump {
            Some(d) => (0..self.n)
                .map(|_| RevalidatorDump::new(self.udpif, self.ctx, d.thread()))
                .collect(),
            None => Vec::new(),
        };
        Dumpers {
            threads,
            stats: &self.stats,
        }
    }

    /// Sweeps revalidator `slice`'s shards.
    pub fn sweep(&self, slice: usize) {
        self.udpif.sweep_slice(slice, self.n, false);
    }

    /// Sweeps every slice.
    pub fn sweep_all(&self) {
        for slice in 0..self.n {
            self.sweep(slice);
        }
    }

    /// The leader's end of round: destroys the dump, bumps `dump_seq`, adjusts the flow limit.
    pub fn finish(mut self) -> RoundStats {
        self.dump = None;
        let duration_ms = self.udpif.leader_end(&self.start);
        let mut stats = *self.stats.lock();
        stats.duration_ms = duration_ms;
        stats.flow_limit = self.udpif.flow_limit();
        stats
    }
}

/// The dump cursors of one [`Round`].
pub struct Dumpers<'r> {
    threads: Vec<RevalidatorDump<'r>>,
    stats: &'r Mutex<RoundStats>,
}

impl Dumpers<'_> {
    /// Revalidator `index` handles one batch; returns how many flows it dumped (0 = its end).
    pub fn batch(&mut self, index: usize) -> usize {
        let n = self.threads.get_mut(index).map_or(0, |t| t.batch());
        self.stats.lock().dumped += n;
        n
    }

    /// Runs batches round-robin over the revalidators until every cursor is at its end.
    pub fn run_all(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.threads.len() {
                any |= self.batch(i) > 0;
            }
            if !any {
                break;
            }
        }
    }
}
