//! The datapath interface (`Dpif`): what the upcall/revalidator engine may ask of a datapath.
//!
//! This is Open vSwitch's dpif contract (ovs-upcall.md §6.1) in Rust types:
//! * A flow is a key, a mask, actions and statistics; there are no priorities, and the client never
//!   installs overlapping flows. A flow is named by its [`Ufid`] when the datapath supports UFIDs, else by
//!   its key.
//! * Puts carry [`PutFlags`]: create (absent → create, else `EEXIST` unless modify), modify (present →
//!   swap actions keeping the counters and return the pre-modify stats, absent → `ENOENT` unless create),
//!   zero-stats, probe (no logging).
//! * Deletes return the flow's final statistics. `operate` runs a batch and reports a result per op; a failed
//!   put or delete always reports **zero** statistics (never attribute stats from a failed op).
//! * Dumps are multi-threaded: one [`FlowDump`] per round, one [`FlowDumpThread`] per participating thread;
//!   `next` fills up to `max` flows and returns 0 at the end. A flow that lived through the whole dump is
//!   returned at least once; a flow may be returned twice or missed if it was added or deleted meanwhile.
//!   A terse dump returns only UFID, statistics and attributes.
//! * Upcalls: every miss (and every `userspace()` action) is queued to one handler's bounded queue;
//!   handlers fetch them with [`Dpif::recv`]. A full queue drops the packet and counts it as lost.
//!   A datapath may instead hand misses **inline** to an [`UpcallCallback`] registered with
//!   [`Dpif::register_upcall_cb`] (OVS's `dpif_register_upcall_cb`): the forwarding thread that
//!   missed calls it, installs the flow it asks for and executes the packet itself; no queue, no
//!   loss. Datapaths without that support keep queueing.
//!
//! # Invariants
//! * Statistics are absolute counters since the flow was created (or last zeroed); `used` is a time in
//!   milliseconds on the datapath's clock, 0 meaning never.
//! * The packet that caused a miss is executed by the upcall path, not counted in the flow it installs.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rvs_flow::odp::OdpAction;
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};

/// Datapath actions, shared between the datapath, ukeys and dumps without copying.
pub type Actions = Arc<[OdpAction]>;

/// The pseudo forwarding-thread id of work done outside forwarding threads (OVS's `NON_PMD_CORE_ID`).
pub const NON_PMD_CORE_ID: u32 = u32::MAX;
/// "Any forwarding thread" (OVS's `PMD_ID_NULL`).
pub const PMD_ID_NULL: u32 = i32::MAX as u32;

/// Statistics of one datapath flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets matched.
    pub n_packets: u64,
    /// Bytes matched.
    pub n_bytes: u64,
    /// Last use, in ms on the datapath clock; 0 = never.
    pub used: u64,
    /// OR of the TCP flags of every matched packet.
    pub tcp_flags: u16,
}

impl FlowStats {
    /// Adds `other` in: counters summed, `used` the later, flags OR-ed.
    pub fn merge(&mut self, other: &FlowStats) {
        self.n_packets = self.n_packets.wrapping_add(other.n_packets);
        self.n_bytes = self.n_bytes.wrapping_add(other.n_bytes);
        self.used = self.used.max(other.used);
        self.tcp_flags |= other.tcp_flags;
    }
}

/// Where a flow lives (`dp:` in verbose dumps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowAttrs {
    /// True if (partly) offloaded to hardware; always false in the userspace datapath.
    pub offloaded: bool,
    /// The datapath layer: `"ovs"` for the userspace datapath.
    pub dp_layer: &'static str,
}

/// Flags of a flow put.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PutFlags {
    /// Create the flow if it is absent.
    pub create: bool,
    /// Modify the flow if it is present.
    pub modify: bool,
    /// Zero the statistics of a modified flow.
    pub zero_stats: bool,
    /// A feature probe: failures are expected and not logged.
    pub probe: bool,
}

impl PutFlags {
    /// `DPIF_FP_CREATE`.
    pub const CREATE: PutFlags = PutFlags {
        create: true,
        modify: false,
        zero_stats: false,
        probe: false,
    };
    /// `DPIF_FP_MODIFY`.
    pub const MODIFY: PutFlags = PutFlags {
        create: false,
        modify: true,
        zero_stats: false,
        probe: false,
    };
}

