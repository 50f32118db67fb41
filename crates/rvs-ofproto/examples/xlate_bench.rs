//! Translations per second for the workloads of `benches/xlate.rs`, printed as one JSON line
//! per case (`name`, `rules`, `ns_per_translation`, `translations_per_sec`) for scripts.
//!
//! Run: `cargo run --release -p rvs-ofproto --example xlate_bench [-- SECONDS [small] [TEXT]]`
//! (default 3 s of measurement per case after 1 s of warm-up; `small` skips the 100k-rule
//! ACL; `TEXT` times only the cases whose name contains it). The figure is the median over batches of one pass over the case's flows; every case
//! is checked against its model before it is timed.

#[path = "../benches/xlate_cases/mod.rs"]
mod xlate_cases;

use std::hint::black_box;
use std::time::{Duration, Instant};
use xlate_cases::worlds;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: f64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let big = !args.iter().any(|a| a == "small");
    let filter = args.iter().skip(1).find(|a| *a != "small");
    for world in worlds(big) {
        world.check();
        for case in &world.cases {
            if filter.is_some_and(|f| !case.name.contains(f.as_str())) {
                continue;
            }
            let warm_until = Instant::now() + Duration::from_secs(1);
            while Instant::now() < warm_until {
                black_box(world.run(case));
            }
            let mut batches = Vec::new();
            let end = Instant::now() + Duration::from_secs_f64(seconds);
            while Instant::now() < end || batches.len() < 5 {
                let t = Instant::now();
                black_box(world.run(black_box(case)));
                batches.push(t.elapsed().as_nanos() as f64 / case.inputs.len() as f64);
            }
            batches.sort_by(f64::total_cmp);
            let ns = batches[batches.len() / 2];
            println!(
                "{{\"name\":\"{}\",\"rules\":{},\"ns_per_translation\":{:.1},\"translations_per_sec\":{:.0}}}",
                case.name,
                case.rules,
                ns,
                1e9 / ns
            );
        }
    }
}
