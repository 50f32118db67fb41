//! Datapath key attributes: the `OVS_KEY_ATTR_*` values a flow key or mask is made of.
//!
//! Open vSwitch never prints a `struct flow` directly: it first turns the flow into a list of
//! netlink attributes, then prints the list. The same list is what its parser produces. [`Attr`] is
//! that list element with its payload decoded (host-order integers), so that printing and parsing
//! can follow OVS step by step while the caller only ever sees [`Flow`](crate::Flow) and
//! [`Wildcards`](crate::Wildcards).
//!
//! # Invariants
//! * A mask attribute has the same variant (and, for `mpls`, the same length) as the key attribute
//!   it belongs to; [`Attr::zeroed`] builds the all-wildcard mask of a key attribute.
//! * [`Attr::is_wildcard`] and [`Attr::is_exact`] follow `odp_mask_is_constant__`: they look at
//!   the payload bytes a datapath would see (so a 20-bit IPv6 flow label is exact at `0xfffff`, a
//!   12-bit TCP flag mask at `0xfff`, and `encap` is never either).

/// Kind of a datapath key attribute (the subset of `OVS_KEY_ATTR_*` rvs supports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyAttrKind {
    /// `skb_priority`.
    SkbPriority,
    /// `skb_mark`.
    SkbMark,
    /// `ct_state`.
    CtState,
    /// `ct_zone`.
    CtZone,
    /// `ct_mark`.
    CtMark,
    /// `ct_label`.
    CtLabel,
    /// `recirc_id`.
    RecircId,
    /// `dp_hash`.
    DpHash,
    /// `in_port`.
    InPort,
    /// `packet_type`.
    PacketType,
    /// `eth` (source and destination MAC).
    Eth,
    /// `vlan` (one TCI).
    Vlan,
    /// `eth_type`.
    EthType,
    /// `encap`, the attributes inside a VLAN header.
    Encap,
    /// `ipv4`.
    Ipv4,
    /// `ipv6`.
    Ipv6,
    /// `arp`.
    Arp,
    /// `mpls`.
    Mpls,
    /// `tcp`.
    Tcp,
    /// `tcp_flags`.
    TcpFlags,
    /// `udp`.
    Udp,
    /// `sctp`.
    Sctp,
    /// `icmp`.
    Icmp,
    /// `icmpv6`.
    Icmpv6,
    /// `nd` (IPv6 neighbor discovery).
    Nd,
}

impl KeyAttrKind {
    /// Every kind, in discriminant order (`ALL[k as usize] == k`).
    pub const ALL: [KeyAttrKind; 25] = {
        use KeyAttrKind::*;
        [
            SkbPriority,
            SkbMark,
            CtState,
            CtZone,
            CtMark,
            CtLabel,
            RecircId,
            DpHash,
            InPort,
            PacketType,
            Eth,
            Vlan,
            EthType,
            Encap,
            Ipv4,
            Ipv6,
            Arp,
            Mpls,
            Tcp,
            TcpFlags,
            Udp,
            Sctp,
            Icmp,
            Icmpv6,
            Nd,
        ]
    };
}

const _: () = assert!(KeyAttrKind::ALL.len() == KeyAttrKind::Nd as usize + 1);

