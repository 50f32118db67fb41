//! `tse_lookup`: the tuple-space-explosion scenario (CVE-2019-25076, `bench/compare/tse.py`) replayed
//! offline through one forwarding context, printing one JSON object per phase.
//!
//! ```text
//! tse_lookup [--phase-packets N] [--emc-insert-inv-prob P] [--reps R]
//! ```
//!
//! * Megaflows as the daemon installs them for the shared harness's `gen.py tse-rules` ACL: the
//!   legitimate megaflow `udp,tp_dst=80 → 2` and one drop megaflow per attack frame, whose mask
//!   un-wildcards a prefix of `tp_dst` (against 80/443), of `nw_src` (against 198.19.255.0/24) and of
//!   `tp_src` (against 53): 15 × 9 × 16 = 2160 distinct masks, as `gen.py tse-attack` builds them.
//! * Traffic: legitimate UDP frames to port 80 from 65,536 distinct (source, port) pairs, with one
//!   attack frame (cycled over the 2160) after every 150 legitimate ones (1000 : 150,000 pps). A
//!   virtual clock advances as a 150 kpps stream would, so time-driven work (re-ranking) happens at
//!   the rate it would in the daemon. An attack frame's megaflow is installed just before the frame
//!   first arrives (the handler's work is not measured here).
//! * Phases (as `tse.py`): `A` legit alone; `B` the attacker joins while legit runs (measured after all
//!   attack flows exist); `C` every flow is flushed, the attacker alone re-creates its flows, then
//!   legit restarts behind them (`C_first_second`: the first simulated second after the restart,
//!   `C`: after it).
//! * `cache_hit_pct`: packets found in the exact-match or signature-match cache.
//! * Cost: the thread's CPU time (`/proc/thread-self/schedstat`, ns) per packet over each window,
//!   attack frames included (they are 1/151 of the packets), and the wall time.
//!
//! # Invariants
//! * Every frame hits an installed megaflow (checked: the run fails if any packet misses).
//! * Deterministic traffic (fixed seeds); only the timings vary between runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use etherparse::PacketBuilder;
use rvs_dpif::clock::VirtualClock;
use rvs_dpif::datapath::{Datapath, DatapathConfig, ForwardingThread};
use rvs_dpif::dpif::{Dpif, FlowPut, PMD_ID_NULL, PutFlags};
use rvs_flow::extract::{ExtractOptions, PacketMetadata, extract_with_options};
use rvs_flow::odp::OdpAction;
use rvs_flow::ufid::UfidGenerator;
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{EthAddr, Netdev, NetdevKind, NetdevStats, Packet, PacketBatch};

/// A port that accepts and discards everything.
struct NullNetdev(String);

impl Netdev for NullNetdev {
    fn name(&self) -> &str {
        &self.0
    }
    fn kind(&self) -> NetdevKind {
        NetdevKind::Dummy
    }
    fn rx_batch(&self, _out: &mut PacketBatch) -> rvs_netdev::Result<usize> {
        Ok(0)
    }
    fn tx_batch(&self, frames: &[Packet]) -> rvs_netdev::Result<usize> {
        Ok(frames.len())
    }
    fn wait_readable(&self, _timeout: Duration) -> rvs_netdev::Result<bool> {
        Ok(false)
    }
    fn stats(&self) -> NetdevStats {
        NetdevStats::default()
    }
    fn link_up(&self) -> rvs_netdev::Result<bool> {
        Ok(true)
    }
    fn mtu(&self) -> rvs_netdev::Result<u32> {
        Ok(1500)
    }
    fn mac(&self) -> rvs_netdev::Result<EthAddr> {
        Ok([0; 6])
    }
}

const LEGIT_PPS: u64 = 150_000;
const ATTACK_EVERY: usize = 150;
const BATCH: usize = 32;
const ALLOW_SRC: u32 = 0xC613_FF00; // 198.19.255.0/24
const NET15: u32 = 0xC612_0000; // 198.18.0.0/15

/// A 60-byte UDP frame.
fn frame(src: u32, dst: u32, sport: u16, dport: u16) -> Result<Vec<u8>, String> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src.to_be_bytes(), dst.to_be_bytes(), 64)
        .udp(sport, dport)
        .write(&mut v, &[0u8; 18])
        .map_err(|e| format!("build frame: {e}"))?;
    Ok(v)
}

fn key_of(frame: &[u8]) -> Flow {
    extract_with_options(
        frame,
        &PacketMetadata::from_port(1),
        &ExtractOptions { vlan_limit: 1 },
    )
    .0
}

