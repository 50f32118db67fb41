//! From a [`Flow`] (and its mask) to the list of key attributes a datapath would report.
//!
//! This follows `odp_flow_key_from_flow__` of Open vSwitch: **which** attributes exist is decided
//! by the key (the unmasked flow), never by the mask; the mask list has the same shape and takes
//! its values from the mask. For the userspace datapath every metadata attribute is present and
//! `packet_type` always is.
//!
//! # Invariants
//! * `build(flow, Some(mask), true, ..)` has exactly the shape of `build(flow, Some(mask), false,
//!   ..)`, except that `nd` and `tcp_flags` may be missing from it (OVS only emits a mask for them
//!   under conditions on the mask; a missing mask attribute prints as fully wildcarded).
//! * At most two VLAN headers are emitted, each as `eth_type(tpid),vlan(tci),encap(...)`.

use super::KeyOrder;
use super::attr::{
    ArpAttr, Attr, EthAttr, IcmpAttr, Ipv4Attr, Ipv6Attr, KeyAttrKind, NdAttr, PortsAttr,
};
use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MIN, ETH_TYPE_RARP, ETH_TYPE_VLAN_8021AD,
    ETH_TYPE_VLAN_8021Q, FRAG_ANY, FRAG_LATER, FRAG_MASK, Flow, PT_ETH, ipproto,
};

/// The "no port" value of `in_port` (`ODPP_NONE`): a key without an `in_port` attribute.
pub(crate) const ODPP_NONE: u32 = u32::MAX;

/// True for the two VLAN TPIDs (`eth_type_vlan`).
pub(crate) fn is_vlan_tpid(dl_type: u16) -> bool {
    dl_type == ETH_TYPE_VLAN_8021Q || dl_type == ETH_TYPE_VLAN_8021AD
}

/// True for IPv4 or IPv6 (`is_ip_any`).
pub(crate) fn is_ip_any(flow: &Flow) -> bool {
    flow.dl_type == ETH_TYPE_IP || flow.dl_type == ETH_TYPE_IPV6
}

/// True for an ICMPv6 neighbor solicitation or advertisement with code 0 (`is_nd`).
pub(crate) fn is_nd(flow: &Flow) -> bool {
    flow.dl_type == ETH_TYPE_IPV6
        && flow.nw_proto == ipproto::ICMPV6
        && flow.tp_dst == 0
        && (flow.tp_src == 135 || flow.tp_src == 136)
}

/// `ovs_to_odp_frag`: flow fragment bits to the datapath enum (or, for a mask, all or nothing).
pub(crate) fn frag_to_odp(nw_frag: u8, is_mask: bool) -> u8 {
    if is_mask {
        if nw_frag & FRAG_ANY != 0 { u8::MAX } else { 0 }
    } else if nw_frag & FRAG_ANY == 0 {
        0
    } else if nw_frag & FRAG_LATER != 0 {
        2
    } else {
        1
    }
}

/// `odp_to_ovs_frag`; `None` for a key value the datapath does not define.
pub(crate) fn frag_from_odp(frag: u8, is_mask: bool) -> Option<u8> {
    if is_mask {
        return Some(if frag != 0 { FRAG_MASK } else { 0 });
    }
    match frag {
        0 => Some(0),
        1 => Some(FRAG_ANY),
        2 => Some(FRAG_ANY | FRAG_LATER),
        _ => None,
    }
}

