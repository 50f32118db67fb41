//! Differential test against Open vSwitch's own `flow_extract`, run through
//! `ovs-ofctl parse-pcap` (which extracts and prints the flow of every packet in a capture).
//!
//! Ignored by default because it needs Open vSwitch 3.1 installed (the project's oracle
//! machine has it). Run it with
//! `cargo test -p rvs-flow --lib extract::tests::oracle -- --ignored --nocapture`.
//!
//! # Invariants
//! The corpus is deterministic: the named cases, every prefix of each, and byte mutations drawn
//! from a fixed-seed generator. For each frame, every `key=value` that OVS prints must equal our
//! field, and every nonzero field of ours must appear among the keys OVS printed (so we set
//! nothing OVS does not), except the few fields `parse-pcap` never prints (listed in
//! [`compare`]).

use std::collections::HashSet;
use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

use super::cases;
use crate::extract::{PacketMetadata, extract};
use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP,
    FRAG_ANY, FRAG_LATER, Flow, ipproto,
};

/// A small deterministic generator (xorshift64*), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The frames compared: cases, their prefixes, and mutations of them (none empty).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let cases = cases::all();
    let mut out = Vec::new();
    for (name, frame) in &cases {
        out.push((name.to_string(), frame.clone()));
        for len in 0..frame.len() {
            out.push((format!("{name}[..{len}]"), frame[..len].to_vec()));
        }
    }
    let mut rng = Rng(0x5eed_f10e_c0de_0001);
    for i in 0..60_000 {
        let (name, base) = &cases[rng.below(cases.len())];
        let mut frame = base.clone();
        for _ in 0..1 + rng.below(4) {
            if frame.len() > 12 {
                let at = 12 + rng.below(frame.len() - 12);
                frame[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    2 => frame[at] ^ (1 << rng.below(8)),
                    _ => rng.next() as u8,
                };
            }
        }
        if rng.below(3) == 0 {
            let len = rng.below(frame.len() + 1);
            frame.truncate(len);
        }
        out.push((format!("{name}~{i}"), frame));
    }
    // Random bytes behind an Ethernet header with one of the interesting types.
    let types: [u16; 9] = [
        0x0800, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x8847, 0x0040, 0x05dc,
    ];
    for i in 0..20_000 {
        let mut frame = cases::eth(types[rng.below(types.len())]);
        let len = rng.below(120);
        frame.extend((0..len).map(|_| rng.next() as u8));
        out.push((format!("random~{i}"), frame));
    }
    // A zero-length record reads as the end of the capture in OVS's pcap reader.
    out.retain(|(_, frame)| !frame.is_empty());
    out
}

/// Writes `frames` to a pcap file and returns `ovs-ofctl parse-pcap`'s line for each.
fn ovs_parse(frames: &[(String, Vec<u8>)]) -> Vec<String> {
    let path = std::env::temp_dir().join(format!("rvs-extract-oracle-{}.pcap", std::process::id()));
    let mut pcap = Vec::new();
    pcap.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&2u16.to_le_bytes());
    pcap.extend_from_slice(&4u16.to_le_bytes());
    for word in [0u32, 0, 65535, 1] {
        pcap.extend_from_slice(&word.to_le_bytes());
    }
    for (_, frame) in frames {
        let len = u32::try_from(frame.len()).expect("small frame");
        for word in [0, 0, len, len] {
            pcap.extend_from_slice(&word.to_le_bytes());
        }
        pcap.extend_from_slice(frame);
    }
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&pcap))
        .expect("write pcap");
    let output = Command::new("ovs-ofctl")
        .arg("parse-pcap")
        .arg(&path)
        .output()
        .expect("run ovs-ofctl");
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "ovs-ofctl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ipv6_eq(ours: &[u8; 16], theirs: &str) -> bool {
    theirs
        .parse::<Ipv6Addr>()
        .is_ok_and(|a| a.octets() == *ours)
}

/// The protocol word `match_format` prints first, if any.
fn protocol_word(f: &Flow) -> Option<&'static str> {
    let by_proto = |v4: bool| match f.nw_proto {
        ipproto::ICMP if v4 => "icmp",
        ipproto::ICMPV6 if !v4 => "icmp6",
        ipproto::TCP => {
            if v4 {
                "tcp"
            } else {
                "tcp6"
            }
        }
        ipproto::UDP => {
            if v4 {
                "udp"
            } else {
                "udp6"
            }
        }
        ipproto::SCTP => {
            if v4 {
                "sctp"
            } else {
                "sctp6"
            }
        }
        _ => {
            if v4 {
                "ip"
            } else {
                "ipv6"
            }
        }
    };
    match f.dl_type {
        ETH_TYPE_IP => Some(by_proto(true)),
        ETH_TYPE_IPV6 => Some(by_proto(false)),
        ETH_TYPE_ARP => Some("arp"),
        ETH_TYPE_RARP => Some("rarp"),
        ETH_TYPE_MPLS => Some("mpls"),
        ETH_TYPE_MPLS_MCAST => Some("mplsm"),
        _ => None,
    }
}

