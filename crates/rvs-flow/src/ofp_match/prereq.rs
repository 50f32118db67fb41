//! Field prerequisites, and what happens to a match whose fields lack them.
//!
//! Open vSwitch checks prerequisites in two places, and this module mirrors both:
//! * [`prerequisites_ok`] is `mf_are_prereqs_ok`: may field F be set on this flow? The strict
//!   flow parser (`ofproto/trace`, `dpctl/dump-flows filter=`) rejects a field whose prerequisites
//!   the fields before it have not established.
//! * An OpenFlow rule is sent to the switch encoded as NXM/OXM, and the encoder simply leaves out
//!   every field whose prerequisites the match does not meet (`tp_dst=80` without `tcp` becomes a
//!   catch-all rule; `ovs-ofctl` logs "normalization changed ofp_match"). [`normalize`] computes
//!   that surviving match. A few combinations survive the encoder but are refused by the
//!   switch's decoder with `OFPBMC_BAD_PREREQ`/`OFPBMC_BAD_VALUE`; [`check_decodable`] finds them.
//!
//! # Invariants
//! * [`normalize`] is idempotent, never adds a matched bit, and returns a match whose flow is
//!   masked by its wildcards.
//! * All decisions depend on the match's values (as OVS's do), with the "effective" ethertype of
//!   [`effective_dl_type`].

use super::apply::{IP_DSCP_MASK, IP_ECN_MASK, IPV6_LABEL_MASK};
use super::fields::Prereq;
use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_NONE, ETH_TYPE_RARP, FRAG_LATER, FRAG_MASK,
    Flow, MPLS_BOS_MASK, MPLS_LABEL_MASK, MPLS_TC_MASK, MPLS_TTL_MASK, Match, PT_ETH, VLAN_CFI,
    Wildcards, ipproto, tcp_flags,
};

/// Packet-type namespace whose type is an ethertype (`OFPHTN_ETHERTYPE`).
pub const PT_NS_ETHERTYPE: u32 = 1;
/// ICMPv6 neighbour solicitation.
pub const ND_NEIGHBOR_SOLICIT: u16 = 135;
/// ICMPv6 neighbour advertisement.
pub const ND_NEIGHBOR_ADVERT: u16 = 136;

/// The ethertype that governs the L3 fields (`get_dl_type`): `dl_type` for Ethernet packets,
/// the type of an `(1,ethertype)` packet type, else the "no ethertype" value 0x05ff.
pub fn effective_dl_type(flow: &Flow) -> u16 {
    if flow.packet_type == PT_ETH {
        flow.dl_type
    } else if flow.packet_type >> 16 == PT_NS_ETHERTYPE {
        flow.packet_type as u16
    } else {
        ETH_TYPE_NONE
    }
}

fn is_ip_any(dl_type: u16) -> bool {
    dl_type == ETH_TYPE_IP || dl_type == ETH_TYPE_IPV6
}

fn is_arp(dl_type: u16) -> bool {
    dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP
}

fn is_mpls(dl_type: u16) -> bool {
    dl_type == crate::flow::ETH_TYPE_MPLS || dl_type == crate::flow::ETH_TYPE_MPLS_MCAST
}

fn is_l4(flow: &Flow, proto: u8) -> bool {
    is_ip_any(effective_dl_type(flow)) && flow.nw_proto == proto
}

fn is_icmpv4(flow: &Flow) -> bool {
    effective_dl_type(flow) == ETH_TYPE_IP && flow.nw_proto == ipproto::ICMP
}

fn is_icmpv6(flow: &Flow) -> bool {
    effective_dl_type(flow) == ETH_TYPE_IPV6 && flow.nw_proto == ipproto::ICMPV6
}

fn is_nd(flow: &Flow) -> bool {
    is_icmpv6(flow)
        && flow.tp_dst == 0
        && (flow.tp_src == ND_NEIGHBOR_SOLICIT || flow.tp_src == ND_NEIGHBOR_ADVERT)
}

