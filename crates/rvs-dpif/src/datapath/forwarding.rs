//! Forwarding contexts (OVS's PMD threads): receive a batch, classify it (exact-match cache, then the
//! in_port's megaflow classifier), execute the actions of each flow on its packets, count statistics
//! once per (batch, flow), and hand misses to the inline callback or queue them to the handlers.
//!
//! # Packet path of [`ForwardingThread::process_batch`]
//! 1. Frames shorter than 14 bytes are dropped (`datapath_drop_rx_invalid_packet`).
//! 2. Each frame is extracted (metadata: the input port; `vlan_limit` from the configuration) and
//!    hashed over its whole flow key.
//! 3. Exact-match cache lookup, then the top-ranked subtable of the input port's classifier, then
//!    the signature-match cache (both caches are off when `emc-insert-inv-prob` is 0), then the
//!    other subtables. Classifier hits enter the signature cache (every packet found after the
//!    top-ranked subtable) and the exact-match cache (each packet with the configured
//!    probability) after the batch is executed, as OVS inserts after its batch lookup; until then
//!    the caches are not modified, so cached flows are referred to by slot without touching their
//!    reference counts (no shared write per packet). Signature hits count as cache hits.
//!    Classifier subtables are re-ranked once a second, and after 10 ms when one subtable took
//!    most hits deeper than 8 subtables (a busy subtable behind idle ones, e.g. created after them).
//! 4. Misses, when an inline callback is registered ([`crate::dpif::UpcallCallback`], the default of
//!    the daemon, as OVS's dpif-netdev): each is handed to the callback on this thread, which
//!    translates it and may install its flow through a put; the packet is then executed here
//!    with the actions the callback returned, not counted in any flow (a failed upcall drops it
//!    and counts it lost). Once a miss of the chunk installed a flow, later misses are looked up
//!    again first, and a hit joins the groups of step 5. Without a callback misses are queued,
//!    **each packet on its own** (as the kernel datapath does, not only the first of identical
//!    flows): the handler executes every missed packet, so none is lost while its flow is being
//!    installed. There is then no second lookup (handlers install asynchronously). A full queue
//!    drops the packet and counts it lost.
//! 5. Hits are grouped by flow, in order of first appearance; each group's actions run on its
//!    packets in arrival order, and the flow's statistics get one update for the group (packets,
//!    bytes before any rewrite, OR of the flow keys' `tcp_flags` field, `now`).
//! 6. Outputs are collected per port and sent with one `tx_batch` per port at the end; recirculated
//!    packets are processed again (up to [`MAX_RECIRC_DEPTH`](super::MAX_RECIRC_DEPTH)) before that.
//!
//! # Invariants
//! * Deterministic: the result depends only on the packets, `now`, the flow table, the inline
//!   callback's answers and the context's own state (cache contents, seeded random generators).
//! * No lock is taken on the hit path; the only shared writes are upcall queue pushes and this
//!   context's counters. An inline miss takes the flow mutex for its put (and whatever the
//!   callback itself takes).
//! * Every packet is either sent, queued as an upcall, or dropped and counted; buffers of dropped
//!   and sent packets go back to the batch's spare pool.
//! * Each batch (and each `execute`) is bracketed by the context's batch clock (`progress.rs`): two
//!   relaxed stores to the context's own record, so a context stuck inside one batch is visible.
//! * Grace periods (`stats::grace`): the start of each chunk is a quiescent point (the context goes
//!   online there); every hit classified is added to its flow's statistics before the context goes
//!   offline (before an inline miss callback, at the end of [`ForwardingThread::process_batch`], when
//!   a polling thread idles). So a delete that waited for a grace period reads final statistics.
//!   Hits joining a group after its statistics were added (a second lookup after inline installs)
//!   are added too: each group counts what it has not counted yet.

use std::sync::Arc;

use rvs_flow::Flow;
use rvs_flow::extract::{HeaderLayout, PacketMetadata, extract_into};
use rvs_flow::odp::{OdpAction, Userdata, UserspaceAction};
use rvs_netdev::{MAX_BURST, Packet, PacketBatch};

use super::counters::{Counts, PmdCounters};
use super::megaflow::Megaflow;
use super::ports::{Port, PortTable};
use super::progress::BatchClock;
use super::{MAX_RECIRC_DEPTH, Shared};
use crate::dpcls::Dpcls;
use crate::dpif::{FlowPut, MissOutcome, MissUpcall, Upcall, UpcallKind};
use crate::emc::{Covers, EMC_ENTRIES, Emc, Smc, flow_hash};
use crate::execute::{ExecPacket, ExecSink, Executor, Headers};
use crate::stats::{QuiescentReader, StatsWriter};

