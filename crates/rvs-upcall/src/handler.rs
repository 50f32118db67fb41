//! Handlers: turn a batch of upcalls into ukeys, flow installs and packet executions
//! (ovs-upcall.md §1.2, §1.4, §2.4, §4.2; seed 004). This is the queued path; a datapath that
//! takes an upcall callback has its misses handled inline instead ([`crate::inline`]), through
//! the same per-upcall decision (`Udpif::plan_upcall`) and the same ukey state rule.
//!
//! # Invariants
//! * One batch (at most [`UPCALL_MAX_BATCH`] upcalls) makes exactly one `Dpif::operate` call, with
//!   the puts and executes in arrival order.
//! * `reval_seq` is read **before** translating, so a translation racing with a table change gives
//!   a ukey that the next round revalidates.
//! * The miss packet is credited once, by the handler, through the translation's cache; it is
//!   executed even when no flow is installed (flow limit, duplicate, conflict).
//! * After the batch a ukey whose put succeeded goes to OPERATIONAL **only if still below
//!   OPERATIONAL** (a revalidator may have moved it on, bug 13); one whose put failed goes to
//!   EVICTED under the same condition (rvs extends the rule: meanwhile a purge may have evicted or
//!   deleted it, or a dump may have confirmed an identical flow already in the datapath; OVS would
//!   abort or warn on those moves).

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rvs_dpif::dpif::{
    Actions, DpifOp, Execute, FlowOwner, FlowPut, FlowStats, PutFlags, Upcall, UpcallKind,
};
use rvs_flow::odp::{CookieKind, UserdataCookie};
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};

use crate::config::UPCALL_MAX_BATCH;
use crate::coverage::Counter;
use crate::log::Level;
use crate::udpif::{ControllerUpcall, Udpif};
use crate::ukey::{Ukey, UkeyId, UkeyParams, UkeyState};
use crate::xlate::{XlateError, XlateRequest};

/// What an upcall is for (OVS's `classify_upcall`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpcallClass {
    /// A flow-table miss: translate, maybe install, execute.
    Miss,
    /// A slow-pathed flow's packet: translate and execute only.
    SlowPath,
    /// A packet for the controller.
    Controller(rvs_flow::odp::ControllerCookie),
    /// An sFlow / IPFIX / flow-sample packet (consumed; sampling is not implemented).
    Sample,
    /// Userdata that is not a known cookie.
    Bad,
}

/// Classifies an upcall by its kind and userdata.
pub fn classify(upcall: &Upcall) -> UpcallClass {
    match &upcall.kind {
        UpcallKind::Miss => UpcallClass::Miss,
        UpcallKind::Action { userdata } => match UserdataCookie::from_bytes(userdata) {
            None => UpcallClass::Bad,
            Some(cookie) => match cookie.kind {
                CookieKind::SlowPath { .. } => UpcallClass::SlowPath,
                CookieKind::Controller(c) => UpcallClass::Controller(c),
                CookieKind::SFlow { .. }
                | CookieKind::FlowSample { .. }
                | CookieKind::Ipfix { .. } => UpcallClass::Sample,
            },
        },
    }
}

/// What to do for one translated upcall.
#[derive(Default)]
pub(crate) struct UpcallPlan {
    /// A put without a ukey (the drop flow of an unassociated port).
    pub(crate) bare_put: Option<FlowPut>,
    /// The flow to install and its ukey, already in the map (VISIBLE).
    pub(crate) install: Option<(FlowPut, Arc<Ukey>)>,
    /// The actions to execute the packet with.
    pub(crate) execute: Option<Actions>,
}

/// What one handler batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Upcalls handled.
    pub upcalls: usize,
    /// Flow puts sent.
    pub puts: usize,
    /// Puts that failed.
    pub put_errors: usize,
    /// Packets executed.
    pub executes: usize,
}

/// The datapath form of translation wildcards: `in_port` exact, pipeline-only fields dropped.
pub fn datapath_wildcards(mut wc: Wildcards) -> Wildcards {
    wc.masks.metadata = 0;
    wc.masks.regs = [0; 16];
    wc.masks.in_port = u32::MAX;
    wc
}

/// The mask used when megaflows are disabled: every datapath field exact.
pub fn exact_datapath_wildcards() -> Wildcards {
    datapath_wildcards(Wildcards::exact())
}

