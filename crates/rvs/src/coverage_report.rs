//! `coverage/show`, `coverage/read-counter` and `memory/show` replies in Open vSwitch's layout.
//!
//! Counters live in several places (each core crate keeps its own); the daemon hands this module
//! name → total snapshots. Names that appear more than once in a snapshot are summed, and the
//! report lists counters in the order their names first appear (OVS lists them in registration
//! order, which is just as arbitrary).
//!
//! Rates follow OVS's `coverage_run`: five-second cells for the minute average and per-minute
//! sums for the hour average, refreshed by [`CoverageReport::sample`] once five seconds have
//! passed (see `history.rs`). The `hash=%08x` value is OVS's own hash over the hit counters'
//! names and totals and matches the x86-64 non-SSE4.2 build of OVS (the Debian package) exactly.
//!
//! Invariants: nothing here panics on any input (unknown names, totals going backwards, clocks
//! jumping); the text is byte for byte OVS 3.1's for the same totals and history. One known
//! difference: `memory/show` prints 64-bit values where OVS's `simap` holds `unsigned int`.

mod history;
mod ovs_hash;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt::Write as _;

use history::{History, RUN_INTERVAL_MS};

/// Rate history of the coverage counters, fed by periodic snapshots of their totals.
#[derive(Clone, Debug, Default)]
pub struct CoverageReport {
    history: History,
}

/// Sums repeated names, keeping the order in which names first appear.
fn merge_totals(totals: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut merged: Vec<(String, u64)> = Vec::with_capacity(totals.len());
    let mut position: HashMap<&str, usize> = HashMap::with_capacity(totals.len());
    for &(name, total) in totals {
        if let Some(entry) = position.get(name).and_then(|&i| merged.get_mut(i)) {
            entry.1 = entry.1.wrapping_add(total);
        } else {
            position.insert(name, merged.len());
            merged.push((name.to_string(), total));
        }
    }
    merged
}

/// Appends `text` left-aligned in `width` bytes, like C's `%-Ns`.
fn push_left_aligned(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    for _ in text.len()..width {
        out.push(' ');
    }
}

impl CoverageReport {
    /// An empty history: every rate reads 0 until samples five seconds apart have arrived.
    pub fn new() -> CoverageReport {
        CoverageReport::default()
    }

    /// Records the current totals of every counter at `now_ms` (a monotonic millisecond clock).
    /// Call it about once a second; a rate cell is closed every five seconds, and a late call
    /// spreads the increase over the cells it missed, as OVS does.
    pub fn sample(&mut self, now_ms: u64, totals: &[(&str, u64)]) {
        self.history.sample(now_ms, &merge_totals(totals));
    }

    /// The `coverage/show` reply for `totals` (each line ends in a newline).
    pub fn show(&self, totals: &[(&str, u64)]) -> String {
        let merged = merge_totals(totals);
        let pairs: Vec<(&str, u64)> = merged.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Event coverage, avg rate over last: {} seconds, last minute, last hour,  hash={:08x}:",
            RUN_INTERVAL_MS / 1000,
            ovs_hash::coverage_hash(&pairs)
        );
        let mut never_hit = 0usize;
        for (name, total) in &merged {
            if *total == 0 {
                never_hit += 1;
                continue;
            }
            let (last, minute, hour) = self.history.rates(name);
            push_left_aligned(&mut out, name, 24);
            let _ = writeln!(
                out,
                " {last:5.1}/sec {minute:9.3}/sec {hour:13.4}/sec   total: {total}"
            );
        }
        let _ = writeln!(out, "{never_hit} events never hit");
        out
    }

    /// The `coverage/read-counter NAME` reply: `Ok("<total>\n")`, or `Err("No such counter")`
    /// when no source has a counter of that (case-sensitive) name.
    pub fn read_counter(totals: &[(&str, u64)], name: &str) -> Result<String, String> {
        let mut found = None;
        for &(counter, total) in totals {
            if counter == name {
                found = Some(found.unwrap_or(0u64).wrapping_add(total));
            }
        }
        match found {
            Some(total) => Ok(format!("{total}\n")),
            None => Err("No such counter".to_string()),
        }
    }
}

/// The `memory/show` reply: `name:value` pairs sorted by name (bytewise), separated by single
/// spaces, then a newline; an empty string when there is nothing to report. Repeated names are
/// summed. (OVS stores the values as `unsigned int`; here they are printed in full.)
pub fn memory_show(items: &[(&str, u64)]) -> String {
    let mut merged = merge_totals(items);
    merged.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (name, value) in &merged {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{name}:{value}");
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}
