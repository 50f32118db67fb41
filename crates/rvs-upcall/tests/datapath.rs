//! Integration over the real userspace datapath (`rvs_dpif::datapath`): a miss goes up to a
//! handler, the megaflow is installed and the packet executed; hits are counted by the datapath
//! and credited by a revalidation round; idle expiry removes flow and ukey.

use std::sync::Arc;

use rvs_dpif::clock::{Clock, VirtualClock};
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::Dpif;
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{DummyNetdev, PacketBatch};
use rvs_upcall::Udpif;
use rvs_upcall::coverage::Counter;
use rvs_upcall::testing::{FakeRule, FakeTranslator};
use rvs_upcall::ukey::UkeyState;

/// An Ethernet/IPv4/UDP frame from 10.0.0.1 to 10.0.1.`dst`, port 80.
fn frame(dst: u8) -> Vec<u8> {
    let mut f = vec![0x50, 0x54, 0, 0, 1, dst, 0x50, 0x54, 0, 0, 0, 1, 0x08, 0x00];
    let payload = 18u16;
    let ip_len = 20 + 8 + payload;
    f.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 1, dst]);
    let udp_len = 8 + payload;
    f.extend_from_slice(&[0x03, 0xe8, 0, 80, (udp_len >> 8) as u8, udp_len as u8, 0, 0]);
    f.extend_from_slice(&[0u8; 18]);
    f
}

#[test]
fn miss_install_hit_credit_expire_over_the_userspace_datapath() {
    let clock = Arc::new(VirtualClock::new(1_000_000));
    let dp = Datapath::new(DatapathConfig::dummy(), clock.clone());
    let p1 = Arc::new(DummyNetdev::new("p1"));
    let p2 = Arc::new(DummyNetdev::new("p2"));
    assert_eq!(dp.port_add(p1, "dummy", vec![], Some(1)), Ok(1));
    assert_eq!(dp.port_add(p2.clone(), "dummy", vec![], Some(2)), Ok(2));
    let mut mask = Wildcards::default();
    mask.masks.in_port = u32::MAX;
    let match_port1 = Flow {
        in_port: 1,
        ..Flow::default()
    };
    let xlate = Arc::new(FakeTranslator::with_rules(vec![FakeRule::output(
        1,
        10,
        &match_port1,
        mask,
        2,
    )]));
    let udpif = Udpif::new(Arc::new(dp.clone()), xlate.clone(), clock.clone());
    let mut pmd = dp.forwarding_thread(0).expect("forwarding context");

    let mut batch = PacketBatch::new();
    assert!(batch.push_copy(&frame(1)));
    pmd.process_batch(1, &mut batch, clock.now_ms());
    let mut buf = Vec::new();
    assert_eq!(
        udpif.recv_upcalls(0, &mut buf),
        1,
        "the miss reached the handler"
    );
    assert_eq!(dp.dp_stats().n_flows, 1, "megaflow installed");
    assert_eq!(p2.take_sent().len(), 1, "the miss packet was executed");
    let ukeys = udpif.ukeys().all();
    assert_eq!(ukeys.len(), 1);
    assert_eq!(ukeys[0].view().state, UkeyState::Operational);

    // Five more packets (another destination, same megaflow: the rule looks at in_port only).
    for dst in 2..7 {
        assert!(batch.push_copy(&frame(dst)));
    }
    clock.advance(10);
    pmd.process_batch(1, &mut batch, clock.now_ms());
    assert_eq!(udpif.recv_upcalls(0, &mut buf), 0, "all hits");
    assert_eq!(p2.take_sent().len(), 5);
    clock.advance(100);
    udpif.run_round(1);
    assert_eq!(
        xlate.credited(1).n_packets,
        6,
        "1 miss + 5 hits credited once each"
    );
    assert_eq!(ukeys[0].view().stats.n_packets, 5);
    assert!(
        udpif
            .show(&[1])
            .starts_with("dummy@ovs-dummy:\n  flows         : (current 1)")
    );

    // Idle: deleted in the dump phase, ukey freed in the sweep; nothing credited twice.
    clock.advance(10_001);
    udpif.run_round(1);
    assert_eq!(dp.dp_stats().n_flows, 0);
    assert!(udpif.ukeys().is_empty());
    assert_eq!(xlate.credited_packets(), 6);
    assert_eq!(udpif.coverage().get(Counter::UkeyStateBackwards), 0);
    assert_eq!(udpif.coverage().get(Counter::UkeyStateInvalid), 0);
}
