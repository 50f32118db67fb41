//! The table of match fields: names as Open vSwitch 3.1 accepts them, where each lives in a
//! [`Flow`](crate::Flow), whether it takes a mask, how its value is written and what it requires.
//!
//! # Invariants
//! * Names and aliases are exactly the meta-flow names of Open vSwitch 3.1 (`mf_from_name`), matched
//!   case-sensitively; no name appears twice in [`FIELDS`].
//! * `width` is the byte width of the field's value as OVS parses it (`n_bytes`), which bounds
//!   integer values ("value too large for N-byte field") independently of the storage bits.
//! * A field with `maskable == false` accepts only an all-zero or all-one mask.
//! * The protocol shorthands ([`PROTOCOLS`]) are a separate namespace, looked up before fields.

use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP,
    ipproto,
};

/// Identity of a match field (one meta-flow field of Open vSwitch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldId {
    /// `dp_hash`.
    DpHash,
    /// `recirc_id`.
    RecircId,
    /// `packet_type`, written `(ns,type)`.
    PacketType,
    /// `metadata`.
    Metadata,
    /// `in_port` (an OpenFlow 1.0 port number or reserved name).
    InPort,
    /// `in_port_oxm` (the same port, OpenFlow 1.1 numbering).
    InPortOxm,
    /// `skb_priority`.
    SkbPriority,
    /// `pkt_mark`.
    PktMark,
    /// `ct_state`.
    CtState,
    /// `ct_zone`.
    CtZone,
    /// `ct_mark`.
    CtMark,
    /// `ct_label`.
    CtLabel,
    /// `reg0`..`reg15`.
    Reg(u8),
    /// `xreg0`..`xreg7` (pairs of registers, high word first).
    Xreg(u8),
    /// `xxreg0`..`xxreg3` (quads of registers, high word first).
    Xxreg(u8),
    /// `eth_src` / `dl_src`.
    EthSrc,
    /// `eth_dst` / `dl_dst`.
    EthDst,
    /// `eth_type` / `dl_type`.
    EthType,
    /// `vlan_tci` (the whole TCI, CFI bit = "VLAN present").
    VlanTci,
    /// `dl_vlan` (OpenFlow 1.0 VID; 0xffff means "no VLAN").
    DlVlan,
    /// `vlan_vid` (OpenFlow 1.2 VID: bit 0x1000 = present).
    VlanVid,
    /// `dl_vlan_pcp`.
    DlVlanPcp,
    /// `vlan_pcp`.
    VlanPcp,
    /// `mpls_label`.
    MplsLabel,
    /// `mpls_tc`.
    MplsTc,
    /// `mpls_bos`.
    MplsBos,
    /// `mpls_ttl`.
    MplsTtl,
    /// `ip_src` / `nw_src`.
    Ipv4Src,
    /// `ip_dst` / `nw_dst`.
    Ipv4Dst,
    /// `ipv6_src`.
    Ipv6Src,
    /// `ipv6_dst`.
    Ipv6Dst,
    /// `ipv6_label`.
    Ipv6Label,
    /// `nw_proto` / `ip_proto`.
    IpProto,
    /// `nw_tos` (DSCP bits in place, low two bits ignored).
    IpDscp,
    /// `ip_dscp` (DSCP shifted down, 0..63).
    IpDscpShifted,
    /// `nw_ecn` / `ip_ecn`.
    IpEcn,
    /// `nw_ttl`.
    IpTtl,
    /// `ip_frag` / `nw_frag`.
    IpFrag,
    /// `arp_op`.
    ArpOp,
    /// `arp_spa`.
    ArpSpa,
    /// `arp_tpa`.
    ArpTpa,
    /// `arp_sha`.
    ArpSha,
    /// `arp_tha`.
    ArpTha,
    /// `tcp_src` / `tp_src`.
    TcpSrc,
    /// `tcp_dst` / `tp_dst`.
    TcpDst,
    /// `tcp_flags`.
    TcpFlags,
    /// `udp_src`.
    UdpSrc,
    /// `udp_dst`.
    UdpDst,
    /// `sctp_src`.
    SctpSrc,
    /// `sctp_dst`.
    SctpDst,
    /// `icmp_type`.
    Icmpv4Type,
    /// `icmp_code`.
    Icmpv4Code,
    /// `icmpv6_type`.
    Icmpv6Type,
    /// `icmpv6_code`.
    Icmpv6Code,
    /// `nd_target`.
    NdTarget,
    /// `nd_sll`.
    NdSll,
    /// `nd_tll`.
    NdTll,
}

