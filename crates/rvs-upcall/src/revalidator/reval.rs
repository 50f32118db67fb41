//! `revalidate_ukey`: KEEP, MODIFY or DELETE one ukey, crediting its statistics delta
//! (ovs-upcall.md §3.3, §3.4).
//!
//! # Invariants
//! * The baseline (`ukey.stats`) and `reval_seq` move only when the result is not DELETE, and then
//!   together with a push of the delta (bug 2); a DELETE's statistics are credited from the delete's
//!   final statistics instead.
//! * A packet counter that went backwards (and is not a 64-bit wrap) is counted
//!   (`ukey_invalid_stat_reset`), logged, and credits nothing; the baseline then follows the
//!   datapath (it is not reset to zero). Deviation from OVS, which credits the wrapped difference.
//! * After a change, a ukey whose translation the translator shows unaffected
//!   ([`crate::xlate::Translator::translation_unchanged`]) is kept without translating (unless
//!   `retranslate_all`), after the `min-revalidate-pps` check as before; it is counted
//!   (`revalidate_unaffected`) per thread and added to the coverage counters with
//!   [`flush_unaffected`].
//! * A full revalidation is side-effect free; afterwards the ukey's xlate cache is the new
//!   translation's (`Translator::revalidate` may keep the old one when it records the same).

use rvs_dpif::dpif::{Actions, FlowStats};
use rvs_flow::odp::format_actions;

use super::DelReason;
use crate::config::UINT64_THREE_QUARTERS;
use crate::coverage::Counter;
use crate::handler::datapath_wildcards;
use crate::log::Level;
use crate::udpif::Udpif;
use crate::ukey::{Ukey, UkeyInner};
use crate::xlate::XlateRequest;

thread_local! {
    /// Ukeys this thread kept as unaffected since its last [`flush_unaffected`] (a shared
    /// counter would be written once per ukey by every revalidator).
    static UNAFFECTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Adds the ukeys this thread kept as unaffected to `revalidate_unaffected`.
pub(crate) fn flush_unaffected(coverage: &crate::coverage::Coverage) {
    let n = UNAFFECTED.replace(0);
    if n > 0 {
        coverage.add(Counter::RevalidateUnaffected, n);
    }
}

/// The verdict on one ukey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevalResult {
    /// Leave the flow as it is.
    Keep,
    /// Replace the flow's actions with these.
    Modify(Actions),
    /// Delete the flow.
    Delete(DelReason),
}

/// `new - old` for a counter, and whether it went backwards without wrapping.
pub(crate) fn counter_delta(new: u64, old: u64) -> (u64, bool) {
    let backwards = new < old && old < UINT64_THREE_QUARTERS;
    (new.wrapping_sub(old), backwards)
}

impl Udpif {
    /// Decides KEEP / MODIFY / DELETE for a locked ukey given the datapath's `stats`, and credits
    /// the delta unless the verdict is DELETE.
    pub(crate) fn revalidate_ukey(
        &self,
        ukey: &Ukey,
        g: &mut UkeyInner,
        stats: &FlowStats,
        reval_seq: u64,
    ) -> RevalResult {
        let (raw_packets, packets_back) = counter_delta(stats.n_packets, g.stats.n_packets);
        let (raw_bytes, bytes_back) = counter_delta(stats.n_bytes, g.stats.n_bytes);
        if packets_back {
            self.env.coverage.inc(Counter::UkeyInvalidStatReset);
            let mut acts = String::new();
            format_actions(&mut acts, &g.actions, None);
            self.env.log_rl(
                &self.env.rl.stats_jump,
                Level::Warn,
                format!(
                    "Unexpected jump in packet stats from {} to {} when handling ukey {}, in_port({}), actions:{}",
                    g.stats.n_packets,
                    stats.n_packets,
                    ukey.id(),
                    ukey.key().in_port,
                    acts
                ),
            );
        }
        let push = FlowStats {
            n_packets: if packets_back { 0 } else { raw_packets },
            n_bytes: if packets_back || bytes_back {
                0
            } else {
                raw_bytes
            },
            used: stats.used,
            tcp_flags: stats.tcp_flags,
        };

        let result = if g.reval_seq != reval_seq {
            if !self.should_revalidate(g, raw_packets) {
                RevalResult::Delete(DelReason::TooExpensive)
            } else if !self.config.retranslate_all()
                && g.xcache
                    .as_deref()
                    .is_some_and(|x| self.xlate.translation_unchanged(x))
            {
                UNAFFECTED.set(UNAFFECTED.get() + 1);
                // Validated after a change, as a full revalidation's cache would be.
                g.xcache_from_upcall = false;
                RevalResult::Keep
            } else {
                self.revalidate_ukey_full(ukey, g, push.tcp_flags)
            }
        } else if push.n_packets == 0 || g.has_xcache() || self.populate_xcache(ukey, g) {
            RevalResult::Keep
        } else {
            RevalResult::Delete(DelReason::XlationError)
        };

        if !matches!(result, RevalResult::Delete(_)) {
            if (push.n_packets > 0 || push.n_bytes > 0)
                && g.has_xcache()
                && let Some(xcache) = g.xcache.as_deref()
            {
                self.xlate.push_stats(xcache, &push);
            }
            g.stats = *stats;
            g.reval_seq = reval_seq;
        }
        result
    }