/// The megaflow mask of a UDP flow with the given prefix lengths (0 = wildcarded).
fn udp_mask(tp_dst_bits: u32, nw_src_bits: u32, tp_src_bits: u32) -> Wildcards {
    let p16 = |b: u32| if b == 0 { 0 } else { u16::MAX << (16 - b) };
    let p32 = |b: u32| if b == 0 { 0 } else { u32::MAX << (32 - b) };
    Wildcards {
        masks: Flow {
            recirc_id: u32::MAX,
            in_port: u32::MAX,
            dl_type: u16::MAX,
            nw_proto: u8::MAX,
            nw_frag: 3,
            tp_dst: p16(tp_dst_bits),
            nw_src: p32(nw_src_bits),
            tp_src: p16(tp_src_bits),
            ..Flow::default()
        },
    }
}

/// xorshift64 (deterministic traffic).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A value that agrees with `v` on its first `depth` bits (of `width`) and differs at the next one.
fn leave_at(v: u64, depth: u32, width: u32, rng: &mut Rng) -> u64 {
    let flip = 1u64 << (width - 1 - depth);
    let low = rng.next() & (flip - 1);
    ((v ^ flip) & !(flip - 1) & ((1u64 << width) - 1)) | low
}

/// The attack frames and their megaflow masks: one distinct mask each.
fn attack(rng: &mut Rng) -> Result<Vec<(Vec<u8>, Wildcards)>, String> {
    let mut out = Vec::new();
    // tp_dst: depths 0..15 against 80 (the depth against 443 is never larger for these values).
    for d_dst in 0..15u32 {
        for d_src in 15..24u32 {
            for d_sport in 0..16u32 {
                let dport = leave_at(80, d_dst, 16, rng) as u16;
                let src = leave_at(u64::from(ALLOW_SRC), d_src, 32, rng) as u32;
                let sport = leave_at(53, d_sport, 16, rng) as u16;
                let f = frame(src, 0xC613_0002, sport, dport)?;
                out.push((f, udp_mask(d_dst + 1, d_src + 1, d_sport + 1)));
            }
        }
    }
    // Shuffle (Fisher-Yates), as the harness does.
    for i in (1..out.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    Ok(out)
}

fn legit(rng: &mut Rng, n: usize) -> Result<Vec<Vec<u8>>, String> {
    (0..n)
        .map(|_| {
            let src = NET15 | (rng.next() as u32 & 0xFFFF);
            let sport = 1024 + (rng.next() % 64512) as u16;
            frame(src, 0xC613_0001, sport, 80)
        })
        .collect()
}

/// CPU time of the calling thread, in ns.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|t| t.parse().ok()))
        .unwrap_or(0)
}

struct Sim {
    dp: Datapath,
    clock: Arc<VirtualClock>,
    pmd: ForwardingThread,
    legit: Vec<Vec<u8>>,
    attack: Vec<(Vec<u8>, Wildcards)>,
    attack_installed: Vec<bool>,
    legit_mask: Wildcards,
    next_legit: usize,
    next_attack: usize,
    /// Simulated time in µs.
    now_us: u64,
    batch: PacketBatch,
}

impl Sim {
    fn put(&self, frame: &[u8], mask: Wildcards, actions: Vec<OdpAction>) -> Result<(), String> {
        self.dp
            .flow_put(FlowPut {
                owner: None,
                flags: PutFlags::CREATE,
                key: key_of(frame),
                mask,
                actions: actions.into(),
                ufid: None,
                pmd_id: PMD_ID_NULL,
            })
            .map(|_| ())
            .map_err(|e| format!("put: {e:?}"))
    }

    fn install_legit(&self) -> Result<(), String> {
        let f = self.legit.first().ok_or("no legit frame")?;
        self.put(f, self.legit_mask, vec![OdpAction::Output(2)])
    }

    /// Sends `n` packets: legit ones, plus an attack frame after every [`ATTACK_EVERY`] when
    /// `with_attack`; `with_legit = false` sends attack frames only (at their own rate).
    fn run(&mut self, n: usize, with_legit: bool, with_attack: bool) -> Result<(), String> {
        let mut sent = 0;
        while sent < n {
            for _ in 0..BATCH {
                let attack_now =
                    !with_legit || (with_attack && self.next_legit.is_multiple_of(ATTACK_EVERY));
                if attack_now && with_attack {
                    let i = self.next_attack % self.attack.len();
                    self.next_attack += 1;
                    if !self.attack_installed[i] {
                        let (f, m) = &self.attack[i];
                        self.put(f, *m, vec![])?;
                        self.attack_installed[i] = true;
                    }
                    self.batch.push_copy(&self.attack[i].0);
                }
                if with_legit {
                    let f = &self.legit[self.next_legit % self.legit.len()];
                    self.next_legit += 1;
                    self.batch.push_copy(f);
                }
                sent += 1;
            }
            // Legit at 150 kpps: a 32-packet batch every 213 µs; the attacker alone: 1000 pps.
            self.now_us += if with_legit {
                BATCH as u64 * 1_000_000 / LEGIT_PPS
            } else {
                BATCH as u64 * 1000
            };
            self.clock.set(self.now_us / 1000 + 1);
            self.pmd
                .process_batch(1, &mut self.batch, self.now_us / 1000 + 1);
        }
        Ok(())
    }

