//! Executor tests: every rewrite checked byte by byte and with etherparse's checksum calculations;
//! pushes and pops round-trip; odd packets never panic.

use etherparse::{NetHeaders, PacketBuilder, PacketHeaders, TransportHeader};
use proptest::prelude::*;
use rvs_flow::extract::{ExtractOptions, PacketMetadata};
use rvs_flow::odp::{KeyAttrKind, OdpAction, Userdata, UserspaceAction};
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::Packet;

use super::csum::crc32c;
use super::{ExecPacket, ExecSink, Executor};

const SRC: [u8; 6] = [0x50, 0x54, 0, 0, 0, 1];
const DST: [u8; 6] = [0x50, 0x54, 0, 0, 0, 2];

/// Records where packets went.
#[derive(Default)]
struct Recorder {
    outputs: Vec<(u32, Vec<u8>)>,
    upcalls: Vec<(Vec<u8>, PacketMetadata)>,
    recirculated: Vec<(Vec<u8>, PacketMetadata)>,
    dropped: usize,
    refuse_recirc: bool,
}

impl ExecSink for Recorder {
    fn output(&mut self, port_no: u32, packet: Packet) {
        self.outputs.push((port_no, packet.to_vec()));
    }
    fn userspace(&mut self, frame: &[u8], md: &PacketMetadata, _action: &UserspaceAction) {
        self.upcalls.push((frame.to_vec(), *md));
    }
    fn recirculate(&mut self, packet: Packet, md: PacketMetadata) -> Result<(), Packet> {
        if self.refuse_recirc {
            return Err(packet);
        }
        self.recirculated.push((packet.to_vec(), md));
        Ok(())
    }
    fn drop_packet(&mut self, _packet: Packet) {
        self.dropped += 1;
    }
}

impl Recorder {
    /// Every place a packet ended.
    fn ends(&self) -> usize {
        self.outputs.len() + self.recirculated.len() + self.dropped
    }
}

fn run(frame: &[u8], actions: &[OdpAction]) -> (Recorder, Executor) {
    let mut exec = Executor::new(ExtractOptions { vlan_limit: 1 }, 7);
    let mut sink = Recorder::default();
    let pkt = ExecPacket::new(
        Packet::from_slice(frame),
        PacketMetadata::from_port(1),
        None,
    );
    exec.execute(pkt, actions, &mut sink);
    (sink, exec)
}

/// Runs `actions` then output(2); returns the sent frame.
fn rewrite(frame: &[u8], actions: Vec<OdpAction>) -> Vec<u8> {
    let mut all = actions;
    all.push(OdpAction::Output(2));
    let (sink, _) = run(frame, &all);
    assert_eq!(sink.outputs.len(), 1, "one output");
    sink.outputs[0].1.clone()
}

fn set(kind: KeyAttrKind, f: impl FnOnce(&mut Flow)) -> OdpAction {
    let mut value = Flow::default();
    f(&mut value);
    OdpAction::Set {
        kind,
        value: Box::new(value),
        mask: None,
    }
}

fn masked_set(kind: KeyAttrKind, f: impl FnOnce(&mut Flow, &mut Flow)) -> OdpAction {
    let (mut value, mut mask) = (Flow::default(), Flow::default());
    f(&mut value, &mut mask);
    OdpAction::Set {
        kind,
        value: Box::new(value),
        mask: Some(Box::new(Wildcards { masks: mask })),
    }
}

fn tcp4(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 80, 1, 65535)
        .syn()
        .write(&mut v, payload)
        .expect("build");
    v
}

fn udp4(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(5353, 53)
        .write(&mut v, payload)
        .expect("build");
    v
}

fn tcp6() -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv6([0x20; 16], [0x21; 16], 64)
        .tcp(40000, 443, 1, 65535)
        .write(&mut v, b"hello")
        .expect("build");
    v
}

fn udp6() -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv6([0x20; 16], [0x21; 16], 64)
        .udp(1000, 2000)
        .write(&mut v, b"payload!")
        .expect("build");
    v
}

