//! Masked hashing and comparison of flow keys: the inner loop of every megaflow lookup.
//!
//! Run: `cargo bench -p rvs-flow --bench flow`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rvs_flow::flow::{ETH_TYPE_IP, hash_masked, hash_masked_words};
use rvs_flow::{Flow, Match, Wildcards};
use std::hint::black_box;

fn sample_flows(n: usize) -> Vec<Flow> {
    (0..n)
        .map(|i| Flow {
            in_port: (i % 4) as u32 + 1,
            dl_type: ETH_TYPE_IP,
            nw_src: 0x0a00_0000 | i as u32,
            nw_dst: 0xc0a8_0000 | (i as u32 * 7),
            nw_proto: 6,
            tp_src: (i * 13) as u16,
            tp_dst: 80,
            ..Flow::default()
        })
        .collect()
}

fn five_tuple_mask() -> Wildcards {
    let mut wc = Wildcards::default();
    let m = &mut wc.masks;
    m.in_port = u32::MAX;
    m.dl_type = u16::MAX;
    m.nw_src = u32::MAX;
    m.nw_dst = u32::MAX;
    m.nw_proto = u8::MAX;
    m.tp_src = u16::MAX;
    m.tp_dst = u16::MAX;
    wc
}

fn bench_masked(c: &mut Criterion) {
    let flows = sample_flows(1024);
    let wc = five_tuple_mask();
    let map = wc.word_map();
    let rule = Match::new(&flows[3], &wc);
    let mut g = c.benchmark_group("masked");
    g.throughput(Throughput::Elements(flows.len() as u64));
    g.bench_function("hash_all_words", |b| {
        b.iter(|| {
            flows
                .iter()
                .fold(0u64, |acc, f| acc ^ hash_masked(black_box(f), &wc, 0))
        })
    });
    g.bench_function("hash_mapped_words", |b| {
        b.iter(|| {
            flows.iter().fold(0u64, |acc, f| {
                acc ^ hash_masked_words(black_box(f), &wc, map, 0)
            })
        })
    });
    g.bench_function("match_compare", |b| {
        b.iter(|| flows.iter().filter(|f| rule.matches(black_box(f))).count())
    });
    g.finish();
}

criterion_group!(benches, bench_masked);
criterion_main!(benches);
