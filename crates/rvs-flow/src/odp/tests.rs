//! Tests of the key and dump-line text: the reference examples (ovs-upcall.md §7.4), error
//! positions, and property tests of print → parse → print.

use super::*;
use crate::flow::{ETH_TYPE_IP, FRAG_ANY, FRAG_LATER, VLAN_CFI, ipproto};

const PORTS: &[(u32, &str)] = &[
    (0, "ovs-dummy"),
    (1, "p1"),
    (2, "p2"),
    (3, "p3"),
    (4, "p4"),
    (100, "br0"),
];

fn opts(verbose: bool, key_order: KeyOrder) -> FormatOptions<'static> {
    FormatOptions {
        verbose,
        key_order,
        port_names: Some(&PORTS),
    }
}

fn key_text(flow: &Flow, mask: Option<&Wildcards>, o: &FormatOptions<'_>) -> String {
    let mut s = String::new();
    format_key(&mut s, flow, mask, o);
    s
}

fn line_text(l: &DumpLine, now: u64, o: &FormatOptions<'_>) -> String {
    let mut s = String::new();
    format_dump_line(
        &mut s,
        l.ufid.as_ref(),
        &l.flow,
        &l.wc,
        &l.stats,
        now,
        &l.actions,
        &l.extras,
        o,
    );
    s
}

// The three lines below are the userspace-datapath examples of ovs-upcall.md §7.4 (current OVS
// attribute order).
const MISS_UPCALL_KEY: &str = "recirc_id(0),dp_hash(0),skb_priority(0),in_port(1),skb_mark(0),ct_state(0),ct_zone(0),\
ct_mark(0),ct_label(0),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,dst=50:54:00:00:02:00),eth_type(0x0800),\
ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=8,dst=9),tcp_flags(ack)";
const MEGAFLOW_TERSE: &str = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no), \
packets:0, bytes:0, used:never, actions:drop";
const MEGAFLOW_VERBOSE: &str = "recirc_id(0),dp_hash(0/0),skb_priority(0/0),in_port(p1),skb_mark(0/0),ct_state(0/0),\
ct_zone(0/0),ct_mark(0/0),ct_label(0/0),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05/00:00:00:00:00:00,\
dst=50:54:00:00:00:07/00:00:00:00:00:00),eth_type(0x0800),ipv4(src=192.168.0.1/0.0.0.0,dst=192.168.0.2/0.0.0.0,\
proto=1/0,tos=0/0,ttl=64/0,frag=no),icmp(type=8/0,code=0/0), packets:0, bytes:0, used:never, actions:drop";

#[test]
fn reference_miss_upcall_key_round_trips() {
    let (flow, _) = parse_key(MISS_UPCALL_KEY, None).expect("parses");
    assert_eq!(flow.nw_src, 0x0a00_0001);
    assert_eq!(flow.tcp_flags, crate::flow::tcp_flags::ACK);
    let o = FormatOptions {
        verbose: true,
        ..FormatOptions::default()
    };
    assert_eq!(key_text(&flow, None, &o), MISS_UPCALL_KEY);
}

#[test]
fn reference_megaflows_round_trip() {
    let terse = parse_dump_line(MEGAFLOW_TERSE, 1000, None).expect("parses");
    assert_eq!(terse.wc.masks.nw_frag, crate::flow::FRAG_MASK);
    assert_eq!(terse.wc.masks.nw_src, 0);
    assert_eq!(
        line_text(&terse, 1000, &FormatOptions::default()),
        MEGAFLOW_TERSE
    );

    let verbose = parse_dump_line(MEGAFLOW_VERBOSE, 1000, Some(&PORTS)).expect("parses");
    assert_eq!(verbose.flow.nw_src, 0xc0a8_0001);
    assert_eq!(verbose.wc.masks.nw_src, 0);
    assert_eq!(verbose.flow.in_port, 1);
    assert_eq!(
        line_text(&verbose, 1000, &opts(true, KeyOrder::Current)),
        MEGAFLOW_VERBOSE
    );
    // The verbose line holds everything the terse one shows.
    let terse_from_verbose = line_text(&verbose, 1000, &FormatOptions::default());
    assert_eq!(
        terse_from_verbose,
        "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, \
         used:never, actions:drop"
    );
}

#[test]
fn ovs31_example_from_the_oracle() {
    // Printed by OVS 3.1 (`dpctl/dump-flows -m` after a dpctl/add-flow without eth()).
    let line = "ufid:344522cc-4815-450f-a847-c88dae765318, skb_priority(0/0),skb_mark(0/0),ct_state(0/0),\
ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),in_port(p1),packet_type(ns=1/0,id=0x800/0),\
eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,dst=0.0.0.0/0.0.0.0,proto=6,tos=0/0,ttl=0/0,frag=no),\
tcp(src=0/0,dst=80), packets:0, bytes:0, used:never, dp:ovs, actions:p2, dp-extra-info:miniflow_bits(3,3)";
    let l = parse_dump_line(line, 5, Some(&PORTS)).expect("parses");
    assert_eq!(l.flow.packet_type, 0x0001_0800);
    assert_eq!(l.actions, vec![OdpAction::Output(2)]);
    assert_eq!(line_text(&l, 5, &opts(true, KeyOrder::Ovs31)), line);
}