/// Checks every checksum etherparse knows how to compute; returns the parsed headers.
fn assert_checksums(frame: &[u8]) -> PacketHeaders<'_> {
    let h = PacketHeaders::from_ethernet_slice(frame).expect("etherparse parses the frame");
    let payload = h.payload.slice();
    match (&h.net, &h.transport) {
        (Some(NetHeaders::Ipv4(ip, _)), t) => {
            assert_eq!(
                ip.calc_header_checksum(),
                ip.header_checksum,
                "IPv4 header checksum"
            );
            match t {
                Some(TransportHeader::Tcp(tcp)) => {
                    assert_eq!(
                        tcp.calc_checksum_ipv4(ip, payload).expect("size"),
                        tcp.checksum,
                        "TCP checksum"
                    )
                }
                Some(TransportHeader::Udp(udp)) if udp.checksum != 0 => {
                    assert_eq!(
                        udp.calc_checksum_ipv4(ip, payload).expect("size"),
                        udp.checksum,
                        "UDP checksum"
                    )
                }
                Some(TransportHeader::Icmpv4(icmp)) => {
                    assert_eq!(
                        icmp.icmp_type.calc_checksum(payload),
                        icmp.checksum,
                        "ICMP checksum"
                    )
                }
                _ => {}
            }
        }
        (Some(NetHeaders::Ipv6(ip, _)), t) => match t {
            Some(TransportHeader::Tcp(tcp)) => {
                assert_eq!(
                    tcp.calc_checksum_ipv6(ip, payload).expect("size"),
                    tcp.checksum,
                    "TCP checksum"
                )
            }
            Some(TransportHeader::Udp(udp)) => {
                assert_eq!(
                    udp.calc_checksum_ipv6(ip, payload).expect("size"),
                    udp.checksum,
                    "UDP checksum"
                )
            }
            Some(TransportHeader::Icmpv6(icmp)) => assert_eq!(
                icmp.icmp_type
                    .calc_checksum(ip.source, ip.destination, payload)
                    .expect("size"),
                icmp.checksum,
                "ICMPv6 checksum"
            ),
            _ => {}
        },
        _ => {}
    }
    h
}

#[test]
fn set_ipv4_rewrites_addresses_tos_ttl_and_keeps_checksums() {
    let frame = tcp4(b"abcdef");
    assert_checksums(&frame);
    let out = rewrite(
        &frame,
        vec![set(KeyAttrKind::Ipv4, |f| {
            f.nw_src = 0xc0a8_0101;
            f.nw_dst = 0xc0a8_0202;
            f.nw_tos = 0x28;
            f.nw_ttl = 17;
            f.nw_proto = 99; // not writable: ignored
        })],
    );
    let h = assert_checksums(&out);
    let Some(NetHeaders::Ipv4(ip, _)) = h.net else {
        panic!("IPv4")
    };
    assert_eq!(
        (ip.source, ip.destination, ip.time_to_live),
        ([192, 168, 1, 1], [192, 168, 2, 2], 17)
    );
    assert_eq!((ip.dscp.value(), ip.ecn.value()), (0x28 >> 2, 0));
    assert_eq!(u8::from(ip.protocol), 6);
    let mut expected_l4 = frame[34..].to_vec();
    expected_l4[16..18].copy_from_slice(&out[50..52]);
    assert_eq!(
        &out[34..],
        &expected_l4[..],
        "only the TCP checksum changed after L3"
    );
}

#[test]
fn masked_set_ipv4_touches_only_masked_bits() {
    let frame = udp4(b"xyz");
    let out = rewrite(
        &frame,
        vec![masked_set(KeyAttrKind::Ipv4, |v, m| {
            v.nw_dst = 0x0b00_0000;
            m.nw_dst = 0xff00_0000;
        })],
    );
    let h = assert_checksums(&out);
    let Some(NetHeaders::Ipv4(ip, _)) = h.net else {
        panic!("IPv4")
    };
    assert_eq!(
        (ip.source, ip.destination, ip.time_to_live),
        ([10, 0, 0, 1], [11, 0, 0, 2], 64)
    );
}

