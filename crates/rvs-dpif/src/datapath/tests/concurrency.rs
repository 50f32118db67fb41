//! Dumps and statistics under concurrency.

use std::collections::HashMap;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};

use rvs_flow::odp::OdpAction;
use rvs_flow::ufid::Ufid;

use super::*;
use crate::dpif::{DpifFlow, FlowDel, FlowGet, FlowRef};

/// The actions a test flow carries: derived from its key, so a dumped record can be checked whole.
fn actions_for(key: &Flow) -> Vec<OdpAction> {
    vec![
        OdpAction::Output(key.nw_dst & 0xffff),
        OdpAction::Trunc(key.nw_dst),
    ]
}

fn put_numbered(dp: &Datapath, n: u16) -> Flow {
    let key = key_of(&udp_frame(n, 0), 1);
    dp.flow_put(flow_put(
        PutFlags::CREATE,
        key,
        mask_dst(),
        actions_for(&key),
    ))
    .expect("put");
    key
}

fn check_record(f: &DpifFlow, ufids: &UfidGenerator) {
    let key = f.key.expect("full dump has keys");
    assert_eq!(f.ufid, ufids.ufid_of_flow(&key), "UFID belongs to the key");
    assert_eq!(
        f.actions.as_deref(),
        Some(&actions_for(&key)[..]),
        "actions belong to the key"
    );
    assert_eq!(f.mask.map(|m| m.masks.nw_dst), Some(u32::MAX));
}

