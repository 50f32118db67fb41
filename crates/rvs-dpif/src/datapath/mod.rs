//! The userspace datapath (OVS's `dpif-netdev`): ports, the megaflow cache, forwarding contexts with
//! their exact-match caches, per-thread flow statistics, upcall queues, and the [`Dpif`](crate::dpif::Dpif) contract.
//!
//! # Shape
//! * [`Datapath`] is a cheap handle (an `Arc`) on the shared state. It implements [`Dpif`](crate::dpif::Dpif).
//! * Flows live in **one table shared by every forwarding thread** (not one per thread as in OVS):
//!   one megaflow classifier ([`Dpcls`]) per input port, a UFID index (a lock-free `papaya` map) and
//!   dump slots. The `papaya` maps resize in blocking mode: the writer that grows a map (under the
//!   flow mutex, so the only writer) copies it at once, instead of every later insert helping to
//!   copy a share of it. Statistics are per thread through the `stats` module, so threads never write
//!   shared counters on the packet path. Every flow therefore reports `pmd_id` =
//!   [`NON_PMD_CORE_ID`] ("the main thread", as OVS's dummy datapath does), and so do upcalls, so
//!   that an upcall's `pmd_id` names the table its flow is installed in. The `pmd_id` of puts, gets
//!   and deletes is accepted and ignored.
//! * [`ForwardingThread`] is one forwarding context (OVS's PMD): its own exact-match cache, stats
//!   writer, executor and scratch space, with a synchronous entry point
//!   [`ForwardingThread::process_batch`]. [`Datapath::spawn_forwarding_threads`] runs some in
//!   threads that poll the ports.
//!
//! # Flow-table semantics (as dpif-netdev, checked against OVS 3.1 where the oracle shows them)
//! * A put looks for an existing flow by classifying its **unmasked key** in the in_port's
//!   classifier: found + modify → actions swapped, counters kept, pre-modify stats returned; found +
//!   create only → `EEXIST`; found + neither → `EINVAL` (overlapping); absent + create → installed
//!   with zero stats; absent + modify only → `ENOENT`. Modify with zero-stats swaps the actions and
//!   then fails with `EOPNOTSUPP` (the oracle shows the new actions after `mod-flow --clear` fails).
//! * A mask without an exact `in_port` → `EINVAL`; a wildcarded outer VLAN TCI mask is made exact
//!   (`vlan` absence is matched), as dpif-netdev does. A mask touching pipeline-only fields
//!   (`metadata`, registers) → `EINVAL`.
//! * A put without UFID is named by the UFID of its key ([`UfidGenerator`]); a get or delete by key
//!   looks up the UFID of that key (so, as in OVS, deleting by key finds only flows named that way).
//! * Deviation: OVS lets two flows with different keys share a UFID; here a create whose UFID
//!   names another installed flow fails with `EEXIST`.
//!
//! # Invariants
//! * Forwarding threads never take a lock on the packet path: classifiers, the UFID index, ports
//!   and upcall queues are read lock-free, statistics go to the thread's own buckets, and dropped
//!   flows hand their statistics id back through a lock-free channel (freed by the next writer).
//! * Writers (puts, deletes, flushes, classifier re-ranking) are serialised by the flow mutex.
//! * A deleted flow is marked dead before it leaves the classifier, so exact-match caches ignore it.
//! * A delete reads the flow's final statistics only after a grace period (one per `operate`
//!   batch): every forwarding context has since passed a quiescent point (the start of a batch) or
//!   gone offline (idle, or inside an inline miss callback) with the statistics of everything it
//!   classified added, so no hit of the flow is counted by nobody.
//! * The packet that caused a miss is not counted in any flow (the upcall path executes it).

mod counters;
mod dpif_impl;
mod dump;
mod flow_table;
mod forwarding;
mod megaflow;
mod ports;
mod progress;
mod show;
mod slots;
mod threads;
mod upcalls;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, Sender, unbounded};
use parking_lot::Mutex;
use rvs_flow::Wildcards;
use rvs_flow::extract::ExtractOptions;
use rvs_flow::ufid::{Ufid, UfidGenerator};
use rvs_netdev::{DummyNetdev, Netdev};

pub use dump::MAX_FLOWS_PER_NEXT;
pub use forwarding::ForwardingThread;
pub use megaflow::Megaflow;
pub use ports::{LOCAL_PORT, Port};
pub use progress::Stall;
pub use show::{DpShow, ShowPort};
pub use threads::ForwardingThreads;

