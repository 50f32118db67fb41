//! [`OfprotoDpif`] as the upcall engine's translator: finds the bridge of the input port,
//! translates against a consistent snapshot of its tables, and keeps what `push_stats` needs
//! (rules hit, NORMAL's learning) in a [`DpifXlateCache`].
//!
//! # Invariants
//! * `translate` never credits rules (no `resubmit_stats`): credits go only through
//!   `push_stats`, so each packet is credited once.
//! * A cache's `epoch` is the change-journal sequence number read before the translation that
//!   built it (or that last found it unchanged) read anything; `translation_unchanged` moves it
//!   forward only over changes the journal shows cannot affect the translation's lookups.
//! * Revalidation translations never learn; upcall translations do, and a MAC table change
//!   they (or `push_stats`) cause calls the change hook once, after every lock is released.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rvs_dpif::dpif::{Actions, FlowStats};
use rvs_flow::odp::OdpAction;
use rvs_ofproto::mac_learning::LearnContext;
use rvs_ofproto::table::Rule;
use rvs_ofproto::xlate::{
    NormalLearn, Translator as BridgeTranslator, XlateInput, XlateOutput as BridgeXlateOutput,
    XlateStats,
};
use rvs_upcall::xlate::{
    RevalidateOutput, SLOW_ACTION, Translator, XlateCache, XlateError, XlateOutput, XlateRequest,
};

use super::OfprotoDpif;
use super::bridge::BridgeState;

/// What a translation must replay when its datapath flow gathers statistics: the rules it hit
/// and NORMAL's learning (OVS's `xlate_cache` with `XC_RULE` and `XC_NORMAL` entries). One per
/// ukey, so it keeps only those two, at their exact size (not a whole translation output).
pub struct DpifXlateCache {
    pub(super) bridge: Arc<BridgeState>,
    /// Every rule the translation hit, in order.
    pub(super) rules_hit: RulesHit,
    /// What NORMAL learned from the packet, if NORMAL ran.
    pub(super) normal_learn: Option<NormalLearn>,
    /// A table lookup of the translation found no rule.
    pub(super) lookup_missed: bool,
    /// The change-journal sequence number the translation is known to be current at.
    pub(super) epoch: AtomicU64,
}

/// The rules a translation hit, in order: one rule (the usual case: a single table) is kept in
/// place, more in their own exact-size allocation (one allocation less per upcall).
pub(super) enum RulesHit {
    /// Exactly one rule.
    One([Arc<Rule>; 1]),
    /// Zero or several rules.
    Many(Box<[Arc<Rule>]>),
}

impl From<&[Arc<Rule>]> for RulesHit {
    fn from(rules: &[Arc<Rule>]) -> RulesHit {
        match rules {
            [one] => RulesHit::One([Arc::clone(one)]),
            _ => RulesHit::Many(rules.into()),
        }
    }
}

impl std::ops::Deref for RulesHit {
    type Target = [Arc<Rule>];

    fn deref(&self) -> &[Arc<Rule>] {
        match self {
            RulesHit::One(one) => one,
            RulesHit::Many(many) => many,
        }
    }
}

impl std::fmt::Debug for DpifXlateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpifXlateCache")
            .field("bridge", &self.bridge.name)
            .field("rules", &self.rules_hit.len())
            .field("normal_learn", &self.normal_learn)
            .finish()
    }
}

impl DpifXlateCache {
    /// The bridge the translation ran in.
    pub fn bridge(&self) -> &str {
        &self.bridge.name
    }

    /// How many rules the translation hit (each is credited by `push_stats`).
    pub fn n_rules(&self) -> usize {
        self.rules_hit.len()
    }

    /// Replays the translation's side effects for `stats` (OVS's `xlate_push_stats`): credits
    /// every rule hit and lets NORMAL learn the source address again. Nothing for zero packets.
    fn push_stats(&self, stats: XlateStats, now_ms: u64) {
        if stats.packets == 0 {
            return;
        }
        for rule in self.rules_hit.iter() {
            rule.credit(stats.packets, stats.bytes, stats.used_ms);
        }
        if let Some(learn) = &self.normal_learn {
            let ctx = LearnContext {
                gratuitous_arp: learn.gratuitous_arp,
                from_bond: false,
            };
            let _ = self
                .bridge
                .mac
                .learn(&learn.dl_src, learn.vlan, learn.in_port, ctx, now_ms);
        }
    }
}

impl XlateCache for DpifXlateCache {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn touch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }
}

impl Translator for OfprotoDpif {
    fn tables_version(&self) -> u64 {
        self.tables_version.load(Ordering::Acquire)
    }

