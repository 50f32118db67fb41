//! Revalidation after a change keeps the ukeys the translator calls unaffected without
//! translating them (`Translator::translation_unchanged`), still crediting their statistics and
//! counting them (`revalidate_unaffected`); `retranslate_all` and a translator that answers
//! false translate every ukey again, as Open vSwitch does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rvs_dpif::dpif::NON_PMD_CORE_ID;
use rvs_dpif::dpif::{Actions, FlowStats};
use rvs_flow::{Flow, Wildcards};
use rvs_upcall::coverage::Counter;
use rvs_upcall::testing::udp_flow;
use rvs_upcall::testing::{FakeDpif, FakeRule, FakeTranslator};
use rvs_upcall::ukey::UkeyId;
use rvs_upcall::xlate::{
    RevalidateOutput, Translator, XlateCache, XlateError, XlateOutput, XlateRequest,
};
use rvs_upcall::{Udpif, VirtualClock};

/// The fake translator, answering `translation_unchanged` as told and counting what it is asked.
struct Scripted {
    inner: FakeTranslator,
    unchanged: AtomicBool,
    asked: AtomicU64,
    retranslated: AtomicU64,
}

impl Translator for Scripted {
    fn tables_version(&self) -> u64 {
        self.inner.tables_version()
    }
    fn translate(&self, req: &XlateRequest<'_>) -> Result<XlateOutput, XlateError> {
        if req.for_revalidation {
            self.retranslated.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.translate(req)
    }
    fn revalidate(
        &self,
        req: &XlateRequest<'_>,
        installed: &Actions,
        xcache: &mut Option<Box<dyn XlateCache>>,
    ) -> Result<RevalidateOutput, XlateError> {
        self.retranslated.fetch_add(1, Ordering::Relaxed);
        self.inner.revalidate(req, installed, xcache)
    }
    fn translation_unchanged(&self, _xcache: &dyn XlateCache) -> bool {
        self.asked.fetch_add(1, Ordering::Relaxed);
        self.unchanged.load(Ordering::Relaxed)
    }
    fn push_stats(&self, xcache: &dyn XlateCache, delta: &FlowStats) {
        self.inner.push_stats(xcache, delta);
    }
}

/// Rule 1 forwards port 1 to 2 with one megaflow per (addresses, tp_dst).
fn rules() -> Vec<FakeRule> {
    let mut mask = Wildcards::default();
    mask.masks.in_port = u32::MAX;
    mask.masks.nw_src = u32::MAX;
    mask.masks.nw_dst = u32::MAX;
    mask.masks.tp_dst = u16::MAX;
    let flow = Flow {
        in_port: 1,
        ..Flow::default()
    };
    let mut rule = FakeRule::output(1, 10, &flow, Wildcards::default(), 2);
    rule.extra_wc = mask;
    vec![rule]
}

const N: u16 = 20;

/// The fake datapath and the scripted translator under an engine, on a virtual clock.
struct Engine {
    clock: Arc<VirtualClock>,
    dpif: Arc<FakeDpif>,
    xlate: Arc<Scripted>,
    udpif: Arc<Udpif>,
}

impl Engine {
    /// The translator answers "unchanged" until told otherwise.
    fn new() -> Engine {
        let clock = Arc::new(VirtualClock::new(1_000_000));
        let dpif = Arc::new(FakeDpif::new(clock.clone()));
        let xlate = Arc::new(Scripted {
            inner: FakeTranslator::with_rules(rules()),
            unchanged: AtomicBool::new(true),
            asked: AtomicU64::new(0),
            retranslated: AtomicU64::new(0),
        });
        let udpif = Arc::new(Udpif::new(dpif.clone(), xlate.clone(), clock.clone()));
        Engine {
            clock,
            dpif,
            xlate,
            udpif,
        }
    }
}

/// Handles every queued upcall once.
fn handle_upcalls(dpif: &FakeDpif, udpif: &Udpif) {
    let mut buf = Vec::new();
    for q in 0..dpif.n_queues() {
        buf.clear();
        if rvs_dpif::dpif::Dpif::recv(dpif, q, &mut buf, 64) > 0 {
            udpif.handle_upcalls(std::mem::take(&mut buf));
        }
    }
}

#[test]
fn unaffected_ukeys_are_kept_and_credited_without_translating() {
    let Engine {
        clock,
        dpif,
        xlate,
        udpif,
    } = Engine::new();
    let flows: Vec<Flow> = (0..N).map(|i| udp_flow(1, 1, 2, 100 + i)).collect();
    let send_all = || {
        for f in &flows {
            dpif.send(f, 100);
        }
    };
    let handle = || handle_upcalls(&dpif, &udpif);
    send_all();
    handle();
    assert_eq!(dpif.n_flows_real(), usize::from(N));
    send_all();
    udpif.run_round(1);
    let retranslated_after_install = xlate.retranslated.load(Ordering::Relaxed);

    // A change: every ukey is unaffected, so none is translated, all are kept and credited.
    udpif.revalidate();
    send_all();
    clock.advance(10);
    udpif.run_round(1);
    assert_eq!(xlate.asked.load(Ordering::Relaxed), u64::from(N));
    assert_eq!(
        xlate.retranslated.load(Ordering::Relaxed),
        retranslated_after_install
    );
    assert_eq!(dpif.n_flows_real(), usize::from(N));
    assert_eq!(
        udpif.coverage().get(Counter::RevalidateUnaffected),
        u64::from(N)
    );
    assert_eq!(xlate.inner.credited_packets(), 3 * u64::from(N));
    // The next round is steady: nothing asked, nothing translated.
    udpif.run_round(1);
    assert_eq!(xlate.asked.load(Ordering::Relaxed), u64::from(N));

    // `retranslate_all`: every ukey is translated again, the translator is not asked.
    udpif.config().set_retranslate_all(true);
    udpif.revalidate();
    udpif.run_round(1);
    assert_eq!(xlate.asked.load(Ordering::Relaxed), u64::from(N));
    assert_eq!(
        xlate.retranslated.load(Ordering::Relaxed),
        retranslated_after_install + u64::from(N)
    );

    // A translator that answers false: translated again too.
    udpif.config().set_retranslate_all(false);
    xlate.unchanged.store(false, Ordering::Relaxed);
    udpif.revalidate();
    send_all();
    udpif.run_round(1);
    assert_eq!(xlate.asked.load(Ordering::Relaxed), 2 * u64::from(N));
    assert_eq!(
        xlate.retranslated.load(Ordering::Relaxed),
        retranslated_after_install + 2 * u64::from(N)
    );
    assert_eq!(
        udpif.coverage().get(Counter::RevalidateUnaffected),
        u64::from(N)
    );
    assert_eq!(xlate.inner.credited_packets(), 4 * u64::from(N));
    assert_eq!(dpif.n_flows_real(), usize::from(N));
}

/// The upcall's translation cache is kept in the ukey: a steady round adopts it when packets
/// arrive (no translation), the first round after a change uses it for `translation_unchanged`,
/// and until then the ukey has no xlate cache in Open vSwitch's sense.
#[test]
fn the_upcall_cache_is_adopted_without_translating_and_invisible_until_then() {
    let Engine {
        clock: _,
        dpif,
        xlate,
        udpif,
    } = Engine::new();
    let flows: Vec<Flow> = (0..N).map(|i| udp_flow(1, 3, 4, 200 + i)).collect();
    let handle = || handle_upcalls(&dpif, &udpif);
    let has_xcache = |f: &Flow| {
        udpif
            .ukey(&UkeyId {
                ufid: dpif.ufid_of(f),
                pmd_id: NON_PMD_CORE_ID,
            })
            .expect("ukey")
            .view()
            .has_xcache
    };
    for f in &flows {
        dpif.send(f, 100);
    }
    handle();
    assert!(flows.iter().all(|f| !has_xcache(f)));
    // Packets for half of them: the steady round adopts their upcall caches.
    for f in &flows[..usize::from(N / 2)] {
        dpif.send(f, 100);
    }
    udpif.run_round(1);
    assert_eq!(xlate.retranslated.load(Ordering::Relaxed), 0);
    assert!(flows[..usize::from(N / 2)].iter().all(&has_xcache));
    assert!(!flows[usize::from(N / 2)..].iter().any(&has_xcache));
    assert_eq!(xlate.inner.credited_packets(), u64::from(N + N / 2));
    // The first round after a change: every ukey is checked through its cache, none translated.
    udpif.revalidate();
    udpif.run_round(1);
    assert_eq!(xlate.asked.load(Ordering::Relaxed), u64::from(N));
    assert_eq!(xlate.retranslated.load(Ordering::Relaxed), 0);
    assert!(flows.iter().all(&has_xcache));
    assert_eq!(dpif.n_flows_real(), usize::from(N));
}