use crate::clock::Clock;
use crate::dpcls::Dpcls;
use crate::dpif::{Actions, DpPort, DpifError, NON_PMD_CORE_ID};
use crate::emc::DEFAULT_INSERT_INV_PROB;
use crate::stats::{FlowStatsTable, GracePeriods, StatsId};
use counters::CounterRegistry;
use forwarding::PmdContext;
use ports::PortTable;
use progress::ProgressRegistry;
use slots::FlowSlots;
use upcalls::UpcallQueues;

/// Most recirculations of one packet (OVS's `MAX_RECIRC_DEPTH`).
pub const MAX_RECIRC_DEPTH: u8 = 6;

/// How a [`Datapath`] is set up.
#[derive(Clone, Debug)]
pub struct DatapathConfig {
    /// The datapath's name, also its local port's name (`ovs-dummy`, `ovs-netdev`).
    pub name: String,
    /// The datapath type, the prefix of its full name (`dummy` → `dummy@ovs-dummy`).
    pub dp_type: String,
    /// The local port's type as `dpctl/show` prints it (`dummy-internal`, `tap`).
    pub local_port_type: String,
    /// Number ports like OVS's dummy datapaths (the number in the name, `br*` from 100).
    pub test_port_numbering: bool,
    /// Exact-match cache insertion: 1 in this many classified packets; 0 turns the cache off.
    pub emc_insert_inv_prob: u32,
    /// VLAN headers parsed into flow keys (`other_config:vlan-limit`; ovs-vswitchd's default 1).
    pub vlan_limit: usize,
    /// Upcalls each handler queue holds before misses are lost.
    pub upcall_queue_len: usize,
    /// Handler queues at start (changed with `Dpif::handlers_set`).
    pub n_handlers: usize,
    /// Names flows put without a UFID, and misses.
    pub ufid_generator: UfidGenerator,
}

impl DatapathConfig {
    /// The configuration of OVS's dummy datapath `dummy@ovs-dummy` (what `--enable-dummy` gives).
    pub fn dummy() -> DatapathConfig {
        DatapathConfig {
            name: "ovs-dummy".into(),
            dp_type: "dummy".into(),
            local_port_type: "dummy-internal".into(),
            test_port_numbering: true,
            emc_insert_inv_prob: DEFAULT_INSERT_INV_PROB,
            vlan_limit: 1,
            upcall_queue_len: 1024,
            n_handlers: 1,
            ufid_generator: UfidGenerator::process(),
        }
    }

    /// The configuration of a userspace datapath `netdev@ovs-netdev` for real ports.
    pub fn netdev() -> DatapathConfig {
        DatapathConfig {
            name: "ovs-netdev".into(),
            dp_type: "netdev".into(),
            local_port_type: "tap".into(),
            test_port_numbering: false,
            ..DatapathConfig::dummy()
        }
    }
}

/// Flows the UFID index holds before its first resize: dpif-netdev's per-thread flow table limit
/// (`MAX_FLOWS`). A burst of new flows then installs without stopping to copy the index (about
/// 1 MiB of table, touched only as it fills).
const UFID_INDEX_CAPACITY: usize = 65_536;

/// What the flow mutex protects.
#[derive(Default)]
pub(crate) struct WriterState {
    /// One shared copy of each mask in use (hashed with foldhash: a mask is 240 bytes, and
    /// SipHash over it was a visible share of every flow install).
    masks: HashMap<Wildcards, Arc<Wildcards>, foldhash::fast::RandomState>,
    /// The actions handle of the latest installed flow: the next flow whose actions are the same
    /// allocation (the translator shares equal actions) reuses it instead of allocating its own.
    last_actions: Option<Arc<Actions>>,
}

