//! The `ovs-ofctl` flow commands against [`Tables`], from text to result: what `add-flow`,
//! `add-flows`, `mod-flows`, `del-flows`, `replace-flows` and `dump-flows` do end to end
//! (parse, send in a dialect, apply in the switch).
//!
//! # Invariants
//! * Each command is one version (one flow mod), except `add-flows` without a bundle (one
//!   version per line, stopping at the first failing line) — `replace-flows` is always one
//!   atomic version here (Open vSwitch only guarantees that with `--bundle`).
//! * Errors are [`FlowModError`]s whose `Display` is what `ovs-ofctl` prints after
//!   `ovs-ofctl: ` (parse and protocol errors) or the switch's error name.

use super::dump::{DumpOptions, dump_flows};
use super::flow_mod::{
    Command, FlowMod, FlowModError, ParseMode, flow_dump_protocol, parse_flow_file, parse_flow_mod,
};
use super::tables::{Criteria, FlowModOutcome, Tables};
use crate::actions::format::format_actions;
use crate::actions::{Dialect, wire_form};
use rvs_flow::ofp_match::port::PortLookup;
use std::collections::HashMap;

/// Client settings shared by the commands.
#[derive(Clone, Copy)]
pub struct Ofctl<'a> {
    /// The dialect (`-O`).
    pub dialect: Dialect,
    /// Port names (`p1` → 1), if any.
    pub ports: Option<PortLookup<'a>>,
}

impl std::fmt::Debug for Ofctl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ofctl")
            .field("dialect", &self.dialect)
            .finish()
    }
}

