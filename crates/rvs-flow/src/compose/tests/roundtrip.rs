//! `extract(compose_packet(flow)) == flow` for flows of every shape the composer knows, and
//! `parse_receive_args` never panics.

use crate::compose::{compose_packet, parse_receive_args};
use crate::extract::{PacketMetadata, extract};
use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_NONE, ETH_TYPE_RARP,
    FRAG_ANY, FRAG_LATER, Flow, MPLS_BOS_MASK, VLAN_CFI, VlanHeader, ipproto, tcp_flags,
};
use proptest::prelude::*;

/// Random raw material; [`shape`] keeps only what the chosen protocols carry.
#[derive(Debug, Clone)]
struct Raw {
    macs: ([u8; 6], [u8; 6]),
    vlans: (u8, u16, u16, bool, bool),
    l3: u8,
    l4: u8,
    frag: u8,
    words: (u32, u32, u32, u8, u8),
    v6: ([u8; 16], [u8; 16], [u8; 16]),
    ports: (u16, u16, u16),
    lla: ([u8; 6], [u8; 6]),
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        (any::<[u8; 6]>(), any::<[u8; 6]>()),
        (
            0u8..3,
            any::<u16>(),
            any::<u16>(),
            any::<bool>(),
            any::<bool>(),
        ),
        0u8..7,
        0u8..8,
        0u8..3,
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u8>(),
            any::<u8>(),
        ),
        (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<[u8; 16]>()),
        (any::<u16>(), any::<u16>(), any::<u16>()),
        (any::<[u8; 6]>(), any::<[u8; 6]>()),
    )
        .prop_map(|(macs, vlans, l3, l4, frag, words, v6, ports, lla)| Raw {
            macs,
            vlans,
            l3,
            l4,
            frag,
            words,
            v6,
            ports,
            lla,
        })
}

/// A flow as `extract` reports it for the composed frame (metadata zero, shared fields set the
/// way the protocols use them).
fn shape(r: &Raw) -> Flow {
    let mut f = Flow {
        dl_dst: r.macs.0,
        dl_src: r.macs.1,
        ..Flow::default()
    };
    let (n_vlans, tci0, tci1, ad0, ad1) = r.vlans;
    let tpid = |ad: bool| if ad { 0x88a8 } else { 0x8100 };
    if n_vlans >= 1 {
        f.vlans[0] = VlanHeader {
            tpid: tpid(ad0),
            tci: tci0 | VLAN_CFI,
        };
    }
    if n_vlans == 2 {
        f.vlans[1] = VlanHeader {
            tpid: tpid(ad1),
            tci: tci1 | VLAN_CFI,
        };
    }
    let (a, b, c, tos, ttl) = r.words;
    let (p_src, p_dst, flags) = r.ports;
    match r.l3 {
        0 => f.dl_type = 0x1234 | (a as u16 & 0x0f00) | 0x0600,
        1 => {
            f.dl_type = if a & 1 == 0 {
                ETH_TYPE_ARP
            } else {
                ETH_TYPE_RARP
            };
            f.nw_proto = (b % 4) as u8;
            if f.nw_proto == 1 || f.nw_proto == 2 {
                f.nw_src = b;
                f.nw_dst = c;
                f.arp_sha = r.lla.0;
                f.arp_tha = r.lla.1;
            }
        }
        2 => {
            f.dl_type = ETH_TYPE_MPLS;
            f.mpls_lse = a | MPLS_BOS_MASK;
        }
        3 => {
            // An 802.3 frame: OVS composes it before (and without) any VLAN tag.
            f.dl_type = ETH_TYPE_NONE;
            f.vlans = [VlanHeader::default(); 2];
        }
        4 | 5 => {
            f.dl_type = ETH_TYPE_IP;
            f.nw_src = b;
            f.nw_dst = c;
            f.nw_tos = tos;
            f.nw_ttl = ttl;
            f.nw_frag = [0, FRAG_ANY, FRAG_ANY | FRAG_LATER][usize::from(r.frag)];
            f.nw_proto = l4_proto(r.l4, false);
            if f.nw_frag & FRAG_LATER == 0 {
                l4_fields(&mut f, p_src, p_dst, flags, r);
            }
        }
        _ => {
            f.dl_type = ETH_TYPE_IPV6;
            f.ipv6_src = r.v6.0;
            f.ipv6_dst = r.v6.1;
            f.ipv6_label = a & 0xf_ffff;
            f.nw_tos = tos;
            f.nw_ttl = ttl;
            // OVS writes no IPv6 fragment header: only unfragmented flows round-trip.
            f.nw_proto = l4_proto(r.l4, true);
            l4_fields(&mut f, p_src, p_dst, flags, r);
        }
    }
    f
}

