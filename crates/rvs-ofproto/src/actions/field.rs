//! What actions need to know about match fields beyond `rvs_flow`'s field table: bit widths,
//! NXM/OXM names (the names `load`, `move` and `output:reg` print), writability, the values a
//! `set_field` may store, and reading/writing a field's value in a [`Flow`].
//!
//! # Invariants
//! * A field value is a `u128` in the field's own units (as `mf_get_value` in Open vSwitch): the
//!   low `n_bits` bits are significant; addresses are big-endian integers.
//! * [`get`] and [`set`] touch only the field's own bits of the flow (shared storage such as the
//!   VLAN TCI or the TOS byte keeps its other bits), and `get(set(v)) == v & max` for every
//!   writable field.
//! * Every field has a print name: its NXM/OXM name if Open vSwitch has one, else its own name.

use rvs_flow::Flow;
use rvs_flow::flow::{
    ETH_TYPE_VLAN_8021Q, FRAG_MASK, MPLS_BOS_MASK, MPLS_BOS_SHIFT, MPLS_LABEL_MASK,
    MPLS_LABEL_SHIFT, MPLS_TC_MASK, MPLS_TC_SHIFT, MPLS_TTL_MASK, VLAN_CFI, VLAN_PCP_MASK,
    VLAN_PCP_SHIFT, VLAN_VID_MASK, tcp_flags,
};
use rvs_flow::ofp_match::fields::{FieldDef, FieldId, field_by_name, field_def};
use rvs_flow::ofp_match::port::{port_from_ofp11, port_to_ofp11};

