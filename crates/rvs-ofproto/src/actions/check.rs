//! Consistency of an action list with its rule (`ofpacts_check` and `ofpacts_verify` in Open
//! vSwitch 3.1): output ports, table numbers, field prerequisites given the match and the
//! actions before, instruction order; and the OpenFlow errors such failures are reported as.
//!
//! Like Open vSwitch, the check walks the actions over a copy of the match's flow that earlier
//! actions change (`push_vlan` adds a tag, `pop_mpls` changes the ethertype, ...). Some
//! inconsistencies are hard errors (`set_field` without its prerequisites); others only make the
//! list unusable in OpenFlow 1.1 and later ([`Protocols::OF10_ANY`]), because OpenFlow 1.0 lets
//! a switch accept them (`mod_nw_src` on a non-IP match).
//!
//! # Invariants
//! * The check never changes its inputs; it returns the usable protocols or the first error.
//! * `FlowTracker` changes the flow exactly as `ofpacts_check` does, so the wire conversion
//!   sees the same "flow has a VLAN" / "IP protocol" facts Open vSwitch records.

use super::field::{has_wire_encoding, is_writable, n_bits, requires_ct};
use super::{OfpAction, Protocols, Subfield};
use rvs_flow::flow::{
    ETH_TYPE_IP, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, FRAG_LATER, PT_ETH, VLAN_CFI, ct_state,
    ipproto,
};
use rvs_flow::ofp_match::fields::{FieldId, field_def};
use rvs_flow::ofp_match::port::{
    OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX, OFPP_NONE,
    OFPP_NORMAL, OFPP_TABLE,
};
use rvs_flow::ofp_match::prereq::effective_dl_type;
use rvs_flow::ofp_match::prerequisites_ok;
use rvs_flow::{Flow, Match};
use std::fmt;

/// An OpenFlow error, named as Open vSwitch names it (`ofperr_to_string`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfpError {
    /// `OFPBAC_BAD_OUT_PORT`: output to a port that cannot exist.
    BadOutPort,
    /// `OFPBAC_MATCH_INCONSISTENT`: the action needs something the match does not guarantee.
    MatchInconsistent,
    /// `OFPBIC_BAD_TABLE_ID`: `goto_table` to a table not after the current one.
    BadGotoTable,
    /// `OFPBAC_BAD_TAG`: a third VLAN tag.
    BadTag,
    /// `OFPBAC_BAD_SET_LEN`: a bad subfield.
    BadSetLen,
    /// `OFPBAC_BAD_SET_ARGUMENT`: writing a read-only field, or a value a field cannot hold.
    BadSetArgument,
    /// `OFPBAC_BAD_ARGUMENT`: a bad action argument.
    BadArgument,
    /// `OFPBAC_UNSUPPORTED_ORDER`: instructions out of order.
    UnsupportedOrder,
    /// `OFPBRC_EPERM`: the table is read-only.
    Eperm,
    /// `OFPBRC_BAD_TABLE_ID`: no such table.
    BadTableId,
    /// `OFPFMFC_BAD_TABLE_ID`: a flow mod names a table it may not.
    FlowModBadTableId,
    /// `OFPFMFC_OVERLAP`: `check_overlap` found an overlapping rule.
    Overlap,
    /// `OFPFMFC_BAD_COMMAND`: unknown flow-mod command.
    BadCommand,
}

impl OfpError {
    /// Open vSwitch's name for the error.
    pub fn name(self) -> &'static str {
        match self {
            OfpError::BadOutPort => "OFPBAC_BAD_OUT_PORT",
            OfpError::MatchInconsistent => "OFPBAC_MATCH_INCONSISTENT",
            OfpError::BadGotoTable => "OFPBIC_BAD_TABLE_ID",
            OfpError::BadTag => "OFPBAC_BAD_TAG",
            OfpError::BadSetLen => "OFPBAC_BAD_SET_LEN",
            OfpError::BadSetArgument => "OFPBAC_BAD_SET_ARGUMENT",
            OfpError::BadArgument => "OFPBAC_BAD_ARGUMENT",
            OfpError::UnsupportedOrder => "OFPBAC_UNSUPPORTED_ORDER",
            OfpError::Eperm => "OFPBRC_EPERM",
            OfpError::BadTableId => "OFPBRC_BAD_TABLE_ID",
            OfpError::FlowModBadTableId => "OFPFMFC_BAD_TABLE_ID",
            OfpError::Overlap => "OFPFMFC_OVERLAP",
            OfpError::BadCommand => "OFPFMFC_BAD_COMMAND",
        }
    }
}

