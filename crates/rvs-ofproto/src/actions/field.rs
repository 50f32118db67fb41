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
use rvs_flow::flow::FRAG_MASK;
use rvs_flow::ofp_match::fields::{FieldDef, FieldId, field_by_name, field_def};
use rvs_flow::ofp_match::port::port_from_ofp11;

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

/// The field's value in `flow` (`mf_get_value`); the one implementation lives in rvs-flow.
pub fn get(id: FieldId, f: &Flow) -> u128 {
    rvs_flow::ofp_match::get_flow_value(id, f)
}

/// Stores `v` as the field's value in `flow` (`mf_set_flow_value`): VLAN sub-fields also set
/// the "VLAN present" bit, as in Open vSwitch. The one implementation lives in rvs-flow.
pub fn set(id: FieldId, v: u128, f: &mut Flow) {
    rvs_flow::ofp_match::set_flow_value(id, v, f);
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
