//! [`OtherConfig`]: the datapath and revalidator knobs of the `[other_config]` table, named and
//! defaulted as Open vSwitch's `Open_vSwitch:other_config`, changeable at run time with
//! [`OtherConfig::set`].
//!
//! # Invariants
//! * One table ([`KNOBS`]) lists every knob with its range; the TOML file, `set` and `describe`
//!   all go through it, so a value accepted in the file is accepted at run time and vice versa.
//! * Every field always holds a value inside its knob's range (or `None` for the optional thread
//!   counts); `set` changes nothing when it returns an error.
//! * A knob with names (`flow-limit-policy`, `revalidation-scope`, `revalidator-placement`) takes one of them, stored as its index; every other
//!   knob takes a decimal integer.

use std::fmt::Write as _;

use rvs_upcall::config::FlowLimitPolicy;

/// Upper bound of every thread count (`n-handler-threads`, `n-revalidator-threads`,
/// `n-forwarding-threads`): a sanity limit of rvs, Open vSwitch has none.
pub const MAX_THREADS: u64 = 64;

/// Most VLAN headers a flow key holds (OVS's `FLOW_MAX_VLAN_HEADERS`).
pub const FLOW_MAX_VLAN_HEADERS: usize = 2;

/// The `[other_config]` knobs (see `docs/configuration.md` for each one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherConfig {
    /// `flow-limit`: ceiling of the dynamic datapath flow limit (OVS default 200000).
    pub flow_limit: u32,
    /// `max-idle`: milliseconds an idle datapath flow is kept (OVS default 10000, minimum 500).
    pub max_idle_ms: u64,
    /// `max-revalidator`: longest revalidation period in milliseconds (OVS default 500,
    /// minimum 100).
    pub max_revalidator_ms: u64,
    /// `min-revalidate-pps`: flows slower than this are deleted instead of revalidated when a
    /// round runs long (OVS default 5; 0 turns the heuristic off).
    pub min_revalidate_pps: u64,
    /// `n-handler-threads`; `None` = OVS's default rule (computed by the daemon).
    pub n_handler_threads: Option<usize>,
    /// `n-revalidator-threads`; `None` = OVS's default rule (computed by the daemon).
    pub n_revalidator_threads: Option<usize>,
    /// `n-forwarding-threads` (rvs only): datapath forwarding threads, like OVS's PMD threads.
    pub n_forwarding_threads: usize,
    /// `emc-insert-inv-prob`: one exact-match-cache insertion in this many (OVS default 100;
    /// 0 disables the cache).
    pub emc_insert_inv_prob: u32,
    /// `vlan-limit`: VLAN headers matched, as the user wrote it (OVS default 1; 0 = no limit
    /// beyond [`FLOW_MAX_VLAN_HEADERS`]); use [`OtherConfig::effective_vlan_limit`].
    pub vlan_limit: usize,
    /// `flow-limit-policy` (rvs only): how the flow count is kept under the dynamic limit and how
    /// the limit grows (default adaptive; `ovs` is Open vSwitch's behaviour exactly).
    pub flow_limit_policy: FlowLimitPolicy,
    /// `revalidation-scope` (rvs only): after a change, translate again only the flows the
    /// change may affect (`affected`, default) or every flow as Open vSwitch does (`all`).
    pub retranslate_all: bool,
    /// `revalidator-placement` (rvs only): with two or more revalidator threads and at least as
    /// many usable processors, pin each to its own processor (`spread`, default), or leave them
    /// to the system scheduler as Open vSwitch does (`system`).
    pub spread_revalidators: bool,
}

impl Default for OtherConfig {
    /// Open vSwitch's defaults (rvs's own knob `n-forwarding-threads` defaults to 1).
    fn default() -> OtherConfig {
        OtherConfig {
            flow_limit: 200_000,
            max_idle_ms: 10_000,
            max_revalidator_ms: 500,
            min_revalidate_pps: 5,
            n_handler_threads: None,
            n_revalidator_threads: None,
            n_forwarding_threads: 1,
            emc_insert_inv_prob: 100,
            vlan_limit: 1,
            flow_limit_policy: FlowLimitPolicy::Adaptive,
            retranslate_all: false,
            spread_revalidators: true,
        }
    }
}

