//! The daemon's configuration: a TOML file (`rvs vswitchd --config FILE`) describing the
//! datapath, bridges, ports, initial OpenFlow rules, logging and the `[other_config]` knobs.
//! The format is documented in `docs/configuration.md`; `examples/rvs.toml` is a complete file.
//!
//! * [`Config::load`] / [`Config::from_toml_str`] read and check a file; [`Config::default_config`]
//!   is what the daemon runs without one (bridge `br0` with dummy ports `p1`..`p4`).
//! * [`OtherConfig`] holds the knobs that can also be changed at run time ([`OtherConfig::set`]).
//! * Every problem is a [`ConfigError`] naming the file, line and column.
//!
//! # Invariants
//! * A [`Config`] that was returned is fully checked: names are valid and unique (bridge and port
//!   names share one namespace, as a bridge's local port carries its name), `ofport`s are unique
//!   per bridge and in 1..=65279, VLAN settings are in range and not silently ignored, every knob
//!   is in its range, and the flows files were read.
//! * Relative paths in a file (`rundir`, `log-file`, `flows-file`, `rx-pcap`, `tx-pcap`) are
//!   resolved against the directory of that file; text without a file keeps them as written.
//! * Nothing in the text can panic the parser (property-tested).
//!
//! Partial: OpenFlow rules are kept as text and parsed by the daemon (so a bad rule is reported
//! there, without a line number of the config file); log specs are only checked for being
//! non-empty.

mod build;
mod error;
mod flows_file;
mod other;
mod raw;
mod vlan;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use other::{FLOW_MAX_VLAN_HEADERS, MAX_THREADS, OtherConfig};
use rvs_ofproto::vlan::PortVlanSettings;

/// The daemon's whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the control socket and pid file go (`rundir`); `None` lets the daemon choose.
    pub rundir: Option<PathBuf>,
    /// Which datapath the bridges share.
    pub datapath: DatapathKind,
    /// `vlog/set`-style level specs applied at start (`["info", "upcall:dbg"]`).
    pub log: Vec<String>,
    /// Log file (`log-file`); `None` logs to the console only.
    pub log_file: Option<PathBuf>,
    /// Leave the datapath flows in place when the daemon exits (`keep-flows-on-exit`).
    pub keep_flows_on_exit: bool,
    /// The `[other_config]` knobs.
    pub other: OtherConfig,
    /// The bridges, in file order.
    pub bridges: Vec<BridgeConfig>,
    /// The file this was read from (`None` for built-in or in-memory text).
    pub source: Option<PathBuf>,
}

/// The datapath type (`datapath = "dummy" | "netdev"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DatapathKind {
    /// `dummy@ovs-dummy`, with OVS's test port numbering (what `--enable-dummy` gives).
    #[default]
    Dummy,
    /// `netdev@ovs-netdev`, the userspace datapath for real ports.
    Netdev,
}

impl DatapathKind {
    /// The spelling used in the file.
    pub fn name(self) -> &'static str {
        match self {
            DatapathKind::Dummy => "dummy",
            DatapathKind::Netdev => "netdev",
        }
    }
}

/// One `[[bridge]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeConfig {
    /// The bridge name (also the name of its local port).
    pub name: String,
    /// Initial OpenFlow rules in `ovs-ofctl add-flow` syntax: the `flows` list, followed by the
    /// rules of `flows-file` (comments and blank lines removed).
    pub flows: Vec<String>,
    /// The `flows-file`, resolved, if there was one (for error messages with its line numbers).
    pub flows_file: Option<PathBuf>,
    /// The ports, in file order.
    pub ports: Vec<PortConfig>,
}

/// One `[[bridge.port]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortConfig {
    /// Port (and interface) name.
    pub name: String,
    /// Type and type-specific options.
    pub kind: PortKind,
    /// Requested OpenFlow port number (OVS's `ofport_request`), 1..=65279.
    pub ofport: Option<u16>,
    /// VLAN columns of OVS's `Port` table.
    pub vlan: PortVlanSettings,
}

/// A port's type (`type = "dummy" | "pcap" | "afpacket"`) and its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortKind {
    /// A dummy port, fed and read through the control socket (`netdev-dummy/receive`).
    Dummy,
    /// A port replaying a capture (`rx-pcap`) and/or recording sent frames (`tx-pcap`).
    Pcap {
        /// Capture whose frames are received; `None` receives nothing.
        rx: Option<PathBuf>,
        /// Capture written with the frames sent; `None` discards them.
        tx: Option<PathBuf>,
    },
    /// A Linux interface reached through an `AF_PACKET` socket.
    AfPacket {
        /// The kernel interface name (`interface`, default the port name).
        interface: String,
        /// Receive queues (`n_rxq`, OVS's `options:n_rxq`; default 1): with more than one, the
        /// kernel spreads the frames over them by flow hash and the forwarding threads share them.
        n_rxq: usize,
    },
}

impl PortKind {
    /// An `n_rxq` value (config file or `add-port`) as a queue count, if it is one an afpacket
    /// port accepts (1 to [`rvs_netdev::MAX_RXQ`]).
    pub fn checked_n_rxq(value: i64) -> Option<usize> {
        usize::try_from(value)
            .ok()
            .filter(|q| (1..=rvs_netdev::MAX_RXQ).contains(q))
    }

    /// The spelling used in the file.
    pub fn name(&self) -> &'static str {
        match self {
            PortKind::Dummy => "dummy",
            PortKind::Pcap { .. } => "pcap",
            PortKind::AfPacket { .. } => "afpacket",
        }
    }
}

impl Default for Config {
    /// The same as [`Config::default_config`].
    fn default() -> Config {
        Config::default_config()
    }
}

impl Config {
    /// What the daemon runs without a file: datapath `dummy`, bridge `br0` with dummy ports
    /// `p1`..`p4` (ofport 1..4) and no rules of its own (the daemon adds OVS's default NORMAL
    /// flow), log level `info`, OVS's `other_config` defaults.
    pub fn default_config() -> Config {
        let ports = (1..=4u16)
            .map(|n| PortConfig {
                name: format!("p{n}"),
                kind: PortKind::Dummy,
                ofport: Some(n),
                vlan: PortVlanSettings::default(),
            })
            .collect();
        Config {
            rundir: None,
            datapath: DatapathKind::Dummy,
            log: default_log(),
            log_file: None,
            keep_flows_on_exit: false,
            other: OtherConfig::default(),
            bridges: vec![BridgeConfig {
                name: "br0".into(),
                flows: Vec::new(),
                flows_file: None,
                ports,
            }],
            source: None,
        }
    }

    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::whole_file(Some(path), format!("cannot read the configuration: {e}"))
        })?;
        Config::from_toml_str(&text, Some(path))
    }

    /// Checks configuration `text`; `path` (the file it came from, if any) names it in errors and
    /// anchors its relative paths.
    pub fn from_toml_str(text: &str, path: Option<&Path>) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end().to_string();
            match e.span() {
                Some(span) => ConfigError::at(path, text, span, message),
                None => ConfigError::whole_file(path, message),
            }
        })?;
        build::build(raw, text, path)
    }
}

/// The log specs used when the file has no `log`.
fn default_log() -> Vec<String> {
    vec!["info".to_string()]
}
