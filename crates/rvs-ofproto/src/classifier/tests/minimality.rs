//! Hand-made cases for the exact wildcards a lookup produces.
//!
//! Every expectation here was checked against Open vSwitch 3.1 (`tools/ovs-oracle.sh`, rules
//! added with `ovs-ofctl add-flow`, one packet injected with `netdev-dummy/receive p1 ...`, mask
//! read from `dpctl/dump-flows`). The megaflow there also carries bits that translation always
//! adds (`recirc_id`, `in_port`, `packet_type`, `dl_type`, `nw_frag`); the expectations below are
//! the remaining, classifier-caused bits, plus `dl_type` where the rule's own mask has it.

use super::super::{Classifier, PrefixField, Rule, Version};
use super::{ip_nw_dst, matching, prefix_u32, prefix_v6, tcp4, tcp6};
use rvs_flow::flow::{ETH_TYPE_IP, ETH_TYPE_IPV6, ipproto};
use rvs_flow::{Flow, Match, Wildcards};

const V: Version = Version(1);

fn classifier(rules: &[(Match, u32)]) -> Classifier<u32> {
    classifier_with(rules, &super::super::DEFAULT_PREFIX_FIELDS)
}

fn classifier_with(rules: &[(Match, u32)], prefixes: &[PrefixField]) -> Classifier<u32> {
    let mut cls = Classifier::with_prefix_fields(prefixes);
    for (i, (m, prio)) in rules.iter().enumerate() {
        assert!(cls.insert(Rule::new(*m, *prio, i as u32), V).is_none());
    }
    cls
}

/// Looks `flow` up and returns the hit rule's payload and the wildcards.
fn lookup(cls: &Classifier<u32>, flow: &Flow) -> (Option<u32>, Wildcards) {
    let mut wc = Wildcards::default();
    let hit = cls.lookup(flow, V, &mut wc).map(|r| r.payload);
    assert_eq!(
        hit,
        cls.lookup_without_wildcards(flow, V).map(|r| r.payload)
    );
    (hit, wc)
}

fn mask(set: impl FnOnce(&mut Flow)) -> Wildcards {
    let mut wc = Wildcards::default();
    set(&mut wc.masks);
    wc
}

fn tcp_tp(src: Option<u16>, dst: Option<u16>) -> Match {
    matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_proto = ipproto::TCP;
        m.nw_proto = u8::MAX;
        if let Some(p) = src {
            f.tp_src = p;
            m.tp_src = u16::MAX;
        }
        if let Some(p) = dst {
            f.tp_dst = p;
            m.tp_dst = u16::MAX;
        }
    })
}

#[test]
fn prefix_hit_unwildcards_the_rule_prefix_only() {
    // OVS: ip,nw_dst=10.0.0.0/24 + packet to 10.0.0.5 -> ipv4(dst=10.0.0.5/255.255.255.0)
    let cls = classifier(&[(ip_nw_dst(0x0a00_0000, 24), 10)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a00_0005, 1000, 80));
    assert_eq!(hit, Some(0));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xffff_ff00;
        })
    );
}

#[test]
fn prefix_miss_unwildcards_only_the_bits_the_trie_examined() {
    // OVS: same rule, packet to 192.168.1.1 -> ipv4(dst=192.168.1.1/128.0.0.0)
    let cls = classifier(&[(ip_nw_dst(0x0a00_0000, 24), 10)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0xc0a8_0101, 1000, 80));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0x8000_0000;
        })
    );
}

#[test]
fn higher_priority_hit_stops_lower_subtables() {
    // OVS: priority=100,ip,nw_dst=10.0.0.0/24 + priority=50,tcp,tp_dst=80, packet 10.0.0.5:80
    // -> ipv4(dst=10.0.0.5/255.255.255.0) only: no nw_proto, no tp_dst.
    let rules = [
        (ip_nw_dst(0x0a00_0000, 24), 100),
        (tcp_tp(None, Some(80)), 50),
    ];
    let cls = classifier(&rules);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a00_0005, 1000, 80));
    assert_eq!(hit, Some(0));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xffff_ff00;
        })
    );
    // OVS: packet to 192.168.0.5:80 -> ipv4(dst=192.168.0.5/128.0.0.0,proto=6),tcp(dst=80)
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0xc0a8_0005, 1000, 80));
    assert_eq!(hit, Some(1));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0x8000_0000;
            m.nw_proto = u8::MAX;
            m.tp_dst = u16::MAX;
        })
    );
}

