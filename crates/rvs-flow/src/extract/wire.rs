//! Fixed-size wire layouts of the headers the extractor reads, as zero-copy views.
//!
//! # Invariants
//! Every type here is `Unaligned`, `FromBytes` and `Immutable`, so a view of one is obtained from any
//! byte slice that is long enough, at any alignment, with a single length check and no copy.
//! Multi-byte integers are network order (`U16`/`U32`); `.get()` yields host order.

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// Ethernet II / 802.3 header up to (not including) the type or length field.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct EthAddrs {
    pub(super) dst: [u8; 6],
    pub(super) src: [u8; 6],
}

/// An 802.1Q/802.1ad tag followed by the next type field, which must be present for the tag to count.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct VlanTagAndType {
    pub(super) tpid: U16,
    pub(super) tci: U16,
    pub(super) next_type: U16,
}

/// 802.2 LLC header followed by a SNAP header.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct LlcSnap {
    pub(super) dsap: u8,
    pub(super) ssap: u8,
    pub(super) control: u8,
    pub(super) oui: [u8; 3],
    pub(super) ethertype: U16,
}

/// IPv4 header without options.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct Ipv4 {
    pub(super) version_ihl: u8,
    pub(super) tos: u8,
    pub(super) total_len: U16,
    pub(super) id: U16,
    pub(super) frag_off: U16,
    pub(super) ttl: u8,
    pub(super) proto: u8,
    pub(super) checksum: U16,
    pub(super) src: [u8; 4],
    pub(super) dst: [u8; 4],
}

/// IPv6 fixed header.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct Ipv6 {
    pub(super) version_class_label: U32,
    pub(super) payload_len: U16,
    pub(super) next_header: u8,
    pub(super) hop_limit: u8,
    pub(super) src: [u8; 16],
    pub(super) dst: [u8; 16],
}

/// The first 8 bytes of any IPv6 extension header (all are at least this long).
///
/// For hop-by-hop, routing and destination options `len` counts 8-byte units beyond the first;
/// for AH it counts 4-byte units minus 2. In a fragment header `len` is reserved and `word` holds
/// the offset/flags field.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct Ipv6Ext {
    pub(super) next_header: u8,
    pub(super) len: u8,
    pub(super) word: U16,
    pub(super) rest: [u8; 4],
}

/// ARP for Ethernet hardware addresses and IPv4 protocol addresses.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct ArpEthIpv4 {
    pub(super) hardware: U16,
    pub(super) protocol: U16,
    pub(super) hardware_len: u8,
    pub(super) protocol_len: u8,
    pub(super) op: U16,
    pub(super) sha: [u8; 6],
    pub(super) spa: [u8; 4],
    pub(super) tha: [u8; 6],
    pub(super) tpa: [u8; 4],
}

/// TCP header without options.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct Tcp {
    pub(super) src: U16,
    pub(super) dst: U16,
    pub(super) seq: U32,
    pub(super) ack: U32,
    /// Data offset (4 bits), reserved (3 bits), flags (9 bits).
    pub(super) offset_flags: U16,
    pub(super) window: U16,
    pub(super) checksum: U16,
    pub(super) urgent: U16,
}

/// The two port fields that start UDP and SCTP headers, padded to the protocol's header length `N - 4`.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct Ports<const REST: usize> {
    pub(super) src: U16,
    pub(super) dst: U16,
    pub(super) rest: [u8; REST],
}

/// The 8-byte fixed part of an ICMP, IGMP or ICMPv6 message.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct IcmpFixed {
    pub(super) msg_type: u8,
    pub(super) code: u8,
    pub(super) checksum: U16,
    pub(super) data: [u8; 4],
}

/// An IPv6 neighbor discovery option as long as a link-layer address option for Ethernet.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct NdOption {
    pub(super) opt_type: u8,
    /// Length in units of 8 bytes, including the type and length bytes.
    pub(super) len: u8,
    pub(super) mac: [u8; 6],
}