/// The attribute of a fixed-layout `kind` read out of `data` (OVS's `get_*_key` helpers).
///
/// `encap` and `mpls` have no fixed layout: `encap` comes back empty and `mpls` holds one entry.
pub(crate) fn get_attr(kind: KeyAttrKind, data: &Flow, is_mask: bool) -> Attr {
    let ports = PortsAttr {
        src: data.tp_src,
        dst: data.tp_dst,
    };
    let icmp = IcmpAttr {
        kind: data.tp_src as u8,
        code: data.tp_dst as u8,
    };
    match kind {
        KeyAttrKind::SkbPriority => Attr::SkbPriority(data.skb_priority),
        KeyAttrKind::SkbMark => Attr::SkbMark(data.skb_mark),
        KeyAttrKind::CtState => Attr::CtState(u32::from(data.ct_state)),
        KeyAttrKind::CtZone => Attr::CtZone(data.ct_zone),
        KeyAttrKind::CtMark => Attr::CtMark(data.ct_mark),
        KeyAttrKind::CtLabel => Attr::CtLabel(u128::from_be_bytes(data.ct_label)),
        KeyAttrKind::RecircId => Attr::RecircId(data.recirc_id),
        KeyAttrKind::DpHash => Attr::DpHash(data.dp_hash),
        KeyAttrKind::InPort => Attr::InPort(data.in_port),
        KeyAttrKind::PacketType => Attr::PacketType(data.packet_type),
        KeyAttrKind::Eth => Attr::Eth(EthAttr {
            src: data.dl_src,
            dst: data.dl_dst,
        }),
        KeyAttrKind::Vlan => Attr::Vlan(data.vlans[0].tci),
        KeyAttrKind::EthType => Attr::EthType(data.dl_type),
        KeyAttrKind::Encap => Attr::Encap(Vec::new()),
        KeyAttrKind::Ipv4 => Attr::Ipv4(Ipv4Attr {
            src: data.nw_src,
            dst: data.nw_dst,
            proto: data.nw_proto,
            tos: data.nw_tos,
            ttl: data.nw_ttl,
            frag: frag_to_odp(data.nw_frag, is_mask),
        }),
        KeyAttrKind::Ipv6 => Attr::Ipv6(Ipv6Attr {
            src: data.ipv6_src,
            dst: data.ipv6_dst,
            label: data.ipv6_label,
            proto: data.nw_proto,
            tclass: data.nw_tos,
            hlimit: data.nw_ttl,
            frag: frag_to_odp(data.nw_frag, is_mask),
        }),
        // OVS widens an all-ones 8-bit opcode to an all-ones 16-bit one, for keys and masks alike.
        KeyAttrKind::Arp => Attr::Arp(ArpAttr {
            sip: data.nw_src,
            tip: data.nw_dst,
            op: if data.nw_proto == u8::MAX {
                u16::MAX
            } else {
                u16::from(data.nw_proto)
            },
            sha: data.arp_sha,
            tha: data.arp_tha,
        }),
        KeyAttrKind::Mpls => Attr::Mpls(vec![data.mpls_lse]),
        KeyAttrKind::Tcp => Attr::Tcp(ports),
        KeyAttrKind::TcpFlags => Attr::TcpFlags(data.tcp_flags),
        KeyAttrKind::Udp => Attr::Udp(ports),
        KeyAttrKind::Sctp => Attr::Sctp(ports),
        KeyAttrKind::Icmp => Attr::Icmp(icmp),
        KeyAttrKind::Icmpv6 => Attr::Icmpv6(icmp),
        KeyAttrKind::Nd => Attr::Nd(NdAttr {
            target: data.nd_target,
            sll: data.arp_sha,
            tll: data.arp_tha,
        }),
    }
}

