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

mod properties {
    use super::*;
    use crate::flow::{
        ETH_TYPE_ARP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP,
        ETH_TYPE_VLAN_8021AD, ETH_TYPE_VLAN_8021Q, FRAG_MASK, MPLS_BOS_MASK, VlanHeader,
    };
    use crate::odp::attr::Attr;
    use proptest::prelude::*;

    /// A flow of one of the shapes a datapath sees, with every field random within its meaning.
    fn flow_strategy() -> impl Strategy<Value = Flow> {
        let words = proptest::array::uniform30(any::<u64>());
        let shape = (0u8..10, 0u8..6, 0u8..3, 0u8..3, any::<bool>(), 0u8..4);
        (words, shape).prop_map(|(w, (l3, l4, n_vlans, frag, non_eth, nd))| {
            let r = Flow::from_words(w);
            let mut f = Flow {
                recirc_id: r.recirc_id,
                dp_hash: r.dp_hash,
                skb_priority: r.skb_priority,
                skb_mark: r.skb_mark,
                in_port: if r.in_port.is_multiple_of(17) {
                    u32::MAX
                } else {
                    r.in_port
                },
                ct_mark: r.ct_mark,
                ct_zone: r.ct_zone,
                ct_state: r.ct_state,
                ct_label: r.ct_label,
                dl_src: r.dl_src,
                dl_dst: r.dl_dst,
                ..Flow::default()
            };
            f.dl_type = match l3 {
                0 | 1 => ETH_TYPE_IP,
                2 | 3 => ETH_TYPE_IPV6,
                4 => ETH_TYPE_ARP,
                5 => ETH_TYPE_RARP,
                6 => ETH_TYPE_MPLS,
                7 => ETH_TYPE_MPLS_MCAST,
                8 => 0x0600 + r.dl_type % 0x7000,
                _ => r.dl_type % 0x0600,
            };
            match f.dl_type {
                ETH_TYPE_IP | ETH_TYPE_IPV6 => {
                    f.nw_src = r.nw_src;
                    f.nw_dst = r.nw_dst;
                    f.nw_tos = r.nw_tos;
                    f.nw_ttl = r.nw_ttl;
                    f.nw_frag = [0, FRAG_ANY, FRAG_ANY | FRAG_LATER][usize::from(frag)];
                    if f.dl_type == ETH_TYPE_IPV6 {
                        f.nw_src = 0;
                        f.nw_dst = 0;
                        f.ipv6_src = r.ipv6_src;
                        f.ipv6_dst = r.ipv6_dst;
                        f.ipv6_label = r.ipv6_label & 0xf_ffff;
                    }
                    let icmp = if f.dl_type == ETH_TYPE_IP {
                        ipproto::ICMP
                    } else {
                        ipproto::ICMPV6
                    };
                    f.nw_proto = [
                        ipproto::TCP,
                        ipproto::UDP,
                        ipproto::SCTP,
                        icmp,
                        icmp,
                        r.nw_proto,
                    ][usize::from(l4)];
                    f.tp_src = r.tp_src;
                    f.tp_dst = r.tp_dst;
                    if f.nw_proto == ipproto::TCP {
                        f.tcp_flags = r.tcp_flags & 0x0fff;
                    } else if f.nw_proto == icmp {
                        f.tp_src %= 256;
                        f.tp_dst %= 256;
                        if icmp == ipproto::ICMPV6 && nd < 2 {
                            f.tp_src = [135, 136][usize::from(nd)];
                            f.tp_dst = 0;
                            f.nd_target = r.nd_target;
                            f.arp_sha = r.arp_sha;
                            f.arp_tha = r.arp_tha;
                        }
                    }
                }
                ETH_TYPE_ARP | ETH_TYPE_RARP => {
                    f.nw_src = r.nw_src;
                    f.nw_dst = r.nw_dst;
                    f.nw_proto = r.nw_proto % 255;
                    f.arp_sha = r.arp_sha;
                    f.arp_tha = r.arp_tha;
                }
                ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST => f.mpls_lse = r.mpls_lse | MPLS_BOS_MASK,
                _ => {}
            }
            if non_eth && f.dl_type >= 0x0600 {
                f.packet_type = (1 << 16) | u32::from(f.dl_type);
            } else {
                for i in 0..usize::from(n_vlans) {
                    let tpid = if r.vlans[i].tpid.is_multiple_of(2) {
                        ETH_TYPE_VLAN_8021Q
                    } else {
                        ETH_TYPE_VLAN_8021AD
                    };
                    f.vlans[i] = VlanHeader {
                        tpid,
                        tci: r.vlans[i].tci | VLAN_CFI,
                    };
                }
            }
            f
        })
    }

