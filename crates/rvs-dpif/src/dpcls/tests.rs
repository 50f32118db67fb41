use super::*;
use proptest::prelude::*;
use rvs_flow::Match;
use rvs_flow::flow::ETH_TYPE_IP;

fn mask_dst_prefix(bits: u32) -> Wildcards {
    let mut wc = Wildcards::default();
    wc.masks.in_port = u32::MAX;
    wc.masks.dl_type = u16::MAX;
    wc.masks.nw_dst = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    wc
}

fn pkt(in_port: u32, dst: u32) -> Flow {
    Flow {
        in_port,
        dl_type: ETH_TYPE_IP,
        nw_dst: dst,
        ..Flow::default()
    }
}

#[test]
fn insert_lookup_remove() {
    let cls: Dpcls<u32> = Dpcls::new();
    let m24 = mask_dst_prefix(24);
    cls.insert(&pkt(1, 0x0a00_0005), &m24, Arc::new(7))
        .expect("first insert");
    assert_eq!(
        cls.insert(&pkt(1, 0x0a00_0009), &m24, Arc::new(8)),
        Err(InsertError::Exists)
    );
    assert_eq!(cls.lookup(&pkt(1, 0x0a00_00ff)).as_deref(), Some(&7));
    assert_eq!(
        cls.lookup(&pkt(2, 0x0a00_00ff)),
        None,
        "in_port is part of the mask"
    );
    assert_eq!(cls.lookup(&pkt(1, 0x0a00_01ff)), None);
    assert_eq!((cls.len(), cls.subtable_count()), (1, 1));
    assert!(
        cls.remove(&pkt(1, 0x0a00_0042), &m24),
        "any key with the same masked value removes"
    );
    assert!(!cls.remove(&pkt(1, 0x0a00_0042), &m24));
    assert_eq!(
        (cls.len(), cls.subtable_count()),
        (0, 0),
        "empty subtable unpublished"
    );
}

#[test]
fn lookup_ranked_in_searches_only_its_ranks_and_counts_from_the_first() {
    let cls: Dpcls<u32> = Dpcls::new();
    cls.insert(&pkt(1, 0x0a00_0000), &mask_dst_prefix(8), Arc::new(1))
        .expect("insert");
    cls.insert(&pkt(1, 0x0b00_0000), &mask_dst_prefix(16), Arc::new(2))
        .expect("insert");
    let in_second = pkt(1, 0x0b00_0001);
    assert!(cls.lookup_ranked_in(&in_second, 0..1).is_none());
    let (hit, searched) = cls
        .lookup_ranked_in(&in_second, 1..usize::MAX)
        .expect("second subtable");
    assert_eq!((*hit, searched), (2, 2));
    let (hit, searched) = cls
        .lookup_ranked_in(&pkt(1, 0x0a01_0101), 0..1)
        .expect("first subtable");
    assert_eq!((*hit, searched), (1, 1));
    assert!(cls.lookup_ranked_in(&pkt(1, 0x0a01_0101), 1..9).is_none());
    assert!(cls.lookup_ranked_in(&in_second, 5..usize::MAX).is_none());
}

#[test]
fn entries_stay_found_across_reserved_growth() {
    // Past two reserve points (1024 and 4096 entries), then emptied and filled again.
    let n = 4 * 1024 * 2 + 7;
    let cls: Dpcls<u32> = Dpcls::new();
    let m = mask_dst_prefix(32);
    for round in 0..2 {
        for i in 0..n {
            assert_eq!(cls.insert(&pkt(1, i), &m, Arc::new(i)), Ok(()));
            assert_eq!(
                cls.insert(&pkt(1, i), &m, Arc::new(i)),
                Err(InsertError::Exists)
            );
        }
        assert_eq!(cls.len(), n as usize, "round {round}");
        for i in 0..n {
            assert_eq!(cls.lookup(&pkt(1, i)).as_deref(), Some(&i));
        }
        for i in 0..n {
            assert!(cls.remove(&pkt(1, i), &m));
        }
        assert!(cls.is_empty());
        assert_eq!(cls.subtable_count(), 0);
    }
}

#[test]
fn rerank_puts_busiest_subtable_first() {
    let cls: Dpcls<u32> = Dpcls::new();
    cls.insert(&pkt(1, 0x0a00_0000), &mask_dst_prefix(8), Arc::new(1))
        .expect("insert");
    cls.insert(&pkt(1, 0x0b00_0000), &mask_dst_prefix(16), Arc::new(2))
        .expect("insert");
    for _ in 0..10 {
        assert_eq!(cls.lookup(&pkt(1, 0x0b00_0001)).as_deref(), Some(&2));
    }
    assert_eq!(cls.subtables()[0].mask(), &mask_dst_prefix(8));
    cls.rerank();
    assert_eq!(cls.subtables()[0].mask(), &mask_dst_prefix(16));
}

#[test]
fn concurrent_readers_see_installed_flows_while_writer_churns() {
    let cls: Arc<Dpcls<u32>> = Arc::new(Dpcls::new());
    let stable = mask_dst_prefix(32);
    cls.insert(&pkt(1, 1), &stable, Arc::new(1))
        .expect("insert");
    let reader = {
        let cls = Arc::clone(&cls);
        std::thread::spawn(move || {
            for _ in 0..20_000 {
                assert_eq!(cls.lookup(&pkt(1, 1)).as_deref(), Some(&1));
            }
        })
    };
    for round in 0..2_000u32 {
        let m = mask_dst_prefix(1 + round % 31);
        let key = pkt(1, 0x8000_0000 | round);
        cls.insert(&key, &m, Arc::new(round)).expect("fresh key");
        assert!(cls.remove(&key, &m));
    }
    reader.join().expect("reader thread");
}

proptest! {
    /// Non-overlapping megaflows: whatever was inserted is found by every packet it covers, and by no other.
    #[test]
    fn lookup_agrees_with_linear_scan(
        rules in proptest::collection::vec((0u32..4, any::<u32>(), 0u32..=32), 1..40),
        packets in proptest::collection::vec((0u32..4, any::<u32>()), 1..60),
    ) {
        let cls: Dpcls<usize> = Dpcls::new();
        let mut installed: Vec<(Match, usize)> = Vec::new();
        for (i, (port, dst, bits)) in rules.iter().enumerate() {
            let m = Match::new(&pkt(*port, *dst), &mask_dst_prefix(*bits));
            // Keep the set non-overlapping, as the datapath contract requires.
            let overlaps = installed.iter().any(|(o, _)| {
                let both = o.wc.masks.nw_dst & m.wc.masks.nw_dst;
                o.flow.in_port == m.flow.in_port && (o.flow.nw_dst & both) == (m.flow.nw_dst & both)
            });
            if !overlaps {
                cls.insert(&m.flow, &m.wc, Arc::new(i)).expect("no overlap, no duplicate");
                installed.push((m, i));
            }
        }
        for (port, dst) in packets {
            let p = pkt(port, dst);
            let want = installed.iter().find(|(m, _)| m.matches(&p)).map(|(_, v)| *v);
            let got = cls.lookup(&p).map(|v| *v);
            prop_assert_eq!(want, got);
        }
    }
}