impl KeyAttrKind {
    /// The attribute's name in text (`ovs_key_attr_to_string`).
    pub fn name(self) -> &'static str {
        match self {
            KeyAttrKind::SkbPriority => "skb_priority",
            KeyAttrKind::SkbMark => "skb_mark",
            KeyAttrKind::CtState => "ct_state",
            KeyAttrKind::CtZone => "ct_zone",
            KeyAttrKind::CtMark => "ct_mark",
            KeyAttrKind::CtLabel => "ct_label",
            KeyAttrKind::RecircId => "recirc_id",
            KeyAttrKind::DpHash => "dp_hash",
            KeyAttrKind::InPort => "in_port",
            KeyAttrKind::PacketType => "packet_type",
            KeyAttrKind::Eth => "eth",
            KeyAttrKind::Vlan => "vlan",
            KeyAttrKind::EthType => "eth_type",
            KeyAttrKind::Encap => "encap",
            KeyAttrKind::Ipv4 => "ipv4",
            KeyAttrKind::Ipv6 => "ipv6",
            KeyAttrKind::Arp => "arp",
            KeyAttrKind::Mpls => "mpls",
            KeyAttrKind::Tcp => "tcp",
            KeyAttrKind::TcpFlags => "tcp_flags",
            KeyAttrKind::Udp => "udp",
            KeyAttrKind::Sctp => "sctp",
            KeyAttrKind::Icmp => "icmp",
            KeyAttrKind::Icmpv6 => "icmpv6",
            KeyAttrKind::Nd => "nd",
        }
    }

    /// Bit of this kind in a presence set.
    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Ethernet addresses (`struct ovs_key_ethernet`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EthAttr {
    pub(crate) src: [u8; 6],
    pub(crate) dst: [u8; 6],
}

/// IPv4 header fields (`struct ovs_key_ipv4`); `frag` is the datapath enum 0/1/2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ipv4Attr {
    pub(crate) src: u32,
    pub(crate) dst: u32,
    pub(crate) proto: u8,
    pub(crate) tos: u8,
    pub(crate) ttl: u8,
    pub(crate) frag: u8,
}

/// IPv6 header fields (`struct ovs_key_ipv6`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ipv6Attr {
    pub(crate) src: [u8; 16],
    pub(crate) dst: [u8; 16],
    pub(crate) label: u32,
    pub(crate) proto: u8,
    pub(crate) tclass: u8,
    pub(crate) hlimit: u8,
    pub(crate) frag: u8,
}

/// ARP fields (`struct ovs_key_arp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ArpAttr {
    pub(crate) sip: u32,
    pub(crate) tip: u32,
    pub(crate) op: u16,
    pub(crate) sha: [u8; 6],
    pub(crate) tha: [u8; 6],
}

/// Transport ports (`struct ovs_key_tcp/udp/sctp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PortsAttr {
    pub(crate) src: u16,
    pub(crate) dst: u16,
}

/// ICMP or ICMPv6 type and code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IcmpAttr {
    pub(crate) kind: u8,
    pub(crate) code: u8,
}

/// Neighbor discovery fields (`struct ovs_key_nd`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NdAttr {
    pub(crate) target: [u8; 16],
    pub(crate) sll: [u8; 6],
    pub(crate) tll: [u8; 6],
}

/// One datapath key (or mask) attribute with its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Attr {
    SkbPriority(u32),
    SkbMark(u32),
    /// Datapath `OVS_CS_F_*` bits.
    CtState(u32),
    CtZone(u16),
    CtMark(u32),
    CtLabel(u128),
    RecircId(u32),
    DpHash(u32),
    InPort(u32),
    PacketType(u32),
    Eth(EthAttr),
    Vlan(u16),
    EthType(u16),
    Encap(Vec<Attr>),
    Ipv4(Ipv4Attr),
    Ipv6(Ipv6Attr),
    Arp(ArpAttr),
    /// Label stack entries, outermost first.
    Mpls(Vec<u32>),
    Tcp(PortsAttr),
    TcpFlags(u16),
    Udp(PortsAttr),
    Sctp(PortsAttr),
    Icmp(IcmpAttr),
    Icmpv6(IcmpAttr),
    Nd(NdAttr),
}

/// The 20 bits of an IPv6 flow label.
pub(crate) const IPV6_LABEL_MASK: u32 = 0x000f_ffff;

/// The 12 bits of a TCP flags field that a key can hold.
const TCP_FLAGS_MASK: u16 = 0x0fff;

