//! The translation context (`struct xlate_ctx`): the working flow, the flow the datapath holds
//! so far (`base`), the megaflow mask being built, and the action interpreter.
//!
//! # Invariants
//! * `flow` is what the OpenFlow actions have made of the packet so far; `base` is what the
//!   datapath actions emitted so far make of it. They differ only between an action that
//!   modifies the packet and the next output, which commits the difference.
//! * Every field an action reads or writes is un-wildcarded in `wc` before the decision that
//!   depends on it.
//! * Resubmission depth never exceeds [`MAX_DEPTH`], resubmits never exceed [`MAX_RESUBMITS`].

use std::sync::Arc;

use rvs_flow::flow::{
    ETH_TYPE_IP, ETH_TYPE_VLAN_8021Q, FRAG_ANY, FRAG_LATER, FRAG_MASK, VLAN_CFI, VLAN_PCP_MASK,
    VLAN_PCP_SHIFT, VLAN_VID_MASK, VlanHeader, ipproto,
};
use rvs_flow::odp::OdpAction;
use rvs_flow::ofp_match::fields::Prereq;
use rvs_flow::ofp_match::fields::field_def;
use rvs_flow::ofp_match::port::{
    OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_NONE, OFPP_NORMAL,
    OFPP_TABLE,
};
use rvs_flow::ofp_match::prereq::prerequisites_ok;
use rvs_flow::{Flow, Wildcards};

use super::commit::commit;
use super::port_order::hash_map_order;
use super::trace::TraceNode;
use super::{
    MAX_DEPTH, MAX_RESUBMITS, SLOW_ACTION, Translator, XlateError, XlateInput, XlateOutput,
};
use crate::actions::{OfpAction, SetField, field};
use crate::mac_learning::MacTags;
use crate::table::Rule;
use crate::vlan::is_vlan_ethertype;

/// One translation in progress.
pub(super) struct Ctx<'a> {
    /// Bridge, tables and MAC table.
    pub(super) xlator: &'a Translator<'a>,
    /// The input.
    pub(super) input: &'a XlateInput,
    /// The working flow (OpenFlow in_port).
    pub(super) flow: Flow,
    /// What the datapath makes of the packet with the actions emitted so far.
    pub(super) base: Flow,
    /// The megaflow mask being built.
    pub(super) wc: Wildcards,
    /// Result being built.
    pub(super) out: &'a mut XlateOutput,
    /// Current resubmit depth.
    depth: u32,
    /// Resubmits so far.
    resubmits: u32,
    /// Current table.
    table_id: u8,
    /// Set by `exit` (and by running out of resources): stop executing actions.
    exit: bool,
    /// Set by an expiring `dec_ttl`: stop the current action list.
    stop_list: bool,
    /// The `push`/`pop` value stack (each value right-aligned), shared by the whole
    /// translation as in OVS.
    stack: Vec<u128>,
    /// The trace list being filled (the current table's items), when tracing.
    pub(super) trace: Option<Vec<TraceNode>>,
}

/// Runs a whole translation.
pub(super) fn run(xlator: &Translator<'_>, input: &XlateInput) -> XlateOutput {
    run_traced(xlator, input, false).0
}

/// Runs a whole translation, recording a trace tree if `traced`; also returns the final
/// working flow (OpenFlow in_port).
pub(super) fn run_traced(
    xlator: &Translator<'_>,
    input: &XlateInput,
    traced: bool,
) -> (XlateOutput, Vec<TraceNode>, Flow) {
    let mut out = XlateOutput::default();
    let (trace, flow) = run_in(xlator, input, traced, &mut out);
    (out, trace, flow)
}

/// Runs a whole translation into `out`, reusing the capacity of its action and rule vectors
/// (every field of `out` is overwritten, as by a fresh [`run`]).
pub(super) fn run_into(xlator: &Translator<'_>, input: &XlateInput, out: &mut XlateOutput) {
    run_in(xlator, input, false, out);
}

