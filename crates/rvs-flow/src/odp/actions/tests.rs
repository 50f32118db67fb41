//! Tests of the action text: OVS's forms, the extensions, and print → parse → print.

use super::*;
use crate::odp::attr::KeyAttrKind as K;
use proptest::prelude::*;

fn text(actions: &[OdpAction]) -> String {
    let mut s = String::new();
    format_actions(&mut s, actions, None);
    s
}

fn round_trip(s: &str) -> String {
    text(&parse_actions(s, None).unwrap_or_else(|e| panic!("{s}: {}", e.detailed())))
}

#[test]
fn ovs_forms_read_and_print() {
    // Each pair: what was given to OVS 3.1 `dpctl/add-flow`, what its dump printed.
    for (given, printed) in [
        ("drop", "drop"),
        ("1,2,3", "1,2,3"),
        ("recirc(5)", "recirc(0x5)"),
        (
            "userspace(pid=1)",
            "userspace(pid=1,userdata(000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000))",
        ),
        (
            "userspace(pid=2,userdata(01))",
            "userspace(pid=2,userdata(0100000000000000))",
        ),
        (
            "userspace(pid=0,slow_path(cfm|bfd))",
            "userspace(pid=0,slow_path(cfm,bfd))",
        ),
        (
            "push_vlan(vid=4095,pcp=7,cfi=1)",
            "push_vlan(vid=4095,pcp=7)",
        ),
        ("set(ct_state(est))", "set(ct_state(0x2))"),
        (
            "ct(force_commit,zone=65535,mark=0xff,label=0x1,helper=ftp)",
            "ct(force_commit,zone=65535,mark=0xff/0xffffffff,label=0x1,helper=ftp)",
        ),
        (
            "sample(sample=0.0%,actions())",
            "sample(sample=0.0%,actions(drop))",
        ),
        ("set(tcp(src=42/0xff))", "set(tcp(src=42/0xff))"),
        ("set(tcp(src=42,dst=43))", "set(tcp(src=42,dst=43))"),
    ] {
        assert_eq!(round_trip(given), printed, "{given}");
        assert_eq!(round_trip(printed), printed, "{printed}");
    }
}

#[test]
fn what_ovs_prints_but_cannot_read() {
    for s in [
        "hash(l4(0)),recirc(0x1)",
        "hash(sym_l4(7))",
        "push_mpls(label=10,tc=0,ttl=64,bos=1,eth_type=0x8847),2",
        "pop_mpls(eth_type=0x800),2",
        "clone(drop)",
    ] {
        assert_eq!(round_trip(s), s);
    }
}