/// One knob: its name, its accepted range and how to read and write it.
pub(crate) struct Knob {
    /// The `other_config` key.
    pub(crate) name: &'static str,
    /// Smallest accepted value.
    pub(crate) min: u64,
    /// Largest accepted value.
    pub(crate) max: u64,
    /// For a knob set by name: the names, value `i` being `names[i]` (empty for integer knobs).
    pub(crate) names: &'static [&'static str],
    get: fn(&OtherConfig) -> Option<u64>,
    put: fn(&mut OtherConfig, Option<u64>),
}

const U32_MAX: u64 = u32::MAX as u64;
const I32_MAX: u64 = i32::MAX as u64;

/// Converts a value already checked against a knob's range.
fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Converts a value already checked against a knob's range.
fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Every knob, in the order `describe` lists them (each `min <= max`, checked by a test).
pub(crate) const KNOBS: &[Knob] = &[
    Knob {
        name: "flow-limit",
        min: 1,
        max: U32_MAX,
        names: &[],
        get: |c| Some(u64::from(c.flow_limit)),
        put: |c, v| c.flow_limit = v.map_or(OtherConfig::default().flow_limit, to_u32),
    },
    Knob {
        name: "max-idle",
        min: 500,
        max: U32_MAX,
        names: &[],
        get: |c| Some(c.max_idle_ms),
        put: |c, v| c.max_idle_ms = v.unwrap_or(OtherConfig::default().max_idle_ms),
    },
    Knob {
        name: "max-revalidator",
        min: 100,
        max: U32_MAX,
        names: &[],
        get: |c| Some(c.max_revalidator_ms),
        put: |c, v| c.max_revalidator_ms = v.unwrap_or(OtherConfig::default().max_revalidator_ms),
    },
    Knob {
        name: "min-revalidate-pps",
        min: 0,
        max: U32_MAX,
        names: &[],
        get: |c| Some(c.min_revalidate_pps),
        put: |c, v| c.min_revalidate_pps = v.unwrap_or(OtherConfig::default().min_revalidate_pps),
    },
    Knob {
        name: "n-handler-threads",
        min: 1,
        max: MAX_THREADS,
        names: &[],
        get: |c| c.n_handler_threads.map(|n| n as u64),
        put: |c, v| c.n_handler_threads = v.map(to_usize),
    },
    Knob {
        name: "n-revalidator-threads",
        min: 1,
        max: MAX_THREADS,
        names: &[],
        get: |c| c.n_revalidator_threads.map(|n| n as u64),
        put: |c, v| c.n_revalidator_threads = v.map(to_usize),
    },
    Knob {
        name: "n-forwarding-threads",
        min: 1,
        max: MAX_THREADS,
        names: &[],
        get: |c| Some(c.n_forwarding_threads as u64),
        put: |c, v| {
            c.n_forwarding_threads = v.map_or(OtherConfig::default().n_forwarding_threads, to_usize)
        },
    },
    Knob {
        name: "emc-insert-inv-prob",
        min: 0,
        max: U32_MAX,
        names: &[],
        get: |c| Some(u64::from(c.emc_insert_inv_prob)),
        put: |c, v| {
            c.emc_insert_inv_prob = v.map_or(OtherConfig::default().emc_insert_inv_prob, to_u32)
        },
    },
    Knob {
        name: "vlan-limit",
        min: 0,
        max: I32_MAX,
        names: &[],
        get: |c| Some(c.vlan_limit as u64),
        put: |c, v| c.vlan_limit = v.map_or(OtherConfig::default().vlan_limit, to_usize),
    },
    Knob {
        name: "flow-limit-policy",
        min: 0,
        max: 1,
        // The order of `FlowLimitPolicy::ALL` (checked by a test).
        names: &["adaptive", "ovs"],
        get: |c| Some(c.flow_limit_policy.index() as u64),
        put: |c, v| {
            c.flow_limit_policy = v
                .and_then(|i| FlowLimitPolicy::from_index(to_usize(i)))
                .unwrap_or(OtherConfig::default().flow_limit_policy)
        },
    },
    Knob {
        name: "revalidation-scope",
        min: 0,
        max: 1,
        names: &["affected", "all"],
        get: |c| Some(u64::from(c.retranslate_all)),
        put: |c, v| {
            c.retranslate_all = v.map_or(OtherConfig::default().retranslate_all, |i| i == 1)
        },
    },
    Knob {
        name: "revalidator-placement",
        min: 0,
        max: 1,
        names: &["spread", "system"],
        get: |c| Some(u64::from(!c.spread_revalidators)),
        put: |c, v| {
            c.spread_revalidators = v.map_or(OtherConfig::default().spread_revalidators, |i| i == 0)
        },
    },
];

