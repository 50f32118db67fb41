//! The switch's OpenFlow tables: 255 classifiers (tables 0–254) of shared [`Rule`]s, changed
//! by flow mods with Open vSwitch's semantics (`ofproto.c` in 3.1) and versioned so that a
//! lookup never sees half of a change.
//!
//! # Invariants
//! * Lookups and dumps name a [`Version`]; [`Tables::version`] is the newest complete one.
//!   A flow mod or batch is staged at `version + 1` and becomes visible only when all of it
//!   succeeded (then `version` moves on by exactly one); a failed batch is undone completely
//!   and the version does not move.
//! * Rules removed or replaced at version `v` stay in the classifiers for lookups at older
//!   versions until [`Tables::purge`] is given an oldest-in-use version `>= v`.
//! * Table 254 is Open vSwitch's hidden, read-only internal table: flow mods naming it fail with
//!   `OFPBRC_EPERM`, and flow mods or dumps over "all tables" skip it.
//! * No clock is read: every time is an argument (milliseconds).
//! * Every rule a committed version inserted or removed is summarised in the pending
//!   [`TableChanges`] (taken with [`Tables::take_changes`]); a failed batch leaves them as they were.

use super::changes::{TableChange, TableChanges};
use super::flow_mod::{Command, FlowMod};
use super::rule::{FlowModFlags, Rule, RuleStats};
use crate::actions::OfpError;
use crate::classifier::{self, Classifier, Outgoing, PrefixField, Version};
use rvs_flow::ofp_match::port::OFPP_NONE;
use rvs_flow::{Flow, Match, Wildcards};
use std::sync::Arc;

/// Number of OpenFlow tables.
pub const N_TABLES: usize = 255;
/// Open vSwitch's internal table (hidden and read-only).
pub const INTERNAL_TABLE: u8 = 254;

/// Why a rule left its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemovedReason {
    /// Its idle timeout passed.
    IdleTimeout,
    /// Its hard timeout passed.
    HardTimeout,
    /// A flow mod deleted it.
    Delete,
}

/// What a flow mod or batch changed.
#[derive(Debug, Default, Clone)]
pub struct FlowModOutcome {
    /// Rules that became visible (new rules and replacements).
    pub added: Vec<Arc<Rule>>,
    /// Rules that stopped being visible (deleted or replaced).
    pub removed: Vec<Arc<Rule>>,
}

/// Which rules a modify, delete or stats request selects.
#[derive(Debug, Clone)]
pub struct Criteria {
    /// Table (`None` = every table but the hidden one).
    pub table_id: Option<u8>,
    /// The target match: loosely (rules at least as specific that agree on its bits) or
    /// strictly (same match and priority).
    pub flow_match: Match,
    /// Priority for strict selection (`None` = loose).
    pub strict_priority: Option<u16>,
    /// Cookie value to compare under `cookie_mask`.
    pub cookie: u64,
    /// Cookie bits that must agree.
    pub cookie_mask: u64,
    /// Only rules that output to this port (`ANY` = no filter).
    pub out_port: u16,
    /// Whether read-only tables count (stats requests) or make the request fail (changes).
    pub include_readonly: bool,
}

impl Criteria {
    /// Every rule of every visible table (read-only ones included).
    pub fn all() -> Criteria {
        Criteria {
            table_id: None,
            flow_match: Match::default(),
            strict_priority: None,
            cookie: 0,
            cookie_mask: 0,
            out_port: OFPP_NONE,
            include_readonly: true,
        }
    }

    /// The criteria of a flow mod or flow-stats request.
    pub fn of(fm: &FlowMod, strict: bool, include_readonly: bool) -> Criteria {
        Criteria {
            table_id: fm.table_id,
            flow_match: fm.flow_match,
            strict_priority: strict.then_some(fm.priority),
            cookie: fm.cookie,
            cookie_mask: fm.cookie_mask,
            out_port: fm.out_port,
            include_readonly,
        }
    }
}

#[derive(Debug, Clone)]
struct OfTable {
    cls: Classifier<Arc<Rule>>,
    readonly: bool,
    hidden: bool,
}

/// The 255 OpenFlow tables of a bridge.
#[derive(Debug, Clone)]
pub struct Tables {
    tables: Vec<OfTable>,
    version: Version,
    changes: TableChanges,
}

impl Default for Tables {
    fn default() -> Tables {
        Tables::new()
    }
}

