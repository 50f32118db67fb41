//! Flow → frame: Open vSwitch's `flow_compose` and `packet_expand` (lib/flow.c, v3.1), byte for
//! byte, on a plain `Vec<u8>`.
//!
//! # Invariants
//! * Never panics: every header is appended or written through checked slices; offsets are
//!   remembered as the frame grows, so later fixes (lengths, checksums) land where the header is.
//! * The frame has no headroom games: VLAN tags are inserted after the two MAC addresses, MPLS
//!   entries after the L2 headers, exactly where OVS's `eth_push_vlan`/`push_mpls` put them.
//! * What OVS leaves zero stays zero (IP id, TCP sequence numbers, ICMP rest-of-header, ND
//!   flags); SCTP gets no checksum, as in OVS.

use super::checksum::{Sum, checksum};
use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_NONE,
    ETH_TYPE_RARP, FRAG_ANY, FRAG_LATER, Flow, MPLS_BOS_MASK, VLAN_CFI, ipproto, tcp_flags,
};

/// ICMPv4 echo reply / request types (the only ones that get a payload).
const ICMP4_ECHO_REPLY: u8 = 0;
const ICMP4_ECHO_REQUEST: u8 = 8;
/// ICMPv6 echo request / reply and ND solicitation / advertisement types.
const ICMP6_ECHO_REQUEST: u8 = 128;
const ICMP6_ECHO_REPLY: u8 = 129;
const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;
/// ND option types for source and target link-layer addresses.
const ND_OPT_SOURCE_LINKADDR: u8 = 1;
const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// IPv4 "more fragments" flag and the offset OVS uses for a later fragment (in 8-byte units).
const IP_MORE_FRAGMENTS: u16 = 0x2000;
const LATER_FRAGMENT_OFFSET: u16 = 100;
/// Where the checksum sits inside each L4 header.
const TCP_CSUM_AT: usize = 16;
const UDP_CSUM_AT: usize = 6;
const ICMP_CSUM_AT: usize = 2;

/// A frame being composed, with the offsets OVS keeps in its `dp_packet`.
pub(super) struct Composed {
    /// The frame bytes.
    pub(super) bytes: Vec<u8>,
    /// Start of the L3 header (after Ethernet, VLAN and MPLS headers).
    l3_ofs: usize,
    /// Start of the L4 header, for IP frames.
    l4_ofs: Option<usize>,
}

impl Composed {
    fn put(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }

    fn put_zeros(&mut self, n: usize) {
        self.bytes.resize(self.bytes.len() + n, 0);
    }

    fn write(&mut self, at: usize, data: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(at..at + data.len()) {
            dst.copy_from_slice(data);
        }
    }

    fn write16(&mut self, at: usize, value: u16) {
        self.write(at, &value.to_be_bytes());
    }

    fn slice(&self, from: usize) -> &[u8] {
        self.bytes.get(from..).unwrap_or(&[])
    }

    fn range(&self, from: usize, len: usize) -> &[u8] {
        self.bytes.get(from..from + len).unwrap_or(&[])
    }
}

/// Whether OVS composes (and checksums) an L4 header: not for non-first fragments.
fn has_l4(flow: &Flow) -> bool {
    flow.nw_frag & FRAG_ANY == 0 || flow.nw_frag & FRAG_LATER == 0
}

/// OVS's `flow_compose(p, flow, NULL, l7_len)`: the frame whose extracted flow is `flow`, with an
/// `l7_len`-byte payload `00 01 02 ...` where the L4 protocol carries one.
pub(super) fn compose(flow: &Flow, l7_len: usize) -> Composed {
    let mut p = Composed {
        bytes: Vec::with_capacity(64 + l7_len),
        l3_ofs: 14,
        l4_ofs: None,
    };
    p.put(&flow.dl_dst);
    p.put(&flow.dl_src);
    p.put(&flow.dl_type.to_be_bytes());
    if flow.dl_type == ETH_TYPE_NONE {
        // An 802.3 frame: the type field becomes the frame length.
        let len = p.bytes.len() as u16;
        p.write16(12, len);
        return p;
    }

    // Inner tag first, each inserted right after the MAC addresses, so the outer ends up first.
    for vlan in flow.vlans.iter().rev() {
        if vlan.tci & VLAN_CFI != 0 {
            let mut tag = [0u8; 4];
            tag[..2].copy_from_slice(&vlan.tpid.to_be_bytes());
            tag[2..].copy_from_slice(&(vlan.tci & !VLAN_CFI).to_be_bytes());
            p.bytes.splice(12..12, tag);
        }
    }
    p.l3_ofs = p.bytes.len();

    match flow.dl_type {
        ETH_TYPE_IP => compose_ipv4(&mut p, flow, l7_len),
        ETH_TYPE_IPV6 => compose_ipv6(&mut p, flow, l7_len),
        ETH_TYPE_ARP | ETH_TYPE_RARP => compose_arp(&mut p, flow),
        ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST => compose_mpls(&mut p, flow),
        _ => {}
    }
    p
}