/// [`run_traced`] writing the output in place: `out` is reset first (its vectors keep their
/// capacity), so what it holds afterwards does not depend on what it held before.
fn run_in(
    xlator: &Translator<'_>,
    input: &XlateInput,
    traced: bool,
    out: &mut XlateOutput,
) -> (Vec<TraceNode>, Flow) {
    let mut wc = Wildcards::catchall();
    wc_init(&input.flow, &mut wc);
    let mut flow = input.flow;
    let in_port = xlator
        .bridge
        .by_odp_port(input.flow.in_port)
        .map(|p| p.ofport);
    flow.in_port = u32::from(in_port.unwrap_or(OFPP_NONE));
    // Exhaustive, so that a new output field cannot be left over from a previous translation.
    let XlateOutput {
        odp_actions,
        wc: _,
        slow,
        slow_reasons,
        rules_hit,
        lookup_misses,
        mac_tags,
        normal_learn,
        ofp_in_port,
        error,
    } = out;
    odp_actions.clear();
    rules_hit.clear();
    *lookup_misses = 0;
    *slow = false;
    *slow_reasons = 0;
    *mac_tags = MacTags::default();
    *normal_learn = None;
    *ofp_in_port = in_port;
    *error = None;
    let mut ctx = Ctx {
        xlator,
        input,
        flow,
        base: flow,
        wc,
        out,
        depth: 0,
        resubmits: 0,
        table_id: 0,
        exit: false,
        stop_list: false,
        stack: Vec::new(),
        trace: traced.then(Vec::new),
    };
    if in_port.is_some() {
        ctx.table_action(None, 0);
    }
    // Datapath port numbers again in the megaflow's in_port; the mask is exact either way.
    wc_finish(&input.flow, &mut ctx.wc);
    ctx.out.wc = ctx.wc;
    (ctx.trace.unwrap_or_default(), ctx.flow)
}

/// Bits every translation examines (`xlate_wc_init`).
fn wc_init(flow: &Flow, wc: &mut Wildcards) {
    wc.masks.packet_type = u32::MAX;
    wc.masks.in_port = u32::MAX;
    wc.masks.dl_type = u16::MAX;
    if flow.is_ip_any() {
        wc.masks.nw_frag = FRAG_MASK;
    }
    wc.masks.recirc_id = u32::MAX;
}

/// Clean-up of the mask (`xlate_wc_finish`).
fn wc_finish(flow: &Flow, wc: &mut Wildcards) {
    wc.masks.metadata = 0;
    wc.masks.regs = [0; 16];
    let icmp = (flow.dl_type == ETH_TYPE_IP && flow.nw_proto == ipproto::ICMP)
        || (flow.dl_type == rvs_flow::flow::ETH_TYPE_IPV6 && flow.nw_proto == ipproto::ICMPV6);
    if icmp {
        wc.masks.tp_src &= 0xff;
        wc.masks.tp_dst &= 0xff;
    }
    for v in &mut wc.masks.vlans {
        if v.tci != 0 {
            v.tci |= VLAN_CFI;
        }
    }
    if flow.nw_frag & FRAG_LATER != 0 {
        wc.masks.tp_src = 0;
        wc.masks.tp_dst = 0;
    }
    // VLAN header bits set by push/set actions say nothing about a packet that arrived
    // without that header.
    for (m, v) in wc.masks.vlans.iter_mut().zip(flow.vlans.iter()) {
        if !is_vlan_ethertype(v.tpid) {
            *m = VlanHeader::default();
        }
    }
}

/// Un-wildcards what checking `prereq` reads (the part of `mf_are_prereqs_ok` that touches
/// the mask): the IP protocol for L4 fields, the VLAN CFI bit for VLAN fields, ICMP type and
/// code for ND fields. `dl_type`, `packet_type` and `nw_frag` are exact in every translation.
fn unwildcard_prereq(prereq: Prereq, wc: &mut Wildcards) {
    match prereq {
        Prereq::Tcp | Prereq::Udp | Prereq::Sctp | Prereq::Icmpv4 | Prereq::Icmpv6 => {
            wc.masks.nw_proto = u8::MAX;
        }
        Prereq::Nd | Prereq::NdSolicit | Prereq::NdAdvert => {
            wc.masks.nw_proto = u8::MAX;
            wc.masks.tp_src |= 0xff;
            wc.masks.tp_dst |= 0xff;
        }
        Prereq::VlanVid => wc.masks.vlans[0].tci |= VLAN_CFI,
        _ => {}
    }
}

