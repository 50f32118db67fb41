#![no_main]
//! Fuzzes packet → flow extraction (`rvs_flow::extract`).
//!
//! Run (stable toolchain; cargo-fuzz needs nightly flags, RUSTC_BOOTSTRAP=1 unlocks them):
//!     cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run extract -- -max_total_time=60
//! or, like CI, `tools/fuzz-smoke.sh 60 extract`.
//!
//! Input: the first byte picks the VLAN limit (bits 0–1) and the packet type (bits 2–3:
//! Ethernet, IPv4, IPv6, MPLS); the rest is the frame.
//!
//! Invariants checked besides "never panics": extraction is deterministic; `extract` equals
//! `extract_with_layout`'s flow, and `extract_into` over a dirty flow gives the same result;
//! every layout offset lies within the frame and they never decrease (MPLS ≤ L3 ≤ L4 ≤
//! payload); a payload offset implies an L4 offset; a runt is exactly an Ethernet frame under 14
//! bytes and then the flow holds only metadata; padding fields stay zero; a complete IP frame
//! has an L4 offset.

use libfuzzer_sys::fuzz_target;
use rvs_flow::extract::{
    ExtractOptions, PacketMetadata, extract, extract_into, extract_with_layout,
    extract_with_options,
};
use rvs_flow::flow::{ETH_TYPE_IP, ETH_TYPE_IPV6, PT_ETH};
use rvs_flow::{FLOW_WORDS, Flow};

const PACKET_TYPES: [u32; 4] = [PT_ETH, 0x0001_0800, 0x0001_86dd, 0x0001_8847];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let options = ExtractOptions {
        vlan_limit: usize::from(selector & 3),
    };
    let packet_type = PACKET_TYPES[usize::from((selector >> 2) & 3)];
    let md = PacketMetadata {
        in_port: 7,
        recirc_id: u32::from(selector),
        packet_type,
        ..PacketMetadata::default()
    };

    let (flow, layout) = extract_with_options(frame, &md, &options);
    assert_eq!(
        extract_with_options(frame, &md, &options),
        (flow, layout),
        "not deterministic"
    );
    let mut reused = Flow::from_words([u64::MAX; FLOW_WORDS]);
    assert_eq!(extract_into(frame, &md, &options, &mut reused), layout);
    assert_eq!(reused, flow, "extract_into left stale fields");
    if options == ExtractOptions::default() {
        assert_eq!(extract_with_layout(frame, &md), (flow, layout));
        assert_eq!(extract(frame, &md), flow);
    }

    let mut last = 0usize;
    for offset in [
        layout.mpls_offset,
        layout.l3_offset,
        layout.l4_offset,
        layout.payload_offset,
    ]
    .into_iter()
    .flatten()
    {
        let offset = usize::from(offset);
        assert!(
            offset <= frame.len(),
            "offset {offset} beyond {} bytes: {layout:?}",
            frame.len()
        );
        assert!(offset >= last, "offsets decrease: {layout:?}");
        last = offset;
    }
    assert!(usize::from(layout.l2_pad_len) <= frame.len());
    assert!(layout.payload_offset.is_none() || layout.l4_offset.is_some());

    let runt = packet_type == PT_ETH && frame.len() < 14;
    assert_eq!(layout.status.is_runt(), runt);
    if runt {
        let mut md_only = Flow::default();
        md.write_to(&mut md_only);
        assert_eq!(flow, md_only);
    }
    assert_eq!(
        (flow.pad0, flow.pad1, flow.pad2, flow.pad3, flow.pad4),
        (0, 0, 0, 0, 0)
    );
    if layout.status.is_complete() && (flow.dl_type == ETH_TYPE_IP || flow.dl_type == ETH_TYPE_IPV6)
    {
        assert!(
            layout.l4_offset.is_some(),
            "complete IP frame without L4 offset: {layout:?}"
        );
    }
});