/// State shared by the datapath handle and every forwarding context.
pub(crate) struct Shared {
    config: DatapathConfig,
    full_name: String,
    clock: Arc<dyn Clock>,
    extract_options: ExtractOptions,
    /// Serialises flow-table writers.
    flow_mutex: Mutex<WriterState>,
    /// One classifier per input port.
    classifiers: papaya::HashMap<u32, Arc<Dpcls<Megaflow>>, foldhash::fast::RandomState>,
    /// Installed flows by UFID.
    by_ufid: papaya::HashMap<Ufid, Arc<Megaflow>, foldhash::fast::RandomState>,
    /// Installed flows by statistics index (what dumps walk).
    slots: FlowSlots,
    /// Statistics of every flow.
    stats: FlowStatsTable,
    /// Grace periods: deletes read a flow's final statistics only after every forwarding context
    /// passed a quiescent point (`stats::grace`).
    grace: GracePeriods,
    /// Statistics ids of dropped flow records, freed by the next writer.
    released_tx: Sender<StatsId>,
    released_rx: Receiver<StatsId>,
    ports: ArcSwap<PortTable>,
    port_mutex: Mutex<()>,
    upcalls: UpcallQueues,
    counters: CounterRegistry,
    /// When each forwarding context entered its current batch (stall detection).
    progress: ProgressRegistry,
    /// Counters of control operations (upcalls dropped when the handlers change).
    control: Arc<counters::PmdCounters>,
    /// The exact-match cache knob, read by forwarding contexts once per batch.
    emc_insert_inv_prob: std::sync::atomic::AtomicU32,
    /// The context of work done outside forwarding threads (`execute`), OVS's non-PMD thread.
    non_pmd: Mutex<Option<PmdContext>>,
    /// Flows retired (killed and unlinked) so far: a cache swept clean since this last moved
    /// holds no dead flow (see `PmdContext::idle_sweep`).
    retired: std::sync::atomic::AtomicU64,
}

/// The userspace datapath. Cloning gives another handle on the same datapath.
#[derive(Clone)]
pub struct Datapath {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Datapath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Datapath({})", self.shared.full_name)
    }
}

impl Datapath {
    /// A datapath with only its local port (port 0, a dummy device named after the datapath).
    pub fn new(config: DatapathConfig, clock: Arc<dyn Clock>) -> Datapath {
        let (released_tx, released_rx) = unbounded();
        let counters = CounterRegistry::default();
        let control = counters.register();
        let local = Port {
            port_no: LOCAL_PORT,
            name: config.name.clone(),
            kind: config.local_port_type.clone(),
            config: Vec::new(),
            netdev: Arc::new(DummyNetdev::new(&config.name)),
        };
        let shared = Shared {
            full_name: format!("{}@{}", config.dp_type, config.name),
            clock,
            extract_options: ExtractOptions {
                vlan_limit: config.vlan_limit,
            },
            flow_mutex: Mutex::new(WriterState::default()),
            classifiers: papaya::HashMap::builder()
                .hasher(foldhash::fast::RandomState::default())
                .resize_mode(papaya::ResizeMode::Blocking)
                .build(),
            by_ufid: papaya::HashMap::builder()
                .hasher(foldhash::fast::RandomState::default())
                .resize_mode(papaya::ResizeMode::Blocking)
                .capacity(UFID_INDEX_CAPACITY)
                .build(),
            slots: FlowSlots::new(),
            stats: FlowStatsTable::new(),
            grace: GracePeriods::new(),
            released_tx,
            released_rx,
            ports: ArcSwap::from_pointee(PortTable::default().with(local)),
            port_mutex: Mutex::new(()),
            upcalls: UpcallQueues::new(config.n_handlers, config.upcall_queue_len),
            counters,
            progress: ProgressRegistry::default(),
            control,
            emc_insert_inv_prob: std::sync::atomic::AtomicU32::new(config.emc_insert_inv_prob),
            non_pmd: Mutex::new(None),
            retired: std::sync::atomic::AtomicU64::new(0),
            config,
        };
        Datapath {
            shared: Arc::new(shared),
        }
    }

    /// Adds a port: `netdev` under its own name, shown with type `kind` and `config` pairs; numbered
    /// `port_no` if given, else as OVS numbers ports. Errors: `EEXIST` if the name is taken, `EBUSY` if
    /// the number is, `EINVAL` for port number `u32::MAX`, `ENOSPC` if no number is free.
    pub fn port_add(
        &self,
        netdev: Arc<dyn Netdev>,
        kind: &str,
        config: Vec<(String, String)>,
        port_no: Option<u32>,
    ) -> Result<u32, DpifError> {
        let sh = &self.shared;
        let _serial = sh.port_mutex.lock();
        let current = sh.ports.load_full();
        let name = netdev.name().to_owned();
        if current.by_name(&name).is_some() {
            return Err(DpifError::Exists);
        }
        let port_no = match port_no {
            Some(u32::MAX) => return Err(DpifError::Invalid("port number ODPP_NONE".into())),
            Some(n) if current.get(n).is_some() => return Err(DpifError::Busy),
            Some(n) => n,
            None => current
                .choose_number(&name, sh.config.test_port_numbering)
                .ok_or(DpifError::NoSpace)?,
        };
        let mut config = config;
        config.sort();
        sh.ports.store(Arc::new(current.with(Port {
            port_no,
            name,
            kind: kind.to_owned(),
            config,
            netdev,
        })));
        Ok(port_no)
    }

