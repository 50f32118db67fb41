//! Stress test of deletes under hits: forwarding contexts classify packets to a set of flows while
//! another thread deletes them in `operate` batches and installs them again, over and over.
//!
//! The check is exact: Σ n_packets returned by every delete (the last one after the contexts
//! stopped) == packets classified to a flow (`datapath_hit`), and the same for bytes. A hit added
//! to a flow after its delete read the final statistics (the race the grace periods close) breaks it.
#![cfg(not(loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use etherparse::PacketBuilder;
use rvs_dpif::clock::VirtualClock;
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::{Dpif, DpifOp, FlowDel, FlowPut, FlowRef, PMD_ID_NULL, PutFlags};
use rvs_flow::extract::{ExtractOptions, PacketMetadata, extract_with_options};
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{DummyNetdev, PacketBatch};

/// Flows hit by every context.
const FLOWS: u16 = 16;
/// Forwarding contexts (threads).
const CONTEXTS: usize = 2;
/// Batches each context processes.
const BATCHES: usize = if cfg!(debug_assertions) {
    3_000
} else {
    30_000
};
/// Flows per delete batch.
const DELETE_BATCH: u16 = 4;

fn frame(dst: u16) -> Vec<u8> {
    let mut v = Vec::new();
    let [hi, lo] = dst.to_be_bytes();
    PacketBuilder::ethernet2([0x50, 0x54, 0, 0, 0, 1], [0x50, 0x54, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, hi, lo], 64)
        .udp(1000, 2000)
        .write(&mut v, &[0xab; 30])
        .expect("build");
    v
}

fn key(dst: u16) -> Flow {
    extract_with_options(
        &frame(dst),
        &PacketMetadata::from_port(1),
        &ExtractOptions { vlan_limit: 1 },
    )
    .0
}

fn mask() -> Wildcards {
    Wildcards {
        masks: Flow {
            recirc_id: u32::MAX,
            in_port: u32::MAX,
            dl_type: u16::MAX,
            nw_dst: u32::MAX,
            nw_frag: 3,
            ..Flow::default()
        },
    }
}

fn put(dp: &Datapath, dst: u16) {
    dp.flow_put(FlowPut {
        owner: None,
        flags: PutFlags::CREATE,
        key: key(dst),
        mask: mask(),
        actions: Vec::new().into(),
        ufid: None,
        pmd_id: PMD_ID_NULL,
    })
    .expect("put");
}

/// Deletes the flows `dsts` in one `operate`; returns the packets and bytes they reported.
fn delete(dp: &Datapath, dsts: impl Iterator<Item = u16>) -> (u64, u64) {
    let ops = dsts
        .map(|d| {
            DpifOp::Del(FlowDel {
                flow: FlowRef::Key(Box::new(key(d))),
                pmd_id: PMD_ID_NULL,
            })
        })
        .collect();
    dp.operate(ops).iter().fold((0, 0), |(p, b), r| {
        assert!(r.error.is_none(), "delete failed: {:?}", r.error);
        (p + r.stats.n_packets, b + r.stats.n_bytes)
    })
}

fn coverage(dp: &Datapath, name: &str) -> u64 {
    dp.coverage()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .expect("counter")
}

#[test]
fn deletes_under_hits_account_for_every_packet() {
    let config = DatapathConfig {
        emc_insert_inv_prob: 1,
        ..DatapathConfig::dummy()
    };
    let dp = Datapath::new(config, Arc::new(VirtualClock::new(1000)));
    dp.port_add(
        Arc::new(DummyNetdev::new("p1")),
        "dummy",
        Vec::new(),
        Some(1),
    )
    .expect("port");
    for dst in 0..FLOWS {
        put(&dp, dst);
    }
    let frames: Vec<Vec<u8>> = (0..FLOWS).map(frame).collect();
    let frame_len = frames[0].len() as u64;
    let stop = AtomicBool::new(false);
    let deleted_packets = AtomicU64::new(0);
    let deleted_bytes = AtomicU64::new(0);
    let delete_rounds = AtomicU64::new(0);
    std::thread::scope(|s| {
        let contexts: Vec<_> = (0..CONTEXTS)
            .map(|c| {
                let mut ctx = dp.forwarding_thread(c as u32).expect("context");
                let frames = &frames;
                s.spawn(move || {
                    for n in 0..BATCHES {
                        let mut batch = PacketBatch::new();
                        for i in 0..32 {
                            assert!(batch.push_copy(&frames[(n * 7 + i + c) % frames.len()]));
                        }
                        ctx.process_batch(1, &mut batch, 1000 + n as u64);
                    }
                })
            })
            .collect();
        s.spawn(|| {
            let mut round = 0u16;
            while !stop.load(Ordering::Acquire) {
                let first = (round * DELETE_BATCH) % FLOWS;
                let (p, b) = delete(&dp, first..first + DELETE_BATCH);
                deleted_packets.fetch_add(p, Ordering::Relaxed);
                deleted_bytes.fetch_add(b, Ordering::Relaxed);
                for dst in first..first + DELETE_BATCH {
                    put(&dp, dst);
                }
                round = round.wrapping_add(1);
                delete_rounds.fetch_add(1, Ordering::Relaxed);
            }
        });
        for c in contexts {
            c.join().expect("context");
        }
        stop.store(true, Ordering::Release);
    });
    let (p, b) = delete(&dp, 0..FLOWS);
    let packets = deleted_packets.load(Ordering::Relaxed) + p;
    let bytes = deleted_bytes.load(Ordering::Relaxed) + b;
    let hits = coverage(&dp, "datapath_hit");
    let timeouts = coverage(&dp, "datapath_grace_period_timeout");
    let rounds = delete_rounds.load(Ordering::Relaxed);
    assert!(rounds > 10, "the deleter ran ({rounds} rounds)");
    assert!(
        hits > 0
            && coverage(&dp, "datapath_miss") + coverage(&dp, "datapath_drop_upcall_error") > 0,
        "packets hit and missed"
    );
    assert_eq!(
        packets, hits,
        "Σ packets returned by deletes == packets classified ({rounds} delete rounds, {timeouts} grace timeouts)"
    );
    assert_eq!(bytes, hits * frame_len);
    assert_eq!(timeouts, 0);
}