/// How a field's value is written (OVS's `enum mf_string`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueSyntax {
    /// Integer printed in decimal; parsed as decimal, `0x` hex or `0` octal, with optional `/mask`.
    Decimal,
    /// Integer printed in hex; parsed like [`ValueSyntax::Decimal`].
    Hexadecimal,
    /// `xx:xx:xx:xx:xx:xx[/xx:xx:xx:xx:xx:xx]`.
    Ethernet,
    /// `a.b.c.d[/n | /a.b.c.d]`.
    Ipv4,
    /// IPv6 address `[/n | /mask]`.
    Ipv6,
    /// OpenFlow 1.0 port: number, reserved name (`LOCAL`, ...) or a port name.
    OfpPort,
    /// The same, for the 32-bit OpenFlow 1.1 field.
    OfpPortOxm,
    /// `no`, `yes`, `first`, `later`, `not_later`.
    Frag,
    /// TCP flags: `syn|ack`, `+syn-ack`, or `value/mask`.
    TcpFlags,
    /// Conntrack state flags, same forms as TCP flags.
    CtState,
    /// `(ns,type)`.
    PacketType,
}

/// A prerequisite a flow must meet before a field may be matched (OVS's `enum mf_prereqs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prereq {
    /// Always allowed.
    None,
    /// Ethernet packet type.
    Ethernet,
    /// ARP or RARP.
    Arp,
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// IPv4 or IPv6.
    IpAny,
    /// A VLAN header is present.
    VlanVid,
    /// MPLS (unicast or multicast).
    Mpls,
    /// TCP (and not a later fragment).
    Tcp,
    /// UDP (and not a later fragment).
    Udp,
    /// SCTP (and not a later fragment).
    Sctp,
    /// ICMPv4.
    Icmpv4,
    /// ICMPv6.
    Icmpv6,
    /// ICMPv6 neighbour solicitation or advertisement, code 0.
    Nd,
    /// ICMPv6 neighbour solicitation.
    NdSolicit,
    /// ICMPv6 neighbour advertisement.
    NdAdvert,
}

/// Where a field lives in [`Flow`](crate::Flow): a member and the bit range inside it
/// (host-order integers; whole byte arrays for addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowBits {
    /// Name of the [`Flow`](crate::Flow) member.
    pub member: &'static str,
    /// Lowest bit of the field inside the member.
    pub lo: u8,
    /// Number of bits (0 for a whole byte-array member).
    pub bits: u8,
}

/// Description of one match field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// Identity.
    pub id: FieldId,
    /// Canonical name (the one OVS uses in its error messages).
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Width of the value in bytes.
    pub width: u8,
    /// Whether an arbitrary bitwise mask is accepted.
    pub maskable: bool,
    /// How the value is written.
    pub syntax: ValueSyntax,
    /// What the flow must match before this field may be matched.
    pub prereq: Prereq,
    /// Storage in the flow key.
    pub storage: FlowBits,
}

#[allow(clippy::too_many_arguments)]
const fn def(
    id: FieldId,
    name: &'static str,
    aliases: &'static [&'static str],
    width: u8,
    maskable: bool,
    syntax: ValueSyntax,
    prereq: Prereq,
    member: &'static str,
    lo: u8,
    bits: u8,
) -> FieldDef {
    FieldDef {
        id,
        name,
        aliases,
        width,
        maskable,
        syntax,
        prereq,
        storage: FlowBits { member, lo, bits },
    }
}

use FieldId as F;
use Prereq as P;
use ValueSyntax as S;

