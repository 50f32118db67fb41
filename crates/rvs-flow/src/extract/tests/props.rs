//! Property tests: packets built by `etherparse::PacketBuilder` (and ARP/ND built by hand) with
//! random field values extract to exactly those values; every prefix of such a frame keeps the
//! fields of the headers that are wholly present; random bytes never panic and always give a
//! consistent layout.
//!
//! # Invariants
//! The expected flow is computed from the generated specification, never from the extractor.
//! "Wholly present" follows Open vSwitch: an IP header counts only when the whole IP packet (as
//! its length field announces) is there, because OVS keeps no L3 field otherwise.

use etherparse::{
    DoubleVlanHeader, IpDscp, IpEcn, IpFragOffset, IpHeaders, IpNumber, Ipv4Header, Ipv4Options,
    Ipv6FlowLabel, Ipv6Header, PacketBuilder, SingleVlanHeader, TcpHeader, VlanHeader as EpVlan,
    VlanId, VlanPcp,
};
use proptest::prelude::*;

use crate::extract::{
    ExtractOptions, ExtractStatus, HeaderKind, HeaderLayout, PacketMetadata, extract, extract_into,
    extract_with_layout,
};
use crate::flow::{FLOW_WORDS, FRAG_ANY, FRAG_LATER, Flow, STAGE_WORD_ENDS, VlanHeader};

/// One VLAN tag: PCP, DEI, VID.
#[derive(Clone, Copy, Debug)]
struct Tag {
    pcp: u8,
    dei: bool,
    vid: u16,
}

/// Ethernet addresses and 0–2 tags.
#[derive(Clone, Debug)]
struct L2 {
    src: [u8; 6],
    dst: [u8; 6],
    tags: Vec<Tag>,
}

/// IPv4 or IPv6 header fields.
#[derive(Clone, Debug)]
enum L3 {
    V4 {
        src: [u8; 4],
        dst: [u8; 4],
        dscp: u8,
        ecn: u8,
        ttl: u8,
        df: bool,
        mf: bool,
        frag_off: u16,
        options: Vec<u8>,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        tclass: u8,
        label: u32,
        hop_limit: u8,
    },
}

/// Transport header fields; `Icmp` is ICMPv4 over IPv4 and ICMPv6 over IPv6.
#[derive(Clone, Debug)]
enum L4 {
    Tcp {
        src: u16,
        dst: u16,
        flags: u16,
        seq: u32,
        options: Vec<u8>,
    },
    Udp {
        src: u16,
        dst: u16,
    },
    Icmp {
        msg_type: u8,
        code: u8,
        rest: [u8; 4],
    },
}

fn l2() -> impl Strategy<Value = L2> {
    let tag = (0u8..8, any::<bool>(), 0u16..4096).prop_map(|(pcp, dei, vid)| Tag { pcp, dei, vid });
    (
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        prop::collection::vec(tag, 0..=2),
    )
        .prop_map(|(src, dst, tags)| L2 { src, dst, tags })
}

fn l3() -> impl Strategy<Value = L3> {
    let v4 = (
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        0u8..64,
        0u8..4,
        any::<u8>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0u16), 0u16..0x2000],
        (0usize..=10).prop_flat_map(|words| prop::collection::vec(any::<u8>(), words * 4)),
    )
        .prop_map(
            |(src, dst, dscp, ecn, ttl, df, mf, frag_off, options)| L3::V4 {
                src,
                dst,
                dscp,
                ecn,
                ttl,
                df,
                mf,
                frag_off,
                options,
            },
        );
    let v6 = (
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<u8>(),
        0u32..0x10_0000,
        any::<u8>(),
    )
        .prop_map(|(src, dst, tclass, label, hop_limit)| L3::V6 {
            src,
            dst,
            tclass,
            label,
            hop_limit,
        });
    prop_oneof![v4, v6]
}

fn l4() -> impl Strategy<Value = L4> {
    let tcp = (
        any::<u16>(),
        any::<u16>(),
        0u16..0x200,
        any::<u32>(),
        (0usize..=10).prop_flat_map(|words| prop::collection::vec(1u8..=1, words * 4)),
    )
        .prop_map(|(src, dst, flags, seq, options)| L4::Tcp {
            src,
            dst,
            flags,
            seq,
            options,
        });
    let udp = (any::<u16>(), any::<u16>()).prop_map(|(src, dst)| L4::Udp { src, dst });
    // Types 135/136 with code 0 are ND, covered by their own property.
    let icmp = (any::<u8>(), any::<u8>(), any::<[u8; 4]>())
        .prop_filter("not ND", |(t, c, _)| *c != 0 || (*t != 135 && *t != 136))
        .prop_map(|(msg_type, code, rest)| L4::Icmp {
            msg_type,
            code,
            rest,
        });
    prop_oneof![tcp, udp, icmp]
}

