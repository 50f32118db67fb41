//! Unit tests of the link layer: runts, Ethernet II, VLAN tags, 802.3 LLC/SNAP, MPLS, metadata
//! and non-Ethernet packet types.
//!
//! Every expected flow of a named case with default metadata and options was also checked
//! against Open vSwitch 3.1.0 (`ovs-ofctl parse-pcap`, see [`super::oracle`], which compares all
//! these cases and their prefixes). The VLAN-limit-1 expectation comes from an oracle
//! `ovs-vswitchd` dump; metadata and non-Ethernet packet types follow `miniflow_extract`'s code.

use super::cases::{self, DST, SRC};
use super::{case, eth_flow, run};
use crate::extract::{
    ExtractOptions, ExtractStatus, HeaderKind, PacketMetadata, extract, extract_with_options,
};
use crate::flow::{ETH_TYPE_NONE, Flow, VlanHeader};

#[test]
fn runt_keeps_only_metadata() {
    let md = PacketMetadata {
        in_port: 4,
        recirc_id: 2,
        ..PacketMetadata::default()
    };
    for len in 0..14 {
        let frame = &cases::eth(0x0800)[..len];
        let (flow, layout) = extract_with_options(frame, &md, &ExtractOptions::default());
        assert_eq!(
            flow,
            Flow {
                in_port: 4,
                recirc_id: 2,
                ..Flow::default()
            },
            "len {len}"
        );
        assert!(layout.status.is_runt());
        assert_eq!(
            (layout.mpls_offset, layout.l3_offset, layout.l4_offset),
            (None, None, None)
        );
    }
}

#[test]
fn ethernet_with_unknown_type() {
    let (flow, layout) = run(&case("eth_unknown_payload"));
    assert_eq!(flow, eth_flow(0x88cc));
    assert_eq!(layout.l3_offset, Some(14));
    assert_eq!(layout.l4_offset, None);
    assert!(layout.status.is_complete());
}

#[test]
fn single_vlan_sets_the_present_bit() {
    let (flow, layout) = run(&case("vlan_udp4"));
    // parse-pcap: udp,...,dl_vlan=5,dl_vlan_pcp=1,...
    assert_eq!(
        flow.vlans,
        [
            VlanHeader {
                tpid: 0x8100,
                tci: 0x3005 | 0x1000
            },
            VlanHeader::default()
        ]
    );
    assert_eq!((flow.dl_type, flow.tp_src, flow.tp_dst), (0x0800, 53, 1053));
    assert_eq!(
        (layout.l3_offset, layout.l4_offset, layout.payload_offset),
        (Some(18), Some(38), Some(46))
    );

    // A priority tag (VID 0) is still a tag, and a set DEI bit is kept as it is.
    let (flow, _) = run(&case("vlan_prio_only"));
    assert_eq!(flow.vlans[0].tci, 0xf000);
    let (flow, _) = run(&case("vlan_dei"));
    assert_eq!(
        (flow.vlans[0].tci, flow.dl_type, flow.nw_proto),
        (0x1fff, 0x0806, 1)
    );
}

#[test]
fn two_vlans_outer_first() {
    let (flow, layout) = run(&case("qinq_udp4"));
    assert_eq!(
        flow.vlans,
        [
            VlanHeader {
                tpid: 0x88a8,
                tci: 0xf006
            },
            VlanHeader {
                tpid: 0x8100,
                tci: 0x3005
            }
        ]
    );
    assert_eq!((flow.dl_type, flow.nw_proto, flow.tp_src), (0x0800, 17, 7));
    assert_eq!(layout.l3_offset, Some(22));

    let (flow, _) = run(&case("qinq_8100_8100"));
    assert_eq!(
        flow.vlans,
        [
            VlanHeader {
                tpid: 0x8100,
                tci: 0x1006
            },
            VlanHeader {
                tpid: 0x8100,
                tci: 0x3005
            }
        ]
    );
    assert_eq!((flow.dl_type, flow.nw_proto, flow.tp_dst), (0x86dd, 17, 9));
}

