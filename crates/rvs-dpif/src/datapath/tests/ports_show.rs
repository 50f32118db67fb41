//! Ports and `dpctl/show`.

use super::*;
use crate::datapath::Stall;
use crate::dpif::DpifError;

#[test]
fn show_matches_ovs_dummy_datapath() {
    let fx = fixture(4);
    let br0 = Arc::new(DummyNetdev::new("br0"));
    assert_eq!(fx.dp.port_add(br0, "dummy-internal", vec![], None), Ok(100));
    // Captured from OVS 3.1 (`tools/ovs-oracle.sh start`, `ovs-appctl dpctl/show`), ports p1..p4 of
    // type dummy with options:ifindex=N and the bridge br0.
    let expected = "dummy@ovs-dummy:
  lookups: hit:0 missed:0 lost:0
  flows: 0
  port 0: ovs-dummy (dummy-internal)
  port 1: p1 (dummy: ifindex=1)
  port 2: p2 (dummy: ifindex=2)
  port 3: p3 (dummy: ifindex=3)
  port 4: p4 (dummy: ifindex=4)
  port 100: br0 (dummy-internal)
";
    assert_eq!(fx.dp.show().to_string(), expected);
    assert_eq!(fx.dp.name(), "dummy@ovs-dummy");
}

#[test]
fn show_with_masks_prints_ratios() {
    let fx = fixture(2);
    let frame = udp_frame(5, 0);
    install(&fx.dp, &frame, 1, vec![]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    // The first packet is classified (and cached), the second hits the exact-match cache.
    pmd.process_batch(1, &mut batch(&[frame.clone(), udp_frame(6, 0)]), 1000);
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1001);
    let mut show = fx.dp.show();
    show.with_masks = true;
    let text = show.to_string();
    assert!(text.contains("  lookups: hit:2 missed:1 lost:0\n  flows: 1\n  masks: hit:1 total:1 hit/pkt:0.33\n  cache: hit:1 hit-rate:33.33%\n"), "{text}");
}

#[test]
fn port_add_and_del_errors() {
    let fx = fixture(2);
    let again = Arc::new(DummyNetdev::new("p1"));
    assert_eq!(
        fx.dp.port_add(again, "dummy", vec![], None),
        Err(DpifError::Exists)
    );
    let q = Arc::new(DummyNetdev::new("q"));
    assert_eq!(
        fx.dp.port_add(q.clone(), "dummy", vec![], Some(2)),
        Err(DpifError::Busy)
    );
    assert_eq!(fx.dp.port_add(q, "dummy", vec![], Some(7)), Ok(7));
    assert_eq!(fx.dp.port_number("q"), Some(7));
    assert!(matches!(fx.dp.port_del(0), Err(DpifError::Invalid(_))));
    assert_eq!(fx.dp.port_del(9), Err(DpifError::NoDevice));
    assert_eq!(fx.dp.port_del(7), Ok(()));
    let listed: Vec<(u32, String)> = fx
        .dp
        .port_list()
        .into_iter()
        .map(|p| (p.port_no, p.name))
        .collect();
    assert_eq!(
        listed,
        vec![(0, "ovs-dummy".into()), (1, "p1".into()), (2, "p2".into())]
    );
    assert!(fx.dp.port_netdev(2).is_some() && fx.dp.port_netdev(7).is_none());
}

#[test]
fn netdev_datapath_numbers_ports_from_one() {
    let dp = Datapath::new(DatapathConfig::netdev(), Arc::new(VirtualClock::default()));
    assert_eq!(dp.name(), "netdev@ovs-netdev");
    assert_eq!(
        dp.port_add(Arc::new(DummyNetdev::new("eth7")), "afpacket", vec![], None),
        Ok(1)
    );
    assert_eq!(dp.show().ports[0].kind, "tap");
}

#[test]
fn counters_of_exited_contexts_are_folded_not_kept() {
    let fx = fixture(2);
    let frame = udp_frame(5, 0);
    install(&fx.dp, &frame, 1, vec![]);
    // Forwarding contexts created and dropped over and over (threads restarted by configuration
    // changes): the registry keeps only the live ones, and their counts still count.
    for round in 0..100u64 {
        let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
        pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1000 + round);
    }
    let held = fx.dp.shared.counters.held();
    assert!(held <= 3, "{held} counter sets held for 1 live context");
    assert_eq!(
        fx.dp.dp_stats().n_hit,
        100,
        "hits of exited contexts are kept"
    );
}

/// An inline miss handler that blocks until told to go on (a stuck upcall).
struct BlockingCallback {
    entered: std::sync::mpsc::SyncSender<()>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl crate::dpif::UpcallCallback for BlockingCallback {
    fn miss(
        &self,
        _miss: &crate::dpif::MissUpcall<'_>,
        _install: &mut crate::dpif::FlowInstaller<'_>,
    ) -> crate::dpif::MissOutcome {
        let _ = self.entered.send(());
        if let Ok(rx) = self.release.lock() {
            let _ = rx.recv();
        }
        crate::dpif::MissOutcome::Failed
    }

    fn batch_done(&self, _n: usize) {}
}

#[test]
fn a_context_stuck_in_a_batch_is_reported_until_it_returns() {
    let fx = fixture(2);
    let (entered_tx, entered_rx) = std::sync::mpsc::sync_channel(1);
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    assert!(fx.dp.register_upcall_cb(Some(Arc::new(BlockingCallback {
        entered: entered_tx,
        release: std::sync::Mutex::new(release_rx),
    }))));
    let mut idle = fx.dp.forwarding_thread(1).expect("idle context");
    idle.process_batch(1, &mut batch(&[]), 5_000);
    let stuck = {
        let dp = fx.dp.clone();
        std::thread::spawn(move || {
            let mut pmd = dp.forwarding_thread(0).expect("pmd");
            pmd.process_batch(1, &mut batch(&[udp_frame(5, 0)]), 10_000);
        })
    };
    entered_rx.recv().expect("the miss reached the callback");
    assert!(fx.dp.stalled_contexts(14_999, 5_000).is_empty(), "not yet");
    assert_eq!(
        fx.dp.stalled_contexts(16_000, 5_000),
        vec![Stall {
            pmd_id: 0,
            since_ms: 10_000,
            busy_ms: 6_000
        }],
        "the stuck context only, not the idle one"
    );
    release_tx.send(()).expect("release");
    stuck.join().expect("context thread");
    assert!(fx.dp.stalled_contexts(60_000, 5_000).is_empty());
    // The exited context's clock is dropped at the next registration.
    let _next = fx.dp.forwarding_thread(2).expect("pmd");
    assert!(fx.dp.shared.progress.held() <= 3);
    drop(idle);
}
