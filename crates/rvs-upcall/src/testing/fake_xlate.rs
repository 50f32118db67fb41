//! A fake OpenFlow translator: a priority-ordered rule list whose rules tests change to force
//! MODIFY and DELETE, and which counts the packets credited to each rule.
//!
//! # Invariants
//! * A translation picks the highest-priority matching rule (ties: the earliest), or the table
//!   miss ([`TABLE_MISS`], drop) if none matches.
//! * The wildcards are the union of every rule's mask (plus `in_port`): coarse but sound, since all
//!   packets a megaflow covers agree on every bit any rule looks at. A rule's `extra_wc` lets a
//!   test make the new translation need more bits than an installed flow has.
//! * Packets are credited only through `push_stats` (never by `translate`), per rule id; the sum
//!   over all ids is what a packet-conservation test compares with packets sent.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use rvs_dpif::dpif::{Actions, FlowStats};
use rvs_flow::odp::OdpAction;
use rvs_flow::{Flow, Match, Wildcards};

use crate::xlate::{Translator, XlateCache, XlateError, XlateOutput, XlateRequest};

/// The rule id credited for packets no rule matched.
pub const TABLE_MISS: u32 = u32::MAX;

/// One fake OpenFlow rule.
#[derive(Clone, Debug)]
pub struct FakeRule {
    /// Id (what credits are counted under).
    pub id: u32,
    /// Higher wins.
    pub priority: u32,
    /// What it matches.
    pub matcher: Match,
    /// Datapath actions.
    pub actions: Actions,
    /// Slow-path reason bits (0 = installable).
    pub slow_path: u32,
    /// Bits the translation un-wildcards in addition to the rule's mask.
    pub extra_wc: Wildcards,
}

impl FakeRule {
    /// A rule matching `flow` under `mask`, outputting to `port`.
    pub fn output(id: u32, priority: u32, flow: &Flow, mask: Wildcards, port: u32) -> FakeRule {
        FakeRule {
            id,
            priority,
            matcher: Match::new(flow, &mask),
            actions: Arc::from(vec![OdpAction::Output(port)]),
            slow_path: 0,
            extra_wc: Wildcards::default(),
        }
    }
}

/// The xlate cache of the fake: which rule was hit.
#[derive(Debug)]
pub struct FakeCache {
    /// The rule id.
    pub rule: u32,
}

impl XlateCache for FakeCache {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The fake translator.
#[derive(Debug, Default)]
pub struct FakeTranslator {
    rules: RwLock<Vec<FakeRule>>,
    version: AtomicU64,
    credited: Mutex<HashMap<u32, FlowStats>>,
    unknown_ports: RwLock<HashSet<u32>>,
    fail_all: AtomicBool,
    no_cache: AtomicBool,
    /// Translations done for upcalls / cache builds (`for_revalidation == false`).
    pub upcall_translations: AtomicU64,
    /// Side-effect-free translations (`for_revalidation == true`).
    pub revalidation_translations: AtomicU64,
}

impl FakeTranslator {
    /// A translator with these rules.
    pub fn with_rules(rules: Vec<FakeRule>) -> FakeTranslator {
        let t = FakeTranslator::default();
        *t.rules.write() = rules;
        t
    }

    /// Replaces the rules and bumps the tables version (the caller then calls
    /// `Udpif::revalidate`, as ofproto does after a committed change).
    pub fn set_rules(&self, rules: Vec<FakeRule>) {
        *self.rules.write() = rules;
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// A copy of the rules.
    pub fn rules(&self) -> Vec<FakeRule> {
        self.rules.read().clone()
    }

    /// Makes `port` unknown (translation fails with `NoOfproto`) while `on`.
    pub fn set_port_unknown(&self, port: u32, on: bool) {
        let mut p = self.unknown_ports.write();
        if on {
            p.insert(port);
        } else {
            p.remove(&port);
        }
    }

    /// Makes every translation fail while `on`.
    pub fn set_fail_all(&self, on: bool) {
        self.fail_all.store(on, Ordering::Relaxed);
    }

    /// Makes translations return no cache ("avoid caching") while `on`.
    pub fn set_no_cache(&self, on: bool) {
        self.no_cache.store(on, Ordering::Relaxed);
    }

    /// Statistics credited to rule `id`.
    pub fn credited(&self, id: u32) -> FlowStats {
        self.credited.lock().get(&id).copied().unwrap_or_default()
    }

    /// Packets credited to all rules (table miss included).
    pub fn credited_packets(&self) -> u64 {
        self.credited.lock().values().map(|s| s.n_packets).sum()
    }

    /// Bytes credited to all rules.
    pub fn credited_bytes(&self) -> u64 {
        self.credited.lock().values().map(|s| s.n_bytes).sum()
    }
}

impl Translator for FakeTranslator {
    fn tables_version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn translate(&self, req: &XlateRequest<'_>) -> Result<XlateOutput, XlateError> {
        if req.for_revalidation {
            self.revalidation_translations
                .fetch_add(1, Ordering::Relaxed);
        } else {
            self.upcall_translations.fetch_add(1, Ordering::Relaxed);
        }
        if self.fail_all.load(Ordering::Relaxed) {
            return Err(XlateError::Failed("injected".into()));
        }
        if self.unknown_ports.read().contains(&req.flow.in_port) {
            return Err(XlateError::NoOfproto(req.flow.in_port));
        }
        let rules = self.rules.read();
        let mut wc = Wildcards::default();
        wc.masks.in_port = u32::MAX;
        let mut best: Option<&FakeRule> = None;
        for r in rules.iter() {
            wc.union_with(&r.matcher.wc);
            if r.matcher.matches(req.flow) && best.is_none_or(|b| r.priority > b.priority) {
                best = Some(r);
            }
        }
        let (rule, actions, slow_path) = match best {
            Some(r) => {
                wc.union_with(&r.extra_wc);
                (r.id, r.actions.clone(), r.slow_path)
            }
            None => (TABLE_MISS, Arc::from(Vec::new()), 0),
        };
        let xcache: Option<Box<dyn XlateCache>> = if self.no_cache.load(Ordering::Relaxed) {
            None
        } else {
            Some(Box::new(FakeCache { rule }))
        };
        Ok(XlateOutput {
            actions,
            wc,
            slow_path,
            xcache,
        })
    }

    fn push_stats(&self, xcache: &dyn XlateCache, delta: &FlowStats) {
        if let Some(c) = xcache.as_any().downcast_ref::<FakeCache>() {
            self.credited.lock().entry(c.rule).or_default().merge(delta);
        }
    }
}
