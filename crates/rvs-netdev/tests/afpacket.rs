//! AF_PACKET ports on veth pairs inside a private network namespace (needs root and `ip`;
//! each test skips with a message otherwise). All traffic stays inside the namespace.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{TEST_ETHERTYPE, open_in, receive, send_all, test_frame, test_seq};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use rvs_netdev::{
    AfPacketConfig, AfPacketNetdev, Netdev, NetdevKind, Packet, PacketBatch, TestNet,
};

const WAIT: Duration = Duration::from_secs(5);

/// The addresses of the namespace's test subnet (RFC 2544 benchmarking range, never routed).
const PEER_IP: &str = "198.18.0.2";
const PORT_IP: &str = "198.18.0.1";

fn two_pairs() -> TestNet {
    let net = TestNet::new().expect("namespace");
    net.add_veth_pair("va0", "vb0").expect("veth pair 0");
    net.add_veth_pair("va1", "vb1").expect("veth pair 1");
    net
}

#[test]
fn frames_from_the_kernel_stack_of_the_peer_are_received() {
    require_testnet!();
    let net = two_pairs();
    let port = open_in(&net, "va0", AfPacketConfig::default());
    assert_eq!(port.kind(), NetdevKind::AfPacket);
    let port_mac = net.mac("va0").expect("mac");
    net.ip(&["addr", "add", &format!("{PEER_IP}/24"), "dev", "vb0"])
        .expect("addr");
    let lladdr = port_mac.map(|b| format!("{b:02x}")).join(":");
    net.ip(&["neigh", "add", PORT_IP, "lladdr", &lladdr, "dev", "vb0"])
        .expect("neigh");

    // Datagrams sent by the peer's own IP stack, not by our code.
    net.spawn(|| {
        let socket = UdpSocket::bind((PEER_IP, 0)).expect("bind");
        for i in 0..10u8 {
            socket.send_to(&[i; 20], (PORT_IP, 9)).expect("send");
        }
    })
    .expect("spawn")
    .join()
    .expect("sender");

    let is_ours = |p: &Packet| matches!(udp_payload(p), Some((9, _)));
    let got = receive(&port, 10, WAIT, is_ours);
    assert_eq!(got.len(), 10, "all datagrams arrive on the ring");
    for (i, packet) in got.iter().enumerate() {
        assert_eq!(&packet[0..6], &port_mac, "addressed to the port");
        assert_eq!(
            udp_payload(packet),
            Some((9, vec![i as u8; 20])),
            "in order and intact"
        );
    }
    let stats = port.stats();
    assert!(stats.rx_packets >= 10);
    assert_eq!((stats.rx_dropped, stats.rx_errors), (0, 0));
}

/// The UDP destination port and payload of an IPv4/UDP frame.
fn udp_payload(frame: &[u8]) -> Option<(u16, Vec<u8>)> {
    let sliced = SlicedPacket::from_ethernet(frame).ok()?;
    let Some(NetSlice::Ipv4(_)) = sliced.net else {
        return None;
    };
    let Some(TransportSlice::Udp(udp)) = sliced.transport else {
        return None;
    };
    Some((udp.destination_port(), udp.payload().to_vec()))
}

#[test]
fn sent_frames_arrive_intact_on_the_peer_and_are_not_read_back() {
    require_testnet!();
    let net = two_pairs();
    let tx = open_in(&net, "va0", AfPacketConfig::default());
    let rx = open_in(&net, "vb0", AfPacketConfig::default());
    let mac = tx.mac().expect("mac");
    let frames: Vec<Packet> = (0..100u32)
        .map(|i| Packet::from_slice(&test_frame(mac, i, 60 + (i as usize * 37) % 1455)))
        .collect();
    assert_eq!(send_all(&tx, &frames), 100);

    let got = receive(&rx, 100, WAIT, |p| test_seq(p).is_some());
    assert_eq!(got.len(), 100);
    for (sent, received) in frames.iter().zip(&got) {
        assert_eq!(sent.data(), received.data());
    }
    let bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
    let tx_stats = tx.stats();
    assert_eq!(
        (tx_stats.tx_packets, tx_stats.tx_bytes, tx_stats.tx_dropped),
        (100, bytes, 0)
    );

    // PACKET_IGNORE_OUTGOING: the sender's ring does not see its own frames.
    std::thread::sleep(Duration::from_millis(50));
    let echoes = receive(&tx, 1, Duration::from_millis(100), |p| {
        test_seq(p).is_some()
    });
    assert!(
        echoes.is_empty(),
        "our own transmissions were received: {echoes:?}"
    );
}

