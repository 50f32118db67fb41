//! The flow key: every L2–L4 field the datapath and the OpenFlow pipeline match on.
//!
//! # Invariants
//! * [`Flow`] is `repr(C, align(8))`, has no implicit padding (checked by `zerocopy::IntoBytes`) and is
//!   exactly [`FLOW_WORDS`] 64-bit words long. Masking, hashing and comparison work on that word view
//!   ([`Flow::words`]) with no per-field branches; the same layout serves as the mask ([`Wildcards`]).
//! * The fields are grouped into four lookup stages (metadata, L2, L3, L4), each starting on a word
//!   boundary: [`STAGE_WORD_ENDS`] gives the end of each stage in words. Staged lookup in the classifier
//!   relies on this order.
//! * Integer fields hold values in **host** byte order (an IPv4 address `10.0.0.1` is `0x0a000001`);
//!   byte-array fields (MACs, IPv6 addresses, `ct_label`) hold wire order.
//! * Several fields are shared by protocols exactly as in Open vSwitch, so that masks over them mean
//!   the same thing: `nw_src`/`nw_dst` carry ARP SPA/TPA, `nw_proto` carries the low byte of the ARP
//!   opcode, `tp_src`/`tp_dst` carry ICMP type/code, `arp_sha`/`arp_tha` carry IPv6 ND SLL/TLL.
//! * Padding fields are always zero in a flow produced by this crate; they are never un-wildcarded.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Number of 64-bit words in a [`Flow`].
pub const FLOW_WORDS: usize = 30;

/// Word index one past the end of each lookup stage: metadata, L2, L3, L4. As in Open vSwitch
/// (`FLOW_SEGMENT_3_ENDS_AT`), the L4 stage starts at `nd_target`: the ND addresses, ARP
/// hardware addresses and TCP flags are looked up together with the transport ports.
pub const STAGE_WORD_ENDS: [usize; 4] = [15, 19, 25, 30];

/// One 802.1Q/802.1ad header: TPID and TCI, host order.
///
/// `tci & VLAN_CFI != 0` means the header is present (Open vSwitch's convention): a priority-tagged
/// frame with VID 0 still has the bit set, an untagged frame has `tci == 0`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, IntoBytes, FromBytes, Immutable, KnownLayout,
)]
pub struct VlanHeader {
    /// Tag protocol identifier (0x8100 or 0x88a8), 0 if absent.
    pub tpid: u16,
    /// Tag control information: PCP (3 bits), CFI/"present" (1 bit), VID (12 bits).
    pub tci: u16,
}

/// Flow key of one packet (or, as [`Wildcards::masks`], a mask of the same shape).
#[repr(C, align(8))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, IntoBytes, FromBytes, Immutable, KnownLayout,
)]
pub struct Flow {
    // ---- Stage 0: metadata (words 0..15) ----
    /// Recirculation id; 0 for packets fresh from a port.
    pub recirc_id: u32,
    /// Datapath hash computed by a `hash` action.
    pub dp_hash: u32,
    /// Packet priority (`skb->priority`).
    pub skb_priority: u32,
    /// Packet mark (`skb->mark`).
    pub skb_mark: u32,
    /// Datapath input port number.
    pub in_port: u32,
    /// Packet type: namespace in the upper 16 bits, type in the lower 16 ([`PT_ETH`] for Ethernet).
    pub packet_type: u32,
    /// Conntrack mark.
    pub ct_mark: u32,
    /// Conntrack zone.
    pub ct_zone: u16,
    /// Conntrack state bits (`CS_*`).
    pub ct_state: u8,
    /// Padding, always zero.
    pub pad0: u8,
    /// Conntrack label, 128 bits in wire (big-endian) order.
    pub ct_label: [u8; 16],
    /// OpenFlow metadata register (pipeline only, never in a datapath key).
    pub metadata: u64,
    /// OpenFlow registers `reg0`..`reg15` (pipeline only, never in a datapath key).
    pub regs: [u32; 16],

