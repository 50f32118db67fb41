//! Bridges and ports of the running daemon: opening devices, adding them to the datapath and to
//! their bridge, and taking them out again (`add-port`, `del-port`).
//!
//! # Invariants
//! * A port is added to the datapath first and to its bridge second; if the bridge refuses it,
//!   it is taken out of the datapath again, so a failed `add-port` changes nothing.
//! * Every bridge has a local port named after it (an internal dummy device): OVS's bridge port.

use std::sync::Arc;

use anyhow::anyhow;
use rvs_netdev::{AfPacketConfig, AfPacketNetdev, DummyNetdev, Netdev, PcapConfig, PcapNetdev};
use rvs_ofproto::vlan::PortVlanSettings;

use super::Inner;
use crate::config::{BridgeConfig, DatapathKind, PortConfig, PortKind};

/// One port of the daemon.
#[derive(Clone, Debug)]
pub struct PortEntry {
    /// Its bridge.
    pub bridge: String,
    /// Datapath port number.
    pub odp_port: u32,
    /// OpenFlow port number.
    pub ofport: u16,
    /// Device type as `dpctl/show` prints it.
    pub kind: String,
    /// The device, if it is a dummy (for `netdev-dummy/receive`).
    pub dummy: Option<Arc<DummyNetdev>>,
}

/// Adds a bridge with its local port, its ports and its initial OpenFlow rules (added after OVS's
/// default `priority=0,actions=NORMAL`, which a configured rule with the same match replaces).
pub(super) fn add_bridge(inner: &Inner, bridge: &BridgeConfig) -> anyhow::Result<()> {
    let local_kind = match inner.datapath_kind {
        DatapathKind::Dummy => "dummy-internal",
        DatapathKind::Netdev => "internal",
    };
    let local = Arc::new(DummyNetdev::new(&bridge.name));
    let odp_port = inner
        .dp
        .port_add(local.clone(), local_kind, Vec::new(), None)
        .map_err(|e| anyhow!("cannot add local port {}: {e}", bridge.name))?;
    inner
        .ofproto
        .add_bridge(&bridge.name, odp_port, true)
        .map_err(|e| anyhow!("{e}"))?;
    inner.ports.lock().insert(
        bridge.name.clone(),
        PortEntry {
            bridge: bridge.name.clone(),
            odp_port,
            ofport: rvs_flow::ofp_match::port::OFPP_LOCAL,
            kind: local_kind.to_owned(),
            dummy: Some(local),
        },
    );
    for port in &bridge.ports {
        add_port(inner, &bridge.name, port).map_err(|e| anyhow!("port {}: {e}", port.name))?;
    }
    for (i, flow) in bridge.flows.iter().enumerate() {
        inner
            .ofproto
            .ofctl(&bridge.name, "add-flow", std::slice::from_ref(flow))
            .map_err(|e| anyhow!("flow {} ({flow}): {}", i + 1, e.trim_end()))?;
    }
    Ok(())
}

/// An opened device: the device, its type, its options as `dpctl/show` prints them, and the
/// device again if it is a dummy.
struct Opened {
    netdev: Arc<dyn Netdev>,
    kind: String,
    shown: Vec<(String, String)>,
    dummy: Option<Arc<DummyNetdev>>,
}

/// Opens the device of a port.
fn open_netdev(port: &PortConfig) -> Result<Opened, String> {
    match &port.kind {
        PortKind::Dummy => {
            let dev = Arc::new(DummyNetdev::new(&port.name));
            Ok(Opened {
                netdev: dev.clone(),
                kind: "dummy".into(),
                shown: Vec::new(),
                dummy: Some(dev),
            })
        }
        PortKind::Pcap { rx, tx } => {
            let config = PcapConfig {
                rx_path: rx.clone(),
                tx_path: tx.clone(),
                ..PcapConfig::default()
            };
            let mut shown = Vec::new();
            if let Some(rx) = rx {
                shown.push(("rx_pcap".to_owned(), rx.display().to_string()));
            }
            if let Some(tx) = tx {
                shown.push(("tx_pcap".to_owned(), tx.display().to_string()));
            }
            let dev = PcapNetdev::open(&port.name, config).map_err(|e| e.to_string())?;
            Ok(Opened {
                netdev: Arc::new(dev),
                kind: "pcap".into(),
                shown,
                dummy: None,
            })
        }
        PortKind::AfPacket { interface, n_rxq } => {
            if interface != &port.name {
                return Err(format!(
                    "an afpacket port is named after its interface (got interface {interface})"
                ));
            }
            let config = AfPacketConfig {
                n_rxq: *n_rxq,
                ..AfPacketConfig::default()
            };
            let dev = AfPacketNetdev::open(interface, &config).map_err(|e| e.to_string())?;
            let mut shown = Vec::new();
            if *n_rxq > 1 {
                shown.push(("n_rxq".to_owned(), n_rxq.to_string()));
            }
            Ok(Opened {
                netdev: Arc::new(dev),
                kind: "afpacket".into(),
                shown,
                dummy: None,
            })
        }
    }
}

