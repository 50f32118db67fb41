//! Revalidation, flow-setup and ukey-memory benchmarks, printed as JSON lines (issue #6).
//!
//! `cargo bench -p rvs-upcall --bench revalidation`. Knobs (environment):
//! * `RVS_BENCH_SIZES=10000,160000` flow counts (default 10k, 160k, 200k, 1M);
//! * `RVS_BENCH_PARTS=mem,fake,datapath` which parts run (default all three, in this order);
//! * `RVS_BENCH_ROUNDS=5` rounds measured per (size, revalidators, phase); medians are printed
//!   next to every raw value;
//! * `RVS_BENCH_HANDLERS=1,2` handler threads for the flow-setup part;
//! * `RVS_BENCH_REVALIDATORS=1,2` and `RVS_BENCH_PHASES=steady,flow_mod` which rounds run;
//! * `RVS_BENCH_COLD_MIB=64` writes that many MiB of other memory before each measured round, so
//!   the round starts with cold caches as in the daemon, where rounds are hundreds of ms apart on
//!   a shared machine (default 0: warm rounds, back to back).
//!
//! Parts:
//! * `mem`: bytes per ukey (RSS growth while building N ukeys in a fresh `UkeyMaps`, plus
//!   `size_of::<Ukey>()` and `Ukey::heap_bytes`), measured first while the heap is fresh;
//! * `fake`: handler batches and revalidation rounds over the in-memory `FakeDpif`;
//! * `datapath`: the real userspace datapath (`rvs_dpif::datapath::Datapath`, dummy ports): N new
//!   5-tuples are forwarded by a forwarding context on the main thread, missed, upcalled and
//!   installed by 1 or 2 handler threads (flow-setup rate and handler CPU per upcall); then
//!   revalidation rounds, steady (no traffic: every flow KEEP, nothing translated) and after a
//!   flow-mod (`Udpif::revalidate`: every ukey re-translated), with 1 and 2 revalidators.
//!
//! The translator is the fake one (`FakeTranslator`, 2 rules: one outputs, the other never matches
//! but un-wildcards both IPv4 addresses so that every 5-tuple gets its own megaflow). It is cheaper
//! than OVS's `xlate_actions`, which a full revalidation round mostly consists of.
//!
//! CPU times come from `/proc` (`thread-self/schedstat` for threads, `self/stat` ticks for whole
//! rounds with spawned revalidators), wall times from `Instant`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rvs_dpif::clock::{Clock, VirtualClock};
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::Dpif;
use rvs_flow::flow::ETH_TYPE_IP;
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{DummyNetdev, PacketBatch};
use rvs_upcall::Udpif;
use rvs_upcall::config::UPCALL_MAX_BATCH;
use rvs_upcall::env::Env;
use rvs_upcall::testing::{FakeDpif, FakeRule, FakeTranslator};
use rvs_upcall::ukey::{Ukey, UkeyId, UkeyMaps, UkeyParams};

fn env_list(name: &str, default: &[&str]) -> Vec<String> {
    match std::env::var(name) {
        Ok(s) => s.split(',').map(|x| x.trim().to_string()).collect(),
        Err(_) => default.iter().map(|s| s.to_string()).collect(),
    }
}

fn env_numbers(name: &str, default: &[u32]) -> Vec<u32> {
    match std::env::var(name) {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => default.to_vec(),
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(0.0)
}

fn list(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:.1}")).collect();
    format!("[{}]", items.join(","))
}

/// Resident set size in bytes.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// CPU time of the calling thread (ns).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time of the whole process, exited threads included (ms, 10 ms resolution).
fn process_cpu_ms() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
    (ticks(11) + ticks(12)) * 10.0
}

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

fn unlimited(udpif: &Udpif) {
    let cfg = udpif.config();
    cfg.set_flow_limit_ceiling(4_000_000);
    cfg.set_min_revalidate_pps(0);
    udpif.set_flow_limit(4_000_000);
}