/// Exact-match cache slots the slow sweep visits per batch.
const EMC_SWEEP_PER_BATCH: usize = 32;
/// Exact-match cache slots an idle context sweeps per call.
pub(super) const IDLE_EMC_SWEEP: usize = 1024;
/// Signature-match cache entries the slow sweep visits per batch (a full pass every 4096 batches).
const SMC_SWEEP_PER_BATCH: usize = 64;
/// Signature-match cache entries an idle context sweeps per call.
pub(super) const IDLE_SMC_SWEEP: usize = 8192;
/// How often a context re-ranks the classifiers' subtables (OVS's `DPCLS_OPTIMIZATION_INTERVAL`).
const RERANK_INTERVAL_MS: u64 = 1000;
/// Classifier hits deeper than this many subtables vote for their subtable (see
/// [`DeepHitVote`]); hits this shallow are cheap enough.
const FAST_RERANK_DEPTH: usize = 8;
/// Re-rank sooner, after [`FAST_RERANK_MIN_MS`], once one subtable leads the vote of deep hits
/// by this much (a busy subtable ranked behind others, e.g. created after them). Deep hits spread
/// over many subtables (an attacker cycling through its masks) never reach it.
const FAST_RERANK_VOTES: u32 = 64;
/// Shortest interval between two re-ranks.
const FAST_RERANK_MIN_MS: u64 = 10;
/// Subtables searched before the signature-match cache: a flow of the top-ranked subtable costs
/// one in-cache probe, cheaper than the cache's random access into a large table.
const SMC_AFTER_RANKS: usize = 1;
/// Spare buffers a context keeps between batches.
const SPARE_LIMIT: usize = 2 * MAX_BURST;

/// One packet waiting to be classified.
struct WorkItem {
    packet: Packet,
    md: PacketMetadata,
    depth: u8,
}

/// Where a group's flow came from.
enum GroupFlow {
    /// An exact-match cache slot (not modified while the chunk is processed).
    Cached(usize),
    /// A signature-match cache entry (not modified while the chunk is processed).
    Signature(usize),
    /// A classifier hit (an owned reference), and whether it was found after the subtables
    /// searched before the signature-match cache (then it enters that cache).
    Classified(Arc<Megaflow>, bool),
}

/// The flows hit by a batch: one group per flow.
struct Group {
    /// The flow's identity (its record's address).
    id: usize,
    flow: GroupFlow,
    /// Indices (into the current chunk) of the group's packets: `members[..n_members]`.
    members: [u8; MAX_BURST],
    n_members: usize,
    /// Members, bytes and OR-ed TCP flags not yet added to the flow's statistics.
    uncounted: u64,
    n_bytes: u64,
    tcp_flags: u16,
}

/// Where a context's idle sweeps stand: entries of each cache still to visit before both are
/// known to hold no flow retired before `retired` was read. Reset when that count moves or the
/// context processed packets (`busy`: entries may have been inserted behind the sweep).
#[derive(Debug, Default)]
struct IdleSweep {
    retired: u64,
    emc_left: usize,
    smc_left: usize,
    busy: bool,
    /// Sweep calls that visited entries (for tests).
    sweeps: u64,
}

/// Packets waiting to be sent, per port.
#[derive(Default)]
struct OutputBuffers {
    ports: Vec<(Arc<Port>, Vec<Packet>)>,
}

/// A forwarding context's own state (shared code for forwarding threads and the non-PMD context).
pub(crate) struct PmdContext {
    pmd_id: u32,
    emc: Emc<Megaflow>,
    emc_inv_prob: u32,
    smc: Smc<Megaflow>,
    /// Which subtable the deep classifier hits since the last re-rank were in, by majority vote.
    deep_hits: DeepHitVote,
    stats: StatsWriter,
    /// This context's quiescent state: online from its first classification until the statistics
    /// of every flow it classified are added (see `stats::grace`).
    quiescent: QuiescentReader,
    counters: Arc<PmdCounters>,
    /// When the current batch started (read by stall detection).
    batch_clock: Arc<BatchClock>,
    exec: Executor,
    last_rerank_ms: u64,
    /// Progress of the idle sweeps towards caches known to hold no dead flow.
    idle_sweep: IdleSweep,
    // Scratch space, reused batch after batch.
    keys: Vec<Flow>,
    layouts: Vec<HeaderLayout>,
    hashes: Vec<u32>,
    work: Vec<WorkItem>,
    recirc: Vec<WorkItem>,
    chunk: Vec<Option<WorkItem>>,
    groups: Vec<Group>,
    out: OutputBuffers,
    spare: Vec<Packet>,
    scratch: Flow,
}

