//! Megaflow soundness: for random small rule sets and random packets, every packet that agrees
//! with a translated packet on the megaflow mask translates to the same datapath actions.
//!
//! "Agrees" means: equal on the mask's bits, and, as the datapath's flow key guarantees
//! implicitly, the same VLAN header presence (TPID and CFI bit) and zero registers/metadata.

use proptest::prelude::*;
use rvs_flow::flow::{ETH_TYPE_ARP, ETH_TYPE_IP, FLOW_WORDS, VLAN_CFI, VlanHeader, ipproto};
use rvs_flow::odp::format_actions;
use rvs_flow::{Flow, Wildcards};

use super::{Bridge, Translator, XlateInput};
use crate::actions::Dialect;
use crate::mac_learning::MacLearning;
use crate::table::{Ofctl, Tables};

/// Tables holding `flows`, each added in OpenFlow 1.0 or, if that dialect cannot carry it
/// (`push_vlan`), in OpenFlow 1.3. Rules the switch rejects in both (actions inconsistent with
/// the match, as OVS checks them) are left out.
fn tables_with(flows: &[&str]) -> Tables {
    let mut tables = Tables::new();
    for f in flows {
        let of10 = Ofctl::new(Dialect::OpenFlow10).add_flow(&mut tables, f, 0);
        if of10.is_err() {
            let _ = Ofctl::new(Dialect::OpenFlow13).add_flow(&mut tables, f, 0);
        }
    }
    tables
}

/// One rule's text from its parts.
fn rule_text(table: u8, prio: u16, matches: &[String], actions: &[String]) -> String {
    let mut s = format!("table={table},priority={prio}");
    for m in matches {
        s.push(',');
        s.push_str(m);
    }
    s.push_str(" actions=");
    if actions.is_empty() {
        s.push_str("drop");
    } else {
        s.push_str(&actions.join(","));
    }
    s
}

/// A random rule: protocol selector, a few match fields, a few actions legal for it.
fn rule_strategy() -> impl Strategy<Value = String> {
    (
        0u8..2,
        1u16..5,
        0usize..4,
        proptest::option::of(1u32..4),
        proptest::option::of(1u8..3),
        proptest::option::of(1u8..3),
        proptest::option::of(prop_oneof![Just(80u16), Just(443u16)]),
        proptest::option::of(prop_oneof![Just(0u16), Just(10u16)]),
        proptest::collection::vec(0usize..20, 0..5),
    )
        .prop_map(
            |(table, prio, proto, in_port, dl_dst, nw_dst, tp_dst, vlan, acts)| {
                let mut m = Vec::new();
                match proto {
                    1 => m.push("ip".to_owned()),
                    2 => m.push("tcp".to_owned()),
                    3 => m.push("arp".to_owned()),
                    _ => {}
                }
                if table == 1 {
                    m.push("reg0=1".to_owned());
                }
                if let Some(p) = in_port {
                    m.push(format!("in_port={p}"));
                }
                if let Some(d) = dl_dst {
                    m.push(format!("dl_dst=00:00:00:00:00:0{d}"));
                }
                if let (Some(d), true) = (nw_dst, proto == 1 || proto == 2) {
                    m.push(format!("nw_dst=10.0.0.{d}"));
                }
                if let (Some(p), true) = (tp_dst, proto == 2) {
                    m.push(format!("tp_dst={p}"));
                }
                if let Some(v) = vlan {
                    m.push(if v == 0 {
                        "vlan_tci=0/0x1000".to_owned()
                    } else {
                        format!("dl_vlan={v}")
                    });
                }
                let mut a = Vec::new();
                for code in acts {
                    let action = match code {
                        0 => "output:1".to_owned(),
                        1 => "output:2".to_owned(),
                        2 => "output:3".to_owned(),
                        3 => "mod_dl_dst:00:00:00:00:00:02".to_owned(),
                        4 => "mod_vlan_vid:20".to_owned(),
                        5 => "strip_vlan".to_owned(),
                        6 if table == 0 => "load:1->NXM_NX_REG0[],resubmit(,1)".to_owned(),
                        7 => "in_port".to_owned(),
                        8 if proto == 1 || proto == 2 => "mod_nw_dst:10.0.0.2".to_owned(),
                        9 if proto == 1 || proto == 2 => "dec_ttl".to_owned(),
                        10 if proto == 2 => "mod_tp_dst:443".to_owned(),
                        11 => "flood".to_owned(),
                        12 if proto == 1 || proto == 2 => "mod_nw_tos:32".to_owned(),
                        13 => "mod_vlan_pcp:3".to_owned(),
                        14 => "push_vlan:0x8100".to_owned(),
                        15 if proto == 2 => {
                            "move:NXM_OF_IP_DST[0..7]->NXM_OF_TCP_SRC[0..7]".to_owned()
                        }
                        16 if proto == 2 => "load:5->NXM_OF_TCP_DST[0..3]".to_owned(),
                        17 if proto == 3 => "set_field:2->arp_op".to_owned(),
                        18 => "mod_dl_src:00:00:00:00:00:07".to_owned(),
                        19 => "exit".to_owned(),
                        _ => continue,
                    };
                    a.push(action);
                }
                rule_text(table, prio, &m, &a)
            },
        )
}