    /// Runs `n` packets and reports their cost.
    fn measure(&mut self, name: &str, n: usize, with_attack: bool) -> Result<String, String> {
        let s0 = self.dp.dp_stats();
        let (c0, w0) = (thread_cpu_ns(), Instant::now());
        self.run(n, true, with_attack)?;
        let (c1, w1) = (thread_cpu_ns(), w0.elapsed());
        let s1 = self.dp.dp_stats();
        let pkts = s1.n_hit - s0.n_hit;
        if s1.n_missed + s1.n_lost != s0.n_missed + s0.n_lost {
            return Err(format!("phase {name}: packets missed"));
        }
        let classified = (pkts - (s1.n_cache_hit - s0.n_cache_hit)).max(1);
        Ok(format!(
            "{{\"phase\": \"{name}\", \"packets\": {pkts}, \"masks\": {}, \"cpu_ns_per_pkt\": {:.1}, \
             \"wall_ns_per_pkt\": {:.1}, \"cache_hit_pct\": {:.1}, \"subtables_per_classified\": {:.2}}}",
            s1.n_masks,
            (c1 - c0) as f64 / pkts as f64,
            w1.as_nanos() as f64 / pkts as f64,
            100.0 * (s1.n_cache_hit - s0.n_cache_hit) as f64 / pkts as f64,
            (s1.n_mask_hit - s0.n_mask_hit) as f64 / classified as f64,
        ))
    }
}

fn one_rep(phase_packets: usize, emc_inv_prob: u32, rep: usize) -> Result<Vec<String>, String> {
    let clock = Arc::new(VirtualClock::new(1));
    let config = DatapathConfig {
        emc_insert_inv_prob: emc_inv_prob,
        ufid_generator: UfidGenerator::with_secret(1),
        n_handlers: 1,
        ..DatapathConfig::dummy()
    };
    let dp = Datapath::new(config, clock.clone());
    for no in [1u32, 2] {
        dp.port_add(
            Arc::new(NullNetdev(format!("null{no}"))),
            "dummy",
            vec![],
            Some(no),
        )
        .map_err(|e| format!("port {no}: {e:?}"))?;
    }
    let pmd = dp.forwarding_thread(0).ok_or("forwarding thread")?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let attack = attack(&mut rng)?;
    let legit = legit(&mut rng, 65_536)?;
    let mut sim = Sim {
        dp,
        clock,
        pmd,
        attack_installed: vec![false; attack.len()],
        attack,
        legit,
        legit_mask: udp_mask(16, 0, 0),
        next_legit: 0,
        next_attack: 0,
        now_us: 1000,
        batch: PacketBatch::new(),
    };
    let n_attack = sim.attack.len();
    let one_second = LEGIT_PPS as usize;
    let mut out = Vec::new();
    let tag = |s: String| {
        format!(
            "{{\"rep\": {rep}, \"emc_insert_inv_prob\": {emc_inv_prob}, {}",
            &s[1..]
        )
    };
    // A: legit alone (one second of warm-up).
    sim.install_legit()?;
    sim.run(one_second, true, false)?;
    out.push(tag(sim.measure("A", phase_packets, false)?));
    // B: the attacker joins; measured once every attack flow exists.
    sim.run(n_attack * ATTACK_EVERY + one_second, true, true)?;
    out.push(tag(sim.measure("B", phase_packets, true)?));
    // C: flush; the attacker alone re-creates its flows; legit restarts behind them.
    sim.dp.flow_flush();
    sim.attack_installed.iter_mut().for_each(|b| *b = false);
    sim.run(n_attack + 100, false, true)?;
    sim.install_legit()?;
    out.push(tag(sim.measure("C_first_second", one_second, true)?));
    out.push(tag(sim.measure("C", phase_packets, true)?));
    Ok(out)
}

fn run() -> Result<(), String> {
    let mut phase_packets = 750_000usize;
    let mut emc_inv_prob = rvs_dpif::emc::DEFAULT_INSERT_INV_PROB;
    let mut reps = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: u64 = value.parse().map_err(|e| format!("{flag} {value}: {e}"))?;
        match flag.as_str() {
            "--phase-packets" => phase_packets = n as usize,
            "--emc-insert-inv-prob" => emc_inv_prob = n as u32,
            "--reps" => reps = n as usize,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    for rep in 0..reps {
        for line in one_rep(phase_packets, emc_inv_prob, rep)? {
            println!("{line}");
        }
    }
    Ok(())
}

fn main() {
    if let Err(message) = run() {
        eprintln!("tse_lookup: {message}");
        std::process::exit(2);
    }
}
