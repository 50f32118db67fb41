//! An in-memory [`Dpif`] for tests and benches: a flow table per forwarding thread, a packet
//! "send" that hits or misses it, upcall queues, and knobs to inject what real datapaths do to
//! their clients (failed ops, duplicated or missing flows in dumps, counters going backwards,
//! layer changes, a fake flow count).
//!
//! # Invariants
//! * Flows are named by `(UFID, pmd_id)`; a packet sent from forwarding thread `p` only matches
//!   flows of `p` (OVS's per-PMD tables). A create whose key is already covered by a flow of the
//!   same thread fails with `EEXIST`.
//! * A hit counts the packet in the flow's statistics; a miss queues an upcall and counts nothing
//!   in any flow (the handler executes the packet). So `hits + handled misses = packets sent`.
//! * A failed op reports zero statistics. A dump lists the flows present when it was created, in
//!   install order, with the statistics current when each is returned; flows deleted meanwhile are
//!   skipped (unless listed as duplicates).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use rvs_dpif::clock::Clock;
use rvs_dpif::dpif::{
    Capabilities, DpPort, DpStats, Dpif, DpifError, DpifFlow, DpifOp, Execute, FlowAttrs, FlowDel,
    FlowDump, FlowDumpThread, FlowOwner, FlowPut, FlowRef, FlowStats, NON_PMD_CORE_ID, OpResult,
    PMD_ID_NULL, TerseFlow, TerseVisitor, Upcall, UpcallKind,
};
use rvs_flow::odp::{OdpAction, Userdata};
use rvs_flow::ufid::{Ufid, UfidGenerator};
use rvs_flow::{Flow, Wildcards};

type FlowId = (Ufid, u32);
/// Per mask, masked key → flow.
type Subtables = Vec<(Wildcards, HashMap<Flow, FlowId>)>;

/// One installed flow.
#[derive(Clone, Debug)]
pub struct FakeFlow {
    /// Unmasked key.
    pub key: Flow,
    /// Mask.
    pub mask: Wildcards,
    /// Actions.
    pub actions: rvs_dpif::dpif::Actions,
    /// Statistics.
    pub stats: FlowStats,
    /// Datapath layer reported in dumps.
    pub layer: &'static str,
    /// "Offloaded" attribute reported in dumps.
    pub offloaded: bool,
    /// What the installer attached (handed back by `next_terse_visit`).
    owner: Option<FlowOwner>,
    seq: u64,
}

/// Faults to inject.
#[derive(Debug, Default)]
struct Faults {
    fail_creates: usize,
    fail_modifies: usize,
    fail_dels: usize,
    fail_dels_of: HashSet<Ufid>,
    duplicate: HashSet<Ufid>,
    hidden: HashSet<Ufid>,
    n_flows_override: Option<u64>,
    dump_batch_limit: Option<usize>,
}

#[derive(Debug, Default)]
struct Table {
    flows: HashMap<FlowId, FakeFlow>,
    /// Per forwarding thread: per mask, masked key → flow.
    classifier: HashMap<u32, Subtables>,
    next_seq: u64,
    faults: Faults,
}

impl Table {
    fn lookup(&self, pmd: u32, flow: &Flow) -> Option<FlowId> {
        let subtables = self.classifier.get(&pmd)?;
        subtables
            .iter()
            .find_map(|(mask, map)| map.get(&flow.masked(mask)).copied())
    }

    fn insert(&mut self, id: FlowId, f: FakeFlow) {
        let subtables = self.classifier.entry(id.1).or_default();
        let masked = f.key.masked(&f.mask);
        match subtables.iter_mut().find(|(m, _)| *m == f.mask) {
            Some((_, map)) => {
                map.insert(masked, id);
            }
            None => subtables.push((f.mask, HashMap::from([(masked, id)]))),
        }
        self.flows.insert(id, f);
    }

