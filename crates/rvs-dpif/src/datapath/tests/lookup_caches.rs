//! The lookup caches in front of the classifier: the signature-match cache (hits equal the
//! classifier's answer, deleted or replaced flows never hit) and re-ranking that puts a busy
//! subtable created after many others first within milliseconds.

use rvs_flow::odp::OdpAction;

use super::*;
use crate::dpif::{FlowDel, FlowRef};

/// A UDP frame 10.0.0.1:`sport` → 10.0.`dst_hi`.`dst_lo`:2000.
fn frame_from(sport: u16, dst: [u8; 2]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2([0x50, 0x54, 0, 0, 0, 1], [0x50, 0x54, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, dst[0], dst[1]], 64)
        .udp(sport, 2000)
        .write(&mut v, &[0u8; 18])
        .expect("build");
    v
}

/// An exact-match cache that (practically) never inserts, so hits come from the signature cache.
fn smc_config() -> DatapathConfig {
    DatapathConfig {
        emc_insert_inv_prob: u32::MAX,
        ..config()
    }
}

/// Installs a busier flow (dropping its packets) under another mask, so that it is ranked first
/// and the flows under test are found after it (and enter the signature cache); returns 20 of
/// its frames.
fn install_busier_flow(dp: &Datapath) -> Vec<Vec<u8>> {
    let frame = frame_from(5, [1, 1]);
    let mut mask = mask_dst();
    mask.masks.nw_proto = u8::MAX;
    mask.masks.tp_src = u16::MAX;
    dp.flow_put(flow_put(PutFlags::CREATE, key_of(&frame, 1), mask, vec![]))
        .expect("put");
    vec![frame; 20]
}

#[test]
fn signature_cache_serves_many_keys_of_one_flow_until_it_is_deleted() {
    let fx = fixture_with(3, smc_config());
    let busier = install_busier_flow(&fx.dp);
    let frames: Vec<Vec<u8>> = (0..8).map(|i| frame_from(1000 + i, [0, 7])).collect();
    install(&fx.dp, &frames[0], 1, vec![OdpAction::Output(2)]);
    let all: Vec<Vec<u8>> = busier.iter().chain(&frames).cloned().collect();
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&all), 1000);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_cache_hit, d.n_mask_hit), (28, 0, 20 + 2 * 8));
    // Every key found its flow in the signature cache (the EMC took none of them).
    assert_eq!(pmd.emc_occupied(), 0);
    pmd.process_batch(1, &mut batch(&all), 1001);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_cache_hit), (56, 8));
    assert_eq!(fx.sent(2).len(), 16);
    // Deleted: no packet may use the cached record.
    fx.dp
        .flow_del(FlowDel {
            flow: FlowRef::Key(Box::new(key_of(&frames[0], 1))),
            pmd_id: PMD_ID_NULL,
        })
        .expect("del");
    pmd.process_batch(1, &mut batch(&all), 1002);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_cache_hit, d.n_missed), (76, 8, 8));
    assert!(fx.sent(2).is_empty());
    // Re-installed with other actions: the new record, found by the classifier first.
    install(&fx.dp, &frames[0], 1, vec![OdpAction::Output(3)]);
    pmd.process_batch(1, &mut batch(&all), 1003);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_cache_hit), (104, 8));
    assert_eq!(fx.sent(3).len(), 8);
    assert!(fx.sent(2).is_empty());
    pmd.process_batch(1, &mut batch(&all), 1004);
    assert_eq!(fx.dp.dp_stats().n_cache_hit, 16);
    assert_eq!(fx.sent(3).len(), 8);
}

#[test]
fn a_flow_of_the_top_ranked_subtable_stays_out_of_the_signature_cache() {
    let fx = fixture_with(2, smc_config());
    let frames: Vec<Vec<u8>> = (0..16).map(|i| frame_from(1000 + i, [0, 7])).collect();
    install(&fx.dp, &frames[0], 1, vec![OdpAction::Output(2)]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&frames), 1000);
    pmd.process_batch(1, &mut batch(&frames), 1001);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_cache_hit, d.n_mask_hit), (32, 0, 32));
}

