//! Revalidation and handler benchmarks over the fake datapath, printed as JSON lines.
//!
//! `cargo bench -p rvs-upcall --bench revalidation` (sizes: `RVS_BENCH_SIZES=10000,160000`).
//! For each size: a steady round (no traffic: every flow KEEP without translation) and a round
//! after a reval_seq change (every flow fully re-translated), with 1 and 2 revalidator threads;
//! plus handler upcalls per second (one thread, batches of 64).

use std::sync::Arc;
use std::time::Instant;

use rvs_dpif::clock::VirtualClock;
use rvs_flow::flow::ETH_TYPE_IP;
use rvs_flow::{Flow, Wildcards};
use rvs_upcall::Udpif;
use rvs_upcall::config::UPCALL_MAX_BATCH;
use rvs_upcall::testing::{FakeDpif, FakeRule, FakeTranslator};

fn flow(i: u32) -> Flow {
    Flow {
        in_port: 1 + (i & 3),
        packet_type: rvs_flow::flow::PT_ETH,
        dl_type: ETH_TYPE_IP,
        nw_src: i,
        nw_dst: !i,
        nw_proto: 17,
        tp_src: 1000,
        tp_dst: 80,
        ..Flow::default()
    }
}

fn rules() -> Vec<FakeRule> {
    let mut any = Wildcards::default();
    any.masks.in_port = 0;
    let mut addrs = Wildcards::default();
    addrs.masks.nw_src = u32::MAX;
    addrs.masks.nw_dst = u32::MAX;
    let f = Flow::default();
    // The catch-all outputs; the never-matching rule's mask makes one megaflow per address pair.
    let mut never = FakeRule::output(2, 0, &f, addrs, 3);
    never.matcher.flow.nw_src = 1;
    never.matcher.flow.nw_dst = 1;
    vec![FakeRule::output(1, 10, &f, any, 2), never]
}

struct Setup {
    dpif: Arc<FakeDpif>,
    udpif: Arc<Udpif>,
}

fn setup(n: u32) -> (Setup, f64) {
    let clock = Arc::new(VirtualClock::new(1_000_000));
    let dpif = Arc::new(FakeDpif::new(clock.clone()));
    let xlate = Arc::new(FakeTranslator::with_rules(rules()));
    let udpif = Arc::new(Udpif::new(dpif.clone(), xlate, clock));
    let cfg = udpif.config();
    cfg.set_flow_limit_ceiling(4_000_000);
    cfg.set_min_revalidate_pps(0);
    udpif.set_flow_limit(4_000_000);
    for i in 0..n {
        dpif.send(&flow(i), 64);
    }
    let start = Instant::now();
    let mut buf = Vec::with_capacity(UPCALL_MAX_BATCH);
    while udpif.recv_upcalls(0, &mut buf) > 0 {}
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(udpif.ukeys().len(), n as usize);
    (Setup { dpif, udpif }, f64::from(n) / secs)
}

fn main() {
    let sizes: Vec<u32> = std::env::var("RVS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 160_000, 200_000, 1_000_000]);
    for n in sizes {
        let (s, upcalls_per_s) = setup(n);
        println!(
            "{{\"bench\":\"handler\",\"upcalls\":{n},\"upcalls_per_s\":{upcalls_per_s:.0},\"threads\":1}}"
        );
        s.udpif.run_round(1); // first dump: builds nothing (no packets), stamps dump_seq
        for revalidators in [1usize, 2] {
            for phase in ["steady", "reval_seq_change"] {
                if phase == "reval_seq_change" {
                    s.udpif.revalidate();
                }
                let start = Instant::now();
                let stats = s.udpif.run_round_parallel(revalidators);
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                assert_eq!(stats.dumped, n as usize);
                assert_eq!(s.udpif.ukeys().len(), n as usize, "no flow may be lost");
                println!(
                    "{{\"bench\":\"revalidation_round\",\"ukeys\":{n},\"revalidators\":{revalidators},\"phase\":\"{phase}\",\"ms\":{ms:.1}}}"
                );
            }
        }
        drop(s.dpif);
    }
}
