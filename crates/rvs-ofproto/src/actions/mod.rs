//! OpenFlow actions: the [`OfpAction`] list of a rule, its `ovs-ofctl` text syntax both ways,
//! its consistency checks against the rule's match, and how it looks after crossing the wire
//! in one OpenFlow dialect.
//!
//! The model follows Open vSwitch's internal action list (`struct ofpact`, `lib/ofp-actions.c`
//! in 3.1): one variant per action kind, remembering the spelling where Open vSwitch does
//! (`strip_vlan` vs `pop_vlan`, `mod_vlan_vid` vs `set_vlan_vid`, `load` vs `set_field`).
//!
//! * [`parse`]: `ovs-ofctl` action text → actions ([`parse_actions`]), with OVS's error texts.
//! * [`format`](mod@format): actions → text ([`format_actions`]), as `ofpacts_format` prints them.
//! * [`check`]: [`check_actions`] (`ofpacts_check`: ports, tables, prerequisites) and the
//!   protocols a list can be sent in.
//! * [`wire`]: [`wire_form`], the list a switch stores (and a dump prints) after the list was
//!   encoded in one [`Dialect`] and decoded again (`mod_nw_src` becomes `set_field` in
//!   OpenFlow 1.3, `goto_table` becomes `resubmit` in OpenFlow 1.0, notes are zero-padded, ...).
//! * [`field`]: bit widths, NXM names and flow access for the fields actions touch.
//!
//! Not modelled (rejected at parse time with an "rvs does not support" message): `learn`,
//! `ct`, `nat`, `conjunction`, `write_actions`, `clone`, `bundle`, `multipath`, `group`,
//! `meter`, `sample`, tunnel actions and the other Nicira extensions.
//!
//! # Invariants
//! * `parse_actions(format_actions(a)) == a` for every list `parse_actions` can produce, with
//!   Open vSwitch's own exceptions: `resubmit(PORT,,ct)` prints as `resubmit:PORT` (dropping
//!   `ct`), and a `set_field` with an all-zero mask (printed `set_field:ANY->F`) or with a
//!   non-CIDR IPv6 mask whose text starts with a digit does not read back.
//! * [`wire_form`] is idempotent and its output prints, for each dialect, byte for byte what
//!   `ovs-ofctl dump-flows` of Open vSwitch 3.1 prints for a flow added with the same text in
//!   the same dialect.
//! * Nothing here panics on any input; every error carries Open vSwitch's wording.

pub mod check;
pub mod field;
pub mod format;
mod numbers;
pub mod parse;
pub mod protocols;
pub mod value;
pub mod wire;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use check::{CheckContext, OfpError, check_actions, check_decoded, verify_instruction_order};
pub use format::{format_action, format_actions};
pub use parse::{ParsedActions, parse_actions};
pub use protocols::{Dialect, Protocols};
pub use wire::wire_form;

use rvs_flow::ofp_match::fields::{FieldDef, FieldId, field_def};
use rvs_flow::ofp_match::port::{OFPP_CONTROLLER, OFPP_NONE};

/// A bit range of a field, as `load`, `move`, `output:reg`, `push` and `pop` name it
/// (`NXM_NX_REG0[0..15]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subfield {
    /// The field.
    pub field: FieldId,
    /// First bit (0 = least significant).
    pub ofs: u32,
    /// Number of bits, at least 1; `ofs + n_bits` never exceeds the field's width.
    pub n_bits: u32,
}

impl Subfield {
    /// The field's definition.
    pub fn def(&self) -> Option<&'static FieldDef> {
        field_def(self.field)
    }

    /// The mask of the subfield's bits within the field's value.
    pub fn mask(&self) -> u128 {
        field::low_bits(self.n_bits)
            .checked_shl(self.ofs)
            .unwrap_or(0)
    }
}

/// Why a `controller` action sends a packet in (`enum ofp_packet_in_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketInReason {
    /// `no_match`.
    NoMatch,
    /// `action` (the default).
    Action,
    /// `invalid_ttl`.
    InvalidTtl,
    /// `action_set`.
    ActionSet,
    /// `group`.
    Group,
    /// `packet_out`.
    PacketOut,
    /// The explicit table-miss reason, written as an empty name (`controller(reason=)`, used
    /// by Open vSwitch's internal miss rule).
    ExplicitMiss,
}

impl PacketInReason {
    /// Every reason, in Open vSwitch's numbering order.
    pub const ALL: [PacketInReason; 7] = [
        PacketInReason::NoMatch,
        PacketInReason::Action,
        PacketInReason::InvalidTtl,
        PacketInReason::ActionSet,
        PacketInReason::Group,
        PacketInReason::PacketOut,
        PacketInReason::ExplicitMiss,
    ];

