//! The packet path: misses and upcalls, statistics, exact-match cache invalidation, queue overflow,
//! runts and garbage, recirculation, userspace actions, handlers.

use std::time::Duration;

use proptest::prelude::*;
use rvs_flow::odp::{KeyAttrKind, OdpAction, Userdata, UserspaceAction};

use super::*;
use crate::dpif::{FlowGet, FlowRef, FlowStats, NON_PMD_CORE_ID, Upcall, UpcallKind};

fn recv_all(dp: &Datapath, handler: usize) -> Vec<Upcall> {
    let mut out = Vec::new();
    while dp.recv(handler, &mut out, 64) > 0 {}
    out
}

fn stats_of(dp: &Datapath, key: &Flow) -> FlowStats {
    dp.flow_get(FlowGet {
        flow: FlowRef::Key(Box::new(*key)),
        pmd_id: PMD_ID_NULL,
    })
    .expect("flow")
    .stats
}

#[test]
fn a_miss_is_queued_and_the_missing_packet_not_counted() {
    let fx = fixture(2);
    let frame = udp_frame(5, 10);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1000);
    let ups = recv_all(&fx.dp, 0);
    assert_eq!(ups.len(), 1);
    let key = key_of(&frame, 1);
    assert_eq!(ups[0].kind, UpcallKind::Miss);
    assert_eq!(ups[0].packet, frame);
    assert_eq!(ups[0].flow, key);
    assert_eq!(
        ups[0].ufid,
        UfidGenerator::with_secret(0x5eed).ufid_of_flow(&key)
    );
    assert_eq!(ups[0].pmd_id, NON_PMD_CORE_ID);
    // The handler installs the flow (and executes the first packet itself).
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    assert_eq!(stats_of(&fx.dp, &key), FlowStats::default());
    pmd.process_batch(1, &mut batch(&[frame.clone(), frame.clone()]), 2000);
    assert_eq!(fx.sent(2).len(), 2);
    let s = stats_of(&fx.dp, &key);
    assert_eq!(
        (s.n_packets, s.n_bytes, s.used),
        (2, 2 * frame.len() as u64, 2000)
    );
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_missed, d.n_lost), (2, 1, 0));
}

#[test]
fn every_missing_packet_of_a_batch_is_queued_to_one_handler() {
    let fx = fixture(1);
    fx.dp.handlers_set(4);
    let frames: Vec<Vec<u8>> = (0..8).map(|i| udp_frame(i % 2, 10)).collect();
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&frames), 1000);
    let per_handler: Vec<Vec<Upcall>> = (0..4).map(|h| recv_all(&fx.dp, h)).collect();
    assert_eq!(per_handler.iter().map(Vec::len).sum::<usize>(), 8);
    for dst in 0..2u16 {
        let key = key_of(&udp_frame(dst, 10), 1);
        let holders: Vec<usize> = (0..4)
            .filter(|&h| per_handler[h].iter().any(|u| u.flow == key))
            .collect();
        assert_eq!(holders.len(), 1, "one flow's misses go to one handler");
        assert_eq!(
            per_handler[holders[0]]
                .iter()
                .filter(|u| u.flow == key)
                .count(),
            4
        );
    }
}

#[test]
fn tcp_flags_are_ored_per_flow() {
    let fx = fixture(2);
    let mk = |syn: bool| {
        let mut v = Vec::new();
        let b = PacketBuilder::ethernet2([0; 6], [1; 6])
            .ipv4([1, 1, 1, 1], [2, 2, 2, 2], 64)
            .tcp(1, 2, 0, 100);
        let b = if syn { b.syn() } else { b.fin() };
        b.write(&mut v, b"").expect("build");
        v
    };
    let (syn, fin) = (mk(true), mk(false));
    install(&fx.dp, &syn, 1, vec![]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&[syn.clone(), fin]), 1000);
    assert_eq!(stats_of(&fx.dp, &key_of(&syn, 1)).tcp_flags, 0x003);
}

