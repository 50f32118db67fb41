//! Hand-made frames, one per protocol and per truncation/malformation case, shared by the unit
//! tests and the comparison with Open vSwitch ([`super::oracle`]).
//!
//! # Invariants
//! Every frame uses [`DST`]/[`SRC`] as Ethernet addresses and, unless its name says otherwise,
//! 10.0.0.1 → 10.0.0.2 (IPv4) or [`IP6_SRC`] → [`IP6_DST`] (IPv6). Checksums are left zero: the
//! extractor (like Open vSwitch's) never looks at them.

/// Ethernet destination of every case.
pub(super) const DST: [u8; 6] = [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f];
/// Ethernet source of every case.
pub(super) const SRC: [u8; 6] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06];
/// IPv4 source of the IPv4 cases.
pub(super) const IP4_SRC: u32 = 0x0a00_0001;
/// IPv4 destination of the IPv4 cases.
pub(super) const IP4_DST: u32 = 0x0a00_0002;
/// IPv6 source (2001:db8::1).
pub(super) const IP6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// IPv6 destination (ff02::1).
pub(super) const IP6_DST: [u8; 16] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// ND target (2001:db8::2).
pub(super) const ND_TARGET: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
/// MAC carried in ND and ARP cases.
pub(super) const MAC_A: [u8; 6] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
/// Another MAC carried in ND and ARP cases.
pub(super) const MAC_B: [u8; 6] = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];

/// Concatenation of byte strings.
pub(super) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Ethernet header with `ethertype`.
pub(super) fn eth(ethertype: u16) -> Vec<u8> {
    cat(&[&DST, &SRC, &ethertype.to_be_bytes()])
}

/// A VLAN tag (TPID and TCI, without the following type).
pub(super) fn tag(tpid: u16, tci: u16) -> Vec<u8> {
    cat(&[&tpid.to_be_bytes(), &tci.to_be_bytes()])
}

/// IPv4 header with the given IHL (in words), options zero-filled, followed by `payload`;
/// tot_len covers header and payload; TOS 0xb9, TTL 64.
pub(super) fn ipv4_ihl(ihl: u8, proto: u8, frag_off: u16, payload: &[u8]) -> Vec<u8> {
    let header_len = usize::from(ihl) * 4;
    let total = u16::try_from(header_len.max(20) + payload.len()).expect("small test packet");
    let mut h = vec![0x40 | ihl, 0xb9];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34]);
    h.extend_from_slice(&frag_off.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&IP4_SRC.to_be_bytes());
    h.extend_from_slice(&IP4_DST.to_be_bytes());
    h.resize(header_len.max(20), 0);
    cat(&[&h, payload])
}

/// IPv4 packet (IHL 5) carrying `payload`.
pub(super) fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_ihl(5, proto, 0, payload)
}

/// IPv6 header (traffic class 0xa5, label 0x12345, hop limit 64) followed by `payload`.
pub(super) fn ipv6(next_header: u8, payload: &[u8]) -> Vec<u8> {
    let plen = u16::try_from(payload.len()).expect("small test packet");
    let first_word: u32 = (6 << 28) | (0xa5 << 20) | 0x12345;
    cat(&[
        &first_word.to_be_bytes(),
        &plen.to_be_bytes(),
        &[next_header, 64],
        &IP6_SRC,
        &IP6_DST,
        payload,
    ])
}

/// An IPv6 extension header of `len_units` (its length byte) with `next`, body zero-filled to
/// `total` bytes.
pub(super) fn ext(next: u8, len_byte: u8, total: usize) -> Vec<u8> {
    let mut h = vec![next, len_byte];
    h.resize(total, 0);
    h
}

/// IPv6 fragment header.
pub(super) fn frag6(next: u8, offset_flags: u16) -> Vec<u8> {
    cat(&[
        &[next, 0],
        &offset_flags.to_be_bytes(),
        &[0xde, 0xad, 0xbe, 0xef],
    ])
}

