//! `set` and masked `set` actions: write the fields of one key attribute into the packet (or its
//! metadata), keeping every checksum that covers them right.
//!
//! # Invariants
//! * A write happens only if the packet really carries the header (checked against the extracted
//!   Ethertype, IP protocol, fragment bits and layout) and every byte written is inside the frame;
//!   otherwise nothing is written and the outcome is [`Outcome::Skipped`].
//! * Masked semantics everywhere: `new = (old & !mask) | (value & mask)`; an unmasked `set` arrives
//!   here with an all-ones mask.
//! * Checksums are updated incrementally (see `csum.rs`), so a packet whose checksum was wrong stays
//!   exactly as wrong.

use rvs_flow::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, FRAG_LATER, ipproto,
};
use rvs_flow::odp::KeyAttrKind;
use rvs_flow::{Flow, Wildcards};

use super::csum::{crc32c, get16, get32, put16, put32, update_bytes, update16, update32};
use super::{ExecPacket, Headers};

/// What a `set` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Written (possibly with no bit changed).
    Done,
    /// The packet lacks the header or is too short: nothing written.
    Skipped,
    /// The attribute has no writable field.
    Unsupported,
}

use Outcome::{Done, Skipped, Unsupported};

/// Masked merge of one value.
#[inline]
fn merge<T>(old: T, value: T, mask: T) -> T
where
    T: std::ops::BitAnd<Output = T>
        + std::ops::BitOr<Output = T>
        + std::ops::Not<Output = T>
        + Copy,
{
    (old & !mask) | (value & mask)
}

/// Masked merge of a byte string into `dst`.
#[inline]
fn merge_bytes(dst: &mut [u8], value: &[u8], mask: &[u8]) {
    for ((d, v), m) in dst.iter_mut().zip(value).zip(mask) {
        *d = merge(*d, *v, *m);
    }
}

/// Applies `set(kind(value/mask))` to `pkt`, whose current headers are `headers` (`None` for a
/// frame too short to have any).
pub(super) fn apply(
    pkt: &mut ExecPacket,
    headers: Option<&Headers>,
    kind: KeyAttrKind,
    v: &Flow,
    m: &Wildcards,
) -> Outcome {
    let m = &m.masks;
    let md = &mut pkt.md;
    match kind {
        KeyAttrKind::SkbPriority => {
            md.skb_priority = merge(md.skb_priority, v.skb_priority, m.skb_priority)
        }
        KeyAttrKind::SkbMark => md.skb_mark = merge(md.skb_mark, v.skb_mark, m.skb_mark),
        KeyAttrKind::CtState => md.ct_state = merge(md.ct_state, v.ct_state, m.ct_state),
        KeyAttrKind::CtZone => md.ct_zone = merge(md.ct_zone, v.ct_zone, m.ct_zone),
        KeyAttrKind::CtMark => md.ct_mark = merge(md.ct_mark, v.ct_mark, m.ct_mark),
        KeyAttrKind::CtLabel => merge_bytes(&mut md.ct_label, &v.ct_label, &m.ct_label),
        KeyAttrKind::DpHash => md.dp_hash = merge(md.dp_hash, v.dp_hash, m.dp_hash),
        KeyAttrKind::RecircId => md.recirc_id = merge(md.recirc_id, v.recirc_id, m.recirc_id),
        KeyAttrKind::Eth => return set_eth(pkt.packet.data_mut(), v, m),
        KeyAttrKind::Ipv4 => {
            return headers.map_or(Skipped, |h| set_ipv4(pkt.packet.data_mut(), h, v, m));
        }
        KeyAttrKind::Ipv6 => {
            return headers.map_or(Skipped, |h| set_ipv6(pkt.packet.data_mut(), h, v, m));
        }
        KeyAttrKind::Tcp | KeyAttrKind::Udp | KeyAttrKind::Sctp => {
            return headers.map_or(Skipped, |h| set_ports(pkt.packet.data_mut(), h, kind, v, m));
        }
        KeyAttrKind::Icmp | KeyAttrKind::Icmpv6 => {
            return headers.map_or(Skipped, |h| set_icmp(pkt.packet.data_mut(), h, kind, v, m));
        }
        KeyAttrKind::Arp => {
            return headers.map_or(Skipped, |h| set_arp(pkt.packet.data_mut(), h, v, m));
        }
        KeyAttrKind::Nd => {
            return headers.map_or(Skipped, |h| set_nd(pkt.packet.data_mut(), h, v, m));
        }
        KeyAttrKind::Mpls => {
            return headers.map_or(Skipped, |h| set_mpls(pkt.packet.data_mut(), h, v, m));
        }
        KeyAttrKind::InPort
        | KeyAttrKind::PacketType
        | KeyAttrKind::Vlan
        | KeyAttrKind::EthType
        | KeyAttrKind::Encap
        | KeyAttrKind::TcpFlags => return Unsupported,
    }
    Done
}