impl<'a> Ofctl<'a> {
    /// A client speaking `dialect` without port names.
    pub fn new(dialect: Dialect) -> Ofctl<'a> {
        Ofctl {
            dialect,
            ports: None,
        }
    }

    /// Parses `text` as a flow mod with `command` and sends it.
    fn one(
        &self,
        tables: &mut Tables,
        text: &str,
        command: Command,
        now_ms: i64,
    ) -> Result<FlowModOutcome, FlowModError> {
        let fm = parse_flow_mod(text, ParseMode::Command(command), self.ports)?;
        let received = fm.received(self.dialect)?;
        tables
            .apply(&received, now_ms)
            .map_err(FlowModError::Switch)
    }

    /// `ovs-ofctl add-flow BRIDGE FLOW`.
    pub fn add_flow(
        &self,
        tables: &mut Tables,
        text: &str,
        now_ms: i64,
    ) -> Result<FlowModOutcome, FlowModError> {
        self.one(tables, text, Command::Add, now_ms)
    }

    /// `ovs-ofctl mod-flows [--strict] BRIDGE FLOW`.
    pub fn mod_flows(
        &self,
        tables: &mut Tables,
        text: &str,
        strict: bool,
        now_ms: i64,
    ) -> Result<FlowModOutcome, FlowModError> {
        let c = if strict {
            Command::ModifyStrict
        } else {
            Command::Modify
        };
        self.one(tables, text, c, now_ms)
    }

    /// `ovs-ofctl del-flows [--strict] BRIDGE [FLOW]` (an empty `text` deletes everything).
    pub fn del_flows(
        &self,
        tables: &mut Tables,
        text: &str,
        strict: bool,
        now_ms: i64,
    ) -> Result<FlowModOutcome, FlowModError> {
        let c = if strict {
            Command::DeleteStrict
        } else {
            Command::Delete
        };
        self.one(tables, text, c, now_ms)
    }

    /// `ovs-ofctl add-flows [--bundle] BRIDGE FILE`: one flow mod per line (lines may start with
    /// a command). A parse error anywhere sends nothing. Without `bundle`, each line is its
    /// own version and a line the switch refuses does not stop the others (the first refusal
    /// is reported, as `ovs-ofctl` does after its barrier); with it, all lines are one atomic
    /// version. The error names the failing line's index.
    pub fn add_flows(
        &self,
        tables: &mut Tables,
        file_name: &str,
        text: &str,
        bundle: bool,
        now_ms: i64,
    ) -> Result<FlowModOutcome, (usize, FlowModError)> {
        let fms = parse_flow_file(file_name, text, ParseMode::FileLine, self.ports)
            .map_err(|e| (0, FlowModError::Parse(e)))?;
        self.send_all(tables, &fms, bundle, now_ms)
    }

    fn send_all(
        &self,
        tables: &mut Tables,
        fms: &[FlowMod],
        bundle: bool,
        now_ms: i64,
    ) -> Result<FlowModOutcome, (usize, FlowModError)> {
        let received: Vec<FlowMod> = fms
            .iter()
            .enumerate()
            .map(|(i, fm)| fm.received(self.dialect).map_err(|e| (i, e)))
            .collect::<Result<_, _>>()?;
        if bundle {
            return tables
                .apply_batch(&received, now_ms)
                .map_err(|(i, e)| (i, FlowModError::Switch(e)));
        }
        let mut total = FlowModOutcome::default();
        let mut first_error = None;
        for (i, fm) in received.iter().enumerate() {
            match tables.apply(fm, now_ms) {
                Ok(o) => {
                    total.added.extend(o.added);
                    total.removed.extend(o.removed);
                }
                Err(e) => {
                    first_error.get_or_insert((i, FlowModError::Switch(e)));
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(total),
        }
    }

    /// `ovs-ofctl replace-flows BRIDGE FILE`: makes the tables hold exactly the file's flows.
    /// As `ovs-ofctl` does, flows only on the switch are deleted (strictly), flows only in the
    /// file are added, and flows in both are re-added when cookie, timeouts, importance, table
    /// or actions (compared as printed: the file's text form against the switch's dump in this
    /// dialect) differ; untouched flows keep their counters. Here the whole change is one
    /// atomic version.
    pub fn replace_flows(
        &self,
        tables: &mut Tables,
        file_name: &str,
        text: &str,
        now_ms: i64,
    ) -> Result<FlowModOutcome, (usize, FlowModError)> {
        let file = parse_flow_file(
            file_name,
            text,
            ParseMode::Command(Command::Add),
            self.ports,
        )
        .map_err(|e| (0, FlowModError::Parse(e)))?;
        let usable = file
            .iter()
            .fold(crate::actions::Protocols::ANY, |acc, fm| acc & fm.usable);
        flow_dump_protocol(usable, self.dialect).map_err(|e| (0, e))?;
        type Key = (u8, rvs_flow::Match, u16);
        let mut wanted: HashMap<Key, &FlowMod> = HashMap::new();
        for fm in &file {
            wanted.insert((fm.table_id.unwrap_or(0), fm.flow_match, fm.priority), fm);
        }
        let version = tables.version();
        let on_switch = tables
            .collect(&Criteria::all(), version)
            .map_err(|e| (0, FlowModError::Switch(e)))?;
        let mut mods: Vec<FlowMod> = Vec::new();
        let mut present: HashMap<Key, String> = HashMap::new();
        for rule in &on_switch {
            let key = (rule.table_id, rule.flow_match, rule.priority);
            let dumped = wire_form(&rule.actions, self.dialect, &rule.flow_match)
                .unwrap_or_else(|_| rule.actions.clone());
            let signature = format!(
                "{} {} {} {} {}",
                rule.cookie,
                rule.idle_timeout,
                rule.hard_timeout,
                rule.importance,
                format_actions(&dumped)
            );
            if !wanted.contains_key(&key) {
                mods.push(delete_strict_of(
                    rule.table_id,
                    rule.flow_match,
                    rule.priority,
                ));
            }
            present.insert(key, signature);
        }
        for fm in &file {
            let key = (fm.table_id.unwrap_or(0), fm.flow_match, fm.priority);
            if !wanted.get(&key).is_some_and(|w| std::ptr::eq(*w, fm)) {
                continue; // a later line of the file has the same match and priority
            }
            let signature = format!(
                "{} {} {} {} {}",
                fm.new_cookie.unwrap_or(0),
                fm.idle_timeout,
                fm.hard_timeout,
                fm.importance,
                format_actions(&fm.actions)
            );
            if present.get(&key) != Some(&signature) {
                mods.push(fm.clone());
            }
        }
        self.send_all(tables, &mods, true, now_ms)
    }

    /// `ovs-ofctl [--no-stats] dump-flows BRIDGE [FILTER]`: the lines, without the reply header.
    pub fn dump_flows(
        &self,
        tables: &Tables,
        filter: &str,
        show_stats: bool,
        now_ms: i64,
    ) -> Result<Vec<String>, FlowModError> {
        let opts = DumpOptions {
            dialect: self.dialect,
            show_stats,
            now_ms,
        };
        if filter.trim().is_empty() {
            return dump_flows(tables, None, &opts).map_err(FlowModError::Switch);
        }
        let request = parse_flow_mod(filter, ParseMode::StatsRequest, self.ports)?;
        flow_dump_protocol(request.usable, self.dialect)?;
        dump_flows(tables, Some(&request), &opts).map_err(FlowModError::Switch)
    }
}

/// A strict delete of one rule (what `replace-flows` sends for a flow the file lacks).
fn delete_strict_of(table: u8, m: rvs_flow::Match, priority: u16) -> FlowMod {
    FlowMod {
        command: Command::DeleteStrict,
        table_id: Some(table),
        flow_match: m,
        priority,
        cookie: 0,
        cookie_mask: 0,
        new_cookie: Some(0),
        modify_cookie: false,
        idle_timeout: 0,
        hard_timeout: 0,
        importance: 0,
        flags: super::rule::FlowModFlags::NONE,
        out_port: rvs_flow::ofp_match::port::OFPP_NONE,
        actions: Vec::new(),
        usable: crate::actions::Protocols::ANY,
    }
}
