//! Tests of the classifier as a whole: API and version semantics ([`api`]), hand-made
//! minimality cases checked against Open vSwitch 3.1 ([`minimality`]), and property tests against
//! a linear-scan model with a soundness check of the returned wildcards ([`model`]).

mod api;
mod minimality;
mod model;

use rvs_flow::flow::{ETH_TYPE_IP, ETH_TYPE_IPV6, ipproto};
use rvs_flow::{Flow, Match, Wildcards};

/// Builds a match by setting fields of a flow and its mask together.
pub(super) fn matching(set: impl FnOnce(&mut Flow, &mut Flow)) -> Match {
    let mut flow = Flow::default();
    let mut wc = Wildcards::default();
    set(&mut flow, &mut wc.masks);
    Match::new(&flow, &wc)
}

/// The match of `ovs-ofctl`'s `ip,nw_dst=<addr>/<len>`.
pub(super) fn ip_nw_dst(addr: u32, len: u32) -> Match {
    matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
        f.nw_dst = addr;
        m.nw_dst = prefix_u32(len);
    })
}

/// A 32-bit CIDR mask.
pub(super) fn prefix_u32(len: u32) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    }
}

/// A 128-bit CIDR mask as IPv6 bytes.
pub(super) fn prefix_v6(len: u32) -> [u8; 16] {
    let m = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len.min(128))
    };
    m.to_be_bytes()
}

/// A TCP/IPv4 packet flow like the ones the oracle cases send.
pub(super) fn tcp4(src: u32, dst: u32, tp_src: u16, tp_dst: u16) -> Flow {
    Flow {
        in_port: 1,
        dl_src: [0, 0, 0, 0, 0, 1],
        dl_dst: [0, 0, 0, 0, 0, 2],
        dl_type: ETH_TYPE_IP,
        nw_src: src,
        nw_dst: dst,
        nw_proto: ipproto::TCP,
        nw_ttl: 64,
        tp_src,
        tp_dst,
        ..Flow::default()
    }
}

/// A TCP/IPv6 packet flow.
pub(super) fn tcp6(src: u128, dst: u128) -> Flow {
    Flow {
        in_port: 1,
        dl_src: [0, 0, 0, 0, 0, 1],
        dl_dst: [0, 0, 0, 0, 0, 2],
        dl_type: ETH_TYPE_IPV6,
        ipv6_src: src.to_be_bytes(),
        ipv6_dst: dst.to_be_bytes(),
        nw_proto: ipproto::TCP,
        nw_ttl: 64,
        tp_src: 1,
        tp_dst: 2,
        ..Flow::default()
    }
}
