//! The userspace datapath's packet path and flow installs.
//!
//! * `lookup/<masks>/<emc>`: `ForwardingThread::process_batch` on batches of 32 64-byte UDP frames
//!   spread over 1000 installed megaflows in 1, 10, 20 or 100 subtables (masks), exact-match cache
//!   on (OVS's default 1/100 insertion, warmed up) or off. Actions: one output to a port that
//!   discards. Throughput is packets per second on one core.
//! * `insert`: megaflow installs (`flow_put` with a UFID), 10 masks.
//!
//! Run: `cargo bench -p rvs-dpif --bench datapath`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use etherparse::PacketBuilder;
use rvs_dpif::clock::VirtualClock;
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::{Dpif, FlowPut, PMD_ID_NULL, PutFlags};
use rvs_flow::extract::{ExtractOptions, PacketMetadata, extract_with_options};
use rvs_flow::odp::OdpAction;
use rvs_flow::ufid::UfidGenerator;
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{EthAddr, Netdev, NetdevKind, NetdevStats, Packet, PacketBatch};

/// A port that accepts and discards everything.
struct NullNetdev;

impl Netdev for NullNetdev {
    fn name(&self) -> &str {
        "null"
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

const FLOWS: usize = 1000;

/// Frame `n` of subtable `mask`: UDP to port `mask`, `n` in the top 16 bits of the destination.
fn frame(mask: u16, n: u32) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2([0x50, 0x54, 0, 0, 0, 1], [0x50, 0x54, 0, 0, 0, 2])
        .ipv4(
            (0x0a00_0000 | n).to_be_bytes(),
            ((n << 16) | 0x0101).to_be_bytes(),
            64,
        )
        .udp(1000, mask)
        .write(&mut v, &[0u8; 18])
        .expect("build");
    v
}

/// Mask `i` of `n_masks`: the 5-tuple fields with prefix lengths that differ per mask; `tp_dst` is
/// exact in all of them, so a packet to UDP port `i` can only match subtable `i`.
fn mask(i: usize) -> Wildcards {
    let dst_bits = 16 + (i % 17) as u32;
    let src_bits = 6 * (i / 17) as u32;
    let prefix = |bits: u32| {
        if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        }
    };
    Wildcards {
        masks: Flow {
            recirc_id: u32::MAX,
            in_port: u32::MAX,
            dl_type: u16::MAX,
            nw_proto: u8::MAX,
            nw_frag: 3,
            nw_dst: prefix(dst_bits),
            nw_src: prefix(src_bits),
            tp_dst: u16::MAX,
            ..Flow::default()
        },
    }
}

fn key_of(frame: &[u8]) -> Flow {
    extract_with_options(
        frame,
        &PacketMetadata::from_port(1),
        &ExtractOptions { vlan_limit: 1 },
    )
    .0
}

/// A datapath with `FLOWS` megaflows over `n_masks` masks, and the frames that hit them.
fn setup(n_masks: usize, emc_inv_prob: u32) -> (Datapath, Vec<Vec<u8>>) {
    let config = DatapathConfig {
        emc_insert_inv_prob: emc_inv_prob,
        ufid_generator: UfidGenerator::with_secret(1),
        ..DatapathConfig::dummy()
    };
    let dp = Datapath::new(config, Arc::new(VirtualClock::default()));
    let out = dp
        .port_add(Arc::new(NullNetdev), "dummy", vec![], None)
        .expect("port");
    let mut frames = Vec::new();
    for f in 0..FLOWS {
        let m = f % n_masks;
        let fr = frame(m as u16, f as u32);
        let put = FlowPut {
            owner: None,
            flags: PutFlags::CREATE,
            key: key_of(&fr),
            mask: mask(m),
            actions: vec![OdpAction::Output(out)].into(),
            ufid: None,
            pmd_id: PMD_ID_NULL,
        };
        if let Err(e) = dp.flow_put(put) {
            panic!("put of flow {f} (mask {m} of {n_masks}): {e:?}");
        }
        frames.push(fr);
    }
    (dp, frames)
}

/// A warmed-up forwarding context and the frames it is fed.
struct Lookup {
    dp: Datapath,
    pmd: rvs_dpif::datapath::ForwardingThread,
    frames: Vec<Vec<u8>>,
    batch: PacketBatch,
    next: usize,
    now: u64,
}

impl Lookup {
    fn new(n_masks: usize, emc_inv_prob: u32) -> Lookup {
        let (dp, frames) = setup(n_masks, emc_inv_prob);
        let pmd = dp.forwarding_thread(0).expect("pmd");
        let mut st = Lookup {
            dp,
            pmd,
            frames,
            batch: PacketBatch::new(),
            next: 0,
            now: 1,
        };
        // Warm the exact-match cache, then rank the subtables.
        for _ in 0..20_000 {
            st.batch();
        }
        st.dp.rerank();
        st
    }

    /// One batch of 32 frames (flows visited with stride 7).
    fn batch(&mut self) {
        for _ in 0..32 {
            self.batch.push_copy(&self.frames[self.next]);
            self.next = (self.next + 7) % self.frames.len();
        }
        self.now += 1;
        self.pmd
            .process_batch(1, black_box(&mut self.batch), self.now);
    }
}

fn bench_lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(32));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n_masks in [1usize, 10, 20, 100] {
        for (emc, inv_prob) in [("emc", 100u32), ("no-emc", 0)] {
            // Built on first use, so that a filtered run sets up only what it measures.
            let mut state: Option<Lookup> = None;
            g.bench_function(BenchmarkId::new(format!("{n_masks}-masks"), emc), |b| {
                let st = state.get_or_insert_with(|| Lookup::new(n_masks, inv_prob));
                b.iter(|| st.batch());
            });
            if let Some(st) = state {
                let s = st.dp.dp_stats();
                assert_eq!(s.n_missed + s.n_lost, 0, "every packet hits");
                eprintln!(
                    "{n_masks} masks, {emc}: exact-match cache hits {:.1}%, subtables searched per classifier hit {:.2}",
                    100.0 * s.n_cache_hit as f64 / s.n_hit as f64,
                    s.n_mask_hit as f64 / (s.n_hit - s.n_cache_hit).max(1) as f64
                );
            }
        }
    }
    g.finish();
}

fn bench_insert(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert");
    const N: usize = 10_000;
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let puts: Vec<FlowPut> = (0..N)
        .map(|f| {
            let m = f % 10;
            let fr = frame(m as u16, f as u32);
            FlowPut {
                owner: None,
                flags: PutFlags::CREATE,
                key: key_of(&fr),
                mask: mask(m),
                actions: vec![OdpAction::Output(1)].into(),
                ufid: Some(UfidGenerator::with_secret(1).ufid_of_flow(&key_of(&fr))),
                pmd_id: PMD_ID_NULL,
            }
        })
        .collect();
    g.bench_function("10k-flows-10-masks", |b| {
        b.iter_batched(
            || {
                (
                    Datapath::new(DatapathConfig::dummy(), Arc::new(VirtualClock::default())),
                    puts.clone(),
                )
            },
            |(dp, puts)| {
                for p in puts {
                    dp.flow_put(p).expect("put");
                }
                dp
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_lookup, bench_insert);
criterion_main!(benches);
