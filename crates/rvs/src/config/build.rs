//! From the file as written ([`RawConfig`]) to a checked [`Config`]: defaults, ranges, names,
//! cross-references and the flows files, each problem reported at its position.
//!
//! # Invariants
//! * The first problem (in the order the checks run, which follows the file) is reported; no
//!   partial [`Config`] escapes.
//! * Bridge and port names share one namespace; `ofport`s are unique per bridge; `interface`s
//!   are unique over the whole file.

use super::error::line_and_column;
use super::flows_file::{check_rule, rules_of};
use super::other::knob;
use super::raw::{RawBridge, RawConfig, RawPort};
use super::{
    BridgeConfig, Config, ConfigError, DatapathKind, OtherConfig, PortConfig, PortKind, default_log,
};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Largest `ofport` (OVS's `ofport_request` range is 1..=65279, below `OFPP_MAX`).
pub(crate) const MAX_OFPORT: i64 = 0xfeff;

/// Longest bridge or port name, in bytes.
const MAX_NAME_LEN: usize = 255;

/// Longest Linux interface name, in bytes (`IFNAMSIZ` - 1).
const MAX_IFNAME_LEN: usize = 15;

/// The text being checked, for positions and relative paths.
pub(super) struct Context<'a> {
    text: &'a str,
    path: Option<&'a Path>,
    base: Option<PathBuf>,
}

impl Context<'_> {
    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.path, self.text, span, message)
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        line_and_column(self.text, span.start).0
    }

    /// A path value: not empty, resolved against the directory of the file.
    fn path_value(&self, value: &Spanned<String>, key: &str) -> Result<PathBuf, ConfigError> {
        let text = value.get_ref();
        if text.trim().is_empty() {
            return Err(self.error(value.span(), format!("`{key}` must not be empty")));
        }
        let path = Path::new(text);
        Ok(match &self.base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        })
    }
}

/// Checks `raw`, read from `text` (the file `path`).
pub(crate) fn build(
    raw: RawConfig,
    text: &str,
    path: Option<&Path>,
) -> Result<Config, ConfigError> {
    let cx = Context {
        text,
        path,
        base: path.map(|p| p.parent().unwrap_or(Path::new("")).to_path_buf()),
    };
    let rundir = match &raw.rundir {
        Some(dir) => Some(cx.path_value(dir, "rundir")?),
        None => None,
    };
    let datapath = match &raw.datapath {
        None => DatapathKind::default(),
        Some(name) => match name.get_ref().as_str() {
            "dummy" => DatapathKind::Dummy,
            "netdev" => DatapathKind::Netdev,
            other => {
                return Err(cx.error(
                    name.span(),
                    format!("unknown datapath `{other}`; expected \"dummy\" or \"netdev\""),
                ));
            }
        },
    };
    let log = match &raw.log {
        Some(specs) => log_specs(&cx, specs)?,
        None => default_log(),
    };
    let log_file = match &raw.log_file {
        Some(file) => Some(cx.path_value(file, "log-file")?),
        None => None,
    };
    let other = match &raw.other_config {
        Some(table) => other_config(&cx, table)?,
        None => OtherConfig::default(),
    };
    let bridges = bridges(&cx, raw.bridge.as_deref().unwrap_or_default())?;
    Ok(Config {
        rundir,
        datapath,
        log,
        log_file,
        keep_flows_on_exit: raw.keep_flows_on_exit.unwrap_or(false),
        other,
        bridges,
        source: path.map(Path::to_path_buf),
    })
}

/// `log`: one spec or a list of them.
fn log_specs(cx: &Context<'_>, value: &Spanned<toml::Value>) -> Result<Vec<String>, ConfigError> {
    let shape_error = || {
        cx.error(
            value.span(),
            "`log` must be a string or an array of strings, such as [\"info\", \"upcall:dbg\"]",
        )
    };
    let specs: Vec<String> = match value.get_ref() {
        toml::Value::String(spec) => vec![spec.clone()],
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(shape_error))
            .collect::<Result<_, _>>()?,
        _ => return Err(shape_error()),
    };
    if specs.iter().any(|spec| spec.trim().is_empty()) {
        return Err(cx.error(value.span(), "`log` has an empty spec"));
    }
    Ok(specs.iter().map(|spec| spec.trim().to_string()).collect())
}

/// `[other_config]`, through the same parser as the run-time `set`.
fn other_config(
    cx: &Context<'_>,
    table: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
) -> Result<OtherConfig, ConfigError> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    let mut other = OtherConfig::default();
    for (key, value) in entries {
        let knob = knob(key.get_ref())
            .map_err(|message| cx.error(key.span(), format!("[other_config]: {message}")))?;
        let text = match value.get_ref() {
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::String(s) => s.clone(),
            other => {
                return Err(cx.error(
                    value.span(),
                    format!(
                        "{}: expected an integer between {} and {}, got a {}",
                        knob.name,
                        knob.min,
                        knob.max,
                        other.type_str()
                    ),
                ));
            }
        };
        other
            .set(knob.name, &text)
            .map_err(|message| cx.error(value.span(), message))?;
    }
    Ok(other)
}

