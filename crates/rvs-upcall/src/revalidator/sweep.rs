//! The sweep (and purge) of one revalidator's shard slice (OVS's `revalidator_sweep__`,
//! ovs-upcall.md §3.6, §3.7).
//!
//! # Invariants
//! * Only OPERATIONAL and INCONSISTENT ukeys (and VISIBLE ones when purging) are considered; a
//!   VISIBLE ukey outside purge has an install pending and is left alone.
//! * A ukey not dumped this round that needs revalidation is revalidated with its **own** last
//!   statistics (delta 0, bug 22); one that missed [`MISSED_DUMPS_LIMIT`] dumps in a row is deleted.
//! * EVICTED ukeys are freed here; ukeys of delete ops are freed after their op ran; modified ukeys
//!   stay. Ops are pushed per shard, at most [`REVALIDATE_MAX_BATCH`] at a time.

use super::{DelReason, RevalResult, UkeyOp};
use crate::config::{MISSED_DUMPS_LIMIT, REVALIDATE_MAX_BATCH};
use crate::coverage::Counter;
use crate::udpif::Udpif;
use crate::ukey::UkeyState;

impl Udpif {
    /// Sweeps (or, with `purge`, purges) the shards of revalidator `slice` of `n`.
    ///
    /// Each shard is visited once under its lock: a ukey that needs nothing but its missed-dump
    /// count updated (dumped this round, or validated against the current `reval_seq` and still
    /// below [`MISSED_DUMPS_LIMIT`]), or that is in a state the sweep ignores, is settled there
    /// without being copied out; the others are handled after the lock is released, exactly as
    /// before (the verdict is taken again under the ukey lock). Ukeys the dump phase stamped in
    /// their slot with this round's `dump_seq` (KEPT in place, `missed_dumps` already 0) are not
    /// looked at at all.
    pub fn sweep_slice(&self, slice: usize, n: usize, purge: bool) {
        let dump_seq = self.dump_seq();
        let reval_seq = self.reval_seq();
        let env = &self.env;
        let mut rest = Vec::new();
        let mut ops = Vec::new();
        for shard in self.ukeys.slice_shards(slice, n) {
            rest.clear();
            if purge {
                self.ukeys.visit_shard(shard, None, &mut rest, |_| false);
            } else {
                self.ukeys
                    .visit_shard(shard, Some(dump_seq), &mut rest, |ukey| {
                        let Some(mut g) = ukey.try_lock() else {
                            env.coverage.inc(Counter::UpcallUkeyContention);
                            return true;
                        };
                        match g.state() {
                            UkeyState::Operational => {
                                if g.dump_seq == dump_seq {
                                    g.missed_dumps = 0;
                                    true
                                } else if g.reval_seq == reval_seq
                                    && g.missed_dumps + 1 < MISSED_DUMPS_LIMIT
                                {
                                    g.missed_dumps += 1;
                                    true
                                } else {
                                    false
                                }
                            }
                            UkeyState::Inconsistent | UkeyState::Evicted => false,
                            _ => true,
                        }
                    });
            }
            for ukey in rest.drain(..) {
                let Some(mut g) = ukey.try_lock() else {
                    env.coverage.inc(Counter::UpcallUkeyContention);
                    continue;
                };
                let state = g.state();
                if state == UkeyState::Operational
                    || state == UkeyState::Inconsistent
                    || (state == UkeyState::Visible && purge)
                {
                    let seq_mismatch = g.dump_seq != dump_seq && g.reval_seq != reval_seq;
                    let mut result = if purge {
                        RevalResult::Delete(DelReason::Purge)
                    } else if state == UkeyState::Inconsistent {
                        RevalResult::Delete(DelReason::UpdateFail)
                    } else if !seq_mismatch {
                        RevalResult::Keep
                    } else {
                        env.coverage.inc(Counter::RevalidateMissedDpFlow);
                        let stats = g.stats;
                        self.revalidate_ukey(&ukey, &mut g, &stats, reval_seq)
                    };
                    if g.dump_seq != dump_seq {
                        g.missed_dumps += 1;
                        if g.missed_dumps >= MISSED_DUMPS_LIMIT {
                            env.coverage.inc(Counter::RevalidateMissingDpFlow);
                            result = RevalResult::Delete(DelReason::FlowMissingDp);
                        }
                    } else {
                        g.missed_dumps = 0;
                    }
                    ops.extend(UkeyOp::for_result(self, &ukey, &mut g, result));
                }
                drop(g);
                if state == UkeyState::Evicted {
                    self.ukeys.delete(&ukey, env);
                }
                if ops.len() == REVALIDATE_MAX_BATCH {
                    self.push_ukey_ops(std::mem::take(&mut ops));
                }
            }
            if !ops.is_empty() {
                self.push_ukey_ops(std::mem::take(&mut ops));
            }
        }
        // Every revalidator sweeps after its dump phase: the round's count is complete here.
        super::reval::flush_unaffected(&env.coverage);
    }
}
