//! Pieces of flow text shared by the dpctl commands: the statistics line of `-s`, the
//! conversions to `rvs_flow::odp` dump types, and the `dp-extra-info:miniflow_bits(a,b)` of
//! verbose dumps.
//!
//! # Invariants
//! * [`format_stats`] prints what OVS's `dpif_flow_stats_format` prints: `packets:N, bytes:N,
//!   used:never|S.SSSs[, flags:...]`, the age relative to the caller's "now".
//! * [`miniflow_bits`] counts, for each half of OVS 3.1's 84-word `struct flow`, the 64-bit words
//!   in which the mask has a nonzero bit, leaving out `in_port` (dpif-netdev classifies per input
//!   port and drops it from the mask): the two numbers dpif-netdev prints.

use std::mem::offset_of;

use rvs_flow::odp::{DpFlowStats, DumpExtras};
use rvs_flow::{Flow, Wildcards};

use crate::dpif::{DpifFlow, FlowStats};

/// Appends `packets:N, bytes:N, used:...[, flags:...]` (no newline).
pub(super) fn format_stats(out: &mut String, stats: &FlowStats, now_ms: u64) {
    rvs_flow::odp::format_stats(out, &dump_stats(stats), now_ms);
}

/// The dump-line statistics of a flow.
pub(super) fn dump_stats(stats: &FlowStats) -> DpFlowStats {
    DpFlowStats {
        n_packets: stats.n_packets,
        n_bytes: stats.n_bytes,
        used_ms: stats.used,
        tcp_flags: stats.tcp_flags,
    }
}

/// The verbose-only parts of a dump line of `flow`.
pub(super) fn dump_extras(flow: &DpifFlow) -> DumpExtras {
    let mask = flow.mask.unwrap_or_default();
    let (unit0, unit1) = miniflow_bits(&mask);
    DumpExtras {
        offloaded: flow.attrs.offloaded,
        dp_layer: (!flow.attrs.dp_layer.is_empty()).then(|| flow.attrs.dp_layer.to_string()),
        dp_extra_info: Some(format!("miniflow_bits({unit0},{unit1})")),
    }
}

/// Where each field of [`Flow`] sits in OVS 3.1's `struct flow`: (our byte offset, length,
/// OVS byte offset). The L2 offsets (Ethernet addresses from word 59) were confirmed on the
/// oracle: exact `eth(src,dst)` adds two words, not three. Pipeline-only fields (metadata,
/// registers) and `in_port` are left out.
const OVS_OFFSETS: [(usize, usize, usize); 26] = [
    (offset_of!(Flow, skb_priority), 4, 416),
    (offset_of!(Flow, skb_mark), 4, 420),
    (offset_of!(Flow, dp_hash), 4, 424),
    (offset_of!(Flow, recirc_id), 4, 432),
    (offset_of!(Flow, ct_state), 1, 436),
    (offset_of!(Flow, ct_zone), 2, 438),
    (offset_of!(Flow, ct_mark), 4, 440),
    (offset_of!(Flow, packet_type), 4, 444),
    (offset_of!(Flow, ct_label), 16, 448),
    (offset_of!(Flow, dl_dst), 6, 472),
    (offset_of!(Flow, dl_src), 6, 478),
    (offset_of!(Flow, dl_type), 2, 484),
    (offset_of!(Flow, vlans), 8, 488),
    (offset_of!(Flow, mpls_lse), 4, 496),
    (offset_of!(Flow, nw_src), 4, 512),
    (offset_of!(Flow, nw_dst), 4, 516),
    (offset_of!(Flow, ipv6_src), 16, 528),
    (offset_of!(Flow, ipv6_dst), 16, 544),
    (offset_of!(Flow, ipv6_label), 4, 592),
    (offset_of!(Flow, nw_frag), 4, 596),
    (offset_of!(Flow, nd_target), 16, 600),
    (offset_of!(Flow, arp_sha), 6, 616),
    (offset_of!(Flow, arp_tha), 6, 622),
    (offset_of!(Flow, tcp_flags), 2, 628),
    (offset_of!(Flow, tp_src), 2, 656),
    (offset_of!(Flow, tp_dst), 2, 658),
];

/// Words of OVS's `struct flow` in the first half of its map.
const MAP_UNIT_WORDS: usize = 64;

/// dpif-netdev's `miniflow_bits(a,b)` of a flow with mask `mask`.
pub(super) fn miniflow_bits(mask: &Wildcards) -> (u32, u32) {
    let bytes = mask_bytes(&mask.masks);
    let mut words: u128 = 0;
    for &(ours, len, theirs) in &OVS_OFFSETS {
        for i in 0..len {
            if bytes.get(ours + i).is_some_and(|b| *b != 0) {
                words |= 1 << ((theirs + i) / 8);
            }
        }
    }
    let low = words & ((1u128 << MAP_UNIT_WORDS) - 1);
    (low.count_ones(), (words >> MAP_UNIT_WORDS).count_ones())
}

/// The bytes of `flow`, in memory order.
fn mask_bytes(flow: &Flow) -> Vec<u8> {
    flow.words().iter().flat_map(|w| w.to_ne_bytes()).collect()
}