    fn remove(&mut self, id: &FlowId) -> Option<FakeFlow> {
        let f = self.flows.remove(id)?;
        if let Some(subtables) = self.classifier.get_mut(&id.1) {
            let masked = f.key.masked(&f.mask);
            for (m, map) in subtables.iter_mut() {
                if *m == f.mask && map.get(&masked) == Some(id) {
                    map.remove(&masked);
                }
            }
            subtables.retain(|(_, map)| !map.is_empty());
        }
        Some(f)
    }

    fn resolve(&self, r: &FlowRef, pmd: u32, ufids: &UfidGenerator) -> Option<FlowId> {
        let ufid = match r {
            FlowRef::Ufid(u) => *u,
            FlowRef::Key(k) => ufids.ufid_of_flow(k),
        };
        if pmd != PMD_ID_NULL {
            return self.flows.contains_key(&(ufid, pmd)).then_some((ufid, pmd));
        }
        self.flows.keys().find(|(u, _)| *u == ufid).copied()
    }
}

/// What happened to a sent packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendResult {
    /// It hit the flow with this UFID.
    Hit(Ufid),
    /// It missed; an upcall was queued.
    Miss,
    /// It missed and the upcall queue was full.
    Lost,
}

/// Datapath-wide counters of the fake.
#[derive(Debug, Default)]
pub struct FakeCounters {
    /// Packets that hit a flow.
    pub hits: AtomicU64,
    /// Packets that missed.
    pub misses: AtomicU64,
    /// Missed packets dropped (queue full).
    pub lost: AtomicU64,
    /// Packets executed by `operate`.
    pub executes: AtomicU64,
    /// Put ops seen (successful or not).
    pub puts: AtomicU64,
    /// Delete ops seen.
    pub dels: AtomicU64,
    /// `operate` calls.
    pub operate_calls: AtomicU64,
    /// Dumps started.
    pub dumps: AtomicU64,
}

/// The fake datapath.
pub struct FakeDpif {
    name: String,
    caps: Mutex<Capabilities>,
    clock: Arc<dyn Clock>,
    table: Mutex<Table>,
    queues: Mutex<Vec<VecDeque<Upcall>>>,
    queue_cv: Condvar,
    queue_limit: AtomicUsize,
    ufids: UfidGenerator,
    /// Counters.
    pub counters: FakeCounters,
}

impl std::fmt::Debug for FakeDpif {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakeDpif({})", self.name)
    }
}

impl FakeDpif {
    /// A fake named `dummy@ovs-dummy` with UFIDs and megaflows, one handler queue, unbounded.
    pub fn new(clock: Arc<dyn Clock>) -> FakeDpif {
        FakeDpif {
            name: "dummy@ovs-dummy".into(),
            caps: Mutex::new(Capabilities {
                ufid: true,
                megaflows: true,
            }),
            clock,
            table: Mutex::new(Table::default()),
            queues: Mutex::new(vec![VecDeque::new()]),
            queue_cv: Condvar::new(),
            queue_limit: AtomicUsize::new(usize::MAX),
            ufids: UfidGenerator::with_secret(0x5eed),
            counters: FakeCounters::default(),
        }
    }

    /// The UFID the fake gives a flow key (what upcalls carry).
    pub fn ufid_of(&self, flow: &Flow) -> Ufid {
        self.ufids.ufid_of_flow(flow)
    }

    /// Changes the reported capabilities.
    pub fn set_capabilities(&self, caps: Capabilities) {
        *self.caps.lock() = caps;
    }

    /// Bounds each upcall queue (misses beyond it are lost).
    pub fn set_queue_limit(&self, limit: usize) {
        self.queue_limit.store(limit, Ordering::Relaxed);
    }

    /// Sends a packet of `len` bytes from the main thread.
    pub fn send(&self, flow: &Flow, len: u64) -> SendResult {
        self.send_from(NON_PMD_CORE_ID, flow, len)
    }

