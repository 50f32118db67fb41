//! `rvs-netdev`: the ports of the rvs switch, and the only crate of rvs with `unsafe` code.
//!
//! A port is anything implementing [`Netdev`]: forwarding threads call [`Netdev::rx_batch`] to
//! receive up to [`MAX_BURST`] frames into a reusable [`PacketBatch`] and [`Netdev::tx_batch`] to
//! send, both without blocking; when idle they wait with [`Netdev::wait_readable`] or `poll(2)` on
//! [`Netdev::poll_fd`]. Port types:
//! - [`DummyNetdev`]: in memory, fed by tests (OVS's `netdev-dummy`), with optional captures;
//! - [`PcapNetdev`]: replays a capture file, records sent frames to another;
//! - [`AfPacketNetdev`]: a Linux interface through an `AF_PACKET` socket with a TPACKET_V3 ring.
//!
//! Invariants: `unsafe` code exists only in the private `sys` module, each block with a
//! `// SAFETY:` comment; everything else is safe Rust (`#![deny(unsafe_code)]`). No frame from the
//! outside (ring, file, test) can make a port panic: malformed input is counted, not trusted.
//! [`TestNet`] (namespaces with veth pairs, for tests) is public for integration tests but hidden
//! from the documentation.
#![deny(unsafe_code)]

mod afpacket;
mod capture;
mod dummy;
mod error;
mod netdev;
mod packet;
mod pcap;
mod placement;
mod stats;
mod sys;
#[doc(hidden)]
pub mod testnet;
mod wait;

pub use afpacket::{AfPacketConfig, AfPacketNetdev, MAX_RXQ};
pub use capture::{PcapSink, PcapSource};
pub use dummy::{DummyConfig, DummyNetdev};
pub use error::{NetdevError, Result};
pub use netdev::{EthAddr, Netdev, NetdevKind};
pub use packet::{HEADROOM, MAX_BURST, Packet, PacketBatch, SPARE_LIMIT};
pub use pcap::{PcapConfig, PcapNetdev};
pub use placement::pin_current_thread_in_group;
pub use stats::NetdevStats;
#[doc(hidden)]
pub use testnet::TestNet;
pub use wait::{wait_any_queue_readable, wait_any_readable};
