//! Test support shared by the translator's tests: an empty bridge `br0` with four ports and
//! translation requests.
//!
//! # Invariants
//! * Port `pN` is OpenFlow port N and datapath port N (1..=4); the bridge's local port is
//!   datapath port 100; the bridge starts with no rule at all.

use std::sync::Arc;

use rvs_dpif::clock::VirtualClock;
use rvs_flow::Flow;
use rvs_flow::flow::{ETH_TYPE_IP, ipproto};
use rvs_ofproto::vlan::PortVlanSettings;
use rvs_upcall::xlate::XlateRequest;

use super::{DpifXlateCache, OfprotoDpif};

/// `br0` with ports p1..p4 and no rules, on a virtual clock at 1000 ms.
pub(super) fn four_port_bridge() -> OfprotoDpif {
    let ofproto = OfprotoDpif::new(Arc::new(VirtualClock::new(1000)));
    ofproto.add_bridge("br0", 100, false).expect("bridge");
    for p in 1..=4u16 {
        ofproto
            .add_port(
                "br0",
                &format!("p{p}"),
                u32::from(p),
                Some(p),
                &PortVlanSettings::default(),
            )
            .expect("port");
    }
    ofproto
}

/// A request to translate `flow` against tables `version`.
pub(super) fn req(flow: &Flow, for_revalidation: bool, version: u64) -> XlateRequest<'_> {
    XlateRequest {
        flow,
        tcp_flags: 0,
        for_revalidation,
        tables_version: version,
    }
}

/// True if both caches record the same rules (the same objects, in the same order).
pub(super) fn same_rules(a: &DpifXlateCache, b: &DpifXlateCache) -> bool {
    a.rules_hit.len() == b.rules_hit.len()
        && a.rules_hit
            .iter()
            .zip(b.rules_hit.iter())
            .all(|(x, y)| Arc::ptr_eq(x, y))
}

/// An IPv4 UDP (or TCP) flow from `in_port`: source 10.0.0.x and source port from `nw`, destination
/// 198.19.0.1 if bit 9 of `nw` is set (else 10.0.0.2); MACs zero.
pub(super) fn ip_flow(in_port: u8, udp: bool, nw: u32, tp_dst: u16) -> Flow {
    Flow {
        in_port: u32::from(in_port),
        dl_type: ETH_TYPE_IP,
        nw_proto: if udp { ipproto::UDP } else { ipproto::TCP },
        nw_src: 0x0a00_0000 | (nw & 0x1ff),
        nw_dst: if nw & 0x200 != 0 {
            0xc613_0001
        } else {
            0x0a00_0002
        },
        nw_ttl: 64,
        tp_src: 40000 + (nw & 0xff) as u16,
        tp_dst,
        ..Flow::default()
    }
}