    /// The name in action text.
    pub fn name(self) -> &'static str {
        match self {
            PacketInReason::NoMatch => "no_match",
            PacketInReason::Action => "action",
            PacketInReason::InvalidTtl => "invalid_ttl",
            PacketInReason::ActionSet => "action_set",
            PacketInReason::Group => "group",
            PacketInReason::PacketOut => "packet_out",
            PacketInReason::ExplicitMiss => "",
        }
    }
}

/// The general form of `controller(...)` (a plain `controller` is an [`OfpAction::Output`] to
/// `CONTROLLER`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Controller {
    /// Bytes of the packet to send (65535 = all).
    pub max_len: u16,
    /// The reason reported to the controller.
    pub reason: PacketInReason,
    /// The controller connection id (0 = all).
    pub controller_id: u16,
    /// Opaque data for the controller.
    pub userdata: Vec<u8>,
    /// Whether the pipeline pauses for the controller (`pause`).
    pub pause: bool,
    /// A meter for the packet-ins.
    pub meter_id: Option<u32>,
}

impl Controller {
    /// True if this is the plain form (`CONTROLLER:max_len`).
    pub fn is_plain(&self) -> bool {
        self.reason == PacketInReason::Action
            && self.controller_id == 0
            && self.userdata.is_empty()
            && !self.pause
            && self.meter_id.is_none()
    }
}

/// `set_field` or `load`: write `value` into the bits of `field` that `mask` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetField {
    /// The field.
    pub field: FieldId,
    /// The value, in the field's units (bits outside `mask` are zero).
    pub value: u128,
    /// Which bits to write (all of the field's bits for a plain `set_field`).
    pub mask: u128,
    /// Spelled `load:...` (Nicira register load) rather than `set_field:...`.
    pub as_load: bool,
}

/// One OpenFlow action or instruction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OfpAction {
    /// Output to a port: `output:N`, a bare port number or name, `IN_PORT`, `LOCAL`, `NORMAL`,
    /// `FLOOD`, `ALL`, `TABLE`, or `CONTROLLER:max_len`.
    Output {
        /// OpenFlow 1.0 port number (reserved ports 0xfff8..).
        port: u16,
        /// Bytes sent to the controller (only meaningful for `CONTROLLER`).
        max_len: u16,
    },
    /// `controller(...)` with a reason, id, userdata, `pause` or meter.
    Controller(Controller),
    /// `enqueue:PORT:QUEUE`.
    Enqueue {
        /// The port.
        port: u16,
        /// The queue.
        queue: u32,
    },
    /// `output:SUBFIELD`: output to the port number read from a field.
    OutputReg {
        /// Where the port number is.
        src: Subfield,
        /// Bytes sent if the port is the controller.
        max_len: u16,
    },
    /// `set_field:V->F`, `set_field:V/M->F` or `load:V->F[a..b]`.
    SetField(SetField),
    /// `mod_vlan_vid:V` (pushes a tag if there is none) or `set_vlan_vid:V`.
    SetVlanVid {
        /// VLAN id, 0..=4095.
        vid: u16,
        /// `mod_vlan_vid` (true) or `set_vlan_vid` (false).
        push_if_needed: bool,
    },
    /// `mod_vlan_pcp:P` or `set_vlan_pcp:P`.
    SetVlanPcp {
        /// Priority, 0..=7.
        pcp: u8,
        /// `mod_vlan_pcp` (true) or `set_vlan_pcp` (false).
        push_if_needed: bool,
    },
    /// `strip_vlan` or `pop_vlan`.
    StripVlan {
        /// Spelled `pop_vlan`.
        pop_vlan: bool,
    },
    /// `push_vlan:ETHERTYPE` (0x8100 or 0x88a8).
    PushVlan {
        /// The TPID.
        ethertype: u16,
    },
    /// `mod_dl_src:MAC`.
    SetEthSrc([u8; 6]),
    /// `mod_dl_dst:MAC`.
    SetEthDst([u8; 6]),
    /// `mod_nw_src:IP`.
    SetIpv4Src(u32),
    /// `mod_nw_dst:IP`.
    SetIpv4Dst(u32),
    /// `mod_nw_tos:TOS` (DSCP bits in place, low two bits zero).
    SetIpDscp(u8),
    /// `mod_nw_ecn:ECN`.
    SetIpEcn(u8),
    /// `mod_nw_ttl:TTL`.
    SetIpTtl(u8),
    /// `mod_tp_src:PORT`.
    SetL4SrcPort(u16),
    /// `mod_tp_dst:PORT`.
    SetL4DstPort(u16),
    /// `move:SRC[..]->DST[..]`.
    RegMove {
        /// Source bits.
        src: Subfield,
        /// Destination bits (same width).
        dst: Subfield,
    },
    /// `push:SUBFIELD` (onto the action stack).
    StackPush(Subfield),
    /// `pop:SUBFIELD`.
    StackPop(Subfield),
    /// `dec_ttl` or `dec_ttl(id,...)`.
    DecTtl {
        /// Controller ids to notify on expiry when given explicitly.
        controller_ids: Option<Vec<u16>>,
    },
    /// `set_mpls_label(L)`.
    SetMplsLabel(u32),
    /// `set_mpls_tc(T)`.
    SetMplsTc(u8),
    /// `set_mpls_ttl(T)`.
    SetMplsTtl(u8),
    /// `dec_mpls_ttl`.
    DecMplsTtl,
    /// `push_mpls:ETHERTYPE`.
    PushMpls {
        /// 0x8847 or 0x8848.
        ethertype: u16,
    },
    /// `pop_mpls:ETHERTYPE`.
    PopMpls {
        /// The ethertype of the payload.
        ethertype: u16,
    },
    /// `set_queue:Q`.
    SetQueue(u32),
    /// `pop_queue`.
    PopQueue,
    /// `resubmit:PORT` or `resubmit([PORT],[TABLE][,ct])`.
    Resubmit {
        /// The input port to pretend (`IN_PORT` = keep the packet's).
        in_port: u16,
        /// The table (None = the current one).
        table: Option<u8>,
        /// Look up with the conntrack original direction tuple.
        ct: bool,
    },
    /// `note:HEX`.
    Note(Vec<u8>),
    /// `exit`.
    Exit,
    /// `clear_actions` (instruction).
    ClearActions,
    /// `write_metadata:V[/M]` (instruction).
    WriteMetadata {
        /// The value.
        value: u64,
        /// The bits to write.
        mask: u64,
    },
    /// `goto_table:N` (instruction).
    GotoTable(u8),
}