/// A forwarding thread's context: its exact-match cache, statistics writer and scratch space.
///
/// Tests drive it directly with [`ForwardingThread::process_batch`]; [`super::Datapath::spawn_forwarding_threads`]
/// runs contexts in threads that poll the ports.
pub struct ForwardingThread {
    shared: Arc<Shared>,
    ctx: PmdContext,
}

impl ForwardingThread {
    pub(crate) fn new(shared: Arc<Shared>, pmd_id: u32) -> Option<ForwardingThread> {
        let ctx = PmdContext::new(&shared, pmd_id)?;
        Some(ForwardingThread { shared, ctx })
    }

    /// Processes one received batch from port `port_no` at time `now_ms`: every packet is sent,
    /// queued to a handler, or dropped and counted. The batch is left empty, with the buffers of
    /// dropped and sent packets in its spare pool.
    pub fn process_batch(&mut self, port_no: u32, batch: &mut PacketBatch, now_ms: u64) {
        self.ctx.process_batch(&self.shared, port_no, batch, now_ms);
        self.ctx.quiescent.leave();
    }

    /// [`ForwardingThread::process_batch`] for the polling loop: the context stays online after the
    /// batch (the next batch's start is its quiescent point) until [`ForwardingThread::go_offline`].
    pub(crate) fn process_batch_staying_online(
        &mut self,
        port_no: u32,
        batch: &mut PacketBatch,
        now_ms: u64,
    ) {
        self.ctx.process_batch(&self.shared, port_no, batch, now_ms);
    }

    /// Tells deletes not to wait for this context (it is about to wait for packets).
    pub(crate) fn go_offline(&mut self) {
        self.ctx.quiescent.leave();
    }

    /// Housekeeping when idle: re-ranks classifiers once a second (if no writer is busy) and
    /// drops exact-match cache entries of deleted flows (releasing their memory).
    ///
    /// Once both caches were swept end to end with no flow retired and no packet processed since
    /// the sweeps started, they hold no dead flow, and the sweeps stop until a flow is retired or
    /// a packet is processed: an idle daemon with a full cache does not touch every cached flow
    /// over and over (9,216 entries every 10 ms, most of them cache misses, competing with the
    /// revalidators for the memory bus and the processor's caches).
    pub fn idle(&mut self, now_ms: u64) {
        self.ctx.maybe_rerank(&self.shared, now_ms);
        let retired = self
            .shared
            .retired
            .load(std::sync::atomic::Ordering::Acquire);
        let ctx = &mut self.ctx;
        let sweep = &mut ctx.idle_sweep;
        if sweep.busy || sweep.retired != retired {
            *sweep = IdleSweep {
                retired,
                emc_left: EMC_ENTRIES,
                smc_left: ctx.smc.len(),
                busy: false,
                sweeps: sweep.sweeps,
            };
        }
        if sweep.emc_left == 0 && sweep.smc_left == 0 {
            return;
        }
        ctx.emc.sweep_dead(IDLE_EMC_SWEEP);
        ctx.smc.sweep_dead(IDLE_SMC_SWEEP);
        sweep.emc_left = sweep.emc_left.saturating_sub(IDLE_EMC_SWEEP);
        // (The signature cache allocates its entries on its first insert, in a batch: the reset
        // after that batch reads its new length.)
        sweep.smc_left = sweep.smc_left.saturating_sub(IDLE_SMC_SWEEP);
        sweep.sweeps += 1;
    }

    /// Idle sweep calls that visited cache entries (for tests).
    #[cfg(test)]
    pub(crate) fn idle_sweeps(&self) -> u64 {
        self.ctx.idle_sweep.sweeps
    }

    /// The context's id (given at creation).
    pub fn pmd_id(&self) -> u32 {
        self.ctx.pmd_id
    }

    /// Occupied exact-match cache slots (for tests and `dpif-netdev/pmd-stats-show`-like output).
    pub fn emc_occupied(&self) -> usize {
        self.ctx.emc.occupied()
    }
}