/// Steady and flow-mod rounds with 1 and 2 revalidators; one JSON line per series.
fn rounds(udpif: &Udpif, dpif: &str, n: u32, reps: usize) {
    udpif.run_round(1); // stamps every ukey with a dump_seq
    let revalidator_counts = env_numbers("RVS_BENCH_REVALIDATORS", &[1, 2]);
    let phases = env_list("RVS_BENCH_PHASES", &["steady", "flow_mod"]);
    let cold_mib = env_numbers("RVS_BENCH_COLD_MIB", &[0])
        .first()
        .copied()
        .unwrap_or(0);
    let mut evictor = vec![0u64; cold_mib as usize * 1024 * 1024 / 8];
    for revalidators in revalidator_counts.iter().map(|&r| r as usize) {
        for phase in phases.iter().map(String::as_str) {
            let mut wall = Vec::new();
            let mut cpu = Vec::new();
            for _ in 0..reps {
                if phase == "flow_mod" {
                    udpif.revalidate();
                }
                for (i, word) in evictor.iter_mut().enumerate() {
                    *word = word.wrapping_add(i as u64);
                }
                std::hint::black_box(&evictor);
                // One revalidator runs on this thread (exact thread CPU time); two are real
                // threads (process CPU time, in 10 ms ticks: the mean over rounds is printed).
                let (cpu0, pcpu0) = (thread_cpu_ns(), process_cpu_ms());
                let start = Instant::now();
                let stats = if revalidators == 1 {
                    udpif.run_round(1)
                } else {
                    udpif.run_round_parallel(revalidators)
                };
                wall.push(start.elapsed().as_secs_f64() * 1000.0);
                cpu.push(if revalidators == 1 {
                    (thread_cpu_ns() - cpu0) as f64 / 1e6
                } else {
                    process_cpu_ms() - pcpu0
                });
                assert_eq!(stats.dumped, n as usize);
                assert_eq!(udpif.ukeys().len(), n as usize, "no flow may be lost");
            }
            let ms = median(&wall);
            let cpu_ms = if revalidators == 1 {
                median(&cpu)
            } else {
                cpu.iter().sum::<f64>() / cpu.len() as f64
            };
            println!(
                "{{\"bench\":\"revalidation_round\",\"dpif\":\"{dpif}\",\"flows\":{n},\"revalidators\":{revalidators},\"phase\":\"{phase}\",\"cold_mib\":{cold_mib},\"ms\":{ms:.1},\"ms_min\":{:.1},\"cpu_ms\":{cpu_ms:.1},\"cpu_ns_per_flow\":{:.0},\"ms_raw\":{},\"cpu_ms_raw\":{}}}",
                wall.iter().copied().fold(f64::INFINITY, f64::min),
                cpu_ms * 1e6 / f64::from(n),
                list(&wall),
                list(&cpu),
            );
        }
    }
}

