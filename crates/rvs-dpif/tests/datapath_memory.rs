//! Memory per installed megaflow, measured at 200k flows by default (ignored by default; run with
//! `cargo test -p rvs-dpif --release --test datapath_memory -- --ignored --nocapture`, and with
//! `RVS_MEM_FLOWS=1000000` for another table size).
//!
//! A counting global allocator needs `unsafe impl GlobalAlloc`, which this project forbids, so the
//! measure is the growth of the process's resident set (`/proc/self/statm`) while the flows are
//! installed: every byte allocated and written, plus allocator overhead and fragmentation. It prints
//! one JSON object.

use std::sync::Arc;

use etherparse::PacketBuilder;
use rvs_dpif::clock::VirtualClock;
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::{Dpif, FlowPut, PMD_ID_NULL, PutFlags};
use rvs_flow::extract::{ExtractOptions, PacketMetadata, extract_with_options};
use rvs_flow::odp::OdpAction;
use rvs_flow::ufid::UfidGenerator;
use rvs_flow::{Flow, Wildcards};

/// Flows installed unless `RVS_MEM_FLOWS` says otherwise.
const DEFAULT_FLOWS: u32 = 200_000;
const MASKS: u32 = 10;

/// Resident set size in bytes, from `/proc/self/statm` (pages × 4096).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("resident pages");
    pages * 4096
}

fn put_for(n: u32) -> FlowPut {
    let mut frame = Vec::new();
    PacketBuilder::ethernet2([0x50, 0x54, 0, 0, 0, 1], [0x50, 0x54, 0, 0, 0, 2])
        .ipv4(
            (0x0a00_0000 | (n & 0xff)).to_be_bytes(),
            n.to_be_bytes(),
            64,
        )
        .udp(1000, (n % MASKS) as u16)
        .write(&mut frame, &[0u8; 18])
        .expect("build");
    let key = extract_with_options(
        &frame,
        &PacketMetadata::from_port(1),
        &ExtractOptions { vlan_limit: 1 },
    )
    .0;
    let m = n % MASKS;
    let mask = Wildcards {
        masks: Flow {
            recirc_id: u32::MAX,
            in_port: u32::MAX,
            dl_type: u16::MAX,
            nw_proto: u8::MAX,
            nw_frag: 3,
            nw_dst: u32::MAX,
            nw_src: u32::MAX << (32 - 8 - m),
            tp_dst: u16::MAX,
            ..Flow::default()
        },
    };
    FlowPut {
        owner: None,
        flags: PutFlags::CREATE,
        key,
        mask,
        actions: Vec::new().into(),
        ufid: None,
        pmd_id: PMD_ID_NULL,
    }
}

#[test]
#[ignore = "measurement: run explicitly, in release"]
fn bytes_per_megaflow_at_200k() {
    let flows: u32 = std::env::var("RVS_MEM_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_FLOWS);
    // Build the puts first so that their memory is not counted.
    let puts: Vec<FlowPut> = (0..flows).map(put_for).collect();
    let config = DatapathConfig {
        ufid_generator: UfidGenerator::with_secret(3),
        ..DatapathConfig::dummy()
    };
    let dp = Datapath::new(config, Arc::new(VirtualClock::default()));
    let before = rss_bytes();
    for p in &puts {
        // Fresh actions per flow, as a handler's translation allocates them.
        let put = FlowPut {
            actions: vec![OdpAction::Output(2)].into(),
            ..p.clone()
        };
        dp.flow_put(put).expect("put");
    }
    let installed = rss_bytes();
    assert_eq!(dp.dp_stats().n_flows, u64::from(flows));
    // One forwarding context: its statistics buckets for every flow, and its exact-match cache.
    let pmd = dp.forwarding_thread(0).expect("pmd");
    let with_writer = rss_bytes();
    let per_flow = (installed - before) as f64 / f64::from(flows);
    let per_flow_per_thread = (with_writer - installed) as f64 / f64::from(flows);
    println!(
        "{{\"flows\":{flows},\"masks\":{MASKS},\"rss_bytes_per_flow\":{per_flow:.0},\
         \"rss_bytes_per_flow_per_forwarding_thread\":{per_flow_per_thread:.1},\
         \"megaflow_record_bytes\":{},\"flow_key_bytes\":{}}}",
        size_of::<rvs_dpif::datapath::Megaflow>(),
        size_of::<Flow>()
    );
    drop(pmd);
    drop(puts);
    assert!(per_flow > 0.0);
}