impl Udpif {
    /// Receives up to [`UPCALL_MAX_BATCH`] upcalls of handler `handler_id` and handles them
    /// (OVS's `recv_upcalls`); `buf` is scratch space, drained and kept (its capacity is reused by
    /// the next call). Returns how many were received.
    pub fn recv_upcalls(&self, handler_id: usize, buf: &mut Vec<Upcall>) -> usize {
        buf.clear();
        let n = self.dpif.recv(handler_id, buf, UPCALL_MAX_BATCH);
        if n > 0 {
            self.handle_upcall_batch(buf.drain(..));
        }
        n
    }

    /// Handles one batch of upcalls (at most [`UPCALL_MAX_BATCH`] are expected).
    pub fn handle_upcalls(&self, upcalls: Vec<Upcall>) -> BatchReport {
        self.handle_upcall_batch(upcalls.into_iter())
    }

    fn handle_upcall_batch(&self, upcalls: impl ExactSizeIterator<Item = Upcall>) -> BatchReport {
        let n_upcalls = upcalls.len() as u64;
        let report = self.handle_upcalls_inner(upcalls);
        self.upcall_counts
            .handled
            .fetch_add(n_upcalls, Ordering::Release);
        self.handled_wake.ring();
        report
    }

    fn handle_upcalls_inner(&self, upcalls: impl ExactSizeIterator<Item = Upcall>) -> BatchReport {
        let mut report = BatchReport {
            upcalls: upcalls.len(),
            ..BatchReport::default()
        };
        let mut ops: Vec<DpifOp> = Vec::with_capacity(upcalls.len() * 2);
        let mut op_ukeys: Vec<Option<Arc<Ukey>>> = Vec::with_capacity(upcalls.len() * 2);
        for upcall in upcalls {
            self.process_upcall(upcall, &mut ops, &mut op_ukeys);
        }
        if ops.is_empty() {
            return report;
        }
        for op in &ops {
            match op {
                DpifOp::Put(_) => report.puts += 1,
                DpifOp::Execute(_) => report.executes += 1,
                _ => {}
            }
        }
        let results = self.dpif.operate(ops);
        for (ukey, result) in op_ukeys.iter().zip(results.iter()) {
            let Some(ukey) = ukey else { continue };
            if result.error.is_some() {
                report.put_errors += 1;
            }
            self.finish_install(ukey, result.error.is_none());
        }
        report
    }