/// A change made while staging, with what undoes it.
#[derive(Debug)]
enum Undo {
    /// A rule was inserted at the staged version.
    Inserted { table: u8, m: Match, priority: u32 },
    /// A visible rule was retired at the staged version.
    Retired { table: u8, m: Match, priority: u32 },
    /// A rule inserted earlier in the batch was dropped.
    Dropped {
        table: u8,
        rule: Box<classifier::Rule<Arc<Rule>>>,
    },
}

/// A batch being staged at `version`.
struct Stage<'t> {
    tables: &'t mut Tables,
    version: Version,
    undo: Vec<Undo>,
    /// The pending changes before the batch (restored if it fails).
    changes_before: TableChanges,
    outcome: FlowModOutcome,
    forwards: Vec<(Arc<Rule>, Arc<Rule>)>,
    now_ms: i64,
}

impl Tables {
    /// Empty tables at version 0.
    pub fn new() -> Tables {
        let tables = (0..N_TABLES)
            .map(|i| OfTable {
                cls: Classifier::new(),
                readonly: i == usize::from(INTERNAL_TABLE),
                hidden: i == usize::from(INTERNAL_TABLE),
            })
            .collect();
        Tables {
            tables,
            version: Version(0),
            changes: TableChanges::default(),
        }
    }

    /// Tables holding Open vSwitch's internal rules in table 254 (`add_internal_flows`, as
    /// `ovs-appctl bridge/dump-flows` shows them on OVS 3.1): the miss rule
    /// (`reg0=0x1 actions=controller(reason=)`), the no-packet-in and drop-fragments rules
    /// (`reg0=0x2`, `reg0=0x3`, drop) and `priority=2,recirc_id=0 actions=drop`.
    pub fn with_internal_flows(now_ms: i64) -> Tables {
        use crate::actions::{Controller, OfpAction, PacketInReason};
        use rvs_flow::ofp_match::fields::FieldId;
        let mut t = Tables::new();
        let reg0 = |v: u32| {
            let mut m = Match::default();
            m.flow.regs[0] = v;
            m.wc.masks.regs[0] = u32::MAX;
            m
        };
        let miss = OfpAction::Controller(Controller {
            max_len: u16::MAX,
            reason: PacketInReason::ExplicitMiss,
            controller_id: 0,
            userdata: Vec::new(),
            pause: false,
            meter_id: None,
        });
        t.install_internal(INTERNAL_TABLE, reg0(1), 0, vec![miss], now_ms);
        t.install_internal(INTERNAL_TABLE, reg0(2), 0, Vec::new(), now_ms);
        t.install_internal(INTERNAL_TABLE, reg0(3), 0, Vec::new(), now_ms);
        let mut recirc0 = Match::default();
        crate::actions::field::set(FieldId::RecircId, u128::MAX, &mut recirc0.wc.masks);
        t.install_internal(INTERNAL_TABLE, recirc0, 2, Vec::new(), now_ms);
        t
    }

    /// Installs a rule directly in a new version, bypassing flow-mod checks and read-only
    /// tables (how Open vSwitch installs its internal rules). Replaces a rule with the same
    /// match and priority.
    pub fn install_internal(
        &mut self,
        table_id: u8,
        flow_match: Match,
        priority: u16,
        actions: Vec<crate::actions::OfpAction>,
        now_ms: i64,
    ) -> Option<Arc<Rule>> {
        let version = self.version.next();
        let m = Match::new(&flow_match.flow, &flow_match.wc);
        let rule = Arc::new(Rule::new(
            table_id,
            m,
            priority,
            0,
            (0, 0),
            0,
            FlowModFlags::NONE,
            actions,
            now_ms,
            now_ms,
            Arc::new(RuleStats::new(now_ms)),
        ));
        let entry = classifier::Rule::new(m, u32::from(priority), Arc::clone(&rule));
        let table = self.tables.get_mut(usize::from(table_id))?;
        table.cls.insert(entry, version);
        self.changes
            .record(table_id, &table.cls, &m, u32::from(priority));
        self.version = version;
        Some(rule)
    }

    /// The newest complete version (what lookups should use).
    pub fn version(&self) -> Version {
        self.version
    }

    /// Summaries of the rule changes committed since the last call, at most one per table.
    pub fn take_changes(&mut self) -> Vec<TableChange> {
        self.changes.take()
    }

    /// The classifier of table `id`.
    pub fn classifier(&self, id: u8) -> Option<&Classifier<Arc<Rule>>> {
        self.tables.get(usize::from(id)).map(|t| &t.cls)
    }

