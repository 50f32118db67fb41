//! The [`Dpif`] contract implemented by the userspace [`Datapath`].
//!
//! # Invariants
//! * `operate` runs ops in order, each under its own short hold of the flow mutex, and reports one
//!   result per op; a failed put, delete or get reports zero statistics (OVS's `dpif_operate`).
//!   The deletes of one `operate` share one grace period, after the whole batch ran: each returns
//!   its flow's final statistics, including every hit classified before the flow was unlinked.
//!   `operate_begin` does the same but returns before the grace period is over; the statistics are
//!   read when it is (`finish`), so the caller need not wait for the forwarding threads.
//! * `execute` rejects frames under 14 or over 65535 bytes (`EINVAL`), does nothing for probes, and
//!   otherwise runs the actions in the non-PMD context (outputs sent before it returns); the packet
//!   is not counted in any flow.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rvs_netdev::Packet;

use super::dump::DatapathDump;
use super::flow_table::GRACE_TIMEOUT;
use super::forwarding::PmdContext;
use super::megaflow::Megaflow;
use super::{Datapath, Shared};
use crate::dpif::{
    Capabilities, DpPort, DpStats, Dpif, DpifError, DpifOp, Execute, FlowDump, FlowStats, OpResult,
    PendingOps, Upcall, UpcallCallback,
};
use crate::stats::GraceWait;

/// Largest frame `execute` accepts.
const MAX_EXECUTE_LEN: usize = u16::MAX as usize;
/// Smallest frame `execute` accepts (an Ethernet header).
const MIN_EXECUTE_LEN: usize = 14;

impl Shared {
    fn execute(&self, exec: &Execute) -> Result<(), DpifError> {
        if exec.packet.len() < MIN_EXECUTE_LEN || exec.packet.len() > MAX_EXECUTE_LEN {
            return Err(DpifError::Invalid(format!(
                "packet of {} bytes",
                exec.packet.len()
            )));
        }
        if exec.probe {
            return Ok(());
        }
        let mut guard = self.non_pmd.lock();
        if guard.is_none() {
            *guard = PmdContext::new(self, crate::dpif::NON_PMD_CORE_ID);
        }
        let ctx = guard.as_mut().ok_or(DpifError::Busy)?;
        let now = self.clock.now_ms();
        ctx.execute(
            self,
            Packet::from_slice(&exec.packet),
            &exec.flow,
            &exec.actions,
            now,
        );
        Ok(())
    }

    /// Runs `ops` in order; the deletes' flows are unlinked in turn and their statistics read after
    /// one grace period for the whole batch.
    fn operate(&self, ops: &[DpifOp]) -> Vec<OpResult> {
        self.operate_begin(ops).finish_now()
    }

    /// [`Dpif::operate_begin`]: runs every op but the deletes' final statistics reads, which wait
    /// for one grace period started here.
    fn operate_begin(&self, ops: &[DpifOp]) -> DatapathPendingOps<'_> {
        let mut results = Vec::with_capacity(ops.len());
        let mut unlinked = Vec::new();
        for op in ops {
            match op {
                DpifOp::Del(del) => match self.unlink(&del.flow) {
                    Ok(flow) => {
                        unlinked.push((results.len(), flow));
                        results.push(OpResult {
                            error: None,
                            stats: FlowStats::default(),
                            flow: None,
                        });
                    }
                    Err(e) => results.push(OpResult {
                        error: Some(e),
                        stats: FlowStats::default(),
                        flow: None,
                    }),
                },
                _ => results.push(self.run_op(op)),
            }
        }
        let grace = (!unlinked.is_empty()).then(|| self.grace.begin());
        DatapathPendingOps {
            shared: self,
            results,
            unlinked,
            grace,
            started: Instant::now(),
        }
    }

    fn run_op(&self, op: &DpifOp) -> OpResult {
        let result = match op {
            DpifOp::Put(put) => self.put(put).map(|stats| (stats, None)),
            DpifOp::Del(del) => self.del(&del.flow).map(|stats| (stats, None)),
            DpifOp::Get(get) => self.get(&get.flow).map(|flow| (flow.stats, Some(flow))),
            DpifOp::Execute(exec) => self.execute(exec).map(|()| (FlowStats::default(), None)),
        };
        match result {
            Ok((stats, flow)) => OpResult {
                error: None,
                stats,
                flow,
            },
            Err(e) => OpResult {
                error: Some(e),
                stats: FlowStats::default(),
                flow: None,
            },
        }
    }
}