fn compose_ipv4(p: &mut Composed, flow: &Flow, l7_len: usize) {
    let l3 = p.l3_ofs;
    let mut frag_off = 0u16;
    if flow.nw_frag & FRAG_ANY != 0 {
        frag_off |= IP_MORE_FRAGMENTS;
        if flow.nw_frag & FRAG_LATER != 0 {
            frag_off |= LATER_FRAGMENT_OFFSET;
        }
    }
    let mut header = [0u8; 20];
    header[0] = 0x45;
    header[1] = flow.nw_tos;
    header[6..8].copy_from_slice(&frag_off.to_be_bytes());
    header[8] = flow.nw_ttl;
    header[9] = flow.nw_proto;
    header[12..16].copy_from_slice(&flow.nw_src.to_be_bytes());
    header[16..20].copy_from_slice(&flow.nw_dst.to_be_bytes());
    p.put(&header);
    let l4 = p.bytes.len();
    p.l4_ofs = Some(l4);
    compose_l4(p, flow, l7_len);
    finish_ipv4(p, flow, l3, l4);
}

/// Sets the IPv4 total length and header checksum, then the L4 checksum.
fn finish_ipv4(p: &mut Composed, flow: &Flow, l3: usize, l4: usize) {
    let tot_len = (p.bytes.len() - l3) as u16;
    p.write16(l3 + 2, tot_len);
    p.write16(l3 + 10, 0);
    let csum = checksum(p.range(l3, 20));
    p.write16(l3 + 10, csum);
    // OVS's pseudo-header length is tot_len minus the header length.
    let pseudo = Sum::default()
        .add32(flow.nw_src)
        .add32(flow.nw_dst)
        .add16(u16::from(flow.nw_proto))
        .add16(tot_len.wrapping_sub(20));
    compose_l4_csum(p, flow, l4, pseudo);
}

fn compose_ipv6(p: &mut Composed, flow: &Flow, l7_len: usize) {
    let l3 = p.l3_ofs;
    let first_word = (6u32 << 28) | (u32::from(flow.nw_tos) << 20) | flow.ipv6_label;
    let mut header = [0u8; 40];
    header[0..4].copy_from_slice(&first_word.to_be_bytes());
    header[6] = flow.nw_proto;
    header[7] = flow.nw_ttl;
    header[8..24].copy_from_slice(&flow.ipv6_src);
    header[24..40].copy_from_slice(&flow.ipv6_dst);
    p.put(&header);
    let l4 = p.bytes.len();
    p.l4_ofs = Some(l4);
    compose_l4(p, flow, l7_len);
    finish_ipv6(p, flow, l3, l4);
}

/// Sets the IPv6 payload length, then the L4 checksum.
fn finish_ipv6(p: &mut Composed, flow: &Flow, l3: usize, l4: usize) {
    let plen = (p.bytes.len() - l4) as u16;
    p.write16(l3 + 4, plen);
    let pseudo = Sum::default()
        .add_bytes(&flow.ipv6_src)
        .add_bytes(&flow.ipv6_dst)
        .add16(u16::from(flow.nw_proto))
        .add16(plen);
    compose_l4_csum(p, flow, l4, pseudo);
}

fn compose_arp(p: &mut Composed, flow: &Flow) {
    let mut arp = [0u8; 28];
    arp[0..2].copy_from_slice(&1u16.to_be_bytes());
    arp[2..4].copy_from_slice(&ETH_TYPE_IP.to_be_bytes());
    arp[4] = 6;
    arp[5] = 4;
    arp[6..8].copy_from_slice(&u16::from(flow.nw_proto).to_be_bytes());
    if flow.nw_proto == 1 || flow.nw_proto == 2 {
        arp[8..14].copy_from_slice(&flow.arp_sha);
        arp[14..18].copy_from_slice(&flow.nw_src.to_be_bytes());
        arp[18..24].copy_from_slice(&flow.arp_tha);
        arp[24..28].copy_from_slice(&flow.nw_dst.to_be_bytes());
    }
    p.put(&arp);
}

/// OVS pushes entries up to the first bottom-of-stack one among its three; our flow holds one
/// entry (the others read as zero), so an entry without BoS is followed by two zero entries.
fn compose_mpls(p: &mut Composed, flow: &Flow) {
    p.put(&flow.mpls_lse.to_be_bytes());
    if flow.mpls_lse & MPLS_BOS_MASK == 0 {
        p.put_zeros(8);
    }
}