/// Adds one port to the datapath and to `bridge`; returns its OpenFlow port number.
pub(super) fn add_port(inner: &Inner, bridge: &str, port: &PortConfig) -> Result<u16, String> {
    let mut ports = inner.ports.lock();
    if ports.contains_key(&port.name) {
        return Err(format!(
            "{}: a port with this name already exists",
            port.name
        ));
    }
    if !inner.ofproto.bridges().iter().any(|b| b == bridge) {
        return Err(format!("no bridge named {bridge}"));
    }
    let Opened {
        netdev,
        kind,
        shown,
        dummy,
    } = open_netdev(port)?;
    let odp_port = inner
        .dp
        .port_add(netdev, &kind, shown, None)
        .map_err(|e| format!("{}: cannot add to the datapath: {e}", port.name))?;
    let ofport = match inner
        .ofproto
        .add_port(bridge, &port.name, odp_port, port.ofport, &port.vlan)
    {
        Ok(ofport) => ofport,
        Err(e) => {
            let _ = inner.dp.port_del(odp_port);
            return Err(e);
        }
    };
    ports.insert(
        port.name.clone(),
        PortEntry {
            bridge: bridge.to_owned(),
            odp_port,
            ofport,
            kind,
            dummy,
        },
    );
    drop(ports);
    inner.udpif.revalidate();
    Ok(ofport)
}

/// Removes a port (not a bridge's local port) from its bridge and the datapath.
pub(super) fn del_port(inner: &Inner, bridge: Option<&str>, name: &str) -> Result<(), String> {
    let mut ports = inner.ports.lock();
    let Some(entry) = ports.get(name) else {
        return Err(format!("no port named {name}"));
    };
    if let Some(bridge) = bridge
        && entry.bridge != bridge
    {
        return Err(format!("bridge {bridge} does not have a port {name}"));
    }
    if entry.bridge == name {
        return Err(format!("{name} is the local port of bridge {name}"));
    }
    inner.ofproto.del_port(name)?;
    let _ = inner.dp.port_del(entry.odp_port);
    ports.remove(name);
    drop(ports);
    inner.udpif.revalidate();
    Ok(())
}

/// Parses `add-port BRIDGE PORT [key=value...]` options into a port configuration. Keys: `type`
/// (`dummy`, `pcap`, `afpacket`), `ofport`, `tag`, `trunks` (comma list), `vlan-mode`,
/// `rx-pcap`, `tx-pcap`, `interface`, `n_rxq`.
pub(super) fn parse_port_args(name: &str, args: &[String]) -> Result<PortConfig, String> {
    let mut kind = "dummy".to_owned();
    let mut ofport = None;
    let mut vlan = PortVlanSettings::default();
    let mut rx = None;
    let mut tx = None;
    let mut interface = None;
    let mut n_rxq = None;
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(format!("{arg}: expected key=value"));
        };
        match key {
            "type" => kind = value.to_owned(),
            "ofport" => {
                let n: u16 = value
                    .parse()
                    .map_err(|_| format!("{arg}: ofport must be a number from 1 to 65279"))?;
                if n == 0 || n > 0xfeff {
                    return Err(format!("{arg}: ofport must be a number from 1 to 65279"));
                }
                ofport = Some(n);
            }
            "tag" => {
                let tag: i64 = value
                    .parse()
                    .ok()
                    .filter(|t| (0..=4095).contains(t))
                    .ok_or_else(|| format!("{arg}: tag must be a VLAN id from 0 to 4095"))?;
                vlan.tag = Some(tag);
            }
            "trunks" => {
                vlan.trunks = value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.trim()
                            .parse::<i64>()
                            .ok()
                            .filter(|t| (0..=4095).contains(t))
                            .ok_or_else(|| format!("{arg}: trunks must be VLAN ids from 0 to 4095"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "vlan-mode" | "vlan_mode" => {
                vlan.vlan_mode = Some(
                    rvs_ofproto::vlan::VlanMode::from_name(value).ok_or_else(|| {
                        format!(
                            "{arg}: vlan-mode must be access, trunk, native-tagged, native-untagged or dot1q-tunnel"
                        )
                    })?,
                );
            }
            "rx-pcap" | "rx_pcap" => rx = Some(value.into()),
            "tx-pcap" | "tx_pcap" => tx = Some(value.into()),
            "interface" => interface = Some(value.to_owned()),
            "n_rxq" | "n-rxq" => {
                let n = value
                    .parse::<i64>()
                    .ok()
                    .and_then(PortKind::checked_n_rxq)
                    .ok_or_else(|| {
                        format!(
                            "{arg}: n_rxq must be a number from 1 to {}",
                            rvs_netdev::MAX_RXQ
                        )
                    })?;
                n_rxq = Some(n);
            }
            _ => return Err(format!("{key}: unknown port option")),
        }
    }
    if n_rxq.is_some() && !matches!(kind.as_str(), "afpacket" | "system") {
        return Err(format!(
            "n_rxq: only for ports of type afpacket, not {kind}"
        ));
    }
    let kind = match kind.as_str() {
        "dummy" => PortKind::Dummy,
        "pcap" => PortKind::Pcap { rx, tx },
        "afpacket" | "system" => PortKind::AfPacket {
            interface: interface.unwrap_or_else(|| name.to_owned()),
            n_rxq: n_rxq.unwrap_or(1),
        },
        other => {
            return Err(format!(
                "{other}: unknown port type (dummy, pcap, afpacket)"
            ));
        }
    };
    Ok(PortConfig {
        name: name.to_owned(),
        kind,
        ofport,
        vlan,
    })
}