#[test]
fn a_hit_equal_to_the_next_subtable_maximum_ends_the_scan() {
    // OVS: priority=20,ip,nw_dst=192.168.0.0/24 + priority=10,ip,nw_dst=10.0.0.0/24 (one
    // subtable, maximum 20) + priority=10,tcp,tp_dst=80 (maximum 10), packet 10.0.0.5:80
    // -> ipv4(dst=10.0.0.5/255.255.255.0): the tcp subtable cannot beat priority 10.
    let rules = [
        (ip_nw_dst(0xc0a8_0000, 24), 20),
        (ip_nw_dst(0x0a00_0000, 24), 10),
        (tcp_tp(None, Some(80)), 10),
    ];
    let cls = classifier(&rules);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a00_0005, 1000, 80));
    assert_eq!(hit, Some(1));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xffff_ff00;
        })
    );
}

#[test]
fn ports_trie_limits_port_bits_on_a_miss() {
    // OVS: tcp,tp_dst=80 + packet to port 443 -> ipv4(proto=6),tcp(dst=443/0xff00)
    let cls = classifier(&[(tcp_tp(None, Some(80)), 50)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a00_0005, 1000, 443));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_proto = u8::MAX;
            m.tp_dst = 0xff00;
        })
    );
    // OVS: tcp,tp_src=1000 + source port 1001 -> tcp(src=1001); 2000 -> tcp(src=2000/0xfc00)
    let cls = classifier(&[(tcp_tp(Some(1000), None), 10)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a01_0203, 1001, 443));
    assert_eq!(hit, None);
    assert_eq!(wc.masks.tp_src, u16::MAX);
    assert_eq!(wc.masks.tp_dst, 0);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a01_0203, 2000, 443));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_proto = u8::MAX;
            m.tp_src = 0xfc00;
        })
    );
}

#[test]
fn stage_miss_unwildcards_only_the_stages_read() {
    // OVS: pkt_mark=5,ip,nw_src=1.2.3.4 + packet with mark 0 -> skb_mark(0) and nothing else
    // (eth_type there comes from translation).
    let rule = matching(|f, m| {
        f.skb_mark = 5;
        m.skb_mark = u32::MAX;
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_src = 0x0102_0304;
        m.nw_src = u32::MAX;
    });
    let cls = classifier(&[(rule, 50)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a00_0005, 1000, 443));
    assert_eq!(hit, None);
    assert_eq!(wc, mask(|m| m.skb_mark = u32::MAX));

    // OVS: dl_src=00:00:00:00:00:99,tcp,nw_dst=10.0.0.1,tp_dst=80 + packet from ...:01
    // -> eth(src=00:00:00:00:00:01): the L2 stage (dl_src, dl_type), no L3 or L4 bits.
    let rule = matching(|f, m| {
        f.dl_src = [0, 0, 0, 0, 0, 0x99];
        m.dl_src = [0xff; 6];
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_proto = ipproto::TCP;
        m.nw_proto = u8::MAX;
        f.nw_dst = 0x0a00_0001;
        m.nw_dst = u32::MAX;
        f.tp_dst = 80;
        m.tp_dst = u16::MAX;
    });
    let cls = classifier(&[(rule, 50)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a00_0005, 1000, 443));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_src = [0xff; 6];
            m.dl_type = u16::MAX;
        })
    );
}