impl Ctx<'_> {
    /// Looks up `table_id` (with `in_port` pretended, if given) and runs the rule's actions
    /// (`xlate_table_action`). A miss does nothing (no controller is connected).
    fn table_action(&mut self, in_port: Option<u16>, table_id: u8) {
        // The first lookup (table 0) counts neither as depth nor as a resubmit in OVS, so the
        // limits allow MAX_DEPTH nested resubmits below it.
        if self.depth > MAX_DEPTH || self.resubmits > MAX_RESUBMITS {
            let error = if self.depth > MAX_DEPTH {
                self.trace_error(&format!("over max translation depth {MAX_DEPTH}"));
                XlateError::RecursionTooDeep
            } else {
                self.trace_error(&format!("over {MAX_RESUBMITS} resubmit actions"));
                XlateError::TooManyResubmits
            };
            self.out.error = Some(error);
            self.out.odp_actions.clear();
            self.exit = true;
            return;
        }
        self.resubmits += 1;
        let saved_in_port = self.flow.in_port;
        let (saved_tp_src, saved_tp_dst) = (self.flow.tp_src, self.flow.tp_dst);
        if let Some(p) = in_port {
            self.flow.in_port = u32::from(p);
        }
        // Fragment handling "normal": a fragment is looked up as if it had no transport
        // ports (`nw_frag` is already exact in the mask).
        if self.flow.nw_frag & FRAG_ANY != 0 {
            self.flow.tp_src = 0;
            self.flow.tp_dst = 0;
        }
        // Borrowed from the tables (not from `self`): the only reference count taken is the
        // one `rules_hit` keeps.
        let tables = self.xlator.tables;
        let rule = tables.lookup(
            table_id,
            &self.flow,
            self.input.tables_version,
            &mut self.wc,
        );
        self.flow.in_port = saved_in_port;
        self.flow.tp_src = saved_tp_src;
        self.flow.tp_dst = saved_tp_dst;
        let Some(rule) = rule else {
            self.out.lookup_misses += 1;
            self.trace_miss(table_id);
            return;
        };
        if let Some(stats) = self.input.resubmit_stats {
            rule.credit(stats.packets, stats.bytes, stats.used_ms);
        }
        self.out.rules_hit.push(Arc::clone(rule));
        let saved_table = self.table_id;
        self.table_id = table_id;
        self.depth += 1;
        let outer = self.trace_table(table_id, rule);
        self.do_actions(rule);
        self.trace_end_table(outer);
        self.depth -= 1;
        self.table_id = saved_table;
    }

    /// Runs the actions of `rule`. `exit` ends the whole translation; a `dec_ttl` that
    /// expires ends only this list (as `do_xlate_actions` returns in OVS).
    fn do_actions(&mut self, rule: &Rule) {
        if rule.actions.is_empty() && self.trace.is_some() {
            self.trace_action("drop".to_owned());
        }
        for action in &rule.actions {
            if self.exit || self.stop_list {
                break;
            }
            if self.trace.is_some() {
                let mut text = String::new();
                crate::actions::format_action(&mut text, action);
                self.trace_action(text);
            }
            self.do_action(action);
        }
        self.stop_list = false;
    }

    /// Runs one action (`do_xlate_actions`).
    fn do_action(&mut self, action: &OfpAction) {
        match action {
            OfpAction::Output { port, .. } => self.output_action(*port),
            OfpAction::Enqueue { port, .. } => self.output_action(*port),
            OfpAction::OutputReg { src, .. } => {
                let value = field::get(src.field, &self.flow);
                let mask = src.mask();
                field::set(
                    src.field,
                    field::get(src.field, &self.wc.masks) | mask,
                    &mut self.wc.masks,
                );
                let port = (value & mask) >> src.ofs;
                self.output_action(u16::try_from(port).unwrap_or(OFPP_NONE));
            }
            OfpAction::Controller(_) => self.slow(SLOW_ACTION),
            OfpAction::SetField(sf) => self.set_field(sf),
            OfpAction::SetVlanVid {
                vid,
                push_if_needed,
            } => {
                self.wc.masks.vlans[0].tci |= VLAN_VID_MASK | VLAN_CFI;
                let v = &mut self.flow.vlans[0];
                if v.tci & VLAN_CFI != 0 || *push_if_needed {
                    if v.tpid == 0 {
                        v.tpid = ETH_TYPE_VLAN_8021Q;
                    }
                    v.tci = (v.tci & !VLAN_VID_MASK) | (vid & VLAN_VID_MASK) | VLAN_CFI;
                }
            }
            OfpAction::SetVlanPcp {
                pcp,
                push_if_needed,
            } => {
                self.wc.masks.vlans[0].tci |= VLAN_PCP_MASK | VLAN_CFI;
                let v = &mut self.flow.vlans[0];
                if v.tci & VLAN_CFI != 0 || *push_if_needed {
                    if v.tpid == 0 {
                        v.tpid = ETH_TYPE_VLAN_8021Q;
                    }
                    v.tci = (v.tci & !VLAN_PCP_MASK)
                        | ((u16::from(*pcp) << VLAN_PCP_SHIFT) & VLAN_PCP_MASK)
                        | VLAN_CFI;
                }
            }
            OfpAction::StripVlan { .. } => {
                // `flow_pop_vlan`: the inner header (if any) becomes the outer one.
                if self.flow.vlans[1].tci & VLAN_CFI != 0 {
                    self.wc.masks.vlans[1] = VlanHeader {
                        tpid: u16::MAX,
                        tci: u16::MAX,
                    };
                }
                self.flow.vlans = [self.flow.vlans[1], VlanHeader::default()];
            }
            OfpAction::PushVlan { ethertype } => {
                // `flow_push_vlan_uninit` (which makes the headers already present exact)
                // then VID 0, PCP 0, present.
                for (m, v) in self.wc.masks.vlans.iter_mut().zip(self.flow.vlans.iter()) {
                    if v.tci & VLAN_CFI == 0 {
                        break;
                    }
                    *m = VlanHeader {
                        tpid: u16::MAX,
                        tci: u16::MAX,
                    };
                }
                self.flow.vlans = [
                    VlanHeader {
                        tpid: *ethertype,
                        tci: VLAN_CFI,
                    },
                    self.flow.vlans[0],
                ];
            }
            OfpAction::SetEthSrc(mac) => {
                self.wc.masks.dl_src = [0xff; 6];
                self.flow.dl_src = *mac;
            }
            OfpAction::SetEthDst(mac) => {
                self.wc.masks.dl_dst = [0xff; 6];
                self.flow.dl_dst = *mac;
            }
            OfpAction::SetIpv4Src(ip) => self.set_ipv4_addr(true, *ip),
            OfpAction::SetIpv4Dst(ip) => self.set_ipv4_addr(false, *ip),
            OfpAction::SetIpDscp(dscp) => self.set_tos(0xfc, *dscp),
            OfpAction::SetIpEcn(ecn) => self.set_tos(0x03, *ecn),
            OfpAction::SetIpTtl(ttl) => self.set_ttl(*ttl),
            OfpAction::SetL4SrcPort(p) => self.set_l4_port(true, *p),
            OfpAction::SetL4DstPort(p) => self.set_l4_port(false, *p),
            OfpAction::RegMove { src, dst } => {
                let value = (field::get(src.field, &self.flow) & src.mask()) >> src.ofs;
                self.unwildcard_bits(src.field, src.mask());
                self.unwildcard_bits(dst.field, dst.mask());
                let old = field::get(dst.field, &self.flow);
                let new = (old & !dst.mask()) | ((value << dst.ofs) & dst.mask());
                field::set(dst.field, new, &mut self.flow);
            }
            OfpAction::StackPush(src) => {
                // Pushing reads the subfield, so it is exact in the megaflow.
                self.unwildcard_bits(src.field, src.mask());
                let value = (field::get(src.field, &self.flow) & src.mask()) >> src.ofs;
                self.stack.push(value);
            }
            OfpAction::StackPop(dst) => {
                if let Some(value) = self.stack.pop() {
                    self.unwildcard_bits(dst.field, dst.mask());
                    let old = field::get(dst.field, &self.flow);
                    let new = (old & !dst.mask()) | ((value << dst.ofs) & dst.mask());
                    field::set(dst.field, new, &mut self.flow);
                } else {
                    self.trace_error("stack underflow");
                }
            }
            OfpAction::DecTtl { .. } => self.dec_ttl(),
            OfpAction::Resubmit { in_port, table, .. } => {
                let in_port = (*in_port != OFPP_IN_PORT).then_some(*in_port);
                self.table_action(in_port, table.unwrap_or(self.table_id));
            }
            OfpAction::GotoTable(t) => self.table_action(None, *t),
            OfpAction::Exit => self.exit = true,
            OfpAction::WriteMetadata { value, mask } => {
                self.flow.metadata = (self.flow.metadata & !mask) | (value & mask);
            }
            // `note` does nothing; `clear_actions` empties the action set, which rvs does not
            // model (no write_actions).
            OfpAction::Note(_) | OfpAction::ClearActions => {}
            // Not modelled: MPLS, queues: ignored.
            _ => {}
        }
    }

    /// `mod_nw_src` / `mod_nw_dst` (IPv4 only).
    fn set_ipv4_addr(&mut self, src: bool, ip: u32) {
        if self.flow.dl_type != ETH_TYPE_IP {
            return;
        }
        self.unwildcard_l3_protocol();
        if src {
            self.wc.masks.nw_src = u32::MAX;
            self.flow.nw_src = ip;
        } else {
            self.wc.masks.nw_dst = u32::MAX;
            self.flow.nw_dst = ip;
        }
    }

    /// `mod_nw_tos` (`bits` = 0xfc) / `mod_nw_ecn` (`bits` = 0x03).
    fn set_tos(&mut self, bits: u8, value: u8) {
        if self.flow.is_ip_any() {
            self.unwildcard_l3_protocol();
            self.wc.masks.nw_tos |= bits;
            self.flow.nw_tos = (self.flow.nw_tos & !bits) | (value & bits);
        }
    }

    /// `mod_nw_ttl`.
    fn set_ttl(&mut self, ttl: u8) {
        if self.flow.is_ip_any() {
            self.unwildcard_l3_protocol();
            self.wc.masks.nw_ttl = u8::MAX;
            self.flow.nw_ttl = ttl;
        }
    }

    /// `mod_tp_src` / `mod_tp_dst`.
    fn set_l4_port(&mut self, src: bool, port: u16) {
        if !self.l4_port_writable() {
            return;
        }
        if src {
            self.wc.masks.tp_src = u16::MAX;
            self.flow.tp_src = port;
        } else {
            self.wc.masks.tp_dst = u16::MAX;
            self.flow.tp_dst = port;
        }
    }

    /// `dec_ttl`: a TTL of 0 or 1 stops the current action list (OVS sends an invalid-TTL
    /// packet-in to controllers that asked for one; with no controller that is a plain stop).
    fn dec_ttl(&mut self) {
        if !self.flow.is_ip_any() {
            return;
        }
        self.unwildcard_l3_protocol();
        self.wc.masks.nw_ttl = u8::MAX;
        if self.flow.nw_ttl > 1 {
            self.flow.nw_ttl -= 1;
        } else {
            self.stop_list = true;
        }
    }

    /// Whether `mod_tp_src`/`mod_tp_dst` apply, un-wildcarding the IP protocol it reads.
    fn l4_port_writable(&mut self) -> bool {
        if !self.flow.is_ip_any() || self.flow.nw_frag & FRAG_LATER != 0 {
            return false;
        }
        self.wc.masks.nw_proto = u8::MAX;
        matches!(
            self.flow.nw_proto,
            ipproto::TCP | ipproto::UDP | ipproto::SCTP
        )
    }

    /// Un-wildcards the IP protocol (the ARP opcode for ARP) as OVS 3.1 does for every set
    /// action on an L3 header field (`set_field`/`load`, `mod_nw_*`, `dec_ttl`), whether or not
    /// the value changes and whether or not it is ever committed. Observed with `ofproto/trace`
    /// on OVS 3.1: `mod_nw_dst` to the packet's own address gives `tcp,nw_dst=...`, also with
    /// no output; `move`/`pop` into the same field, even when they emit `set(ipv4(...))`, give
    /// `ip`.
    fn unwildcard_l3_protocol(&mut self) {
        self.wc.masks.nw_proto = u8::MAX;
    }

    /// Un-wildcards `mask` bits of field `id`.
    fn unwildcard_bits(&mut self, id: rvs_flow::ofp_match::fields::FieldId, mask: u128) {
        let old = field::get(id, &self.wc.masks);
        field::set(id, old | mask, &mut self.wc.masks);
    }

    /// `set_field`/`load`: skipped if the field's prerequisites do not hold.
    fn set_field(&mut self, sf: &SetField) {
        let Some(def) = field_def(sf.field) else {
            return;
        };
        unwildcard_prereq(def.prereq, &mut self.wc);
        if !prerequisites_ok(def.prereq, &self.flow) {
            return;
        }
        self.unwildcard_bits(sf.field, sf.mask);
        if matches!(
            def.prereq,
            Prereq::Arp | Prereq::Ipv4 | Prereq::Ipv6 | Prereq::IpAny
        ) {
            self.unwildcard_l3_protocol();
        }
        let old = field::get(sf.field, &self.flow);
        field::set(
            sf.field,
            (old & !sf.mask) | (sf.value & sf.mask),
            &mut self.flow,
        );
    }

    /// Marks the flow slow-pathed.
    fn slow(&mut self, reason: u32) {
        self.out.slow = true;
        self.out.slow_reasons |= reason;
    }

    /// An output to an OpenFlow port, reserved ports included (`xlate_output_action`).
    fn output_action(&mut self, port: u16) {
        let in_port = u16::try_from(self.flow.in_port).unwrap_or(OFPP_NONE);
        match port {
            OFPP_IN_PORT => self.compose_output(in_port),
            OFPP_TABLE => {}
            OFPP_NORMAL => self.normal(),
            OFPP_FLOOD | OFPP_ALL => {
                let all: Vec<u16> = self
                    .xlator
                    .bridge
                    .ports()
                    .iter()
                    .map(|p| p.ofport)
                    .collect();
                let ports: Vec<u16> = hash_map_order(&all)
                    .into_iter()
                    .filter(|p| *p != in_port)
                    .collect();
                for p in ports {
                    self.compose_output(p);
                }
            }
            OFPP_CONTROLLER => self.slow(SLOW_ACTION),
            OFPP_NONE => {}
            OFPP_LOCAL if in_port == OFPP_LOCAL => {}
            p if p == in_port => self.trace_warn("skipping output to input port"),
            p => self.compose_output(p),
        }
    }

    /// Commits the pending changes and outputs to OpenFlow port `ofport`
    /// (`compose_output_action`); unknown ports are skipped.
    pub(super) fn compose_output(&mut self, ofport: u16) {
        let Some(port) = self.xlator.bridge.by_ofport(ofport) else {
            return;
        };
        let odp_port = port.odp_port;
        let slow = commit(
            &self.flow,
            &mut self.base,
            &mut self.wc,
            &mut self.out.odp_actions,
        );
        if slow != 0 {
            self.slow(slow);
        }
        self.out.odp_actions.push(OdpAction::Output(odp_port));
    }
}
