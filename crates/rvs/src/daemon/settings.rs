//! Run-time knobs: `set KEY=VALUE...` and `get`, applied to the running engine, datapath and
//! threads the way a change of OVS's `other_config` is.
//!
//! # Invariants
//! * `set` is all or nothing: every pair is parsed into a copy of the knobs first; only if all
//!   parse is the copy applied and stored.
//! * A knob that cannot change without a restart (`vlan-limit`) is refused with a message saying so.

use std::sync::atomic::Ordering;

use rvs_upcall::config::UpcallConfig;

use super::Inner;
use crate::config::OtherConfig;

/// Copies the engine knobs of `other` into the engine's settings.
pub(super) fn apply_upcall_knobs(config: &UpcallConfig, other: &OtherConfig) {
    config.set_flow_limit_ceiling(other.flow_limit);
    config.set_max_idle_ms(other.max_idle_ms);
    config.set_max_revalidator_ms(other.max_revalidator_ms);
    config.set_min_revalidate_pps(other.min_revalidate_pps);
    config.set_flow_limit_policy(other.flow_limit_policy);
    config.set_retranslate_all(other.retranslate_all);
}

/// `set KEY=VALUE [KEY=VALUE...]`.
pub(super) fn set(inner: &Inner, args: &[String]) -> Result<String, String> {
    let mut other = inner.other.lock();
    let mut next = other.clone();
    let mut keep_flows = None;
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(format!("{arg}: expected KEY=VALUE"));
        };
        match key {
            "keep-flows-on-exit" => {
                keep_flows = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("{arg}: expected true or false")),
                });
            }
            "vlan-limit" => {
                return Err(format!(
                    "{key}: cannot be changed at run time; change the configuration file and restart"
                ));
            }
            _ => next.set(key, value)?,
        }
    }
    let old_threads = inner.thread_counts(&other);
    let new_threads = inner.thread_counts(&next);
    if next.n_forwarding_threads != other.n_forwarding_threads {
        inner
            .restart_forwarding(next.n_forwarding_threads)
            .map_err(|e| format!("cannot start forwarding threads: {e}"))?;
    }
    apply_upcall_knobs(inner.udpif.config(), &next);
    if next.emc_insert_inv_prob != other.emc_insert_inv_prob {
        inner.dp.set_emc_insert_inv_prob(next.emc_insert_inv_prob);
    }
    inner
        .spread_revalidators
        .store(next.spread_revalidators, Ordering::Relaxed);
    if new_threads != old_threads {
        inner.engine.set_threads(new_threads.0, new_threads.1);
    } else if next.spread_revalidators != other.spread_revalidators {
        // Placement is chosen as a revalidator thread starts.
        inner.engine.restart();
    }
    if let Some(keep) = keep_flows {
        inner.keep_flows_on_exit.store(keep, Ordering::Relaxed);
    }
    *other = next;
    Ok(String::new())
}

/// `get`: every knob as `key=value` lines.
pub(super) fn get(inner: &Inner) -> String {
    let other = inner.other.lock();
    let mut text = other.describe();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "keep-flows-on-exit={}\n",
        inner.keep_flows_on_exit.load(Ordering::Relaxed)
    ));
    text
}