impl fmt::Display for OfpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the check knows about the rule.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The rule's match.
    pub flow_match: &'a Match,
    /// The rule's table (`None` = not known yet, OpenFlow's 255).
    pub table_id: Option<u8>,
    /// Port numbers from this one up are invalid outputs (Open vSwitch: `OFPP_MAX`).
    pub max_ports: u16,
    /// Number of tables; 255 disables the upper bound of `goto_table` as in Open vSwitch.
    pub n_tables: u16,
}

impl<'a> CheckContext<'a> {
    /// The context `ovs-ofctl` and an Open vSwitch bridge use: ports below `OFPP_MAX`, 255
    /// tables.
    pub fn new(flow_match: &'a Match, table_id: Option<u8>) -> CheckContext<'a> {
        CheckContext {
            flow_match,
            table_id,
            max_ports: OFPP_MAX,
            n_tables: 255,
        }
    }
}

/// Facts about the flow just before one action, as the wire encoding needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Before {
    /// The flow has a VLAN tag (CFI bit set).
    pub(crate) flow_has_vlan: bool,
    /// The flow's IP protocol.
    pub(crate) ip_proto: u8,
}

/// Walks an action list over a copy of the match's flow, changing it as `ofpacts_check` does.
#[derive(Debug, Clone)]
pub(crate) struct FlowTracker {
    pub(crate) flow: Flow,
    pub(crate) wc: rvs_flow::Wildcards,
}

impl FlowTracker {
    pub(crate) fn new(m: &Match) -> FlowTracker {
        FlowTracker {
            flow: m.flow,
            wc: m.wc,
        }
    }

    pub(crate) fn before(&self) -> Before {
        Before {
            flow_has_vlan: self.flow.vlans[0].tci & VLAN_CFI != 0,
            ip_proto: self.flow.nw_proto,
        }
    }

    /// Applies the flow changes of `a` (after it was checked).
    pub(crate) fn apply(&mut self, a: &OfpAction) {
        let f = &mut self.flow;
        match a {
            OfpAction::SetField(sf) if sf.field == FieldId::VlanTci => {
                f.vlans[0].tci = u16::try_from(sf.value & 0xffff).unwrap_or(0);
            }
            OfpAction::SetVlanVid { .. } | OfpAction::SetVlanPcp { .. } => {
                f.vlans[0].tci |= VLAN_CFI;
            }
            OfpAction::StripVlan { .. } => {
                f.vlans[0] = f.vlans[1];
                f.vlans[1] = rvs_flow::VlanHeader::default();
            }
            OfpAction::PushVlan { .. } => {
                f.vlans[1] = f.vlans[0];
                f.vlans[0] = rvs_flow::VlanHeader::default();
                f.vlans[0].tci |= VLAN_CFI;
            }
            OfpAction::PushMpls { ethertype } => {
                f.dl_type = *ethertype;
                f.nw_proto = 0;
            }
            OfpAction::PopMpls { ethertype } => f.dl_type = *ethertype,
            _ => {}
        }
    }
}

fn is_mpls(dl_type: u16) -> bool {
    dl_type == ETH_TYPE_MPLS || dl_type == ETH_TYPE_MPLS_MCAST
}

fn is_ip_any(flow: &Flow) -> bool {
    let t = effective_dl_type(flow);
    t == ETH_TYPE_IP || t == rvs_flow::flow::ETH_TYPE_IPV6
}

/// `ofpact_check_output_port`.
pub fn check_output_port(port: u16, max_ports: u16) -> Result<(), OfpError> {
    match port {
        OFPP_IN_PORT | OFPP_TABLE | OFPP_NORMAL | OFPP_FLOOD | OFPP_ALL | OFPP_CONTROLLER
        | OFPP_LOCAL => Ok(()),
        OFPP_NONE => Err(OfpError::BadOutPort),
        p if p < max_ports => Ok(()),
        _ => Err(OfpError::BadOutPort),
    }
}

/// `mf_check_src` / `mf_check_dst`.
fn check_subfield(sf: &Subfield, flow: &Flow, destination: bool) -> Result<(), OfpError> {
    let def = field_def(sf.field).ok_or(OfpError::BadSetLen)?;
    if sf.n_bits == 0 || sf.ofs >= n_bits(def) || sf.ofs + sf.n_bits > n_bits(def) {
        return Err(OfpError::BadSetLen);
    }
    if !prerequisites_ok(def.prereq, flow) {
        return Err(OfpError::MatchInconsistent);
    }
    if destination && !is_writable(def) {
        return Err(OfpError::BadSetArgument);
    }
    if !has_wire_encoding(def) {
        return Err(OfpError::BadSetLen);
    }
    Ok(())
}

