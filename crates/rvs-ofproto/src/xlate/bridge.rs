//! The ports of one bridge as translation sees them: OpenFlow port number, datapath port
//! number, name and VLAN configuration.
//!
//! # Invariants
//! * OpenFlow port numbers, datapath port numbers and names are each unique within a bridge
//!   ([`Bridge::add_port`] refuses duplicates).
//! * Ports are kept in the order they were added: the order NORMAL floods in (Open vSwitch
//!   floods in its bundle list order, which for the oracle's bridge is `br0` (LOCAL), then
//!   `p1`, `p2`, ...). FLOOD and ALL walk OVS's port hash map instead (see `port_order`).

use crate::vlan::PortVlan;

/// One port of a bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgePort {
    /// OpenFlow port number.
    pub ofport: u16,
    /// Datapath port number.
    pub odp_port: u32,
    /// Name (`p1`).
    pub name: String,
    /// VLAN mode for NORMAL.
    pub vlan: PortVlan,
}

/// The ports of a bridge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bridge {
    ports: Vec<BridgePort>,
}

impl Bridge {
    /// A bridge without ports.
    pub fn new() -> Bridge {
        Bridge::default()
    }

    /// A bridge with trunk ports `p1..pN`, OpenFlow port = datapath port = `1..=n` (the
    /// oracle's layout).
    pub fn with_trunk_ports(n: u16) -> Bridge {
        let mut b = Bridge::new();
        for i in 1..=n {
            let _ = b.add_port(i, u32::from(i), &format!("p{i}"), PortVlan::default());
        }
        b
    }

    /// Adds a port; returns false (and changes nothing) if the OpenFlow number, datapath
    /// number or name is taken.
    pub fn add_port(&mut self, ofport: u16, odp_port: u32, name: &str, vlan: PortVlan) -> bool {
        if self
            .ports
            .iter()
            .any(|p| p.ofport == ofport || p.odp_port == odp_port || p.name == name)
        {
            return false;
        }
        self.ports.push(BridgePort {
            ofport,
            odp_port,
            name: name.to_owned(),
            vlan,
        });
        true
    }

    /// The port with OpenFlow number `ofport`.
    pub fn by_ofport(&self, ofport: u16) -> Option<&BridgePort> {
        self.ports.iter().find(|p| p.ofport == ofport)
    }

    /// The port with datapath number `odp_port`.
    pub fn by_odp_port(&self, odp_port: u32) -> Option<&BridgePort> {
        self.ports.iter().find(|p| p.odp_port == odp_port)
    }

    /// The port named `name`.
    pub fn by_name(&self, name: &str) -> Option<&BridgePort> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// The oracle's bridge: `br0` (OpenFlow port LOCAL, datapath port 100) then trunk ports
    /// `p1..pN` (OpenFlow port = datapath port = `1..=n`).
    pub fn with_local_and_trunk_ports(name: &str, n: u16) -> Bridge {
        let mut b = Bridge::new();
        let _ = b.add_port(
            rvs_flow::ofp_match::port::OFPP_LOCAL,
            100,
            name,
            PortVlan::default(),
        );
        for i in 1..=n {
            let _ = b.add_port(i, u32::from(i), &format!("p{i}"), PortVlan::default());
        }
        b
    }

    /// All ports in the order they were added.
    pub fn ports(&self) -> &[BridgePort] {
        &self.ports
    }
}
