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
    fn rx_batch(&self, out: &mut PacketBatch) -> Result<usize>;

    /// Sends `frames` without blocking; returns how many were sent (the others were counted as
    /// dropped or as errors).
    fn tx_batch(&self, frames: &[Packet]) -> Result<usize>;

    /// Waits up to `timeout` until `rx_batch` may deliver a frame; returns whether it may.
    /// A `true` can be spurious (another thread may take the frame first).
    fn wait_readable(&self, timeout: Duration) -> Result<bool>;

    /// A file descriptor that `poll(2)` reports readable (`POLLIN`) when frames are waiting, if the
    /// port has one. Ports without one are waited for with [`Netdev::wait_readable`].
    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
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