/// NXM/OXM names of the fields, the printed one first (as `mf_format_subfield` prints them).
const WIRE_NAMES: &[(FieldId, &[&str])] = &[
    (FieldId::DpHash, &["NXM_NX_DP_HASH"]),
    (FieldId::RecircId, &["NXM_NX_RECIRC_ID"]),
    (FieldId::PacketType, &["OXM_OF_PACKET_TYPE"]),
    (FieldId::Metadata, &["OXM_OF_METADATA"]),
    (FieldId::InPort, &["NXM_OF_IN_PORT"]),
    (FieldId::InPortOxm, &["OXM_OF_IN_PORT"]),
    (FieldId::PktMark, &["NXM_NX_PKT_MARK"]),
    (FieldId::CtState, &["NXM_NX_CT_STATE"]),
    (FieldId::CtZone, &["NXM_NX_CT_ZONE"]),
    (FieldId::CtMark, &["NXM_NX_CT_MARK"]),
    (FieldId::CtLabel, &["NXM_NX_CT_LABEL"]),
    (FieldId::EthSrc, &["NXM_OF_ETH_SRC", "OXM_OF_ETH_SRC"]),
    (FieldId::EthDst, &["NXM_OF_ETH_DST", "OXM_OF_ETH_DST"]),
    (FieldId::EthType, &["NXM_OF_ETH_TYPE", "OXM_OF_ETH_TYPE"]),
    (FieldId::VlanTci, &["NXM_OF_VLAN_TCI"]),
    (FieldId::VlanVid, &["OXM_OF_VLAN_VID"]),
    (FieldId::VlanPcp, &["OXM_OF_VLAN_PCP"]),
    (FieldId::MplsLabel, &["OXM_OF_MPLS_LABEL"]),
    (FieldId::MplsTc, &["OXM_OF_MPLS_TC"]),
    (FieldId::MplsBos, &["OXM_OF_MPLS_BOS"]),
    (FieldId::MplsTtl, &["NXM_NX_MPLS_TTL"]),
    (FieldId::Ipv4Src, &["NXM_OF_IP_SRC", "OXM_OF_IPV4_SRC"]),
    (FieldId::Ipv4Dst, &["NXM_OF_IP_DST", "OXM_OF_IPV4_DST"]),
    (FieldId::Ipv6Src, &["NXM_NX_IPV6_SRC", "OXM_OF_IPV6_SRC"]),
    (FieldId::Ipv6Dst, &["NXM_NX_IPV6_DST", "OXM_OF_IPV6_DST"]),
    (
        FieldId::Ipv6Label,
        &["NXM_NX_IPV6_LABEL", "OXM_OF_IPV6_FLABEL"],
    ),
    (FieldId::IpProto, &["NXM_OF_IP_PROTO", "OXM_OF_IP_PROTO"]),
    (FieldId::IpDscp, &["NXM_OF_IP_TOS"]),
    (FieldId::IpDscpShifted, &["OXM_OF_IP_DSCP"]),
    (FieldId::IpEcn, &["NXM_NX_IP_ECN", "OXM_OF_IP_ECN"]),
    (FieldId::IpTtl, &["NXM_NX_IP_TTL"]),
    (FieldId::IpFrag, &["NXM_NX_IP_FRAG"]),
    (FieldId::ArpOp, &["NXM_OF_ARP_OP", "OXM_OF_ARP_OP"]),
    (FieldId::ArpSpa, &["NXM_OF_ARP_SPA", "OXM_OF_ARP_SPA"]),
    (FieldId::ArpTpa, &["NXM_OF_ARP_TPA", "OXM_OF_ARP_TPA"]),
    (FieldId::ArpSha, &["NXM_NX_ARP_SHA", "OXM_OF_ARP_SHA"]),
    (FieldId::ArpTha, &["NXM_NX_ARP_THA", "OXM_OF_ARP_THA"]),
    (FieldId::TcpSrc, &["NXM_OF_TCP_SRC", "OXM_OF_TCP_SRC"]),
    (FieldId::TcpDst, &["NXM_OF_TCP_DST", "OXM_OF_TCP_DST"]),
    (FieldId::TcpFlags, &["NXM_NX_TCP_FLAGS"]),
    (FieldId::UdpSrc, &["NXM_OF_UDP_SRC", "OXM_OF_UDP_SRC"]),
    (FieldId::UdpDst, &["NXM_OF_UDP_DST", "OXM_OF_UDP_DST"]),
    (FieldId::SctpSrc, &["OXM_OF_SCTP_SRC"]),
    (FieldId::SctpDst, &["OXM_OF_SCTP_DST"]),
    (
        FieldId::Icmpv4Type,
        &["NXM_OF_ICMP_TYPE", "OXM_OF_ICMPV4_TYPE"],
    ),
    (
        FieldId::Icmpv4Code,
        &["NXM_OF_ICMP_CODE", "OXM_OF_ICMPV4_CODE"],
    ),
    (
        FieldId::Icmpv6Type,
        &["NXM_NX_ICMPV6_TYPE", "OXM_OF_ICMPV6_TYPE"],
    ),
    (
        FieldId::Icmpv6Code,
        &["NXM_NX_ICMPV6_CODE", "OXM_OF_ICMPV6_CODE"],
    ),
    (
        FieldId::NdTarget,
        &["NXM_NX_ND_TARGET", "OXM_OF_IPV6_ND_TARGET"],
    ),
    (FieldId::NdSll, &["NXM_NX_ND_SLL", "OXM_OF_IPV6_ND_SLL"]),
    (FieldId::NdTll, &["NXM_NX_ND_TLL", "OXM_OF_IPV6_ND_TLL"]),
    (
        FieldId::NdOptionsType,
        &["ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE"],
    ),
];

/// Register print names, by index.
const REG_NAMES: [&str; 16] = [
    "NXM_NX_REG0",
    "NXM_NX_REG1",
    "NXM_NX_REG2",
    "NXM_NX_REG3",
    "NXM_NX_REG4",
    "NXM_NX_REG5",
    "NXM_NX_REG6",
    "NXM_NX_REG7",
    "NXM_NX_REG8",
    "NXM_NX_REG9",
    "NXM_NX_REG10",
    "NXM_NX_REG11",
    "NXM_NX_REG12",
    "NXM_NX_REG13",
    "NXM_NX_REG14",
    "NXM_NX_REG15",
];
const XREG_NAMES: [&str; 8] = [
    "OXM_OF_PKT_REG0",
    "OXM_OF_PKT_REG1",
    "OXM_OF_PKT_REG2",
    "OXM_OF_PKT_REG3",
    "OXM_OF_PKT_REG4",
    "OXM_OF_PKT_REG5",
    "OXM_OF_PKT_REG6",
    "OXM_OF_PKT_REG7",
];
const XXREG_NAMES: [&str; 4] = [
    "NXM_NX_XXREG0",
    "NXM_NX_XXREG1",
    "NXM_NX_XXREG2",
    "NXM_NX_XXREG3",
];

