//! Translation cases found by the differential conformance suite (`conformance/`): each test
//! pins the datapath actions and megaflow mask Open vSwitch 3.1 recorded for the scenario it
//! names (`conformance/expected/NAME.out`, recorded from a live OVS 3.1 with `--record`).

use rvs_flow::Flow;
use rvs_flow::flow::{ETH_TYPE_IPV6, FRAG_ANY, FRAG_LATER, FRAG_MASK, ipproto};
use rvs_flow::odp::format_actions;

use super::tests::{tables_with, tcp_flow};
use super::{Bridge, Translator, XlateInput, XlateOutput};
use crate::mac_learning::MacLearning;

fn translate(flows: &[&str], flow: Flow) -> XlateOutput {
    let bridge = Bridge::with_trunk_ports(4);
    let tables = tables_with(flows);
    let mac = MacLearning::new();
    let xlator = Translator {
        bridge: &bridge,
        tables: &tables,
        mac: &mac,
    };
    xlator.translate(&XlateInput::new(flow, tables.version()))
}

fn actions_text(out: &XlateOutput) -> String {
    let mut s = String::new();
    format_actions(&mut s, &out.odp_actions, None);
    s
}

/// A UDP packet from port 1: 10.0.0.1:1000 → 10.0.0.2:53, TTL 64.
fn udp_dns_flow() -> Flow {
    let mut f = tcp_flow(1);
    f.nw_proto = ipproto::UDP;
    f.tp_dst = 53;
    f
}

/// `038-frag-later-l4-rule` (OVS 3.1): a first fragment is looked up with both ports zero, so
/// it misses `udp,tp_dst=53`; megaflow `ipv4(proto=17,frag=first),udp(dst=53/0xffe0)`,
/// `actions:drop`. A later fragment: `ipv4(proto=17,frag=later)`, `actions:drop`.
#[test]
fn ipv4_fragments_are_looked_up_without_ports() {
    let rules = ["udp,tp_dst=53,actions=output:2"];
    let mut first = udp_dns_flow();
    first.nw_frag = FRAG_ANY;
    let out = translate(&rules, first);
    assert_eq!(actions_text(&out), "drop");
    assert!(out.rules_hit.is_empty());
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
    assert_eq!(out.wc.masks.nw_frag, FRAG_MASK);
    assert_eq!(out.wc.masks.tp_dst, 0xffe0);
    assert_eq!(out.wc.masks.tp_src, 0);

    let mut later = udp_dns_flow();
    later.nw_frag = FRAG_ANY | FRAG_LATER;
    let out = translate(&rules, later);
    assert_eq!(actions_text(&out), "drop");
    assert_eq!(out.wc.masks.tp_dst, 0);
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);

    // Not a fragment: the rule matches.
    let out = translate(&rules, udp_dns_flow());
    assert_eq!(actions_text(&out), "2");
}

/// `108-ipv6-frag` (OVS 3.1): the same for IPv6: the first fragment to port 53 falls to the
/// priority-0 rule, megaflow `ipv6(proto=17,frag=first),udp(dst=53/0xffe0)`, `actions:3`.
#[test]
fn ipv6_first_fragment_misses_the_port_rule() {
    let rules = [
        "priority=10,udp6,tp_dst=53,actions=output:2",
        "priority=0,actions=output:3",
    ];
    let mut first = udp_dns_flow();
    first.dl_type = ETH_TYPE_IPV6;
    first.nw_src = 0;
    first.nw_dst = 0;
    first.nw_frag = FRAG_ANY;
    let out = translate(&rules, first);
    assert_eq!(actions_text(&out), "3");
    assert_eq!(out.wc.masks.tp_dst, 0xffe0);
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
    assert_eq!(out.wc.masks.tp_src, 0);
}

/// An IPv6 neighbour solicitation from port 1 for `target` (its last byte).
fn neighbour_solicitation(target_last_byte: u8) -> Flow {
    let mut f = Flow {
        in_port: 1,
        dl_type: ETH_TYPE_IPV6,
        nw_proto: ipproto::ICMPV6,
        nw_ttl: 255,
        tp_src: 135,
        ..Flow::default()
    };
    f.ipv6_src = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    f.nd_target = [
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        target_last_byte,
    ];
    f
}

/// `035-megaflow-ipv6-nd-target` (OVS 3.1): `nd_target` is in the last (L4) lookup stage
/// together with the ICMPv6 type, so a solicitation for another target misses in that stage
/// and its megaflow is `ipv6(proto=58,frag=no),icmpv6(type=135)`, `actions:drop` (the ports
/// trie un-wildcards the type). The hit has the same text with `actions:2`.
#[test]
fn nd_target_miss_matches_the_icmpv6_type() {
    let rules = ["icmp6,icmp_type=135,nd_target=fe80::2,actions=output:2"];
    let out = translate(&rules, neighbour_solicitation(3));
    assert_eq!(actions_text(&out), "drop");
    assert_eq!(out.wc.masks.tp_src, 0xff);
    assert_eq!(out.wc.masks.tp_dst, 0);
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
    assert_eq!(out.wc.masks.ipv6_src, [0; 16]);

    let out = translate(&rules, neighbour_solicitation(2));
    assert_eq!(actions_text(&out), "2");
    assert_eq!(out.wc.masks.tp_src, 0xff);
    assert_eq!(out.wc.masks.nd_target, [0xff; 16]);
}

