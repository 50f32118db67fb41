//! Reporting on a [`MacTable`]: counters, `fdb/stats-show` numbers, `fdb/show` rows, and the
//! structural invariant check used by tests.
//!
//! # Invariants
//! * Read-only except for clearing the counters; nothing here affects lookups.

use super::MacTable;
use crate::mac_learning::entry::{FdbRow, FdbStats, MacLearningCounters};
use std::hash::Hash;
use std::sync::atomic::Ordering;

impl<P: Copy + Eq + Hash> MacTable<P> {
    /// Learning counters.
    pub fn counters(&self) -> MacLearningCounters {
        self.counters
    }

    /// Clears the counters (`fdb/stats-clear`).
    pub fn clear_counters(&mut self) {
        self.counters = MacLearningCounters::default();
    }

    /// How many learning attempts a static entry on another port ignored.
    pub fn static_none_moves(&self) -> u64 {
        self.static_none_moves.load(Ordering::Relaxed)
    }

    /// What `fdb/stats-show` prints.
    pub fn stats(&self) -> FdbStats {
        FdbStats {
            entries: self.entries.len(),
            max_entries: self.max_entries,
            static_entries: self.static_count,
            counters: self.counters,
        }
    }

    /// Every entry in least-recently-used-first order (static ones at their position), as
    /// `fdb/show` lists them.
    pub fn rows(&self, now_ms: u64) -> Vec<FdbRow<P>> {
        let now_s = now_ms / 1000;
        let mut rows: Vec<(u64, FdbRow<P>)> = self
            .entries
            .iter()
            .map(|(key, e)| {
                let row = FdbRow {
                    port: e.port,
                    vlan: key.vlan,
                    mac: key.mac,
                    age: e.age(now_s),
                };
                (e.stamp, row)
            })
            .collect();
        rows.sort_unstable_by_key(|(stamp, _)| *stamp);
        rows.into_iter().map(|(_, row)| row).collect()
    }

    /// Checks the structural invariants in the module documentation; `Err` names the first one
    /// that does not hold. For tests.
    pub fn check_invariants(&self) -> Result<(), String> {
        let dynamic = self.entries.values().filter(|e| !e.is_static()).count();
        if dynamic != self.dynamic_lru.len() {
            return Err(format!(
                "{dynamic} dynamic entries, {} in LRU",
                self.dynamic_lru.len()
            ));
        }
        if self.entries.len() - dynamic != self.static_count {
            return Err(format!("static count {} is wrong", self.static_count));
        }
        for (stamp, key) in &self.dynamic_lru {
            match self.entries.get(key) {
                Some(e) if e.stamp == *stamp && !e.is_static() => {}
                _ => return Err(format!("dynamic LRU {stamp} -> {key:?} is stale")),
            }
        }
        let mut on_ports = 0;
        for (port, lru) in &self.ports {
            if lru.is_empty() {
                return Err("empty port LRU".into());
            }
            for (stamp, key) in lru {
                match self.entries.get(key) {
                    Some(e) if e.stamp == *stamp && e.port == *port => on_ports += 1,
                    _ => return Err(format!("port LRU {stamp} -> {key:?} is stale")),
                }
            }
        }
        if on_ports != self.entries.len() {
            return Err(format!(
                "{on_ports} entries on ports, {} in table",
                self.entries.len()
            ));
        }
        Ok(())
    }
}