fn parse_tcp_flags(s: &str) -> Option<u16> {
    if s == "0" {
        return Some(0);
    }
    s.split('|').try_fold(0u16, |acc, name| {
        let bit = match name {
            "fin" => 0x001,
            "syn" => 0x002,
            "rst" => 0x004,
            "psh" => 0x008,
            "ack" => 0x010,
            "urg" => 0x020,
            "ece" => 0x040,
            "cwr" => 0x080,
            "ns" => 0x100,
            "[200]" => 0x200,
            "[400]" => 0x400,
            "[800]" => 0x800,
            _ => return None,
        };
        Some(acc | bit)
    })
}

/// Checks one OVS `key=value` against our flow.
fn check_key(f: &Flow, key: &str, value: &str) -> Result<(), String> {
    let num = |v: u64| {
        if value == v.to_string() {
            Ok(())
        } else {
            Err(format!("{key}: ours {v}"))
        }
    };
    let text = |v: String| {
        if value == v {
            Ok(())
        } else {
            Err(format!("{key}: ours {v}"))
        }
    };
    let ip4 = |v: u32| text(Ipv4Addr::from(v).to_string());
    let ip6 = |v: &[u8; 16]| {
        if ipv6_eq(v, value) {
            Ok(())
        } else {
            Err(format!("{key}: ours {}", Ipv6Addr::from(*v)))
        }
    };
    let vid = |i: usize| u64::from(f.vlans[i].tci & 0x0fff);
    let pcp = |i: usize| u64::from(f.vlans[i].tci >> 13);
    match key {
        "in_port" | "mpls_lse1" | "mpls_lse2" => Ok(()),
        "vlan_tci" => text(format!("0x{:04x}", f.vlans[0].tci)),
        "vlan_tci1" => text(format!("0x{:04x}", f.vlans[1].tci)),
        "dl_vlan" => num(vid(0)),
        "dl_vlan1" => num(vid(1)),
        "dl_vlan_pcp" => num(pcp(0)),
        "dl_vlan_pcp1" => num(pcp(1)),
        "dl_src" => text(mac(&f.dl_src)),
        "dl_dst" => text(mac(&f.dl_dst)),
        "dl_type" => text(format!("0x{:04x}", f.dl_type)),
        "nw_src" | "arp_spa" => ip4(f.nw_src),
        "nw_dst" | "arp_tpa" => ip4(f.nw_dst),
        "ipv6_src" => ip6(&f.ipv6_src),
        "ipv6_dst" => ip6(&f.ipv6_dst),
        "nd_target" => ip6(&f.nd_target),
        "ipv6_label" => text(format!("0x{:05x}", f.ipv6_label)),
        "nw_proto" | "arp_op" => num(u64::from(f.nw_proto)),
        "nw_tos" => num(u64::from(f.nw_tos & 0xfc)),
        "nw_ecn" => num(u64::from(f.nw_tos & 0x03)),
        "nw_ttl" => num(u64::from(f.nw_ttl)),
        "nw_frag" => text(
            match (f.nw_frag & FRAG_ANY != 0, f.nw_frag & FRAG_LATER != 0) {
                (false, false) => "no",
                (true, false) => "first",
                (true, true) => "later",
                (false, true) => "<error>",
            }
            .to_string(),
        ),
        "tp_src" | "icmp_type" => num(u64::from(f.tp_src)),
        "tp_dst" | "icmp_code" => num(u64::from(f.tp_dst)),
        "tcp_flags" => match parse_tcp_flags(value) {
            Some(v) if v == f.tcp_flags => Ok(()),
            _ => Err(format!("{key}: ours {:#x}", f.tcp_flags)),
        },
        "arp_sha" | "nd_sll" => text(mac(&f.arp_sha)),
        "arp_tha" | "nd_tll" => text(mac(&f.arp_tha)),
        "mpls_label" => num(u64::from(f.mpls_lse >> 12)),
        "mpls_tc" => num(u64::from((f.mpls_lse >> 9) & 7)),
        "mpls_bos" => num(u64::from((f.mpls_lse >> 8) & 1)),
        "mpls_ttl" => num(u64::from(f.mpls_lse & 0xff)),
        _ => Err(format!("unknown key {key}")),
    }
}