#[test]
fn emc_never_serves_a_deleted_or_modified_flow() {
    let fx = fixture(3);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1000);
    assert_eq!(pmd.emc_occupied(), 1, "inserted (probability 1)");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1001);
    assert_eq!(fx.dp.dp_stats().n_cache_hit, 1);
    assert_eq!(fx.sent(2).len(), 2);

    // Modify: the cached entry now runs the new actions.
    let key = key_of(&frame, 1);
    fx.dp
        .flow_put(flow_put(
            PutFlags::MODIFY,
            key,
            mask_dst(),
            vec![OdpAction::Output(3)],
        ))
        .expect("modify");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1002);
    assert_eq!((fx.sent(2).len(), fx.sent(3).len()), (0, 1));
    assert_eq!(fx.dp.dp_stats().n_cache_hit, 2);

    // Delete: the cached entry is dead; the packet misses.
    fx.dp
        .flow_del(crate::dpif::FlowDel {
            flow: FlowRef::Key(Box::new(key)),
            pmd_id: PMD_ID_NULL,
        })
        .expect("del");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1003);
    assert!(fx.sent(3).is_empty() && fx.sent(2).is_empty());
    assert_eq!(recv_all(&fx.dp, 0).len(), 1);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_cache_hit, d.n_missed), (2, 1));

    // Re-installed with other actions under the same key: the new record is used.
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1004);
    assert_eq!(fx.sent(2).len(), 1);
}

#[test]
fn emc_off_still_forwards() {
    let fx = fixture_with(
        2,
        DatapathConfig {
            emc_insert_inv_prob: 0,
            ..config()
        },
    );
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&[frame.clone(), frame.clone()]), 1000);
    assert_eq!(fx.sent(2).len(), 2);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_cache_hit, d.n_mask_hit), (2, 0, 2));
    assert_eq!(pmd.emc_occupied(), 0);
    // Turned on at run time. As in OVS, classified packets enter the cache after their batch:
    // the second batch hits it.
    fx.dp.set_emc_insert_inv_prob(1);
    pmd.process_batch(1, &mut batch(&[frame.clone(), frame.clone()]), 1001);
    assert_eq!(fx.dp.dp_stats().n_cache_hit, 0);
    pmd.process_batch(1, &mut batch(&[frame.clone(), frame.clone()]), 1002);
    assert_eq!(fx.dp.dp_stats().n_cache_hit, 2);
}

#[test]
fn a_full_upcall_queue_counts_lost() {
    let fx = fixture_with(
        1,
        DatapathConfig {
            upcall_queue_len: 4,
            ..config()
        },
    );
    let frames: Vec<Vec<u8>> = (0..10).map(|i| udp_frame(i, 0)).collect();
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&frames), 1000);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_missed, d.n_lost), (4, 6));
    assert_eq!(recv_all(&fx.dp, 0).len(), 4);
    assert!(
        fx.dp
            .coverage()
            .contains(&("datapath_drop_upcall_error", 6))
    );
    // No handler at all: every miss is lost.
    fx.dp.handlers_set(0);
    pmd.process_batch(1, &mut batch(&frames[..2]), 1001);
    assert_eq!(fx.dp.dp_stats().n_lost, 8);
}

#[test]
fn runts_are_dropped_and_counted() {
    let fx = fixture(1);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    let frames = vec![vec![], vec![1; 13], udp_frame(1, 0)];
    let mut b = batch(&frames);
    pmd.process_batch(1, &mut b, 1000);
    assert!(b.is_empty());
    assert!(
        fx.dp
            .coverage()
            .contains(&("datapath_drop_rx_invalid_packet", 2))
    );
    assert_eq!(fx.dp.dp_stats().n_missed, 1);
}

#[test]
fn recirculation_goes_through_the_classifier_again() {
    let fx = fixture(2);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![set_ttl(9), OdpAction::Recirc(7)]);
    let mut second = key_of(&frame, 1);
    second.recirc_id = 7;
    fx.dp
        .flow_put(flow_put(
            PutFlags::CREATE,
            second,
            mask_dst(),
            vec![OdpAction::Output(2)],
        ))
        .expect("put");
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1000);
    let sent = fx.sent(2);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0][22], 9, "the rewrite before recirculation is kept");
    assert_eq!(stats_of(&fx.dp, &second).n_packets, 1);
    // A loop is cut after MAX_RECIRC_DEPTH recirculations.
    fx.dp
        .flow_put(flow_put(
            PutFlags::MODIFY,
            second,
            mask_dst(),
            vec![OdpAction::Recirc(7)],
        ))
        .expect("modify");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1001);
    assert!(
        fx.dp
            .coverage()
            .contains(&("datapath_drop_recirc_error", 1))
    );
    assert_eq!(
        stats_of(&fx.dp, &second).n_packets,
        1 + u64::from(crate::datapath::MAX_RECIRC_DEPTH)
    );
}