    // ---- Stage 1: L2 (words 15..19) ----
    /// Ethernet destination address.
    pub dl_dst: [u8; 6],
    /// Ethernet source address.
    pub dl_src: [u8; 6],
    /// Ethertype of the innermost header (after VLAN and before MPLS payloads); values below
    /// [`ETH_TYPE_MIN`] mean an 802.3 frame without an Ethernet II type.
    pub dl_type: u16,
    /// Up to two VLAN headers, outermost first.
    pub vlans: [VlanHeader; 2],
    /// Padding, always zero.
    pub pad1: u16,
    /// Top MPLS label stack entry (label 20 bits, TC 3, BoS 1, TTL 8), as on the wire.
    pub mpls_lse: u32,
    /// Padding, always zero.
    pub pad2: u32,

    // ---- Stage 2: L3 (words 19..29) ----
    /// IPv4 source, or ARP sender protocol address.
    pub nw_src: u32,
    /// IPv4 destination, or ARP target protocol address.
    pub nw_dst: u32,
    /// IPv6 source address.
    pub ipv6_src: [u8; 16],
    /// IPv6 destination address.
    pub ipv6_dst: [u8; 16],
    /// IPv6 flow label (20 bits).
    pub ipv6_label: u32,
    /// Fragment bits: [`FRAG_ANY`] and [`FRAG_LATER`].
    pub nw_frag: u8,
    /// IPv4 TOS / IPv6 traffic class byte (DSCP and ECN).
    pub nw_tos: u8,
    /// IPv4 TTL / IPv6 hop limit.
    pub nw_ttl: u8,
    /// IP protocol, or the low 8 bits of the ARP opcode.
    pub nw_proto: u8,
    /// IPv6 neighbor discovery target address.
    pub nd_target: [u8; 16],
    /// ARP sender hardware address, or ND source link-layer address.
    pub arp_sha: [u8; 6],
    /// ARP target hardware address, or ND target link-layer address.
    pub arp_tha: [u8; 6],
    /// TCP flags (12 bits: NS, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN).
    pub tcp_flags: u16,
    /// Padding, always zero.
    pub pad3: u16,

    // ---- Stage 3: L4 (word 29) ----
    /// TCP/UDP/SCTP source port, or ICMP/ICMPv6 type.
    pub tp_src: u16,
    /// TCP/UDP/SCTP destination port, or ICMP/ICMPv6 code.
    pub tp_dst: u16,
    /// Padding, always zero.
    pub pad4: u32,
}

const _: () = assert!(size_of::<Flow>() == FLOW_WORDS * 8);
const _: () = assert!(core::mem::offset_of!(Flow, dl_dst) == STAGE_WORD_ENDS[0] * 8);
const _: () = assert!(core::mem::offset_of!(Flow, nw_src) == STAGE_WORD_ENDS[1] * 8);
const _: () = assert!(core::mem::offset_of!(Flow, nd_target) == STAGE_WORD_ENDS[2] * 8);

/// Smallest value of an Ethernet II type; smaller `dl_type` values are 802.3 lengths.
pub const ETH_TYPE_MIN: u16 = 0x600;
/// IPv4 ethertype.
pub const ETH_TYPE_IP: u16 = 0x0800;
/// ARP ethertype.
pub const ETH_TYPE_ARP: u16 = 0x0806;
/// RARP ethertype.
pub const ETH_TYPE_RARP: u16 = 0x8035;
/// 802.1Q VLAN TPID.
pub const ETH_TYPE_VLAN_8021Q: u16 = 0x8100;
/// 802.1ad (QinQ) service VLAN TPID.
pub const ETH_TYPE_VLAN_8021AD: u16 = 0x88a8;
/// IPv6 ethertype.
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
/// MPLS unicast ethertype.
pub const ETH_TYPE_MPLS: u16 = 0x8847;
/// MPLS multicast ethertype.
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
/// dl_type used by Open vSwitch for 802.3 frames without SNAP ethertype.
pub const ETH_TYPE_NONE: u16 = 0x05ff;

/// IP protocol numbers used by the flow key.
pub mod ipproto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// IGMP.
    pub const IGMP: u8 = 2;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 routing header.
    pub const ROUTING: u8 = 43;
    /// IPv6 fragment header.
    pub const FRAGMENT: u8 = 44;
    /// IPv6 hop-by-hop options.
    pub const HOPOPTS: u8 = 0;
    /// IPv6 destination options.
    pub const DSTOPTS: u8 = 60;
    /// Authentication header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// `packet_type` of an Ethernet frame (namespace 0, type 0).
pub const PT_ETH: u32 = 0;