fn fake_part(n: u32, reps: usize) {
    let clock = Arc::new(VirtualClock::new(1_000_000));
    let dpif = Arc::new(FakeDpif::new(clock.clone()));
    let xlate = Arc::new(FakeTranslator::with_rules(rules()));
    let udpif = Udpif::new(dpif.clone(), xlate, clock);
    unlimited(&udpif);
    for i in 0..n {
        dpif.send(&flow(i), 64);
    }
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let mut buf = Vec::with_capacity(UPCALL_MAX_BATCH);
    while udpif.recv_upcalls(0, &mut buf) > 0 {}
    let secs = start.elapsed().as_secs_f64();
    let cpu_us = (thread_cpu_ns() - cpu0) as f64 / 1000.0 / f64::from(n);
    assert_eq!(udpif.ukeys().len(), n as usize);
    println!(
        "{{\"bench\":\"handler\",\"dpif\":\"fake\",\"upcalls\":{n},\"upcalls_per_s\":{:.0},\"cpu_us_per_upcall\":{cpu_us:.2},\"threads\":1}}",
        f64::from(n) / secs
    );
    rounds(&udpif, "fake", n, reps);
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

struct DpSetup {
    dp: Datapath,
    udpif: Arc<Udpif>,
    flows: u32,
}

/// Builds a datapath with `n` megaflows installed through `handlers` handler threads; prints the
/// flow-setup line.
fn datapath_setup(n: u32, handlers: usize) -> DpSetup {
    let clock = Arc::new(VirtualClock::new(1_000_000));
    // Queues far larger than what the sender lets be in flight (`in_flight`): no upcall is lost.
    let queue_len = 16384;
    let in_flight = 2048u64;
    let config = DatapathConfig {
        n_handlers: handlers,
        upcall_queue_len: queue_len,
        ..DatapathConfig::dummy()
    };
    let dp = Datapath::new(config, clock.clone());
    let p1 = Arc::new(DummyNetdev::new("p1"));
    let p2 = Arc::new(DummyNetdev::new("p2"));
    assert_eq!(dp.port_add(p1, "dummy", vec![], Some(1)), Ok(1));
    assert_eq!(dp.port_add(p2.clone(), "dummy", vec![], Some(2)), Ok(2));
    let xlate = Arc::new(FakeTranslator::with_rules(rules()));
    let udpif = Arc::new(Udpif::new(Arc::new(dp.clone()), xlate, clock.clone()));
    unlimited(&udpif);
    let mut pmd = dp.forwarding_thread(0).expect("forwarding context");
    let frames: Vec<Vec<u8>> = (0..n).map(frame).collect();

    let done = AtomicBool::new(false);
    let mut sent = 0u64;
    let start = Instant::now();
    let handler_cpu_ns: u64 = std::thread::scope(|s| {
        let threads: Vec<_> = (0..handlers)
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
        for chunk in frames.chunks(rvs_netdev::MAX_BURST) {
            // Keep what is queued well below the queues' capacity, so no upcall is lost.
            while sent - udpif.upcalls_handled() > in_flight {
                std::thread::yield_now();
            }
            for f in chunk {
                assert!(batch.push_copy(f));
            }
            pmd.process_batch(1, &mut batch, clock.now_ms());
            sent += chunk.len() as u64;
            drop(p2.take_sent());
        }
        let lost = || dp.dp_stats().n_lost;
        udpif.wait_upcalls_handled(sent - lost(), Duration::from_secs(60));
        done.store(true, Ordering::Release);
        threads.into_iter().map(|t| t.join().unwrap_or(0)).sum()
    });
    let secs = start.elapsed().as_secs_f64();
    drop(p2.take_sent());
    let stats = dp.dp_stats();
    // Should a queue still overflow, the flows of lost upcalls are missing: reported, and the
    // rounds then run over the flows that exist.
    let flows = u32::try_from(stats.n_flows).unwrap_or(u32::MAX);
    assert_eq!(udpif.ukeys().len(), flows as usize);
    let handled = udpif.upcalls_handled().max(1) as f64;
    println!(
        "{{\"bench\":\"flow_setup\",\"dpif\":\"datapath\",\"upcalls\":{n},\"handlers\":{handlers},\"upcalls_per_s\":{:.0},\"handler_cpu_us_per_upcall\":{:.2},\"lost\":{},\"flows\":{flows}}}",
        handled / secs,
        handler_cpu_ns as f64 / 1000.0 / handled,
        stats.n_lost
    );
    DpSetup { dp, udpif, flows }
}

fn datapath_part(n: u32, reps: usize, handler_counts: &[u32]) {
    let rss0 = rss_bytes();
    let mut kept = None;
    for &h in handler_counts {
        let s = datapath_setup(n, h.max(1) as usize);
        if kept.is_none() {
            let per_flow = rss_bytes().saturating_sub(rss0) as f64 / f64::from(n);
            println!(
                "{{\"bench\":\"memory\",\"dpif\":\"datapath\",\"flows\":{n},\"rss_bytes_per_flow\":{per_flow:.0},\"note\":\"datapath flow + ukey + maps\"}}"
            );
            kept = Some(s);
        }
    }
    if let Some(s) = kept {
        rounds(&s.udpif, "datapath", s.flows, reps);
        drop(s.dp);
    }
}

/// Bytes per ukey: RSS growth while building `n` ukeys (as a handler makes them) in fresh maps.
fn mem_part(n: u32) {
    let env = Env::new(Arc::new(VirtualClock::new(1)));
    let maps = UkeyMaps::default();
    let actions: rvs_dpif::dpif::Actions = Arc::from(vec![rvs_flow::odp::OdpAction::Output(2)]);
    let mut mask = Wildcards::default();
    mask.masks.in_port = u32::MAX;
    mask.masks.nw_src = u32::MAX;
    mask.masks.nw_dst = u32::MAX;
    let rss0 = rss_bytes();
    let mut counted = 0usize;
    for i in 0..n {
        let key = flow(i);
        let ukey = Arc::new(Ukey::new(
            UkeyParams {
                key,
                mask,
                id: UkeyId {
                    ufid: Ufid {
                        parts: [i, i.wrapping_mul(0x9e37_79b9), !i, 7],
                    },
                    pmd_id: 0,
                },
                ufid_present: true,
                actions: actions.clone(),
                reval_seq: 0,
                used: 0,
            },
            &env,
            "bench",
        ));
        counted += ukey.heap_bytes();
        assert!(maps.install(&ukey, &env).installed());
    }
    let per = rss_bytes().saturating_sub(rss0) as f64 / f64::from(n);
    println!(
        "{{\"bench\":\"ukey_memory\",\"ukeys\":{n},\"rss_bytes_per_ukey\":{per:.0},\"size_of_ukey\":{},\"counted_bytes_per_ukey\":{:.0}}}",
        size_of::<Ukey>(),
        counted as f64 / f64::from(n)
    );
    drop(maps);
}

fn main() {
    let sizes = env_numbers("RVS_BENCH_SIZES", &[10_000, 160_000, 200_000, 1_000_000]);
    let parts = env_list("RVS_BENCH_PARTS", &["mem", "fake", "datapath"]);
    let reps = env_numbers("RVS_BENCH_ROUNDS", &[5])
        .first()
        .copied()
        .unwrap_or(5)
        .max(1) as usize;
    let handler_counts = env_numbers("RVS_BENCH_HANDLERS", &[1, 2]);
    if parts.iter().any(|p| p == "mem")
        && let Some(&n) = sizes.iter().max()
    {
        mem_part(n);
    }
    for &n in &sizes {
        if parts.iter().any(|p| p == "fake") {
            fake_part(n, reps);
        }
        if parts.iter().any(|p| p == "datapath") {
            datapath_part(n, reps, &handler_counts);
        }
    }
}
