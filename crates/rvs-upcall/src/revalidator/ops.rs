//! Datapath ops queued by revalidators and their results (OVS's `ukey_op`, `push_dp_ops`,
//! `push_ukey_ops`; ovs-upcall.md §3.5).
//!
//! # Invariants
//! * A failed op credits nothing: a failed delete moves its ukey to EVICTED (the flow is assumed
//!   gone; a survivor is re-adopted by a later dump), a failed modify to INCONSISTENT.
//! * A successful delete moves its ukey to EVICTED and credits `final - baseline` once, through
//!   the ukey's xlate cache (or a fresh translation of its key).
//! * Results only move a ukey forward: a handler whose put failed meanwhile may already have
//!   made it EVICTED (a purge racing with an install), and that is where the delete leads anyway.
//! * Only delete ops free their ukey ([`Udpif::push_ukey_ops`]); a modified ukey stays (bug 8).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rvs_dpif::dpif::{
    DpifFlow, DpifOp, FlowDel, FlowPut, FlowRef, FlowStats, OpResult, PendingOps, PutFlags,
};
use rvs_flow::Flow;

use super::reval::counter_delta;
use super::{DelReason, RevalResult};
use crate::coverage::Counter;
use crate::log::Level;
use crate::udpif::Udpif;
use crate::ukey::{Ukey, UkeyInner, UkeyState};
use crate::xlate::XlateRequest;

/// What [`OpsInFlight`] keeps of each op: its ukey, whether it is a delete, the flow key and the
/// delete reason.
type OpMeta = (Option<Arc<Ukey>>, bool, Option<Flow>, Option<DelReason>);

/// Ops started by [`Udpif::push_dp_ops_begin`] whose results are not handled yet. Their ukeys
/// stay as the ops left them (EVICTING for a delete) until [`OpsInFlight::finish`].
pub(crate) struct OpsInFlight<'d> {
    metas: Vec<OpMeta>,
    pending: Box<dyn PendingOps + 'd>,
}

impl OpsInFlight<'_> {
    /// True if [`OpsInFlight::finish`] would not wait for the datapath.
    pub(crate) fn ready(&mut self) -> bool {
        self.pending.ready()
    }

    /// Handles the results (OVS's `push_dp_ops` second half); returns, per op, its ukey if the
    /// op was a delete.
    pub(crate) fn finish(self, udpif: &Udpif) -> Vec<Option<Arc<Ukey>>> {
        let results = self.pending.finish();
        let mut deleted = Vec::with_capacity(self.metas.len());
        for ((ukey, is_del, key, reason), result) in self.metas.into_iter().zip(results) {
            udpif.handle_op_result(ukey.as_ref(), is_del, key, reason, &result);
            deleted.push(if is_del { ukey } else { None });
        }
        deleted
    }
}

/// One queued datapath op and the ukey it is for.
#[derive(Debug)]
pub struct UkeyOp {
    ukey: Option<Arc<Ukey>>,
    op: DpifOp,
    /// For an op without ukey: the key to credit the final statistics through, if known.
    key: Option<Flow>,
    reason: Option<DelReason>,
}

impl UkeyOp {
    /// How `udpif` names `ukey`'s flow in deletes.
    fn flow_ref(udpif: &Udpif, ukey: &Ukey) -> FlowRef {
        if ukey.ufid_present() && udpif.caps.ufid {
            FlowRef::Ufid(ukey.id().ufid)
        } else {
            FlowRef::Key(Box::new(ukey.key()))
        }
    }

    /// The op for a MODIFY/DELETE verdict on a locked ukey (OVS's `reval_op_init`): a delete moves
    /// the ukey to EVICTING; a modify installs the new actions in the ukey. KEEP gives `None`.
    pub(crate) fn for_result(
        udpif: &Udpif,
        ukey: &Arc<Ukey>,
        g: &mut UkeyInner,
        result: RevalResult,
    ) -> Option<UkeyOp> {
        match result {
            RevalResult::Keep => None,
            RevalResult::Delete(reason) => {
                ukey.transition(g, UkeyState::Evicting, "reval_op_init", &udpif.env);
                Some(UkeyOp {
                    ukey: Some(Arc::clone(ukey)),
                    op: DpifOp::Del(FlowDel {
                        flow: Self::flow_ref(udpif, ukey),
                        pmd_id: ukey.id().pmd_id,
                    }),
                    key: None,
                    reason: Some(reason),
                })
            }
            RevalResult::Modify(actions) => {
                g.actions = actions.clone();
                Some(UkeyOp {
                    ukey: Some(Arc::clone(ukey)),
                    op: DpifOp::Put(FlowPut {
                        owner: None,
                        flags: PutFlags::MODIFY,
                        key: ukey.key(),
                        mask: ukey.mask(),
                        actions,
                        ufid: ukey.ufid_present().then_some(ukey.id().ufid),
                        pmd_id: ukey.id().pmd_id,
                    }),
                    key: None,
                    reason: None,
                })
            }
        }
    }