    /// Sets the fields with prefix tries of table `id` (the `prefixes` column of OVS's
    /// `Flow_Table`; an empty list turns the tries off). Returns whether anything changed;
    /// false also for a table that does not exist.
    pub fn set_prefix_fields(&mut self, id: u8, fields: &[PrefixField]) -> bool {
        self.tables
            .get_mut(usize::from(id))
            .is_some_and(|t| t.cls.set_prefix_fields(fields))
    }

    /// The highest-priority rule of table `table_id` visible in `version` that matches `flow`,
    /// ORing the bits the answer depended on into `wc`.
    pub fn lookup(
        &self,
        table_id: u8,
        flow: &Flow,
        version: Version,
        wc: &mut Wildcards,
    ) -> Option<&Arc<Rule>> {
        self.classifier(table_id)?
            .lookup(flow, version, wc)
            .map(|r| &r.payload)
    }

    /// Every rule visible in `version`, table by table (the hidden table last).
    pub fn rules(&self, version: Version) -> impl Iterator<Item = &Arc<Rule>> {
        self.tables
            .iter()
            .flat_map(move |t| t.cls.iter(version).map(|r| &r.payload))
    }

    /// Number of rules visible in `version`.
    pub fn rule_count(&self, version: Version) -> usize {
        self.rules(version).count()
    }

    /// The rules `criteria` selects in `version`, in table order (`collect_rules_loose` /
    /// `collect_rules_strict`). Fails with `OFPBRC_EPERM` if only read-only rules matched and
    /// the criteria do not include them.
    pub fn collect(&self, c: &Criteria, version: Version) -> Result<Vec<Arc<Rule>>, OfpError> {
        let mut out = Vec::new();
        let mut n_readonly = 0usize;
        for (id, table) in self.tables.iter().enumerate() {
            let selected = match c.table_id {
                Some(t) => usize::from(t) == id,
                None => !table.hidden,
            };
            if !selected {
                continue;
            }
            let candidates: Vec<&Arc<Rule>> = match c.strict_priority {
                Some(p) => table
                    .cls
                    .find_exactly(&c.flow_match, u32::from(p), version)
                    .map(|r| &r.payload)
                    .into_iter()
                    .collect(),
                None => table
                    .cls
                    .iter_loose(&c.flow_match, version)
                    .map(|r| &r.payload)
                    .collect(),
            };
            for rule in candidates {
                if (rule.cookie ^ c.cookie) & c.cookie_mask != 0 || !rule.has_out_port(c.out_port) {
                    continue;
                }
                if table.readonly && !c.include_readonly {
                    n_readonly += 1;
                } else {
                    out.push(Arc::clone(rule));
                }
            }
        }
        if out.is_empty() && n_readonly > 0 {
            return Err(OfpError::Eperm);
        }
        Ok(out)
    }

    /// Applies one flow mod (as the switch received it) in a new version.
    pub fn apply(&mut self, fm: &FlowMod, now_ms: i64) -> Result<FlowModOutcome, OfpError> {
        self.apply_batch(std::slice::from_ref(fm), now_ms)
            .map_err(|(_, e)| e)
    }

    /// Applies flow mods atomically: all of them become visible together in one new version,
    /// or, if one fails, none does (the index of the failing one is returned). Later flow mods
    /// see the effects of earlier ones, as in an OpenFlow bundle.
    pub fn apply_batch(
        &mut self,
        fms: &[FlowMod],
        now_ms: i64,
    ) -> Result<FlowModOutcome, (usize, OfpError)> {
        let version = self.version.next();
        let changes_before = self.changes.clone();
        let mut stage = Stage {
            tables: self,
            version,
            undo: Vec::new(),
            changes_before,
            outcome: FlowModOutcome::default(),
            forwards: Vec::new(),
            now_ms,
        };
        for (i, fm) in fms.iter().enumerate() {
            if let Err(e) = stage.flow_mod(fm) {
                stage.revert();
                return Err((i, e));
            }
        }
        let outcome = stage.commit();
        Ok(outcome)
    }