#[test]
fn l3_miss_leaves_the_l4_stage_wildcarded() {
    // OVS: tcp6,ipv6_src=2001:db8::1,tp_dst=80 (no IPv6 trie) + packet from ::1
    // -> ipv6(src=::1,proto=6): the L3 index misses, tp_dst is never read.
    let rule = matching(|f, m| {
        f.dl_type = ETH_TYPE_IPV6;
        m.dl_type = u16::MAX;
        f.nw_proto = ipproto::TCP;
        m.nw_proto = u8::MAX;
        f.ipv6_src = (0x2001_0db8u128 << 96 | 1).to_be_bytes();
        m.ipv6_src = [0xff; 16];
        f.tp_dst = 80;
        m.tp_dst = u16::MAX;
    });
    let cls = classifier(&[(rule, 10)]);
    let mut pkt = tcp6(1, 2);
    pkt.tp_dst = 80;
    let (hit, wc) = lookup(&cls, &pkt);
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_proto = u8::MAX;
            m.ipv6_src = [0xff; 16];
        })
    );

    // OVS: tcp,nw_dst=10.0.0.1,tp_dst=80 + packet to 10.0.0.2:80 -> ipv4(dst=10.0.0.2/
    // 255.255.255.254): the trie skips the subtable before its L3 stage is hashed, so not even
    // nw_proto is read.
    let rule = matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_proto = ipproto::TCP;
        m.nw_proto = u8::MAX;
        f.nw_dst = 0x0a00_0001;
        m.nw_dst = u32::MAX;
        f.tp_dst = 80;
        m.tp_dst = u16::MAX;
    });
    let cls = classifier(&[(rule, 10)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a00_0002, 1000, 80));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xffff_fffe;
        })
    );
}

#[test]
fn nested_prefixes_stop_at_the_first_differing_bit() {
    // OVS: priority=10,ip,nw_dst=10.0.0.0/8 + priority=20,ip,nw_dst=10.1.0.0/16, packet to
    // 10.2.3.4 -> ipv4(dst=10.2.3.4/255.254.0.0), hit on the /8.
    let rules = [
        (ip_nw_dst(0x0a00_0000, 8), 10),
        (ip_nw_dst(0x0a01_0000, 16), 20),
    ];
    let cls = classifier(&rules);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a02_0304, 1000, 443));
    assert_eq!(hit, Some(0));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xfffe_0000;
        })
    );
}

#[test]
fn longer_trie_walk_is_reused_when_already_unwildcarded() {
    // OVS: priority=30,ip,nw_dst=10.1.1.0/24 + priority=10,ip,nw_dst=11.0.0.0/8, packet to
    // 10.1.2.3 -> ipv4(dst=10.1.2.3/255.255.254.0): the /8 subtable is skipped on the 23 bits
    // the /24 skip already un-wildcarded.
    let rules = [
        (ip_nw_dst(0x0a01_0100, 24), 30),
        (ip_nw_dst(0x0b00_0000, 8), 10),
    ];
    let cls = classifier(&rules);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a01_0203, 1000, 443));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xffff_fe00;
        })
    );
}

#[test]
fn a_long_trie_walk_does_not_skip_a_shorter_subtable_for_free() {
    // OVS: priority=30,ip,nw_dst=11.0.0.0/8 + priority=20,tcp + priority=5,ip,nw_dst=10.1.1.0/24,
    // packet to 10.1.2.3 -> ipv4(dst=10.1.2.3/255.0.0.0,proto=6). The trie walk for 10.1.2.3 goes
    // 23 bits deep (along 10.1.1.0/24), more than the /8 subtable reads, so that subtable is
    // searched normally; the tcp hit then ends the scan before the /24 subtable.
    let tcp = matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_proto = ipproto::TCP;
        m.nw_proto = u8::MAX;
    });
    let rules = [
        (ip_nw_dst(0x0b00_0000, 8), 30),
        (tcp, 20),
        (ip_nw_dst(0x0a01_0100, 24), 5),
    ];
    let cls = classifier(&rules);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a01_0203, 1000, 443));
    assert_eq!(hit, Some(1));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xff00_0000;
            m.nw_proto = u8::MAX;
        })
    );
}

#[test]
fn bits_already_unwildcarded_let_a_later_subtable_be_skipped() {
    // OVS: priority=30,ip,nw_dst=10.1.1.0/24 + priority=10,tcp,nw_dst=11.0.0.0/8, packet to
    // 10.1.2.3 -> ipv4(dst=10.1.2.3/255.255.254.0), no proto: the tcp subtable is skipped at
    // its L3 stage on the 23 bits that are in the wildcards already.
    let tcp_8 = matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_proto = ipproto::TCP;
        m.nw_proto = u8::MAX;
        f.nw_dst = 0x0b00_0000;
        m.nw_dst = prefix_u32(8);
    });
    let cls = classifier(&[(ip_nw_dst(0x0a01_0100, 24), 30), (tcp_8, 10)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a01_0203, 1000, 443));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xffff_fe00;
        })
    );
}

