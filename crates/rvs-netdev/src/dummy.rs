//! [`DummyNetdev`]: an in-memory port that tests inject frames into and read sent frames from.
//!
//! It plays the role of OVS's `netdev-dummy`: `inject` is what `netdev-dummy/receive` calls, the
//! optional captures are its `options:pcap`, `options:rxq_pcap` and `options:tx_pcap`.
//!
//! Invariants:
//! - The receive queue never holds more than `rx_queue_len` frames; a frame injected into a full
//!   queue is counted in `rx_dropped` (OVS drops it silently). It is still written to the receive
//!   capture, which OVS also does before looking at the queue.
//! - `rx_packets`/`rx_bytes` count frames when `rx_batch` delivers them, as OVS counts on dequeue.
//! - The port has a descriptor to poll once [`Netdev::poll_fd`] was called (an `eventfd`, made on
//!   first use so that ports nobody polls cost no descriptor). Each injection signals it; each
//!   `poll_fd` call clears it if the receive queue is empty and signals it if not (under the
//!   queue's lock, as injections check for it), so it is readable whenever frames wait.
//! - A sent frame shorter than an Ethernet header, or longer than `mtu + 14` (`+ 4` if it carries
//!   an 802.1Q tag), is rejected (`tx_errors`), as in OVS. An accepted frame goes to the sent queue
//!   (`tx_packets`) unless it is full (`tx_dropped`); it is captured either way.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use nix::sys::eventfd::{EfdFlags, EventFd};

use parking_lot::{Condvar, Mutex};

use crate::capture::PcapSink;
use crate::error::{NetdevError, Result};
use crate::netdev::{EthAddr, Netdev, NetdevKind};
use crate::packet::{Packet, PacketBatch};
use crate::stats::{Counters, NetdevStats};

/// Ethernet header length.
const ETH_HEADER_LEN: usize = 14;
/// 802.1Q tag length.
const VLAN_HEADER_LEN: usize = 4;

/// OVS numbers its dummy ports' MAC addresses from this value upwards.
static NEXT_DUMMY_MAC: AtomicU32 = AtomicU32::new(0xaa55_0000);

/// How a [`DummyNetdev`] is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DummyConfig {
    /// Most frames waiting to be received (OVS: 100).
    pub rx_queue_len: usize,
    /// Most sent frames kept for [`DummyNetdev::take_sent`].
    pub tx_queue_len: usize,
    /// The MTU reported and enforced on transmit.
    pub mtu: u32,
    /// The MAC address; `None` numbers it like OVS (`aa:55:aa:55:00:00`, then `...:01`, ...).
    pub mac: Option<EthAddr>,
    /// One capture file for both directions (OVS `options:pcap`); overrides the two below.
    pub pcap: Option<PathBuf>,
    /// Capture of injected frames (OVS `options:rxq_pcap`).
    pub rxq_pcap: Option<PathBuf>,
    /// Capture of sent frames (OVS `options:tx_pcap`).
    pub tx_pcap: Option<PathBuf>,
}

impl Default for DummyConfig {
    fn default() -> Self {
        DummyConfig {
            rx_queue_len: 100,
            tx_queue_len: 4096,
            mtu: 1500,
            mac: None,
            pcap: None,
            rxq_pcap: None,
            tx_pcap: None,
        }
    }
}

/// The capture files of a dummy port; `rx` and `tx` index into `sinks` (both 0 for `pcap`).
#[derive(Debug, Default)]
struct Captures {
    sinks: Vec<PcapSink>,
    rx: Option<usize>,
    tx: Option<usize>,
}

impl Captures {
    fn write(&mut self, which: Option<usize>, frame: &[u8]) {
        if let Some(sink) = which.and_then(|i| self.sinks.get_mut(i)) {
            // Like OVS, a capture that cannot be written does not stop the port.
            let _ = sink.write(frame).and_then(|()| sink.flush());
        }
    }
}

/// An in-memory port.
#[derive(Debug)]
pub struct DummyNetdev {
    name: String,
    rx_queue_len: usize,
    tx_queue_len: usize,
    rx_queue: Mutex<VecDeque<Packet>>,
    rx_ready: Condvar,
    /// Readable while frames may wait (made by the first `poll_fd`; `None` if that failed).
    rx_wake: OnceLock<Option<EventFd>>,
    sent: Mutex<VecDeque<Packet>>,
    captures: Mutex<Captures>,
    counters: Counters,
    link_up: AtomicBool,
    mtu: AtomicU32,
    mac: Mutex<EthAddr>,
}

impl DummyNetdev {
    /// A dummy port with the default configuration.
    pub fn new(name: &str) -> Self {
        Self::build(name, DummyConfig::default(), Captures::default())
    }