/// A random packet over small value sets (so that rules and packets often meet).
fn packet_strategy() -> impl Strategy<Value = Flow> {
    (
        1u32..4,
        1u8..3,
        1u8..3,
        0usize..3,
        1u8..3,
        prop_oneof![Just(1u8), Just(2u8), Just(64u8)],
        prop_oneof![Just(80u16), Just(443u16)],
        0u16..3,
    )
        .prop_map(|(in_port, src, dst, kind, nw_dst, ttl, tp_dst, vlan)| {
            let mut f = Flow {
                in_port,
                ..Flow::default()
            };
            f.dl_src = [0, 0, 0, 0, 0, src];
            f.dl_dst = [0, 0, 0, 0, 0, dst];
            if vlan > 0 {
                f.vlans[0] = VlanHeader {
                    tpid: 0x8100,
                    tci: VLAN_CFI | (vlan * 10),
                };
            }
            if kind == 2 {
                f.dl_type = ETH_TYPE_ARP;
                f.nw_proto = 1;
                f.nw_src = 0x0a00_0001;
                f.nw_dst = 0x0a00_0000 | u32::from(nw_dst);
            } else {
                f.dl_type = ETH_TYPE_IP;
                f.nw_proto = if kind == 0 {
                    ipproto::TCP
                } else {
                    ipproto::UDP
                };
                f.nw_src = 0x0a00_0001;
                f.nw_dst = 0x0a00_0000 | u32::from(nw_dst);
                f.nw_ttl = ttl;
                f.tp_src = 1000;
                f.tp_dst = tp_dst;
            }
            f
        })
}

/// What flow extraction guarantees about VLAN headers: a present header (CFI bit set) has an
/// 802.1Q or 802.1ad TPID, an absent one is all zero, and an inner header exists only under
/// an outer one.
fn normalize_vlans(f: &mut Flow) {
    let mut present = true;
    for v in &mut f.vlans {
        present = present && v.tci & VLAN_CFI != 0;
        if present {
            if v.tpid != 0x88a8 {
                v.tpid = 0x8100;
            }
        } else {
            *v = VlanHeader::default();
        }
    }
}