#[test]
fn zero_udp_checksum_stays_zero() {
    let mut frame = udp4(b"xyz");
    frame[40] = 0;
    frame[41] = 0;
    let out = rewrite(&frame, vec![set(KeyAttrKind::Ipv4, |f| f.nw_src = 1)]);
    assert_eq!(&out[40..42], &[0, 0]);
    let out = rewrite(&frame, vec![set(KeyAttrKind::Udp, |f| f.tp_src = 7)]);
    assert_eq!(&out[40..42], &[0, 0]);
    assert_eq!(&out[34..36], &[0, 7]);
}

#[test]
fn set_transport_ports_keeps_checksums() {
    for (frame, kind) in [
        (tcp4(b"data"), KeyAttrKind::Tcp),
        (udp4(b"data"), KeyAttrKind::Udp),
        (tcp6(), KeyAttrKind::Tcp),
        (udp6(), KeyAttrKind::Udp),
    ] {
        let out = rewrite(
            &frame,
            vec![masked_set(kind, |v, m| {
                v.tp_src = 0x1234;
                m.tp_src = 0xffff;
                v.tp_dst = 0x00ff;
                m.tp_dst = 0x00ff;
            })],
        );
        let h = assert_checksums(&out);
        let (src, dst) = match h.transport {
            Some(TransportHeader::Tcp(t)) => (t.source_port, t.destination_port),
            Some(TransportHeader::Udp(u)) => (u.source_port, u.destination_port),
            _ => panic!("transport"),
        };
        let old_dst = match PacketHeaders::from_ethernet_slice(&frame)
            .expect("parse")
            .transport
        {
            Some(TransportHeader::Tcp(t)) => t.destination_port,
            Some(TransportHeader::Udp(u)) => u.destination_port,
            _ => panic!("transport"),
        };
        assert_eq!((src, dst), (0x1234, (old_dst & 0xff00) | 0xff));
    }
}

#[test]
fn set_on_the_wrong_protocol_is_skipped_and_counted() {
    let frame = udp4(b"data");
    let (sink, exec) = run(
        &frame,
        &[
            set(KeyAttrKind::Tcp, |f| f.tp_src = 1),
            set(KeyAttrKind::Ipv6, |f| f.nw_ttl = 1),
            OdpAction::Output(3),
        ],
    );
    assert_eq!(sink.outputs, vec![(3, frame.clone())]);
    assert_eq!(exec.counters.skipped_writes, 2);
    let (_, exec) = run(
        &frame,
        &[
            set(KeyAttrKind::EthType, |f| f.dl_type = 1),
            OdpAction::Output(3),
        ],
    );
    assert_eq!(exec.counters.unsupported, 1);
}

#[test]
fn set_ipv6_rewrites_every_field_and_keeps_l4_checksums() {
    let mut icmp6 = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv6([0x20; 16], [0x21; 16], 64)
        .icmpv6_echo_request(1, 2)
        .write(&mut icmp6, b"ping")
        .expect("build");
    for frame in [tcp6(), udp6(), icmp6] {
        let out = rewrite(
            &frame,
            vec![set(KeyAttrKind::Ipv6, |f| {
                f.ipv6_src = [0xfe; 16];
                f.ipv6_dst = [0x11; 16];
                f.ipv6_label = 0x12345;
                f.nw_tos = 0xa5;
                f.nw_ttl = 9;
            })],
        );
        let h = assert_checksums(&out);
        let Some(NetHeaders::Ipv6(ip, _)) = h.net else {
            panic!("IPv6")
        };
        assert_eq!(
            (ip.source, ip.destination, ip.hop_limit),
            ([0xfe; 16], [0x11; 16], 9)
        );
        assert_eq!((ip.flow_label.value(), ip.traffic_class), (0x12345, 0xa5));
    }
}

#[test]
fn set_icmp_type_and_code_keeps_checksum() {
    let mut frame = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .icmpv4_echo_request(7, 8)
        .write(&mut frame, b"ping")
        .expect("build");
    let out = rewrite(
        &frame,
        vec![set(KeyAttrKind::Icmp, |f| {
            f.tp_src = 0;
            f.tp_dst = 0;
        })],
    );
    assert_checksums(&out);
    assert_eq!((out[34], out[35]), (0, 0));
}