impl PmdContext {
    pub(crate) fn new(shared: &Shared, pmd_id: u32) -> Option<PmdContext> {
        let inv_prob = shared
            .emc_insert_inv_prob
            .load(std::sync::atomic::Ordering::Relaxed);
        let seed = pmd_id.wrapping_mul(0x9e37_79b9) ^ 0x5bd1_e995;
        Some(PmdContext {
            pmd_id,
            emc: Emc::new(inv_prob, seed),
            emc_inv_prob: inv_prob,
            smc: Smc::new(),
            deep_hits: DeepHitVote::default(),
            stats: shared.stats.register_writer()?,
            quiescent: shared.grace.register(),
            counters: shared.counters.register(),
            batch_clock: shared.progress.register(pmd_id),
            exec: Executor::new(shared.extract_options, seed.rotate_left(16)),
            last_rerank_ms: 0,
            idle_sweep: IdleSweep::default(),
            keys: vec![Flow::default(); MAX_BURST],
            layouts: vec![HeaderLayout::default(); MAX_BURST],
            hashes: vec![0; MAX_BURST],
            work: Vec::with_capacity(MAX_BURST),
            recirc: Vec::new(),
            chunk: Vec::with_capacity(MAX_BURST),
            groups: Vec::with_capacity(MAX_BURST),
            out: OutputBuffers::default(),
            spare: Vec::new(),
            scratch: Flow::default(),
        })
    }

    fn process_batch(
        &mut self,
        shared: &Shared,
        port_no: u32,
        batch: &mut PacketBatch,
        now_ms: u64,
    ) {
        self.batch_clock.enter(now_ms);
        self.idle_sweep.busy = true;
        self.sync_knobs(shared);
        let md = PacketMetadata::from_port(port_no);
        let mut counts = Counts::default();
        for packet in batch.take_all() {
            if packet.len() < 14 {
                counts.rx_invalid += 1;
                self.recycle(packet);
                continue;
            }
            self.work.push(WorkItem {
                packet,
                md,
                depth: 0,
            });
        }
        self.run(shared, now_ms, counts);
        for packet in self.spare.drain(..) {
            batch.recycle(packet);
        }
        self.emc.sweep_dead(EMC_SWEEP_PER_BATCH);
        self.smc.sweep_dead(SMC_SWEEP_PER_BATCH);
        self.maybe_rerank(shared, now_ms);
        self.batch_clock.leave();
    }

    /// Executes `actions` on one packet outside the packet path (the `execute` operation). The
    /// packet's metadata comes from `flow`; recirculated copies go through the classifier.
    pub(crate) fn execute(
        &mut self,
        shared: &Shared,
        packet: Packet,
        flow: &Flow,
        actions: &[OdpAction],
        now_ms: u64,
    ) {
        self.batch_clock.enter(now_ms);
        self.idle_sweep.busy = true;
        self.sync_knobs(shared);
        let md = metadata_of(flow);
        let headers = {
            let layout = extract_into(
                packet.data(),
                &md,
                &shared.extract_options,
                &mut self.keys[0],
            );
            (!layout.status.is_runt()).then(|| Headers::of(&self.keys[0], &layout))
        };
        let ports = shared.ports.load();
        let before = self.exec.counters;
        let mut counts = Counts::default();
        {
            let mut sink = Sink {
                shared,
                ports: &ports,
                out: &mut self.out,
                recirc: &mut self.recirc,
                spare: &mut self.spare,
                counts: &mut counts,
                depth: 0,
                scratch: &mut self.scratch,
            };
            self.exec
                .execute(ExecPacket::new(packet, md, headers), actions, &mut sink);
        }
        counts.add_exec(&self.exec.counters, &before);
        std::mem::swap(&mut self.work, &mut self.recirc);
        self.run(shared, now_ms, counts);
        self.spare.clear();
        self.quiescent.leave();
        self.batch_clock.leave();
    }

    /// Follows the configuration knobs that may change at run time.
    fn sync_knobs(&mut self, shared: &Shared) {
        let inv_prob = shared
            .emc_insert_inv_prob
            .load(std::sync::atomic::Ordering::Relaxed);
        if inv_prob != self.emc_inv_prob {
            self.emc.set_insert_inv_prob(inv_prob);
            if inv_prob == 0 {
                self.smc.clear();
            }
            self.emc_inv_prob = inv_prob;
        }
    }