impl Attr {
    /// The attribute's kind.
    pub(crate) fn kind(&self) -> KeyAttrKind {
        match self {
            Attr::SkbPriority(_) => KeyAttrKind::SkbPriority,
            Attr::SkbMark(_) => KeyAttrKind::SkbMark,
            Attr::CtState(_) => KeyAttrKind::CtState,
            Attr::CtZone(_) => KeyAttrKind::CtZone,
            Attr::CtMark(_) => KeyAttrKind::CtMark,
            Attr::CtLabel(_) => KeyAttrKind::CtLabel,
            Attr::RecircId(_) => KeyAttrKind::RecircId,
            Attr::DpHash(_) => KeyAttrKind::DpHash,
            Attr::InPort(_) => KeyAttrKind::InPort,
            Attr::PacketType(_) => KeyAttrKind::PacketType,
            Attr::Eth(_) => KeyAttrKind::Eth,
            Attr::Vlan(_) => KeyAttrKind::Vlan,
            Attr::EthType(_) => KeyAttrKind::EthType,
            Attr::Encap(_) => KeyAttrKind::Encap,
            Attr::Ipv4(_) => KeyAttrKind::Ipv4,
            Attr::Ipv6(_) => KeyAttrKind::Ipv6,
            Attr::Arp(_) => KeyAttrKind::Arp,
            Attr::Mpls(_) => KeyAttrKind::Mpls,
            Attr::Tcp(_) => KeyAttrKind::Tcp,
            Attr::TcpFlags(_) => KeyAttrKind::TcpFlags,
            Attr::Udp(_) => KeyAttrKind::Udp,
            Attr::Sctp(_) => KeyAttrKind::Sctp,
            Attr::Icmp(_) => KeyAttrKind::Icmp,
            Attr::Icmpv6(_) => KeyAttrKind::Icmpv6,
            Attr::Nd(_) => KeyAttrKind::Nd,
        }
    }

    /// The all-wildcard mask for this key attribute (`generate_all_wildcard_mask`).
    pub(crate) fn zeroed(&self) -> Attr {
        match self {
            Attr::Encap(inner) => Attr::Encap(inner.iter().map(Attr::zeroed).collect()),
            Attr::Mpls(lses) => Attr::Mpls(vec![0; lses.len()]),
            other => Attr::filled(other.kind(), false),
        }
    }

    /// A fixed-size attribute of `kind` with every payload bit zero or (`ones`) one.
    ///
    /// `mpls` gets one entry and `encap` is empty.
    pub(crate) fn filled(kind: KeyAttrKind, ones: bool) -> Attr {
        let b8 = if ones { u8::MAX } else { 0 };
        let b16 = if ones { u16::MAX } else { 0 };
        let b32 = if ones { u32::MAX } else { 0 };
        let mac = [b8; 6];
        let in6 = [b8; 16];
        let ports = PortsAttr { src: b16, dst: b16 };
        let icmp = IcmpAttr { kind: b8, code: b8 };
        match kind {
            KeyAttrKind::SkbPriority => Attr::SkbPriority(b32),
            KeyAttrKind::SkbMark => Attr::SkbMark(b32),
            KeyAttrKind::CtState => Attr::CtState(b32),
            KeyAttrKind::CtZone => Attr::CtZone(b16),
            KeyAttrKind::CtMark => Attr::CtMark(b32),
            KeyAttrKind::CtLabel => Attr::CtLabel(if ones { u128::MAX } else { 0 }),
            KeyAttrKind::RecircId => Attr::RecircId(b32),
            KeyAttrKind::DpHash => Attr::DpHash(b32),
            KeyAttrKind::InPort => Attr::InPort(b32),
            KeyAttrKind::PacketType => Attr::PacketType(b32),
            KeyAttrKind::Eth => Attr::Eth(EthAttr { src: mac, dst: mac }),
            KeyAttrKind::Vlan => Attr::Vlan(b16),
            KeyAttrKind::EthType => Attr::EthType(b16),
            KeyAttrKind::Encap => Attr::Encap(Vec::new()),
            KeyAttrKind::Ipv4 => Attr::Ipv4(Ipv4Attr {
                src: b32,
                dst: b32,
                proto: b8,
                tos: b8,
                ttl: b8,
                frag: b8,
            }),
            KeyAttrKind::Ipv6 => Attr::Ipv6(Ipv6Attr {
                src: in6,
                dst: in6,
                label: b32,
                proto: b8,
                tclass: b8,
                hlimit: b8,
                frag: b8,
            }),
            KeyAttrKind::Arp => Attr::Arp(ArpAttr {
                sip: b32,
                tip: b32,
                op: b16,
                sha: mac,
                tha: mac,
            }),
            KeyAttrKind::Mpls => Attr::Mpls(vec![b32]),
            KeyAttrKind::Tcp => Attr::Tcp(ports),
            KeyAttrKind::TcpFlags => Attr::TcpFlags(b16),
            KeyAttrKind::Udp => Attr::Udp(ports),
            KeyAttrKind::Sctp => Attr::Sctp(ports),
            KeyAttrKind::Icmp => Attr::Icmp(icmp),
            KeyAttrKind::Icmpv6 => Attr::Icmpv6(icmp),
            KeyAttrKind::Nd => Attr::Nd(NdAttr {
                target: in6,
                sll: mac,
                tll: mac,
            }),
        }
    }