#[test]
fn set_eth_masked() {
    let frame = tcp4(b"");
    let out = rewrite(
        &frame,
        vec![masked_set(KeyAttrKind::Eth, |v, m| {
            v.dl_dst = [0xaa; 6];
            m.dl_dst = [0xff, 0, 0, 0, 0, 0xff];
            v.dl_src = [1, 2, 3, 4, 5, 6];
            m.dl_src = [0xff; 6];
        })],
    );
    assert_eq!(&out[..12], &[0xaa, 0x54, 0, 0, 0, 0xaa, 1, 2, 3, 4, 5, 6]);
    assert_eq!(&out[12..], &frame[12..]);
}

fn arp_request() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&SRC);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&SRC);
    f.extend_from_slice(&[10, 0, 0, 1]);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&[10, 0, 0, 2]);
    f
}

#[test]
fn set_arp_fields() {
    let out = rewrite(
        &arp_request(),
        vec![set(KeyAttrKind::Arp, |f| {
            f.nw_proto = 2;
            f.nw_src = 0x0a00_0002;
            f.nw_dst = 0x0a00_0001;
            f.arp_sha = DST;
            f.arp_tha = SRC;
        })],
    );
    assert_eq!(&out[20..22], &[0, 2]);
    assert_eq!(&out[22..28], &DST);
    assert_eq!(&out[28..32], &[10, 0, 0, 2]);
    assert_eq!(&out[32..38], &SRC);
    assert_eq!(&out[38..42], &[10, 0, 0, 1]);
}

/// A neighbor solicitation with an SLL option, with a correct checksum.
fn neighbor_solicitation() -> Vec<u8> {
    let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&[0x30; 16]);
    icmp.extend_from_slice(&[1, 1]);
    icmp.extend_from_slice(&SRC);
    let mut f = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv6([0x20; 16], [0x21; 16], 255)
        .icmpv6_raw(135, 0, [0; 4])
        .write(&mut f, &icmp[8..])
        .expect("build");
    f
}

#[test]
fn set_nd_target_and_sll_keeps_checksum() {
    let frame = neighbor_solicitation();
    assert_checksums(&frame);
    let out = rewrite(
        &frame,
        vec![set(KeyAttrKind::Nd, |f| {
            f.nd_target = [0x44; 16];
            f.arp_sha = [9, 8, 7, 6, 5, 4];
        })],
    );
    assert_checksums(&out);
    assert_eq!(&out[62..78], &[0x44; 16]);
    assert_eq!(&out[80..86], &[9, 8, 7, 6, 5, 4]);
}

#[test]
fn vlan_push_pop_round_trip() {
    let frame = tcp4(b"abc");
    let pushed = rewrite(&frame, vec![OdpAction::push_vlan(0x8100, 100, 5, true)]);
    assert_eq!(pushed.len(), frame.len() + 4);
    assert_eq!(
        &pushed[12..16],
        &[0x81, 0x00, 0xa0, 100],
        "TCI sent without the present bit"
    );
    let h = assert_checksums(&pushed);
    assert!(!h.link_exts.is_empty(), "etherparse sees the tag");
    let popped = rewrite(&pushed, vec![OdpAction::PopVlan]);
    assert_eq!(popped, frame);
    // Popping an untagged frame changes nothing.
    assert_eq!(rewrite(&frame, vec![OdpAction::PopVlan]), frame);
}

#[test]
fn set_after_push_vlan_uses_new_offsets() {
    let frame = tcp4(b"abc");
    let out = rewrite(
        &frame,
        vec![
            OdpAction::push_vlan(0x8100, 7, 0, true),
            set(KeyAttrKind::Ipv4, |f| f.nw_ttl = 3),
        ],
    );
    let h = assert_checksums(&out);
    let Some(NetHeaders::Ipv4(ip, _)) = h.net else {
        panic!("IPv4")
    };
    assert_eq!(ip.time_to_live, 3);
}

