//! A burst of 5000 frames into an AF_PACKET port that does not read during the burst: the
//! default ring must take all of it. For comparison the same burst goes into a ring no larger
//! than the kernel's default socket buffer (what OVS's netdev-linux receives into), and from a
//! sender with the kernel's default send buffer; those numbers are reported, and every frame must
//! be accounted for (received, or counted as dropped).

mod common;

use std::time::Duration;

use common::{open_in, receive, send_all, test_frame, test_seq};
use rvs_netdev::{AfPacketConfig, Netdev, Packet, TestNet};

const BURST: u32 = 5000;

/// Frame sizes cycle through 64..=1514 so the burst mixes small and full-size frames.
fn burst_frames(src: [u8; 6]) -> Vec<Packet> {
    (0..BURST)
        .map(|i| Packet::from_slice(&test_frame(src, i, 64 + (i as usize * 151) % 1451)))
        .collect()
}

/// The kernel's default socket receive buffer (`net.core.rmem_default`).
fn rmem_default() -> usize {
    std::fs::read_to_string("/proc/sys/net/core/rmem_default")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(212_992)
}

struct Outcome {
    sent: usize,
    tx_dropped: u64,
    received: usize,
    ring_drops: u64,
}

fn run_burst(rx_config: AfPacketConfig, tx_config: AfPacketConfig) -> Outcome {
    let net = TestNet::new().expect("namespace");
    net.add_veth_pair("va0", "vb0").expect("veth");
    let rx = open_in(&net, "va0", rx_config);
    let tx = open_in(&net, "vb0", tx_config);
    let frames = burst_frames(tx.mac().expect("mac"));
    let sent = send_all(&tx, &frames);
    // Nothing was read while sending; now drain what the ring kept.
    let got = receive(&rx, sent, Duration::from_secs(3), |p| test_seq(p).is_some());
    let seqs: Vec<u32> = got.iter().filter_map(|p| test_seq(p)).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "frames arrive in order, without duplicates"
    );
    for packet in &got {
        let seq = test_seq(packet).expect("test frame") as usize;
        assert_eq!(packet.data(), frames[seq].data(), "frame {seq} intact");
    }
    Outcome {
        sent,
        tx_dropped: tx.stats().tx_dropped,
        received: got.len(),
        ring_drops: rx.ring_drops(),
    }
}

#[test]
fn a_burst_of_5000_frames_is_not_dropped_with_the_default_ring() {
    require_testnet!();
    let outcome = run_burst(AfPacketConfig::default(), AfPacketConfig::default());
    eprintln!(
        "default ring (16 MiB): sent {} (tx_dropped {}), received {}, ring drops {}",
        outcome.sent, outcome.tx_dropped, outcome.received, outcome.ring_drops
    );
    assert_eq!(
        outcome.sent, BURST as usize,
        "sender dropped {}",
        outcome.tx_dropped
    );
    assert_eq!(outcome.received, BURST as usize);
    assert_eq!(outcome.ring_drops, 0);
}

#[test]
fn a_ring_the_size_of_the_default_socket_buffer_drops_most_of_the_burst() {
    require_testnet!();
    // 4 blocks of 52 KiB = 208 KiB, the default rmem on this kind of machine.
    let block_size = (rmem_default() / 4).next_multiple_of(4096) as u32;
    // Any multiple of the page size is a multiple of the default 2048-byte nominal frame size.
    let small = AfPacketConfig {
        block_size,
        block_count: 4,
        ..AfPacketConfig::default()
    };
    let outcome = run_burst(small, AfPacketConfig::default());
    eprintln!(
        "ring of {} KiB (kernel default rmem {}): sent {}, received {}, ring drops {} ({:.0} % lost)",
        block_size as usize * 4 / 1024,
        rmem_default(),
        outcome.sent,
        outcome.received,
        outcome.ring_drops,
        100.0 * outcome.ring_drops as f64 / outcome.sent as f64
    );
    assert_eq!(outcome.sent, BURST as usize);
    assert_eq!(
        outcome.received as u64 + outcome.ring_drops,
        u64::from(BURST),
        "every frame accounted for"
    );
    assert!(
        outcome.ring_drops > 0,
        "a 208 KiB ring cannot hold a 3.8 MB burst"
    );
}

#[test]
fn a_sender_with_the_default_send_buffer_reports_what_it_could_not_send() {
    require_testnet!();
    let tx_config = AfPacketConfig {
        sndbuf: None,
        ..AfPacketConfig::default()
    };
    let outcome = run_burst(AfPacketConfig::default(), tx_config);
    eprintln!(
        "sender with the kernel default sndbuf: sent {}, tx_dropped {}, received {}, ring drops {}",
        outcome.sent, outcome.tx_dropped, outcome.received, outcome.ring_drops
    );
    assert_eq!(
        outcome.sent as u64 + outcome.tx_dropped,
        u64::from(BURST),
        "every frame accounted for"
    );
    assert_eq!(outcome.received, outcome.sent);
}