    /// Re-ranks once a second, or after [`FAST_RERANK_MIN_MS`] when one subtable deep in a list
    /// took most of the deep hits (a busy subtable behind idle ones, e.g. created after them).
    fn maybe_rerank(&mut self, shared: &Shared, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.last_rerank_ms);
        let due = elapsed >= RERANK_INTERVAL_MS
            || (elapsed >= FAST_RERANK_MIN_MS && self.deep_hits.lead >= FAST_RERANK_VOTES);
        if due && shared.try_rerank() {
            self.last_rerank_ms = now_ms;
            self.deep_hits = DeepHitVote::default();
        }
    }

    /// Classifies and executes everything in `self.work` (and what it recirculates), then sends
    /// the outputs and publishes the counters.
    fn run(&mut self, shared: &Shared, now_ms: u64, mut counts: Counts) {
        let ports = shared.ports.load();
        let before = self.exec.counters;
        while !self.work.is_empty() {
            let take = self.work.len().min(MAX_BURST);
            self.chunk.clear();
            self.chunk.extend(self.work.drain(..take).map(Some));
            self.process_chunk(shared, &ports, now_ms, &mut counts);
            if self.work.is_empty() {
                std::mem::swap(&mut self.work, &mut self.recirc);
            }
        }
        counts.add_exec(&self.exec.counters, &before);
        self.flush_outputs(&mut counts);
        self.counters.add(&counts);
    }

    /// Classifies up to [`MAX_BURST`] packets and executes the hits.
    fn process_chunk(
        &mut self,
        shared: &Shared,
        ports: &PortTable,
        now_ms: u64,
        counts: &mut Counts,
    ) {
        // A quiescent point: every flow classified so far has its statistics added.
        self.quiescent.enter();
        self.groups.clear();
        let mut index = GroupIndex::default();
        let mut hit = [false; MAX_BURST];
        let mut cls: Option<(u32, Option<Arc<Dpcls<Megaflow>>>)> = None;
        let emc_on = self.emc.is_enabled();
        // Classification. The exact-match cache is not modified until the chunk is executed, so
        // groups can refer to cached flows by slot, without touching their reference counts.
        for (i, item) in self.chunk.iter().enumerate() {
            let Some(item) = item else { continue };
            let (Some(key), Some(layout), Some(hash)) = (
                self.keys.get_mut(i),
                self.layouts.get_mut(i),
                self.hashes.get_mut(i),
            ) else {
                break;
            };
            *layout = extract_into(item.packet.data(), &item.md, &shared.extract_options, key);
            *hash = flow_hash(key);
            if emc_on
                && let Some(slot) = self.emc.lookup_slot(key, *hash)
                && let Some(flow) = self.emc.target(slot)
            {
                counts.cache_hit += 1;
                counts.hit += 1;
                let id = Arc::as_ptr(flow) as usize;
                index.join(
                    &mut self.groups,
                    id,
                    || GroupFlow::Cached(slot),
                    i,
                    item,
                    key,
                );
                if let Some(h) = hit.get_mut(i) {
                    *h = true;
                }
                continue;
            }
            // The input port's classifier (looked up once per run of equal in_ports): its
            // top-ranked subtable, then the signature-match cache, then the other subtables.
            let in_port = item.md.in_port;
            if cls.as_ref().is_none_or(|(p, _)| *p != in_port) {
                cls = Some((in_port, shared.classifier(in_port)));
            }
            let classifier = cls.as_ref().and_then(|(_, c)| c.as_ref());
            let top = classifier.and_then(|c| c.lookup_ranked_in(key, 0..SMC_AFTER_RANKS));
            if top.is_none()
                && emc_on
                && let Some(slot) = self.smc.lookup_slot(key, *hash)
            {
                counts.cache_hit += 1;
                counts.hit += 1;
                let id = self.smc.target(slot).map_or(0, |f| Arc::as_ptr(f) as usize);
                index.join(
                    &mut self.groups,
                    id,
                    || GroupFlow::Signature(slot),
                    i,
                    item,
                    key,
                );
                if let Some(h) = hit.get_mut(i) {
                    *h = true;
                }
                continue;
            }
            let found = top.or_else(|| {
                classifier.and_then(|c| c.lookup_ranked_in(key, SMC_AFTER_RANKS..usize::MAX))
            });
            if let Some((flow, searched)) = found {
                counts.hit += 1;
                counts.mask_hit += searched as u64;
                if searched > FAST_RERANK_DEPTH {
                    self.deep_hits.vote(Arc::as_ptr(&flow.mask) as usize);
                }
                let id = Arc::as_ptr(&flow) as usize;
                let deep = searched > SMC_AFTER_RANKS;
                index.join(
                    &mut self.groups,
                    id,
                    || GroupFlow::Classified(flow, deep),
                    i,
                    item,
                    key,
                );
                if let Some(h) = hit.get_mut(i) {
                    *h = true;
                }
            }
        }
        // Hits: one statistics update per flow, before the misses (an inline miss can take a
        // while, and a revalidator deciding on a flow meanwhile should see its latest hits).
        self.add_group_stats(now_ms);
        // Misses: handled inline if a callback is registered, else queued one by one.
        let mut items = std::mem::take(&mut self.chunk);
        self.handle_misses(shared, ports, &hit, &mut items, &mut index, counts, now_ms);
        // Hits of the second lookup after inline installs.
        self.add_group_stats(now_ms);
        // Then the actions on each packet.
        for group in &self.groups {
            let flow = match &group.flow {
                GroupFlow::Cached(slot) => self.emc.target(*slot),
                GroupFlow::Signature(slot) => self.smc.target(*slot),
                GroupFlow::Classified(flow, _) => Some(flow),
            };
            let Some(flow) = flow else { continue };
            let actions = flow.actions.load();
            for &m in group.members.iter().take(group.n_members) {
                let m = usize::from(m);
                let Some(item) = items.get_mut(m).and_then(Option::take) else {
                    continue;
                };
                let headers = match (self.keys.get(m), self.layouts.get(m)) {
                    (Some(k), Some(l)) => Some(Headers::of(k, l)),
                    _ => None,
                };
                let mut sink = Sink {
                    shared,
                    ports,
                    out: &mut self.out,
                    recirc: &mut self.recirc,
                    spare: &mut self.spare,
                    counts: &mut *counts,
                    depth: item.depth,
                    scratch: &mut self.scratch,
                };
                self.exec.execute(
                    ExecPacket::new(item.packet, item.md, headers),
                    &actions,
                    &mut sink,
                );
            }
        }
        // Classifier hits go into the signature-match cache, and into the exact-match cache with
        // the insertion probability (both caches are off when the insertion probability is 0).
        for group in self.groups.iter().filter(|_| emc_on) {
            let GroupFlow::Classified(flow, deep) = &group.flow else {
                continue;
            };
            for &m in group.members.iter().take(group.n_members) {
                let m = usize::from(m);
                if let (Some(key), Some(&hash)) = (self.keys.get(m), self.hashes.get(m)) {
                    if *deep {
                        self.smc.insert(hash, flow);
                    }
                    self.emc.probabilistic_insert(key, hash, flow);
                }
            }
        }
        self.groups.clear();
        items.clear();
        self.chunk = items;
    }

    /// Adds each group's uncounted packets to its flow's statistics: one update per flow.
    fn add_group_stats(&mut self, now_ms: u64) {
        count_groups(
            &mut self.groups,
            &self.emc,
            &self.smc,
            &mut self.stats,
            now_ms,
        );
    }

    /// Deals with the chunk's misses (`hit[i]` false), taking their items out of `items`.
    ///
    /// With an inline callback: each miss is first looked up again if an earlier miss of this
    /// chunk installed a flow (a hit then joins the groups executed next, as in OVS's
    /// `fast_path_processing`); otherwise the callback translates it and may install its flow,
    /// and the packet is executed here with the returned actions, not counted in any flow.
    /// Without one: one upcall per packet is queued (or counted lost).
    #[allow(clippy::too_many_arguments)] // the chunk's state, borrowed apart from `self`
    fn handle_misses(
        &mut self,
        shared: &Shared,
        ports: &PortTable,
        hit: &[bool; MAX_BURST],
        items: &mut [Option<WorkItem>],
        index: &mut GroupIndex,
        counts: &mut Counts,
        now_ms: u64,
    ) {
        let any_miss = items
            .iter()
            .zip(hit.iter())
            .any(|(item, &h)| item.is_some() && !h);
        if !any_miss {
            return;
        }
        let callback = shared.upcalls.callback();
        let mut handled = 0usize;
        let mut installed_any = false;
        for (i, slot) in items.iter_mut().enumerate() {
            if hit.get(i).copied().unwrap_or(true) {
                continue;
            }
            let (Some(key), Some(&hash)) = (self.keys.get(i), self.hashes.get(i)) else {
                continue;
            };
            let Some(cb) = &callback else {
                let Some(item) = slot.take() else { continue };
                let upcall = Upcall {
                    kind: UpcallKind::Miss,
                    packet: item.packet.to_vec(),
                    flow: *key,
                    ufid: shared.config.ufid_generator.ufid_of_flow(key),
                    pmd_id: Shared::table_pmd_id(),
                };
                if shared.upcalls.push(hash, upcall) {
                    counts.missed += 1;
                } else {
                    counts.lost += 1;
                }
                recycle_into(&mut self.spare, item.packet);
                continue;
            };
            if installed_any
                && let Some(item) = slot.as_ref()
                && let Some((flow, searched)) = shared
                    .classifier(item.md.in_port)
                    .and_then(|c| c.lookup_ranked(key))
            {
                counts.hit += 1;
                counts.mask_hit += searched as u64;
                let id = Arc::as_ptr(&flow) as usize;
                let deep = searched > SMC_AFTER_RANKS;
                index.join(
                    &mut self.groups,
                    id,
                    || GroupFlow::Classified(flow, deep),
                    i,
                    item,
                    key,
                );
                continue;
            }
            let Some(item) = slot.take() else { continue };
            let miss = MissUpcall {
                packet: item.packet.data(),
                flow: key,
                ufid: shared.config.ufid_generator.ufid_of_flow(key),
                pmd_id: Shared::table_pmd_id(),
            };
            let mut installed = false;
            // The callback may block (locks, the flow mutex, a revalidator's delete waiting for a
            // grace period): count the hits classified so far and go offline meanwhile.
            count_groups(
                &mut self.groups,
                &self.emc,
                &self.smc,
                &mut self.stats,
                now_ms,
            );
            self.quiescent.leave();
            let outcome = cb.0.miss(&miss, &mut |put: &FlowPut| {
                let result = shared.put(put).map(|_| ());
                installed |= result.is_ok();
                result
            });
            self.quiescent.enter();
            installed_any |= installed;
            handled += 1;
            let actions = match outcome {
                MissOutcome::Execute(actions) => {
                    counts.missed += 1;
                    actions
                }
                MissOutcome::Failed => {
                    counts.lost += 1;
                    None
                }
            };
            match actions {
                Some(actions) if !actions.is_empty() => {
                    let headers = self.layouts.get(i).map(|l| Headers::of(key, l));
                    let mut sink = Sink {
                        shared,
                        ports,
                        out: &mut self.out,
                        recirc: &mut self.recirc,
                        spare: &mut self.spare,
                        counts: &mut *counts,
                        depth: item.depth,
                        scratch: &mut self.scratch,
                    };
                    self.exec.execute(
                        ExecPacket::new(item.packet, item.md, headers),
                        &actions,
                        &mut sink,
                    );
                }
                _ => recycle_into(&mut self.spare, item.packet),
            }
        }
        if let Some(cb) = &callback
            && handled > 0
        {
            cb.0.batch_done(handled);
        }
    }

    /// Sends every port's pending packets; their buffers return to the spare pool.
    fn flush_outputs(&mut self, counts: &mut Counts) {
        for (port, packets) in &mut self.out.ports {
            if packets.is_empty() {
                continue;
            }
            match port.netdev.tx_batch(packets) {
                Ok(sent) => counts.tx_failed += (packets.len() - sent.min(packets.len())) as u64,
                Err(_) => counts.tx_failed += packets.len() as u64,
            }
            for p in packets.drain(..) {
                if self.spare.len() < SPARE_LIMIT {
                    self.spare.push(p);
                }
            }
        }
        self.out.ports.clear();
    }

    fn recycle(&mut self, packet: Packet) {
        recycle_into(&mut self.spare, packet);
    }
}