/// `is_ct_valid` for a match: it matches a bit that implies a conntrack entry, or "tracked and
/// not invalid".
fn is_ct_valid(flow: &Flow, wc: &rvs_flow::Wildcards) -> bool {
    let valid_bits = ct_state::NEW
        | ct_state::EST
        | ct_state::REL
        | ct_state::RPL
        | ct_state::SNAT
        | ct_state::DNAT;
    flow.ct_state & valid_bits != 0
        || (flow.ct_state & ct_state::TRK != 0
            && wc.masks.ct_state & ct_state::INV != 0
            && flow.ct_state & ct_state::INV == 0)
}

/// Checks `actions` against the rule (`ofpacts_check`). Returns the protocols that can carry
/// the rule (all but OpenFlow 1.0 are removed when the list is inconsistent with the match in
/// a way only OpenFlow 1.0 tolerates), or the first error.
pub fn check_actions(actions: &[OfpAction], cx: &CheckContext<'_>) -> Result<Protocols, OfpError> {
    let mut tracker = FlowTracker::new(cx.flow_match);
    let mut usable = Protocols::ANY;
    for a in actions {
        let inconsistent = check_one(a, &tracker, cx)?;
        if inconsistent {
            usable &= Protocols::OF10_ANY;
        }
        tracker.apply(a);
    }
    Ok(usable)
}

/// Checks one action on the tracked flow; `Ok(true)` means "inconsistent, OpenFlow 1.0 only".
fn check_one(a: &OfpAction, t: &FlowTracker, cx: &CheckContext<'_>) -> Result<bool, OfpError> {
    let f = &t.flow;
    let has_vlan = f.vlans[0].tci & VLAN_CFI != 0;
    let dl_type = effective_dl_type(f);
    match a {
        OfpAction::Output { port, .. } => check_output_port(*port, cx.max_ports).map(|()| false),
        OfpAction::Enqueue { port, .. } => {
            if *port >= cx.max_ports && *port != OFPP_IN_PORT && *port != OFPP_LOCAL {
                Err(OfpError::BadOutPort)
            } else {
                Ok(false)
            }
        }
        OfpAction::OutputReg { src, .. } | OfpAction::StackPush(src) => {
            check_subfield(src, f, false).map(|()| false)
        }
        OfpAction::StackPop(dst) => check_subfield(dst, f, true).map(|()| false),
        OfpAction::RegMove { src, dst } => {
            check_subfield(src, f, false)?;
            check_subfield(dst, f, true).map(|()| false)
        }
        OfpAction::SetField(sf) => {
            let def = field_def(sf.field).ok_or(OfpError::BadSetArgument)?;
            if !prerequisites_ok(def.prereq, f) || (sf.field == FieldId::VlanVid && !has_vlan) {
                return Err(OfpError::MatchInconsistent);
            }
            Ok(false)
        }
        OfpAction::SetVlanVid { push_if_needed, .. }
        | OfpAction::SetVlanPcp { push_if_needed, .. } => Ok(!has_vlan && !push_if_needed),
        OfpAction::StripVlan { .. } => Ok(!has_vlan),
        OfpAction::PushVlan { ethertype } => {
            if f.vlans[1].tci & VLAN_CFI != 0 {
                return Err(OfpError::BadTag);
            }
            if *ethertype != 0x8100 && *ethertype != 0x88a8 {
                return Err(OfpError::BadArgument);
            }
            Ok(false)
        }
        OfpAction::SetIpv4Src(_) | OfpAction::SetIpv4Dst(_) => Ok(dl_type != ETH_TYPE_IP),
        OfpAction::SetIpDscp(_)
        | OfpAction::SetIpEcn(_)
        | OfpAction::SetIpTtl(_)
        | OfpAction::DecTtl { .. } => Ok(!is_ip_any(f)),
        OfpAction::SetL4SrcPort(_) | OfpAction::SetL4DstPort(_) => Ok(!is_ip_any(f)
            || f.nw_frag & FRAG_LATER != 0
            || !matches!(f.nw_proto, ipproto::TCP | ipproto::UDP | ipproto::SCTP)),
        OfpAction::SetMplsLabel(_)
        | OfpAction::SetMplsTc(_)
        | OfpAction::SetMplsTtl(_)
        | OfpAction::DecMplsTtl => Ok(!is_mpls(dl_type)),
        OfpAction::PushMpls { .. } => Ok(f.packet_type != PT_ETH),
        OfpAction::PopMpls { .. } => Ok(f.packet_type != PT_ETH || !is_mpls(dl_type)),
        OfpAction::Resubmit { ct: true, .. } => {
            if is_ct_valid(f, &t.wc) {
                Ok(false)
            } else {
                Err(OfpError::MatchInconsistent)
            }
        }
        OfpAction::GotoTable(table) => {
            let after_current = cx.table_id.is_none_or(|cur| *table > cur);
            let exists = cx.n_tables == 255 || u16::from(*table) < cx.n_tables;
            if after_current && exists {
                Ok(false)
            } else {
                Err(OfpError::BadGotoTable)
            }
        }
        OfpAction::Controller(_)
        | OfpAction::SetEthSrc(_)
        | OfpAction::SetEthDst(_)
        | OfpAction::SetQueue(_)
        | OfpAction::PopQueue
        | OfpAction::Resubmit { .. }
        | OfpAction::Note(_)
        | OfpAction::Exit
        | OfpAction::ClearActions
        | OfpAction::WriteMetadata { .. } => Ok(false),
    }
}

