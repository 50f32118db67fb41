//! Flow-table writes and reads: put (create / modify), delete, get, flush. The semantics are listed
//! in the `datapath` module documentation.
//!
//! # Invariants
//! * Every write runs under the flow mutex. An install publishes the flow in the classifier, then
//!   the UFID index, then the dump slots; a delete marks it dead first, then takes it out of the
//!   index, the classifier and the slots. A delete reads the final statistics only after a grace
//!   period, taken without the mutex (see `stats::grace`).
//! * Statistics ids of dropped records are freed only here, under the mutex (they arrive through
//!   a lock-free channel from wherever the last reference was dropped).
//! * A failed operation changes nothing, except a modify with zero-stats, which swaps the actions
//!   and then reports `EOPNOTSUPP`, as OVS does.

use std::sync::Arc;

use rvs_flow::flow::{VLAN_CFI, VLAN_VID_MASK};
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};

use super::megaflow::Megaflow;
use super::slots::SlotEntry;
use super::{Shared, WriterState};
use crate::dpcls::{Dpcls, InsertError};
use crate::dpif::{DpifError, DpifFlow, FlowAttrs, FlowPut, FlowRef, FlowStats, TerseFlow};
use crate::stats::StatsId;

/// How long a delete waits for a forwarding context to pass a quiescent point before it gives up
/// (and counts it): far longer than a batch, long enough for a descheduled thread to run again.
pub(crate) const GRACE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(200);

/// `dp_layer` of every flow of the userspace datapath.
const DP_LAYER: &str = "ovs";

impl Shared {
    /// The UFID a flow reference names.
    pub(crate) fn ufid_of(&self, flow: &FlowRef) -> Ufid {
        match flow {
            FlowRef::Ufid(u) => *u,
            FlowRef::Key(key) => self.config.ufid_generator.ufid_of_flow(key),
        }
    }

    /// Current statistics of `flow` (zero if its id was already freed, which cannot happen while
    /// the record is referenced).
    pub(crate) fn flow_stats(&self, flow: &Megaflow) -> FlowStats {
        self.stats_of(flow.stats_id)
    }

    /// Current statistics under `id` (zero if it was already freed, which cannot happen while
    /// the flow's record is referenced, e.g. by its dump slot).
    fn stats_of(&self, id: StatsId) -> FlowStats {
        self.stats.read(id).map(to_dpif_stats).unwrap_or_default()
    }

    /// The flow as a get or dump returns it.
    pub(crate) fn to_dpif_flow(&self, flow: &Megaflow, terse: bool) -> DpifFlow {
        DpifFlow {
            key: (!terse).then(|| flow.key()),
            mask: (!terse).then(|| *flow.mask),
            actions: (!terse).then(|| flow.actions()),
            ufid: flow.ufid,
            ufid_present: true,
            pmd_id: Shared::table_pmd_id(),
            stats: self.flow_stats(flow),
            attrs: FlowAttrs {
                offloaded: false,
                dp_layer: DP_LAYER,
            },
        }
    }

    /// The flow of a dump slot as a terse dump returns it, from the copies the slot holds (the
    /// record itself is not read).
    pub(crate) fn slot_terse_flow(&self, entry: &SlotEntry) -> TerseFlow {
        TerseFlow {
            ufid: entry.ufid,
            ufid_present: true,
            pmd_id: Shared::table_pmd_id(),
            stats: self.stats_of(entry.stats_id),
            attrs: FlowAttrs {
                offloaded: false,
                dp_layer: DP_LAYER,
            },
        }
    }

    /// Installs or modifies a flow; returns the pre-modify statistics (zero for a create).
    pub(crate) fn put(&self, put: &FlowPut) -> Result<FlowStats, DpifError> {
        let mut mask = put.mask;
        validate_mask(&mask)?;
        if mask.masks.vlans[0].tci == 0 {
            mask.masks.vlans[0].tci = VLAN_VID_MASK | VLAN_CFI;
        }
        let ufid = put
            .ufid
            .unwrap_or_else(|| self.config.ufid_generator.ufid_of_flow(&put.key));
        let in_port = put.key.in_port;

        let mut writer = self.flow_mutex.lock();
        self.free_released();
        let existing = self
            .classifier(in_port)
            .and_then(|cls| cls.lookup(&put.key));
        match existing {
            Some(flow) if put.flags.modify => {
                let before = self.flow_stats(&flow);
                flow.actions.store(Arc::new(Arc::clone(&put.actions)));
                if put.flags.zero_stats {
                    return Err(DpifError::NotSupported);
                }
                Ok(before)
            }
            Some(_) if put.flags.create => Err(DpifError::Exists),
            Some(_) => Err(DpifError::Invalid("overlapping flow".into())),
            None if !put.flags.create => Err(DpifError::NotFound),
            None => {
                if self.by_ufid.pin().contains_key(&ufid) {
                    return Err(DpifError::Exists);
                }
                self.install(&mut writer, ufid, &put.key, &mask, put)?;
                Ok(FlowStats::default())
            }
        }
    }

