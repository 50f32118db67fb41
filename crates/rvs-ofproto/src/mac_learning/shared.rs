//! [`MacLearning`]: the MAC table shared between handler threads (lookups, learning),
//! revalidators (learning replayed from translation caches) and the main loop (aging,
//! configuration, `fdb/*` commands).
//!
//! # Locking
//! * One `parking_lot::RwLock` guards the whole [`MacTable`]. Lookups take it shared; every
//!   change takes it exclusive. It is a leaf lock: nothing here calls out (callbacks, other
//!   locks) while holding it, and callers that use [`MacLearning::read`]/[`MacLearning::write`]
//!   must not either.
//! * Learning follows OVS's two-step pattern: check under the shared lock (most packets change
//!   nothing), and only if needed take the exclusive lock and check again before changing, since
//!   the table may have changed in between.
//! * `generation` is written only while the exclusive lock is held, after the change, with
//!   release ordering; reading it needs no lock.
//!
//! # Invariants
//! * `generation` equals the table's [`MacTable::changes`] after every public method returns:
//!   it grows exactly when a lookup answer may have changed.

use super::entry::{
    FdbStats, LearnContext, LearnOutcome, MacAddr, MacEntryInfo, MacKey, ReplacedEntry,
};
use super::fdb_text::format_fdb_show;
use super::table::MacTable;
use super::tags::Revalidation;
use crate::vlan::VlanSet;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

/// A thread-safe MAC learning table (see the module documentation for the locking rules).
#[derive(Debug)]
pub struct MacLearning<P> {
    table: RwLock<MacTable<P>>,
    generation: AtomicU64,
}

impl<P: Copy + Eq + Hash> Default for MacLearning<P> {
    fn default() -> MacLearning<P> {
        MacLearning::new()
    }
}

impl<P: Copy + Eq + Hash> MacLearning<P> {
    /// An empty table with OVS's defaults.
    pub fn new() -> MacLearning<P> {
        MacLearning {
            table: RwLock::new(MacTable::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// Number of lookup-affecting changes so far; no lock taken. A reader that saw the same
    /// generation before and after a translation knows no learned port it looked up changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Shared access to the table, for several lookups under one lock.
    pub fn read(&self) -> RwLockReadGuard<'_, MacTable<P>> {
        self.table.read()
    }

    /// Runs `change` with exclusive access, then publishes the generation.
    pub fn write<R>(&self, change: impl FnOnce(&mut MacTable<P>) -> R) -> R {
        let mut table = self.table.write();
        let result = change(&mut table);
        self.publish(&table);
        result
    }

    fn publish(&self, table: &RwLockWriteGuard<'_, MacTable<P>>) {
        self.generation.store(table.changes(), Ordering::Release);
    }

    /// The port of `mac` in `vlan` (see [`MacTable::lookup`]).
    pub fn lookup(&self, mac: &MacAddr, vlan: u16) -> Option<P> {
        self.table.read().lookup(mac, vlan)
    }

    /// The entry of `mac` in `vlan` at `now_ms` (see [`MacTable::entry`]).
    pub fn entry(&self, mac: &MacAddr, vlan: u16, now_ms: u64) -> Option<MacEntryInfo<P>> {
        self.table.read().entry(mac, vlan, now_ms)
    }

    /// Learns from a packet (see [`MacTable::learn`]): shared lock for the common no-change
    /// case, exclusive lock only when something changes.
    pub fn learn(
        &self,
        mac: &MacAddr,
        vlan: u16,
        port: P,
        ctx: LearnContext,
        now_ms: u64,
    ) -> LearnOutcome<P> {
        if let Err(outcome) = self.table.read().check_learn(mac, vlan, port, ctx, now_ms) {
            return outcome;
        }
        self.write(|t| t.learn(mac, vlan, port, ctx, now_ms))
    }

    /// Adds a static entry (see [`MacTable::add_static`]).
    pub fn add_static(&self, mac: &MacAddr, vlan: u16, port: P) -> Option<ReplacedEntry<P>> {
        self.write(|t| t.add_static(mac, vlan, port))
    }

    /// Deletes a static entry (see [`MacTable::remove_static`]).
    pub fn remove_static(&self, mac: &MacAddr, vlan: u16) -> bool {
        self.write(|t| t.remove_static(mac, vlan))
    }

    /// Removes one entry, static or not.
    pub fn remove(&self, key: &MacKey) -> bool {
        self.write(|t| t.remove(key))
    }

    /// Removes the dynamic entries (`fdb/flush`).
    pub fn flush(&self) -> usize {
        self.write(MacTable::flush)
    }

    /// Removes every entry of a port.
    pub fn flush_port(&self, port: &P) -> usize {
        self.write(|t| t.flush_port(port))
    }

    /// Removes the dynamic entries of a VLAN.
    pub fn flush_vlan(&self, vlan: u16) -> usize {
        self.write(|t| t.flush_vlan(vlan))
    }

    /// Moves every entry of one port to another.
    pub fn move_port(&self, old: &P, new: P) -> usize {
        self.write(|t| t.move_port(old, new))
    }

    /// Aging and revalidation hand-over (see [`MacTable::run`]).
    pub fn run(&self, now_ms: u64) -> Revalidation {
        self.write(|t| t.run(now_ms))
    }

    /// When [`MacLearning::run`] next has work (see [`MacTable::next_run_ms`]).
    pub fn next_run_ms(&self) -> Option<u64> {
        self.table.read().next_run_ms()
    }

    /// Sets the idle time (`other_config:mac-aging-time`).
    pub fn set_idle_time(&self, idle_time_s: u32) {
        self.write(|t| t.set_idle_time(idle_time_s));
    }

    /// Sets the size limit (`other_config:mac-table-size`).
    pub fn set_max_entries(&self, max_entries: usize) {
        self.write(|t| t.set_max_entries(max_entries));
    }

    /// Sets the VLANs without learning (`flood_vlans`); flushes on change.
    pub fn set_flood_vlans(&self, vlans: Option<VlanSet>) -> bool {
        self.write(|t| t.set_flood_vlans(vlans))
    }

    /// `fdb/stats-show` numbers.
    pub fn stats(&self) -> FdbStats {
        self.table.read().stats()
    }

    /// Clears the counters (`fdb/stats-clear`).
    pub fn clear_counters(&self) {
        self.write(MacTable::clear_counters);
    }

    /// The `fdb/show` text at `now_ms`. The rows are copied under the shared lock and formatted
    /// after it is released, so `port_label` may take other locks.
    pub fn fdb_show(&self, now_ms: u64, port_label: impl Fn(&P) -> String) -> String {
        let rows = self.table.read().rows(now_ms);
        format_fdb_show(&rows, port_label)
    }
}