    /// A dummy port configured by `config`; fails if a capture file cannot be opened.
    pub fn with_config(name: &str, config: DummyConfig) -> Result<Self> {
        if config.rx_queue_len == 0 || config.tx_queue_len == 0 {
            return Err(NetdevError::config(
                name,
                "queue lengths must be at least 1",
            ));
        }
        let open = |path: &PathBuf| {
            PcapSink::append(path).map_err(|source| NetdevError::Pcap {
                port: name.to_owned(),
                path: path.display().to_string(),
                source,
            })
        };
        let mut captures = Captures::default();
        if let Some(path) = &config.pcap {
            captures.sinks.push(open(path)?);
            captures.rx = Some(0);
            captures.tx = Some(0);
        } else {
            if let Some(path) = &config.rxq_pcap {
                captures.rx = Some(captures.sinks.len());
                captures.sinks.push(open(path)?);
            }
            if let Some(path) = &config.tx_pcap {
                captures.tx = Some(captures.sinks.len());
                captures.sinks.push(open(path)?);
            }
        }
        Ok(Self::build(name, config, captures))
    }

    fn build(name: &str, config: DummyConfig, captures: Captures) -> Self {
        let mac = config.mac.unwrap_or_else(|| {
            let n = NEXT_DUMMY_MAC.fetch_add(1, Ordering::Relaxed).to_be_bytes();
            [0xaa, 0x55, n[0], n[1], n[2], n[3]]
        });
        DummyNetdev {
            name: name.to_owned(),
            rx_queue_len: config.rx_queue_len.max(1),
            tx_queue_len: config.tx_queue_len.max(1),
            rx_queue: Mutex::new(VecDeque::new()),
            rx_ready: Condvar::new(),
            rx_wake: OnceLock::new(),
            sent: Mutex::new(VecDeque::new()),
            captures: Mutex::new(captures),
            counters: Counters::default(),
            link_up: AtomicBool::new(true),
            mtu: AtomicU32::new(config.mtu),
            mac: Mutex::new(mac),
        }
    }

    /// Queues a copy of `frame` for reception; returns false if the queue was full (the frame is
    /// then counted in `rx_dropped`).
    pub fn inject(&self, frame: &[u8]) -> bool {
        self.inject_packet(Packet::from_slice(frame))
    }

    /// Queues `packet` for reception; returns false if the queue was full.
    pub fn inject_packet(&self, packet: Packet) -> bool {
        let mut captures = self.captures.lock();
        let rx_capture = captures.rx;
        captures.write(rx_capture, packet.data());
        drop(captures);
        let mut queue = self.rx_queue.lock();
        if queue.len() >= self.rx_queue_len {
            drop(queue);
            self.counters.rx_dropped(1);
            return false;
        }
        queue.push_back(packet);
        let wake = self.rx_wake.get().and_then(Option::as_ref);
        drop(queue);
        if let Some(wake) = wake {
            // A failed signal is recovered by the next `poll_fd` (the queue is not empty).
            let _ = wake.write(1);
        }
        self.rx_ready.notify_all();
        true
    }

    /// Number of frames waiting to be received.
    pub fn rx_queue_len(&self) -> usize {
        self.rx_queue.lock().len()
    }

    /// Removes and returns every frame sent so far, oldest first.
    pub fn take_sent(&self) -> Vec<Packet> {
        self.sent.lock().drain(..).collect()
    }

    /// Sets the link state that [`Netdev::link_up`] reports (OVS `netdev-dummy/set-admin-state`).
    pub fn set_link_up(&self, up: bool) {
        self.link_up.store(up, Ordering::Relaxed);
    }

    /// Sets the MTU.
    pub fn set_mtu(&self, mtu: u32) {
        self.mtu.store(mtu, Ordering::Relaxed);
    }

    /// Sets the MAC address.
    pub fn set_mac(&self, mac: EthAddr) {
        *self.mac.lock() = mac;
    }

    /// Whether `frame` is short enough and long enough to be sent at the current MTU.
    fn fits(&self, frame: &[u8]) -> bool {
        if frame.len() < ETH_HEADER_LEN {
            return false;
        }
        let mut max = self.mtu.load(Ordering::Relaxed) as usize + ETH_HEADER_LEN;
        if frame.get(12..14) == Some(&[0x81, 0x00]) {
            max += VLAN_HEADER_LEN;
        }
        frame.len() <= max
    }
}

impl Netdev for DummyNetdev {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> NetdevKind {
        NetdevKind::Dummy
    }