#[test]
fn frames_cross_from_one_pair_to_the_other() {
    require_testnet!();
    let net = two_pairs();
    let (source, in_port) = (
        open_in(&net, "vb0", AfPacketConfig::default()),
        open_in(&net, "va0", AfPacketConfig::default()),
    );
    let (out_port, sink) = (
        open_in(&net, "va1", AfPacketConfig::default()),
        open_in(&net, "vb1", AfPacketConfig::default()),
    );
    let mac = source.mac().expect("mac");
    let frames: Vec<Packet> = (0..64u32)
        .map(|i| Packet::from_slice(&test_frame(mac, i, 64)))
        .collect();
    assert_eq!(send_all(&source, &frames), 64);

    // A minimal "switch": everything received on va0 goes out on va1.
    let mut batch = PacketBatch::new();
    let mut forwarded = 0;
    let deadline = std::time::Instant::now() + WAIT;
    while forwarded < 64 && std::time::Instant::now() < deadline {
        in_port.rx_batch(&mut batch).expect("rx");
        if batch.is_empty() {
            in_port
                .wait_readable(Duration::from_millis(20))
                .expect("wait");
            continue;
        }
        let ours: Vec<Packet> = batch.take_all().filter(|p| test_seq(p).is_some()).collect();
        forwarded += out_port.tx_batch(&ours).expect("tx");
    }
    assert_eq!(forwarded, 64);
    let got = receive(&sink, 64, WAIT, |p| test_seq(p).is_some());
    let seqs: Vec<u32> = got.iter().filter_map(|p| test_seq(p)).collect();
    assert_eq!(seqs, (0..64).collect::<Vec<_>>());
}

#[test]
fn vlan_tags_stripped_by_the_kernel_are_put_back() {
    require_testnet!();
    let net = two_pairs();
    let tx = open_in(&net, "vb0", AfPacketConfig::default());
    let rx = open_in(&net, "va0", AfPacketConfig::default());
    let mac = tx.mac().expect("mac");
    let tag = |frame: &[u8], tpid: u16, tci: u16| {
        let mut tagged = frame[..12].to_vec();
        tagged.extend_from_slice(&tpid.to_be_bytes());
        tagged.extend_from_slice(&tci.to_be_bytes());
        tagged.extend_from_slice(&frame[12..]);
        tagged
    };
    let plain = test_frame(mac, 1, 80);
    let single = tag(&test_frame(mac, 2, 80), 0x8100, 0x600a); // PCP 3, VID 10
    let vid0 = tag(&test_frame(mac, 3, 80), 0x8100, 0x0000); // priority tag, TCI 0
    let double = tag(&tag(&test_frame(mac, 4, 80), 0x8100, 20), 0x88a8, 0x0064);
    let frames: Vec<Packet> = [&plain, &single, &vid0, &double]
        .iter()
        .map(|f| Packet::from_slice(f))
        .collect();
    assert_eq!(tx.tx_batch(&frames).expect("tx"), 4);

    let got = receive(&rx, 4, WAIT, |p| {
        p.windows(2).any(|w| w == TEST_ETHERTYPE.to_be_bytes())
    });
    let got: Vec<Vec<u8>> = got.iter().map(|p| p.to_vec()).collect();
    assert_eq!(
        got,
        vec![plain, single, vid0, double],
        "frames arrive exactly as sent"
    );
}

