//! Where the headers of an extracted frame start, and whether extraction reached its end.
//!
//! # Invariants
//! Every offset in a [`HeaderLayout`] is at most the frame length, and the offsets that are set
//! never decrease in the order MPLS ≤ L3 ≤ L4 ≤ payload. An offset is `None` when that header is
//! absent, was not reached, or starts beyond `u16::MAX` (which only a frame longer than 64 KiB can
//! cause).

/// A header the extractor knows, named in [`ExtractStatus`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderKind {
    /// The 14-byte Ethernet header (a shorter frame is a runt).
    Ethernet,
    /// An 802.1Q/802.1ad tag.
    Vlan,
    /// The MPLS label stack.
    Mpls,
    /// The IPv4 header, or the IPv4 packet as announced by its total length.
    Ipv4,
    /// The IPv6 fixed header, or the IPv6 packet as announced by its payload length.
    Ipv6,
    /// An IPv6 extension header (hop-by-hop, routing, destination options, AH, fragment).
    Ipv6Extension,
    /// An ARP/RARP packet.
    Arp,
    /// The TCP header.
    Tcp,
    /// The UDP header.
    Udp,
    /// The SCTP common header.
    Sctp,
    /// The ICMPv4 header.
    Icmp,
    /// The IGMP header.
    Igmp,
    /// The ICMPv6 header, or the target address of a neighbor discovery message.
    Icmpv6,
    /// An option of an IPv6 neighbor discovery message.
    NdOption,
}

/// How far extraction got.
///
/// Extraction never fails: a frame that ends early or has an impossible header yields the flow
/// fields read before that header (exactly those Open vSwitch would have), and this status says
/// which header stopped it. The datapath uses it to count bad packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtractStatus {
    /// Every header the flow key covers was present and consistent.
    Complete,
    /// The frame (or the IP packet, bounded by its length field) ended inside this header.
    Truncated(HeaderKind),
    /// This header has a length or content that cannot be right (e.g. an IPv4 IHL below 5).
    Malformed(HeaderKind),
}

impl ExtractStatus {
    /// True for [`ExtractStatus::Complete`].
    pub fn is_complete(&self) -> bool {
        *self == ExtractStatus::Complete
    }

    /// True for an Ethernet frame shorter than 14 bytes, whose flow carries only metadata.
    pub fn is_runt(&self) -> bool {
        *self == ExtractStatus::Truncated(HeaderKind::Ethernet)
    }
}

/// Byte offsets of the headers of one frame, as found by extraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeaderLayout {
    /// Start of the MPLS label stack, if the frame is MPLS.
    pub mpls_offset: Option<u16>,
    /// Start of the L3 header: just past the Ethernet header, VLAN tags, LLC/SNAP header or MPLS
    /// label stack, whatever the ethertype. `None` only for a runt.
    pub l3_offset: Option<u16>,
    /// Start of the L4 header: just past the IPv4 header or the IPv6 header and its extension
    /// headers, when that IP header was valid. Also set for fragments and unknown IP protocols.
    pub l4_offset: Option<u16>,
    /// First byte after the L4 header (TCP with options, UDP, SCTP common header, the 8 fixed
    /// bytes of ICMP/IGMP/ICMPv6), when that header was complete and its fields were extracted.
    pub payload_offset: Option<u16>,
    /// Bytes after the end of the IP packet (as its length field says): Ethernet padding.
    pub l2_pad_len: u16,
    /// How far extraction got.
    pub status: ExtractStatus,
}

impl Default for HeaderLayout {
    fn default() -> Self {
        HeaderLayout {
            mpls_offset: None,
            l3_offset: None,
            l4_offset: None,
            payload_offset: None,
            l2_pad_len: 0,
            status: ExtractStatus::Complete,
        }
    }
}

/// `pos` as a layout offset, or `None` if it does not fit in 16 bits.
#[inline]
pub(super) fn offset(pos: usize) -> Option<u16> {
    u16::try_from(pos).ok()
}
