//! Tests of packet extraction: hand-made cases per protocol and per truncation/malformation
//! ([`cases`], checked in `l2`, `l3`, `l4`), property tests with `etherparse`-built packets
//! (`props`), and a differential run against Open vSwitch itself ([`oracle`], ignored by default).
//!
//! # Invariants
//! Tests only read the public API of [`crate::extract`] (plus the shared [`cases`]).

mod cases;
mod l2;
mod l3;
mod l4;
mod oracle;
mod props;

use super::{HeaderLayout, PacketMetadata, extract_with_layout};
use crate::flow::Flow;

/// The named case from [`cases::all`].
fn case(name: &str) -> Vec<u8> {
    cases::all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| f)
        .expect("known case name")
}

/// Extraction with default metadata.
fn run(frame: &[u8]) -> (Flow, HeaderLayout) {
    extract_with_layout(frame, &PacketMetadata::default())
}

/// The flow of a case frame up to its ethertype.
fn eth_flow(dl_type: u16) -> Flow {
    Flow {
        dl_dst: cases::DST,
        dl_src: cases::SRC,
        dl_type,
        ..Flow::default()
    }
}

/// [`eth_flow`] for IPv4 with the cases' addresses, TOS 0xb9, TTL 64 and `proto`.
fn ipv4_flow(proto: u8) -> Flow {
    Flow {
        nw_src: cases::IP4_SRC,
        nw_dst: cases::IP4_DST,
        nw_tos: 0xb9,
        nw_ttl: 64,
        nw_proto: proto,
        ..eth_flow(0x0800)
    }
}

/// [`eth_flow`] for IPv6 with the cases' addresses, class 0xa5, label 0x12345, hop limit 64.
fn ipv6_flow(proto: u8) -> Flow {
    Flow {
        ipv6_src: cases::IP6_SRC,
        ipv6_dst: cases::IP6_DST,
        ipv6_label: 0x12345,
        nw_tos: 0xa5,
        nw_ttl: 64,
        nw_proto: proto,
        ..eth_flow(0x86dd)
    }
}
