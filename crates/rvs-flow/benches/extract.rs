//! Packet → flow extraction speed, in packets per second, for the common frame shapes.
//!
//! Run: `cargo bench -p rvs-flow --bench extract -- --warm-up-time 1 --measurement-time 3`.
//!
//! Each measurement extracts one pre-built frame per iteration (64–86 bytes on the wire, no
//! payload beyond what the builder pads to), so it measures the parser alone, with warm caches.
//! `tcp_ipv4/with_layout` also returns the header offsets the datapath uses for set-field actions;
//! `tcp_ipv4/into` fills a caller-owned flow instead of returning one (what a batch datapath does).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::{PacketBuilder, VlanId};
use rvs_flow::Flow;
use rvs_flow::extract::{
    ExtractOptions, PacketMetadata, extract, extract_into, extract_with_layout,
};
use std::hint::black_box;

const SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
const DST: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

/// Pads a frame to the 60-byte Ethernet minimum, as a NIC delivers it.
fn padded(mut frame: Vec<u8>) -> Vec<u8> {
    if frame.len() < 60 {
        frame.resize(60, 0);
    }
    frame
}

fn write<E: std::fmt::Debug>(build: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Vec<u8> {
    let mut frame = Vec::new();
    build(&mut frame).expect("bench frame builds");
    padded(frame)
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let payload = [0u8; 10];
    let tcp4 = write(|f| {
        PacketBuilder::ethernet2(SRC, DST)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40000, 80, 1, 65535)
            .syn()
            .write(f, &payload)
    });
    let udp4 = write(|f| {
        PacketBuilder::ethernet2(SRC, DST)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5353, 53)
            .write(f, &payload)
    });
    let tcp6 = write(|f| {
        PacketBuilder::ethernet2(SRC, DST)
            .ipv6([0x20; 16], [0x21; 16], 64)
            .tcp(40000, 443, 1, 65535)
            .ack(7)
            .write(f, &payload)
    });
    let vlan_tcp4 = write(|f| {
        PacketBuilder::ethernet2(SRC, DST)
            .single_vlan(VlanId::try_new(100).expect("valid VID"))
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40000, 80, 1, 65535)
            .write(f, &payload)
    });
    let arp = padded(
        [
            &DST[..],
            &SRC,
            &[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1],
            &SRC,
            &[10, 0, 0, 1],
            &[0; 6],
            &[10, 0, 0, 2],
        ]
        .concat(),
    );
    vec![
        ("tcp_ipv4", tcp4),
        ("udp_ipv4", udp4),
        ("arp", arp),
        ("tcp_ipv6", tcp6),
        ("vlan_tcp_ipv4", vlan_tcp4),
    ]
}

fn bench_extract(c: &mut Criterion) {
    let md = PacketMetadata::from_port(1);
    let frames = frames();
    for (name, frame) in &frames {
        let (flow, layout) = extract_with_layout(frame, &md);
        assert!(
            layout.status.is_complete() && flow.dl_type != 0,
            "{name} does not parse: {layout:?}"
        );
    }
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Elements(1));
    for (name, frame) in &frames {
        group.bench_function(*name, |b| {
            b.iter(|| extract(black_box(frame), black_box(&md)))
        });
    }
    if let Some((_, frame)) = frames.first() {
        group.bench_function("tcp_ipv4/with_layout", |b| {
            b.iter(|| extract_with_layout(black_box(frame), black_box(&md)))
        });
        let options = ExtractOptions::default();
        let mut flow = Flow::default();
        group.bench_function("tcp_ipv4/into", |b| {
            b.iter(|| {
                let layout = extract_into(black_box(frame), black_box(&md), &options, &mut flow);
                black_box(&flow);
                layout
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
