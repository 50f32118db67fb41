//! Flow setup cost over the real userspace datapath, queued (handler threads) vs inline (the
//! forwarding thread handles its own misses): CPU per upcall of the forwarding context and of the
//! handlers, and lost upcalls. Prints one JSON line per (mode, repetition) and a median line.
//!
//! `cargo run --release -p rvs-upcall --example flow_setup` (knobs: `RVS_SETUP_N` new flows,
//! default 50000; `RVS_SETUP_REPS`, default 5; `RVS_SETUP_MODES`, default `queued1,queued2,inline`).
//!
//! The forwarding context runs on the main thread and gets all N frames (60 bytes, one new UDP
//! 5-tuple each, one megaflow each) in bursts of 32 without pause; the queues hold more than N,
//! so the queued modes lose nothing and their forwarding CPU is pure forwarding + queueing. CPU
//! times are thread CPU clocks (`/proc/thread-self/schedstat`). The translator is the fake one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rvs_dpif::clock::{Clock, VirtualClock};
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::Dpif;
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{DummyNetdev, PacketBatch};
use rvs_upcall::Udpif;
use rvs_upcall::config::UPCALL_MAX_BATCH;
use rvs_upcall::testing::{FakeRule, FakeTranslator};

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// An Ethernet/IPv4/UDP frame of flow `i` (source 10.0.0.0 + i, destination 11.0.0.0 + i).
fn frame(i: u32) -> Vec<u8> {
    let src = (0x0a00_0000 | (i & 0x00ff_ffff)).to_be_bytes();
    let dst = (0x0b00_0000 | (i & 0x00ff_ffff)).to_be_bytes();
    let mut f = vec![0x50, 0x54, 0, 0, 0, 2, 0x50, 0x54, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&[0x03, 0xe8, 0, 80, 0, 26, 0, 0]);
    f.extend_from_slice(&[0u8; 18]);
    f
}

fn rules() -> Vec<FakeRule> {
    let mut any = Wildcards::default();
    any.masks.in_port = 0;
    let mut addrs = Wildcards::default();
    addrs.masks.nw_src = u32::MAX;
    addrs.masks.nw_dst = u32::MAX;
    let f = Flow::default();
    let mut never = FakeRule::output(2, 0, &f, addrs, 3);
    never.matcher.flow.nw_src = 1;
    never.matcher.flow.nw_dst = 1;
    vec![FakeRule::output(1, 10, &f, any, 2), never]
}

struct Run {
    fwd_ns: u64,
    handler_ns: u64,
    lost: u64,
    flows: u64,
    wall_s: f64,
}

fn run(n: u32, handlers: usize, inline: bool) -> Run {
    let clock = Arc::new(VirtualClock::new(1_000_000));
    let config = DatapathConfig {
        n_handlers: handlers.max(1),
        upcall_queue_len: n as usize + 1024,
        ..DatapathConfig::dummy()
    };
    let dp = Datapath::new(config, clock.clone());
    let p1 = Arc::new(DummyNetdev::new("p1"));
    let p2 = Arc::new(DummyNetdev::new("p2"));
    let _ = dp.port_add(p1, "dummy", vec![], Some(1));
    let _ = dp.port_add(p2.clone(), "dummy", vec![], Some(2));
    let xlate = Arc::new(FakeTranslator::with_rules(rules()));
    let udpif = Arc::new(Udpif::new(Arc::new(dp.clone()), xlate, clock.clone()));
    let cfg = udpif.config();
    cfg.set_flow_limit_ceiling(4_000_000);
    cfg.set_min_revalidate_pps(0);
    udpif.set_flow_limit(4_000_000);
    if inline {
        assert!(udpif.enable_inline_upcalls());
    }
    let Some(mut pmd) = dp.forwarding_thread(0) else {
        panic!("no forwarding context");
    };
    let frames: Vec<Vec<u8>> = (0..n).map(frame).collect();
    let done = AtomicBool::new(false);
    let start = Instant::now();
    let (fwd_ns, handler_ns) = std::thread::scope(|s| {
        let threads: Vec<_> = (0..if inline { 0 } else { handlers })
            .map(|id| {
                let (udpif, dp, done) = (&udpif, &dp, &done);
                s.spawn(move || {
                    let cpu0 = thread_cpu_ns();
                    let mut buf = Vec::with_capacity(UPCALL_MAX_BATCH);
                    loop {
                        if udpif.recv_upcalls(id, &mut buf) == 0 {
                            if done.load(Ordering::Acquire) {
                                break;
                            }
                            dp.recv_wait(id, Duration::from_millis(1));
                        }
                    }
                    thread_cpu_ns() - cpu0
                })
            })
            .collect();
        let mut batch = PacketBatch::new();
        let cpu0 = thread_cpu_ns();
        for chunk in frames.chunks(rvs_netdev::MAX_BURST) {
            for f in chunk {
                let _ = batch.push_copy(f);
            }
            pmd.process_batch(1, &mut batch, clock.now_ms());
            drop(p2.take_sent());
        }
        let fwd = thread_cpu_ns() - cpu0;
        let missed = dp.dp_stats().n_missed;
        udpif.wait_upcalls_handled(missed, Duration::from_secs(120));
        done.store(true, Ordering::Release);
        let handler: u64 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
        (fwd, handler)
    });
    let wall_s = start.elapsed().as_secs_f64();
    let stats = dp.dp_stats();
    Run {
        fwd_ns,
        handler_ns,
        lost: stats.n_lost,
        flows: stats.n_flows,
        wall_s,
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let n = u32::try_from(env_usize("RVS_SETUP_N", 50_000)).unwrap_or(50_000);
    let reps = env_usize("RVS_SETUP_REPS", 5).max(1);
    let modes =
        std::env::var("RVS_SETUP_MODES").unwrap_or_else(|_| "queued1,queued2,inline".into());
    for mode in modes.split(',') {
        let (handlers, inline) = match mode {
            "inline" => (0, true),
            "queued2" => (2, false),
            _ => (1, false),
        };
        let mut totals = Vec::new();
        for _ in 0..reps {
            let r = run(n, handlers, inline);
            let per = |ns: u64| ns as f64 / 1000.0 / f64::from(n);
            let total = per(r.fwd_ns + r.handler_ns);
            totals.push(total);
            println!(
                "{{\"bench\":\"flow_setup_modes\",\"mode\":\"{mode}\",\"upcalls\":{n},\"fwd_cpu_us_per_upcall\":{:.2},\"handler_cpu_us_per_upcall\":{:.2},\"total_cpu_us_per_upcall\":{total:.2},\"lost\":{},\"flows\":{},\"wall_s\":{:.3}}}",
                per(r.fwd_ns),
                per(r.handler_ns),
                r.lost,
                r.flows,
                r.wall_s
            );
        }
        let raw = totals
            .iter()
            .map(|t| format!("{t:.2}"))
            .collect::<Vec<_>>()
            .join(",");
        println!(
            "{{\"bench\":\"flow_setup_modes_median\",\"mode\":\"{mode}\",\"upcalls\":{n},\"total_cpu_us_per_upcall\":{:.2},\"raw\":[{raw}]}}",
            median(&mut totals)
        );
    }
}