#[test]
fn mpls_push_pop_round_trip() {
    let frame = tcp4(b"abc");
    let lse = (1000 << 12) | 0x100 | 64;
    let pushed = rewrite(
        &frame,
        vec![OdpAction::PushMpls {
            lse,
            ethertype: 0x8847,
        }],
    );
    assert_eq!(&pushed[12..14], &[0x88, 0x47]);
    assert_eq!(&pushed[14..18], &lse.to_be_bytes());
    let relabeled = rewrite(
        &pushed,
        vec![masked_set(KeyAttrKind::Mpls, |v, m| {
            v.mpls_lse = 2000 << 12;
            m.mpls_lse = 0xffff_f000;
        })],
    );
    assert_eq!(
        &relabeled[14..18],
        &(((2000u32) << 12) | 0x100 | 64).to_be_bytes()
    );
    let popped = rewrite(&pushed, vec![OdpAction::PopMpls { ethertype: 0x0800 }]);
    assert_eq!(popped, frame);
}

fn sctp4() -> Vec<u8> {
    let mut sctp = vec![0x13, 0x88, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0];
    sctp.extend_from_slice(&[1, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef]);
    let crc = crc32c(&sctp);
    sctp[8..12].copy_from_slice(&crc.to_le_bytes());
    let mut f = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .write(&mut f, etherparse::IpNumber(132), &sctp)
        .expect("build");
    f
}

fn sctp_crc_ok(frame: &[u8]) -> bool {
    let mut sctp = frame[34..].to_vec();
    let stored = u32::from_le_bytes([sctp[8], sctp[9], sctp[10], sctp[11]]);
    sctp[8..12].fill(0);
    crc32c(&sctp) == stored
}

#[test]
fn set_sctp_ports_recomputes_crc() {
    let frame = sctp4();
    assert!(sctp_crc_ok(&frame));
    let out = rewrite(
        &frame,
        vec![set(KeyAttrKind::Sctp, |f| {
            f.tp_src = 1;
            f.tp_dst = 2;
        })],
    );
    assert_eq!(&out[34..38], &[0, 1, 0, 2]);
    assert!(sctp_crc_ok(&out));
    // A wrong CRC stays wrong.
    let mut bad = frame.clone();
    bad[42] ^= 1;
    let out = rewrite(&bad, vec![set(KeyAttrKind::Sctp, |f| f.tp_src = 1)]);
    assert!(!sctp_crc_ok(&out));
}

#[test]
fn outputs_clone_until_the_last_and_trunc_applies_once() {
    let frame = tcp4(&[7; 100]);
    let (sink, _) = run(
        &frame,
        &[
            OdpAction::Output(1),
            OdpAction::Trunc(20),
            OdpAction::Output(2),
            OdpAction::Output(3),
        ],
    );
    let lens: Vec<(u32, usize)> = sink.outputs.iter().map(|(p, f)| (*p, f.len())).collect();
    assert_eq!(lens, vec![(1, frame.len()), (2, 20), (3, frame.len())]);
    let (sink, _) = run(&frame, &[OdpAction::Trunc(30), OdpAction::Output(9)]);
    assert_eq!(sink.outputs[0].1.len(), 30);
    assert_eq!(sink.ends(), 1);
}

#[test]
fn metadata_sets_reach_userspace_and_recirculation() {
    let frame = tcp4(b"");
    let actions = [
        set(KeyAttrKind::SkbMark, |f| f.skb_mark = 42),
        masked_set(KeyAttrKind::SkbPriority, |v, m| {
            v.skb_priority = 0xff;
            m.skb_priority = 0x0f;
        }),
        OdpAction::Userspace(UserspaceAction {
            pid: 1,
            userdata: Some(Userdata::Raw(vec![1, 2, 3])),
            actions: false,
            tunnel_out_port: None,
        }),
        OdpAction::Recirc(5),
    ];
    let (sink, _) = run(&frame, &actions);
    assert_eq!(sink.upcalls.len(), 1);
    assert_eq!(
        (sink.upcalls[0].1.skb_mark, sink.upcalls[0].1.skb_priority),
        (42, 0x0f)
    );
    assert_eq!(sink.recirculated.len(), 1);
    assert_eq!(
        (
            sink.recirculated[0].1.recirc_id,
            sink.recirculated[0].1.skb_mark
        ),
        (5, 42)
    );
    assert_eq!(sink.ends(), 1);
}