/// `nw_frag` bit: the packet is a fragment (first or later).
pub const FRAG_ANY: u8 = 1;
/// `nw_frag` bit: the packet is a non-first fragment.
pub const FRAG_LATER: u8 = 2;
/// All meaningful `nw_frag` bits.
pub const FRAG_MASK: u8 = FRAG_ANY | FRAG_LATER;

/// VLAN TCI "present" bit (the CFI position, as Open vSwitch uses it).
pub const VLAN_CFI: u16 = 0x1000;
/// VLAN VID bits of a TCI.
pub const VLAN_VID_MASK: u16 = 0x0fff;
/// VLAN PCP bits of a TCI.
pub const VLAN_PCP_MASK: u16 = 0xe000;
/// Shift of the PCP field in a TCI.
pub const VLAN_PCP_SHIFT: u16 = 13;

/// MPLS label stack entry: label bits.
pub const MPLS_LABEL_MASK: u32 = 0xffff_f000;
/// MPLS label stack entry: label shift.
pub const MPLS_LABEL_SHIFT: u32 = 12;
/// MPLS label stack entry: traffic class bits.
pub const MPLS_TC_MASK: u32 = 0x0000_0e00;
/// MPLS label stack entry: traffic class shift.
pub const MPLS_TC_SHIFT: u32 = 9;
/// MPLS label stack entry: bottom-of-stack bit.
pub const MPLS_BOS_MASK: u32 = 0x0000_0100;
/// MPLS label stack entry: bottom-of-stack shift.
pub const MPLS_BOS_SHIFT: u32 = 8;
/// MPLS label stack entry: TTL bits.
pub const MPLS_TTL_MASK: u32 = 0x0000_00ff;

/// TCP flag bits as stored in [`Flow::tcp_flags`].
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
    /// ECE.
    pub const ECE: u16 = 0x040;
    /// CWR.
    pub const CWR: u16 = 0x080;
    /// NS.
    pub const NS: u16 = 0x100;
    /// All 12 bits a flow key can hold.
    pub const MASK: u16 = 0x0fff;

    /// Name of one flag bit as Open vSwitch prints it (`packet_tcp_flag_to_string`).
    pub fn name(bit: u32) -> Option<&'static str> {
        Some(match bit {
            0x001 => "fin",
            0x002 => "syn",
            0x004 => "rst",
            0x008 => "psh",
            0x010 => "ack",
            0x020 => "urg",
            0x040 => "ece",
            0x080 => "cwr",
            0x100 => "ns",
            0x200 => "[200]",
            0x400 => "[400]",
            0x800 => "[800]",
            _ => return None,
        })
    }
}

/// Conntrack state bits as stored in [`Flow::ct_state`].
pub mod ct_state {
    /// New connection.
    pub const NEW: u8 = 0x01;
    /// Established connection.
    pub const EST: u8 = 0x02;
    /// Related connection.
    pub const REL: u8 = 0x04;
    /// Reply direction.
    pub const RPL: u8 = 0x08;
    /// Invalid.
    pub const INV: u8 = 0x10;
    /// Tracked.
    pub const TRK: u8 = 0x20;
    /// Source NAT applied.
    pub const SNAT: u8 = 0x40;
    /// Destination NAT applied.
    pub const DNAT: u8 = 0x80;

    /// Name of one state bit as Open vSwitch prints it (`ct_state_to_string`).
    pub fn name(bit: u32) -> Option<&'static str> {
        Some(match bit {
            0x01 => "new",
            0x02 => "est",
            0x04 => "rel",
            0x08 => "rpl",
            0x10 => "inv",
            0x20 => "trk",
            0x40 => "snat",
            0x80 => "dnat",
            _ => return None,
        })
    }
}

impl Flow {
    /// The flow as 64-bit words (the masking/hashing view).
    #[inline]
    pub fn words(&self) -> &[u64; FLOW_WORDS] {
        zerocopy::transmute_ref!(self)
    }

    /// Mutable word view.
    #[inline]
    pub fn words_mut(&mut self) -> &mut [u64; FLOW_WORDS] {
        zerocopy::transmute_mut!(self)
    }

    /// Builds a flow from its word view.
    #[inline]
    pub fn from_words(words: [u64; FLOW_WORDS]) -> Flow {
        zerocopy::transmute!(words)
    }