/// A masked set of the IPv4 TTL (an unmasked `set(ipv4(..))` would write the addresses too).
fn set_ttl(ttl: u8) -> OdpAction {
    let v = Flow {
        nw_ttl: ttl,
        ..Flow::default()
    };
    let m = Flow {
        nw_ttl: u8::MAX,
        ..Flow::default()
    };
    OdpAction::Set {
        kind: KeyAttrKind::Ipv4,
        value: Box::new(v),
        mask: Some(Box::new(Wildcards { masks: m })),
    }
}

#[test]
fn userspace_action_queues_an_action_upcall() {
    let fx = fixture(2);
    let frame = udp_frame(5, 10);
    let user = OdpAction::Userspace(UserspaceAction {
        pid: 0,
        userdata: Some(Userdata::Raw(vec![1, 2, 3, 4, 5, 6, 7, 8])),
        actions: false,
        tunnel_out_port: None,
    });
    install(
        &fx.dp,
        &frame,
        1,
        vec![set_ttl(3), user, OdpAction::Output(2)],
    );
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1000);
    let ups = recv_all(&fx.dp, 0);
    assert_eq!(ups.len(), 1);
    assert_eq!(
        ups[0].kind,
        UpcallKind::Action {
            userdata: vec![1, 2, 3, 4, 5, 6, 7, 8]
        }
    );
    assert_eq!(
        ups[0].flow.nw_ttl, 3,
        "the upcall carries the rewritten packet"
    );
    assert_eq!(fx.sent(2).len(), 1);
}

#[test]
fn output_to_a_missing_port_is_counted() {
    let fx = fixture(1);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(42)]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&[frame]), 1000);
    assert!(
        fx.dp
            .coverage()
            .contains(&("datapath_drop_invalid_port", 1))
    );
}

#[test]
fn handlers_resize_keeps_queued_upcalls_and_wait_wakes() {
    let fx = fixture(1);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    let frames: Vec<Vec<u8>> = (0..6).map(|i| udp_frame(i, 0)).collect();
    pmd.process_batch(1, &mut batch(&frames), 1000);
    fx.dp.handlers_set(3);
    assert_eq!(fx.dp.n_handlers(), 3);
    let total: usize = (0..3).map(|h| recv_all(&fx.dp, h).len()).sum();
    assert_eq!(total, 6);

    // recv_wait returns early when an upcall arrives, and the upcall is then received.
    let dp = fx.dp.clone();
    let waiter = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let mut got = Vec::new();
        while got.is_empty() && start.elapsed() < Duration::from_secs(10) {
            for h in 0..3 {
                dp.recv_wait(h, Duration::from_millis(5));
                dp.recv(h, &mut got, 10);
            }
        }
        got.len()
    });
    std::thread::sleep(Duration::from_millis(20));
    pmd.process_batch(1, &mut batch(&frames[..1]), 1001);
    assert_eq!(waiter.join().expect("waiter"), 1);
}

