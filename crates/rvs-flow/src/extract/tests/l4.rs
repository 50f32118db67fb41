//! Unit tests of the transport layer: TCP, UDP, SCTP, ICMP, IGMP, ICMPv6 and neighbor discovery.
//!
//! Every expected flow here was also checked against Open vSwitch 3.1.0 (`ovs-ofctl
//! parse-pcap`, see [`super::oracle`]), except the ND option type in `tcp_flags`, which
//! `parse-pcap` does not print: it was checked by tracing a solicitation with an SLL option
//! through an oracle `ovs-vswitchd` against a rule on `nd_options_type=1`.

use super::cases::{MAC_A, MAC_B, ND_TARGET};
use super::{case, ipv4_flow, ipv6_flow, run};
use crate::extract::{ExtractStatus, HeaderKind};
use crate::flow::{FRAG_ANY, Flow};

#[test]
fn tcp_keeps_all_twelve_flag_bits() {
    // parse-pcap: tcp_flags=fin|syn|rst|psh|ack|urg|ece|cwr|ns|[200]|[400]|[800]
    let (flow, _) = run(&case("tcp4_all_flags"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 1,
            tp_dst: 2,
            tcp_flags: 0x0fff,
            ..ipv4_flow(6)
        }
    );
}

#[test]
fn tcp_header_must_be_whole() {
    // parse-pcap: tcp,...,tp_src=0,tp_dst=0,tcp_flags=0 for each.
    for (name, status) in [
        ("tcp4_19_bytes", ExtractStatus::Truncated(HeaderKind::Tcp)),
        ("tcp4_doff_4", ExtractStatus::Malformed(HeaderKind::Tcp)),
        (
            "tcp4_options_cut",
            ExtractStatus::Truncated(HeaderKind::Tcp),
        ),
    ] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, ipv4_flow(6), "{name}");
        assert_eq!(layout.status, status, "{name}");
        assert_eq!(
            (layout.l4_offset, layout.payload_offset),
            (Some(34), None),
            "{name}"
        );
    }
}

#[test]
fn udp_and_sctp_ports() {
    let (flow, layout) = run(&case("udp4"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 53,
            tp_dst: 1053,
            ..ipv4_flow(17)
        }
    );
    assert_eq!(layout.payload_offset, Some(42));

    let (flow, layout) = run(&case("sctp4"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 2905,
            tp_dst: 2906,
            ..ipv4_flow(132)
        }
    );
    assert_eq!(layout.payload_offset, Some(46));

    let (flow, _) = run(&case("sctp6"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 1,
            tp_dst: 65535,
            ..ipv6_flow(132)
        }
    );

    for (name, proto, header) in [
        ("udp4_7_bytes", 17, HeaderKind::Udp),
        ("sctp4_11_bytes", 132, HeaderKind::Sctp),
    ] {
        let (flow, layout) = run(&case(name));
        assert_eq!(flow, ipv4_flow(proto), "{name}");
        assert_eq!(layout.status, ExtractStatus::Truncated(header));
    }
}

#[test]
fn icmp_and_igmp_type_and_code() {
    let (flow, layout) = run(&case("icmp4_echo"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 8,
            tp_dst: 0,
            ..ipv4_flow(1)
        }
    );
    assert_eq!(layout.payload_offset, Some(42));
    assert_eq!(
        run(&case("icmp4_unreach")).0,
        Flow {
            tp_src: 3,
            tp_dst: 13,
            ..ipv4_flow(1)
        }
    );
    // parse-pcap: ip,...,nw_proto=2,...,tp_src=22,tp_dst=0
    assert_eq!(
        run(&case("igmp4")).0,
        Flow {
            tp_src: 0x16,
            ..ipv4_flow(2)
        }
    );
    // ICMPv4 inside IPv6 is still read by protocol number.
    assert_eq!(
        run(&case("icmp_in_ipv6")).0,
        Flow {
            tp_src: 8,
            ..ipv6_flow(1)
        }
    );

    // OVS wants the whole 8-byte header, even for type and code.
    let (flow, layout) = run(&case("icmp4_7_bytes"));
    assert_eq!(flow, ipv4_flow(1));
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Icmp));
}

#[test]
fn icmpv6_type_and_code() {
    let (flow, layout) = run(&case("icmp6_echo"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 128,
            ..ipv6_flow(58)
        }
    );
    assert_eq!(layout.payload_offset, Some(62));

    let (flow, layout) = run(&case("icmp6_7_bytes"));
    assert_eq!(flow, ipv6_flow(58));
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Icmpv6));
}