/// The NXM/OXM names of a field, the printed one first; empty if the field has none (Open
/// vSwitch cannot encode such a field in `load`, `move` or `set_field`).
fn wire_names(id: FieldId) -> &'static [&'static str] {
    let one = |names: &'static [&'static str], i: u8| -> &'static [&'static str] {
        let i = usize::from(i);
        names.get(i..=i).unwrap_or(&[])
    };
    match id {
        FieldId::Reg(i) => one(&REG_NAMES, i),
        FieldId::Xreg(i) => one(&XREG_NAMES, i),
        FieldId::Xxreg(i) => one(&XXREG_NAMES, i),
        _ => WIRE_NAMES
            .iter()
            .find(|(f, _)| *f == id)
            .map_or(&[], |(_, names)| *names),
    }
}

/// The name a subfield of this field prints with (`NXM_OF_ETH_SRC`, `NXM_NX_REG0`, ...).
pub fn print_name(def: &FieldDef) -> &'static str {
    wire_names(def.id).first().copied().unwrap_or(def.name)
}

/// True if Open vSwitch can carry the field in an action on the wire (it has an NXM or OXM
/// header). `dl_vlan`, `dl_vlan_pcp` and `skb_priority` do not.
pub fn has_wire_encoding(def: &FieldDef) -> bool {
    !wire_names(def.id).is_empty()
}

/// Looks a field up by any name a subfield may use: the field name or alias (`reg0`,
/// `eth_src`), or an NXM/OXM name, optionally with the `_W` suffix (`NXM_OF_ETH_SRC_W`).
pub fn field_by_any_name(name: &str) -> Option<&'static FieldDef> {
    let base = name.strip_suffix("_W").filter(|b| !b.is_empty());
    let by_wire = |n: &str| -> Option<&'static FieldDef> {
        if let Some(i) = REG_NAMES.iter().position(|r| *r == n) {
            return field_def(FieldId::Reg(u8::try_from(i).ok()?));
        }
        if let Some(i) = XREG_NAMES.iter().position(|r| *r == n) {
            return field_def(FieldId::Xreg(u8::try_from(i).ok()?));
        }
        if let Some(i) = XXREG_NAMES.iter().position(|r| *r == n) {
            return field_def(FieldId::Xxreg(u8::try_from(i).ok()?));
        }
        WIRE_NAMES
            .iter()
            .find(|(_, names)| names.contains(&n))
            .and_then(|(id, _)| field_def(*id))
    };
    base.and_then(by_wire)
        .or_else(|| by_wire(name))
        .or_else(|| field_by_name(name))
}

/// Width of a field in bits as Open vSwitch counts it for subfields (`mf_field.n_bits`).
pub fn n_bits(def: &FieldDef) -> u32 {
    match def.id {
        FieldId::DlVlan | FieldId::VlanVid | FieldId::TcpFlags => 12,
        FieldId::DlVlanPcp | FieldId::VlanPcp | FieldId::MplsTc => 3,
        FieldId::MplsLabel | FieldId::Ipv6Label => 20,
        FieldId::MplsBos => 1,
        FieldId::IpDscpShifted => 6,
        FieldId::IpEcn | FieldId::IpFrag => 2,
        _ => u32::from(def.width) * 8,
    }
}

/// A mask of the low `bits` bits.
pub fn low_bits(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// True if actions may write the field (`mf_field.writable` in Open vSwitch 3.1).
pub fn is_writable(def: &FieldDef) -> bool {
    !matches!(
        def.id,
        FieldId::DpHash
            | FieldId::RecircId
            | FieldId::PacketType
            | FieldId::SkbPriority
            | FieldId::CtState
            | FieldId::CtZone
            | FieldId::EthType
            | FieldId::MplsBos
            | FieldId::IpProto
            | FieldId::IpFrag
            | FieldId::TcpFlags
    )
}

/// True for the conntrack fields only the `ct` action may set.
pub fn requires_ct(def: &FieldDef) -> bool {
    matches!(def.id, FieldId::CtMark | FieldId::CtLabel)
}

/// `mf_is_value_valid`: whether `value` (the full-width parsed integer) is a value the field can
/// hold.
pub fn is_value_valid(def: &FieldDef, value: u128) -> bool {
    match def.id {
        FieldId::InPortOxm => u32::try_from(value)
            .ok()
            .and_then(port_from_ofp11)
            .is_some(),
        FieldId::IpDscp => value & !0xfc == 0,
        FieldId::IpDscpShifted => value <= 0x3f,
        FieldId::IpEcn => value <= 3,
        FieldId::IpFrag => value & !u128::from(FRAG_MASK) == 0,
        FieldId::ArpOp => value <= 0xff,
        FieldId::DlVlan => value & !0x0fff == 0 || value == 0xffff,
        FieldId::VlanVid => value & !0x1fff == 0,
        FieldId::DlVlanPcp | FieldId::VlanPcp | FieldId::MplsTc => value <= 7,
        FieldId::Ipv6Label | FieldId::MplsLabel => value <= 0xf_ffff,
        FieldId::MplsBos => value <= 1,
        FieldId::TcpFlags => value <= 0x0fff,
        _ => true,
    }
}

fn mac_from(v: u128) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[10], b[11], b[12], b[13], b[14], b[15]]
}