#[test]
fn spawned_threads_forward_between_dummy_ports() {
    let fx = fixture(2);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let threads = fx.dp.spawn_forwarding_threads(2).expect("spawn");
    for _ in 0..20 {
        assert!(fx.ports[0].inject(&frame));
    }
    let mut sent = 0;
    for _ in 0..2000 {
        sent += fx.sent(2).len();
        if sent == 20 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    threads.stop();
    assert_eq!(sent, 20);
    assert_eq!(stats_of(&fx.dp, &key_of(&frame, 1)).n_packets, 20);
}

proptest! {
    /// Garbage frames, runts and truncated headers through flows that rewrite every header: no
    /// panic, and every packet is accounted for (sent, queued, lost or dropped as a runt).
    #[test]
    fn garbage_never_panics(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..120), 1..32),
        tails in prop::collection::vec(0usize..80, 1..32),
    ) {
        let fx = fixture(2);
        // Catch-all flows on port 1 for untagged frames of any type, with rewrites of every kind.
        let mask = Wildcards { masks: Flow { in_port: u32::MAX, ..Flow::default() } };
        let key = Flow { in_port: 1, ..Flow::default() };
        let value = Flow { nw_src: 1, tp_src: 2, ipv6_src: [3; 16], nd_target: [4; 16], mpls_lse: 0x5000, ..Flow::default() };
        let sets = [KeyAttrKind::Ipv4, KeyAttrKind::Ipv6, KeyAttrKind::Tcp, KeyAttrKind::Udp, KeyAttrKind::Sctp, KeyAttrKind::Icmp, KeyAttrKind::Icmpv6, KeyAttrKind::Arp, KeyAttrKind::Nd, KeyAttrKind::Mpls, KeyAttrKind::Eth];
        let mut acts: Vec<OdpAction> = sets.iter().map(|k| OdpAction::Set { kind: *k, value: Box::new(value), mask: None }).collect();
        acts.push(OdpAction::PopVlan);
        acts.push(OdpAction::PushMpls { lse: 0x100, ethertype: 0x8847 });
        acts.push(OdpAction::Output(2));
        fx.dp.flow_put(flow_put(PutFlags::CREATE, key, mask, acts)).expect("catch-all");
        let real = [udp_frame(1, 20), neighbor(), tcp_frame()];
        let mut all = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let mut frame = real[i % real.len()].clone();
            frame.truncate(*tails.get(i).unwrap_or(&0) + 10);
            frame.extend_from_slice(f);
            all.push(frame);
        }
        let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
        pmd.process_batch(1, &mut batch(&all), 1000);
        let runts = all.iter().filter(|f| f.len() < 14).count() as u64;
        let d = fx.dp.dp_stats();
        prop_assert_eq!(d.n_hit + d.n_missed + d.n_lost + runts, all.len() as u64);
        prop_assert_eq!(fx.sent(2).len() as u64, d.n_hit);
    }
}

fn neighbor() -> Vec<u8> {
    let mut v = Vec::new();
    let mut body = vec![0u8; 16];
    body.extend_from_slice(&[1, 1, 1, 2, 3, 4, 5, 6]);
    PacketBuilder::ethernet2([0; 6], [1; 6])
        .ipv6([1; 16], [2; 16], 255)
        .icmpv6_raw(135, 0, [0; 4])
        .write(&mut v, &body)
        .expect("build");
    v
}

fn tcp_frame() -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2([0; 6], [1; 6])
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2], 64)
        .tcp(1, 2, 0, 100)
        .write(&mut v, b"abcdefgh")
        .expect("build");
    v
}

#[test]
fn idle_sweeps_stop_once_the_caches_are_clean_and_resume_after_a_delete() {
    let fx = fixture(3);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let other = udp_frame(6, 10);
    install(&fx.dp, &other, 1, vec![OdpAction::Output(2)]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&[frame.clone(), other.clone()]), 1000);
    assert_eq!(pmd.emc_occupied(), 2);
    // Enough idle calls for a whole pass over both caches, then none visits anything.
    let sweep_until_clean = |pmd: &mut crate::datapath::ForwardingThread| {
        let mut calls = 0;
        loop {
            let before = pmd.idle_sweeps();
            pmd.idle(1000);
            if pmd.idle_sweeps() == before {
                return calls;
            }
            calls += 1;
            assert!(calls < 1000, "the sweeps never end");
        }
    };
    let pass = sweep_until_clean(&mut pmd);
    // (The signature cache is still unallocated: these flows were found in the first subtable.)
    let emc_pass = crate::emc::EMC_ENTRIES / super::super::forwarding::IDLE_EMC_SWEEP;
    assert_eq!(pass, emc_pass, "one pass over the exact-match cache");
    assert_eq!(pmd.emc_occupied(), 2, "both flows live");
    for _ in 0..10 {
        pmd.idle(1000);
    }
    assert_eq!(sweep_until_clean(&mut pmd), 0);

    // A delete: the next pass drops its entry, then the sweeps stop again.
    fx.dp
        .flow_del(crate::dpif::FlowDel {
            flow: FlowRef::Key(Box::new(key_of(&frame, 1))),
            pmd_id: PMD_ID_NULL,
        })
        .expect("del");
    assert!(sweep_until_clean(&mut pmd) > 0);
    assert_eq!(pmd.emc_occupied(), 1, "the deleted flow's entry is gone");

    // Packets processed: entries may have been inserted behind the sweep, so a pass runs again.
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&other)), 1001);
    assert!(sweep_until_clean(&mut pmd) > 0);
    assert_eq!(pmd.emc_occupied(), 1);
}
