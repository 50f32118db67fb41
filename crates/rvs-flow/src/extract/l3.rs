//! Network layer: IPv4, IPv6 with its extension headers, and ARP/RARP.
//!
//! # Invariants
//! An IP header either passes every sanity check, and then all its flow fields are written, the
//! cursor stops at the L4 header and is limited to the IP packet (link padding dropped), or it
//! fails one and extraction stops with only the fields Open vSwitch would have kept: none for
//! IPv4, the two addresses for IPv6 when an extension header is cut short.

use super::layout::{ExtractStatus, HeaderKind};
use super::wire::{ArpEthIpv4, Ipv4, Ipv6, Ipv6Ext};
use super::{Parser, Step};
use crate::flow::{ETH_TYPE_IP, FRAG_ANY, FRAG_LATER, ipproto};

/// Length of an IPv4 header without options.
const IPV4_MIN_HEADER_LEN: usize = 20;
/// IPv4 `frag_off` bit: more fragments follow.
const IPV4_MORE_FRAGMENTS: u16 = 0x2000;
/// IPv4 `frag_off` bits: fragment offset.
const IPV4_FRAG_OFFSET_MASK: u16 = 0x1fff;
/// IPv6 fragment header: fragment offset bits of the offset/flags word.
const IPV6_FRAG_OFFSET_MASK: u16 = 0xfff8;
/// IPv6 flow label bits of the first header word.
const IPV6_LABEL_MASK: u32 = 0x000f_ffff;
/// ARP hardware type of Ethernet.
const ARP_HRD_ETHERNET: u16 = 1;

/// `Malformed(header)` as an early return.
fn malformed<T>(header: HeaderKind) -> Step<T> {
    Err(ExtractStatus::Malformed(header))
}

/// `Truncated(header)` as an early return.
fn truncated<T>(header: HeaderKind) -> Step<T> {
    Err(ExtractStatus::Truncated(header))
}

impl Parser<'_, '_> {
    /// Parses an IPv4 header (options skipped), writing `nw_src`, `nw_dst`, `nw_tos`, `nw_ttl`,
    /// `nw_proto` and `nw_frag`.
    ///
    /// Checks, in Open vSwitch's order: 20 bytes present; IHL ≥ 5 (else malformed); the whole
    /// header present; total length ≤ the bytes present (else truncated) and ≥ the header length
    /// (else malformed); at most 65535 bytes of padding after it (else malformed).
    #[inline]
    pub(super) fn ipv4(&mut self) -> Step<()> {
        let Some(ip) = self.cur.peek::<Ipv4>() else {
            return truncated(HeaderKind::Ipv4);
        };
        let header_len = usize::from(ip.version_ihl & 0x0f) * 4;
        if header_len < IPV4_MIN_HEADER_LEN {
            return malformed(HeaderKind::Ipv4);
        }
        let available = self.cur.remaining();
        if available < header_len {
            return truncated(HeaderKind::Ipv4);
        }
        let total_len = usize::from(ip.total_len.get());
        if total_len > available {
            return truncated(HeaderKind::Ipv4);
        }
        if header_len > total_len {
            return malformed(HeaderKind::Ipv4);
        }
        let Ok(pad) = u16::try_from(available - total_len) else {
            return malformed(HeaderKind::Ipv4);
        };
        self.layout.l2_pad_len = pad;
        self.cur.limit(total_len);

        let flow = &mut self.flow;
        flow.nw_src = u32::from_be_bytes(ip.src);
        flow.nw_dst = u32::from_be_bytes(ip.dst);
        flow.nw_tos = ip.tos;
        flow.nw_ttl = ip.ttl;
        flow.nw_proto = ip.proto;
        let frag_off = ip.frag_off.get();
        flow.nw_frag = if frag_off & (IPV4_MORE_FRAGMENTS | IPV4_FRAG_OFFSET_MASK) == 0 {
            0
        } else if frag_off & IPV4_FRAG_OFFSET_MASK == 0 {
            FRAG_ANY
        } else {
            FRAG_ANY | FRAG_LATER
        };
        self.cur.skip(header_len);
        Ok(())
    }