/// An ICMP echo request from port 1: `src` → 10.0.0.1.
fn icmp_echo(src: u32) -> Flow {
    let mut f = tcp_flow(1);
    f.nw_proto = ipproto::ICMP;
    f.nw_src = src;
    f.nw_dst = 0x0a00_0001;
    f.tp_src = 8;
    f.tp_dst = 0;
    f
}

/// `011-megaflow-push` (OVS 3.1's own test "ofproto-dpif megaflow - push action"): pushing
/// `NXM_OF_IP_SRC[]` reads it, so the megaflow is `ipv4(src=10.0.0.2,frag=no)`, `actions:2`
/// (no `proto`).
#[test]
fn stack_push_unwildcards_the_pushed_field() {
    let rules = ["table=0 in_port=1 ip,actions=push:NXM_OF_IP_SRC[],output(2)"];
    let out = translate(&rules, icmp_echo(0x0a00_0002));
    assert_eq!(actions_text(&out), "2");
    assert_eq!(out.wc.masks.nw_src, u32::MAX);
    assert_eq!(out.wc.masks.nw_dst, 0);
    assert_eq!(out.wc.masks.nw_proto, 0);
}

/// Oracle (OVS 3.1 `ofproto/trace`): `push:NXM_OF_IP_SRC[0..7],pop:NXM_OF_IP_DST[8..15]` on
/// 10.0.0.2 → 10.0.0.1 gives megaflow `ip,nw_src=0.0.0.2/0.0.0.255,nw_dst=0.0.0.0/0.0.255.0`
/// and `set(ipv4(dst=0.0.2.0/0.0.255.0)),2`; a `pop` from an empty stack does nothing
/// (`stack underflow`), megaflow `ip`, actions `2`.
#[test]
fn stack_pop_writes_and_unwildcards_the_popped_bits() {
    let rules =
        ["in_port=1,ip,actions=push:NXM_OF_IP_SRC[0..7],pop:NXM_OF_IP_DST[8..15],output(2)"];
    let out = translate(&rules, icmp_echo(0x0a00_0002));
    assert_eq!(actions_text(&out), "set(ipv4(dst=0.0.2.0/0.0.255.0)),2");
    assert_eq!(out.wc.masks.nw_src, 0xff);
    assert_eq!(out.wc.masks.nw_dst, 0xff00);
    assert_eq!(out.wc.masks.nw_proto, 0);

    let out = translate(
        &["in_port=1,ip,actions=pop:NXM_NX_REG0[],output(2)"],
        icmp_echo(2),
    );
    assert_eq!(actions_text(&out), "2");
    assert_eq!(out.wc.masks.nw_src, 0);
}

/// `090-set-field-ipv4` (OVS 3.1): `set_field:10.0.0.9->ip_dst` on a UDP packet already going
/// to 10.0.0.9 emits nothing but its megaflow is `ipv4(dst=10.0.0.9,proto=17,frag=no)`; on
/// one going to 10.0.0.2 it is `ipv4(dst=10.0.0.2,proto=17,frag=no)` with
/// `set(ipv4(dst=10.0.0.9)),2`.
#[test]
fn set_field_ipv4_makes_the_protocol_exact_even_without_change() {
    let rules = ["in_port=1,ip,actions=set_field:10.0.0.9->ip_dst,output:2"];
    let mut already = udp_dns_flow();
    already.nw_src = 0x0a00_0005;
    already.nw_dst = 0x0a00_0009;
    let out = translate(&rules, already);
    assert_eq!(actions_text(&out), "2");
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
    assert_eq!(out.wc.masks.nw_dst, u32::MAX);
    assert_eq!(out.wc.masks.nw_src, 0);

    let out = translate(&rules, udp_dns_flow());
    assert_eq!(actions_text(&out), "set(ipv4(dst=10.0.0.9)),2");
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
}

/// Oracle (OVS 3.1 `ofproto/trace`): the protocol comes from the set action, not from the
/// commit. `mod_nw_dst` with no output: megaflow `tcp,in_port=1,nw_dst=10.0.0.9`, `drop`;
/// `move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[]` commits `set(ipv4(dst=10.0.0.2))` with megaflow
/// `ip,...`; `set_field` on `arp_sha` makes the ARP opcode exact (`arp,arp_op=1,...`);
/// `set_field` on `reg0` does not touch the protocol (`ip`).
#[test]
fn only_l3_set_actions_make_the_protocol_exact() {
    let mut f = tcp_flow(1);
    f.nw_dst = 0x0a00_0009;
    let out = translate(&["in_port=1,ip,actions=mod_nw_dst:10.0.0.9"], f);
    assert_eq!(actions_text(&out), "drop");
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);

    let out = translate(
        &["in_port=1,ip,actions=move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],output(2)"],
        icmp_echo(0x0a00_0002),
    );
    assert_eq!(actions_text(&out), "set(ipv4(dst=10.0.0.2)),2");
    assert_eq!(out.wc.masks.nw_proto, 0);

    let mut arp = Flow {
        in_port: 1,
        dl_type: rvs_flow::flow::ETH_TYPE_ARP,
        nw_proto: 1,
        ..Flow::default()
    };
    arp.arp_sha = [0, 0, 0, 0, 0, 1];
    let out = translate(
        &["in_port=1,arp,actions=set_field:00:00:00:00:00:01->arp_sha,output:2"],
        arp,
    );
    assert_eq!(actions_text(&out), "2");
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);

    let out = translate(
        &["in_port=1,ip,actions=set_field:5->reg0,output:2"],
        tcp_flow(1),
    );
    assert_eq!(out.wc.masks.nw_proto, 0);
}