macro_rules! regs {
    ($($i:literal $name:literal),*) => {
        [$(def(F::Reg($i), $name, &[], 4, true, S::Hexadecimal, P::None, "regs", 0, 32)),*]
    };
}
macro_rules! xregs {
    ($($i:literal $name:literal),*) => {
        [$(def(F::Xreg($i), $name, &[], 8, true, S::Hexadecimal, P::None, "regs", 0, 64)),*]
    };
}
macro_rules! xxregs {
    ($($i:literal $name:literal),*) => {
        [$(def(F::Xxreg($i), $name, &[], 16, true, S::Hexadecimal, P::None, "regs", 0, 0)),*]
    };
}

const REGS: [FieldDef; 16] = regs!(0 "reg0", 1 "reg1", 2 "reg2", 3 "reg3", 4 "reg4", 5 "reg5", 6 "reg6",
    7 "reg7", 8 "reg8", 9 "reg9", 10 "reg10", 11 "reg11", 12 "reg12", 13 "reg13", 14 "reg14", 15 "reg15");
const XREGS: [FieldDef; 8] =
    xregs!(0 "xreg0", 1 "xreg1", 2 "xreg2", 3 "xreg3", 4 "xreg4", 5 "xreg5", 6 "xreg6", 7 "xreg7");
const XXREGS: [FieldDef; 4] = xxregs!(0 "xxreg0", 1 "xxreg1", 2 "xxreg2", 3 "xxreg3");

