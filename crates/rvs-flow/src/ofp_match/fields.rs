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
    /// `nd_options_type` (kept in the TCP flags field, as in OVS).
    NdOptionsType,
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

/// Builds the field table from one line per field:
/// `Id "name" ["alias", ...] width exact|bitwise Syntax Prereq "member" lo bits;`
macro_rules! field_table {
    ($($id:ident $name:literal [$($alias:literal),*] $width:literal $mask:ident $syntax:ident
       $prereq:ident $member:literal $lo:literal $bits:literal;)*) => {
        &[$(FieldDef {
            id: FieldId::$id,
            name: $name,
            aliases: &[$($alias),*],
            width: $width,
            maskable: field_table!(@maskable $mask),
            syntax: ValueSyntax::$syntax,
            prereq: Prereq::$prereq,
            storage: FlowBits { member: $member, lo: $lo, bits: $bits },
        }),*]
    };
    (@maskable exact) => { false };
    (@maskable bitwise) => { true };
}

/// Builds `count` register fields named `prefix0`, `prefix1`, ...
macro_rules! registers {
    ($variant:ident, $width:literal, $bits:literal, $($i:literal $name:literal),*) => {
        [$(FieldDef {
            id: FieldId::$variant($i),
            name: $name,
            aliases: &[],
            width: $width,
            maskable: true,
            syntax: ValueSyntax::Hexadecimal,
            prereq: Prereq::None,
            storage: FlowBits { member: "regs", lo: 0, bits: $bits },
        }),*]
    };
}

const REGS: [FieldDef; 16] = registers!(Reg, 4, 32, 0 "reg0", 1 "reg1", 2 "reg2", 3 "reg3",
    4 "reg4", 5 "reg5", 6 "reg6", 7 "reg7", 8 "reg8", 9 "reg9", 10 "reg10", 11 "reg11",
    12 "reg12", 13 "reg13", 14 "reg14", 15 "reg15");
const XREGS: [FieldDef; 8] = registers!(Xreg, 8, 64, 0 "xreg0", 1 "xreg1", 2 "xreg2", 3 "xreg3",
    4 "xreg4", 5 "xreg5", 6 "xreg6", 7 "xreg7");
const XXREGS: [FieldDef; 4] =
    registers!(Xxreg, 16, 0, 0 "xxreg0", 1 "xxreg1", 2 "xxreg2", 3 "xxreg3");

