//! Per-thread flow statistics: the writer's `add` (one call per flow per packet batch) and the
//! reader's `read` as the number of writer threads grows.
//!
//! Run: `cargo bench -p rvs-dpif --bench stats`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rvs_dpif::stats::{FlowStatsTable, StatsId};
use std::hint::black_box;

/// A batch as the datapath reports it: 32 packets of 64 bytes, ACK set.
const BATCH: (u64, u64, u16) = (32, 32 * 64, 0x010);

fn bench_add(c: &mut Criterion) {
    let mut g = c.benchmark_group("stats_add");
    g.throughput(Throughput::Elements(1));
    for n_flows in [1usize, 1024, 65536] {
        let table = FlowStatsTable::new();
        let ids: Vec<StatsId> = (0..n_flows)
            .map(|_| table.allocate().expect("id"))
            .collect();
        let mut writer = table.register_writer().expect("writer");
        let mut next = 0usize;
        let mut now = 1u64;
        g.bench_function(BenchmarkId::new("flows", n_flows), |b| {
            b.iter(|| {
                let id = ids[next];
                next = if next + 1 == ids.len() { 0 } else { next + 1 };
                now += 1;
                black_box(writer.add(black_box(id), BATCH.0, BATCH.1, now, BATCH.2))
            })
        });
    }
    g.finish();
}

fn bench_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("stats_read");
    g.throughput(Throughput::Elements(1));
    for n_writers in [1usize, 2, 4] {
        let table = FlowStatsTable::new();
        let id = table.allocate().expect("id");
        let mut writers: Vec<_> = (0..n_writers)
            .map(|_| table.register_writer().expect("writer"))
            .collect();
        for (n, w) in writers.iter_mut().enumerate() {
            w.add(id, BATCH.0, BATCH.1, n as u64 + 1, BATCH.2);
        }
        g.bench_function(BenchmarkId::new("writers", n_writers), |b| {
            b.iter(|| black_box(table.read(black_box(id))))
        });
    }
    g.finish();
}

fn bench_clear(c: &mut Criterion) {
    let table = FlowStatsTable::new();
    let id = table.allocate().expect("id");
    let mut writers: Vec<_> = (0..4)
        .map(|_| table.register_writer().expect("writer"))
        .collect();
    c.bench_function("stats_clear/writers/4", |b| {
        b.iter(|| {
            writers[0].add(id, BATCH.0, BATCH.1, 1, BATCH.2);
            black_box(table.clear(black_box(id)))
        })
    });
}

criterion_group!(benches, bench_add, bench_read, bench_clear);
criterion_main!(benches);