fn l4_proto(sel: u8, v6: bool) -> u8 {
    match sel {
        0 => ipproto::TCP,
        1 => ipproto::UDP,
        2 => ipproto::SCTP,
        3 | 4 if v6 => ipproto::ICMPV6,
        3 | 4 => ipproto::ICMP,
        5 if !v6 => ipproto::IGMP,
        6 => 47,
        _ => 0xfd,
    }
}

fn l4_fields(f: &mut Flow, p_src: u16, p_dst: u16, flags: u16, r: &Raw) {
    match f.nw_proto {
        ipproto::TCP => {
            f.tp_src = p_src;
            f.tp_dst = p_dst;
            f.tcp_flags = flags & tcp_flags::MASK;
        }
        ipproto::UDP | ipproto::SCTP => {
            f.tp_src = p_src;
            f.tp_dst = p_dst;
        }
        ipproto::ICMP | ipproto::IGMP => {
            f.tp_src = p_src & 0xff;
            f.tp_dst = p_dst & 0xff;
        }
        ipproto::ICMPV6 => {
            // Half of them neighbor discovery.
            if r.l4 == 4 {
                f.tp_src = 135 + (p_src & 1);
                f.tp_dst = 0;
                f.nd_target = r.v6.2;
                f.arp_sha = if p_dst & 1 != 0 { r.lla.0 } else { [0; 6] };
                f.arp_tha = if p_dst & 2 != 0 { r.lla.1 } else { [0; 6] };
                // The type of the first option present (OVS's nd_options_type overlay).
                f.tcp_flags = if f.arp_sha != [0; 6] {
                    1
                } else if f.arp_tha != [0; 6] {
                    2
                } else {
                    0
                };
            } else {
                f.tp_src = p_src & 0xff;
                f.tp_dst = p_dst & 0xff;
            }
        }
        _ => {}
    }
}

proptest! {
    #[test]
    fn extract_gives_back_the_composed_flow(
        r in raw(),
        l7_len in prop_oneof![Just(64usize), 0usize..200],
    ) {
        let flow = shape(&r);
        let frame = compose_packet(&flow, l7_len);
        let got = extract(&frame, &PacketMetadata::default());
        prop_assert_eq!(got, flow, "frame {:02x?}", frame);
    }

    #[test]
    fn parse_receive_args_never_panics(args in proptest::collection::vec(arg(), 0..6)) {
        let _ = parse_receive_args(&args);
    }

    #[test]
    fn composing_any_flow_never_panics(
        words in proptest::array::uniform30(any::<u64>()),
        l7_len in 0usize..300,
    ) {
        let flow = Flow::from_words(words);
        let _ = compose_packet(&flow, l7_len);
    }
}

fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("--len".to_string()),
        Just("--qid".to_string()),
        "-?[0-9]{0,12}",
        "[0-9a-fA-F \\t\\n]{0,60}",
        concat!(
            "(in_port\\(1\\),)?(eth\\(src=[0-9:]{0,20}\\),)?eth_type\\(0x0[86]0[06]\\)",
            "(,ipv[46]\\([a-z0-9=.,:/]{0,40}\\))?(,[a-z]{0,6}\\([a-z0-9=,]{0,12}\\)?)?",
        ),
        "ufid:[0-9a-f-]{0,40} ?[a-z(),]{0,10}",
        proptest::collection::vec(key_piece(), 0..8).prop_map(|v| v.join(",")),
        any::<String>(),
    ]
}

/// Pieces of key text that exercise the rewrites of `flow_text` (VLAN levels, MPLS, extra and
/// missing attributes), unbalanced parentheses included.
fn key_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("in_port(1)".to_string()),
        Just("eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02)".to_string()),
        "eth_type\\((0x8100|0x88a8|0x0800|0x86dd|0x8847|33024|0x)\\)",
        "vlan\\((vid=[0-9]{1,4})?(,pcp=[0-9])?(,cfi=[01])?\\)",
        "encap\\((eth_type\\(0x8100\\))?,?(vlan\\(vid=1\\))?,?(encap\\()?\\)?",
        "mpls\\(label=[0-9]{1,7},tc=[0-9],ttl=[0-9]{1,3},bos=[0-2]\\)",
        "ipv4\\(src=1.2.3.4,dst=5.6.7.8,proto=[0-9]{1,3},tos=0,ttl=1,frag=(no|first|later)\\)",
        "(tcp|udp|icmp|icmpv6|nd|sctp|arp|tcp_flags)\\([a-z0-9=,]{0,10}\\)",
        "[(),]{1,3}",
    ]
}