/// Adds each group's uncounted packets to its flow's statistics (one update per flow) and marks
/// them counted.
fn count_groups(
    groups: &mut [Group],
    emc: &Emc<Megaflow>,
    smc: &Smc<Megaflow>,
    stats: &mut StatsWriter,
    now_ms: u64,
) {
    for group in groups.iter_mut().filter(|g| g.uncounted > 0) {
        let flow = match &group.flow {
            GroupFlow::Cached(slot) => emc.target(*slot),
            GroupFlow::Signature(slot) => smc.target(*slot),
            GroupFlow::Classified(flow, _) => Some(flow),
        };
        let Some(flow) = flow else { continue };
        stats.add(
            flow.stats_id,
            group.uncounted,
            group.n_bytes,
            now_ms,
            group.tcp_flags,
        );
        group.uncounted = 0;
        group.n_bytes = 0;
        group.tcp_flags = 0;
    }
}

/// Keeps `packet`'s buffer in `spare` unless the pool is full.
fn recycle_into(spare: &mut Vec<Packet>, packet: Packet) {
    if spare.len() < SPARE_LIMIT {
        spare.push(packet);
    }
}

/// A Boyer–Moore majority vote over the subtables (identified by their shared mask) of deep
/// classifier hits: `lead` grows only while one subtable takes more than half of them.
#[derive(Default)]
struct DeepHitVote {
    candidate: usize,
    lead: u32,
}