    fn rx_batch(&self, out: &mut PacketBatch) -> Result<usize> {
        let mut queue = self.rx_queue.lock();
        let mut delivered = 0;
        let mut bytes = 0;
        while !out.is_full() {
            let Some(packet) = queue.pop_front() else {
                break;
            };
            bytes += packet.len() as u64;
            delivered += 1;
            if let Err(packet) = out.push(packet) {
                // Unreachable (checked `is_full` above); keep the frame rather than lose it.
                queue.push_front(packet);
                break;
            }
        }
        drop(queue);
        self.counters.rx(delivered as u64, bytes);
        Ok(delivered)
    }

    fn tx_batch(&self, frames: &[Packet]) -> Result<usize> {
        let mut sent = 0;
        let mut captures = self.captures.lock();
        let tx_capture = captures.tx;
        let mut queue = self.sent.lock();
        for frame in frames {
            if !self.fits(frame) {
                self.counters.tx_errors(1);
                continue;
            }
            captures.write(tx_capture, frame);
            if queue.len() >= self.tx_queue_len {
                self.counters.tx_dropped(1);
                continue;
            }
            queue.push_back(frame.clone());
            self.counters.tx(1, frame.len() as u64);
            sent += 1;
        }
        Ok(sent)
    }

    fn wait_readable(&self, timeout: Duration) -> Result<bool> {
        let mut queue = self.rx_queue.lock();
        if queue.is_empty() {
            let _ = self.rx_ready.wait_for(&mut queue, timeout);
        }
        Ok(!queue.is_empty())
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        let wake = self
            .rx_wake
            .get_or_init(|| {
                EventFd::from_value_and_flags(0, EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
                    .ok()
            })
            .as_ref()?;
        let queue = self.rx_queue.lock();
        // Reading a cleared (zero) non-blocking eventfd fails with EAGAIN: nothing to do.
        let _ = if queue.is_empty() {
            wake.read().map(|_| 0)
        } else {
            wake.write(1)
        };
        drop(queue);
        Some(wake.as_fd())
    }

    fn stats(&self) -> NetdevStats {
        self.counters.snapshot()
    }

    fn link_up(&self) -> Result<bool> {
        Ok(self.link_up.load(Ordering::Relaxed))
    }

    fn mtu(&self) -> Result<u32> {
        Ok(self.mtu.load(Ordering::Relaxed))
    }

    fn mac(&self) -> Result<EthAddr> {
        Ok(*self.mac.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PcapSource;
    use std::sync::Arc;
    use std::time::Instant;

    fn frame(tag: u8, len: usize) -> Vec<u8> {
        let mut f = vec![tag; len];
        f[12] = 0x88;
        f[13] = 0xb5;
        f
    }

    #[test]
    fn injected_frames_come_out_in_batches_of_32() {
        let port = DummyNetdev::new("p1");
        for i in 0..40u8 {
            assert!(port.inject(&frame(i, 60)));
        }
        let mut batch = PacketBatch::new();
        assert_eq!(port.rx_batch(&mut batch).expect("rx"), 32);
        assert_eq!(
            port.rx_batch(&mut batch).expect("rx"),
            0,
            "full batch takes nothing"
        );
        assert!(
            batch
                .iter()
                .enumerate()
                .all(|(i, p)| p.data() == frame(i as u8, 60))
        );
        batch.clear();
        assert_eq!(port.rx_batch(&mut batch).expect("rx"), 8);
        assert_eq!(batch[0].data(), frame(32, 60));
        let stats = port.stats();
        assert_eq!(
            (stats.rx_packets, stats.rx_bytes, stats.rx_dropped),
            (40, 2400, 0)
        );
    }

    #[test]
    fn overflow_is_counted_as_rx_dropped() {
        let config = DummyConfig {
            rx_queue_len: 3,
            ..DummyConfig::default()
        };
        let port = DummyNetdev::with_config("p1", config).expect("port");
        let accepted = (0..5u8).filter(|&i| port.inject(&frame(i, 60))).count();
        assert_eq!(accepted, 3);
        assert_eq!(port.stats().rx_dropped, 2);
        assert_eq!(port.rx_queue_len(), 3);
    }

    #[test]
    fn sent_frames_are_checked_against_the_mtu_and_kept() {
        let port = DummyNetdev::new("p1");
        port.set_mtu(100);
        let mut vlan = frame(3, 118);
        vlan[12] = 0x81;
        vlan[13] = 0x00;
        let frames = [
            Packet::from_slice(&frame(1, 114)), // exactly mtu + 14
            Packet::from_slice(&frame(2, 115)), // one byte too long
            Packet::from_slice(&vlan),          // mtu + 14 + 4 with a tag
            Packet::from_slice(&[0; 13]),       // shorter than a header
        ];
        assert_eq!(port.tx_batch(&frames).expect("tx"), 2);
        let sent = port.take_sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].data(), frame(1, 114));
        assert_eq!(sent[1].data(), vlan);
        let stats = port.stats();
        assert_eq!(
            (stats.tx_packets, stats.tx_bytes, stats.tx_errors),
            (2, 232, 2)
        );
        assert!(port.take_sent().is_empty());
    }

    #[test]
    fn full_sent_queue_counts_tx_dropped() {
        let config = DummyConfig {
            tx_queue_len: 2,
            ..DummyConfig::default()
        };
        let port = DummyNetdev::with_config("p1", config).expect("port");
        let frames: Vec<Packet> = (0..3).map(|i| Packet::from_slice(&frame(i, 60))).collect();
        assert_eq!(port.tx_batch(&frames).expect("tx"), 2);
        assert_eq!(port.stats().tx_dropped, 1);
    }

    #[test]
    fn macs_are_numbered_like_ovs_and_settable() {
        let a = DummyNetdev::new("a").mac().expect("mac");
        let b = DummyNetdev::new("b").mac().expect("mac");
        assert_eq!(&a[..2], &[0xaa, 0x55]);
        assert_eq!(&b[..2], &[0xaa, 0x55]);
        assert_ne!(a, b);
        let port = DummyNetdev::new("c");
        port.set_mac([2, 0, 0, 0, 0, 1]);
        assert_eq!(port.mac().expect("mac"), [2, 0, 0, 0, 0, 1]);
        port.set_link_up(false);
        assert!(!port.link_up().expect("link"));
    }

    #[test]
    fn wait_readable_wakes_on_inject_and_times_out_otherwise() {
        let port = Arc::new(DummyNetdev::new("p1"));
        let start = Instant::now();
        assert!(!port.wait_readable(Duration::from_millis(20)).expect("wait"));
        assert!(start.elapsed() >= Duration::from_millis(20));
        let injector = {
            let port = Arc::clone(&port);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                port.inject(&frame(1, 60));
            })
        };
        assert!(port.wait_readable(Duration::from_secs(10)).expect("wait"));
        injector.join().expect("join");
    }

    #[test]
    fn poll_fd_is_readable_exactly_while_frames_wait() {
        let readable = |port: &DummyNetdev| {
            let fd = port.poll_fd().expect("an eventfd");
            let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
            nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).expect("poll") > 0
        };
        let port = DummyNetdev::new("p1");
        // A frame queued before the descriptor existed is signalled by its creation.
        port.inject(&frame(1, 60));
        assert!(readable(&port));
        let mut batch = PacketBatch::new();
        assert_eq!(port.rx_batch(&mut batch).expect("rx"), 1);
        assert!(!readable(&port), "cleared once the queue is empty");
        port.inject(&frame(2, 60));
        assert!(readable(&port));
        assert!(
            readable(&port),
            "stays readable until the frame is received"
        );
        batch.clear();
        assert_eq!(port.rx_batch(&mut batch).expect("rx"), 1);
        assert!(!readable(&port));
        // The multi-port wait ends on an injection from another thread.
        let port = Arc::new(port);
        let injector = {
            let port = Arc::clone(&port);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                port.inject(&frame(3, 60));
            })
        };
        let ports: [&dyn Netdev; 1] = [&*port];
        let start = Instant::now();
        let woke = crate::wait_any_readable(&ports, Duration::from_secs(20));
        assert!(woke.expect("a descriptor").expect("wait"));
        assert!(start.elapsed() < Duration::from_secs(10));
        injector.join().expect("join");
    }

    #[test]
    fn captures_record_both_directions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let both = dir.path().join("both.pcap");
        let rxq = dir.path().join("rxq.pcap");
        let tx = dir.path().join("tx.pcap");
        let config = DummyConfig {
            pcap: Some(both.clone()),
            ..DummyConfig::default()
        };
        let shared = DummyNetdev::with_config("p1", config).expect("port");
        let config = DummyConfig {
            rxq_pcap: Some(rxq.clone()),
            tx_pcap: Some(tx.clone()),
            ..DummyConfig::default()
        };
        let split = DummyNetdev::with_config("p2", config).expect("port");
        for port in [&shared, &split] {
            port.inject(&frame(1, 60));
            port.tx_batch(&[Packet::from_slice(&frame(2, 70))])
                .expect("tx");
        }
        let read_all = |path: &std::path::Path| {
            let mut source = PcapSource::open(path).expect("open");
            let mut out = Vec::new();
            let mut packet = Packet::new();
            while source.next_into(&mut packet).expect("read").is_some() {
                out.push(packet.to_vec());
            }
            out
        };
        assert_eq!(read_all(&both), vec![frame(1, 60), frame(2, 70)]);
        assert_eq!(read_all(&rxq), vec![frame(1, 60)]);
        assert_eq!(read_all(&tx), vec![frame(2, 70)]);
    }
}