/// Errors of datapath operations, with the errno names OVS prints.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DpifError {
    /// `ENOENT`: no such flow (or port).
    #[error("No such file or directory")]
    NotFound,
    /// `EEXIST`: the flow exists and the put did not ask to modify it.
    #[error("File exists")]
    Exists,
    /// `EINVAL`: the request is malformed; the string says why (logged, not part of the errno text).
    #[error("Invalid argument")]
    Invalid(String),
    /// `EOPNOTSUPP`: e.g. zero-stats on a modify in the userspace datapath.
    #[error("Operation not supported")]
    NotSupported,
    /// `ENOSPC`: execute but do not install (flow limit), or a full queue.
    #[error("No space left on device")]
    NoSpace,
    /// `ENODEV`: no such port.
    #[error("No such device")]
    NoDevice,
    /// `EBUSY`: the port or object is in use.
    #[error("Device or resource busy")]
    Busy,
}

/// How to find a flow: by UFID (the key is then only for logging) or by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowRef {
    /// By unique flow id.
    Ufid(Ufid),
    /// By (unmasked) key. As in OVS's dpif-netdev, this names the flow whose UFID is the UFID of
    /// this key (a flow put without a UFID from the same key), not any flow whose match covers it.
    Key(Box<Flow>),
}

/// A flow put (create and/or modify).
#[derive(Clone, Debug)]
pub struct FlowPut {
    /// What to do if the flow exists / does not exist.
    pub flags: PutFlags,
    /// The unmasked key (the first packet's flow).
    pub key: Flow,
    /// The mask; `in_port` must be exact.
    pub mask: Wildcards,
    /// The actions; empty means drop.
    pub actions: Actions,
    /// The UFID, if the caller names flows by UFID.
    pub ufid: Option<Ufid>,
    /// Forwarding thread the flow belongs to, or [`PMD_ID_NULL`].
    pub pmd_id: u32,
    /// What the installer wants a dump to hand back with the flow (see [`FlowOwner`]); kept by a
    /// create, ignored by a modify.
    pub owner: Option<FlowOwner>,
}

/// An opaque reference that the installer of a flow attaches to it (the upcall engine attaches the
/// flow's ukey) and that [`FlowDumpThread::next_terse_visit`] hands back with the flow, so that
/// the dumper can reach its own record without a lookup. The datapath never looks inside; it keeps
/// the reference as long as the flow's record lives. A datapath may drop it (then dumps hand back
/// `None`), so a dumper must treat it as a hint and check that it names the dumped flow.
#[derive(Clone)]
pub struct FlowOwner(pub Arc<dyn Any + Send + Sync>);

impl fmt::Debug for FlowOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlowOwner(..)")
    }
}

/// A flow delete.
#[derive(Clone, Debug)]
pub struct FlowDel {
    /// Which flow.
    pub flow: FlowRef,
    /// Forwarding thread, or [`PMD_ID_NULL`] for all (statistics then summed).
    pub pmd_id: u32,
}

/// A flow get.
#[derive(Clone, Debug)]
pub struct FlowGet {
    /// Which flow.
    pub flow: FlowRef,
    /// Forwarding thread, or [`PMD_ID_NULL`] for the first found.
    pub pmd_id: u32,
}

/// Execution of actions on one packet (not counted in any flow's statistics).
#[derive(Clone, Debug)]
pub struct Execute {
    /// The frame.
    pub packet: Vec<u8>,
    /// The packet's flow (metadata such as `in_port` and `recirc_id` comes from here).
    pub flow: Flow,
    /// What to do with it.
    pub actions: Actions,
    /// A probe: failures are expected and not logged.
    pub probe: bool,
}

/// One operation of a batch.
///
/// Ops are built in batches of up to 128 and moved into `operate`; boxing the flow-carrying variants would
/// add an allocation per op for no gain, hence the allowed size difference.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum DpifOp {
    /// Install or modify a flow.
    Put(FlowPut),
    /// Delete a flow.
    Del(FlowDel),
    /// Read a flow.
    Get(FlowGet),
    /// Execute actions on a packet.
    Execute(Execute),
}