/// `mf_are_prereqs_ok`: whether `flow` meets prerequisite `prereq`.
pub fn prerequisites_ok(prereq: Prereq, flow: &Flow) -> bool {
    let dl_type = effective_dl_type(flow);
    let not_later = flow.nw_frag & FRAG_LATER == 0;
    match prereq {
        Prereq::None => true,
        Prereq::Ethernet => flow.packet_type == PT_ETH,
        Prereq::Arp => is_arp(dl_type),
        Prereq::Ipv4 => dl_type == ETH_TYPE_IP,
        Prereq::Ipv6 => dl_type == ETH_TYPE_IPV6,
        Prereq::IpAny => is_ip_any(dl_type),
        Prereq::VlanVid => flow.packet_type == PT_ETH && flow.vlans[0].tci & VLAN_CFI != 0,
        Prereq::Mpls => is_mpls(dl_type),
        Prereq::Tcp => is_l4(flow, ipproto::TCP) && not_later,
        Prereq::Udp => is_l4(flow, ipproto::UDP) && not_later,
        Prereq::Sctp => is_l4(flow, ipproto::SCTP) && not_later,
        Prereq::Icmpv4 => is_icmpv4(flow),
        Prereq::Icmpv6 => is_icmpv6(flow),
        Prereq::Nd => is_nd(flow),
        Prereq::NdSolicit => is_nd(flow) && flow.tp_src == ND_NEIGHBOR_SOLICIT,
        Prereq::NdAdvert => is_nd(flow) && flow.tp_src == ND_NEIGHBOR_ADVERT,
    }
}

/// The match an OpenFlow switch ends up with: fields whose prerequisites are not met are
/// dropped, and fields the wire format carries only exactly (IP protocol, TTL, DSCP, ECN, MPLS
/// sub-fields, ICMP type/code, ARP opcode) become exact, as after OVS's NXM encode and decode.
pub fn normalize(m: &Match) -> Match {
    let (f, w) = (&m.flow, &m.wc.masks);
    let mut out = Wildcards::default();
    let o = &mut out.masks;
    let dl_type = effective_dl_type(f);

    o.packet_type = w.packet_type;
    o.dp_hash = w.dp_hash;
    o.recirc_id = if w.recirc_id != 0 { u32::MAX } else { 0 };
    o.in_port = if w.in_port != 0 { u32::MAX } else { 0 };
    o.skb_priority = w.skb_priority;
    o.dl_src = w.dl_src;
    o.dl_dst = w.dl_dst;
    o.dl_type = w.dl_type;
    o.vlans[0] = w.vlans[0];

    if is_mpls(dl_type) {
        for bits in [MPLS_LABEL_MASK, MPLS_TC_MASK, MPLS_BOS_MASK, MPLS_TTL_MASK] {
            if w.mpls_lse & bits != 0 {
                o.mpls_lse |= bits;
            }
        }
    }

    if is_ip_any(dl_type) {
        if dl_type == ETH_TYPE_IP {
            o.nw_src = w.nw_src;
            o.nw_dst = w.nw_dst;
        } else {
            o.ipv6_src = w.ipv6_src;
            o.ipv6_dst = w.ipv6_dst;
            o.ipv6_label = w.ipv6_label;
        }
        o.nw_frag = w.nw_frag & FRAG_MASK;
        for bits in [IP_DSCP_MASK, IP_ECN_MASK] {
            if w.nw_tos & bits != 0 {
                o.nw_tos |= bits;
            }
        }
        o.nw_ttl = if w.nw_ttl != 0 { u8::MAX } else { 0 };
        if w.nw_proto != 0 {
            o.nw_proto = u8::MAX;
            normalize_l4(f, w, o);
        }
    } else if is_arp(dl_type) {
        o.nw_proto = if w.nw_proto != 0 { u8::MAX } else { 0 };
        o.nw_src = w.nw_src;
        o.nw_dst = w.nw_dst;
        o.arp_sha = w.arp_sha;
        o.arp_tha = w.arp_tha;
    }

    o.regs = w.regs;
    o.skb_mark = w.skb_mark;
    o.ct_state = w.ct_state;
    o.ct_zone = w.ct_zone;
    o.ct_mark = w.ct_mark;
    o.ct_label = w.ct_label;
    o.metadata = w.metadata;

    let mut flow = *f;
    if w.nw_proto != 0 && (is_icmpv4(f) || is_icmpv6(f)) {
        // ICMP type and code (and the ND options type) travel as single bytes.
        flow.tp_src &= 0xff;
        flow.tp_dst &= 0xff;
        flow.tcp_flags &= 0xff;
    }
    Match::new(&flow, &out)
}