    /// Creates the record of a new flow and publishes it (flow mutex held).
    fn install(
        &self,
        writer: &mut WriterState,
        ufid: Ufid,
        key: &Flow,
        mask: &Wildcards,
        put: &FlowPut,
    ) -> Result<(), DpifError> {
        let stats_id = self.stats.allocate().ok_or(DpifError::NoSpace)?;
        let shared_mask = Arc::clone(writer.masks.entry(*mask).or_insert_with(|| Arc::new(*mask)));
        let actions = match &writer.last_actions {
            Some(last) if Arc::ptr_eq(last.as_ref(), &put.actions) => Arc::clone(last),
            _ => {
                let fresh = Arc::new(Arc::clone(&put.actions));
                writer.last_actions = Some(Arc::clone(&fresh));
                fresh
            }
        };
        let flow = Arc::new(Megaflow::new(
            ufid,
            *key,
            shared_mask,
            actions,
            stats_id,
            self.released_tx.clone(),
        ));
        let cls = {
            let classifiers = self.classifiers.pin();
            Arc::clone(classifiers.get_or_insert_with(key.in_port, || Arc::new(Dpcls::new())))
        };
        if let Err(InsertError::Exists) = cls.insert(key, mask, Arc::clone(&flow)) {
            flow.kill();
            return Err(DpifError::Exists);
        }
        self.by_ufid.pin().insert(ufid, Arc::clone(&flow));
        // The slot was empty: its index was free.
        drop(self.slots.set(
            stats_id.index(),
            Some(SlotEntry::new(flow, put.owner.clone())),
        ));
        self.control
            .flow_added
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Deletes the flow named by `flow`; returns its final statistics (after a grace period).
    pub(crate) fn del(&self, flow: &FlowRef) -> Result<FlowStats, DpifError> {
        let flow = self.unlink(flow)?;
        self.grace_period();
        Ok(self.flow_stats(&flow))
    }

    /// First half of a delete: takes the flow named by `flow` out of the index, the classifier and
    /// the slots (dead first). Its statistics are final only after [`Shared::grace_period`].
    pub(crate) fn unlink(&self, flow: &FlowRef) -> Result<Arc<Megaflow>, DpifError> {
        let ufid = self.ufid_of(flow);
        let mut writer = self.flow_mutex.lock();
        self.free_released();
        let removed = self.by_ufid.pin().remove(&ufid).cloned();
        let Some(flow) = removed else {
            return Err(DpifError::NotFound);
        };
        self.retire(&mut writer, &flow);
        Ok(flow)
    }

    /// Waits (without the flow mutex) until no forwarding context can still add to the statistics
    /// of a flow unlinked before the call; a timeout is counted (`datapath_grace_period_timeout`).
    pub(crate) fn grace_period(&self) {
        if !self.grace.synchronize(GRACE_TIMEOUT) {
            self.count_grace_timeout();
        }
    }

    /// Counts a grace period given up on (`datapath_grace_period_timeout`).
    pub(crate) fn count_grace_timeout(&self) {
        self.control
            .grace_timeout
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Takes an installed flow out of the classifier and the slots (its index entry is already
    /// gone). Flow mutex held.
    fn retire(&self, writer: &mut WriterState, flow: &Arc<Megaflow>) {
        flow.kill();
        // After the kill: a context that reads the new count also sees the flow dead.
        self.retired
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        self.control
            .flow_removed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = flow.key();
        if let Some(cls) = self.classifier(key.in_port) {
            cls.remove(&key, &flow.mask);
        }
        drop(self.slots.set(flow.stats_id.index(), None));
        // The map and this flow (and the caller's reference) are the only holders: drop the mask.
        if Arc::strong_count(&flow.mask) <= 2 {
            writer.masks.remove(&*flow.mask);
        }
    }

    /// The flow named by `flow`.
    pub(crate) fn get(&self, flow: &FlowRef) -> Result<DpifFlow, DpifError> {
        let ufid = self.ufid_of(flow);
        let found = self.by_ufid.pin().get(&ufid).cloned();
        found
            .map(|f| self.to_dpif_flow(&f, false))
            .ok_or(DpifError::NotFound)
    }

    /// Deletes every flow. Their statistics are dropped, so no grace period is needed (ids are
    /// freed only when the last reference, e.g. a forwarding context's, drops).
    pub(crate) fn flush(&self) {
        let mut writer = self.flow_mutex.lock();
        let all: Vec<Arc<Megaflow>> = self.by_ufid.pin().values().cloned().collect();
        for flow in all {
            if self.by_ufid.pin().remove(&flow.ufid).is_some() {
                self.retire(&mut writer, &flow);
            }
        }
        self.free_released();
    }

    /// Frees the statistics ids of records dropped since the last call (flow mutex held).
    fn free_released(&self) {
        for id in self.released_rx.try_iter() {
            self.stats.free(id);
        }
    }

    /// Number of installed flows.
    pub(crate) fn n_flows(&self) -> u64 {
        self.by_ufid.len() as u64
    }

    /// Number of subtables over every classifier.
    pub(crate) fn n_masks(&self) -> u64 {
        self.classifiers
            .pin()
            .values()
            .map(|c| c.subtable_count() as u64)
            .sum()
    }
}

/// Converts the statistics module's view into the dpif's.
fn to_dpif_stats(s: crate::stats::FlowStats) -> FlowStats {
    FlowStats {
        n_packets: s.n_packets,
        n_bytes: s.n_bytes,
        used: s.used_ms,
        tcp_flags: s.tcp_flags,
    }
}

/// Checks what dpif-netdev checks of a mask.
fn validate_mask(mask: &Wildcards) -> Result<(), DpifError> {
    let m = &mask.masks;
    if m.in_port != u32::MAX {
        return Err(DpifError::Invalid("in_port is not an exact match".into()));
    }
    if m.metadata != 0 || m.regs.iter().any(|r| *r != 0) {
        return Err(DpifError::Invalid(
            "mask matches pipeline-only fields".into(),
        ));
    }
    Ok(())
}