#[test]
fn set_actions_hold_flow_fields() {
    let a = parse_actions("set(ipv4(src=10.0.0.1,ttl=9/0xf))", None).expect("valid");
    let [
        OdpAction::Set {
            kind,
            value,
            mask: Some(mask),
        },
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert_eq!(*kind, K::Ipv4);
    assert_eq!(value.nw_src, 0x0a00_0001);
    assert_eq!(mask.masks.nw_src, u32::MAX);
    assert_eq!(mask.masks.nw_ttl, 0x0f);
    assert_eq!(mask.masks.nw_dst, 0);
    let a = parse_actions("set(skb_mark(0x5))", None).expect("valid");
    assert!(matches!(
        a.as_slice(),
        [OdpAction::Set {
            kind: K::SkbMark,
            mask: None,
            ..
        }]
    ));
    // Not representable in flow form: two label stack entries, a 16-bit ARP opcode.
    assert!(parse_actions("set(mpls(label=1,label=2))", None).is_err());
    assert!(parse_actions("set(arp(op=256))", None).is_err());
    assert!(parse_actions("set(encap())", None).is_err());
}

#[test]
fn errors_are_positioned() {
    let e = parse_actions("1,2,bogus(3),4", None).expect_err("unknown action");
    assert_eq!(e.position(), 4);
    assert_eq!(e.message(), "syntax error at bogus(3),4");
    let e = parse_actions("1,ct(commit,force_commit)", None).expect_err("both commits");
    assert_eq!(e.position(), 2);
    let e = parse_actions("trunc(5)x", None).expect_err("no delimiter");
    assert_eq!(e.position(), 8);
    let deep = format!("{}1{}", "clone(".repeat(40), ")".repeat(40));
    assert!(parse_actions(&deep, None).is_err());
    let ok = format!("{}1{}", "clone(".repeat(10), ")".repeat(10));
    assert_eq!(round_trip(&ok), ok);
}

#[test]
fn port_names() {
    let ports: &[(u32, &str)] = &[(1, "p1"), (2, "p2")];
    let a = parse_actions(
        "p1,clone(p2),userspace(pid=1,ipfix(output_port=p2))",
        Some(&ports),
    )
    .expect("valid");
    let mut s = String::new();
    format_actions(&mut s, &a, Some(&ports));
    assert_eq!(s, "p1,clone(p2),userspace(pid=1,ipfix(output_port=p2))");
    assert!(parse_actions("p3", Some(&ports)).is_err());
}

/// A value for a `set` of `kind`: random fields of that attribute only, within what the text can
/// hold.
fn set_value(kind: K, r: &Flow) -> Flow {
    let mut v = Flow::default();
    match kind {
        K::SkbPriority => v.skb_priority = r.skb_priority,
        K::SkbMark => v.skb_mark = r.skb_mark,
        K::CtState => v.ct_state = r.ct_state,
        K::CtZone => v.ct_zone = r.ct_zone,
        K::CtMark => v.ct_mark = r.ct_mark,
        K::CtLabel => v.ct_label = r.ct_label,
        K::RecircId => v.recirc_id = r.recirc_id,
        K::DpHash => v.dp_hash = r.dp_hash,
        K::InPort => v.in_port = r.in_port,
        K::PacketType => v.packet_type = r.packet_type,
        K::Eth => {
            v.dl_src = r.dl_src;
            v.dl_dst = r.dl_dst;
        }
        K::Vlan => v.vlans[0].tci = r.vlans[0].tci,
        K::EthType => v.dl_type = r.dl_type,
        K::Ipv4 | K::Ipv6 => {
            if kind == K::Ipv4 {
                v.nw_src = r.nw_src;
                v.nw_dst = r.nw_dst;
            } else {
                v.ipv6_src = r.ipv6_src;
                v.ipv6_dst = r.ipv6_dst;
                v.ipv6_label = r.ipv6_label & 0xf_ffff;
            }
            v.nw_proto = r.nw_proto;
            v.nw_tos = r.nw_tos;
            v.nw_ttl = r.nw_ttl;
            v.nw_frag = [0, 1, 3][usize::from(r.nw_frag % 3)];
        }
        K::Arp => {
            v.nw_src = r.nw_src;
            v.nw_dst = r.nw_dst;
            v.nw_proto = r.nw_proto;
            v.arp_sha = r.arp_sha;
            v.arp_tha = r.arp_tha;
        }
        K::Mpls => v.mpls_lse = r.mpls_lse,
        K::Tcp | K::Udp | K::Sctp => {
            v.tp_src = r.tp_src;
            v.tp_dst = r.tp_dst;
        }
        K::TcpFlags => v.tcp_flags = r.tcp_flags & 0x0fff,
        K::Icmp | K::Icmpv6 => {
            v.tp_src = r.tp_src % 256;
            v.tp_dst = r.tp_dst % 256;
        }
        K::Nd => {
            v.nd_target = r.nd_target;
            v.arp_sha = r.arp_sha;
            v.arp_tha = r.arp_tha;
        }
        K::Encap => {}
    }
    v
}

/// A mask for a masked `set`: random bits over the attribute's fields, within what the text can
/// hold (enumerated fragment type, 8-bit ARP opcode, VLAN CFI always matched).
fn set_mask(kind: K, m: &Flow) -> Flow {
    let mut mask = set_value(kind, m);
    mask.nw_frag = if m.nw_frag & 1 != 0 {
        crate::flow::FRAG_MASK
    } else {
        0
    };
    if !matches!(kind, K::Ipv4 | K::Ipv6) {
        mask.nw_frag = 0;
    }
    if kind == K::Arp {
        mask.nw_proto = if m.nw_proto & 1 != 0 { 0xff } else { 0 };
    }
    if kind == K::Vlan {
        mask.vlans[0].tci |= crate::flow::VLAN_CFI;
    }
    mask
}

const SET_KINDS: [K; 24] = [
    K::SkbPriority,
    K::SkbMark,
    K::CtState,
    K::CtZone,
    K::CtMark,
    K::CtLabel,
    K::RecircId,
    K::DpHash,
    K::InPort,
    K::PacketType,
    K::Eth,
    K::Vlan,
    K::EthType,
    K::Ipv4,
    K::Ipv6,
    K::Arp,
    K::Mpls,
    K::Tcp,
    K::TcpFlags,
    K::Udp,
    K::Sctp,
    K::Icmp,
    K::Icmpv6,
    K::Nd,
];

fn leaf_action() -> impl Strategy<Value = OdpAction> {
    let words = || proptest::array::uniform30(any::<u64>());
    prop_oneof![
        any::<u32>().prop_map(OdpAction::Output),
        (0..SET_KINDS.len(), words(), words(), any::<bool>()).prop_map(|(k, v, m, masked)| {
            let kind = SET_KINDS[k];
            let value = set_value(kind, &Flow::from_words(v));
            let mask = set_mask(kind, &Flow::from_words(m));
            let masked_value = value.masked(&Wildcards { masks: mask });
            // A tcp_flags mask covering all 12 flag bits prints like no mask at all (as in OVS),
            // so the text cannot tell it from an unmasked set.
            let full = parse::all_ones(&format::set_attr(kind, &mask, true))
                || (kind == K::TcpFlags && mask.tcp_flags == 0x0fff);
            // recirc_id takes no mask in the text.
            if masked && !full && kind != K::RecircId {
                OdpAction::Set {
                    kind,
                    value: Box::new(masked_value),
                    mask: Some(Box::new(Wildcards { masks: mask })),
                }
            } else if matches!(kind, K::Ipv6 | K::Arp) {
                // These sets are always masked: the label is 20 bits, the ARP key has padding.
                let all = set_mask(kind, &Flow::from_words([u64::MAX; 30]));
                OdpAction::Set {
                    kind,
                    value: Box::new(value),
                    mask: Some(Box::new(Wildcards { masks: all })),
                }
            } else {
                OdpAction::Set {
                    kind,
                    value: Box::new(value),
                    mask: None,
                }
            }
        }),
        (any::<u16>(), any::<u16>()).prop_map(|(tpid, tci)| OdpAction::PushVlan { tpid, tci }),
        Just(OdpAction::PopVlan),
        (any::<u32>(), any::<u16>())
            .prop_map(|(lse, ethertype)| OdpAction::PushMpls { lse, ethertype }),
        any::<u16>().prop_map(|ethertype| OdpAction::PopMpls { ethertype }),
        any::<u32>().prop_map(OdpAction::Recirc),
        (0u8..3, any::<u32>()).prop_map(|(a, basis)| match a {
            0 => OdpAction::Hash {
                alg: HashAlg::L4,
                basis
            },
            1 => OdpAction::Hash {
                alg: HashAlg::SymL4,
                basis
            },
            _ => OdpAction::Hash {
                alg: HashAlg::Other(basis),
                basis: 0
            },
        }),
        any::<u32>().prop_map(OdpAction::Trunc),
        any::<u32>().prop_map(OdpAction::Meter),
        userspace().prop_map(OdpAction::Userspace),
        ct().prop_map(OdpAction::Ct),
        Just(OdpAction::CtClear),
    ]
}

fn userspace() -> impl Strategy<Value = UserspaceAction> {
    let cookie = prop_oneof![
        (0u16..4096, 0u16..8, any::<u32>()).prop_map(|(vid, pcp, output)| {
            let tci = vid | (pcp << 13);
            CookieKind::SFlow {
                vlan_tci: if tci != 0 { tci | 0x1000 } else { 0 },
                output,
            }
        }),
        (0u32..0x80).prop_map(|reasons| CookieKind::SlowPath { reasons }),
        (any::<u16>(), any::<[u32; 4]>(), 0u8..3).prop_map(|(probability, ids, d)| {
            CookieKind::FlowSample {
                probability,
                collector_set_id: ids[0],
                obs_domain_id: ids[1],
                obs_point_id: ids[2],
                output_port: ids[3],
                direction: [
                    SampleDirection::Default,
                    SampleDirection::Ingress,
                    SampleDirection::Egress,
                ][usize::from(d)],
            }
        }),
        any::<u32>().prop_map(|output_port| CookieKind::Ipfix { output_port }),
        (any::<(bool, bool, u16, u32, u64, u16, u16)>()).prop_map(
            |(d, c, reason, recirc_id, rule_cookie, id, len)| {
                CookieKind::Controller(ControllerCookie {
                    dont_send: d,
                    continuation: c,
                    reason,
                    recirc_id,
                    rule_cookie,
                    controller_id: id,
                    max_len: len,
                })
            }
        ),
    ];
    let userdata = prop_oneof![
        cookie.prop_map(|kind| Userdata::Cookie(UserdataCookie {
            ofp_in_port: 0xffff,
            ofproto_uuid: [0; 16],
            kind
        })),
        proptest::collection::vec(any::<u8>(), 8..60)
            .prop_filter(
                "48 bytes of a known cookie type print as that cookie",
                |b| { UserdataCookie::from_bytes(b).is_none() }
            )
            .prop_map(Userdata::Raw),
    ];
    (
        any::<u32>(),
        userdata,
        any::<bool>(),
        proptest::option::of(0u32..u32::MAX),
    )
        .prop_map(
            |(pid, userdata, actions, tunnel_out_port)| UserspaceAction {
                pid,
                userdata: Some(userdata),
                actions,
                tunnel_out_port,
            },
        )
}

fn ct() -> impl Strategy<Value = CtAction> {
    let name = |max: usize| {
        proptest::option::of(
            proptest::string::string_regex(&format!("[a-z0-9_-]{{1,{max}}}")).expect("regex"),
        )
    };
    (
        0u8..3,
        any::<u16>(),
        proptest::option::of((any::<u32>(), 1u32..)),
        proptest::option::of((any::<u128>(), 1u128..)),
        name(15),
        name(31),
    )
        .prop_map(|(commit, zone, mark, label, helper, timeout)| CtAction {
            commit: commit == 1,
            force_commit: commit == 2,
            zone,
            mark,
            label,
            helper,
            timeout,
        })
}

fn action_list() -> impl Strategy<Value = Vec<OdpAction>> {
    let leaf = proptest::collection::vec(leaf_action(), 0..4);
    leaf.prop_recursive(3, 24, 4, |inner| {
        proptest::collection::vec(
            prop_oneof![
                leaf_action(),
                inner.clone().prop_map(OdpAction::Clone),
                (0u32..=1000, inner).prop_map(|(k, actions)| {
                    // A probability that a one-decimal percentage names exactly.
                    let p = (f64::from(u32::MAX) * (f64::from(k) / 1000.0) + 0.5).floor();
                    OdpAction::Sample {
                        probability: p as u32,
                        actions,
                    }
                }),
            ],
            0..4,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn print_parse_is_identity(actions in action_list()) {
        let s = text(&actions);
        let back = parse_actions(&s, None).map_err(|e| TestCaseError::fail(format!("{s}: {}", e.detailed())))?;
        prop_assert_eq!(&back, &actions, "{}", s);
        prop_assert_eq!(text(&back), s);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        if let Ok(a) = parse_actions(&s, None) {
            let t = text(&a);
            prop_assert_eq!(text(&parse_actions(&t, None).expect("printed actions parse")), t);
        }
    }
}

#[test]
fn masked_sets_that_write_nothing() {
    // Found by the fuzzer. Left: given to OVS 3.1 `dpctl/add-flow`; right: what its dump printed.
    for (given, printed) in [
        ("set(ct_label(5/0))", "set(ct_label())"),
        ("set(ct_mark(5/0))", "set(ct_mark())"),
        ("set(ct_zone(5/0))", "set(ct_zone())"),
        ("set(ipv4(src=1.2.3.4/0.0.0.0))", "set(ipv4())"),
    ] {
        assert_eq!(round_trip(given), printed, "{given}");
        assert_eq!(round_trip(printed), printed, "{printed}");
    }
}