#[test]
fn signature_cache_never_crosses_input_ports() {
    let fx = fixture_with(3, smc_config());
    let busier = install_busier_flow(&fx.dp);
    let frame = frame_from(1000, [0, 7]);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let mut all = busier;
    all.push(frame.clone());
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&all), 1000);
    pmd.process_batch(1, &mut batch(&all), 1001);
    assert_eq!(fx.dp.dp_stats().n_cache_hit, 1);
    // The same frame on port 3 has another key (in_port) and no flow: a miss.
    pmd.process_batch(3, &mut batch(std::slice::from_ref(&frame)), 1002);
    let d = fx.dp.dp_stats();
    assert_eq!((d.n_hit, d.n_missed), (42, 1));
}

/// 160 flows with distinct masks (nw_dst exact, nw_src and tp_src prefixes), none of which matches
/// the frames of [`frame_from`] to 10.0.0.7.
fn install_many_masks(dp: &Datapath) -> usize {
    let mut n = 0;
    for src_bits in 1..=32u32 {
        for sport_bits in 0..5u32 {
            let mut key = key_of(&frame_from(1000, [1, n as u8]), 1);
            key.nw_dst = 0x0a00_0100 | n;
            let mut mask = mask_dst();
            mask.masks.nw_src = u32::MAX << (32 - src_bits);
            mask.masks.nw_proto = u8::MAX;
            mask.masks.tp_src = if sport_bits == 0 {
                0
            } else {
                u16::MAX << (16 - sport_bits)
            };
            dp.flow_put(flow_put(PutFlags::CREATE, key, mask, vec![]))
                .expect("put");
            n += 1;
        }
    }
    n as usize
}

#[test]
fn a_busy_subtable_created_last_is_ranked_first_within_milliseconds() {
    // Caches off: every packet goes through the classifier.
    let fx = fixture_with(
        2,
        DatapathConfig {
            emc_insert_inv_prob: 0,
            ..config()
        },
    );
    let n_masks = install_many_masks(&fx.dp);
    assert_eq!(fx.dp.dp_stats().n_masks as usize, n_masks);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    // A first (once-a-second) re-rank happens now, before the busy flow exists.
    pmd.process_batch(1, &mut batch(&[frame_from(1, [9, 9])]), 1000);
    let hot = frame_from(1000, [0, 7]);
    install(&fx.dp, &hot, 1, vec![OdpAction::Output(2)]);
    let frames = vec![hot; 32];
    let before = fx.dp.dp_stats();
    pmd.process_batch(1, &mut batch(&frames), 1001);
    let d = fx.dp.dp_stats();
    assert_eq!(
        d.n_mask_hit - before.n_mask_hit,
        32 * (n_masks as u64 + 1),
        "created last, searched last"
    );
    for now in 1002..1020 {
        pmd.process_batch(1, &mut batch(&frames), now);
    }
    // Well before the once-a-second re-rank (at 2000): first.
    let before = fx.dp.dp_stats();
    pmd.process_batch(1, &mut batch(&frames), 1020);
    let d = fx.dp.dp_stats();
    assert_eq!(
        (d.n_hit - before.n_hit, d.n_mask_hit - before.n_mask_hit),
        (32, 32)
    );
}

#[test]
fn deep_hits_spread_over_many_subtables_do_not_re_rank_early() {
    // Caches off: every packet goes through the classifier.
    let fx = fixture_with(
        2,
        DatapathConfig {
            emc_insert_inv_prob: 0,
            ..config()
        },
    );
    let n_masks = install_many_masks(&fx.dp);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    // The once-a-second re-rank happens now, with no hits: insertion order stays.
    pmd.process_batch(1, &mut batch(&[frame_from(1, [9, 9])]), 1000);
    // An attacker's pattern: each packet in another deep subtable (flows 100..132).
    let frames: Vec<Vec<u8>> = (100..132u8).map(|n| frame_from(1000, [1, n])).collect();
    let searched = |pmd: &mut crate::datapath::ForwardingThread, now: u64| {
        let before = fx.dp.dp_stats();
        pmd.process_batch(1, &mut batch(&frames), now);
        let d = fx.dp.dp_stats();
        assert_eq!(d.n_hit - before.n_hit, 32);
        d.n_mask_hit - before.n_mask_hit
    };
    let first = searched(&mut pmd, 1001);
    assert_eq!(first, (101..133).sum::<u64>());
    for now in 1002..1100 {
        searched(&mut pmd, now);
    }
    assert_eq!(searched(&mut pmd, 1100), first, "no early re-rank");
    // The once-a-second re-rank still puts them first.
    searched(&mut pmd, 2000);
    assert!(searched(&mut pmd, 2001) <= (1..=32).sum::<u64>());
    assert!(n_masks > 132);
}