/// The knob called `key`, or a message naming the known keys (and the likely intended one).
pub(crate) fn knob(key: &str) -> Result<&'static Knob, String> {
    if let Some(found) = KNOBS.iter().find(|k| k.name == key) {
        return Ok(found);
    }
    let dashed = key.trim().to_ascii_lowercase().replace('_', "-");
    let hint = match KNOBS.iter().find(|k| k.name == dashed) {
        Some(k) => format!(" (did you mean `{}`?)", k.name),
        None => String::new(),
    };
    Err(format!(
        "unknown key `{key}`{hint}; known keys: {}",
        OtherConfig::keys().collect::<Vec<_>>().join(", ")
    ))
}

impl Knob {
    /// Parses `value` for this knob: `Ok(None)` for an empty value (back to the default),
    /// `Ok(Some(n))` for a decimal integer inside the range, or for a knob with names, the index
    /// of the name given.
    pub(crate) fn parse(&self, value: &str) -> Result<Option<u64>, String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if !self.names.is_empty() {
            return match self.names.iter().position(|n| *n == value) {
                Some(i) => Ok(Some(i as u64)),
                None => Err(format!(
                    "{}: expected one of {}, got `{value}`",
                    self.name,
                    self.names.join(", ")
                )),
            };
        }
        let parsed = if value.bytes().all(|b| b.is_ascii_digit()) {
            value.parse::<u64>().ok()
        } else {
            None
        };
        match parsed {
            Some(n) if (self.min..=self.max).contains(&n) => Ok(Some(n)),
            _ => Err(format!(
                "{}: expected an integer between {} and {}, got `{value}`",
                self.name, self.min, self.max
            )),
        }
    }
}

impl OtherConfig {
    /// The knob names, in the order [`OtherConfig::describe`] lists them.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        KNOBS.iter().map(|k| k.name)
    }

    /// `set KEY=VALUE` at run time: `key` is an `[other_config]` name, `value` a decimal integer
    /// inside the knob's range (a name for `flow-limit-policy`), or empty to return to the default (like removing the key from
    /// OVS's `other_config`). On error nothing changes and the message says what is accepted.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let knob = knob(key)?;
        let parsed = knob.parse(value)?;
        (knob.put)(self, parsed);
        Ok(())
    }

    /// Applies several `KEY=VALUE` words (the arguments of the control socket's `set`), all or
    /// nothing: on the first bad word, `self` is left as it was.
    pub fn set_assignments<'a>(
        &mut self,
        words: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), String> {
        let mut changed = self.clone();
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                return Err(format!("`{word}`: expected KEY=VALUE"));
            };
            changed.set(key.trim(), value)?;
        }
        *self = changed;
        Ok(())
    }

    /// Lines `key=value`, one per knob in [`OtherConfig::keys`] order; a thread count left to
    /// OVS's default rule shows an empty value (which `set` also accepts).
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for knob in KNOBS {
            let _ = match (knob.get)(self) {
                Some(value) if !knob.names.is_empty() => {
                    let name = usize::try_from(value)
                        .ok()
                        .and_then(|i| knob.names.get(i))
                        .copied()
                        .unwrap_or_default();
                    writeln!(text, "{}={name}", knob.name)
                }
                Some(value) => writeln!(text, "{}={value}", knob.name),
                None => writeln!(text, "{}=", knob.name),
            };
        }
        text
    }

    /// The number of VLAN headers to parse, as OVS's `flow_limit_vlans` derives it: 0 means
    /// [`FLOW_MAX_VLAN_HEADERS`], larger values are capped to it.
    pub fn effective_vlan_limit(&self) -> usize {
        if self.vlan_limit == 0 {
            FLOW_MAX_VLAN_HEADERS
        } else {
            self.vlan_limit.min(FLOW_MAX_VLAN_HEADERS)
        }
    }
}