    /// Sends a packet of `len` bytes from forwarding thread `pmd`.
    pub fn send_from(&self, pmd: u32, flow: &Flow, len: u64) -> SendResult {
        let now = self.clock.now_ms();
        let mut table = self.table.lock();
        if let Some(id) = table.lookup(pmd, flow)
            && let Some(f) = table.flows.get_mut(&id)
        {
            f.stats.n_packets += 1;
            f.stats.n_bytes += len;
            f.stats.used = now;
            f.stats.tcp_flags |= flow.tcp_flags;
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            let userspace: Vec<Vec<u8>> = f
                .actions
                .iter()
                .filter_map(|a| match a {
                    OdpAction::Userspace(u) => Some(match &u.userdata {
                        Some(Userdata::Cookie(c)) => c.to_bytes(),
                        Some(Userdata::Raw(b)) => b.clone(),
                        None => Vec::new(),
                    }),
                    _ => None,
                })
                .collect();
            drop(table);
            for userdata in userspace {
                self.queue(Upcall {
                    kind: UpcallKind::Action { userdata },
                    packet: vec![0; len as usize],
                    flow: *flow,
                    ufid: id.0,
                    pmd_id: pmd,
                });
            }
            return SendResult::Hit(id.0);
        }
        drop(table);
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let queued = self.queue(Upcall {
            kind: UpcallKind::Miss,
            packet: vec![0; len as usize],
            flow: *flow,
            ufid: self.ufids.ufid_of_flow(flow),
            pmd_id: pmd,
        });
        if queued {
            SendResult::Miss
        } else {
            self.counters.lost.fetch_add(1, Ordering::Relaxed);
            SendResult::Lost
        }
    }

    /// Queues an upcall to the handler chosen by its UFID; false if that queue is full.
    pub fn queue(&self, upcall: Upcall) -> bool {
        let mut queues = self.queues.lock();
        let n = queues.len();
        let limit = self.queue_limit.load(Ordering::Relaxed);
        let Some(q) = queues.get_mut(upcall.ufid.parts[0] as usize % n.max(1)) else {
            return false;
        };
        if q.len() >= limit {
            return false;
        }
        q.push_back(upcall);
        self.queue_cv.notify_all();
        true
    }

    /// Number of handler queues.
    pub fn n_queues(&self) -> usize {
        self.queues.lock().len()
    }

    /// Upcalls waiting in all queues.
    pub fn queued(&self) -> usize {
        self.queues.lock().iter().map(VecDeque::len).sum()
    }

    /// A copy of the flow `(ufid, pmd)`.
    pub fn flow(&self, ufid: Ufid, pmd: u32) -> Option<FakeFlow> {
        self.table.lock().flows.get(&(ufid, pmd)).cloned()
    }

    /// A copy of every flow with its name.
    pub fn flows(&self) -> Vec<(Ufid, u32, FakeFlow)> {
        self.table
            .lock()
            .flows
            .iter()
            .map(|((u, p), f)| (*u, *p, f.clone()))
            .collect()
    }

    /// Number of installed flows (the real count, ignoring any override).
    pub fn n_flows_real(&self) -> usize {
        self.table.lock().flows.len()
    }

    /// Sets a flow's statistics (e.g. make the counters go backwards).
    pub fn set_stats(&self, ufid: Ufid, pmd: u32, stats: FlowStats) {
        if let Some(f) = self.table.lock().flows.get_mut(&(ufid, pmd)) {
            f.stats = stats;
        }
    }

    /// Sets the layer a flow reports (`"ovs"`, `"tc"`...).
    pub fn set_layer(&self, ufid: Ufid, pmd: u32, layer: &'static str) {
        if let Some(f) = self.table.lock().flows.get_mut(&(ufid, pmd)) {
            f.layer = layer;
        }
    }

    /// Removes a flow behind the engine's back (it simply disappears).
    pub fn remove_silently(&self, ufid: Ufid, pmd: u32) -> Option<FakeFlow> {
        self.table.lock().remove(&(ufid, pmd))
    }