/// OpenFlow 1.1+ instruction of an action, in the order instructions must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Instruction {
    ApplyActions,
    ClearActions,
    WriteMetadata,
    GotoTable,
}

impl Instruction {
    fn of(a: &OfpAction) -> Instruction {
        match a {
            OfpAction::ClearActions => Instruction::ClearActions,
            OfpAction::WriteMetadata { .. } => Instruction::WriteMetadata,
            OfpAction::GotoTable(_) => Instruction::GotoTable,
            _ => Instruction::ApplyActions,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Instruction::ApplyActions => "apply_actions",
            Instruction::ClearActions => "clear_actions",
            Instruction::WriteMetadata => "write_metadata",
            Instruction::GotoTable => "goto_table",
        }
    }
}

/// `ofpacts_verify` at the top level: conntrack fields may only be set inside `ct`, and
/// instructions must come in OpenFlow 1.1 order (apply actions, clear, write metadata, goto)
/// without duplicates. Returns OVS's message and error code.
pub fn verify_instruction_order(actions: &[OfpAction]) -> Result<(), (String, OfpError)> {
    let mut current: Option<Instruction> = None;
    for a in actions {
        let dst = match a {
            OfpAction::SetField(sf) => Some(sf.field),
            OfpAction::RegMove { dst, .. } => Some(dst.field),
            _ => None,
        };
        if dst.and_then(field_def).is_some_and(requires_ct) {
            return Err((
                "cannot set CT fields outside of ct action".to_owned(),
                OfpError::BadSetArgument,
            ));
        }
        let next = Instruction::of(a);
        if let Some(inst) = current {
            let out_of_order = if inst == Instruction::ApplyActions {
                next < inst
            } else {
                next <= inst
            };
            if out_of_order {
                let message = if next == inst {
                    format!(
                        "duplicate {} instruction not allowed, for OpenFlow 1.1+ compatibility",
                        inst.name()
                    )
                } else {
                    format!(
                        "invalid instruction ordering: {} must appear before {}, for OpenFlow \
                         1.1+ compatibility",
                        next.name(),
                        inst.name()
                    )
                };
                return Err((message, OfpError::UnsupportedOrder));
            }
        }
        current = Some(next);
    }
    Ok(())
}

/// What a switch's decoder refuses in an action list as received (after [`super::wire_form`]),
/// beyond the match checks: writing a read-only field with `load` (`OFPBAC_BAD_SET_ARGUMENT`),
/// `push_mpls` with a non-MPLS ethertype (`OFPBAC_BAD_ARGUMENT`), and instructions that the
/// dialect's encoding put out of order (`OFPBAC_UNSUPPORTED_ORDER`; Open vSwitch reports it
/// as `NXBRC_UNENCODABLE_ERROR` to an OpenFlow 1.0 client).
pub fn check_decoded(wire: &[OfpAction]) -> Result<(), OfpError> {
    for a in wire {
        match a {
            OfpAction::SetField(sf) => {
                let def = field_def(sf.field).ok_or(OfpError::BadSetArgument)?;
                if !is_writable(def) || !has_wire_encoding(def) {
                    return Err(OfpError::BadSetArgument);
                }
            }
            OfpAction::PushMpls { ethertype } if !is_mpls(*ethertype) => {
                return Err(OfpError::BadArgument);
            }
            _ => {}
        }
    }
    verify_instruction_order(wire).map_err(|(_, e)| e)
}