/// Appends the L4 header (and payload) OVS's `flow_compose_l4` writes.
fn compose_l4(p: &mut Composed, flow: &Flow, l7_len: usize) {
    if !has_l4(flow) {
        return;
    }
    let start = p.bytes.len();
    match flow.nw_proto {
        ipproto::TCP => {
            p.put_zeros(20);
            p.write16(start, flow.tp_src);
            p.write16(start + 2, flow.tp_dst);
            p.write16(start + 12, flow.tcp_flags | (5 << 12));
            let no_data = tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST;
            if flow.tcp_flags & no_data == 0 {
                put_payload(p, l7_len);
            }
        }
        ipproto::UDP => {
            p.put_zeros(8);
            p.write16(start, flow.tp_src);
            p.write16(start + 2, flow.tp_dst);
            p.write16(start + 4, (8 + l7_len) as u16);
            put_payload(p, l7_len);
        }
        ipproto::SCTP => {
            p.put_zeros(12);
            p.write16(start, flow.tp_src);
            p.write16(start + 2, flow.tp_dst);
        }
        ipproto::ICMP => {
            let (kind, code) = (flow.tp_src as u8, flow.tp_dst as u8);
            p.put(&[kind, code, 0, 0, 0, 0, 0, 0]);
            if code == 0 && (kind == ICMP4_ECHO_REQUEST || kind == ICMP4_ECHO_REPLY) {
                put_payload(p, l7_len);
            }
        }
        ipproto::IGMP => {
            // The group address has no field in our flow: it stays zero.
            p.put(&[flow.tp_src as u8, flow.tp_dst as u8, 0, 0, 0, 0, 0, 0]);
        }
        ipproto::ICMPV6 => compose_icmpv6(p, flow, l7_len),
        _ => {}
    }
}

fn compose_icmpv6(p: &mut Composed, flow: &Flow, l7_len: usize) {
    let (kind, code) = (flow.tp_src as u8, flow.tp_dst as u8);
    // The 4 data bytes (ND flags/reserved) have no field in our flow: they stay zero.
    p.put(&[kind, code, 0, 0, 0, 0, 0, 0]);
    if code == 0 && (kind == ND_NEIGHBOR_SOLICIT || kind == ND_NEIGHBOR_ADVERT) {
        p.put(&flow.nd_target);
        for (opt_type, mac) in [
            (ND_OPT_SOURCE_LINKADDR, &flow.arp_sha),
            (ND_OPT_TARGET_LINKADDR, &flow.arp_tha),
        ] {
            if *mac != [0u8; 6] {
                p.put(&[opt_type, 1]);
                p.put(mac);
            }
        }
    } else if code == 0 && (kind == ICMP6_ECHO_REQUEST || kind == ICMP6_ECHO_REPLY) {
        put_payload(p, l7_len);
    }
}

/// OVS's arbitrary payload: bytes 0, 1, 2, ... (wrapping at 256).
fn put_payload(p: &mut Composed, len: usize) {
    p.bytes.extend((0..len).map(|i| i as u8));
}

/// OVS's `flow_compose_l4_csum`: the L4 checksum over everything from `l4` to the end.
fn compose_l4_csum(p: &mut Composed, flow: &Flow, l4: usize, pseudo: Sum) {
    if !has_l4(flow) {
        return;
    }
    let (at, with_pseudo) = match flow.nw_proto {
        ipproto::TCP => (TCP_CSUM_AT, true),
        ipproto::UDP => (UDP_CSUM_AT, true),
        ipproto::ICMP | ipproto::IGMP => (ICMP_CSUM_AT, false),
        ipproto::ICMPV6 => (ICMP_CSUM_AT, true),
        _ => return,
    };
    p.write16(l4 + at, 0);
    let base = if with_pseudo { pseudo } else { Sum::default() };
    let mut csum = base.add_bytes(p.slice(l4)).finish();
    if flow.nw_proto == ipproto::UDP && csum == 0 {
        csum = 0xffff;
    }
    p.write16(l4 + at, csum);
}

/// OVS's `packet_expand`: pads the composed frame with zeros to `size` bytes (which must be larger)
/// and fixes the lengths and checksums, including OVS's UDP length, which counts the padding twice.
pub(super) fn expand(p: &mut Composed, flow: &Flow, size: usize) {
    let Some(extra) = size.checked_sub(p.bytes.len()) else {
        return;
    };
    p.put_zeros(extra);
    if flow.dl_type == ETH_TYPE_NONE {
        let len = p.bytes.len() as u16;
        p.write16(12, len);
        return;
    }
    if flow.dl_type != ETH_TYPE_IP && flow.dl_type != ETH_TYPE_IPV6 {
        return;
    }
    let Some(l4) = p.l4_ofs else {
        return;
    };
    let l3 = p.l3_ofs;
    let l4_len = p.bytes.len() - l4;
    if has_l4(flow) && flow.nw_proto == ipproto::UDP {
        p.write16(l4 + 4, (l4_len + extra) as u16);
    }
    if flow.dl_type == ETH_TYPE_IP {
        finish_ipv4(p, flow, l3, l4);
    } else {
        finish_ipv6(p, flow, l3, l4);
    }
}