    /// The next `n` create puts fail with `ENOSPC`.
    pub fn fail_next_creates(&self, n: usize) {
        self.table.lock().faults.fail_creates = n;
    }
    /// The next `n` modify puts fail with `ENOENT`.
    pub fn fail_next_modifies(&self, n: usize) {
        self.table.lock().faults.fail_modifies = n;
    }
    /// The next `n` deletes fail with `ENOENT` (the flow stays).
    pub fn fail_next_dels(&self, n: usize) {
        self.table.lock().faults.fail_dels = n;
    }
    /// Deletes of `ufid` fail (the flow stays) while `on`.
    pub fn fail_dels_of(&self, ufid: Ufid, on: bool) {
        let mut t = self.table.lock();
        if on {
            t.faults.fail_dels_of.insert(ufid);
        } else {
            t.faults.fail_dels_of.remove(&ufid);
        }
    }
    /// Dumps return `ufid` twice while `on`.
    pub fn duplicate_in_dumps(&self, ufid: Ufid, on: bool) {
        let mut t = self.table.lock();
        if on {
            t.faults.duplicate.insert(ufid);
        } else {
            t.faults.duplicate.remove(&ufid);
        }
    }
    /// Dumps skip `ufid` while `on`.
    pub fn hide_from_dumps(&self, ufid: Ufid, on: bool) {
        let mut t = self.table.lock();
        if on {
            t.faults.hidden.insert(ufid);
        } else {
            t.faults.hidden.remove(&ufid);
        }
    }
    /// Marks a flow as offloaded (or not) in dumps.
    pub fn set_offloaded(&self, ufid: Ufid, pmd: u32, offloaded: bool) {
        if let Some(f) = self.table.lock().flows.get_mut(&(ufid, pmd)) {
            f.offloaded = offloaded;
        }
    }

    /// Makes each dump `next` call return at most `n` flows (`None`: as many as asked).
    pub fn limit_dump_batches(&self, n: Option<usize>) {
        self.table.lock().faults.dump_batch_limit = n;
    }

    /// Makes `dp_stats().n_flows` report `n` (or the real count again with `None`).
    pub fn override_n_flows(&self, n: Option<u64>) {
        self.table.lock().faults.n_flows_override = n;
    }

    fn to_dpif_flow(&self, id: FlowId, f: &FakeFlow, terse: bool) -> DpifFlow {
        DpifFlow {
            key: (!terse).then_some(f.key),
            mask: (!terse).then_some(f.mask),
            actions: (!terse).then(|| f.actions.clone()),
            ufid: id.0,
            ufid_present: true,
            pmd_id: id.1,
            stats: f.stats,
            attrs: FlowAttrs {
                offloaded: f.offloaded,
                dp_layer: f.layer,
            },
        }
    }

    fn put(&self, t: &mut Table, put: &FlowPut) -> Result<FlowStats, DpifError> {
        let ufid = put
            .ufid
            .unwrap_or_else(|| self.ufids.ufid_of_flow(&put.key));
        let id = (ufid, put.pmd_id);
        let existing = if t.flows.contains_key(&id) {
            Some(id)
        } else {
            t.lookup(put.pmd_id, &put.key)
        };
        match existing {
            Some(eid) if put.flags.modify => {
                if t.faults.fail_modifies > 0 {
                    t.faults.fail_modifies -= 1;
                    return Err(DpifError::NotFound);
                }
                let f = t.flows.get_mut(&eid).ok_or(DpifError::NotFound)?;
                f.actions = put.actions.clone();
                Ok(f.stats)
            }
            Some(_) => Err(DpifError::Exists),
            None if put.flags.create => {
                if t.faults.fail_creates > 0 {
                    t.faults.fail_creates -= 1;
                    return Err(DpifError::NoSpace);
                }
                t.next_seq += 1;
                let seq = t.next_seq;
                t.insert(
                    id,
                    FakeFlow {
                        key: put.key,
                        mask: put.mask,
                        actions: put.actions.clone(),
                        stats: FlowStats::default(),
                        layer: "ovs",
                        offloaded: false,
                        owner: put.owner.clone(),
                        seq,
                    },
                );
                Ok(FlowStats::default())
            }
            None => Err(DpifError::NotFound),
        }
    }

