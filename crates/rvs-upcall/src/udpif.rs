//! `Udpif`: the state one upcall/revalidation engine shares between its handlers, revalidators and
//! control calls (OVS's `struct udpif`), and its simple accessors.
//!
//! # Invariants
//! * `reval_seq` and `dump_seq` start at 1 and only grow; a ukey's `dump_seq` of 0 therefore means
//!   "never dumped", and `reval_seq - 1` is always an outdated value.
//! * `dump_seq` grows exactly once per completed round (by the leader, after the sweep).
//! * The datapath flow count is a cache refreshed at most every [`N_FLOWS_CACHE_MS`] by whoever
//!   wins a try-lock; everyone else reads the cached value (OVS's `udpif_get_n_flows`).
//! * Nothing here blocks on a datapath call while holding a lock other than the n_flows try-lock.
//! * Handled upcalls ring `handled_wake`, never `wake`: the leader sleeping between rounds is not
//!   woken by every handler batch or inline miss batch.
//! * Packets for the controller wait in a bounded queue ([`MAX_CONTROLLER_UPCALLS`]); when nobody
//!   takes them, later ones are dropped and counted (`packet_in_overflow`), so a `controller`
//!   action under load cannot grow memory without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use parking_lot::Mutex;
use rvs_dpif::clock::Clock;
use rvs_dpif::dpif::{Capabilities, Dpif};
use rvs_flow::Flow;
use rvs_flow::odp::ControllerCookie;

use crate::config::{INITIAL_FLOW_LIMIT, MAX_CONTROLLER_UPCALLS, N_FLOWS_CACHE_MS, UpcallConfig};
use crate::coverage::{Counter, Coverage};
use crate::env::Env;
use crate::log::Log;
use crate::notify::Notifier;
use crate::revalidator::{DelReason, IdleAges};
use crate::ukey::{Ukey, UkeyId, UkeyMaps};
use crate::xlate::Translator;

/// A packet a `userspace` action sent to the controller, queued for ofproto.
#[derive(Clone, Debug)]
pub struct ControllerUpcall {
    /// The frame.
    pub packet: Vec<u8>,
    /// Its flow.
    pub flow: Flow,
    /// The controller cookie of the action.
    pub cookie: ControllerCookie,
}

/// Counts of upcalls that were consumed without a flow install.
#[derive(Debug, Default)]
pub(crate) struct UpcallCounts {
    pub(crate) slow_path: AtomicU64,
    pub(crate) controller: AtomicU64,
    pub(crate) sample: AtomicU64,
    pub(crate) bad: AtomicU64,
    pub(crate) xlate_failed: AtomicU64,
    /// Every upcall a handler finished with (installed, executed or dropped).
    pub(crate) handled: AtomicU64,
}

/// The shared engine state.
pub struct Udpif {
    pub(crate) dpif: Arc<dyn Dpif>,
    pub(crate) xlate: Arc<dyn Translator>,
    pub(crate) env: Env,
    pub(crate) config: UpcallConfig,
    pub(crate) ukeys: UkeyMaps,
    pub(crate) caps: Capabilities,
    reval_seq: AtomicU64,
    dump_seq: AtomicU64,
    flow_limit: AtomicU32,
    n_flows: AtomicU64,
    /// Time of the last refresh; `u64::MAX` = never.
    n_flows_timestamp: AtomicU64,
    n_flows_mutex: Mutex<()>,
    pub(crate) max_n_flows: AtomicU64,
    pub(crate) avg_n_flows: AtomicU64,
    pub(crate) dump_duration: AtomicU64,
    pub(crate) wake: Notifier,
    /// Rung when upcalls were handled; only [`Udpif::wait_upcalls_handled`] sleeps on it, so
    /// handling a batch does not wake the revalidator leader (which sleeps on `wake`).
    pub(crate) handled_wake: Notifier,
    controller_tx: Sender<ControllerUpcall>,
    controller_rx: Receiver<ControllerUpcall>,
    pub(crate) upcall_counts: UpcallCounts,
    pub(crate) del_reasons: [AtomicU64; DelReason::ALL.len()],
    /// Set by [`Udpif::request_round`]: the leader starts a round without waiting for its period.
    pub(crate) round_requested: std::sync::atomic::AtomicBool,
    /// The idle ages the round's revalidators recorded, merged as each finishes its dump.
    pub(crate) idle_ages: Mutex<IdleAges>,
    /// The previous round's merged idle ages, which the adaptive policy evicts by (`None`: none
    /// recorded, or OVS's policy).
    pub(crate) eviction_ages: Mutex<Option<Arc<IdleAges>>>,
    /// Installs refused because the datapath held the dynamic limit's worth of flows (what
    /// `upcall_flow_limit_hit` counts on the install path only): the adaptive policy starts its
    /// next round early when this moves after an evicting round.
    pub(crate) limit_refusals: AtomicU64,
    /// Set by a batch of the current round that evicted by idle age (adaptive policy); cleared
    /// by the leader when a round begins.
    pub(crate) round_evicted: std::sync::atomic::AtomicBool,
}