    /// Removes the rules whose idle or hard timeout passed at `now_ms` (Open vSwitch's
    /// `rule_expire`: hard if `now > modified + hard`, else idle if `now > used + idle`), in one
    /// new version, and returns them with the reason.
    pub fn expire(&mut self, now_ms: i64) -> Vec<(Arc<Rule>, RemovedReason)> {
        let expired: Vec<(Arc<Rule>, RemovedReason)> = self
            .rules(self.version)
            .filter_map(|r| {
                let hard = i64::from(r.hard_timeout) * 1000;
                let idle = i64::from(r.idle_timeout) * 1000;
                if r.hard_timeout != 0 && now_ms > r.modified_ms + hard {
                    Some((Arc::clone(r), RemovedReason::HardTimeout))
                } else if r.idle_timeout != 0 && now_ms > r.stats().used_ms() + idle {
                    Some((Arc::clone(r), RemovedReason::IdleTimeout))
                } else {
                    None
                }
            })
            .collect();
        if expired.is_empty() {
            return expired;
        }
        let version = self.version.next();
        for (rule, _) in &expired {
            if let Some(t) = self.tables.get_mut(usize::from(rule.table_id)) {
                let priority = u32::from(rule.priority);
                self.changes
                    .record(rule.table_id, &t.cls, &rule.flow_match, priority);
                t.cls.remove(&rule.flow_match, priority, version);
            }
        }
        self.version = version;
        expired
    }

    /// Drops rules no lookup can see any more (invisible in every version from
    /// `oldest_in_use` on) and returns how many were dropped.
    pub fn purge(&mut self, oldest_in_use: Version) -> usize {
        self.tables
            .iter_mut()
            .map(|t| t.cls.purge(oldest_in_use).len())
            .sum()
    }
}

