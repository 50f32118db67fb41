//! Unit tests of the network layer: IPv4 (sanity checks, options, fragments), IPv6 (extension
//! headers, fragments, truncation) and ARP/RARP.
//!
//! Every expected flow here was also checked against Open vSwitch 3.1.0 (`ovs-ofctl
//! parse-pcap`, see [`super::oracle`]).

use super::cases::{IP4_DST, IP4_SRC, IP6_DST, IP6_SRC, MAC_A, MAC_B};
use super::{case, eth_flow, ipv4_flow, ipv6_flow, run};
use crate::extract::{ExtractStatus, HeaderKind};
use crate::flow::{FRAG_ANY, FRAG_LATER, Flow};

#[test]
fn tcp_over_ipv4_with_options() {
    let (flow, layout) = run(&case("tcp4"));
    let expected = Flow {
        tp_src: 8080,
        tp_dst: 80,
        tcp_flags: 0x012,
        ..ipv4_flow(6)
    };
    assert_eq!(flow, expected);
    assert_eq!(
        (
            layout.mpls_offset,
            layout.l3_offset,
            layout.l4_offset,
            layout.payload_offset
        ),
        (None, Some(14), Some(34), Some(66))
    );
    assert_eq!(
        (layout.l2_pad_len, layout.status),
        (0, ExtractStatus::Complete)
    );

    let (padded, layout) = run(&case("tcp4_padded"));
    assert_eq!(padded, expected);
    assert_eq!((layout.l2_pad_len, layout.payload_offset), (9, Some(66)));
}

#[test]
fn ipv4_that_fails_a_sanity_check_keeps_no_l3_field() {
    // parse-pcap prints ip,...,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,...,nw_ttl=0 for each.
    for (name, status) in [
        ("ipv4_19_bytes", ExtractStatus::Truncated(HeaderKind::Ipv4)),
        ("ipv4_ihl_4", ExtractStatus::Malformed(HeaderKind::Ipv4)),
        ("ipv4_ihl_0", ExtractStatus::Malformed(HeaderKind::Ipv4)),
        (
            "ipv4_ihl_beyond",
            ExtractStatus::Truncated(HeaderKind::Ipv4),
        ),
        (
            "ipv4_totlen_too_big",
            ExtractStatus::Truncated(HeaderKind::Ipv4),
        ),
        (
            "ipv4_totlen_below_ihl",
            ExtractStatus::Malformed(HeaderKind::Ipv4),
        ),
    ] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, eth_flow(0x0800), "{name}");
        assert_eq!(layout.status, status, "{name}");
        assert_eq!(
            (layout.l3_offset, layout.l4_offset),
            (Some(14), None),
            "{name}"
        );
    }
}

#[test]
fn ipv4_total_length_bounds_l4() {
    // tot_len 20: the UDP header is padding to OVS, so no ports.
    let (flow, layout) = run(&case("ipv4_totlen_20_udp"));
    assert_eq!(flow, ipv4_flow(17));
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Udp));
    assert_eq!(
        (layout.l4_offset, layout.payload_offset, layout.l2_pad_len),
        (Some(34), None, 12)
    );
}

#[test]
fn ipv4_header_options_are_skipped() {
    let (flow, layout) = run(&case("ipv4_options_udp"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 5,
            tp_dst: 6,
            ..ipv4_flow(17)
        }
    );
    assert_eq!(
        (layout.l4_offset, layout.payload_offset),
        (Some(42), Some(50))
    );
}

#[test]
fn ipv4_fragments() {
    let (flow, layout) = run(&case("ipv4_frag_first"));
    assert_eq!(
        flow,
        Flow {
            nw_frag: FRAG_ANY,
            tp_src: 5,
            tp_dst: 6,
            ..ipv4_flow(17)
        }
    );
    assert!(layout.status.is_complete());

    for name in ["ipv4_frag_later", "ipv4_frag_later_mf"] {
        let (flow, layout) = run(&case(name));
        assert_eq!(
            (flow.nw_frag, flow.tp_src, flow.tp_dst, flow.tcp_flags),
            (FRAG_ANY | FRAG_LATER, 0, 0, 0)
        );
        assert_eq!((layout.l4_offset, layout.payload_offset), (Some(34), None));
        assert!(layout.status.is_complete());
    }
    for name in ["ipv4_df", "ipv4_reserved_flag"] {
        let (flow, _) = run(&case(name));
        assert_eq!((flow.nw_frag, flow.tp_src), (0, 5), "{name}");
    }
}

#[test]
fn ipv4_version_nibble_is_not_checked() {
    let (flow, _) = run(&case("ipv4_version_6"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 53,
            tp_dst: 1053,
            ..ipv4_flow(17)
        }
    );
}

#[test]
fn ipv4_unknown_protocol_has_l4_offset_but_no_payload_offset() {
    let (flow, layout) = run(&case("ipv4_unknown_proto"));
    assert_eq!(flow, ipv4_flow(99));
    assert_eq!((layout.l4_offset, layout.payload_offset), (Some(34), None));
    assert!(layout.status.is_complete());
}

#[test]
fn tcp_and_udp_over_ipv6() {
    let (flow, layout) = run(&case("tcp6"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 443,
            tp_dst: 51000,
            tcp_flags: 0x018,
            ..ipv6_flow(6)
        }
    );
    assert_eq!(
        (layout.l3_offset, layout.l4_offset, layout.payload_offset),
        (Some(14), Some(54), Some(74))
    );

    let (flow, layout) = run(&case("udp6_padded"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 546,
            tp_dst: 547,
            ..ipv6_flow(17)
        }
    );
    assert_eq!(layout.l2_pad_len, 6);
}