#[test]
fn dump_sees_every_stable_flow_while_others_come_and_go() {
    let fx = fixture(1);
    let ufids = UfidGenerator::with_secret(0x5eed);
    let stable: Vec<Ufid> = (0..3000u16)
        .map(|n| ufids.ufid_of_flow(&put_numbered(&fx.dp, n)))
        .collect();
    let stop = AtomicBool::new(false);
    let churn_rounds = std::sync::atomic::AtomicU64::new(0);
    let churn_started = Barrier::new(2);
    std::thread::scope(|s| {
        // Churn: flows 10000.. added and deleted continuously (indices get reused).
        s.spawn(|| {
            churn_started.wait();
            let mut round = 0u16;
            while !stop.load(Ordering::Acquire) {
                let keys: Vec<Flow> = (0..200)
                    .map(|i| put_numbered(&fx.dp, 10_000 + (round % 8) * 200 + i))
                    .collect();
                for key in keys {
                    fx.dp
                        .flow_del(FlowDel {
                            flow: FlowRef::Key(Box::new(key)),
                            pmd_id: PMD_ID_NULL,
                        })
                        .expect("del");
                }
                round = round.wrapping_add(1);
                churn_rounds.fetch_add(1, Ordering::AcqRel);
            }
        });
        churn_started.wait();
        // At least 5 dumps, and until the churn has run 20 rounds meanwhile.
        let mut dumps = 0;
        while dumps < 5 || churn_rounds.load(Ordering::Acquire) < 20 {
            dumps += 1;
            let dump = fx.dp.flow_dump(false);
            let seen: Vec<Vec<DpifFlow>> = std::thread::scope(|d| {
                let workers: Vec<_> = (0..3)
                    .map(|_| {
                        d.spawn(|| {
                            let mut th = dump.thread();
                            let mut mine = Vec::new();
                            loop {
                                let before = mine.len();
                                let n = th.next(&mut mine, 64);
                                assert!(n <= super::super::MAX_FLOWS_PER_NEXT);
                                assert_eq!(mine.len() - before, n);
                                if n == 0 {
                                    break;
                                }
                            }
                            mine
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().expect("dump thread"))
                    .collect()
            });
            let mut count: HashMap<Ufid, usize> = HashMap::new();
            for f in seen.iter().flatten() {
                check_record(f, &ufids);
                *count.entry(f.ufid).or_default() += 1;
            }
            for u in &stable {
                assert_eq!(count.get(u), Some(&1), "stable flow {u} seen exactly once");
            }
        }
        stop.store(true, Ordering::Release);
    });
}

#[test]
fn terse_dump_has_only_ufid_stats_attrs() {
    let fx = fixture(1);
    put_numbered(&fx.dp, 1);
    let dump = fx.dp.flow_dump(true);
    let mut out = Vec::new();
    assert_eq!(dump.thread().next(&mut out, 10), 1);
    assert!(out[0].key.is_none() && out[0].mask.is_none() && out[0].actions.is_none());
    assert!(out[0].ufid_present);
    assert_eq!(out[0].attrs.dp_layer, "ovs");
}

#[test]
fn terse_and_full_batches_share_one_cursor() {
    let fx = fixture(1);
    // More than two slot chunks, with holes: every live flow is returned exactly once whichever
    // call returns it, and the full records carry the unpacked key exactly as installed.
    let keys: Vec<Flow> = (0..150u16).map(|n| put_numbered(&fx.dp, n)).collect();
    for key in keys.iter().step_by(7) {
        fx.dp
            .flow_del(FlowDel {
                flow: FlowRef::Key(Box::new(*key)),
                pmd_id: PMD_ID_NULL,
            })
            .expect("del");
    }
    let ufids = UfidGenerator::with_secret(0x5eed);
    let live: HashMap<Ufid, Flow> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 7 != 0)
        .map(|(_, k)| (ufids.ufid_of_flow(k), *k))
        .collect();
    let dump = fx.dp.flow_dump(false);
    let mut thread = dump.thread();
    let mut seen: HashMap<Ufid, usize> = HashMap::new();
    for round in 0.. {
        let n = if round % 2 == 0 {
            let mut out = Vec::new();
            let n = thread.next(&mut out, 13);
            for f in &out {
                check_record(f, &ufids);
                assert_eq!(f.key.as_ref(), live.get(&f.ufid), "key as installed");
                *seen.entry(f.ufid).or_default() += 1;
            }
            n
        } else {
            let mut out = Vec::new();
            let n = thread.next_terse(&mut out, 13);
            for f in &out {
                assert!(f.ufid_present);
                assert_eq!(f.attrs.dp_layer, "ovs");
                *seen.entry(f.ufid).or_default() += 1;
            }
            n
        };
        if n == 0 {
            break;
        }
        assert!(n <= 13);
    }
    assert_eq!(seen.len(), live.len());
    assert!(seen.values().all(|c| *c == 1), "each flow once");
    assert!(seen.keys().all(|u| live.contains_key(u)));
}

#[test]
fn statistics_are_exact_with_several_forwarding_threads() {
    let fx = fixture(2);
    let n_flows = 16u16;
    let keys: Vec<Flow> = (0..n_flows)
        .map(|n| {
            let key = key_of(&udp_frame(n, 10), 1);
            fx.dp
                .flow_put(flow_put(PutFlags::CREATE, key, mask_dst(), vec![]))
                .expect("put");
            key
        })
        .collect();
    let threads = 4;
    let batches = 400;
    let frames: Vec<Vec<u8>> = (0..n_flows)
        .map(|n| udp_frame(n, 10 + usize::from(n)))
        .collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        // A reader: statistics never go backwards.
        s.spawn(|| {
            let mut last = vec![0u64; keys.len()];
            while !stop.load(Ordering::Acquire) {
                for (i, key) in keys.iter().enumerate() {
                    let n = fx
                        .dp
                        .flow_get(FlowGet {
                            flow: FlowRef::Key(Box::new(*key)),
                            pmd_id: PMD_ID_NULL,
                        })
                        .expect("get")
                        .stats
                        .n_packets;
                    assert!(n >= last[i]);
                    last[i] = n;
                }
            }
        });
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (dp, frames) = (&fx.dp, &frames);
                s.spawn(move || {
                    let mut pmd = dp.forwarding_thread(t).expect("pmd");
                    for b in 0..batches {
                        // 32 packets per batch, flows interleaved, different per thread.
                        let picks: Vec<Vec<u8>> = (0..32)
                            .map(|i| frames[(i * 7 + b + t as usize) % frames.len()].clone())
                            .collect();
                        pmd.process_batch(1, &mut batch(&picks), 1000 + b as u64);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker");
        }
        stop.store(true, Ordering::Release);
    });
    // Expected counts, recomputed.
    let mut expected = vec![0u64; frames.len()];
    for t in 0..threads as usize {
        for b in 0..batches {
            for i in 0..32 {
                expected[(i * 7 + b + t) % frames.len()] += 1;
            }
        }
    }
    let mut total = 0;
    for (i, key) in keys.iter().enumerate() {
        let s = fx
            .dp
            .flow_get(FlowGet {
                flow: FlowRef::Key(Box::new(*key)),
                pmd_id: PMD_ID_NULL,
            })
            .expect("get")
            .stats;
        assert_eq!(s.n_packets, expected[i], "flow {i}");
        assert_eq!(
            s.n_bytes,
            expected[i] * frames[i].len() as u64,
            "flow {i} bytes"
        );
        total += s.n_packets;
    }
    assert_eq!(total, (threads as usize * batches * 32) as u64);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_missed), (total, 0));
}