/// What a name in the shared bridge/port namespace belongs to.
struct NameUse {
    what: &'static str,
    line: usize,
}

/// Everything that must be unique over the whole file.
#[derive(Default)]
struct Registry {
    names: HashMap<String, NameUse>,
    interfaces: HashMap<String, (String, usize)>,
}

impl Registry {
    /// Claims `name` for a `what` ("bridge" or "port") at `span`.
    fn claim(
        &mut self,
        cx: &Context<'_>,
        name: &Spanned<String>,
        what: &'static str,
    ) -> Result<(), ConfigError> {
        if let Some(earlier) = self.names.get(name.get_ref()) {
            return Err(cx.error(
                name.span(),
                format!(
                    "duplicate name `{}`: the {} on line {} already has it (bridges and ports \
                     share one namespace)",
                    name.get_ref(),
                    earlier.what,
                    earlier.line
                ),
            ));
        }
        self.names.insert(
            name.get_ref().clone(),
            NameUse {
                what,
                line: cx.line_of(&name.span()),
            },
        );
        Ok(())
    }
}

fn bridges(cx: &Context<'_>, raw: &[Spanned<RawBridge>]) -> Result<Vec<BridgeConfig>, ConfigError> {
    let mut registry = Registry::default();
    raw.iter()
        .map(|bridge| build_bridge(cx, bridge.get_ref(), &mut registry))
        .collect()
}

fn build_bridge(
    cx: &Context<'_>,
    raw: &RawBridge,
    registry: &mut Registry,
) -> Result<BridgeConfig, ConfigError> {
    check_name(cx, &raw.name, "bridge")?;
    registry.claim(cx, &raw.name, "bridge")?;
    let mut ofports: HashMap<u16, (String, usize)> = HashMap::new();
    let mut ports = Vec::new();
    for port in raw.port.as_deref().unwrap_or_default() {
        let port = port.get_ref();
        let built = build_port(cx, port, registry)?;
        if let (Some(ofport), Some(spanned)) = (built.ofport, &port.ofport) {
            if let Some((owner, line)) = ofports.get(&ofport) {
                return Err(cx.error(
                    spanned.span(),
                    format!(
                        "duplicate ofport {ofport} in bridge `{}`: port `{owner}` on line {line} \
                         already has it",
                        raw.name.get_ref()
                    ),
                ));
            }
            ofports.insert(ofport, (built.name.clone(), cx.line_of(&spanned.span())));
        }
        ports.push(built);
    }
    let name = raw.name.get_ref();
    let mut flows = Vec::new();
    for flow in raw.flows.as_deref().unwrap_or_default() {
        let written = flow.get_ref();
        let rule = written.trim();
        if rule.is_empty() {
            return Err(cx.error(flow.span(), "empty flow in `flows`"));
        }
        check_rule(rule, name, &ports).map_err(|(offset, message)| {
            // Point into the string when it is written without escapes (the usual case).
            let content = flow.span().start + 1;
            let leading = written.len() - written.trim_start().len();
            let exact = cx.text.get(content..content + written.len()) == Some(written.as_str());
            let at = if exact {
                content + leading + offset
            } else {
                flow.span().start
            };
            cx.error(
                at..at,
                format!("invalid flow for bridge `{name}`: {message}"),
            )
        })?;
        flows.push(rule.to_string());
    }
    let flows_file = match &raw.flows_file {
        Some(file) => {
            let resolved = cx.path_value(file, "flows-file")?;
            let text = std::fs::read_to_string(&resolved).map_err(|e| {
                cx.error(
                    file.span(),
                    format!("cannot read flows-file `{}`: {e}", resolved.display()),
                )
            })?;
            for rule in rules_of(&text) {
                check_rule(&rule.text, name, &ports).map_err(|(offset, message)| {
                    let at = rule.offset + offset;
                    ConfigError::at(
                        Some(&resolved),
                        &text,
                        at..at,
                        format!("invalid flow for bridge `{name}`: {message}"),
                    )
                })?;
                flows.push(rule.text);
            }
            Some(resolved)
        }
        None => None,
    };
    Ok(BridgeConfig {
        name: raw.name.get_ref().clone(),
        flows,
        flows_file,
        ports,
    })
}

/// Bridge and port names: 1 to 255 letters, digits, `-`, `_` or `.` (so that they can be
/// written in OpenFlow rules, such as `in_port=p1`).
fn check_name(cx: &Context<'_>, name: &Spanned<String>, what: &str) -> Result<(), ConfigError> {
    let text = name.get_ref();
    let valid_chars = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if text.is_empty() || text.len() > MAX_NAME_LEN || !valid_chars {
        return Err(cx.error(
            name.span(),
            format!(
                "invalid {what} name `{text}`: use 1 to {MAX_NAME_LEN} letters, digits, `-`, `_` \
                 or `.`"
            ),
        ));
    }
    Ok(())
}