/// A datapath `operate` whose deletes wait for their grace period (see [`Shared::grace_period`]).
pub(crate) struct DatapathPendingOps<'a> {
    shared: &'a Shared,
    results: Vec<OpResult>,
    /// (result index, record) of each deleted flow: its statistics are read once the grace period
    /// is over.
    unlinked: Vec<(usize, Arc<Megaflow>)>,
    grace: Option<GraceWait>,
    started: Instant,
}

impl PendingOps for DatapathPendingOps<'_> {
    fn ready(&mut self) -> bool {
        match &mut self.grace {
            None => true,
            Some(grace) => grace.poll() || self.started.elapsed() >= GRACE_TIMEOUT,
        }
    }

    fn finish(self: Box<Self>) -> Vec<OpResult> {
        (*self).finish_now()
    }
}

impl DatapathPendingOps<'_> {
    /// [`PendingOps::finish`] without the box.
    fn finish_now(mut self) -> Vec<OpResult> {
        if let Some(mut grace) = self.grace.take()
            && !grace.wait(self.started, GRACE_TIMEOUT)
        {
            self.shared.count_grace_timeout();
        }
        let mut results = self.results;
        for (i, flow) in self.unlinked {
            if let Some(result) = results.get_mut(i) {
                result.stats = self.shared.flow_stats(&flow);
            }
        }
        results
    }
}

impl Dpif for Datapath {
    fn name(&self) -> &str {
        &self.shared.full_name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            ufid: true,
            megaflows: true,
        }
    }

    fn operate(&self, ops: Vec<DpifOp>) -> Vec<OpResult> {
        self.shared.operate(&ops)
    }

    fn operate_begin(&self, ops: Vec<DpifOp>) -> Box<dyn PendingOps + '_> {
        Box::new(self.shared.operate_begin(&ops))
    }

    fn flow_flush(&self) {
        self.shared.flush();
    }

    fn flow_owners_clear(&self) {
        self.shared.slots.clear_owners();
    }

    fn flow_dump(&self, terse: bool) -> Box<dyn FlowDump + '_> {
        Box::new(DatapathDump::new(&self.shared, terse))
    }

    fn dp_stats(&self) -> DpStats {
        let c = self.shared.counters.total();
        DpStats {
            n_hit: c.hit,
            n_missed: c.missed,
            n_lost: c.lost,
            n_flows: self.shared.n_flows(),
            n_masks: self.shared.n_masks(),
            n_mask_hit: c.mask_hit,
            n_cache_hit: c.cache_hit,
        }
    }

    fn port_list(&self) -> Vec<DpPort> {
        self.ports()
    }

    fn recv(&self, handler_id: usize, out: &mut Vec<Upcall>, max: usize) -> usize {
        self.shared.upcalls.recv(handler_id, out, max)
    }

    fn recv_wait(&self, handler_id: usize, timeout: Duration) {
        self.shared.upcalls.wait(handler_id, timeout);
    }

    fn register_upcall_cb(&self, cb: Option<Arc<dyn UpcallCallback>>) -> bool {
        self.shared.upcalls.set_callback(cb);
        true
    }

    fn handlers_set(&self, n_handlers: usize) {
        let dropped = self.shared.upcalls.set_handlers(n_handlers);
        if dropped > 0 {
            let lost = super::counters::Counts {
                lost: dropped as u64,
                ..Default::default()
            };
            self.shared.control.add(&lost);
        }
    }
}
