//! Churn stress test with real threads: traffic over a changing rule set while the controller
//! purges, changes thread counts and squeezes the flow limit. At the end every packet the datapath
//! saw has been credited to exactly one rule: Σ credited = hits + handled misses = packets sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rvs_dpif::clock::Clock;
use rvs_flow::{Flow, Wildcards};
use rvs_upcall::coverage::Counter;
use rvs_upcall::testing::{FakeDpif, FakeRule, FakeTranslator, SendResult, udp_flow};
use rvs_upcall::{Udpif, UpcallEngine};

/// Real monotonic time, starting at 1000 ms.
struct MonotonicClock(Instant);

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        1000 + self.0.elapsed().as_millis() as u64
    }
}

/// Rules on the destination port (`tp_dst`), so each port makes its own megaflow; `gen` changes
/// which output each rule uses and which rules exist.
fn rules(generation: u32) -> Vec<FakeRule> {
    let mut mask = Wildcards::default();
    mask.masks.in_port = u32::MAX;
    mask.masks.tp_dst = u16::MAX;
    (0..32u16)
        .filter(|p| !(u32::from(*p) + generation).is_multiple_of(5))
        .map(|p| {
            let f = Flow {
                tp_dst: p,
                ..Flow::default()
            };
            let mut r = FakeRule::output(
                u32::from(p),
                10,
                &f,
                mask,
                2 + (generation + u32::from(p)) % 3,
            );
            r.matcher.wc.masks.in_port = 0;
            r.matcher.flow.in_port = 0;
            r
        })
        .collect()
}

#[test]
fn churn_conserves_packets() {
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock(Instant::now()));
    let dpif = Arc::new(FakeDpif::new(clock.clone()));
    let xlate = Arc::new(FakeTranslator::with_rules(rules(0)));
    let udpif = Arc::new(Udpif::new(dpif.clone(), xlate.clone(), clock));
    udpif.config().set_max_revalidator_ms(100);
    udpif.config().set_max_idle_ms(500);
    let engine = UpcallEngine::new(udpif.clone());
    engine.start(2, 2);

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let traffic: Vec<_> = (0..2u8)
        .map(|t| {
            let dpif = dpif.clone();
            let stop = stop.clone();
            let sent = sent.clone();
            std::thread::spawn(move || {
                let mut x: u32 = 0x9e37_79b9 ^ u32::from(t);
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..200 {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        let flow = udp_flow(1 + x % 4, (x >> 8) as u8, t, (x >> 16) as u16 % 40);
                        let r = dpif.send(&flow, 64 + u64::from(x % 1000));
                        assert_ne!(r, SendResult::Lost);
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_millis(2500);
    let mut step = 0u32;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(25));
        step += 1;
        xlate.set_rules(rules(step));
        udpif.revalidate();
        match step % 8 {
            0 => engine.purge(),
            2 => udpif.config().set_flow_limit_ceiling(50),
            4 => udpif.config().set_flow_limit_ceiling(200_000),
            5 => engine.set_threads(1 + (step as usize / 8) % 2, 1 + (step as usize / 8) % 3),
            6 => {
                engine.set_flow_limit(10);
            }
            _ => {}
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in traffic {
        t.join().expect("traffic thread");
    }
    let drain = Instant::now() + Duration::from_secs(10);
    while dpif.queued() > 0 && Instant::now() < drain {
        std::thread::sleep(Duration::from_millis(5));
    }
    engine.stop();
    // Upcalls still queued are handled synchronously; then everything is purged.
    let mut buf = Vec::new();
    for id in 0..dpif.n_queues() {
        while udpif.recv_upcalls(id, &mut buf) > 0 {}
    }
    for _ in 0..3 {
        udpif.purge_all(1);
        udpif.run_round(1); // adopts flows whose ukey a purge removed before their put landed
    }
    udpif.purge_all(1);

    let c = &dpif.counters;
    let hits = c.hits.load(Ordering::Relaxed);
    let misses = c.misses.load(Ordering::Relaxed);
    let sent = sent.load(Ordering::Relaxed);
    assert_eq!(hits + misses, sent);
    assert_eq!(dpif.n_flows_real(), 0);
    assert!(udpif.ukeys().is_empty());
    assert_eq!(udpif.coverage().get(Counter::UkeyStateBackwards), 0);
    assert_eq!(udpif.coverage().get(Counter::UkeyStateInvalid), 0);
    assert_eq!(
        xlate.credited_packets(),
        sent,
        "every packet credited exactly once"
    );
    assert!(
        misses > 100 && hits > 100,
        "churn produced both (hits {hits}, misses {misses})"
    );
    eprintln!(
        "churn: sent {sent}, hits {hits}, misses {misses}, flow-limit kills {}, replaces {}",
        udpif.coverage().get(Counter::UpcallFlowLimitKill),
        udpif.coverage().get(Counter::UpcallUkeyReplace)
    );
}