fn vlan_header(tag: &Tag) -> Result<SingleVlanHeader, TestCaseError> {
    Ok(SingleVlanHeader {
        pcp: VlanPcp::try_new(tag.pcp).map_err(|e| TestCaseError::fail(e.to_string()))?,
        drop_eligible_indicator: tag.dei,
        vlan_id: VlanId::try_new(tag.vid).map_err(|e| TestCaseError::fail(e.to_string()))?,
        ether_type: 0.into(),
    })
}

fn fail<E: std::fmt::Display>(e: E) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Serializes the packet with etherparse, then appends `padding`.
fn build(
    l2: &L2,
    l3: &L3,
    l4: &L4,
    payload: &[u8],
    padding: &[u8],
) -> Result<Vec<u8>, TestCaseError> {
    let ip = match l3 {
        L3::V4 {
            src,
            dst,
            dscp,
            ecn,
            ttl,
            df,
            mf,
            frag_off,
            options,
        } => {
            let mut h = Ipv4Header::new(0, *ttl, IpNumber(0), *src, *dst).map_err(fail)?;
            h.dscp = IpDscp::try_new(*dscp).map_err(fail)?;
            h.ecn = IpEcn::try_new(*ecn).map_err(fail)?;
            h.dont_fragment = *df;
            h.more_fragments = *mf;
            h.fragment_offset = IpFragOffset::try_new(*frag_off).map_err(fail)?;
            h.options = Ipv4Options::try_from(options.as_slice()).map_err(fail)?;
            IpHeaders::Ipv4(h, Default::default())
        }
        L3::V6 {
            src,
            dst,
            tclass,
            label,
            hop_limit,
        } => IpHeaders::Ipv6(
            Ipv6Header {
                traffic_class: *tclass,
                flow_label: Ipv6FlowLabel::try_new(*label).map_err(fail)?,
                payload_length: 0,
                next_header: IpNumber(0),
                hop_limit: *hop_limit,
                source: *src,
                destination: *dst,
            },
            Default::default(),
        ),
    };
    let eth = PacketBuilder::ethernet2(l2.src, l2.dst);
    let with_ip = match l2.tags.as_slice() {
        [] => eth.ip(ip),
        [one] => eth.vlan(EpVlan::Single(vlan_header(one)?)).ip(ip),
        [outer, inner, ..] => eth
            .vlan(EpVlan::Double(DoubleVlanHeader {
                outer: vlan_header(outer)?,
                inner: vlan_header(inner)?,
            }))
            .ip(ip),
    };
    let mut out = Vec::new();
    let v4 = matches!(l3, L3::V4 { .. });
    match l4 {
        L4::Tcp {
            src,
            dst,
            flags,
            seq,
            options,
        } => {
            let mut h = TcpHeader::new(*src, *dst, *seq, 1000);
            let bit = |n: u16| flags & (1 << n) != 0;
            (h.fin, h.syn, h.rst, h.psh, h.ack, h.urg, h.ece, h.cwr, h.ns) = (
                bit(0),
                bit(1),
                bit(2),
                bit(3),
                bit(4),
                bit(5),
                bit(6),
                bit(7),
                bit(8),
            );
            h.set_options_raw(options).map_err(fail)?;
            with_ip
                .tcp_header(h)
                .write(&mut out, payload)
                .map_err(fail)?;
        }
        L4::Udp { src, dst } => with_ip
            .udp(*src, *dst)
            .write(&mut out, payload)
            .map_err(fail)?,
        L4::Icmp {
            msg_type,
            code,
            rest,
        } if v4 => with_ip
            .icmpv4_raw(*msg_type, *code, *rest)
            .write(&mut out, payload)
            .map_err(fail)?,
        L4::Icmp {
            msg_type,
            code,
            rest,
        } => with_ip
            .icmpv6_raw(*msg_type, *code, *rest)
            .write(&mut out, payload)
            .map_err(fail)?,
    }
    out.extend_from_slice(padding);
    Ok(out)
}