#[test]
fn third_vlan_stays_payload() {
    let (flow, layout) = run(&case("three_tags"));
    // parse-pcap: dl_vlan=1,...,dl_vlan1=2,...,dl_type=0x8100
    assert_eq!(
        flow.vlans,
        [
            VlanHeader {
                tpid: 0x8100,
                tci: 0x1001
            },
            VlanHeader {
                tpid: 0x8100,
                tci: 0x1002
            }
        ]
    );
    assert_eq!(flow.dl_type, 0x8100);
    assert_eq!(flow.nw_src, 0);
    assert_eq!(layout.l3_offset, Some(22), "the third tag's TCI");
    assert!(layout.status.is_complete());
}

#[test]
fn vlan_limit_one_behaves_like_default_vswitchd() {
    // ovs-vswitchd (vlan-limit 1) dumps this as eth_type(0x88a8),vlan(vid=6,pcp=7),encap(eth_type(0x8100)).
    let options = ExtractOptions { vlan_limit: 1 };
    let (flow, layout) =
        extract_with_options(&case("qinq_udp4"), &PacketMetadata::default(), &options);
    assert_eq!(
        flow.vlans,
        [
            VlanHeader {
                tpid: 0x88a8,
                tci: 0xf006
            },
            VlanHeader::default()
        ]
    );
    assert_eq!((flow.dl_type, flow.nw_proto), (0x8100, 0));
    assert_eq!(layout.l3_offset, Some(18));

    let options = ExtractOptions { vlan_limit: 0 };
    let (flow, _) = extract_with_options(&case("vlan_udp4"), &PacketMetadata::default(), &options);
    assert_eq!(
        (flow.vlans[0], flow.dl_type),
        (VlanHeader::default(), 0x8100)
    );
}

#[test]
fn truncated_vlan_tag_becomes_the_type() {
    for name in ["vlan_truncated", "vlan_tag_without_type"] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, eth_flow(0x8100), "{name}");
        assert_eq!(
            layout.status,
            ExtractStatus::Truncated(HeaderKind::Vlan),
            "{name}"
        );
        assert_eq!(layout.l3_offset, Some(14));
    }
    let (flow, layout) = run(&case("vlan_then_truncated_tag"));
    assert_eq!(
        flow.vlans[0],
        VlanHeader {
            tpid: 0x8100,
            tci: 0x3005
        }
    );
    assert_eq!(
        (flow.vlans[1], flow.dl_type),
        (VlanHeader::default(), 0x88a8)
    );
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Vlan));
    assert_eq!(layout.l3_offset, Some(18));

    // A complete tag followed by an IPv4 type and nothing else: IPv4 is what is truncated.
    let (flow, layout) = run(&case("vlan_then_runt_type"));
    assert_eq!((flow.vlans[0].tci, flow.dl_type), (0x3005, 0x0800));
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Ipv4));
}

#[test]
fn llc_snap_with_ethertype() {
    let (flow, layout) = run(&case("llc_snap_ipv4"));
    assert_eq!(
        (flow.dl_type, flow.nw_src, flow.tp_src, flow.tp_dst),
        (0x0800, cases::IP4_SRC, 1, 2)
    );
    assert_eq!(layout.l3_offset, Some(22));

    let (flow, layout) = run(&case("vlan_llc_snap_arp"));
    assert_eq!(
        (flow.vlans[0].tci, flow.dl_type, flow.nw_proto),
        (0x1064, 0x0806, 2)
    );
    assert_eq!(layout.l3_offset, Some(26));
}

#[test]
fn other_802_3_frames_have_no_ethertype() {
    // parse-pcap: dl_type=0x05ff for each.
    for (name, l3) in [
        ("llc_snap_other_oui", 14),
        ("llc_snap_small_type", 22),
        ("llc_plain", 14),
        ("llc_short", 14),
        ("len_0x5ff", 14),
    ] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, eth_flow(ETH_TYPE_NONE), "{name}");
        assert_eq!(layout.l3_offset, Some(l3), "{name}");
        assert!(layout.status.is_complete(), "{name}");
    }
}