impl Stage<'_> {
    fn table(&mut self, id: u8) -> Result<&mut OfTable, OfpError> {
        self.tables
            .tables
            .get_mut(usize::from(id))
            .ok_or(OfpError::BadTableId)
    }

    fn insert(&mut self, rule: Arc<Rule>, old: Option<&Arc<Rule>>) -> Result<(), OfpError> {
        let version = self.version;
        let (table, m, priority) = (rule.table_id, rule.flow_match, u32::from(rule.priority));
        let entry = classifier::Rule::new(m, priority, Arc::clone(&rule));
        let outgoing = self.table(table)?.cls.insert(entry, version);
        self.record_change(table, &m, priority);
        match outgoing {
            Some(Outgoing::Retired) => self.undo.push(Undo::Retired { table, m, priority }),
            Some(Outgoing::Dropped(r)) => self.undo.push(Undo::Dropped { table, rule: r }),
            None => {}
        }
        self.undo.push(Undo::Inserted { table, m, priority });
        if let Some(old) = old {
            self.outcome.removed.push(Arc::clone(old));
            self.forwards.push((Arc::clone(old), Arc::clone(&rule)));
        }
        self.outcome.added.push(rule);
        Ok(())
    }

    fn remove(&mut self, rule: &Arc<Rule>) -> Result<(), OfpError> {
        let version = self.version;
        let (table, m, priority) = (rule.table_id, rule.flow_match, u32::from(rule.priority));
        self.record_change(table, &m, priority);
        match self.table(table)?.cls.remove(&m, priority, version) {
            Some(Outgoing::Retired) => self.undo.push(Undo::Retired { table, m, priority }),
            Some(Outgoing::Dropped(r)) => self.undo.push(Undo::Dropped { table, rule: r }),
            None => {}
        }
        self.outcome.removed.push(Arc::clone(rule));
        Ok(())
    }

    /// Records a rule change in the pending [`TableChanges`] (after an insertion, before a
    /// removal).
    fn record_change(&mut self, table: u8, m: &Match, priority: u32) {
        let Tables {
            tables, changes, ..
        } = &mut *self.tables;
        if let Some(t) = tables.get(usize::from(table)) {
            changes.record(table, &t.cls, m, priority);
        }
    }

    fn revert(mut self) {
        let version = self.version;
        self.tables.changes = std::mem::take(&mut self.changes_before);
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Inserted { table, m, priority } => {
                    if let Ok(t) = self.table(table) {
                        t.cls.remove(&m, priority, version);
                    }
                }
                Undo::Retired { table, m, priority } => {
                    if let Ok(t) = self.table(table) {
                        t.cls.restore(&m, priority, version);
                    }
                }
                Undo::Dropped { table, rule } => {
                    if let Ok(t) = self.table(table) {
                        t.cls.insert(*rule, version);
                    }
                }
            }
        }
    }

    fn commit(self) -> FlowModOutcome {
        for (old, new) in self.forwards {
            old.forward_to(new);
        }
        self.tables.version = self.version;
        self.outcome
    }

    /// Checks the table an add (or a modify that may add) goes to (`add_flow_init`).
    fn add_table(&self, fm: &FlowMod) -> Result<u8, OfpError> {
        let id = fm.table_id.unwrap_or(0);
        let table = self
            .tables
            .tables
            .get(usize::from(id))
            .ok_or(OfpError::BadTableId)?;
        if table.readonly && !fm.flags.contains(FlowModFlags::NO_READONLY) {
            return Err(OfpError::Eperm);
        }
        Ok(id)
    }

    fn flow_mod(&mut self, fm: &FlowMod) -> Result<(), OfpError> {
        match fm.command {
            Command::Add => {
                let table = self.add_table(fm)?;
                self.add(fm, table)
            }
            Command::Modify | Command::ModifyStrict => {
                let table = self.add_table(fm)?;
                let strict = fm.command == Command::ModifyStrict;
                let mut c = Criteria::of(fm, strict, fm.flags.contains(FlowModFlags::NO_READONLY));
                c.out_port = OFPP_NONE;
                let old = self.tables.collect(&c, self.version)?;
                if !old.is_empty() {
                    for rule in &old {
                        self.replace(fm, rule)?;
                    }
                    Ok(())
                } else if fm.new_cookie.is_some() && fm.cookie_mask == 0 {
                    self.add(fm, table)
                } else {
                    Ok(())
                }
            }
            Command::Delete | Command::DeleteStrict => {
                let strict = fm.command == Command::DeleteStrict;
                let c = Criteria::of(fm, strict, fm.flags.contains(FlowModFlags::NO_READONLY));
                for rule in self.tables.collect(&c, self.version)? {
                    self.remove(&rule)?;
                }
                Ok(())
            }
        }
    }

    /// `add_flow_start`: a new rule, replacing one with the same match and priority.
    fn add(&mut self, fm: &FlowMod, table: u8) -> Result<(), OfpError> {
        let version = self.version;
        let priority = u32::from(fm.priority);
        let cls = &self.table(table)?.cls;
        let old = cls
            .find_exactly(&fm.flow_match, priority, version)
            .map(|r| Arc::clone(&r.payload));
        if old.is_none()
            && fm.flags.contains(FlowModFlags::CHECK_OVERLAP)
            && cls.overlaps(&fm.flow_match, priority, version)
        {
            return Err(OfpError::Overlap);
        }
        let now = self.now_ms;
        let new_cookie = fm.new_cookie.unwrap_or(u64::MAX);
        let (cookie, stats) = match &old {
            // An add that finds its rule always may change the cookie (`modify_cookie`).
            Some(o) => (
                if new_cookie == u64::MAX {
                    o.cookie
                } else {
                    new_cookie
                },
                carried_stats(fm, o),
            ),
            None => (new_cookie, Arc::new(RuleStats::new(now))),
        };
        let rule = Rule::new(
            table,
            fm.flow_match,
            fm.priority,
            cookie,
            (fm.idle_timeout, fm.hard_timeout),
            fm.importance,
            fm.flags.intersection(FlowModFlags::STATE),
            fm.actions.clone(),
            now,
            now,
            stats,
        );
        self.insert(Arc::new(rule), old.as_ref())
    }

    /// `modify_flows_start__` for one old rule: same match, priority and table, the flow mod's
    /// actions, the old rule's timeouts, importance, flags and creation time.
    fn replace(&mut self, fm: &FlowMod, old: &Arc<Rule>) -> Result<(), OfpError> {
        let cookie = match fm.new_cookie {
            Some(c) if fm.modify_cookie && c != u64::MAX => c,
            _ => old.cookie,
        };
        let rule = Rule::new(
            old.table_id,
            old.flow_match,
            old.priority,
            cookie,
            (old.idle_timeout, old.hard_timeout),
            old.importance,
            old.flags,
            fm.actions.clone(),
            old.created_ms,
            self.now_ms,
            carried_stats(fm, old),
        );
        self.insert(Arc::new(rule), Some(old))
    }
}

/// The counters of a replacement: shared with the old rule unless the flow mod resets them,
/// in which case they restart from zero but keep the old "last used" time.
fn carried_stats(fm: &FlowMod, old: &Rule) -> Arc<RuleStats> {
    if fm.flags.contains(FlowModFlags::RESET_COUNTS) {
        Arc::new(RuleStats::new(old.stats().used_ms()))
    } else {
        old.stats_handle()
    }
}