/// Every field except the registers, in Open vSwitch's meta-flow order.
const SCALAR_FIELDS: &[FieldDef] = &[
    def(
        F::DpHash,
        "dp_hash",
        &[],
        4,
        true,
        S::Hexadecimal,
        P::None,
        "dp_hash",
        0,
        32,
    ),
    def(
        F::RecircId,
        "recirc_id",
        &[],
        4,
        false,
        S::Decimal,
        P::None,
        "recirc_id",
        0,
        32,
    ),
    def(
        F::PacketType,
        "packet_type",
        &[],
        4,
        false,
        S::PacketType,
        P::None,
        "packet_type",
        0,
        32,
    ),
    def(
        F::Metadata,
        "metadata",
        &[],
        8,
        true,
        S::Hexadecimal,
        P::None,
        "metadata",
        0,
        64,
    ),
    def(
        F::InPort,
        "in_port",
        &[],
        2,
        false,
        S::OfpPort,
        P::None,
        "in_port",
        0,
        16,
    ),
    def(
        F::InPortOxm,
        "in_port_oxm",
        &[],
        4,
        false,
        S::OfpPortOxm,
        P::None,
        "in_port",
        0,
        16,
    ),
    def(
        F::SkbPriority,
        "skb_priority",
        &[],
        4,
        false,
        S::Hexadecimal,
        P::None,
        "skb_priority",
        0,
        32,
    ),
    def(
        F::PktMark,
        "pkt_mark",
        &[],
        4,
        true,
        S::Hexadecimal,
        P::None,
        "skb_mark",
        0,
        32,
    ),
    def(
        F::CtState,
        "ct_state",
        &[],
        4,
        true,
        S::CtState,
        P::None,
        "ct_state",
        0,
        8,
    ),
    def(
        F::CtZone,
        "ct_zone",
        &[],
        2,
        false,
        S::Hexadecimal,
        P::None,
        "ct_zone",
        0,
        16,
    ),
    def(
        F::CtMark,
        "ct_mark",
        &[],
        4,
        true,
        S::Hexadecimal,
        P::None,
        "ct_mark",
        0,
        32,
    ),
    def(
        F::CtLabel,
        "ct_label",
        &[],
        16,
        true,
        S::Hexadecimal,
        P::None,
        "ct_label",
        0,
        0,
    ),
    def(
        F::EthSrc,
        "eth_src",
        &["dl_src"],
        6,
        true,
        S::Ethernet,
        P::Ethernet,
        "dl_src",
        0,
        0,
    ),
    def(
        F::EthDst,
        "eth_dst",
        &["dl_dst"],
        6,
        true,
        S::Ethernet,
        P::Ethernet,
        "dl_dst",
        0,
        0,
    ),
    def(
        F::EthType,
        "eth_type",
        &["dl_type"],
        2,
        false,
        S::Hexadecimal,
        P::Ethernet,
        "dl_type",
        0,
        16,
    ),
    def(
        F::VlanTci,
        "vlan_tci",
        &[],
        2,
        true,
        S::Hexadecimal,
        P::Ethernet,
        "vlans[0].tci",
        0,
        16,
    ),
    def(
        F::DlVlan,
        "dl_vlan",
        &[],
        2,
        false,
        S::Decimal,
        P::Ethernet,
        "vlans[0].tci",
        0,
        12,
    ),
    def(
        F::VlanVid,
        "vlan_vid",
        &[],
        2,
        true,
        S::Decimal,
        P::Ethernet,
        "vlans[0].tci",
        0,
        13,
    ),
    def(
        F::DlVlanPcp,
        "dl_vlan_pcp",
        &[],
        1,
        false,
        S::Decimal,
        P::Ethernet,
        "vlans[0].tci",
        13,
        3,
    ),
    def(
        F::VlanPcp,
        "vlan_pcp",
        &[],
        1,
        false,
        S::Decimal,
        P::VlanVid,
        "vlans[0].tci",
        13,
        3,
    ),
    def(
        F::MplsLabel,
        "mpls_label",
        &[],
        4,
        false,
        S::Decimal,
        P::Mpls,
        "mpls_lse",
        12,
        20,
    ),
    def(
        F::MplsTc,
        "mpls_tc",
        &[],
        1,
        false,
        S::Decimal,
        P::Mpls,
        "mpls_lse",
        9,
        3,
    ),
    def(
        F::MplsBos,
        "mpls_bos",
        &[],
        1,
        false,
        S::Decimal,
        P::Mpls,
        "mpls_lse",
        8,
        1,
    ),
    def(
        F::MplsTtl,
        "mpls_ttl",
        &[],
        1,
        false,
        S::Decimal,
        P::Mpls,
        "mpls_lse",
        0,
        8,
    ),
    def(
        F::Ipv4Src,
        "ip_src",
        &["nw_src"],
        4,
        true,
        S::Ipv4,
        P::Ipv4,
        "nw_src",
        0,
        32,
    ),
    def(
        F::Ipv4Dst,
        "ip_dst",
        &["nw_dst"],
        4,
        true,
        S::Ipv4,
        P::Ipv4,
        "nw_dst",
        0,
        32,
    ),
    def(
        F::Ipv6Src,
        "ipv6_src",
        &[],
        16,
        true,
        S::Ipv6,
        P::Ipv6,
        "ipv6_src",
        0,
        0,
    ),
    def(
        F::Ipv6Dst,
        "ipv6_dst",
        &[],
        16,
        true,
        S::Ipv6,
        P::Ipv6,
        "ipv6_dst",
        0,
        0,
    ),
    def(
        F::Ipv6Label,
        "ipv6_label",
        &[],
        4,
        true,
        S::Hexadecimal,
        P::Ipv6,
        "ipv6_label",
        0,
        20,
    ),
    def(
        F::IpProto,
        "nw_proto",
        &["ip_proto"],
        1,
        false,
        S::Decimal,
        P::IpAny,
        "nw_proto",
        0,
        8,
    ),
    def(
        F::IpDscp,
        "nw_tos",
        &[],
        1,
        false,
        S::Decimal,
        P::IpAny,
        "nw_tos",
        2,
        6,
    ),
    def(
        F::IpDscpShifted,
        "ip_dscp",
        &[],
        1,
        false,
        S::Decimal,
        P::IpAny,
        "nw_tos",
        2,
        6,
    ),
    def(
        F::IpEcn,
        "nw_ecn",
        &["ip_ecn"],
        1,
        false,
        S::Decimal,
        P::IpAny,
        "nw_tos",
        0,
        2,
    ),
    def(
        F::IpTtl,
        "nw_ttl",
        &[],
        1,
        false,
        S::Decimal,
        P::IpAny,
        "nw_ttl",
        0,
        8,
    ),
    def(
        F::IpFrag,
        "ip_frag",
        &["nw_frag"],
        1,
        true,
        S::Frag,
        P::IpAny,
        "nw_frag",
        0,
        2,
    ),
    def(
        F::ArpOp,
        "arp_op",
        &[],
        2,
        false,
        S::Decimal,
        P::Arp,
        "nw_proto",
        0,
        8,
    ),
    def(
        F::ArpSpa,
        "arp_spa",
        &[],
        4,
        true,
        S::Ipv4,
        P::Arp,
        "nw_src",
        0,
        32,
    ),
    def(
        F::ArpTpa,
        "arp_tpa",
        &[],
        4,
        true,
        S::Ipv4,
        P::Arp,
        "nw_dst",
        0,
        32,
    ),
    def(
        F::ArpSha,
        "arp_sha",
        &[],
        6,
        true,
        S::Ethernet,
        P::Arp,
        "arp_sha",
        0,
        0,
    ),
    def(
        F::ArpTha,
        "arp_tha",
        &[],
        6,
        true,
        S::Ethernet,
        P::Arp,
        "arp_tha",
        0,
        0,
    ),
    def(
        F::TcpSrc,
        "tcp_src",
        &["tp_src"],
        2,
        true,
        S::Decimal,
        P::Tcp,
        "tp_src",
        0,
        16,
    ),
    def(
        F::TcpDst,
        "tcp_dst",
        &["tp_dst"],
        2,
        true,
        S::Decimal,
        P::Tcp,
        "tp_dst",
        0,
        16,
    ),
    def(
        F::TcpFlags,
        "tcp_flags",
        &[],
        2,
        true,
        S::TcpFlags,
        P::Tcp,
        "tcp_flags",
        0,
        12,
    ),
    def(
        F::UdpSrc,
        "udp_src",
        &[],
        2,
        true,
        S::Decimal,
        P::Udp,
        "tp_src",
        0,
        16,
    ),
    def(
        F::UdpDst,
        "udp_dst",
        &[],
        2,
        true,
        S::Decimal,
        P::Udp,
        "tp_dst",
        0,
        16,
    ),
    def(
        F::SctpSrc,
        "sctp_src",
        &[],
        2,
        true,
        S::Decimal,
        P::Sctp,
        "tp_src",
        0,
        16,
    ),
    def(
        F::SctpDst,
        "sctp_dst",
        &[],
        2,
        true,
        S::Decimal,
        P::Sctp,
        "tp_dst",
        0,
        16,
    ),
    def(
        F::Icmpv4Type,
        "icmp_type",
        &[],
        1,
        false,
        S::Decimal,
        P::Icmpv4,
        "tp_src",
        0,
        8,
    ),
    def(
        F::Icmpv4Code,
        "icmp_code",
        &[],
        1,
        false,
        S::Decimal,
        P::Icmpv4,
        "tp_dst",
        0,
        8,
    ),
    def(
        F::Icmpv6Type,
        "icmpv6_type",
        &[],
        1,
        false,
        S::Decimal,
        P::Icmpv6,
        "tp_src",
        0,
        8,
    ),
    def(
        F::Icmpv6Code,
        "icmpv6_code",
        &[],
        1,
        false,
        S::Decimal,
        P::Icmpv6,
        "tp_dst",
        0,
        8,
    ),
    def(
        F::NdTarget,
        "nd_target",
        &[],
        16,
        true,
        S::Ipv6,
        P::Nd,
        "nd_target",
        0,
        0,
    ),
    def(
        F::NdSll,
        "nd_sll",
        &[],
        6,
        true,
        S::Ethernet,
        P::NdSolicit,
        "arp_sha",
        0,
        0,
    ),
    def(
        F::NdTll,
        "nd_tll",
        &[],
        6,
        true,
        S::Ethernet,
        P::NdAdvert,
        "arp_tha",
        0,
        0,
    ),
];