/// A flow as returned by a dump or a get.
#[derive(Clone, Debug)]
pub struct DpifFlow {
    /// The unmasked key; `None` in a terse dump.
    pub key: Option<Flow>,
    /// The mask; `None` in a terse dump.
    pub mask: Option<Wildcards>,
    /// The actions; `None` in a terse dump.
    pub actions: Option<Actions>,
    /// The flow's UFID.
    pub ufid: Ufid,
    /// True if the datapath knows the flow by this UFID.
    pub ufid_present: bool,
    /// Forwarding thread the flow belongs to.
    pub pmd_id: u32,
    /// Statistics at the time of the dump.
    pub stats: FlowStats,
    /// Where the flow lives.
    pub attrs: FlowAttrs,
}

/// Result of one op of a batch.
#[derive(Clone, Debug, Default)]
pub struct OpResult {
    /// `None` on success.
    pub error: Option<DpifError>,
    /// Pre-modify stats of a put, final stats of a delete, current stats of a get; zero on error.
    pub stats: FlowStats,
    /// The flow read by a get.
    pub flow: Option<DpifFlow>,
}

/// Why a packet went to userspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpcallKind {
    /// No flow matched.
    Miss,
    /// A `userspace(...)` action sent it; the userdata bytes identify why.
    Action {
        /// The action's userdata.
        userdata: Vec<u8>,
    },
}

/// A packet handed up to a handler.
#[derive(Clone, Debug)]
pub struct Upcall {
    /// Miss or action.
    pub kind: UpcallKind,
    /// The frame.
    pub packet: Vec<u8>,
    /// The packet's flow, with metadata.
    pub flow: Flow,
    /// UFID of the unmasked flow (what a flow installed for it will be named).
    pub ufid: Ufid,
    /// The flow table the packet missed in; pass it back as the put's `pmd_id`. The userspace
    /// datapath has one table shared by every forwarding thread and reports [`NON_PMD_CORE_ID`].
    pub pmd_id: u32,
}

/// Datapath-wide counters (`dpctl/show`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DpStats {
    /// Packets that matched a flow.
    pub n_hit: u64,
    /// Packets that missed and were queued to a handler or handled by the inline callback.
    pub n_missed: u64,
    /// Packets that missed and were dropped because an upcall queue was full (or there was no
    /// handler) or their inline upcall failed; as in dpif-netdev, `n_hit + n_missed + n_lost` is the number of packets looked up.
    pub n_lost: u64,
    /// Installed flows.
    pub n_flows: u64,
    /// Subtables (distinct masks) in the megaflow classifiers.
    pub n_masks: u64,
    /// Packets that hit in a subtable (for the hit/pkt ratio of `masks:`).
    pub n_mask_hit: u64,
    /// Packets that hit in the exact-match cache.
    pub n_cache_hit: u64,
}

/// What the datapath supports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Flows can be named by UFID, and dumps can be terse.
    pub ufid: bool,
    /// Masks other than exact are honoured.
    pub megaflows: bool,
}

/// A datapath port as listed by [`Dpif::port_list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpPort {
    /// Datapath port number.
    pub port_no: u32,
    /// Port name.
    pub name: String,
    /// Port type (`dummy`, `pcap`, `afpacket`, `internal`, ...).
    pub kind: String,
}

/// One flow dump in progress (one per revalidation round).
pub trait FlowDump: Send + Sync {
    /// A cursor for one participating thread; all threads' cursors share the dump's position.
    fn thread(&self) -> Box<dyn FlowDumpThread + '_>;
}

/// One thread's view of a dump.
pub trait FlowDumpThread: Send {
    /// Appends up to `max` flows to `out`; returns how many, 0 at the end of the dump.
    fn next(&mut self, out: &mut Vec<DpifFlow>, max: usize) -> usize;

    /// [`FlowDumpThread::next`] returning only the terse part of each flow (no key, mask or
    /// actions, even if the dump is not terse). The default goes through `next`; a datapath that
    /// can avoid building full records overrides it. The same cursor serves both calls.
    fn next_terse(&mut self, out: &mut Vec<TerseFlow>, max: usize) -> usize {
        let mut full = Vec::with_capacity(max);
        let n = self.next(&mut full, max);
        out.extend(full.iter().map(TerseFlow::of));
        n
    }