/// An ND flow: type, target, SLL, TLL and option type.
fn nd_flow(msg_type: u16, target: [u8; 16], sll: [u8; 6], tll: [u8; 6], opt_type: u16) -> Flow {
    Flow {
        tp_src: msg_type,
        nd_target: target,
        arp_sha: sll,
        arp_tha: tll,
        tcp_flags: opt_type,
        ..ipv6_flow(58)
    }
}

#[test]
fn neighbor_solicitation_and_advertisement() {
    let (flow, layout) = run(&case("nd_ns_sll"));
    assert_eq!(flow, nd_flow(135, ND_TARGET, MAC_A, [0; 6], 1));
    assert!(layout.status.is_complete());
    assert_eq!(layout.payload_offset, Some(62));

    assert_eq!(
        run(&case("nd_na_tll")).0,
        nd_flow(136, ND_TARGET, [0; 6], MAC_B, 2)
    );
    // The option type is the first address option's.
    assert_eq!(
        run(&case("nd_ns_tll_then_sll")).0,
        nd_flow(135, ND_TARGET, MAC_A, MAC_B, 2)
    );
    assert_eq!(
        run(&case("nd_no_options")).0,
        nd_flow(135, ND_TARGET, [0; 6], [0; 6], 0)
    );
    // Unknown options and address options longer than 8 bytes are skipped.
    assert_eq!(
        run(&case("nd_other_option")).0,
        nd_flow(135, ND_TARGET, MAC_A, [0; 6], 1)
    );
    assert_eq!(
        run(&case("nd_long_sll_ignored")).0,
        nd_flow(135, ND_TARGET, [0; 6], MAC_B, 2)
    );
    // An all-zero SLL does not count as a first one.
    assert_eq!(
        run(&case("nd_zero_sll_then_sll")).0,
        nd_flow(135, ND_TARGET, MAC_B, [0; 6], 1)
    );
    // A code other than 0 is not ND.
    assert_eq!(
        run(&case("nd_code_1")).0,
        Flow {
            tp_src: 135,
            tp_dst: 1,
            ..ipv6_flow(58)
        }
    );

    let (flow, _) = run(&case("nd_behind_frag"));
    assert_eq!(
        flow,
        Flow {
            nw_frag: FRAG_ANY,
            ..nd_flow(136, ND_TARGET, [0; 6], MAC_B, 2)
        }
    );

    // ICMPv6 ND inside IPv4 is parsed by protocol number too.
    let (flow, _) = run(&case("icmp6_in_ipv4_nd"));
    assert_eq!(
        flow,
        Flow {
            tp_src: 135,
            nd_target: ND_TARGET,
            arp_sha: MAC_A,
            tcp_flags: 1,
            ..ipv4_flow(58)
        }
    );
}

#[test]
fn neighbor_discovery_truncated_or_malformed() {
    let (flow, layout) = run(&case("nd_target_cut"));
    assert_eq!(flow, nd_flow(135, [0; 16], [0; 6], [0; 6], 0));
    assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Icmpv6));

    // A bad option length stops the walk but keeps what was found.
    let (flow, layout) = run(&case("nd_opt_len_0"));
    assert_eq!(flow, nd_flow(136, ND_TARGET, [0; 6], MAC_B, 2));
    assert_eq!(
        layout.status,
        ExtractStatus::Malformed(HeaderKind::NdOption)
    );
    let (flow, layout) = run(&case("nd_opt_too_long"));
    assert_eq!(flow, nd_flow(136, ND_TARGET, [0; 6], MAC_B, 2));
    assert_eq!(
        layout.status,
        ExtractStatus::Truncated(HeaderKind::NdOption)
    );
    let (flow, layout) = run(&case("nd_trailing_bytes"));
    assert_eq!(flow, nd_flow(135, ND_TARGET, MAC_A, [0; 6], 1));
    assert_eq!(
        layout.status,
        ExtractStatus::Truncated(HeaderKind::NdOption)
    );

    // A repeated address option clears target and addresses, not the option type.
    // parse-pcap: icmp6,...,nd_target=::,nd_sll=00:00:00:00:00:00,nd_tll=00:00:00:00:00:00
    for name in ["nd_dup_sll", "nd_dup_tll_after_sll"] {
        let (flow, layout) = run(&case(name));
        let msg_type = if name == "nd_dup_sll" { 135 } else { 136 };
        assert_eq!(
            flow,
            nd_flow(msg_type, [0; 16], [0; 6], [0; 6], 1),
            "{name}"
        );
        assert_eq!(
            layout.status,
            ExtractStatus::Malformed(HeaderKind::NdOption)
        );
    }
}