fn set_eth(d: &mut [u8], v: &Flow, m: &Flow) -> Outcome {
    let Some(macs) = d.get_mut(..12) else {
        return Skipped;
    };
    let (dst, src) = macs.split_at_mut(6);
    merge_bytes(dst, &v.dl_dst, &m.dl_dst);
    merge_bytes(src, &v.dl_src, &m.dl_src);
    Done
}

/// Offset of the L4 header if the packet has a (first-fragment or unfragmented) L4 header of
/// protocol `proto` under IP.
fn l4_of(h: &Headers, proto: u8) -> Option<usize> {
    let ip = h.dl_type == ETH_TYPE_IP || h.dl_type == ETH_TYPE_IPV6;
    (ip && h.nw_proto == proto && h.nw_frag & FRAG_LATER == 0)
        .then_some(h.layout.l4_offset)
        .flatten()
        .map(usize::from)
}

/// Where the checksum that covers the IP pseudo-header lives, and whether it is UDP's (0 = none).
fn pseudo_header_csum(h: &Headers) -> Option<(usize, bool)> {
    if h.nw_frag & FRAG_LATER != 0 {
        return None;
    }
    let l4 = usize::from(h.layout.l4_offset?);
    match h.nw_proto {
        ipproto::TCP => Some((l4 + 16, false)),
        ipproto::UDP => Some((l4 + 6, true)),
        ipproto::ICMPV6 if h.dl_type == ETH_TYPE_IPV6 => Some((l4 + 2, false)),
        _ => None,
    }
}

/// Updates the L4 checksum at `at` with `f`; a zero UDP checksum (none) stays zero, and a UDP
/// checksum that becomes zero is written as 0xffff.
fn fix_l4_csum(d: &mut [u8], at: Option<(usize, bool)>, f: impl FnOnce(u16) -> u16) {
    let Some((off, udp)) = at else { return };
    let Some(old) = get16(d, off) else { return };
    if udp && old == 0 {
        return;
    }
    let mut new = f(old);
    if udp && new == 0 {
        new = 0xffff;
    }
    put16(d, off, new);
}

fn set_ipv4(d: &mut [u8], h: &Headers, v: &Flow, m: &Flow) -> Outcome {
    // The IPv4 header was valid (extraction reached L4) and is all there.
    let (Some(l3), Some(_)) = (h.layout.l3_offset, h.layout.l4_offset) else {
        return Skipped;
    };
    let l3 = usize::from(l3);
    if h.dl_type != ETH_TYPE_IP || d.len() < l3 + 20 {
        return Skipped;
    }
    let Some(mut csum) = get16(d, l3 + 10) else {
        return Skipped;
    };
    let l4_csum = pseudo_header_csum(h);
    // TOS (with the version/IHL byte: one 16-bit word).
    let (vihl, tos) = (d[l3], d[l3 + 1]);
    let new_tos = merge(tos, v.nw_tos, m.nw_tos);
    if new_tos != tos {
        csum = update16(
            csum,
            u16::from_be_bytes([vihl, tos]),
            u16::from_be_bytes([vihl, new_tos]),
        );
        d[l3 + 1] = new_tos;
    }
    // TTL (with the protocol byte).
    let (ttl, proto) = (d[l3 + 8], d[l3 + 9]);
    let new_ttl = merge(ttl, v.nw_ttl, m.nw_ttl);
    if new_ttl != ttl {
        csum = update16(
            csum,
            u16::from_be_bytes([ttl, proto]),
            u16::from_be_bytes([new_ttl, proto]),
        );
        d[l3 + 8] = new_ttl;
    }
    // Addresses: in the header checksum and in the L4 pseudo-header.
    for (off, value, mask) in [(l3 + 12, v.nw_src, m.nw_src), (l3 + 16, v.nw_dst, m.nw_dst)] {
        let Some(old) = get32(d, off) else {
            return Skipped;
        };
        let new = merge(old, value, mask);
        if new != old {
            csum = update32(csum, old, new);
            put32(d, off, new);
            fix_l4_csum(d, l4_csum, |c| update32(c, old, new));
        }
    }
    put16(d, l3 + 10, csum);
    Done
}