    /// Visits up to `max` flows of the dump, in one or more groups: `visit(flows, owners)` gets
    /// the terse parts of a group and, at the same index, the [`FlowOwner`] each flow's installer
    /// attached (`None` if none, or if the datapath does not keep owners); returns how many flows
    /// were visited, 0 at the end of the dump. `visit` runs while the datapath may hold internal
    /// read locks: it must not call back into the datapath and must not wait for a lock that a
    /// datapath caller could hold (try-locks only). The default goes through `next_terse` and
    /// passes no owner, in one group. The same cursor serves every call.
    fn next_terse_visit(&mut self, max: usize, visit: &mut TerseVisitor<'_>) -> usize {
        let mut terse = Vec::with_capacity(max);
        let n = self.next_terse(&mut terse, max);
        let owners = vec![None; terse.len()];
        if !terse.is_empty() {
            visit(&terse, &owners);
        }
        n
    }
}

/// Operations started by [`Dpif::operate_begin`].
pub trait PendingOps: Send {
    /// True if [`PendingOps::finish`] would return without waiting. Never waits.
    fn ready(&mut self) -> bool;

    /// The results, one per op in order, waiting for them if needed.
    fn finish(self: Box<Self>) -> Vec<OpResult>;
}

/// Operations whose results are already known.
#[derive(Debug)]
pub struct FinishedOps(pub Vec<OpResult>);

impl PendingOps for FinishedOps {
    fn ready(&mut self) -> bool {
        true
    }

    fn finish(self: Box<Self>) -> Vec<OpResult> {
        self.0
    }
}

/// The visitor of [`FlowDumpThread::next_terse_visit`]: a group of dumped flows and their owners.
pub type TerseVisitor<'v> = dyn FnMut(&[TerseFlow], &[Option<&FlowOwner>]) + 'v;

/// The terse part of a dumped flow (OVS's UFID dumps): name, statistics and attributes.
#[derive(Clone, Copy, Debug)]
pub struct TerseFlow {
    /// The flow's UFID.
    pub ufid: Ufid,
    /// True if the datapath knows the flow by this UFID.
    pub ufid_present: bool,
    /// Forwarding thread the flow belongs to.
    pub pmd_id: u32,
    /// Statistics at the time of the dump.
    pub stats: FlowStats,
    /// Where the flow lives.
    pub attrs: FlowAttrs,
}

impl TerseFlow {
    /// The terse part of `flow`.
    pub fn of(flow: &DpifFlow) -> TerseFlow {
        TerseFlow {
            ufid: flow.ufid,
            ufid_present: flow.ufid_present,
            pmd_id: flow.pmd_id,
            stats: flow.stats,
            attrs: flow.attrs,
        }
    }

    /// The flow as a terse dump returns it (no key, mask or actions).
    pub fn to_flow(&self) -> DpifFlow {
        DpifFlow {
            key: None,
            mask: None,
            actions: None,
            ufid: self.ufid,
            ufid_present: self.ufid_present,
            pmd_id: self.pmd_id,
            stats: self.stats,
            attrs: self.attrs,
        }
    }
}

/// The datapath interface.
pub trait Dpif: Send + Sync {
    /// The datapath's name as `upcall/show` prints it, e.g. `netdev@ovs-netdev`.
    fn name(&self) -> &str;

    /// What the datapath supports.
    fn capabilities(&self) -> Capabilities;

    /// Runs a batch; returns one result per op, in order.
    fn operate(&self, ops: Vec<DpifOp>) -> Vec<OpResult>;