    /// Parses an IPv6 header and its extension headers, writing the addresses, then (only if
    /// the extension headers are intact) `ipv6_label`, `nw_tos`, `nw_ttl`, `nw_proto`, `nw_frag`.
    ///
    /// The payload length must fit in the frame (else truncated), with at most 65535 bytes of
    /// padding after it (else malformed).
    #[inline]
    pub(super) fn ipv6(&mut self) -> Step<()> {
        let Some(ip) = self.cur.pull::<Ipv6>() else {
            return truncated(HeaderKind::Ipv6);
        };
        let payload_len = usize::from(ip.payload_len.get());
        let available = self.cur.remaining();
        if payload_len > available {
            return truncated(HeaderKind::Ipv6);
        }
        let Ok(pad) = u16::try_from(available - payload_len) else {
            return malformed(HeaderKind::Ipv6);
        };
        self.layout.l2_pad_len = pad;
        self.cur.limit(payload_len);
        self.flow.ipv6_src = ip.src;
        self.flow.ipv6_dst = ip.dst;

        let (nw_proto, nw_frag) = self.ipv6_extensions(ip.next_header)?;
        let first_word = ip.version_class_label.get();
        let flow = &mut self.flow;
        flow.ipv6_label = first_word & IPV6_LABEL_MASK;
        flow.nw_tos = (first_word >> 20) as u8;
        flow.nw_ttl = ip.hop_limit;
        flow.nw_proto = nw_proto;
        flow.nw_frag = nw_frag;
        Ok(())
    }

    /// Walks hop-by-hop, routing, destination options, AH and fragment headers starting with
    /// `next_header`; returns the final next-header value and the fragment bits.
    ///
    /// A non-first fragment stops the walk at its fragment header and reports protocol 44
    /// (fragment), as Open vSwitch does. Every extension header must have 8 bytes and its whole
    /// announced length inside the IPv6 payload, else `Truncated(Ipv6Extension)`.
    #[inline]
    fn ipv6_extensions(&mut self, mut next_header: u8) -> Step<(u8, u8)> {
        let mut nw_frag = 0;
        loop {
            if !matches!(
                next_header,
                ipproto::HOPOPTS
                    | ipproto::ROUTING
                    | ipproto::DSTOPTS
                    | ipproto::AH
                    | ipproto::FRAGMENT
            ) {
                return Ok((next_header, nw_frag));
            }
            let Some(ext) = self.cur.peek::<Ipv6Ext>() else {
                return truncated(HeaderKind::Ipv6Extension);
            };
            let len = match next_header {
                ipproto::AH => (usize::from(ext.len) + 2) * 4,
                ipproto::FRAGMENT => {
                    let offset_flags = ext.word.get();
                    if offset_flags != 0 {
                        nw_frag = FRAG_ANY;
                        if offset_flags & IPV6_FRAG_OFFSET_MASK != 0 {
                            self.cur.skip(size_of::<Ipv6Ext>());
                            return Ok((ipproto::FRAGMENT, FRAG_ANY | FRAG_LATER));
                        }
                    }
                    size_of::<Ipv6Ext>()
                }
                _ => (usize::from(ext.len) + 1) * 8,
            };
            if !self.cur.skip(len) {
                return truncated(HeaderKind::Ipv6Extension);
            }
            next_header = ext.next_header;
        }
    }

    /// Parses an ARP/RARP packet for Ethernet and IPv4 addresses: SPA/TPA into `nw_src`/`nw_dst`,
    /// the opcode into `nw_proto` only if it fits in 8 bits, SHA/THA into `arp_sha`/`arp_tha`.
    /// Other hardware or protocol types are valid ARP but leave every field zero.
    #[inline]
    pub(super) fn arp(&mut self) -> Step<()> {
        let Some(arp) = self.cur.pull::<ArpEthIpv4>() else {
            return truncated(HeaderKind::Arp);
        };
        if arp.hardware.get() != ARP_HRD_ETHERNET
            || arp.protocol.get() != ETH_TYPE_IP
            || arp.hardware_len != 6
            || arp.protocol_len != 4
        {
            return Ok(());
        }
        let flow = &mut self.flow;
        flow.nw_src = u32::from_be_bytes(arp.spa);
        flow.nw_dst = u32::from_be_bytes(arp.tpa);
        if let Ok(op) = u8::try_from(arp.op.get()) {
            flow.nw_proto = op;
        }
        flow.arp_sha = arp.sha;
        flow.arp_tha = arp.tha;
        Ok(())
    }
}