/// True if an IPv6 routing header with segments left follows the fixed header at `l3` (the
/// pseudo-header then carries the final destination, not the current one).
fn routing_header_pending(d: &[u8], l3: usize) -> bool {
    let Some(&first) = d.get(l3 + 6) else {
        return false;
    };
    let (mut next, mut p) = (first, l3 + 40);
    for _ in 0..16 {
        let (Some(&nh), Some(&len)) = (d.get(p), d.get(p + 1)) else {
            return false;
        };
        let size = match next {
            ipproto::HOPOPTS | ipproto::DSTOPTS => (usize::from(len) + 1) * 8,
            ipproto::ROUTING => return d.get(p + 3).is_some_and(|&left| left != 0),
            ipproto::AH => (usize::from(len) + 2) * 4,
            ipproto::FRAGMENT => 8,
            _ => return false,
        };
        next = nh;
        p += size;
    }
    false
}

fn set_ipv6(d: &mut [u8], h: &Headers, v: &Flow, m: &Flow) -> Outcome {
    let (Some(l3), Some(_)) = (h.layout.l3_offset, h.layout.l4_offset) else {
        return Skipped;
    };
    let l3 = usize::from(l3);
    if h.dl_type != ETH_TYPE_IPV6 || d.len() < l3 + 40 {
        return Skipped;
    }
    let Some(first) = get32(d, l3) else {
        return Skipped;
    };
    let tclass = merge(((first >> 20) & 0xff) as u8, v.nw_tos, m.nw_tos);
    let label = merge(
        first & 0x000f_ffff,
        v.ipv6_label,
        m.ipv6_label & 0x000f_ffff,
    );
    put32(
        d,
        l3,
        (first & 0xf000_0000) | (u32::from(tclass) << 20) | label,
    );
    d[l3 + 7] = merge(d[l3 + 7], v.nw_ttl, m.nw_ttl);
    let l4_csum = pseudo_header_csum(h);
    let rh_pending = routing_header_pending(d, l3);
    for (off, value, mask, in_pseudo) in [
        (l3 + 8, &v.ipv6_src, &m.ipv6_src, true),
        (l3 + 24, &v.ipv6_dst, &m.ipv6_dst, !rh_pending),
    ] {
        let Some(field) = d.get_mut(off..off + 16) else {
            return Skipped;
        };
        let mut old = [0u8; 16];
        old.copy_from_slice(field);
        merge_bytes(field, value, mask);
        let mut new = [0u8; 16];
        new.copy_from_slice(field);
        if in_pseudo && new != old {
            fix_l4_csum(d, l4_csum, |c| update_bytes(c, &old, &new));
        }
    }
    Done
}

fn set_ports(d: &mut [u8], h: &Headers, kind: KeyAttrKind, v: &Flow, m: &Flow) -> Outcome {
    let proto = match kind {
        KeyAttrKind::Tcp => ipproto::TCP,
        KeyAttrKind::Udp => ipproto::UDP,
        _ => ipproto::SCTP,
    };
    let (Some(l4), Some(_)) = (l4_of(h, proto), h.layout.payload_offset) else {
        return Skipped;
    };
    let (Some(src), Some(dst)) = (get16(d, l4), get16(d, l4 + 2)) else {
        return Skipped;
    };
    let (new_src, new_dst) = (
        merge(src, v.tp_src, m.tp_src),
        merge(dst, v.tp_dst, m.tp_dst),
    );
    match kind {
        KeyAttrKind::Sctp => {
            // The CRC covers the whole SCTP packet (up to the end of the IP payload).
            let end = d.len().saturating_sub(usize::from(h.layout.l2_pad_len));
            let Some(old_field) = d
                .get(l4 + 8..l4 + 12)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            else {
                return Skipped;
            };
            if end < l4 + 12 {
                return Skipped;
            }
            put32(d, l4 + 8, 0);
            let old_crc = crc32c(&d[l4..end]);
            put16(d, l4, new_src);
            put16(d, l4 + 2, new_dst);
            let new_crc = crc32c(&d[l4..end]);
            if let Some(field) = d.get_mut(l4 + 8..l4 + 12) {
                field.copy_from_slice(&(old_field ^ old_crc ^ new_crc).to_le_bytes());
            }
        }
        _ => {
            put16(d, l4, new_src);
            put16(d, l4 + 2, new_dst);
            let at = Some((
                if proto == ipproto::TCP {
                    l4 + 16
                } else {
                    l4 + 6
                },
                proto == ipproto::UDP,
            ));
            fix_l4_csum(d, at, |c| update16(update16(c, src, new_src), dst, new_dst));
        }
    }
    Done
}

