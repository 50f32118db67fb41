//! Helpers shared by the integration tests: skipping without root, test frames, and opening
//! ports inside a namespace.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use rvs_netdev::{AfPacketConfig, AfPacketNetdev, Netdev, Packet, PacketBatch, TestNet};

/// The experimental EtherType the test frames carry (IEEE 802 local experimental 1).
pub const TEST_ETHERTYPE: u16 = 0x88b5;

/// Returns from the test with a clear message when namespaces cannot be created here.
#[macro_export]
macro_rules! require_testnet {
    () => {
        if let Err(why) = rvs_netdev::TestNet::available() {
            eprintln!("SKIPPED (needs root and iproute2): {why}");
            return;
        }
    };
}

/// A test frame of `len` bytes (at least 18): broadcast destination, `src`, the test EtherType,
/// then `seq` (big-endian u32) and a filler derived from it.
pub fn test_frame(src: [u8; 6], seq: u32, len: usize) -> Vec<u8> {
    let mut frame = Vec::with_capacity(len);
    frame.extend_from_slice(&[0xff; 6]);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&TEST_ETHERTYPE.to_be_bytes());
    frame.extend_from_slice(&seq.to_be_bytes());
    let mut x = seq as u8;
    while frame.len() < len {
        frame.push(x);
        x = x.wrapping_mul(31).wrapping_add(7);
    }
    frame
}

/// The sequence number of a test frame, or `None` for any other frame (noise from the kernel).
pub fn test_seq(frame: &[u8]) -> Option<u32> {
    if frame.get(12..14)? != TEST_ETHERTYPE.to_be_bytes() {
        return None;
    }
    Some(u32::from_be_bytes(frame.get(14..18)?.try_into().ok()?))
}

/// Opens `ifname` inside `net` (in a thread that entered it) and hands the port back.
pub fn open_in(net: &TestNet, ifname: &str, config: AfPacketConfig) -> AfPacketNetdev {
    let ifname = ifname.to_owned();
    net.spawn(move || AfPacketNetdev::open(&ifname, &config))
        .expect("spawn in namespace")
        .join()
        .expect("join")
        .expect("open AF_PACKET port")
}

/// Receives from `port` until `want` frames satisfying `keep` arrived or `timeout` passed.
pub fn receive(
    port: &dyn Netdev,
    want: usize,
    timeout: Duration,
    keep: impl Fn(&Packet) -> bool,
) -> Vec<Packet> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut batch = PacketBatch::new();
    while got.len() < want {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        port.rx_batch(&mut batch).expect("rx_batch");
        if batch.is_empty() {
            port.wait_readable((deadline - now).min(Duration::from_millis(20)))
                .expect("wait");
            continue;
        }
        got.extend(batch.take_all().filter(|p| keep(p)));
    }
    got
}

/// Sends every frame, in batches of 32; returns how many the port accepted.
pub fn send_all(port: &dyn Netdev, frames: &[Packet]) -> usize {
    frames
        .chunks(32)
        .map(|chunk| port.tx_batch(chunk).expect("tx_batch"))
        .sum()
}