#[test]
fn ipv6_that_does_not_fit_keeps_no_l3_field() {
    for name in ["ipv6_39_bytes", "ipv6_plen_too_big"] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, eth_flow(0x86dd), "{name}");
        assert_eq!(
            layout.status,
            ExtractStatus::Truncated(HeaderKind::Ipv6),
            "{name}"
        );
        assert_eq!(layout.l4_offset, None);
    }
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let (flow, layout) = run(&case("ipv6_ext_chain_tcp"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 1,
            tp_dst: 2,
            tcp_flags: 1,
            ..ipv6_flow(6)
        }
    );
    assert_eq!(layout.l4_offset, Some(54 + 8 + 16 + 8));

    let (flow, layout) = run(&case("ipv6_ah_udp"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 3,
            tp_dst: 4,
            ..ipv6_flow(17)
        }
    );
    assert_eq!(layout.l4_offset, Some(54 + 24));

    let (flow, _) = run(&case("ipv6_no_next"));
    assert_eq!(flow, ipv6_flow(59));
}

#[test]
fn ipv6_fragment_header() {
    let (flow, layout) = run(&case("ipv6_frag_first_udp"));
    assert_eq!(
        flow,
        Flow {
            nw_frag: FRAG_ANY,
            tp_src: 3,
            tp_dst: 4,
            ..ipv6_flow(17)
        }
    );
    assert_eq!(layout.l4_offset, Some(62));

    // parse-pcap: ipv6,...,nw_proto=44,...,nw_frag=later
    let (flow, layout) = run(&case("ipv6_frag_later"));
    assert_eq!(
        flow,
        Flow {
            nw_frag: FRAG_ANY | FRAG_LATER,
            ..ipv6_flow(44)
        }
    );
    assert_eq!((layout.l4_offset, layout.payload_offset), (Some(62), None));

    let (flow, _) = run(&case("ipv6_frag_atomic"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 3,
            tp_dst: 4,
            ..ipv6_flow(17)
        }
    );

    // Reserved bits alone make it a (first) fragment, as in OVS.
    let (flow, _) = run(&case("ipv6_frag_reserved_bits"));
    assert_eq!(
        flow,
        Flow {
            nw_frag: FRAG_ANY,
            tp_src: 3,
            tp_dst: 4,
            tcp_flags: 2,
            ..ipv6_flow(6)
        }
    );

    let (flow, layout) = run(&case("ipv6_hbh_then_frag_later"));
    assert_eq!(
        flow,
        Flow {
            nw_frag: FRAG_ANY | FRAG_LATER,
            ..ipv6_flow(44)
        }
    );
    assert_eq!(layout.l4_offset, Some(54 + 16));
}

#[test]
fn ipv6_cut_extension_header_keeps_only_the_addresses() {
    // parse-pcap: ipv6,...,ipv6_src=2001:db8::1,ipv6_dst=ff02::1,ipv6_label=0x00000,nw_proto=0,...
    for name in ["ipv6_ext_truncated", "ipv6_ext_under_8"] {
        let (flow, layout) = run(&case(name));
        assert_eq!(
            flow,
            Flow {
                ipv6_src: IP6_SRC,
                ipv6_dst: IP6_DST,
                ..eth_flow(0x86dd)
            },
            "{name}"
        );
        assert_eq!(
            layout.status,
            ExtractStatus::Truncated(HeaderKind::Ipv6Extension)
        );
        assert_eq!((layout.l3_offset, layout.l4_offset), (Some(14), None));
    }
    // A complete extension header with nothing after it: the TCP header is what is missing.
    let (flow, layout) = run(&case("ipv6_ext_no_room_after"));
    assert_eq!(flow, ipv6_flow(6));
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Tcp));
    assert_eq!(layout.l4_offset, Some(62));
}

#[test]
fn arp_and_rarp() {
    let arp_flow = |dl_type, op| Flow {
        nw_src: IP4_SRC,
        nw_dst: IP4_DST,
        nw_proto: op,
        arp_sha: MAC_A,
        arp_tha: MAC_B,
        ..eth_flow(dl_type)
    };
    let (flow, layout) = run(&case("arp_request"));
    assert_eq!(flow, arp_flow(0x0806, 1));
    assert_eq!(
        (layout.l3_offset, layout.l4_offset, layout.payload_offset),
        (Some(14), None, None)
    );
    assert!(layout.status.is_complete());

    assert_eq!(run(&case("arp_reply_padded")).0, arp_flow(0x0806, 2));
    assert_eq!(run(&case("rarp")).0, arp_flow(0x8035, 3));
    assert_eq!(run(&case("arp_op_0xff")).0, arp_flow(0x0806, 0xff));
    // parse-pcap: arp_op=0 for opcode 0x0101, other fields kept.
    assert_eq!(run(&case("arp_op_0x101")).0, arp_flow(0x0806, 0));
}

#[test]
fn arp_other_variants_and_truncation() {
    for name in ["arp_hrd_6", "arp_pro_ipv6", "arp_hln_8"] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, eth_flow(0x0806), "{name}");
        assert!(layout.status.is_complete());
    }
    let (flow, layout) = run(&case("arp_27_bytes"));
    assert_eq!(flow, eth_flow(0x0806));
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Arp));
}
