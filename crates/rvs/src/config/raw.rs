//! The configuration file exactly as written: serde structures that keep the position of every
//! value the semantic checks may complain about.
//!
//! # Invariants
//! * Unknown keys are refused here (`deny_unknown_fields`), with the position of the key.
//! * Nothing is interpreted here: defaults, ranges and cross-references are checked by
//!   `build`, which reports positions through the [`Spanned`] wrappers.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The top level of the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) rundir: Option<Spanned<String>>,
    pub(crate) datapath: Option<Spanned<String>>,
    pub(crate) log: Option<Spanned<toml::Value>>,
    #[serde(rename = "log-file")]
    pub(crate) log_file: Option<Spanned<String>>,
    #[serde(rename = "keep-flows-on-exit")]
    pub(crate) keep_flows_on_exit: Option<bool>,
    pub(crate) other_config: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    pub(crate) bridge: Option<Vec<Spanned<RawBridge>>>,
}

/// One `[[bridge]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBridge {
    pub(crate) name: Spanned<String>,
    pub(crate) flows: Option<Vec<Spanned<String>>>,
    #[serde(rename = "flows-file")]
    pub(crate) flows_file: Option<Spanned<String>>,
    pub(crate) port: Option<Vec<Spanned<RawPort>>>,
}

/// One `[[bridge.port]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPort {
    pub(crate) name: Spanned<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) ofport: Option<Spanned<i64>>,
    pub(crate) tag: Option<Spanned<i64>>,
    pub(crate) trunks: Option<Spanned<Vec<Spanned<i64>>>>,
    pub(crate) cvlans: Option<Spanned<Vec<Spanned<i64>>>>,
    #[serde(rename = "vlan-mode")]
    pub(crate) vlan_mode: Option<Spanned<String>>,
    #[serde(rename = "qinq-ethtype")]
    pub(crate) qinq_ethtype: Option<Spanned<String>>,
    #[serde(rename = "priority-tags")]
    pub(crate) priority_tags: Option<Spanned<String>>,
    #[serde(rename = "rx-pcap")]
    pub(crate) rx_pcap: Option<Spanned<String>>,
    #[serde(rename = "tx-pcap")]
    pub(crate) tx_pcap: Option<Spanned<String>>,
    pub(crate) interface: Option<Spanned<String>>,
    #[serde(alias = "n-rxq")]
    pub(crate) n_rxq: Option<Spanned<i64>>,
}