/// All field tables, searched in this order.
pub const FIELD_TABLES: [&[FieldDef]; 4] = [SCALAR_FIELDS, &REGS, &XREGS, &XXREGS];

/// Every field, registers included.
pub fn fields() -> impl Iterator<Item = &'static FieldDef> {
    FIELD_TABLES.into_iter().flatten()
}

/// Every field other than the registers (kept public for documentation and tests).
pub const FIELDS: &[FieldDef] = SCALAR_FIELDS;

/// Looks a field up by its name or one of its aliases (case-sensitive, as OVS).
pub fn field_by_name(name: &str) -> Option<&'static FieldDef> {
    fields().find(|f| f.name == name || f.aliases.contains(&name))
}

/// The definition of a field by identity.
pub fn field_def(id: FieldId) -> Option<&'static FieldDef> {
    fields().find(|f| f.id == id)
}

/// A protocol shorthand such as `tcp`: it sets `dl_type` and, if non-zero, `nw_proto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocol {
    /// The keyword.
    pub name: &'static str,
    /// Ethertype it matches.
    pub dl_type: u16,
    /// IP protocol it matches, 0 for none.
    pub nw_proto: u8,
}

/// The shorthands `ovs-ofctl` accepts, in its order.
pub const PROTOCOLS: &[Protocol] = &[
    Protocol {
        name: "ip",
        dl_type: ETH_TYPE_IP,
        nw_proto: 0,
    },
    Protocol {
        name: "ipv4",
        dl_type: ETH_TYPE_IP,
        nw_proto: 0,
    },
    Protocol {
        name: "ip4",
        dl_type: ETH_TYPE_IP,
        nw_proto: 0,
    },
    Protocol {
        name: "arp",
        dl_type: ETH_TYPE_ARP,
        nw_proto: 0,
    },
    Protocol {
        name: "icmp",
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::ICMP,
    },
    Protocol {
        name: "tcp",
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::TCP,
    },
    Protocol {
        name: "udp",
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::UDP,
    },
    Protocol {
        name: "sctp",
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::SCTP,
    },
    Protocol {
        name: "ipv6",
        dl_type: ETH_TYPE_IPV6,
        nw_proto: 0,
    },
    Protocol {
        name: "ip6",
        dl_type: ETH_TYPE_IPV6,
        nw_proto: 0,
    },
    Protocol {
        name: "icmp6",
        dl_type: ETH_TYPE_IPV6,
        nw_proto: ipproto::ICMPV6,
    },
    Protocol {
        name: "tcp6",
        dl_type: ETH_TYPE_IPV6,
        nw_proto: ipproto::TCP,
    },
    Protocol {
        name: "udp6",
        dl_type: ETH_TYPE_IPV6,
        nw_proto: ipproto::UDP,
    },
    Protocol {
        name: "sctp6",
        dl_type: ETH_TYPE_IPV6,
        nw_proto: ipproto::SCTP,
    },
    Protocol {
        name: "rarp",
        dl_type: ETH_TYPE_RARP,
        nw_proto: 0,
    },
    Protocol {
        name: "mpls",
        dl_type: ETH_TYPE_MPLS,
        nw_proto: 0,
    },
    Protocol {
        name: "mplsm",
        dl_type: ETH_TYPE_MPLS_MCAST,
        nw_proto: 0,
    },
];

/// Looks a protocol shorthand up by keyword (case-sensitive).
pub fn protocol_by_name(name: &str) -> Option<&'static Protocol> {
    PROTOCOLS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = fields()
            .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(names.iter().all(|n| protocol_by_name(n).is_none()));
    }

    #[test]
    fn lookups() {
        assert_eq!(field_by_name("dl_src").map(|f| f.id), Some(FieldId::EthSrc));
        assert_eq!(field_by_name("tp_dst").map(|f| f.name), Some("tcp_dst"));
        assert_eq!(field_by_name("reg15").map(|f| f.id), Some(FieldId::Reg(15)));
        assert_eq!(field_by_name("xxreg3").map(|f| f.width), Some(16));
        assert!(field_by_name("reg16").is_none());
        assert!(field_by_name("TCP_DST").is_none());
        assert_eq!(
            protocol_by_name("tcp6").map(|p| (p.dl_type, p.nw_proto)),
            Some((ETH_TYPE_IPV6, 6))
        );
        assert_eq!(field_def(FieldId::Xreg(7)).map(|f| f.name), Some("xreg7"));
    }
}
