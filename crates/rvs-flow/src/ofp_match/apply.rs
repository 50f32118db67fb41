//! Writing parsed field values into a [`Match`] or a [`Flow`], with Open vSwitch's per-field
//! semantics (`mf_set`, `mf_set_value`, `mf_set_wild`, `mf_set_flow_value`, `mf_get_value`).
//!
//! # Invariants
//! * Values and masks are `u128` integers of the field's width (see `value.rs`).
//! * Masks use this crate's canonical "exact" forms: `nw_frag` 0x3, `tcp_flags` 0x0fff,
//!   `ipv6_label` 0x000fffff, `ct_state` 0xff, `in_port` `u32::MAX`; OVS's wider all-ones masks on
//!   those fields mean the same thing and print the same.
//! * Sub-fields that share storage (`dl_vlan`/`dl_vlan_pcp` in the TCI, `nw_tos`/`nw_ecn`, the
//!   MPLS label stack entry) only touch their own bits, exactly like OVS.
//! * The match's flow may hold bits its mask wildcards until the caller re-masks it; the parser
//!   does that once at the end, as OVS's `minimatch_init` does.

use super::fields::FieldId;
use super::port::port_from_ofp11;
use super::value::Masked;
use crate::flow::{
    ETH_TYPE_VLAN_8021Q, FRAG_MASK, Flow, MPLS_BOS_MASK, MPLS_BOS_SHIFT, MPLS_LABEL_MASK,
    MPLS_LABEL_SHIFT, MPLS_TC_MASK, MPLS_TC_SHIFT, MPLS_TTL_MASK, Match, VLAN_CFI, VLAN_PCP_MASK,
    VLAN_PCP_SHIFT, VLAN_VID_MASK, tcp_flags,
};

/// DSCP bits of the TOS byte.
pub(crate) const IP_DSCP_MASK: u8 = 0xfc;
/// ECN bits of the TOS byte.
pub(crate) const IP_ECN_MASK: u8 = 0x03;
/// The 20 bits of an IPv6 flow label.
pub(crate) const IPV6_LABEL_MASK: u32 = 0x000f_ffff;
/// `dl_vlan` value that means "no VLAN header" (`OFP10_VLAN_NONE`).
const OFP10_VLAN_NONE: u16 = 0xffff;

fn mac_from(v: u128) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[10], b[11], b[12], b[13], b[14], b[15]]
}