    /// `self & mask`, field by field.
    #[inline]
    pub fn masked(&self, mask: &Wildcards) -> Flow {
        let mut out = *self;
        for (w, m) in out.words_mut().iter_mut().zip(mask.masks.words()) {
            *w &= m;
        }
        out
    }

    /// True if the packet carries at least one VLAN header.
    #[inline]
    pub fn has_vlan(&self) -> bool {
        self.vlans[0].tci & VLAN_CFI != 0
    }

    /// True for IPv4 or IPv6.
    #[inline]
    pub fn is_ip_any(&self) -> bool {
        self.dl_type == ETH_TYPE_IP || self.dl_type == ETH_TYPE_IPV6
    }

    /// True for MPLS unicast or multicast.
    #[inline]
    pub fn is_mpls(&self) -> bool {
        self.dl_type == ETH_TYPE_MPLS || self.dl_type == ETH_TYPE_MPLS_MCAST
    }

    /// True if the packet is an IP non-first fragment (no L4 header present).
    #[inline]
    pub fn is_later_fragment(&self) -> bool {
        self.nw_frag & FRAG_LATER != 0
    }

    /// The ARP opcode (stored in `nw_proto`).
    #[inline]
    pub fn arp_op(&self) -> u8 {
        self.nw_proto
    }

    /// IPv4 source as an address.
    pub fn ipv4_src(&self) -> std::net::Ipv4Addr {
        std::net::Ipv4Addr::from(self.nw_src)
    }

    /// IPv4 destination as an address.
    pub fn ipv4_dst(&self) -> std::net::Ipv4Addr {
        std::net::Ipv4Addr::from(self.nw_dst)
    }
}

/// A mask over a [`Flow`]: a 1 bit means the bit is matched, a 0 bit means wildcarded.
#[repr(transparent)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, IntoBytes, FromBytes, Immutable, KnownLayout,
)]
pub struct Wildcards {
    /// The mask, in flow shape.
    pub masks: Flow,
}

impl Wildcards {
    /// Every bit wildcarded (matches all packets).
    pub fn catchall() -> Wildcards {
        Wildcards::default()
    }

    /// Every meaningful bit exact; padding stays wildcarded.
    pub fn exact() -> Wildcards {
        let mut m = Flow::from_words([u64::MAX; FLOW_WORDS]);
        m.pad0 = 0;
        m.pad1 = 0;
        m.pad2 = 0;
        m.pad3 = 0;
        m.pad4 = 0;
        m.nw_frag = FRAG_MASK;
        m.tcp_flags = tcp_flags::MASK;
        m.ipv6_label = 0x000f_ffff;
        Wildcards { masks: m }
    }

    /// `self |= other` (un-wildcard every bit `other` matches).
    #[inline]
    pub fn union_with(&mut self, other: &Wildcards) {
        for (a, b) in self.masks.words_mut().iter_mut().zip(other.masks.words()) {
            *a |= b;
        }
    }

    /// True if `self` matches some bit that `other` wildcards (i.e. self is not a subset of other).
    #[inline]
    pub fn has_extra(&self, other: &Wildcards) -> bool {
        self.masks
            .words()
            .iter()
            .zip(other.masks.words())
            .fold(0u64, |acc, (a, b)| acc | (a & !b))
            != 0
    }

    /// Bitmap of the words that have at least one mask bit set (bit `i` for word `i`).
    #[inline]
    pub fn word_map(&self) -> u32 {
        self.masks
            .words()
            .iter()
            .enumerate()
            .fold(0u32, |map, (i, w)| map | (u32::from(*w != 0) << i))
    }

    /// True if no bit is matched.
    pub fn is_catchall(&self) -> bool {
        self.word_map() == 0
    }
}

/// 64-bit multiplicative word mixer used for masked hashing.
#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    let x = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// Hash of `flow & mask` over all words, seeded with `basis`.
///
/// Equal masked flows hash equally; the loop has no data-dependent branch.
#[inline]
pub fn hash_masked(flow: &Flow, mask: &Wildcards, basis: u64) -> u64 {
    let h = flow
        .words()
        .iter()
        .zip(mask.masks.words())
        .fold(basis, |h, (f, m)| mix(h, f & m));
    h ^ (h >> 32)
}