#[test]
fn used_and_flags_round_trip() {
    let line = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80), \
packets:12, bytes:1200, used:0.042s, flags:SP., actions:2";
    let l = parse_dump_line(line, 1_000_000, None).expect("parses");
    assert_eq!(l.stats.used_ms, 1_000_000 - 42);
    assert_eq!(l.stats.tcp_flags, 0x1a);
    assert_eq!(line_text(&l, 1_000_000, &FormatOptions::default()), line);
}

#[test]
fn errors_are_positioned() {
    let bad = "in_port(1),eth_type(0x0800),ipv4(src=1.2.3.4,proto=6,frag=maybe),tcp(dst=80)";
    let e = parse_key(bad, None).expect_err("bad frag");
    assert_eq!(e.position(), bad.find("maybe").expect("present"));
    assert!(
        e.message().starts_with("syntax error at ipv4("),
        "{}",
        e.message()
    );

    let missing = "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6)";
    let e = parse_key(missing, None).expect_err("no tcp");
    assert_eq!(e.message(), "expected but not present: tcp");
    assert_eq!(e.position(), missing.len());

    let extra = "in_port(1),eth(),eth_type(0x0800),ipv4(proto=17),udp(),tcp()";
    let e = parse_key(extra, None).expect_err("tcp under udp");
    assert_eq!(e.message(), "present but not expected: tcp");
    assert_eq!(e.position(), extra.find("tcp(").expect("present"));

    let dup = "in_port(1),in_port(2),eth(),eth_type(0x1234)";
    let e = parse_key(dup, None).expect_err("duplicate");
    assert_eq!(e.message(), "duplicate in_port attribute in flow key");
    assert_eq!(e.position(), 11);

    let e = parse_key("in_port(1),eth(src=1:2:3:4:5:6)", None).expect_err("802.3 without mask");
    assert_eq!(e.message(), "mask expected for non-Ethernet II frame");

    let e = parse_key(
        "in_port(1),eth(),eth_type(0x8100),vlan(vid=5,cfi=0),encap(eth_type(0x1234))",
        None,
    )
    .expect_err("CFI");
    assert_eq!(
        e.message(),
        "OVS_KEY_ATTR_VLAN 0x0005 is nonzero but CFI bit is not set"
    );

    let e = parse_key(
        "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6/0xf0),tcp(dst=80)",
        None,
    )
    .expect_err("L4 under a masked protocol");
    assert_eq!(
        e.message(),
        "flow matches on L4 ports but does not define an L4 protocol"
    );
}

#[test]
fn frag_and_vlan_corner_cases() {
    let mut flow = Flow {
        in_port: 1,
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::UDP,
        ..Flow::default()
    };
    flow.nw_frag = FRAG_ANY | FRAG_LATER;
    flow.vlans[0].tpid = crate::flow::ETH_TYPE_VLAN_8021Q;
    flow.vlans[0].tci = VLAN_CFI | 11 | (7 << 13);
    let mut wc = Wildcards::exact();
    wc.masks.vlans[0].tci = 0x1fff;
    wc.masks.nw_frag = FRAG_LATER;
    let text = key_text(&flow, Some(&wc), &FormatOptions::default());
    assert_eq!(
        text,
        "recirc_id(0),dp_hash(0),skb_priority(0),in_port(1),skb_mark(0),ct_state(-new-est-rel-rpl-inv-trk-snat-dnat),\
ct_zone(0),ct_mark(0),ct_label(0),packet_type(ns=0,id=0),eth(src=00:00:00:00:00:00,dst=00:00:00:00:00:00),\
eth_type(0x8100),vlan(vid=11,pcp=7/0x0),encap(eth_type(0x0800),ipv4(src=0.0.0.0,dst=0.0.0.0,proto=17,tos=0,\
ttl=0))"
    );
    // A frag mask without FRAG_ANY is no frag mask at all on the datapath side.
    wc.masks.nw_frag = FRAG_ANY;
    let text = key_text(&flow, Some(&wc), &FormatOptions::default());
    assert!(text.ends_with("ttl=0,frag=later))"), "{text}");
    let (f2, w2) = parse_key(&text, None).expect("parses");
    assert_eq!(key_text(&f2, Some(&w2), &FormatOptions::default()), text);
}

#[test]
fn non_ethernet_ii_frames_round_trip() {
    let flow = Flow {
        in_port: 3,
        dl_type: 0x05dc,
        ..Flow::default()
    };
    let mut wc = Wildcards::default();
    wc.masks.in_port = u32::MAX;
    wc.masks.recirc_id = u32::MAX;
    wc.masks.packet_type = u32::MAX;
    wc.masks.dl_type = u16::MAX;
    wc.masks.dl_dst = [0xff; 6];
    let text = key_text(&flow, Some(&wc), &FormatOptions::default());
    assert_eq!(
        text,
        "recirc_id(0),in_port(3),packet_type(ns=0,id=0),eth(dst=00:00:00:00:00:00),eth_type(0/0xffff)"
    );
    let (f2, w2) = parse_key(&text, None).expect("parses");
    assert_eq!(f2.dl_type, crate::flow::ETH_TYPE_NONE);
    assert_eq!(key_text(&f2, Some(&w2), &FormatOptions::default()), text);
}