#[test]
fn refused_recirculation_and_ct_drop_and_count() {
    let frame = tcp4(b"");
    let mut exec = Executor::new(ExtractOptions::default(), 1);
    let mut sink = Recorder {
        refuse_recirc: true,
        ..Recorder::default()
    };
    exec.execute(
        ExecPacket::new(Packet::from_slice(&frame), PacketMetadata::default(), None),
        &[OdpAction::Recirc(1)],
        &mut sink,
    );
    assert_eq!((sink.dropped, exec.counters.unsupported), (1, 1));
    let (sink, exec) = run(
        &frame,
        &[OdpAction::Ct(Default::default()), OdpAction::Output(1)],
    );
    assert_eq!(
        (sink.outputs.len(), sink.dropped, exec.counters.unsupported),
        (0, 1, 1)
    );
}

#[test]
fn clone_and_sample() {
    let frame = tcp4(b"");
    let (sink, _) = run(
        &frame,
        &[
            OdpAction::Clone(vec![
                set(KeyAttrKind::Ipv4, |f| f.nw_ttl = 1),
                OdpAction::Output(1),
            ]),
            OdpAction::Output(2),
        ],
    );
    assert_eq!(sink.outputs.len(), 2);
    assert_eq!(sink.outputs[0].1[22], 1, "the clone was rewritten");
    assert_eq!(sink.outputs[1].1, frame, "the original was not");
    let always = OdpAction::Sample {
        probability: u32::MAX,
        actions: vec![OdpAction::Output(4)],
    };
    let never = OdpAction::Sample {
        probability: 0,
        actions: vec![OdpAction::Output(5)],
    };
    let (sink, _) = run(&frame, &[never, always]);
    assert_eq!(
        sink.outputs.iter().map(|o| o.0).collect::<Vec<_>>(),
        vec![4]
    );
}

fn action_palette() -> Vec<OdpAction> {
    let all = |kind| {
        set(kind, |f| {
            f.nw_src = 1;
            f.tp_src = 2;
            f.ipv6_dst = [3; 16];
            f.nd_target = [4; 16];
            f.mpls_lse = 5 << 12;
            f.dl_src = [6; 6];
            f.nw_ttl = 7;
        })
    };
    vec![
        all(KeyAttrKind::Eth),
        all(KeyAttrKind::Ipv4),
        all(KeyAttrKind::Ipv6),
        all(KeyAttrKind::Tcp),
        all(KeyAttrKind::Udp),
        all(KeyAttrKind::Sctp),
        all(KeyAttrKind::Icmp),
        all(KeyAttrKind::Icmpv6),
        all(KeyAttrKind::Arp),
        all(KeyAttrKind::Nd),
        all(KeyAttrKind::Mpls),
        all(KeyAttrKind::Vlan),
        OdpAction::push_vlan(0x88a8, 1, 1, true),
        OdpAction::PopVlan,
        OdpAction::PushMpls {
            lse: 0x1000_0140,
            ethertype: 0x8847,
        },
        OdpAction::PopMpls { ethertype: 0x86dd },
        OdpAction::Trunc(9),
        OdpAction::Output(1),
        OdpAction::Hash {
            alg: rvs_flow::odp::HashAlg::L4,
            basis: 3,
        },
    ]
}

proptest! {
    /// Any frame (including runts and garbage behind valid-looking headers) through any sequence of
    /// actions: no panic, and the packet ends exactly once more than the number of outputs before the
    /// last action.
    #[test]
    fn odd_packets_never_panic(
        prefix in prop::sample::select(vec![tcp4(b"abcdef"), udp6(), neighbor_solicitation(), arp_request(), sctp4(), Vec::new()]),
        cut in 0usize..120,
        garbage in prop::collection::vec(any::<u8>(), 0..80),
        picks in prop::collection::vec(0usize..19, 0..8),
    ) {
        let mut frame = prefix;
        frame.truncate(cut);
        frame.extend_from_slice(&garbage);
        let palette = action_palette();
        let actions: Vec<OdpAction> = picks.iter().map(|&i| palette[i % palette.len()].clone()).collect();
        let (sink, _) = run(&frame, &actions);
        let outputs_not_last = actions.iter().rev().skip(1).filter(|a| matches!(a, OdpAction::Output(_))).count();
        prop_assert_eq!(sink.ends(), 1 + outputs_not_last);
    }
}