/// Hash of `flow & mask` over only the words in `word_map` (see [`Wildcards::word_map`]).
///
/// Equals the hash of the same words of another flow, so a subtable that knows its map can skip
/// the words its mask never touches.
#[inline]
pub fn hash_masked_words(flow: &Flow, mask: &Wildcards, word_map: u32, basis: u64) -> u64 {
    let (f, m) = (flow.words(), mask.masks.words());
    let mut map = word_map;
    let mut h = basis;
    while map != 0 {
        let i = map.trailing_zeros() as usize;
        map &= map - 1;
        h = mix(h, f[i] & m[i]);
    }
    h ^ (h >> 32)
}

/// A (flow, mask) pair with `flow` already masked: the key of a megaflow or an OpenFlow rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Match {
    /// The matched values, with every wildcarded bit zero.
    pub flow: Flow,
    /// The mask.
    pub wc: Wildcards,
}

impl Match {
    /// Builds a match, zeroing the bits of `flow` that `wc` wildcards.
    pub fn new(flow: &Flow, wc: &Wildcards) -> Match {
        Match {
            flow: flow.masked(wc),
            wc: *wc,
        }
    }

    /// A match on every meaningful bit of `flow`.
    pub fn exact(flow: &Flow) -> Match {
        Match::new(flow, &Wildcards::exact())
    }

    /// True if `packet` matches: `packet & mask == flow` on every word, branch-free.
    #[inline]
    pub fn matches(&self, packet: &Flow) -> bool {
        packet
            .words()
            .iter()
            .zip(self.flow.words())
            .zip(self.wc.masks.words())
            .fold(0u64, |acc, ((p, f), m)| acc | ((p & m) ^ f))
            == 0
    }

    /// Hash of the match (of its masked flow and its mask).
    pub fn hash(&self, basis: u64) -> u64 {
        hash_masked(
            &self.flow,
            &self.wc,
            hash_masked(&self.wc.masks, &Wildcards::exact(), basis),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_view_round_trips() {
        let mut f = Flow {
            in_port: 7,
            nw_src: 0x0a00_0001,
            tp_dst: 80,
            ..Flow::default()
        };
        f.dl_src = [1, 2, 3, 4, 5, 6];
        let w = *f.words();
        assert_eq!(Flow::from_words(w), f);
        assert_eq!(f.words().len(), FLOW_WORDS);
    }

    #[test]
    fn masked_match_ignores_wildcarded_bits() {
        let mut wc = Wildcards::default();
        wc.masks.nw_dst = 0xffff_ff00;
        wc.masks.dl_type = 0xffff;
        let rule = Flow {
            dl_type: ETH_TYPE_IP,
            nw_dst: 0x0a00_0005,
            ..Flow::default()
        };
        let m = Match::new(&rule, &wc);
        assert_eq!(m.flow.nw_dst, 0x0a00_0000);
        let pkt = Flow {
            dl_type: ETH_TYPE_IP,
            nw_dst: 0x0a00_00fe,
            tp_src: 9,
            ..Flow::default()
        };
        assert!(m.matches(&pkt));
        let other = Flow {
            dl_type: ETH_TYPE_IP,
            nw_dst: 0x0a00_01fe,
            ..Flow::default()
        };
        assert!(!m.matches(&other));
        assert_eq!(hash_masked(&pkt, &wc, 1), hash_masked(&rule, &wc, 1));
        assert_ne!(hash_masked(&other, &wc, 1), hash_masked(&rule, &wc, 1));
        let map = wc.word_map();
        assert_eq!(
            hash_masked_words(&pkt, &wc, map, 3),
            hash_masked_words(&rule, &wc, map, 3)
        );
    }

    #[test]
    fn has_extra_is_subset_test() {
        let mut narrow = Wildcards::default();
        narrow.masks.nw_dst = 0xffff_ffff;
        let mut wide = Wildcards::default();
        wide.masks.nw_dst = 0xffff_0000;
        assert!(narrow.has_extra(&wide));
        assert!(!wide.has_extra(&narrow));
        let mut u = wide;
        u.union_with(&narrow);
        assert_eq!(u, narrow);
    }

    #[test]
    fn exact_mask_leaves_padding_wildcarded() {
        let e = Wildcards::exact();
        assert_eq!(e.masks.pad0, 0);
        assert_eq!(e.masks.pad4, 0);
        assert_eq!(e.masks.nw_frag, FRAG_MASK);
        assert_eq!(e.masks.in_port, u32::MAX);
    }
}