fn mac_to(m: &[u8; 6]) -> u128 {
    m.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

fn register_span(id: FieldId) -> Option<(usize, usize)> {
    match id {
        FieldId::Reg(i) => Some((usize::from(i), 1)),
        FieldId::Xreg(i) => Some((usize::from(i) * 2, 2)),
        FieldId::Xxreg(i) => Some((usize::from(i) * 4, 4)),
        _ => None,
    }
}

/// The field's value in `flow` (`mf_get_value`).
pub fn get(id: FieldId, f: &Flow) -> u128 {
    if let Some((first, count)) = register_span(id) {
        return (0..count).fold(0u128, |acc, k| {
            (acc << 32) | u128::from(f.regs.get(first + k).copied().unwrap_or(0))
        });
    }
    let tci = f.vlans[0].tci;
    match id {
        FieldId::DpHash => u128::from(f.dp_hash),
        FieldId::RecircId => u128::from(f.recirc_id),
        FieldId::PacketType => u128::from(f.packet_type),
        FieldId::Metadata => u128::from(f.metadata),
        FieldId::InPort => u128::from(f.in_port & 0xffff),
        FieldId::InPortOxm => u128::from(port_to_ofp11((f.in_port & 0xffff) as u16)),
        FieldId::SkbPriority => u128::from(f.skb_priority),
        FieldId::PktMark => u128::from(f.skb_mark),
        FieldId::CtState => u128::from(f.ct_state),
        FieldId::CtZone => u128::from(f.ct_zone),
        FieldId::CtMark => u128::from(f.ct_mark),
        FieldId::CtLabel => u128::from_be_bytes(f.ct_label),
        FieldId::EthSrc => mac_to(&f.dl_src),
        FieldId::EthDst => mac_to(&f.dl_dst),
        FieldId::EthType => u128::from(f.dl_type),
        FieldId::VlanTci => u128::from(tci),
        FieldId::DlVlan => u128::from(tci & VLAN_VID_MASK),
        FieldId::VlanVid => u128::from(tci & (VLAN_VID_MASK | VLAN_CFI)),
        FieldId::DlVlanPcp | FieldId::VlanPcp => u128::from(tci >> VLAN_PCP_SHIFT),
        FieldId::MplsLabel => u128::from(f.mpls_lse >> MPLS_LABEL_SHIFT),
        FieldId::MplsTc => u128::from((f.mpls_lse & MPLS_TC_MASK) >> MPLS_TC_SHIFT),
        FieldId::MplsBos => u128::from((f.mpls_lse & MPLS_BOS_MASK) >> MPLS_BOS_SHIFT),
        FieldId::MplsTtl => u128::from(f.mpls_lse & MPLS_TTL_MASK),
        FieldId::Ipv4Src | FieldId::ArpSpa => u128::from(f.nw_src),
        FieldId::Ipv4Dst | FieldId::ArpTpa => u128::from(f.nw_dst),
        FieldId::Ipv6Src => u128::from_be_bytes(f.ipv6_src),
        FieldId::Ipv6Dst => u128::from_be_bytes(f.ipv6_dst),
        FieldId::NdTarget => u128::from_be_bytes(f.nd_target),
        FieldId::Ipv6Label => u128::from(f.ipv6_label),
        FieldId::IpProto | FieldId::ArpOp => u128::from(f.nw_proto),
        FieldId::IpDscp => u128::from(f.nw_tos & 0xfc),
        FieldId::IpDscpShifted => u128::from(f.nw_tos >> 2),
        FieldId::IpEcn => u128::from(f.nw_tos & 0x03),
        FieldId::IpTtl => u128::from(f.nw_ttl),
        FieldId::IpFrag => u128::from(f.nw_frag),
        FieldId::ArpSha | FieldId::NdSll => mac_to(&f.arp_sha),
        FieldId::ArpTha | FieldId::NdTll => mac_to(&f.arp_tha),
        FieldId::TcpSrc | FieldId::UdpSrc | FieldId::SctpSrc => u128::from(f.tp_src),
        FieldId::TcpDst | FieldId::UdpDst | FieldId::SctpDst => u128::from(f.tp_dst),
        FieldId::TcpFlags => u128::from(f.tcp_flags),
        FieldId::Icmpv4Type | FieldId::Icmpv6Type => u128::from(f.tp_src & 0xff),
        FieldId::Icmpv4Code | FieldId::Icmpv6Code => u128::from(f.tp_dst & 0xff),
        FieldId::NdOptionsType => u128::from(f.tcp_flags & 0xff),
        FieldId::Reg(_) | FieldId::Xreg(_) | FieldId::Xxreg(_) => 0,
    }
}

/// Stores `v` as the field's value in `flow` (`mf_set_flow_value`): VLAN sub-fields also set
/// the "VLAN present" bit, as in Open vSwitch.
#[allow(clippy::cast_possible_truncation)]
pub fn set(id: FieldId, v: u128, f: &mut Flow) {
    if let Some((first, count)) = register_span(id) {
        for k in 0..count {
            if let Some(r) = f.regs.get_mut(first + k) {
                *r = (v >> (32 * (count - 1 - k))) as u32;
            }
        }
        return;
    }
    let lse = |f: &mut Flow, bits: u32, value: u32| {
        f.mpls_lse = (f.mpls_lse & !bits) | (value & bits);
    };
    let tci_changed = |f: &mut Flow| {
        if f.vlans[0].tpid == 0 && f.vlans[0].tci != 0 {
            f.vlans[0].tpid = ETH_TYPE_VLAN_8021Q;
        }
    };
    match id {
        FieldId::DpHash => f.dp_hash = v as u32,
        FieldId::RecircId => f.recirc_id = v as u32,
        FieldId::PacketType => f.packet_type = v as u32,
        FieldId::Metadata => f.metadata = v as u64,
        FieldId::InPort => f.in_port = u32::from(v as u16),
        FieldId::InPortOxm => {
            f.in_port = u32::from(port_from_ofp11(v as u32).unwrap_or(u16::MAX));
        }
        FieldId::SkbPriority => f.skb_priority = v as u32,
        FieldId::PktMark => f.skb_mark = v as u32,
        FieldId::CtState => f.ct_state = v as u8,
        FieldId::CtZone => f.ct_zone = v as u16,
        FieldId::CtMark => f.ct_mark = v as u32,
        FieldId::CtLabel => f.ct_label = v.to_be_bytes(),
        FieldId::EthSrc => f.dl_src = mac_from(v),
        FieldId::EthDst => f.dl_dst = mac_from(v),
        FieldId::EthType => f.dl_type = v as u16,
        FieldId::VlanTci => {
            f.vlans[0].tci = v as u16;
            tci_changed(f);
        }
        FieldId::DlVlan => {
            let vid = v as u16;
            f.vlans[0].tci = if vid == u16::MAX {
                0
            } else {
                (f.vlans[0].tci & !VLAN_VID_MASK) | VLAN_CFI | (vid & VLAN_VID_MASK)
            };
            tci_changed(f);
        }
        FieldId::VlanVid => {
            let bits = VLAN_VID_MASK | VLAN_CFI;
            f.vlans[0].tci = (f.vlans[0].tci & !bits) | (v as u16 & bits);
            tci_changed(f);
        }
        FieldId::DlVlanPcp | FieldId::VlanPcp => {
            f.vlans[0].tci =
                (f.vlans[0].tci & !VLAN_PCP_MASK) | ((v as u16 & 7) << VLAN_PCP_SHIFT) | VLAN_CFI;
            tci_changed(f);
        }
        FieldId::MplsLabel => lse(f, MPLS_LABEL_MASK, (v as u32) << MPLS_LABEL_SHIFT),
        FieldId::MplsTc => lse(f, MPLS_TC_MASK, (v as u32) << MPLS_TC_SHIFT),
        FieldId::MplsBos => lse(f, MPLS_BOS_MASK, (v as u32) << MPLS_BOS_SHIFT),
        FieldId::MplsTtl => lse(f, MPLS_TTL_MASK, v as u32),
        FieldId::Ipv4Src | FieldId::ArpSpa => f.nw_src = v as u32,
        FieldId::Ipv4Dst | FieldId::ArpTpa => f.nw_dst = v as u32,
        FieldId::Ipv6Src => f.ipv6_src = v.to_be_bytes(),
        FieldId::Ipv6Dst => f.ipv6_dst = v.to_be_bytes(),
        FieldId::NdTarget => f.nd_target = v.to_be_bytes(),
        FieldId::Ipv6Label => f.ipv6_label = v as u32 & 0x000f_ffff,
        FieldId::IpProto => f.nw_proto = v as u8,
        FieldId::IpDscp => f.nw_tos = (f.nw_tos & 0x03) | (v as u8 & 0xfc),
        FieldId::IpDscpShifted => f.nw_tos = (f.nw_tos & 0x03) | ((v as u8) << 2),
        FieldId::IpEcn => f.nw_tos = (f.nw_tos & 0xfc) | (v as u8 & 0x03),
        FieldId::IpTtl => f.nw_ttl = v as u8,
        FieldId::IpFrag => f.nw_frag = v as u8 & FRAG_MASK,
        FieldId::ArpOp => f.nw_proto = v as u8,
        FieldId::ArpSha | FieldId::NdSll => f.arp_sha = mac_from(v),
        FieldId::ArpTha | FieldId::NdTll => f.arp_tha = mac_from(v),
        FieldId::TcpSrc | FieldId::UdpSrc | FieldId::SctpSrc => f.tp_src = v as u16,
        FieldId::TcpDst | FieldId::UdpDst | FieldId::SctpDst => f.tp_dst = v as u16,
        FieldId::TcpFlags => f.tcp_flags = v as u16 & tcp_flags::MASK,
        FieldId::Icmpv4Type | FieldId::Icmpv6Type => f.tp_src = u16::from(v as u8),
        FieldId::Icmpv4Code | FieldId::Icmpv6Code => f.tp_dst = u16::from(v as u8),
        FieldId::NdOptionsType => f.tcp_flags = u16::from(v as u8),
        FieldId::Reg(_) | FieldId::Xreg(_) | FieldId::Xxreg(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_flow::ofp_match::fields::fields;

    #[test]
    fn names_resolve_both_ways() {
        for def in fields() {
            let by_print = field_by_any_name(print_name(def)).expect("print name resolves");
            if has_wire_encoding(def) {
                assert_eq!(by_print.id, def.id, "{}", def.name);
            }
            assert_eq!(field_by_any_name(def.name).map(|d| d.id), Some(def.id));
        }
        assert_eq!(
            field_by_any_name("NXM_OF_ETH_SRC_W").map(|d| d.name),
            Some("eth_src")
        );
        assert_eq!(
            field_by_any_name("OXM_OF_IPV4_DST").map(|d| d.name),
            Some("ip_dst")
        );
        assert!(field_by_any_name("_W").is_none());
        assert!(field_by_any_name("nxm_of_eth_src").is_none());
    }

    #[test]
    fn set_then_get_is_identity_on_writable_fields() {
        for def in fields().filter(|d| is_writable(d) && has_wire_encoding(d)) {
            let max = low_bits(n_bits(def));
            for v in [0u128, 1, max / 3, max] {
                let mut f = Flow::default();
                let v = if def.id == FieldId::InPortOxm {
                    v & 0xfeff
                } else {
                    v
                };
                set(def.id, v, &mut f);
                let back = get(def.id, &f);
                let want = match def.id {
                    FieldId::IpDscp => v & 0xfc,
                    // 16 bits wide but stored in one byte; larger values are invalid.
                    FieldId::ArpOp => v & 0xff,
                    _ => v & max,
                };
                assert_eq!(back, want, "{} {v:#x}", def.name);
            }
        }
    }

    #[test]
    fn sub_fields_keep_their_neighbours() {
        let mut f = Flow::default();
        set(FieldId::VlanTci, 0x7005, &mut f);
        set(FieldId::VlanVid, 0x1009, &mut f);
        assert_eq!(f.vlans[0].tci, 0x7009);
        set(FieldId::IpEcn, 3, &mut f);
        set(FieldId::IpDscpShifted, 0x3f, &mut f);
        assert_eq!(f.nw_tos, 0xff);
        set(FieldId::MplsTtl, 64, &mut f);
        set(FieldId::MplsLabel, 0x12345, &mut f);
        assert_eq!(f.mpls_lse, 0x1234_5040);
    }
}