/// The L2 part of the expected flow: addresses, tags (TPIDs as etherparse writes them) and type.
fn expected_l2(l2: &L2, dl_type: u16) -> Flow {
    let mut flow = Flow {
        dl_src: l2.src,
        dl_dst: l2.dst,
        dl_type,
        ..Flow::default()
    };
    let tpids: &[u16] = if l2.tags.len() == 2 {
        &[0x88a8, 0x8100]
    } else {
        &[0x8100]
    };
    for ((slot, tag), tpid) in flow.vlans.iter_mut().zip(&l2.tags).zip(tpids) {
        let tci = (u16::from(tag.pcp) << 13) | (u16::from(tag.dei) << 12) | tag.vid | 0x1000;
        *slot = VlanHeader { tpid: *tpid, tci };
    }
    flow
}

/// The expected flow and the L3/L4/payload offsets of a built packet.
fn expected(l2: &L2, l3: &L3, l4: &L4) -> (Flow, usize, usize, Option<usize>) {
    let l3_offset = 14 + 4 * l2.tags.len();
    let v4 = matches!(l3, L3::V4 { .. });
    let mut flow = expected_l2(l2, if v4 { 0x0800 } else { 0x86dd });
    let l4_offset = match l3 {
        L3::V4 {
            src,
            dst,
            dscp,
            ecn,
            ttl,
            mf,
            frag_off,
            options,
            ..
        } => {
            flow.nw_src = u32::from_be_bytes(*src);
            flow.nw_dst = u32::from_be_bytes(*dst);
            flow.nw_tos = (dscp << 2) | ecn;
            flow.nw_ttl = *ttl;
            flow.nw_frag = match (*mf, *frag_off) {
                (false, 0) => 0,
                (true, 0) => FRAG_ANY,
                _ => FRAG_ANY | FRAG_LATER,
            };
            l3_offset + 20 + options.len()
        }
        L3::V6 {
            src,
            dst,
            tclass,
            label,
            hop_limit,
        } => {
            flow.ipv6_src = *src;
            flow.ipv6_dst = *dst;
            flow.nw_tos = *tclass;
            flow.ipv6_label = *label;
            flow.nw_ttl = *hop_limit;
            l3_offset + 40
        }
    };
    let (proto, header_len) = match l4 {
        L4::Tcp { options, .. } => (6, 20 + options.len()),
        L4::Udp { .. } => (17, 8),
        L4::Icmp { .. } => (if v4 { 1 } else { 58 }, 8),
    };
    flow.nw_proto = proto;
    if flow.nw_frag & FRAG_LATER != 0 {
        return (flow, l3_offset, l4_offset, None);
    }
    match l4 {
        L4::Tcp {
            src, dst, flags, ..
        } => (flow.tp_src, flow.tp_dst, flow.tcp_flags) = (*src, *dst, *flags),
        L4::Udp { src, dst } => (flow.tp_src, flow.tp_dst) = (*src, *dst),
        L4::Icmp { msg_type, code, .. } => {
            (flow.tp_src, flow.tp_dst) = (u16::from(*msg_type), u16::from(*code))
        }
    }
    (flow, l3_offset, l4_offset, Some(l4_offset + header_len))
}

/// Checks the invariants every layout must satisfy for a frame of `len` bytes.
fn check_layout(layout: &HeaderLayout, len: usize) -> Result<(), TestCaseError> {
    let offsets = [
        layout.mpls_offset,
        layout.l3_offset,
        layout.l4_offset,
        layout.payload_offset,
    ];
    let mut last = 0usize;
    for off in offsets.into_iter().flatten() {
        let off = usize::from(off);
        prop_assert!(off <= len, "offset {off} beyond frame of {len}");
        prop_assert!(off >= last, "offsets decrease: {layout:?}");
        last = off;
    }
    prop_assert!(usize::from(layout.l2_pad_len) <= len);
    if layout.payload_offset.is_some() {
        prop_assert!(layout.l4_offset.is_some());
    }
    Ok(())
}

/// The metadata-only flow of `md`.
fn md_flow(md: &PacketMetadata) -> Flow {
    let mut flow = Flow::default();
    md.write_to(&mut flow);
    flow
}

/// Everything from the L3 stage on is zero.
fn l3_and_l4_zero(flow: &Flow) -> bool {
    flow.words()[STAGE_WORD_ENDS[1]..].iter().all(|w| *w == 0)
}

