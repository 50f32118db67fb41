//! Flow → packet, and the arguments of `netdev-dummy/receive`: Open vSwitch 3.1's `flow_compose`
//! / `packet_expand` (lib/flow.c) and `netdev_dummy_receive` / `eth_from_flow_str` /
//! `eth_from_hex` (lib/netdev-dummy.c, lib/packets.c), reproduced byte for byte.
//!
//! * [`compose_packet`]: the frame whose extracted flow is a given [`Flow`]: Ethernet (or 802.3
//!   for `dl_type` 0x05ff), up to two VLAN tags, one MPLS entry (plus two zero entries when it is
//!   not bottom of stack, as OVS pushes from its three-entry stack), ARP/RARP, IPv4 (fragment
//!   bits: MF, offset 100 for later fragments), IPv6 (no fragment header: OVS does not write one),
//!   TCP/UDP/SCTP/ICMP/IGMP/ICMPv6/ND with OVS's payload rules and checksums.
//! * [`parse_receive_args`]: `NAME [--qid N] PACKET|FLOW [--len N]...` into a [`ReceiveRequest`].
//!
//! # Invariants
//! * Neither function panics, on any input. The expected bytes in the tests were captured from
//!   OVS 3.1 (`netdev-dummy/receive` on a dummy port with `options:pcap`).
//! * `extract(compose_packet(flow))` gives back the L2–L4 fields of `flow` for every flow shape
//!   the composer knows (property-tested), except what the frame cannot carry: IPv6 fragment bits
//!   (OVS writes no fragment header) and the L4 fields of later fragments.
//!
//! # Known differences from OVS (partial)
//! * OVS queues the packets of the arguments before a failing one, then replies the error; here
//!   the whole request fails and nothing is queued.
//! * `--qid` values ≥ the port's number of queues are the caller's to reject (OVS checks them
//!   before parsing packets, so with both a bad queue and a bad packet OVS names the queue).
//! * Flow strings are read by [`crate::odp::parse_dumped_key`] plus the rewrites described in
//!   `flow_text` (OVS's tolerance of missing and unexpected attributes, MPLS without BoS, VLAN
//!   limit 1). Not read: `tunnel(...)`, `nd_ext(...)` and whatever else that parser rejects, which
//!   OVS accepts (and ignores, for the packet). Key errors other than syntax errors end with the
//!   key text as given, where OVS re-prints the key.
//! * Fields our [`Flow`] lacks are written as zero: the IGMP group, the ICMPv6 data word (ND
//!   flags/reserved), MPLS entries below the first.
//! * `--len` with no value after it crashes OVS 3.1 (`strtol(NULL)`, seen on the oracle); here
//!   it is `too small packet len`.
//! * The VLAN limit is OVS's default (1); a daemon configured with `vlan-limit` 2 would need a
//!   parameter here.

mod build;
mod checksum;
mod flow_text;
mod receive;

#[cfg(test)]
mod tests;

use crate::flow::Flow;

/// Payload length `netdev-dummy/receive` composes flows with (when no `--len` is given).
pub const RECEIVE_L7_LEN: usize = 64;

/// Builds a packet whose extracted flow is `flow` (OVS `flow_compose`): Ethernet, VLAN, MPLS,
/// ARP, IPv4/IPv6 (with fragments), TCP/UDP/SCTP/ICMP/ICMPv6/ND, with OVS's L4 payload length
/// and checksums as OVS computes them. `l4_payload_len` as OVS passes it (64 from
/// `netdev-dummy/receive`).
pub fn compose_packet(flow: &Flow, l4_payload_len: usize) -> Vec<u8> {
    build::compose(flow, l4_payload_len).bytes
}

/// A parsed `netdev-dummy/receive NAME [--qid N] PACKET|FLOW... [--len N]`.
///
/// `--qid` may only follow the port name and applies to every packet; `--len` may only follow a
/// flow and applies to that flow alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// The dummy port name (`args[0]`).
    pub port: String,
    /// The receive queue given with `--qid` (not yet checked against the port's queues).
    pub qid: Option<u32>,
    /// The frames to receive, in order.
    pub packets: Vec<Vec<u8>>,
}

/// Parses the arguments (`args[0]` = port name). Errors are OVS's reply texts (`bad rx queue
/// id.`, `too small packet len`, the flow parse error, an empty text for a flow longer than its
/// `--len`). The caller checks the port exists (`no such dummy netdev`) and that the queue is
/// below the port's number of receive queues (`bad rx queue id.`).
pub fn parse_receive_args(args: &[String]) -> Result<ReceiveRequest, String> {
    receive::parse(args)
}