/// Compares our flow with one line of `parse-pcap` output.
///
/// Not printed by `parse-pcap`, so not covered: the ND option type in `tcp_flags` of ICMPv6
/// flows, ND fields of an ICMPv6 header inside IPv4, and MPLS entries below the top one (which
/// our key does not keep).
fn compare(f: &Flow, line: &str) -> Result<(), String> {
    let mut keys = HashSet::new();
    let mut word = None;
    for token in line.split(',') {
        match token.split_once('=') {
            Some((key, value)) => {
                check_key(f, key, value)?;
                keys.insert(key);
            }
            None if word.is_none() && keys.is_empty() => word = Some(token),
            None => return Err(format!("unexpected token {token}")),
        }
    }
    if word != protocol_word(f) {
        return Err(format!("protocol word: ours {:?}", protocol_word(f)));
    }
    let shown = |names: &[&str]| names.iter().any(|n| keys.contains(n));
    // ND fields carried by an ICMPv6 header inside IPv4 are extracted but never printed.
    let nd_printed = f.dl_type == ETH_TYPE_IPV6;
    let icmp6 = f.nw_proto == ipproto::ICMPV6;
    let must_show: [(bool, &[&str]); 19] = [
        (f.dl_dst != [0; 6], &["dl_dst"]),
        (f.dl_src != [0; 6], &["dl_src"]),
        (
            f.dl_type != 0,
            &["dl_type", "nw_src", "ipv6_src", "arp_spa", "mpls_label"],
        ),
        (f.vlans[0].tci != 0, &["dl_vlan", "dl_vlan_pcp", "vlan_tci"]),
        (
            f.vlans[1].tci != 0,
            &["dl_vlan1", "dl_vlan_pcp1", "vlan_tci1"],
        ),
        (f.mpls_lse != 0, &["mpls_label"]),
        (f.nw_src != 0, &["nw_src", "arp_spa"]),
        (f.nw_dst != 0, &["nw_dst", "arp_tpa"]),
        (f.ipv6_src != [0; 16], &["ipv6_src"]),
        (f.ipv6_dst != [0; 16], &["ipv6_dst"]),
        (f.ipv6_label != 0, &["ipv6_label"]),
        (f.nw_frag != 0, &["nw_frag"]),
        (f.nw_tos != 0 || f.nw_ttl != 0, &["nw_tos"]),
        (f.nd_target != [0; 16] && nd_printed, &["nd_target"]),
        (
            f.arp_sha != [0; 6] && (nd_printed || !icmp6),
            &["arp_sha", "nd_sll"],
        ),
        (
            f.arp_tha != [0; 6] && (nd_printed || !icmp6),
            &["arp_tha", "nd_tll"],
        ),
        (f.tcp_flags != 0 && !icmp6, &["tcp_flags"]),
        (f.tp_src != 0, &["tp_src", "icmp_type"]),
        (f.tp_dst != 0, &["tp_dst", "icmp_code"]),
    ];
    for (i, (nonzero, names)) in must_show.iter().enumerate() {
        if *nonzero && !shown(names) {
            return Err(format!(
                "our field #{i} ({names:?}) is set but OVS shows none of it"
            ));
        }
    }
    Ok(())
}

#[test]
#[ignore = "needs ovs-ofctl from Open vSwitch 3.1"]
fn every_corpus_frame_extracts_like_ovs() {
    let frames = corpus();
    let lines = ovs_parse(&frames);
    assert_eq!(lines.len(), frames.len(), "one line per packet");
    // parse-pcap runs with in_port = OFPP_ANY and otherwise zero metadata.
    let md = PacketMetadata::default();
    let mut failures = Vec::new();
    for ((name, frame), line) in frames.iter().zip(&lines) {
        let flow = extract(frame, &md);
        if let Err(why) = compare(&flow, line) {
            let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
            failures.push(format!("{name}: {why}\n  frame {hex}\n  ovs   {line}"));
        }
    }
    let mut kinds: Vec<&str> = failures
        .iter()
        .filter_map(|f| f.split(['~', '[', ':']).next())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    println!("differing cases: {kinds:?}");
    println!(
        "compared {} frames with ovs-ofctl parse-pcap, {} differ",
        frames.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
