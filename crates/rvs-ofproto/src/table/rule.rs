//! OpenFlow rules: match, priority, cookie, timeouts, flags, actions, and the packet counters
//! datapath statistics are credited to.
//!
//! # Invariants
//! * A [`Rule`] never changes after it is created except for its counters and its forwarding
//!   link; a flow mod that "modifies" a rule replaces it with a new `Rule` (as Open vSwitch
//!   does), so a lookup that returned an `Arc<Rule>` keeps a consistent view.
//! * Counters are atomics: [`Rule::credit`] takes `&self` and may run concurrently with lookups
//!   and with other credits. `used_ms` only moves forward.
//! * When a rule is replaced, the replacement either shares the old rule's counters (counts
//!   kept) or starts from zero with the old "last used" time (counts reset); in both cases
//!   credits that still arrive for the old rule (from lookups made before the change) are
//!   forwarded to the replacement, as Open vSwitch's `rule_dpif_credit_stats` does.

use crate::actions::OfpAction;
use rvs_flow::Match;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Flow-mod flags kept with a rule (`enum ofputil_flow_mod_flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlowModFlags(u16);

impl FlowModFlags {
    /// `send_flow_rem`: tell the controller when the rule is removed.
    pub const SEND_FLOW_REM: FlowModFlags = FlowModFlags(1 << 0);
    /// `check_overlap`: refuse an add that overlaps a rule of the same priority.
    pub const CHECK_OVERLAP: FlowModFlags = FlowModFlags(1 << 1);
    /// `reset_counts`: a replacement starts with zero counters.
    pub const RESET_COUNTS: FlowModFlags = FlowModFlags(1 << 2);
    /// `no_packet_counts`.
    pub const NO_PKT_COUNTS: FlowModFlags = FlowModFlags(1 << 3);
    /// `no_byte_counts`.
    pub const NO_BYT_COUNTS: FlowModFlags = FlowModFlags(1 << 4);
    /// `allow_hidden_fields` (not kept with rules).
    pub const HIDDEN_FIELDS: FlowModFlags = FlowModFlags(1 << 5);
    /// `no_readonly_table` (not kept with rules).
    pub const NO_READONLY: FlowModFlags = FlowModFlags(1 << 6);

    /// No flag.
    pub const NONE: FlowModFlags = FlowModFlags(0);

    /// The flags that describe a rule's state (kept with it).
    pub const STATE: FlowModFlags = FlowModFlags(0b1_1111);

    /// True if every flag of `other` is set.
    pub fn contains(self, other: FlowModFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union.
    pub fn with(self, other: FlowModFlags) -> FlowModFlags {
        FlowModFlags(self.0 | other.0)
    }

    /// The flags of `self` that are not in `other`.
    pub fn without(self, other: FlowModFlags) -> FlowModFlags {
        FlowModFlags(self.0 & !other.0)
    }

    /// The flags of both.
    pub fn intersection(self, other: FlowModFlags) -> FlowModFlags {
        FlowModFlags(self.0 & other.0)
    }

    /// True if no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Appends the flags as `ofputil_flow_mod_flags_format` prints them (each followed by a
    /// space: `send_flow_rem reset_counts `).
    pub fn format(self, out: &mut String) {
        const NAMES: [(FlowModFlags, &str); 7] = [
            (FlowModFlags::SEND_FLOW_REM, "send_flow_rem "),
            (FlowModFlags::CHECK_OVERLAP, "check_overlap "),
            (FlowModFlags::RESET_COUNTS, "reset_counts "),
            (FlowModFlags::NO_PKT_COUNTS, "no_packet_counts "),
            (FlowModFlags::NO_BYT_COUNTS, "no_byte_counts "),
            (FlowModFlags::HIDDEN_FIELDS, "allow_hidden_fields "),
            (FlowModFlags::NO_READONLY, "no_readonly_table "),
        ];
        for (flag, name) in NAMES {
            if self.contains(flag) {
                out.push_str(name);
            }
        }
    }
}

/// A rule's packet and byte counters and the time a packet last hit it.
#[derive(Debug, Default)]
pub struct RuleStats {
    packets: AtomicU64,
    bytes: AtomicU64,
    used_ms: AtomicI64,
}

impl RuleStats {
    /// Zero counters, last used at `used_ms`.
    pub fn new(used_ms: i64) -> RuleStats {
        RuleStats {
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            used_ms: AtomicI64::new(used_ms),
        }
    }

    /// Adds packets and bytes and moves "last used" forward to `used_ms` (never back).
    pub fn credit(&self, packets: u64, bytes: u64, used_ms: i64) {
        self.packets.fetch_add(packets, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.used_ms.fetch_max(used_ms, Ordering::Relaxed);
    }

    /// Packets counted.
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    /// Bytes counted.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// When a packet last hit the rule (or when the rule was last modified), in ms.
    pub fn used_ms(&self) -> i64 {
        self.used_ms.load(Ordering::Relaxed)
    }
}

/// One OpenFlow rule of a flow table.
#[derive(Debug)]
pub struct Rule {
    /// The table the rule is in.
    pub table_id: u8,
    /// What it matches (normalized).
    pub flow_match: Match,
    /// Its priority.
    pub priority: u16,
    /// The controller's cookie.
    pub cookie: u64,
    /// Seconds without a hit before the rule expires (0 = never).
    pub idle_timeout: u16,
    /// Seconds after the last modification before the rule expires (0 = never).
    pub hard_timeout: u16,
    /// Eviction importance (OpenFlow 1.4+; 0 otherwise).
    pub importance: u16,
    /// State flags (`send_flow_rem`, `reset_counts`, ...).
    pub flags: FlowModFlags,
    /// The actions, as the switch received them (see [`crate::actions::wire_form`]).
    pub actions: Vec<OfpAction>,
    /// When the rule was created, in ms (kept across `modify`).
    pub created_ms: i64,
    /// When the rule was last added or modified, in ms (the hard timeout's base).
    pub modified_ms: i64,
    stats: Arc<RuleStats>,
    forward: OnceLock<Arc<Rule>>,
}

impl Rule {
    /// A rule with fresh counters (last used = `modified_ms`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        table_id: u8,
        flow_match: Match,
        priority: u16,
        cookie: u64,
        timeouts: (u16, u16),
        importance: u16,
        flags: FlowModFlags,
        actions: Vec<OfpAction>,
        created_ms: i64,
        modified_ms: i64,
        stats: Arc<RuleStats>,
    ) -> Rule {
        Rule {
            table_id,
            flow_match,
            priority,
            cookie,
            idle_timeout: timeouts.0,
            hard_timeout: timeouts.1,
            importance,
            flags,
            actions,
            created_ms,
            modified_ms,
            stats,
            forward: OnceLock::new(),
        }
    }

    /// Credits datapath statistics to the rule (or to its replacement, if it was replaced).
    pub fn credit(&self, packets: u64, bytes: u64, used_ms: i64) {
        match self.forward.get() {
            Some(next) => next.credit(packets, bytes, used_ms),
            None => self.stats.credit(packets, bytes, used_ms),
        }
    }

    /// The rule's counters.
    pub fn stats(&self) -> &RuleStats {
        &self.stats
    }

    /// The counters shared with a replacement that keeps them.
    pub(crate) fn stats_handle(&self) -> Arc<RuleStats> {
        Arc::clone(&self.stats)
    }

    /// Makes later credits go to `next` (set once, when the rule is replaced).
    pub(crate) fn forward_to(&self, next: Arc<Rule>) {
        let _ = self.forward.set(next);
    }

    /// The rule that replaced this one, if any.
    pub fn replaced_by(&self) -> Option<&Arc<Rule>> {
        self.forward.get()
    }

    /// True if the actions output to `port` (the `out_port` filter; `ANY` matches all).
    pub fn has_out_port(&self, port: u16) -> bool {
        crate::actions::outputs_to_port(&self.actions, port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(stats: Arc<RuleStats>) -> Rule {
        Rule::new(
            0,
            Match::default(),
            1,
            0,
            (0, 0),
            0,
            FlowModFlags::NONE,
            Vec::new(),
            0,
            0,
            stats,
        )
    }

    #[test]
    fn credits_forward_to_the_replacement() {
        let old = Arc::new(rule(Arc::new(RuleStats::new(5))));
        old.credit(2, 100, 7);
        let new = Arc::new(rule(Arc::new(RuleStats::new(old.stats().used_ms()))));
        old.forward_to(Arc::clone(&new));
        old.credit(1, 10, 3);
        assert_eq!((old.stats().packets(), old.stats().bytes()), (2, 100));
        assert_eq!(
            (
                new.stats().packets(),
                new.stats().bytes(),
                new.stats().used_ms()
            ),
            (1, 10, 7)
        );
    }

    #[test]
    fn flags_print_like_ovs() {
        let mut s = String::new();
        FlowModFlags::SEND_FLOW_REM
            .with(FlowModFlags::RESET_COUNTS)
            .format(&mut s);
        assert_eq!(s, "send_flow_rem reset_counts ");
    }
}
