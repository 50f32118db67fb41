//! `delete_bench`: the cost of flow deletes while forwarding contexts hit the flows, and the cost
//! of forwarding meanwhile; prints one JSON line.
//!
//! ```text
//! delete_bench [--flows N] [--threads T] [--batch B] [--seconds S]
//! ```
//!
//! `N` flows (default 1024, one per IPv4 destination) are installed on port 1 with no actions; `T`
//! threads (default 1) each drive a forwarding context with batches of 32 packets over all flows;
//! the main thread deletes `B` flows per `operate` (default 64) and installs them again, for `S`
//! seconds (default 3). CPU times come from `/proc/thread-self/schedstat`.
//!
//! # Invariants
//! * Σ packets returned by the deletes (the last one deleting every flow after the contexts
//!   stopped) == packets classified; the program exits with status 1 if not.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rvs_dpif::clock::VirtualClock;
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::{Dpif, DpifOp, FlowDel, FlowPut, FlowRef, PMD_ID_NULL, PutFlags};
use rvs_flow::extract::{ExtractOptions, PacketMetadata, extract_with_options};
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{DummyNetdev, PacketBatch};

/// CPU time of the calling thread, in ns.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn frame(dst: u16) -> Vec<u8> {
    let mut f = vec![0x50, 0x54, 0, 0, 0, 2, 0x50, 0x54, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0]);
    let [hi, lo] = dst.to_be_bytes();
    f.extend_from_slice(&[10, 0, 0, 1, 10, 1, hi, lo]);
    f.extend_from_slice(&[0x03, 0xe8, 0, 80, 0, 26, 0, 0]);
    f.extend_from_slice(&[0u8; 18]);
    f
}

fn key(dst: u16) -> Flow {
    extract_with_options(
        &frame(dst),
        &PacketMetadata::from_port(1),
        &ExtractOptions { vlan_limit: 1 },
    )
    .0
}

fn put(dp: &Datapath, dst: u16) {
    let mut mask = Wildcards::default();
    mask.masks.recirc_id = u32::MAX;
    mask.masks.in_port = u32::MAX;
    mask.masks.dl_type = u16::MAX;
    mask.masks.nw_dst = u32::MAX;
    mask.masks.nw_frag = 3;
    let result = dp.flow_put(FlowPut {
        owner: None,
        flags: PutFlags::CREATE,
        key: key(dst),
        mask,
        actions: Vec::new().into(),
        ufid: None,
        pmd_id: PMD_ID_NULL,
    });
    if let Err(e) = result {
        eprintln!("put failed: {e}");
        std::process::exit(2);
    }
}

fn delete(dp: &Datapath, dsts: &[u16]) -> u64 {
    let ops = dsts
        .iter()
        .map(|&d| {
            DpifOp::Del(FlowDel {
                flow: FlowRef::Key(Box::new(key(d))),
                pmd_id: PMD_ID_NULL,
            })
        })
        .collect();
    dp.operate(ops).iter().map(|r| r.stats.n_packets).sum()
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_flows = arg(&args, "--flows", 1024).clamp(1, 65_535) as u16;
    let n_threads = arg(&args, "--threads", 1) as usize;
    let batch_len = arg(&args, "--batch", 64).clamp(1, u64::from(n_flows)) as u16;
    let seconds = arg(&args, "--seconds", 3);
    let dp = Datapath::new(DatapathConfig::dummy(), Arc::new(VirtualClock::new(1000)));
    if dp
        .port_add(
            Arc::new(DummyNetdev::new("p1")),
            "dummy",
            Vec::new(),
            Some(1),
        )
        .is_err()
    {
        std::process::exit(2);
    }
    for d in 0..n_flows {
        put(&dp, d);
    }
    let frames: Vec<Vec<u8>> = (0..n_flows).map(frame).collect();
    let stop = AtomicBool::new(false);
    let fwd_cpu_ns = AtomicU64::new(0);
    let fwd_packets = AtomicU64::new(0);
    let mut deleted_packets = 0u64;
    let mut deletes = 0u64;
    let mut delete_cpu_ns = 0u64;
    let mut delete_wall = Duration::ZERO;
    std::thread::scope(|s| {
        for t in 0..n_threads {
            let Some(mut ctx) = dp.forwarding_thread(t as u32) else {
                std::process::exit(2);
            };
            let (frames, stop, fwd_cpu_ns, fwd_packets) =
                (&frames, &stop, &fwd_cpu_ns, &fwd_packets);
            s.spawn(move || {
                let cpu0 = thread_cpu_ns();
                let mut batch = PacketBatch::new();
                let mut next = t;
                let mut sent = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..32 {
                        batch.push_copy(&frames[next % frames.len()]);
                        next += 7;
                    }
                    ctx.process_batch(1, &mut batch, 1000);
                    sent += 32;
                }
                fwd_cpu_ns.fetch_add(thread_cpu_ns() - cpu0, Ordering::Relaxed);
                fwd_packets.fetch_add(sent, Ordering::Relaxed);
            });
        }
        let started = Instant::now();
        let mut first = 0u16;
        while started.elapsed() < Duration::from_secs(seconds) {
            let dsts: Vec<u16> = (0..batch_len).map(|i| (first + i) % n_flows).collect();
            let cpu0 = thread_cpu_ns();
            let wall0 = Instant::now();
            deleted_packets += delete(&dp, &dsts);
            delete_wall += wall0.elapsed();
            delete_cpu_ns += thread_cpu_ns() - cpu0;
            deletes += dsts.len() as u64;
            for &d in &dsts {
                put(&dp, d);
            }
            first = (first + batch_len) % n_flows;
        }
        stop.store(true, Ordering::Relaxed);
    });
    let all: Vec<u16> = (0..n_flows).collect();
    deleted_packets += delete(&dp, &all);
    let hits = dp
        .coverage()
        .iter()
        .find(|(n, _)| *n == "datapath_hit")
        .map_or(0, |(_, v)| *v);
    let packets = fwd_packets.load(Ordering::Relaxed);
    println!(
        "{{\"flows\":{n_flows},\"threads\":{n_threads},\"delete_batch\":{batch_len},\"deletes\":{deletes},\"delete_cpu_ns_per_flow\":{:.0},\"delete_wall_ns_per_flow\":{:.0},\"fwd_packets\":{packets},\"fwd_cpu_ns_per_packet\":{:.2},\"hits\":{hits},\"lost_hits\":{}}}",
        delete_cpu_ns as f64 / deletes.max(1) as f64,
        delete_wall.as_nanos() as f64 / deletes.max(1) as f64,
        fwd_cpu_ns.load(Ordering::Relaxed) as f64 / packets.max(1) as f64,
        hits as i64 - deleted_packets as i64,
    );
    if hits != deleted_packets {
        std::process::exit(1);
    }
}