/// TCP header with data offset `doff` words (options zero-filled) and the 12 flag bits.
pub(super) fn tcp_doff(src: u16, dst: u16, doff: u8, flags: u16) -> Vec<u8> {
    let mut h = cat(&[
        &src.to_be_bytes(),
        &dst.to_be_bytes(),
        &[0, 0, 0, 1, 0, 0, 0, 2],
    ]);
    let word = (u16::from(doff) << 12) | (flags & 0x0fff);
    h.extend_from_slice(&word.to_be_bytes());
    h.extend_from_slice(&[0x20, 0x00, 0, 0, 0, 0]);
    h.resize(usize::from(doff).max(5) * 4, 0);
    h
}

/// TCP header without options.
pub(super) fn tcp(src: u16, dst: u16, flags: u16) -> Vec<u8> {
    tcp_doff(src, dst, 5, flags)
}

/// UDP header and 4 bytes of payload.
pub(super) fn udp(src: u16, dst: u16) -> Vec<u8> {
    cat(&[
        &src.to_be_bytes(),
        &dst.to_be_bytes(),
        &[0, 12, 0, 0],
        b"data",
    ])
}

/// SCTP common header.
pub(super) fn sctp(src: u16, dst: u16) -> Vec<u8> {
    cat(&[
        &src.to_be_bytes(),
        &dst.to_be_bytes(),
        &[1, 2, 3, 4, 0, 0, 0, 0],
    ])
}

/// ICMP/IGMP/ICMPv6 fixed header (8 bytes).
pub(super) fn icmp(msg_type: u8, code: u8) -> Vec<u8> {
    vec![msg_type, code, 0, 0, 0x60, 0, 0, 0]
}

/// An ND link-layer address option (8 bytes) of `opt_type` with `mac`.
pub(super) fn lla(opt_type: u8, mac: [u8; 6]) -> Vec<u8> {
    cat(&[&[opt_type, 1], &mac])
}

/// An ND message (ICMPv6 header + target) with `options`.
pub(super) fn nd(msg_type: u8, code: u8, options: &[u8]) -> Vec<u8> {
    cat(&[&icmp(msg_type, code), &ND_TARGET, options])
}

/// ARP packet with the given hardware/protocol types and lengths, opcode and addresses.
pub(super) fn arp_raw(hrd: u16, pro: u16, hln: u8, pln: u8, op: u16) -> Vec<u8> {
    cat(&[
        &hrd.to_be_bytes(),
        &pro.to_be_bytes(),
        &[hln, pln],
        &op.to_be_bytes(),
        &MAC_A,
        &IP4_SRC.to_be_bytes(),
        &MAC_B,
        &IP4_DST.to_be_bytes(),
    ])
}

/// Ethernet/IPv4 ARP with opcode `op`.
pub(super) fn arp(op: u16) -> Vec<u8> {
    arp_raw(1, 0x0800, 6, 4, op)
}

/// `frame` without its last `n` bytes.
pub(super) fn cut(mut frame: Vec<u8>, n: usize) -> Vec<u8> {
    frame.truncate(frame.len().saturating_sub(n));
    frame
}