impl OfpAction {
    /// The action's name as Open vSwitch's `ofpact_name` gives it (used in error texts).
    pub fn name(&self) -> &'static str {
        match self {
            OfpAction::Output { .. } => "output",
            OfpAction::Controller(_) => "controller",
            OfpAction::Enqueue { .. } => "enqueue",
            OfpAction::OutputReg { .. } => "output_reg",
            OfpAction::SetField(_) => "set_field",
            OfpAction::SetVlanVid { .. } => "set_vlan_vid",
            OfpAction::SetVlanPcp { .. } => "set_vlan_pcp",
            OfpAction::StripVlan { .. } => "strip_vlan",
            OfpAction::PushVlan { .. } => "push_vlan",
            OfpAction::SetEthSrc(_) => "mod_dl_src",
            OfpAction::SetEthDst(_) => "mod_dl_dst",
            OfpAction::SetIpv4Src(_) => "mod_nw_src",
            OfpAction::SetIpv4Dst(_) => "mod_nw_dst",
            OfpAction::SetIpDscp(_) => "mod_nw_tos",
            OfpAction::SetIpEcn(_) => "mod_nw_ecn",
            OfpAction::SetIpTtl(_) => "mod_nw_ttl",
            OfpAction::SetL4SrcPort(_) => "mod_tp_src",
            OfpAction::SetL4DstPort(_) => "mod_tp_dst",
            OfpAction::RegMove { .. } => "move",
            OfpAction::StackPush(_) => "push",
            OfpAction::StackPop(_) => "pop",
            OfpAction::DecTtl { .. } => "dec_ttl",
            OfpAction::SetMplsLabel(_) => "set_mpls_label",
            OfpAction::SetMplsTc(_) => "set_mpls_tc",
            OfpAction::SetMplsTtl(_) => "set_mpls_ttl",
            OfpAction::DecMplsTtl => "dec_mpls_ttl",
            OfpAction::PushMpls { .. } => "push_mpls",
            OfpAction::PopMpls { .. } => "pop_mpls",
            OfpAction::SetQueue(_) => "set_queue",
            OfpAction::PopQueue => "pop_queue",
            OfpAction::Resubmit { .. } => "resubmit",
            OfpAction::Note(_) => "note",
            OfpAction::Exit => "exit",
            OfpAction::ClearActions => "clear_actions",
            OfpAction::WriteMetadata { .. } => "write_metadata",
            OfpAction::GotoTable(_) => "goto_table",
        }
    }

    /// True if the action outputs to `port` in the sense of OpenFlow's `out_port` filter
    /// (`ofpact_outputs_to_port`): an output or enqueue to exactly that port, or a
    /// `controller(...)` when `port` is `CONTROLLER` (so `FLOOD` does not match port 1).
    pub fn outputs_to_port(&self, port: u16) -> bool {
        match self {
            OfpAction::Output { port: p, .. } | OfpAction::Enqueue { port: p, .. } => *p == port,
            OfpAction::Controller(_) => port == OFPP_CONTROLLER,
            _ => false,
        }
    }
}

/// True if `actions` output to `port` (OpenFlow's `out_port` filter); [`OFPP_NONE`] (ANY)
/// matches every list.
pub fn outputs_to_port(actions: &[OfpAction], port: u16) -> bool {
    port == OFPP_NONE || actions.iter().any(|a| a.outputs_to_port(port))
}