/// L4 part of [`normalize`], for an IP match with a known protocol.
fn normalize_l4(f: &Flow, w: &Flow, o: &mut Flow) {
    match f.nw_proto {
        ipproto::TCP => {
            o.tp_src = w.tp_src;
            o.tp_dst = w.tp_dst;
            o.tcp_flags = w.tcp_flags;
        }
        ipproto::UDP | ipproto::SCTP => {
            o.tp_src = w.tp_src;
            o.tp_dst = w.tp_dst;
        }
        _ if is_icmpv4(f) || is_icmpv6(f) => {
            o.tp_src = if w.tp_src != 0 { u16::MAX } else { 0 };
            o.tp_dst = if w.tp_dst != 0 { u16::MAX } else { 0 };
            if is_nd(f) {
                o.nd_target = w.nd_target;
                // The ND options type (kept in `tcp_flags`) travels as one exact byte.
                o.tcp_flags = if w.tcp_flags != 0 { tcp_flags::MASK } else { 0 };
                if f.tp_src == ND_NEIGHBOR_SOLICIT {
                    o.arp_sha = w.arp_sha;
                }
                if f.tp_src == ND_NEIGHBOR_ADVERT {
                    o.arp_tha = w.arp_tha;
                }
            }
        }
        _ => {}
    }
}

/// A match that an OpenFlow switch would refuse to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undecodable {
    /// `OFPBMC_BAD_PREREQ`: a field is encoded that its prerequisites forbid (an IPv6 flow label
    /// on IPv4, TCP/UDP/SCTP fields on a later fragment, L2 fields on a non-Ethernet packet type).
    BadPrereq(UndecodableField),
    /// `OFPBMC_BAD_VALUE`: an IPv6 flow label wider than 20 bits.
    BadValue(UndecodableField),
}

/// Which storage an [`Undecodable`] verdict is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UndecodableField {
    /// The IPv6 flow label.
    Ipv6Label,
    /// Transport ports or TCP flags.
    Transport,
    /// Ethernet addresses, ethertype or VLAN.
    Ethernet,
}

impl Undecodable {
    /// The OpenFlow error name OVS reports.
    pub fn error_name(self) -> &'static str {
        match self {
            Undecodable::BadPrereq(_) => "OFPBMC_BAD_PREREQ",
            Undecodable::BadValue(_) => "OFPBMC_BAD_VALUE",
        }
    }

    /// The storage the verdict is about.
    pub fn field(self) -> UndecodableField {
        match self {
            Undecodable::BadPrereq(f) | Undecodable::BadValue(f) => f,
        }
    }
}

/// Finds the field combinations that OVS encodes into a flow_mod but then refuses to decode.
/// `m` is the match as parsed, before [`normalize`]; its flow may still carry an IPv6 label
/// wider than 20 bits.
pub fn check_decodable(m: &Match) -> Result<(), Undecodable> {
    let (f, w) = (&m.flow, &m.wc.masks);
    let dl_type = effective_dl_type(f);
    let non_ethernet = w.packet_type != 0 && f.packet_type != PT_ETH;
    if non_ethernet
        && (w.dl_src != [0; 6] || w.dl_dst != [0; 6] || w.dl_type != 0 || w.vlans[0].tci != 0)
    {
        return Err(Undecodable::BadPrereq(UndecodableField::Ethernet));
    }
    if !is_ip_any(dl_type) {
        return Ok(());
    }
    if w.ipv6_label != 0 {
        if dl_type == ETH_TYPE_IP {
            return Err(Undecodable::BadPrereq(UndecodableField::Ipv6Label));
        }
        if f.ipv6_label & !IPV6_LABEL_MASK != 0 {
            return Err(Undecodable::BadValue(UndecodableField::Ipv6Label));
        }
    }
    let transport = matches!(f.nw_proto, ipproto::TCP | ipproto::UDP | ipproto::SCTP)
        && w.nw_proto != 0
        && (w.tp_src != 0 || w.tp_dst != 0 || (f.nw_proto == ipproto::TCP && w.tcp_flags != 0));
    if transport && f.nw_frag & FRAG_LATER != 0 {
        return Err(Undecodable::BadPrereq(UndecodableField::Transport));
    }
    Ok(())
}