    /// True if every payload byte is zero (`mask_empty` / `is_all_zeros`).
    pub(crate) fn is_all_zero(&self) -> bool {
        match self {
            Attr::Encap(inner) => inner.is_empty(),
            Attr::Mpls(lses) => lses.iter().all(|l| *l == 0),
            other => *other == Attr::filled(other.kind(), false),
        }
    }

    /// `odp_mask_is_constant__(.., 0)`: the mask matches nothing.
    pub(crate) fn is_wildcard(&self) -> bool {
        self.is_constant(false)
    }

    /// `odp_mask_is_constant__(.., -1)`: the mask matches everything.
    pub(crate) fn is_exact(&self) -> bool {
        self.is_constant(true)
    }

    fn is_constant(&self, ones: bool) -> bool {
        match self {
            Attr::Encap(_) => false,
            Attr::Mpls(lses) => {
                let want = if ones { u32::MAX } else { 0 };
                lses.iter().all(|l| *l == want)
            }
            Attr::TcpFlags(m) => {
                let want = if ones { TCP_FLAGS_MASK } else { 0 };
                m & TCP_FLAGS_MASK == want
            }
            Attr::Ipv6(m) => {
                let want = if ones { IPV6_LABEL_MASK } else { 0 };
                let mut rest = *m;
                rest.label = if m.label & IPV6_LABEL_MASK == want {
                    if ones { u32::MAX } else { 0 }
                } else {
                    // Any value that is not constant.
                    if ones { 0 } else { 1 }
                };
                Attr::Ipv6(rest) == Attr::filled(KeyAttrKind::Ipv6, ones)
            }
            other => *other == Attr::filled(other.kind(), ones),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_masks() {
        assert!(Attr::filled(KeyAttrKind::Ipv4, true).is_exact());
        assert!(Attr::filled(KeyAttrKind::Ipv4, false).is_wildcard());
        let label_exact = Attr::Ipv6(Ipv6Attr {
            src: [0xff; 16],
            dst: [0xff; 16],
            label: IPV6_LABEL_MASK,
            proto: 0xff,
            tclass: 0xff,
            hlimit: 0xff,
            frag: 0xff,
        });
        assert!(label_exact.is_exact());
        assert!(Attr::TcpFlags(0x0fff).is_exact());
        assert!(Attr::TcpFlags(0xf000).is_wildcard());
        assert!(!Attr::Encap(Vec::new()).is_wildcard());
        assert!(Attr::CtState(0).is_wildcard());
        assert!(!Attr::CtState(0xff).is_exact());
        assert_eq!(Attr::Mpls(vec![1, 2]).zeroed(), Attr::Mpls(vec![0, 0]));
    }
}