/// Builds the key (`export_mask == false`) or mask attribute list of a datapath flow.
///
/// `mask` is required for a mask list; for a key list it only decides whether `tcp_flags` appears
/// when the key's flags are zero.
pub(crate) fn build(
    flow: &Flow,
    mask: Option<&Flow>,
    export_mask: bool,
    order: KeyOrder,
) -> Vec<Attr> {
    let data = match (export_mask, mask) {
        (true, Some(m)) => m,
        _ => flow,
    };
    let mut b = Builder {
        levels: vec![Vec::new()],
    };
    let in_port = (export_mask || flow.in_port != ODPP_NONE).then_some(Attr::InPort(data.in_port));
    let ct = [
        Attr::CtState(u32::from(data.ct_state)),
        Attr::CtZone(data.ct_zone),
        Attr::CtMark(data.ct_mark),
        Attr::CtLabel(u128::from_be_bytes(data.ct_label)),
    ];
    let recirc = [Attr::RecircId(data.recirc_id), Attr::DpHash(data.dp_hash)];
    match order {
        KeyOrder::Current => {
            b.extend(recirc);
            b.push(Attr::SkbPriority(data.skb_priority));
            b.extend(in_port);
            b.push(Attr::SkbMark(data.skb_mark));
            b.extend(ct);
        }
        KeyOrder::Ovs31 => {
            b.push(Attr::SkbPriority(data.skb_priority));
            b.push(Attr::SkbMark(data.skb_mark));
            b.extend(ct);
            b.extend(recirc);
            b.extend(in_port);
        }
    }
    b.push(Attr::PacketType(data.packet_type));
    b.l2_onward(flow, data, mask, export_mask, order);
    b.finish()
}

/// Attribute lists being built, innermost `encap` last.
struct Builder {
    levels: Vec<Vec<Attr>>,
}

impl Builder {
    fn push(&mut self, a: Attr) {
        if let Some(level) = self.levels.last_mut() {
            level.push(a);
        }
    }

    fn extend(&mut self, attrs: impl IntoIterator<Item = Attr>) {
        for a in attrs {
            self.push(a);
        }
    }

    /// Closes every open `encap` and returns the outermost list.
    fn finish(mut self) -> Vec<Attr> {
        while self.levels.len() > 1 {
            let inner = self.levels.pop().unwrap_or_default();
            self.push(Attr::Encap(inner));
        }
        self.levels.pop().unwrap_or_default()
    }

    fn l2_onward(
        &mut self,
        flow: &Flow,
        data: &Flow,
        mask: Option<&Flow>,
        export_mask: bool,
        order: KeyOrder,
    ) {
        if flow.packet_type == PT_ETH {
            self.push(get_attr(KeyAttrKind::Eth, data, export_mask));
            for i in 0..flow.vlans.len() {
                let mut tpid = flow.vlans[i].tpid;
                let truncated = flow.vlans[i].tci == 0;
                if truncated {
                    if is_vlan_tpid(flow.dl_type) {
                        // A truncated VLAN header: the TPID is in dl_type.
                        tpid = flow.dl_type;
                    } else {
                        break;
                    }
                }
                self.push(Attr::EthType(if export_mask { u16::MAX } else { tpid }));
                self.push(Attr::Vlan(data.vlans[i].tci));
                self.levels.push(Vec::new());
                if truncated {
                    return;
                }
            }
        }
        if flow.dl_type < ETH_TYPE_MIN {
            // An 802.3 frame: no Ethertype in the key, an exact one in the mask.
            if export_mask {
                self.push(Attr::EthType(u16::MAX));
            }
            return;
        }
        self.push(Attr::EthType(data.dl_type));
        if is_vlan_tpid(flow.dl_type) {
            return;
        }
        match flow.dl_type {
            ETH_TYPE_IP => self.push(get_attr(KeyAttrKind::Ipv4, data, export_mask)),
            ETH_TYPE_IPV6 => self.push(get_attr(KeyAttrKind::Ipv6, data, export_mask)),
            ETH_TYPE_ARP | ETH_TYPE_RARP => {
                self.push(get_attr(KeyAttrKind::Arp, data, export_mask))
            }
            _ if flow.is_mpls() => {
                // rvs keeps one label stack entry; OVS counts the entries up to bottom of stack.
                let lses = if flow.mpls_lse != 0 {
                    vec![data.mpls_lse]
                } else {
                    Vec::new()
                };
                self.push(Attr::Mpls(lses));
            }
            _ => {}
        }
        if is_ip_any(flow) && flow.nw_frag & FRAG_LATER == 0 {
            self.l4(flow, data, mask, export_mask, order);
        }
    }