    /// Starts `ops` like [`Dpif::operate`], but may return before the results of deletes are
    /// final (a datapath that must wait for its forwarding threads before reading a deleted flow's
    /// last statistics lets the caller do other work meanwhile). The deleted flows are already
    /// gone from lookups and dumps when this returns; [`PendingOps::finish`] gives every result,
    /// exactly as `operate` would have. The default runs `operate` at once.
    fn operate_begin(&self, ops: Vec<DpifOp>) -> Box<dyn PendingOps + '_> {
        Box::new(FinishedOps(self.operate(ops)))
    }

    /// Deletes every flow.
    fn flow_flush(&self);

    /// Drops every [`FlowOwner`] attached to installed flows (their installer is going away, and
    /// must not be kept alive by the datapath); the flows stay. The default keeps no owners.
    fn flow_owners_clear(&self) {}

    /// Starts a dump; `terse` asks for UFID + stats only.
    fn flow_dump(&self, terse: bool) -> Box<dyn FlowDump + '_>;

    /// Datapath-wide counters.
    fn dp_stats(&self) -> DpStats;

    /// The ports.
    fn port_list(&self) -> Vec<DpPort>;

    /// Moves up to `max` queued upcalls of handler `handler_id` into `out`, without blocking.
    fn recv(&self, handler_id: usize, out: &mut Vec<Upcall>, max: usize) -> usize;

    /// Blocks until handler `handler_id` has an upcall or `timeout` passes.
    fn recv_wait(&self, handler_id: usize, timeout: Duration);

    /// Sets the number of handler queues upcalls are spread over.
    fn handlers_set(&self, n_handlers: usize);

    /// Registers (`Some`) or removes (`None`) the inline miss handler. Returns false if the
    /// datapath cannot call one (the default): its misses keep going to the handler queues.
    fn register_upcall_cb(&self, cb: Option<Arc<dyn UpcallCallback>>) -> bool {
        drop(cb);
        false
    }

    /// Installs or modifies one flow.
    fn flow_put(&self, put: FlowPut) -> Result<FlowStats, DpifError> {
        single(self.operate(vec![DpifOp::Put(put)]))
    }

    /// Deletes one flow, returning its final statistics.
    fn flow_del(&self, del: FlowDel) -> Result<FlowStats, DpifError> {
        single(self.operate(vec![DpifOp::Del(del)]))
    }

    /// Reads one flow.
    fn flow_get(&self, get: FlowGet) -> Result<DpifFlow, DpifError> {
        let mut results = self.operate(vec![DpifOp::Get(get)]);
        match results.pop() {
            Some(OpResult {
                error: None,
                flow: Some(flow),
                ..
            }) => Ok(flow),
            Some(OpResult { error: Some(e), .. }) => Err(e),
            _ => Err(DpifError::NotFound),
        }
    }

    /// Executes actions on one packet.
    fn execute(&self, exec: Execute) -> Result<(), DpifError> {
        single(self.operate(vec![DpifOp::Execute(exec)])).map(|_| ())
    }
}

/// A miss handed to an [`UpcallCallback`]: borrowed from the forwarding thread, nothing copied.
#[derive(Clone, Copy, Debug)]
pub struct MissUpcall<'a> {
    /// The frame.
    pub packet: &'a [u8],
    /// The packet's flow, with metadata.
    pub flow: &'a Flow,
    /// UFID of the unmasked flow (what a flow installed for it is named).
    pub ufid: Ufid,
    /// The flow table the packet missed in (as [`Upcall::pmd_id`]).
    pub pmd_id: u32,
}

/// Installs one flow for an inline miss, in the datapath and table that missed (a put with the
/// semantics of [`DpifOp::Put`]).
pub type FlowInstaller<'a> = dyn FnMut(&FlowPut) -> Result<(), DpifError> + 'a;

/// What an inline miss came to.
#[derive(Clone, Debug)]
pub enum MissOutcome {
    /// Execute these actions on the packet (none: drop it). Counted as missed.
    Execute(Option<Actions>),
    /// The upcall failed (no translation, unknown port, engine gone): the packet is dropped and
    /// counted lost (`datapath_drop_upcall_error`), as dpif-netdev counts an upcall error.
    Failed,
}

/// The engine's inline miss handler (OVS's upcall callback), called by forwarding threads.
///
/// Contract: `miss` runs on the forwarding thread that missed, possibly on several threads at
/// once (for the same flow too). It may call `install` at most once; the datapath executes the
/// actions of [`MissOutcome::Execute`] on the packet and does not count the packet in any flow.
/// After each batch in which it handled misses, the thread calls `batch_done` once.
pub trait UpcallCallback: Send + Sync {
    /// Handles one miss.
    fn miss(&self, miss: &MissUpcall<'_>, install: &mut FlowInstaller<'_>) -> MissOutcome;

    /// `n` misses of one batch were handled by [`UpcallCallback::miss`].
    fn batch_done(&self, n: usize);
}

fn single(mut results: Vec<OpResult>) -> Result<FlowStats, DpifError> {
    match results.pop() {
        Some(OpResult {
            error: None, stats, ..
        }) => Ok(stats),
        Some(OpResult { error: Some(e), .. }) => Err(e),
        None => Err(DpifError::Invalid("empty result".into())),
    }
}

impl fmt::Display for FlowRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowRef::Ufid(u) => write!(f, "ufid:{u}"),
            FlowRef::Key(k) => write!(f, "in_port({})", k.in_port),
        }
    }
}