#[test]
fn a_trie_answer_one_bit_longer_than_the_prefix_is_not_used() {
    // OVS: priority=30,ip,nw_dst=20.0.0.0/22 + priority=20,tcp + priority=5,ip,
    // nw_dst=10.1.1.0/24, packet to 10.1.2.3 -> ipv4(dst=10.1.2.3/255.255.252.0,proto=6): the
    // trie needs 23 bits, the /22 subtable only 22, so it is searched normally.
    let tcp = matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_proto = ipproto::TCP;
        m.nw_proto = u8::MAX;
    });
    let rules = [
        (ip_nw_dst(0x1400_0000, 22), 30),
        (tcp, 20),
        (ip_nw_dst(0x0a01_0100, 24), 5),
    ];
    let cls = classifier(&rules);
    let (hit, wc) = lookup(&cls, &tcp4(0x0101_0101, 0x0a01_0203, 1000, 443));
    assert_eq!(hit, Some(1));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xffff_fc00;
            m.nw_proto = u8::MAX;
        })
    );
}

#[test]
fn removing_the_top_rule_lowers_the_subtable_rank() {
    // OVS: priority=20,ip,nw_dst=10.0.0.0/24 + priority=10,ip,nw_dst=10.0.1.0/24 +
    // priority=15,tcp,tp_dst=80, then `del-flows --strict priority=20,ip,nw_dst=10.0.0.0/24`;
    // packet to 10.0.1.5:80 -> ipv4(proto=6),tcp(dst=80): the /24 subtable (now maximum 10)
    // comes after the tcp hit and is not searched.
    let rules = [
        (ip_nw_dst(0x0a00_0000, 24), 20),
        (ip_nw_dst(0x0a00_0100, 24), 10),
        (tcp_tp(None, Some(80)), 15),
    ];
    let mut cls = classifier(&rules);
    let v2 = V.next();
    assert!(cls.remove(&rules[0].0, 20, v2).is_some());
    assert_eq!(cls.purge(v2).len(), 1);
    let mut wc = Wildcards::default();
    let hit = cls.lookup(&tcp4(0x0101_0101, 0x0a00_0105, 1000, 80), v2, &mut wc);
    assert_eq!(hit.map(|r| r.payload), Some(2));
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_proto = u8::MAX;
            m.tp_dst = u16::MAX;
        })
    );
}

#[test]
fn tries_are_consulted_in_configured_order() {
    // OVS (default prefixes nw_dst,nw_src): ip,nw_src=10.0.0.0/8,nw_dst=20.0.0.0/8 and
    // packet 10.1.1.1 -> 30.2.3.4 gives ipv4(dst=30.2.3.4/248.0.0.0) (nw_dst trie first);
    // packet 11.1.1.1 -> 20.2.3.4 gives ipv4(src=11.1.1.1/255.0.0.0) (nw_src trie).
    let rule = matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_src = 0x0a00_0000;
        m.nw_src = prefix_u32(8);
        f.nw_dst = 0x1400_0000;
        m.nw_dst = prefix_u32(8);
    });
    let cls = classifier(&[(rule, 10)]);
    let (hit, wc) = lookup(&cls, &tcp4(0x0a01_0101, 0x1e02_0304, 1000, 443));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_dst = 0xf800_0000;
        })
    );
    let (hit, wc) = lookup(&cls, &tcp4(0x0b01_0101, 0x1402_0304, 1000, 443));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.nw_src = 0xff00_0000;
        })
    );
}

fn ipv6_dst_rule(addr: u128, len: u32) -> Match {
    matching(|f, m| {
        f.dl_type = ETH_TYPE_IPV6;
        m.dl_type = u16::MAX;
        f.ipv6_dst = addr.to_be_bytes();
        m.ipv6_dst = prefix_v6(len);
    })
}