    /// The min-revalidate-pps heuristic: true if the ukey is worth a full revalidation.
    pub(crate) fn should_revalidate(&self, g: &UkeyInner, packets: u64) -> bool {
        let min_pps = self.config.min_revalidate_pps();
        if min_pps == 0 {
            return true;
        }
        let used = g.stats.used;
        if used == 0 {
            return true;
        }
        if self.dump_duration() < self.config.max_revalidator_ms() / 2 {
            return true;
        }
        let packets = packets.max(1);
        let now = used.max(self.env.now());
        let duration = now - used;
        let metric = duration / packets;
        metric < 1000 / min_pps
            || (g.offloaded && duration < self.config.offloaded_stats_delay_ms())
    }

    /// Builds the ukey's xlate cache with a side-effect-free translation; false on failure.
    /// The upcall translation's cache, kept since the ukey's creation, is adopted instead: it
    /// was made at this `reval_seq` (the caller's condition), so translating again would give
    /// the same cache.
    fn populate_xcache(&self, ukey: &Ukey, g: &mut UkeyInner) -> bool {
        if g.xcache_from_upcall && g.xcache.is_some() {
            g.xcache_from_upcall = false;
            return true;
        }
        g.xcache_from_upcall = false;
        let key = ukey.key();
        let req = XlateRequest {
            flow: &key,
            tcp_flags: 0,
            for_revalidation: true,
            tables_version: self.xlate.tables_version(),
        };
        match self.xlate.translate(&req) {
            Ok(out) => {
                g.xcache = out.xcache;
                g.xcache.is_some()
            }
            Err(_) => false,
        }
    }

    /// Re-translates the ukey's key and compares mask and actions (`revalidate_ukey__`).
    fn revalidate_ukey_full(&self, ukey: &Ukey, g: &mut UkeyInner, tcp_flags: u16) -> RevalResult {
        let key = ukey.key();
        let req = XlateRequest {
            flow: &key,
            tcp_flags,
            for_revalidation: true,
            tables_version: self.xlate.tables_version(),
        };
        g.xcache_from_upcall = false;
        let out = match self.xlate.revalidate(&req, &g.actions, &mut g.xcache) {
            Ok(out) => out,
            Err(_) => {
                g.xcache = None;
                return RevalResult::Delete(DelReason::XlationError);
            }
        };
        if g.xcache.is_none() {
            return RevalResult::Delete(DelReason::AvoidCaching);
        }
        if ukey.mask_lacks_bits_of(&datapath_wildcards(out.wc)) {
            return RevalResult::Delete(DelReason::FlowWildcarded);
        }
        if let Some(actions) = out.new_actions {
            return RevalResult::Modify(actions);
        }
        RevalResult::Keep
    }
}