    /// A mask that satisfies what a datapath mask must (L3 only under an exact Ethertype, L4 only
    /// under an exact protocol, ND under an exact ICMP type and code) and the limits of the text
    /// (20-bit labels, 12-bit TCP flags, a visible fragment type).
    fn mask_for(f: &Flow, w: [u64; 30], density: u8) -> Wildcards {
        let mut m = Flow::from_words(w);
        // Thin out the random bits so that wildcarded and exact fields both appear.
        let keep = Flow::from_words(std::array::from_fn(|i| {
            let x = w[(i + 7) % 30].rotate_left(u32::from(density));
            match density % 3 {
                0 => x & w[(i + 3) % 30],
                1 => x | w[(i + 3) % 30],
                _ => x,
            }
        }));
        for (a, b) in m.words_mut().iter_mut().zip(keep.words()) {
            *a &= b;
        }
        m.pad0 = 0;
        m.pad1 = 0;
        m.pad2 = 0;
        m.pad3 = 0;
        m.pad4 = 0;
        m.metadata = 0;
        m.regs = [0; 16];
        m.ipv6_label &= 0xf_ffff;
        m.tcp_flags &= 0x0fff;
        // recirc_id cannot be masked in the text (OVS always matches it exactly).
        m.recirc_id = u32::MAX;
        if f.nw_frag != 0 {
            m.nw_frag |= FRAG_ANY;
        }
        for i in 0..2 {
            if f.vlans[i].tci != 0 {
                m.vlans[i].tci |= VLAN_CFI;
            }
        }
        let nd_masked = m.nd_target != [0; 16] || m.arp_sha != [0; 6] || m.arp_tha != [0; 6];
        if build::is_nd(f) && nd_masked {
            m.tp_src |= 0xff;
            m.tp_dst |= 0xff;
        }
        let l4 = m.tp_src != 0 || m.tp_dst != 0 || m.tcp_flags != 0;
        if l4 {
            m.nw_proto = u8::MAX;
        }
        let l3 = m.nw_src != 0
            || m.nw_dst != 0
            || m.ipv6_src != [0; 16]
            || m.ipv6_dst != [0; 16]
            || m.ipv6_label != 0
            || m.nw_proto != 0
            || m.nw_tos != 0
            || m.nw_ttl != 0
            || m.nw_frag != 0
            || m.arp_sha != [0; 6]
            || m.arp_tha != [0; 6]
            || m.mpls_lse != 0
            || l4;
        if l3 {
            m.dl_type = u16::MAX;
        }
        Wildcards { masks: m }
    }

    /// Key attributes with their masks, as printed (hidden values cleared).
    fn printed_pairs(f: &Flow, w: &Wildcards, order: KeyOrder) -> Vec<(Attr, Option<Attr>)> {
        let key = build::build(f, Some(&w.masks), false, order);
        let mask = build::build(f, Some(&w.masks), true, order);
        pair_up(&key, &mask)
    }

    fn pair_up(key: &[Attr], mask: &[Attr]) -> Vec<(Attr, Option<Attr>)> {
        key.iter()
            .map(|k| {
                // A missing mask attribute prints as an all-zero one.
                let m = mask
                    .iter()
                    .find(|m| m.kind() == k.kind())
                    .cloned()
                    .or_else(|| Some(k.zeroed()));
                match (k, &m) {
                    (Attr::Encap(ki), Some(Attr::Encap(mi))) => {
                        let inner = pair_up(ki, mi);
                        (
                            Attr::Encap(inner.iter().map(|(k, _)| k.clone()).collect()),
                            Some(Attr::Encap(
                                inner.into_iter().filter_map(|(_, m)| m).collect(),
                            )),
                        )
                    }
                    // Masked TCP flags print only the matched bits (`tcp_flags(0/0)` none).
                    (Attr::TcpFlags(v), m) => {
                        let mask = match m {
                            Some(Attr::TcpFlags(m)) => *m & 0x0fff,
                            _ => 0,
                        };
                        let v = if mask == 0x0fff { *v } else { v & mask };
                        (Attr::TcpFlags(v), Some(Attr::TcpFlags(mask)))
                    }
                    _ => (k.clone(), m),
                }
            })
            .collect()
    }

