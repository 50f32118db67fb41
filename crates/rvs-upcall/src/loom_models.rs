//! Loom models: every interleaving (up to a preemption bound) of the real ukey and round-loop code.
//!
//! Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p rvs-upcall --release --lib loom`.
//!
//! * `handler_install_vs_purge` and `handler_install_vs_round`: a handler installing a flow while a
//!   revalidator purges, or dumps, evicts and sweeps the same ukey. No ukey state ever moves
//!   backwards or jumps illegally, and afterwards (one more round) every datapath flow has exactly
//!   one live ukey.
//! * `barrier_round_with_pause_and_exit`: two revalidators running rounds while the controller
//!   pauses, resumes and stops them: phases never overlap, a pause returns only when no round is
//!   in progress, and every thread leaves.

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use rvs_dpif::clock::VirtualClock;
use rvs_dpif::dpif::{NON_PMD_CORE_ID, Upcall, UpcallKind};

use crate::coverage::Counter;
use crate::testing::{FakeDpif, FakeRule, FakeTranslator, udp_flow};
use crate::threads::{Control, RoundWork, revalidator_loop};
use crate::udpif::Udpif;
use crate::ukey::UkeyState;

fn engine() -> (Arc<FakeDpif>, Arc<Udpif>, Arc<VirtualClock>) {
    let clock = Arc::new(VirtualClock::new(1_000_000));
    let dpif = Arc::new(FakeDpif::new(clock.clone()));
    let mut f = rvs_flow::Flow::default();
    f.in_port = 1;
    let mut mask = rvs_flow::Wildcards::default();
    mask.masks.in_port = u32::MAX;
    let xlate = Arc::new(FakeTranslator::with_rules(vec![FakeRule::output(
        1, 1, &f, mask, 2,
    )]));
    let udpif = Arc::new(Udpif::new(dpif.clone(), xlate, clock.clone()));
    (dpif, udpif, clock)
}

fn miss(dpif: &FakeDpif, flow: &rvs_flow::Flow) -> Upcall {
    Upcall {
        kind: UpcallKind::Miss,
        packet: vec![0; 64],
        flow: *flow,
        ufid: dpif.ufid_of(flow),
        pmd_id: NON_PMD_CORE_ID,
    }
}

/// After the race: no refused transition; one more round; then flows and live ukeys agree.
fn check_settled(dpif: &FakeDpif, udpif: &Udpif) {
    assert_eq!(udpif.coverage().get(Counter::UkeyStateBackwards), 0);
    assert_eq!(udpif.coverage().get(Counter::UkeyStateInvalid), 0);
    udpif.run_round(1);
    let live: Vec<_> = udpif
        .ukeys()
        .all()
        .into_iter()
        .filter(|u| u.view().state <= UkeyState::Operational)
        .collect();
    assert_eq!(
        live.len(),
        dpif.n_flows_real(),
        "one live ukey per datapath flow"
    );
    assert_eq!(udpif.coverage().get(Counter::UkeyStateBackwards), 0);
}

fn builder() -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b
}

#[test]
fn handler_install_vs_purge() {
    builder().check(|| {
        let (dpif, udpif, _clock) = engine();
        let flow = udp_flow(1, 1, 1, 80);
        let upcall = miss(&dpif, &flow);
        let h = {
            let udpif = udpif.clone();
            thread::spawn(move || {
                udpif.handle_upcalls(vec![upcall]);
            })
        };
        udpif.purge_all(1);
        let _ = h.join();
        check_settled(&dpif, &udpif);
    });
}

#[test]
fn handler_install_vs_round() {
    builder().check(|| {
        let (dpif, udpif, clock) = engine();
        let flow = udp_flow(1, 1, 1, 80);
        udpif.handle_upcalls(vec![miss(&dpif, &flow)]);
        clock.advance(10_001); // idle: the round evicts it
        let upcall = miss(&dpif, &flow);
        let h = {
            let udpif = udpif.clone();
            thread::spawn(move || {
                udpif.handle_upcalls(vec![upcall]);
            })
        };
        udpif.run_round(1);
        let _ = h.join();
        check_settled(&dpif, &udpif);
    });
}

/// Round work that checks the phase order and counts rounds.
struct CheckedWork {
    n: usize,
    begun: AtomicUsize,
    dumped: AtomicUsize,
    swept: AtomicUsize,
    ended: AtomicUsize,
    active: AtomicUsize,
}

impl RoundWork for CheckedWork {
    fn leader_begin(&self) {
        assert_eq!(
            self.begun.load(Ordering::SeqCst),
            self.ended.load(Ordering::SeqCst)
        );
        self.begun.fetch_add(1, Ordering::SeqCst);
        self.active.store(1, Ordering::SeqCst);
    }
    fn dump(&self, _index: usize) {
        assert_eq!(
            self.active.load(Ordering::SeqCst),
            1,
            "dump outside a begun round"
        );
        self.dumped.fetch_add(1, Ordering::SeqCst);
    }
    fn sweep(&self, _index: usize) {
        let round = self.begun.load(Ordering::SeqCst);
        assert_eq!(
            self.dumped.load(Ordering::SeqCst),
            round * self.n,
            "sweep before all dumps"
        );
        self.swept.fetch_add(1, Ordering::SeqCst);
    }
    fn leader_end(&self) {
        let round = self.begun.load(Ordering::SeqCst);
        assert_eq!(
            self.swept.load(Ordering::SeqCst),
            round * self.n,
            "end before all sweeps"
        );
        self.active.store(0, Ordering::SeqCst);
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
    fn leader_wait(&self, control: &Control) {
        // At most one round before the controller acts.
        while !control.interrupted() && self.ended.load(Ordering::SeqCst) >= 1 {
            thread::yield_now();
        }
    }
}

#[test]
fn barrier_round_with_pause_and_exit() {
    builder().check(|| {
        let n = 2;
        let control = Arc::new(Control::new(n));
        let work = Arc::new(CheckedWork {
            n,
            begun: AtomicUsize::new(0),
            dumped: AtomicUsize::new(0),
            swept: AtomicUsize::new(0),
            ended: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
        });
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let control = control.clone();
                let work = work.clone();
                thread::spawn(move || revalidator_loop(&control, i, &*work))
            })
            .collect();
        control.pause(&|| {});
        assert_eq!(work.active.load(Ordering::SeqCst), 0, "paused mid-round");
        control.request_exit();
        control.resume();
        for t in threads {
            let _ = t.join();
        }
        assert_eq!(
            work.begun.load(Ordering::SeqCst),
            work.ended.load(Ordering::SeqCst)
        );
    });
}