    /// A delete for a dumped flow that has no ukey (OVS's `delete_op_init__`).
    pub(crate) fn delete_unowned(udpif: &Udpif, f: &DpifFlow) -> UkeyOp {
        let flow = match (&f.key, f.ufid_present && udpif.caps.ufid) {
            (_, true) | (None, _) => FlowRef::Ufid(f.ufid),
            (Some(k), false) => FlowRef::Key(Box::new(*k)),
        };
        UkeyOp {
            ukey: None,
            op: DpifOp::Del(FlowDel {
                flow,
                pmd_id: f.pmd_id,
            }),
            key: f.key,
            reason: Some(DelReason::Unexpected),
        }
    }

    fn is_delete_op(&self) -> bool {
        matches!(self.op, DpifOp::Del(_))
    }
}

impl Udpif {
    /// Runs `ops` in one `operate` call and handles the results (OVS's `push_dp_ops`); returns,
    /// per op, its ukey if the op was a delete (so that the sweep can free them).
    pub(crate) fn push_dp_ops(&self, ops: Vec<UkeyOp>) -> Vec<Option<Arc<Ukey>>> {
        self.push_dp_ops_begin(ops).finish(self)
    }

    /// Starts `ops` in one [`Dpif::operate_begin`] call; [`OpsInFlight::finish`] handles the
    /// results (with [`OpsInFlight::ready`] telling whether that would wait).
    ///
    /// [`Dpif::operate_begin`]: rvs_dpif::dpif::Dpif::operate_begin
    pub(crate) fn push_dp_ops_begin(&self, ops: Vec<UkeyOp>) -> OpsInFlight<'_> {
        let mut metas = Vec::with_capacity(ops.len());
        let mut dp_ops = Vec::with_capacity(ops.len());
        for op in ops {
            let is_del = op.is_delete_op();
            metas.push((op.ukey, is_del, op.key, op.reason));
            dp_ops.push(op.op);
        }
        OpsInFlight {
            metas,
            pending: self.dpif.operate_begin(dp_ops),
        }
    }

    fn handle_op_result(
        &self,
        ukey: Option<&Arc<Ukey>>,
        is_del: bool,
        key: Option<Flow>,
        reason: Option<DelReason>,
        result: &OpResult,
    ) {
        if result.error.is_some() {
            if let Some(ukey) = ukey {
                let mut g = ukey.lock();
                let dst = if is_del {
                    UkeyState::Evicted
                } else {
                    UkeyState::Inconsistent
                };
                if g.state() < dst {
                    ukey.transition(&mut g, dst, "push_dp_ops", &self.env);
                }
            }
            return;
        }
        if !is_del {
            return;
        }
        if let Some(c) = reason.and_then(|r| self.del_reasons.get(r as usize)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let final_stats = result.stats;
        let push = match ukey {
            Some(ukey) => {
                let mut g = ukey.lock();
                if g.state() < UkeyState::Evicted {
                    ukey.transition(&mut g, UkeyState::Evicted, "push_dp_ops", &self.env);
                }
                let (packets, packets_back) =
                    counter_delta(final_stats.n_packets, g.stats.n_packets);
                let (bytes, bytes_back) = counter_delta(final_stats.n_bytes, g.stats.n_bytes);
                if packets_back {
                    self.env.coverage.inc(Counter::UkeyInvalidStatReset);
                }
                let push = FlowStats {
                    n_packets: if packets_back { 0 } else { packets },
                    n_bytes: if packets_back || bytes_back { 0 } else { bytes },
                    used: final_stats.used.max(g.stats.used),
                    tcp_flags: final_stats.tcp_flags | g.stats.tcp_flags,
                };
                if push.n_packets > 0
                    && g.has_xcache()
                    && let Some(xcache) = g.xcache.as_deref()
                {
                    self.xlate.push_stats(xcache, &push);
                    return;
                }
                push
            }
            None => final_stats,
        };
        if push.n_packets > 0 {
            let key = ukey.map(|u| u.key()).or(key);
            self.credit_by_translation(key.as_ref(), &push);
        }
    }

    /// Credits `push` by translating `key` (side effects allowed), for flows without xlate cache.
    fn credit_by_translation(&self, key: Option<&Flow>, push: &FlowStats) {
        let result = match key {
            Some(flow) => self
                .xlate
                .translate(&XlateRequest {
                    flow,
                    tcp_flags: push.tcp_flags,
                    for_revalidation: false,
                    tables_version: self.xlate.tables_version(),
                })
                .map_err(|e| e.to_string()),
            None => Err("no flow key".to_string()),
        };
        match result {
            Ok(out) => {
                if let Some(xcache) = out.xcache.as_deref() {
                    self.xlate.push_stats(xcache, push);
                }
            }
            Err(e) => self.env.log_rl(
                &self.env.rl.xlate_failed,
                Level::Warn,
                format!("xlate_key failed ({e})!"),
            ),
        }
    }

    /// [`Udpif::push_dp_ops`], then frees the ukeys of the delete ops (OVS's `push_ukey_ops`).
    pub(crate) fn push_ukey_ops(&self, ops: Vec<UkeyOp>) {
        for ukey in self.push_dp_ops(ops).into_iter().flatten() {
            self.ukeys.delete(&ukey, &self.env);
        }
    }
}