    fn l4(
        &mut self,
        flow: &Flow,
        data: &Flow,
        mask: Option<&Flow>,
        export_mask: bool,
        order: KeyOrder,
    ) {
        match flow.nw_proto {
            ipproto::TCP => {
                self.push(get_attr(KeyAttrKind::Tcp, data, export_mask));
                if data.tcp_flags != 0 || mask.is_some_and(|m| m.tcp_flags != 0) {
                    self.push(Attr::TcpFlags(data.tcp_flags));
                }
            }
            ipproto::UDP => self.push(get_attr(KeyAttrKind::Udp, data, export_mask)),
            ipproto::SCTP => self.push(get_attr(KeyAttrKind::Sctp, data, export_mask)),
            ipproto::ICMP if flow.dl_type == ETH_TYPE_IP => {
                self.push(get_attr(KeyAttrKind::Icmp, data, export_mask));
            }
            ipproto::ICMPV6 if flow.dl_type == ETH_TYPE_IPV6 => {
                self.push(get_attr(KeyAttrKind::Icmpv6, data, export_mask));
                // ICMP type and code are 8 bits: an exact match is 0xff in the 16-bit fields.
                let mask_ok = match order {
                    KeyOrder::Current => data.tp_src == 0xff,
                    KeyOrder::Ovs31 => data.tp_src == 0xff && data.tp_dst == 0xff,
                };
                if is_nd(flow) && (!export_mask || mask_ok) {
                    self.push(get_attr(KeyAttrKind::Nd, data, export_mask));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{VLAN_CFI, VlanHeader, Wildcards};

    fn kinds(attrs: &[Attr]) -> Vec<&'static str> {
        attrs.iter().map(|a| a.kind().name()).collect()
    }

    #[test]
    fn key_order_follows_the_release() {
        let f = Flow {
            in_port: 1,
            dl_type: ETH_TYPE_IP,
            nw_proto: ipproto::TCP,
            ..Flow::default()
        };
        assert_eq!(
            kinds(&build(&f, None, false, KeyOrder::Current)),
            [
                "recirc_id",
                "dp_hash",
                "skb_priority",
                "in_port",
                "skb_mark",
                "ct_state",
                "ct_zone",
                "ct_mark",
                "ct_label",
                "packet_type",
                "eth",
                "eth_type",
                "ipv4",
                "tcp"
            ]
        );
        assert_eq!(
            kinds(&build(&f, None, false, KeyOrder::Ovs31))[..10],
            [
                "skb_priority",
                "skb_mark",
                "ct_state",
                "ct_zone",
                "ct_mark",
                "ct_label",
                "recirc_id",
                "dp_hash",
                "in_port",
                "packet_type"
            ]
        );
    }

    #[test]
    fn vlans_nest_and_masks_follow_the_key() {
        let mut f = Flow {
            in_port: 1,
            dl_type: ETH_TYPE_IP,
            nw_frag: FRAG_ANY | FRAG_LATER,
            ..Flow::default()
        };
        f.nw_proto = ipproto::UDP;
        f.vlans[0] = VlanHeader {
            tpid: ETH_TYPE_VLAN_8021AD,
            tci: VLAN_CFI | 5,
        };
        f.vlans[1] = VlanHeader {
            tpid: ETH_TYPE_VLAN_8021Q,
            tci: VLAN_CFI | 6,
        };
        let wc = Wildcards::default();
        let key = build(&f, Some(&wc.masks), false, KeyOrder::Current);
        let mask = build(&f, Some(&wc.masks), true, KeyOrder::Current);
        assert_eq!(key.len(), mask.len());
        let Some(Attr::Encap(inner)) = key.last() else {
            panic!("no encap")
        };
        let Some(Attr::Encap(inner2)) = inner.last() else {
            panic!("no inner encap")
        };
        // A later fragment has no L4 attribute.
        assert_eq!(kinds(inner2), ["eth_type", "ipv4"]);
        let Some(Attr::EthType(t)) = mask.iter().rev().nth(2) else {
            panic!("no tpid")
        };
        assert_eq!(*t, 0xffff);
    }
}