/// Whether OpenFlow can carry the match at all: OVS has no OpenFlow encoding for
/// `skb_priority`, so `ovs-ofctl` refuses such rules ("no usable protocol", or with actions
/// "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)").
pub fn is_openflow_expressible(m: &Match) -> bool {
    m.wc.masks.skb_priority == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{ETH_TYPE_MPLS, FRAG_ANY};

    fn ip_match(proto: u8) -> Match {
        let mut m = Match::default();
        m.flow.dl_type = ETH_TYPE_IP;
        m.wc.masks.dl_type = u16::MAX;
        m.flow.nw_proto = proto;
        m.wc.masks.nw_proto = u8::MAX;
        m
    }

    #[test]
    fn prerequisites() {
        let tcp = ip_match(ipproto::TCP).flow;
        assert!(prerequisites_ok(Prereq::Tcp, &tcp));
        assert!(!prerequisites_ok(Prereq::Udp, &tcp));
        assert!(prerequisites_ok(Prereq::Ipv4, &tcp));
        assert!(!prerequisites_ok(Prereq::Arp, &tcp));
        let later = Flow {
            nw_frag: FRAG_ANY | FRAG_LATER,
            ..tcp
        };
        assert!(!prerequisites_ok(Prereq::Tcp, &later));
        let nd = Flow {
            dl_type: ETH_TYPE_IPV6,
            nw_proto: ipproto::ICMPV6,
            tp_src: 135,
            ..Flow::default()
        };
        assert!(prerequisites_ok(Prereq::NdSolicit, &nd));
        assert!(!prerequisites_ok(Prereq::NdAdvert, &nd));
        assert!(!prerequisites_ok(Prereq::VlanVid, &Flow::default()));
        let mpls = Flow {
            packet_type: (1 << 16) | u32::from(ETH_TYPE_MPLS),
            ..Flow::default()
        };
        assert!(prerequisites_ok(Prereq::Mpls, &mpls));
        assert!(!prerequisites_ok(Prereq::Ethernet, &mpls));
    }

    #[test]
    fn normalize_drops_fields_without_prerequisites() {
        let mut m = ip_match(ipproto::UDP);
        m.flow.tp_dst = 53;
        m.wc.masks.tp_dst = u16::MAX;
        m.wc.masks.tcp_flags = 0x0fff;
        m.flow.tcp_flags = 2;
        m.wc.masks.arp_sha = [0xff; 6];
        m.flow.arp_sha = [1; 6];
        let n = normalize(&m);
        assert_eq!(n.wc.masks.tp_dst, u16::MAX);
        assert_eq!((n.wc.masks.tcp_flags, n.flow.tcp_flags), (0, 0));
        assert_eq!((n.wc.masks.arp_sha, n.flow.arp_sha), ([0; 6], [0; 6]));
        assert_eq!(normalize(&n), n);
    }

    #[test]
    fn icmp_type_becomes_exact() {
        let mut m = ip_match(ipproto::ICMP);
        m.flow.tp_src = 0x3;
        m.wc.masks.tp_src = 0xf;
        let n = normalize(&m);
        assert_eq!((n.flow.tp_src, n.wc.masks.tp_src), (3, u16::MAX));
    }

    #[test]
    fn undecodable_combinations() {
        let mut m = ip_match(ipproto::TCP);
        assert_eq!(check_decodable(&m), Ok(()));
        m.wc.masks.ipv6_label = IPV6_LABEL_MASK;
        assert_eq!(
            check_decodable(&m).map_err(Undecodable::error_name),
            Err("OFPBMC_BAD_PREREQ")
        );
        m.wc.masks.ipv6_label = 0;
        m.flow.nw_frag = FRAG_ANY | FRAG_LATER;
        m.wc.masks.nw_frag = FRAG_MASK;
        assert_eq!(check_decodable(&m), Ok(()));
        m.wc.masks.tp_dst = u16::MAX;
        assert_eq!(
            check_decodable(&m).map(|_| ()).map_err(Undecodable::field),
            Err(UndecodableField::Transport)
        );
        assert!(is_openflow_expressible(&m));
    }
}