#[test]
fn ipv6_has_no_trie_by_default() {
    // OVS default: ipv6,ipv6_dst=2001:db8::/32 + packet to 3000::1 -> ipv6(dst=3000::1/ffff:ffff::)
    let cls = classifier(&[(ipv6_dst_rule(0x2001_0db8 << 96, 32), 10)]);
    let (hit, wc) = lookup(&cls, &tcp6(1, 0x3000 << 112 | 1));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.ipv6_dst = prefix_v6(32);
        })
    );
}

#[test]
fn ipv6_tries_when_configured() {
    // OVS with Flow_Table prefixes=ipv6_dst,ipv6_src,nw_dst:
    let prefixes = [
        PrefixField::Ipv6Dst,
        PrefixField::Ipv6Src,
        PrefixField::NwDst,
    ];
    let cls = classifier_with(&[(ipv6_dst_rule(0x2001_0db8 << 96, 32), 10)], &prefixes);
    // packet to 3000::1 -> ipv6(dst=3000::1/f000::)
    let (hit, wc) = lookup(&cls, &tcp6(1, 0x3000 << 112 | 1));
    assert_eq!(hit, None);
    assert_eq!(wc.masks.ipv6_dst, prefix_v6(4));
    // packet to 2001:db8:1::1 -> hit, ipv6(dst=2001:db8:1::1/ffff:ffff::)
    let (hit, wc) = lookup(&cls, &tcp6(1, 0x2001_0db8_0001 << 80 | 1));
    assert_eq!(hit, Some(0));
    assert_eq!(wc.masks.ipv6_dst, prefix_v6(32));

    // ipv6_dst=2001:db8:0:0:1::/80 + packet to 2001:db8::2:0:0:1
    // -> ipv6(dst=2001:db8::2:0:0:1/ffff:ffff:ffff:ffff:fffe::)
    let cls = classifier_with(
        &[(ipv6_dst_rule(0x2001_0db8_0000_0000_0001 << 48, 80), 10)],
        &prefixes,
    );
    let (hit, wc) = lookup(&cls, &tcp6(1, 0x2001_0db8_0000_0000_0002 << 48 | 1));
    assert_eq!(hit, None);
    assert_eq!(wc.masks.ipv6_dst, prefix_v6(79));

    // ipv6_src=2001:db8::/32 + packet from 2001:db9::1 -> ipv6(src=2001:db9::1/ffff:ffff::)
    let rule = matching(|f, m| {
        f.dl_type = ETH_TYPE_IPV6;
        m.dl_type = u16::MAX;
        f.ipv6_src = (0x2001_0db8u128 << 96).to_be_bytes();
        m.ipv6_src = prefix_v6(32);
    });
    let cls = classifier_with(&[(rule, 10)], &prefixes);
    let (hit, wc) = lookup(&cls, &tcp6(0x2001_0db9 << 96 | 1, 2));
    assert_eq!(hit, None);
    assert_eq!(
        wc,
        mask(|m| {
            m.dl_type = u16::MAX;
            m.ipv6_src = prefix_v6(32);
        })
    );
}

#[test]
fn trie_is_not_used_for_other_ethertypes() {
    // An ARP packet carries SPA/TPA in nw_src/nw_dst; the IPv4 trie must not decide for it.
    // OVS: arp,arp_tpa=10.0.0.0/24 + ARP for 192.168.1.1 -> arp(tip=192.168.1.1/255.255.255.0)
    let arp_rule = matching(|f, m| {
        f.dl_type = rvs_flow::flow::ETH_TYPE_ARP;
        m.dl_type = u16::MAX;
        f.nw_dst = 0x0a00_0000;
        m.nw_dst = prefix_u32(24);
    });
    let cls = classifier(&[(arp_rule, 10)]);
    let mut pkt = tcp4(0x0101_0101, 0xc0a8_0101, 0, 0);
    pkt.dl_type = rvs_flow::flow::ETH_TYPE_ARP;
    let (hit, wc) = lookup(&cls, &pkt);
    assert_eq!(hit, None);
    // No trie answer: the whole subtable mask was read.
    assert_eq!(wc.masks.nw_dst, prefix_u32(24));
}