    fn process_upcall(
        &self,
        upcall: Upcall,
        ops: &mut Vec<DpifOp>,
        op_ukeys: &mut Vec<Option<Arc<Ukey>>>,
    ) {
        let counts = &self.upcall_counts;
        let is_miss = match classify(&upcall) {
            UpcallClass::Miss => true,
            UpcallClass::SlowPath => {
                counts.slow_path.fetch_add(1, Ordering::Relaxed);
                false
            }
            UpcallClass::Controller(cookie) => {
                counts.controller.fetch_add(1, Ordering::Relaxed);
                self.queue_controller_upcall(ControllerUpcall {
                    packet: upcall.packet,
                    flow: upcall.flow,
                    cookie,
                });
                return;
            }
            UpcallClass::Sample => {
                counts.sample.fetch_add(1, Ordering::Relaxed);
                return;
            }
            UpcallClass::Bad => {
                counts.bad.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };

        let Some(plan) = self.plan_upcall(
            is_miss,
            &upcall.flow,
            upcall.packet.len(),
            upcall.ufid,
            upcall.pmd_id,
        ) else {
            return;
        };
        if let Some(put) = plan.bare_put {
            ops.push(DpifOp::Put(put));
            op_ukeys.push(None);
        }
        if let Some((put, ukey)) = plan.install {
            ops.push(DpifOp::Put(put));
            op_ukeys.push(Some(ukey));
        }
        if let Some(actions) = plan.execute {
            ops.push(DpifOp::Execute(Execute {
                packet: upcall.packet,
                flow: upcall.flow,
                actions,
                probe: false,
            }));
            op_ukeys.push(None);
        }
    }

    /// Translates one upcall's flow and decides what to do with it (shared by the queued and the
    /// inline path): for a miss, credits the packet to what it hit, creates the ukey and, if the
    /// flow may be installed and the ukey went into the map, the put; the actions to execute the
    /// packet with (`None` if there is nothing to do). `None` if the translation failed (counted
    /// and logged).
    pub(crate) fn plan_upcall(
        &self,
        is_miss: bool,
        flow: &Flow,
        packet_len: usize,
        ufid: Ufid,
        pmd_id: u32,
    ) -> Option<UpcallPlan> {
        let counts = &self.upcall_counts;
        let mut plan = UpcallPlan::default();
        let reval_seq = self.reval_seq();
        // One clock read for the miss: the credit's `used`, the ukey's creation time and the
        // age of the cached flow count.
        let now = self.env.now();
        let req = XlateRequest {
            flow,
            tcp_flags: flow.tcp_flags,
            for_revalidation: false,
            tables_version: self.xlate.tables_version(),
        };
        let mut out = match self.xlate.translate(&req) {
            Ok(out) => out,
            Err(XlateError::NoOfproto(port)) => {
                if is_miss {
                    // A drop flow for the exact packet, so the port stops upcalling.
                    plan.bare_put = Some(FlowPut {
                        owner: None,
                        flags: PutFlags::CREATE,
                        key: *flow,
                        mask: exact_datapath_wildcards(),
                        actions: Arc::from(Vec::new()),
                        ufid: Some(ufid),
                        pmd_id,
                    });
                }
                self.env.log_rl(
                    &self.env.rl.common,
                    Level::Info,
                    format!("received packet on unassociated datapath port {port}"),
                );
                return Some(plan);
            }
            Err(e) => {
                counts.xlate_failed.fetch_add(1, Ordering::Relaxed);
                self.env
                    .log_rl(&self.env.rl.common, Level::Warn, format!("upcall: {e}"));
                return None;
            }
        };

        if is_miss {
            // OVS's resubmit_stats: the miss packet is credited to what it hit, once, here.
            if let Some(xcache) = out.xcache.as_deref() {
                let one = FlowStats {
                    n_packets: 1,
                    n_bytes: packet_len as u64,
                    used: now,
                    tcp_flags: flow.tcp_flags,
                };
                self.xlate.push_stats(xcache, &one);
            }
            let mask = if self.config.megaflows_enabled() {
                datapath_wildcards(out.wc)
            } else {
                exact_datapath_wildcards()
            };
            let put_actions = if out.slow_path != 0 {
                self.xlate.slow_path_actions(flow, out.slow_path)
            } else {
                out.actions.clone()
            };
            let ukey = Arc::new(Ukey::created_at(
                UkeyParams {
                    key: *flow,
                    mask,
                    id: UkeyId { ufid, pmd_id },
                    ufid_present: true,
                    actions: put_actions.clone(),
                    reval_seq,
                    used: 0,
                },
                now,
                "ukey_create_from_upcall",
            ));
            // Kept for `translation_unchanged`; OVS-visible checks see no cache until the first
            // stats push adopts it.
            ukey.lock().keep_upcall_xcache(out.xcache.take());
            if self.should_install_flow_at(now) && self.ukeys.install(&ukey, &self.env).installed()
            {
                let put = FlowPut {
                    // Dumps hand the ukey back with its flow: the steady revalidation path reaches
                    // it without a map lookup (`revalidator/dump.rs`).
                    owner: Some(FlowOwner(Arc::clone(&ukey) as Arc<dyn Any + Send + Sync>)),
                    flags: PutFlags::CREATE,
                    key: *flow,
                    mask,
                    actions: put_actions,
                    ufid: Some(ufid),
                    pmd_id,
                };
                plan.install = Some((put, ukey));
            }
        }

        if !out.actions.is_empty() {
            plan.execute = Some(out.actions);
        }
        Some(plan)
    }

    /// Moves a ukey whose put was attempted on: OPERATIONAL if it succeeded, EVICTED if not, in
    /// both cases only if it is still below OPERATIONAL (a revalidator may have moved it on).
    pub(crate) fn finish_install(&self, ukey: &Ukey, put_ok: bool) {
        let mut g = ukey.lock();
        if g.state() < UkeyState::Operational {
            let to = if put_ok {
                UkeyState::Operational
            } else {
                UkeyState::Evicted
            };
            ukey.transition(&mut g, to, "handle_upcalls", &self.env);
        }
    }

    /// True if a flow may be installed: the datapath holds fewer flows than the dynamic limit.
    /// Counts `upcall_flow_limit_hit` and warns (rate-limited) when it may not.
    pub fn should_install_flow(&self) -> bool {
        self.should_install_flow_at(self.env.now())
    }

    /// [`Udpif::should_install_flow`] at time `now` (the engine clock's reading).
    fn should_install_flow_at(&self, now: u64) -> bool {
        let limit = self.flow_limit();
        if self.n_flows_at(now) >= u64::from(limit) {
            self.env.coverage.inc(Counter::UpcallFlowLimitHit);
            self.limit_refusals.fetch_add(1, Ordering::Relaxed);
            self.env.log_rl(
                &self.env.rl.common,
                Level::Warn,
                format!("upcall: datapath reached the dynamic limit of {limit} flows."),
            );
            return false;
        }
        true
    }
}
