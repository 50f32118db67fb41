//! Flow dumps: a shared cursor over the dump slots, claimed in chunks by each participating thread.
//!
//! # Invariants
//! * Each slot index is claimed by exactly one thread of a dump (an atomic cursor), and a flow keeps
//!   its index for its whole life, so a flow installed before the dump starts and deleted after it
//!   ends is returned exactly once. A flow added or deleted meanwhile may be returned or not.
//! * A returned flow is a consistent copy: key, mask and UFID never change, actions are one atomic
//!   snapshot, statistics one consistent read. Flows already deleted when their turn comes (slot
//!   cleared) are skipped; a full dump also skips a flow whose delete is under way (record dead,
//!   slot not cleared yet), a terse dump may return it (it is being deleted during the dump).
//! * `next` returns at most [`MAX_FLOWS_PER_NEXT`] flows and returns 0 only at the end; slots a
//!   thread claimed but did not read yet stay in its handle (as an index range) for its next call.
//! * Claims are whole slot chunks (`slots.rs`). A `next` call reads a chunk under its read lock
//!   (held only during that call). A full dump first touches every record of the rest of the
//!   chunk (plain loads, so their cache misses overlap), then copies flows out; a terse dump never
//!   reads a record: UFID and statistics id are copied in the slot. No `Arc` is cloned or dropped
//!   per flow and no atomic read-modify-write is made per flow, so the dump never writes to a
//!   megaflow's cache lines.
//! * `next_terse_visit` hands each flow's owner (what its installer attached) to the visitor by
//!   reference while the chunk's read lock is held; the visitor only try-locks, so a writer waiting
//!   for that chunk waits at most for the visits of one call.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Shared;
use super::slots::{CHUNK, SlotEntry};
use crate::dpif::{DpifFlow, FlowDump, FlowDumpThread, FlowOwner, TerseFlow, TerseVisitor};

/// Most flows one `next` call returns (OVS's `FLOW_DUMP_MAX_BATCH`).
pub const MAX_FLOWS_PER_NEXT: usize = 50;
/// Slot indices one claim takes: one chunk.
const CLAIM: u64 = CHUNK as u64;

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
            terse: Vec::with_capacity(CHUNK),
            next_index: 0,
            end_index: 0,
            done: false,
        })
    }
}

/// One thread's handle on a dump.
struct DumpThread<'d, 'a> {
    dump: &'d DatapathDump<'a>,
    /// The terse records of one visited group (reused).
    terse: Vec<TerseFlow>,
    /// The claimed slot indices not yet read: `next_index..end_index`.
    next_index: u64,
    end_index: u64,
    done: bool,
}

impl DumpThread<'_, '_> {
    /// Claims the next chunk of slot indices; false at the end of the slots.
    fn claim(&mut self) -> bool {
        if self.done {
            return false;
        }
        let start = self.dump.cursor.fetch_add(CLAIM, Ordering::AcqRel);
        let end = self.dump.shared.slots.capacity();
        if start >= end {
            self.done = true;
            return false;
        }
        self.next_index = start;
        self.end_index = (start + CLAIM).min(end);
        true
    }
}

impl DumpThread<'_, '_> {
    /// Reads up to `max` occupied slots (at most [`MAX_FLOWS_PER_NEXT`]), a claimed chunk at a
    /// time: `group` gets the entries read from one chunk while its read lock is held (every
    /// entry of its slice is `Some`; a stack array, no allocation); returns how many entries were
    /// read.
    ///
    /// With `records` (full dumps, which copy key, mask and actions out of the records) every
    /// record of the rest of the chunk is touched first, so that their cache misses overlap, and
    /// dead records are skipped. Without it (terse dumps) no record is read at all: the slot's
    /// copies of UFID and statistics id are all a terse flow needs, and a flow whose delete is
    /// under way (dead, its slot not cleared yet) may be returned, as any flow deleted during the
    /// dump may.
    fn next_groups(
        &mut self,
        max: usize,
        records: bool,
        mut group: impl FnMut(&Shared, &[Option<&SlotEntry>]),
    ) -> usize {
        let limit = max.min(MAX_FLOWS_PER_NEXT);
        let sh = self.dump.shared;
        let mut n = 0;
        while n < limit {
            if self.next_index >= self.end_index && !self.claim() {
                break;
            }
            let Some((chunk, first)) = u32::try_from(self.next_index)
                .ok()
                .and_then(|i| sh.slots.chunk(i))
            else {
                self.next_index = self.end_index;
                continue;
            };
            let slots = chunk.read();
            let count = usize::try_from(self.end_index - self.next_index).unwrap_or(0);
            let rest = slots.get(first..).unwrap_or_default();
            let rest = rest.get(..count).unwrap_or(rest);
            if records {
                // Touch every record first: independent loads whose misses overlap.
                let live = rest
                    .iter()
                    .flatten()
                    .fold(0usize, |acc, e| acc + usize::from(!e.flow.is_dead()));
                std::hint::black_box(live);
            }
            let mut live: [Option<&SlotEntry>; CHUNK] = [None; CHUNK];
            let mut n_live = 0;
            for slot in rest {
                if n >= limit {
                    break;
                }
                self.next_index += 1;
                if let Some(entry) = slot
                    && !(records && entry.flow.is_dead())
                {
                    if let Some(cell) = live.get_mut(n_live) {
                        *cell = Some(entry);
                        n_live += 1;
                    }
                    n += 1;
                }
            }
            if rest.len() < count {
                // Past the end of the existing rows (cannot happen: claims stay below capacity).
                self.next_index = self.end_index;
            }
            if n_live > 0 {
                group(sh, live.get(..n_live).unwrap_or_default());
            }
        }
        n
    }
}

impl FlowDumpThread for DumpThread<'_, '_> {
    fn next(&mut self, out: &mut Vec<DpifFlow>, max: usize) -> usize {
        let terse = self.dump.terse;
        self.next_groups(max, true, |sh, flows| {
            out.extend(
                flows
                    .iter()
                    .flatten()
                    .map(|e| sh.to_dpif_flow(&e.flow, terse)),
            );
        })
    }

    fn next_terse(&mut self, out: &mut Vec<TerseFlow>, max: usize) -> usize {
        self.next_groups(max, false, |sh, flows| {
            out.extend(flows.iter().flatten().map(|e| sh.slot_terse_flow(e)));
        })
    }

    fn next_terse_visit(&mut self, max: usize, visit: &mut TerseVisitor<'_>) -> usize {
        let mut terse = std::mem::take(&mut self.terse);
        let n = self.next_groups(max, false, |sh, flows| {
            terse.clear();
            terse.extend(flows.iter().flatten().map(|e| sh.slot_terse_flow(e)));
            let mut owners: [Option<&FlowOwner>; CHUNK] = [None; CHUNK];
            for (owner, e) in owners.iter_mut().zip(flows.iter().flatten()) {
                *owner = e.owner.as_ref();
            }
            visit(&terse, owners.get(..terse.len()).unwrap_or_default());
        });
        self.terse = terse;
        n
    }
}
