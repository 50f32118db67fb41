//! Measures AF_PACKET transmit and receive rates on a veth pair (ignored by default: it is a
//! measurement, not a check). Run it with
//! `cargo test --release -p rvs-netdev --test throughput -- --ignored --nocapture`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{open_in, test_frame, test_seq};
use rvs_netdev::{AfPacketConfig, Netdev, Packet, PacketBatch, TestNet};

/// One direction's result.
struct Rates {
    sent: u64,
    tx_pps: f64,
    received: u64,
    rx_pps: f64,
    tx_dropped: u64,
    ring_drops: u64,
}

fn measure(frame_len: usize, frames: u64) -> Rates {
    let net = TestNet::new().expect("namespace");
    net.add_veth_pair("va0", "vb0").expect("veth");
    let rx = Arc::new(open_in(&net, "va0", AfPacketConfig::default()));
    let tx = open_in(&net, "vb0", AfPacketConfig::default());
    let batch: Vec<Packet> = (0..32)
        .map(|i| Packet::from_slice(&test_frame([2, 0, 0, 0, 0, 1], i, frame_len)))
        .collect();
    let done = Arc::new(AtomicBool::new(false));

    let receiver = {
        let (rx, done) = (Arc::clone(&rx), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut out = PacketBatch::new();
            let (mut received, mut first, mut last) = (0u64, None, Instant::now());
            let mut idle_since = Instant::now();
            loop {
                let n = rx.rx_batch(&mut out).expect("rx");
                if n > 0 {
                    let now = Instant::now();
                    first.get_or_insert(now);
                    last = now;
                    idle_since = now;
                    received += out.iter().filter(|p| test_seq(p).is_some()).count() as u64;
                    out.clear();
                } else if done.load(Ordering::Acquire)
                    && idle_since.elapsed() > Duration::from_millis(300)
                {
                    break;
                } else {
                    rx.wait_readable(Duration::from_millis(10)).expect("wait");
                }
            }
            let span = first.map_or(Duration::ZERO, |first| last - first);
            (received, span)
        })
    };

    let start = Instant::now();
    let mut sent = 0u64;
    while sent < frames {
        sent += tx.tx_batch(&batch).expect("tx") as u64;
    }
    let tx_time = start.elapsed();
    done.store(true, Ordering::Release);
    let (received, rx_span) = receiver.join().expect("receiver");
    Rates {
        sent,
        tx_pps: sent as f64 / tx_time.as_secs_f64(),
        received,
        rx_pps: received as f64 / rx_span.as_secs_f64().max(1e-9),
        tx_dropped: tx.stats().tx_dropped,
        ring_drops: rx.ring_drops(),
    }
}

/// Fills the ring with `frames` frames while nobody reads, then times draining it: the receive
/// path's own rate (ring walk, VLAN check, copy into pooled buffers), without the sender's cost.
fn measure_drain(frame_len: usize, frames: u64) -> (u64, f64) {
    let net = TestNet::new().expect("namespace");
    net.add_veth_pair("va0", "vb0").expect("veth");
    let rx = open_in(&net, "va0", AfPacketConfig::default());
    let tx = open_in(&net, "vb0", AfPacketConfig::default());
    let batch: Vec<Packet> = (0..32)
        .map(|i| Packet::from_slice(&test_frame([2, 0, 0, 0, 0, 1], i, frame_len)))
        .collect();
    let mut sent = 0u64;
    while sent < frames {
        sent += tx.tx_batch(&batch).expect("tx") as u64;
    }
    std::thread::sleep(Duration::from_millis(20)); // let the last block time out to userspace
    let mut out = PacketBatch::new();
    let start = Instant::now();
    let mut received = 0u64;
    loop {
        let n = rx.rx_batch(&mut out).expect("rx");
        if n == 0 {
            break;
        }
        received += n as u64;
        out.clear();
    }
    (received, received as f64 / start.elapsed().as_secs_f64())
}

#[test]
#[ignore = "measurement; run with --release -- --ignored --nocapture"]
fn measure_afpacket_pps_on_veth() {
    require_testnet!();
    for frame_len in [64, 1514] {
        let (received, pps) = measure_drain(frame_len, 5_000);
        eprintln!("{frame_len:>5} B: draining {received} queued frames: {pps:>9.0} pps");
    }
    require_testnet!();
    for (frame_len, frames) in [(64, 1_000_000), (1514, 300_000)] {
        let r = measure(frame_len, frames);
        eprintln!(
            "{frame_len:>5} B: tx {:>9.0} pps ({} sent, {} tx_dropped) | rx {:>9.0} pps ({} received, {} ring drops)",
            r.tx_pps, r.sent, r.tx_dropped, r.rx_pps, r.received, r.ring_drops
        );
        assert!(
            r.received + r.ring_drops <= r.sent,
            "more frames received than sent"
        );
    }
}