/// Linux interface names (`dev_valid_name`): 1 to 15 bytes, not `.` or `..`, no `/`, `:` or
/// white space.
fn check_interface(cx: &Context<'_>, name: &str, span: Range<usize>) -> Result<(), ConfigError> {
    let bad_char = name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace());
    if name.is_empty() || name.len() > MAX_IFNAME_LEN || name == "." || name == ".." || bad_char {
        return Err(cx.error(
            span,
            format!(
                "invalid interface name `{name}`: Linux allows 1 to {MAX_IFNAME_LEN} bytes \
                 without `/`, `:` or spaces"
            ),
        ));
    }
    Ok(())
}

fn build_port(
    cx: &Context<'_>,
    raw: &RawPort,
    registry: &mut Registry,
) -> Result<PortConfig, ConfigError> {
    check_name(cx, &raw.name, "port")?;
    registry.claim(cx, &raw.name, "port")?;
    let type_name = raw.kind.as_ref().map_or("dummy", |k| k.get_ref().as_str());
    let misplaced = |option: &Option<Spanned<String>>, key: &str, belongs_to: &str| match option {
        Some(value) => Err(cx.error(
            value.span(),
            format!(
                "`{key}` is only for ports of type \"{belongs_to}\"; port `{}` has type \
                 \"{type_name}\"",
                raw.name.get_ref()
            ),
        )),
        None => Ok(()),
    };
    if let (Some(n), false) = (&raw.n_rxq, type_name == "afpacket") {
        return Err(cx.error(
            n.span(),
            format!(
                "`n_rxq` is only for ports of type \"afpacket\"; port `{}` has type \"{type_name}\"",
                raw.name.get_ref()
            ),
        ));
    }
    let kind = match type_name {
        "dummy" => {
            misplaced(&raw.rx_pcap, "rx-pcap", "pcap")?;
            misplaced(&raw.tx_pcap, "tx-pcap", "pcap")?;
            misplaced(&raw.interface, "interface", "afpacket")?;
            PortKind::Dummy
        }
        "pcap" => {
            misplaced(&raw.interface, "interface", "afpacket")?;
            let rx = match &raw.rx_pcap {
                Some(file) => Some(cx.path_value(file, "rx-pcap")?),
                None => None,
            };
            let tx = match &raw.tx_pcap {
                Some(file) => Some(cx.path_value(file, "tx-pcap")?),
                None => None,
            };
            PortKind::Pcap { rx, tx }
        }
        "afpacket" => {
            misplaced(&raw.rx_pcap, "rx-pcap", "pcap")?;
            misplaced(&raw.tx_pcap, "tx-pcap", "pcap")?;
            let (interface, span) = match &raw.interface {
                Some(name) => (name.get_ref().clone(), name.span()),
                None => (raw.name.get_ref().clone(), raw.name.span()),
            };
            check_interface(cx, &interface, span.clone())?;
            let line = cx.line_of(&span);
            if let Some((owner, earlier)) = registry.interfaces.get(&interface) {
                return Err(cx.error(
                    span,
                    format!(
                        "interface `{interface}` is already used by port `{owner}` on line \
                         {earlier}"
                    ),
                ));
            }
            registry
                .interfaces
                .insert(interface.clone(), (raw.name.get_ref().clone(), line));
            let n_rxq = match &raw.n_rxq {
                None => 1,
                Some(n) => PortKind::checked_n_rxq(*n.get_ref()).ok_or_else(|| {
                    cx.error(
                        n.span(),
                        format!("`n_rxq` must be from 1 to {}", rvs_netdev::MAX_RXQ),
                    )
                })?,
            };
            PortKind::AfPacket { interface, n_rxq }
        }
        other => {
            let span = raw.kind.as_ref().map_or(raw.name.span(), Spanned::span);
            return Err(cx.error(
                span,
                format!(
                    "unknown port type `{other}`; expected \"dummy\", \"pcap\" or \"afpacket\""
                ),
            ));
        }
    };
    let ofport = match &raw.ofport {
        Some(n) => match u16::try_from(*n.get_ref()) {
            Ok(port) if (1..=MAX_OFPORT).contains(n.get_ref()) => Some(port),
            _ => {
                return Err(cx.error(
                    n.span(),
                    format!(
                        "ofport must be between 1 and {MAX_OFPORT}, got {}",
                        n.get_ref()
                    ),
                ));
            }
        },
        None => None,
    };
    Ok(PortConfig {
        name: raw.name.get_ref().clone(),
        kind,
        ofport,
        vlan: super::vlan::vlan_settings(cx, raw)?,
    })
}
