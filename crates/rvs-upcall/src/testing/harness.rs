//! The deterministic harness: one engine over a [`FakeDpif`] and a [`FakeTranslator`] with a
//! [`VirtualClock`], driven entirely from the calling thread (no threads, no sleeps).
//!
//! # Invariants
//! * Nothing moves unless the test moves it: time only by [`Harness::advance`], upcalls only by
//!   [`Harness::run_handlers`], rounds only by [`Harness::round`] (or `udpif.begin_round`).
//! * The clock starts at [`Harness::START_MS`], far from 0 ("never used") and from the idle limits.

use std::sync::Arc;

use rvs_dpif::clock::VirtualClock;
use rvs_flow::Flow;
use rvs_flow::flow::ETH_TYPE_IP;

use super::fake_dpif::{FakeDpif, SendResult};
use super::fake_xlate::{FakeRule, FakeTranslator};
use crate::handler::BatchReport;
use crate::revalidator::RoundStats;
use crate::udpif::Udpif;
use crate::ukey::{Ukey, UkeyId};

/// An IPv4/UDP flow from `in_port`, `10.0.0.<src>` to `10.0.1.<dst>`, UDP port `tp_dst`.
pub fn udp_flow(in_port: u32, src: u8, dst: u8, tp_dst: u16) -> Flow {
    Flow {
        in_port,
        packet_type: rvs_flow::flow::PT_ETH,
        dl_src: [0x50, 0x54, 0, 0, 0, src],
        dl_dst: [0x50, 0x54, 0, 0, 1, dst],
        dl_type: ETH_TYPE_IP,
        nw_src: u32::from_be_bytes([10, 0, 0, src]),
        nw_dst: u32::from_be_bytes([10, 0, 1, dst]),
        nw_proto: 17,
        nw_ttl: 64,
        tp_src: 1000,
        tp_dst,
        ..Flow::default()
    }
}

/// A fake datapath, a fake translator and an engine, on a virtual clock.
pub struct Harness {
    /// The clock.
    pub clock: Arc<VirtualClock>,
    /// The datapath.
    pub dpif: Arc<FakeDpif>,
    /// The translator.
    pub xlate: Arc<FakeTranslator>,
    /// The engine.
    pub udpif: Arc<Udpif>,
    /// How many pretend revalidators `round` uses.
    pub n_revalidators: usize,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Harness({:?})", self.clock)
    }
}

impl Harness {
    /// Initial virtual time (ms).
    pub const START_MS: u64 = 1_000_000;

    /// A harness whose translator has `rules`.
    pub fn new(rules: Vec<FakeRule>) -> Harness {
        let clock = Arc::new(VirtualClock::new(Self::START_MS));
        let dpif = Arc::new(FakeDpif::new(clock.clone()));
        let xlate = Arc::new(FakeTranslator::with_rules(rules));
        let udpif = Arc::new(Udpif::new(dpif.clone(), xlate.clone(), clock.clone()));
        Harness {
            clock,
            dpif,
            xlate,
            udpif,
            n_revalidators: 1,
        }
    }

    /// Moves time forward.
    pub fn advance(&self, ms: u64) {
        self.clock.advance(ms);
    }

    /// Sends one 100-byte packet of `flow` from the main thread.
    pub fn send(&self, flow: &Flow) -> SendResult {
        self.dpif.send(flow, 100)
    }

    /// Handles every queued upcall, handler queue by queue, in batches of 64.
    pub fn run_handlers(&self) -> BatchReport {
        let mut total = BatchReport::default();
        let mut buf = Vec::new();
        loop {
            let mut any = false;
            for id in 0..self.n_queues() {
                buf.clear();
                let n = rvs_dpif::dpif::Dpif::recv(
                    &*self.dpif,
                    id,
                    &mut buf,
                    crate::config::UPCALL_MAX_BATCH,
                );
                if n > 0 {
                    any = true;
                    let r = self.udpif.handle_upcalls(std::mem::take(&mut buf));
                    total.upcalls += r.upcalls;
                    total.puts += r.puts;
                    total.put_errors += r.put_errors;
                    total.executes += r.executes;
                }
            }
            if !any {
                return total;
            }
        }
    }

    fn n_queues(&self) -> usize {
        self.dpif.n_queues()
    }

    /// Sends `flow` and handles the resulting upcall, if any.
    pub fn send_and_handle(&self, flow: &Flow) -> SendResult {
        let r = self.send(flow);
        self.run_handlers();
        r
    }

    /// Runs one whole revalidation round with `n_revalidators` pretend revalidators.
    pub fn round(&self) -> RoundStats {
        self.udpif.run_round(self.n_revalidators)
    }

    /// The ukey of `flow` from the main thread.
    pub fn ukey_of(&self, flow: &Flow) -> Option<Arc<Ukey>> {
        self.udpif.ukey(&UkeyId {
            ufid: self.dpif.ufid_of(flow),
            pmd_id: rvs_dpif::dpif::NON_PMD_CORE_ID,
        })
    }

    /// Packets credited to rules, and packets the datapath saw (hits plus misses not lost).
    pub fn conservation(&self) -> (u64, u64) {
        let c = &self.dpif.counters;
        let seen = c.hits.load(std::sync::atomic::Ordering::Relaxed)
            + c.misses.load(std::sync::atomic::Ordering::Relaxed)
            - c.lost.load(std::sync::atomic::Ordering::Relaxed);
        (self.xlate.credited_packets(), seen)
    }
}