impl DeepHitVote {
    #[inline]
    fn vote(&mut self, subtable: usize) {
        if self.lead == 0 {
            self.candidate = subtable;
        }
        if self.candidate == subtable {
            self.lead = self.lead.saturating_add(1);
        } else {
            self.lead = self.lead.saturating_sub(1);
        }
    }
}

impl Covers for Megaflow {
    /// The packet arrived on the flow's input port (whose classifier holds it) and agrees with
    /// the flow's key on every bit of its mask.
    #[inline]
    fn covers(&self, packet: &Flow) -> bool {
        self.covers_packet(packet)
    }
}

/// Finds a chunk's group by flow identity: a 64-slot open-addressing table of group numbers.
struct GroupIndex {
    slots: [u8; GROUP_INDEX_SLOTS],
}

const GROUP_INDEX_SLOTS: usize = 64;
const NO_GROUP: u8 = u8::MAX;

impl Default for GroupIndex {
    fn default() -> Self {
        GroupIndex {
            slots: [NO_GROUP; GROUP_INDEX_SLOTS],
        }
    }
}

impl GroupIndex {
    /// Adds packet `i` to the group of flow `id`, creating the group (with `flow()`) at the flow's
    /// first packet.
    fn join(
        &mut self,
        groups: &mut Vec<Group>,
        id: usize,
        flow: impl FnOnce() -> GroupFlow,
        i: usize,
        item: &WorkItem,
        key: &Flow,
    ) {
        // Records are at least 8-byte aligned: skip the always-zero bits.
        let mut pos = (id >> 4) ^ (id >> 10);
        let g = loop {
            pos %= GROUP_INDEX_SLOTS;
            let Some(slot) = self.slots.get_mut(pos) else {
                return;
            };
            if *slot == NO_GROUP {
                *slot = groups.len() as u8;
                groups.push(Group {
                    id,
                    flow: flow(),
                    members: [0; MAX_BURST],
                    n_members: 0,
                    uncounted: 0,
                    n_bytes: 0,
                    tcp_flags: 0,
                });
                break usize::from(*slot);
            }
            if groups.get(usize::from(*slot)).is_some_and(|g| g.id == id) {
                break usize::from(*slot);
            }
            pos += 1;
        };
        if let Some(group) = groups.get_mut(g)
            && let Some(member) = group.members.get_mut(group.n_members)
        {
            *member = i as u8;
            group.n_members += 1;
            group.uncounted += 1;
            group.n_bytes += item.packet.len() as u64;
            group.tcp_flags |= key.tcp_flags;
        }
    }
}