fn set_icmp(d: &mut [u8], h: &Headers, kind: KeyAttrKind, v: &Flow, m: &Flow) -> Outcome {
    let (dl_type, proto) = match kind {
        KeyAttrKind::Icmp => (ETH_TYPE_IP, ipproto::ICMP),
        _ => (ETH_TYPE_IPV6, ipproto::ICMPV6),
    };
    if h.dl_type != dl_type || h.layout.payload_offset.is_none() {
        return Skipped;
    }
    let Some(l4) = l4_of(h, proto) else {
        return Skipped;
    };
    let Some(old) = get16(d, l4) else {
        return Skipped;
    };
    // Type and code live in tp_src/tp_dst (low bytes).
    let new_type = merge((old >> 8) as u8, v.tp_src as u8, m.tp_src as u8);
    let new_code = merge(old as u8, v.tp_dst as u8, m.tp_dst as u8);
    let new = u16::from_be_bytes([new_type, new_code]);
    let Some(csum) = get16(d, l4 + 2) else {
        return Skipped;
    };
    put16(d, l4, new);
    put16(d, l4 + 2, update16(csum, old, new));
    Done
}

fn set_arp(d: &mut [u8], h: &Headers, v: &Flow, m: &Flow) -> Outcome {
    let Some(l3) = h.layout.l3_offset.map(usize::from) else {
        return Skipped;
    };
    if (h.dl_type != ETH_TYPE_ARP && h.dl_type != ETH_TYPE_RARP) || d.len() < l3 + 28 {
        return Skipped;
    }
    // Ethernet/IPv4 ARP only (the only kind the flow key describes).
    if get16(d, l3) != Some(1)
        || get16(d, l3 + 2) != Some(ETH_TYPE_IP)
        || d[l3 + 4] != 6
        || d[l3 + 5] != 4
    {
        return Skipped;
    }
    let Some(op) = get16(d, l3 + 6) else {
        return Skipped;
    };
    put16(
        d,
        l3 + 6,
        merge(op, u16::from(v.nw_proto), u16::from(m.nw_proto)),
    );
    merge_bytes(&mut d[l3 + 8..l3 + 14], &v.arp_sha, &m.arp_sha);
    let Some(spa) = get32(d, l3 + 14) else {
        return Skipped;
    };
    put32(d, l3 + 14, merge(spa, v.nw_src, m.nw_src));
    merge_bytes(&mut d[l3 + 18..l3 + 24], &v.arp_tha, &m.arp_tha);
    let Some(tpa) = get32(d, l3 + 24) else {
        return Skipped;
    };
    put32(d, l3 + 24, merge(tpa, v.nw_dst, m.nw_dst));
    Done
}

fn set_nd(d: &mut [u8], h: &Headers, v: &Flow, m: &Flow) -> Outcome {
    let Some(l4) = l4_of(h, ipproto::ICMPV6) else {
        return Skipped;
    };
    if h.dl_type != ETH_TYPE_IPV6 {
        return Skipped;
    }
    let end = d.len().saturating_sub(usize::from(h.layout.l2_pad_len));
    let (Some(&icmp_type), Some(&code)) = (d.get(l4), d.get(l4 + 1)) else {
        return Skipped;
    };
    if !(icmp_type == 135 || icmp_type == 136) || code != 0 || end < l4 + 24 {
        return Skipped;
    }
    let Some(mut csum) = get16(d, l4 + 2) else {
        return Skipped;
    };
    rewrite_covered(d, l4 + 8, &v.nd_target, &m.nd_target, &mut csum);
    // Options: type, length in 8-byte units, data. SLL = 1, TLL = 2 (6-byte address at +2).
    let mut p = l4 + 24;
    while p + 8 <= end {
        let (opt_type, units) = (d[p], usize::from(d[p + 1]));
        if units == 0 {
            break;
        }
        if units == 1 && opt_type == 1 {
            rewrite_covered(d, p + 2, &v.arp_sha, &m.arp_sha, &mut csum);
        } else if units == 1 && opt_type == 2 {
            rewrite_covered(d, p + 2, &v.arp_tha, &m.arp_tha, &mut csum);
        }
        p += units * 8;
    }
    put16(d, l4 + 2, csum);
    Done
}

/// Masked write of `value` (at most 16 bytes) at `off`, an even offset of the data `csum` covers.
fn rewrite_covered(d: &mut [u8], off: usize, value: &[u8], mask: &[u8], csum: &mut u16) {
    let len = value.len().min(16);
    let Some(field) = d.get_mut(off..off + len) else {
        return;
    };
    let mut old = [0u8; 16];
    old[..len].copy_from_slice(field);
    merge_bytes(field, value, mask);
    *csum = update_bytes(*csum, &old[..len], field);
}

fn set_mpls(d: &mut [u8], h: &Headers, v: &Flow, m: &Flow) -> Outcome {
    let Some(off) = h.layout.mpls_offset.map(usize::from) else {
        return Skipped;
    };
    let Some(lse) = get32(d, off) else {
        return Skipped;
    };
    put32(d, off, merge(lse, v.mpls_lse, m.mpls_lse));
    Done
}