impl Drop for Udpif {
    /// The datapath keeps its flows, but not this engine's ukeys (its flows' owners): they are
    /// freed with the engine (bug 19's rule).
    fn drop(&mut self) {
        self.dpif.flow_owners_clear();
    }
}

impl std::fmt::Debug for Udpif {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Udpif({})", self.dpif.name())
    }
}

impl Udpif {
    /// An engine over `dpif`, translating with `xlate`, reading time from `clock`.
    pub fn new(dpif: Arc<dyn Dpif>, xlate: Arc<dyn Translator>, clock: Arc<dyn Clock>) -> Udpif {
        Udpif::with_config(dpif, xlate, clock, UpcallConfig::default())
    }

    /// Same, with explicit settings (the initial flow limit is `min(ceiling, 10000)`).
    pub fn with_config(
        dpif: Arc<dyn Dpif>,
        xlate: Arc<dyn Translator>,
        clock: Arc<dyn Clock>,
        config: UpcallConfig,
    ) -> Udpif {
        let (controller_tx, controller_rx) = bounded(MAX_CONTROLLER_UPCALLS);
        let caps = dpif.capabilities();
        let limit = config.flow_limit_ceiling().min(INITIAL_FLOW_LIMIT);
        Udpif {
            dpif,
            xlate,
            env: Env::new(clock),
            config,
            ukeys: UkeyMaps::default(),
            caps,
            reval_seq: AtomicU64::new(1),
            dump_seq: AtomicU64::new(1),
            flow_limit: AtomicU32::new(limit),
            n_flows: AtomicU64::new(0),
            n_flows_timestamp: AtomicU64::new(u64::MAX),
            n_flows_mutex: Mutex::new(()),
            max_n_flows: AtomicU64::new(0),
            avg_n_flows: AtomicU64::new(0),
            dump_duration: AtomicU64::new(0),
            wake: Notifier::default(),
            handled_wake: Notifier::default(),
            controller_tx,
            controller_rx,
            upcall_counts: UpcallCounts::default(),
            del_reasons: Default::default(),
            round_requested: std::sync::atomic::AtomicBool::new(false),
            idle_ages: Mutex::new(IdleAges::default()),
            eviction_ages: Mutex::new(None),
            limit_refusals: AtomicU64::new(0),
            round_evicted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The datapath.
    pub fn dpif(&self) -> &Arc<dyn Dpif> {
        &self.dpif
    }
    /// The run-time settings.
    pub fn config(&self) -> &UpcallConfig {
        &self.config
    }
    /// Coverage counters.
    pub fn coverage(&self) -> &Coverage {
        &self.env.coverage
    }
    /// The log.
    pub fn log(&self) -> &Log {
        &self.env.log
    }
    /// Counters, log and clock.
    pub fn env(&self) -> &Env {
        &self.env
    }
    /// The ukey maps.
    pub fn ukeys(&self) -> &UkeyMaps {
        &self.ukeys
    }
    /// The ukey named `id`.
    pub fn ukey(&self, id: &UkeyId) -> Option<Arc<Ukey>> {
        self.ukeys.lookup(id)
    }

    /// Forces every flow to be revalidated in the next round and wakes the leader
    /// (OVS's `udpif_revalidate`; ofproto calls it after every committed table change).
    pub fn revalidate(&self) {
        self.reval_seq.fetch_add(1, Ordering::AcqRel);
        self.wake.ring();
    }

    /// Asks the leader to start a round now (no earlier than 5 ms after the last one started),
    /// without asking for re-translation. The daemon uses it while its clock is stopped
    /// (`time/stop`), where OVS's revalidators still run a round every period of real time.
    pub fn request_round(&self) {
        self.round_requested.store(true, Ordering::Release);
        self.wake.ring();
    }

    /// Wakes sleeping revalidators so they re-read the clock (after `time/warp`), without
    /// asking for re-translation.
    pub fn revalidate_wake(&self) {
        self.wake.ring();
    }

    /// The current revalidation sequence number.
    pub fn reval_seq(&self) -> u64 {
        self.reval_seq.load(Ordering::Acquire)
    }

    /// The current dump sequence number (grows once per completed round).
    pub fn dump_seq(&self) -> u64 {
        self.dump_seq.load(Ordering::Acquire)
    }

    pub(crate) fn bump_dump_seq(&self) {
        self.dump_seq.fetch_add(1, Ordering::AcqRel);
        self.wake.ring();
    }

    /// The dynamic flow limit.
    pub fn flow_limit(&self) -> u32 {
        self.flow_limit.load(Ordering::Relaxed)
    }

    /// Stores a flow limit as is (`upcall/set-flow-limit`); the next round clamps it.
    pub fn set_flow_limit(&self, limit: u32) {
        self.flow_limit.store(limit, Ordering::Relaxed);
    }

    /// Duration of the last completed round in ms (0 before the first).
    pub fn dump_duration(&self) -> u64 {
        self.dump_duration.load(Ordering::Relaxed)
    }

    /// The leader's running average of the flow count.
    pub fn avg_n_flows(&self) -> u64 {
        self.avg_n_flows.load(Ordering::Relaxed)
    }

    /// The largest flow count the leader sampled.
    pub fn max_n_flows(&self) -> u64 {
        self.max_n_flows.load(Ordering::Relaxed)
    }

    /// True if dumps are terse: UFIDs enabled and supported by the datapath.
    pub fn use_ufid(&self) -> bool {
        self.config.ufid_enabled() && self.caps.ufid
    }

    /// The datapath flow count, cached for up to [`N_FLOWS_CACHE_MS`].
    pub fn n_flows(&self) -> u64 {
        self.n_flows_at(self.env.now())
    }

    /// [`Udpif::n_flows`] at time `now` (read by the caller from the engine's clock).
    pub(crate) fn n_flows_at(&self, now: u64) -> u64 {
        let ts = self.n_flows_timestamp.load(Ordering::Relaxed);
        let stale = ts == u64::MAX || ts.saturating_add(N_FLOWS_CACHE_MS) < now;
        if stale && let Some(_guard) = self.n_flows_mutex.try_lock() {
            self.n_flows_timestamp.store(now, Ordering::Relaxed);
            let n = self.dpif.dp_stats().n_flows;
            self.n_flows.store(n, Ordering::Relaxed);
            return n;
        }
        self.n_flows.load(Ordering::Relaxed)
    }

    /// Refreshes the cached datapath flow count now, whatever its age (the adaptive flow-limit
    /// policy does at every round start, so the round's eviction works from a current count).
    pub fn refresh_n_flows(&self) -> u64 {
        let _guard = self.n_flows_mutex.lock();
        let n = self.dpif.dp_stats().n_flows;
        self.n_flows.store(n, Ordering::Relaxed);
        self.n_flows_timestamp
            .store(self.env.now(), Ordering::Relaxed);
        n
    }

    /// Queued controller upcalls (drained).
    pub fn take_controller_upcalls(&self) -> Vec<ControllerUpcall> {
        self.controller_rx.try_iter().collect()
    }

    /// Queues a packet for the controller; if [`MAX_CONTROLLER_UPCALLS`] are already waiting it is
    /// dropped and counted (`packet_in_overflow`). Returns whether it was queued.
    pub(crate) fn queue_controller_upcall(&self, upcall: ControllerUpcall) -> bool {
        match self.controller_tx.try_send(upcall) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.env.coverage.inc(Counter::PacketInOverflow);
                false
            }
            // The receiver lives as long as this engine: cannot happen.
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Flows deleted for `reason` so far.
    pub fn deletions(&self, reason: DelReason) -> u64 {
        self.del_reasons
            .get(reason as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Upcalls consumed without install, by kind: (slow path, controller, sample, bad, xlate failed).
    pub fn upcall_counts(&self) -> (u64, u64, u64, u64, u64) {
        let c = &self.upcall_counts;
        (
            c.slow_path.load(Ordering::Relaxed),
            c.controller.load(Ordering::Relaxed),
            c.sample.load(Ordering::Relaxed),
            c.bad.load(Ordering::Relaxed),
            c.xlate_failed.load(Ordering::Relaxed),
        )
    }

    /// Upcalls handlers have finished with since start (whatever became of them): lets a
    /// caller that just caused misses wait until they are installed.
    pub fn upcalls_handled(&self) -> u64 {
        self.upcall_counts.handled.load(Ordering::Acquire)
    }

    /// Sleeps up to `timeout` until at least `n` upcalls have been handled since start; true if so.
    pub fn wait_upcalls_handled(&self, n: u64, timeout: std::time::Duration) -> bool {
        self.handled_wake
            .wait_until(timeout, || self.upcalls_handled() >= n)
    }

    /// Sleeps up to `timeout` for the dump sequence to move past `seq`; true if it did.
    pub fn wait_dump_seq_after(&self, seq: u64, timeout: std::time::Duration) -> bool {
        self.wake.wait_until(timeout, || self.dump_seq() != seq)
    }
}