#[test]
fn mpls_keeps_the_top_entry_and_stops() {
    let (flow, layout) = run(&case("mpls_two_labels"));
    // parse-pcap: mpls,...,mpls_label=20,mpls_tc=0,mpls_ttl=63,mpls_bos=0
    assert_eq!(
        flow,
        Flow {
            mpls_lse: 0x0001_403f,
            ..eth_flow(0x8847)
        }
    );
    assert_eq!(
        (layout.mpls_offset, layout.l3_offset, layout.l4_offset),
        (Some(14), Some(22), None)
    );
    assert!(layout.status.is_complete());

    let (flow, layout) = run(&case("mpls_one_label"));
    assert_eq!(flow.mpls_lse, 0xffff_fb01);
    assert_eq!(flow.nw_src, 0, "nothing under MPLS is parsed");
    assert_eq!(layout.l3_offset, Some(18));

    let (flow, _) = run(&case("mpls_mcast"));
    assert_eq!(
        flow,
        Flow {
            mpls_lse: 0x000a_5f08,
            ..eth_flow(0x8848)
        }
    );

    let (flow, layout) = run(&case("vlan_mpls"));
    assert_eq!((flow.vlans[0].tci, flow.mpls_lse), (0x1010, 0x0001_413f));
    assert_eq!((layout.mpls_offset, layout.l3_offset), (Some(18), Some(22)));
}

#[test]
fn mpls_without_bottom_of_stack_is_truncated() {
    let (flow, layout) = run(&case("mpls_no_bos"));
    assert_eq!(flow.mpls_lse, 0x0001_403f);
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Mpls));
    assert_eq!((layout.mpls_offset, layout.l3_offset), (Some(14), Some(22)));

    for name in ["mpls_empty", "mpls_partial_entry"] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, eth_flow(0x8847), "{name}");
        assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Mpls));
        assert_eq!((layout.mpls_offset, layout.l3_offset), (Some(14), Some(14)));
    }
}

#[test]
fn metadata_is_copied() {
    let md = PacketMetadata {
        in_port: 9,
        recirc_id: 1,
        dp_hash: 2,
        skb_priority: 3,
        skb_mark: 4,
        ct_state: 0x22,
        ct_zone: 5,
        ct_mark: 6,
        ct_label: [7; 16],
        packet_type: 0,
    };
    let flow = extract(&case("tcp4"), &md);
    assert_eq!(
        (
            flow.in_port,
            flow.recirc_id,
            flow.dp_hash,
            flow.skb_priority,
            flow.skb_mark
        ),
        (9, 1, 2, 3, 4)
    );
    assert_eq!(
        (flow.ct_state, flow.ct_zone, flow.ct_mark, flow.ct_label),
        (0x22, 5, 6, [7; 16])
    );
    assert_eq!(flow.tp_dst, 80);
    assert_eq!((flow.dl_src, flow.dl_dst), (SRC, DST));
}

#[test]
fn non_ethernet_packet_type_starts_at_l3() {
    let l3_packet = &case("udp4")[14..];
    let md = PacketMetadata {
        packet_type: 0x0001_0800,
        ..PacketMetadata::default()
    };
    let (flow, layout) = extract_with_options(l3_packet, &md, &ExtractOptions::default());
    assert_eq!(
        (flow.packet_type, flow.dl_type, flow.dl_src),
        (0x0001_0800, 0x0800, [0; 6])
    );
    assert_eq!(
        (flow.nw_src, flow.tp_src, flow.tp_dst),
        (cases::IP4_SRC, 53, 1053)
    );
    assert_eq!((layout.l3_offset, layout.l4_offset), (Some(0), Some(20)));

    let md = PacketMetadata {
        packet_type: 0x0001_8847,
        ..PacketMetadata::default()
    };
    let (flow, layout) = extract_with_options(&[0, 1, 0x41, 0x3f], &md, &ExtractOptions::default());
    assert_eq!((flow.dl_type, flow.mpls_lse), (0x8847, 0x0001_413f));
    assert_eq!((layout.mpls_offset, layout.l3_offset), (Some(0), Some(4)));

    // An empty L3 packet is not a runt: there is no Ethernet header to miss.
    let md = PacketMetadata {
        packet_type: 0x0001_86dd,
        ..PacketMetadata::default()
    };
    let (flow, layout) = extract_with_options(&[], &md, &ExtractOptions::default());
    assert_eq!(flow.dl_type, 0x86dd);
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Ipv6));
}
