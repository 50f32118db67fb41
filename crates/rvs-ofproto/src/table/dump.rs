//! `ovs-ofctl dump-flows` output: one line per rule, as `ofputil_flow_stats_format` prints a
//! flow-stats reply of Open vSwitch 3.1 in the dialect the dump was requested in.
//!
//! The dialect decides what the reply carries: OpenFlow 1.0 (Nicira flow stats) has
//! `idle_age`/`hard_age` but no flags; OpenFlow 1.3 has flags (`send_flow_rem`,
//! `reset_counts`, ...) but no ages; neither carries `importance`. Actions print in the
//! dialect's wire form.
//!
//! # Invariants
//! * Every line is exactly what `ovs-ofctl [-O DIALECT] [--no-stats] dump-flows` prints for the
//!   same rule at the same time, including its leading space.
//! * Times come from the caller (`now_ms`); nothing reads a clock.

use super::flow_mod::FlowMod;
use super::rule::{FlowModFlags, Rule};
use super::tables::{Criteria, Tables};
use crate::actions::format::append_actions;
use crate::actions::{Dialect, OfpError, wire_form};
use crate::classifier::Version;
use rvs_flow::ofp_match::format_match;
use std::fmt::Write as _;
use std::sync::Arc;

/// How to print a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpOptions {
    /// The dialect of the request (`ovs-ofctl -O`).
    pub dialect: Dialect,
    /// Print duration, counters and ages (`--no-stats` clears it).
    pub show_stats: bool,
    /// The current time in ms, for durations and ages.
    pub now_ms: i64,
}

/// Appends a duration in ms as `ofp_print_duration` prints seconds and nanoseconds.
fn put_duration(out: &mut String, ms: i64) {
    let ms = ms.max(0);
    let (sec, frac) = (ms / 1000, ms % 1000);
    let _ = write!(out, "{sec}");
    if frac > 0 {
        let _ = write!(out, ".{frac:03}");
    }
    out.push('s');
}

/// `age_secs`: milliseconds to whole seconds, clamped to 0..=65535.
fn age_secs(ms: i64) -> i64 {
    ms.clamp(0, i64::from(u16::MAX) * 1000) / 1000
}

/// One rule as a dump line (with the leading space `ovs-ofctl` prints).
pub fn format_flow_stats(rule: &Rule, opts: &DumpOptions) -> String {
    let mut out = String::from(" ");
    let stats = opts.show_stats;
    if stats || rule.cookie != 0 {
        let _ = write!(out, "cookie=0x{:x}, ", rule.cookie);
    }
    let duration_ms = opts.now_ms - rule.created_ms;
    if stats {
        out.push_str("duration=");
        put_duration(&mut out, duration_ms);
        out.push_str(", ");
    }
    if stats || rule.table_id != 0 {
        let _ = write!(out, "table={}, ", rule.table_id);
    }
    if stats {
        let s = rule.stats();
        let _ = write!(out, "n_packets={}, n_bytes={}, ", s.packets(), s.bytes());
    }
    if rule.idle_timeout != 0 {
        let _ = write!(out, "idle_timeout={}, ", rule.idle_timeout);
    }
    if rule.hard_timeout != 0 {
        let _ = write!(out, "hard_timeout={}, ", rule.hard_timeout);
    }
    if opts.dialect == Dialect::OpenFlow13 {
        rule.flags
            .intersection(FlowModFlags::STATE)
            .format(&mut out);
    }
    if stats && opts.dialect == Dialect::OpenFlow10 {
        let idle_age = age_secs(opts.now_ms - rule.stats().used_ms());
        let hard_age = age_secs(opts.now_ms - rule.modified_ms);
        let _ = write!(out, "idle_age={idle_age}, ");
        if hard_age != duration_ms.max(0) / 1000 {
            let _ = write!(out, "hard_age={hard_age}, ");
        }
    }
    let before = out.len();
    format_match(&mut out, &rule.flow_match, Some(rule.priority));
    if out.len() != before {
        out.push(' ');
    }
    out.push_str("actions=");
    match wire_form(&rule.actions, opts.dialect, &rule.flow_match) {
        Ok(wire) => append_actions(&mut out, &wire),
        Err(_) => append_actions(&mut out, &rule.actions),
    }
    out
}

/// The rules a `dump-flows` request selects (`None` = all), in table order, at `version`.
pub fn select_flows(
    tables: &Tables,
    request: Option<&FlowMod>,
    version: Version,
) -> Result<Vec<Arc<Rule>>, OfpError> {
    let criteria = match request {
        Some(fm) => Criteria::of(fm, false, true),
        None => Criteria::all(),
    };
    tables.collect(&criteria, version)
}

/// The lines of `ovs-ofctl dump-flows [FILTER]` (without the reply header), at the tables'
/// current version.
pub fn dump_flows(
    tables: &Tables,
    request: Option<&FlowMod>,
    opts: &DumpOptions,
) -> Result<Vec<String>, OfpError> {
    let rules = select_flows(tables, request, tables.version())?;
    Ok(rules.iter().map(|r| format_flow_stats(r, opts)).collect())
}