/// Every field except the registers, in Open vSwitch's meta-flow order.
#[rustfmt::skip]
const SCALAR_FIELDS: &[FieldDef] = field_table! {
    DpHash        "dp_hash"       []           4  bitwise Hexadecimal None      "dp_hash"       0 32;
    RecircId      "recirc_id"     []           4  exact   Decimal     None      "recirc_id"     0 32;
    PacketType    "packet_type"   []           4  exact   PacketType  None      "packet_type"   0 32;
    Metadata      "metadata"      []           8  bitwise Hexadecimal None      "metadata"      0 64;
    InPort        "in_port"       []           2  exact   OfpPort     None      "in_port"       0 16;
    InPortOxm     "in_port_oxm"   []           4  exact   OfpPortOxm  None      "in_port"       0 16;
    SkbPriority   "skb_priority"  []           4  exact   Hexadecimal None      "skb_priority"  0 32;
    PktMark       "pkt_mark"      []           4  bitwise Hexadecimal None      "skb_mark"      0 32;
    CtState       "ct_state"      []           4  bitwise CtState     None      "ct_state"      0 8;
    CtZone        "ct_zone"       []           2  exact   Hexadecimal None      "ct_zone"       0 16;
    CtMark        "ct_mark"       []           4  bitwise Hexadecimal None      "ct_mark"       0 32;
    CtLabel       "ct_label"      []           16 bitwise Hexadecimal None      "ct_label"      0 0;
    EthSrc        "eth_src"       ["dl_src"]   6  bitwise Ethernet    Ethernet  "dl_src"        0 0;
    EthDst        "eth_dst"       ["dl_dst"]   6  bitwise Ethernet    Ethernet  "dl_dst"        0 0;
    EthType       "eth_type"      ["dl_type"]  2  exact   Hexadecimal Ethernet  "dl_type"       0 16;
    VlanTci       "vlan_tci"      []           2  bitwise Hexadecimal Ethernet  "vlans[0].tci"  0 16;
    DlVlan        "dl_vlan"       []           2  exact   Decimal     Ethernet  "vlans[0].tci"  0 12;
    VlanVid       "vlan_vid"      []           2  bitwise Decimal     Ethernet  "vlans[0].tci"  0 13;
    DlVlanPcp     "dl_vlan_pcp"   []           1  exact   Decimal     Ethernet  "vlans[0].tci"  13 3;
    VlanPcp       "vlan_pcp"      []           1  exact   Decimal     VlanVid   "vlans[0].tci"  13 3;
    MplsLabel     "mpls_label"    []           4  exact   Decimal     Mpls      "mpls_lse"      12 20;
    MplsTc        "mpls_tc"       []           1  exact   Decimal     Mpls      "mpls_lse"      9 3;
    MplsBos       "mpls_bos"      []           1  exact   Decimal     Mpls      "mpls_lse"      8 1;
    MplsTtl       "mpls_ttl"      []           1  exact   Decimal     Mpls      "mpls_lse"      0 8;
    Ipv4Src       "ip_src"        ["nw_src"]   4  bitwise Ipv4        Ipv4      "nw_src"        0 32;
    Ipv4Dst       "ip_dst"        ["nw_dst"]   4  bitwise Ipv4        Ipv4      "nw_dst"        0 32;
    Ipv6Src       "ipv6_src"      []           16 bitwise Ipv6        Ipv6      "ipv6_src"      0 0;
    Ipv6Dst       "ipv6_dst"      []           16 bitwise Ipv6        Ipv6      "ipv6_dst"      0 0;
    Ipv6Label     "ipv6_label"    []           4  bitwise Hexadecimal Ipv6      "ipv6_label"    0 20;
    IpProto       "nw_proto"      ["ip_proto"] 1  exact   Decimal     IpAny     "nw_proto"      0 8;
    IpDscp        "nw_tos"        []           1  exact   Decimal     IpAny     "nw_tos"        2 6;
    IpDscpShifted "ip_dscp"       []           1  exact   Decimal     IpAny     "nw_tos"        2 6;
    IpEcn         "nw_ecn"        ["ip_ecn"]   1  exact   Decimal     IpAny     "nw_tos"        0 2;
    IpTtl         "nw_ttl"        []           1  exact   Decimal     IpAny     "nw_ttl"        0 8;
    IpFrag        "ip_frag"       ["nw_frag"]  1  bitwise Frag        IpAny     "nw_frag"       0 2;
    ArpOp         "arp_op"        []           2  exact   Decimal     Arp       "nw_proto"      0 8;
    ArpSpa        "arp_spa"       []           4  bitwise Ipv4        Arp       "nw_src"        0 32;
    ArpTpa        "arp_tpa"       []           4  bitwise Ipv4        Arp       "nw_dst"        0 32;
    ArpSha        "arp_sha"       []           6  bitwise Ethernet    Arp       "arp_sha"       0 0;
    ArpTha        "arp_tha"       []           6  bitwise Ethernet    Arp       "arp_tha"       0 0;
    TcpSrc        "tcp_src"       ["tp_src"]   2  bitwise Decimal     Tcp       "tp_src"        0 16;
    TcpDst        "tcp_dst"       ["tp_dst"]   2  bitwise Decimal     Tcp       "tp_dst"        0 16;
    TcpFlags      "tcp_flags"     []           2  bitwise TcpFlags    Tcp       "tcp_flags"     0 12;
    UdpSrc        "udp_src"       []           2  bitwise Decimal     Udp       "tp_src"        0 16;
    UdpDst        "udp_dst"       []           2  bitwise Decimal     Udp       "tp_dst"        0 16;
    SctpSrc       "sctp_src"      []           2  bitwise Decimal     Sctp      "tp_src"        0 16;
    SctpDst       "sctp_dst"      []           2  bitwise Decimal     Sctp      "tp_dst"        0 16;
    Icmpv4Type    "icmp_type"     []           1  exact   Decimal     Icmpv4    "tp_src"        0 8;
    Icmpv4Code    "icmp_code"     []           1  exact   Decimal     Icmpv4    "tp_dst"        0 8;
    Icmpv6Type    "icmpv6_type"   []           1  exact   Decimal     Icmpv6    "tp_src"        0 8;
    Icmpv6Code    "icmpv6_code"   []           1  exact   Decimal     Icmpv6    "tp_dst"        0 8;
    NdTarget      "nd_target"     []           16 bitwise Ipv6        Nd        "nd_target"     0 0;
    NdSll         "nd_sll"        []           6  bitwise Ethernet    NdSolicit "arp_sha"       0 0;
    NdTll         "nd_tll"        []           6  bitwise Ethernet    NdAdvert  "arp_tha"       0 0;
    NdOptionsType "nd_options_type" []         1  exact   Decimal     Nd        "tcp_flags"     0 8;
};

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