fn metadata() -> impl Strategy<Value = PacketMetadata> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u16>(),
        any::<[u8; 16]>(),
    )
        .prop_map(
            |(in_port, recirc_id, skb_mark, ct_state, ct_zone, ct_label)| PacketMetadata {
                in_port,
                recirc_id,
                skb_mark,
                ct_state,
                ct_zone,
                ct_label,
                ..PacketMetadata::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every field of an etherparse-built packet comes back, and the offsets are right.
    #[test]
    fn built_ip_packets_extract_every_field(
        l2 in l2(), l3 in l3(), l4 in l4(),
        payload in prop::collection::vec(any::<u8>(), 0..48),
        padding in prop::collection::vec(any::<u8>(), 0..24),
        md in metadata(),
    ) {
        let frame = build(&l2, &l3, &l4, &payload, &padding)?;
        let (mut want, l3_offset, l4_offset, payload_offset) = expected(&l2, &l3, &l4);
        md.write_to(&mut want);
        let (flow, layout) = extract_with_layout(&frame, &md);
        prop_assert_eq!(flow, want);
        prop_assert_eq!(layout.status, ExtractStatus::Complete);
        prop_assert_eq!(layout.l3_offset.map(usize::from), Some(l3_offset));
        prop_assert_eq!(layout.l4_offset.map(usize::from), Some(l4_offset));
        prop_assert_eq!(layout.payload_offset.map(usize::from), payload_offset);
        prop_assert_eq!(usize::from(layout.l2_pad_len), padding.len());
        prop_assert_eq!(extract(&frame, &md), flow);
    }

    /// Every prefix extracts without panicking; the headers wholly inside it keep their fields.
    #[test]
    fn prefixes_keep_wholly_present_headers(
        l2 in l2(), l3 in l3(), l4 in l4(),
        payload in prop::collection::vec(any::<u8>(), 0..16),
        padding in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let frame = build(&l2, &l3, &l4, &payload, &padding)?;
        let md = PacketMetadata::default();
        let (full, full_layout) = extract_with_layout(&frame, &md);
        let l3_offset = usize::from(full_layout.l3_offset.unwrap_or_default());
        let ip_end = frame.len() - padding.len();
        for len in 0..=frame.len() {
            let (flow, layout) = extract_with_layout(&frame[..len], &md);
            check_layout(&layout, len)?;
            if len < 14 {
                prop_assert_eq!(flow, md_flow(&md));
                prop_assert!(layout.status.is_runt());
                continue;
            }
            prop_assert_eq!((flow.dl_src, flow.dl_dst), (full.dl_src, full.dl_dst));
            if len >= l3_offset {
                prop_assert_eq!((flow.vlans, flow.dl_type), (full.vlans, full.dl_type));
            }
            if len >= ip_end {
                prop_assert_eq!(flow, full);
            } else if len >= l3_offset {
                prop_assert!(l3_and_l4_zero(&flow), "IP cut at {len}: {flow:?}");
                let header = if full.dl_type == 0x0800 { HeaderKind::Ipv4 } else { HeaderKind::Ipv6 };
                prop_assert_eq!(layout.status, ExtractStatus::Truncated(header));
            } else {
                prop_assert!(!layout.status.is_complete());
            }
        }
    }

    /// Hand-built ARP (any opcode, optionally tagged, optionally padded).
    #[test]
    fn arp_fields(
        l2 in l2(),
        rarp in any::<bool>(),
        op in prop_oneof![0u16..=0xff, any::<u16>()],
        sha in any::<[u8; 6]>(), spa in any::<[u8; 4]>(),
        tha in any::<[u8; 6]>(), tpa in any::<[u8; 4]>(),
        padding in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let dl_type: u16 = if rarp { 0x8035 } else { 0x0806 };
        let mut frame = [l2.dst, l2.src].concat();
        let tpids: &[u16] = if l2.tags.len() == 2 { &[0x88a8, 0x8100] } else { &[0x8100] };
        for (tag, tpid) in l2.tags.iter().zip(tpids) {
            let tci = (u16::from(tag.pcp) << 13) | (u16::from(tag.dei) << 12) | tag.vid;
            frame.extend_from_slice(&tpid.to_be_bytes());
            frame.extend_from_slice(&tci.to_be_bytes());
        }
        frame.extend_from_slice(&dl_type.to_be_bytes());
        frame.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
        frame.extend_from_slice(&op.to_be_bytes());
        for part in [&sha[..], &spa, &tha, &tpa, &padding] {
            frame.extend_from_slice(part);
        }
        let want = Flow {
            nw_src: u32::from_be_bytes(spa),
            nw_dst: u32::from_be_bytes(tpa),
            nw_proto: u8::try_from(op).unwrap_or(0),
            arp_sha: sha,
            arp_tha: tha,
            ..expected_l2(&l2, dl_type)
        };
        let (flow, layout) = extract_with_layout(&frame, &PacketMetadata::default());
        prop_assert_eq!(flow, want);
        prop_assert!(layout.status.is_complete());
        prop_assert_eq!(layout.l3_offset.map(usize::from), Some(14 + 4 * l2.tags.len()));
        let arp_end = 14 + 4 * l2.tags.len() + 28;
        for len in 14 + 4 * l2.tags.len()..arp_end {
            let (cut, layout) = extract_with_layout(&frame[..len], &PacketMetadata::default());
            prop_assert!(l3_and_l4_zero(&cut));
            prop_assert_eq!(layout.status, ExtractStatus::Truncated(HeaderKind::Arp));
        }
    }

    /// Neighbor solicitations/advertisements with random target and address options.
    #[test]
    fn neighbor_discovery_fields(
        advert in any::<bool>(),
        target in any::<[u8; 16]>(),
        sll in prop::option::of(any::<[u8; 6]>().prop_filter("nonzero", |m| *m != [0; 6])),
        tll in prop::option::of(any::<[u8; 6]>().prop_filter("nonzero", |m| *m != [0; 6])),
        tll_first in any::<bool>(),
        src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(),
    ) {
        let msg_type = if advert { 136 } else { 135 };
        let sll_opt = sll.map(|m| [&[1u8, 1][..], &m].concat()).unwrap_or_default();
        let tll_opt = tll.map(|m| [&[2u8, 1][..], &m].concat()).unwrap_or_default();
        let options = if tll_first { [tll_opt, sll_opt].concat() } else { [sll_opt, tll_opt].concat() };
        let body = [&target[..], &options].concat();
        let mut frame = Vec::new();
        PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv6(src, dst, 255)
            .icmpv6_raw(msg_type, 0, [0x60, 0, 0, 0])
            .write(&mut frame, &body)
            .map_err(fail)?;
        let first_type = match (sll, tll) {
            (Some(_), Some(_)) => if tll_first { 2 } else { 1 },
            (Some(_), None) => 1,
            (None, Some(_)) => 2,
            (None, None) => 0,
        };
        let flow = extract(&frame, &PacketMetadata::default());
        prop_assert_eq!(
            (flow.nw_proto, flow.tp_src, flow.tp_dst, flow.nd_target),
            (58, u16::from(msg_type), 0, target)
        );
        prop_assert_eq!((flow.arp_sha, flow.arp_tha), (sll.unwrap_or_default(), tll.unwrap_or_default()));
        prop_assert_eq!(flow.tcp_flags, first_type);
    }

    /// Arbitrary bytes, with or without a plausible Ethernet header, never panic and give a
    /// deterministic result with a consistent layout; `extract_into` overwrites a used flow fully.
    #[test]
    fn random_bytes_never_panic(
        ethertype in prop_oneof![
            Just(None),
            prop::sample::select(vec![0x0800u16, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x8847, 0x8848, 0x0040]).prop_map(Some),
        ],
        bytes in prop::collection::vec(any::<u8>(), 0..160),
        md in metadata(),
        packet_type in prop_oneof![Just(0u32), Just(0x0001_0800), Just(0x0001_86dd), Just(0x0001_8847), any::<u32>()],
    ) {
        let frame = match ethertype {
            Some(t) => [&[0u8; 12][..], &t.to_be_bytes(), &bytes].concat(),
            None => bytes,
        };
        let md = PacketMetadata { packet_type, ..md };
        let (flow, layout) = extract_with_layout(&frame, &md);
        check_layout(&layout, frame.len())?;
        prop_assert_eq!(extract_with_layout(&frame, &md), (flow, layout));
        let mut reused = Flow::from_words([u64::MAX; FLOW_WORDS]);
        prop_assert_eq!(extract_into(&frame, &md, &ExtractOptions::default(), &mut reused), layout);
        prop_assert_eq!(reused, flow);
        let md_only = md_flow(&md);
        prop_assert_eq!(&flow.words()[..STAGE_WORD_ENDS[0]], &md_only.words()[..STAGE_WORD_ENDS[0]]);
        prop_assert_eq!(layout.status.is_runt(), packet_type == 0 && frame.len() < 14);
        prop_assert_eq!((flow.pad0, flow.pad1, flow.pad2, flow.pad3, flow.pad4), (0, 0, 0, 0, 0));
    }
}