    fn del(&self, t: &mut Table, del: &FlowDel) -> Result<FlowStats, DpifError> {
        let id = t
            .resolve(&del.flow, del.pmd_id, &self.ufids)
            .ok_or(DpifError::NotFound)?;
        if t.faults.fail_dels > 0 {
            t.faults.fail_dels -= 1;
            return Err(DpifError::NotFound);
        }
        if t.faults.fail_dels_of.contains(&id.0) {
            return Err(DpifError::NotFound);
        }
        t.remove(&id).map(|f| f.stats).ok_or(DpifError::NotFound)
    }
}

impl Dpif for FakeDpif {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        *self.caps.lock()
    }

    fn operate(&self, ops: Vec<DpifOp>) -> Vec<OpResult> {
        self.counters.operate_calls.fetch_add(1, Ordering::Relaxed);
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            let mut t = self.table.lock();
            let r = match &op {
                DpifOp::Put(put) => {
                    self.counters.puts.fetch_add(1, Ordering::Relaxed);
                    self.put(&mut t, put).map(|s| (s, None))
                }
                DpifOp::Del(del) => {
                    self.counters.dels.fetch_add(1, Ordering::Relaxed);
                    self.del(&mut t, del).map(|s| (s, None))
                }
                DpifOp::Get(get) => t
                    .resolve(&get.flow, get.pmd_id, &self.ufids)
                    .and_then(|id| t.flows.get(&id).map(|f| (id, f)))
                    .map(|(id, f)| (f.stats, Some(self.to_dpif_flow(id, f, false))))
                    .ok_or(DpifError::NotFound),
                DpifOp::Execute(Execute { .. }) => {
                    self.counters.executes.fetch_add(1, Ordering::Relaxed);
                    Ok((FlowStats::default(), None))
                }
            };
            results.push(match r {
                Ok((stats, flow)) => OpResult {
                    error: None,
                    stats,
                    flow,
                },
                Err(e) => OpResult {
                    error: Some(e),
                    stats: FlowStats::default(),
                    flow: None,
                },
            });
        }
        results
    }

    fn flow_flush(&self) {
        let mut t = self.table.lock();
        t.flows.clear();
        t.classifier.clear();
    }

    fn flow_owners_clear(&self) {
        let owners: Vec<FlowOwner> = self
            .table
            .lock()
            .flows
            .values_mut()
            .filter_map(|f| f.owner.take())
            .collect();
        drop(owners);
    }

    fn flow_dump(&self, terse: bool) -> Box<dyn FlowDump + '_> {
        self.counters.dumps.fetch_add(1, Ordering::Relaxed);
        let t = self.table.lock();
        let mut flows: Vec<(&FlowId, &FakeFlow)> = t.flows.iter().collect();
        flows.sort_unstable_by_key(|(_, f)| f.seq);
        let mut order = Vec::with_capacity(flows.len());
        let mut duplicates = Vec::new();
        for (id, f) in flows {
            if t.faults.hidden.contains(&id.0) {
                continue;
            }
            order.push(DumpEntry {
                id: *id,
                snapshot: f.clone(),
                duplicate: false,
            });
            if t.faults.duplicate.contains(&id.0) {
                duplicates.push(DumpEntry {
                    id: *id,
                    snapshot: f.clone(),
                    duplicate: true,
                });
            }
        }
        order.extend(duplicates);
        Box::new(FakeDump {
            dpif: self,
            terse,
            order,
            cursor: AtomicUsize::new(0),
            batch_limit: t.faults.dump_batch_limit.unwrap_or(usize::MAX),
        })
    }

    fn dp_stats(&self) -> DpStats {
        let t = self.table.lock();
        DpStats {
            n_hit: self.counters.hits.load(Ordering::Relaxed),
            n_missed: self.counters.misses.load(Ordering::Relaxed),
            n_lost: self.counters.lost.load(Ordering::Relaxed),
            n_flows: t.faults.n_flows_override.unwrap_or(t.flows.len() as u64),
            ..DpStats::default()
        }
    }

    fn port_list(&self) -> Vec<DpPort> {
        Vec::new()
    }

    fn recv(&self, handler_id: usize, out: &mut Vec<Upcall>, max: usize) -> usize {
        let mut queues = self.queues.lock();
        let Some(q) = queues.get_mut(handler_id) else {
            return 0;
        };
        let n = max.min(q.len());
        out.extend(q.drain(..n));
        n
    }

    fn recv_wait(&self, handler_id: usize, timeout: Duration) {
        let mut queues = self.queues.lock();
        if queues.get(handler_id).is_some_and(|q| q.is_empty()) {
            self.queue_cv.wait_for(&mut queues, timeout);
        }
    }

    fn handlers_set(&self, n_handlers: usize) {
        let mut queues = self.queues.lock();
        let old: Vec<Upcall> = queues.iter_mut().flat_map(|q| q.drain(..)).collect();
        *queues = (0..n_handlers.max(1)).map(|_| VecDeque::new()).collect();
        let n = queues.len();
        for u in old {
            if let Some(q) = queues.get_mut(u.ufid.parts[0] as usize % n) {
                q.push_back(u);
            }
        }
    }
}