/// `p` on the bits of `wc`, `q` elsewhere; VLAN presence (TPID, CFI) from `p`.
fn blend(p: &Flow, q: &Flow, wc: &Wildcards) -> Flow {
    let (pw, qw, mw) = (p.words(), q.words(), wc.masks.words());
    let mut words = [0u64; FLOW_WORDS];
    for (i, w) in words.iter_mut().enumerate() {
        *w = (pw[i] & mw[i]) | (qw[i] & !mw[i]);
    }
    let mut r = Flow::from_words(words);
    for (rv, pv) in r.vlans.iter_mut().zip(p.vlans.iter()) {
        rv.tpid = pv.tpid;
        rv.tci = (rv.tci & !VLAN_CFI) | (pv.tci & VLAN_CFI);
        if pv.tci & VLAN_CFI == 0 {
            *rv = *pv;
        }
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn megaflow_is_sound(
        rules in proptest::collection::vec(rule_strategy(), 0..6),
        packets in proptest::collection::vec(packet_strategy(), 1..4),
        others in proptest::collection::vec(packet_strategy(), 1..8),
    ) {
        let bridge = Bridge::with_trunk_ports(4);
        let texts: Vec<&str> = rules.iter().map(String::as_str).collect();
        let tables = tables_with(&texts);
        let mac = MacLearning::new();
        let xlator = Translator { bridge: &bridge, tables: &tables, mac: &mac };
        for p in &packets {
            let out = xlator.translate(&XlateInput::new(*p, tables.version()));
            for q in &others {
                let r = blend(p, q, &out.wc);
                let again = xlator.translate(&XlateInput::new(r, tables.version()));
                let (mut a, mut b) = (String::new(), String::new());
                format_actions(&mut a, &out.odp_actions, None);
                format_actions(&mut b, &again.odp_actions, None);
                prop_assert_eq!(
                    &out.odp_actions, &again.odp_actions,
                    "rules {:?}\npacket {:?}\nother {:?}\nactions {} vs {}", rules, p, r, a, b
                );
            }
        }
    }
}

/// A bridge with every VLAN mode NORMAL distinguishes, and a MAC table holding two addresses.
fn vlan_bridge() -> (Bridge, MacLearning<u16>) {
    use crate::vlan::PortVlan;
    let mut b = Bridge::new();
    let ok = b.add_port(1, 1, "p1", PortVlan::access(10))
        && b.add_port(2, 2, "p2", PortVlan::trunk(None))
        && b.add_port(3, 3, "p3", PortVlan::access(20))
        && b.add_port(4, 4, "p4", PortVlan::native(10, Some(&[20]), true));
    assert!(ok);
    let mac = MacLearning::new();
    let _ = mac.add_static(&[0, 0, 0, 0, 0, 1], 10, 2);
    let _ = mac.add_static(&[0, 0, 0, 0, 0, 2], 20, 4);
    (b, mac)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The same property through NORMAL (learning off, fixed MAC table) mixed with rules.
    #[test]
    fn normal_megaflow_is_sound(
        rules in proptest::collection::vec(rule_strategy(), 0..3),
        packets in proptest::collection::vec(packet_strategy(), 1..4),
        others in proptest::collection::vec(packet_strategy(), 1..8),
    ) {
        let (bridge, mac) = vlan_bridge();
        let mut texts: Vec<&str> = rules.iter().map(String::as_str).collect();
        texts.push("table=0,priority=3 actions=normal");
        let tables = tables_with(&texts);
        let xlator = Translator { bridge: &bridge, tables: &tables, mac: &mac };
        for p in &packets {
            let mut input = XlateInput::new(*p, tables.version());
            input.may_learn = false;
            let out = xlator.translate(&input);
            for q in &others {
                input.flow = blend(p, q, &out.wc);
                let again = xlator.translate(&input);
                prop_assert_eq!(
                    &out.odp_actions, &again.odp_actions,
                    "rules {:?}\npacket {:?}\nother {:?}", texts, p, input.flow
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Arbitrary flow words (any field values, inconsistent ones included, except for the VLAN
    /// header shape flow extraction guarantees) never make a translation panic, through the rule actions and through NORMAL, and the megaflow
    /// property still holds for them.
    #[test]
    fn arbitrary_flows_translate_soundly(
        rules in proptest::collection::vec(rule_strategy(), 0..4),
        words in proptest::array::uniform30(any::<u64>()),
        other in proptest::array::uniform30(any::<u64>()),
        in_port in 0u32..6,
        normal in any::<bool>(),
    ) {
        let (bridge, mac) = vlan_bridge();
        let mut texts: Vec<&str> = rules.iter().map(String::as_str).collect();
        if normal {
            texts.push("table=0,priority=2 actions=normal");
        }
        let tables = tables_with(&texts);
        let xlator = Translator { bridge: &bridge, tables: &tables, mac: &mac };
        let mut p = Flow::from_words(words);
        p.in_port = in_port;
        p.regs = [0; 16];
        p.metadata = 0;
        normalize_vlans(&mut p);
        let mut input = XlateInput::new(p, tables.version());
        input.may_learn = false;
        let out = xlator.translate(&input);
        let mut q = Flow::from_words(other);
        q.regs = [0; 16];
        q.metadata = 0;
        input.flow = blend(&p, &q, &out.wc);
        let again = xlator.translate(&input);
        prop_assert_eq!(&out.odp_actions, &again.odp_actions, "rules {:?}", texts);
    }
}
