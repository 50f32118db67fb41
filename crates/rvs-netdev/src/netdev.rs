//! The [`Netdev`] trait every port type implements.
//!
//! Invariants of every implementation:
//! - `rx_batch` never blocks and never delivers more than `out.remaining()` frames (at most
//!   [`MAX_BURST`](crate::MAX_BURST)); it appends, it does not clear `out`.
//! - `tx_batch` never blocks; a frame it cannot send is counted (`tx_dropped` or `tx_errors`) and
//!   the rest of the batch is still tried. It returns an error only if the port is unusable.
//! - Every method takes `&self`: one port may be received from by one thread while others send
//!   on it and a control thread reads its statistics.

use std::os::fd::BorrowedFd;
use std::time::Duration;

use crate::error::Result;
use crate::packet::{Packet, PacketBatch};
use crate::stats::NetdevStats;

/// An Ethernet (MAC) address.
pub type EthAddr = [u8; 6];

/// The kind of a port, as named in configuration (`type=` in OVS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetdevKind {
    /// An in-memory port fed by tests (`netdev-dummy/receive`).
    Dummy,
    /// A port that replays a capture file and records what it sends.
    Pcap,
    /// A Linux interface reached through an `AF_PACKET` socket with a TPACKET_V3 ring.
    AfPacket,
}

impl NetdevKind {
    /// The configuration name of the kind: `dummy`, `pcap` or `afpacket`.
    pub fn as_str(self) -> &'static str {
        match self {
            NetdevKind::Dummy => "dummy",
            NetdevKind::Pcap => "pcap",
            NetdevKind::AfPacket => "afpacket",
        }
    }
}

impl std::fmt::Display for NetdevKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A port of the switch: a source and a sink of Ethernet frames.
pub trait Netdev: Send + Sync {
    /// The port's name (the interface name for `afpacket`).
    fn name(&self) -> &str;

    /// The port's kind.
    fn kind(&self) -> NetdevKind;

    /// Appends up to `out.remaining()` received frames to `out` without blocking; returns how many.
    /// On a port with several receive queues this reads queue 0 only.
    fn rx_batch(&self, out: &mut PacketBatch) -> Result<usize>;

    /// Number of receive queues, each read by [`Netdev::rx_batch_queue`] (1 unless the port was
    /// opened with more; OVS's `n_rxq`).
    fn n_rxq(&self) -> usize {
        1
    }

    /// [`Netdev::rx_batch`] from receive queue `queue` (0 is the queue `rx_batch` reads); a queue
    /// the port does not have delivers nothing.
    fn rx_batch_queue(&self, queue: usize, out: &mut PacketBatch) -> Result<usize> {
        if queue == 0 {
            self.rx_batch(out)
        } else {
            Ok(0)
        }
    }

    /// Sends `frames` without blocking; returns how many were sent (the others were counted as
    /// dropped or as errors).
    fn tx_batch(&self, frames: &[Packet]) -> Result<usize>;

    /// Waits up to `timeout` until `rx_batch` may deliver a frame; returns whether it may.
    /// A `true` can be spurious (another thread may take the frame first).
    fn wait_readable(&self, timeout: Duration) -> Result<bool>;

    /// [`Netdev::wait_readable`] for receive queue `queue`; a queue the port does not have only
    /// sleeps for `timeout`.
    fn wait_readable_queue(&self, queue: usize, timeout: Duration) -> Result<bool> {
        if queue == 0 {
            self.wait_readable(timeout)
        } else {
            std::thread::sleep(timeout);
            Ok(false)
        }
    }

    /// A file descriptor that `poll(2)` reports readable (`POLLIN`) when frames are waiting, if the
    /// port has one. Ports without one are waited for with [`Netdev::wait_readable`].
    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    /// [`Netdev::poll_fd`] of receive queue `queue` (`None` for a queue the port does not have).
    fn poll_fd_queue(&self, queue: usize) -> Option<BorrowedFd<'_>> {
        if queue == 0 { self.poll_fd() } else { None }
    }

    /// A snapshot of the port's counters.
    fn stats(&self) -> NetdevStats;

    /// Whether the link is up (administratively up and carrier present).
    fn link_up(&self) -> Result<bool>;

    /// The port's MTU in bytes (the largest payload after the Ethernet header).
    fn mtu(&self) -> Result<u32>;

    /// The port's Ethernet address.
    fn mac(&self) -> Result<EthAddr>;
}