    /// Removes port `port_no`. `EINVAL` for the local port, `ENODEV` if there is no such port.
    pub fn port_del(&self, port_no: u32) -> Result<(), DpifError> {
        let sh = &self.shared;
        if port_no == LOCAL_PORT {
            return Err(DpifError::Invalid("cannot delete the local port".into()));
        }
        let _serial = sh.port_mutex.lock();
        let current = sh.ports.load_full();
        if current.get(port_no).is_none() {
            return Err(DpifError::NoDevice);
        }
        sh.ports.store(Arc::new(current.without(port_no)));
        Ok(())
    }

    /// The device of port `port_no`.
    pub fn port_netdev(&self, port_no: u32) -> Option<Arc<dyn Netdev>> {
        self.shared
            .ports
            .load()
            .get(port_no)
            .map(|p| Arc::clone(&p.netdev))
    }

    /// The number of the port called `name`.
    pub fn port_number(&self, name: &str) -> Option<u32> {
        self.shared.ports.load().by_name(name).map(|p| p.port_no)
    }

    /// A new forwarding context with id `pmd_id` (its own exact-match cache and statistics writer).
    /// `None` only if the statistics table cannot register another writer (2³² of them).
    pub fn forwarding_thread(&self, pmd_id: u32) -> Option<ForwardingThread> {
        ForwardingThread::new(Arc::clone(&self.shared), pmd_id)
    }

    /// Sets the exact-match cache insertion probability to 1/`inv_prob` (0 = cache off) for every
    /// forwarding context, from its next batch on.
    pub fn set_emc_insert_inv_prob(&self, inv_prob: u32) {
        self.shared
            .emc_insert_inv_prob
            .store(inv_prob, std::sync::atomic::Ordering::Relaxed);
    }

    /// Flows taken out of the datapath so far (deleted, flushed, or gone with their port).
    pub fn flows_retired(&self) -> u64 {
        self.shared
            .retired
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Forwarding contexts (the non-PMD one included) that have been inside one batch for at
    /// least `min_ms` at `now_ms` (datapath clock): a context stuck in an inline miss or a loop
    /// stops forwarding and installing, so the daemon reports it.
    pub fn stalled_contexts(&self, now_ms: u64, min_ms: u64) -> Vec<Stall> {
        self.shared.progress.stalled(now_ms, min_ms)
    }

    /// Coverage counters (OVS's `datapath_drop_*` names where OVS has the counter).
    pub fn coverage(&self) -> Vec<(&'static str, u64)> {
        self.shared.counters.total().coverage()
    }

    /// Re-ranks every classifier's subtables by recent hits (busiest first). Forwarding contexts
    /// do this once a second on their own; tests and tools may call it directly.
    pub fn rerank(&self) {
        let _writer = self.shared.flow_mutex.lock();
        self.shared.rerank_locked();
    }

    /// Number of handler queues upcalls are spread over.
    pub fn n_handlers(&self) -> usize {
        self.shared.upcalls.n_handlers()
    }

    /// The ports as [`Dpif::port_list`](crate::dpif::Dpif::port_list) lists them.
    pub fn ports(&self) -> Vec<DpPort> {
        self.shared.ports.load().list()
    }

    /// The current time on the datapath's clock, in ms (what flow `used` times are relative to).
    pub fn now_ms(&self) -> u64 {
        self.shared.clock.now_ms()
    }
}

impl Shared {
    /// The classifier of `in_port`, if any flow was ever installed for it.
    #[inline]
    pub(crate) fn classifier(&self, in_port: u32) -> Option<Arc<Dpcls<Megaflow>>> {
        self.classifiers.pin().get(&in_port).cloned()
    }

    /// Re-ranks every classifier (caller holds the flow mutex).
    pub(crate) fn rerank_locked(&self) {
        for (_, cls) in self.classifiers.pin().iter() {
            cls.rerank();
        }
    }

    /// Re-ranks if no writer is busy; returns whether it did.
    pub(crate) fn try_rerank(&self) -> bool {
        match self.flow_mutex.try_lock() {
            Some(_writer) => {
                self.rerank_locked();
                true
            }
            None => false,
        }
    }

    /// The `pmd_id` every flow and upcall reports (the table is shared).
    pub(crate) const fn table_pmd_id() -> u32 {
        NON_PMD_CORE_ID
    }
}
