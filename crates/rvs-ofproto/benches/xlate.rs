//! Translations per second (`Translator::translate`) for a NORMAL bridge with a warm MAC table
//! (1k and 10k MACs; known and unknown destinations; learning off as in revalidation and on as
//! in an upcall) and for a 5-table pipeline (classification → ACL → L3 rewrite → L2 → output)
//! with 1000 and 100k ACL rules. The workloads and their sanity checks are in `xlate_cases`.
//!
//! Run: `cargo bench -p rvs-ofproto --bench xlate -- --warm-up-time 1 --measurement-time 3`.
//! Set `XLATE_BENCH_SMALL=1` to skip the 100k-rule ACL (its setup takes a while).
//! One-JSON-line-per-case numbers: `cargo run --release -p rvs-ofproto --example xlate_bench`.

#[path = "xlate_cases/mod.rs"]
mod xlate_cases;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use xlate_cases::{PACKETS, worlds};

fn bench_xlate(c: &mut Criterion) {
    let big = std::env::var_os("XLATE_BENCH_SMALL").is_none();
    let mut group = c.benchmark_group("xlate");
    group.throughput(Throughput::Elements(PACKETS as u64));
    for world in worlds(big) {
        world.check();
        for case in &world.cases {
            group.bench_with_input(
                BenchmarkId::new(case.name.as_str(), case.rules),
                case,
                |b, case| b.iter(|| black_box(world.run(black_box(case)))),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench_xlate);
criterion_main!(benches);
