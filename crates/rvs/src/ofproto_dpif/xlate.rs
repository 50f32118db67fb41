//! [`OfprotoDpif`] as the upcall engine's translator: finds the bridge of the input port,
//! translates against a consistent snapshot of its tables, and keeps what `push_stats` needs
//! (rules hit, NORMAL's learning) in a [`DpifXlateCache`].
//!
//! # Invariants
//! * `translate` never credits rules (no `resubmit_stats`): credits go only through
//!   `push_stats`, so each packet is credited once.
//! * Revalidation translations never learn; upcall translations do, and a MAC table change
//!   they (or `push_stats`) cause calls the change hook once, after every lock is released.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rvs_dpif::dpif::FlowStats;
use rvs_ofproto::mac_learning::LearnContext;
use rvs_ofproto::table::Rule;
use rvs_ofproto::xlate::{NormalLearn, Translator as BridgeTranslator, XlateInput, XlateStats};
use rvs_upcall::xlate::{
    SLOW_ACTION, Translator, XlateCache, XlateError, XlateOutput, XlateRequest,
};

use super::OfprotoDpif;
use super::bridge::BridgeState;

/// What a translation must replay when its datapath flow gathers statistics: the rules it hit
/// and NORMAL's learning (OVS's `xlate_cache` with `XC_RULE` and `XC_NORMAL` entries).
///
/// Only those two side effects are kept (not the whole translation output, whose mask alone is
/// 240 bytes): every ukey holds one, and it is built on every upcall.
pub struct DpifXlateCache {
    bridge: Arc<BridgeState>,
    rules_hit: Vec<Arc<Rule>>,
    normal_learn: Option<NormalLearn>,
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

    /// Replays the side effects for `stats` (as `XlateOutput::push_stats` of rvs-ofproto does):
    /// credits every rule hit and lets NORMAL learn the source again. Nothing for zero packets.
    fn replay(&self, stats: XlateStats, now_ms: u64) {
        if stats.packets == 0 {
            return;
        }
        for rule in &self.rules_hit {
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
        let generation = br.mac.generation();
        let out = {
            let ports = br.ports.read();
            if ports.by_odp_port(in_port).is_none() {
                // Removed between the lookup and the lock.
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
                now_ms: self.now_ms(),
            };
            xlator.translate(&input)
        };
        if br.mac.generation() != generation {
            // NORMAL learned a new address or saw one move (OVS: REV_MAC_LEARNING).
            self.notify();
        }
        let slow_path = if out.slow {
            if out.slow_reasons == 0 {
                SLOW_ACTION
            } else {
                out.slow_reasons
            }
        } else {
            0
        };
        Ok(XlateOutput {
            actions: Arc::from(out.odp_actions),
            wc: out.wc,
            slow_path,
            xcache: Some(Box::new(DpifXlateCache {
                bridge: br,
                rules_hit: out.rules_hit,
                normal_learn: out.normal_learn,
            })),
        })
    }

    fn push_stats(&self, xcache: &dyn XlateCache, delta: &FlowStats) {
        let Some(cache) = xcache.as_any().downcast_ref::<DpifXlateCache>() else {
            return;
        };
        let now = self.now_ms();
        let used = if delta.used == 0 { now } else { delta.used };
        let stats = XlateStats {
            packets: delta.n_packets,
            bytes: delta.n_bytes,
            used_ms: i64::try_from(used).unwrap_or(i64::MAX),
        };
        let generation = cache.bridge.mac.generation();
        cache.replay(stats, now);
        if cache.bridge.mac.generation() != generation {
            self.notify();
        }
    }
}
