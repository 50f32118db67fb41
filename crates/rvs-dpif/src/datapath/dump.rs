//! Flow dumps: a shared cursor over the dump slots, claimed in chunks by each participating thread.
//!
//! # Invariants
//! * Each slot index is claimed by exactly one thread of a dump (an atomic cursor), and a flow keeps
//!   its index for its whole life, so a flow installed before the dump starts and deleted after it
//!   ends is returned exactly once. A flow added or deleted meanwhile may be returned or not.
//! * A returned flow is a consistent copy: key, mask and UFID never change, actions are one atomic
//!   snapshot, statistics one consistent read. Flows already deleted when their turn comes are
//!   skipped.
//! * `next` returns at most [`MAX_FLOWS_PER_NEXT`] flows and returns 0 only at the end; flows a
//!   thread claimed but could not return yet stay in its handle for its next call.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Shared;
use super::megaflow::Megaflow;
use crate::dpif::{DpifFlow, FlowDump, FlowDumpThread};

/// Most flows one `next` call returns (OVS's `FLOW_DUMP_MAX_BATCH`).
pub const MAX_FLOWS_PER_NEXT: usize = 50;
/// Slot indices one claim takes.
const CLAIM: u64 = 64;

/// One dump of the datapath's flows.
pub(crate) struct DatapathDump<'a> {
    shared: &'a Shared,
    terse: bool,
    cursor: AtomicU64,
}

impl<'a> DatapathDump<'a> {
    pub(crate) fn new(shared: &'a Shared, terse: bool) -> DatapathDump<'a> {
        DatapathDump {
            shared,
            terse,
            cursor: AtomicU64::new(0),
        }
    }
}

impl FlowDump for DatapathDump<'_> {
    fn thread(&self) -> Box<dyn FlowDumpThread + '_> {
        Box::new(DumpThread {
            dump: self,
            pending: VecDeque::new(),
            done: false,
        })
    }
}

/// One thread's handle on a dump.
struct DumpThread<'d, 'a> {
    dump: &'d DatapathDump<'a>,
    /// Flows claimed and not yet returned.
    pending: VecDeque<Arc<Megaflow>>,
    done: bool,
}

impl DumpThread<'_, '_> {
    /// Claims slot chunks until `want` flows are pending or the slots are exhausted.
    fn fill(&mut self, want: usize) {
        let sh = self.dump.shared;
        while !self.done && self.pending.len() < want {
            let start = self.dump.cursor.fetch_add(CLAIM, Ordering::AcqRel);
            let end = sh.slots.capacity();
            if start >= end {
                self.done = true;
                break;
            }
            for index in start..(start + CLAIM).min(end) {
                let Ok(index) = u32::try_from(index) else {
                    break;
                };
                if let Some(flow) = sh.slots.get(index).and_then(|slot| slot.load_full()) {
                    self.pending.push_back(flow);
                }
            }
        }
    }
}

impl FlowDumpThread for DumpThread<'_, '_> {
    fn next(&mut self, out: &mut Vec<DpifFlow>, max: usize) -> usize {
        let limit = max.min(MAX_FLOWS_PER_NEXT);
        let mut n = 0;
        while n < limit {
            if self.pending.is_empty() {
                self.fill(limit - n);
            }
            let Some(flow) = self.pending.pop_front() else {
                break;
            };
            if flow.is_dead() {
                continue;
            }
            out.push(self.dump.shared.to_dpif_flow(&flow, self.dump.terse));
            n += 1;
        }
        n
    }
}