#[test]
fn frames_from_a_kernel_vlan_device_arrive_tagged() {
    require_testnet!();
    let net = two_pairs();
    let rx = open_in(&net, "va0", AfPacketConfig::default());
    if let Err(e) = net.ip(&[
        "link", "add", "link", "vb0", "name", "vb0.10", "type", "vlan", "id", "10",
    ]) {
        // Kernels built without 802.1Q devices (CONFIG_VLAN_8021Q) cannot make one; the tag
        // re-insertion is still covered by `vlan_tags_stripped_by_the_kernel_are_put_back`.
        eprintln!("SKIPPED: this kernel cannot create VLAN devices: {e}");
        return;
    }
    net.ip(&["link", "set", "vb0.10", "up"]).expect("up");
    net.ip(&["addr", "add", &format!("{PEER_IP}/24"), "dev", "vb0.10"])
        .expect("addr");
    let lladdr = net
        .mac("va0")
        .expect("mac")
        .map(|b| format!("{b:02x}"))
        .join(":");
    net.ip(&["neigh", "add", PORT_IP, "lladdr", &lladdr, "dev", "vb0.10"])
        .expect("neigh");
    net.spawn(|| {
        let socket = UdpSocket::bind((PEER_IP, 0)).expect("bind");
        socket.send_to(b"tagged", (PORT_IP, 9)).expect("send");
    })
    .expect("spawn")
    .join()
    .expect("sender");

    let got = receive(&rx, 1, WAIT, |p| p.get(12..14) == Some(&[0x81, 0x00]));
    assert_eq!(got.len(), 1, "the tagged datagram arrives");
    let frame = &got[0];
    assert_eq!(
        u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff,
        10,
        "VID 10"
    );
    let sliced = SlicedPacket::from_ethernet(frame).expect("parse");
    let Some(TransportSlice::Udp(udp)) = sliced.transport else {
        panic!("not UDP: {frame:?}")
    };
    assert_eq!(udp.payload(), b"tagged");
}