/// The metadata a packet executed with `flow` carries.
pub(crate) fn metadata_of(flow: &Flow) -> PacketMetadata {
    PacketMetadata {
        in_port: flow.in_port,
        recirc_id: flow.recirc_id,
        dp_hash: flow.dp_hash,
        skb_priority: flow.skb_priority,
        skb_mark: flow.skb_mark,
        ct_state: flow.ct_state,
        ct_zone: flow.ct_zone,
        ct_mark: flow.ct_mark,
        ct_label: flow.ct_label,
        packet_type: flow.packet_type,
    }
}

/// Where the executor's packets go during a batch.
struct Sink<'a> {
    shared: &'a Shared,
    ports: &'a PortTable,
    out: &'a mut OutputBuffers,
    recirc: &'a mut Vec<WorkItem>,
    spare: &'a mut Vec<Packet>,
    counts: &'a mut Counts,
    depth: u8,
    scratch: &'a mut Flow,
}

impl ExecSink for Sink<'_> {
    fn output(&mut self, port_no: u32, packet: Packet) {
        if let Some((_, pkts)) = self
            .out
            .ports
            .iter_mut()
            .find(|(p, _)| p.port_no == port_no)
        {
            pkts.push(packet);
            return;
        }
        match self.ports.get(port_no) {
            Some(port) => self.out.ports.push((Arc::clone(port), vec![packet])),
            None => {
                self.counts.invalid_port += 1;
                self.drop_packet(packet);
            }
        }
    }

    fn userspace(&mut self, frame: &[u8], md: &PacketMetadata, action: &UserspaceAction) {
        extract_into(frame, md, &self.shared.extract_options, self.scratch);
        let userdata = match &action.userdata {
            Some(Userdata::Cookie(c)) => c.to_bytes(),
            Some(Userdata::Raw(bytes)) => bytes.clone(),
            None => Vec::new(),
        };
        let upcall = Upcall {
            kind: UpcallKind::Action { userdata },
            packet: frame.to_vec(),
            flow: *self.scratch,
            ufid: self.shared.config.ufid_generator.ufid_of_flow(self.scratch),
            pmd_id: Shared::table_pmd_id(),
        };
        if !self.shared.upcalls.push(flow_hash(self.scratch), upcall) {
            self.counts.userspace_lost += 1;
        }
    }

    fn recirculate(&mut self, packet: Packet, md: PacketMetadata) -> Result<(), Packet> {
        if self.depth >= MAX_RECIRC_DEPTH {
            self.counts.recirc_error += 1;
            return Err(packet);
        }
        self.recirc.push(WorkItem {
            packet,
            md,
            depth: self.depth + 1,
        });
        Ok(())
    }

    fn drop_packet(&mut self, packet: Packet) {
        if self.spare.len() < SPARE_LIMIT {
            self.spare.push(packet);
        }
    }
}