    fn both_orders() -> impl Strategy<Value = KeyOrder> {
        prop_oneof![Just(KeyOrder::Current), Just(KeyOrder::Ovs31)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn verbose_print_parse_print_is_stable(
            f in flow_strategy(),
            w in proptest::array::uniform30(any::<u64>()),
            density in any::<u8>(),
            order in both_orders(),
        ) {
            let wc = mask_for(&f, w, density);
            let o = FormatOptions { verbose: true, key_order: order, port_names: Some(&PORTS) };
            let s1 = key_text(&f, Some(&wc), &o);
            let (f2, w2) = parse_dumped_key(&s1, Some(&PORTS)).map_err(|e| TestCaseError::fail(format!("{s1}: {}", e.detailed())))?;
            prop_assert_eq!(&key_text(&f2, Some(&w2), &o), &s1);
            prop_assert_eq!(printed_pairs(&f2, &w2, order), printed_pairs(&f, &wc, order));
        }

        #[test]
        fn terse_print_parse_print_is_stable(
            f in flow_strategy(),
            w in proptest::array::uniform30(any::<u64>()),
            density in any::<u8>(),
            order in both_orders(),
        ) {
            let mut wc = mask_for(&f, w, density);
            // What translation always matches (`xlate_wc_init`): terse text relies on it, as it
            // omits fully wildcarded attributes.
            wc.masks.in_port = u32::MAX;
            wc.masks.packet_type = u32::MAX;
            wc.masks.dl_type = u16::MAX;
            if f.is_ip_any() {
                wc.masks.nw_frag = FRAG_MASK;
            }
            let o = FormatOptions { verbose: false, key_order: order, port_names: None };
            let s1 = key_text(&f, Some(&wc), &o);
            let (f2, w2) = parse_dumped_key(&s1, None).map_err(|e| TestCaseError::fail(format!("{s1}: {}", e.detailed())))?;
            prop_assert_eq!(&key_text(&f2, Some(&w2), &o), &s1);
        }

        #[test]
        fn key_alone_round_trips(mut f in flow_strategy(), order in both_orders()) {
            // Without a mask an 802.3 frame cannot be read back (OVS needs the mask's Ethertype).
            if f.dl_type < 0x0600 {
                f.dl_type = 0x88cc;
            }
            let o = FormatOptions { verbose: true, key_order: order, port_names: None };
            let s1 = key_text(&f, None, &o);
            let (f2, _) = parse_key(&s1, None).map_err(|e| TestCaseError::fail(format!("{s1}: {}", e.detailed())))?;
            prop_assert_eq!(&key_text(&f2, None, &o), &s1);
            prop_assert_eq!(build::build(&f2, None, false, order), build::build(&f, None, false, order));
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = parse_key(&s, Some(&PORTS));
            let _ = parse_dumped_key(&s, None);
            let _ = parse_dump_line(&s, 7, Some(&PORTS));
        }

        #[test]
        fn mutated_lines_never_panic(i in 0usize..3, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let line = [MISS_UPCALL_KEY, MEGAFLOW_TERSE, MEGAFLOW_VERBOSE][i];
            let mut bytes = line.as_bytes().to_vec();
            let pos = at.index(bytes.len());
            bytes[pos] = byte;
            if let Ok(s) = String::from_utf8(bytes) {
                if let Err(e) = parse_dump_line(&s, 7, Some(&PORTS)) {
                    prop_assert!(e.position() <= s.len());
                }
                let _ = parse_key(&s, None);
            }
        }
    }
}

#[test]
fn terse_mpls_without_mpls_attribute() {
    // Found by the fuzzer: a terse key that leaves out a fully wildcarded `mpls(...)`.
    let text = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x8847)";
    let (f, w) = parse_dumped_key(text, None).expect("parses");
    assert_eq!(key_text(&f, Some(&w), &FormatOptions::default()), text);
    let verbose = FormatOptions {
        verbose: true,
        ..FormatOptions::default()
    };
    let v = key_text(&f, Some(&w), &verbose);
    assert!(
        v.ends_with("eth_type(0x8847),mpls(label=0/0x0,tc=0/0,ttl=0/0x0,bos=1/0)"),
        "{v}"
    );
    let (f2, w2) = parse_dumped_key(&v, None).expect("parses");
    assert_eq!(key_text(&f2, Some(&w2), &verbose), v);
}

#[test]
fn verbose_only_parts_round_trip() {
    // Layout from `format_dpif_flow` (lib/dpctl.c); no offloading datapath was available to capture.
    for line in [
        "ufid:11111111-2222-4333-8444-555555555555, recirc_id(0),dp_hash(0/0),skb_priority(0/0),in_port(p2),\
skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),packet_type(ns=0,id=0),\
eth(src=00:00:00:00:00:01/00:00:00:00:00:00,dst=00:00:00:00:00:02/00:00:00:00:00:00),eth_type(0x1234), \
packets:1, bytes:60, used:2.500s, offloaded:partial, dp:ovs, actions:p1, dp-extra-info:miniflow_bits(4,1)",
        "ufid:11111111-2222-4333-8444-555555555555, recirc_id(0),dp_hash(0/0),skb_priority(0/0),in_port(p2),\
skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),packet_type(ns=0,id=0),\
eth(src=00:00:00:00:00:01/00:00:00:00:00:00,dst=00:00:00:00:00:02/00:00:00:00:00:00),eth_type(0x1234), \
packets:1, bytes:60, used:2.500s, offloaded:yes, dp:tc, actions:drop",
    ] {
        let l = parse_dump_line(line, 10_000, Some(&PORTS)).expect("parses");
        assert!(l.extras.offloaded);
        assert_eq!(l.stats.used_ms, 7_500);
        assert_eq!(line_text(&l, 10_000, &opts(true, KeyOrder::Current)), line);
    }
}
