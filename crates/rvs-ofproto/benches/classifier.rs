//! Classifier lookups per second: 100k rules spread over 1, 10, 100 and 1000 distinct masks,
//! with and without wildcard tracking.
//!
//! Run: `cargo bench -p rvs-ofproto --bench classifier`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rvs_flow::flow::{ETH_TYPE_IP, ipproto};
use rvs_flow::{Flow, Match, Wildcards};
use rvs_ofproto::classifier::{Classifier, Rule, Version};
use std::hint::black_box;

const RULES: usize = 100_000;
const PACKETS: usize = 4096;
const V: Version = Version(1);

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn prefix(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

/// `n` distinct TCP/IPv4 masks: prefixes on nw_src and nw_dst, optionally in_port and tp_dst.
fn masks(n: usize) -> Vec<Wildcards> {
    let mut out = Vec::with_capacity(n);
    'all: for extra in 0..4u32 {
        for dst_len in (8..=32).rev() {
            for src_len in [
                0, 8, 16, 24, 32, 12, 20, 28, 4, 10, 14, 18, 22, 26, 30, 31, 29, 27, 25, 23, 21,
                19, 17, 15, 13, 11, 9, 7, 6, 5, 3, 2, 1,
            ] {
                if out.len() == n {
                    break 'all;
                }
                let mut wc = Wildcards::default();
                let m = &mut wc.masks;
                m.dl_type = u16::MAX;
                m.nw_proto = u8::MAX;
                m.nw_dst = prefix(dst_len);
                m.nw_src = prefix(src_len);
                if extra & 1 != 0 {
                    m.in_port = u32::MAX;
                }
                if extra & 2 != 0 {
                    m.tp_dst = u16::MAX;
                }
                out.push(wc);
            }
        }
    }
    out
}

fn random_packet(rng: &mut Rng) -> Flow {
    let r = rng.next();
    Flow {
        in_port: (r % 8) as u32 + 1,
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::TCP,
        nw_src: 0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff),
        nw_dst: 0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff),
        tp_src: (r >> 16) as u16,
        tp_dst: [80, 443, 22, 8080][(r >> 40) as usize % 4],
        ..Flow::default()
    }
}

/// A classifier with `RULES` rules over `n_masks` masks, and packets of which 3/4 hit a rule.
fn setup(n_masks: usize) -> (Classifier<u32>, Vec<Flow>) {
    let masks = masks(n_masks);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cls = Classifier::new();
    let mut keys = Vec::with_capacity(RULES);
    for i in 0..RULES {
        let wc = masks[i % masks.len()];
        let flow = random_packet(&mut rng);
        let priority = (rng.next() % 1000) as u32 + 1;
        let m = Match::new(&flow, &wc);
        cls.insert(Rule::new(m, priority, i as u32), V);
        keys.push(m);
    }
    let packets = (0..PACKETS)
        .map(|i| {
            let other = random_packet(&mut rng);
            if i % 4 == 3 {
                return other;
            }
            let m = keys[(rng.next() % RULES as u64) as usize];
            let mut p = other;
            for ((o, k), w) in p
                .words_mut()
                .iter_mut()
                .zip(m.flow.words())
                .zip(m.wc.masks.words())
            {
                *o = (*o & !w) | k;
            }
            p
        })
        .collect();
    (cls, packets)
}

fn bench_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("classifier_lookup");
    group.throughput(Throughput::Elements(PACKETS as u64));
    for n_masks in [1usize, 10, 100, 1000] {
        let (cls, packets) = setup(n_masks);
        assert_eq!(cls.subtable_count(), n_masks);
        group.bench_with_input(
            BenchmarkId::new("with_wildcards", n_masks),
            &packets,
            |b, pkts| {
                b.iter(|| {
                    let mut hits = 0u32;
                    for p in pkts {
                        let mut wc = Wildcards::default();
                        hits += u32::from(cls.lookup(black_box(p), V, &mut wc).is_some());
                        black_box(&wc);
                    }
                    hits
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("without_wildcards", n_masks),
            &packets,
            |b, pkts| {
                b.iter(|| {
                    pkts.iter()
                        .filter(|p| cls.lookup_without_wildcards(black_box(p), V).is_some())
                        .count()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_lookup);
criterion_main!(benches);