fn mac_to(m: &[u8; 6]) -> u128 {
    m.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

fn bytes16_from(v: u128) -> [u8; 16] {
    v.to_be_bytes()
}

fn set_regs(regs: &mut [u32; 16], first: usize, count: usize, v: u128) {
    for k in 0..count {
        if let Some(r) = regs.get_mut(first + k) {
            *r = (v >> (32 * (count - 1 - k))) as u32;
        }
    }
}

fn get_regs(regs: &[u32; 16], first: usize, count: usize) -> u128 {
    (0..count).fold(0u128, |acc, k| {
        (acc << 32) | u128::from(regs.get(first + k).copied().unwrap_or(0))
    })
}

fn register_span(id: FieldId) -> Option<(usize, usize)> {
    match id {
        FieldId::Reg(i) => Some((usize::from(i), 1)),
        FieldId::Xreg(i) => Some((usize::from(i) * 2, 2)),
        FieldId::Xxreg(i) => Some((usize::from(i) * 4, 4)),
        _ => None,
    }
}

/// Replaces the bits `bits` of the MPLS label stack entry with `value` (already shifted).
fn set_lse_bits(lse: &mut u32, bits: u32, value: u32) {
    *lse = (*lse & !bits) | (value & bits);
}

/// `flow_set_dl_vlan`: 0xffff means "no VLAN", else sets the VID and the CFI bit.
fn flow_set_dl_vlan(tci: &mut u16, vid: u16) {
    if vid == OFP10_VLAN_NONE {
        *tci = 0;
    } else {
        *tci = (*tci & !VLAN_VID_MASK) | VLAN_CFI | (vid & VLAN_VID_MASK);
    }
}

/// `flow_set_vlan_vid`: sets VID and CFI from an OpenFlow 1.2 `vlan_vid`.
fn flow_set_vlan_vid(tci: &mut u16, vid: u16) {
    let bits = VLAN_VID_MASK | VLAN_CFI;
    *tci = (*tci & !bits) | (vid & bits);
}

/// `flow_set_vlan_pcp`: sets the PCP and the CFI bit.
fn flow_set_vlan_pcp(tci: &mut u16, pcp: u8) {
    *tci = (*tci & !VLAN_PCP_MASK) | (u16::from(pcp & 7) << VLAN_PCP_SHIFT) | VLAN_CFI;
}

/// Applies `value`/`mask` of field `id` to `m` (`mf_set`): an all-ones mask sets the value, an
/// all-zero mask wildcards the field, anything else is a bitwise match. `width` is the field's
/// value width in bytes.
pub(crate) fn set_field(id: FieldId, width: u8, v: Masked, m: &mut Match) {
    let full = super::value::all_ones(width);
    if v.mask & full == full {
        set_value(id, v.value, m);
    } else if v.mask == 0 {
        set_wild(id, m);
    } else {
        set_masked(id, v.value, v.mask, m);
    }
}

/// `mf_set_value`: match the field exactly.
#[allow(clippy::cast_possible_truncation)]
fn set_value(id: FieldId, v: u128, m: &mut Match) {
    let (f, w) = (&mut m.flow, &mut m.wc.masks);
    if let Some((first, count)) = register_span(id) {
        set_regs(&mut f.regs, first, count, v);
        set_regs(&mut w.regs, first, count, u128::MAX);
        return;
    }
    match id {
        FieldId::DpHash => (f.dp_hash, w.dp_hash) = (v as u32, u32::MAX),
        FieldId::RecircId => (f.recirc_id, w.recirc_id) = (v as u32, u32::MAX),
        FieldId::PacketType => (f.packet_type, w.packet_type) = (v as u32, u32::MAX),
        FieldId::Metadata => (f.metadata, w.metadata) = (v as u64, u64::MAX),
        FieldId::InPort => (f.in_port, w.in_port) = (u32::from(v as u16), u32::MAX),
        FieldId::InPortOxm => {
            let port = port_from_ofp11(v as u32).unwrap_or(super::port::OFPP_NONE);
            (f.in_port, w.in_port) = (u32::from(port), u32::MAX);
        }
        FieldId::SkbPriority => (f.skb_priority, w.skb_priority) = (v as u32, u32::MAX),
        FieldId::PktMark => (f.skb_mark, w.skb_mark) = (v as u32, u32::MAX),
        FieldId::CtState => (f.ct_state, w.ct_state) = (v as u8, u8::MAX),
        FieldId::CtZone => (f.ct_zone, w.ct_zone) = (v as u16, u16::MAX),
        FieldId::CtMark => (f.ct_mark, w.ct_mark) = (v as u32, u32::MAX),
        FieldId::CtLabel => (f.ct_label, w.ct_label) = (bytes16_from(v), [0xff; 16]),
        FieldId::EthSrc => (f.dl_src, w.dl_src) = (mac_from(v), [0xff; 6]),
        FieldId::EthDst => (f.dl_dst, w.dl_dst) = (mac_from(v), [0xff; 6]),
        FieldId::EthType => (f.dl_type, w.dl_type) = (v as u16, u16::MAX),
        FieldId::VlanTci => (f.vlans[0].tci, w.vlans[0].tci) = (v as u16, u16::MAX),
        FieldId::DlVlan => {
            flow_set_dl_vlan(&mut f.vlans[0].tci, v as u16);
            if v as u16 == OFP10_VLAN_NONE {
                w.vlans[0].tci = u16::MAX;
            } else {
                w.vlans[0].tci |= VLAN_VID_MASK | VLAN_CFI;
            }
        }
        FieldId::VlanVid => set_masked(id, v, u128::from(VLAN_VID_MASK | VLAN_CFI), m),
        FieldId::DlVlanPcp | FieldId::VlanPcp => {
            flow_set_vlan_pcp(&mut f.vlans[0].tci, v as u8);
            w.vlans[0].tci |= VLAN_CFI | VLAN_PCP_MASK;
        }
        FieldId::MplsLabel => {
            set_lse_bits(
                &mut f.mpls_lse,
                MPLS_LABEL_MASK,
                (v as u32) << MPLS_LABEL_SHIFT,
            );
            w.mpls_lse |= MPLS_LABEL_MASK;
        }
        FieldId::MplsTc => {
            set_lse_bits(
                &mut f.mpls_lse,
                MPLS_TC_MASK,
                u32::from(v as u8) << MPLS_TC_SHIFT,
            );
            w.mpls_lse |= MPLS_TC_MASK;
        }
        FieldId::MplsBos => {
            set_lse_bits(
                &mut f.mpls_lse,
                MPLS_BOS_MASK,
                u32::from(v as u8) << MPLS_BOS_SHIFT,
            );
            w.mpls_lse |= MPLS_BOS_MASK;
        }
        FieldId::MplsTtl => {
            set_lse_bits(&mut f.mpls_lse, MPLS_TTL_MASK, u32::from(v as u8));
            w.mpls_lse |= MPLS_TTL_MASK;
        }
        FieldId::Ipv4Src | FieldId::ArpSpa => (f.nw_src, w.nw_src) = (v as u32, u32::MAX),
        FieldId::Ipv4Dst | FieldId::ArpTpa => (f.nw_dst, w.nw_dst) = (v as u32, u32::MAX),
        FieldId::Ipv6Src => (f.ipv6_src, w.ipv6_src) = (bytes16_from(v), [0xff; 16]),
        FieldId::Ipv6Dst => (f.ipv6_dst, w.ipv6_dst) = (bytes16_from(v), [0xff; 16]),
        FieldId::NdTarget => (f.nd_target, w.nd_target) = (bytes16_from(v), [0xff; 16]),
        FieldId::Ipv6Label => (f.ipv6_label, w.ipv6_label) = (v as u32, IPV6_LABEL_MASK),
        FieldId::IpProto => (f.nw_proto, w.nw_proto) = (v as u8, u8::MAX),
        FieldId::IpDscp => set_tos_bits(m, IP_DSCP_MASK, v as u8),
        FieldId::IpDscpShifted => set_tos_bits(m, IP_DSCP_MASK, (v as u8) << 2),
        FieldId::IpEcn => set_tos_bits(m, IP_ECN_MASK, v as u8),
        FieldId::IpTtl => (f.nw_ttl, w.nw_ttl) = (v as u8, u8::MAX),
        FieldId::IpFrag => (f.nw_frag, w.nw_frag) = (v as u8, FRAG_MASK),
        FieldId::ArpOp => (f.nw_proto, w.nw_proto) = (v as u16 as u8, u8::MAX),
        FieldId::ArpSha | FieldId::NdSll => (f.arp_sha, w.arp_sha) = (mac_from(v), [0xff; 6]),
        FieldId::ArpTha | FieldId::NdTll => (f.arp_tha, w.arp_tha) = (mac_from(v), [0xff; 6]),
        FieldId::TcpSrc | FieldId::UdpSrc | FieldId::SctpSrc => {
            (f.tp_src, w.tp_src) = (v as u16, u16::MAX)
        }
        FieldId::TcpDst | FieldId::UdpDst | FieldId::SctpDst => {
            (f.tp_dst, w.tp_dst) = (v as u16, u16::MAX)
        }
        FieldId::TcpFlags => {
            (f.tcp_flags, w.tcp_flags) = (v as u16 & tcp_flags::MASK, tcp_flags::MASK)
        }
        FieldId::Icmpv4Type | FieldId::Icmpv6Type => {
            (f.tp_src, w.tp_src) = (u16::from(v as u8), u16::MAX)
        }
        FieldId::Icmpv4Code | FieldId::Icmpv6Code => {
            (f.tp_dst, w.tp_dst) = (u16::from(v as u8), u16::MAX)
        }
        FieldId::NdOptionsType => {
            (f.tcp_flags, w.tcp_flags) = (u16::from(v as u8), tcp_flags::MASK)
        }
        FieldId::Reg(_) | FieldId::Xreg(_) | FieldId::Xxreg(_) => {}
    }
}

fn set_tos_bits(m: &mut Match, bits: u8, value: u8) {
    m.wc.masks.nw_tos |= bits;
    m.flow.nw_tos = (m.flow.nw_tos & !bits) | (value & bits);
}

/// `mf_set_wild`: stop matching the field (sub-fields only clear their own bits).
fn set_wild(id: FieldId, m: &mut Match) {
    let (f, w) = (&mut m.flow, &mut m.wc.masks);
    if let Some((first, count)) = register_span(id) {
        set_regs(&mut f.regs, first, count, 0);
        set_regs(&mut w.regs, first, count, 0);
        return;
    }
    match id {
        FieldId::DpHash => (f.dp_hash, w.dp_hash) = (0, 0),
        FieldId::RecircId => (f.recirc_id, w.recirc_id) = (0, 0),
        FieldId::PacketType => (f.packet_type, w.packet_type) = (0, 0),
        FieldId::Metadata => (f.metadata, w.metadata) = (0, 0),
        FieldId::InPort | FieldId::InPortOxm => (f.in_port, w.in_port) = (0, 0),
        FieldId::SkbPriority => (f.skb_priority, w.skb_priority) = (0, 0),
        FieldId::PktMark => (f.skb_mark, w.skb_mark) = (0, 0),
        FieldId::CtState => (f.ct_state, w.ct_state) = (0, 0),
        FieldId::CtZone => (f.ct_zone, w.ct_zone) = (0, 0),
        FieldId::CtMark => (f.ct_mark, w.ct_mark) = (0, 0),
        FieldId::CtLabel => (f.ct_label, w.ct_label) = ([0; 16], [0; 16]),
        FieldId::EthSrc => (f.dl_src, w.dl_src) = ([0; 6], [0; 6]),
        FieldId::EthDst => (f.dl_dst, w.dl_dst) = ([0; 6], [0; 6]),
        FieldId::EthType => (f.dl_type, w.dl_type) = (0, 0),
        FieldId::VlanTci => (f.vlans[0].tci, w.vlans[0].tci) = (0, 0),
        FieldId::DlVlan | FieldId::VlanVid => {
            if w.vlans[0].tci & VLAN_PCP_MASK != 0 {
                w.vlans[0].tci &= !VLAN_VID_MASK;
                f.vlans[0].tci &= !VLAN_VID_MASK;
            } else {
                (f.vlans[0].tci, w.vlans[0].tci) = (0, 0);
            }
        }
        FieldId::DlVlanPcp | FieldId::VlanPcp => {
            if w.vlans[0].tci & VLAN_VID_MASK != 0 {
                w.vlans[0].tci &= !VLAN_PCP_MASK;
                f.vlans[0].tci &= !VLAN_PCP_MASK;
            } else {
                (f.vlans[0].tci, w.vlans[0].tci) = (0, 0);
            }
        }
        FieldId::MplsLabel => clear_lse(m, MPLS_LABEL_MASK),
        FieldId::MplsTc => clear_lse(m, MPLS_TC_MASK),
        FieldId::MplsBos => clear_lse(m, MPLS_BOS_MASK),
        FieldId::MplsTtl => clear_lse(m, MPLS_TTL_MASK),
        FieldId::Ipv4Src | FieldId::ArpSpa => (f.nw_src, w.nw_src) = (0, 0),
        FieldId::Ipv4Dst | FieldId::ArpTpa => (f.nw_dst, w.nw_dst) = (0, 0),
        FieldId::Ipv6Src => (f.ipv6_src, w.ipv6_src) = ([0; 16], [0; 16]),
        FieldId::Ipv6Dst => (f.ipv6_dst, w.ipv6_dst) = ([0; 16], [0; 16]),
        FieldId::NdTarget => (f.nd_target, w.nd_target) = ([0; 16], [0; 16]),
        FieldId::Ipv6Label => (f.ipv6_label, w.ipv6_label) = (0, 0),
        FieldId::IpProto | FieldId::ArpOp => (f.nw_proto, w.nw_proto) = (0, 0),
        FieldId::IpDscp | FieldId::IpDscpShifted => {
            w.nw_tos &= !IP_DSCP_MASK;
            f.nw_tos &= !IP_DSCP_MASK;
        }
        FieldId::IpEcn => {
            w.nw_tos &= !IP_ECN_MASK;
            f.nw_tos &= !IP_ECN_MASK;
        }
        FieldId::IpTtl => (f.nw_ttl, w.nw_ttl) = (0, 0),
        FieldId::IpFrag => {
            w.nw_frag &= !FRAG_MASK;
            f.nw_frag &= !FRAG_MASK;
        }
        FieldId::ArpSha | FieldId::NdSll => (f.arp_sha, w.arp_sha) = ([0; 6], [0; 6]),
        FieldId::ArpTha | FieldId::NdTll => (f.arp_tha, w.arp_tha) = ([0; 6], [0; 6]),
        FieldId::TcpSrc
        | FieldId::UdpSrc
        | FieldId::SctpSrc
        | FieldId::Icmpv4Type
        | FieldId::Icmpv6Type => {
            (f.tp_src, w.tp_src) = (0, 0);
        }
        FieldId::TcpDst
        | FieldId::UdpDst
        | FieldId::SctpDst
        | FieldId::Icmpv4Code
        | FieldId::Icmpv6Code => {
            (f.tp_dst, w.tp_dst) = (0, 0);
        }
        FieldId::TcpFlags | FieldId::NdOptionsType => (f.tcp_flags, w.tcp_flags) = (0, 0),
        FieldId::Reg(_) | FieldId::Xreg(_) | FieldId::Xxreg(_) => {}
    }
}

fn clear_lse(m: &mut Match, bits: u32) {
    m.wc.masks.mpls_lse &= !bits;
    m.flow.mpls_lse &= !bits;
}

/// Bitwise match of a maskable field (`mf_set` with a partial mask).
#[allow(clippy::cast_possible_truncation)]
fn set_masked(id: FieldId, v: u128, mask: u128, m: &mut Match) {
    let (f, w) = (&mut m.flow, &mut m.wc.masks);
    if let Some((first, count)) = register_span(id) {
        set_regs(&mut f.regs, first, count, v & mask);
        set_regs(&mut w.regs, first, count, mask);
        return;
    }
    let vm = v & mask;
    match id {
        FieldId::DpHash => (f.dp_hash, w.dp_hash) = (vm as u32, mask as u32),
        FieldId::Metadata => (f.metadata, w.metadata) = (vm as u64, mask as u64),
        FieldId::PktMark => (f.skb_mark, w.skb_mark) = (vm as u32, mask as u32),
        FieldId::CtState => (f.ct_state, w.ct_state) = (vm as u8, mask as u8),
        FieldId::CtMark => (f.ct_mark, w.ct_mark) = (vm as u32, mask as u32),
        FieldId::CtLabel => (f.ct_label, w.ct_label) = (bytes16_from(vm), bytes16_from(mask)),
        FieldId::EthSrc => (f.dl_src, w.dl_src) = (mac_from(vm), mac_from(mask)),
        FieldId::EthDst => (f.dl_dst, w.dl_dst) = (mac_from(vm), mac_from(mask)),
        FieldId::ArpSha | FieldId::NdSll => (f.arp_sha, w.arp_sha) = (mac_from(vm), mac_from(mask)),
        FieldId::ArpTha | FieldId::NdTll => (f.arp_tha, w.arp_tha) = (mac_from(vm), mac_from(mask)),
        FieldId::VlanTci => (f.vlans[0].tci, w.vlans[0].tci) = (vm as u16, mask as u16),
        FieldId::VlanVid => {
            let mask = mask as u16 & (VLAN_VID_MASK | VLAN_CFI);
            flow_set_vlan_vid(&mut f.vlans[0].tci, v as u16 & mask);
            w.vlans[0].tci = mask | (w.vlans[0].tci & VLAN_PCP_MASK);
        }
        FieldId::Ipv4Src | FieldId::ArpSpa => (f.nw_src, w.nw_src) = (vm as u32, mask as u32),
        FieldId::Ipv4Dst | FieldId::ArpTpa => (f.nw_dst, w.nw_dst) = (vm as u32, mask as u32),
        FieldId::Ipv6Src => (f.ipv6_src, w.ipv6_src) = (bytes16_from(vm), bytes16_from(mask)),
        FieldId::Ipv6Dst => (f.ipv6_dst, w.ipv6_dst) = (bytes16_from(vm), bytes16_from(mask)),
        FieldId::NdTarget => (f.nd_target, w.nd_target) = (bytes16_from(vm), bytes16_from(mask)),
        FieldId::Ipv6Label => {
            if mask as u32 & IPV6_LABEL_MASK == IPV6_LABEL_MASK {
                set_value(id, v, m);
            } else {
                (f.ipv6_label, w.ipv6_label) = (vm as u32, mask as u32 & IPV6_LABEL_MASK);
            }
        }
        FieldId::IpFrag => (f.nw_frag, w.nw_frag) = (vm as u8, mask as u8 & FRAG_MASK),
        FieldId::TcpSrc | FieldId::UdpSrc | FieldId::SctpSrc => {
            (f.tp_src, w.tp_src) = (vm as u16, mask as u16)
        }
        FieldId::TcpDst | FieldId::UdpDst | FieldId::SctpDst => {
            (f.tp_dst, w.tp_dst) = (vm as u16, mask as u16)
        }
        FieldId::TcpFlags => {
            (f.tcp_flags, w.tcp_flags) =
                (vm as u16 & tcp_flags::MASK, mask as u16 & tcp_flags::MASK);
        }
        // Not maskable: the value parser only lets all-zero or all-one masks through.
        _ => {}
    }
}

/// `mf_get_value`: the field's current value in `flow`, in the field's own units.
pub fn get_flow_value(id: FieldId, f: &Flow) -> u128 {
    if let Some((first, count)) = register_span(id) {
        return get_regs(&f.regs, first, count);
    }
    match id {
        FieldId::DpHash => u128::from(f.dp_hash),
        FieldId::RecircId => u128::from(f.recirc_id),
        FieldId::PacketType => u128::from(f.packet_type),
        FieldId::Metadata => u128::from(f.metadata),
        FieldId::InPort => u128::from(f.in_port & 0xffff),
        FieldId::InPortOxm => u128::from(super::port::port_to_ofp11(f.in_port as u16)),
        FieldId::SkbPriority => u128::from(f.skb_priority),
        FieldId::PktMark => u128::from(f.skb_mark),
        FieldId::CtState => u128::from(f.ct_state),
        FieldId::CtZone => u128::from(f.ct_zone),
        FieldId::CtMark => u128::from(f.ct_mark),
        FieldId::CtLabel => u128::from_be_bytes(f.ct_label),
        FieldId::EthSrc => mac_to(&f.dl_src),
        FieldId::EthDst => mac_to(&f.dl_dst),
        FieldId::EthType => u128::from(f.dl_type),
        FieldId::VlanTci => u128::from(f.vlans[0].tci),
        FieldId::DlVlan => u128::from(f.vlans[0].tci & VLAN_VID_MASK),
        FieldId::VlanVid => u128::from(f.vlans[0].tci & (VLAN_VID_MASK | VLAN_CFI)),
        FieldId::DlVlanPcp | FieldId::VlanPcp => u128::from(f.vlans[0].tci >> VLAN_PCP_SHIFT),
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
        FieldId::IpDscp => u128::from(f.nw_tos & IP_DSCP_MASK),
        FieldId::IpDscpShifted => u128::from(f.nw_tos >> 2),
        FieldId::IpEcn => u128::from(f.nw_tos & IP_ECN_MASK),
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

/// `mf_set_flow_value`: stores the field's value into a flow (the packet-like form used by
/// `ofproto/trace` flow text); also used on a mask flow with an all-ones value to un-wildcard
/// the field.
#[allow(clippy::cast_possible_truncation)]
pub fn set_flow_value(id: FieldId, v: u128, f: &mut Flow) {
    if let Some((first, count)) = register_span(id) {
        set_regs(&mut f.regs, first, count, v);
        return;
    }
    let fix_tpid = |f: &mut Flow| {
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
            f.in_port = u32::from(port_from_ofp11(v as u32).unwrap_or(super::port::OFPP_NONE));
        }
        FieldId::SkbPriority => f.skb_priority = v as u32,
        FieldId::PktMark => f.skb_mark = v as u32,
        FieldId::CtState => f.ct_state = v as u8,
        FieldId::CtZone => f.ct_zone = v as u16,
        FieldId::CtMark => f.ct_mark = v as u32,
        FieldId::CtLabel => f.ct_label = bytes16_from(v),
        FieldId::EthSrc => f.dl_src = mac_from(v),
        FieldId::EthDst => f.dl_dst = mac_from(v),
        FieldId::EthType => f.dl_type = v as u16,
        FieldId::VlanTci => {
            f.vlans[0].tci = v as u16;
            fix_tpid(f);
        }
        FieldId::DlVlan => {
            flow_set_dl_vlan(&mut f.vlans[0].tci, v as u16);
            fix_tpid(f);
        }
        FieldId::VlanVid => {
            flow_set_vlan_vid(&mut f.vlans[0].tci, v as u16);
            fix_tpid(f);
        }
        FieldId::DlVlanPcp | FieldId::VlanPcp => {
            flow_set_vlan_pcp(&mut f.vlans[0].tci, v as u8);
            fix_tpid(f);
        }
        FieldId::MplsLabel => set_lse_bits(
            &mut f.mpls_lse,
            MPLS_LABEL_MASK,
            (v as u32) << MPLS_LABEL_SHIFT,
        ),
        FieldId::MplsTc => set_lse_bits(
            &mut f.mpls_lse,
            MPLS_TC_MASK,
            u32::from(v as u8) << MPLS_TC_SHIFT,
        ),
        FieldId::MplsBos => set_lse_bits(
            &mut f.mpls_lse,
            MPLS_BOS_MASK,
            u32::from(v as u8) << MPLS_BOS_SHIFT,
        ),
        FieldId::MplsTtl => set_lse_bits(&mut f.mpls_lse, MPLS_TTL_MASK, u32::from(v as u8)),
        FieldId::Ipv4Src | FieldId::ArpSpa => f.nw_src = v as u32,
        FieldId::Ipv4Dst | FieldId::ArpTpa => f.nw_dst = v as u32,
        FieldId::Ipv6Src => f.ipv6_src = bytes16_from(v),
        FieldId::Ipv6Dst => f.ipv6_dst = bytes16_from(v),
        FieldId::NdTarget => f.nd_target = bytes16_from(v),
        FieldId::Ipv6Label => f.ipv6_label = v as u32 & IPV6_LABEL_MASK,
        FieldId::IpProto => f.nw_proto = v as u8,
        FieldId::IpDscp => f.nw_tos = (f.nw_tos & !IP_DSCP_MASK) | (v as u8 & IP_DSCP_MASK),
        FieldId::IpDscpShifted => f.nw_tos = (f.nw_tos & !IP_DSCP_MASK) | ((v as u8) << 2),
        FieldId::IpEcn => f.nw_tos = (f.nw_tos & !IP_ECN_MASK) | (v as u8 & IP_ECN_MASK),
        FieldId::IpTtl => f.nw_ttl = v as u8,
        FieldId::IpFrag => f.nw_frag = v as u8 & FRAG_MASK,
        FieldId::ArpOp => f.nw_proto = v as u16 as u8,
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

/// Sets the ethernet packet type if the match does not constrain it yet (OVS's
/// `match_set_default_packet_type`).
pub(crate) fn set_default_packet_type(m: &mut Match) {
    if m.wc.masks.packet_type == 0 {
        m.flow.packet_type = crate::flow::PT_ETH;
        m.wc.masks.packet_type = u32::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(id: FieldId, width: u8, value: u128, m: &mut Match) {
        set_field(
            id,
            width,
            Masked {
                value,
                mask: super::super::value::all_ones(width),
            },
            m,
        );
    }

    #[test]
    fn vlan_sub_fields_share_the_tci() {
        let mut m = Match::default();
        exact(FieldId::DlVlan, 2, 5, &mut m);
        exact(FieldId::DlVlanPcp, 1, 3, &mut m);
        assert_eq!(
            (m.flow.vlans[0].tci, m.wc.masks.vlans[0].tci),
            (0x7005, 0xffff)
        );
        set_field(FieldId::DlVlan, 2, Masked { value: 0, mask: 0 }, &mut m);
        assert_eq!(
            (m.flow.vlans[0].tci, m.wc.masks.vlans[0].tci),
            (0x7000, 0xf000)
        );
        exact(FieldId::DlVlan, 2, 0xffff, &mut m);
        assert_eq!((m.flow.vlans[0].tci, m.wc.masks.vlans[0].tci), (0, 0xffff));
    }

    #[test]
    fn registers_are_big_endian_words() {
        let mut m = Match::default();
        exact(FieldId::Xxreg(0), 16, 1, &mut m);
        assert_eq!(m.flow.regs[3], 1);
        assert_eq!(m.wc.masks.regs[..4], [u32::MAX; 4]);
        exact(FieldId::Xreg(2), 8, 0x1_0000_0002, &mut m);
        assert_eq!(m.flow.regs[4..6], [1, 2]);
        assert_eq!(get_flow_value(FieldId::Xreg(2), &m.flow), 0x1_0000_0002);
    }

    #[test]
    fn tos_and_mpls_sub_fields() {
        let mut m = Match::default();
        exact(FieldId::IpDscpShifted, 1, 63, &mut m);
        exact(FieldId::IpEcn, 1, 5, &mut m);
        assert_eq!((m.flow.nw_tos, m.wc.masks.nw_tos), (0xfd, 0xff));
        exact(FieldId::MplsLabel, 4, 2_000_000, &mut m);
        exact(FieldId::MplsTc, 1, 9, &mut m);
        assert_eq!(m.flow.mpls_lse >> MPLS_LABEL_SHIFT, 951_424);
        assert_eq!(get_flow_value(FieldId::MplsTc, &m.flow), 1);
    }
}