/// Every named case.
pub(super) fn all() -> Vec<(&'static str, Vec<u8>)> {
    let tcp4 = cat(&[
        &eth(0x0800),
        &ipv4(6, &cat(&[&tcp_doff(8080, 80, 8, 0x012), b"payload"])),
    ]);
    let udp4 = cat(&[&eth(0x0800), &ipv4(17, &udp(53, 1053))]);
    let llc_snap = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    vec![
        ("runt", vec![0x0a; 13]),
        ("empty", vec![]),
        ("eth_only", eth(0x1234)),
        (
            "eth_unknown_payload",
            cat(&[&eth(0x88cc), &[1, 2, 3, 4, 5, 6, 7, 8]]),
        ),
        ("tcp4", tcp4.clone()),
        ("tcp4_padded", cat(&[&tcp4, &[0u8; 9]])),
        ("udp4", udp4.clone()),
        (
            "vlan_udp4",
            cat(&[
                &eth(0x8100),
                &tag(0x3005, 0x0800),
                &ipv4(17, &udp(53, 1053)),
            ]),
        ),
        (
            "vlan_prio_only",
            cat(&[&eth(0x8100), &tag(0xe000, 0x0800), &ipv4(17, &udp(1, 2))]),
        ),
        (
            "vlan_dei",
            cat(&[&eth(0x8100), &tag(0x1fff, 0x0806), &arp(1)]),
        ),
        (
            "qinq_udp4",
            cat(&[
                &eth(0x88a8),
                &tag(0xe006, 0x8100),
                &tag(0x3005, 0x0800),
                &ipv4(17, &udp(7, 9)),
            ]),
        ),
        (
            "qinq_8100_8100",
            cat(&[
                &eth(0x8100),
                &tag(0x0006, 0x8100),
                &tag(0x2005, 0x86dd),
                &ipv6(17, &udp(7, 9)),
            ]),
        ),
        (
            "three_tags",
            cat(&[
                &eth(0x8100),
                &tag(0x0001, 0x8100),
                &tag(0x0002, 0x8100),
                &tag(0x0003, 0x0800),
                &ipv4(17, &udp(7, 9)),
            ]),
        ),
        ("vlan_truncated", cat(&[&eth(0x8100), &[0x30, 0x05]])),
        (
            "vlan_tag_without_type",
            cat(&[&eth(0x8100), &[0x30, 0x05, 0x08]]),
        ),
        (
            "vlan_then_truncated_tag",
            cat(&[&eth(0x8100), &tag(0x3005, 0x88a8), &[0x00, 0x07]]),
        ),
        (
            "vlan_then_runt_type",
            cat(&[&eth(0x8100), &[0x30, 0x05, 0x08, 0x00]]),
        ),
        (
            "llc_snap_ipv4",
            cat(&[&eth(0x0030), &llc_snap, &ipv4(17, &udp(1, 2))]),
        ),
        (
            "llc_snap_other_oui",
            cat(&[
                &eth(0x0030),
                &[0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0x00],
                &[0u8; 20],
            ]),
        ),
        (
            "llc_snap_small_type",
            cat(&[
                &eth(0x0030),
                &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x01, 0x00],
                &[0u8; 20],
            ]),
        ),
        (
            "llc_plain",
            cat(&[&eth(0x0030), &[0x42, 0x42, 0x03], &[0u8; 30]]),
        ),
        (
            "llc_short",
            cat(&[&eth(0x0030), &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08]]),
        ),
        ("len_0x5ff", cat(&[&eth(0x05ff), &[0u8; 10]])),
        (
            "vlan_llc_snap_arp",
            cat(&[
                &eth(0x8100),
                &tag(0x0064, 0x0026),
                &llc_snap[..6],
                &[0x08, 0x06],
                &arp(2),
            ]),
        ),
        (
            "mpls_two_labels",
            cat(&[
                &eth(0x8847),
                &[0x00, 0x01, 0x40, 0x3f],
                &[0x00, 0x00, 0x21, 0x40],
                &ipv4(17, &udp(1, 2)),
            ]),
        ),
        (
            "mpls_one_label",
            cat(&[
                &eth(0x8847),
                &[0xff, 0xff, 0xfb, 0x01],
                &ipv4(17, &udp(1, 2)),
            ]),
        ),
        (
            "mpls_mcast",
            cat(&[&eth(0x8848), &[0x00, 0x0a, 0x5f, 0x08]]),
        ),
        (
            "mpls_no_bos",
            cat(&[
                &eth(0x8847),
                &[0x00, 0x01, 0x40, 0x3f],
                &[0x00, 0x02, 0x00, 0x3f],
            ]),
        ),
        ("mpls_empty", eth(0x8847)),
        (
            "mpls_partial_entry",
            cat(&[&eth(0x8847), &[0x00, 0x01, 0x41]]),
        ),
        (
            "vlan_mpls",
            cat(&[
                &eth(0x8100),
                &tag(0x0010, 0x8847),
                &[0x00, 0x01, 0x41, 0x3f],
            ]),
        ),
        ("ipv4_19_bytes", udp4[..14 + 19].to_vec()),
        (
            "ipv4_ihl_4",
            cat(&[&eth(0x0800), &ipv4_ihl(4, 17, 0, &udp(1, 2))]),
        ),
        (
            "ipv4_ihl_0",
            cat(&[&eth(0x0800), &ipv4_ihl(0, 17, 0, &udp(1, 2))]),
        ),
        (
            "ipv4_ihl_beyond",
            cat(&[&eth(0x0800), &ipv4_ihl(15, 17, 0, &udp(1, 2))[..30]]),
        ),
        ("ipv4_totlen_too_big", cut(udp4.clone(), 1)),
        ("ipv4_totlen_below_ihl", {
            let mut f = udp4.clone();
            f[16..18].copy_from_slice(&19u16.to_be_bytes());
            f
        }),
        ("ipv4_totlen_20_udp", {
            let mut f = udp4.clone();
            f[16..18].copy_from_slice(&20u16.to_be_bytes());
            f
        }),
        (
            "ipv4_options_udp",
            cat(&[&eth(0x0800), &ipv4_ihl(7, 17, 0, &udp(5, 6))]),
        ),
        (
            "ipv4_frag_first",
            cat(&[&eth(0x0800), &ipv4_ihl(5, 17, 0x2000, &udp(5, 6))]),
        ),
        (
            "ipv4_frag_later",
            cat(&[&eth(0x0800), &ipv4_ihl(5, 17, 0x0064, &udp(5, 6))]),
        ),
        (
            "ipv4_frag_later_mf",
            cat(&[&eth(0x0800), &ipv4_ihl(5, 6, 0x2001, &tcp(5, 6, 2))]),
        ),
        (
            "ipv4_df",
            cat(&[&eth(0x0800), &ipv4_ihl(5, 17, 0x4000, &udp(5, 6))]),
        ),
        (
            "ipv4_reserved_flag",
            cat(&[&eth(0x0800), &ipv4_ihl(5, 17, 0x8000, &udp(5, 6))]),
        ),
        ("ipv4_version_6", {
            let mut f = udp4.clone();
            f[14] = 0x65;
            f
        }),
        (
            "ipv4_unknown_proto",
            cat(&[&eth(0x0800), &ipv4(99, b"abcdefgh")]),
        ),
        (
            "tcp4_all_flags",
            cat(&[&eth(0x0800), &ipv4(6, &tcp(1, 2, 0x0fff))]),
        ),
        (
            "tcp4_19_bytes",
            cat(&[&eth(0x0800), &ipv4(6, &tcp(1, 2, 0x002)[..19])]),
        ),
        (
            "tcp4_doff_4",
            cat(&[
                &eth(0x0800),
                &ipv4(6, &cat(&[&tcp_doff(1, 2, 4, 0x002), &[0u8; 8]])),
            ]),
        ),
        (
            "tcp4_options_cut",
            cat(&[&eth(0x0800), &ipv4(6, &tcp_doff(1, 2, 8, 0x010)[..24])]),
        ),
        (
            "udp4_7_bytes",
            cat(&[&eth(0x0800), &ipv4(17, &udp(1, 2)[..7])]),
        ),
        ("sctp4", cat(&[&eth(0x0800), &ipv4(132, &sctp(2905, 2906))])),
        (
            "sctp4_11_bytes",
            cat(&[&eth(0x0800), &ipv4(132, &sctp(2905, 2906)[..11])]),
        ),
        ("icmp4_echo", cat(&[&eth(0x0800), &ipv4(1, &icmp(8, 0))])),
        (
            "icmp4_unreach",
            cat(&[&eth(0x0800), &ipv4(1, &icmp(3, 13))]),
        ),
        (
            "icmp4_7_bytes",
            cat(&[&eth(0x0800), &ipv4(1, &icmp(8, 0)[..7])]),
        ),
        (
            "igmp4",
            cat(&[
                &eth(0x0800),
                &ipv4(2, &cat(&[&[0x16, 0x00, 0, 0], &[0xe0, 0, 0, 0xfb]])),
            ]),
        ),
        (
            "icmp6_in_ipv4_nd",
            cat(&[&eth(0x0800), &ipv4(58, &nd(135, 0, &lla(1, MAC_A)))]),
        ),
        (
            "tcp6",
            cat(&[&eth(0x86dd), &ipv6(6, &tcp(443, 51000, 0x018))]),
        ),
        ("udp6", cat(&[&eth(0x86dd), &ipv6(17, &udp(546, 547))])),
        (
            "udp6_padded",
            cat(&[&eth(0x86dd), &ipv6(17, &udp(546, 547)), &[0u8; 6]]),
        ),
        ("sctp6", cat(&[&eth(0x86dd), &ipv6(132, &sctp(1, 65535))])),
        ("icmp_in_ipv6", cat(&[&eth(0x86dd), &ipv6(1, &icmp(8, 0))])),
        ("ipv6_39_bytes", cat(&[&eth(0x86dd), &ipv6(17, &[])[..39]])),
        (
            "ipv6_plen_too_big",
            cut(cat(&[&eth(0x86dd), &ipv6(17, &udp(1, 2))]), 1),
        ),
        ("ipv6_no_next", cat(&[&eth(0x86dd), &ipv6(59, &[0u8; 4])])),
        (
            "ipv6_ext_chain_tcp",
            cat(&[
                &eth(0x86dd),
                &ipv6(
                    0,
                    &cat(&[
                        &ext(60, 0, 8),
                        &ext(43, 1, 16),
                        &ext(6, 0, 8),
                        &tcp(1, 2, 1),
                    ]),
                ),
            ]),
        ),
        (
            "ipv6_ah_udp",
            cat(&[
                &eth(0x86dd),
                &ipv6(51, &cat(&[&ext(17, 4, 24), &udp(3, 4)])),
            ]),
        ),
        (
            "ipv6_frag_first_udp",
            cat(&[
                &eth(0x86dd),
                &ipv6(44, &cat(&[&frag6(17, 0x0001), &udp(3, 4)])),
            ]),
        ),
        (
            "ipv6_frag_later",
            cat(&[
                &eth(0x86dd),
                &ipv6(44, &cat(&[&frag6(17, 0x0008), &udp(3, 4)])),
            ]),
        ),
        (
            "ipv6_frag_atomic",
            cat(&[
                &eth(0x86dd),
                &ipv6(44, &cat(&[&frag6(17, 0x0000), &udp(3, 4)])),
            ]),
        ),
        (
            "ipv6_frag_reserved_bits",
            cat(&[
                &eth(0x86dd),
                &ipv6(44, &cat(&[&frag6(6, 0x0006), &tcp(3, 4, 2)])),
            ]),
        ),
        (
            "ipv6_hbh_then_frag_later",
            cat(&[
                &eth(0x86dd),
                &ipv6(0, &cat(&[&ext(44, 0, 8), &frag6(6, 0xfff9)])),
            ]),
        ),
        (
            "ipv6_ext_truncated",
            cat(&[&eth(0x86dd), &ipv6(0, &ext(17, 1, 8))]),
        ),
        (
            "ipv6_ext_under_8",
            cat(&[&eth(0x86dd), &ipv6(60, &[17, 0, 0, 0])]),
        ),
        (
            "ipv6_ext_no_room_after",
            cat(&[&eth(0x86dd), &ipv6(60, &ext(6, 0, 8))]),
        ),
        ("icmp6_echo", cat(&[&eth(0x86dd), &ipv6(58, &icmp(128, 0))])),
        (
            "icmp6_7_bytes",
            cat(&[&eth(0x86dd), &ipv6(58, &icmp(128, 0)[..7])]),
        ),
        (
            "nd_ns_sll",
            cat(&[&eth(0x86dd), &ipv6(58, &nd(135, 0, &lla(1, MAC_A)))]),
        ),
        (
            "nd_na_tll",
            cat(&[&eth(0x86dd), &ipv6(58, &nd(136, 0, &lla(2, MAC_B)))]),
        ),
        (
            "nd_ns_tll_then_sll",
            cat(&[
                &eth(0x86dd),
                &ipv6(58, &nd(135, 0, &cat(&[&lla(2, MAC_B), &lla(1, MAC_A)]))),
            ]),
        ),
        (
            "nd_no_options",
            cat(&[&eth(0x86dd), &ipv6(58, &nd(135, 0, &[]))]),
        ),
        (
            "nd_target_cut",
            cat(&[&eth(0x86dd), &ipv6(58, &nd(135, 0, &[])[..20])]),
        ),
        (
            "nd_code_1",
            cat(&[&eth(0x86dd), &ipv6(58, &nd(135, 1, &lla(1, MAC_A)))]),
        ),
        (
            "nd_opt_len_0",
            cat(&[
                &eth(0x86dd),
                &ipv6(
                    58,
                    &nd(136, 0, &cat(&[&lla(2, MAC_B), &[1, 0, 1, 2, 3, 4, 5, 6]])),
                ),
            ]),
        ),
        (
            "nd_opt_too_long",
            cat(&[
                &eth(0x86dd),
                &ipv6(
                    58,
                    &nd(136, 0, &cat(&[&lla(2, MAC_B), &[1, 2, 1, 2, 3, 4, 5, 6]])),
                ),
            ]),
        ),
        (
            "nd_dup_sll",
            cat(&[
                &eth(0x86dd),
                &ipv6(58, &nd(135, 0, &cat(&[&lla(1, MAC_A), &lla(1, MAC_B)]))),
            ]),
        ),
        (
            "nd_dup_tll_after_sll",
            cat(&[
                &eth(0x86dd),
                &ipv6(
                    58,
                    &nd(
                        136,
                        0,
                        &cat(&[&lla(1, MAC_A), &lla(2, MAC_B), &lla(2, MAC_A)]),
                    ),
                ),
            ]),
        ),
        (
            "nd_zero_sll_then_sll",
            cat(&[
                &eth(0x86dd),
                &ipv6(58, &nd(135, 0, &cat(&[&lla(1, [0; 6]), &lla(1, MAC_B)]))),
            ]),
        ),
        (
            "nd_long_sll_ignored",
            cat(&[
                &eth(0x86dd),
                &ipv6(
                    58,
                    &nd(135, 0, &cat(&[&[1, 2], &MAC_A, &[0u8; 8], &lla(2, MAC_B)])),
                ),
            ]),
        ),
        (
            "nd_other_option",
            cat(&[
                &eth(0x86dd),
                &ipv6(
                    58,
                    &nd(135, 0, &cat(&[&[14, 1, 9, 9, 9, 9, 9, 9], &lla(1, MAC_A)])),
                ),
            ]),
        ),
        (
            "nd_trailing_bytes",
            cat(&[
                &eth(0x86dd),
                &ipv6(58, &nd(135, 0, &cat(&[&lla(1, MAC_A), &[1, 1, 1]]))),
            ]),
        ),
        (
            "nd_behind_frag",
            cat(&[
                &eth(0x86dd),
                &ipv6(44, &cat(&[&frag6(58, 0x0001), &nd(136, 0, &lla(2, MAC_B))])),
            ]),
        ),
        ("arp_request", cat(&[&eth(0x0806), &arp(1)])),
        (
            "arp_reply_padded",
            cat(&[&eth(0x0806), &arp(2), &[0u8; 18]]),
        ),
        ("arp_op_0x101", cat(&[&eth(0x0806), &arp(0x0101)])),
        ("arp_op_0xff", cat(&[&eth(0x0806), &arp(0x00ff)])),
        ("rarp", cat(&[&eth(0x8035), &arp(3)])),
        ("arp_27_bytes", cat(&[&eth(0x0806), &arp(1)[..27]])),
        (
            "arp_hrd_6",
            cat(&[&eth(0x0806), &arp_raw(6, 0x0800, 6, 4, 1)]),
        ),
        (
            "arp_pro_ipv6",
            cat(&[&eth(0x0806), &arp_raw(1, 0x86dd, 6, 4, 1)]),
        ),
        (
            "arp_hln_8",
            cat(&[&eth(0x0806), &arp_raw(1, 0x0800, 8, 4, 1)]),
        ),
    ]
}