#[test]
fn link_state_mtu_and_mac_follow_the_interface() {
    require_testnet!();
    let net = two_pairs();
    let port = open_in(&net, "va0", AfPacketConfig::default());
    assert_eq!(port.mac().expect("mac"), net.mac("va0").expect("ip mac"));
    assert_eq!(port.mtu().expect("mtu"), 1500);
    // The kernel publishes carrier changes asynchronously (link watch, up to a second later).
    let link_becomes = |up: bool| {
        let deadline = std::time::Instant::now() + WAIT;
        while port.link_up().expect("link") != up {
            assert!(
                std::time::Instant::now() < deadline,
                "link never became {up}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    link_becomes(true);
    net.ip(&["link", "set", "va0", "mtu", "9000"]).expect("mtu");
    assert_eq!(port.mtu().expect("mtu"), 9000);
    // Carrier follows the peer: taking vb0 down takes va0's link down.
    net.ip(&["link", "set", "vb0", "down"]).expect("down");
    link_becomes(false);
    net.ip(&["link", "set", "vb0", "up"]).expect("up");
    link_becomes(true);
    // Taking the port's own interface down is seen at once (IFF_UP is not delayed).
    net.ip(&["link", "set", "va0", "down"]).expect("down");
    assert!(!port.link_up().expect("link"));
    net.ip(&["link", "set", "va0", "up"]).expect("up");
    net.ip(&["link", "set", "va0", "address", "02:00:00:00:00:42"])
        .expect("address");
    assert_eq!(port.mac().expect("mac"), [2, 0, 0, 0, 0, 0x42]);
}

#[test]
fn wait_readable_and_poll_fd_signal_arrivals() {
    require_testnet!();
    let net = two_pairs();
    let rx = open_in(&net, "va0", AfPacketConfig::default());
    let tx = open_in(&net, "vb0", AfPacketConfig::default());
    assert!(rx.poll_fd().is_some());
    let mut batch = PacketBatch::new();
    while rx.rx_batch(&mut batch).expect("rx") > 0 {
        batch.clear();
    }
    let start = std::time::Instant::now();
    assert!(
        !rx.wait_readable(Duration::from_millis(30)).expect("wait"),
        "nothing was sent"
    );
    assert!(start.elapsed() >= Duration::from_millis(25));
    tx.tx_batch(&[Packet::from_slice(&test_frame([2, 0, 0, 0, 0, 1], 7, 60))])
        .expect("tx");
    assert!(rx.wait_readable(WAIT).expect("wait"));
    let got = receive(&rx, 1, WAIT, |p| test_seq(p) == Some(7));
    assert_eq!(got.len(), 1);
}

#[test]
fn one_wait_covers_every_port() {
    require_testnet!();
    let net = two_pairs();
    let rx0 = open_in(&net, "va0", AfPacketConfig::default());
    let rx1 = open_in(&net, "va1", AfPacketConfig::default());
    let tx1 = open_in(&net, "vb1", AfPacketConfig::default());
    let mut batch = PacketBatch::new();
    for rx in [&rx0, &rx1] {
        while rx.rx_batch(&mut batch).expect("rx") > 0 {
            batch.clear();
        }
    }
    let ports: [&dyn Netdev; 2] = [&rx0, &rx1];
    let start = std::time::Instant::now();
    let waited = rvs_netdev::wait_any_readable(&ports, Duration::from_millis(30));
    assert!(
        !waited.expect("both have a poll fd").expect("wait"),
        "nothing was sent"
    );
    assert!(start.elapsed() >= Duration::from_millis(25));
    // A frame on the second port ends a long wait long before its timeout.
    tx1.tx_batch(&[Packet::from_slice(&test_frame([2, 0, 0, 0, 0, 1], 9, 60))])
        .expect("tx");
    let start = std::time::Instant::now();
    let waited = rvs_netdev::wait_any_readable(&ports, Duration::from_secs(20));
    assert!(waited.expect("poll fds").expect("wait"));
    assert!(start.elapsed() < Duration::from_secs(10));
    let got = receive(&rx1, 1, WAIT, |p| test_seq(p) == Some(9));
    assert_eq!(got.len(), 1);
    // No ports: the caller must wait another way.
    assert!(rvs_netdev::wait_any_readable(&[], Duration::from_millis(1)).is_none());
    // A dummy port (its descriptor is an eventfd) is waited for with the others.
    let dummy = rvs_netdev::DummyNetdev::new("d0");
    let mixed: [&dyn Netdev; 2] = [&rx0, &dummy];
    dummy.inject(&test_frame([2, 0, 0, 0, 0, 1], 10, 60));
    let waited = rvs_netdev::wait_any_readable(&mixed, Duration::from_secs(20));
    assert!(waited.expect("poll fds").expect("wait"));
}

#[test]
fn opening_a_missing_interface_fails_cleanly() {
    require_testnet!();
    let net = TestNet::new().expect("namespace");
    let result = net
        .spawn(|| AfPacketNetdev::open("nosuchif0", &AfPacketConfig::default()).map(|_| ()))
        .expect("spawn")
        .join()
        .expect("join");
    let err = result.expect_err("no such interface");
    assert!(err.to_string().contains("nosuchif0"), "{err}");
}

#[test]
fn oversized_frames_are_counted_as_tx_errors_and_the_rest_is_sent() {
    require_testnet!();
    let net = two_pairs();
    let tx = open_in(&net, "va0", AfPacketConfig::default());
    let rx = open_in(&net, "vb0", AfPacketConfig::default());
    let mac = tx.mac().expect("mac");
    let frames = [
        Packet::from_slice(&test_frame(mac, 0, 60)),
        Packet::from_slice(&test_frame(mac, 1, 4000)),
        Packet::from_slice(&test_frame(mac, 2, 60)),
    ];
    assert_eq!(tx.tx_batch(&frames).expect("tx"), 2);
    let stats = tx.stats();
    assert_eq!((stats.tx_packets, stats.tx_errors), (2, 1));
    let got = receive(&rx, 2, WAIT, |p| test_seq(p).is_some());
    let seqs: Vec<u32> = got.iter().filter_map(|p| test_seq(p)).collect();
    assert_eq!(seqs, vec![0, 2]);
}

#[test]
fn promiscuous_mode_lasts_as_long_as_the_port() {
    require_testnet!();
    let net = two_pairs();
    let promiscuity = || {
        let text = net.ip(&["-d", "link", "show", "dev", "va0"]).expect("ip");
        let words: Vec<&str> = text.split_whitespace().collect();
        let at = words
            .iter()
            .position(|w| *w == "promiscuity")
            .expect("promiscuity field");
        words[at + 1].parse::<u32>().expect("number")
    };
    // Closing a socket may finish in the kernel a little after close(2) returns.
    let promiscuity_becomes = |n: u32| {
        let deadline = std::time::Instant::now() + WAIT;
        while promiscuity() != n {
            assert!(
                std::time::Instant::now() < deadline,
                "promiscuity never became {n}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    assert_eq!(promiscuity(), 0);
    let port = open_in(&net, "va0", AfPacketConfig::default());
    assert_eq!(promiscuity(), 1);
    drop(port);
    promiscuity_becomes(0);
    let quiet = open_in(
        &net,
        "va0",
        AfPacketConfig {
            promiscuous: false,
            ..AfPacketConfig::default()
        },
    );
    assert_eq!(promiscuity(), 0);
    drop(quiet);
}

#[test]
fn socket_buffers_can_exceed_the_system_limit_as_root() {
    require_testnet!();
    let net = two_pairs();
    let rmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .expect("rmem_max")
        .trim()
        .parse()
        .expect("number");
    let wanted = 2 * rmem_max;
    let config = AfPacketConfig {
        rcvbuf: Some(wanted),
        sndbuf: Some(wanted),
        ..AfPacketConfig::default()
    };
    let port = open_in(&net, "va0", config);
    // The kernel reports twice the requested size (it adds room for its bookkeeping).
    assert_eq!(
        port.socket_buffers().expect("buffers"),
        (2 * wanted, 2 * wanted)
    );
    let port = open_in(
        &net,
        "va1",
        AfPacketConfig {
            rcvbuf: None,
            sndbuf: None,
            ..AfPacketConfig::default()
        },
    );
    let (rcv, snd) = port.socket_buffers().expect("buffers");
    assert!(
        rcv <= 2 * rmem_max && snd > 0,
        "kernel defaults: {rcv} {snd}"
    );
}

/// An IPv4/UDP frame of flow `flow` (its UDP source port) carrying `seq`.
fn udp_frame(flow: u16, seq: u32) -> Vec<u8> {
    let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [0xff; 6])
        .ipv4([198, 18, 0, 2], [198, 18, 0, 1], 64)
        .udp(1000 + flow, 9);
    let payload = seq.to_be_bytes();
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, &payload).expect("build frame");
    frame
}

/// The flow (UDP source port - 1000) and sequence number of a frame built by [`udp_frame`].
fn udp_flow_seq(frame: &[u8]) -> Option<(u16, u32)> {
    let sliced = SlicedPacket::from_ethernet(frame).ok()?;
    let Some(TransportSlice::Udp(udp)) = sliced.transport else {
        return None;
    };
    let seq = u32::from_be_bytes(udp.payload().get(..4)?.try_into().ok()?);
    Some((udp.source_port().checked_sub(1000)?, seq))
}

/// Reads each receive queue of `port` once, appending (queue, flow, seq) of every frame built by
/// [`udp_frame`] to `got`; returns whether any frame was received.
fn poll_every_queue(
    port: &AfPacketNetdev,
    batch: &mut PacketBatch,
    got: &mut Vec<(usize, u16, u32)>,
) -> bool {
    let mut any = false;
    for queue in 0..port.n_rxq() {
        port.rx_batch_queue(queue, batch).expect("rx");
        any |= !batch.is_empty();
        got.extend(
            batch
                .take_all()
                .filter_map(|p| udp_flow_seq(&p))
                .map(|(f, s)| (queue, f, s)),
        );
    }
    any
}

#[test]
fn a_multi_queue_port_spreads_flows_over_its_queues_and_keeps_each_flow_on_one() {
    require_testnet!();
    let net = two_pairs();
    let config = AfPacketConfig {
        n_rxq: 2,
        ..AfPacketConfig::default()
    };
    let port = open_in(&net, "va0", config);
    let sender = open_in(&net, "vb0", AfPacketConfig::default());
    assert_eq!(port.n_rxq(), 2);
    assert_eq!(
        port.ring_bytes(),
        2 * open_in(&net, "va1", AfPacketConfig::default()).ring_bytes(),
        "one ring per queue"
    );
    assert!(port.poll_fd_queue(1).is_some() && port.poll_fd_queue(2).is_none());

    // 200 flows, two frames each: every flow's first frame, then every flow's second.
    const FLOWS: u16 = 200;
    let frames: Vec<Packet> = (0..2u32)
        .flat_map(|round| {
            (0..FLOWS).map(move |f| Packet::from_slice(&udp_frame(f, round * 1000 + u32::from(f))))
        })
        .collect();
    assert_eq!(send_all(&sender, &frames), frames.len());

    // (queue, flow, seq) of every test frame received, from both queues.
    let mut got: Vec<(usize, u16, u32)> = Vec::new();
    let deadline = std::time::Instant::now() + WAIT;
    let mut batch = PacketBatch::new();
    while got.len() < frames.len() && std::time::Instant::now() < deadline {
        if !poll_every_queue(&port, &mut batch, &mut got) {
            port.wait_readable_queue(0, Duration::from_millis(5))
                .expect("wait");
        }
    }
    assert_eq!(got.len(), frames.len(), "every frame arrives exactly once");
    let mut seqs: Vec<u32> = got.iter().map(|&(_, _, s)| s).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), frames.len(), "no frame twice");
    let on_queue = |q| got.iter().filter(|&&(queue, _, _)| queue == q).count();
    assert!(
        on_queue(0) > 0 && on_queue(1) > 0,
        "both queues receive: {} and {}",
        on_queue(0),
        on_queue(1)
    );
    for flow in 0..FLOWS {
        let mine: Vec<(usize, u32)> = got
            .iter()
            .filter(|&&(_, f, _)| f == flow)
            .map(|&(q, _, s)| (q, s))
            .collect();
        assert_eq!(mine.len(), 2, "flow {flow}");
        assert_eq!(mine[0].0, mine[1].0, "flow {flow} stays on one queue");
        assert!(mine[0].1 < mine[1].1, "flow {flow} in order");
    }
    // A queue the port does not have delivers nothing.
    assert_eq!(port.rx_batch_queue(2, &mut batch).expect("rx"), 0);
}

#[test]
fn a_multi_queue_port_opened_under_traffic_never_receives_a_frame_twice() {
    require_testnet!();
    let net = two_pairs();
    let sender = std::sync::Arc::new(open_in(&net, "vb0", AfPacketConfig::default()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Frames with distinct sequence numbers (spread over 64 flows) until told to stop.
    let blast = {
        let (sender, stop) = (sender.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seq = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && seq < 2_000_000 {
                let frames: Vec<Packet> = (seq..seq + 32)
                    .map(|s| Packet::from_slice(&udp_frame((s % 64) as u16, s)))
                    .collect();
                sender.tx_batch(&frames).expect("tx");
                seq += 32;
            }
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let config = AfPacketConfig {
        n_rxq: 4,
        ..AfPacketConfig::default()
    };
    let port = open_in(&net, "va0", config);
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    blast.join().expect("sender");

    let mut got: Vec<(usize, u16, u32)> = Vec::new();
    let mut batch = PacketBatch::new();
    let mut quiet_rounds = 0;
    while quiet_rounds < 20 {
        if poll_every_queue(&port, &mut batch, &mut got) {
            quiet_rounds = 0;
        } else {
            quiet_rounds += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let mut seqs: Vec<u32> = got.iter().map(|&(_, _, s)| s).collect();
    assert!(seqs.len() > 100, "frames were received: {}", seqs.len());
    let received = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), received, "no frame received twice");
}