/// One flow of a dump: a copy taken when the dump started. A duplicate entry (listed after all
/// others, like a flow a datapath moved during the dump) reports the copy if its flow is gone or was
/// replaced; a normal entry reports the live flow, or nothing if it is gone.
struct DumpEntry {
    id: FlowId,
    snapshot: FakeFlow,
    duplicate: bool,
}

struct FakeDump<'a> {
    dpif: &'a FakeDpif,
    terse: bool,
    order: Vec<DumpEntry>,
    cursor: AtomicUsize,
    batch_limit: usize,
}

impl FlowDump for FakeDump<'_> {
    fn thread(&self) -> Box<dyn FlowDumpThread + '_> {
        Box::new(FakeDumpThread { dump: self })
    }
}

struct FakeDumpThread<'d, 'a> {
    dump: &'d FakeDump<'a>,
}

impl FakeDumpThread<'_, '_> {
    /// Calls `emit` on up to `max` dumped flows (live, or the snapshot of a duplicate entry whose
    /// flow is gone or was replaced); returns how many.
    fn next_with(&mut self, max: usize, mut emit: impl FnMut(FlowId, &FakeFlow)) -> usize {
        let d = self.dump;
        let max = max.min(d.batch_limit);
        let mut n = 0;
        while n < max {
            let i = d.cursor.fetch_add(1, Ordering::AcqRel);
            let Some(entry) = d.order.get(i) else { break };
            let t = d.dpif.table.lock();
            let live = t
                .flows
                .get(&entry.id)
                .filter(|f| f.seq == entry.snapshot.seq);
            let flow = match (live, entry.duplicate) {
                (Some(f), _) => Some(f),
                (None, true) => Some(&entry.snapshot),
                (None, false) => None,
            };
            if let Some(f) = flow {
                emit(entry.id, f);
                n += 1;
            }
        }
        n
    }
}

impl FlowDumpThread for FakeDumpThread<'_, '_> {
    fn next(&mut self, out: &mut Vec<DpifFlow>, max: usize) -> usize {
        let d = self.dump;
        self.next_with(max, |id, f| out.push(d.dpif.to_dpif_flow(id, f, d.terse)))
    }

    /// Hands back the owners, as the userspace datapath does, so that the engine's owner path is
    /// what every test over this datapath exercises.
    fn next_terse_visit(&mut self, max: usize, visit: &mut TerseVisitor<'_>) -> usize {
        let d = self.dump;
        let mut terse = Vec::new();
        let mut owners = Vec::new();
        let n = self.next_with(max, |id, f| {
            terse.push(TerseFlow::of(&d.dpif.to_dpif_flow(id, f, true)));
            owners.push(f.owner.clone());
        });
        if n > 0 {
            let refs: Vec<Option<&FlowOwner>> = owners.iter().map(Option::as_ref).collect();
            visit(&terse, &refs);
        }
        n
    }
}