    fn translate(&self, req: &XlateRequest<'_>) -> Result<XlateOutput, XlateError> {
        let in_port = req.flow.in_port;
        let br = self
            .bridge_of_odp_port(in_port)
            .ok_or(XlateError::NoOfproto(in_port))?;
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.translate_with(br, req, &mut scratch),
            // A translation nested in another one (from the change hook) on this thread.
            Err(_) => {
                let mut scratch = BridgeXlateOutput::default();
                self.translate_with(br, req, &mut scratch)
            }
        })
    }

    fn revalidate(
        &self,
        req: &XlateRequest<'_>,
        installed: &Actions,
        xcache: &mut Option<Box<dyn XlateCache>>,
    ) -> Result<RevalidateOutput, XlateError> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.revalidate_with(req, installed, xcache, &mut scratch),
            // A revalidation nested in another one (from the change hook) on this thread.
            Err(_) => {
                let mut scratch = BridgeXlateOutput::default();
                self.revalidate_with(req, installed, xcache, &mut scratch)
            }
        })
    }

    fn translation_unchanged(&self, xcache: &dyn XlateCache) -> bool {
        let Some(cache) = xcache.as_any().downcast_ref::<DpifXlateCache>() else {
            return false;
        };
        let epoch = cache.epoch.load(Ordering::Relaxed);
        match self
            .journal
            .unaffected_since(epoch, &cache.rules_hit, u32::from(cache.lookup_missed))
        {
            Some(now) => {
                cache.epoch.store(now, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    fn push_stats(&self, xcache: &dyn XlateCache, delta: &FlowStats) {
        let Some(cache) = xcache.as_any().downcast_ref::<DpifXlateCache>() else {
            return;
        };
        // The clock is read only when something needs it: a delta without a `used` time, or
        // NORMAL's learning (an upcall's credit carries its time and usually learns nothing).
        let needs_now = delta.used == 0 || cache.normal_learn.is_some();
        let now = if needs_now { self.now_ms() } else { delta.used };
        let used = if delta.used == 0 { now } else { delta.used };
        let stats = XlateStats {
            packets: delta.n_packets,
            bytes: delta.n_bytes,
            used_ms: i64::try_from(used).unwrap_or(i64::MAX),
        };
        let generation = cache.bridge.mac.generation();
        cache.push_stats(stats, now);
        if cache.bridge.mac.generation() != generation {
            self.notify();
        }
    }
}

thread_local! {
    /// Per-thread output buffers reused by upcall and revalidation translations (borrowed while
    /// in use; a nested translation uses fresh ones).
    static SCRATCH: RefCell<BridgeXlateOutput> = RefCell::new(BridgeXlateOutput::default());

    /// The actions of this thread's latest upcall translation (see [`shared_actions`]).
    static LAST_ACTIONS: RefCell<Option<Actions>> = const { RefCell::new(None) };
}

/// `odp` as shared [`Actions`]: the allocation of this thread's previous upcall translation when
/// the actions are equal (flows set up one after the other mostly share their actions, e.g. one
/// output port: 144 bytes and an allocation less per flow), a new one otherwise. Actions are
/// immutable and compared by value everywhere, so sharing them changes nothing else.
fn shared_actions(odp: &[OdpAction]) -> Actions {
    LAST_ACTIONS.with(|cell| {
        let Ok(mut last) = cell.try_borrow_mut() else {
            return Arc::from(odp);
        };
        if let Some(prev) = last.as_ref()
            && prev[..] == *odp
        {
            return Arc::clone(prev);
        }
        let fresh: Actions = Arc::from(odp);
        *last = Some(Arc::clone(&fresh));
        fresh
    })
}

/// The engine's slow-path bits for a bridge translation (0 = installable as is).
fn slow_path_bits(out: &BridgeXlateOutput) -> u32 {
    match (out.slow, out.slow_reasons) {
        (false, _) => 0,
        (true, 0) => SLOW_ACTION,
        (true, reasons) => reasons,
    }
}

/// True if `cache` records exactly what `out` (translated in `bridge`) would record.
fn cache_matches(
    cache: &DpifXlateCache,
    bridge: &Arc<BridgeState>,
    out: &BridgeXlateOutput,
) -> bool {
    Arc::ptr_eq(&cache.bridge, bridge)
        && cache.normal_learn == out.normal_learn
        && cache.lookup_missed == (out.lookup_misses > 0)
        && cache.rules_hit.len() == out.rules_hit.len()
        && cache
            .rules_hit
            .iter()
            .zip(&out.rules_hit)
            .all(|(a, b)| Arc::ptr_eq(a, b))
}

impl OfprotoDpif {
    /// Translates `req` in bridge `br` into `out` (reusing its buffers); `NoOfproto` if the
    /// input port is not (or no longer) in `br`. Calls the change hook if the MAC table changed.
    fn translate_in(
        &self,
        br: &BridgeState,
        req: &XlateRequest<'_>,
        out: &mut BridgeXlateOutput,
    ) -> Result<(), XlateError> {
        let in_port = req.flow.in_port;
        let generation = br.mac.generation();
        {
            let ports = br.ports.read();
            if ports.by_odp_port(in_port).is_none() {
                // Removed between the lookup and the lock, or not this bridge's port.
                return Err(XlateError::NoOfproto(in_port));
            }
            let tables = br.tables.read();
            let xlator = BridgeTranslator {
                bridge: &ports,
                tables: &tables,
                mac: &br.mac,
            };
            let input = XlateInput {
                flow: *req.flow,
                tables_version: tables.version(),
                resubmit_stats: None,
                may_learn: !req.for_revalidation,
                // Only learning reads the time: a revalidation translation never does.
                now_ms: if req.for_revalidation {
                    0
                } else {
                    self.now_ms()
                },
            };
            xlator.translate_into(&input, out);
        }
        if br.mac.generation() != generation {
            // NORMAL learned a new address or saw one move (OVS: REV_MAC_LEARNING).
            self.notify();
        }
        Ok(())
    }

    /// [`Translator::translate`] in bridge `br` with `scratch` as the translation's buffers: the
    /// output's actions and rules are copied out at their exact size, so an upcall allocates no
    /// growing vectors (the buffers keep their capacity for the next translation on the thread).
    fn translate_with(
        &self,
        br: Arc<BridgeState>,
        req: &XlateRequest<'_>,
        scratch: &mut BridgeXlateOutput,
    ) -> Result<XlateOutput, XlateError> {
        let epoch = self.journal.seq();
        self.translate_in(&br, req, scratch)?;
        let slow_path = slow_path_bits(scratch);
        Ok(XlateOutput {
            actions: shared_actions(&scratch.odp_actions),
            wc: scratch.wc,
            slow_path,
            xcache: Some(Box::new(DpifXlateCache {
                bridge: br,
                rules_hit: scratch.rules_hit.as_slice().into(),
                normal_learn: scratch.normal_learn,
                lookup_missed: scratch.lookup_misses > 0,
                epoch: AtomicU64::new(epoch),
            })),
        })
    }

    /// [`Translator::revalidate`] with `scratch` as the translation's buffers: starts from the
    /// cached bridge (ports are unique across the datapath, so a bridge that still has the
    /// input port owns it), keeps the cache if the translation hit the same rules and would
    /// learn the same, and allocates new actions only if they differ from `installed`.
    fn revalidate_with(
        &self,
        req: &XlateRequest<'_>,
        installed: &Actions,
        xcache: &mut Option<Box<dyn XlateCache>>,
        scratch: &mut BridgeXlateOutput,
    ) -> Result<RevalidateOutput, XlateError> {
        let in_port = req.flow.in_port;
        let epoch = self.journal.seq();
        let cached = xcache
            .as_deref()
            .and_then(|c| c.as_any().downcast_ref::<DpifXlateCache>());
        let looked_up;
        let br = match cached.map(|c| &c.bridge) {
            Some(br) if self.translate_in(br, req, scratch).is_ok() => br,
            _ => {
                looked_up = self
                    .bridge_of_odp_port(in_port)
                    .ok_or(XlateError::NoOfproto(in_port))?;
                self.translate_in(&looked_up, req, scratch)?;
                &looked_up
            }
        };
        match cached {
            Some(c) if cache_matches(c, br, scratch) => c.epoch.store(epoch, Ordering::Relaxed),
            _ => {
                let bridge = Arc::clone(br);
                *xcache = Some(Box::new(DpifXlateCache {
                    bridge,
                    rules_hit: scratch.rules_hit.as_slice().into(),
                    normal_learn: scratch.normal_learn,
                    lookup_missed: scratch.lookup_misses > 0,
                    epoch: AtomicU64::new(epoch),
                }));
            }
        }
        let slow_path = slow_path_bits(scratch);
        let new_actions = if slow_path != 0 {
            let actions = self.slow_path_actions(req.flow, slow_path);
            (*actions != **installed).then_some(actions)
        } else if scratch.odp_actions[..] != installed[..] {
            Some(Arc::from(scratch.odp_actions.as_slice()))
        } else {
            None
        };
        Ok(RevalidateOutput {
            wc: scratch.wc,
            new_actions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_actions_share_one_allocation_and_others_get_their_own() {
        let out2 = [OdpAction::Output(2)];
        let out3 = [OdpAction::Output(3)];
        let a = shared_actions(&out2);
        let b = shared_actions(&out2);
        assert!(Arc::ptr_eq(&a, &b));
        let c = shared_actions(&out3);
        assert_eq!(c[..], out3[..]);
        assert!(!Arc::ptr_eq(&a, &c));
        // Only the latest is remembered; values are always the requested ones.
        let d = shared_actions(&out2);
        assert_eq!(d[..], out2[..]);
        assert!(!Arc::ptr_eq(&a, &d));
        assert!(shared_actions(&[]).is_empty());
    }
}
